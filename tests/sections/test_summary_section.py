"""Section 报告摘要, run in-process from its notebook's cells over the saved results of two
sections (服务响应速度, 客户满意度与投诉处理) of the small sample; counts checked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PERIOD, write_params
from notebook_cells import fill_missing_results, run_cells

from selfcheck.blocks import Figure, Paragraph, SectionResult, Table
from selfcheck.errors import SectionError
from selfcheck.sections import summary


@pytest.fixture(scope="module")
def params(sample_root, tmp_path_factory) -> Path:
    path = write_params(tmp_path_factory.mktemp("summary"), sample_root)
    run_cells("04_response.ipynb", PERIOD, path)
    run_cells("05_satisfaction.ipynb", PERIOD, path)
    fill_missing_results(path)  # the other first-phase sections: empty results
    return path


@pytest.fixture(scope="module")
def run(params):
    return run_cells("01_summary.ipynb", PERIOD, params)


@pytest.fixture(scope="module")
def targeted(run):
    out = []
    for sid in ("response", "satisfaction"):
        result = SectionResult.load(run.config.output_dir / "sections" / sid)
        out += [m for m in result.metrics if m.target is not None and ":" not in m.metric_id]
    return out


def _paragraphs(sec) -> list[str]:
    return [b.text for b in sec.result.blocks if isinstance(b, Paragraph)]


def test_overview_counts_by_hand(run, targeted):
    met = sum(m.status == "达标" for m in targeted)
    missed = sum(m.status == "未达标" for m in targeted)
    no_data = sum(m.status == "无数据" for m in targeted)
    scope, text = _paragraphs(run)[:2]
    assert scope.startswith("本次自查范围：") and scope.endswith("全部纳入自查。")
    # the first-phase sections in the report are named (three are empty here: left out)
    assert "从服务响应速度、客户满意度与投诉处理等方面开展自查" in text
    assert f"设有目标的指标共{len(targeted)}项，其中达标{met}项、未达标{missed}项" in text
    assert ("无数据" in text) == bool(no_data)
    assert f"达标率{met / (met + missed) * 100:.1f}%。" in text


def test_headline_table_lists_every_metric_with_a_target(run, targeted):
    table = next(b for b in run.result.blocks if isinstance(b, Table))
    assert table.caption == "主要指标达标情况"
    assert [r[0] for r in table.rows] == [m.name for m in targeted]
    assert [r[3] for r in table.rows] == [m.status for m in targeted]


def test_shortfalls_and_their_chart(run, targeted):
    missed = [m for m in targeted if m.status == "未达标"]
    texts = _paragraphs(run)
    lead = next(t for t in texts if t.startswith("本期未达标指标共"))
    shown = min(len(missed), 5)
    assert lead.startswith(f"本期未达标指标共{len(missed)}项") and f"最突出的{shown}项如下" in lead
    items = [t for t in texts if t[:2] in {f"{i}." for i in range(1, 6)}]
    assert len(items) == shown
    assert all(any(f"{m.name}未达标" in t for m in missed) for t in items)
    figures = [b for b in run.result.blocks if isinstance(b, Figure)]
    assert [f.caption for f in figures] == ["主要未达标指标近五个季度走势"]
    assert (run.folder / figures[0].path).stat().st_size > 10_000


def test_options_of_the_cells(params, monkeypatch):

    sizes = []
    monkeypatch.setattr(
        "selfcheck.section.charts.render",
        lambda fig: sizes.append(tuple(fig.get_size_inches())) or b"",
    )
    monkeypatch.setattr("selfcheck.section._show_image", lambda *a: None)
    sec = summary.open_section(PERIOD, str(params))
    summary.compute(sec)
    table = summary.headline_table(sec, columns=("指标", "状态"))
    assert [c.name for c in table.columns] == ["指标", "状态"]
    summary.shortfalls_text(sec, top=2)
    assert len(sec.result.blocks) == 4  # the table, the lead and two items
    summary.shortfalls_chart(sec, panels=1)
    summary.shortfalls_chart(sec, panels=2, size=(6.3, 2.5))
    assert sizes == [(6.3, 2.1), (6.3, 2.5)]
    with pytest.raises(SectionError, match="没有列 本季度"):
        summary.headline_table(sec, columns=("本季度",))
    with pytest.raises(SectionError, match="图表尺寸"):
        summary.shortfalls_chart(sec, size=(6.3, -1))
    assert len(sec.result.blocks) == 6  # nothing added by the failed cells


def test_without_other_results(sample_root, tmp_path):
    """The summary refuses to be written over missing sections, naming each of them."""
    with pytest.raises(SectionError) as e:
        run_cells("01_summary.ipynb", PERIOD, write_params(tmp_path, sample_root))
    msg = str(e.value)
    for title in ("服务体系建设现状", "服务流程运行效能", "服务响应速度", "服务质量检查"):
        assert f"章节“{title}”" in msg and "没有本期结果" in msg
