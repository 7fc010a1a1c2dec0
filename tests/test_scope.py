"""Scope (自查范围): the report is about what the centre has.

The parameters' ``scope:`` block is validated once; a calls-only quarter (a hand-written
export of ten calls, every figure computed by hand below) gives a report without 无数据
in the headline table and with the attainment rate over the assessed metrics only; an
expected dataset that is missing is one gap sentence in the summary and one problem in
存在的问题; a declared not-applicable area disappears from the .docx and the numbering of
sections, tables and figures closes up. Every report is built by the real pipeline.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import PERIOD, write_params
from docx import Document

from selfcheck.blocks import Heading, SectionResult
from selfcheck.config import load_config
from selfcheck.errors import ParamsError, SectionError
from selfcheck.scope import REASON_NOT_SUPPLIED, resolve_scope
from selfcheck.section import Section
from selfcheck.sections import SECTIONS

CHINESE = "一二三四五六七八九十"

# Ten calls of 2026-07-06 (a Monday): 8 answered (queue 10 s, ring 2 s), one abandoned after
# 20 s in the queue (not a short abandon: ≥ 5 s), one busy.
#   offered = 8 answered + 1 abandoned = 9
#   人工接通率 8/9 = 88.9 % (≥ 95 %: 未达标)     排队放弃率 1/9 = 11.1 % (≤ 5 %: 未达标)
#   45秒接通率 8/9 = 88.9 % (≥ 80 %: 达标)        平均排队时长 10 s (≤ 30 s: 达标)
#   最长排队时长 10 s (≤ 60 s: 达标)              振铃超时率 0/10 (≤ 3 %: 达标)
#   占线率 1/10 = 10 % (≤ 1 %: 未达标)
# → 7 metrics with a target assessed, 4 met, 3 missed: 达标率 4/7 = 57.1 %.
CALLS = "call_id,arrived_at,outcome,ring_seconds,queue_seconds,talk_seconds,agent_id\n" + "".join(
    f"C{i:03d},2026-07-06 {9 + i}:00:00,{outcome},2,{queue},{talk},KF{i:03d}\n"
    for i, (outcome, queue, talk) in enumerate(
        [("answered", 10, 120)] * 8 + [("abandoned", 20, ""), ("busy", "", "")]
    )
)
HEADLINE = {
    "人工接通率": ("88.9%", "未达标"),
    "排队放弃率": ("11.1%", "未达标"),
    "45秒接通率": ("88.9%", "达标"),
    "平均排队时长": ("10.0秒", "达标"),
    "最长排队时长": ("10.0秒", "达标"),
    "振铃超时率": ("0.0%", "达标"),
    "占线率": ("10.0%", "未达标"),
}


def _quiet(_: str) -> None:
    pass


def _doc(path: Path):
    return Document(str(path))


def _texts(doc, style: str) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name == style]


def _body(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def _captions(doc) -> list[tuple[str, int, int, str]]:
    out = []
    for p in _texts(doc, "Caption"):
        kind, section, number, text = re.match(r"^(表|图) (\d+)-(\d+) (.*)$", p).groups()
        out.append((kind, int(section), int(number), text))
    return out


def _assert_numbering_closes_up(doc) -> None:
    h1 = _texts(doc, "Heading 1")
    numbers = [h.split("、", 1)[0] for h in h1]
    assert numbers == [CHINESE[i] for i in range(len(h1))]  # 一、二、三… without gaps
    captions = _captions(doc)
    for kind in ("表", "图"):
        for section in range(1, len(h1) + 1):
            seen = [n for k, s, n, _ in captions if k == kind and s == section]
            assert seen == list(range(1, len(seen) + 1)), (kind, section, seen)
    assert {s for _, s, _, _ in captions} <= set(range(1, len(h1) + 1))


def _headline(doc) -> dict[str, tuple[str, str]]:
    table = next(t for t in doc.tables if [c.text for c in t.rows[0].cells][:4] == ["指标", "本期", "目标", "状态"] and len(t.columns) == 5)  # fmt: skip
    return {r.cells[0].text: (r.cells[1].text, r.cells[3].text) for r in table.rows[1:]}


def _metric_names(run) -> dict[str, str]:
    import csv

    with (run.output_dir / "metrics.csv").open(encoding="utf-8-sig", newline="") as f:
        return {r["metric_id"]: r["name"] for r in csv.DictReader(f)}


# -- parameters ---------------------------------------------------------------------------


def _params(tmp_path: Path, scope: str) -> Path:
    return write_params(tmp_path, tmp_path / "data", scope=scope)


def test_unknown_key_in_scope_is_named(tmp_path):
    with pytest.raises(ParamsError) as e:
        load_config(_params(tmp_path, "{not_aplicable: {visits: 本中心不设现场服务}}"))
    assert "scope.not_aplicable" in str(e.value) and "未知的参数名" in str(e.value)


def test_unknown_dataset_in_scope_is_named_with_the_known_ones(tmp_path):
    with pytest.raises(ParamsError) as e:
        load_config(_params(tmp_path, "{not_applicable: {onsite: 本中心不设现场服务}}"))
    message = str(e.value)
    assert "scope.not_applicable" in message and "'onsite'" in message
    assert "visits（现场服务）" in message
    with pytest.raises(ParamsError, match="'phone'"):
        load_config(_params(tmp_path, "{expected: [calls, phone]}"))


def test_a_dataset_cannot_be_both_expected_and_not_applicable(tmp_path):
    with pytest.raises(ParamsError, match="visits 既列为不适用"):
        load_config(_params(tmp_path, "{not_applicable: {visits: 无}, expected: [visits]}"))
    with pytest.raises(ParamsError, match="须写明不适用的原因"):
        load_config(_params(tmp_path, "{not_applicable: {visits: ''}}"))


def test_scope_of_a_data_folder(tmp_path):
    folder = tmp_path / "data" / PERIOD
    folder.mkdir(parents=True)
    (folder / "calls.csv").write_text(CALLS, encoding="utf-8")
    (folder / "visits.csv").write_text("visit_id\n", encoding="utf-8")
    params = _params(
        tmp_path, "{not_applicable: {visits: 本中心不设现场服务}, expected: [calls, tickets]}"
    )
    scope = resolve_scope(load_config(params))
    status = {e.dataset: e.status for e in scope.entries}
    assert status == {
        "tickets": "gap",
        "calls": "included",
        "chats": "not_supplied",
        "visits": "not_applicable",
        "complaints": "not_supplied",
        "surveys": "not_supplied",
        "staff": "not_supplied",
        "training": "not_supplied",
        "qa_reviews": "not_supplied",
        "incidents": "not_supplied",
    }
    assert scope.entry("visits").reason == "本中心不设现场服务"
    assert dict((r[0], r[2]) for r in scope.rows())["现场服务（visits）"] == (
        "本中心不设现场服务；数据目录中虽有该文件，本次不使用"
    )
    assert scope.entry("chats").reason == REASON_NOT_SUPPLIED
    assert scope.log_line() == (
        "自查范围：不纳入 chats（未提供）、visits（不适用）、complaints（未提供）、surveys（未提供）、"
        "staff（未提供）、training（未提供）、qa_reviews（未提供）、incidents（未提供）；"
        "数据缺口 tickets（scope.expected 要求提供），列入存在的问题，报告中略去相关章节和指标"
        " (out of scope)"
    )
    assert scope.includes_metric("phone.service_level")
    assert not scope.includes_metric("visits.total")
    assert not scope.includes_metric("qa.sampling_rate")  # no reviews
    assert not scope.includes_metric("complaints.per_10k_tickets")


def test_heading_requires_names_datasets(tmp_path, sample_root):
    sec = Section("response", PERIOD, write_params(tmp_path, sample_root))
    with pytest.raises(SectionError, match="requires="):
        sec.heading("现场服务响应", requires="onsite")
    assert sec.result.blocks == []


# -- a calls-only quarter, tickets expected --------------------------------------------------


@pytest.fixture(scope="module")
def calls_only(tmp_path_factory):
    from selfcheck.execution.runner import run

    root = tmp_path_factory.mktemp("calls_only")
    folder = root / "data" / PERIOD
    folder.mkdir(parents=True)
    (folder / "calls.csv").write_text(CALLS, encoding="utf-8")
    params = write_params(root / "run", root / "data", scope="{expected: [calls, tickets]}")
    result = run(params, echo=_quiet)
    assert not result.failed
    return result


def test_calls_only_headline_table_has_no_missing_data_rows(calls_only):
    doc = _doc(calls_only.report)
    assert _headline(doc) == HEADLINE  # every row assessed, none 无数据
    summary = SectionResult.load(calls_only.output_dir / "sections" / "summary")
    table = next(b for b in summary.blocks if getattr(b, "caption", "") == "主要指标达标情况")
    assert "无数据" not in (table.note or "")


def test_calls_only_attainment_rate_counts_assessed_metrics(calls_only):
    text = _body(_doc(calls_only.report))
    assert "设有目标的指标共7项，其中达标4项、未达标3项，达标率57.1%。" in text
    assert "从服务体系建设现状、服务响应速度等方面开展自查" in text  # sections in the report


def test_calls_only_scope_paragraph_names_what_was_not_covered(calls_only):
    doc = _doc(calls_only.report)
    paragraphs = [p.text for p in doc.paragraphs]
    first = paragraphs.index("一、报告摘要") + 1
    scope = paragraphs[first]
    assert scope.startswith("本次自查范围：纳入电话服务（1类数据）。")
    assert (
        "未纳入：在线咨询、现场服务、投诉处理、客户满意度调查、服务团队、培训、服务质量检查（质检）、"
        f"系统保障（故障）（{REASON_NOT_SUPPLIED}）" in scope
    )
    # the gap is stated once in the summary: in the scope paragraph
    assert scope.count("工单受理与处理") == 1 and "数据缺口" in scope
    summary = SectionResult.load(calls_only.output_dir / "sections" / "summary")
    summary_text = "".join(getattr(b, "text", "") for b in summary.blocks)
    assert summary_text.count("工单") == 1


def test_calls_only_leaves_out_what_it_does_not_have(calls_only):
    doc = _doc(calls_only.report)
    assert _texts(doc, "Heading 1") == [
        "一、报告摘要",
        "二、服务体系建设现状",
        "三、服务响应速度",
        "四、存在的问题",
        "五、原因分析与整改措施",
        "六、附录",
    ]
    h2 = _texts(doc, "Heading 2")
    assert "（一）服务标准体系建设情况" in h2 and "（一）电话服务响应" in h2
    for gone in ("在线服务响应", "现场服务响应", "服务团队建设情况", "业务高峰应对情况"):
        assert not any(h.endswith(gone) for h in h2)
    body = _body(doc)
    assert "无在线咨询数据" not in body and "无现场服务数据" not in body
    assert "从电话热线渠道检查" in body
    _assert_numbering_closes_up(doc)
    metrics = (calls_only.output_dir / "metrics.csv").read_text(encoding="utf-8-sig")
    ids = {line.split(",")[0] for line in metrics.splitlines()[1:]}
    assert ids and all(i.startswith("phone.") for i in ids)


def test_expected_missing_dataset_is_one_problem(calls_only):
    findings = SectionResult.load(calls_only.output_dir / "sections" / "findings")
    text = [getattr(b, "text", "") for b in findings.blocks]
    assert sum("未提供工单数据" in t for t in text) == 1  # one paragraph (较重问题)
    assert any("应提供而未提供的数据1个" in t for t in text)
    table = next(b for b in findings.blocks if getattr(b, "caption", "").startswith("问题清单"))
    gaps = [r for r in table.rows if r[1] == "未提供工单数据"]
    assert len(gaps) == 1 and gaps[0][-1] == "较重"
    # 4 problems: the three shortfalls and the gap
    assert len(table.rows) == 4


def test_appendix_lists_the_scope(calls_only):
    doc = _doc(calls_only.report)
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "数据/领域")
    rows = {r.cells[0].text: (r.cells[1].text, r.cells[2].text) for r in table.rows[1:]}
    assert rows["电话服务（calls）"] == ("纳入", "数据已提供，纳入自查")
    assert rows["在线咨询（chats）"] == ("不纳入（未提供）", REASON_NOT_SUPPLIED)
    assert rows["工单受理与处理（tickets）"][0] == "不纳入（数据缺口）"
    assert len(rows) == 10
    # the other appendix tables list only what is in scope
    sources = next(t for t in doc.tables if t.rows[0].cells[0].text == "数据集")
    assert [r.cells[0].text for r in sources.rows[1:]] == ["电话"]
    parameters = next(t for t in doc.tables if t.rows[0].cells[0].text == "参数")
    assert [r.cells[0].text for r in parameters.rows[1:]] == [
        "short_abandon_seconds",
        "service_level_seconds",
        "ring_limit_seconds",
        "min_sample",
        "calendar.work_start",
        "calendar.work_end",
    ]


# -- the sample with on-site service declared not applicable ------------------------------


@pytest.fixture(scope="module")
def no_visits(sample_root, tmp_path_factory, result):
    """The sample quarter with ``visits`` declared not applicable, beside the full run."""
    from selfcheck.execution.runner import run

    folder = tmp_path_factory.mktemp("no_visits")
    params = write_params(
        folder, sample_root, scope="{not_applicable: {visits: 本中心不设现场服务}}"
    )
    out = run(params, echo=_quiet)
    assert not out.failed
    return out


def test_not_applicable_area_disappears_from_the_docx(no_visits, result):
    doc, full = _doc(no_visits.report), _doc(result.report)
    h2, h2_full = _texts(doc, "Heading 2"), _texts(full, "Heading 2")
    assert any(h.endswith("现场服务响应") for h in h2_full)
    assert any(h.endswith("服务交付环节") for h in h2_full)
    assert not any(h.endswith(("现场服务响应", "服务交付环节")) for h in h2)
    # the response section's subsections close up: 在线（一）, 电话（二）
    assert "（一）在线服务响应" in h2 and "（二）电话服务响应" in h2
    captions = [c[3] for c in _captions(doc)]
    assert "现场服务响应指标" in [c[3] for c in _captions(full)]
    assert not any("现场服务" in c for c in captions)  # no table, no figure of it
    body = _body(doc)
    assert "现场服务到场超时率" not in body and "预约确认超时率" not in body
    assert "从在线咨询和电话热线两个渠道检查" in body
    _assert_numbering_closes_up(doc)
    # one table fewer and one figure fewer in 服务响应速度 than the full report
    r = 4
    assert [n for k, s, n, _ in _captions(doc) if (k, s) == ("表", r)] == [1, 2]
    assert [n for k, s, n, _ in _captions(full) if (k, s) == ("表", r)] == [1, 2, 3]


def test_not_applicable_metrics_leave_headline_and_figures(no_visits, result):
    doc, full = _doc(no_visits.report), _doc(result.report)
    headline, headline_full = _headline(doc), _headline(full)
    visit_names = {n for i, n in _metric_names(result).items() if i.startswith("visits.")}
    visit_names &= set(headline_full)
    assert len(visit_names) >= 5 and not visit_names & set(headline)
    assert not any(i.startswith("visits.") for i in _metric_names(no_visits))
    # everything else is the same figure as in the full report, but the sampling rate of
    # the quality reviews: the sample's reviews include on-site visits, whose base (the
    # visits) is now not used, so that rate has no value (its reason says why)
    kept = {k: v for k, v in headline_full.items() if k not in visit_names}
    assert headline.pop("质检抽样率") == ("—", "无数据")
    kept.pop("质检抽样率")
    assert kept == headline
    met = sum(s == "达标" for _, s in headline.values())
    assessed = sum(s in ("达标", "未达标") for _, s in headline.values())
    assert f"达标率{met / assessed * 100:.1f}%" in _body(doc)
    text = _body(doc)
    assert "未纳入：现场服务（本中心不设现场服务），报告中不列相关指标和内容。" in text


def test_full_sample_keeps_every_section_and_gains_the_scope_paragraph(result):
    doc = _doc(result.report)
    paragraphs = [p.text for p in doc.paragraphs]
    first = paragraphs.index("一、报告摘要") + 1
    assert paragraphs[first] == (
        "本次自查范围：工单受理与处理、电话服务、在线咨询、现场服务、投诉处理、客户满意度调查、"
        "服务团队、培训、服务质量检查（质检）、系统保障（故障）共10类数据均已提供，全部纳入自查。"
    )
    # the checklists inspected: every section but the group's 各分支机构对比
    assert len(_texts(doc, "Heading 1")) == len([s for s in SECTIONS if not s.group_only])


def test_a_heading_out_of_scope_drops_its_subsection_only(tmp_path):
    """In-process: blocks under an out-of-scope heading go, up to the next heading of its
    level or above; a deeper heading inside goes with it."""
    folder = tmp_path / "data" / PERIOD
    folder.mkdir(parents=True)
    (folder / "calls.csv").write_text(CALLS, encoding="utf-8")
    sec = Section("system", PERIOD, write_params(tmp_path / "run", tmp_path / "data"))
    sec.paragraph("开头")
    assert sec.heading("现场", requires="visits") is None
    sec.paragraph("现场段落")
    sec.heading("现场细项", level=2)
    sec.paragraph("细项段落")
    sec.heading("电话", requires=("calls", "visits"))
    sec.paragraph("电话段落")
    kept = [(type(b).__name__, getattr(b, "text", "")) for b in sec.result.blocks]
    assert kept == [
        ("Paragraph", "开头"),
        ("Heading", "电话"),
        ("Paragraph", "电话段落"),
    ]
    path = sec.save()
    saved = SectionResult.load(path.parent)
    assert [b.text for b in saved.blocks if isinstance(b, Heading)] == ["电话"]


def test_a_year_pooled_from_its_quarters_has_the_datasets_of_its_quarter_folders(tmp_path):
    """``data_from: quarters``: a dataset is supplied when any quarter folder holds it."""
    for quarter in ("2026Q1", "2026Q3"):
        (tmp_path / "data" / quarter).mkdir(parents=True)
    (tmp_path / "data" / "2026Q3" / "calls.csv").write_text(CALLS, encoding="utf-8")
    params = write_params(tmp_path / "run", tmp_path / "data", data_from="quarters")
    text = params.read_text(encoding="utf-8").replace("period: 2026Q3", "period: 2026")
    params.write_text(text, encoding="utf-8")
    scope = resolve_scope(load_config(params))
    assert scope.includes("calls") and not scope.includes("tickets")
