"""Group companies (``branches:``): the consolidated figures, the group run, its errors.

The group's figures are computed from the pooled records of its branches (identifiers
prefixed with the branch's name), never from the branches' figures; each branch's own
report is the report a parameters file of that branch alone gives.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import ROOT

from selfcheck.config import load_config
from selfcheck.period import Period

PERIOD = "2026Q3"
EAST, SOUTH = "华东分公司", "华南分公司"


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(["" if v is None else v for v in row] for row in rows)


def group_params(
    folder: Path,
    branches: list[tuple[str, str, str]],
    *,
    output: Path | None = None,
    extra: str = "",
) -> Path:
    """A group's parameters file: ``branches`` = (id, name, data_dir with {period})."""
    lines = [
        f"period: {PERIOD}",
        "organisation: 测试集团有限公司",
        "reporting_unit: 客户服务中心",
        "report_date: 2026-10-15",
        f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}",
        f"output_dir: {(output or folder / 'outputs').as_posix()}/{{period}}",
        "layout: 'off'",
        "branches:",
    ]
    for bid, name, data_dir in branches:  # block style: {period} breaks a flow mapping
        lines += [f"  - id: {bid}", f"    name: {name}", f"    data_dir: {data_dir}"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PERIOD}.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


# -- 1. consolidated figures over hand-written records ---------------------------------

CALL_HEADER = ["call_id", "arrived_at", "outcome", "queue_seconds", "talk_seconds", "agent_id"]
# 华东: answered 2, abandoned (counted) 1, ivr 1 → offered 3, answer rate 2/3
EAST_CALLS = [
    ("C1", "2026-08-03 09:10:00", "answered", 10, 120, "KF001"),
    ("C2", "2026-08-03 09:20:00", "answered", 20, 180, "KF001"),
    ("C3", "2026-08-04 10:00:00", "abandoned", 30, None, None),
    ("C4", "2026-08-04 11:00:00", "ivr", None, None, None),
]
# 华南: answered 2, abandoned 3 counted + 1 short (2 s < 5 s, not offered) → offered 5, 2/5
SOUTH_CALLS = [
    ("C1", "2026-08-05 09:00:00", "answered", 5, 200, "KF001"),
    ("C2", "2026-08-05 09:05:00", "abandoned", 40, None, None),
    ("C3", "2026-08-05 09:06:00", "abandoned", 50, None, None),
    ("C4", "2026-08-05 09:07:00", "abandoned", 60, None, None),
    ("C5", "2026-08-05 09:08:00", "abandoned", 2, None, None),
    ("C6", "2026-08-06 14:00:00", "answered", 15, 90, "KF002"),
]
TICKET_HEADER = ["ticket_id", "created_at", "channel", "level", "customer_id", "agent_id"]
# 华东's U1 opens T2 a day after T1: a repeat; 华南's U1 is another customer
EAST_TICKETS = [
    ("T1", "2026-08-03 10:00:00", "phone", "L1", "U1", "KF001"),
    ("T2", "2026-08-04 10:00:00", "phone", "L1", "U1", "KF001"),
]
SOUTH_TICKETS = [
    ("T1", "2026-08-05 10:00:00", "online", "L2", "U1", "KF001"),
]
SURVEY_HEADER = ["response_id", "answered_at", "overall", "ticket_id"]
EAST_SURVEYS = [("S1", "2026-08-03 12:00:00", 5, "T1"), ("S2", "2026-08-04 12:00:00", 3, "T2")]
SOUTH_SURVEYS = [("S1", "2026-08-05 12:00:00", 4, "T1")]
QA_HEADER = ["review_id", "reviewed_at", "agent_id", "professionalism", "compliance", "experience"]
EAST_QA = [
    ("R1", "2026-08-10 10:00:00", "KF001", 80, 80, 80),  # score 80
    ("R2", "2026-08-11 10:00:00", "KF001", 90, 90, 90),  # score 90 → 华东/KF001 mean 85
]
SOUTH_QA = [
    ("R1", "2026-08-12 10:00:00", "KF001", 70, 70, 70),  # 华南/KF001 mean 70
    ("R2", "2026-08-12 11:00:00", "KF002", 60, 60, 60),
]


@pytest.fixture(scope="module")
def tiny_group(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny_group")
    for bid, calls, tickets, surveys, reviews in (
        ("b01", EAST_CALLS, EAST_TICKETS, EAST_SURVEYS, EAST_QA),
        ("b02", SOUTH_CALLS, SOUTH_TICKETS, SOUTH_SURVEYS, SOUTH_QA),
    ):
        folder = root / "data" / bid / PERIOD
        write_csv(folder / "calls.csv", CALL_HEADER, calls)
        write_csv(folder / "tickets.csv", TICKET_HEADER, tickets)
        write_csv(folder / "surveys.csv", SURVEY_HEADER, surveys)
        write_csv(folder / "qa_reviews.csv", QA_HEADER, reviews)
    data = (root / "data").as_posix()
    return group_params(
        root / "params",
        [("b01", EAST, f"{data}/b01/{{period}}"), ("b02", SOUTH, f"{data}/b02/{{period}}")],
    )


def test_group_figures_are_computed_over_the_pooled_records(tiny_group):
    from selfcheck.ingest import DataStore
    from selfcheck.metrics.phone import phone
    from selfcheck.metrics.qa import qa
    from selfcheck.metrics.satisfaction import satisfaction
    from selfcheck.metrics.tickets import tickets

    config = load_config(tiny_group)
    assert config.is_group and config.output_dir.name == "group"
    period = Period.parse(PERIOD)
    store = DataStore(config)
    store.validate(period)
    th = config.thresholds
    calls = store.get("calls", period)
    assert calls is not None and len(calls) == 10

    p = phone(calls, th)
    assert p["phone.calls"].value == 4 + 6
    assert p["phone.offered"].value == 3 + 5
    answer = p["phone.answer_rate"]
    assert (answer.numerator, answer.denominator) == (2 + 2, 3 + 5)
    assert answer.value == pytest.approx(4 / 8)
    # not the mean of the branches' rates (2/3 and 2/5 → 0.5333…)
    assert answer.value != pytest.approx((2 / 3 + 2 / 5) / 2)
    for bid, rate in (("b01", 2 / 3), ("b02", 2 / 5)):  # each branch's own figure
        own = DataStore(config.for_branch(bid))
        assert phone(own.get("calls", period), th)["phone.answer_rate"].value == pytest.approx(rate)

    # identifiers collide across branches: prefixed, they stay distinct
    c1 = calls.loc[calls["call_id"].str.endswith("/C1"), "call_id"]
    assert sorted(c1) == sorted([f"{EAST}/C1", f"{SOUTH}/C1"])
    assert calls["call_id"].is_unique
    assert set(calls["agent_id"].dropna()) == {f"{EAST}/KF001", f"{SOUTH}/KF001", f"{SOUTH}/KF002"}

    reviews = store.get("qa_reviews", period)
    q = qa(reviews, th)
    assert q["qa.reviews"].value == 4
    assert q["qa.score_mean"].value == pytest.approx((80 + 90 + 70 + 60) / 4)
    kf001 = {k: m for k, m in q.items() if k.startswith("qa.score_mean.agent:") and "KF001" in k}
    assert sorted(kf001) == sorted(
        [f"qa.score_mean.agent:{EAST}/KF001", f"qa.score_mean.agent:{SOUTH}/KF001"]
    )
    assert kf001[f"qa.score_mean.agent:{EAST}/KF001"].value == pytest.approx(85)
    assert kf001[f"qa.score_mean.agent:{EAST}/KF001"].n == 2
    assert kf001[f"qa.score_mean.agent:{SOUTH}/KF001"].value == pytest.approx(70)
    assert kf001[f"qa.score_mean.agent:{SOUTH}/KF001"].n == 1

    # 华南's customer U1 is not 华东's U1: one repeat (华东's T2) of three tickets
    t = tickets(store.get("tickets", period), th, config.calendar, period)
    assert t["tickets.total"].value == 3
    repeat = t["tickets.repeat_contact_rate"]
    assert (repeat.numerator, repeat.denominator) == (1, 3)

    surveys = store.get("surveys", period)
    assert sorted(surveys["ticket_id"]) == sorted([f"{EAST}/T1", f"{EAST}/T2", f"{SOUTH}/T1"])
    s = satisfaction(surveys, th)
    assert s["satisfaction.responses"].value == 3
    top = s["satisfaction.top_box_rate"]  # 5 and 4 are top box, 3 is not
    assert (top.numerator, top.denominator) == (2, 3)


def test_group_quality_record_sums_rows_and_lists_each_branch(tiny_group):
    from selfcheck.ingest import DataStore

    config = load_config(tiny_group)
    period = Period.parse(PERIOD)
    quality = DataStore(config).validate(period)
    assert sorted(quality) == ["calls", "qa_reviews", "surveys", "tickets"]
    calls = quality["calls"]
    assert (calls.rows_read, calls.rows_kept) == (4 + 6, 4 + 6)
    assert [p.part for p in calls.parts] == ["b01", "b02"]
    assert [(p.rows_read, p.rows_kept) for p in calls.parts] == [(4, 4), (6, 6)]
    assert [p.folder for p in calls.parts] == [
        str(config.for_branch(b).data_dir(period)) for b in ("b01", "b02")
    ]
    assert calls.file == f"{EAST}/calls.csv、{SOUTH}/calls.csv"
    assert quality["tickets"].rows_kept == 2 + 1
    assert quality["qa_reviews"].rows_kept == 2 + 2
    assert [p.rows_kept for p in quality["surveys"].parts] == [2, 1]
