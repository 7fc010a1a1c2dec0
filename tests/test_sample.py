"""The sample-data generator: format, determinism, consistency and the built-in shortfalls."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfcheck.calendar import WorkCalendar
from selfcheck.errors import ParamsError
from selfcheck.period import Period
from selfcheck.sample import SCALES, generate
from selfcheck.schema import DATASETS

PERIOD = "2026Q3"
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Path]]]:
    root = tmp_path_factory.mktemp("sample")
    return root, generate(PERIOD, root, scale="small", history=1)


@pytest.fixture(scope="module")
def folder(generated: tuple[Path, dict[str, list[Path]]]) -> Path:
    return generated[0] / PERIOD


def raw(folder: Path, name: str) -> pd.DataFrame:
    """The file as text: every field a string, missing fields ''."""
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def load(folder: Path, name: str) -> pd.DataFrame:
    """The file with its datetime and date columns parsed."""
    df = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
    for col in DATASETS[name].columns:
        if col.type in ("datetime", "date"):
            df[col.name] = pd.to_datetime(df[col.name].replace("", None))
        elif col.type in ("int", "number"):
            df[col.name] = pd.to_numeric(df[col.name].replace("", None))
    return df


def test_returns_all_files(generated: tuple[Path, dict[str, list[Path]]]) -> None:
    root, out = generated
    assert list(out) == ["2026Q2", "2026Q3"]
    for period, paths in out.items():
        assert [p.name for p in paths] == [f"{name}.csv" for name in DATASETS]
        assert all(p.parent == root / period and p.is_file() for p in paths)
        assert not [p for p in (root / period).iterdir() if p.suffix != ".csv"]  # no temp files


def test_scales_describe_every_dataset() -> None:
    assert set(SCALES) == {"small", "default", "large"}
    for sizes in SCALES.values():
        assert set(sizes) == set(DATASETS)
    assert SCALES["small"]["surveys"] >= 400 and SCALES["small"]["complaints"] >= 150


def test_deterministic_and_each_quarter_stable_on_its_own(tmp_path: Path, folder: Path) -> None:
    again = generate(PERIOD, tmp_path, scale="small", history=0)
    for path in again[PERIOD]:
        assert path.read_bytes() == (folder / path.name).read_bytes(), path.name


def test_seed_changes_the_data(tmp_path: Path, folder: Path) -> None:
    other = generate(PERIOD, tmp_path, scale="small", history=0, seed=7)
    calls = next(p for p in other[PERIOD] if p.name == "calls.csv")
    assert calls.read_bytes() != (folder / "calls.csv").read_bytes()


def test_bad_arguments() -> None:
    with pytest.raises(ParamsError):
        generate(PERIOD, Path("unused"), scale="huge")  # type: ignore[arg-type]
    with pytest.raises(ParamsError):
        generate(PERIOD, Path("unused"), history=-1)
    with pytest.raises(ParamsError):
        generate("2026Q5", Path("unused"))


@pytest.mark.parametrize("name", list(DATASETS))
def test_canonical_csv(folder: Path, name: str) -> None:
    data = (folder / f"{name}.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    assert text.splitlines()[0] == ",".join(DATASETS[name].names)
    df = raw(folder, name)
    assert list(df.columns) == list(DATASETS[name].names)
    assert len(df) > 0
    for col in DATASETS[name].columns:
        values = df[col.name][df[col.name] != ""]
        if col.required:
            assert (df[col.name] != "").all(), col.name
        if col.type == "datetime":
            assert values.str.match(TS_RE).all(), col.name
        elif col.type == "date":
            assert values.str.match(DATE_RE).all(), col.name
        elif col.type == "bool":
            assert values.isin(["true", "false"]).all(), col.name
        elif col.type == "enum":
            assert values.isin(col.enum).all(), col.name
        elif col.type in ("int", "number"):
            numbers = pd.to_numeric(values)
            if col.min_value is not None:
                assert (numbers >= col.min_value).all(), col.name


@pytest.mark.parametrize("name", [n for n, s in DATASETS.items() if s.id_column])
def test_unique_ids(folder: Path, name: str) -> None:
    ids = raw(folder, name)[DATASETS[name].id_column]
    assert ids.is_unique


@pytest.mark.parametrize("name", [n for n, s in DATASETS.items() if not s.snapshot])
def test_anchor_inside_the_quarter(folder: Path, name: str) -> None:
    p = Period.parse(PERIOD)
    anchor = load(folder, name)[DATASETS[name].anchor]
    assert anchor.notna().all()
    assert (anchor >= p.start).all() and (anchor < p.end).all()


def test_staff_is_a_snapshot_at_period_end(folder: Path) -> None:
    p = Period.parse(PERIOD)
    staff = load(folder, "staff")
    assert (staff.hired_on < p.end).all()
    left = staff.left_on.dropna()
    assert (left < p.end).all()
    assert ((left >= p.start) & (left < p.end)).any()
    assert len(staff) >= 40
    assert set(staff.role) == {"frontline", "support", "manager"}


def test_referential_integrity(folder: Path) -> None:
    agents = set(raw(folder, "staff").agent_id)
    for name in ("tickets", "calls", "chats", "training", "qa_reviews"):
        used = set(raw(folder, name).agent_id) - {""}
        assert used and used <= agents, name
    tickets = load(folder, "tickets").set_index("ticket_id")
    for name, anchor in (("surveys", "answered_at"), ("complaints", "received_at"),
                         ("visits", "reported_at")):  # fmt: skip
        df = load(folder, name)
        linked = df[df.ticket_id != ""]
        assert len(linked) > 0.3 * len(df), name
        assert linked.ticket_id.isin(tickets.index).all(), name
        created = tickets.loc[linked.ticket_id, "created_at"].to_numpy()
        assert (created <= linked[anchor].to_numpy()).all(), name
    # training attendance happens while the person is employed
    training = load(folder, "training").merge(load(folder, "staff"), on="agent_id")
    assert (training.hired_on <= training.date).all()
    assert (training.left_on.isna() | (training.date < training.left_on)).all()


def test_agents_are_stable_across_quarters(generated: tuple[Path, dict[str, list[Path]]]) -> None:
    root, _ = generated
    before = raw(root / "2026Q2", "staff").set_index("agent_id")
    now = raw(root / PERIOD, "staff").set_index("agent_id")
    common = before.index.intersection(now.index)
    assert len(common) > 0.8 * len(now)
    assert (before.loc[common, "hired_on"] == now.loc[common, "hired_on"]).all()


def test_personal_data_and_awkward_text_in_comments(folder: Path) -> None:
    comments = raw(folder, "surveys").comment
    comments = comments[comments != ""]
    assert len(comments) > 50
    assert comments.str.contains(r"1[3-9]\d{9}").sum() >= 3
    assert comments.str.contains(r"[<&\"]|[\U0001F300-\U0001FAFF]").any()


def test_ticket_shape(folder: Path) -> None:
    t = load(folder, "tickets")
    level = t.level.value_counts(normalize=True)
    assert 0.62 < level["L1"] < 0.78 and 0.18 < level["L2"] < 0.32 and 0.02 < level["L3"] < 0.09
    l3 = t[t.level == "L3"]
    assert (l3.plan_at.isna() & l3.resolved_at.notna()).any()
    assert t.resolved_at.isna().any()  # some still open at period end
    assert set(t.channel) >= {"phone", "online", "app", "wechat"}
    assert t.segment.replace("", None).dropna().nunique() == 4
    # repeat contacts: same customer within 7 days, across channels
    known = t[t.customer_id != ""].sort_values("created_at")
    gap = known.created_at - known.groupby("customer_id").created_at.shift()
    repeat = gap <= pd.Timedelta(days=7)
    assert 0.02 < repeat.mean() < 0.10
    prev_channel = known.groupby("customer_id").channel.shift()
    assert (repeat & (prev_channel != known.channel)).any()


def test_workdays_busier_than_weekends_and_holidays(folder: Path) -> None:
    p = Period.parse(PERIOD)
    calls = load(folder, "calls")
    days = pd.date_range(p.start, p.end - timedelta(days=1), freq="D")
    daily = calls.groupby(calls.arrived_at.dt.normalize()).size().reindex(days, fill_value=0)
    work = WorkCalendar().workday_mask(days)
    assert daily[work].mean() > 1.5 * daily[~work].mean()
    hourly = calls.arrived_at.dt.hour.value_counts()
    assert hourly.get(10, 0) > 5 * hourly.get(3, 0) > 0  # peak hours vs some night traffic


def test_promotion_week_is_busier(folder: Path) -> None:
    p = Period.parse(PERIOD)
    calls = load(folder, "calls")
    days = pd.date_range(p.start, p.end - timedelta(days=1), freq="D")
    daily = calls.groupby(calls.arrived_at.dt.normalize()).size().reindex(days, fill_value=0)
    week = daily.rolling(7).sum()
    second_month = week[week.index.month == p.first_day.month + 1]
    peak_end = second_month.idxmax()
    peak = daily.loc[peak_end - timedelta(days=6) : peak_end]
    rest = daily.drop(peak.index)
    assert peak.mean() > 1.8 * rest.mean()


def test_phone_shortfall(folder: Path) -> None:
    calls = raw(folder, "calls")
    queue = pd.to_numeric(calls.queue_seconds.replace("", None))
    answered = calls.outcome == "answered"
    abandoned = (calls.outcome == "abandoned") & (queue >= 5)
    offered = answered.sum() + abandoned.sum()
    service_level = (answered & (queue <= 45)).sum() / offered
    answer_rate = answered.sum() / offered
    assert service_level < 0.80
    assert service_level > 0.65
    assert answer_rate > 0.95
    assert ((calls.outcome == "abandoned") & (queue < 5)).any()  # short abandons
    assert {"ivr", "busy"} <= set(calls.outcome)


def test_chats_and_visits(folder: Path) -> None:
    chats = load(folder, "chats")
    human = chats.bot_only != "true"
    assert (chats.bot_only == "true").any()
    assert (human & chats.first_reply_at.isna()).any()  # unanswered requests
    visits = raw(folder, "visits")
    assert set(visits.kind) == {"emergency", "regular"}
    assert set(visits.area) == {"core", "suburb"}


def test_surveys_and_qa_ranges(folder: Path) -> None:
    surveys = load(folder, "surveys")
    for col in ("overall", "attitude", "speed", "expertise", "resolution", "value"):
        assert surveys[col].dropna().between(1, 5).all()
    assert surveys.nps.dropna().between(0, 10).all()
    # the dimensions follow the overall score
    assert np.corrcoef(surveys.overall, surveys.attitude.fillna(surveys.overall))[0, 1] > 0.5
    qa = load(folder, "qa_reviews")
    for col in ("professionalism", "compliance", "experience"):
        assert qa[col].between(0, 100).all()
    assert (qa.critical_error == "true").any()
    incidents = raw(folder, "incidents")
    assert (incidents.severity == "major").sum() == 1
    assert (incidents.service_interrupted == "true").any()
