"""Online metrics (dataset ``chats``): see the Online table of ``spec/metrics.md``.

``online(chats, th, cal)`` returns a :class:`Measure` for every ``online.*`` id of the
catalogue.

Conventions of this module (where the spec leaves a choice):

- Rates: ``Measure.ratio`` (fraction; numerator/denominator counts; n = denominator).
  Counts: ``Measure.count``. Means and P90: value, n = number of observations,
  numerator and denominator None. No observation / denominator 0 → value None + reason.
- Human request: ``bot_only`` is not true — an empty ``bot_only`` is a human request, and
  so is every session when the ``bot_only`` column is absent (a department without a bot).
- Window: ``workday`` when ``cal.in_working_hours(started_at)`` (workday incl. make-up
  workdays 调休, not holidays; work_start ≤ time < work_end, so 18:00:00 is off-hours),
  else ``off-hours``. The limit follows the arrival window alone.
- Timestamps are rounded to the whole second before use (durations "to the second";
  this also absorbs the sub-second noise of Excel date cells), so a reply at 5 min 0 s
  is exactly 5 min and within a 5-minute limit.
- Response = first_reply_at − started_at in calendar minutes (seconds ÷ 60). Timeout =
  no reply, or response > limit (limits compared in seconds, so no float rounding).
  Timeout rates are over all human requests of the window; averages and P90 (numpy's
  default linear interpolation) over replied human requests of the window.
- ``offhours_notice_rate``: replied off-hours human requests with ``off_hours_notice``
  true ÷ replied off-hours human requests with ``off_hours_notice`` known.
- ``bot_only_rate``: bot_only true ÷ sessions with bot_only known.
- A reply stamped before the session start is a bad row that ingest removes (negative
  duration); it is not filtered again here.
- A missing frame → every metric missing; a missing ``first_reply_at`` → every response
  metric (timeouts, averages, P90, notice) missing; a missing ``bot_only`` →
  ``bot_only_rate`` missing only; a missing ``off_hours_notice`` → the notice rate only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from selfcheck.calendar import WorkCalendar
from selfcheck.metrics.base import Measure
from selfcheck.metrics.catalogue import (
    REASON_EMPTY,
    area_ids,
    reason_no_column,
    reason_no_dataset,
)
from selfcheck.thresholds import Thresholds

DATASET = "chats"

_WINDOWS = (("workday", "工作时间"), ("offhours", "非工作时间"))


def _timestamps(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.round("s")


def _flag(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is true, is known) of a boolean column with empties."""
    b = s.astype("boolean")
    known = b.notna().to_numpy(dtype=bool)
    true = b.fillna(False).to_numpy(dtype=bool)
    return true, known


def _stat(values: np.ndarray, kind: str, empty_reason: str) -> Measure:
    if values.size == 0:
        return Measure(None, None, None, 0, empty_reason)
    v = float(np.mean(values)) if kind == "mean" else float(np.percentile(values, 90))
    return Measure(v, None, None, int(values.size))


def online(chats: pd.DataFrame | None, th: Thresholds, cal: WorkCalendar) -> dict[str, Measure]:
    """Every ``online.*`` metric of the catalogue for one period's chat sessions."""
    ids = area_ids("online")
    if chats is None:
        reason = reason_no_dataset(DATASET)
        return {i: Measure.missing(reason) for i in ids}

    out: dict[str, Measure] = {"online.sessions": Measure.count(len(chats))}
    cols = chats.columns

    if "bot_only" in cols:
        bot, bot_known = _flag(chats["bot_only"])
        out["online.bot_only_rate"] = Measure.ratio(
            int(bot.sum()),
            int(bot_known.sum()),
            empty_reason=f"{REASON_EMPTY}：无“机器人解决”已填写的会话",
        )
        human = ~bot
    else:
        out["online.bot_only_rate"] = Measure.missing(reason_no_column(DATASET, "bot_only"))
        human = np.ones(len(chats), dtype=bool)

    response_ids = [i for i in ids if i not in ("online.sessions", "online.bot_only_rate")]
    missing_col = next((c for c in ("started_at", "first_reply_at") if c not in cols), None)
    if missing_col is not None:
        reason = reason_no_column(DATASET, missing_col)
        out.update({i: Measure.missing(reason) for i in response_ids})
        return {i: out[i] for i in ids}

    started = _timestamps(chats["started_at"])
    replied_at = _timestamps(chats["first_reply_at"])
    workday = np.asarray(cal.in_working_hours(started), dtype=bool)
    seconds = (replied_at - started).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    replied = ~np.isnan(seconds)
    minutes = seconds / 60.0

    limits = {"workday": th.online_workday_minutes, "offhours": th.online_offhours_minutes}
    for key, zh in _WINDOWS:
        in_window = human & (workday if key == "workday" else ~workday)
        with np.errstate(invalid="ignore"):
            within = replied & (seconds <= limits[key] * 60.0)
        timeouts = in_window & ~within
        out[f"online.{key}_timeout_rate"] = Measure.ratio(
            int(timeouts.sum()),
            int(in_window.sum()),
            empty_reason=f"{REASON_EMPTY}：{zh}窗口无人工请求",
        )
        values = minutes[in_window & replied]
        no_reply = f"{REASON_EMPTY}：{zh}窗口无已获人工回复的请求"
        out[f"online.{key}_avg_minutes"] = _stat(values, "mean", no_reply)
        out[f"online.{key}_p90_minutes"] = _stat(values, "p90", no_reply)

    if "off_hours_notice" not in cols:
        out["online.offhours_notice_rate"] = Measure.missing(
            reason_no_column(DATASET, "off_hours_notice")
        )
    else:
        notice, notice_known = _flag(chats["off_hours_notice"])
        base = human & ~workday & replied & notice_known
        out["online.offhours_notice_rate"] = Measure.ratio(
            int((base & notice).sum()),
            int(base.sum()),
            empty_reason=f"{REASON_EMPTY}：无已获人工回复且标注已填写的非工作时间请求",
        )

    return {i: out[i] for i in ids}
