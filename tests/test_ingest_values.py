"""Values the exports write in their own way: durations as times (``0:02:23``, Excel time
cells, ``2分23秒``), control characters in text, enum values with stray characters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from selfcheck.ingest import read_dataset
from selfcheck.ingest.parse import convert
from selfcheck.period import Period
from selfcheck.schema import DATASETS

Q3 = Period.parse("2026Q3")
CALLS = DATASETS["calls"]
TRAINING = DATASETS["training"]
TALK = CALLS.column("talk_seconds")
HOURS = TRAINING.column("hours")


def typed(values: list, col, *, excel: bool = False):
    got = convert(pa.chunked_array([pa.array(values, pa.string())]), col, excel=excel)
    bad = [False] * len(values) if got.bad is None else got.bad.tolist()
    return got.array.to_pylist(), bad


# -- durations ---------------------------------------------------------------------------

SECONDS = [
    ("143", 143.0),
    ("143.5", 143.5),
    ("0:02:23", 143.0),  # H:MM:SS
    ("00:02:23", 143.0),  # HH:MM:SS (an Excel time cell: datetime.time)
    ("1:02:03", 3723.0),
    ("2:23", 143.0),  # two parts: minutes and seconds
    ("125:30", 7530.0),  # [mm]:ss beyond an hour
    ("2:23.5", 143.5),
    ("00:02:23.500000", 143.5),  # a time cell with fractional seconds
    ("26:00:00", 93_600.0),  # [h]:mm:ss beyond 24 h
    ("1 day, 2:00:00", 93_600.0),  # the same Excel cell as python-calamine gives it
    ("-1 day, 23:57:37", -143.0),  # a negative duration cell: read, then refused as negative
    ("２：２３", 143.0),  # full-width
    ("2分23秒", 143.0),
    ("143秒", 143.0),
    ("1小时2分3秒", 3723.0),
    ("1时2分", 3720.0),
    ("2分钟", 120.0),
    ("1.5小时", 5400.0),
    ("90分钟", 5400.0),
    (" 2 分 23 秒 ", 143.0),
]
NOT_DURATIONS = [
    "2:75",
    "1:60:00",
    "1:2:3:4",
    "5 sec",
    "2分75秒",
    "1小时75分",
    "约5秒",
    "2:3x",
    "秒",
]


@pytest.mark.parametrize(("text", "seconds"), SECONDS)
def test_duration_forms_in_a_seconds_column(text, seconds):
    assert typed([text], TALK) == ([seconds], [False])


@pytest.mark.parametrize("text", NOT_DURATIONS)
def test_other_text_is_still_not_a_number(text):
    assert typed([text], TALK) == ([None], [True])


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("2", 2.0),
        ("1.5", 1.5),
        ("1:30", 1.5),  # two parts in an hours column: hours and minutes
        ("1:30:00", 1.5),
        ("01:30:00", 1.5),
        ("0:45:00", 0.75),
        ("90分钟", 1.5),
        ("1.5小时", 1.5),
        ("1小时30分", 1.5),
        ("5400秒", 1.5),
    ],
)
def test_duration_forms_in_an_hours_column(text, hours):
    assert typed([text], HOURS) == ([hours], [False])


def test_durations_mixed_with_numbers_and_missing_values_in_one_chunk():
    values, bad = typed(["60", "0:01:00", None, "-", "1,234", "2分", "abc"], TALK)
    assert values == [60.0, 60.0, None, None, 1234.0, 120.0, None]
    assert bad == [False, False, False, False, False, False, True]


def test_columns_without_a_unit_take_no_durations():
    overall = DATASETS["surveys"].column("overall")
    assert typed(["4", "0:02:23", "4分"], overall) == ([4.0, None, None], [False, True, True])


def test_excel_day_fractions_are_read_only_for_a_whole_column_of_time_values():
    # 0:02:23 is 143/86400 of a day; 1:30:00 is 0.0625; a formatless cell shows 16 digits
    assert typed(["0.0016550925925926", "0.0625", None], TALK, excel=True) == (
        [143.0, 5400.0, None],
        [False, False, False],
    )
    assert typed(["0.0625", "0.0416666666666667"], HOURS, excel=True)[0] == [1.5, 1.0]
    # a column with a number of seconds (>= 1) is seconds; so is the same text in a CSV
    assert typed(["0.0016550925925926", "12"], TALK, excel=True)[0] == [0.0016550925925926, 12.0]
    assert typed(["0.0016550925925926"], TALK)[0] == [0.0016550925925926]
    # short decimals are plain numbers of the column's unit, not times
    assert typed(["0.5", "0.25"], HOURS, excel=True)[0] == [0.5, 0.25]
    assert typed(["0", "0"], TALK, excel=True)[0] == [0.0, 0.0]
    # not a whole number of milliseconds once multiplied by a day: not a time cell
    assert typed(["0.123456789"], TALK, excel=True)[0] == [0.123456789]


def test_excel_duration_of_more_than_a_day_in_a_plain_time_format():
    # a 26-hour cell formatted h:mm:ss arrives as a date of the 1900 system
    assert typed(["1900-01-01 02:00:00", "1900-02-01 00:00:00"], TALK, excel=True)[0] == [
        93_600.0,
        32 * 86_400.0,
    ]
    assert typed(["1900-01-01 02:00:00"], TALK) == ([None], [True])  # not from Excel


CALL_HEADER = "call_id,arrived_at,outcome,ring_seconds,queue_seconds,talk_seconds\n"


def test_csv_talk_time_written_as_time_end_to_end(tmp_path):
    p = tmp_path / "calls.csv"
    p.write_text(
        CALL_HEADER
        + "c1,2026-07-01 09:00:00,answered,5,12,0:02:23\n"
        + "c2,2026-07-01 09:01:00,answered,0:05,0:00:12,2:23\n"
        + "c3,2026-07-01 09:02:00,answered,3秒,1分,1小时2分3秒\n"
        + "c4,2026-07-01 09:03:00,answered,5,12,143\n"
        + "c5,2026-07-01 09:04:00,abandoned,,01:12,\n",
        encoding="utf-8",
    )
    frame, q = read_dataset(p, CALLS, Q3)
    assert frame["talk_seconds"].tolist()[:4] == [143.0, 143.0, 3723.0, 143.0]
    assert frame["ring_seconds"].tolist()[:4] == [5.0, 5.0, 3.0, 5.0]
    assert frame["queue_seconds"].tolist() == [12.0, 12.0, 60.0, 12.0, 72.0]
    assert frame["talk_seconds"].isna().tolist() == [False] * 4 + [True]
    assert str(frame["talk_seconds"].dtype) == "float64" and q.rows_bad == 0


def test_negative_duration_text_is_a_negative_row(tmp_path):
    p = tmp_path / "calls.csv"
    body = "".join(f"c{i},2026-07-01 09:00:00,answered,1,1,0:01:00\n" for i in range(30))
    p.write_text(CALL_HEADER + body + "x,2026-07-01 09:00:00,answered,1,1,-0:00:05\n", "utf-8")
    frame, q = read_dataset(p, CALLS, Q3)
    assert len(frame) == 30 and q.excluded == {"talk_seconds 为负数": 1}


def test_unreadable_duration_is_a_bad_row_with_line_and_value(tmp_path):
    p = tmp_path / "calls.csv"
    body = "".join(f"c{i},2026-07-01 09:00:00,answered,1,1,0:01:00\n" for i in range(30))
    p.write_text(CALL_HEADER + body + "x,2026-07-01 09:00:00,answered,1,1,2分75秒\n", "utf-8")
    frame, q = read_dataset(p, CALLS, Q3)
    assert len(frame) == 30 and q.excluded == {"talk_seconds 不是数字": 1}
    assert [(e.line, e.value) for e in q.examples] == [(32, "2分75秒")]


def _xlsx_calls(path: Path, rows: list[list], formats: dict[int, str]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Call ID", "Arrival", "Result", "Ring", "Queue", "Talk Time"])
    for r in rows:
        ws.append(r)
        for col, fmt in formats.items():
            ws.cell(ws.max_row, col).number_format = fmt
    wb.save(path)
    return path


ENGLISH = {
    "rename": {
        "Call ID": "call_id",
        "Arrival": "arrived_at",
        "Result": "outcome",
        "Ring": "ring_seconds",
        "Queue": "queue_seconds",
        "Talk Time": "talk_seconds",
    }
}


def test_xlsx_time_cells_in_duration_columns(tmp_path):
    from selfcheck.ingest import DatasetMapping

    t0 = dt.datetime(2026, 7, 1, 9, 0)
    rows = [
        ["c1", t0, "answered", dt.time(0, 0, 5), dt.time(0, 0, 12), dt.time(0, 2, 23)],
        ["c2", t0, "answered", dt.time(0, 0, 5), dt.time(0, 1, 0), dt.timedelta(hours=26)],
        ["c3", t0, "answered", dt.time(0, 0, 5), dt.time(0, 0, 0), dt.time(0, 2, 23, 500000)],
        ["c4", t0, "answered", dt.time(0, 0, 5), dt.time(0, 0, 12), dt.timedelta(seconds=143)],
    ]
    formats = {4: "mm:ss", 5: "h:mm:ss", 6: "[h]:mm:ss"}
    path = _xlsx_calls(tmp_path / "calls.xlsx", rows, formats)
    frame, q = read_dataset(path, CALLS, Q3, mapping=DatasetMapping(**ENGLISH), max_bad_share=0.5)
    # 26:00:00 is read as 93,600 s, which is above the plausible maximum of a call (a day)
    assert q.excluded == {"talk_seconds 大于 86,400 秒": 1}
    assert [(e.line, e.column) for e in q.examples] == [(3, "talk_seconds")]
    assert frame["talk_seconds"].tolist() == [143.0, 143.5, 143.0]
    assert frame["queue_seconds"].tolist() == [12.0, 0.0, 12.0]
    assert frame["ring_seconds"].tolist() == [5.0] * 3
    assert q.columns_mapped["Talk Time"] == "talk_seconds"


def test_xlsx_time_cells_that_lost_their_format_and_number_cells(tmp_path):
    from selfcheck.ingest import DatasetMapping

    t0 = dt.datetime(2026, 7, 1, 9, 0)
    rows = [  # Talk: General-format fractions of a day; Ring and Queue: plain seconds
        ["c1", t0, "answered", 5, 12, 143 / 86_400],
        ["c2", t0, "answered", 7, 0, 0.0016550925925926],
        ["c3", t0, "answered", 0, 30, 1.5 / 24],
    ]
    path = _xlsx_calls(tmp_path / "calls.xlsx", rows, {})
    frame, q = read_dataset(path, CALLS, Q3, mapping=DatasetMapping(**ENGLISH))
    assert frame["talk_seconds"].tolist() == [143.0, 143.0, 5400.0]
    assert frame["ring_seconds"].tolist() == [5.0, 7.0, 0.0]
    assert frame["queue_seconds"].tolist() == [12.0, 0.0, 30.0]
    assert q.rows_bad == 0


def test_training_hours_as_times_csv_and_xlsx(tmp_path):
    from openpyxl import Workbook

    p = tmp_path / "training.csv"
    p.write_text(
        "session_id,date,topic,hours,agent_id\n"
        "s1,2026-07-03,话术,1:30,A1\n"
        "s1,2026-07-03,话术,90分钟,A2\n"
        "s2,2026-07-04,系统,1.5小时,A1\n"
        "s2,2026-07-04,系统,2,A2\n"
        "s3,2026-07-05,合规,0:45:00,A1\n",
        encoding="utf-8",
    )
    frame, q = read_dataset(p, TRAINING, Q3)
    assert frame["hours"].tolist() == [1.5, 1.5, 1.5, 2.0, 0.75] and q.rows_bad == 0

    wb = Workbook()
    ws = wb.active
    ws.append(["培训场次", "日期", "主题", "学时", "工号"])
    ws.append(["s1", dt.date(2026, 7, 3), "话术", dt.time(1, 30), "A1"])
    ws.cell(2, 4).number_format = "h:mm"
    ws.append(["s2", dt.date(2026, 7, 4), "系统", 0.5, "A1"])  # a number of hours
    ws.append(["s3", dt.date(2026, 7, 5), "合规", "2小时", "A1"])
    path = tmp_path / "training.xlsx"
    wb.save(path)
    frame, q = read_dataset(path, TRAINING, Q3)
    assert frame["hours"].tolist() == [1.5, 0.5, 2.0] and q.rows_bad == 0


# -- control characters -----------------------------------------------------------------


def test_control_characters_are_removed_from_text_and_counted():
    team = DATASETS["tickets"].column("team")
    got = convert(
        pa.chunked_array(
            [pa.array(["一组\x01", "二\x08组", "\x7f三组", "四组\u0085", "五组", None])]
        ),
        team,
    )
    assert got.array.to_pylist() == ["一组", "二组", "三组", "四组", "五组", None]
    assert got.cleaned == 4 and got.bad is None


def test_tab_and_line_breaks_inside_a_category_are_removed_but_latin1_letters_stay():
    kind = DATASETS["complaints"].column("type")
    got = convert(
        pa.chunked_array(
            [pa.array(["产品\t质量", "服务\r\n流程", "收费·争议", "温度 30°", "\x00其他"])]
        ),
        kind,
    )
    assert got.array.to_pylist() == ["产品质量", "服务流程", "收费·争议", "温度 30°", "其他"]
    assert got.cleaned == 3


def test_clean_text_is_untouched_and_counts_nothing():
    cid = CALLS.column("call_id")
    chunks = [pa.array([f"c{i}" for i in range(j, j + 1000)]) for j in (0, 1000)]
    raw = pa.chunked_array(chunks)
    got = convert(raw, cid)
    assert got.cleaned == 0 and got.array.equals(raw)
    latin = convert(pa.chunked_array([pa.array(["Müller", "café", "一组"])]), cid)
    assert latin.cleaned == 0 and latin.array.to_pylist() == ["Müller", "café", "一组"]


def test_free_text_keeps_line_breaks_and_makes_tabs_spaces():
    comment = DATASETS["surveys"].column("comment")
    got = convert(
        pa.chunked_array(
            [pa.array(["第一行\r\n第二行", "a\tb", "响铃\x07太久", "x\ry", "z\u0085w", "好"])]
        ),
        comment,
    )
    assert got.array.to_pylist() == ["第一行\n第二行", "a b", "响铃太久", "x\ny", "z\nw", "好"]
    assert got.cleaned == 1  # only the bell: line breaks and tabs are the text's own


def test_control_characters_in_a_sliced_chunk():
    team = DATASETS["tickets"].column("team")
    arr = pa.array(["a\x01", "b", "c", "d\x02"]).slice(1, 2)  # the controls lie outside
    got = convert(pa.chunked_array([arr]), team)
    assert got.array.to_pylist() == ["b", "c"] and got.cleaned == 0


def test_control_characters_in_a_csv_category_end_to_end(tmp_path):
    p = tmp_path / "complaints.csv"
    p.write_bytes(
        "complaint_id,received_at,type,channel\n"
        "k1,2026-07-01 09:00,产品质量\x01,电话\n"
        "k2,2026-07-01 10:00,服\x08务流程,电\x1b话\n"
        "k3,2026-07-01 11:00,其他,在线\n".encode()
    )
    frame, q = read_dataset(p, DATASETS["complaints"], Q3)
    assert frame["type"].tolist() == ["产品质量", "服务流程", "其他"]
    assert frame["channel"].tolist() == ["电话", "电话", "在线"] and q.rows_bad == 0


# -- enums ------------------------------------------------------------------------------


def test_enum_values_with_control_characters_and_full_width_letters(tmp_path):
    p = tmp_path / "calls.csv"
    p.write_bytes(
        (
            CALL_HEADER + "c1,2026-07-01 09:00,answered\x01,1,1,1\n"
            "c2,2026-07-01 09:00, abandoned\x00 ,1,1,1\n"
            "c3,2026-07-01 09:00,ＢＵＳＹ,1,1,1\n"
            "c4,2026-07-01 09:00,人工接听\x7f,1,1,1\n"
        ).encode()
    )
    frame, q = read_dataset(p, CALLS, Q3)
    assert frame["outcome"].tolist() == ["answered", "abandoned", "busy", "answered"]
    assert q.rows_bad == 0
    got = convert(pa.chunked_array([pa.array(["answered\x01", "ivr"])]), CALLS.column("outcome"))
    assert got.array.to_pylist() == ["answered", "ivr"] and got.cleaned == 1


def test_value_map_keys_match_the_cleaned_values():
    got = convert(
        pa.chunked_array([pa.array(["HANG\x01", "AGENT"])]),
        CALLS.column("outcome"),
        {"HANG\x01": "abandoned", "AGENT": "answered"},
    )
    assert got.array.to_pylist() == ["abandoned", "answered"] and got.mapped == 2
