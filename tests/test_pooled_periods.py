"""A year (or half-year) report from the quarter folders the analyst already has
(``data_from: quarters``): the figures come from the pooled records, a record exported in
two quarters counts once, a missing quarter is an error (or, allowed, a partial period
stated in the record), and the data-quality record lists every part file with its folder.
Expectations are computed by hand (pandas over the concatenated quarter files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from selfcheck.config import load_config
from selfcheck.errors import DataError, ParamsError
from selfcheck.ingest import DataStore
from selfcheck.ingest.records import OUTSIDE_PERIOD, SUPERSEDED
from selfcheck.metrics.phone import phone
from selfcheck.metrics.tickets import tickets
from selfcheck.period import Period
from selfcheck.quality import (
    load_quality,
    part_files,
    partial_text,
    quality_path,
    record_quality,
    source_text,
)
from selfcheck.sample import generate

ROOT = Path(__file__).resolve().parents[1]
YEAR = Period.parse("2026")
QUARTERS = [f"2026Q{q}" for q in range(1, 5)]


def _params(folder: Path, data_root: Path, period: str = "2026", **extra: str) -> Path:
    lines = [
        f"period: {period}",
        "organisation: 测试集团有限公司",
        "reporting_unit: 客户服务中心",
        f"data_dir: {data_root.as_posix()}/{{period}}",
        f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}",
        f"output_dir: {(folder / 'outputs').as_posix()}/{{period}}",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{period}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def quarters(tmp_path_factory) -> Path:
    """Small sample data for the four quarters of 2026, one folder each."""
    root = tmp_path_factory.mktemp("quarters")
    generate("2026Q4", root, scale="small", history=3)
    assert sorted(p.name for p in root.iterdir()) == QUARTERS
    return root


# -- figures from the pooled records ---------------------------------------------------


def test_year_answer_rate_is_answered_over_offered_of_the_year(quarters, tmp_path):
    config = load_config(_params(tmp_path, quarters, data_from="quarters"))
    record_quality(config)
    calls = DataStore(config).get("calls", YEAR)

    # by hand: the four quarter files concatenated
    raw = pd.concat(
        [pd.read_csv(quarters / q / "calls.csv", encoding="utf-8") for q in QUARTERS],
        ignore_index=True,
    )
    assert len(calls) == len(raw)
    answered = int((raw["outcome"] == "answered").sum())
    # a short abandon (queued under 5 s) is no request for an agent; an unknown queue time is
    abandoned = int(((raw["outcome"] == "abandoned") & ~(raw["queue_seconds"] < 5)).sum())
    measure = phone(calls, config.thresholds)["phone.answer_rate"]
    assert (measure.numerator, measure.denominator) == (answered, answered + abandoned)
    assert measure.value == pytest.approx(answered / (answered + abandoned), abs=1e-12)

    # … which is not the mean of the four quarterly rates
    rates = []
    for q in QUARTERS:
        part = raw[raw["call_id"].str.startswith(f"TH{q[:4]}{q[-1]}")]
        a = (part["outcome"] == "answered").sum()
        b = ((part["outcome"] == "abandoned") & ~(part["queue_seconds"] < 5)).sum()
        rates.append(a / (a + b))
    assert sum(len(raw[raw["call_id"].str.startswith(f"TH2026{k}")]) for k in "1234") == len(raw)
    assert abs(sum(rates) / 4 - measure.value) > 1e-6


def test_the_quarter_read_alone_is_unchanged(quarters, tmp_path):
    """The same folders for a quarter report: one folder, no pooling, no new record keys."""
    config = load_config(_params(tmp_path, quarters, period="2026Q2", data_from="quarters"))
    store = DataStore(config)
    assert not store.pooled(config.period) and store.part_folders(config.period) == []
    record_quality(config)
    record = json.loads(quality_path(config).read_text(encoding="utf-8"))
    assert list(record) == ["data_dir", "max_bad_share", "datasets", "unused_files"]
    assert "parts" not in record["datasets"][0]
    raw = pd.read_csv(quarters / "2026Q2" / "calls.csv", encoding="utf-8")
    assert len(store.get("calls", config.period)) == len(raw)


# -- hand-made quarter folders: a ticket across a boundary, missing quarters ------------

HEADER = "ticket_id,created_at,channel,level,resolved_at,closed_at\n"
TICKETS = {
    # T1 opened on 30 March: open in the Q1 export, closed in the Q2 export
    "2026Q1": "T1,2026-03-30 10:00,phone,L1,,\nT2,2026-01-05 09:00,online,L1,2026-01-05 12:00,2026-01-06 09:00\n",
    "2026Q2": "T1,2026-03-30 10:00,phone,L1,2026-04-02 10:00,2026-04-03 10:00\nT3,2026-05-06 09:00,app,L2,,\n",
    "2026Q3": "T4,2026-08-01 09:00,phone,L1,2026-08-01 10:00,2026-08-01 11:00\n",
    "2026Q4": "T5,2026-11-11 11:00,wechat,L1,2026-11-11 12:00,2026-11-11 13:00\n",
}


def _tickets_only(root: Path, quarters: dict[str, str] = TICKETS) -> Path:
    for q, rows in quarters.items():
        (root / q).mkdir(parents=True, exist_ok=True)
        (root / q / "tickets.csv").write_text(HEADER + rows, encoding="utf-8")
    return root


def test_a_ticket_across_the_q1_q2_boundary_is_one_record_of_the_year(tmp_path):
    data = _tickets_only(tmp_path / "data")
    config = load_config(_params(tmp_path / "params", data, data_from="quarters"))
    quality = record_quality(config)["tickets"]
    frame = DataStore(config).get("tickets", YEAR)

    assert sorted(frame["ticket_id"]) == ["T1", "T2", "T3", "T4", "T5"]
    t1 = frame[frame["ticket_id"] == "T1"].iloc[0]
    assert t1["resolved_at"] == pd.Timestamp("2026-04-02 10:00")  # the later export's row
    assert (quality.rows_read, quality.rows_kept) == (6, 5)
    assert quality.excluded == {SUPERSEDED: 1} and quality.rows_bad == 0
    assert [q.excluded for q in quality.parts] == [{SUPERSEDED: 1}, {}, {}, {}]
    assert any("T1（2026Q1、2026Q2）" in n for n in quality.notes)

    m = tickets(frame, config.thresholds, config.calendar, YEAR)
    assert m["tickets.total"].value == 5

    # the Q2 quarter report (one folder) still anchors T1 in Q1: outside its period
    q2 = load_config(_params(tmp_path / "q2", data, period="2026Q2"))
    got = record_quality(q2)["tickets"]
    assert (got.rows_kept, got.excluded) == (1, {OUTSIDE_PERIOD: 1})


def test_a_missing_quarter_folder_is_an_error_naming_it(tmp_path):
    data = _tickets_only(tmp_path / "data", {q: TICKETS[q] for q in QUARTERS[:3]})
    config = load_config(_params(tmp_path / "params", data, data_from="quarters"))
    with pytest.raises(DataError) as e:
        record_quality(config)
    text = str(e.value)
    assert "2026Q4" in text and str(data / "2026Q4") in text
    assert "2026Q1" not in text.split("缺少")[1].split("：")[0]
    assert "allow_partial" in text

    # a folder without any dataset file is missing too
    (data / "2026Q4").mkdir()
    (data / "2026Q4" / "说明.txt").write_text("尚未导出", encoding="utf-8")
    with pytest.raises(DataError, match="2026Q4"):
        record_quality(config)


def test_a_partial_period_when_allowed_is_stated_in_the_record(tmp_path):
    data = _tickets_only(tmp_path / "data", {q: TICKETS[q] for q in QUARTERS[:3]})
    params = _params(tmp_path / "params", data, data_from="{parts: quarters, allow_partial: true}")
    config = load_config(params)
    quality = record_quality(config)["tickets"]
    assert quality.rows_kept == 4  # T1 … T4
    record = json.loads(quality_path(config).read_text(encoding="utf-8"))
    assert record["data_from"] == "quarters"
    assert record["missing_parts"] == ["2026Q4"]
    assert [p["present"] for p in record["parts"]] == [True, True, True, False]
    text = partial_text(config)
    assert text == record["partial_text"]
    assert "缺少 2026Q4" in text and "2026Q1、2026Q2、2026Q3" in text
    # days without a ticket are counted over the quarters there are (Q1–Q3: 273 days)
    assert quality.empty_days == 273 - 4


def test_every_part_file_is_listed_with_its_folder(quarters, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(quarters, data)
    (data / "2026Q2" / "电话明细.xlsx").write_bytes(b"")
    config = load_config(_params(tmp_path / "params", data, data_from="quarters"))
    record_quality(config)
    record = json.loads(quality_path(config).read_text(encoding="utf-8"))
    calls = next(d for d in record["datasets"] if d["name"] == "calls")
    assert calls["file"] == "、".join(f"{q}/calls.csv" for q in QUARTERS)
    assert [(p["part"], p["folder"], p["file"]) for p in calls["parts"]] == [
        (q, str(data / q), "calls.csv") for q in QUARTERS
    ]
    raw = [len(pd.read_csv(data / q / "calls.csv", encoding="utf-8")) for q in QUARTERS]
    assert [p["rows_read"] for p in calls["parts"]] == raw
    assert calls["rows_read"] == sum(raw)
    assert len(record["datasets"]) == 10
    assert all(len(d["parts"]) == 4 for d in record["datasets"])
    assert [u["name"] for u in record["unused_files"]] == ["2026Q2/电话明细.xlsx"]
    # the stored record reads back whole, parts included
    back = load_quality(config)["calls"]
    assert [p.part for p in back.parts] == QUARTERS and back.rows_read == sum(raw)


def test_the_pooled_table_is_cached_and_rebuilt_when_a_part_changes(tmp_path, monkeypatch):
    data = _tickets_only(tmp_path / "data")
    config = load_config(_params(tmp_path / "params", data, data_from="quarters"))
    record_quality(config)
    cache = config.output_dir / "cache" / "tickets.arrow"
    assert cache.exists()

    import selfcheck.ingest.store as store_module

    def no_reading(*a, **k):
        raise AssertionError("read again")

    monkeypatch.setattr(store_module, "ingest", no_reading)
    assert len(DataStore(config).get("tickets", YEAR)) == 5
    monkeypatch.undo()

    (data / "2026Q4" / "tickets.csv").write_text(
        HEADER + TICKETS["2026Q4"] + "T6,2026-12-01 09:00,online,L1,,\n", encoding="utf-8"
    )
    assert record_quality(config)["tickets"].rows_kept == 6
    assert len(DataStore(config).get("tickets", YEAR)) == 6


def test_a_quarter_folder_holding_another_quarters_export_stops(tmp_path):
    rows = dict(TICKETS)
    rows["2026Q3"] = "".join(f"X{k},2026-02-{k:02d} 09:00,phone,L1,,\n" for k in range(1, 6))
    data = _tickets_only(tmp_path / "data", rows)
    config = load_config(_params(tmp_path / "params", data, data_from="quarters"))
    with pytest.raises(DataError) as e:
        record_quality(config)
    assert str(data / "2026Q3" / "tickets.csv") in str(e.value)
    assert "2026Q1（5 行）" in str(e.value)


# -- the parameter --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "value", "error"),
    [
        ("2026-07", "quarters", "比报告期间 2026-07"),
        ("2026", "weeks", "data_from"),
        ("2026", "{parts: quarters, partial: true}", "partial"),
    ],
)
def test_bad_data_from_is_a_params_error(tmp_path, period, value, error):
    with pytest.raises(ParamsError, match=error):
        load_config(_params(tmp_path, tmp_path / "data", period=period, data_from=value))


def test_data_from_needs_period_in_data_dir(tmp_path):
    path = _params(tmp_path, tmp_path / "data", data_from="quarters")
    path.write_text(
        path.read_text(encoding="utf-8").replace("/{period}\n", "/all\n", 1), encoding="utf-8"
    )
    with pytest.raises(ParamsError, match=r"data_dir 含 \{period\}"):
        load_config(path)


def test_a_half_year_from_months(tmp_path):
    months = {
        "2026-01": "A1,2026-01-31 23:00,phone,L1,,\n",
        "2026-02": "A1,2026-01-31 23:00,phone,L1,2026-02-01 08:00,\nA2,2026-02-02 08:00,online,L1,,\n",
        **{f"2026-0{m}": f"A{m},2026-0{m}-10 08:00,online,L1,,\n" for m in range(3, 7)},
    }
    data = _tickets_only(tmp_path / "data", months)
    config = load_config(_params(tmp_path / "p", data, period="2026H1", data_from="months"))
    q = record_quality(config)["tickets"]
    assert (q.rows_read, q.rows_kept, q.excluded) == (7, 6, {SUPERSEDED: 1})
    assert [p.part for p in q.parts] == [f"2026-0{m}" for m in range(1, 7)]


def test_an_incomplete_comparison_year_is_named_in_the_record(tmp_path):
    data = _tickets_only(tmp_path / "data")
    for q in ("2025Q3", "2025Q4"):  # the year before: only its second half
        (data / q).mkdir()
        (data / q / "tickets.csv").write_text(
            HEADER + f"P{q[-1]},{q[:4]}-{int(q[-1]) * 3:02d}-01 09:00,phone,L1,,\n",
            encoding="utf-8",
        )
    config = load_config(_params(tmp_path / "params", data, data_from="quarters"))
    record_quality(config)
    record = json.loads(quality_path(config).read_text(encoding="utf-8"))
    assert record["incomplete_comparisons"] == [
        {"period": "2025", "missing_parts": ["2025Q1", "2025Q2"]}
    ]
    assert DataStore(config).get("tickets", Period.parse("2025")) is None


def test_the_source_sentence_and_the_files_for_the_appendix(tmp_path):
    data = _tickets_only(tmp_path / "data", {q: TICKETS[q] for q in QUARTERS[:3]})
    params = _params(tmp_path / "p", data, data_from="{parts: quarters, allow_partial: true}")
    config = load_config(params)
    quality = record_quality(config)["tickets"]
    folders = "、".join(f"{q}（{data / q}）" for q in QUARTERS[:3])
    assert source_text(config) == (
        f"数据由各季度的数据目录合并（参数 data_from）：{folders}。" + partial_text(config)
    )
    assert [(q.part, q.file, q.rows_read) for q in part_files(quality)] == [
        ("2026Q1", "tickets.csv", 2),
        ("2026Q2", "tickets.csv", 2),
        ("2026Q3", "tickets.csv", 1),
    ]
    quarter = load_config(_params(tmp_path / "q", data, period="2026Q1"))
    one = record_quality(quarter)["tickets"]
    assert source_text(quarter) == f"数据目录：{data / '2026Q1'}。"
    assert part_files(one) == [one]


def test_a_year_without_its_folder_points_at_data_from(tmp_path):
    data = _tickets_only(tmp_path / "data")
    config = load_config(_params(tmp_path / "p", data))  # default: one folder, data/2026
    with pytest.raises(DataError) as e:
        record_quality(config)
    assert str(data / "2026") in str(e.value)
    assert "已有 2026Q1、2026Q2、2026Q3、2026Q4 的数据目录" in str(e.value)
    assert "data_from: quarters" in str(e.value)
