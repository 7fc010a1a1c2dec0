"""The self-inspection checklist: definition, workbook round trip through openpyxl, strict
read-back, metric-decided items."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import write_params

from selfcheck.checklist.decide import decide
from selfcheck.checklist.definition import METHODS, load_checklist
from selfcheck.checklist.workbook import (
    COL,
    HEADERS,
    INFO_SHEET,
    SHEET,
    read_workbook,
    write_workbook,
)
from selfcheck.errors import DataError, ParamsError
from selfcheck.metrics.base import Metric, Target

PERIOD = "2026Q3"
WINDOW = (date(2026, 7, 1), date(2026, 10, 15))

SMALL = """\
areas:
  - id: quality
    name: 服务质量
    items:
      - id: Q1
        topic: 响应速度
        check: 电话接通率和服务水平达到服务标准
        methods: [数据分析]
        evidence: 话务数据
        severity: 严重
        metrics: [phone.answer_rate, phone.service_level]
      - id: Q2
        topic: 服务礼仪
        check: 规范用语执行到位
        methods: [现场观察, 客户访谈]
        evidence: 抽查记录
  - id: staff
    name: 服务人员
    items:
      - id: S1
        topic: 培训
        check: 培训计划按期执行
        methods: [资料查阅]
        evidence: 培训台账
        severity: 较重
"""


@pytest.fixture
def checklist(tmp_path):
    path = tmp_path / "checklist.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return load_checklist(path)


def _metrics(service_level: float) -> dict[str, Metric]:
    return {
        "phone.answer_rate": Metric("phone.answer_rate", "人工接通率", "rate", 0.962,
                                    target=Target(">=", 0.95)),
        "phone.service_level": Metric("phone.service_level", "45秒接通率", "rate",
                                      service_level, target=Target(">=", 0.8)),
    }  # fmt: skip


def _write(checklist, path, **kw):
    kw.setdefault("metrics", None)
    return write_workbook(checklist, PERIOD, path, window=WINDOW, **kw)


def _fill(path: Path, row: int, **cells) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    for header, value in cells.items():
        ws.cell(row, COL[header.replace("_", "/")] + 1, value)
    wb.save(path)


def _read(checklist, path):
    return read_workbook(path, checklist, PERIOD, window=WINDOW)


# ------------------------------------------------------------------ definition


def test_default_checklist_covers_every_area_of_the_handbook():
    c = load_checklist()
    assert [name for _, name in c.areas] == [
        "服务流程",
        "服务质量",
        "服务人员",
        "设施与技术",
        "反馈与投诉",
    ]
    topics = {i.topic for i in c.items}
    for topic in ("接触点", "流程效率", "流程规范", "响应速度", "专业性", "服务礼仪", "问题解决",
                  "沟通效果", "技能水平", "服务态度", "培训情况", "情绪管理", "服务环境",
                  "服务工具", "技术支持", "系统稳定性", "反馈渠道", "投诉处理", "反馈分析",
                  "改进落实"):  # fmt: skip
        assert topic in topics, topic
    assert {m for i in c.items for m in i.methods} == set(METHODS)  # every method is used
    assert len({i.id for i in c.items}) == len(c.items)
    assert any(i.decided_by_metrics for i in c.items)
    assert c.item("Q01").metrics == ("phone.answer_rate", "phone.service_level")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("id: S1", "id: Q1"), "检查项编号 Q1 重复"),
        (lambda t: t.replace("phone.service_level]", "phone.nonsense]"), "phone.nonsense 不是已知的指标编号"),
        (lambda t: t.replace("evidence: 培训台账", "evidence: 培训台账\n        owner: 张三"), "未知的参数名"),
        (lambda t: t.replace("[资料查阅]", "[电话回访]"), "methods"),
        (lambda t: t.replace("severity: 较重", "severity: 很重"), "severity"),
    ],
)  # fmt: skip
def test_a_bad_definition_is_an_error_naming_it(tmp_path, edit, message):
    path = tmp_path / "checklist.yaml"
    path.write_text(edit(SMALL), encoding="utf-8")
    with pytest.raises(ParamsError, match=message) as e:
        load_checklist(path)
    assert str(path) in str(e.value)


# ------------------------------------------------------------------ decisions


def test_a_metric_decided_item_follows_its_metrics(checklist):
    item = checklist.item("Q1")
    met = decide(item, _metrics(0.812))
    assert met.conclusion == "符合" and met.description is None
    assert met.basis == (
        "人工接通率 96.2%（目标≥95.0%，达标）；45秒接通率 81.2%（目标≥80.0%，达标）"
    )
    short = decide(item, _metrics(0.756))
    assert short.conclusion == "不符合"
    assert short.description == "45秒接通率为75.6%，未达到目标≥80.0%。"
    no_target = {k: Metric(k, m.name, m.unit, m.value) for k, m in _metrics(0.7).items()}
    undecided = decide(item, no_target)
    assert undecided.conclusion is None and "须人工检查" in undecided.basis
    assert decide(item, {}).conclusion is None


# ------------------------------------------------------------------ round trip


def test_written_filled_and_read_back(checklist, tmp_path):
    path = tmp_path / "2026Q3_checklist.xlsx"
    summary = _write(checklist, path, metrics=_metrics(0.756))
    assert (summary.items, summary.decided, summary.kept) == (3, 1, 0)

    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    assert tuple(c.value for c in ws[1]) == HEADERS
    assert ws.freeze_panes == "B2"
    assert [ws.cell(r, 1).value for r in (2, 3, 4)] == ["Q1", "Q2", "S1"]
    assert ws.cell(2, COL["判定方式"] + 1).value == "指标判定"
    assert ws.cell(2, COL["结论"] + 1).value == "不符合"
    assert ws.cell(3, COL["判定方式"] + 1).value == "人工检查"
    (drop_down, dates) = ws.data_validations.dataValidation
    assert drop_down.formula1 == '"符合,基本符合,不符合,不适用"' and str(drop_down.sqref) == "K2:K4"
    assert dates.type == "date" and str(dates.sqref) == "O2:O4"
    assert ws.column_dimensions["D"].width >= 40 and ws.cell(2, 4).alignment.wrap_text
    assert wb[INFO_SHEET]["B1"].value == PERIOD

    _fill(path, 3, 结论="基本符合", 问题描述="抽听20通录音，3通未使用结束语", 证据_来源="录音抽查表",
          检查人="王敏", 检查日期=datetime(2026, 9, 20))  # fmt: skip
    inspection = _read(checklist, path)
    q1, q2, _ = inspection.entries
    assert (q1.conclusion, q1.decided_by_metrics) == ("不符合", True)
    assert (q2.conclusion, q2.description, q2.inspector, q2.date) == (
        "基本符合", "抽听20通录音，3通未使用结束语", "王敏", date(2026, 9, 20))  # fmt: skip
    assert q2.source == "录音抽查表"
    assert [e.item.id for e in inspection.findings()] == ["Q1", "Q2"]
    assert [e.item.id for e in inspection.not_inspected] == ["S1"]  # empty: never 符合
    assert inspection.by_area()["服务人员"]["未检查"] == 1
    assert inspection.by_area()["服务质量"] == {
        "符合": 0, "基本符合": 1, "不符合": 1, "不适用": 0, "未检查": 0}  # fmt: skip


def test_writing_again_keeps_what_is_filled_and_redecides_from_the_figures(checklist, tmp_path):
    path = tmp_path / "2026Q3_checklist.xlsx"
    _write(checklist, path, metrics=_metrics(0.756))
    _fill(path, 4, 结论="符合", 检查人="李强", 检查日期="2026/9/30")
    summary = _write(checklist, path, metrics=_metrics(0.85))  # the figure was corrected
    assert summary.kept == 2 and summary.decided == 1
    q1, _, s1 = _read(checklist, path).entries
    assert q1.conclusion == "符合" and q1.description is None
    assert (s1.conclusion, s1.inspector, s1.date) == ("符合", "李强", date(2026, 9, 30))


def test_last_periods_workbook_is_the_starting_point(checklist, tmp_path):
    before = tmp_path / "2026Q2_checklist.xlsx"
    write_workbook(checklist, "2026Q2", before, window=(date(2026, 4, 1), date(2026, 7, 15)),
                   metrics=None)  # fmt: skip
    _fill(before, 4, 结论="不符合", 问题描述="二季度培训未按计划开展", 检查人="李强",
          检查日期=date(2026, 6, 30))  # fmt: skip
    path = tmp_path / "2026Q3_checklist.xlsx"
    summary = _write(checklist, path, previous=before, previous_period="2026Q2")
    assert summary.carried == 1
    ws = openpyxl.load_workbook(path)[SHEET]
    assert ws.cell(4, COL["上期结论"] + 1).value == "不符合：二季度培训未按计划开展"
    assert ws.cell(4, COL["检查人"] + 1).value == "李强"
    s1 = _read(checklist, path).entries[2]
    assert s1.conclusion is None  # this period's conclusion is the inspectors' to give


# ------------------------------------------------------------------ strict read-back


def _edit(path: Path, change) -> None:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


def _swap_columns(ws, a: int, b: int) -> None:
    for row in range(1, ws.max_row + 1):
        first, second = ws.cell(row, a).value, ws.cell(row, b).value
        ws.cell(row, a, second)
        ws.cell(row, b, first)


BAD = {
    "unknown item": (lambda wb: wb[SHEET].cell(3, 1, "Q9"), "第3行 A列（编号）：Q9 不是清单"),
    "conclusion outside the list": (
        lambda wb: wb[SHEET].cell(3, COL["结论"] + 1, "合格"), "第3行 K列（结论）：“合格”不是可选的结论"),
    "不符合 without description": (
        lambda wb: wb[SHEET].cell(4, COL["结论"] + 1, "不符合"), "第4行 L列（问题描述）：结论为“不符合”"),
    "duplicate row": (
        lambda wb: [wb[SHEET].cell(5, c + 1, wb[SHEET].cell(3, c + 1).value) for c in range(15)],
        "第5行 A列（编号）：检查项 Q2 重复（第3行已有）"),
    "date outside the period": (
        lambda wb: wb[SHEET].cell(3, COL["检查日期"] + 1, datetime(2026, 6, 28)),
        "第3行 O列（检查日期）：2026-06-28 不在本期检查时段内"),
    "not a date": (
        lambda wb: wb[SHEET].cell(3, COL["检查日期"] + 1, "九月底"), "第3行 O列（检查日期）：“九月底”不是日期"),
    "moved column": (
        lambda wb: _swap_columns(wb[SHEET], 11, 12), "第1行 K列：应为“结论”，实为“问题描述”"),
    "renamed sheet": (lambda wb: setattr(wb[SHEET], "title", "Sheet1"), "缺少工作表“自查清单”"),
    "deleted row": (lambda wb: wb[SHEET].delete_rows(4), "缺少检查项 S1"),
    "another period": (lambda wb: wb[INFO_SHEET].cell(1, 2, "2026Q2"), "期间为 2026Q2，不是 2026Q3"),
    "text right of the table": (lambda wb: wb[SHEET].cell(3, 17, "备注"), "第3行：最后一列之后还有内容"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_workbook_is_a_clear_error_and_nothing_is_read(checklist, tmp_path, case):
    path = tmp_path / "2026Q3_checklist.xlsx"
    _write(checklist, path, metrics=_metrics(0.85))
    change, message = BAD[case]
    _edit(path, change)
    with pytest.raises(DataError, match=message) as e:
        _read(checklist, path)
    text = str(e.value)
    assert "2026Q3_checklist.xlsx" in text
    with pytest.raises(DataError):  # rewriting over a broken workbook is refused, not lossy
        _write(checklist, path, metrics=_metrics(0.85))


def test_every_error_of_a_workbook_is_listed_at_once(checklist, tmp_path):
    path = tmp_path / "2026Q3_checklist.xlsx"
    _write(checklist, path)
    _fill(path, 3, 结论="合格")
    _fill(path, 4, 结论="不符合", 检查日期="2027-01-01")
    with pytest.raises(DataError) as e:
        _read(checklist, path)
    assert "3 处需要修改" in str(e.value)


def test_a_file_that_is_not_a_workbook(checklist, tmp_path):
    path = tmp_path / "2026Q3_checklist.xlsx"
    path.write_text("编号,结论\nQ1,符合\n", encoding="utf-8")
    with pytest.raises(DataError, match="不是可读取的 Excel 工作簿"):
        _read(checklist, path)


# ------------------------------------------------------------------ command line


def test_checklist_command_on_the_sample(sample_root, tmp_path):
    params = write_params(tmp_path / "params", sample_root)
    done = subprocess.run(
        [sys.executable, "-m", "selfcheck", "checklist", str(params)],
        capture_output=True, text=True, encoding="utf-8", check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "已写出" in done.stdout and "33 项" in done.stdout
    path = tmp_path / "params" / "2026Q3_checklist.xlsx"
    _edit(path, lambda wb: wb[SHEET].cell(2, COL["结论"] + 1, "合格"))
    checked = subprocess.run(
        [sys.executable, "-m", "selfcheck", "checklist", str(params), "--check"],
        capture_output=True, text=True, encoding="utf-8", check=False,
    )  # fmt: skip
    assert checked.returncode == 3
    assert "第2行 K列（结论）" in checked.stderr and "Traceback" not in checked.stderr


def test_the_committed_sample_workbooks_are_what_the_sample_writes(tmp_path):
    """params/2026Q{2,3}_checklist.xlsx hold what selfcheck.checklist.sample fills in, and
    read back cleanly against the default checklist."""
    from selfcheck.checklist.sample import WINDOWS, write_sample_workbooks

    params = Path(__file__).resolve().parents[1] / "params"
    default = load_checklist()
    for fresh in write_sample_workbooks(tmp_path):
        committed = params / fresh.name
        period = fresh.name.split("_")[0]
        a = read_workbook(committed, default, period, window=WINDOWS[period])
        b = read_workbook(fresh, default, period, window=WINDOWS[period])
        assert [
            (e.item.id, e.conclusion, e.description, e.inspector, e.date) for e in a.entries
        ] == [(e.item.id, e.conclusion, e.description, e.inspector, e.date) for e in b.entries]
        if period == "2026Q3":
            assert {e.item.id for e in a.findings()} == {"S02", "Q09", "F05"}
            assert [
                e.item.id for e in a.entries if not e.inspected and not e.decided_by_metrics
            ] == ["P07"]
