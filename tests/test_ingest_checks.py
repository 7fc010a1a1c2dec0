"""The contract's ranges and orderings, totals rows, the floor under max_bad_share, and a
folder holding another quarter: every impossible value is excluded and counted (with line,
column and value) or stops the run; nothing impossible reaches the figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import write_params

from selfcheck.errors import DataError
from selfcheck.ingest import DataStore, read_dataset
from selfcheck.ingest.records import TOTALS_ROW, DatasetQuality
from selfcheck.period import Period
from selfcheck.schema import DATASETS, PLAUSIBLE

Q3 = Period.parse("2026Q3")


def csv(tmp_path: Path, name: str, header: str, rows: list[str]) -> Path:
    p = tmp_path / f"{name}.csv"
    p.write_bytes((header + "\n" + "\n".join(rows) + "\n").encode("utf-8"))
    return p


def balanced(q: DatasetQuality) -> bool:
    return q.rows_read == q.rows_kept + sum(q.excluded.values())


def read(path: Path, name: str, **kw):
    frame, q = read_dataset(path, DATASETS[name], Q3, max_bad_share=0.5, **kw)
    assert balanced(q), q
    return frame, q


def shown(q: DatasetQuality) -> list[tuple[int, str, str, str]]:
    return [(e.line, e.column, e.value, e.reason) for e in q.examples]


# -- ranges ------------------------------------------------------------------------------

QA = "review_id,reviewed_at,agent_id,professionalism,compliance,experience"


def test_qa_scores_outside_0_100_are_excluded(tmp_path):
    rows = [f"q{i},2026-07-02 10:00,A1,90,80,70" for i in range(6)]
    rows += ["q6,2026-07-02 10:00,A1,150,80,70", "q7,2026-07-02 10:00,A1,90,-1,70"]
    rows += ["q8,2026-07-02 10:00,A1,100,0,100"]  # the bounds themselves are valid
    frame, q = read(csv(tmp_path, "qa_reviews", QA, rows), "qa_reviews")
    assert len(frame) == 7 and q.rows_read == 9
    assert q.excluded == {"professionalism 大于 100": 1, "compliance 为负数": 1}
    assert shown(q) == [
        (8, "professionalism", "150", "professionalism 大于 100"),
        (9, "compliance", "-1", "compliance 为负数"),
    ]
    assert frame["professionalism"].max() == 100


SURVEYS = "response_id,answered_at,overall,attitude,value,nps"


def test_survey_scores_on_the_survey_scale_and_nps_0_to_10(tmp_path):
    rows = [f"r{i},2026-07-02 10:00,5,4,3,9" for i in range(5)]
    rows += [
        "r5,2026-07-02 10:00,7,4,3,9",  # overall 7 on a 1–5 scale
        "r6,2026-07-02 10:00,4,0,3,9",  # attitude 0: below the scale
        "r7,2026-07-02 10:00,4,4,3,11",  # NPS 11
        "r8,2026-07-02 10:00,1,1,4.5,0",  # 1, 4.5 and NPS 0 are valid
    ]
    p = csv(tmp_path, "surveys", SURVEYS, rows)
    frame, q = read(p, "surveys")
    assert len(frame) == 6
    assert q.excluded == {"overall 大于 5": 1, "attitude 小于 1": 1, "nps 大于 10": 1}
    assert [(e.line, e.value) for e in q.examples] == [(7, "7"), (8, "0"), (9, "11")]
    # a 10-point survey: thresholds.survey_scale = 10 makes the 7 valid
    frame, q = read(p, "surveys", survey_scale=10)
    assert len(frame) == 7 and q.excluded == {"attitude 小于 1": 1, "nps 大于 10": 1}


def test_survey_scale_comes_from_the_parameters_file(tmp_path):
    data = tmp_path / "data"
    (data / "2026Q3").mkdir(parents=True)
    rows = [f"r{i},2026-07-02 10:00,{8 if i == 0 else 9},9,9,9" for i in range(3)]
    csv(data / "2026Q3", "surveys", SURVEYS, rows)
    params = write_params(tmp_path / "params", data, thresholds="{survey_scale: 10}")
    from selfcheck.config import load_config

    q = DataStore(load_config(params)).validate(Q3)["surveys"]
    assert q.rows_kept == 3 and q.excluded == {}
    with pytest.raises(DataError, match="overall（总体满意度）大于 5：3 行"):  # default 1–5
        DataStore(lambda period: data / str(period)).validate(Q3)


TRAINING = "session_id,date,topic,hours,agent_id"


def test_training_hours_above_zero_and_at_most_a_day(tmp_path):
    rows = [f"s{i},2026-07-02,安全,2,A{i}" for i in range(5)]
    rows += ["s5,2026-07-02,安全,0,A5", "s6,2026-07-02,安全,90,A6", "s7,2026-07-02,安全,24,A7"]
    frame, q = read(csv(tmp_path, "training", TRAINING, rows), "training")
    assert len(frame) == 6 and frame["hours"].max() == 24
    assert q.excluded == {"hours 为零或负数": 1, "hours 大于 24 小时": 1}
    assert [(e.line, e.value) for e in q.examples] == [(7, "0"), (8, "90")]


CALLS = "call_id,arrived_at,outcome,ring_seconds,queue_seconds,talk_seconds"


def test_implausible_call_durations_are_excluded_long_calls_are_kept(tmp_path):
    rows = [f"c{i},2026-07-02 10:00,answered,5,30,300" for i in range(5)]
    rows += [
        "c5,2026-07-02 10:00,answered,5,1e12,300",  # a queue of 30 000 years
        "c6,2026-07-02 10:00,answered,3601,30,300",  # ringing for over an hour
        "c7,2026-07-02 10:00,answered,5,900,5400",  # 15 min queue, 90 min call: real
        "c8,2026-07-02 10:00,answered,5,30,86401",  # over a day on the phone
    ]
    frame, q = read(csv(tmp_path, "calls", CALLS, rows), "calls")
    assert len(frame) == 6 and frame["queue_seconds"].max() == 900
    assert q.excluded == {
        "ring_seconds 大于 3,600 秒": 1,
        "queue_seconds 大于 86,400 秒": 1,
        "talk_seconds 大于 86,400 秒": 1,
    }
    assert (7, "queue_seconds", "1e12", "queue_seconds 大于 86,400 秒") in shown(q)
    assert frame["queue_seconds"].mean() == pytest.approx((5 * 30 + 900) / 6)


VISITS = "visit_id,reported_at,kind,area,arrived_at,nodes_total,nodes_done,completed_at"


def test_visit_nodes_done_not_above_nodes_total(tmp_path):
    ok = "2026-07-02 10:30,6,6,2026-07-02 12:00"
    rows = [f"v{i},2026-07-02 10:00,regular,core,{ok}" for i in range(4)]
    rows += ["v4,2026-07-02 10:00,regular,core,2026-07-02 10:30,6,7,2026-07-02 12:00"]
    rows += ["v5,2026-07-02 10:00,regular,core,2026-07-02 10:30,-1,0,2026-07-02 12:00"]
    frame, q = read(csv(tmp_path, "visits", VISITS, rows), "visits")
    assert len(frame) == 4
    assert q.excluded == {"nodes_done 大于 nodes_total": 1, "nodes_total 为负数": 1}
    assert (6, "nodes_done", "7（nodes_total 6）", "nodes_done 大于 nodes_total") in shown(q)


# -- orderings ---------------------------------------------------------------------------

TICKETS = "ticket_id,created_at,channel,level,first_response_at,resolved_at,archived_at"


def test_ticket_resolved_before_created_is_excluded(tmp_path):
    rows = [
        f"t{i},2026-07-02 10:00:00,phone,L1,2026-07-02 10:05:00,2026-07-02 11:00:00,"
        for i in range(5)
    ]
    rows += [
        "t5,2026-07-02 10:00:00,phone,L1,2026-07-02 10:05:00,2026-07-02 09:00:00,",
        "t6,2026-07-02 10:00:00,phone,L1,2026-07-01 10:05:00,2026-07-02 11:00:00,",
        "t7,2026-07-02 10:00:00,phone,L1,,,2026-07-02 09:58:00",  # archived 2 minutes before
        "t8,2026-07-02 10:00:00,phone,L2,,2026-09-28 10:00:00,",  # open for months: real
    ]
    frame, q = read(csv(tmp_path, "tickets", TICKETS, rows), "tickets")
    assert frame["ticket_id"].tolist() == ["t0", "t1", "t2", "t3", "t4", "t8"]
    assert q.excluded == {
        "first_response_at 早于 created_at": 1,
        "resolved_at 早于 created_at": 1,
        "archived_at 早于 created_at": 1,
    }
    assert (
        7,
        "resolved_at",
        "2026-07-02 09:00:00（created_at 2026-07-02 10:00:00）",
        "resolved_at 早于 created_at",
    ) in shown(q)
    hours = (frame["resolved_at"] - frame["created_at"]).dt.total_seconds() / 3600
    assert hours.min() == 1


CHATS = "session_id,started_at,first_reply_at,ended_at"


def test_chat_reply_a_few_seconds_early_is_the_same_instant_more_is_excluded(tmp_path):
    rows = [f"s{i},2026-07-02 10:00:30,2026-07-02 10:02:30,2026-07-02 10:10:00" for i in range(5)]
    rows += [
        "s5,2026-07-02 10:00:30,2026-07-02 10:00,2026-07-02 10:10",  # minute-only: 30 s early
        "s6,2026-07-02 10:00:30,2026-07-02 09:59:29,2026-07-02 10:10",  # 61 s early
        "s7,2026-07-02 10:00:30,2026-07-02 10:02:30,2026-07-02 09:00",  # ended before it began
    ]
    frame, q = read(csv(tmp_path, "chats", CHATS, rows), "chats")
    assert len(frame) == 6
    assert q.excluded == {"first_reply_at 早于 started_at": 1, "ended_at 早于 started_at": 1}
    assert [(e.line, e.column) for e in q.examples] == [(8, "first_reply_at"), (9, "ended_at")]
    minutes = (frame["first_reply_at"] - frame["started_at"]).dt.total_seconds() / 60
    assert minutes.tolist() == [2, 2, 2, 2, 2, 0]  # never negative
    assert minutes.mean() == pytest.approx(10 / 6)
    assert any("1 行的 first_reply_at 早于 started_at 不足 60 秒" in n for n in q.notes)
    assert PLAUSIBLE.order_tolerance_seconds == 60


def test_visit_completed_before_arrival_and_staff_left_before_hired(tmp_path):
    rows = [
        "v0,2026-07-02 10:00,regular,core,2026-07-02 10:30,,,2026-07-02 12:00",
        "v1,2026-07-02 10:00,regular,core,2026-07-02 09:30,,,2026-07-02 12:00",  # before report
        "v2,2026-07-02 10:00,regular,core,2026-07-02 13:30,,,2026-07-02 12:00",  # done < arrived
    ]
    frame, q = read(csv(tmp_path, "visits", VISITS, rows), "visits")
    assert frame["visit_id"].tolist() == ["v0"]
    assert q.excluded == {"arrived_at 早于 reported_at": 1, "completed_at 早于 arrived_at": 1}
    staff = csv(
        tmp_path,
        "staff",
        "agent_id,role,hired_on,left_on",
        [
            "A1,frontline,2024-03-01,",
            "A2,frontline,2024-03-01,2024-03-01",
            "A3,support,2025-05-01,2024-01-31",
        ],
    )
    frame, q = read(staff, "staff")
    assert frame["agent_id"].tolist() == ["A1", "A2"]
    assert shown(q) == [
        (4, "left_on", "2024-01-31（hired_on 2025-05-01）", "left_on 早于 hired_on")
    ]


def test_incident_and_complaint_orderings(tmp_path):
    inc = csv(
        tmp_path,
        "incidents",
        "incident_id,started_at,resolved_at",
        ["i1,2026-07-02 10:00,2026-07-02 11:00", "i2,2026-07-02 10:00,2026-07-02 08:00"],
    )
    frame, q = read(inc, "incidents")
    assert len(frame) == 1 and q.excluded == {"resolved_at 早于 started_at": 1}
    com = csv(
        tmp_path,
        "complaints",
        "complaint_id,received_at,type,resolved_at",
        ["k1,2026-07-02 10:00,其他,2026-07-01 10:00", "k2,2026-07-02 10:00,其他,"],
    )
    frame, q = read(com, "complaints")
    assert len(frame) == 1 and q.excluded == {"resolved_at 早于 received_at": 1}


# -- the stop message --------------------------------------------------------------------


def test_too_many_impossible_values_stop_with_the_range_and_the_fix(tmp_path):
    rows = [f"q{i},2026-07-02 10:00,A1,90,80,70" for i in range(6)]
    rows += [f"x{i},2026-07-02 10:00,A1,{150 + i},80,70" for i in range(4)]
    p = csv(tmp_path, "qa_reviews", QA, rows)
    with pytest.raises(DataError) as e:
        read_dataset(p, DATASETS["qa_reviews"], Q3)
    msg = str(e.value)
    assert "40.0% 的行有问题（4 / 10 行）" in msg
    assert "列 professionalism（专业性）大于 100：4 行，例如 第 8 行 '150'" in msg
    assert "专业性应在 0–100 之间" in msg


def test_survey_stop_message_names_the_survey_scale(tmp_path):
    rows = [f"r{i},2026-07-02 10:00,9,9,9,9" for i in range(4)]
    with pytest.raises(DataError) as e:
        read_dataset(csv(tmp_path, "surveys", SURVEYS, rows), DATASETS["surveys"], Q3)
    msg = str(e.value)
    assert "列 overall（总体满意度）大于 5：4 行" in msg
    assert "thresholds.survey_scale" in msg and "survey_scale: 10" in msg


def test_ordering_stop_message_shows_both_times(tmp_path):
    rows = [
        f"i{i},2026-07-02 10:00,2026-07-02 0{i}:00" for i in range(3)
    ]  # all three resolved before they started
    p = csv(tmp_path, "incidents", "incident_id,started_at,resolved_at", rows)
    with pytest.raises(DataError) as e:
        read_dataset(p, DATASETS["incidents"], Q3)
    msg = str(e.value)
    assert "列 resolved_at（恢复时间）早于 started_at：3 行" in msg
    assert "第 2 行 '2026-07-02 00:00（started_at 2026-07-02 10:00）'" in msg
    assert "结束时间不能早于开始时间" in msg


# -- totals rows and the floor for small files -------------------------------------------

INCIDENTS = "incident_id,started_at,resolved_at,system,severity"


def incidents(n: int) -> list[str]:
    return [
        f"i{i:02d},2026-07-{i + 1:02d} 10:00,2026-07-{i + 1:02d} 11:00,CRM,minor" for i in range(n)
    ]


def test_a_totals_row_is_not_a_record_and_not_a_bad_row(tmp_path):
    p = csv(tmp_path, "incidents", INCIDENTS, [*incidents(11), "合计,,,11,"])
    frame, q = read_dataset(p, DATASETS["incidents"], Q3)  # the default max_bad_share
    assert len(frame) == 11 and q.rows_read == 12 and q.rows_bad == 0
    assert q.excluded == {TOTALS_ROW: 1} and balanced(q)
    assert shown(q) == [(13, "incident_id", "合计", TOTALS_ROW)]


@pytest.mark.parametrize(
    "row",
    [
        "总计：,,,,",
        "Total,,,,",
        "  ＴＯＴＡＬ ,,,,",  # full-width, spaces
        "小计（3条）,,,,",
        ",合计,,,",  # in the anchor column
        ",,,合计,",  # in another text column, the id empty
    ],
)
def test_totals_row_forms(tmp_path, row):
    p = csv(tmp_path, "incidents", INCIDENTS, [*incidents(3), row])
    frame, q = read_dataset(p, DATASETS["incidents"], Q3)
    assert len(frame) == 3 and q.excluded == {TOTALS_ROW: 1} and balanced(q)


def test_a_record_whose_system_is_named_total_is_still_a_record(tmp_path):
    p = csv(tmp_path, "incidents", INCIDENTS, [*incidents(3), "i99,2026-07-05 10:00,,Total,minor"])
    frame, q = read_dataset(p, DATASETS["incidents"], Q3)
    assert len(frame) == 4 and q.excluded == {}


def test_small_files_stop_only_from_three_bad_rows(tmp_path):
    bad = ["x1,2026-07-03 10:00,2026-07-03 09:00,CRM,minor", "x2,不详,,CRM,minor"]
    p = csv(tmp_path, "incidents", INCIDENTS, [*incidents(10), *bad, "合计,,,,"])
    frame, q = read_dataset(p, DATASETS["incidents"], Q3)  # 2 of 12 (16.7 %): kept going
    assert len(frame) == 10 and q.rows_bad == 2 and balanced(q)
    assert q.excluded == {
        "started_at 时间无法识别": 1,
        "resolved_at 早于 started_at": 1,
        TOTALS_ROW: 1,
    }
    third = "x3,2026-07-04 10:00,,CRM,huge"
    p = csv(tmp_path, "incidents", INCIDENTS, [*incidents(10), *bad, third, "合计,,,,"])
    with pytest.raises(
        DataError, match=r"23\.1% 的行有问题（3 / 13 行）"
    ):  # totals row not counted
        read_dataset(p, DATASETS["incidents"], Q3)
    frame, q = read_dataset(p, DATASETS["incidents"], Q3, min_bad_rows=4)
    assert len(frame) == 10 and balanced(q)


# -- a folder holding another quarter ----------------------------------------------------


def test_a_file_of_another_quarter_stops_the_run(tmp_path):
    rows = [f"c{i},2026-0{4 + i % 3}-1{i % 9} 10:00,answered,5,30,300" for i in range(20)]
    rows += ["c98,2026-07-01 09:00,answered,5,30,300", "c99,2026-07-02 09:00,answered,5,30,300"]
    p = csv(tmp_path, "calls", CALLS, rows)
    with pytest.raises(DataError) as e:
        read_dataset(p, DATASETS["calls"], Q3)
    msg = str(e.value)
    assert str(p) in msg and "20 / 22 行记录的来电时间（arrived_at）不在 2026Q3" in msg
    assert "时间范围为 2026-04-10 至 2026-07-02" in msg
    assert "这些记录属于 2026Q2（20 行）" in msg and "data_dir" in msg


def test_a_few_rows_of_another_quarter_are_excluded_as_outside(tmp_path):
    rows = [f"c{i},2026-07-0{1 + i % 9} 10:00,answered,5,30,300" for i in range(10)]
    rows += [f"o{i},2026-06-30 23:5{i},answered,5,30,300" for i in range(4)]
    frame, q = read(csv(tmp_path, "calls", CALLS, rows), "calls")
    assert len(frame) == 10 and q.excluded == {"期间外": 4} and q.rows_bad == 0


def test_the_period_check_counts_only_valid_rows(tmp_path):
    # half the valid rows outside is not "mostly": 5 of 10
    rows = [f"c{i},2026-07-0{1 + i} 10:00,answered,5,30,300" for i in range(5)]
    rows += [f"o{i},2026-10-0{1 + i} 10:00,answered,5,30,300" for i in range(5)]
    frame, q = read(csv(tmp_path, "calls", CALLS, rows), "calls")
    assert len(frame) == 5 and q.excluded == {"期间外": 5}
    with pytest.raises(DataError, match="这些记录属于 2026Q4（6 行）"):
        read(
            csv(tmp_path, "calls", CALLS, [*rows, "o9,2026-11-01 10:00,answered,5,30,300"]), "calls"
        )


def test_alignment_reaches_the_cached_table_and_the_frame(tmp_path):
    from selfcheck.ingest.read import ingest, to_pandas

    rows = ["s1,2026-07-02 10:00:30,2026-07-02 10:00,", "s2,2026-07-02 11:00,,2026-07-03 09:00"]
    got = ingest(csv(tmp_path, "chats", CHATS, rows), DATASETS["chats"], Q3)
    assert got.frame is not None and balanced(got.quality)
    for frame in (got.frame, to_pandas(got.table)):  # the frame, and what the cache holds
        assert frame["first_reply_at"].dtype == "datetime64[ns]"
        assert frame["first_reply_at"].tolist()[0] == pd.Timestamp("2026-07-02 10:00:30")
        assert frame["first_reply_at"].isna().tolist() == [False, True]


def test_totals_row_with_sums_in_an_xlsx(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["通话编号", "来电时间", "结果", "振铃时长", "排队时长", "通话时长"])
    for i in range(4):
        ws.append([f"c{i}", "2026-07-02 10:00", "answered", 5, 30000, 300])
    ws.append(["合计：", None, None, 20, 120000, 1200])  # sums above the plausible maxima
    wb.save(tmp_path / "calls.xlsx")
    frame, q = read_dataset(tmp_path / "calls.xlsx", DATASETS["calls"], Q3)
    assert len(frame) == 4 and q.excluded == {TOTALS_ROW: 1} and q.rows_bad == 0
    assert shown(q) == [(6, "call_id", "合计：", TOTALS_ROW)] and balanced(q)


def test_a_cumulative_export_names_every_quarter_found(tmp_path):
    months = ["2026-01-15", "2026-02-15", "2026-04-15", "2026-05-15", "2026-07-15"]
    rows = [f"s{i},{m},安全,2,A{i}" for i, m in enumerate(months)]
    p = csv(tmp_path, "training", TRAINING, rows)
    with pytest.raises(DataError) as e:
        read_dataset(p, DATASETS["training"], Q3)
    msg = str(e.value)
    assert "4 / 5 行记录的日期（date）" in msg and "时间范围为 2026-01-15 至 2026-07-15" in msg
    assert "这些记录属于 2026Q1（2 行）、2026Q2（2 行）" in msg and "只导出本期" in msg
    frame, q = read(p, "training", max_outside_share=1.0)  # the stop can be lifted
    assert len(frame) == 1 and q.excluded == {"期间外": 4}


def test_a_dated_totals_row_is_found_through_its_empty_required_cells(tmp_path):
    rows = [f"c{i},2026-07-02 10:00,answered,5,30000,300" for i in range(3)]
    rows += ["合计,2026-09-30,,15,90000,900"]  # the export date, no outcome, sums
    frame, q = read_dataset(csv(tmp_path, "calls", CALLS, rows), DATASETS["calls"], Q3)
    assert len(frame) == 3 and q.excluded == {TOTALS_ROW: 1} and balanced(q)


def test_floor_and_outside_share_are_parameters(tmp_path):
    """``min_bad_rows`` and ``max_outside_share`` of the parameters file reach ingest."""
    from selfcheck.config import load_config

    folder = tmp_path / "data" / "2026Q3"
    folder.mkdir(parents=True)
    header = "incident_id,started_at,resolved_at,system,severity"
    rows = [f"i{i:02d},2026-09-0{1 + i % 9} 02:00:00,,CRM,minor" for i in range(12)]
    rows[4] = "i04,2026-09-05 02:00:00,,CRM,critical"  # one bad row of 12 (8.3 %)
    csv(folder, "incidents", header, rows)

    default = load_config(write_params(tmp_path / "a", tmp_path / "data"))
    q = DataStore(default).validate(Q3)["incidents"]
    assert (q.rows_kept, q.rows_bad) == (11, 1)  # under the floor of 3: excluded, not fatal

    strict = load_config(write_params(tmp_path / "b", tmp_path / "data", min_bad_rows="1"))
    with pytest.raises(DataError, match=r"incidents\.csv: 8\.3% 的行有问题"):
        DataStore(strict).validate(Q3)

    rows = [r.replace("2026-09-", "2026-06-") for r in rows[:7]] + rows[7:]  # 6 of 11 valid: Q2
    csv(folder, "incidents", header, rows)
    with pytest.raises(DataError, match="2026Q2"):
        DataStore(default).validate(Q3)
    lax = load_config(write_params(tmp_path / "c", tmp_path / "data", max_outside_share="1"))
    q = DataStore(lax).validate(Q3)["incidents"]
    assert (q.rows_kept, q.rows_outside, q.rows_bad) == (5, 6, 1)
