"""The whole path on the small sample: Papermill executes the real notebooks, the .docx is opened."""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile

import nbformat
import pandas as pd
import pytest
from conftest import ROOT, write_params
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from selfcheck.errors import SectionError
from selfcheck.execution.runner import run
from selfcheck.sections import SECTIONS
from selfcheck.word.format import chinese_number

pytestmark = pytest.mark.integration

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="session")
def doc(result):
    return Document(str(result.report))


def texts(doc, style_prefix):
    return [p.text for p in doc.paragraphs if p.style.name.startswith(style_prefix)]


def test_outputs_of_a_run(result):
    out = result.output_dir
    assert result.report.name == "2026Q3_客户服务自查报告.docx"
    for name in ("metrics.csv", "metrics.xlsx", "data_quality.json", "run_manifest.json"):
        assert (out / name).is_file()
    for nb in [s.notebook.removesuffix(".ipynb") for s in SECTIONS if not s.group_only]:
        executed = nbformat.read(out / "notebooks" / f"{nb}.ipynb", as_version=4)
        tags = [c.metadata.get("tags", []) for c in executed.cells]
        assert ["injected-parameters"] in tags  # Papermill ran it with our literals
        assert (out / "notebooks" / f"{nb}.html").stat().st_size > 10_000
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in manifest["sections"]] == ["ok"] * len(SECTIONS)
    assert {i["dataset"] for i in manifest["inputs"]} == {
        "tickets", "calls", "chats", "visits", "complaints", "surveys",
        "staff", "training", "qa_reviews", "incidents",
    }  # fmt: skip
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])


def test_metrics_xlsx_holds_the_csvs_figures(result):
    import openpyxl

    rows = metrics_rows(result)
    wb = openpyxl.load_workbook(result.output_dir / "metrics.xlsx", read_only=True)
    sheet = wb["指标"].iter_rows(values_only=True)
    header = next(sheet)
    book = {r[0]: dict(zip(header, r, strict=True)) for r in sheet}
    assert list(book) == list(rows)  # same metrics, same order
    for metric_id, row in rows.items():
        cell = book[metric_id]
        if row["value"] == "":
            assert cell["本期值"] is None and cell["达标情况"] == "无数据"
        else:
            assert cell["本期值"] == pytest.approx(float(row["value"]))
        assert cell["达标情况"] == row["status"]
        if row["delta"] != "":
            scale = 100 if row["unit"] == "rate" else 1  # rates' changes in points
            assert cell["环比变化"] == pytest.approx(float(row["delta"]) * scale)
    quality = [r[0] for r in wb["数据质量"].iter_rows(min_row=2, values_only=True)]
    assert len(quality) == 10 and "calls" in quality
    wb.close()


def metrics_rows(result) -> dict[str, dict]:
    with (result.output_dir / "metrics.csv").open(encoding="utf-8-sig") as f:
        return {r["metric_id"]: r for r in csv.DictReader(f)}


def test_metrics_csv_columns_and_a_figure_checked_by_hand(result, sample_root):
    rows = metrics_rows(result)
    first = next(iter(rows.values()))
    for col in ("metric_id", "name", "value", "unit", "numerator", "denominator", "target",
                "comparator", "status", "previous", "delta"):  # fmt: skip
        assert col in first

    # 45-second service level, computed here straight from the CSV with plain pandas
    def service_level(period: str) -> float:
        calls = pd.read_csv(sample_root / period / "calls.csv")
        q = calls["queue_seconds"]
        answered = calls["outcome"] == "answered"
        short = (calls["outcome"] == "abandoned") & (q < 5)
        offered = answered.sum() + ((calls["outcome"] == "abandoned") & ~short).sum()
        return ((answered & (q <= 45)).sum()) / offered

    sl = rows["phone.service_level"]
    assert float(sl["value"]) == pytest.approx(service_level("2026Q3"), abs=1e-12)
    assert float(sl["previous"]) == pytest.approx(service_level("2026Q2"), abs=1e-12)
    assert float(sl["delta"]) == pytest.approx(
        service_level("2026Q3") - service_level("2026Q2"), abs=1e-12
    )
    assert (sl["target"], sl["comparator"], sl["status"]) == ("0.8", ">=", "未达标")
    assert rows["phone.aht_seconds"]["status"] == "无标准"
    assert rows["phone.calls"]["value"] == str(
        len(pd.read_csv(sample_root / "2026Q3" / "calls.csv"))
    )
    assert "visits.emergency_late_rate.area:suburb" in rows


def position(section_id: str) -> int:
    return [s.id for s in SECTIONS if not s.group_only].index(section_id) + 1


def subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(w in it for w in wanted)


def test_headings_and_toc(doc):
    assert texts(doc, "Heading 1") == [
        f"{chinese_number(i)}、{s.title}"
        for i, s in enumerate((s for s in SECTIONS if not s.group_only), start=1)
    ]  # 各分支机构对比 is in a group's report only
    h2 = texts(doc, "Heading 2")
    levels = [h for h in h2 if h.endswith(("严重问题", "较重问题", "一般问题"))]
    assert levels and [h[3:] for h in levels] == [
        x for x in ("严重问题", "较重问题", "一般问题") if any(h.endswith(x) for h in levels)
    ]
    assert subsequence(
        ["（一）在线服务响应", "（二）电话服务响应", "（三）现场服务响应", "（一）上期整改措施落实情况",
         "（一）指标口径", "（二）参数取值", "（三）数据来源与质量", "（四）运行记录"],
        h2,
    )  # fmt: skip
    body = doc.element.body
    instr = [t.text for t in body.iter(f"{W}instrText")]
    assert any(t.strip().startswith("TOC") for t in instr)
    toc = [
        p.text.split("\t")[0].strip()
        for p in doc.paragraphs
        if re.fullmatch(r"TOC\d", p.style.style_id)
    ]
    headings = [
        p.text for p in doc.paragraphs if p.style.name in ("Heading 1", "Heading 2", "Heading 3")
    ]
    assert toc == headings  # filled in when the file is opened, not waiting for an update


def test_captions_are_numbered_seq_fields(doc):
    captions = [p for p in doc.paragraphs if p.style.name == "Caption"]
    labels = [re.match(r"^(表|图) (\d+)-(\d+)", p.text).groups() for p in captions]
    for kind in ("表", "图"):
        for section in [str(i) for i in range(1, len(SECTIONS) + 1)]:
            numbers = [int(n) for k, s, n in labels if k == kind and s == section]
            assert numbers == list(range(1, len(numbers) + 1))
    r = str(position("response"))
    assert ("图", r, "4") in labels and ("表", r, "3") in labels and ("表", "1", "1") in labels
    for p in captions:
        instr = "".join(t.text for t in p._p.iter(f"{W}instrText"))
        assert "SEQ" in instr
        cached = re.match(r"^(?:表|图) \d+-(\d+)", p.text).group(1)
        assert cached != "0"


def test_east_asian_fonts_and_language(doc, result):
    runs = list(doc.element.body.iter(f"{W}r"))
    assert runs
    missing = [r for r in runs if r.find(f"{W}rPr/{W}rFonts") is None
               or not r.find(f"{W}rPr/{W}rFonts").get(qn("w:eastAsia"))]  # fmt: skip
    assert missing == []
    with zipfile.ZipFile(result.report) as z:
        styles = z.read("word/styles.xml").decode("utf-8")
    assert 'w:eastAsia="zh-CN"' in styles


def test_header_footer_tables_images(doc):
    body_section = doc.sections[-1]
    assert "2026年第3季度" in "".join(p.text for p in body_section.header.paragraphs)
    footer_instr = "".join(t.text for t in body_section.footer._element.iter(f"{W}instrText"))
    assert "PAGE" in footer_instr
    assert len(doc.tables) >= 8
    for table in doc.tables:
        assert table.rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None
    cells = [c for t in doc.tables for row in t.rows for c in row.cells]
    short = [c for c in cells if c.text == "未达标"]
    assert short and short[0]._tc.find(f"{W}tcPr/{W}shd") is not None
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+", c.text) for c in cells)  # thousands separators
    assert any(re.fullmatch(r"\d+\.\d%", c.text) for c in cells)  # rates, one decimal
    shapes = doc.inline_shapes
    assert len(shapes) >= 5  # the response section's four and the summary's trend
    assert all(abs(s.width - Cm(15)) < Cm(0.05) for s in shapes)


def test_only_reruns_one_section_and_the_document_is_byte_identical(result, sample_params):
    before = result.report.read_bytes()
    again = run(sample_params, only="response", echo=lambda _: None)
    # response, then the sections that read it (summary, findings, measures, appendix)
    assert [s.section_id for s in again.sections] == [
        "response",
        *(s.id for s in SECTIONS if s.after_all),
    ]
    assert again.report.read_bytes() == before


def test_failing_section_is_named_and_kept(sample_root, tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    nb = nbformat.read(notebooks / "04_response.ipynb", as_version=4)
    nb.cells.insert(4, nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(nb, notebooks / "04_response.ipynb")
    monkeypatch.setenv("SELFCHECK_NOTEBOOKS", str(notebooks))
    params = write_params(tmp_path / "run", sample_root)

    with pytest.raises(SectionError) as e:
        run(params, echo=lambda _: None)
    msg = str(e.value)
    assert "服务响应速度" in msg and "代码单元" in msg and "ZeroDivisionError" in msg
    executed = nbformat.read(
        tmp_path / "run" / "outputs" / "2026Q3" / "notebooks" / "04_response.ipynb", as_version=4
    )
    errors = [
        o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert errors and errors[0]["ename"] == "ZeroDivisionError" and errors[0]["traceback"]
    assert not list((tmp_path / "run" / "outputs" / "2026Q3").glob("*.docx"))

    partial = run(params, allow_partial=True, echo=lambda _: None)
    status = {s.section_id: s.status for s in partial.sections}
    assert status.pop("response") == "failed" and set(status.values()) == {"ok"}
    text = "\n".join(p.text for p in Document(str(partial.report)).paragraphs)
    heading = f"{chinese_number(position('response'))}、服务响应速度"
    assert heading in text and "本节生成失败" in text and "ZeroDivisionError" in text


def test_history_store_feeds_the_previous_quarter(sample_root, tmp_path):
    from dataclasses import replace

    from selfcheck.metrics.history import HistoryStore
    from selfcheck.period import Period

    params = write_params(tmp_path / "hist", sample_root)
    first = run(params, echo=lambda _: None)
    store = HistoryStore(first.output_dir.parent / "history.duckdb")
    q3 = store.read(Period.parse("2026Q3"))
    assert q3 is not None and "phone.service_level" in q3
    # Last quarter as it was reported (in the store) wins over recomputing it from data
    reported = {
        k: replace(v, value=0.5) if k == "phone.service_level" else v for k, v in q3.items()
    }
    from selfcheck.metrics.base import Metric

    store.write(
        Period.parse("2026Q2"),
        [
            Metric(k, k, "rate", v.value, v.numerator, v.denominator, v.n, reason=v.reason)
            for k, v in reported.items()
        ],
    )
    run(params, only="response", echo=lambda _: None)
    rows = metrics_rows(first)
    assert float(rows["phone.service_level"]["previous"]) == 0.5
    assert store.periods() == ["2026Q2", "2026Q3"]  # the re-run replaced its own rows only


def body_text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_summary_lists_every_targeted_metric_with_its_status(doc, result):
    rows = metrics_rows(result)
    targeted = {
        r["name"]: r["status"] for r in rows.values() if r["target"] and ":" not in r["metric_id"]
    }
    summary = next(
        t for t in doc.tables if t.rows[0].cells[0].text == "指标" and len(t.columns) == 5
    )
    shown = {r.cells[0].text: r.cells[3].text for r in summary.rows[1:]}
    assert shown == targeted
    assert "未达标" in shown.values()


def test_problems_measures_and_follow_up(doc):
    text = body_text(doc)
    assert "知识库更新滞后" in text  # the analyst's problem is listed
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "按小时来电预测排班，促销期间启用弹性班组。" in cells
    assert "增加午间班次。" in cells and "已完成" in cells  # last quarter's measure (闭环)
    # a shortfall without a measure is flagged in the report
    assert re.search(r"以下\d+个问题尚未制定整改措施", text)
    assert "45秒接通率未达标" not in text.split("尚未制定整改措施")[1].split("\n")[0]


def test_analyst_text_replaces_and_adds(doc):
    text = body_text(doc)
    assert "分析人员改写的电话服务段落。" in text
    assert "本季度热线来电" not in text  # the generated phone paragraph was replaced
    assert "分析人员补充：本季度上线了新版智能客服。" in text


def test_run_log_flags_shortfalls_without_measures(sample_params):
    lines: list[str] = []
    run(sample_params, only="measures", echo=lines.append)
    flagged = [line for line in lines if "没有整改措施" in line]
    assert flagged and not any("phone.service_level" in line for line in flagged)


def test_five_quarter_trend_is_kept_with_each_metric(result, sample_root):
    from selfcheck.blocks import SectionResult

    response = SectionResult.load(result.output_dir / "sections" / "response")
    sl = next(m for m in response.metrics if m.metric_id == "phone.service_level")
    assert [p for p, _ in sl.trend] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert sl.trend[-1][1] == sl.value and sl.trend[-2][1] == sl.previous
    assert sl.trend[0][1] == sl.year_ago
    summary = SectionResult.load(result.output_dir / "sections" / "summary")
    assert any(b.type == "figure" and "五个季度" in b.caption for b in summary.blocks)
