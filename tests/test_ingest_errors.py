"""One test per bad-input class: the analyst gets a DataError (Chinese, with the English
gist) that names the file and says how to fix it; bad rows below the threshold are
excluded and counted instead."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from conftest import write_params

from selfcheck.cli import main
from selfcheck.errors import DataError
from selfcheck.ingest import DatasetMapping, DataStore, read_dataset
from selfcheck.period import Period
from selfcheck.schema import DATASETS

Q3 = Period.parse("2026Q3")
CALLS = DATASETS["calls"]
HEADER = "call_id,arrived_at,outcome,ring_seconds,queue_seconds,talk_seconds,agent_id,customer_id\n"


def good(n: int, start: int = 0) -> list[str]:
    return [f"c{i:05d},2026-07-02 10:00:00,answered,2,5,60,A1,K1" for i in range(start, start + n)]


def write(tmp_path: Path, lines: list[str], name: str = "calls.csv", enc="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes((HEADER + "\n".join(lines) + "\n").encode(enc))
    return p


def error_of(path: Path, spec=CALLS, **kw) -> str:
    kw.setdefault("min_bad_rows", 1)  # tiny fixtures: no floor under max_bad_share
    with pytest.raises(DataError) as e:
        read_dataset(path, spec, Q3, **kw)
    return str(e.value)


# -- folder and file level ---------------------------------------------------------------


def test_data_folder_missing(tmp_path):
    with pytest.raises(DataError, match=r"数据目录不存在 \(data folder not found\).*data_dir"):
        DataStore(lambda p: tmp_path / str(p)).validate(Q3)


def test_no_dataset_at_all_names_stray_files(tmp_path):
    folder = tmp_path / "2026Q3"
    folder.mkdir()
    (folder / "电话明细.xlsx").write_bytes(b"x")
    with pytest.raises(DataError) as e:
        DataStore(lambda p: folder).validate(Q3)
    msg = str(e.value)
    assert "没有任何数据集文件 (no dataset found)" in msg
    assert "电话明细.xlsx" in msg and "calls.csv" in msg


def test_two_files_for_one_dataset(tmp_path):
    write(tmp_path, good(1))
    (tmp_path / "CALLS.xlsx").write_bytes(b"x")
    with pytest.raises(DataError, match=r"calls（电话）有多个文件：CALLS.xlsx、calls.csv"):
        DataStore(lambda p: tmp_path).validate(Q3)


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf\r\n  \r\n"])
def test_empty_file(tmp_path, content):
    p = tmp_path / "calls.csv"
    p.write_bytes(content)
    assert "文件为空 (empty file)" in error_of(p)


def test_header_only_file_is_an_empty_dataset(tmp_path):
    frame, q = read_dataset(write(tmp_path, []), CALLS, Q3)
    assert len(frame) == 0 and q.rows_read == 0 and q.empty_days == Q3.days


def test_unknown_delimiter_says_so(tmp_path):
    p = tmp_path / "calls.csv"
    p.write_text(HEADER.replace(",", "#") + "c1#2026-07-02 10:00:00#answered\n", encoding="utf-8")
    msg = error_of(p)
    assert "缺少必填列" in msg and "分隔符" in msg and "call_id#arrived_at" in msg


def test_undecodable_bytes_name_the_line(tmp_path):
    p = tmp_path / "calls.csv"
    p.write_bytes((HEADER + good(1)[0] + "\n").encode() + b"c2,\xff\xfe\xfa,answered\n")
    msg = error_of(p)
    assert "第 3 行有无法解码的字节" in msg and "UTF-8" in msg and "GBK" in msg
    assert "(undecodable bytes" in msg


def test_gbk_after_the_first_mebibyte_is_still_detected(tmp_path):
    lines = good(25_000)  # > 1 MiB of ASCII before the first Chinese character
    lines.append("c99999,2026-07-02 10:00:00,人工接听,2,5,60,张三,K1")
    p = write(tmp_path, lines, enc="gbk")
    assert p.stat().st_size > 1 << 20
    frame, q = read_dataset(p, CALLS, Q3)
    assert q.encoding == "GBK" and frame["agent_id"].iloc[-1] == "张三"
    assert frame["outcome"].iloc[-1] == "answered"


def test_undecodable_after_the_first_mebibyte(tmp_path):
    p = write(tmp_path, good(25_000))
    with p.open("ab") as f:
        f.write(b"c99999,2026-07-02 10:00:00,\x80\xff,2,5,60,A,K\n")
    assert "第 25002 行有无法解码的字节" in error_of(p)


def test_missing_required_column_shows_aliases_and_mapping_snippet(tmp_path):
    p = tmp_path / "calls.csv"
    p.write_text(
        "通话编号,来电时间,结果代码,振铃时长\nc1,2026-07-02 10:00:00,AGENT,3\n", encoding="utf-8"
    )
    msg = error_of(p, params="params/2026Q3.yaml")
    assert "缺少必填列 outcome（结果）" in msg and "missing required column(s): outcome" in msg
    assert "outcome 已尝试的列名 (aliases tried)：outcome、结果" in msg
    assert "'通话编号'、'来电时间'、'结果代码'" in msg
    assert "params/2026Q3.yaml" in msg
    assert "    columns:\n      calls:\n        rename:\n          结果代码: outcome" in msg


def test_column_twice(tmp_path):
    p = tmp_path / "calls.csv"
    p.write_text("call_id,通话编号,arrived_at,outcome\nc1,c1,2026-07-02 10:00,answered\n")
    assert "多列对应同一标准列：call_id（通话编号）出现在第 1、2 列" in error_of(p)


# -- bad rows: counted below the threshold, stop above it -------------------------------


BAD_ROWS = {
    "duplicate": ("c00001,2026-07-02 10:00:00,answered,2,5,60,A1,K1", "call_id 重复", "编号应唯一"),
    "timestamp": (
        "x,2026-13-02 10:00,answered,2,5,60,A1,K1",
        "arrived_at 时间无法识别",
        "YYYY-MM-DD",
    ),
    "negative": (
        "x,2026-07-02 10:00:00,answered,2,-5,60,A1,K1",
        "queue_seconds 为负数",
        "不能为负数",
    ),
    "enum": (
        "x,2026-07-02 10:00:00,HANG,2,5,60,A1,K1",
        "outcome 取值不在 answered/abandoned/ivr/busy 之内",
        "answered（人工接听）、abandoned（排队放弃）",
    ),
    "number": (
        "x,2026-07-02 10:00:00,answered,2,约5秒,60,A1,K1",
        "queue_seconds 不是数字",
        "只能填数字",
    ),
    "empty": ("x,,answered,2,5,60,A1,K1", "arrived_at 为空", "不能为空"),
    "width": ("x,2026-07-02 10:00:00,answered,2,5", "列数与表头不符", "分隔符和引号"),
}


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_bad_rows_counted_with_line(tmp_path, kind):
    line, reason, _ = BAD_ROWS[kind]
    p = write(tmp_path, [*good(99), line])
    frame, q = read_dataset(p, CALLS, Q3)
    assert len(frame) == 99 and q.rows_read == 100
    assert q.excluded == {reason: 1}
    assert [(e.line, e.reason) for e in q.examples] == [(101, reason)]


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_too_many_bad_rows_stop_with_file_column_examples_and_fix(tmp_path, kind):
    line, reason, fix = BAD_ROWS[kind]
    p = write(tmp_path, [*good(9), line.replace("x,", "y1,"), line.replace("x,", "y2,")])
    msg = error_of(p)
    assert str(p) in msg and "18.2% 的行有问题（2 / 11 行）" in msg and "max_bad_share" in msg
    assert "第 11 行" in msg and fix in msg
    if kind != "width":
        assert reason.split()[0] in msg  # the column


def test_unknown_enum_message_lists_allowed_values_and_a_mapping(tmp_path):
    lines = [*good(5), *[f"h{i},2026-07-02 10:00:00,HANG,2,5,60,A,K" for i in range(3)]]
    msg = error_of(write(tmp_path, lines))
    assert "未知取值 (unknown values)：HANG" in msg
    assert "busy（忙音/未接入）" in msg
    assert (
        "          outcome:\n            HANG: answered  # 改为 answered/abandoned/ivr/busy 之一"
        in msg
    )


def test_max_bad_share_is_a_parameter(tmp_path):
    p = write(tmp_path, [*good(9), "c00001,2026-07-02 10:00:00,answered,2,5,60,A1,K1"])
    with pytest.raises(DataError):
        read_dataset(p, CALLS, Q3, max_bad_share=0.05, min_bad_rows=1)
    frame, q = read_dataset(p, CALLS, Q3, max_bad_share=0.2)
    assert len(frame) == 9 and q.rows_bad == 1


def test_vendor_code_mapped_is_not_an_unknown_enum(tmp_path):
    p = write(tmp_path, [*good(3), "h1,2026-07-02 10:00:00,HANG,2,5,60,A,K"])
    frame, q = read_dataset(
        p, CALLS, Q3, mapping=DatasetMapping(values={"outcome": {"HANG": "abandoned"}})
    )
    assert frame["outcome"].tolist()[-1] == "abandoned" and q.values_mapped == {"outcome": 1}


# -- xlsx ----------------------------------------------------------------------------------


def _xlsx(path: Path, build) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    build(wb.active)
    wb.save(path)
    return path


def test_xlsx_merged_title_cells_are_skipped(tmp_path):
    def build(ws):
        ws.append(["电话明细"])
        ws.append([None])
        ws.append(["通话编号", "来电时间", "结果"])
        ws.append(["c1", "2026-07-02 10:00:00", "人工接听"])
        ws.merge_cells("A1:C2")

    frame, q = read_dataset(_xlsx(tmp_path / "calls.xlsx", build), CALLS, Q3)
    assert frame["outcome"].tolist() == ["answered"] and q.header_row == 3
    assert q.notes == ["跳过表头上方 2 行标题（含合并单元格 A1:C2）"]


def test_xlsx_merged_header_cells_are_an_error(tmp_path):
    def build(ws):
        ws.append(["通话编号", "来电时间", None, "结果"])
        ws.merge_cells("B1:C1")
        ws.append(["c1", "2026-07-02", "10:00:00", "answered"])

    msg = error_of(_xlsx(tmp_path / "calls.xlsx", build))
    assert "表头中有合并单元格 B1:C1" in msg and "取消合并" in msg and "(merged cells" in msg


def test_xlsx_without_a_header_row(tmp_path):
    def build(ws):
        ws["A1"] = "电话明细（无表头）"
        ws.merge_cells("A1:D1")
        ws.append(["c1", "2026-07-02 10:00:00", "answered"])

    msg = error_of(_xlsx(tmp_path / "calls.xlsx", build))
    assert "缺少必填列 call_id（通话编号）、arrived_at（来电时间）、outcome（结果）" in msg
    assert "工作表“Sheet”" in msg


def test_corrupt_xlsx(tmp_path):
    p = tmp_path / "calls.xlsx"
    p.write_text("call_id,arrived_at\n", encoding="utf-8")  # a CSV renamed to .xlsx
    msg = error_of(p)
    assert "无法读取 Excel 文件" in msg and "另存为 .xlsx" in msg and "(unreadable xlsx)" in msg
    with zipfile.ZipFile(p, "w") as z:  # a zip, but no workbook inside
        z.writestr("hello.txt", "x")
    assert "无法读取 Excel 文件" in error_of(p)


def test_corrupt_parquet(tmp_path):
    p = tmp_path / "calls.parquet"
    p.write_bytes(b"PAR1 this is not parquet PAR1")
    assert "无法读取 Parquet 文件" in error_of(p)


# -- the command line: a message and an exit code, no traceback ----------------------------


def test_validate_command_prints_the_message_without_traceback(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "2026Q3").mkdir(parents=True)
    write(
        data / "2026Q3",
        [*good(2), *[f"x{i},2026-07-02 10:00:00,HANG,2,5,60,A,K" for i in range(3)]],
    )
    params = write_params(tmp_path / "params", data)
    assert main(["validate", str(params)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("错误：") and "Traceback" not in err
    assert "outcome" in err and "HANG" in err and str(params) in err


def test_odd_numbers_are_bad_rows_not_crashes(tmp_path):
    lines = [
        *good(20),
        "n1,2026-07-02 10:00:00,answered,2,1e999,60,A,K",  # not finite
        "n2,2026-07-02 10:00:00,answered,2,5,1.2.3,A,K",
        "n3,2026-07-02 10:00:00,answered,2,５,1,234,A,K",  # one field too many
    ]
    frame, q = read_dataset(write(tmp_path, lines), CALLS, Q3, max_bad_share=0.5)
    assert len(frame) == 20
    assert q.excluded == {
        "列数与表头不符": 1,
        "queue_seconds 不是数字": 1,
        "talk_seconds 不是数字": 1,
    }
