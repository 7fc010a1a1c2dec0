"""Files as analysts send them: every row accounted for, every file of the folder named.

An unclosed quote that swallows records stops the run; line numbers are the file's
physical lines; empty rows are not records; workbooks split over several sheets are
read whole (hidden sheets never silently); renamed files are named for what they are;
files that are not read are listed with why."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_params
from openpyxl import Workbook

from selfcheck.config import load_config
from selfcheck.errors import DataError
from selfcheck.ingest import DataStore, read_dataset
from selfcheck.ingest.records import UnusedFile
from selfcheck.period import Period
from selfcheck.quality import quality_path, record_quality
from selfcheck.schema import DATASETS

Q3 = Period.parse("2026Q3")
SURVEYS = DATASETS["surveys"]
CALLS = DATASETS["calls"]
CALLS_HEADER = (
    "call_id,arrived_at,outcome,ring_seconds,queue_seconds,talk_seconds,agent_id,customer_id"
)


def accounted(q) -> bool:
    """Every record read is kept or excluded under exactly one reason."""
    return q.rows_read == q.rows_kept + sum(q.excluded.values())


def read(path: Path, spec=SURVEYS, **kw):
    frame, q = read_dataset(path, spec, Q3, **kw)
    assert accounted(q), (q.rows_read, q.rows_kept, q.excluded)
    return frame, q


def error_of(path: Path, spec=SURVEYS, **kw) -> str:
    with pytest.raises(DataError) as e:
        read_dataset(path, spec, Q3, **kw)
    return str(e.value)


# -- 1. an unclosed quote -----------------------------------------------------------------


def surveys_with_open_quote(tmp_path: Path, n: int = 400, at: int = 101) -> Path:
    rows = [f"s{i:03d},2026-07-02 10:00,5,好,phone" for i in range(1, n + 1)]
    rows[at - 1] = f's{at:03d},2026-07-02 10:00,5,"服务很好,phone'  # the quote is never closed
    p = tmp_path / "surveys.csv"
    p.write_text("response_id,answered_at,overall,comment,channel\n" + "\n".join(rows) + "\n")
    return p


def test_unclosed_quote_that_swallows_records_stops_with_line_column_and_fix(tmp_path):
    msg = error_of(surveys_with_open_quote(tmp_path))
    # record 101 is on line 102 (the header is line 1); lines 103-401 (299) were swallowed
    assert "surveys.csv: 第 102 行“comment”列（第 4 列）有一个英文双引号没有闭合" in msg
    assert "其后的 299 行（第 103–401 行，其中 299 行本身就是完整的记录）" in msg
    assert "补上英文双引号" in msg and "写成两个" in msg
    assert "(unbalanced quote at line 102, column comment: the following 299 lines" in msg


def test_unclosed_quote_in_a_column_the_contract_does_not_know(tmp_path):
    rows = [f"s{i:03d},2026-07-02 10:00,5,备注{i}" for i in range(1, 11)]
    rows[4] = 's005,2026-07-02 10:00,5,"备注'
    p = tmp_path / "surveys.csv"
    p.write_text("response_id,answered_at,overall,内部备注\n" + "\n".join(rows) + "\n")
    msg = error_of(p)
    assert "第 6 行“内部备注”列（第 4 列）" in msg and "其后的 5 行（第 7–11 行" in msg


def test_a_quote_open_until_the_end_of_the_file_swallows_even_one_record(tmp_path):
    p = surveys_with_open_quote(tmp_path, n=400, at=399)
    msg = error_of(p)
    assert (
        "第 400 行“comment”列（第 4 列）有一个英文双引号没有闭合：其后的 1 行（第 401 行，其中 1 行本身就是完整的记录）"
        in msg
    )


def test_quoted_line_breaks_in_comments_are_still_one_value(tmp_path):
    p = tmp_path / "surveys.csv"
    p.write_text(
        "response_id,answered_at,overall,comment\n"
        's1,2026-07-02 10:00,5,"第一行\n第二行\n第三行，含逗号"\n'
        's2,2026-07-02 11:00,4,"两行\n""引号"""\n'
        "s3,2026-07-02 12:00,3,好\n",
        encoding="utf-8",
    )
    frame, q = read(p)
    assert frame["comment"].tolist() == ["第一行\n第二行\n第三行，含逗号", '两行\n"引号"', "好"]
    assert q.rows_read == 3 and q.rows_kept == 3 and q.excluded == {}


def test_a_comment_with_a_few_comma_lines_is_still_one_value(tmp_path):
    p = tmp_path / "surveys.csv"
    lines = ["a", "1,2,3,4", "b", "c", "5,6,7,8", "d"]  # 2 of 6 lines shaped like records
    comment = "\n".join(lines)
    p.write_text(
        "response_id,answered_at,overall,comment\n"
        f's1,2026-07-02 10:00,5,"{comment}"\n'
        "s2,2026-07-02 11:00,4,好\n",
        encoding="utf-8",
    )
    frame, q = read(p)
    assert frame["comment"].tolist() == [comment, "好"]
    assert q.rows_read == 2 and q.rows_kept == 2 and q.excluded == {}


# -- 4 and 5. physical lines, empty rows ---------------------------------------------------

PHYSICAL = [
    "response_id,answered_at,overall,comment",  # 1
    's1,2026-07-02 10:00,5,"第一行',  # 2
    '第二行"',  # 3
    "",  # 4  blank
    "s2,2026-07-02 10:00,5,好",  # 5
    "",  # 6  blank
    "s3,2026-07-02 10:00,很好,好",  # 7  overall not a number
    's4,2026-07-02 10:00,4,"多行',  # 8
    '""引号""',  # 9
    '结束"',  # 10
    "s5,2026-07-02 10:00,4",  # 11 too few fields
    "s6,2026-07-02 10:00,-,好",  # 12 overall empty
    ",,,",  # 13 Excel's empty rows
    ",,,",  # 14
]


@pytest.mark.parametrize(
    ("encoding", "delimiter", "newline"),
    [("utf-8", ",", "\n"), ("utf-8-sig", ";", "\r\n"), ("utf-16", "\t", "\r\n")],
)
def test_line_numbers_are_physical_after_quoted_line_breaks_and_blank_lines(
    tmp_path, encoding, delimiter, newline
):
    p = tmp_path / "surveys.csv"
    text = newline.join(line.replace(",", delimiter) for line in PHYSICAL) + newline
    p.write_bytes(text.encode(encoding))
    frame, q = read(p, max_bad_share=1)
    assert frame["response_id"].tolist() == ["s1", "s2", "s4"]
    comments = [c.replace(newline, "\n") for c in frame["comment"]]  # as in the file
    assert comments == ["第一行\n第二行", "好", '多行\n"引号"\n结束']
    assert q.rows_read == 6 and q.rows_kept == 3  # the four empty rows are not records
    assert q.excluded == {"列数与表头不符": 1, "overall 不是数字": 1, "overall 为空": 1}
    lines = {e.reason: e.line for e in q.examples}
    assert lines == {"列数与表头不符": 11, "overall 不是数字": 7, "overall 为空": 12}
    assert "忽略 4 个空行（空行不是记录，不计入读入行数）" in q.notes


def test_too_many_bad_rows_message_names_the_physical_lines(tmp_path):
    p = tmp_path / "surveys.csv"
    p.write_bytes(("\r\n".join(PHYSICAL) + "\r\n").encode("gbk"))  # GBK, CRLF
    msg = error_of(p)
    assert "3 / 6 行" in msg
    assert "第 11 行" in msg and "第 7 行 '很好'" in msg and "第 12 行 '-'" in msg


def test_excel_trailing_empty_rows_do_not_stop_the_run(tmp_path):
    # 32 records and 2 empty rows: counted as bad, 2/34 = 5.9 % would stop the run
    body = [f"c{i:05d},2026-07-02 10:00:00,answered,2,5,60,A1,K1" for i in range(32)]
    p = tmp_path / "calls.csv"
    p.write_text(CALLS_HEADER + "\n" + "\n".join(body) + "\n,,,,,,,\n,,,,,,,\n", encoding="utf-8")
    frame, q = read(p, CALLS)
    assert len(frame) == 32 and q.rows_read == 32 and q.excluded == {}
    assert "忽略 2 个空行（空行不是记录，不计入读入行数）" in q.notes


def test_a_row_with_only_an_unknown_column_filled_is_not_empty(tmp_path):
    p = tmp_path / "surveys.csv"
    p.write_text(
        "response_id,answered_at,overall,内部备注\n"
        "s1,2026-07-02 10:00,5,\n"
        ",,,只有备注\n"  # not an empty row: a record without its required values
        ",,,\n"
        "s2,2026-07-02 10:00,4,x\n",
        encoding="utf-8",
    )
    frame, q = read(p, max_bad_share=1)
    assert frame["response_id"].tolist() == ["s1", "s2"]
    assert q.rows_read == 3 and q.excluded == {"response_id 为空": 1}
    assert [e.line for e in q.examples] == [3]
    assert "忽略 1 个空行（空行不是记录，不计入读入行数）" in q.notes


def test_blank_lines_between_the_title_and_the_header(tmp_path):
    p = tmp_path / "surveys.csv"
    p.write_text(
        "2026年第三季度满意度调查\n\n"
        "response_id,answered_at,overall\n"
        "s1,2026-07-02 10:00,5\n\n"
        "s2,2026-07-02 10:00,x\n",
        encoding="utf-8",
    )
    _, q = read(p, max_bad_share=1)
    assert q.header_row == 3 and q.rows_read == 2
    assert [e.line for e in q.examples] == [6]


# -- 2. workbooks over several sheets --------------------------------------------------------


def calls_row(i: int, month: int, outcome: str = "answered") -> list:
    return [f"c{i:04d}", f"2026-{month:02d}-02 10:00:00", outcome, 2, 5, 60, "A1", "K1"]


def split_workbook(path: Path, *, hide: str | None = None, bad_at: int | None = None) -> Path:
    """``7月``: header on row 1, 3 records; ``8-9月``: a title, header on row 2, 11 records."""
    wb = Workbook()
    ws = wb.active
    ws.title = "7月"
    ws.append(CALLS_HEADER.split(","))
    for i in range(3):
        ws.append(calls_row(i, 7))
    ws2 = wb.create_sheet("8-9月")
    ws2.append(["2026年8-9月电话明细"])
    ws2.append([c.zh for c in CALLS.columns])  # the Chinese headers this time
    for i in range(3, 14):
        ws2.append(calls_row(i, 8, "HANG" if ws2.max_row + 1 == bad_at else "answered"))
    ws2.append([])
    if hide:
        wb[hide].sheet_state = "hidden"
    wb.save(path)
    return path


def test_every_sheet_with_the_header_is_read(tmp_path):
    p = split_workbook(tmp_path / "calls.xlsx")
    frame, q = read(p, CALLS)
    assert len(frame) == 14 and q.rows_read == 14 and q.rows_kept == 14
    assert frame["call_id"].tolist() == [f"c{i:04d}" for i in range(14)]
    assert q.sheet == "7月、8-9月" and q.header_row is None
    assert (
        "读取 2 个工作表（各自的表头）：“7月” 表头第 1 行，3 行、“8-9月” 表头第 2 行，11 行"
        in q.notes
    )
    assert "工作表“8-9月”：跳过表头上方 1 行标题" in q.notes


def test_examples_name_the_sheet_and_its_row(tmp_path):
    p = split_workbook(tmp_path / "calls.xlsx", bad_at=12)
    _, q = read(p, CALLS, max_bad_share=0.5)
    (e,) = q.examples
    assert (e.sheet, e.line, e.value) == (
        "8-9月",
        12,
        "HANG",
    ) and e.where == "工作表“8-9月”第 12 行"
    assert json.loads(json.dumps(q.to_dict()))["examples"][0]["sheet"] == "8-9月"
    msg = error_of(p, CALLS, min_bad_rows=1)  # 1 of 14 rows: above 5 % (no floor)
    assert "工作表“8-9月”第 12 行 'HANG'" in msg


def test_a_hidden_sheet_is_not_read_and_is_named(tmp_path):
    p = split_workbook(tmp_path / "calls.xlsx", hide="8-9月")
    frame, q = read(p, CALLS)
    assert len(frame) == 3 and q.sheet == "7月"
    assert "隐藏工作表“8-9月”未读取（其表头与本数据集相符；如需读取，请取消隐藏）" in q.notes


def test_data_only_on_hidden_sheets_is_an_error(tmp_path):
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["本文件由话务系统导出"])
    ws = wb.create_sheet("明细")
    ws.append(CALLS_HEADER.split(","))
    ws.append(calls_row(1, 7))
    ws.sheet_state = "hidden"
    wb.save(tmp_path / "calls.xlsx")
    msg = error_of(tmp_path / "calls.xlsx", CALLS)
    assert "本数据集的表头只在隐藏的工作表 “明细” 中" in msg
    assert "取消隐藏" in msg and "删除" in msg and "(the data is only on hidden sheets" in msg


def test_two_sheets_with_different_columns_are_an_error(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "明细"
    ws.append(CALLS_HEADER.split(","))
    ws.append(calls_row(1, 7))
    ws2 = wb.create_sheet("汇总")
    ws2.append(["call_id", "arrived_at", "agent_id", "talk_seconds"])  # no outcome
    ws2.append(["合计", "2026-07-31", "A1", 600])
    wb.save(tmp_path / "calls.xlsx")
    msg = error_of(tmp_path / "calls.xlsx", CALLS)
    assert "有 2 个可见工作表都像是本数据集，但列不一致" in msg
    assert "工作表“汇总”有 call_id、arrived_at、talk_seconds、agent_id，缺少必填列 outcome" in msg
    assert "(several sheets look like this dataset but their columns differ: 明细, 汇总)" in msg


# -- 6. renamed files ------------------------------------------------------------------------


def test_an_xlsx_renamed_to_csv(tmp_path):
    p = split_workbook(tmp_path / "calls.xlsx")
    p = p.rename(tmp_path / "calls.csv")
    msg = error_of(p, CALLS)
    assert "这其实是 Excel 文件（.xlsx），只是扩展名为 .csv：请把它改名为 calls.xlsx" in msg
    assert "(this is an Excel file: rename it to .xlsx)" in msg


def test_an_old_xls_renamed_to_csv(tmp_path):
    p = tmp_path / "calls.csv"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    msg = error_of(p, CALLS)
    assert "旧版 Excel 文件（.xls）" in msg and "另存为 .xlsx（calls.xlsx）" in msg
    assert "save it as .xlsx" in msg


def test_a_parquet_file_renamed_to_csv_or_xlsx(tmp_path):
    table = pa.table({"call_id": ["c1"], "arrived_at": ["2026-07-02 10:00"], "outcome": ["ivr"]})
    for name in ("calls.csv", "calls.xlsx"):
        pq.write_table(table, tmp_path / name)
        msg = error_of(tmp_path / name, CALLS)
        assert "这其实是 Parquet 文件" in msg and "改名为 calls.parquet" in msg
        (tmp_path / name).unlink()


def test_a_zip_archive_named_csv(tmp_path):
    with zipfile.ZipFile(tmp_path / "calls.csv", "w") as z:
        z.writestr("calls.csv", CALLS_HEADER)
    assert "ZIP 压缩文件" in error_of(tmp_path / "calls.csv", CALLS)


# -- 3. every file of the folder -------------------------------------------------------------


def folder_with_strays(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tickets.csv").write_text(
        "ticket_id,created_at,channel,level\nT1,2026-07-02 09:00,phone,L1\n", encoding="utf-8"
    )
    for name in ("tickets (1).csv", "calls.xls", "电话明细.xlsx", "readme.txt", "~$tickets.xlsx"):
        (folder / name).write_bytes(b"x")
    (folder / ".DS_Store").write_bytes(b"x")
    (folder / "旧数据").mkdir()
    return folder


def test_every_file_is_read_or_named_with_why(tmp_path):
    folder = folder_with_strays(tmp_path / "2026Q3")
    store = DataStore(lambda p: folder)
    assert set(store.validate(Q3)) == {"tickets"}
    unused = {u.name: u.reason for u in store.unused_files(Q3)}
    assert set(unused) == {
        ".DS_Store",
        "calls.xls",
        "readme.txt",
        "tickets (1).csv",
        "~$tickets.xlsx",
        "旧数据/",
        "电话明细.xlsx",
    }
    assert unused["tickets (1).csv"].startswith(
        "看起来是工单（tickets）数据，但文件名不是 tickets.csv；目录中已有 tickets.csv（已读取）"
    )
    assert unused["calls.xls"] == (
        "看起来是电话（calls）数据，但旧版 Excel 格式（.xls）不能读取：请用 Excel 打开后另存为 .xlsx"
        " (old Excel format: save as .xlsx)"
    )
    assert "请改名为 calls.xlsx" in unused["电话明细.xlsx"]
    assert unused["readme.txt"].startswith("不是数据集文件")
    assert "临时锁定文件" in unused["~$tickets.xlsx"] and "隐藏文件" in unused[".DS_Store"]
    assert unused["旧数据/"].startswith("文件夹")


def test_a_misnamed_copy_alone_says_rename_it(tmp_path):
    (tmp_path / "tickets (1).csv").write_text("ticket_id\n", encoding="utf-8")
    (tmp_path / "calls.csv").write_text(CALLS_HEADER + "\n", encoding="utf-8")
    (u,) = DataStore(lambda p: tmp_path).unused_files(Q3)
    assert u == UnusedFile(
        "tickets (1).csv",
        "看起来是工单（tickets）数据，但文件名不是数据集名：如需使用，请改名为 tickets.csv"
        " (looks like tickets, but not the exact name: rename it to tickets.csv)",
    )


def test_an_old_xls_next_to_the_xlsx_says_which_one_is_read(tmp_path):
    (tmp_path / "calls.xls").write_bytes(b"x")
    split_workbook(tmp_path / "calls.xlsx")
    (u,) = DataStore(lambda p: tmp_path).unused_files(Q3)
    assert u.name == "calls.xls" and u.reason.endswith(
        "；目录中已有 calls.xlsx（已读取），本文件未读取"
    )


def test_unused_files_are_in_the_quality_record(tmp_path):
    folder_with_strays(tmp_path / "data" / "2026Q3")
    config = load_config(write_params(tmp_path, tmp_path / "data"))
    record_quality(config)
    d = json.loads(quality_path(config).read_text(encoding="utf-8"))
    names = [u["name"] for u in d["unused_files"]]
    assert "calls.xls" in names and "tickets (1).csv" in names and "tickets.csv" not in names
    assert all(set(u) == {"name", "reason"} for u in d["unused_files"])


# -- 7. accounting ---------------------------------------------------------------------------


def test_accounting_holds_for_every_fixture(tmp_path):
    """rows_read = rows_kept + every excluded reason, for each file of this module."""
    cases = []
    p = tmp_path / "a" / "surveys.csv"
    p.parent.mkdir()
    p.write_text("\n".join(PHYSICAL) + "\n", encoding="utf-8")
    cases.append((p, SURVEYS))
    p = tmp_path / "b" / "calls.xlsx"
    p.parent.mkdir()
    cases.append((split_workbook(p, bad_at=12), CALLS))
    p = tmp_path / "c" / "calls.csv"
    p.parent.mkdir()
    body = [f"c{i:05d},2026-{7 + i % 4:02d}-02 10:00:00,answered,2,5,60,A1,K1" for i in range(20)]
    body[3] = "c00003,2026-07-02 10:00:00,answered,2,-5,60,A1,K1"  # negative
    body[4] = body[5]  # a duplicate id
    p.write_text(CALLS_HEADER + "\n" + "\n\n".join(body) + "\n,,,,,,,\n", encoding="utf-8")
    cases.append((p, CALLS))
    for path, spec in cases:
        _, q = read(path, spec, max_bad_share=1)
        assert q.rows_read == q.rows_kept + sum(q.excluded.values())
    assert q.rows_read == 20 and q.excluded == {
        "queue_seconds 为负数": 1,
        "call_id 重复": 1,
        "期间外": 4,  # the October rows
    }


def test_xlsx_empty_rows_are_not_records_and_rows_keep_their_numbers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(CALLS_HEADER.split(","))
    ws.append(calls_row(1, 7))
    ws.append(calls_row(2, 7))
    for col, value in enumerate(calls_row(3, 7, "HANG"), start=1):
        ws.cell(row=6, column=col, value=value)  # rows 4 and 5 left empty
    ws.cell(row=8, column=2).number_format = "yyyy-mm-dd"  # formatted, empty: not read
    ws.cell(row=8, column=3, value="")
    wb.save(tmp_path / "calls.xlsx")
    _, q = read(tmp_path / "calls.xlsx", CALLS, max_bad_share=1)
    assert q.rows_read == 3 and q.rows_kept == 2
    assert [(e.line, e.sheet, e.value) for e in q.examples] == [(6, None, "HANG")]
    assert "忽略 2 个空行（空行不是记录，不计入读入行数）" in q.notes  # rows 4 and 5
