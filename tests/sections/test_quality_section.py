"""Section 服务质量检查 run in-process on the small sample — the code cells of its notebook, in
order — against figures computed here by hand from the sample CSVs with plain pandas."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import PERIOD, ROOT, write_params

from selfcheck.blocks import Figure, Heading, Paragraph, SectionResult, Table
from selfcheck.errors import SectionError
from selfcheck.sections import quality
from selfcheck.sections.quality import shared

HEADINGS = ["质检覆盖情况", "质检得分情况", "质检合格与差错情况", "坐席质检差异"]
FORBIDDEN = re.compile(r"nan|None|NaT|\{|\}|TODO", re.IGNORECASE)
NOTEBOOK = ROOT / "notebooks" / "06_quality.ipynb"


def _cells() -> list[str]:
    """The notebook's code cells after the parameters cell (open, compute, blocks, save)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return code[1:]


def _run(folder: Path, data_root: Path, **extra: str):
    params = write_params(folder, data_root, **extra)
    scope: dict = {"period": PERIOD, "params_path": str(params), "branch": ""}
    for source in _cells():
        exec(compile(source, str(NOTEBOOK), "exec"), scope)
    return scope["sec"]


@pytest.fixture
def low_dpi(monkeypatch):
    """Variant runs draw their charts at a low resolution: same code, less time."""
    from selfcheck import charts

    monkeypatch.setattr(charts, "DPI", 30)


@pytest.fixture(scope="module")
def sec(sample_root, tmp_path_factory):
    return _run(tmp_path_factory.mktemp("quality"), sample_root)


@pytest.fixture(scope="module")
def data(sample_root):
    folder = sample_root / PERIOD
    return {
        n: pd.read_csv(folder / f"{n}.csv", dtype={"agent_id": str})
        for n in ("qa_reviews", "staff", "calls", "chats", "tickets", "visits")
    }


@pytest.fixture(scope="module")
def reviews(data):
    r = data["qa_reviews"].copy()
    r["total"] = r["professionalism"] + r["compliance"] + r["experience"]
    r["score"] = r["total"] / 3
    staff = data["staff"][["agent_id", "team"]].copy()
    staff["team"] = staff["team"].str.strip()
    r = r.merge(staff, on="agent_id", how="left")
    r["team"] = r["team"].fillna("未知班组").replace("", "未知班组")
    return r


def _texts(sec) -> list[str]:
    out = []
    for b in sec.result.blocks:
        if isinstance(b, Paragraph | Heading):
            out.append(b.text)
        elif isinstance(b, Table):
            out.append(b.caption)
            out.append(b.note or "")
            out += [c.name for c in b.columns]
            out += [v for r in b.rows for v in r if isinstance(v, str)]
        elif isinstance(b, Figure):
            out += [b.caption, b.note or ""]
    return out


def _paragraphs(sec) -> str:
    return "\n".join(b.text for b in sec.result.blocks if isinstance(b, Paragraph))


def _table(sec, caption: str) -> Table:
    (t,) = [b for b in sec.result.blocks if isinstance(b, Table) and b.caption == caption]
    return t


def _rows(t: Table) -> dict[str, tuple]:
    return {r[0]: r for r in t.rows}


# -- structure -----------------------------------------------------------------------------


def test_headings_figures_and_clean_text(sec):
    assert [b.text for b in sec.result.blocks if isinstance(b, Heading)] == HEADINGS
    figures = [b for b in sec.result.blocks if isinstance(b, Figure)]
    assert [f.caption for f in figures] == [
        "质检主要指标近五个季度走势",
        "各班组质检平均分及95%置信区间",
        "坐席质检平均分分布",
    ]
    for f in figures:
        assert (sec.folder / f.path).stat().st_size > 10_000
    for text in _texts(sec):
        assert not FORBIDDEN.search(text), text
    assert (sec.folder / "section.json").exists()


def test_every_qa_metric_is_kept_but_agents_are_not_listed_row_by_row(sec, reviews):
    ids = {m.metric_id for m in sec.result.metrics}
    agents = {f"qa.score_mean.agent:{a}" for a in reviews["agent_id"].unique()}
    teams = {f"qa.score_mean.team:{t}" for t in reviews["team"].unique()}
    assert agents <= ids and teams <= ids
    assert {"qa.reviews", "qa.sampling_rate", "qa.score_mean", "qa.pass_rate"} <= ids
    for m in sec.result.metrics:
        assert m.section == "quality"
    assert all(m.trend for m in sec.result.metrics if m.metric_id == "qa.score_mean")
    longest = max(len(b.rows) for b in sec.result.blocks if isinstance(b, Table))
    assert longest < len(agents)


# -- figures against hand computation ------------------------------------------------------


def test_coverage_by_source(sec, data, reviews):
    base = {
        "call": int((data["calls"]["outcome"] == "answered").sum()),
        "chat": int(data["chats"]["first_reply_at"].notna().sum()),
        "ticket": len(data["tickets"]),
        "visit": len(data["visits"]),
    }
    counts = reviews["source"].value_counts()
    occurring = [s for s in base if counts.get(s, 0)]
    rows = _rows(_table(sec, "质检抽样情况（按来源）"))
    for s in occurring:
        row = rows[quality.SOURCE_LABEL[s]]
        assert row[1] == counts[s] and row[2] == base[s]
        assert row[3] == pytest.approx(counts[s] / base[s])
        assert row[4] == ("达标" if counts[s] / base[s] >= 0.10 else "未达标")
    total_base = sum(base[s] for s in occurring)
    rate = len(reviews) / total_base
    assert rows["合计"][1:4] == (len(reviews), total_base, pytest.approx(rate))
    no_source = int(reviews["source"].isna().sum())
    if no_source:
        assert rows["来源未填写"][1] == no_source
    text = _paragraphs(sec)
    assert f"完成服务质检{len(reviews):,}条" in text
    assert f"抽样基数为服务记录{total_base:,}条" in text
    assert f"质检抽样率{rate * 100:.1f}%" in text
    assert f"人工接听来电{base['call']:,}次" in text


def test_scores_per_dimension_and_team(sec, reviews):
    rows = _rows(_table(sec, "质检得分（按维度）"))
    assert rows["综合得分"][1] == f"{reviews['score'].mean():.1f}分"
    assert rows["综合得分"][3] == len(reviews)
    for col, label in (("professionalism", "专业性"), ("compliance", "规范性"), ("experience", "客户体验")):  # fmt: skip
        assert rows[label][1] == f"{reviews[col].mean():.1f}分"
    # t interval of the overall mean, by hand
    from scipy.stats import t as t_dist

    s = reviews["score"]
    half = t_dist.ppf(0.975, len(s) - 1) * s.std(ddof=1) / np.sqrt(len(s))
    assert rows["综合得分"][2] == f"{s.mean() - half:.1f}–{s.mean() + half:.1f}"
    text = _paragraphs(sec)
    assert (
        f"质检平均分{s.mean():.1f}分（95%置信区间{s.mean() - half:.1f}–{s.mean() + half:.1f}，n={len(s)}）"
        in text
    )

    teams = _rows(_table(sec, "质检得分（按班组）"))
    by_team = reviews.groupby("team")["score"].agg(["mean", "size"])
    assert set(teams) == set(by_team.index)
    for team, r in by_team.iterrows():
        assert teams[team][1] == f"{r['mean']:.1f}分" and teams[team][3] == r["size"]
        assert teams[team][4] == ("达标" if r["mean"] >= 90 else "未达标")
        assert ("样本量不足" in (teams[team][6] or "")) == (r["size"] < 30)
    known = by_team.drop("未知班组", errors="ignore")
    assert f"{known['mean'].max():.1f}分之间" in text or len(known) == 1
    assert f"在{known['mean'].min():.1f}分至" in text
    assert list(teams)[-1] == "未知班组"  # unknown team last


def test_pass_rate_and_critical_errors(sec, reviews):
    passed = int((reviews["total"] >= 240 - 1e-9).sum())
    known = reviews["critical_error"].notna()
    critical = int((reviews["critical_error"] == True).sum())  # noqa: E712
    rows = _rows(_table(sec, "质检合格率与致命差错率"))
    assert rows["质检合格率"][1] == f"{passed / len(reviews) * 100:.1f}%"
    assert rows["质检合格率"][3] == len(reviews)
    assert rows["致命差错率"][1] == f"{critical / known.sum() * 100:.1f}%"
    assert rows["致命差错率"][3] == known.sum()
    text = _paragraphs(sec)
    assert f"合格质检记录{passed:,}条，质检合格率{passed / len(reviews) * 100:.1f}%" in text
    assert f"致命差错{critical}条，致命差错率{critical / known.sum() * 100:.1f}%" in text


def test_spread_across_agents(sec, reviews):
    agents = reviews.groupby("agent_id")["score"].agg(["mean", "size"]).reset_index()
    q = np.percentile(agents["mean"], [0, 25, 50, 75, 100])
    rows = _rows(_table(sec, "坐席质检平均分分布（按班组）"))
    overall = rows["全部坐席"]
    assert overall[1] == len(agents)
    assert overall[2:7] == pytest.approx(tuple(q))
    assert overall[7] == int((agents["mean"] < 80).sum())
    text = _paragraphs(sec)
    assert f"被抽检坐席{len(agents)}人" in text
    assert f"中位数为{q[2]:.1f}分，下四分位数{q[1]:.1f}分、上四分位数{q[3]:.1f}分" in text
    short = int((agents["mean"] < 90).sum())
    assert f"目标的坐席{short}人，占{short / len(agents) * 100:.1f}%" in text
    lowest = agents.sort_values(["mean", "agent_id"]).head(5)
    listed = _table(sec, "质检平均分最低的坐席")
    assert [r[0] for r in listed.rows] == list(lowest["agent_id"])
    assert [r[2] for r in listed.rows] == list(lowest["size"])
    for a in lowest.itertuples():
        assert f"{a.agent_id}（{a.mean:.1f}分，{a.size}条）" in text


def test_pass_mark_parameter_and_analyst_text(low_dpi, tmp_path, sample_root, reviews):
    (tmp_path / f"{PERIOD}_texts.yaml").write_text(
        "replace:\n  quality.coverage: 分析人员改写的质检覆盖段落。\n", encoding="utf-8"
    )
    sec = _run(tmp_path, sample_root, thresholds="{qa_pass_score: 89}")
    assert "分析人员改写的质检覆盖段落。" in _paragraphs(sec)
    agents = reviews.groupby("agent_id")["score"].mean()
    below = int((agents < 89).sum())
    assert below > 5  # the sample has enough agents below 89 to test the longer list
    listed = _table(sec, "质检平均分最低的坐席")
    assert len(listed.rows) == min(below, quality.MAX_LISTED_AGENTS)
    text = _paragraphs(sec)
    assert (
        f"低于合格线（89.0分）的坐席{below}人，占被抽检坐席的{below / len(agents) * 100:.1f}%"
        in text
    )
    passed = int((reviews["total"] >= 3 * 89 - 1e-9).sum())
    assert f"得分不低于89.0分的合格质检记录{passed:,}条" in text


# -- missing data ---------------------------------------------------------------------------


def _without(tmp_path: Path, sample_root: Path, dataset: str) -> Path:
    root = tmp_path / "data"
    shutil.copytree(sample_root, root)
    (root / PERIOD / f"{dataset}.csv").unlink()
    return root


def test_without_reviews_every_part_says_so(low_dpi, tmp_path, sample_root):
    sec = _run(tmp_path, _without(tmp_path, sample_root, "qa_reviews"))
    paragraphs = [b.text for b in sec.result.blocks if isinstance(b, Paragraph)]
    assert len(paragraphs) == 5
    assert all("未提供质检数据" in p for p in paragraphs)
    assert [b.text for b in sec.result.blocks if isinstance(b, Heading)] == HEADINGS
    assert sec.metric("qa.score_mean").status == "无数据"
    for text in _texts(sec):
        assert not FORBIDDEN.search(text), text
    # no reviews: nothing of the section is in scope, its saved result is empty (left out)
    saved = SectionResult.load(sec.folder)
    assert saved.blocks == [] and saved.metrics == []


def test_without_staff_no_team_figures(low_dpi, tmp_path, sample_root):
    sec = _run(tmp_path, _without(tmp_path, sample_root, "staff"))
    text = _paragraphs(sec)
    assert "班组统计" not in text and "未提供人员数据" not in text  # staff not in scope
    assert not [m for m in sec.result.metrics if m.metric_id.startswith("qa.score_mean.team:")]
    assert list(_rows(_table(sec, "坐席质检平均分分布（按班组）"))) == ["全部坐席"]
    assert "班组" not in [c.name for c in _table(sec, "质检平均分最低的坐席").columns]
    for text in _texts(sec):
        assert not FORBIDDEN.search(text), text


def test_without_calls_the_sampling_rate_has_no_data(low_dpi, tmp_path, sample_root):
    sec = _run(tmp_path, _without(tmp_path, sample_root, "calls"))
    assert sec.metric("qa.sampling_rate").status == "无数据"
    text = _paragraphs(sec)
    assert "质检抽样率无法计算（未提供电话数据 (calls)，无法统计人工接听来电数量）" in text
    row = _rows(_table(sec, "质检抽样情况（按来源）"))[quality.SOURCE_LABEL["call"]]
    assert row[2] is None and row[4] == "无数据"
    for text in _texts(sec):
        assert not FORBIDDEN.search(text), text


def test_without_source_and_critical_error_columns(low_dpi, tmp_path, sample_root):
    root = tmp_path / "data"
    shutil.copytree(sample_root, root)
    path = root / PERIOD / "qa_reviews.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.drop(columns=["source", "critical_error"]).to_csv(path, index=False)
    sec = _run(tmp_path, root)
    text = _paragraphs(sec)
    assert "质检记录未填写来源，无法按来源统计抽样率" in text
    assert "致命差错率无法计算（缺少列 critical_error（致命差错））" in text
    assert sec.metric("qa.sampling_rate").has_value
    for text in _texts(sec):
        assert not FORBIDDEN.search(text), text


def test_an_interval_never_shows_the_same_figure_twice():
    from selfcheck.metrics.base import Metric

    wide = Metric("qa.score_mean", "质检平均分", "score", 91.2, n=570, sampled=True,
                  ci_low=90.84, ci_high=91.53)  # fmt: skip
    tight = Metric("qa.pass_rate", "质检合格率", "rate", 0.9836, n=1_011_633, sampled=True,
                   ci_low=0.98331, ci_high=0.98349)  # fmt: skip
    assert shared.ci_text(wide) == "90.8–91.5"
    assert shared.ci_text(tight) == "98.33%–98.35%"
    assert shared.interval(tight) == "95%置信区间98.33%–98.35%，n=1,011,633"


# -- options of the table and chart cells ---------------------------------------------------


def test_a_wrong_option_fails_in_its_cell_and_adds_nothing(sec):
    blocks = list(sec.result.blocks)
    with pytest.raises(SectionError, match=r"没有这些列：合格率.*可选的列：来源、质检量"):
        quality.coverage_table(sec, columns=("来源", "合格率"))
    with pytest.raises(SectionError, match="size="):
        quality.spread_chart(sec, size=(6.3,))
    with pytest.raises(SectionError, match=r"没有这些指标：qa\.nope"):
        quality.trend_chart(sec, metrics=("qa.score_mean", "qa.nope"))
    with pytest.raises(SectionError, match="per_row"):
        quality.trend_chart(sec, per_row=0)
    assert sec.result.blocks == blocks


def test_columns_choose_and_order_the_columns(sec):
    from selfcheck.sections.options import pick_columns

    table = _table(sec, "质检抽样情况（按来源）")
    columns, rows = pick_columns(sec, table.caption, table.columns, table.rows, ("抽样率", "来源"))
    assert [c.name for c in columns] == ["抽样率", "来源"]
    assert rows == [(r[3], r[0]) for r in table.rows]
    assert pick_columns(sec, table.caption, table.columns, table.rows, None)[1] == list(table.rows)


def test_blocks_need_compute_first(tmp_path, sample_root):
    sec = quality.open_section(PERIOD, str(write_params(tmp_path, sample_root)))
    with pytest.raises(SectionError, match=r"quality\.compute\(sec\)"):
        quality.coverage(sec)
    assert sec.result.blocks == []
