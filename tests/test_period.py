from datetime import date, datetime

import pytest

from selfcheck.errors import ParamsError
from selfcheck.period import Period


def test_parse_and_boundaries():
    p = Period.parse("2026Q3")
    assert (p.year, p.quarter) == (2026, 3)
    assert p.start == datetime(2026, 7, 1)
    assert p.end == datetime(2026, 10, 1)  # first instant after the quarter
    assert p.last_day == date(2026, 9, 30)
    assert p.days == 92
    assert str(p) == "2026Q3"
    assert p.title_zh == "2026年第3季度"
    assert p.range_zh == "2026年7月1日至2026年9月30日"


def test_neighbours_cross_years():
    assert str(Period.parse("2026Q1").previous()) == "2025Q4"
    assert str(Period.parse("2026Q3").year_ago()) == "2025Q3"
    assert str(Period.parse("2025Q4").next()) == "2026Q1"
    assert Period.parse("2026q1").days == 90  # 2026 is not a leap year
    assert Period.parse("2024Q1").days == 91


@pytest.mark.parametrize("bad", ["2026Q5", "2026-3", "Q3 2026", "", "26Q1"])
def test_bad_period_is_params_error(bad):
    with pytest.raises(ParamsError, match="2026Q3"):
        Period.parse(bad)
