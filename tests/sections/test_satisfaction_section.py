"""Section 客户满意度与投诉处理, run in-process on the small sample and checked by hand."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PERIOD, write_params
from notebook_cells import run_cells
from scipy import stats

from selfcheck.blocks import Figure, Heading, Paragraph, SectionResult, Table

DIMS = {
    "attitude": "服务态度",
    "speed": "响应速度",
    "expertise": "专业能力",
    "resolution": "问题解决",
    "value": "性价比感知",
}
FORBIDDEN = ("nan", "None", "NaT", "{", "}", "TODO", "inf")
Z = 1.959963984540054

# personal data as it may be written, and regexes of our own that find it unmasked
MOBILE = re.compile(r"(?<![0-9*])1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
ID_CARD = re.compile(r"(?<![0-9*])\d{6}\s?(?:18|19|20)\d{2}[01]\d[0-3]\d\s?\d{3}[\dXx](?![0-9])")
BANK_CARD = re.compile(r"(?<![0-9*])\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}")
LANDLINE = re.compile(r"(?<![0-9*])0\d{2,3}[ -]\d{3,4}[ -]?\d{4}(?![0-9])")
INJECTED = (
    "联系电话13812345678。",
    "我的手机号是+86 139 8765 4321，谢谢。",
    "邮箱zhang.san88@example.com。",
    "本人身份证号码110101199001011234。",
    "退款卡号6222 0212 3456 7890。",
    "座机0755-12345678。",
    "电话：１５９１２３４５６７８",
)


def _run(params: Path):
    """The cells of ``05_satisfaction.ipynb``, in order (the last one saves)."""
    return run_cells("05_satisfaction.ipynb", PERIOD, params)


def _texts(sec) -> list[str]:
    out = []
    for b in sec.result.blocks:
        if isinstance(b, Heading | Paragraph):
            out.append(b.text)
        elif isinstance(b, Table):
            out += [b.caption, b.note or ""]
            out += [str(v) for r in b.rows for v in r if isinstance(v, str)]
        elif isinstance(b, Figure):
            out += [b.caption, b.note or ""]
    return out


def _tables(sec) -> dict[str, Table]:
    return {b.caption: b for b in sec.result.blocks if isinstance(b, Table)}


def _paragraphs(sec, style="body") -> list[str]:
    return [b.text for b in sec.result.blocks if isinstance(b, Paragraph) and b.style == style]


@pytest.fixture
def no_png(monkeypatch):
    """Charts are drawn but not rendered to PNG (the main run checks the files): faster."""

    from selfcheck import section as section_module

    monkeypatch.setattr(section_module.charts, "render", lambda fig: b"")  # no PNG encoding
    monkeypatch.setattr(section_module, "_show_image", lambda *a: None)


def _copy(sample_root: Path, tmp: Path) -> Path:
    root = tmp / "data"
    shutil.copytree(sample_root, root)
    return root


@pytest.fixture(scope="module")
def run(sample_root, tmp_path_factory):
    return _run(write_params(tmp_path_factory.mktemp("satisfaction"), sample_root))


@pytest.fixture(scope="module")
def data(sample_root):
    q = sample_root / PERIOD
    prev = sample_root / "2026Q2"
    return {
        "surveys": pd.read_csv(q / "surveys.csv"),
        "complaints": pd.read_csv(q / "complaints.csv", parse_dates=["received_at", "resolved_at"]),
        "tickets": pd.read_csv(q / "tickets.csv"),
        "surveys_prev": pd.read_csv(prev / "surveys.csv"),
        "complaints_prev": pd.read_csv(prev / "complaints.csv"),
    }


# -- hand formulas ------------------------------------------------------------------------


def _score(x: pd.Series) -> tuple[float, tuple[float, float], int]:
    x = x[(x >= 1) & (x <= 5)].astype(float)
    n = len(x)
    mean = x.mean() / 5 * 100
    sd = (x / 5 * 100).std(ddof=1)
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return mean, (max(mean - half, 0.0), min(mean + half, 100.0)), n


def _top_box(x: pd.Series) -> tuple[float, tuple[float, float], int]:
    x = x[(x >= 1) & (x <= 5)]
    n, k = len(x), int((x >= 4).sum())
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return p, (centre - half, centre + half), n


def _f1(v: float) -> str:
    return f"{v:.1f}"


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


# -- structure ----------------------------------------------------------------------------


def test_headings(run):
    headings = [(b.level, b.text) for b in run.result.blocks if isinstance(b, Heading)]
    assert headings == [
        (1, "满意度测评结果"),
        (2, "分项满意度"),
        (2, "分客户类型满意度"),
        (1, "投诉处理情况"),
        (2, "投诉量与投诉类型"),
        (2, "投诉办结与处理质量"),
        (1, "客户意见与建议"),
    ]


def test_no_forbidden_text(run):
    for text in _texts(run):
        for bad in FORBIDDEN:
            assert bad not in text, (bad, text)


def test_figures_saved(run):
    figures = [b for b in run.result.blocks if isinstance(b, Figure)]
    assert [f.caption for f in figures] == [
        "近五个季度满意度与投诉主要指标",
        "客户满意度分项得分（本季度与上季度）",
        "投诉类型占比（本季度与上季度）",
    ]
    for f in figures:
        path = run.folder / f.path
        assert path.exists() and path.stat().st_size > 10_000
    assert (run.folder / "section.json").exists()


def test_metrics_of_both_areas(run):
    ids = {m.metric_id for m in run.result.metrics}
    assert {"satisfaction.index", "satisfaction.nps", "complaints.total"} <= ids
    assert {f"satisfaction.index.{d}" for d in DIMS} <= ids
    assert any(i.startswith("complaints.share.type:") for i in ids)
    assert all(m.section == "satisfaction" for m in run.result.metrics)


# -- satisfaction ---------------------------------------------------------------------------


def test_overall_figures_by_hand(run, data):
    s = data["surveys"]
    index, (lo, hi), n = _score(s["overall"])
    top, (tlo, thi), _ = _top_box(s["overall"])
    prev_index, _, _ = _score(data["surveys_prev"]["overall"])
    assert run.metric("satisfaction.index").value == pytest.approx(index)
    text = next(p for p in _paragraphs(run) if p.startswith("本季度共回收有效问卷"))
    assert f"本季度共回收有效问卷{n:,}份" in text
    assert f"客户满意度综合得分为{_f1(index)}分（95%置信区间{_f1(lo)}–{_f1(hi)}，n={n:,}）" in text
    assert f"为{_pct(top)}（95%置信区间{_pct(tlo)}–{_pct(thi)}，n={n:,}）" in text
    d = index - prev_index
    word = "上升" if d > 0 else "下降"
    assert f"较上季度{word}{abs(d):.1f}分，变化在统计上" in text
    nps = s["nps"].dropna()
    nps_value = ((nps >= 9).mean() - (nps <= 6).mean()) * 100
    assert f"净推荐值（NPS）为{_f1(nps_value)}（推荐意愿有效问卷{len(nps):,}份）" in text


def test_dimension_table_by_hand(run, data):
    s, prev = data["surveys"], data["surveys_prev"]
    table = _tables(run)["客户满意度分项得分与满意率"]
    rows = {(r[0], r[1]): r for r in table.rows}
    names = ["总体评价", *DIMS.values()]
    assert [r[0] for r in table.rows] == [n for n in names for _ in range(2)]
    for col, name in [("overall", "总体评价"), *DIMS.items()]:
        index, (lo, hi), n = _score(s[col].dropna())
        top, (tlo, thi), _ = _top_box(s[col].dropna())
        prev_index, _, _ = _score(prev[col].dropna())
        prev_top, _, _ = _top_box(prev[col].dropna())
        score_row, top_row = rows[(name, "得分")], rows[(name, "满意率")]
        assert score_row[2:6] == (_f1(index), f"{_f1(lo)}–{_f1(hi)}", score_row[4], f"{n:,}")
        assert score_row[4].rstrip("*") == f"{index - prev_index:+.1f}分"
        assert score_row[6] == ("达标" if index >= 85 else "未达标")
        assert top_row[2:4] == (_pct(top), f"{_pct(tlo)}–{_pct(thi)}")
        assert top_row[4].rstrip("*") == f"{(top - prev_top) * 100:+.1f}个百分点"
        assert top_row[5] == f"{n:,}"
        if name == "总体评价":
            assert top_row[6] == ("达标" if top >= 0.9 else "未达标")
        else:
            assert top_row[6] == "无标准"
    # the narrative names the best and worst dimension with their scores
    scores = {name: _score(s[col].dropna())[0] for col, name in DIMS.items()}
    best, worst = max(scores, key=scores.get), min(scores, key=scores.get)
    text = next(p for p in _paragraphs(run) if p.startswith("五个分项中"))
    assert f"{best}得分最高，为{_f1(scores[best])}分" in text
    assert f"{worst}得分最低，为{_f1(scores[worst])}分" in text
    for name, v in scores.items():
        if v < 85:
            assert f"{name}（{_f1(v)}分）" in text


def test_significance_marks_match_metrics(run):
    table = _tables(run)["客户满意度分项得分与满意率"]
    rows = {(r[0], r[1]): r for r in table.rows}
    for dim, name in DIMS.items():
        m = run.metric(f"satisfaction.index.{dim}")
        assert rows[(name, "得分")][4].endswith("*") == bool(m.significant)
        t = run.metric(f"satisfaction.top_box_rate.dimension:{dim}")
        assert rows[(name, "满意率")][4].endswith("*") == bool(t.significant)
    segments = _tables(run)["分客户类型满意度得分与满意率"]
    for row in segments.rows:
        mid = "index" if row[1] == "得分" else "top_box_rate"
        m = run.metric(f"satisfaction.{mid}.segment:{row[0]}")
        assert row[4].endswith("*") == bool(m.significant)
        if m.significant:
            text = next(p for p in _paragraphs(run) if p.startswith("按客户类型统计"))
            customer = row[0] if row[0].endswith("客户") else f"{row[0]}客户"
            assert f"{customer}{row[1]}较上季度" in text


def test_segment_table_by_hand(run, data):
    s = data["surveys"]
    seg = s["segment"].astype("string").str.strip()
    counts = seg[seg.notna() & seg.ne("")].value_counts()
    order = sorted(counts.index, key=lambda k: (-counts[k], k))
    table = _tables(run)["分客户类型满意度得分与满意率"]
    assert [r[0] for r in table.rows] == [k for k in order for _ in range(2)]
    for row in table.rows:
        x = s.loc[seg == row[0], "overall"]
        index, (lo, hi), n = _score(x)
        top, (tlo, thi), _ = _top_box(x)
        if row[1] == "得分":
            assert row[2:4] == (_f1(index), f"{_f1(lo)}–{_f1(hi)}")
        else:
            assert row[2:4] == (_pct(top), f"{_pct(tlo)}–{_pct(thi)}")
        assert row[5] == f"{n:,}" + ("（样本量不足）" if n < 30 else "")
    text = next(p for p in _paragraphs(run) if p.startswith("按客户类型统计"))
    small = [k for k in order if counts[k] < 30]
    for k in small:
        assert f"{k}（{counts[k]}份）" in text or f"{k}客户（{counts[k]}份）" in text
    assert "样本量不足" in text
    blank = int(seg.isna().sum() + seg.eq("").sum())
    assert f"另有{blank}份问卷未填写客户类型" in text


# -- complaints -------------------------------------------------------------------------------


def test_complaint_volume_and_rate_by_hand(run, data):
    c, prev = data["complaints"], data["complaints_prev"]
    n, n_prev, tickets = len(c), len(prev), len(data["tickets"])
    text = next(p for p in _paragraphs(run) if p.startswith("本季度共受理客户投诉"))
    assert f"本季度共受理客户投诉{n:,}件" in text
    d = n - n_prev
    assert (
        f"较上季度{'增加' if d > 0 else '减少'}{abs(d)}件（{'上升' if d > 0 else '下降'}{abs(d) / n_prev * 100:.1f}%）"
        in text
    )
    assert f"按同期工单{tickets:,}张计，万单投诉率为{n / tickets * 10000:,.1f}件/万单" in text


def test_complaint_types_by_hand(run, data):
    c, prev = data["complaints"], data["complaints_prev"]
    counts, prev_counts = c["type"].value_counts(), prev["type"].value_counts()
    table = _tables(run)["投诉类型分布"]
    defaults = ["产品质量", "服务流程", "收费争议", "人员服务", "其他"]
    body = table.rows[:-1]
    assert [r[0] for r in body][: len(defaults)] == [t for t in defaults if t in counts]
    for name, count, share, pc, ps, change in body:
        assert count == counts.get(name, 0)
        assert share == pytest.approx(counts.get(name, 0) / len(c))
        assert pc == prev_counts.get(name, 0)
        assert ps == pytest.approx(prev_counts.get(name, 0) / len(prev))
        assert change == pytest.approx(share - ps)
    assert table.rows[-1][:4] == ("合计", len(c), 1.0, len(prev))
    text = next(p for p in _paragraphs(run) if p.startswith("从投诉类型看"))
    for name, count, share, *_ in body:
        assert f"{name}{count:,.0f}件，占{_pct(share)}" in text
    biggest = max(body, key=lambda r: r[5])
    assert f"占比上升最多的是{biggest[0]}（+{biggest[5] * 100:.1f}个百分点）" in text


def test_complaint_handling_by_hand(run, data):
    c = data["complaints"]
    end = pd.Timestamp("2026-10-01")
    resolved = c["resolved_at"].notna() & (c["resolved_at"] < end)
    esc = c["escalated"].dropna()
    sat = c["satisfied"].dropna()
    rows = {r[0]: r for r in _tables(run)["投诉处理指标"].rows}
    assert rows["投诉办结率"][1] == _pct(resolved.mean())
    assert rows["投诉升级率"][1] == _pct(esc.astype(str).str.lower().eq("true").mean())
    assert rows["投诉处理满意率"][1] == _pct(sat.astype(str).str.lower().eq("true").mean())
    assert rows["投诉办结率"][3] == ("达标" if resolved.mean() >= 0.95 else "未达标")
    text = next(p for p in _paragraphs(run) if p.startswith("投诉办结率为"))
    assert f"投诉办结率为{_pct(resolved.mean())}" in text
    assert f"截至季度末仍有{int((~resolved).sum())}件投诉未办结" in text


# -- comments ---------------------------------------------------------------------------------


def test_theme_table_and_quotes(run, data):
    s = data["surveys"]
    text = s["comment"].astype("string").str.strip()
    has = text.notna() & text.ne("")
    table = _tables(run)["客户留言主题分布"]
    rows = {r[0]: r for r in table.rows}
    waiting = text.str.contains("排队|等了|打不进|占线|等待|太久|很久|半天", regex=True).fillna(
        False
    )
    waiting &= has
    assert rows["等待时间"][1] == int(waiting.sum())
    assert rows["等待时间"][2] == pytest.approx(waiting.sum() / has.sum())
    assert rows["等待时间"][3] == pytest.approx(s.loc[waiting, "overall"].mean())
    narrative = next(p for p in _paragraphs(run) if "份问卷填写了意见建议" in p)
    assert (
        f"本季度共有{int(has.sum())}份问卷填写了意见建议，占回收问卷的{_pct(has.sum() / len(s))}"
        in narrative
    )
    mean_all = s.loc[has, "overall"].mean()
    assert f"低于全部留言客户的{mean_all:.2f}分（满分5分）" in narrative
    quotes = _paragraphs(run, "quote")
    assert 3 <= len(quotes) <= 8
    lowest = s.loc[has, "overall"].min()
    assert f"总体评分{lowest:.0f}分" in quotes[0]
    for q in quotes:
        assert q.startswith("“") and "”（" in q
    ids = set(s["customer_id"].dropna()) | set(s["response_id"])
    assert not any(i in q for q in quotes for i in ids)


def test_no_personal_data_reaches_the_report(sample_root, tmp_path, no_png):
    """Personal data written into the lowest-scoring comments must never come out unmasked."""
    root = _copy(sample_root, tmp_path)
    path = root / PERIOD / "surveys.csv"
    s = pd.read_csv(path, dtype=str, keep_default_na=False)
    score = pd.to_numeric(s["overall"])
    low = np.flatnonzero((score <= 2).to_numpy())
    assert len(low) >= len(INJECTED)
    for i, row in enumerate(low):
        s.loc[row, "comment"] = "服务太差了，一直没人处理。" + INJECTED[i % len(INJECTED)]
    s.to_csv(path, index=False)
    sec = _run(write_params(tmp_path / "run", root))
    quotes = _paragraphs(sec, "quote")
    assert any("****" in q for q in quotes)  # personal data was there, and was masked
    for text in _texts(sec):
        for rx in (MOBILE, EMAIL, ID_CARD, BANK_CARD, LANDLINE):
            assert not rx.search(text), (rx.pattern, text)
        for raw in ("13812345678", "zhang.san88@example.com", "110101199001011234", "１５９"):
            assert raw not in text


# -- missing data -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("removed", "gone", "kept"),
    [
        (
            "surveys",
            ["满意度测评结果", "客户意见与建议", "无满意度调查数据", "无客户意见可供分析"],
            ["投诉处理情况"],
        ),
        ("complaints", ["投诉处理情况", "无投诉数据", "投诉办结率"], ["满意度测评结果"]),
        ("tickets", ["万单投诉率"], ["投诉处理情况", "满意度测评结果"]),
    ],
)
def test_dataset_not_supplied_is_left_out(sample_root, tmp_path, no_png, removed, gone, kept):
    """A dataset not supplied does not apply: its subsections, metrics and sentences go."""
    root = _copy(sample_root, tmp_path)
    (root / PERIOD / f"{removed}.csv").unlink()
    sec = _run(write_params(tmp_path / "run", root))
    texts = _texts(sec)
    for phrase in gone:
        assert not any(phrase in t for t in texts), phrase
    headings = [b.text for b in sec.result.blocks if isinstance(b, Heading)]
    for heading in kept:
        assert heading in headings
    assert not any(m.metric_id.startswith(removed) for m in SectionResult.load(sec.folder).metrics)
    for text in texts:
        for bad in FORBIDDEN:
            assert bad not in text, (bad, text)


def test_missing_columns(sample_root, tmp_path, no_png):
    root = _copy(sample_root, tmp_path)
    path = root / PERIOD / "surveys.csv"
    pd.read_csv(path, dtype=str, keep_default_na=False).drop(
        columns=["comment", "segment", "value"]
    ).to_csv(path, index=False)
    sec = _run(write_params(tmp_path / "run", root))
    texts = " ".join(_texts(sec))
    assert "问卷数据未包含意见建议字段" in texts
    assert "问卷数据未包含客户类型字段" in texts
    assert "无数据的分项：性价比感知（缺少列 value（性价比感知））" in texts
    for bad in FORBIDDEN:
        assert bad not in texts


def test_first_quarter_without_complaints_or_valid_scores(sample_root, tmp_path, no_png):
    """No earlier quarter, no complaint, every overall score out of range: said in words.

    Ingest excludes every survey (a score of 9 on the 1–5 scale is impossible); with
    ``max_bad_share: 1`` the run goes on with no survey left."""
    root = tmp_path / "data"
    shutil.copytree(sample_root / PERIOD, root / PERIOD)
    path = root / PERIOD / "complaints.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    path = root / PERIOD / "surveys.csv"
    s = pd.read_csv(path, dtype=str, keep_default_na=False)
    s.assign(overall="9").to_csv(path, index=False)
    sec = _run(write_params(tmp_path / "run", root, max_bad_share="1"))  # every row excluded
    texts = _texts(sec)
    joined = " ".join(texts)
    assert "满意度调查无有效的总体满意度评分；未受理客户投诉。" in joined
    assert "总体满意度无有效评分（样本为0" in joined
    assert "上季度无可比数据，本季度不作环比比较。" in joined
    assert "问卷均无有效的总体满意度评分，无法分客户类型统计满意度" in joined
    assert "本季度未受理客户投诉。" in joined
    captions = [b.caption for b in sec.result.blocks if isinstance(b, Figure)]
    assert captions == []  # no survey kept: no dimension chart, no trend, no type chart
    assert "投诉类型分布" not in _tables(sec)
    assert not any("总体评分9分" in q for q in _paragraphs(sec, "quote"))  # invalid scores
    for text in texts:
        for bad in FORBIDDEN:
            assert bad not in text, (bad, text)


# -- frames of the section, by hand -----------------------------------------------------------


def test_type_comparison_by_hand():
    from selfcheck.metrics.complaints import type_comparison

    counts = pd.Series({"服务流程": 6.0, "收费争议": 3.0})
    earlier = pd.Series({"服务流程": 4.0, "产品质量": 4.0})
    frame = type_comparison(counts, 10.0, earlier, 8.0)  # one complaint this quarter untyped
    assert list(frame.index) == ["服务流程", "收费争议", "产品质量"]  # gone types last
    assert frame["count"].tolist() == [6.0, 3.0, 0.0]
    assert frame["share"].tolist() == pytest.approx([0.6, 0.3, 0.0])
    assert frame["previous_count"].tolist() == [4.0, 0.0, 4.0]  # absent last quarter: 0
    assert frame["previous_share"].tolist() == pytest.approx([0.5, 0.0, 0.5])
    assert frame["change"].tolist() == pytest.approx([0.1, 0.3, -0.5])
    known = type_comparison(counts, 10.0, earlier, 8.0, pd.Series({"服务流程": 0.45}))
    assert known.loc["服务流程", "previous_share"] == 0.45  # the history's share is kept
    alone = type_comparison(counts, 10.0, None, None)
    assert alone["previous_count"].isna().all() and alone["change"].isna().all()


def test_valid_scores_and_blank_segments():
    from selfcheck.metrics.satisfaction import blank_segments, valid_scores
    from selfcheck.thresholds import Thresholds

    s = pd.DataFrame(
        {"overall": [5, 0, 3.5, None, 6], "segment": ["个人", " ", None, "", "大客户"]}
    )
    scores = valid_scores(s, Thresholds())
    assert scores[0] == 5.0 and scores[2] == 3.5
    assert scores.isna().tolist() == [False, True, False, True, True]
    assert blank_segments(s) == 3 and blank_segments(s.drop(columns="segment")) is None
    assert valid_scores(s.drop(columns="overall"), Thresholds()).isna().all()


# -- options of the cells -------------------------------------------------------------------------


def test_options_of_the_cells(sample_root, tmp_path, no_png):
    from selfcheck.errors import SectionError
    from selfcheck.sections import comments, complaints, satisfaction, survey

    sec = satisfaction.open_section(PERIOD, str(write_params(tmp_path, sample_root)))
    satisfaction.compute(sec)
    table = survey.dimensions_table(sec, measures=("得分",), columns=("项目", "本季度"))
    assert [r[0] for r in table.rows] == ["总体评价", *DIMS.values()]
    assert [c.name for c in table.columns] == ["项目", "本季度"]
    segments = survey.segments_table(sec, measures=("满意率",))
    assert {r[1] for r in segments.rows} == {"满意率"}
    chart = complaints.types_chart(sec, previous=False)
    assert chart.caption == "投诉类型占比" and chart.note is None
    chart = survey.dimensions_chart(sec, previous=False, intervals=False)
    assert chart.caption == "客户满意度分项得分" and "置信区间" not in chart.note
    n = len(sec.result.blocks)
    comments.quotes(sec, max_quotes=2)
    assert len(_paragraphs(sec, "quote")) == 2 and len(sec.result.blocks) == n + 2
    n = len(sec.result.blocks)
    with pytest.raises(SectionError, match="measures 只能取 得分、满意率"):
        survey.dimensions_table(sec, measures=("均值",))
    with pytest.raises(SectionError, match="没有列 件数"):
        complaints.types_table(sec, columns=("投诉类型", "件数"))
    assert len(sec.result.blocks) == n


def test_headings_without_survey_data_are_not_empty(sample_root, tmp_path, no_png):
    """The headings are written in the notebook: without surveys those of the survey go
    (``requires="surveys"``) and each one left still has text."""
    root = _copy(sample_root, tmp_path)
    (root / PERIOD / "surveys.csv").unlink()
    sec = _run(write_params(tmp_path / "run", root))
    blocks = sec.result.blocks
    for i, b in enumerate(blocks):
        if isinstance(b, Heading) and b.level == 2:
            assert i + 1 < len(blocks) and not isinstance(blocks[i + 1], Heading), b.text
    headings = [b.text for b in blocks if isinstance(b, Heading)]
    assert headings == ["投诉处理情况", "投诉量与投诉类型", "投诉办结与处理质量"]
    texts = _paragraphs(sec)
    assert not any("满意度调查" in t for t in texts)
