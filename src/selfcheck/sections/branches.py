"""Section 各分支机构对比 (a group's consolidated report only).

``compute(sec)`` reads each member branch's saved report of the period (its section
results, written by its own run) and the group's own figures (computed from the pooled
records by the sections before this one). Block functions: the overview, the branches
with the most and the most serious shortfalls, a chart of the key metrics by branch, a
table per compared metric (value, target, status, rank, change), each branch's measures,
and each branch's data sources (files, rows, checksums). Outside a group the section is
left out of the report. Branch names, never ids, are shown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from selfcheck import fmt
from selfcheck.analyst import analyst_file, load_measures
from selfcheck.blocks import SECTION_FILE, Column, Figure, Paragraph, Table
from selfcheck.charts import NEUTRAL, PRIMARY, SHORTFALL
from selfcheck.group import branch_state, read_members
from selfcheck.metrics.base import Metric
from selfcheck.metrics.branches import (
    BranchFigures,
    Shortfalls,
    compared_ids,
    comparison,
    shortfalls,
)
from selfcheck.metrics.catalogue import lookup
from selfcheck.quality import quality_path
from selfcheck.results import load_result
from selfcheck.section import Section
from selfcheck.sections import SECTIONS
from selfcheck.sections.common import (
    FIGURE_WIDTH_IN,
    all_metrics,
    computed,
    figure,
    figure_size,
    store,
)

SECTION_ID = "branches"
KEY_METRICS = (
    "phone.service_level",
    "tickets.sla_rate.L1",
    "satisfaction.index",
    "qa.critical_error_rate",
)
MAX_HEIGHT_IN = 8.5
COMPARISON_COLUMNS = (
    Column("分支机构", width=0.28),
    Column("本期", width=0.16),
    Column("目标", width=0.14),
    Column("状态", "status", width=0.12),
    Column("排名", "int", width=0.1),
    Column("较上期", width=0.2),
)


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


@dataclass(frozen=True)
class Figures:
    branches: tuple[BranchFigures, ...]  # every branch of the group, in the order of branches:
    group: tuple[Metric, ...]  # the group's own figures (pooled records)
    ids: tuple[str, ...]  # the metrics compared
    short: tuple[Shortfalls, ...]


def _branch_metrics(folder) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for s in SECTIONS:
        if s.after_all:
            continue
        if (folder / "sections" / s.id / SECTION_FILE).exists():
            result, _ = load_result(folder / "sections" / s.id)
            out.update((m.metric_id, m) for m in result.metrics)
    return out


def compute(sec: Section) -> pd.DataFrame:
    """Read the branches' reports; the frame (branches × shortfalls) shows it in the notebook."""
    config = sec.config
    if not config.is_group:
        sec.leave_out("不是集团汇总报告（参数文件没有 branches）")
        store(sec, "figures", Figures((), (), (), ()))
        return pd.DataFrame()
    members = read_members(config)
    branches = []
    for b in config.branches:
        state = branch_state(config, b)
        if b.id in members.excluded:
            branches.append(BranchFigures(b.id, b.name, missing=members.excluded[b.id]))
        elif not state.complete:
            branches.append(BranchFigures(b.id, b.name, missing=state.reason))
        else:
            branches.append(BranchFigures(b.id, b.name, _branch_metrics(state.folder)))
    group = tuple(all_metrics(sec))
    ids = tuple(compared_ids(group))
    short = tuple(shortfalls(branches, ids))
    store(sec, "figures", Figures(tuple(branches), group, ids, short))
    return pd.DataFrame(
        {
            "分支机构": [s.branch for s in short],
            "未达标指标": [len(s.short) for s in short],
            "其中严重": [len(s.serious) for s in short],
            "差距最大": [s.worst.name if s.worst else "—" for s in short],
        }
    )


def _figures(sec: Section) -> Figures:
    return computed(sec, "figures")


def overview(sec: Section) -> Paragraph | None:
    """Paragraph ``branches.overview``: who is compared, who falls short most."""
    f = _figures(sec)
    if not f.branches:
        return None
    present = [b for b in f.branches if not b.missing]
    text = (
        f"本期纳入集团汇总的分支机构共{len(present)}个："
        + "、".join(b.name for b in present)
        + "。集团汇总指标由各机构的原始记录合并计算（如集团人工接通率为各机构人工接通量之和除以"
        "请求人工来电量之和），不是各机构指标的平均。"
    )
    missing = [b for b in f.branches if b.missing]
    if missing:
        text += (
            "未纳入本期汇总的机构：" + "；".join(f"{b.name}（{b.missing}）" for b in missing) + "。"
        )
    text += f"以下按{len(f.ids)}项设有目标的指标对各机构逐项比较。"
    ranked = [s for s in f.short if s.short]
    if not ranked:
        text += "各机构的全部指标均达到目标。"
    else:
        most = max(ranked, key=lambda s: len(s.short))
        text += f"未达标指标最多的是{most.branch}（{len(most.short)}项）"
        worst = ranked[0]
        if worst.serious:
            text += (
                f"；问题最严重的是{worst.branch}，有{len(worst.serious)}项指标差距严重，"
                f"差距最大的是{worst.worst.name}（{fmt.value(worst.worst.value, worst.worst.unit)}）"
                if worst.worst
                else ""
            )
        clean = [s.branch for s in f.short if not s.short]
        text += "。"
        if clean:
            text += "全部指标达标的机构：" + "、".join(clean) + "。"
    return sec.narrative("overview", text)


def shortfall_table(sec: Section) -> Table | None:
    """Table 各机构未达标指标: the branches, most serious first."""
    f = _figures(sec)
    if not f.short:
        return None
    rows = [
        (
            s.branch,
            len(s.short),
            len(s.serious),
            "、".join(m.name for m in s.short[:6]) + ("等" if len(s.short) > 6 else "") or "—",
        )
        for s in f.short
    ]
    columns = (
        Column("分支机构", width=0.22),
        Column("未达标指标（项）", "int", width=0.16),
        Column("其中差距严重（项）", "int", width=0.16),
        Column("未达标的指标", width=0.46),
    )
    return sec.table(
        "各分支机构未达标指标",
        columns,
        rows,
        note="注：按差距严重的指标数、再按未达标指标数排序；差距严重指相对差距达到“严重”一级（与“存在的问题”的分级相同）。",
    )


def key_chart(
    sec: Section,
    metrics: Sequence[str] = KEY_METRICS,
    size: tuple[float, float] | None = None,
) -> Figure | None:
    """Chart 主要指标分机构对比: one panel per key metric (up to four), a bar per branch,
    the target as a dashed line, branches short of it in red."""
    f = _figures(sec)
    ids = [i for i in metrics if i in f.ids][:4]
    present = [b for b in f.branches if not b.missing]
    if not ids or not present:
        return None
    rows = (len(ids) + 1) // 2
    # a bar per branch, at most a page's height (8.5 in) whatever the number of branches
    height = min(MAX_HEIGHT_IN, max(2.6, (0.6 + 0.22 * len(present)) * rows))
    size = figure_size(sec, size or (FIGURE_WIDTH_IN, height))
    fig, axes = figure(sec, size, nrows=rows, ncols=2 if len(ids) > 1 else 1)
    axes = np.atleast_1d(axes).ravel()
    names = [b.name for b in present][::-1]
    y = np.arange(len(names))
    for ax, metric_id in zip(axes, ids, strict=False):
        frame = comparison(metric_id, present).iloc[::-1]
        unit = lookup(metric_id).unit
        scale = 100.0 if unit == "rate" else 1.0
        values = frame["value"].to_numpy(dtype=float) * scale
        colors = [SHORTFALL if s == "未达标" else PRIMARY for s in frame["status"]]
        ax.barh(y, np.nan_to_num(values), 0.6, color=colors)
        target = next((t for t in frame["target"] if t is not None), None)
        if target is not None:
            ax.axvline(target.value * scale, color=NEUTRAL, linestyle="--", linewidth=1)
        ax.set_yticks(y, names, fontsize=7 if len(names) <= 12 else 5)
        ax.set_title(lookup(metric_id).name + ("（%）" if unit == "rate" else ""), fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes[len(ids) :]:
        ax.set_visible(False)
    return sec.figure(
        fig,
        "主要指标分机构对比",
        note="注：虚线为目标值，红色为未达到目标的机构。",
        label="branches_key",
    )


def _cell(m_value: float | None, unit: str) -> str:
    return fmt.value(m_value, unit) if m_value is not None and not pd.isna(m_value) else "—"


def comparison_tables(sec: Section, metrics: Sequence[str] | None = None) -> list[Table]:
    """One table per compared metric (``metrics``: ids; default every metric with a
    target): the group's value in the note, each branch's value, target, status, rank
    and change on its previous period."""
    f = _figures(sec)
    group = {m.metric_id: m for m in f.group}
    present = [b for b in f.branches if not b.missing]
    tables = []
    for metric_id in metrics or f.ids:
        if metric_id not in f.ids or not present:
            continue
        unit = lookup(metric_id).unit
        frame = comparison(metric_id, present)
        rows = [
            (
                r.branch,
                _cell(r.value, unit),
                fmt.target(r.target, unit) if r.target is not None else "—",
                r.status,
                None if pd.isna(r.rank) else int(r.rank),
                fmt.delta(r.change, unit) if not pd.isna(r.change) else "—",
            )
            for r in frame.itertuples()
        ]
        g = group.get(metric_id)
        name = g.name if g is not None else lookup(metric_id).name
        note = f"注：集团汇总值{_cell(g.value if g else None, unit)}（由各机构原始记录合并计算）；排名 1 为最好。"
        tables.append(sec.table(f"{name}分机构对比", COMPARISON_COLUMNS, rows, note=note))
    return tables


def measures_table(sec: Section) -> Table | Paragraph | None:
    """Table 各分支机构整改措施: every branch's measures of the period (its measures file)."""
    f = _figures(sec)
    rows = []
    for b in f.branches:
        measures = load_measures(sec.config.for_branch(b.id), sec.period)
        for item in measures.measures if measures is not None else []:
            try:
                problem = lookup(item.problem).name
            except KeyError:
                problem = item.problem
            rows.append(
                (b.name, problem, item.measure, item.owner, fmt.date_zh(item.due), item.status)
            )
    if not f.branches:
        return None
    columns = (
        Column("分支机构", width=0.14),
        Column("问题", width=0.18),
        Column("整改措施", width=0.32),
        Column("责任部门", width=0.12),
        Column("完成时限", width=0.12),
        Column("状态", width=0.12),
    )
    if not rows:
        files = "、".join(
            str(analyst_file(sec.config.for_branch(b.id), sec.period, "measures").name)
            for b in f.branches[:1]
        )
        return sec.paragraph(
            f"各分支机构本期均未填写整改措施（各机构分析人员文件目录中的 {files}）。", style="note"
        )
    return sec.table("各分支机构整改措施", columns, rows)


def sources_table(sec: Section) -> Table | None:
    """Table 各分支机构数据来源: per branch and dataset, the file, rows kept and excluded,
    and the first 12 characters of its SHA-256 (from the branch's data-quality record)."""
    f = _figures(sec)
    rows = []
    for b in f.branches:
        if b.missing:
            continue
        path = quality_path(sec.config.for_branch(b.id))
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for q in record.get("datasets", []):
            excluded = sum(int(v) for v in q.get("excluded", {}).values())
            rows.append(
                (b.name, q["name"], q["file"], int(q["rows_kept"]), excluded, str(q["sha256"])[:12])
            )
    if not rows:
        return None
    columns = (
        Column("分支机构", width=0.16),
        Column("数据集", width=0.14),
        Column("文件", width=0.2),
        Column("纳入行数", "int", width=0.14),
        Column("剔除行数", "int", width=0.14),
        Column("SHA-256（前12位）", width=0.22),
    )
    return sec.table(
        "各分支机构数据来源",
        columns,
        rows,
        note="注：各机构的数据质量明细见其自己的报告附录与 data_quality.json。",
    )
