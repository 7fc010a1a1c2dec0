"""Render the report with LibreOffice and read the PDF's text: the Chinese must be there."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from selfcheck.sections import SECTIONS
from selfcheck.word.format import chinese_number

pytestmark = pytest.mark.render

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="module")
def pdf_text(result, tmp_path_factory) -> str:
    if SOFFICE is None:
        if os.environ.get("SELFCHECK_REQUIRE_RENDER"):
            pytest.fail("LibreOffice (soffice) is required here but not installed")
        pytest.skip("LibreOffice (soffice) is not installed: rendering check skipped")
    out = tmp_path_factory.mktemp("pdf")
    profile = tmp_path_factory.mktemp("lo-profile")
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile.as_posix()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), str(result.report)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    pdf = out / result.report.with_suffix(".pdf").name
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 8
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def squash(text: str) -> str:
    return "".join(text.split())


def numbered(section_id: str) -> tuple[int, str]:
    i = [s.id for s in SECTIONS].index(section_id) + 1
    return i, f"{chinese_number(i)}、{SECTIONS[i - 1].title}"


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
