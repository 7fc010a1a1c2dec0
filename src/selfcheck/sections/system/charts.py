"""The charts of the section 服务体系建设现状 (drawn from figures already computed)."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd

from selfcheck import charts, fmt
from selfcheck.metrics import system as system_metrics
from selfcheck.metrics.base import Metric
from selfcheck.schema import ROLE_ZH, ROLES
from selfcheck.section import Section
from selfcheck.sections.system.terms import PEAK_FACTOR, _day_zh


def headcount_chart(
    sec: Section, m: dict[str, Metric], *, caption: str, height_in: float = 2.8
) -> None:
    """Staff per role at quarter end (beside last quarter's when every role has one)."""
    labels, now, before = [], [], []
    for r in ROLES:
        x = m[f"team.headcount.role:{r}"]
        if x.has_value:
            labels.append(f"{ROLE_ZH[r]}人员")
            now.append(float(x.value))  # type: ignore[arg-type]
            before.append(x.previous)
    if not labels:
        return
    fig, ax = charts.figure(height_in=height_in)
    xs = np.arange(len(labels))
    with_previous = all(b is not None for b in before)
    width = 0.36 if with_previous else 0.5
    if with_previous:
        prev = ax.bar(xs - width / 2, before, width, color=charts.SECONDARY, label="上季度末")
        ax.bar_label(prev, labels=[fmt.number(v, 0) for v in before], fontsize=8, padding=2)
        cur = ax.bar(xs + width / 2, now, width, color=charts.PRIMARY, label="本季度末")
        ax.legend(loc="upper right", frameon=False)
    else:
        cur = ax.bar(xs, now, width, color=charts.PRIMARY)
    ax.bar_label(cur, labels=[fmt.number(v, 0) for v in now], fontsize=8, padding=2)
    ax.set_xticks(xs, labels)
    ax.set_ylabel("在岗人数（人）")
    ax.set_ylim(0, max([*now, *[b for b in before if b is not None]]) * 1.2 + 1)
    sec.figure(fig, caption, note="注：按季度末在岗人员统计。")


def incident_chart(
    sec: Section,
    durations: pd.DataFrame,
    mttr: Metric,
    *,
    top_n: int,
    caption: str | None,
    height_in: float | None,
) -> None:
    """The ``top_n`` longest repairs, red where one exceeds the MTTR target (``caption``
    None: by the number shown; ``height_in`` None: by the number of bars)."""
    known = system_metrics.longest(durations)
    if known.empty:
        return
    top = known.head(top_n)
    top = top.iloc[::-1]  # longest at the top of a horizontal chart
    labels = [f"{_day_zh(s)} {name}" for s, name in zip(top["started"], top["system"], strict=True)]
    limit = mttr.target.value if mttr.target is not None else None
    short = [limit is not None and v > limit for v in top["minutes"]]
    fig, ax = charts.figure(height_in=0.9 + 0.28 * len(top) if height_in is None else height_in)
    bars = ax.barh(range(len(top)), top["minutes"].to_numpy(), color=charts.bar_colors(short))
    ax.bar_label(bars, labels=[fmt.number(v, 0) for v in top["minutes"]], fontsize=8, padding=2)
    ax.set_yticks(range(len(top)), labels)
    ax.set_xlabel("修复时长（分钟）")
    ax.set_xlim(0, float(top["minutes"].max()) * 1.15 + 1)
    note = "注：按修复时长从长到短排列，未恢复的故障计至季度末。"
    if limit is not None:
        ax.axvline(limit, color=charts.NEUTRAL, linestyle="--", linewidth=1)
        note = (
            f"注：虚线为平均修复时长目标（{fmt.target(mttr.target, 'minutes')}），"
            "红色为单次修复时长超过该值的故障；未恢复的故障计至季度末。"
        )
    if caption is None:
        caption = "各次故障修复时长" if len(known) <= top_n else f"修复时长最长的{top_n}次故障"
    sec.figure(fig, caption, note=note)


def daily_chart(
    sec: Section, daily: pd.Series, is_peak: pd.Series, *, caption: str, height_in: float = 2.9
) -> None:
    """Tickets per day, peak days dark, the average and the peak threshold as lines."""
    busiest = daily.idxmax()  # the earliest of the busiest days
    average = daily.sum() / len(daily)
    fig, ax = charts.figure(height_in=height_in)
    colors = np.where(is_peak.to_numpy(), charts.PRIMARY, charts.SECONDARY)
    ax.bar(daily.index, daily.to_numpy(), width=0.8, color=list(colors))
    ax.axhline(average, color=charts.NEUTRAL, linestyle="--", linewidth=1)
    ax.axhline(PEAK_FACTOR * average, color=charts.NEUTRAL, linestyle=":", linewidth=1)
    top = int(daily.max())
    ax.annotate(
        f"{_day_zh(busiest)}：{fmt.number(top, 0)}件",
        (busiest, top),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        fontsize=8,
        color=charts.PRIMARY,
    )
    ax.set_ylim(0, top * 1.18 + 1)
    ax.set_ylabel("工单量（件）")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    sec.figure(
        fig,
        caption,
        note=(
            f"注：深色柱为工单量达到日均{fmt.number(PEAK_FACTOR, 1)}倍及以上的高峰日，"
            f"虚线为日均工单量，点线为日均的{fmt.number(PEAK_FACTOR, 1)}倍。"
        ),
    )
