"""服务质量检查（二）质检得分情况: the overall score and its dimensions, then the teams."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfcheck import charts, fmt
from selfcheck.metrics import qa as qa_metrics
from selfcheck.metrics.catalogue import reason_no_column
from selfcheck.section import Section
from selfcheck.sections.options import check_size, new_figure, pick_columns
from selfcheck.sections.quality.shared import (
    SAMPLED_COLUMNS,
    TEAM_PREFIX,
    UNKNOWN_TEAM,
    breakdown,
    dimension_label,
    judged,
    key,
    m,
    no_reviews,
    sampled_note,
    sampled_row,
    score,
    score_target,
    visible_change,
    with_phrases,
)


def scores(sec: Section) -> None:
    """Paragraph ``quality.scores``: the mean score with its interval, and each dimension."""
    missing = no_reviews(sec)
    if missing:
        sec.narrative("scores", f"{missing}，无法统计质检得分。")
        return
    overall = m(sec, "qa.score_mean")
    target = score_target(sec)
    dims = [m(sec, i) for i in qa_metrics.DIMENSION_IDS]
    if overall.has_value:
        text = f"本季度质检平均分{with_phrases(overall)}。"
    else:
        text = f"本季度质检平均分无法计算（{overall.reason}）。"
    known = [d for d in dims if d.has_value]
    if known:
        text += "分维度看，" + "、".join(
            f"{dimension_label(d.metric_id)}{fmt.value(d.value, d.unit)}" for d in known
        )
        shown = {fmt.value(d.value, d.unit) for d in known}
        if len(known) > 1 and len(shown) > 1:
            low = min(known, key=lambda d: float(d.value))  # type: ignore[arg-type]
            text += f"，{dimension_label(low.metric_id)}得分相对较低"
        text += "。"
        below = [d for d in known if target is not None and not target.met(float(d.value))]  # type: ignore[arg-type]
        if below:
            text += (
                f"{'、'.join(dimension_label(d.metric_id) for d in below)}未达到"
                f"{fmt.target(target, 'score')}的目标。"
            )
        moved = [d for d in known if d.significant and visible_change(d)]
        if moved:
            text += (
                "与上季度相比，"
                + "、".join(
                    f"{dimension_label(d.metric_id)}{fmt.change_phrase(d).removeprefix('较上季度')}"
                    for d in moved
                )
                + "，变化在统计上显著。"
            )
    for d in dims:
        if not d.has_value:
            text += f"{dimension_label(d.metric_id)}得分无法计算（{d.reason}）。"
    sec.narrative("scores", text)


def scores_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 质检得分（按维度）: the overall score and the three dimensions; ``columns`` names
    the columns shown (None: all). None without reviews."""
    caption = "质检得分（按维度）"
    if no_reviews(sec):
        pick_columns(sec, caption, SAMPLED_COLUMNS, [], columns)
        return
    overall, target = m(sec, "qa.score_mean"), score_target(sec)
    rows = [sampled_row("综合得分", overall, target)]
    rows += [
        sampled_row(dimension_label(d.metric_id), d, target)
        for d in (m(sec, i) for i in qa_metrics.DIMENSION_IDS)
    ]
    shown, cells = pick_columns(sec, caption, SAMPLED_COLUMNS, rows, columns)
    note = sampled_note(
        sec,
        "综合得分为每条质检记录专业性、规范性、客户体验三项得分的平均；"
        + judged("各维度得分", "质检平均分", target, "score"),
    )
    sec.table(caption, shown, cells, note=note)


def _teams(sec: Section) -> list:
    """The team metrics, or [] without reviews."""
    return [] if no_reviews(sec) else breakdown(sec, TEAM_PREFIX)


def teams(sec: Section) -> None:
    """Paragraph ``quality.teams``: mean score per team, targets, small samples, changes."""
    if no_reviews(sec):
        return
    target = score_target(sec)
    groups = breakdown(sec, TEAM_PREFIX)
    if not groups:
        staff = sec.data("staff")
        if staff is None:  # staff not in scope (not applicable or not supplied): no teams
            return
        if "team" not in staff.columns:
            why = f"人员数据{reason_no_column('staff', 'team')}"
        else:
            why = "无可归属班组的质检记录"
        sec.narrative("teams", f"{why}，无法按班组统计质检得分。")
        return
    known = [t for t in groups if key(t) != UNKNOWN_TEAM]
    unknown = [t for t in groups if key(t) == UNKNOWN_TEAM]
    text = ""
    if known:
        hi = max(known, key=lambda t: float(t.value))  # type: ignore[arg-type]
        lo = min(known, key=lambda t: float(t.value))  # type: ignore[arg-type]
        if len(known) == 1:
            text = f"分班组看，{key(hi)}质检平均分{score(hi.value)}。"
        else:
            text = (
                f"分班组看，{len(known)}个班组的质检平均分在{score(lo.value)}至"
                f"{score(hi.value)}之间，{key(hi)}最高、{key(lo)}最低。"
            )
        if target is not None:
            below = [t for t in known if not target.met(float(t.value))]  # type: ignore[arg-type]
            if below:
                text += (
                    f"未达到{fmt.target(target, 'score')}目标的班组为"
                    + "、".join(f"{key(t)}（{score(t.value)}）" for t in below)
                    + "。"
                )
            else:
                text += f"各班组平均分均达到{fmt.target(target, 'score')}的目标。"
        small = [t for t in known if t.small_sample]
        if small:
            text += (
                f"{'、'.join(key(t) for t in small)}的质检记录不足"
                f"{fmt.value(sec.config.thresholds.min_sample, 'count')}条，样本量不足，结果仅供参考。"
            )
        tested = [t for t in known if t.significant is not None]
        significant = [t for t in tested if t.significant]
        moved = [t for t in significant if visible_change(t)]
        if moved:
            text += (
                "与上季度相比，"
                + "、".join(
                    f"{key(t)}{fmt.change_phrase(t).removeprefix('较上季度')}" for t in moved
                )
                + "，变化在统计上显著"
            )
            rest = len(moved) == len(significant) and len(moved) < len(tested)
            text += "；其余班组的变化在统计上不显著。" if rest else "。"
        elif tested and not significant:
            text += "与上季度相比，各班组平均分的变化在统计上均不显著。"
    if unknown:
        text += (
            f"另有{fmt.value(unknown[0].n, 'count')}条质检记录的坐席未在人员数据中登记班组，"
            f"归入“{UNKNOWN_TEAM}”。"
        )
    sec.narrative("teams", text)


def teams_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 质检得分（按班组）, teams by descending number of reviews, 未知班组 last;
    ``columns`` names the columns shown (None: all). None without teams."""
    caption = "质检得分（按班组）"
    groups = _teams(sec)
    target = score_target(sec) if groups else None
    rows = [sampled_row(key(t), t, target) for t in groups]
    shown, cells = pick_columns(sec, caption, SAMPLED_COLUMNS, rows, columns)
    if not groups:
        return
    note = sampled_note(
        sec,
        "班组按被质检坐席在人员数据中的班组归属；"
        + judged("班组得分", "质检平均分", target, "score"),
    )
    sec.table(caption, shown, cells, note=note)


def teams_chart(sec: Section, size: tuple[float, float] = (charts.WIDTH_IN, 3.0)) -> None:
    """Chart 各班组质检平均分及95%置信区间: a point and its interval per team; ``size`` in
    inches. None without teams."""
    shape = check_size(sec, size)
    groups = _teams(sec)
    if not groups or shape is None:
        return
    overall, target = m(sec, "qa.score_mean"), score_target(sec)
    setup_ticks = [f"{key(t)}\nn={t.n:,}" for t in groups]
    means = np.array([float(t.value) for t in groups])  # type: ignore[arg-type]
    low = np.array([t.ci_low if t.ci_low is not None else float(t.value) for t in groups])  # type: ignore[arg-type]
    high = np.array([t.ci_high if t.ci_high is not None else float(t.value) for t in groups])  # type: ignore[arg-type]
    colors = [
        charts.NEUTRAL
        if key(t) == UNKNOWN_TEAM
        else (
            charts.SHORTFALL
            if target is not None and not target.met(float(t.value))  # type: ignore[arg-type]
            else charts.PRIMARY
        )
        for t in groups
    ]
    fig, ax = new_figure(shape)
    x = np.arange(len(groups))
    for i in range(len(groups)):  # one point per team
        ax.errorbar(
            x[i],
            means[i],
            yerr=[[means[i] - low[i]], [high[i] - means[i]]],
            fmt="o",
            color=colors[i],
            ecolor=colors[i],
            elinewidth=1.4,
            capsize=4,
            markersize=6,
        )
        ax.annotate(
            f"{means[i]:.1f}",
            (x[i], high[i]),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=8,
        )
    lines = [low.min(), high.max()]
    handles = []
    if target is not None:
        handles.append(
            ax.axhline(target.value, color=charts.NEUTRAL, linestyle="--", linewidth=1.1,
                       label=f"目标{fmt.target(target, 'score')}")
        )  # fmt: skip
        lines.append(target.value)
    if overall.has_value:
        handles.append(
            ax.axhline(float(overall.value), color=charts.SECONDARY, linestyle=":",  # type: ignore[arg-type]
                       linewidth=1.3, label=f"全部质检平均分{score(overall.value)}")
        )  # fmt: skip
        lines.append(float(overall.value))  # type: ignore[arg-type]
    if handles:
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                  frameon=False)  # fmt: skip
    span = max(lines) - min(lines)
    pad = max(span * 0.15, 0.8)
    ax.set_ylim(min(lines) - pad, max(lines) + pad * 1.6)
    ax.set_xticks(x, setup_ticks)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel("质检平均分（分）")
    sec.figure(
        fig,
        "各班组质检平均分及95%置信区间",
        note=(
            "注：圆点为班组平均分，竖线为95%置信区间，n为质检条数；点线为全部质检平均分"
            + ("，虚线为目标值，红色为低于目标的班组" if target is not None else "")
            + (f"，灰色为{UNKNOWN_TEAM}" if any(key(t) == UNKNOWN_TEAM for t in groups) else "")
            + "。"
        ),
    )
