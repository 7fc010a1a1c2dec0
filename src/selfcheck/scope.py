"""Scope (自查范围): which datasets, and so which areas of the report, this quarter covers.

The parameters' ``scope:`` block declares datasets that do not apply (``not_applicable``,
each with its reason) and datasets that must be supplied (``expected``). Against the
period's data folder every dataset of :data:`selfcheck.schema.DATASETS` is then

- ``included``: its file is there and it applies — the report covers it;
- ``not_applicable``: declared so — left out, with the declared reason (a file that is
  there anyway is not used);
- ``not_supplied``: no file and not expected — left out (未提供该类数据，本次不纳入);
- ``gap``: no file although ``expected`` lists it — left out of the body, and stated
  once in the summary and once as a problem in 存在的问题.

Everything of a dataset that is not included is left out of the report: its metrics
(:meth:`Scope.includes_metric`), the subsections whose heading names it
(``sec.heading(…, requires=…)``), and a section none of whose datasets is included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from selfcheck.errors import SectionError
from selfcheck.group import data_folders
from selfcheck.ingest.source import find_file
from selfcheck.period import PER_YEAR
from selfcheck.schema import DATASETS

if TYPE_CHECKING:
    from selfcheck.config import Config

ScopeStatus = Literal["included", "not_applicable", "not_supplied", "gap"]

# What each dataset stands for in the report (the scope paragraph and the appendix table).
AREA_ZH: dict[str, str] = {
    "tickets": "工单受理与处理",
    "calls": "电话服务",
    "chats": "在线咨询",
    "visits": "现场服务",
    "complaints": "投诉处理",
    "surveys": "客户满意度调查",
    "staff": "服务团队",
    "training": "培训",
    "qa_reviews": "服务质量检查（质检）",
    "incidents": "系统保障（故障）",
}
REASON_NOT_SUPPLIED = "未提供该类数据，本次不纳入"
REASON_GAP = "按参数应当提供（scope.expected）而本期未提供，相关内容无法自查，列为存在的问题"
STATUS_ZH: dict[str, str] = {
    "included": "纳入",
    "not_applicable": "不纳入（不适用）",
    "not_supplied": "不纳入（未提供）",
    "gap": "不纳入（数据缺口）",
}
GAP_KEY_PREFIX = "scope."  # a gap's problem key: scope.<dataset> (for the measures file)


@dataclass(frozen=True)
class ScopeEntry:
    dataset: str
    status: ScopeStatus
    reason: str = ""  # why it is left out ('' when included)
    file_present: bool = False  # declared not applicable, but its file is in the data folder

    @property
    def included(self) -> bool:
        return self.status == "included"

    @property
    def area(self) -> str:
        """``现场服务``: what the dataset stands for in the report."""
        return AREA_ZH[self.dataset]

    @property
    def label(self) -> str:
        """``现场服务（visits）``."""
        return f"{self.area}（{self.dataset}）"


@dataclass(frozen=True)
class Scope:
    """Every dataset's place in this period's report, in the order of ``DATASETS``."""

    entries: tuple[ScopeEntry, ...]

    @classmethod
    def everything(cls) -> Scope:
        """Every dataset included (what a report covers without a data folder to look at)."""
        return cls(tuple(ScopeEntry(n, "included") for n in DATASETS))

    def entry(self, dataset: str) -> ScopeEntry:
        for e in self.entries:
            if e.dataset == dataset:
                return e
        raise KeyError(dataset)

    def includes(self, dataset: str) -> bool:
        return self.entry(dataset).included

    def includes_any(self, datasets: Iterable[str]) -> bool:
        return any(self.includes(d) for d in datasets)

    def includes_metric(self, metric_id: str) -> bool:
        """A metric is covered when its first dataset is, and (if it needs others) at least
        one of them is: ``complaints.per_10k_tickets`` needs complaints and tickets,
        ``qa.sampling_rate`` the reviews and any of the sources they sample."""
        from selfcheck.metrics.catalogue import lookup

        first, *rest = lookup(metric_id).datasets
        return self.includes(first) and (not rest or self.includes_any(rest))

    @property
    def included(self) -> tuple[ScopeEntry, ...]:
        return tuple(e for e in self.entries if e.included)

    @property
    def excluded(self) -> tuple[ScopeEntry, ...]:
        """Not covered, but not a gap: not applicable or simply not supplied."""
        return tuple(e for e in self.entries if e.status in ("not_applicable", "not_supplied"))

    @property
    def gaps(self) -> tuple[ScopeEntry, ...]:
        return tuple(e for e in self.entries if e.status == "gap")

    @property
    def complete(self) -> bool:
        return all(e.included for e in self.entries)

    # -- wording ------------------------------------------------------------------------
    def paragraph(self) -> str:
        """The scope paragraph of the summary: what was covered, what was not and why, and
        (once) the gaps."""
        if self.complete:
            return (
                f"本次自查范围：{'、'.join(e.area for e in self.entries)}共{len(self.entries)}类"
                "数据均已提供，全部纳入自查。"
            )
        text = "本次自查范围："
        if self.included:
            text += (
                f"纳入{'、'.join(e.area for e in self.included)}（{len(self.included)}类数据）。"
            )
        else:
            text += "本期没有纳入自查的数据。"
        if self.excluded:
            groups: dict[str, list[str]] = {}
            for e in self.excluded:
                groups.setdefault(e.reason, []).append(e.area)
            text += (
                "未纳入："
                + "；".join(f"{'、'.join(areas)}（{reason}）" for reason, areas in groups.items())
                + "，报告中不列相关指标和内容。"
            )
        if self.gaps:
            text += (
                f"数据缺口：{'、'.join(e.area for e in self.gaps)}数据按参数应当提供而本期未提供，"
                "相关内容无法自查，已列入“存在的问题”。"
            )
        return text

    def log_line(self) -> str | None:
        """One line for the run log: what the report leaves out (None when it covers all)."""
        if self.complete:
            return None
        parts = []
        if self.excluded:
            parts.append(
                "不纳入 "
                + "、".join(
                    f"{e.dataset}（{'不适用' if e.status == 'not_applicable' else '未提供'}）"
                    for e in self.excluded
                )
            )
        if self.gaps:
            parts.append(
                "数据缺口 "
                + "、".join(e.dataset for e in self.gaps)
                + "（scope.expected 要求提供），列入存在的问题"
            )
        return "自查范围：" + "；".join(parts) + "，报告中略去相关章节和指标 (out of scope)"

    def rows(self) -> list[tuple[str, str, str]]:
        """The appendix table: 数据/领域, 是否纳入, 说明."""
        return [
            (
                e.label,
                STATUS_ZH[e.status],
                (e.reason or "数据已提供，纳入自查")
                + ("；数据目录中虽有该文件，本次不使用" if e.file_present else ""),
            )
            for e in self.entries
        ]


def resolve_scope(config: Config) -> Scope:
    """The scope of the configured period: its ``scope:`` parameters against the files of
    its data folder (of a period pooled from part folders, ``data_from``: any of them)."""
    declared = config.params.scope
    kind = config.params.data_from.kind
    if kind is not None and config.period.per_year < PER_YEAR[kind]:  # pooled: the parts
        # of a group: every branch's part folders
        folders = [f for p in config.period.parts(kind) for f in data_folders(config, p)]
    else:
        folders = data_folders(config)  # a group's: every branch's folder
    entries = []
    for name in DATASETS:
        present = any(find_file(f, name) is not None for f in folders)
        if name in declared.not_applicable:
            reason = declared.not_applicable[name]
            entries.append(ScopeEntry(name, "not_applicable", reason, file_present=present))
        elif present:
            entries.append(ScopeEntry(name, "included"))
        elif name in declared.expected:
            entries.append(ScopeEntry(name, "gap", REASON_GAP))
        else:
            entries.append(ScopeEntry(name, "not_supplied", REASON_NOT_SUPPLIED))
    return Scope(tuple(entries))


def check_requires(requires: str | Sequence[str] | None, *, section: str) -> tuple[str, ...]:
    """``requires=`` of a heading or block as a tuple of dataset ids; an unknown id is a
    :class:`SectionError` naming it and the ids there are."""
    if requires is None:
        return ()
    ids = (requires,) if isinstance(requires, str) else tuple(requires)
    unknown = [r for r in ids if not isinstance(r, str) or r not in DATASETS]
    if unknown or not ids:
        known = "、".join(DATASETS)
        raise SectionError(
            f"requires= 应为数据集编号（或其列表）：{known}；收到 {requires!r}"
            ' (requires names datasets, e.g. requires="visits")',
            section=section,
        )
    return ids
