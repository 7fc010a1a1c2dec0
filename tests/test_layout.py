"""The layout pass: contents page numbers from LibreOffice's layout, the PDF copy, and what
happens without LibreOffice."""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from lxml import etree
from pypdf import PdfReader

from selfcheck.blocks import Heading, Paragraph, SectionResult
from selfcheck.period import Period
from selfcheck.report import Report, ReportMeta, SectionEntry
from selfcheck.word import layout
from selfcheck.word.writer import write_docx

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FOOTER = re.compile(r"第\s*(\d+)\s*页")
# 3 sections x 12 subheadings: 39 entries, a contents of two (Roman-numbered) pages
SECTIONS, SUBS = 3, 12
FILLER = "本季度客户服务中心按计划开展各项工作，服务运行总体平稳，各项指标均已按口径核算。" * 6


def _report(tmp_path: Path) -> Report:
    entries = []
    for s in range(1, SECTIONS + 1):
        blocks: list = []
        for h in range(1, SUBS + 1):
            blocks.append(Heading(f"第{s}章小节{h}情况"))
            blocks += [Paragraph(FILLER)] * (1 + (s * h) % 4)
        folder = tmp_path / "sections" / f"s{s}"
        folder.mkdir(parents=True)
        result = SectionResult(f"s{s}", f"测试章节{s}", s, "2026Q3", blocks=blocks)
        entries.append(SectionEntry(result, folder))
    meta = ReportMeta(
        "测试集团有限公司", "客户服务中心", Period.parse("2026Q3"), date(2026, 10, 15)
    )
    return Report(meta, tuple(entries))


def _toc_numbers(path: Path) -> list[tuple[str, str]]:
    """(entry text, cached PAGEREF result) of every contents entry, read back with python-docx."""
    document = docx.Document(str(path))
    out = []
    for p in document.element.body.iter(f"{W}p"):
        instr = [t.text or "" for t in p.iter(f"{W}instrText")]
        if not any("PAGEREF" in i for i in instr):
            continue
        link = p.find(f"{W}hyperlink")
        texts, in_result, number = [], False, ""
        for r in link.iter(f"{W}r"):
            fld = r.find(f"{W}fldChar")
            if fld is not None:
                in_result = fld.get(f"{W}fldCharType") == "separate"
                continue
            t = "".join(x.text or "" for x in r.iter(f"{W}t"))
            if in_result:
                number += t
            elif r.find(f"{W}instrText") is None:
                texts.append(t)
        out.append(("".join(texts).strip(), number))
    return out


def _squash(text: str) -> str:
    return "".join(text.split())


def _no_soffice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv(layout.SOFFICE_ENV, "")


# -- without LibreOffice --------------------------------------------------------------
def test_fill_page_numbers_sets_each_pageref(tmp_path: Path) -> None:
    target = tmp_path / "r.docx"
    write_docx(_report(tmp_path), target)
    data = target.read_bytes()
    entries = layout.toc_entries(data)
    assert len(entries) == SECTIONS * (SUBS + 1)
    assert entries[0].text == "一、测试章节1" and entries[1].text == "（一）第1章小节1情况"
    assert [n for _, n in _toc_numbers(target)] == [""] * len(entries)  # the writer's output
    pages = {e.bookmark: i + 1 for i, e in enumerate(entries)}
    filled = layout.fill_page_numbers(data, pages)
    assert filled == layout.fill_page_numbers(data, pages)  # same numbers, same bytes
    again = tmp_path / "filled.docx"
    again.write_bytes(filled)
    shown = _toc_numbers(again)
    assert shown[0] == ("一、测试章节1", "1")
    assert [n for _, n in shown] == [str(i + 1) for i in range(len(entries))]
    # filling again replaces the result rather than adding a second one
    refilled = tmp_path / "refilled.docx"
    refilled.write_bytes(layout.fill_page_numbers(filled, {entries[0].bookmark: 7}))
    assert _toc_numbers(refilled)[:2] == [("一、测试章节1", "7"), ("（一）第1章小节1情况", "2")]
    with zipfile.ZipFile(io.BytesIO(filled)) as z:  # still a package the writer would write
        names = z.namelist()
        assert names[:2] == ["[Content_Types].xml", "_rels/.rels"]
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_printed_numbers_count_from_the_first_heading() -> None:
    entries = [layout.TocEntry(f"_Toc{i}", f"h{i}") for i in range(3)]
    # cover + two contents pages: the body starts on PDF page index 3
    assert layout.printed_numbers({"_Toc0": 3, "_Toc1": 3, "_Toc2": 6}, entries) == {
        "_Toc0": 1,
        "_Toc1": 1,
        "_Toc2": 4,
    }
    assert layout.printed_numbers({}, entries) == {}


def test_dest_names_as_libreoffice_writes_them() -> None:
    assert layout._dest_key(layout._escaped("_Toc000000001")) == "5FToc000000001"
    assert layout._dest_key("/5FToc000000001") == "5FToc000000001"


def test_without_libreoffice_the_report_is_kept_and_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _no_soffice(monkeypatch, tmp_path)
    assert layout.find_soffice() is None
    target = tmp_path / "r.docx"
    write_docx(_report(tmp_path), target)
    before = target.read_bytes()
    with caplog.at_level("INFO", logger="selfcheck.word.layout"):
        result = layout.layout_report(target, pdf=True)
    assert result.pdf is None and not result.pages and result.conversions == 0
    assert result.message is not None and result.message.startswith("未找到 LibreOffice")
    assert "LibreOffice not found" in result.message
    assert [r.getMessage() for r in caplog.records] == [result.message]
    assert target.read_bytes() == before
    assert not target.with_suffix(".pdf").exists()


def test_soffice_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv(layout.SOFFICE_ENV, str(fake))
    assert layout.find_soffice() == fake
    target = tmp_path / "r.docx"
    write_docx(_report(tmp_path), target)
    before = target.read_bytes()
    result = layout.layout_report(target, pdf=True)  # a LibreOffice that fails: not fatal
    assert result.pdf is None and result.conversions == 0
    assert "退出码 3" in (result.message or "") and "未生成 PDF" in (result.message or "")
    assert target.read_bytes() == before


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for soffice")
def test_a_hanging_libreoffice_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 30\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv(layout.SOFFICE_ENV, str(fake))
    monkeypatch.setenv(layout.TIMEOUT_ENV, "1")
    target = tmp_path / "r.docx"
    write_docx(_report(tmp_path), target)
    result = layout.layout_report(target, pdf=False)
    assert "超时（1 秒）" in (result.message or "")
    assert result.seconds < 15


def test_layout_off(tmp_path: Path) -> None:
    target = tmp_path / "r.docx"
    write_docx(_report(tmp_path), target)
    before = target.read_bytes()
    result = layout.layout_report(target, mode="off")
    assert result.pdf is None and "layout: off" in (result.message or "")
    assert target.read_bytes() == before


# -- with LibreOffice -----------------------------------------------------------------
@pytest.fixture(scope="module")
def laid_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, layout.LayoutResult]:
    if layout.find_soffice() is None:
        if os.environ.get("SELFCHECK_REQUIRE_RENDER"):
            pytest.fail("LibreOffice (soffice) is required here but not installed")
        pytest.skip("LibreOffice (soffice) is not installed: layout checks skipped")
    tmp = tmp_path_factory.mktemp("layout")
    target = tmp / "report.docx"
    write_docx(_report(tmp), target)
    result = layout.layout_report(target, pdf=True)
    assert result.message is None, result.message
    return target, result


@pytest.mark.render
def test_contents_numbers_are_the_pages_the_headings_are_printed_on(laid_out) -> None:
    target, result = laid_out
    assert result.pdf == target.with_suffix(".pdf") and result.pdf.is_file()
    reader = PdfReader(str(result.pdf))
    pages = [page.extract_text() or "" for page in reader.pages]
    shown = _toc_numbers(target)
    assert len(shown) == SECTIONS * (SUBS + 1)
    # the contents take two pages: cover, I, II, then the body from 第 1 页
    assert "目　录" in pages[1] or "目录" in _squash(pages[1])
    assert not FOOTER.search(pages[1]) and not FOOTER.search(pages[2])
    assert FOOTER.findall(pages[3]) == ["1"]
    for heading, number in shown:
        assert number.isdigit(), (heading, number)
        body = [
            i for i, text in enumerate(pages[3:], start=3)
            if heading in (_squash(line) for line in text.splitlines())
        ]  # fmt: skip
        assert body, heading
        assert FOOTER.findall(pages[body[0]]) == [number], (heading, number, body[0])
    numbers = [int(n) for _, n in shown]
    assert numbers == sorted(numbers) and numbers[-1] > 8
    # the PDF's contents show the numbers too (it was converted after filling them in)
    contents = _squash(pages[1] + pages[2])
    for heading, number in shown[:5] + shown[-3:]:
        assert re.search(re.escape(heading) + r"\.{3,}" + number + r"(?!\d)", contents), heading


@pytest.mark.render
def test_pdf_outline_fonts_and_chinese_text(laid_out) -> None:
    _, result = laid_out
    reader = PdfReader(str(result.pdf))
    outline = [title for title, _ in layout.outline_pages(reader)]
    assert outline[:3] == ["一、测试章节1", "（一）第1章小节1情况", "（二）第1章小节2情况"]
    assert "三、测试章节3" in outline and len(outline) == SECTIONS * (SUBS + 1)
    assert "目　录" not in outline
    top = reader.outline
    assert [str(item.title) for item in top if not isinstance(item, list)] == [
        "一、测试章节1", "二、测试章节2", "三、测试章节3",
    ]  # fmt: skip
    fonts = {}
    for page in reader.pages:
        for f in (page["/Resources"].get("/Font") or {}).values():
            f = f.get_object()
            fd = f.get("/FontDescriptor")
            if fd is None and "/DescendantFonts" in f:
                fd = f["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            fd = fd.get_object() if fd is not None else {}
            fonts[str(f["/BaseFont"])] = any(
                k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    assert fonts and all(fonts.values()), fonts  # every font embedded
    text = _squash(reader.pages[3].extract_text())
    assert "一、测试章节1" in text and "本季度客户服务中心按计划开展各项工作" in text


@pytest.mark.render
def test_layout_is_byte_identical_run_to_run(laid_out, tmp_path: Path) -> None:
    target, result = laid_out
    other = tmp_path / "again.docx"
    write_docx(_report(tmp_path), other)
    again = layout.layout_report(other, pdf=False)
    assert again.message is None and again.conversions == 1
    assert dict(again.pages) == dict(result.pages)
    assert other.read_bytes() == target.read_bytes()
    assert not other.with_suffix(".pdf").exists()
    etree.fromstring(zipfile.ZipFile(other).read("word/document.xml"))  # well-formed


@pytest.mark.render
def test_previous_report_s_numbers_save_a_conversion(laid_out, tmp_path: Path) -> None:
    target, result = laid_out
    # a previous report whose numbers are off: two conversions, the same report
    entries = layout.toc_entries(target.read_bytes())
    wrong = tmp_path / "wrong.docx"
    wrong.write_bytes(layout.fill_page_numbers(target.read_bytes(), {entries[5].bookmark: 99}))
    third_path = tmp_path / "third.docx"
    write_docx(_report(tmp_path / "b"), third_path)
    third = layout.layout_report(third_path, pdf=True, previous=wrong)
    assert third.conversions == 2 and dict(third.pages) == dict(result.pages)
    assert third_path.read_bytes() == target.read_bytes()
    pdf_text = _squash(PdfReader(str(third.pdf)).pages[1].extract_text())
    assert "99" not in pdf_text.replace("2026", "")


@pytest.mark.render
def test_an_unchanged_report_reuses_the_previous_layout(laid_out, tmp_path: Path) -> None:
    target, result = laid_out
    again = tmp_path / "same.docx"
    write_docx(_report(tmp_path / "c"), again)
    reused = layout.layout_report(again, pdf=True, previous=target)
    assert reused.message is None and reused.conversions == 0
    assert again.read_bytes() == target.read_bytes()
    assert again.with_suffix(".pdf").read_bytes() == result.pdf.read_bytes()
    # without the previous PDF beside it the copy is made again
    lone = tmp_path / "lone" / "report.docx"
    lone.parent.mkdir()
    lone.write_bytes(target.read_bytes())
    fresh = tmp_path / "fresh.docx"
    write_docx(_report(tmp_path / "d"), fresh)
    made = layout.layout_report(fresh, pdf=True, previous=lone)
    assert made.conversions == 1 and fresh.read_bytes() == target.read_bytes()
