"""Section registry: the report's sections in order, each backed by one notebook.

Only sections that are really built are registered; the report numbers them
一、二、… by their position here, among those it holds (a section with nothing in
scope is left out and the numbers close up).
"""

from __future__ import annotations

from dataclasses import dataclass

from selfcheck.errors import ParamsError


@dataclass(frozen=True)
class SectionDef:
    id: str
    title: str
    notebook: str  # file name under notebooks/
    order: int  # place in the report's plan (1–11); numbering is by position
    after_all: bool = False  # runs after every other section (it reads their results)
    # the datasets it reports on: none of them in scope (selfcheck.scope) and the section
    # emits nothing, and is left out of the report; () for a section always there
    datasets: tuple[str, ...] = ()
    # only in a group's consolidated report: elsewhere the run saves it empty (left out)
    # without starting a kernel
    group_only: bool = False
    # an analyst's file the section is made from (``{period}`` replaced), among the analyst
    # files of the report: without it the section leaves itself out, so the run saves it
    # empty without starting a kernel
    requires_file: str | None = None


SECTIONS: tuple[SectionDef, ...] = tuple(
    sorted(
        (
            SectionDef("summary", "报告摘要", "01_summary.ipynb", 1, after_all=True),
            # a group's consolidated report only (left out otherwise): after the summary
            SectionDef(
                "branches",
                "各分支机构对比",
                "11_branches.ipynb",
                2,
                after_all=True,
                group_only=True,
            ),
            SectionDef("system", "服务体系建设现状", "02_system.ipynb", 3),
            SectionDef(
                "process", "服务流程运行效能", "03_process.ipynb", 4, datasets=("tickets", "visits")
            ),
            SectionDef(
                "response",
                "服务响应速度",
                "04_response.ipynb",
                5,
                datasets=("chats", "calls", "visits"),
            ),
            SectionDef(
                "satisfaction",
                "客户满意度与投诉处理",
                "05_satisfaction.ipynb",
                6,
                datasets=("surveys", "complaints"),
            ),
            SectionDef("quality", "服务质量检查", "06_quality.ipynb", 7, datasets=("qa_reviews",)),
            SectionDef(
                "inspection",
                "自查工作开展情况",
                "07_inspection.ipynb",
                8,
                after_all=True,
                requires_file="{period}_checklist.xlsx",
            ),
            SectionDef("findings", "存在的问题", "08_findings.ipynb", 9, after_all=True),
            SectionDef("measures", "原因分析与整改措施", "09_measures.ipynb", 10, after_all=True),
            SectionDef("appendix", "附录", "10_appendix.ipynb", 11, after_all=True),
        ),
        key=lambda s: s.order,
    )
)  # report order; the report numbers sections 一、二、… by position in this tuple


def get_section(section_id: str) -> SectionDef:
    for s in SECTIONS:
        if s.id == section_id:
            return s
    known = ", ".join(s.id for s in SECTIONS)
    raise ParamsError(f"未知的报告章节 {section_id!r} (unknown section; known: {known})")
