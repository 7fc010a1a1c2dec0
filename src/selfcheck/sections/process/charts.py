"""The charts of the section 服务流程运行效能 (drawn from figures already computed)."""

from __future__ import annotations

import math

from selfcheck import charts
from selfcheck.metrics.base import STATUS_MISSED, Metric
from selfcheck.schema import LEVEL_ZH, LEVELS
from selfcheck.section import Section


def channel_chart(
    sec: Section, rows: list[dict], *, caption: str, height_in: float | None = None
) -> None:
    """Each channel's share this quarter (and last quarter's, lighter), largest first;
    ``height_in`` None: by the number of channels."""
    shown = [r for r in rows if r["count"] or r["previous"]]
    shown.sort(key=lambda r: -(r["share"] or 0.0))
    if not shown:
        return
    has_prev = any(r["previous"] is not None for r in shown)
    height = max(2.4, 0.38 * len(shown) + 0.9) if height_in is None else height_in
    fig, ax = charts.figure(height_in=height)
    ys = list(range(len(shown)))
    now = [(r["share"] or 0.0) * 100 for r in shown]
    bar_h = 0.38 if has_prev else 0.6
    offset = bar_h / 2 if has_prev else 0.0
    bars = ax.barh(
        [y - offset for y in ys], now, height=bar_h, color=charts.PRIMARY, label="本季度"
    )
    if has_prev:
        before = [(r["previous"] or 0.0) * 100 for r in shown]
        ax.barh(
            [y + offset for y in ys], before, height=bar_h, color=charts.SECONDARY, label="上季度"
        )
    labels = []
    for r, v in zip(shown, now, strict=True):
        text = f"{v:.1f}%"
        if r["delta"] is not None:
            d = r["delta"] * 100
            text += "（持平）" if round(d, 1) == 0 else f"（{d:+.1f}）"
        labels.append(text)
    ax.bar_label(bars, labels=labels, fontsize=7.5, padding=3)
    ax.set_yticks(ys, [r["label"] for r in shown])
    ax.invert_yaxis()
    top = max([*now, *[(r["previous"] or 0.0) * 100 for r in shown]])
    ax.set_xlim(0, top * 1.32 + 1)
    ax.set_xlabel("占工单总量（%）")
    ax.grid(axis="y", visible=False)
    if has_prev:
        ax.legend(loc="lower right", frameon=False)
    note = "注：数值为本季度占比"
    if has_prev:
        note += "，括号内为较上季度的变化（百分点）；浅色条为上季度占比"
    sec.figure(fig, caption, note=note + "。")


def sla_chart(sec: Section, metrics: list[Metric], *, caption: str, height_in: float = 2.9) -> None:
    """SLA attainment per level against its target (dashed), red where it falls short."""
    shown = [(lv, m) for lv, m in zip(LEVELS, metrics, strict=True) if m.has_value]
    if not shown:
        return
    labels = [f"{lv}（{LEVEL_ZH[lv]}）" for lv, _ in shown]
    values = [float(m.value) * 100 for _, m in shown]  # type: ignore[arg-type]
    targets = [None if m.target is None else m.target.value * 100 for _, m in shown]
    short = [m.status == STATUS_MISSED for _, m in shown]
    fig, ax = charts.figure(height_in=height_in)
    bars = ax.bar(labels, values, color=charts.bar_colors(short), width=0.42)
    for i, t in enumerate(targets):
        if t is not None:
            ax.hlines(
                t,
                i - 0.28,
                i + 0.28,
                colors=charts.NEUTRAL,
                linestyles="--",
                linewidth=1.2,
                zorder=3,
            )
            symbol = shown[i][1].target.symbol()  # type: ignore[union-attr]
            ax.annotate(
                f"目标{symbol}{t:.1f}%", (i + 0.3, t), fontsize=7, va="center", color="#595959"
            )
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], fontsize=8, padding=2)
    low = min([*values, *[t for t in targets if t is not None]])
    bottom = max(0.0, math.floor((low - 10) / 10) * 10)
    ax.set_ylim(bottom, 106)
    ax.set_yticks([y for y in range(int(bottom), 101, 10 if 100 - bottom > 30 else 5)])
    ax.set_ylabel("时效达标率（%）")
    ax.set_xlim(-0.5, len(labels) - 0.5 + 0.25)
    note = "注：虚线为目标值，红色为未达到目标的级别。"
    if bottom > 0:
        note = f"注：纵轴自{bottom:.0f}%起；虚线为目标值，红色为未达到目标的级别。"
    sec.figure(fig, caption, note=note)
