"""metrics.xlsx: opened with openpyxl, values and number formats as Excel shows them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from selfcheck.blocks import SectionResult
from selfcheck.exports import METRIC_COLUMNS, QUALITY_COLUMNS, workbook_key, write_metrics_xlsx
from selfcheck.ingest.records import OUTSIDE_PERIOD, TOTALS_ROW, DatasetQuality, UnusedFile
from selfcheck.metrics.base import Metric, Target

HEADERS = [c.header for c in METRIC_COLUMNS]


def _result() -> SectionResult:
    result = SectionResult(section_id="response", title="响应", order=4, period="2026Q3")
    result.metrics.extend(
        [
            # 912 of 1,000 answered: 91.2 %, target 90 %, last quarter 89.5 % → +1.7 points
            Metric("phone.answer_rate", "电话接通率", "rate", 0.912, 912, 1000, 1000,
                   target=Target(">=", 0.9), previous=0.895, year_ago=0.93,
                   sampled=False, ci_low=0.893, ci_high=0.928),
            Metric("phone.asa", "平均应答时长", "seconds", 18.25, n=912,
                   target=Target("<=", 20.0), previous=21.0),
            Metric("=x.formula", "=HYPERLINK(\"http://x\")", "count", 3.0, n=3),
            Metric("visits.wait", "现场平均等候时长", "minutes", None,
                   reason="未提供现场服务数据"),
            Metric("qa.score", "质检平均分", "score", 88.4, n=12, sampled=True,
                   small_sample=True, p_value=0.0312),
        ]
    )  # fmt: skip
    return result


def _quality() -> dict[str, DatasetQuality]:
    q = DatasetQuality(
        "calls", "calls.csv", "ab" * 32, rows_read=1010, rows_kept=1000,
        excluded={"坏日期": 4, OUTSIDE_PERIOD: 5, TOTALS_ROW: 1}, encoding="GBK",
        optional_columns_missing=["ring_seconds", "agent_id"],
    )  # fmt: skip
    return {"calls": q}


def _write(path, result=None, **kw):
    """The fixture's workbook at ``path``; ``kw`` overrides its arguments."""
    args = {
        "quality": _quality(),
        "unused": [UnusedFile("tickets (1).csv", "副本，未读取")],
        "created": date(2026, 10, 15),
        "title": "2026Q3 客户服务自查报告 指标",
    }
    return write_metrics_xlsx([result or _result()], path, **(args | kw))


@pytest.fixture
def workbook(tmp_path):
    return _write(tmp_path / "metrics.xlsx")


def _rows(ws):
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2)]


def test_metric_sheet_has_chinese_headers_frozen_and_filtered(workbook):
    wb = openpyxl.load_workbook(workbook)
    assert wb.sheetnames == ["指标", "数据质量", "未使用的文件"]
    ws = wb["指标"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:T6"
    # names readable without resizing (adjacent columns of one width are one <col> range)
    (name_width,) = [d.width for d in ws.column_dimensions.values() if d.min <= 2 <= d.max]
    assert name_width > 20
    assert wb.properties.created.date() == date(2026, 10, 15)


def test_rates_are_percentages_and_their_changes_points(workbook):
    rate = _rows(openpyxl.load_workbook(workbook)["指标"])[0]
    assert rate["指标编号"].value == "phone.answer_rate"
    assert rate["本期值"].value == pytest.approx(0.912)
    assert rate["本期值"].number_format == "0.0%"
    assert rate["目标"].value == pytest.approx(0.9) and rate["目标"].number_format == "0.0%"
    assert rate["比较"].value == ">=" and rate["达标情况"].value == "达标"
    # 91.2 % − 89.5 % = 1.7 points, stored as 1.7 and shown "+1.7 个百分点"
    assert rate["环比变化"].value == pytest.approx(1.7)
    assert rate["环比变化"].number_format.startswith('+0.0" 个百分点"')
    assert rate["同比变化"].value == pytest.approx(-1.8)
    assert (rate["分子"].value, rate["分母"].value, rate["样本量"].value) == (912, 1000, 1000)
    assert rate["分子"].number_format == "#,##0"
    assert rate["置信区间下限"].number_format == "0.0%"
    assert rate["单位"].value == "%"


def test_other_units_keep_the_reports_decimals_and_unit(workbook):
    rows = _rows(openpyxl.load_workbook(workbook)["指标"])
    asa, formula, missing, qa = rows[1:]
    assert asa["本期值"].value == 18.25 and asa["本期值"].number_format == '#,##0.0"秒"'
    assert asa["环比变化"].value == pytest.approx(-2.75)
    assert asa["环比变化"].number_format.startswith('+#,##0.0"秒"')
    assert asa["达标情况"].value == "达标"
    # a text that looks like a formula stays text
    assert formula["指标编号"].value == "=x.formula" and formula["指标编号"].data_type == "s"
    assert formula["指标名称"].data_type == "s"
    assert formula["本期值"].number_format == "#,##0"
    # no value: an empty cell, 无数据 and the reason
    assert missing["本期值"].value is None
    assert missing["达标情况"].value == "无数据"
    assert missing["无数据原因"].value == "未提供现场服务数据"
    assert qa["样本量不足"].value == "是" and qa["环比检验p值"].number_format == "0.000"
    assert qa["达标情况"].value == "无标准"


def test_quality_and_unused_sheets(workbook):
    wb = openpyxl.load_workbook(workbook)
    ws = wb["数据质量"]
    assert [c.value for c in ws[1]] == [c.header for c in QUALITY_COLUMNS]
    (row,) = _rows(ws)
    assert row["数据集"].value == "calls" and row["文件"].value == "calls.csv"
    assert row["读取方式"].value == "CSV，GBK"
    assert (row["读取行数"].value, row["保留行数"].value) == (1010, 1000)
    assert (row["错误行数"].value, row["期间外行数"].value, row["合计行"].value) == (4, 5, 1)
    assert "坏日期（4）" in row["排除原因（行数）"].value
    assert row["缺少的可选列"].value == "ring_seconds、agent_id"
    assert ws.freeze_panes == "A2"
    (unused,) = _rows(wb["未使用的文件"])
    assert (unused["文件"].value, unused["原因"].value) == ("tickets (1).csv", "副本，未读取")


def test_same_inputs_same_bytes(tmp_path, workbook):
    again = _write(tmp_path / "again.xlsx")  # written anew: no previous workbook
    assert again.read_bytes() == workbook.read_bytes()
    assert not list(tmp_path.glob("*.tmp.xlsx"))


def test_an_unchanged_workbook_is_copied_not_written_again(tmp_path, workbook, monkeypatch):
    import xlsxwriter

    def no_writing(*args, **kwargs):
        raise AssertionError("written again")

    monkeypatch.setattr(xlsxwriter, "Workbook", no_writing)
    again = _write(tmp_path / "again.xlsx", previous=workbook)
    assert again.read_bytes() == workbook.read_bytes()
    assert not list(tmp_path.glob("*.tmp.xlsx"))


def test_a_changed_row_or_date_writes_it_anew(tmp_path, workbook):
    key = workbook_key(workbook)
    assert key is not None and len(key) == 64
    changed = _result()
    changed.metrics[0] = Metric("phone.answer_rate", "电话接通率", "rate", 0.913, 913, 1000, 1000)
    path = _write(tmp_path / "changed.xlsx", changed, previous=workbook)
    assert workbook_key(path) not in (None, key)
    ws = openpyxl.load_workbook(path)["指标"]
    assert ws.cell(2, HEADERS.index("本期值") + 1).value == pytest.approx(0.913)
    other_date = _write(tmp_path / "date.xlsx", created=date(2026, 10, 16), previous=workbook)
    assert workbook_key(other_date) not in (None, key)


def test_a_previous_workbook_without_the_key_or_broken_is_not_used(tmp_path, workbook):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert workbook_key(broken) is None
    assert workbook_key(tmp_path / "missing.xlsx") is None
    again = _write(tmp_path / "again.xlsx", previous=broken)
    assert again.read_bytes() == workbook.read_bytes()


def test_new_decimals_for_a_unit_write_it_anew(tmp_path, workbook, monkeypatch):
    from selfcheck import fmt

    changed = tmp_path / "fmt.py"
    source = Path(fmt.__file__).read_text(encoding="utf-8")
    changed.write_text(source + "\n# another unit's places\n", encoding="utf-8")
    monkeypatch.setattr(fmt, "__file__", str(changed))
    again = _write(tmp_path / "again.xlsx", previous=workbook)
    assert workbook_key(again) not in (None, workbook_key(workbook))
