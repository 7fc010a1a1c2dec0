from pathlib import Path

import pandas as pd
import pytest

from selfcheck.errors import DataError
from selfcheck.ingest import DataStore, read_dataset
from selfcheck.period import Period
from selfcheck.schema import DATASETS

Q3 = Period.parse("2026Q3")
CALLS_HEADER = (
    "call_id,arrived_at,outcome,ring_seconds,queue_seconds,talk_seconds,agent_id,customer_id\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_typed_read_and_period_filter(tmp_path):
    rows = [
        "c1,2026-07-01 00:00:00,answered,3,12.5,200,A1,K1",
        "c2,2026-09-30 23:59:59,abandoned,,40,,,K2",
        "c3,2026-10-01 00:00:00,answered,3,10,100,A1,K3",  # next quarter
        "c4,2026-06-30 23:59:59,busy,,,,,",  # previous quarter
    ]
    p = write(tmp_path, "calls.csv", CALLS_HEADER + "\n".join(rows) + "\n")
    frame, q = read_dataset(p, DATASETS["calls"], Q3)
    assert frame["call_id"].tolist() == ["c1", "c2"]
    assert str(frame["arrived_at"].dtype) == "datetime64[ns]"
    assert frame["queue_seconds"].tolist() == [12.5, 40.0]
    assert pd.isna(frame["ring_seconds"].iloc[1])
    assert q.rows_read == 4 and q.rows_kept == 2
    assert q.excluded == {"期间外": 2}
    assert q.empty_days == 92 - 2
    assert len(q.sha256) == 64


def test_booleans_accept_contract_forms(tmp_path):
    header = "session_id,started_at,bot_only,off_hours_notice\n"
    rows = [
        "s1,2026-07-01 10:00,是,有",
        "s2,2026-07-01 10:00,否,无",
        "s3,2026-07-01 10:00,Y,",
        "s4,2026-07-01 10:00,0,1",
    ]
    p = write(tmp_path, "chats.csv", header + "\n".join(rows) + "\n")
    frame, _ = read_dataset(p, DATASETS["chats"], Q3)
    assert frame["bot_only"].tolist() == [True, False, True, False]
    assert frame["off_hours_notice"].tolist()[:2] == [True, False]
    assert pd.isna(frame["off_hours_notice"].iloc[2])
    assert str(frame["bot_only"].dtype) == "boolean"


def test_bad_rows_excluded_and_counted_with_lines(tmp_path):
    good = [f"c{i},2026-07-02 10:00:00,answered,2,5,60,A1,K1" for i in range(100)]
    bad = [
        "c1,2026-07-02 11:00:00,answered,2,5,60,A1,K1",  # duplicate id (line 102)
        "x1,2026-07-02 11:00:00,HANG,2,5,60,A1,K1",  # unknown outcome (line 103)
        "x2,2026-07-02 11:00:00,answered,2,-5,60,A1,K1",  # negative queue (line 104)
    ]
    p = write(tmp_path, "calls.csv", CALLS_HEADER + "\n".join(good + bad) + "\n")
    frame, q = read_dataset(p, DATASETS["calls"], Q3)
    assert len(frame) == 100
    assert q.excluded == {
        "call_id 重复": 1,
        "outcome 取值不在 answered/abandoned/ivr/busy 之内": 1,
        "queue_seconds 为负数": 1,
    }
    lines = {e.reason.split()[0]: e.line for e in q.examples}
    assert lines == {"call_id": 102, "outcome": 103, "queue_seconds": 104}


def test_too_many_bad_rows_stop_with_file_column_examples(tmp_path):
    rows = [
        f"c{i},2026-07-02 10:00:00,{'HANG' if i % 5 == 0 else 'answered'},2,5,60,A,K"
        for i in range(50)
    ]
    p = write(tmp_path, "calls.csv", CALLS_HEADER + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as e:
        read_dataset(p, DATASETS["calls"], Q3)
    msg = str(e.value)
    assert str(p) in msg and "20.0%" in msg and "第 2 行" in msg and "outcome" in msg


def test_unparseable_timestamp_names_line_and_column(tmp_path):
    rows = ["c1,2026-07-02 10:00:00,answered,2,5,60,A,K", "c2,07/02/2026,answered,2,5,60,A,K"]
    p = write(tmp_path, "calls.csv", CALLS_HEADER + "\n".join(rows) + "\n")
    with pytest.raises(
        DataError, match=r"列 arrived_at（来电时间）时间无法识别：1 行，例如 第 3 行 '07/02/2026'"
    ):
        read_dataset(p, DATASETS["calls"], Q3, min_bad_rows=1)


def test_text_in_number_column(tmp_path):
    p = write(
        tmp_path, "calls.csv", CALLS_HEADER + "c1,2026-07-02 10:00:00,answered,2,abc,60,A,K\n"
    )
    with pytest.raises(
        DataError, match=r"(?s)列 queue_seconds（排队时长）不是数字.*第 2 行 'abc'.*只能填数字"
    ):
        read_dataset(p, DATASETS["calls"], Q3, min_bad_rows=1)


def test_missing_required_column(tmp_path):
    p = write(tmp_path, "calls.csv", "call_id,arrived_at\nc1,2026-07-02 10:00:00\n")
    with pytest.raises(DataError, match=r"缺少必填列 outcome（结果）"):
        read_dataset(p, DATASETS["calls"], Q3)


def test_empty_file_and_gbk(tmp_path):
    p = write(tmp_path, "calls.csv", "")
    with pytest.raises(DataError, match="文件为空"):
        read_dataset(p, DATASETS["calls"], Q3)
    p.write_bytes("通话编号,来电时间,结果\nc1,2026-07-02 10:00,人工接听\n".encode("gbk"))
    frame, q = read_dataset(p, DATASETS["calls"], Q3)
    assert q.encoding == "GBK" and frame["outcome"].tolist() == ["answered"]


def test_store_validate_errors(tmp_path):
    store = DataStore(lambda period: tmp_path / str(period))
    with pytest.raises(DataError, match="数据目录不存在"):
        store.validate(Q3)
    (tmp_path / "2026Q3").mkdir()
    with pytest.raises(DataError, match="没有任何数据集文件"):
        store.validate(Q3)
    write(
        tmp_path / "2026Q3",
        "calls.csv",
        CALLS_HEADER + "c1,2026-07-02 10:00:00,answered,2,5,60,A,K\n",
    )
    quality = store.validate(Q3)
    assert list(quality) == ["calls"]
    assert store.get("chats", Q3) is None  # optional dataset absent
    assert store.get("calls", Q3) is store.get("calls", Q3)  # read once
    assert store.has_period(Q3) and not store.has_period(Q3.previous())
