"""A corpus of damaged and unusual exports, one case per class of bad input.

Every case is a data folder (files as bytes) with what it must give: either a clear
error (exit code and words the message must hold: the file, what is wrong), or a
validated period whose accounting is known by construction — per dataset, the
records the file holds, how many are kept, and the rows excluded per reason (a
substring of the reason) with the physical lines of the examples.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

CASES: dict[str, Case] = {}


@dataclass
class Expect:
    records: int  # records in the file (empty rows are not records)
    kept: int
    reasons: dict[str, int] = field(default_factory=dict)  # reason substring → rows excluded
    lines: dict[str, list[int]] = field(default_factory=dict)  # reason substring → example lines
    notes: list[str] = field(default_factory=list)  # substrings of the quality notes


@dataclass
class Case:
    name: str
    files: dict[str, bytes]
    datasets: dict[str, Expect] = field(default_factory=dict)  # empty: an error is expected
    error: list[str] = field(default_factory=list)  # substrings of the message
    exit_code: int = 0
    params: dict[str, str] = field(default_factory=dict)  # extra top-level YAML lines
    unused: list[str] = field(default_factory=list)  # files named as not used
    check: Callable[[dict], None] | None = None  # more checks on the frames (dataset → frame)


def case(fn: Callable[[], Case]) -> Callable[[], Case]:
    c = fn()
    CASES[c.name] = c
    return fn


# -- rows ------------------------------------------------------------------------------

CALLS_H = "call_id,arrived_at,outcome,ring_seconds,queue_seconds,talk_seconds,agent_id"
TICKETS_H = "ticket_id,created_at,channel,level,first_response_at,resolved_at,team"
CHATS_H = "session_id,started_at,first_reply_at,bot_only"
VISITS_H = "visit_id,reported_at,kind,area,arrived_at,nodes_total,nodes_done"
COMPLAINTS_H = "complaint_id,received_at,type,resolved_at"
SURVEYS_H = "response_id,answered_at,overall,nps,comment"
STAFF_H = "agent_id,role,team,hired_on,left_on"
TRAINING_H = "session_id,date,topic,hours,agent_id"
QA_H = "review_id,reviewed_at,agent_id,professionalism,compliance,experience"
INCIDENTS_H = "incident_id,started_at,resolved_at,system,severity"


def calls(n: int, start: int = 0, day: str = "2026-07-02") -> list[str]:
    return [
        f"c{i:05d},{day} 10:{i % 60:02d}:00,answered,2,5,60,A1" for i in range(start, start + n)
    ]


def tickets(n: int, start: int = 0) -> list[str]:
    return [
        f"t{i:05d},2026-07-03 09:00:00,phone,L1,2026-07-03 09:10:00,2026-07-03 10:00:00,一组"
        for i in range(start, start + n)
    ]


def chats(n: int, start: int = 0) -> list[str]:
    return [
        f"s{i:05d},2026-07-06 10:00:00,2026-07-06 10:01:00,false" for i in range(start, start + n)
    ]


def visits(n: int, start: int = 0) -> list[str]:
    return [
        f"v{i:05d},2026-07-07 08:00:00,regular,core,2026-07-07 09:00:00,4,4"
        for i in range(start, start + n)
    ]


def complaints(n: int, start: int = 0, kind: str = "服务流程") -> list[str]:
    return [
        f"k{i:05d},2026-08-03 11:00:00,{kind},2026-08-04 11:00:00" for i in range(start, start + n)
    ]


def surveys(n: int, start: int = 0) -> list[str]:
    return [f"r{i:05d},2026-08-05 12:00:00,4,9,满意" for i in range(start, start + n)]


def staff(n: int, start: int = 0) -> list[str]:
    return [f"A{i:03d},frontline,一组,2024-03-01," for i in range(start, start + n)]


def training(n: int, start: int = 0) -> list[str]:
    return [f"T{i // 10:02d},2026-08-10,服务规范,2,A{i:03d}" for i in range(start, start + n)]


def qa(n: int, start: int = 0) -> list[str]:
    return [f"q{i:05d},2026-09-01 15:00:00,A001,90,85,88" for i in range(start, start + n)]


def incidents(n: int, start: int = 0) -> list[str]:
    return [
        f"i{i:03d},2026-09-0{1 + i % 9} 02:00:00,2026-09-0{1 + i % 9} 03:00:00,CRM,minor"
        for i in range(start, start + n)
    ]


def csv_bytes(header: str, rows: list[str], *, enc: str = "utf-8", eol: str = "\n") -> bytes:
    return (eol.join([header, *rows]) + eol).encode(enc)


def xlsx_bytes(sheets: list[tuple[str, list[list], bool]], *, formats: dict | None = None) -> bytes:
    """Sheets as (name, rows, hidden); ``formats``: column letter → number format."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows, hidden in sheets:
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        if hidden:
            ws.sheet_state = "hidden"
        for letter, fmt in (formats or {}).items():
            for cell in ws[letter][1:]:
                cell.number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def split(rows: list[str]) -> list[list]:
    return [r.split(",") for r in rows]


# -- silent loss of rows -----------------------------------------------------------------


@case
def unbalanced_quote() -> Case:
    rows = surveys(400)
    rows[100] = 'r00100,2026-08-05 12:00:00,4,9,"态度很好，但是等了很久'  # never closed
    return Case(
        "unbalanced_quote",
        {"surveys.csv": csv_bytes(SURVEYS_H, rows)},
        error=["surveys.csv", "102", "引号"],
        exit_code=3,
    )


@case
def quoted_line_breaks_and_blank_lines() -> Case:
    rows = surveys(20)
    rows[3] = 'r00003,2026-08-05 12:00:00,4,9,"第一行\n第二行\n第三行"'  # lines 5-7
    rows[10] = (
        "r00010,2026-08-05 12:00:00,4,99,差"  # nps 99: physical line 16 (two breaks, two blank lines)
    )
    text = [SURVEYS_H, *rows[:8], "", "", *rows[8:]]  # two blank lines after line 11
    body = ("\n".join(text) + "\n").encode("utf-8")
    return Case(
        "quoted_line_breaks_and_blank_lines",
        {"surveys.csv": body},
        {"surveys": Expect(20, 19, {"nps": 1}, {"nps": [16]})},
    )


@case
def crlf_quoted_breaks() -> Case:
    rows = surveys(10)
    rows[1] = 'r00001,2026-08-05 12:00:00,4,9,"一\r\n二"'
    rows[5] = "r00005,2026-13-05 12:00:00,4,9,好"  # bad date, physical line 8
    return Case(
        "crlf_quoted_breaks",
        {"surveys.csv": csv_bytes(SURVEYS_H, rows, eol="\r\n")},
        {"surveys": Expect(10, 9, {"answered_at": 1}, {"answered_at": [8]})},
    )


@case
def two_sheets() -> Case:
    head = CALLS_H.split(",")
    july = split(calls(30, 0, "2026-07-15"))
    later = split(calls(45, 30, "2026-08-20"))
    data = xlsx_bytes([("7月", [head, *july], False), ("8-9月", [head, *later], False)])
    return Case("two_sheets", {"calls.xlsx": data}, {"calls": Expect(75, 75, notes=["8-9月"])})


@case
def hidden_sheet_with_last_quarter() -> Case:
    head = CALLS_H.split(",")
    old = split(calls(40, 0, "2026-05-10"))
    now = split(calls(25, 100, "2026-07-10"))
    data = xlsx_bytes([("上季度", [head, *old], True), ("本季度", [head, *now], False)])
    return Case(
        "hidden_sheet_with_last_quarter",
        {"calls.xlsx": data},
        {"calls": Expect(25, 25, notes=["上季度"])},
    )


@case
def only_a_hidden_sheet() -> Case:
    head = CALLS_H.split(",")
    data = xlsx_bytes([("说明", [["导出说明"]], False), ("明细", [head, *split(calls(5))], True)])
    return Case(
        "only_a_hidden_sheet", {"calls.xlsx": data}, error=["calls.xlsx", "隐藏"], exit_code=3
    )


# -- files in the folder -----------------------------------------------------------------


@case
def misnamed_copy() -> Case:
    return Case(
        "misnamed_copy",
        {
            "calls.csv": csv_bytes(CALLS_H, calls(10)),
            "tickets (1).csv": csv_bytes(TICKETS_H, tickets(5)),
            "readme.txt": "说明".encode(),
        },
        {"calls": Expect(10, 10)},
        unused=["tickets (1).csv", "readme.txt"],
    )


@case
def old_xls_only() -> Case:
    ole = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504
    return Case("old_xls_only", {"calls.xls": ole}, error=["calls.xls"], exit_code=3)


@case
def xlsx_renamed_csv() -> Case:
    data = xlsx_bytes([("Sheet1", [CALLS_H.split(","), *split(calls(5))], False)])
    return Case("xlsx_renamed_csv", {"calls.csv": data}, error=["calls.csv", "Excel"], exit_code=3)


@case
def empty_file() -> Case:
    return Case("empty_file", {"calls.csv": b""}, error=["calls.csv", "文件为空"], exit_code=3)


@case
def header_only() -> Case:
    return Case(
        "header_only",
        {"calls.csv": csv_bytes(CALLS_H, []), "tickets.csv": csv_bytes(TICKETS_H, tickets(3))},
        {"calls": Expect(0, 0), "tickets": Expect(3, 3)},
    )


# -- impossible values -------------------------------------------------------------------


@case
def end_before_start() -> Case:
    t = tickets(30)
    t[4] = "t00004,2026-07-03 09:00:00,phone,L1,2026-07-03 09:10:00,2026-07-03 08:00:00,一组"
    c = chats(30)
    c[7] = "s00007,2026-07-06 10:00:00,2026-07-06 09:58:25,false"
    v = visits(30)
    v[2] = "v00002,2026-07-07 08:00:00,regular,core,2026-07-07 07:30:00,4,4"
    return Case(
        "end_before_start",
        {
            "tickets.csv": csv_bytes(TICKETS_H, t),
            "chats.csv": csv_bytes(CHATS_H, c),
            "visits.csv": csv_bytes(VISITS_H, v),
        },
        {
            "tickets": Expect(30, 29, {"resolved_at": 1}, {"resolved_at": [6]}),
            "chats": Expect(30, 29, {"first_reply_at": 1}, {"first_reply_at": [9]}),
            "visits": Expect(30, 29, {"arrived_at": 1}, {"arrived_at": [4]}),
        },
    )


@case
def out_of_range_values() -> Case:
    c = calls(40)
    c[9] = "c00009,2026-07-02 10:09:00,answered,2,1e12,60,A1"
    q = split(qa(40))
    q[3][3] = "150"
    s = surveys(40)
    s[5] = "r00005,2026-08-05 12:00:00,4,11,好"
    s[6] = "r00006,2026-08-05 12:00:00,7,9,好"
    tr = training(40)
    tr[0] = "T00,2026-08-10,服务规范,0,A000"
    v = visits(40)
    v[1] = "v00001,2026-07-07 08:00:00,regular,core,2026-07-07 09:00:00,4,5"
    return Case(
        "out_of_range_values",
        {
            "calls.csv": csv_bytes(CALLS_H, c),
            "qa_reviews.csv": csv_bytes(QA_H, [",".join(r) for r in q]),
            "surveys.csv": csv_bytes(SURVEYS_H, s),
            "training.csv": csv_bytes(TRAINING_H, tr),
            "visits.csv": csv_bytes(VISITS_H, v),
        },
        {
            "calls": Expect(40, 39, {"queue_seconds": 1}, {"queue_seconds": [11]}),
            "qa_reviews": Expect(40, 39, {"professionalism": 1}, {"professionalism": [5]}),
            "surveys": Expect(40, 38, {"nps": 1, "overall": 1}, {"nps": [7], "overall": [8]}),
            "training": Expect(40, 39, {"hours": 1}, {"hours": [2]}),
            "visits": Expect(40, 39, {"nodes_done": 1}, {"nodes_done": [3]}),
        },
    )


@case
def long_but_real() -> Case:
    """Long-tailed but possible values are kept: a 75-minute call, a 16-minute queue."""
    c = calls(20)
    c[0] = "c00000,2026-07-02 10:00:00,answered,4,960,4500,A1"
    return Case("long_but_real", {"calls.csv": csv_bytes(CALLS_H, c)}, {"calls": Expect(20, 20)})


@case
def staff_left_before_hired() -> Case:
    s = staff(20)
    s[3] = "A003,frontline,一组,2025-03-01,2024-01-01"
    return Case(
        "staff_left_before_hired",
        {"staff.csv": csv_bytes(STAFF_H, s)},
        {"staff": Expect(20, 19, {"left_on": 1}, {"left_on": [5]})},
    )


# -- the wrong period ------------------------------------------------------------------


@case
def folder_of_another_quarter() -> Case:
    return Case(
        "folder_of_another_quarter",
        {
            "calls.csv": csv_bytes(CALLS_H, calls(50, 0, "2026-05-02")),
            "staff.csv": csv_bytes(STAFF_H, staff(5)),
        },
        error=["calls.csv", "2026Q2"],
        exit_code=3,
    )


@case
def a_few_outside() -> Case:
    rows = calls(40) + calls(2, 40, "2026-10-01")
    return Case(
        "a_few_outside",
        {"calls.csv": csv_bytes(CALLS_H, rows)},
        {"calls": Expect(42, 40, {"期间外": 2})},
    )


# -- text ------------------------------------------------------------------------------


def _no_controls(frames: dict) -> None:
    import re

    bad = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    for name, frame in frames.items():
        for col in frame.columns:
            if str(frame[col].dtype).startswith("string"):
                assert not frame[col].dropna().str.contains(bad).any(), (name, col)


@case
def control_characters() -> Case:
    k = complaints(10)
    k[2] = "k00002,2026-08-03 11:00:00,服务\x01流程,2026-08-04 11:00:00"
    t = tickets(10)
    t[1] = "t00001,2026-07-03 09:00:00,phone,L1,2026-07-03 09:10:00,2026-07-03 10:00:00,一\x08组"
    return Case(
        "control_characters",
        {"complaints.csv": csv_bytes(COMPLAINTS_H, k), "tickets.csv": csv_bytes(TICKETS_H, t)},
        {"complaints": Expect(10, 10), "tickets": Expect(10, 10)},
        check=_no_controls,
    )


@case
def gbk_chinese_headers() -> Case:
    header = "通话编号,来电时间,结果,振铃时长,排队时长,通话时长,坐席"
    rows = [r.replace("answered", "人工接听") for r in calls(15)]
    return Case(
        "gbk_chinese_headers",
        {"calls.csv": csv_bytes(header, rows, enc="gbk")},
        {"calls": Expect(15, 15)},
    )


@case
def utf16_tabs() -> Case:
    rows = [r.replace(",", "\t") for r in calls(12)]
    body = ("\r\n".join([CALLS_H.replace(",", "\t"), *rows]) + "\r\n").encode("utf-16")
    return Case("utf16_tabs", {"calls.csv": body}, {"calls": Expect(12, 12)})


# -- shapes of rows ----------------------------------------------------------------------


@case
def trailing_empty_rows() -> Case:
    rows = calls(30) + [",,,,,,"] * 3 + [""]
    return Case(
        "trailing_empty_rows", {"calls.csv": csv_bytes(CALLS_H, rows)}, {"calls": Expect(30, 30)}
    )


@case
def totals_row_in_tiny_file() -> Case:
    rows = [*incidents(11), "合计,,,,"]
    return Case(
        "totals_row_in_tiny_file",
        {"incidents.csv": csv_bytes(INCIDENTS_H, rows)},
        {"incidents": Expect(12, 11, {"合计": 1}, {"合计": [13]})},
    )


@case
def one_bad_row_in_tiny_file() -> Case:
    rows = incidents(12)
    rows[5] = "i005,2026-09-06 02:00:00,2026-09-06 03:00:00,CRM,critical"
    return Case(
        "one_bad_row_in_tiny_file",
        {"incidents.csv": csv_bytes(INCIDENTS_H, rows)},
        {"incidents": Expect(12, 11, {"severity": 1}, {"severity": [7]})},
    )


@case
def wrong_width_and_duplicates() -> Case:
    rows = calls(60)
    rows[10] = rows[10] + ",extra"
    rows[20] = rows[19]  # the id of line 21 again on line 22
    return Case(
        "wrong_width_and_duplicates",
        {"calls.csv": csv_bytes(CALLS_H, rows)},
        {"calls": Expect(60, 58, {"列数": 1, "重复": 1}, {"列数": [12], "重复": [22]})},
    )


@case
def too_many_bad_rows() -> Case:
    rows = calls(40)
    for i in range(0, 40, 5):
        rows[i] = rows[i].replace("answered", "HANG")
    return Case(
        "too_many_bad_rows",
        {"calls.csv": csv_bytes(CALLS_H, rows)},
        error=["calls.csv", "outcome", "HANG", "max_bad_share"],
        exit_code=3,
    )


@case
def nul_byte_in_text() -> Case:
    rows = surveys(10)
    rows[4] = "r00004,2026-08-05 12:00:00,4,9,好\x00评"
    return Case(
        "nul_byte_in_text",
        {"surveys.csv": csv_bytes(SURVEYS_H, rows)},
        {"surveys": Expect(10, 10)},
        check=_no_controls,
    )


@case
def missing_required_column() -> Case:
    header = "call_id,outcome,talk_seconds"
    rows = ["c1,answered,60"]
    return Case(
        "missing_required_column",
        {"calls.csv": csv_bytes(header, rows)},
        error=["calls.csv", "arrived_at", "来电时间"],
        exit_code=3,
    )


# -- durations and split timestamps ----------------------------------------------------


def _talk(expected: list[float]) -> Callable[[dict], None]:
    def check(frames: dict) -> None:
        got = frames["calls"]["talk_seconds"].tolist()
        assert got == expected, got

    return check


@case
def durations_as_time_text() -> Case:
    rows = calls(4)
    forms = ["0:02:23", "02:23", "2分23秒", "1小时2分3秒"]
    rows = [r.rsplit(",", 2)[0] + f",{f},A1" for r, f in zip(rows, forms, strict=True)]
    return Case(
        "durations_as_time_text",
        {"calls.csv": csv_bytes(CALLS_H, rows)},
        {"calls": Expect(4, 4)},
        check=_talk([143.0, 143.0, 143.0, 3723.0]),
    )


@case
def durations_as_excel_time_cells() -> Case:
    from datetime import datetime, time

    head = CALLS_H.split(",")
    rows = []
    for i, t in enumerate([time(0, 2, 23), time(0, 0, 45), time(1, 0, 0)]):
        rows.append([f"c{i}", datetime(2026, 7, 2, 10, i), "answered", 2, 5, t, "A1"])
    data = xlsx_bytes([("明细", [head, *rows], False)], formats={"F": "h:mm:ss"})
    return Case(
        "durations_as_excel_time_cells",
        {"calls.xlsx": data},
        {"calls": Expect(3, 3)},
        check=_talk([143.0, 45.0, 3600.0]),
    )


@case
def date_and_time_columns() -> Case:
    header = "Call ID,Date,Time,Result,Talk"
    rows = ["X1,2026-07-02,10:00:05,answered,60", "X2,2026/07/03,23:59:59,answered,30"]
    params = {
        "columns": "\n  calls:\n    rename:\n      Call ID: call_id\n      Result: outcome\n"
        "      Talk: talk_seconds\n    combine:\n      arrived_at: [Date, Time]"
    }

    def check(frames: dict) -> None:
        got = [str(t) for t in frames["calls"]["arrived_at"]]
        assert got == ["2026-07-02 10:00:05", "2026-07-03 23:59:59"], got

    return Case(
        "date_and_time_columns",
        {"calls.csv": csv_bytes(header, rows)},
        {"calls": Expect(2, 2)},
        params=params,
        check=check,
    )
