"""Section 自查工作开展情况 and the checklist's findings in 存在的问题 and 整改措施: the
notebooks' code cells run in-process over a filled workbook and a hand-made result of an
earlier section, against counts worked out by hand."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import nbformat
import openpyxl
import pytest
from conftest import PERIOD, ROOT, write_params
from notebook_cells import fill_missing_results

from selfcheck.blocks import Figure, Paragraph, SectionResult, Table
from selfcheck.checklist.definition import load_checklist
from selfcheck.checklist.workbook import COL, SHEET, write_workbook
from selfcheck.metrics.base import Metric, Target

CHECKLIST = """\
areas:
  - id: quality
    name: 服务质量
    items:
      - id: Q1
        topic: 响应速度
        check: 45秒接通率达到服务标准
        methods: [数据分析]
        evidence: 话务数据
        severity: 严重
        metrics: [phone.service_level]
      - id: Q2
        topic: 服务礼仪
        check: 规范用语执行到位
        methods: [现场观察]
        evidence: 抽查记录
        severity: 严重
  - id: staff
    name: 服务人员
    items:
      - id: S1
        topic: 培训情况
        check: 培训计划按期执行
        methods: [资料查阅]
        evidence: 培训台账
        severity: 较重
      - id: S2
        topic: 情绪管理
        check: 有情绪疏导安排
        methods: [员工访谈]
        evidence: 访谈记录
"""
MEASURES = """\
measures:
  - problem: phone.service_level
    cause: 高峰排班不足。
    measure: 按小时预测排班。
    owner: 运营组
    due: 2026-12-31
  - problem: Q2
    cause: 规范用语未纳入质检必查项。
    measure: 规范用语列入质检必查项。
    owner: 质量管理组
    due: 2026-11-30
"""
MEASURES_BEFORE = """\
measures:
  - problem: S1
    cause: 讲师未到位。
    measure: 补齐培训。
    owner: 培训组
    due: 2026-09-30
    status: 已完成
"""
# 45秒接通率 75.6 % against ≥ 80 %: Q1 不符合 by the figure, whatever the workbook says
METRICS = [
    Metric("phone.service_level", "45秒接通率", "rate", 0.756, 756, 1000, 1000,
           target=Target(">=", 0.8), previous=0.77),
]  # fmt: skip


def _fill(path: Path, row: int, **cells) -> None:
    wb = openpyxl.load_workbook(path)
    for header, value in cells.items():
        wb[SHEET].cell(row, COL[header] + 1, value)
    wb.save(path)


@pytest.fixture(scope="module")
def params(sample_root, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inspection")
    (folder / "checklist.yaml").write_text(CHECKLIST, encoding="utf-8")
    (folder / f"{PERIOD}_measures.yaml").write_text(MEASURES, encoding="utf-8")
    (folder / "2026Q2_measures.yaml").write_text(MEASURES_BEFORE, encoding="utf-8")
    path = write_params(folder, sample_root, checklist="checklist.yaml")
    checklist = load_checklist(folder / "checklist.yaml")
    before = folder / "2026Q2_checklist.xlsx"
    write_workbook(checklist, "2026Q2", before, window=(date(2026, 4, 1), date(2026, 7, 15)),
                   metrics=None)  # fmt: skip
    _fill(before, 4, 结论="不符合", 问题描述="培训计划完成不足六成")
    now = folder / f"{PERIOD}_checklist.xlsx"
    write_workbook(checklist, PERIOD, now, window=(date(2026, 7, 1), date(2026, 10, 15)),
                   metrics=None)  # fmt: skip
    _fill(now, 2, 结论="符合")  # a metric-decided row edited by hand: the figure wins
    _fill(now, 3, 结论="不符合", 问题描述="抽查20通录音，5通未使用规范开场白",
          检查人="王敏", 检查日期=date(2026, 9, 20))  # fmt: skip
    _fill(now, 4, 结论="基本符合", 问题描述="新业务培训推迟两周", 检查人="李强",
          检查日期=date(2026, 10, 9))  # fmt: skip
    # S2 left empty: not inspected
    result = SectionResult("response", "服务响应速度", 4, PERIOD, metrics=list(METRICS))
    result.save(folder / "outputs" / PERIOD / "sections" / "response")
    return path


def _run(notebook: str, params: Path):
    path = ROOT / "notebooks" / notebook
    nb = nbformat.read(path, as_version=4)
    fill_missing_results(params)
    scope: dict = {"period": PERIOD, "params_path": str(params), "branch": ""}
    for source in [c.source for c in nb.cells if c.cell_type == "code"][1:]:
        exec(compile(source, str(path), "exec"), scope)
    return scope["sec"]


def _blocks(sec, kind) -> list:
    return [b for b in sec.result.blocks if isinstance(b, kind)]


def test_inspection_section_counts_per_area(params):
    sec = _run("07_inspection.ipynb", params)
    overview, not_inspected, follow_up = (p.text for p in _blocks(sec, Paragraph))
    assert "覆盖服务质量、服务人员2个领域、4个检查项" in overview
    assert "采用资料查阅、数据分析、现场观察等方法" in overview
    assert "已检查3项，其中人工检查2项、由本期指标判定1项，未检查1项" in overview
    assert "检查人员为李强、王敏2人，检查于2026年9月20日至10月9日进行" in overview
    areas, found = _blocks(sec, Table)
    assert areas.caption == "各领域检查结果"
    # 服务质量: Q1 不符合 (the figure), Q2 不符合 → 0 of 2; 服务人员: S1 基本符合, S2 not inspected
    assert [list(r) for r in areas.rows] == [
        ["服务质量", 2, 0, 0, 2, 0, 0, 0.0],
        ["服务人员", 2, 0, 1, 0, 0, 1, 0.0],
        ["合计", 4, 0, 1, 2, 0, 1, 0.0],
    ]
    assert [r[0] for r in found.rows] == ["Q1", "Q2", "S1"]
    assert found.rows[0][4] == "45秒接通率为75.6%，未达到目标≥80.0%。"
    assert [r[5] for r in found.rows] == ["严重", "严重", "一般"]  # 基本符合: one level lower
    assert len(_blocks(sec, Figure)) == 1
    assert not_inspected == "以下1个检查项本期未检查，不计入符合率：服务人员1项（S2）。"
    assert follow_up == "上期自查发现问题1项，本期复查0项已整改到位，1项仍未符合（S1）。"


def test_checklist_findings_are_ranked_problems_and_need_a_measure(params):
    sec = _run("08_findings.ipynb", params)
    overview = _blocks(sec, Paragraph)[0].text
    assert "其中由指标数据发现1个、对照自查清单检查发现2个、分析人员补充0个" in overview
    table = _blocks(sec, Table)[0]
    # Q2 (严重 0.75) before 45秒接通率 (0.264) before S1 (基本符合 of 较重 → 一般 0.1)
    assert [r[1] for r in table.rows] == [
        "服务礼仪检查不符合",
        "45秒接通率未达标",
        "培训情况检查基本符合",
    ]
    assert [r[6] for r in table.rows] == ["严重", "较重", "一般"]
    texts = [p.text for p in _blocks(sec, Paragraph)]
    assert ("服务礼仪检查不符合：抽查20通录音，5通未使用规范开场白"
            "（检查项 Q2：规范用语执行到位）。") in texts  # fmt: skip

    measures = _run("09_measures.ipynb", params)
    warnings = "\n".join(measures.result.warnings)
    assert "未达标问题没有整改措施：培训情况检查基本符合（S1）" in warnings
    assert "Q2" not in warnings
    follow = next(t for t in _blocks(measures, Table) if t.caption.endswith("整改措施落实情况"))
    assert list(follow.rows[0]) == ["培训情况（检查项 S1）", "补齐培训。", "培训组", "2026年9月30日",
                                    "已完成", "本期检查基本符合"]  # fmt: skip


def test_a_metric_decided_item_out_of_scope_does_not_apply(params, tmp_path):
    """With calls declared not applicable, Q1 (decided by a phone metric) is 不适用, not 不符合."""
    text = (
        params.read_text(encoding="utf-8")
        + "scope:\n  not_applicable:\n    calls: 本中心不设电话渠道\n"
    )
    folder = tmp_path / "p"  # the same files, calls declared not applicable (outputs shared)
    shutil.copytree(params.parent, folder, ignore=shutil.ignore_patterns("outputs"))
    (folder / "2026Q3.yaml").write_text(text, encoding="utf-8")
    result = SectionResult("response", "服务响应速度", 4, PERIOD, metrics=list(METRICS))
    result.save(params.parent / "outputs" / PERIOD / "sections" / "response")
    sec = _run("07_inspection.ipynb", folder / "2026Q3.yaml")
    areas = _blocks(sec, Table)[0]
    assert list(areas.rows[0]) == ["服务质量", 2, 0, 0, 1, 1, 0, 0.0]  # Q1 不适用, Q2 不符合


def test_without_a_workbook_the_section_is_left_out(sample_root, tmp_path):
    params = write_params(tmp_path / "none", sample_root)
    result = SectionResult("response", "服务响应速度", 4, PERIOD, metrics=list(METRICS))
    result.save(tmp_path / "none" / "outputs" / PERIOD / "sections" / "response")
    sec = _run("07_inspection.ipynb", params)
    saved = SectionResult.load(tmp_path / "none" / "outputs" / PERIOD / "sections" / "inspection")
    assert saved.blocks == [] and not sec.in_scope
