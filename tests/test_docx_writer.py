"""The Word writer: reopen the produced .docx and check what a reader will see."""

from __future__ import annotations

import os
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Cm
from lxml import etree
from PIL import Image

from selfcheck.blocks import Column, Figure, Heading, Paragraph, SectionResult, Table
from selfcheck.errors import ReportError
from selfcheck.period import Period
from selfcheck.report import Report, ReportMeta, SectionEntry
from selfcheck.word.format import TextCleaner, chinese_number, format_cell
from selfcheck.word.writer import WriteStats, write_docx

HEADINGS_XPATH = ".//w:p[starts-with(w:pPr/w:pStyle/@w:val, 'Heading')]"
TITLE = "2026年第3季度客户服务自查报告"


# -- fixtures ------------------------------------------------------------------------
def _png(path: Path, size: tuple[int, int] = (300, 150)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (70, 110, 160)).save(path)


def _report(tmp_path: Path) -> Report:
    s1 = tmp_path / "sections" / "speed"
    s2 = tmp_path / "sections" / "satisfaction"
    s3 = tmp_path / "sections" / "quality"
    _png(s1 / "trend.png")
    _png(s2 / "img" / "nps.png", (200, 200))
    s3.mkdir(parents=True)
    speed = SectionResult(
        section_id="speed",
        title="服务响应速度",
        order=1,
        period="2026Q3",
        blocks=[
            Heading("在线服务"),
            Paragraph("本季度在线服务响应整体平稳\x00，详见下表\x1b。"),
            Heading("工作日", level=2),
            Table(
                caption="在线服务响应指标",
                columns=(
                    Column("指标"),
                    Column("会话量", "int"),
                    Column("平均时长", "number", decimals=2),
                    Column("及时率", "rate"),
                    Column("环比", "pp"),
                    Column("变化", "delta", decimals=1),
                    Column("状态", "status"),
                ),
                rows=(
                    ("首次响应", 12345, 1234.5, 0.953, 0.012, 3.0, "达标"),
                    ('解决<率> & "满意"', None, float("nan"), 0.8123, -0.004, -2.25, "未达标"),
                ),
                note="数据来源：在线客服系统",
            ),
            Heading("节假日", level=2),
            Paragraph("节假日客户留言 😀 均已回复。", style="quote"),
            Heading("电话服务"),
            Heading("接通", level=2),
            Figure(caption="接通率趋势", path="trend.png", width_cm=12.0),
            Table(caption="空表", columns=(Column("项目"), Column("数量", "int")), rows=()),
            Paragraph("口径见附录。", style="note"),
        ],
    )
    satisfaction = SectionResult(
        section_id="satisfaction",
        title="客户满意度与投诉处理",
        order=2,
        period="2026Q3",
        blocks=[
            Heading("满意度"),
            Figure(caption="NPS 分布", path="img/nps.png", width_cm=8.0, note="样本量 1,024"),
            Table(
                caption="投诉处理",
                columns=(Column("类型"), Column("件数", "int"), Column("状态", "status")),
                rows=(("服务态度", 12, "未达标"),),
            ),
        ],
    )
    failed = SectionResult(
        section_id="quality",
        title="服务质量检查",
        order=3,
        period="2026Q3",
        status="failed",
        error="KeyError: 'score'",
    )
    meta = ReportMeta(
        organisation="示例电器股份有限公司",
        reporting_unit="客户服务中心",
        period=Period(2026, 3),
        report_date=date(2026, 10, 15),
    )
    return Report(
        meta,
        (SectionEntry(speed, s1), SectionEntry(satisfaction, s2), SectionEntry(failed, s3)),
    )


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, WriteStats, DocxDocument]:
    target = tmp_path / "out" / "report.docx"
    stats = write_docx(_report(tmp_path), target)
    return target, stats, docx.Document(str(target))


def _text(p: etree._Element) -> str:
    """Visible text of a paragraph element (field instructions excluded)."""
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


def _paragraphs(document: DocxDocument, style_id: str) -> list[etree._Element]:
    return document.element.body.xpath(f".//w:p[w:pPr/w:pStyle/@w:val='{style_id}']")


def _style_id(document: DocxDocument, name: str) -> str:
    for style in document.styles.element.findall(qn("w:style")):
        if style.find(qn("w:name")).get(qn("w:val")).casefold() == name.casefold():
            return style.get(qn("w:styleId"))
    raise AssertionError(f"no style {name}")


EXPECTED_HEADINGS = [
    ("Heading1", "一、服务响应速度"),
    ("Heading2", "（一）在线服务"),
    ("Heading3", "1. 工作日"),
    ("Heading3", "2. 节假日"),
    ("Heading2", "（二）电话服务"),
    ("Heading3", "1. 接通"),
    ("Heading1", "二、客户满意度与投诉处理"),
    ("Heading2", "（一）满意度"),
    ("Heading1", "三、服务质量检查"),
]


# -- the document ----------------------------------------------------------------------
def test_stats(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, stats, _ = written
    assert stats == WriteStats(illegal_chars_removed=2, tables=3, figures=2, headings=9)


def test_cover_is_its_own_section(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    body = document.element.body
    first_break = body.xpath("./w:p[w:pPr/w:sectPr]")[0]
    cover = [_text(p) for p in first_break.itersiblings(preceding=True)][::-1]
    cover = [t for t in cover if t]
    assert cover[0] == "示例电器股份有限公司"
    assert cover[1] == TITLE
    assert "编制单位：客户服务中心" in cover
    assert "2026年10月15日" in cover
    assert cover[-1] == "内部资料　注意保密"
    assert len(document.sections) == 3
    cover_section = document.sections[0]
    assert not cover_section.different_first_page_header_footer
    assert "".join(p.text for p in cover_section.header.paragraphs) == ""
    assert not cover_section.footer._element.xpath(".//w:instrText")


def test_page_setup_a4(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    for section in document.sections:
        assert abs(section.page_width.cm - 21.0) < 0.01
        assert abs(section.page_height.cm - 29.7) < 0.01
        assert abs(section.top_margin.cm - 2.5) < 0.01
        assert abs(section.left_margin.cm - 2.8) < 0.01


def test_headings_numbered_in_chinese_style(
    written: tuple[Path, WriteStats, DocxDocument],
) -> None:
    _, _, document = written
    headings = [
        (p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}").get(qn("w:val")), _text(p))
        for p in document.element.body.xpath(HEADINGS_XPATH)
    ]
    assert headings == EXPECTED_HEADINGS
    # the built-in heading styles, restyled: black CJK font, outline levels for the TOC
    for level, size in ((1, 16), (2, 14), (3, 12)):
        style = document.styles[f"Heading {level}"]
        assert style.font.size.pt == size
        assert style.font.bold is True
        assert str(style.font.color.rgb) == "000000"
        rFonts = style.element.rPr.find(qn("w:rFonts"))
        assert rFonts.get(qn("w:eastAsia")) == "黑体"
        assert rFonts.get(qn("w:asciiTheme")) is None
        outline = style.element.pPr.find(qn("w:outlineLvl"))
        assert outline.get(qn("w:val")) == str(level - 1)


def test_toc_is_a_field_with_prefilled_entries(
    written: tuple[Path, WriteStats, DocxDocument],
) -> None:
    _, _, document = written
    body = document.element.body
    instr = [t.text for t in body.iter(qn("w:instrText"))]
    assert any(i.strip() == 'TOC \\o "1-3" \\h \\z \\u' for i in instr)
    toc_ids = {f"TOC{n}": n for n in (1, 2, 3)}
    entries = [
        p
        for p in body.xpath(".//w:p[starts-with(w:pPr/w:pStyle/@w:val, 'TOC')]")
        if p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}").get(qn("w:val")) in toc_ids
    ]
    texts = [_text(p).rstrip("\t") for p in entries]
    assert texts == [text for _, text in EXPECTED_HEADINGS]
    levels = [toc_ids[p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}").get(qn("w:val"))] for p in entries]
    assert levels == [int(style[-1]) for style, _ in EXPECTED_HEADINGS]
    # the field starts in the first entry and ends after the last one
    first = entries[0]
    assert first.xpath("./w:r/w:fldChar/@w:fldCharType") == ["begin", "separate"]
    after_last = entries[-1].getnext()
    assert after_last.xpath(".//w:fldChar/@w:fldCharType") == ["end"]
    # each entry: right tab with dot leader, a hyperlink and PAGEREF to the heading's bookmark
    bookmarks = {
        b.get(qn("w:name")): _text(b.getparent()) for b in body.iter(qn("w:bookmarkStart"))
    }
    for p, text in zip(entries, texts, strict=True):
        tab = p.find(f"{qn('w:pPr')}/{qn('w:tabs')}/{qn('w:tab')}")
        assert (tab.get(qn("w:val")), tab.get(qn("w:leader"))) == ("right", "dot")
        link = p.find(qn("w:hyperlink"))
        anchor = link.get(qn("w:anchor"))
        assert bookmarks[anchor] == text
        pageref = [t.text.strip() for t in link.iter(qn("w:instrText"))]
        assert pageref == [f"PAGEREF {anchor} \\h"]
    # the contents' own title is not a heading: it stays out of the outline and the TOC
    toc_title = _paragraphs(document, "TOCHeading")
    assert [_text(p) for p in toc_title] == ["目　录"]
    assert (
        document.styles["TOC Heading"].element.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == "9"
    )
    # Word must not be asked to update fields on open (it would show a dialog)
    assert document.settings.element.find(qn("w:updateFields")) is None
    for n in (1, 2, 3):
        assert document.styles.element.xpath(f"w:style[@w:styleId='TOC{n}']")


def test_captions_with_seq_fields(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    caption_id = _style_id(document, "caption")
    captions = _paragraphs(document, caption_id)
    assert [_text(p) for p in captions] == [
        "表 1-1 在线服务响应指标",
        "图 1-1 接通率趋势",
        "表 1-2 空表",
        "图 2-1 NPS 分布",
        "表 2-1 投诉处理",
    ]
    seqs = [
        (
            p.xpath("string(.//w:instrText)").strip(),
            p.xpath("string(./w:r[w:fldChar/@w:fldCharType='separate']/following-sibling::w:r[1])"),
        )
        for p in captions
    ]
    assert seqs == [
        ("SEQ Table_1 \\* ARABIC", "1"),
        ("SEQ Figure_1 \\* ARABIC", "1"),
        ("SEQ Table_1 \\* ARABIC", "2"),
        ("SEQ Figure_2 \\* ARABIC", "1"),
        ("SEQ Table_2 \\* ARABIC", "1"),
    ]
    caption = document.styles["Caption"]
    assert caption.paragraph_format.alignment == 1  # centre
    assert caption.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))
    # a table's caption is above it, a figure's below it
    table_caption = captions[0]
    assert table_caption.getnext().tag == qn("w:tbl")
    figure_caption = captions[1]
    assert figure_caption.getprevious().xpath(".//wp:inline")


def _all_runs(document: DocxDocument) -> list[etree._Element]:
    runs = list(document.element.body.iter(qn("w:r")))
    for section in document.sections:
        for part in (section.header, section.footer):
            runs += list(part._element.iter(qn("w:r")))
    return runs


def test_every_run_and_style_has_an_east_asian_font(
    written: tuple[Path, WriteStats, DocxDocument],
) -> None:
    _, _, document = written
    runs = _all_runs(document)
    assert len(runs) > 50
    for r in runs:
        rFonts = r.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        assert rFonts is not None, etree.tostring(r, encoding=str)
        for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
            assert rFonts.get(qn(f"w:{slot}")), (slot, etree.tostring(r, encoding=str))
    styles = document.styles.element
    used = {el.get(qn("w:val")) for el in document.element.body.iter(qn("w:pStyle"))}
    used |= {el.get(qn("w:val")) for el in document.element.body.iter(qn("w:tblStyle"))}
    for section in document.sections:
        for part in (section.header, section.footer):
            used |= {el.get(qn("w:val")) for el in part._element.iter(qn("w:pStyle"))}
    assert {"Normal", "Title", "Heading1", "Caption", "TOC1", "TableGrid", "Header"} <= used
    for style_id in used:
        style = styles.xpath(f"w:style[@w:styleId='{style_id}']")[0]
        assert style.xpath("w:rPr/w:rFonts/@w:eastAsia"), style_id
        assert style.xpath("w:rPr/w:lang/@w:eastAsia") == ["zh-CN"], style_id
    defaults = styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"


def test_body_text_style(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    body = document.styles["Body Text"].element.pPr
    assert body.find(qn("w:ind")).get(qn("w:firstLineChars")) == "200"
    assert body.find(qn("w:spacing")).get(qn("w:line")) == "360"
    paragraph = _paragraphs(document, "BodyText")[0]
    assert _text(paragraph) == "本季度在线服务响应整体平稳，详见下表。"


def test_header_and_footer(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    for section in document.sections[1:]:
        assert TITLE in "".join(p.text for p in section.header.paragraphs)
        instr = [t.text.strip() for t in section.footer._element.iter(qn("w:instrText"))]
        assert instr == ["PAGE"]
    body_footer = document.sections[2].footer.paragraphs[0]
    assert body_footer.text == "第 1 页"
    assert body_footer.style.paragraph_format.alignment == 1
    fmt = document.sections[2]._sectPr.find(qn("w:pgNumType"))
    assert (fmt.get(qn("w:fmt")), fmt.get(qn("w:start"))) == ("decimal", "1")


def test_tables(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    assert len(document.tables) == 3
    for table in document.tables:
        first = table.rows[0]._tr
        assert first.trPr.find(qn("w:tblHeader")) is not None
        assert table.style.name == "Table Grid"
        for cell in table.rows[0].cells:
            assert cell._tc.tcPr.find(qn("w:shd")).get(qn("w:fill")) == "D9D9D9"
            assert all(r.font.bold for p in cell.paragraphs for r in p.runs)
    metrics = document.tables[0]
    rows = [[c.text for c in row.cells] for row in metrics.rows]
    assert rows[0] == ["指标", "会话量", "平均时长", "及时率", "环比", "变化", "状态"]
    assert rows[1] == ["首次响应", "12,345", "1,234.50", "95.3%", "+1.2个百分点", "+3.0", "达标"]
    assert rows[2] == ['解决<率> & "满意"', "—", "—", "81.2%", "-0.4个百分点", "-2.2", "未达标"]
    aligns = [c.paragraphs[0].paragraph_format.alignment for c in metrics.rows[1].cells]
    assert aligns[0] == 0  # text left
    assert aligns[1:6] == [2] * 5  # numbers right

    met, missed = metrics.rows[1].cells[6], metrics.rows[2].cells[6]
    assert met._tc.tcPr.find(qn("w:shd")) is None
    assert not met.paragraphs[0].runs[0].font.bold
    assert missed._tc.tcPr.find(qn("w:shd")).get(qn("w:fill")) == "FFD9D9"
    run = missed.paragraphs[0].runs[0]
    assert run.font.bold and str(run.font.color.rgb) == "C00000"

    note = metrics._tbl.getnext()
    assert _text(note) == "注：数据来源：在线客服系统"
    assert document.styles["Report Note"].font.size.pt < 12

    empty = document.tables[1]
    assert len(empty.rows) == 2
    assert [c.text for c in empty.rows[1].cells] == ["无数据", "无数据"]  # one merged cell
    assert empty.rows[1]._tr.tc_lst[0].tcPr.find(qn("w:gridSpan")).get(qn("w:val")) == "2"


def test_figures_at_fixed_width(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    shapes = document.inline_shapes
    assert len(shapes) == 2
    assert abs(shapes[0].width - Cm(12)) < Cm(0.01)
    assert abs(shapes[0].height - Cm(6)) < Cm(0.01)  # aspect ratio kept (300 x 150)
    assert abs(shapes[1].width - Cm(8)) < Cm(0.01)
    picture_paragraph = document.element.body.xpath(".//w:p[.//wp:inline]")[0]
    style = picture_paragraph.find(f"{qn('w:pPr')}/{qn('w:pStyle')}").get(qn("w:val"))
    assert document.styles.element.xpath(f"w:style[@w:styleId='{style}']/w:pPr/w:jc/@w:val") == [
        "center"
    ]
    with zipfile.ZipFile(written[0]) as z:
        assert len([n for n in z.namelist() if n.startswith("word/media/")]) == 2


def test_paragraph_styles_and_text_survives(
    written: tuple[Path, WriteStats, DocxDocument],
) -> None:
    _, _, document = written
    quote = _paragraphs(document, "Quote")
    assert [_text(p) for p in quote] == ["节假日客户留言 😀 均已回复。"]
    assert document.styles["Quote"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "楷体"
    notes = [_text(p) for p in _paragraphs(document, "ReportNote")]
    assert "注：口径见附录。" in notes
    assert "注：样本量 1,024" in notes
    xml = etree.tostring(document.element, encoding=str)
    assert "\x00" not in xml and "\x1b" not in xml


def test_failed_section_is_marked(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    last_heading = _paragraphs(document, "Heading1")[-1]
    assert _text(last_heading) == "三、服务质量检查"
    marker = last_heading.getnext()
    assert _text(marker) == "本节生成失败：KeyError: 'score'"
    run = marker.find(qn("w:r"))
    assert run.find(f"{qn('w:rPr')}/{qn('w:b')}") is not None
    assert run.find(f"{qn('w:rPr')}/{qn('w:color')}").get(qn("w:val")) == "C00000"


def test_core_properties(written: tuple[Path, WriteStats, DocxDocument]) -> None:
    _, _, document = written
    props = document.core_properties
    assert props.author == "示例电器股份有限公司"
    assert props.title == TITLE
    assert props.revision == 1
    assert props.created.date() == date(2026, 10, 15) == props.modified.date()


# -- file handling -------------------------------------------------------------------
def test_deterministic(tmp_path: Path) -> None:
    report = _report(tmp_path)
    a, b = tmp_path / "a.docx", tmp_path / "b.docx"
    write_docx(report, a)
    write_docx(report, b)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        infos = z.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_illegal_characters_anywhere_never_crash(tmp_path: Path) -> None:
    report = _report(tmp_path)
    nasty = "坏\x01字符\ud800\ufffe\uffff"
    section = SectionResult(
        section_id="nasty",
        title="标题" + nasty,
        order=9,
        period="2026Q3",
        blocks=[
            Heading(nasty),
            Paragraph(nasty),
            Table(nasty, (Column(nasty), Column("n", "int")), ((nasty, 1),), note=nasty),
            Figure(nasty, "missing.png"),
        ],
    )
    bad = Report(report.meta, (*report.sections, SectionEntry(section, tmp_path)))
    stats = write_docx(bad, tmp_path / "nasty.docx")
    assert stats.illegal_chars_removed == 2 + 4 * 8  # the fixture's 2, then 8 uses of 4
    document = docx.Document(str(tmp_path / "nasty.docx"))
    xml = etree.tostring(document.element, encoding=str)
    assert "标题坏字符" in xml
    # a missing picture is said so in the report, not skipped
    assert "图片缺失或无法读取：missing.png" in xml


def test_template_styles_survive(tmp_path: Path) -> None:
    template = docx.Document()
    custom = template.styles.add_style("公司专用正文", WD_STYLE_TYPE.PARAGRAPH)
    custom.font.size = docx.shared.Pt(13)
    template.add_paragraph("模板里的旧内容", style="公司专用正文")
    template.sections[0].header.paragraphs[0].text = "旧页眉"
    template_path = tmp_path / "template.docx"
    template.save(str(template_path))

    target = tmp_path / "from_template.docx"
    write_docx(_report(tmp_path), target, template=template_path)
    document = docx.Document(str(target))
    assert "公司专用正文" in [s.name for s in document.styles]
    assert document.styles["公司专用正文"].font.size.pt == 13
    xml = etree.tostring(document.element, encoding=str)
    assert "模板里的旧内容" not in xml
    headers = "".join(p.text for s in document.sections for p in s.header.paragraphs)
    assert "旧页眉" not in headers and TITLE in headers
    headings = [_text(p) for p in document.element.body.xpath(HEADINGS_XPATH)]
    assert headings == [text for _, text in EXPECTED_HEADINGS]
    for name in ("Heading 1", "Caption", "Normal"):
        assert document.styles[name].element.xpath("w:rPr/w:rFonts/@w:eastAsia")
    for r in document.element.body.iter(qn("w:r")):
        assert r.find(f"{qn('w:rPr')}/{qn('w:rFonts')}").get(qn("w:eastAsia"))
    # styles the template lacked were created
    assert document.styles.element.xpath("w:style[@w:styleId='TOC1']")


def test_template_with_localised_style_ids(tmp_path: Path) -> None:
    """Chinese Word saves Normal as styleId "a" and heading 1 as "1": styles are found by name."""
    template = docx.Document()
    renamed = {"Normal": "a", "Heading1": "1", "Caption": "a5"}
    for el in template.styles.element.iter():
        for attr in (qn("w:styleId"), qn("w:val")):
            if el.get(attr) in renamed and (attr == qn("w:styleId") or el.tag != qn("w:name")):
                el.set(attr, renamed[el.get(attr)])
    template_path = tmp_path / "zh-template.docx"
    template.save(str(template_path))

    target = tmp_path / "zh.docx"
    write_docx(_report(tmp_path), target, template=template_path)
    document = docx.Document(str(target))
    sections = [_text(p) for p in _paragraphs(document, "1")]
    assert sections == ["一、服务响应速度", "二、客户满意度与投诉处理", "三、服务质量检查"]
    assert document.styles["Heading 1"].style_id == "1"
    assert len(_paragraphs(document, "a5")) == 5  # captions
    assert not document.styles.element.xpath("w:style[@w:styleId='Normal']")
    based_on = document.styles.element.xpath("w:style[@w:styleId='TOC1']/w:basedOn/@w:val")
    assert based_on == ["a"]


def test_unreadable_template(tmp_path: Path) -> None:
    template = tmp_path / "bad.docx"
    template.write_text("not a docx")
    with pytest.raises(ReportError, match="模板文件无法打开"):
        write_docx(_report(tmp_path), tmp_path / "x.docx", template=template)


def test_locked_target_raises_report_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "report.docx"
    target.parent.mkdir()
    target.write_bytes(b"previous report")

    def locked(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(ReportError, match="报告文件被占用或不可写") as info:
        write_docx(_report(tmp_path), target)
    assert str(target) in str(info.value)
    assert "Word/WPS" in str(info.value)
    assert target.read_bytes() == b"previous report"  # untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.docx"]  # no leftovers


def test_creates_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.docx"
    write_docx(_report(tmp_path), target)
    assert zipfile.is_zipfile(target)


# -- formatting ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "column", "expected"),
    [
        (12345, Column("n", "int"), "12,345"),
        (12345.0, Column("n", "int"), "12,345"),
        (-1234567, Column("n", "int"), "-1,234,567"),
        (1234.5, Column("x", "number"), "1,234.5"),
        (1234.5, Column("x", "number", decimals=0), "1,234"),
        (0.953, Column("r", "rate"), "95.3%"),
        (1.0, Column("r", "rate"), "100.0%"),
        (0.012, Column("p", "pp"), "+1.2个百分点"),
        (-0.012, Column("p", "pp"), "-1.2个百分点"),
        (-0.00001, Column("p", "pp"), "0.0个百分点"),
        (3, Column("d", "delta"), "+3.0"),
        (-1500.25, Column("d", "delta", decimals=2), "-1,500.25"),
        (None, Column("n", "int"), "—"),
        (float("nan"), Column("r", "rate"), "—"),
        (float("inf"), Column("r", "rate"), "—"),
        (None, Column("t"), "—"),
        ("达标", Column("s", "status"), "达标"),
        ("未达标", Column("s", "status"), "未达标"),
        ("n/a", Column("n", "int"), "n/a"),
        ("文字", Column("t"), "文字"),
    ],
)
def test_format_cell(value: object, column: Column, expected: str) -> None:
    assert format_cell(value, column, TextCleaner()).text == expected


def test_shortfall_flag() -> None:
    assert format_cell("未达标", Column("s", "status"), TextCleaner()).shortfall
    assert not format_cell("达标", Column("s", "status"), TextCleaner()).shortfall


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "一"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (21, "二十一"),
        (105, "一百零五"),
    ],
)
def test_chinese_number(n: int, text: str) -> None:
    assert chinese_number(n) == text


# -- cross-references ------------------------------------------------------------------
def _ref_report(tmp_path: Path, text: str, *, label: str | None = "online") -> Report:
    folder = tmp_path / "sections" / "speed"
    _png(folder / "trend.png")
    table = Table(
        caption="在线服务响应指标",
        columns=(Column("指标"), Column("值", "int")),
        rows=(("会话", 1),),
        label=label,
    )
    blocks = [
        Table(caption="前置表", columns=(Column("项目"),), rows=(("甲",),)),
        Paragraph(text),
        table,
        Figure(caption="接通率趋势", path="trend.png"),
        Figure(caption="第二张图", path="trend.png", label="second"),
    ]
    first = SectionResult("summary", "报告摘要", 1, "2026Q3", blocks=[Paragraph("摘要。")])
    speed = SectionResult("speed", "服务响应速度", 2, "2026Q3", blocks=blocks)
    meta = ReportMeta("示例公司", "客户服务中心", Period(2026, 3), date(2026, 10, 15))
    return Report(meta, (SectionEntry(first, tmp_path), SectionEntry(speed, folder)))


def _fields(p: etree._Element) -> list[tuple[str, str]]:
    """(instruction, cached result) of each complex field in a paragraph."""
    out, code, result, state = [], "", "", None
    for r in p.iter(qn("w:r")):
        fld = r.find(qn("w:fldChar"))
        if fld is not None:
            kind = fld.get(qn("w:fldCharType"))
            if kind == "begin":
                code, result, state = "", "", "code"
            elif kind == "separate":
                state = "result"
            else:
                out.append((code.strip(), result))
                state = None
            continue
        if state == "code":
            code += "".join(t.text or "" for t in r.iter(qn("w:instrText")))
        elif state == "result":
            result += _text(r)
    return out


def test_references_become_ref_fields_to_the_caption_numbers(tmp_path: Path) -> None:
    text = "各项指标详见[[表:online]]，走势如[[图:接通率趋势]]所示，另见[[图：second]]。"
    target = tmp_path / "r.docx"
    write_docx(_ref_report(tmp_path, text), target)
    document = docx.Document(str(target))
    body = document.element.body
    para = next(p for p in body.iter(qn("w:p")) if "各项指标详见" in _text(p))
    assert _text(para) == "各项指标详见表 2-2，走势如图 2-1所示，另见图 2-2。"
    refs = _fields(para)
    assert [r for _, r in refs] == ["表 2-2", "图 2-1", "图 2-2"]
    names = [code.split()[1] for code, _ in refs]
    assert all(code == f"REF {n} \\h" for (code, _), n in zip(refs, names, strict=True))
    # each REF names a bookmark around the caption's label and number, 「表 2-2」
    for name, shown in zip(names, ["表 2-2", "图 2-1", "图 2-2"], strict=True):
        start = body.xpath(f".//w:bookmarkStart[@w:name='{name}']")
        assert len(start) == 1
        caption, bm_id = start[0].getparent(), start[0].get(qn("w:id"))
        inside, on = "", False
        for el in caption:
            if el.tag == qn("w:bookmarkStart") and el.get(qn("w:id")) == bm_id:
                on = True
            elif el.tag == qn("w:bookmarkEnd") and el.get(qn("w:id")) == bm_id:
                on = False
            elif on and el.tag == qn("w:r"):
                inside += _text(el)
        assert inside == shown
    ids = [b.get(qn("w:id")) for b in body.iter(qn("w:bookmarkStart"))]
    assert len(ids) == len(set(ids))
    # the unreferenced first table's caption carries no bookmark
    first = next(p for p in body.iter(qn("w:p")) if _text(p) == "表 2-1 前置表")
    assert first.find(qn("w:bookmarkStart")) is None


def test_reference_by_caption_when_the_table_has_no_label(tmp_path: Path) -> None:
    target = tmp_path / "r.docx"
    write_docx(_ref_report(tmp_path, "见[[表:在线服务响应指标]]。", label=None), target)
    body = docx.Document(str(target)).element.body
    para = next(p for p in body.iter(qn("w:p")) if _text(p).startswith("见"))
    assert _text(para) == "见表 2-2。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("见[[表:nowhere]]。", "引用了表格「nowhere」，但本章不存在"),
        (
            "见[[图:online]]。",
            "引用了图「online」，但本章不存在",
        ),  # a table's label, not a figure's
    ],
)
def test_unknown_reference_is_a_report_error(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ReportError) as err:
        write_docx(_ref_report(tmp_path, text), tmp_path / "r.docx")
    message = str(err.value)
    assert expected in message and "服务响应速度" in message and "（speed）" in message
    assert not (tmp_path / "r.docx").exists()


def test_ambiguous_reference_is_a_report_error(tmp_path: Path) -> None:
    report = _ref_report(tmp_path, "见[[图:twice]]。")
    speed = report.sections[1].result
    speed.blocks[3] = Figure(caption="图甲", path="trend.png", label="twice")
    speed.blocks[4] = Figure(caption="图乙", path="trend.png", label="twice")
    with pytest.raises(ReportError, match="有 2 个同名的图"):
        write_docx(report, tmp_path / "r.docx")


def test_labels_round_trip_and_old_results_keep_their_digest(tmp_path: Path) -> None:
    result = _ref_report(tmp_path, "见[[表:online]]。").sections[1].result
    result.save(tmp_path / "saved")
    loaded = SectionResult.load(tmp_path / "saved")
    assert [getattr(b, "label", None) for b in loaded.blocks] == [
        None, None, "online", None, "second",
    ]  # fmt: skip
    saved = (tmp_path / "saved" / "section.json").read_text(encoding="utf-8")
    assert saved.count('"label"') == 2  # an unset label is not written
    assert loaded.digest() == result.digest()


def test_optional_reference_without_target_drops_its_sentence(tmp_path: Path) -> None:
    text = "会话量平稳。各项指标见[[表?:online]]。走势见[[图?:removed]]。其余正常。"
    target = tmp_path / "r.docx"
    write_docx(_ref_report(tmp_path, text), target)
    body = docx.Document(str(target)).element.body
    para = next(p for p in body.iter(qn("w:p")) if _text(p).startswith("会话量"))
    assert _text(para) == "会话量平稳。各项指标见表 2-2。其余正常。"
    assert [r for _, r in _fields(para)] == ["表 2-2"]
