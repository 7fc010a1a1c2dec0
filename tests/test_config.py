from pathlib import Path

import pytest

from selfcheck.config import load_config, parse_target
from selfcheck.errors import ParamsError
from selfcheck.metrics.base import Target

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, standards: str | None = None) -> Path:
    (tmp_path / "standards.yaml").write_text(
        standards or 'targets:\n  phone.answer_rate: ">= 95%"\n', encoding="utf-8"
    )
    p = tmp_path / "2026Q3.yaml"
    p.write_text(text, encoding="utf-8")
    return p


BASE = "period: 2026Q3\norganisation: 测试公司\nreporting_unit: 客服中心\n"


def test_project_params_load():
    cfg = load_config(ROOT / "params" / "2026Q3.yaml")
    assert str(cfg.period) == "2026Q3"
    assert cfg.data_dir() == (ROOT / "data" / "2026Q3").resolve()
    assert cfg.data_dir(cfg.period.previous()) == (ROOT / "data" / "2026Q2").resolve()
    assert cfg.output_dir == (ROOT / "outputs" / "2026Q3").resolve()
    assert cfg.standards.target("phone.answer_rate") == Target(">=", 0.95)
    assert cfg.standards.target("phone.asa_seconds") == Target("<=", 30.0)
    assert cfg.standards.target("system.major_incidents") == Target("==", 0.0)
    assert cfg.standards.target("phone.aht_seconds") is None  # no target: 无标准
    assert cfg.thresholds.service_level_seconds == 45
    assert cfg.report_date.isoformat() == "2026-10-15"


SPEC = ROOT / "docs" / "metric-catalogue.md"


def spec_targets() -> set[str]:
    """Metric ids that have a default target in the spec's tables."""
    ids = set()
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith(
            (
                "phone.",
                "online.",
                "tickets.",
                "visits.",
                "complaints.",
                "satisfaction.",
                "team.",
                "training.",
                "qa.",
                "system.",
            )
        ):
            continue
        if cells[3] in ("—", "-", ""):
            continue
        first, *rest = [p.strip() for p in cells[0].split(" / ")]
        ids.add(first)
        stem = first.rsplit(".", 1)[0]
        ids.update(stem + p if p.startswith(".") else p for p in rest)
    return ids


def test_every_default_target_of_the_spec_is_in_the_standards_file():
    cfg = load_config(ROOT / "params" / "2026Q3.yaml")
    assert set(cfg.standards.targets) == spec_targets()


def test_defaults_and_relative_paths(tmp_path):
    cfg = load_config(write(tmp_path, BASE))
    assert cfg.data_dir() == (tmp_path.parent / "data" / "2026Q3").resolve()
    assert cfg.report_date.isoformat() == "2026-10-01"  # day after the quarter
    assert cfg.template is None
    assert cfg.calendar.work_start.hour == 9


def test_unknown_key_names_key_and_file(tmp_path):
    p = write(tmp_path, BASE + "thresholds:\n  service_levl_seconds: 20\n")
    with pytest.raises(ParamsError) as e:
        load_config(p)
    assert "thresholds.service_levl_seconds" in str(e.value)
    assert str(p) in str(e.value)
    assert "unknown key" in str(e.value)


def test_bad_value_and_missing_key(tmp_path):
    with pytest.raises(ParamsError, match=r"thresholds\.survey_scale"):
        load_config(write(tmp_path, BASE + "thresholds:\n  survey_scale: 1\n"))
    with pytest.raises(ParamsError, match="organisation"):
        load_config(write(tmp_path, "period: 2026Q3\nreporting_unit: x\n"))
    with pytest.raises(ParamsError, match="period"):
        load_config(write(tmp_path, BASE.replace("2026Q3", "2026Q7")))


def test_yaml_syntax_error_names_line(tmp_path):
    with pytest.raises(ParamsError, match=r"第 \d+ 行: YAML"):
        load_config(write(tmp_path, BASE + "thresholds: [\n"))


def test_missing_params_file(tmp_path):
    with pytest.raises(ParamsError, match="找不到参数文件"):
        load_config(tmp_path / "nope.yaml")


def test_unknown_metric_in_standards(tmp_path):
    p = write(tmp_path, BASE, 'targets:\n  phone.answer_ratio: ">= 95%"\n')
    with pytest.raises(ParamsError, match=r"targets\.phone\.answer_ratio.*未知的指标编号"):
        load_config(p)


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        (">= 95%", "rate", Target(">=", 0.95)),
        ("≤ 5%", "rate", Target("<=", 0.05)),
        ("<= 30 s", "seconds", Target("<=", 30.0)),
        ("<=30秒", "seconds", Target("<=", 30.0)),
        ("<= 4.4", "mean", Target("<=", 4.4)),
        ("= 0", "count", Target("==", 0.0)),
        ("<= 5 工作日", "workdays", Target("<=", 5.0)),
    ],
)
def test_parse_target(text, unit, expected):
    assert parse_target(text, unit, where="x") == expected


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        (">= 0.95", "rate", "百分数"),
        (">= 30%", "seconds", "不是比率"),
        ("<= 30 min", "seconds", "单位"),
        ("about 30", "seconds", "无法识别"),
    ],
)
def test_bad_targets(text, unit, message):
    with pytest.raises(ParamsError, match=message):
        parse_target(text, unit, where="x")


def test_shipped_analyst_examples_are_valid():
    from selfcheck.analyst import load_facts, load_measures
    from selfcheck.period import Period

    params = ROOT / "params" / "2026Q3.yaml"
    q3 = load_measures(params, Period.parse("2026Q3"))
    assert len(q3.measures) == 11 and q3.problems[0].severity == "较重"
    assert [m.problem for m in q3.measures[-3:]] == ["S02", "Q09", "F05"]  # checklist items
    assert load_measures(params, Period.parse("2026Q2")).measures[1].status == "已延期"
    assert len(load_facts(params, Period.parse("2026Q3")).facts) == 6


@pytest.mark.parametrize("period", ["2026", "2026H2", "2026Q4", "2026-11"])
def test_every_kind_of_period_with_the_shipped_standards(tmp_path, period):
    """Without ``targets_by_kind`` a period of any kind has the same targets."""
    p = tmp_path / f"{period}.yaml"
    p.write_text(
        BASE.replace("2026Q3", period)
        + f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}\n",
        encoding="utf-8",
    )
    cfg = load_config(p)
    assert (str(cfg.period), cfg.period.kind) == (period, cfg.standards.kind)
    quarter = load_config(ROOT / "params" / "2026Q3.yaml").standards
    assert cfg.standards.targets == quarter.targets
    assert cfg.output_dir.name == period


def test_period_key_error_names_the_accepted_forms(tmp_path):
    p = write(tmp_path, BASE.replace("2026Q3", "2026H3"))
    with pytest.raises(ParamsError) as e:
        load_config(p)
    assert "period: 期间 '2026H3' 无法识别：半年只有 H1（上半年）和 H2（下半年）" in str(e.value)
    assert "2026（年度）、2026H1 / 2026H2（半年）、2026Q3（季度）、2026-07（月）" in str(e.value)
