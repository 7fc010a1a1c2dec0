"""服务质量检查（四）坐席质检差异: the spread of agent mean scores and the lowest agents."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from selfcheck import charts, fmt
from selfcheck.blocks import Column
from selfcheck.metrics import qa as qa_metrics
from selfcheck.section import Section
from selfcheck.sections.options import check_size, new_figure, pick_columns
from selfcheck.sections.quality.shared import (
    TEAM_PREFIX,
    breakdown,
    figures,
    key,
    m,
    no_reviews,
    pass_mark,
    score,
    score_target,
)

SPREAD_COLUMNS = (
    Column("班组", "text", width=0.16),
    Column("坐席数", "int", width=0.10),
    Column("最低分", "number", width=0.11),
    Column("下四分位数", "number", width=0.13),
    Column("中位数", "number", width=0.11),
    Column("上四分位数", "number", width=0.13),
    Column("最高分", "number", width=0.11),
    Column("低于合格线人数", "int", width=0.15),
)


def _agents(sec: Section) -> pd.DataFrame | None:
    """The agent frame, or None when there is nothing to show (no reviews, no agents)."""
    if no_reviews(sec):
        return None
    frame = figures(sec).agents
    return None if frame.empty else frame


def agents(sec: Section) -> None:
    """Paragraph ``quality.agents``: agents reviewed, quartiles of their means, those below
    the pass mark or the target, and the lowest by id."""
    missing = no_reviews(sec)
    if missing:
        sec.narrative("agents", f"{missing}，无法分析坐席之间的质检差异。")
        return
    frame = figures(sec).agents
    if frame.empty:
        reason = m(sec, "qa.score_mean").reason or "质检记录未填写工号"
        sec.narrative("agents", f"本季度无可按坐席统计的质检得分（{reason}），无法分析坐席差异。")
        return
    th = sec.config.thresholds
    target = score_target(sec)
    k = len(frame)
    lo, q1, med, q3, hi = qa_metrics.quartiles(frame["mean"])
    n_reviews = int(frame["n"].sum())
    text = (
        f"本季度被抽检坐席{fmt.value(k, 'count')}人，人均质检{fmt.number(n_reviews / k, 1)}条"
        f"（最少{fmt.value(frame['n'].min(), 'count')}条、最多{fmt.value(frame['n'].max(), 'count')}条）。"
    )
    if k > 1:
        text += (
            f"坐席平均分的中位数为{score(med)}，下四分位数{score(q1)}、上四分位数{score(q3)}，"
            f"最高{score(hi)}、最低{score(lo)}，相差{score(hi - lo)}。"
        )
    else:
        text += f"该坐席平均分为{score(med)}。"
    below = int(qa_metrics.below_mark(frame["mean"], th.qa_pass_score).sum())
    if below:
        text += (
            f"平均分低于合格线（{pass_mark(sec)}）的坐席{fmt.value(below, 'count')}人，"
            f"占被抽检坐席的{fmt.percent(below / k)}"
        )
    else:
        text += f"全部坐席平均分均不低于合格线（{pass_mark(sec)}）"
    if target is not None:
        short = int((~target.met(frame["mean"].to_numpy(dtype=float))).sum())  # type: ignore[arg-type]
        if short:
            text += (
                f"；未达到{fmt.target(target, 'score')}目标的坐席{fmt.value(short, 'count')}人，"
                f"占{fmt.percent(short / k)}"
            )
        else:
            text += f"，且均达到{fmt.target(target, 'score')}的目标"
    text += "。"
    if "critical" in frame.columns:
        with_critical = int((frame["critical"] > 0).sum())
        if with_critical:
            text += f"出现致命差错的坐席{fmt.value(with_critical, 'count')}人。"
    listed = figures(sec).lowest
    if k > 1:
        text += (
            f"平均分最低的{fmt.value(len(listed), 'count')}名坐席为："
            + "、".join(
                f"{r.agent_id}（{score(r.mean)}，{fmt.value(r.n, 'count')}条）"
                for r in listed.itertuples(index=False)
            )
            + "，建议安排针对性辅导和复检。"
        )
    small = int(frame["small"].sum())
    if small:
        text += (
            f"被抽检坐席中有{fmt.value(small, 'count')}人的质检记录不足"
            f"{fmt.value(th.min_sample, 'count')}条，个人平均分受个别记录影响较大，"
            "宜结合连续多个季度的结果评价。"
        )
    sec.narrative("agents", text)


def spread_table(sec: Section, by_team: bool = True, columns: Sequence[str] | None = None) -> None:
    """Table 坐席质检平均分分布（按班组）: quartiles of agent means per team (``by_team``,
    when staff has teams) and for all agents; ``columns`` names the columns shown (None:
    all). None without agents."""
    caption = "坐席质检平均分分布（按班组）"
    frame = _agents(sec)
    if frame is None:
        pick_columns(sec, caption, SPREAD_COLUMNS, [], columns)
        return
    mark = sec.config.thresholds.qa_pass_score
    parts = []
    if by_team and "team" in frame.columns:
        order = [key(t) for t in breakdown(sec, TEAM_PREFIX)]
        parts.append(qa_metrics.agent_spread(frame, mark, by="team", order=order))
    parts.append(qa_metrics.agent_spread(frame, mark).rename(index={"": "全部坐席"}))
    spread = pd.concat(parts)
    rows = list(spread.itertuples(index=True, name=None))
    shown, cells = pick_columns(sec, caption, SPREAD_COLUMNS, rows, columns)
    note = (
        f"注：坐席平均分为该坐席本季度全部质检得分的算术平均；合格线为{pass_mark(sec)}；"
        "四分位数按线性插值计算。"
    )
    sec.table(caption, shown, cells, note=note)


def lowest_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 质检平均分最低的坐席 (those named in the paragraph), by id only; ``columns``
    names the columns shown (None: all). None with fewer than two agents."""
    frame = _agents(sec)
    listed = figures(sec).lowest
    mark = sec.config.thresholds.qa_pass_score
    has_team = "team" in listed.columns
    has_counts = "failed" in listed.columns
    header = [Column("工号", "text", width=0.16)]
    if has_team:
        header.append(Column("班组", "text", width=0.10))
    header += [
        Column("质检条数", "int", width=0.10),
        Column("平均分", "number", width=0.10),
        Column("95%置信区间", "text", width=0.17),
    ]
    if has_counts:
        header += [Column("不合格条数", "int", width=0.11), Column("致命差错", "int", width=0.10)]
    header.append(Column("说明", "text", width=0.16))
    if frame is None or len(frame) < 2:
        pick_columns(sec, "质检平均分最低的坐席", header, [], columns)
        return
    rows = []
    for r in listed.itertuples(index=False):
        ci = None
        if r.ci_low is not None and r.ci_high is not None and not pd.isna(r.ci_low):
            ci = f"{fmt.number(r.ci_low, 1)}–{fmt.number(r.ci_high, 1)}"
        remark = [x for x in ("低于合格线" if r.mean < mark - qa_metrics.PASS_TOLERANCE else "",
                              "样本量不足" if r.small else "") if x]  # fmt: skip
        row = [r.agent_id]
        if has_team:
            row.append(r.team)
        row += [r.n, r.mean, ci]
        if has_counts:
            row += [r.failed, r.critical]
        row.append("；".join(remark) or None)
        rows.append(tuple(row))
    shown, cells = pick_columns(sec, "质检平均分最低的坐席", header, rows, columns)
    below = int(qa_metrics.below_mark(frame["mean"], mark).sum())
    note = "注：按坐席平均分从低到高排列，仅列工号。"
    if below > len(listed):
        note += f"平均分低于合格线的坐席共{fmt.value(below, 'count')}人，表中列出最低的{len(listed)}人。"
    sec.table("质检平均分最低的坐席", shown, cells, note=note)


def spread_chart(sec: Section, size: tuple[float, float] = (charts.WIDTH_IN, 2.9)) -> None:
    """Chart 坐席质检平均分分布: agents per bin of mean score, below the pass mark in red;
    ``size`` in inches. None without agents."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    shape = check_size(sec, size)
    frame = _agents(sec)
    if frame is None or shape is None:
        return
    mark = sec.config.thresholds.qa_pass_score
    target = score_target(sec)
    hist = qa_metrics.score_histogram(frame["mean"], mark, target)
    edges, width = hist.edges, hist.width
    groups = [
        (hist.below, charts.SHORTFALL, f"低于合格线（{pass_mark(sec)}）"),
        (hist.short, charts.SECONDARY, "合格但低于目标"),
        (hist.met, charts.PRIMARY, "达到目标" if target is not None else "不低于合格线"),
    ]
    fig, ax = new_figure(shape)
    bottom = np.zeros(len(edges) - 1)
    handles = []
    for counts, color, label in groups:
        if counts.sum() == 0:
            continue
        ax.bar(edges[:-1], counts, width=width * 0.92, align="edge", bottom=bottom, color=color)
        bottom = bottom + counts
        handles.append(Patch(color=color, label=f"{label}：{int(counts.sum()):,}人"))
    handles.append(
        ax.axvline(mark, color=charts.NEUTRAL, linestyle="-.", linewidth=1,
                   label=f"合格线{pass_mark(sec)}")
    )  # fmt: skip
    if target is not None:
        handles.append(
            ax.axvline(target.value, color=charts.NEUTRAL, linestyle="--", linewidth=1,
                       label=f"目标{fmt.target(target, 'score')}")
        )  # fmt: skip
    ax.set_xlim(edges[0] - width * 0.5, edges[-1] + width * 0.5)
    ax.set_ylim(0, max(bottom.max(), 1) * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("坐席质检平均分（分）")
    ax.set_ylabel("坐席人数")
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3,
              frameon=False)  # fmt: skip
    sec.figure(
        fig,
        "坐席质检平均分分布",
        note=(
            f"注：每格{fmt.number(width, 0)}分，各格含下限、不含上限；红色为平均分低于合格线的坐席，"
            "点划线为合格线" + ("，虚线为目标值。" if target is not None else "。")
        ),
    )
