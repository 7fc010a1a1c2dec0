"""The catalogue against the contract: spec/metrics.md's tables, names and placeholders."""

from __future__ import annotations

import re
import string
from datetime import time
from pathlib import Path

import pytest

from selfcheck.calendar import WorkCalendar
from selfcheck.metrics.base import UNITS
from selfcheck.metrics.catalogue import (
    AREAS,
    CATALOGUE,
    area_ids,
    definition_text,
    lookup,
    reason_no_column,
    reason_no_dataset,
)
from selfcheck.schema import DATASETS
from selfcheck.thresholds import Thresholds

SPEC = Path(__file__).resolve().parents[2] / "docs" / "metric-catalogue.md"


def _expand(cell: str) -> list[str]:
    """``a / b`` → [a, b]; ``x.y.L1 / .L2`` → [x.y.L1, x.y.L2]."""
    parts = [p.strip().strip("`") for p in cell.split(" / ")]
    first = parts[0]
    prefix = first.rsplit(".", 1)[0]
    return [first] + [prefix + p if p.startswith(".") else p for p in parts[1:]]


def spec_rows() -> list[tuple[str, str]]:
    """(id, name) of every metric row of every table of metrics.md."""
    rows = []
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|") or line.startswith("|-") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "id":
            continue
        for metric_id in _expand(cells[0]):
            rows.append((metric_id, cells[1]))
    return rows


ROWS = spec_rows()


def test_spec_parsed() -> None:
    ids = [i for i, _ in ROWS]
    # a few landmarks of the expansion rules
    assert "tickets.sla_rate.L3" in ids
    assert "online.offhours_p90_minutes" in ids
    assert "satisfaction.index.value" in ids
    assert "satisfaction.index.segment:KEY" in ids
    assert len(ids) == len(set(ids))
    assert len(ids) > 70


@pytest.mark.parametrize(("metric_id", "name"), ROWS)
def test_every_spec_metric_is_catalogued_with_its_name(metric_id: str, name: str) -> None:
    d = lookup(metric_id)
    assert d.name == name
    if ":" not in metric_id:
        assert metric_id in CATALOGUE
        assert d.id == metric_id


# breakdown-only entries the spec describes in words ("breakdown by type with share")
BREAKDOWN_ONLY = {"complaints.share"}


def test_catalogue_holds_nothing_else() -> None:
    expected = {i.split(":")[0] for i, _ in ROWS} | BREAKDOWN_ONLY
    assert set(CATALOGUE) == expected
    assert all(CATALOGUE[i].keyed for i in BREAKDOWN_ONLY)


def test_names_sample() -> None:
    assert CATALOGUE["phone.service_level"].name == "45秒接通率"
    assert CATALOGUE["online.workday_p90_minutes"].name == "响应时长P90"
    assert CATALOGUE["online.workday_p90_minutes"].full_name == "响应时长P90（工作时间）"
    assert CATALOGUE["tickets.sla_rate.L2"].full_name == "时效达标率（L2）"
    assert CATALOGUE["complaints.handling_workdays_mean"].name == "平均办结时长(工作日)"
    assert CATALOGUE["phone.calls"].full_name == "来电总量"


@pytest.mark.parametrize("metric_id", sorted(CATALOGUE))
def test_entry_is_well_formed(metric_id: str) -> None:
    d = CATALOGUE[metric_id]
    assert d.id == metric_id
    assert d.unit in UNITS
    assert d.area in AREAS
    assert metric_id.split(".")[0] == d.area
    assert d.datasets and set(d.datasets) <= set(DATASETS)
    assert d.definition.strip()


def test_units() -> None:
    expected = {
        "phone.calls": "count",
        "phone.answer_rate": "rate",
        "phone.asa_seconds": "seconds",
        "phone.queue_p90_seconds": "seconds",
        "online.workday_avg_minutes": "minutes",
        "online.offhours_p90_minutes": "minutes",
        "tickets.resolution_median_hours": "hours",
        "tickets.peak_ratio": "ratio",
        "complaints.per_10k_tickets": "per10k",
        "complaints.handling_workdays_mean": "workdays",
        "satisfaction.index": "score",
        "satisfaction.nps": "nps",
        "team.tenure_years_mean": "years",
        "visits.node_completion_rate": "rate",
        "visits.total": "count",
    }
    for metric_id, unit in expected.items():
        assert CATALOGUE[metric_id].unit == unit, metric_id


def test_datasets() -> None:
    assert CATALOGUE["phone.calls"].datasets == ("calls",)
    assert set(CATALOGUE["complaints.per_10k_tickets"].datasets) == {"complaints", "tickets"}
    assert set(CATALOGUE["training.coverage_rate"].datasets) == {"training", "staff"}
    assert set(CATALOGUE["qa.sampling_rate"].datasets) >= {"qa_reviews", "calls", "chats"}


def test_area_ids() -> None:
    assert len(area_ids("phone")) == 11
    assert len(area_ids("online")) == 9
    assert len(area_ids("visits")) == 11
    assert "satisfaction.index.segment" not in area_ids("satisfaction")  # keyed


# -- lookup -----------------------------------------------------------------


def test_lookup_breakdowns() -> None:
    assert lookup("satisfaction.index.segment:大客户").name == "分客群得分"
    assert lookup("visits.emergency_late_rate.area:core").id == "visits.emergency_late_rate"
    assert lookup("visits.regular_late_rate.area:suburb").id == "visits.regular_late_rate"
    assert lookup("tickets.total.channel:phone").id == "tickets.total"
    assert lookup("complaints.total:收费争议").id == "complaints.total"
    assert lookup("tickets.sla_rate.L1:phone").id == "tickets.sla_rate.L1"
    assert lookup("qa.score_mean.team:一组").id == "qa.score_mean"


@pytest.mark.parametrize(
    "bad",
    ["phone.nope", "phone.calls.area", "phone", "", "phone.calls:", ":x", "nope.thing:x"],
)
def test_lookup_unknown(bad: str) -> None:
    with pytest.raises(KeyError):
        lookup(bad)
    with pytest.raises(KeyError):
        definition_text(bad, Thresholds())


# -- definitions ------------------------------------------------------------

_FIELDS = set(Thresholds.model_fields)
_NESTED = {
    name: set(type(getattr(Thresholds(), name)).model_fields)
    for name in _FIELDS
    if hasattr(type(getattr(Thresholds(), name)), "model_fields")
}


@pytest.mark.parametrize("metric_id", sorted(CATALOGUE))
def test_placeholders_are_parameters(metric_id: str) -> None:
    for _, field, _, _ in string.Formatter().parse(CATALOGUE[metric_id].definition):
        if field is None:
            continue
        head, _, sub = field.partition(".")
        if head in ("work_start", "work_end"):
            continue
        assert head in _FIELDS, field
        if head in _NESTED:
            assert sub in _NESTED[head], field
        else:
            assert not sub, field


@pytest.mark.parametrize("metric_id", sorted(CATALOGUE))
def test_definition_text_fills_every_placeholder(metric_id: str) -> None:
    text = definition_text(metric_id, Thresholds())
    assert "{" not in text and "}" not in text
    assert not re.search(r"\d\.0(?!\d)", text), text  # no trailing .0


def test_definition_text_defaults() -> None:
    th = Thresholds()
    assert "45秒" in definition_text("phone.service_level", th)
    assert "小于5秒" in definition_text("phone.offered", th)
    assert "大于6秒" in definition_text("phone.ring_late_rate", th)
    online = definition_text("online.workday_timeout_rate", th)
    assert "大于5分钟" in online and "09:00" in online and "18:00" in online
    assert "大于30分钟" in definition_text("online.offhours_timeout_rate", th)
    late = definition_text("visits.emergency_late_rate", th)
    assert "城市核心区30分钟" in late and "郊区/偏远60分钟" in late
    regular = definition_text("visits.regular_late_rate.area:core", th)
    assert "城市核心区120分钟" in regular and "郊区/偏远240分钟" in regular
    assert "大于30分钟" in definition_text("visits.confirm_late_rate", th)
    assert "大于24小时" in definition_text("visits.archive_late_rate", th)
    assert "不超过2小时" in definition_text("tickets.sla_rate.L1", th)
    assert "不超过48小时" in definition_text("tickets.sla_rate.L3", th)
    assert "自然时间" in definition_text("tickets.sla_rate.L3", th)
    assert "7×24小时" in definition_text("tickets.repeat_contact_rate", th)
    assert "30×24小时" in definition_text("complaints.repeat_rate", th)
    assert "满分5" in definition_text("satisfaction.index.segment:个人", th)
    assert "不低于80分" in definition_text("qa.pass_rate", th)


def test_definition_text_uses_the_values_given() -> None:
    th = Thresholds(
        short_abandon_seconds=3.5,
        service_level_seconds=20,
        ring_limit_seconds=15.0,
        online_workday_minutes=2.5,
        sla_hours={"L1": 4.0, "L3": 72},
        sla_clock="business",
        arrival_minutes={"emergency_core": 45.0},
        archive_limit_hours=48.0,
        qa_pass_score=85.5,
    )
    cal = WorkCalendar(work_start=time(8, 30), work_end=time(17, 30))
    assert "小于3.5秒" in definition_text("phone.abandon_rate", th)
    assert "不超过20秒" in definition_text("phone.service_level", th)
    assert "大于15秒" in definition_text("phone.ring_late_rate", th)
    online = definition_text("online.workday_timeout_rate", th, cal)
    assert "大于2.5分钟" in online and "08:30" in online and "17:30" in online
    assert "不超过4小时" in definition_text("tickets.sla_rate.L1", th)
    assert "不超过72小时" in definition_text("tickets.sla_rate.L3", th)
    assert "仅计工作时间" in definition_text("tickets.sla_rate.L2", th)
    assert "城市核心区45分钟" in definition_text("visits.emergency_late_rate.area:suburb", th)
    assert "大于48小时" in definition_text("visits.archive_late_rate", th)
    assert "不低于85.5分" in definition_text("qa.pass_rate", th)
    assert "08:30–17:30" in definition_text("complaints.handling_workdays_mean", th, cal)


def test_reasons() -> None:
    assert reason_no_dataset("calls") == "未提供电话数据 (calls)"
    assert reason_no_column("calls", "ring_seconds") == "缺少列 ring_seconds（振铃时长）"
