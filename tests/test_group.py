"""Group companies (``branches:``): the consolidated figures, the group run, its errors.

The group's figures are computed from the pooled records of its branches (identifiers
prefixed with the branch's name), never from the branches' figures; each branch's own
report is the report a parameters file of that branch alone gives.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
from conftest import ROOT, write_params

from selfcheck.config import load_config
from selfcheck.errors import ParamsError
from selfcheck.execution.group import GroupResult
from selfcheck.period import Period

PERIOD = "2026Q3"
EAST, SOUTH, NORTH = "华东分公司", "华南分公司", "华北分公司"
REPORT = f"{PERIOD}_客户服务自查报告.docx"


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
    ("C5", "2026-06-30 23:00:00", "answered", 10, 60, "KF001"),  # 2026Q2: left out
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
    assert (calls.rows_read, calls.rows_kept) == (5 + 6, 4 + 6)
    assert calls.rows_outside == 1 and calls.rows_bad == 0
    assert [p.part for p in calls.parts] == ["b01", "b02"]
    assert [(p.rows_read, p.rows_kept) for p in calls.parts] == [(5, 4), (6, 6)]
    assert [p.folder for p in calls.parts] == [
        str(config.for_branch(b).data_dir(period)) for b in ("b01", "b02")
    ]
    assert calls.file == f"{EAST}/calls.csv、{SOUTH}/calls.csv"
    assert quality["tickets"].rows_kept == 2 + 1
    assert quality["qa_reviews"].rows_kept == 2 + 2
    assert [p.rows_kept for p in quality["surveys"].parts] == [2, 1]


@pytest.mark.parametrize("partial", [False, True], ids=["complete", "b02-without-Q4"])
def test_a_groups_year_pooled_from_each_branchs_quarter_folders(tmp_path, partial):
    """data_from: quarters in a group: every branch's quarter folders, in the figures, the
    scope, the quality record and the appendix's wording."""
    from selfcheck.ingest import DataStore
    from selfcheck.metrics.phone import phone
    from selfcheck.quality import record_quality, source_text
    from selfcheck.scope import resolve_scope

    quarters = {"2026Q1": "02", "2026Q2": "05", "2026Q3": "08", "2026Q4": "11"}
    for bid in ("b01", "b02"):
        for q, month in quarters.items():
            if partial and (bid, q) == ("b02", "2026Q4"):
                continue
            write_csv(
                tmp_path / "data" / bid / q / "calls.csv",
                ["call_id", "arrived_at", "outcome", "queue_seconds"],
                [(f"C{q}", f"2026-{month}-03 10:00:00", "answered", 10)],
            )
    data = (tmp_path / "data").as_posix()
    params = group_params(
        tmp_path / "params",
        [("b01", EAST, f"{data}/b01/{{period}}"), ("b02", SOUTH, f"{data}/b02/{{period}}")],
        extra="data_from: {parts: quarters, allow_partial: true}\n",
    )
    params.write_text(
        params.read_text(encoding="utf-8").replace(f"period: {PERIOD}", "period: 2026", 1),
        encoding="utf-8",
    )
    config = load_config(params)
    store = DataStore(config)
    quality = record_quality(config, store)
    n = 8 - partial
    assert quality["calls"].rows_kept == n
    assert phone(store.get("calls", config.period), config.thresholds)["phone.offered"].value == n
    assert resolve_scope(config).entry("calls").status == "included"
    parts = store.part_folders(config.period)
    assert [p.label for p in parts if p.present] == [
        f"{name}/{q}"
        for name in (EAST, SOUTH)
        for q in quarters
        if not (partial and (name, q) == (SOUTH, "2026Q4"))
    ]
    assert {p.folder for p in parts} == {
        tmp_path / "data" / bid / q for bid in ("b01", "b02") for q in quarters
    }
    record = json.loads((config.output_dir / "data_quality.json").read_text(encoding="utf-8"))
    assert record["missing_parts"] == ([f"{SOUTH}/2026Q4"] if partial else [])
    text = source_text(config)
    assert f"{EAST}（{data}/b01/2026Q1、" in text and f"{SOUTH}（{data}/b02/2026Q1、" in text
    if partial:
        assert f"缺少 {SOUTH}/2026Q4 的数据" in text
    else:
        assert "部分期间" not in text


# -- 3, 5. errors before anything runs -------------------------------------------------


def test_a_branch_without_its_data_folder_stops_the_group_run_before_it_starts(tmp_path):
    from selfcheck.execution.group import run_group

    there = tmp_path / "data" / "b01" / PERIOD
    write_csv(there / "calls.csv", CALL_HEADER, EAST_CALLS)
    data = (tmp_path / "data").as_posix()
    params = group_params(
        tmp_path / "params",
        [("b01", EAST, f"{data}/b01/{{period}}"), ("b02", SOUTH, f"{data}/b02/{{period}}")],
    )
    with pytest.raises(ParamsError) as e:
        run_group(params, echo=lambda _: None)
    message = str(e.value)
    assert SOUTH in message and "b02" in message
    assert str(tmp_path / "data" / "b02" / PERIOD) in message
    assert EAST not in message  # only the branch at fault
    assert not (tmp_path / "params" / "outputs").exists()  # nothing ran


def test_a_year_from_quarter_folders_needs_no_year_folder_in_the_group_run(tmp_path):
    """data_from: quarters: a branch's data are its quarter folders (there is no year folder);
    only a branch with none of them is named."""
    from selfcheck.execution.group import run_group

    write_csv(tmp_path / "data" / "b01" / "2026Q3" / "calls.csv", CALL_HEADER, EAST_CALLS)
    data = (tmp_path / "data").as_posix()
    params = group_params(
        tmp_path / "params",
        [("b01", EAST, f"{data}/b01/{{period}}"), ("b02", SOUTH, f"{data}/b02/{{period}}")],
        extra="data_from: {parts: quarters, allow_partial: true}\n",
    )
    params.write_text(
        params.read_text(encoding="utf-8").replace(f"period: {PERIOD}", "period: 2026", 1),
        encoding="utf-8",
    )
    with pytest.raises(ParamsError) as e:
        run_group(params, echo=lambda _: None)
    message = str(e.value)
    assert f"{SOUTH}（b02）：{data}/b02/2026Q1、{data}/b02/2026Q2、" in message
    assert EAST not in message
    assert not (tmp_path / "params" / "outputs").exists()


def test_no_group_report_when_every_branch_failed_even_with_allow_partial(tmp_path):
    """Nothing to pool: an error naming each branch and why, never the group's own data_dir
    (which here holds valid data) in their stead."""
    from selfcheck.errors import DataError, SectionError
    from selfcheck.execution.group import run_group
    from selfcheck.group import write_members
    from selfcheck.ingest import DataStore

    for bid in ("b01", "b02"):  # the required column outcome missing
        write_csv(
            tmp_path / "data" / bid / PERIOD / "calls.csv",
            ["call_id", "arrived_at"],
            [("C1", "2026-08-03 10:00:00")],
        )
    write_csv(tmp_path / "own" / PERIOD / "calls.csv", CALL_HEADER, EAST_CALLS)
    data = (tmp_path / "data").as_posix()
    params = group_params(
        tmp_path / "params",
        [("b01", EAST, f"{data}/b01/{{period}}"), ("b02", SOUTH, f"{data}/b02/{{period}}")],
        extra=f"data_dir: {(tmp_path / 'own').as_posix()}/{{period}}\n",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SELFCHECK_POOL_IDLE", "120")
        with pytest.raises(SectionError) as e:
            run_group(params, allow_partial=True, layout=False, echo=lambda _: None)
    message = str(e.value)
    for name, bid in ((EAST, "b01"), (SOUTH, "b02")):
        assert (
            f"{name}（{bid}）：运行失败：{data}/{bid}/{PERIOD}/calls.csv: 缺少必填列 outcome"
            in message
        )
    assert "其余机构的报告已生成" not in message
    group = tmp_path / "params" / "outputs" / PERIOD / "group"
    assert not (group / REPORT).exists() and not (group / "members.json").exists()

    # a store of the group whose members are all left out has no data, not the group's own
    config = load_config(params)
    write_members(config, {"b01": "运行失败", "b02": "运行失败"})
    with pytest.raises(DataError) as e:
        DataStore(config)
    assert str(config.output_dir / "members.json") in str(e.value)


@pytest.mark.parametrize(
    ("branches", "named"),
    [
        ([("b01", EAST, "d/b01/{period}"), ("b01", SOUTH, "d/b02/{period}")], "b01"),
        ([("B01", EAST, "d/b01/{period}"), ("b01", SOUTH, "d/b02/{period}")], "b01"),
        ([("b01", EAST, "d/b01/{period}"), ("b02", EAST, "d/b02/{period}")], EAST),
        ([("b01", EAST, "d/b01/{period}"), ("group", SOUTH, "d/g/{period}")], "'group'"),
        ([("b01", EAST, "d/b01/{period}"), ("Group", SOUTH, "d/g/{period}")], "'Group'"),
        ([("b01", EAST, "d/b01/{period}"), ("b 2", SOUTH, "d/g/{period}")], "'b 2'"),
        ([("b01", EAST, "d/b01/2026Q3")], "'d/b01/2026Q3'"),
    ],
    ids=[
        "duplicate-id",
        "id-differing-in-case",
        "duplicate-name",
        "group",
        "Group",
        "space",
        "no-period",
    ],
)
def test_bad_branches_are_params_errors_naming_the_value(tmp_path, branches, named):
    params = group_params(tmp_path, branches)
    with pytest.raises(ParamsError) as e:
        load_config(params)
    assert named in str(e.value)
    assert str(params) in str(e.value)


def test_a_period_in_a_flow_mapping_is_explained(tmp_path):
    """``- {id: b01, …, data_dir: d/{period}}`` is not YAML: the message says to quote it;
    quoted, the branch is read."""
    params = group_params(tmp_path, [])
    base = params.read_text(encoding="utf-8")
    params.write_text(
        base + "  - {id: b01, name: 华东分公司, data_dir: d/{period}}\n", encoding="utf-8"
    )
    with pytest.raises(ParamsError) as e:
        load_config(params)
    assert "第 9 行" in str(e.value) and "须给值加引号" in str(e.value)
    params.write_text(
        base + "  - {id: b01, name: 华东分公司, data_dir: 'd/{period}'}\n", encoding="utf-8"
    )
    config = load_config(params, branch="b01")
    assert config.data_dir() == tmp_path / "d" / PERIOD


def test_an_unknown_branch_id_is_a_params_error_naming_it_and_the_branches(tiny_group):
    from selfcheck.execution.group import run_group

    for call in (
        lambda: load_config(tiny_group, branch="b09"),
        lambda: run_group(tiny_group, branch="b09", echo=lambda _: None),
    ):
        with pytest.raises(ParamsError) as e:
            call()
        message = str(e.value)
        assert "'b09'" in message
        assert f"b01（{EAST}）" in message and f"b02（{SOUTH}）" in message
    assert not (tiny_group.parent / "outputs" / PERIOD / "b09").exists()


# -- 2, 4, 6. the group run on small sample data ---------------------------------------

SELFCHECK = (sys.executable, "-m", "selfcheck")
REPORT_FILES = (REPORT, "metrics.csv", "metrics.xlsx", "run_manifest.json")


def metric_rows(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "metrics.csv").open(encoding="utf-8-sig", newline="") as f:
        return {row["metric_id"]: row for row in csv.DictReader(f)}


def figure(folder: Path, metric_id: str) -> int:
    return int(metric_rows(folder)[metric_id]["value"])


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Each report file of an output folder: (mtime in ns, bytes)."""
    return {n: ((folder / n).stat().st_mtime_ns, (folder / n).read_bytes()) for n in REPORT_FILES}


@dataclass
class GroupRun:
    root: Path
    params: Path
    out: Path  # outputs/<period>: b01, b02, group
    data: dict[str, Path]  # branch id → its data folder of the period
    result: GroupResult
    before: dict[str, dict[str, tuple[int, bytes]]]  # b01, b02, group → snapshot()


@pytest.fixture(scope="module")
def group_run(tmp_path_factory) -> GroupRun:
    """One full local run of a two-branch group (small sample data, a seed per branch)."""
    from selfcheck.execution.group import run_group
    from selfcheck.sample import generate

    root = tmp_path_factory.mktemp("group_run")
    branches = []
    for bid, name, seed in (("b01", EAST, 11), ("b02", SOUTH, 22)):
        generate(PERIOD, root / "data" / bid, scale="small", seed=seed)
        branches.append((bid, name, f"{(root / 'data' / bid).as_posix()}/{{period}}"))
    params = group_params(root / "params", branches, output=root / "outputs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SELFCHECK_POOL_IDLE", "120")  # no warm server left for long after the tests
        result = run_group(params, layout=False, echo=lambda _: None)
    out = root / "outputs" / PERIOD
    return GroupRun(
        root,
        params,
        out,
        {bid: root / "data" / bid / PERIOD for bid in ("b01", "b02")},
        result,
        {k: snapshot(out / k) for k in ("b01", "b02", "group")},
    )


def test_the_group_run_writes_each_branch_and_the_group(group_run):
    r = group_run.result
    assert [(b.branch.id, b.status) for b in r.branches] == [("b01", "ok"), ("b02", "ok")]
    assert r.report == group_run.out / "group" / REPORT
    for folder in ("b01", "b02", "group"):
        for name in REPORT_FILES:
            assert (group_run.out / folder / name).is_file(), (folder, name)
    members = json.loads((group_run.out / "group" / "members.json").read_text(encoding="utf-8"))
    assert members == {"period": PERIOD, "included": ["b01", "b02"], "excluded": {}}
    rows = {k: metric_rows(group_run.out / k) for k in ("b01", "b02", "group")}
    for metric_id in ("phone.calls", "phone.offered", "tickets.total", "qa.reviews"):
        # this period, the previous quarter (环比) and a year ago (同比): the branches' sums
        for column in ("value", "previous", "year_ago"):
            assert int(rows["group"][metric_id][column]) == sum(
                int(rows[k][metric_id][column]) for k in ("b01", "b02")
            ), (metric_id, column)
    # the seeds give the branches different figures: the group's rate is the pooled one
    rate = {k: rows[k]["phone.answer_rate"] for k in rows}
    assert rate["b01"]["denominator"] != rate["b02"]["denominator"]
    for column in ("numerator", "denominator"):
        assert int(rate["group"][column]) == int(rate["b01"][column]) + int(rate["b02"][column])
    pooled = int(rate["group"]["numerator"]) / int(rate["group"]["denominator"])
    assert float(rate["group"]["value"]) == pytest.approx(pooled, abs=1e-12)
    assert pooled != pytest.approx(
        (float(rate["b01"]["value"]) + float(rate["b02"]["value"])) / 2, abs=1e-9
    )
    text = "\n".join(p.text for p in docx.Document(str(r.report)).paragraphs)
    assert (
        f"集团汇总数据由各分支机构的数据目录合并：{EAST}（{group_run.data['b01']}）、"
        f"{SOUTH}（{group_run.data['b02']}）。"
    ) in text


def test_each_branch_report_is_the_report_of_that_branch_alone(group_run, tmp_path):
    """A branch's report and metrics.csv are byte for byte those of a parameters file of the
    branch alone (its data folder, reporting_unit = its name, an output folder of its own),
    but for one cell: the appendix's checksum of the parameters file, which is the group's
    file in the group run and the branch's own file here (two different files)."""
    from selfcheck.execution.kernels import warm_pool
    from selfcheck.execution.runner import run

    config = load_config(group_run.params)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SELFCHECK_POOL_IDLE", "120")  # set before the warm server may start
        with warm_pool(shared=True) as pool:
            for bid, name in (("b01", EAST), ("b02", SOUTH)):
                single = tmp_path / bid
                single.mkdir()
                params = single / f"{PERIOD}.yaml"
                params.write_text(
                    "\n".join(
                        [
                            f"period: {PERIOD}",
                            "organisation: 测试集团有限公司",
                            f"reporting_unit: {name}",
                            "report_date: 2026-10-15",
                            f"standards: {config.standards.path.as_posix()}",
                            f"data_dir: {group_run.data[bid].parent.as_posix()}/{{period}}",
                            f"output_dir: {(single / 'outputs').as_posix()}/{{period}}",
                            "layout: 'off'",
                        ]
                    )
                    + "\n",
                    encoding="utf-8",
                )
                alone = run(params, pool=pool, echo=lambda _: None)
                assert not alone.failed
                folder = single / "outputs" / PERIOD
                ours = group_run.before[bid]
                assert (folder / "metrics.csv").read_bytes() == ours["metrics.csv"][1], bid
                own = (folder / REPORT).read_bytes()
                if own != ours[REPORT][1]:
                    differing = _docx_differences(ours[REPORT][1], own)
                    assert differing == {"word/document.xml"}, (bid, differing)
                    # the one difference: the parameters file's checksum (first 16 digits)
                    digest = {
                        p: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
                        for p in (group_run.params, params)
                    }
                    group_xml = _part(ours[REPORT][1], "word/document.xml")
                    own_xml = _part(own, "word/document.xml")
                    assert group_xml.count(digest[group_run.params].encode()) == 1
                    assert own_xml.count(digest[params].encode()) == 1
                    assert (
                        group_xml.replace(
                            digest[group_run.params].encode(), digest[params].encode()
                        )
                        == own_xml
                    ), bid


def _part(docx: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        return z.read(name)


def _docx_differences(a: bytes, b: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(a)) as za, zipfile.ZipFile(io.BytesIO(b)) as zb:
        assert za.namelist() == zb.namelist()
        return {n for n in za.namelist() if za.read(n) != zb.read(n)}


def test_cli_branch_no_group_runs_that_branch_only(group_run):
    b01, b02, group = (group_run.out / k for k in ("b01", "b02", "group"))
    before = {k: snapshot(group_run.out / k) for k in ("b01", "b02", "group")}
    done = subprocess.run(
        [*SELFCHECK, "run", str(group_run.params), "--branch", "b01", "--no-group"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "SELFCHECK_POOL_IDLE": "120"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert snapshot(b02) == before["b02"] and snapshot(group) == before["group"]
    after = snapshot(b01)
    assert after[REPORT][0] > before["b01"][REPORT][0]  # written again …
    assert after[REPORT][1] == before["b01"][REPORT][1]  # … from the same data: same bytes
    assert after["metrics.csv"][1] == before["b01"]["metrics.csv"][1]


def test_branch_rerun_reassembles_the_group_from_the_others_stored_reports(group_run):
    """--branch b02 after b02's data changed: b02 is run again, b01's report stands as it is,
    the group's figures pool b01's and b02's new records; a branch never run stops the run
    (before anything runs) unless allow_partial, which leaves it out and says so."""
    from selfcheck.errors import ReportError
    from selfcheck.execution.group import run_group
    from selfcheck.ingest import DataStore
    from selfcheck.sample import generate

    period = Period.parse(PERIOD)
    root = group_run.root
    generate(PERIOD, root / "data" / "b03", scale="small", seed=33)  # never run
    branches = [
        (bid, name, f"{(root / 'data' / bid).as_posix()}/{{period}}")
        for bid, name in (("b01", EAST), ("b02", SOUTH), ("b03", NORTH))
    ]
    params = group_params(root / "params3", branches, output=root / "outputs")
    b01, b02, group = (group_run.out / k for k in ("b01", "b02", "group"))
    old = {k: metric_rows(group_run.out / k) for k in ("b01", "b02", "group")}
    before = {k: snapshot(group_run.out / k) for k in ("b01", "b02", "group")}

    # 50 answered calls of b02 dropped from its file
    calls_file = group_run.data["b02"] / "calls.csv"
    original = calls_file.read_bytes()
    kept = DataStore(load_config(params, "b02")).get("calls", period)
    dropped = set(sorted(kept.loc[kept["outcome"] == "answered", "call_id"])[:50])
    lines = original.decode("utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    at = header.index("call_id")
    rest = [line for line in lines[1:] if line.split(",")[at] not in dropped]
    assert len(rest) == len(lines) - 1 - 50
    try:
        calls_file.write_text(lines[0] + "".join(rest), encoding="utf-8")

        with pytest.raises(ReportError) as e:
            run_group(params, branch="b02", layout=False, echo=lambda _: None)
        assert f"{NORTH}（b03）" in str(e.value) and "--allow-partial" in str(e.value)
        assert {k: snapshot(group_run.out / k) for k in ("b01", "b02", "group")} == before

        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SELFCHECK_POOL_IDLE", "120")
            result = run_group(
                params, branch="b02", allow_partial=True, layout=False, echo=lambda _: None
            )
    finally:
        calls_file.write_bytes(original)
    assert [(b.branch.id, b.status) for b in result.branches] == [("b02", "ok")]
    assert snapshot(b01) == before["b01"]  # untouched: mtime and bytes
    assert snapshot(b02)[REPORT][0] > before["b02"][REPORT][0]
    new = {k: metric_rows(group_run.out / k) for k in ("b02", "group")}
    for metric_id in ("phone.calls", "phone.offered"):
        assert int(new["b02"][metric_id]["value"]) == int(old["b02"][metric_id]["value"]) - 50
        assert int(new["group"][metric_id]["value"]) == int(old["b01"][metric_id]["value"]) + int(
            new["b02"][metric_id]["value"]
        )
    rate = new["group"]["phone.answer_rate"]
    assert int(rate["numerator"]) == int(old["group"]["phone.answer_rate"]["numerator"]) - 50
    # figures of other datasets: b01's and b02's pooled, b03 (never run) left out
    assert int(new["group"]["tickets.total"]["value"]) == int(
        old["group"]["tickets.total"]["value"]
    )
    members = json.loads((group / "members.json").read_text(encoding="utf-8"))
    assert members["included"] == ["b01", "b02"]
    assert list(members["excluded"]) == ["b03"] and "还没有本期报告" in members["excluded"]["b03"]
    text = "\n".join(p.text for p in docx.Document(str(group / REPORT)).paragraphs)
    assert f"未纳入汇总的机构：{NORTH}" in text


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--cluster", "tcp://127.0.0.1:8786"], "--cluster"),
        (["--parallel", "2"], "--parallel"),
        (["--branch", "b01"], "'b01'"),
    ],
    ids=["cluster", "parallel", "branch"],
)
def test_group_options_on_a_file_without_branches_are_clear_errors(tmp_path, options, named):
    data = tmp_path / "data" / PERIOD
    write_csv(data / "calls.csv", CALL_HEADER, EAST_CALLS)
    params = write_params(tmp_path / "params", tmp_path / "data")
    done = subprocess.run(
        [*SELFCHECK, "run", str(params), *options],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "SELFCHECK_POOL_IDLE": "0"},
        check=False,
    )
    assert done.returncode == ParamsError.exit_code, done.stderr
    assert named in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "params" / "outputs").exists()
