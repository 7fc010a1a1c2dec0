"""Online metrics against hand-computed figures (spec/metrics.md, Online).

2026 calendar facts used: 09-18 Friday (workday), 09-19 Saturday (rest day),
09-20 Sunday (make-up workday 调休), 10-01 National Day (holiday).
"""

from __future__ import annotations

import pandas as pd
import pytest

from selfcheck.calendar import WorkCalendar
from selfcheck.metrics.base import Measure
from selfcheck.metrics.online import online
from selfcheck.thresholds import Thresholds

ONLINE_IDS = {
    "online.sessions",
    "online.bot_only_rate",
    "online.workday_timeout_rate",
    "online.offhours_timeout_rate",
    "online.workday_avg_minutes",
    "online.offhours_avg_minutes",
    "online.workday_p90_minutes",
    "online.offhours_p90_minutes",
    "online.offhours_notice_rate",
}

# started_at, first_reply_at, bot_only, off_hours_notice
ROWS = [
    # a: Friday 17:58, reply 4 min later at 18:02 → workday, within 5
    ("2026-09-18 17:58:00", "2026-09-18 18:02:00", False, True),
    # b: Friday 17:58, reply after 6 min → workday timeout; bot_only NA = human request
    ("2026-09-18 17:58:00", "2026-09-18 18:04:00", None, None),
    # c: reply after exactly 5 min → within
    ("2026-09-18 10:00:00", "2026-09-18 10:05:00", False, None),
    # d: no reply → workday timeout
    ("2026-09-18 11:00:00", None, False, None),
    # e: exactly 18:00 → off-hours; 10 min → within 30
    ("2026-09-18 18:00:00", "2026-09-18 18:10:00", False, True),
    # f: Sunday 09-20 is a make-up workday → workday window; 4.5 min → within
    ("2026-09-20 17:58:00", "2026-09-20 18:02:30", False, None),
    # g: 10-01 holiday → off-hours; 31 min → timeout
    ("2026-10-01 10:00:00", "2026-10-01 10:31:00", False, False),
    # h: plain Saturday → off-hours; exactly 30 min → within; notice unknown
    ("2026-09-19 10:00:00", "2026-09-19 10:30:00", False, None),
    # i: bot only, Saturday, no reply → not a human request
    ("2026-09-19 12:00:00", None, True, None),
    # j: bot only, workday, a late "reply" → still not a human request
    ("2026-09-18 09:00:00", "2026-09-18 09:20:00", True, None),
    # k: holiday evening, bot_only NA (human), no reply → off-hours timeout; notice ignored
    ("2026-10-01 20:00:00", None, None, True),
]


def chats_frame(rows=ROWS) -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            "session_id": pd.array([f"S{i}" for i in range(n)], dtype="string"),
            "started_at": pd.to_datetime([r[0] for r in rows]).astype("datetime64[ns]"),
            "first_reply_at": pd.to_datetime([r[1] for r in rows]).astype("datetime64[ns]"),
            "bot_only": pd.array([r[2] for r in rows], dtype="boolean"),
            "off_hours_notice": pd.array([r[3] for r in rows], dtype="boolean"),
        }
    )


CAL = WorkCalendar()


def test_every_online_metric() -> None:
    m = online(chats_frame(), Thresholds(), CAL)
    assert set(m) == ONLINE_IDS

    assert m["online.sessions"] == Measure(11.0, None, None, 11)
    # bot_only known: 9 (b, k empty); true: i, j
    assert m["online.bot_only_rate"] == Measure(2 / 9, 2.0, 9.0, 9)
    # workday human requests: a b c d f; timeouts: b (6 min), d (no reply)
    assert m["online.workday_timeout_rate"] == Measure(0.4, 2.0, 5.0, 5)
    # off-hours human requests: e g h k; timeouts: g (31 min), k (no reply)
    assert m["online.offhours_timeout_rate"] == Measure(0.5, 2.0, 4.0, 4)
    # workday replied: 4, 6, 5, 4.5 min
    assert m["online.workday_avg_minutes"].value == pytest.approx(4.875)
    assert m["online.workday_avg_minutes"].n == 4
    # sorted 4, 4.5, 5, 6: position 0.9 × 3 = 2.7 → 5 + 0.7 × 1
    assert m["online.workday_p90_minutes"].value == pytest.approx(5.7)
    assert m["online.workday_p90_minutes"].n == 4
    # off-hours replied: 10, 31, 30 min
    assert m["online.offhours_avg_minutes"].value == pytest.approx(71 / 3)
    assert m["online.offhours_avg_minutes"].n == 3
    # sorted 10, 30, 31: position 1.8 → 30 + 0.8 × 1
    assert m["online.offhours_p90_minutes"].value == pytest.approx(30.8)
    # replied off-hours with notice known: e (true), g (false); h unknown, k not replied
    assert m["online.offhours_notice_rate"] == Measure(0.5, 1.0, 2.0, 2)
    assert all(x.reason is None for x in m.values())


def test_friday_1758_boundaries() -> None:
    rows = [
        ("2026-09-18 17:58:00", "2026-09-18 18:02:00", False, None),
        ("2026-09-18 17:58:00", "2026-09-18 18:04:00", False, None),
        ("2026-09-18 17:58:00", "2026-09-18 18:03:00", False, None),  # exactly 5 min
        ("2026-09-18 17:58:00", "2026-09-18 18:03:01", False, None),  # 5 min 1 s
    ]
    m = online(chats_frame(rows), Thresholds(), CAL)
    assert m["online.workday_timeout_rate"] == Measure(0.5, 2.0, 4.0, 4)
    assert m["online.offhours_timeout_rate"].value is None


@pytest.mark.parametrize(
    ("started", "window"),
    [
        ("2026-09-18 17:59:59", "workday"),  # Friday before 18:00
        ("2026-09-18 18:00:00", "offhours"),  # exactly 18:00
        ("2026-09-18 09:00:00", "workday"),  # exactly 09:00
        ("2026-09-18 08:59:59", "offhours"),
        ("2026-09-20 17:58:00", "workday"),  # make-up workday Sunday
        ("2026-10-10 10:00:00", "workday"),  # make-up workday Saturday
        ("2026-09-19 17:58:00", "offhours"),  # plain Saturday
        ("2026-10-01 10:00:00", "offhours"),  # National Day
    ],
)
def test_window_by_arrival(started: str, window: str) -> None:
    # 10 min reply: a timeout in the workday window, within in the off-hours window
    reply = (pd.Timestamp(started) + pd.Timedelta(minutes=10)).isoformat(sep=" ")
    m = online(chats_frame([(started, reply, False, None)]), Thresholds(), CAL)
    other = "offhours" if window == "workday" else "workday"
    expected = 1.0 if window == "workday" else 0.0
    assert m[f"online.{window}_timeout_rate"] == Measure(expected, expected, 1.0, 1)
    assert m[f"online.{other}_timeout_rate"].value is None
    assert m[f"online.{window}_avg_minutes"].value == pytest.approx(10.0)


def test_subsecond_noise_is_rounded_to_the_second() -> None:
    # an Excel cell may carry microseconds; 5 min 0.0004 s is 5 min
    frame = chats_frame([("2026-09-18 14:00:00", "2026-09-18 14:05:00", False, None)])
    frame["first_reply_at"] = frame["first_reply_at"] + pd.Timedelta(microseconds=400)
    m = online(frame, Thresholds(), CAL)
    assert m["online.workday_timeout_rate"].value == 0.0
    assert m["online.workday_avg_minutes"].value == 5.0


def test_thresholds_are_used() -> None:
    th = Thresholds(online_workday_minutes=4.5, online_offhours_minutes=10)
    m = online(chats_frame(), th, CAL)
    # workday: a 4 ok, b 6 late, c 5 late, d none, f 4.5 ok → 3/5
    assert m["online.workday_timeout_rate"].value == pytest.approx(0.6)
    # off-hours: e 10 ok, g 31 late, h 30 late, k none → 3/4
    assert m["online.offhours_timeout_rate"].value == pytest.approx(0.75)


def test_missing_frame() -> None:
    m = online(None, Thresholds(), CAL)
    assert set(m) == ONLINE_IDS
    for x in m.values():
        assert x.value is None
        assert x.reason == "未提供在线咨询数据 (chats)"


def test_missing_bot_only_column_every_session_is_a_human_request() -> None:
    m = online(chats_frame().drop(columns=["bot_only"]), Thresholds(), CAL)
    assert m["online.bot_only_rate"].value is None
    assert m["online.bot_only_rate"].reason == "缺少列 bot_only（机器人解决）"
    # i and j become human requests: workday a b c d f j, timeouts b d j
    assert m["online.workday_timeout_rate"] == Measure(0.5, 3.0, 6.0, 6)
    # off-hours e g h k i, timeouts g k i
    assert m["online.offhours_timeout_rate"] == Measure(0.6, 3.0, 5.0, 5)


def test_missing_reply_column() -> None:
    m = online(chats_frame().drop(columns=["first_reply_at"]), Thresholds(), CAL)
    assert m["online.sessions"].value == 11
    assert m["online.bot_only_rate"].value == pytest.approx(2 / 9)
    for i in ONLINE_IDS - {"online.sessions", "online.bot_only_rate"}:
        assert m[i].value is None
        assert m[i].reason == "缺少列 first_reply_at（首次人工回复时间）"


def test_missing_notice_column_only_affects_notice() -> None:
    m = online(chats_frame().drop(columns=["off_hours_notice"]), Thresholds(), CAL)
    assert m["online.offhours_notice_rate"].value is None
    assert m["online.offhours_notice_rate"].reason == "缺少列 off_hours_notice（非工作时间标注）"
    assert all(m[i].value is not None for i in ONLINE_IDS - {"online.offhours_notice_rate"})


def test_no_offhours_requests() -> None:
    rows = [r for r in ROWS if r[0].startswith("2026-09-18") and r[0] < "2026-09-18 18"]
    m = online(chats_frame(rows), Thresholds(), CAL)
    for i in (
        "online.offhours_timeout_rate",
        "online.offhours_avg_minutes",
        "online.offhours_p90_minutes",
        "online.offhours_notice_rate",
    ):
        assert m[i].value is None
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0")
    # a b c d are human requests (j is bot only); timeouts b and d
    assert m["online.workday_timeout_rate"] == Measure(0.5, 2.0, 4.0, 4)


def test_no_reply_at_all() -> None:
    rows = [("2026-09-18 10:00:00", None, False, None), ("2026-09-18 11:00:00", None, None, None)]
    m = online(chats_frame(rows), Thresholds(), CAL)
    assert m["online.workday_timeout_rate"] == Measure(1.0, 2.0, 2.0, 2)
    assert m["online.workday_avg_minutes"].value is None
    assert m["online.workday_avg_minutes"].n == 0
    assert m["online.workday_p90_minutes"].value is None


def test_empty_frame() -> None:
    m = online(chats_frame([]), Thresholds(), CAL)
    assert m["online.sessions"] == Measure(0.0, None, None, 0)
    for i in ONLINE_IDS - {"online.sessions"}:
        assert m[i].value is None
        assert m[i].reason.startswith("样本为0")
