"""The annual improvement summary: every measure of the year's measures files once, its
metric when raised and at the year's end, the change, the target, and the flags (not
improved, overdue). Values are given by hand; the last test runs the annual report on
the small sample's four quarters and checks the table against pandas over the Q1 and Q4
files."""

from __future__ import annotations

from pathlib import Path

import docx
import pandas as pd
import pytest
import yaml

from selfcheck.config import load_config
from selfcheck.errors import ParamsError
from selfcheck.improvement import (
    FLAG_NOT_IMPROVED,
    FLAG_OVERDUE,
    effects,
    measure_files,
    year_measures,
)
from selfcheck.metrics.base import Measure
from selfcheck.period import Period

ROOT = Path(__file__).resolve().parents[1]
YEAR = Period.parse("2026")


def _measure(problem: str, measure: str, status: str, due: str, **extra: str) -> dict:
    return {
        "problem": problem,
        "cause": "原因",
        "measure": measure,
        "owner": "运营组",
        "due": due,
        "status": status,
        **extra,
    }


def _files(folder: Path, files: dict[str, list[dict]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    params = folder / "2026.yaml"
    params.write_text(
        "\n".join(
            [
                "period: 2026",
                "organisation: 测试集团有限公司",
                "reporting_unit: 客户服务中心",
                "data_dir: ../data/{period}",
                f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}",
                "output_dir: ../outputs/{period}",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    for period, measures in files.items():
        (folder / f"{period}_measures.yaml").write_text(
            yaml.safe_dump({"measures": measures}, allow_unicode=True), encoding="utf-8"
        )
    return params


ANSWER = "按小时来电预测编排班次"
HANDLING = "建立收费争议快速核账通道"
FILES = {
    # raised in Q1, carried into Q2 (new-period sets carried_from), closed in Q3
    "2026Q1": [_measure("phone.answer_rate", ANSWER, "进行中", "2026-09-30")],
    "2026Q2": [
        _measure("phone.answer_rate", ANSWER, "进行中", "2026-09-30", carried_from="2026Q1"),
        _measure("complaints.handling_workdays_mean", HANDLING, "进行中", "2026-08-31"),
    ],
    "2026Q3": [
        _measure("phone.answer_rate", ANSWER, "已完成", "2026-09-30", carried_from="2026Q1"),
        _measure(
            "complaints.handling_workdays_mean",
            HANDLING,
            "进行中",
            "2026-08-31",
            carried_from="2026Q2",
        ),
        _measure("知识库更新滞后", "知识库与新业务同步上线", "已完成", "2026-10-31"),
    ],
}
VALUES = {
    "2026Q1": {"phone.answer_rate": 0.82, "complaints.handling_workdays_mean": 4.0},
    "2026Q2": {"phone.answer_rate": 0.90, "complaints.handling_workdays_mean": 4.5},
    "2026Q3": {"phone.answer_rate": 0.95, "complaints.handling_workdays_mean": 5.6},
    "2026Q4": {"phone.answer_rate": 0.96, "complaints.handling_workdays_mean": 6.1},
}


def _values(period: Period):
    got = VALUES.get(str(period))
    return None if got is None else {k: Measure(v) for k, v in got.items()}


def test_every_measure_of_the_year_once_with_its_latest_status(tmp_path):
    params = _files(tmp_path, FILES)
    assert measure_files(params, YEAR) == [Period.parse(q) for q in ("2026Q1", "2026Q2", "2026Q3")]
    got = year_measures(params, YEAR)
    assert [(m.item.problem, m.item.status, str(m.raised)) for m in got] == [
        ("phone.answer_rate", "已完成", "2026Q1"),
        ("complaints.handling_workdays_mean", "进行中", "2026Q2"),
        ("知识库更新滞后", "已完成", "2026Q3"),
    ]
    assert [len(m.files) for m in got] == [3, 2, 1]


def test_before_and_after_of_a_measure_raised_in_q1_and_closed_in_q3(tmp_path):
    config = load_config(_files(tmp_path, FILES))
    rows = effects(year_measures(config.params_path, YEAR), _values, config.standards, YEAR)
    answer, handling, knowledge = rows

    assert (answer.before, answer.after, str(answer.after_period)) == (0.82, 0.96, "2026Q4")
    assert answer.change == pytest.approx(0.14)
    assert answer.change_text == "提升14.0个百分点"
    assert (answer.before_text, answer.after_text) == ("82.0%", "96.0%")
    assert answer.met is True and answer.met_text == "达标"  # ≥ 95%
    assert answer.improved is True and answer.flags == ()
    assert (
        answer.sentence
        == "人工接通率从提出时（2026Q1）的82.0%提升至年末（2026Q4）的96.0%，达到目标"
    )

    # lower is better (≤ 5 工作日): from 4.5 (Q2) to 6.1 — worse, and open past its due date
    assert (handling.before, handling.after) == (4.5, 6.1)
    assert handling.change_text == "延长1.6个工作日"
    assert handling.improved is False and handling.met is False
    assert handling.flags == (FLAG_NOT_IMPROVED, FLAG_OVERDUE)
    assert handling.sentence == (
        "平均办结时长(工作日)从提出时（2026Q2）的4.5个工作日延长至年末（2026Q4）的6.1个工作日，仍未达到目标"
    )

    # a problem of the analyst's: no metric, nothing to compare, nothing flagged
    assert (knowledge.unit, knowledge.before, knowledge.change_text) == (None, None, "—")
    assert knowledge.flags == ()


def test_the_end_value_is_the_last_period_with_one(tmp_path):
    config = load_config(_files(tmp_path, {"2026Q1": FILES["2026Q1"]}))
    values = {k: v for k, v in VALUES.items() if k != "2026Q4"}

    def of(period: Period):
        got = values.get(str(period))
        return None if got is None else {k: Measure(v) for k, v in got.items()}

    (row,) = effects(year_measures(config.params_path, YEAR), of, config.standards, YEAR)
    assert (row.after, str(row.after_period), row.met) == (0.95, "2026Q3", True)
    # Q1's own measure, open, due 30 September: overdue at the year's end
    assert row.overdue and row.flags == (FLAG_OVERDUE,)


def test_only_for_a_year(tmp_path):
    with pytest.raises(ParamsError, match="年度"):
        measure_files(tmp_path / "x.yaml", Period.parse("2026Q3"))


# -- the annual report ----------------------------------------------------------------


@pytest.mark.integration
def test_the_annual_report_shows_the_summary(tmp_path):
    from selfcheck.execution.runner import run
    from selfcheck.sample import generate

    data = tmp_path / "data"
    generate("2026Q4", data, scale="small", history=3)
    params = _files(tmp_path / "params", {"2026Q1": FILES["2026Q1"]})
    text = params.read_text(encoding="utf-8").replace(
        "data_dir: ../data/{period}", "data_dir: ../data/{period}\ndata_from: quarters"
    )
    params.write_text(text, encoding="utf-8")
    # the analyst adds the qualitative effects after the generated paragraph
    (params.parent / "2026_texts.yaml").write_text(
        "add:\n  measures.improvement:\n    - 弹性班组启用后，促销周高峰时段的排队投诉明显减少。\n",
        encoding="utf-8",
    )
    result = run(params)

    def rate(quarter: str) -> float:
        calls = pd.read_csv(data / quarter / "calls.csv", encoding="utf-8")
        a = (calls["outcome"] == "answered").sum()
        b = ((calls["outcome"] == "abandoned") & ~(calls["queue_seconds"] < 5)).sum()
        return a / (a + b)

    assert result.report is not None and not result.failed
    document = docx.Document(str(result.report))
    tables = [
        t for t in document.tables if t.rows[0].cells[0].text == "问题" and len(t.columns) == 10
    ]
    assert len(tables) == 1
    row = [c.text for c in tables[0].rows[1].cells]
    assert row[0] == "人工接通率"
    assert row[5] == f"{rate('2026Q1') * 100:.1f}%" and row[6] == f"{rate('2026Q4') * 100:.1f}%"
    assert row[7] == "持平" and row[9] == f"{FLAG_NOT_IMPROVED}、{FLAG_OVERDUE}"  # 97.6% → 97.6%
    body = "\n".join(p.text for p in document.paragraphs)
    assert "本年度整改措施及成效" in body and "本年度共登记整改措施1项" in body
    paragraphs = [p.text for p in document.paragraphs]
    generated = next(i for i, t in enumerate(paragraphs) if t.startswith("本年度共登记整改措施"))
    assert paragraphs[generated + 1] == "弹性班组启用后，促销周高峰时段的排队投诉明显减少。"
    assert f"人工接通率与提出时（2026Q1）的{row[5]}持平" in paragraphs[generated]  # 97.6% both

    # the key metrics quarter by quarter, and the year's from the pooled records
    (by_part,) = [t for t in document.tables if t.rows[0].cells[0].text == "指标"
                  and [c.text for c in t.rows[0].cells][5:] == ["全年", "目标"]]  # fmt: skip
    assert [c.text for c in by_part.rows[0].cells][1:5] == [
        "第1季度",
        "第2季度",
        "第3季度",
        "第4季度",
    ]
    answer = next(r for r in by_part.rows if r.cells[0].text == "人工接通率")
    quarters = ("2026Q1", "2026Q2", "2026Q3", "2026Q4")
    assert [c.text for c in answer.cells[1:5]] == [f"{rate(q) * 100:.1f}%" for q in quarters]
    calls = pd.concat([pd.read_csv(data / q / "calls.csv", encoding="utf-8") for q in quarters])
    answered = (calls["outcome"] == "answered").sum()
    offered = answered + ((calls["outcome"] == "abandoned") & ~(calls["queue_seconds"] < 5)).sum()
    assert answer.cells[5].text == f"{answered / offered * 100:.1f}%"  # never a mean of quarters
    assert answer.cells[6].text == "≥95.0%"
    assert "本年度主要指标分季度走势" in body


def test_a_change_too_small_to_write_is_flat_and_not_an_improvement(tmp_path):
    config = load_config(_files(tmp_path, {"2026Q1": FILES["2026Q1"]}))

    def of(period: Period):
        value = {"2026Q1": 0.97551, "2026Q4": 0.97649}.get(str(period))
        return None if value is None else {"phone.answer_rate": Measure(value)}

    (row,) = effects(year_measures(config.params_path, YEAR), of, config.standards, YEAR)
    assert (row.before_text, row.after_text, row.change_text) == ("97.6%", "97.6%", "持平")
    assert row.improved is False and FLAG_NOT_IMPROVED in row.flags
    assert row.sentence == "人工接通率与提出时（2026Q1）的97.6%持平，达到目标"
