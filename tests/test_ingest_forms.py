"""Messy but valid forms of the sample data read back EQUAL to the canonical CSV.

Each test takes one dataset of the small sample quarter, writes it the way real
exports look (GBK with Chinese headers, GB18030, BOM, xlsx with title rows and
Excel date cells, vendor codes, full-width digits, 年月日 timestamps, other
delimiters, Parquet) and checks that the validated frame equals the one read from
the canonical CSV, column types included.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from selfcheck.ingest import DatasetMapping, read_dataset
from selfcheck.period import Period
from selfcheck.sample import generate
from selfcheck.schema import DATASETS

Q3 = Period.parse("2026Q3")
FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    generate(Q3, root, scale="small", history=0)
    return root / str(Q3)


def canonical(sample: Path, name: str) -> pd.DataFrame:
    frame, q = read_dataset(sample / f"{name}.csv", DATASETS[name], Q3)
    assert q.rows_kept > 0 and q.encoding == "UTF-8" and q.header_row == 1
    return frame


def rows(sample: Path, name: str, limit: int | None = None) -> list[dict]:
    """The canonical file's cells as text (None for empty)."""
    spec = DATASETS[name]
    table = pacsv.read_csv(
        sample / f"{name}.csv",
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(spec.names, pa.string()), strings_can_be_null=True
        ),
    )
    return table.slice(0, limit).to_pylist() if limit else table.to_pylist()


def write_csv(path: Path, header: list[str], body: list[list], *, encoding: str, **kw) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, **kw)
        w.writerow(header)
        w.writerows([["" if v is None else v for v in r] for r in body])
    return path


def check_equal(sample: Path, name: str, path: Path, mapping=None, limit=None):
    expected = canonical(sample, name)
    if limit is not None:
        expected = expected.iloc[:limit].reset_index(drop=True)
    got, quality = read_dataset(path, DATASETS[name], Q3, mapping=mapping)
    pd.testing.assert_frame_equal(got, expected)
    assert quality.excluded.get("期间外", 0) == 0 and quality.rows_bad == 0
    return quality


def test_gbk_csv_with_chinese_headers(sample, tmp_path):
    spec = DATASETS["tickets"]
    body = [[r[c] for c in spec.names] for r in rows(sample, "tickets")]
    path = write_csv(tmp_path / "tickets.csv", [c.zh for c in spec.columns], body, encoding="gbk")
    q = check_equal(sample, "tickets", path)
    assert q.encoding == "GBK"
    assert q.columns_mapped["受理时间"] == "created_at"


def test_gb18030_csv_with_characters_outside_gbk(sample, tmp_path):
    spec = DATASETS["surveys"]
    body = [[r[c] for c in spec.names] for r in rows(sample, "surveys")]
    assert any("😊" in (r[-1] or "") for r in body)  # an emoji: GB18030, not GBK
    path = write_csv(tmp_path / "surveys.csv", list(spec.names), body, encoding="gb18030")
    assert check_equal(sample, "surveys", path).encoding == "GB18030"


def test_utf8_with_bom_and_crlf(sample, tmp_path):
    spec = DATASETS["chats"]
    body = [[r[c] for c in spec.names] for r in rows(sample, "chats")]
    path = write_csv(
        tmp_path / "chats.csv", list(spec.names), body, encoding="utf-8-sig", lineterminator="\r\n"
    )
    assert check_equal(sample, "chats", path).encoding == "UTF-8 (BOM)"


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_other_delimiters_are_detected(sample, tmp_path, delimiter):
    spec = DATASETS["complaints"]
    body = [[r[c] for c in spec.names] for r in rows(sample, "complaints")]
    path = write_csv(
        tmp_path / "complaints.csv", list(spec.names), body, encoding="utf-8", delimiter=delimiter
    )
    q = check_equal(sample, "complaints", path)
    assert q.delimiter == delimiter and "分隔符" in q.notes[-1]


def test_csv_with_title_lines_and_padded_values(sample, tmp_path):
    spec = DATASETS["qa_reviews"]
    body = [
        [None if r[c] is None else f" {r[c]}\u3000" for c in spec.names]
        for r in rows(sample, "qa_reviews")
    ]
    path = tmp_path / "qa_reviews.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("2026年第三季度质检明细,,\n导出人：张三\n\n")
        csv.writer(f).writerows([[f" {c.zh} " for c in spec.columns], *body])
    q = check_equal(sample, "qa_reviews", path)
    assert q.header_row == 4 and "跳过表头上方 3 行标题" in q.notes


def test_xlsx_with_title_rows_merged_title_and_excel_dates(sample, tmp_path):
    from openpyxl import Workbook

    spec = DATASETS["visits"]
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["本文件由工单系统导出"])
    ws = wb.create_sheet("现场服务")
    ws.append(["2026年第三季度现场服务明细"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(spec.columns))
    ws.append(["导出时间", dt.datetime(2026, 10, 1, 8, 0)])
    ws.append([c.zh for c in spec.columns])
    for r in rows(sample, "visits"):
        cells = []
        for c in spec.columns:
            v = r[c.name]
            if v is None:
                cells.append(None)
            elif c.type == "datetime":
                cells.append(dt.datetime.fromisoformat(v))  # a real Excel date cell
            elif c.type == "int":
                cells.append(int(v))  # a number cell (calamine gives 3.0)
            elif c.type == "bool":
                cells.append("是" if v == "true" else "否")
            else:
                cells.append(v)
        ws.append(cells)
    ws.append([])  # trailing empty rows are not records
    path = tmp_path / "visits.xlsx"
    wb.save(path)
    q = check_equal(sample, "visits", path)
    assert q.format == "XLSX" and q.sheet == "现场服务" and q.header_row == 3
    assert any("合并单元格 A1:P1" in n for n in q.notes)


def test_xlsx_number_cells_in_text_columns_and_date_serials(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["工号", "岗位类别", "入职日期", "服务语种数", "持证上岗"])
    ws.append([1001, "一线", dt.date(2020, 3, 2), 2, True])
    ws.append([1002, "管理", 43892, 1.0, False])  # a date cell that lost its format
    path = tmp_path / "staff.xlsx"
    wb.save(path)
    frame, _ = read_dataset(path, DATASETS["staff"], Q3)
    assert frame["agent_id"].tolist() == ["1001", "1002"]
    assert frame["role"].tolist() == ["frontline", "manager"]  # the contract's Chinese labels
    assert frame["hired_on"].tolist() == [pd.Timestamp("2020-03-02")] * 2
    assert frame["languages"].tolist() == [2, 1] and str(frame["languages"].dtype) == "Int64"
    assert frame["certified"].tolist() == [True, False]


def test_renamed_headers_and_vendor_codes_via_mapping(sample, tmp_path):
    spec = DATASETS["calls"]
    codes = {"answered": "AGENT", "abandoned": "HANG", "ivr": "IVR_END", "busy": "BUSY"}
    vendor = [
        "通话ID",
        "呼入时间",
        "结果代码",
        "振铃秒数",
        "排队秒数",
        "通话秒数",
        "工号",
        "客户号",
    ]
    body = [
        [codes[r[c]] if c == "outcome" else r[c] for c in spec.names] for r in rows(sample, "calls")
    ]
    path = write_csv(tmp_path / "calls.csv", vendor, body, encoding="utf-8")
    mapping = DatasetMapping(
        rename=dict(zip(vendor, spec.names, strict=True)),
        values={"outcome": {v: k for k, v in codes.items()}},
    )
    q = check_equal(sample, "calls", path, mapping=mapping)
    assert q.columns_mapped["结果代码"] == "outcome"
    assert q.values_mapped["outcome"] == q.rows_read


def test_full_width_digits_thousands_separators_and_chinese_timestamps(sample, tmp_path):
    spec = DATASETS["calls"]
    body = []
    for i, r in enumerate(rows(sample, "calls")):
        out = []
        for c in spec.columns:
            v = r[c.name]
            if v is not None and c.type == "number":
                x = float(v)
                v = f"{x:,.0f}" if x >= 1000 and x.is_integer() else v
                v = v.translate(FULL_WIDTH) if i % 3 == 0 else v
            elif v is not None and c.type == "datetime":
                t = dt.datetime.fromisoformat(v)
                v = f"{t.year}年{t.month}月{t.day}日 {t.hour}:{t:%M:%S}"
                v = v.translate(FULL_WIDTH) if i % 5 == 0 else v
            out.append(v)
        body.append(out)
    assert any("," in (v or "") for r in body for v in r[3:6])
    path = write_csv(tmp_path / "calls.csv", [c.zh for c in spec.columns], body, encoding="gbk")
    check_equal(sample, "calls", path)


def test_slash_and_minute_timestamps_and_boolean_forms(tmp_path):
    p = tmp_path / "chats.csv"
    p.write_text(
        "会话编号,发起时间,首次人工回复时间,机器人解决,非工作时间标注\n"
        "s1,2026/7/1 9:05,2026/07/01 09:06:30,是,有\n"
        "s2,2026年7月2日 10:00,2026年7月2日10:01:05,否,无\n"
        "s3,2026-07-03 08:00, 2026-07-03 08:00 ,YES,n\n"
        "s4,2026-07-04T08:00:00,,1,False\n",
        encoding="utf-8",
    )
    frame, q = read_dataset(p, DATASETS["chats"], Q3)
    assert frame["started_at"].tolist() == [
        pd.Timestamp("2026-07-01 09:05"),
        pd.Timestamp("2026-07-02 10:00"),
        pd.Timestamp("2026-07-03 08:00"),
        pd.Timestamp("2026-07-04 08:00"),
    ]
    assert frame["first_reply_at"].tolist()[:3] == [
        pd.Timestamp("2026-07-01 09:06:30"),
        pd.Timestamp("2026-07-02 10:01:05"),
        pd.Timestamp("2026-07-03 08:00"),
    ]
    assert frame["bot_only"].tolist() == [True, False, True, True]
    assert frame["off_hours_notice"].tolist() == [True, False, False, False]
    assert q.rows_bad == 0


def test_parquet_input_with_chinese_column_names(sample, tmp_path):
    expected = canonical(sample, "tickets")
    spec = DATASETS["tickets"]
    table = pa.Table.from_pandas(expected, preserve_index=False)
    table = table.rename_columns([spec.column(c).zh for c in table.column_names])
    pq.write_table(table, tmp_path / "tickets.parquet")
    got, q = read_dataset(tmp_path / "tickets.parquet", spec, Q3)
    pd.testing.assert_frame_equal(got, expected)
    assert q.format == "Parquet"


def test_parquet_typed_columns_are_converted(tmp_path):
    table = pa.table(
        {
            "故障编号": pa.array(["i1", "i2"]).dictionary_encode(),
            "started_at": pa.array(
                [dt.datetime(2026, 7, 1, 2), dt.datetime(2026, 7, 2, 3)],
                pa.timestamp("us", tz="UTC"),
            ),
            "resolved_at": pa.array([dt.date(2026, 7, 2), None], pa.date32()),
            "severity": ["重大", "minor"],
            "service_interrupted": pa.array([1, 0], pa.int8()),
        }
    )
    pq.write_table(table, tmp_path / "incidents.parquet")
    frame, q = read_dataset(tmp_path / "incidents.parquet", DATASETS["incidents"], Q3)
    assert frame["started_at"].tolist() == [  # UTC → the organisation's wall clock
        pd.Timestamp("2026-07-01 10:00"),
        pd.Timestamp("2026-07-02 11:00"),
    ]
    assert frame["resolved_at"].iloc[0] == pd.Timestamp("2026-07-02")
    assert frame["severity"].tolist() == ["major", "minor"]
    assert frame["service_interrupted"].tolist() == [True, False]
    assert str(frame["service_interrupted"].dtype) == "boolean" and q.rows_bad == 0


def test_quoted_values_with_line_breaks(tmp_path):
    p = tmp_path / "surveys.csv"
    p.write_text(
        "response_id,answered_at,overall,comment\n"
        'r1,2026-07-01 10:00,5,"第一行\n第二行，含逗号和""引号"""\n'
        "r2,2026-07-01 11:00,4,好\n",
        encoding="utf-8",
    )
    frame, q = read_dataset(p, DATASETS["surveys"], Q3)
    assert frame["comment"].tolist() == ['第一行\n第二行，含逗号和"引号"', "好"]
    assert q.rows_read == 2 and q.rows_bad == 0


def test_excel_unicode_text_utf16_tab_separated(sample, tmp_path):
    spec = DATASETS["incidents"]
    body = [[r[c] for c in spec.names] for r in rows(sample, "incidents")]
    path = write_csv(
        tmp_path / "incidents.csv",
        [c.zh for c in spec.columns],
        body,
        encoding="utf-16",
        delimiter="\t",
        lineterminator="\r\n",
    )
    q = check_equal(sample, "incidents", path)
    assert (q.encoding, q.delimiter) == ("UTF-16", "\t")
