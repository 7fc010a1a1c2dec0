"""``columns: <dataset>: combine:``: a date header and a time header read as one timestamp."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_params

from selfcheck.config import load_config
from selfcheck.errors import DataError, ParamsError
from selfcheck.ingest import DatasetMapping, DataStore, read_dataset
from selfcheck.period import Period
from selfcheck.schema import DATASETS

Q3 = Period.parse("2026Q3")
CALLS = DATASETS["calls"]
SPLIT = DatasetMapping(combine={"arrived_at": ("通话日期", "通话时间")})
T = pd.Timestamp


# -- the parameters file ----------------------------------------------------------------


def test_combine_in_the_parameters_file_reaches_the_mapping(tmp_path):
    config = load_config(
        write_params(
            tmp_path,
            tmp_path / "data",
            columns="{calls: {combine: {arrived_at: [通话日期, 通话时间]}, rename: {ID: call_id}}}",
        )
    )
    m = DatasetMapping.from_params(config.params.columns, "calls")
    assert m.combine == {"arrived_at": ("通话日期", "通话时间")} and m.rename == {"ID": "call_id"}
    assert '"combine": {"arrived_at": ["通话日期", "通话时间"]}' in m.key()
    assert DatasetMapping().key() == '{"rename": {}, "values": {}}'  # earlier cache keys hold


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("{calls: {combin: {arrived_at: [a, b]}}}", "columns.calls.combin: 未知的参数名"),
        (
            "{calls: {combine: {outcome: [a, b]}}}",
            "outcome 不是 calls 的时间列，可合并的列：arrived_at",
        ),
        ("{staff: {combine: {hired_on: [a, b]}}}", "可合并的列：（无）"),
        ("{calls: {combine: {arrived_at: [a, b, c]}}}", "须恰好列出两个不同的列名"),
        ("{calls: {combine: {arrived_at: [a]}}}", "须恰好列出两个不同的列名"),
        ("{calls: {combine: {arrived_at: [日期, ' 日期']}}}", "须恰好列出两个不同的列名"),
        ("{calls: {combine: {arrived_at: 日期}}}", "columns.calls.combine.arrived_at"),
        (
            "{calls: {rename: {来电: arrived_at}, combine: {arrived_at: [a, b]}}}",
            "arrived_at 已是 rename 的目标列",
        ),
        (
            "{calls: {rename: {a: call_id}, combine: {arrived_at: [a, b]}}}",
            "列名 'a' 已在 rename 中映射",
        ),
        (
            "{tickets: {combine: {created_at: [a, b], closed_at: [c, b]}}}",
            "列名 'b' 已用于 combine.created_at",
        ),
    ],
)
def test_combine_mistakes_are_errors_naming_the_key(tmp_path, columns, message):
    path = write_params(tmp_path, tmp_path / "data", columns=columns)
    with pytest.raises(ParamsError) as e:
        load_config(path)
    assert message in str(e.value) and str(path) in str(e.value)


# -- CSV ----------------------------------------------------------------------------------


def _csv(tmp_path, text: str):
    p = tmp_path / "calls.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_date_and_time_headers_make_the_timestamp(tmp_path):
    p = _csv(
        tmp_path,
        "通话编号,通话日期,通话时间,结果,通话时长\n"
        "c1,2026-07-01,08:15:00,answered,60\n"
        "c2,2026/7/2,8:15,answered,60\n"
        "c3,2026年7月3日,23:59:59.5,answered,60\n"
        "c4,2026-07-04 00:00:00,00:00,answered,60\n",
    )
    frame, q = read_dataset(p, CALLS, Q3, mapping=SPLIT)
    assert frame["arrived_at"].tolist() == [
        T("2026-07-01 08:15"),
        T("2026-07-02 08:15"),
        T("2026-07-03 23:59:59.5"),
        T("2026-07-04 00:00"),
    ]
    assert str(frame["arrived_at"].dtype) == "datetime64[ns]"
    assert q.columns_mapped["通话日期 + 通话时间"] == "arrived_at"
    assert "通话日期" not in q.ignored_columns and q.rows_bad == 0
    assert list(frame.columns) == ["call_id", "arrived_at", "outcome", "talk_seconds"]


def test_unreadable_or_half_empty_date_time_is_a_bad_row_of_the_column(tmp_path):
    good = "".join(f"c{i},2026-07-01,10:00,answered\n" for i in range(100))
    p = _csv(
        tmp_path,
        "通话编号,通话日期,通话时间,结果\n"
        + good
        + "x1,2026-07-01,25:00,answered\n"  # line 102
        + "x2,2026-07-01,,answered\n"
        + "x3,,10:00,answered\n"
        + "x4,2026-13-01,10:00,answered\n",
    )
    frame, q = read_dataset(p, CALLS, Q3, mapping=SPLIT)
    assert len(frame) == 100 and q.excluded == {"arrived_at 时间无法识别": 4}
    assert [(e.line, e.column, e.value) for e in q.examples] == [
        (102, "arrived_at", "2026-07-01 25:00"),
        (103, "arrived_at", "2026-07-01 （空）"),
        (104, "arrived_at", "（空） 10:00"),
        (105, "arrived_at", "2026-13-01 10:00"),
    ]


def test_both_parts_empty_is_an_empty_required_value(tmp_path):
    good = "".join(f"c{i},2026-07-01,10:00,answered\n" for i in range(40))
    p = _csv(tmp_path, "通话编号,通话日期,通话时间,结果\n" + good + "x,,,answered\n")
    _, q = read_dataset(p, CALLS, Q3, mapping=SPLIT)
    assert q.excluded == {"arrived_at 为空": 1}


def test_missing_combine_header_names_both(tmp_path):
    p = _csv(tmp_path, "通话编号,通话日期,结果\nc1,2026-07-01,answered\n")
    with pytest.raises(DataError) as e:
        read_dataset(p, CALLS, Q3, mapping=SPLIT)
    msg = str(e.value)
    assert "缺少必填列 arrived_at（来电时间）" in msg
    assert "或由 通话日期 + 通话时间 合并（文件中没有 通话时间）" in msg


def test_combine_headers_absent_but_the_usual_header_present(tmp_path):
    # a mapping written for another export version does no harm
    p = _csv(tmp_path, "通话编号,来电时间,结果\nc1,2026-07-01 10:00,answered\n")
    frame, _ = read_dataset(p, CALLS, Q3, mapping=SPLIT)
    assert frame["arrived_at"].tolist() == [T("2026-07-01 10:00")]


def test_combine_and_the_usual_header_both_present_is_a_column_twice(tmp_path):
    p = _csv(
        tmp_path,
        "通话编号,来电时间,通话日期,通话时间,结果\nc1,2026-07-01 10:00,2026-07-01,10:00,answered\n",
    )
    with pytest.raises(
        DataError, match="多列对应同一标准列：arrived_at（来电时间）出现在第 2、3、4 列"
    ):
        read_dataset(p, CALLS, Q3, mapping=SPLIT)


def test_combine_header_that_is_the_contract_header_of_the_target(tmp_path):
    # the export's 来电时间 holds only the time of day, 日期 the date
    mapping = DatasetMapping(combine={"arrived_at": ("日期", "来电时间")})
    p = _csv(tmp_path, "通话编号,日期,来电时间,结果\nc1,2026-07-01,10:00,answered\n")
    frame, _ = read_dataset(p, CALLS, Q3, mapping=mapping)
    assert frame["arrived_at"].tolist() == [T("2026-07-01 10:00")]


def test_optional_timestamp_combined_in_another_dataset(tmp_path):
    p = tmp_path / "tickets.csv"
    p.write_text(
        "ticket_id,created_at,channel,level,解决日期,解决时刻\n"
        "t1,2026-07-01 09:00,phone,L1,2026-07-01,17:30\n"
        "t2,2026-07-01 09:00,phone,L1,,\n",
        encoding="utf-8",
    )
    mapping = DatasetMapping(combine={"resolved_at": ("解决日期", "解决时刻")})
    frame, q = read_dataset(p, DATASETS["tickets"], Q3, mapping=mapping)
    assert frame["resolved_at"].tolist()[0] == T("2026-07-01 17:30")
    assert frame["resolved_at"].isna().tolist() == [False, True] and q.rows_bad == 0


# -- XLSX and Parquet -------------------------------------------------------------------


def test_xlsx_excel_date_and_time_cells_serials_and_fractions(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["2026年第三季度话单"])
    ws.append(["通话编号", "通话日期", "通话时间", "结果"])
    ws.append(["c1", dt.date(2026, 7, 1), dt.time(8, 15), "answered"])
    ws.append(["c2", dt.datetime(2026, 7, 2), dt.time(23, 59, 30), "answered"])
    ws.append(["c3", 46204, 0.34375, "answered"])  # cells that lost their format
    ws.append(["c4", "2026-07-05", "9:05", "answered"])  # text cells
    ws.append(["c5", dt.date(2026, 7, 6), 0.5, "answered"])
    for r in range(3, 8):
        ws.cell(r, 2).number_format = "yyyy-mm-dd"
    ws.cell(3, 3).number_format = "hh:mm"
    ws.cell(4, 3).number_format = "hh:mm:ss"
    ws.cell(5, 2).number_format = "General"
    path = tmp_path / "calls.xlsx"
    wb.save(path)
    frame, q = read_dataset(path, CALLS, Q3, mapping=SPLIT)
    # 46204 is 2026-07-01 (Excel serial), 0.34375 of a day is 08:15
    assert frame["arrived_at"].tolist() == [
        T("2026-07-01 08:15"),
        T("2026-07-02 23:59:30"),
        T("2026-07-01 08:15"),
        T("2026-07-05 09:05"),
        T("2026-07-06 12:00"),
    ]
    assert q.rows_bad == 0 and q.header_row == 2


def test_parquet_date_and_time_columns(tmp_path):
    table = pa.table(
        {
            "通话编号": ["c1", "c2"],
            "通话日期": pa.array([dt.date(2026, 7, 1), dt.date(2026, 7, 2)], pa.date32()),
            "通话时间": pa.array([dt.time(8, 15), dt.time(9, 30, 5)], pa.time64("us")),
            "结果": ["answered", "busy"],
        }
    )
    pq.write_table(table, tmp_path / "calls.parquet")
    frame, q = read_dataset(tmp_path / "calls.parquet", CALLS, Q3, mapping=SPLIT)
    assert frame["arrived_at"].tolist() == [T("2026-07-01 08:15"), T("2026-07-02 09:30:05")]
    assert q.rows_bad == 0


def test_combine_through_the_parameters_file_and_the_store(tmp_path):
    data = tmp_path / "data" / str(Q3)
    data.mkdir(parents=True)
    (data / "calls.csv").write_text(
        "通话编号,通话日期,通话时间,结果\nc1,2026-07-01,08:15,answered\n", encoding="utf-8"
    )
    path = write_params(
        tmp_path,
        tmp_path / "data",
        columns="{calls: {combine: {arrived_at: [通话日期, 通话时间]}}}",
    )
    store = DataStore(load_config(path))
    assert store.get("calls", Q3)["arrived_at"].tolist() == [T("2026-07-01 08:15")]


def test_the_documented_combine_example_is_valid(tmp_path):
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "ingest.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(columns:.*?)```", doc, re.S) if "combine" in b)
    path = write_params(tmp_path, tmp_path / "data")
    path.write_text(path.read_text(encoding="utf-8") + block, encoding="utf-8")
    columns = load_config(path).params.columns
    assert DatasetMapping.from_params(columns, "calls").combine == {
        "arrived_at": ("通话日期", "通话时间")
    }
    assert DatasetMapping.from_params(columns, "tickets").combine == {
        "resolved_at": ("解决日期", "解决时刻")
    }
