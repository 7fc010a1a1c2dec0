"""Every kind of reporting period (year, half-year, quarter, month): parsing, labels,
boundaries, 环比/同比, trend windows, the working calendar, tenure and turnover, the
history store, per-kind targets, new-period and the sample data. Expectations are
written by hand from the calendar."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pytest
import yaml

from selfcheck.calendar import WorkCalendar
from selfcheck.config import load_config, load_standards
from selfcheck.errors import DataError, ParamsError
from selfcheck.metrics.base import Measure, Metric
from selfcheck.metrics.history import HistoryStore
from selfcheck.metrics.people import team
from selfcheck.period import Period
from selfcheck.sample import default_history, generate
from selfcheck.scaffold import new_period
from selfcheck.schema import DATASETS

ROOT = Path(__file__).resolve().parents[1]

# text, kind, start, end, last day, days, title, previous, year ago, trend, 环比 / 同比 words
KINDS = [
    ("2026", "year", datetime(2026, 1, 1), datetime(2027, 1, 1), date(2026, 12, 31), 365,
     "2026年度", "2025", "2025", ("2022", "2023", "2024", "2025", "2026"), "上年", "上年"),
    ("2026H1", "half", datetime(2026, 1, 1), datetime(2026, 7, 1), date(2026, 6, 30), 181,
     "2026年上半年", "2025H2", "2025H1", ("2024H1", "2024H2", "2025H1", "2025H2", "2026H1"),
     "上年下半年", "上年同期"),
    ("2026H2", "half", datetime(2026, 7, 1), datetime(2027, 1, 1), date(2026, 12, 31), 184,
     "2026年下半年", "2026H1", "2025H2", ("2024H2", "2025H1", "2025H2", "2026H1", "2026H2"),
     "上半年", "上年同期"),
    ("2026Q1", "quarter", datetime(2026, 1, 1), datetime(2026, 4, 1), date(2026, 3, 31), 90,
     "2026年第1季度", "2025Q4", "2025Q1", ("2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"),
     "上季度", "上年同期"),
    ("2026Q3", "quarter", datetime(2026, 7, 1), datetime(2026, 10, 1), date(2026, 9, 30), 92,
     "2026年第3季度", "2026Q2", "2025Q3", ("2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"),
     "上季度", "上年同期"),
    ("2026-07", "month", datetime(2026, 7, 1), datetime(2026, 8, 1), date(2026, 7, 31), 31,
     "2026年7月", "2026-06", "2025-07", ("2026-03", "2026-04", "2026-05", "2026-06", "2026-07"),
     "上月", "上年同期"),
    ("2026-01", "month", datetime(2026, 1, 1), datetime(2026, 2, 1), date(2026, 1, 31), 31,
     "2026年1月", "2025-12", "2025-01", ("2025-09", "2025-10", "2025-11", "2025-12", "2026-01"),
     "上月", "上年同期"),
    ("2024-02", "month", datetime(2024, 2, 1), datetime(2024, 3, 1), date(2024, 2, 29), 29,
     "2024年2月", "2024-01", "2023-02", ("2023-10", "2023-11", "2023-12", "2024-01", "2024-02"),
     "上月", "上年同期"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "last", "days", "title", "prev", "ago", "trend", "prev_zh",
     "ago_zh"),
    KINDS,
    ids=[k[0] for k in KINDS],
)  # fmt: skip
def test_each_kind(text, kind, start, end, last, days, title, prev, ago, trend, prev_zh, ago_zh):
    p = Period.parse(text)
    assert (p.kind, str(p)) == (kind, text)
    assert Period.parse(str(p)) == p  # the folder and history key read back as the period
    assert (p.start, p.end, p.last_day, p.days) == (start, end, last, days)
    assert p.title_zh == title
    assert p.report_title_zh == f"{title}客户服务自查报告"
    assert str(p.previous()) == prev
    assert str(p.year_ago()) == ago
    assert tuple(str(x) for x in p.trend(5)) == trend
    assert (p.previous_zh, p.year_ago_zh) == (prev_zh, ago_zh)
    assert p.next().previous() == p
    assert p.year_ago().kind == p.previous().kind == kind


def test_range_and_other_labels():
    assert Period.parse("2026").range_zh == "2026年1月1日至2026年12月31日"
    assert Period.parse("2026H2").range_zh == "2026年7月1日至2026年12月31日"
    assert Period.parse("2026-07").range_zh == "2026年7月1日至2026年7月31日"
    assert [Period.parse(t).this_zh for t in ("2026", "2026H1", "2026H2", "2026Q3", "2026-07")] == [
        "本年度", "上半年", "下半年", "本季度", "本月"]  # fmt: skip
    assert [Period.parse(t).end_zh for t in ("2026", "2026H1", "2026Q3", "2026-07")] == [
        "年末", "半年末", "季度末", "月末"]  # fmt: skip
    assert [Period.parse(t).recent_zh(5) for t in ("2026", "2026H1", "2026Q3", "2026-07")] == [
        "近五年", "近五个半年度", "近五个季度", "近五个月"]  # fmt: skip
    assert [Period.parse(t).short_zh for t in ("2026", "2026H1", "2026Q3", "2026-07")] == [
        "2026年", "2026年上半年", "2026Q3", "2026年7月"]  # fmt: skip


def test_a_year_compares_with_the_year_before_once():
    year = Period.parse("2026")
    assert year.previous() == year.year_ago() == Period.parse("2025")
    assert year.previous_is_year_ago
    assert not any(Period.parse(t).previous_is_year_ago for t in ("2026H1", "2026Q3", "2026-07"))


def test_parts_of_a_period():
    assert [str(q) for q in Period.parse("2026").quarters()] == [
        "2026Q1", "2026Q2", "2026Q3", "2026Q4"]  # fmt: skip
    months = Period.parse("2026").months()
    assert (len(months), str(months[0]), str(months[-1])) == (12, "2026-01", "2026-12")
    assert [str(q) for q in Period.parse("2026H2").quarters()] == ["2026Q3", "2026Q4"]
    assert [str(m) for m in Period.parse("2026Q3").months()] == ["2026-07", "2026-08", "2026-09"]
    assert [str(h) for h in Period.parse("2026").parts("half")] == ["2026H1", "2026H2"]
    assert Period.parse("2026Q3").quarters() == (Period.parse("2026Q3"),)
    with pytest.raises(ValueError, match="month holds no quarter"):
        Period.parse("2026-07").quarters()
    assert Period.parse("2026-08") in Period.parse("2026H2")
    assert Period.parse("2026-06") not in Period.parse("2026H2")
    assert date(2026, 12, 31) in Period.parse("2026Q4")
    assert datetime(2027, 1, 1) not in Period.parse("2026")  # the end is the first instant after


def test_containing_and_constructors():
    day = date(2026, 8, 15)
    assert [str(Period.containing(day, k)) for k in ("year", "half", "quarter", "month")] == [
        "2026", "2026H2", "2026Q3", "2026-08"]  # fmt: skip
    assert Period(2026, 3) == Period.parse("2026Q3")  # the quarter API as before
    assert Period(2026, 3).quarter == 3
    assert Period.of("month", 2026, 7) == Period.parse(" 2026-07 ")
    assert Period.of("year", 2026) == Period.parse(2026) == Period.parse("2026")
    assert Period.parse("2026h2") == Period.of("half", 2026, 2)
    with pytest.raises(AttributeError, match="not a quarter"):
        _ = Period.parse("2026-07").quarter
    assert sorted(map(Period.parse, ["2026-10", "2025-12", "2026-02"])) == [
        Period.parse("2025-12"), Period.parse("2026-02"), Period.parse("2026-10")]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("2026Q5", "季度只有 Q1–Q4"),
        ("2026-13", "月份为 01–12"),
        ("2026H3", "半年只有 H1（上半年）和 H2（下半年）"),
        ("2026-7", ""),
        ("2026-00", "月份为 01–12"),
        ("26", ""),
        ("2026年", ""),
        ("Q3 2026", ""),
    ],
)
def test_bad_period_names_the_value_and_the_forms(bad, why):
    with pytest.raises(ParamsError) as e:
        Period.parse(bad)
    msg = str(e.value)
    assert f"期间 {bad!r} 无法识别" in msg
    assert why in msg
    for form in ("2026（年度）", "2026H1 / 2026H2（半年）", "2026Q3（季度）", "2026-07（月）"):
        assert form in msg
    assert msg.index("可用的写法") < msg.index("accepted forms: 2026 (year)")  # Chinese first


# -- parameters, standards and the calendar -------------------------------------------


def _params(folder: Path, period: str, **extra: object) -> Path:
    body = {
        "period": period,
        "organisation": "测试集团有限公司",
        "reporting_unit": "客户服务中心",
        "standards": "standards.yaml",
        **extra,
    }
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "standards.yaml").exists():
        (folder / "standards.yaml").write_text(
            (ROOT / "params" / "standards.yaml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    path = folder / f"{period}.yaml"
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("period", ["2026", "2026H1", "2026Q3", "2026-07"])
def test_params_of_each_kind(tmp_path, period):
    cfg = load_config(_params(tmp_path, period))
    assert str(cfg.period) == period
    assert cfg.output_dir == (tmp_path.parent / "outputs" / period).resolve()
    assert cfg.data_dir() == (tmp_path.parent / "data" / period).resolve()
    assert cfg.report_date == cfg.period.end.date()


def test_year_written_as_a_number_in_yaml(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "period: 2026\norganisation: 甲\nreporting_unit: 乙\n"
        f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}\n",
        encoding="utf-8",
    )
    assert load_config(path).period == Period.of("year", 2026)


def test_bad_period_in_params_names_file_key_and_forms(tmp_path):
    path = _params(tmp_path, "2026Q5")
    with pytest.raises(ParamsError) as e:
        load_config(path)
    msg = str(e.value)
    assert str(path) in msg and "period:" in msg and "2026Q5" in msg and "2026-07（月）" in msg


def test_the_2026_calendar_by_kind():
    cal = WorkCalendar()
    year = Period.parse("2026")
    # the State Council's 2026 schedule: weekend days worked (调休) and weekdays off
    assert cal.makeup_workdays(year.first_day, year.last_day) == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
        date(2026, 9, 20), date(2026, 10, 10)]  # fmt: skip
    assert len(cal.holidays(year.first_day, year.last_day)) == 19
    # 261 weekdays in 2026, 19 of them off, 6 weekend days worked
    assert len(cal.workdays_between(year.first_day, year.last_day)) == 248
    october = Period.parse("2026-10")  # 22 weekdays, 1–7 Oct off (5 weekdays), 10 Oct worked
    assert len(cal.workdays_between(october.first_day, october.last_day)) == 18
    h1 = Period.parse("2026H1")
    assert cal.makeup_workdays(h1.first_day, h1.last_day) == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9)]  # fmt: skip


@pytest.mark.parametrize("period", ["2027", "2027H1", "2027Q1", "2027-03"])
def test_a_year_the_calendar_does_not_know_stops_at_load(tmp_path, period):
    with pytest.raises(ParamsError, match=r"工作日历不含 2027 年.*calendar\.years"):
        load_config(_params(tmp_path, period))
    listed = {"years": {2027: {"holidays": [date(2027, 1, 1)], "workdays": [date(2027, 2, 6)]}}}
    cfg = load_config(_params(tmp_path / "listed", period, calendar=listed))
    assert cfg.calendar.is_workday(date(2027, 2, 6))  # a Saturday listed as worked
    assert not cfg.calendar.is_workday(date(2027, 1, 1))


def _standards(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "standards.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_targets_by_kind(tmp_path):
    path = _standards(
        tmp_path,
        """
targets:
  phone.answer_rate: ">= 95%"
  phone.asa_seconds: "<= 30 s"
targets_by_kind:
  year: {phone.answer_rate: ">= 96%"}
  month: {phone.asa_seconds: "<= 40 s", complaints.escalation_rate: "<= 4%"}
""",
    )
    plain = load_standards(path)
    assert plain.target("phone.answer_rate").value == pytest.approx(0.95)
    assert plain.target("complaints.escalation_rate") is None
    year = load_standards(path, "year")
    assert year.target("phone.answer_rate").value == pytest.approx(0.96)
    assert year.target("phone.asa_seconds").value == 30  # not given for a year: the default
    month = load_standards(path, "month")
    assert month.target("phone.answer_rate").value == pytest.approx(0.95)
    assert (month.target("phone.asa_seconds").comparator, month.target("phone.asa_seconds").value) == (
        "<=", 40)  # fmt: skip
    assert month.target("complaints.escalation_rate").value == pytest.approx(0.04)
    assert load_standards(path, "quarter").targets == plain.targets
    assert year.for_kind("month").targets == month.targets
    # a parameters file of each kind gets its kind's targets
    cfg = load_config(_params(tmp_path, "2026"))
    assert cfg.standards.target("phone.answer_rate").value == pytest.approx(0.96)
    cfg = load_config(_params(tmp_path, "2026-07"))
    assert cfg.standards.target("phone.answer_rate").value == pytest.approx(0.95)
    assert cfg.standards.target("phone.asa_seconds").value == 40


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("targets_by_kind:\n  annual: {phone.answer_rate: '>= 96%'}\n", "targets_by_kind.annual"),
        ("targets_by_kind:\n  year: {phone.answr_rate: '>= 96%'}\n",
         "targets_by_kind.year.phone.answr_rate: 未知的指标编号"),
        ("targets_by_kind:\n  month: {phone.answer_rate: '>= 96'}\n",
         "targets_by_kind.month.phone.answer_rate: 比率类指标的目标须写成百分数"),
        ("targets_by_kind:\n  month: {phone.answer_rate: '>= 96%'}\n  mont: {}\n",
         "targets_by_kind.mont"),
    ],
)  # fmt: skip
def test_bad_targets_by_kind(tmp_path, body, message):
    path = _standards(tmp_path, "targets:\n  phone.answer_rate: '>= 95%'\n" + body)
    with pytest.raises(ParamsError) as e:
        load_standards(path)
    assert message in str(e.value)
    assert str(path) in str(e.value)


# -- tenure and turnover at the period end ----------------------------------------------


def _staff() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agent_id": ["A", "B", "C", "D", "E"],
            "role": ["frontline"] * 5,
            "hired_on": pd.to_datetime(
                ["2020-01-01", "2025-06-01", "2026-05-10", "2026-08-01", "2024-01-01"]
            ),
            "left_on": pd.to_datetime([None, "2026-03-15", "2026-11-30", None, "2025-12-31"]),
            "certified": [True] * 5,
            "languages": [1] * 5,
        }
    )


@pytest.mark.parametrize(
    ("period", "headcount", "leavers", "at_start", "tenure_days"),
    [
        # year: start A, B (E left 2025-12-31); leavers B and C (hired in the year); end A, D
        ("2026", 2, 2, 2, [(date(2026, 12, 31) - date(2020, 1, 1)).days, 152]),
        ("2026H1", 2, 1, 2, [(date(2026, 6, 30) - date(2020, 1, 1)).days, 51]),  # end A, C
        ("2026Q1", 1, 1, 2, [(date(2026, 3, 31) - date(2020, 1, 1)).days]),  # B left 03-15
        ("2026-11", 2, 1, 3, [(date(2026, 11, 30) - date(2020, 1, 1)).days, 121]),  # C left 11-30
    ],
)
def test_tenure_and_turnover_by_kind(period, headcount, leavers, at_start, tenure_days):
    out = team(_staff(), Period.parse(period))
    assert out["team.headcount"].value == headcount
    turnover = out["team.turnover_rate"]
    assert (turnover.numerator, turnover.denominator) == (leavers, at_start)
    assert out["team.tenure_years_mean"].value == pytest.approx(
        sum(tenure_days) / len(tenure_days) / 365.25
    )


# -- the history store ----------------------------------------------------------------


def _metric(metric_id: str, value: float) -> Metric:
    return Metric(metric_id=metric_id, name=metric_id, unit="rate", value=value)


def test_history_keeps_each_kind_apart(tmp_path):
    store = HistoryStore(tmp_path / "history.duckdb")
    for period, value in (("2026Q3", 0.91), ("2026-07", 0.92), ("2026-06", 0.93), ("2026", 0.94),
                          ("2026H1", 0.95), ("2025", 0.96)):  # fmt: skip
        store.write(Period.parse(period), [_metric("phone.answer_rate", value)])
    assert store.read(Period.parse("2026-07"))["phone.answer_rate"].value == 0.92
    assert store.read(Period.parse("2026Q3"))["phone.answer_rate"].value == 0.91
    assert store.read(Period.parse("2026"))["phone.answer_rate"].value == 0.94
    assert store.read(Period.parse("2026H2")) is None  # a half is never answered by a year
    assert store.read(Period.parse("2026Q2")) is None
    assert store.periods("month") == ["2026-06", "2026-07"]
    assert store.periods("year") == ["2025", "2026"]
    assert store.periods("quarter") == ["2026Q3"]
    assert store.periods() == ["2025", "2026", "2026H1", "2026Q3", "2026-06", "2026-07"]
    # replacing a month's rows leaves the quarter's
    store.write(Period.parse("2026-07"), [_metric("phone.answer_rate", 0.5)])
    assert store.read(Period.parse("2026-07"))["phone.answer_rate"] == Measure(
        0.5, None, None, None, None, sampled=False, sd=None
    )
    assert store.read(Period.parse("2026Q3"))["phone.answer_rate"].value == 0.91


# -- new-period -----------------------------------------------------------------------


MEASURES = """
measures:
  - {problem: phone.service_level, cause: 排班不足, measure: 弹性排班, owner: 运营组, due: 2026-12-31, status: 进行中}
  - {problem: visits.emergency_late_rate, cause: 郊区网点少, measure: 增设驻点, owner: 现场组, due: 2026-11-30, status: 已完成}
"""


@pytest.mark.parametrize(
    ("source", "target"),
    [("2026-07", "2026-08"), ("2026-12", "2027-01"), ("2026H1", "2026H2"), ("2025", "2026"),
     ("2026Q3", "2026Q4")],
)  # fmt: skip
def test_new_period_of_each_kind(tmp_path, source, target):
    extra = {"calendar": {"years": {2027: {"holidays": [date(2027, 1, 1)]}}}}
    src = _params(tmp_path, source, **extra)
    text = src.read_text(encoding="utf-8")
    src.write_text(f"# {Period.parse(source).title_zh}的参数\n" + text, encoding="utf-8")
    (tmp_path / f"{source}_measures.yaml").write_text(MEASURES, encoding="utf-8")
    written = new_period(Period.parse(target), tmp_path)
    assert [p.name for p in written] == [f"{target}.yaml", f"{target}_measures.yaml",
                                         f"{target}_texts.yaml"]  # fmt: skip
    cfg = load_config(tmp_path / f"{target}.yaml")
    assert str(cfg.period) == target
    new_text = (tmp_path / f"{target}.yaml").read_text(encoding="utf-8")
    assert new_text.startswith(f"# {Period.parse(target).title_zh}的参数\n")
    carried = yaml.safe_load((tmp_path / f"{target}_measures.yaml").read_text(encoding="utf-8"))
    assert [(m["problem"], m["carried_from"]) for m in carried["measures"]] == [
        ("phone.service_level", source)
    ]


def test_new_period_without_a_period_is_the_next_of_the_templates_kind(tmp_path):
    src = _params(tmp_path, "2026-07")
    written = new_period(None, tmp_path, source=src)
    assert written[0].name == "2026-08.yaml"
    with pytest.raises(ParamsError, match="请给出新期间"):
        new_period(None, tmp_path)


def test_new_month_from_a_quarters_parameters(tmp_path):
    src = _params(tmp_path, "2026Q3")
    (tmp_path / "2026Q3_measures.yaml").write_text(MEASURES, encoding="utf-8")
    written = new_period(Period.parse("2026-10"), tmp_path, source=src)
    assert written[0].name == "2026-10.yaml"
    carried = yaml.safe_load(written[1].read_text(encoding="utf-8"))
    assert [m["carried_from"] for m in carried["measures"]] == ["2026Q3"]


def test_new_period_cli_names_the_missing_template_of_its_kind(tmp_path, capsys):
    from selfcheck.cli import main

    assert main(["new-period", "2026-08", "--params-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "找不到上一期的参数文件" in err and "2026-07.yaml" in err
    assert main(["new-period", "2026H3", "--params-dir", str(tmp_path)]) == 2
    assert "2026H3" in capsys.readouterr().err


# -- sample data ----------------------------------------------------------------------


def test_default_history_is_what_comparisons_need():
    assert [default_history(Period.parse(t)) for t in ("2026", "2026H1", "2026Q3", "2026-07")] == [
        1, 4, 4, 12]  # fmt: skip


def _anchors(folder: Path, name: str) -> pd.Series:
    spec = DATASETS[name]
    table = pacsv.read_csv(folder / f"{name}.csv")
    return pd.to_datetime(table.column(spec.anchor).to_pandas())


@pytest.mark.parametrize(
    ("period", "folders"),
    [
        ("2026-07", [f"2025-{m:02d}" for m in range(7, 13)] + [f"2026-{m:02d}" for m in range(1, 8)]),
        ("2026H1", ["2024H1", "2024H2", "2025H1", "2025H2", "2026H1"]),
        ("2026", ["2025", "2026"]),
    ],
)  # fmt: skip
def test_sample_of_each_kind(tmp_path, period, folders):
    written = generate(period, tmp_path, scale="small")
    assert list(written) == folders
    p = Period.parse(period)
    for folder in folders:
        fp = Period.parse(folder)
        assert fp.kind == p.kind
        for name, spec in DATASETS.items():
            if spec.anchor is None or name == "staff":
                continue
            t = _anchors(tmp_path / folder, name)
            assert t.min() >= pd.Timestamp(fp.start) and t.max() < pd.Timestamp(fp.end), name
        ids = pd.read_csv(tmp_path / folder / "calls.csv", encoding="utf-8")["call_id"]
        assert ids.is_unique
    calls = pd.read_csv(tmp_path / period / "calls.csv", encoding="utf-8")
    months = pd.to_datetime(calls["arrived_at"]).dt.month.unique()
    assert sorted(months) == [m.number for m in p.months()]  # every month of the period
    training = pd.read_csv(tmp_path / period / "training.csv", encoding="utf-8")
    inductions = training.loc[training["topic"] == "新员工岗前培训"]
    months = pd.to_datetime(inductions["date"]).dt.month
    # one induction session a month, a few days after the month's hiring day
    assert inductions.groupby(months)["session_id"].nunique().to_dict() == {
        m.number: 1 for m in p.months()
    }


# -- wording of generated text ----------------------------------------------------------

SENTENCE = (
    "本季度共受理工单1,204件，较上季度增加12件，较上年同期下降3件；截至季度末仍有3件未办结，"
    "较上季度末（1,204件）增加36件。图：主要指标近五个季度走势；红点为未达到目标的季度。"
)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2026Q3", SENTENCE),
        ("2026-07", "本月共受理工单1,204件，较上月增加12件，较上年同期下降3件；截至月末仍有3件"
         "未办结，较上月末（1,204件）增加36件。图：主要指标近五个月走势；红点为未达到目标的月份。"),
        ("2026H1", "上半年共受理工单1,204件，较上年下半年增加12件，较上年同期下降3件；截至半年末"
         "仍有3件未办结，较上年末（1,204件）增加36件。图：主要指标近五个半年度走势；红点为未达到"
         "目标的半年度。"),
        ("2026H2", "下半年共受理工单1,204件，较上半年增加12件，较上年同期下降3件；截至半年末"
         "仍有3件未办结，较上半年末（1,204件）增加36件。图：主要指标近五个半年度走势；红点为未达到"
         "目标的半年度。"),
        ("2026", "本年度共受理工单1,204件，较上年增加12件，较上年下降3件；截至年末仍有3件未办结，"
         "较上年末（1,204件）增加36件。图：主要指标近五年走势；红点为未达到目标的年度。"),
    ],
)  # fmt: skip
def test_generated_text_in_the_periods_words(period, expected):
    assert Period.parse(period).localise(SENTENCE) == expected


def test_a_years_two_equal_comparisons_are_said_once():
    year = Period.parse("2026")
    assert year.localise("接通率为76.2%，较上季度下降1.1个百分点，较上年同期下降1.1个百分点。") == (
        "接通率为76.2%，较上年下降1.1个百分点。"
    )
    assert year.localise("重开率为2.6%，与上季度和上年同期均持平。") == "重开率为2.6%，与上年持平。"
    assert year.localise("与上季度持平，与上年同期持平。") == "与上年持平。"
    assert year.localise(
        "共1,204件，较上季度增加12件（上升8.7%），较上年同期增加12件（上升8.7%）。"
    ) == ("共1,204件，较上年增加12件（上升8.7%）。")
    # different figures are both kept (they cannot be, for a year: the same period)
    assert (
        year.localise("较上季度增加12件，较上年同期增加3件。") == "较上年增加12件，较上年增加3件。"
    )
    assert Period.parse("2026-07").localise("与上季度和上年同期均持平") == "与上月和上年同期均持平"
    assert Period.parse("2026Q3").wording() == {}
    from selfcheck.metrics.catalogue import _NEXT_INSTANT as definition

    assert definition == "期末（季度结束后的第一个时刻，如第三季度为10月1日00:00）"
    assert Period.parse("2026-07").localise(definition) == (
        "期末（月份结束后的第一个时刻，如2026年7月为2026年8月1日00:00）"
    )
    assert Period.parse("2026").localise(definition) == (
        "期末（年度结束后的第一个时刻，如2026年度为2027年1月1日00:00）"
    )


# -- a month report through the real pipeline ---------------------------------------------


@pytest.fixture(scope="module")
def month_run(tmp_path_factory):
    from selfcheck.execution.runner import run

    root = tmp_path_factory.mktemp("month")
    generate("2026-07", root / "data", scale="small")
    params = root / "params" / "2026-07.yaml"
    params.parent.mkdir()
    params.write_text(
        "period: 2026-07\norganisation: 测试集团有限公司\nreporting_unit: 客户服务中心\n"
        f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}\n"
        "data_dir: ../data/{period}\noutput_dir: ../outputs/{period}\n",
        encoding="utf-8",
    )
    return root, run(params, echo=lambda _: None)


def _answer_rate(folder: Path) -> float:
    """人工接通率 by hand: answered ÷ (answered + abandoned after 5 s or more in the queue)."""
    calls = pd.read_csv(folder / "calls.csv", encoding="utf-8")
    answered = (calls["outcome"] == "answered").sum()
    abandoned = ((calls["outcome"] == "abandoned") & ~(calls["queue_seconds"] < 5)).sum()
    return answered / (answered + abandoned)


@pytest.mark.integration
def test_month_report(month_run):
    import csv

    from docx import Document

    root, result = month_run
    assert result.report.name == "2026-07_客户服务自查报告.docx"
    doc = Document(str(result.report))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "2026年7月客户服务自查报告" in paragraphs
    assert "（2026年7月1日至2026年7月31日）" in paragraphs
    assert doc.core_properties.title == "2026年7月客户服务自查报告"
    body = "\n".join(paragraphs)
    assert "本报告依据2026年7月（2026年7月1日至2026年7月31日）客户服务数据" in body
    assert "季度" not in body  # every sentence, caption and note in the month's words
    assert "较上月" in body and "截至本月末（2026年7月31日）" in body

    with (result.output_dir / "metrics.csv").open(encoding="utf-8-sig") as f:
        rows = {r["metric_id"]: r for r in csv.DictReader(f)}
    rate = rows["phone.answer_rate"]
    data = root / "data"
    assert float(rate["value"]) == pytest.approx(_answer_rate(data / "2026-07"), abs=1e-12)
    assert float(rate["previous"]) == pytest.approx(_answer_rate(data / "2026-06"), abs=1e-12)
    assert float(rate["year_ago"]) == pytest.approx(_answer_rate(data / "2025-07"), abs=1e-12)
    assert rate["target"] == "0.95"

    store = HistoryStore(result.output_dir.parent / "history.duckdb")
    assert store.periods() == ["2026-07"]  # a month's rows, under the month
    assert store.read(Period.parse("2026-07"))["phone.answer_rate"].value == pytest.approx(
        float(rate["value"])
    )


# -- ingest: the period's boundaries ------------------------------------------------------

CALLS = "call_id,arrived_at,outcome,ring_seconds,queue_seconds,talk_seconds"


def test_a_month_folder_holding_a_quarters_export_stops_naming_the_months(tmp_path):
    from selfcheck.ingest import read_dataset

    rows = [f"a{i},2026-08-1{i % 9} 10:00,answered,5,30,300" for i in range(12)]
    rows += [f"b{i},2026-09-0{1 + i} 10:00,answered,5,30,300" for i in range(8)]
    rows += ["c1,2026-07-01 09:00,answered,5,30,300", "c2,2026-07-31 23:59,answered,5,30,300"]
    path = tmp_path / "calls.csv"
    path.write_text(CALLS + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_dataset(path, DATASETS["calls"], Period.parse("2026-07"))
    msg = str(e.value)
    assert (
        "20 / 22 行记录的来电时间（arrived_at）不在 2026-07（2026-07-01 至 2026-07-31）之内" in msg
    )
    assert "这些记录属于 2026-08（12 行）、2026-09（8 行）" in msg
    assert "跨多个月的累计导出" in msg and "export this month only" in msg
    # the same file is the quarter's: every row kept; a year keeps them too
    for period in ("2026Q3", "2026", "2026H2"):
        frame, q = read_dataset(path, DATASETS["calls"], Period.parse(period))
        assert (len(frame), q.rows_outside) == (22, 0), period
    frame, q = read_dataset(path, DATASETS["calls"], Period.parse("2026-08"), max_outside_share=1)
    assert (len(frame), q.rows_outside) == (12, 10)


def test_new_period_cli_says_when_the_new_year_is_unknown_to_the_calendar(tmp_path, capsys):
    from selfcheck.cli import main

    _params(tmp_path, "2026")
    assert (
        main(["new-period", "--params-dir", str(tmp_path), "--from", str(tmp_path / "2026.yaml")])
        == 0
    )
    out = capsys.readouterr()
    assert f"已创建 {tmp_path / '2027.yaml'}" in out.out
    assert "注意：新参数文件尚需修改后才能运行" in out.err and "工作日历不含 2027 年" in out.err
