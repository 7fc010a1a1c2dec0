"""Section 服务响应速度, run in-process from its notebook's cells on the small sample;
the chart frames (metrics.phone) checked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PERIOD, write_params
from notebook_cells import run_cells

from selfcheck.blocks import Figure, Heading, Paragraph, Table
from selfcheck.errors import SectionError
from selfcheck.metrics.phone import daily_service_level, queue_distribution
from selfcheck.sections import response
from selfcheck.thresholds import Thresholds

FORBIDDEN = ("nan", "None", "NaT", "{", "}", "TODO", "inf")


@pytest.fixture(scope="module")
def params(sample_root, tmp_path_factory) -> Path:
    return write_params(tmp_path_factory.mktemp("response"), sample_root)


@pytest.fixture(scope="module")
def run(params):
    return run_cells("04_response.ipynb", PERIOD, params)


@pytest.fixture(scope="module")
def calls(sample_root) -> pd.DataFrame:
    return pd.read_csv(sample_root / PERIOD / "calls.csv", parse_dates=["arrived_at"])


def _opened(params: Path):
    sec = response.open_section(PERIOD, str(params))
    response.compute(sec)
    return sec


# -- the report blocks ---------------------------------------------------------------------------


def test_blocks_in_report_order(run):
    kinds = [
        (type(b).__name__, getattr(b, "text", None) or getattr(b, "caption", ""))
        for b in run.result.blocks
        if isinstance(b, Heading | Table | Figure)
    ]
    assert kinds == [
        ("Heading", "在线服务响应"),
        ("Table", "在线服务响应指标"),
        ("Figure", "在线人工请求超时率（按时段）"),
        ("Heading", "电话服务响应"),
        ("Table", "电话服务响应指标"),
        ("Figure", "每日45秒接通率"),
        ("Figure", "已接通来电排队时长分布"),
        ("Heading", "现场服务响应"),
        ("Table", "现场服务响应指标"),
        ("Figure", "现场服务到场超时率（按服务类型和区域）"),
    ]
    notes = [b.text for b in run.result.blocks if isinstance(b, Paragraph) and b.style == "note"]
    assert (
        len(notes) == 2 and notes[0].startswith("注：在线咨询") and notes[1].startswith("到场时限")
    )
    for b in run.result.blocks:
        text = " ".join(str(getattr(b, k, "") or "") for k in ("text", "caption", "note"))
        for bad in FORBIDDEN:
            assert bad not in text, (bad, text)


def test_overview_counts_the_targets(run):
    with_target = [m for m in run.result.metrics if m.target is not None and m.has_value]
    missed = [m for m in with_target if m.status == "未达标"]
    text = run.result.blocks[0].text
    assert f"共计算设有目标的指标{len(with_target)}项" in text
    assert f"其中达标{len(with_target) - len(missed)}项、未达标{len(missed)}项。" in text
    for m in missed:
        assert f"{m.name}为" in text


# -- options in the cells ----------------------------------------------------------------------------


def test_table_columns_and_rows_are_options(params):
    sec = _opened(params)
    table = response.phone_table(
        sec, rows=("phone.calls", "phone.service_level"), columns=("指标", "状态", "本期")
    )
    assert [c.name for c in table.columns] == ["指标", "状态", "本期"]
    sl = sec.metric("phone.service_level")
    assert table.rows[1] == ("45秒接通率", sl.status, f"{sl.value * 100:.1f}%")
    assert len(table.rows) == 2


def test_wrong_options_fail_in_the_cell_and_add_nothing(params):
    sec = _opened(params)
    with pytest.raises(SectionError, match=r"没有列 环比.*可选的列：指标、本期"):
        response.online_table(sec, columns=("指标", "环比"))
    with pytest.raises(SectionError, match=r"本节没有指标 phone\.waiting"):
        response.phone_table(sec, rows=("phone.calls", "phone.waiting"))
    with pytest.raises(SectionError, match="图表尺寸"):
        response.online_chart(sec, size=(6.3,))
    with pytest.raises(SectionError, match="图表尺寸"):
        response.queue_chart(sec, size=(0, 3))
    assert sec.result.blocks == []


def test_block_before_compute_says_what_to_run(params):
    sec = response.open_section(PERIOD, str(params))
    with pytest.raises(SectionError, match=r"请先运行 compute 单元（`response.compute\(sec\)`）"):
        response.online_text(sec)
    assert sec.result.blocks == []


def test_chart_size_is_the_figure_size(params, monkeypatch):

    sizes = []
    monkeypatch.setattr(
        "selfcheck.section.charts.render",
        lambda fig: sizes.append(tuple(fig.get_size_inches())) or b"",
    )
    monkeypatch.setattr("selfcheck.section._show_image", lambda *a: None)
    sec = _opened(params)
    response.onsite_chart(sec, size=(5.0, 4.0))
    response.queue_chart(sec, bin_seconds=20, cap_seconds=120)
    assert sizes == [(5.0, 4.0), (6.3, 2.8)]
    assert sec.result.blocks[-1].note.startswith("注：每格20秒")


# -- chart frames, by hand ---------------------------------------------------------------------------


def test_daily_service_level_by_hand():
    th = Thresholds()
    sl, short = th.service_level_seconds, th.short_abandon_seconds
    calls = pd.DataFrame(
        {
            "arrived_at": pd.to_datetime(
                [
                    "2026-07-01 08:00",  # answered in time
                    "2026-07-01 09:00",  # answered late
                    "2026-07-01 10:00",  # abandoned after the short-abandon limit: offered
                    "2026-07-01 11:00",  # short abandon: not offered
                    "2026-07-02 08:00",  # answered, queue unknown: offered, not in time
                    "2026-07-02 09:00",  # ivr: not offered
                    "2026-07-03 09:00",  # busy only: the day has no offered call
                ]
            ),
            "outcome": [
                "answered",
                "answered",
                "abandoned",
                "abandoned",
                "answered",
                "ivr",
                "busy",
            ],
            "queue_seconds": [sl, sl + 1, short, short - 1, np.nan, np.nan, np.nan],
        }
    )
    daily = daily_service_level(calls, th)
    assert list(daily.index) == [pd.Timestamp("2026-07-01"), pd.Timestamp("2026-07-02")]
    assert daily["offered"].tolist() == [3, 1]
    assert daily["within"].tolist() == [1, 0]
    assert daily["rate"].tolist() == pytest.approx([1 / 3, 0.0])
    assert daily_service_level(calls.drop(columns="queue_seconds"), th).empty
    assert daily_service_level(None, th).empty


def test_daily_service_level_matches_the_quarter(run, calls):
    """Summed over the days, the daily figures give the quarter's service level."""
    daily = daily_service_level(calls, Thresholds())
    sl = run.metric("phone.service_level")
    assert daily["within"].sum() == sl.numerator
    assert daily["offered"].sum() == sl.denominator
    day = calls["arrived_at"].dt.normalize()
    answered = calls["outcome"].eq("answered")
    q = calls["queue_seconds"]
    offered = answered | (calls["outcome"].eq("abandoned") & ~(q < 5))
    first = day.min()
    assert daily.loc[first, "offered"] == (offered & day.eq(first)).sum()
    assert daily.loc[first, "within"] == (answered & (q <= 45) & day.eq(first)).sum()


def test_queue_distribution_by_hand():
    calls = pd.DataFrame(
        {
            "outcome": ["answered"] * 6 + ["abandoned"],
            "queue_seconds": [0, 9.9, 10, 25, 29, 500, 3],
        }
    )
    dist = queue_distribution(calls, bin_seconds=10, cap_seconds=30)
    assert dist["start"].tolist() == [0, 10, 20]  # the last bin takes 20 s and more
    assert dist["calls"].tolist() == [2, 1, 3]
    assert dist["share"].tolist() == pytest.approx([2 / 6, 1 / 6, 3 / 6])
    assert queue_distribution(calls.iloc[[6]]).empty


def test_queue_distribution_of_the_quarter(calls):
    dist = queue_distribution(calls)
    waits = calls.loc[calls["outcome"].eq("answered"), "queue_seconds"].dropna()
    assert dist["calls"].sum() == len(waits)
    assert dist["calls"].iloc[0] == (waits < 10).sum()
    assert dist["calls"].iloc[-1] == (waits >= 170).sum()
