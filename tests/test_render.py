"""Render the report with LibreOffice and read the PDF's text: the Chinese must be there."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from selfcheck.sections import SECTIONS
from selfcheck.word import layout
from selfcheck.word.format import chinese_number

pytestmark = pytest.mark.render

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
FOOTER = re.compile(r"第\s*(\d+)\s*页")


def _need_soffice() -> None:
    if SOFFICE is None:
        if os.environ.get("SELFCHECK_REQUIRE_RENDER"):
            pytest.fail("LibreOffice (soffice) is required here but not installed")
        pytest.skip("LibreOffice (soffice) is not installed: rendering check skipped")


@pytest.fixture(scope="module")
def pdf_pages(result) -> list[str]:
    """The text per page of the PDF copy the run wrote beside the report."""
    _need_soffice()
    assert result.pdf == result.report.with_suffix(".pdf")
    reader = PdfReader(str(result.pdf))
    assert len(reader.pages) >= 8
    return [page.extract_text() or "" for page in reader.pages]


@pytest.fixture(scope="module")
def pdf_text(pdf_pages) -> str:
    return "\n".join(pdf_pages)


def squash(text: str) -> str:
    return "".join(text.split())


def numbered(section_id: str) -> tuple[int, str]:
    shown = [s for s in SECTIONS if not s.group_only]  # 各分支机构对比: a group's only
    i = [s.id for s in shown].index(section_id) + 1
    return i, f"{chinese_number(i)}、{shown[i - 1].title}"


def test_chinese_headings_and_toc_render(pdf_text):
    text = squash(pdf_text)
    assert "2026年第3季度客户服务自查报告" in text
    assert "目录" in text
    for section_id in ("summary", "response", "appendix"):
        heading = numbered(section_id)[1]
        assert text.count(heading) >= 2, heading  # once in the contents, once as the heading
    for heading in ("（二）电话服务响应", "（四）运行记录"):
        assert text.count(heading) >= 2, heading


def test_captions_render_with_their_numbers(pdf_text):
    text = squash(pdf_text)
    r, a = numbered("response")[0], numbered("appendix")[0]
    for caption in (
        "表1-1主要指标达标情况",
        f"表{r}-1在线服务响应指标",
        f"图{r}-1在线人工请求超时率",
        f"图{r}-4",
        f"表{a}-1指标口径与目标",
    ):
        assert caption in text, caption
    assert "第1页" in text


def _toc(report: Path) -> list[tuple[str, str]]:
    """(heading, cached page number) per contents entry, from the .docx's XML."""
    from lxml import etree

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = etree.fromstring(zipfile.ZipFile(report).read("word/document.xml"))
    out = []
    for link in root.iter(f"{w}hyperlink"):
        if not any("PAGEREF" in (t.text or "") for t in link.iter(f"{w}instrText")):
            continue
        runs, state, number, text = list(link.iter(f"{w}r")), "text", "", ""
        for r in runs:
            fld = r.find(f"{w}fldChar")
            if fld is not None:
                state = {"begin": "code", "separate": "result", "end": "text"}[
                    fld.get(f"{w}fldCharType")
                ]
                continue
            value = "".join(t.text or "" for t in r.iter(f"{w}t"))
            if state == "result":
                number += value
            elif state == "text":
                text += value
        out.append((text.strip(), number))
    return out


def test_report_contents_show_the_pages_of_the_pdf(result, pdf_pages):
    shown = _toc(result.report)
    assert len(shown) >= 30
    first_body = next(i for i, t in enumerate(pdf_pages) if FOOTER.findall(t) == ["1"])
    for heading, number in shown:
        on = [
            i for i, t in enumerate(pdf_pages[first_body:], start=first_body)
            if squash(heading) in (squash(line) for line in t.splitlines())
        ]  # fmt: skip
        assert on, heading
        assert FOOTER.findall(pdf_pages[on[0]]) == [number], (heading, number)
    outline = [t for t, _ in layout.outline_pages(PdfReader(str(result.pdf)))]
    assert [h for h, _ in shown] == [t for t in outline if t in {h for h, _ in shown}]
    assert numbered("summary")[1] in outline and numbered("appendix")[1] in outline


def _copy_outputs(result, tmp_path: Path, sample_root: Path) -> Path:
    from conftest import write_params

    shutil.copytree(result.output_dir, tmp_path / "outputs" / result.period)
    return write_params(tmp_path, sample_root, layout="libreoffice")


def test_assemble_without_libreoffice(result, sample_root, tmp_path, monkeypatch):
    from selfcheck.execution.runner import assemble_report

    params = _copy_outputs(result, tmp_path, sample_root)
    out = tmp_path / "outputs" / result.period
    (out / result.report.with_suffix(".pdf").name).write_bytes(b"%PDF stale")  # a previous copy
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv(layout.SOFFICE_ENV, "")
    lines: list[str] = []
    report = assemble_report(params, echo=lines.append)
    assert report is not None and report.is_file()
    said = [line for line in lines if "LibreOffice" in line]
    assert len(said) == 1 and "未找到 LibreOffice" in said[0], lines
    assert not report.with_suffix(".pdf").exists()  # no copy of another report left beside it
    assert [n for _, n in _toc(report)] == [""] * len(_toc(report))


def test_assemble_gives_the_run_s_bytes_and_a_pdf(result, sample_root, tmp_path):
    _need_soffice()
    from selfcheck.execution.runner import assemble_report

    params = _copy_outputs(result, tmp_path, sample_root)
    report = assemble_report(params, echo=lambda _: None)
    assert report is not None
    assert report.read_bytes() == result.report.read_bytes()
    assert report.with_suffix(".pdf").is_file()
    assert all(n.isdigit() for _, n in _toc(report))


def test_cross_references_render_with_their_numbers(pdf_text):
    text = squash(pdf_text)
    r, s = numbered("response")[0], numbered("satisfaction")[0]
    assert f"各项指标见表{r}-1，各时段超时率见图{r}-1。" in text
    assert f"各项指标见表{r}-3，按服务类型和区域的到场超时率见图{r}-4。" in text
    assert "分析人员改写的电话服务段落。" in text  # replaced by the analyst: no reference
    assert f"近五个季度的主要指标走势见图{s}-1。" in text
    assert "[[" not in text and "]]" not in text
