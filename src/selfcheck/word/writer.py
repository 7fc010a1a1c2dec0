"""Word writer: one :class:`~selfcheck.report.Report` → one .docx that management reads.

Layout of the document (three Word sections):

1. cover — organisation, title, period, reporting unit, date, confidentiality line;
   no header, no footer;
2. table of contents — a real ``TOC`` field whose result is already filled in (one
   paragraph per heading, hyperlinked to a bookmark on the heading; the page numbers
   need a layout: :mod:`selfcheck.word.layout` writes them in where LibreOffice is
   installed, else Word's update does); header with the report title, page numbers in
   upper-case Roman;
3. body — the sections in report order, numbered 一、/（一）/1. as literal text;
   header with the report title, footer 「第 X 页」 counting from 1. A paragraph's
   ``[[表:label]]`` / ``[[图:label]]`` becomes a REF field to its caption's number.

Every style used carries an explicit East-Asian font and ``zh-CN`` language, and every
run carries explicit ascii/hAnsi/eastAsia/cs fonts, so Word, WPS and LibreOffice never
fall back to a Latin font for Chinese. The file is byte-for-byte reproducible: fixed core
properties and a re-packed zip (stable entry order, fixed timestamps). It is written to a
temporary file beside the target and moved into place, so a failed run never leaves a
half-written report.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from types import MappingProxyType

import docx
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENTATION, WD_SECTION
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section, _Footer, _Header
from docx.shared import Cm, Length
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run

from selfcheck.blocks import (
    NUMERIC_KINDS,
    REF_KINDS,
    REF_MARKER,
    Block,
    Figure,
    Heading,
    Paragraph,
    SectionResult,
    Table,
)
from selfcheck.errors import ReportError, SelfcheckError
from selfcheck.report import Report, SectionEntry
from selfcheck.word.fields import (
    PPR_SEQ,
    RPR_SEQ,
    SECTPR_SEQ,
    SETTINGS_SEQ,
    STYLE_SEQ,
    TBLPR_SEQ,
    TCPR_SEQ,
    THEME_ATTR,
    TRPR_SEQ,
    Fonts,
    bookmark,
    border,
    child,
    field,
    field_end,
    field_start,
    hyperlink,
    make_run,
    on_off,
    remove_children,
    set_attrs,
    set_fonts,
    set_lang,
    shade,
)
from selfcheck.word.format import (
    CellText,
    TextCleaner,
    display_width,
    format_cell,
    section_number,
    sub_number,
)

log = logging.getLogger(__name__)

# -- house style ---------------------------------------------------------------------
SONG, HEI, KAI = "宋体", "黑体", "楷体"  # SimSun, SimHei, KaiTi
SERIF, SANS = "Times New Roman", "Arial"
BODY_FONTS: Fonts = MappingProxyType(
    {"ascii": SERIF, "hAnsi": SERIF, "eastAsia": SONG, "cs": SERIF}
)
HEADING_FONTS: Fonts = MappingProxyType({"ascii": SANS, "hAnsi": SANS, "eastAsia": HEI, "cs": SANS})
QUOTE_FONTS: Fonts = MappingProxyType(
    {"ascii": SERIF, "hAnsi": SERIF, "eastAsia": KAI, "cs": SERIF}
)
FAMILIES: Mapping[str, Fonts] = {"body": BODY_FONTS, "heading": HEADING_FONTS, "quote": QUOTE_FONTS}

BLACK = "000000"
RED = "C00000"  # shortfalls and failures, nothing else
SHORTFALL_FILL = "FFD9D9"
HEADER_FILL = "D9D9D9"
NOTE_GREY = "595959"

PAGE_WIDTH, PAGE_HEIGHT = Cm(21.0), Cm(29.7)  # A4
MARGIN_TOP_BOTTOM, MARGIN_LEFT_RIGHT = Cm(2.5), Cm(2.8)
TEXT_WIDTH: Length = Length(PAGE_WIDTH - 2 * MARGIN_LEFT_RIGHT)
TEXT_WIDTH_TWIPS = TEXT_WIDTH.twips

TOC_FIELD = r'TOC \o "1-3" \h \z \u'
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FAILED_PREFIX = "本节生成失败："
NO_DATA = "无数据"
ERROR_CHARS = 300


@dataclass(frozen=True)
class WriteStats:
    illegal_chars_removed: int
    tables: int
    figures: int
    headings: int


def write_docx(report: Report, target: Path, *, template: Path | None = None) -> WriteStats:
    """Write ``report`` to ``target`` (.docx) and say what went in.

    ``template``: a .docx whose styles (and page settings, headers and footers, which
    are overwritten) the report starts from; its body is discarded.
    Raises :class:`ReportError` when the template cannot be read or the target cannot
    be written (e.g. it is open in Word/WPS).
    """
    target = Path(target)
    try:
        writer = _Writer(report, template)
        data = writer.build()
    except SelfcheckError:
        raise
    except Exception as exc:  # a bug or an unexpected input: say what, keep the cause
        raise ReportError(f"Word 报告生成失败 (could not build the Word report): {exc!r}") from exc
    atomic_write(target, data)
    return writer.stats()


# -- styles --------------------------------------------------------------------------
@dataclass(frozen=True)
class _StyleSpec:
    role: str
    name: str  # the name Word knows (built-in names are matched case-insensitively)
    style_id: str
    kind: str = "paragraph"
    based_on: str | None = "Normal"  # style names: ids differ between templates
    next_style: str | None = None  # (a Chinese Word template calls Normal "a")
    family: str = "body"  # key of FAMILIES
    size: float = 12.0
    bold: bool = False
    italic: bool = False
    color: str = BLACK
    align: str | None = None  # w:jc: left / center / both / right
    before: float = 0.0  # points
    after: float = 0.0
    line: int = 240  # w:line, lineRule auto: 240 single, 360 one and a half
    first_line_chars: int = 0  # hundredths of a character
    left_chars: int = 0
    right_chars: int = 0
    keep_next: bool = False
    outline: int | None = None
    toc_tab: bool = False
    custom: bool = False


_SPECS: tuple[_StyleSpec, ...] = (
    _StyleSpec("normal", "Normal", "Normal", based_on=None, align="both"),
    _StyleSpec("body", "Body Text", "BodyText", align="both", line=360, first_line_chars=200),
    _StyleSpec("h1", "heading 1", "Heading1", next_style="Body Text", family="heading", size=16, bold=True,
               before=12, after=6, line=360, keep_next=True, outline=0, align="left"),
    _StyleSpec("h2", "heading 2", "Heading2", next_style="Body Text", family="heading", size=14, bold=True,
               before=6, after=6, line=360, keep_next=True, outline=1, align="left"),
    _StyleSpec("h3", "heading 3", "Heading3", next_style="Body Text", family="heading", size=12, bold=True,
               before=6, after=3, line=360, keep_next=True, outline=2, align="left"),
    _StyleSpec("h4", "heading 4", "Heading4", next_style="Body Text", size=12, bold=True,
               before=3, after=3, line=360, keep_next=True, outline=3, align="left"),
    _StyleSpec("title", "Title", "Title", family="heading", size=22, bold=True, align="center",
               before=24, after=12),
    _StyleSpec("caption", "caption", "Caption", family="heading", size=10.5, align="center",
               before=3, after=6),
    _StyleSpec("toc_heading", "TOC Heading", "TOCHeading", family="heading", size=16, bold=True,
               align="center", after=12, outline=9),
    _StyleSpec("toc1", "toc 1", "TOC1", line=360, toc_tab=True, align="left"),
    _StyleSpec("toc2", "toc 2", "TOC2", line=360, toc_tab=True, align="left", left_chars=200),
    _StyleSpec("toc3", "toc 3", "TOC3", line=360, toc_tab=True, align="left", left_chars=400),
    _StyleSpec("header", "header", "Header", size=9, align="center"),
    _StyleSpec("footer", "footer", "Footer", size=9, align="center"),
    _StyleSpec("quote", "Quote", "Quote", family="quote", align="both", line=360,
               left_chars=200, right_chars=200),
    _StyleSpec("note", "Report Note", "ReportNote", size=9, color=NOTE_GREY, align="left",
               after=6, custom=True),
    _StyleSpec("table_text", "Report Table Text", "ReportTableText", size=10.5, custom=True),
    _StyleSpec("figure", "Report Figure", "ReportFigure", align="center", before=6,
               keep_next=True, custom=True),
    _StyleSpec("table", "Table Grid", "TableGrid", kind="table", based_on="Normal Table",
               size=10.5),
)  # fmt: skip


def _twips(points: float) -> int:
    return round(points * 20)


class _StyleBook:
    """Finds or creates the styles the report uses and makes them CJK-ready.

    Without a template every style is restyled to the house style. With a template,
    styles it already has keep their look: only an explicit East-Asian font, the zh-CN
    language and (for headings) an outline level without automatic numbering are made
    sure of; styles it lacks are created in the house style.
    """

    def __init__(self, document: DocxDocument, *, restyle_existing: bool) -> None:
        self._styles = document.styles.element
        self._restyle_existing = restyle_existing
        self._ids: dict[str, str] = {}
        self._fonts: dict[str, dict[str, str]] = {}

    # -- public ----------------------------------------------------------------------
    def setup(self) -> None:
        self._defaults()
        for spec in _SPECS:
            el = self._find(spec)
            if el is None:
                el = self._create(spec)
                self._restyle(el, spec)
            elif self._restyle_existing:
                self._restyle(el, spec)
            else:
                self._complete(el, spec)
            self._ids[spec.role] = el.get(qn("w:styleId"))
        for spec in _SPECS:
            self._fonts[spec.role] = self._resolve_fonts(
                self._ids[spec.role], FAMILIES[spec.family]
            )

    def id(self, role: str) -> str:
        return self._ids[role]

    def fonts(self, role: str) -> dict[str, str]:
        return self._fonts[role]

    # -- lookup ----------------------------------------------------------------------
    def _all(self) -> list[BaseOxmlElement]:
        return self._styles.findall(qn("w:style"))

    def _by_id(self, style_id: str) -> BaseOxmlElement | None:
        for el in self._all():
            if el.get(qn("w:styleId")) == style_id:
                return el
        return None

    def _find(self, spec: _StyleSpec) -> BaseOxmlElement | None:
        return self._by_name(spec.name, spec.kind)

    def _by_name(self, wanted: str, kind: str) -> BaseOxmlElement | None:
        wanted = wanted.casefold()
        for el in self._all():
            name = el.find(qn("w:name"))
            if (
                el.get(qn("w:type")) == kind
                and name is not None
                and (name.get(qn("w:val")) or "").casefold() == wanted
            ):
                return el
        return None

    def _create(self, spec: _StyleSpec) -> BaseOxmlElement:
        style_id, n = spec.style_id, 1
        while self._by_id(style_id) is not None:  # the id is taken by a differently named style
            n += 1
            style_id = f"{spec.style_id}{n}"
        el = OxmlElement("w:style")
        el.set(qn("w:type"), spec.kind)
        el.set(qn("w:styleId"), style_id)
        if spec.custom:
            el.set(qn("w:customStyle"), "1")
        set_attrs(child(el, "w:name", STYLE_SEQ), val=spec.name)
        set_attrs(
            child(el, "w:uiPriority", STYLE_SEQ), val=39 if spec.role.startswith("toc") else 99
        )
        child(el, "w:qFormat", STYLE_SEQ)
        if spec.kind == "table":
            tblPr = child(el, "w:tblPr", STYLE_SEQ)
            borders = child(tblPr, "w:tblBorders", TBLPR_SEQ)
            for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
                borders.append(
                    set_attrs(OxmlElement(f"w:{side}"), val="single", sz=4, space=0, color="auto")
                )
            margins = child(tblPr, "w:tblCellMar", TBLPR_SEQ)
            for side in ("left", "right"):
                margins.append(set_attrs(OxmlElement(f"w:{side}"), w=108, type="dxa"))
        self._styles.append(el)
        return el

    # -- formatting ------------------------------------------------------------------
    def _defaults(self) -> None:
        dd = self._styles.find(qn("w:docDefaults"))
        if dd is None:
            dd = OxmlElement("w:docDefaults")
            self._styles.insert(0, dd)
        rPr = child(child(dd, "w:rPrDefault", ("w:rPrDefault", "w:pPrDefault")), "w:rPr", ())
        if self._restyle_existing:
            set_fonts(rPr, BODY_FONTS)
            set_attrs(child(rPr, "w:sz", RPR_SEQ), val=24)
            set_attrs(child(rPr, "w:szCs", RPR_SEQ), val=24)
            set_lang(rPr)
            pPr = child(child(dd, "w:pPrDefault", ("w:rPrDefault", "w:pPrDefault")), "w:pPr", ())
            set_attrs(child(pPr, "w:spacing", PPR_SEQ), after=0, line=240, lineRule="auto")
        else:
            rFonts = rPr.find(qn("w:rFonts"))
            if rFonts is None or not rFonts.get(qn("w:eastAsia")):
                set_fonts(rPr, {"eastAsia": SONG})
            child(rPr, "w:lang", RPR_SEQ).set(qn("w:eastAsia"), "zh-CN")

    def _restyle(self, el: BaseOxmlElement, spec: _StyleSpec) -> None:
        """The house style, replacing the style's paragraph and run properties."""
        remove_children(el, "w:pPr", "w:rPr")
        base = self._by_name(spec.based_on, spec.kind) if spec.based_on else None
        if base is not None and base is not el:
            set_attrs(child(el, "w:basedOn", STYLE_SEQ), val=base.get(qn("w:styleId")))
        else:
            remove_children(el, "w:basedOn")
        following = self._by_name(spec.next_style, spec.kind) if spec.next_style else None
        if following is not None:
            set_attrs(child(el, "w:next", STYLE_SEQ), val=following.get(qn("w:styleId")))
        pPr = child(el, "w:pPr", STYLE_SEQ)
        if spec.keep_next:
            child(pPr, "w:keepNext", PPR_SEQ)
            child(pPr, "w:keepLines", PPR_SEQ)
        if spec.toc_tab:
            tabs = child(pPr, "w:tabs", PPR_SEQ)
            tabs.append(_right_dot_tab())
        set_attrs(
            child(pPr, "w:spacing", PPR_SEQ),
            before=_twips(spec.before),
            after=_twips(spec.after),
            line=spec.line,
            lineRule="auto",
        )
        if spec.kind == "paragraph":
            char = _twips(spec.size)  # one character of this style, in twips
            set_attrs(
                child(pPr, "w:ind", PPR_SEQ),
                leftChars=spec.left_chars or None,
                left=spec.left_chars * char // 100,
                rightChars=spec.right_chars or None,
                right=spec.right_chars * char // 100,
                firstLineChars=spec.first_line_chars,
                firstLine=spec.first_line_chars * char // 100,
            )
        if spec.align:
            set_attrs(child(pPr, "w:jc", PPR_SEQ), val=spec.align)
        if spec.outline is not None:
            set_attrs(child(pPr, "w:outlineLvl", PPR_SEQ), val=spec.outline)
        rPr = child(el, "w:rPr", STYLE_SEQ)
        set_fonts(rPr, FAMILIES[spec.family])
        for tag in ("w:b", "w:bCs"):
            on_off(rPr, tag, RPR_SEQ, spec.bold)
        for tag in ("w:i", "w:iCs"):
            on_off(rPr, tag, RPR_SEQ, spec.italic)
        set_attrs(child(rPr, "w:color", RPR_SEQ), val=spec.color)
        set_attrs(child(rPr, "w:sz", RPR_SEQ), val=round(spec.size * 2))
        set_attrs(child(rPr, "w:szCs", RPR_SEQ), val=round(spec.size * 2))
        set_lang(rPr)

    def _complete(self, el: BaseOxmlElement, spec: _StyleSpec) -> None:
        """A template's own style: keep its look, make it CJK-ready."""
        rPr = child(el, "w:rPr", STYLE_SEQ)
        rFonts = rPr.find(qn("w:rFonts"))
        if rFonts is None or not rFonts.get(qn("w:eastAsia")):
            inherited = self._resolve_fonts(el.get(qn("w:styleId")), FAMILIES[spec.family])
            set_fonts(
                rPr, {"eastAsia": inherited.get("eastAsia", FAMILIES[spec.family]["eastAsia"])}
            )
        child(rPr, "w:lang", RPR_SEQ).set(qn("w:eastAsia"), "zh-CN")
        if spec.outline is not None and spec.role.startswith("h"):
            pPr = child(el, "w:pPr", STYLE_SEQ)
            remove_children(pPr, "w:numPr")  # the numbers are literal text
            if pPr.find(qn("w:outlineLvl")) is None:
                set_attrs(child(pPr, "w:outlineLvl", PPR_SEQ), val=spec.outline)

    def _resolve_fonts(self, style_id: str, fallback: Fonts) -> dict[str, str]:
        """The fonts a run in this style shows: per slot, the first style on the basedOn
        chain (then the document defaults) that names an explicit or theme font."""
        chain: list[BaseOxmlElement] = []
        seen: set[str] = set()
        current = self._by_id(style_id)
        while current is not None and current.get(qn("w:styleId")) not in seen:
            seen.add(current.get(qn("w:styleId")))
            rPr = current.find(qn("w:rPr"))
            if rPr is not None:
                chain.append(rPr)
            based = current.find(qn("w:basedOn"))
            current = None if based is None else self._by_id(based.get(qn("w:val")))
        defaults = self._styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if defaults is not None:
            chain.append(defaults)
        resolved: dict[str, str] = {}
        for slot, theme in THEME_ATTR.items():
            for rPr in chain:
                rFonts = rPr.find(qn("w:rFonts"))
                if rFonts is None:
                    continue
                explicit, themed = rFonts.get(qn(f"w:{slot}")), rFonts.get(qn(f"w:{theme}"))
                if explicit or themed:
                    if explicit:
                        resolved[slot] = explicit
                    if themed:
                        resolved[theme] = themed
                    break
            resolved.setdefault(slot, fallback[slot])
        return resolved


def _right_dot_tab() -> BaseOxmlElement:
    tab = OxmlElement("w:tab")
    return set_attrs(tab, val="right", leader="dot", pos=TEXT_WIDTH_TWIPS)


# -- the writer ----------------------------------------------------------------------
@dataclass(frozen=True)
class _TocEntry:
    level: int
    text: str
    bookmark: str


class _Writer:
    def __init__(self, report: Report, template: Path | None) -> None:
        self.report = report
        self.clean = TextCleaner()
        self.doc = _open(template)
        self.styles = _StyleBook(self.doc, restyle_existing=template is None)
        self.toc: list[_TocEntry] = []
        self.n_tables = self.n_figures = self.n_headings = 0
        self._bookmarks = 0
        self._refs_made = 0
        # this section's cross-reference targets: (kind, label) → [(bookmark, 「表 4-2」)]
        self._targets: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._marks: dict[int, str] = {}  # block index → bookmark on its caption number
        self._result: SectionResult | None = None
        self._cell_protos: dict[
            tuple[int, str | None, str], tuple[BaseOxmlElement, BaseOxmlElement]
        ] = {}

    def stats(self) -> WriteStats:
        return WriteStats(
            illegal_chars_removed=self.clean.removed,
            tables=self.n_tables,
            figures=self.n_figures,
            headings=self.n_headings,
        )

    # -- whole document ----------------------------------------------------------------
    def build(self) -> bytes:
        self._clear_template()
        self.styles.setup()
        self._settings()
        self._cover()
        self.doc.add_section(WD_SECTION.NEW_PAGE)
        self._para("toc_heading").append(make_run("目　录", self.styles.fonts("toc_heading")))
        self.doc.add_section(WD_SECTION.NEW_PAGE)
        toc_end = self._body[-2]  # the paragraph that closes the contents section
        for position, entry in enumerate(self.report.sections, start=1):
            self._section(position, entry)
        last = self._body[-2] if len(self._body) > 1 else None
        if last is None or last.tag != qn("w:p"):  # Word wants a paragraph before sectPr
            self._para("normal")
        self._insert_toc(toc_end)
        self._pages()
        self._properties()
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return repack(buffer.getvalue())

    @property
    def _body(self) -> BaseOxmlElement:
        return self.doc.element.body

    def _clear_template(self) -> None:
        body = self._body
        for el in list(body):
            if el.tag != qn("w:sectPr"):
                body.remove(el)
        sectPr = body.get_or_add_sectPr()
        for ref in sectPr.xpath("w:headerReference|w:footerReference"):
            rId = ref.get(qn("r:id"))
            sectPr.remove(ref)
            if rId:
                self.doc.part.drop_rel(rId)
        remove_children(sectPr, "w:titlePg", "w:pgNumType")
        package_rels = self.doc.part.package.rels
        for rId, rel in list(package_rels.items()):
            if rel.reltype == RT.THUMBNAIL:  # a stale preview of the template
                del package_rels[rId]
        for rId, rel in list(self.doc.part.rels.items()):
            if rel.reltype.endswith("/stylesWithEffects"):  # Word 2010 leftover
                del self.doc.part.rels[rId]

    def _settings(self) -> None:
        settings = self.doc.settings.element
        remove_children(settings, "w:updateFields", "w:evenAndOddHeaders")
        set_attrs(
            child(settings, "w:characterSpacingControl", SETTINGS_SEQ), val="compressPunctuation"
        )
        set_attrs(child(settings, "w:themeFontLang", SETTINGS_SEQ), val="en-US", eastAsia="zh-CN")

    # -- paragraphs --------------------------------------------------------------------
    def _para(
        self, role: str, *, align: str | None = None, keep_next: bool = False
    ) -> BaseOxmlElement:
        """A new paragraph at the end of the body, in the style of ``role``."""
        p = self.doc.add_paragraph()._p
        pPr = p.get_or_add_pPr()
        pPr.style = self.styles.id(role)
        if keep_next:
            child(pPr, "w:keepNext", PPR_SEQ)
        if align:
            set_attrs(child(pPr, "w:jc", PPR_SEQ), val=align)
        return p

    def _text(self, role: str, text: str, **fmt: bool | str | float | None) -> BaseOxmlElement:
        p = self._para(role)
        p.append(make_run(text, self.styles.fonts(role), **fmt))  # type: ignore[arg-type]
        return p

    def _cover(self) -> None:
        meta = self.report.meta
        org = self._para("normal", align="center")
        _spacing(org, before=96, after=0)
        org.append(make_run(self.clean.line(meta.organisation), HEADING_FONTS, size_pt=18))
        title = self._para("title", align="center")
        _spacing(title, before=36, after=12)
        title.append(make_run(self.clean.line(meta.title), self.styles.fonts("title")))
        span = self._para("normal", align="center")
        span.append(make_run(f"（{meta.period.range_zh}）", QUOTE_FONTS, size_pt=16))
        unit = self._para("normal", align="center")
        _spacing(unit, before=200, after=6)
        unit.append(
            make_run(f"编制单位：{self.clean.line(meta.reporting_unit)}", BODY_FONTS, size_pt=16)
        )
        d = meta.report_date
        when = self._para("normal", align="center")
        _spacing(when, before=0, after=6)
        when.append(make_run(f"{d.year}年{d.month}月{d.day}日", BODY_FONTS, size_pt=16))
        secret = self._para("normal", align="center")
        _spacing(secret, before=36, after=0)
        secret.append(
            make_run(self.clean.line(meta.confidentiality), HEADING_FONTS, size_pt=12, bold=True)
        )

    # -- headings and the contents ------------------------------------------------------
    def _heading(self, role: str, number: str, text: str, toc_level: int | None) -> None:
        """A numbered heading with a bookmark; levels 1–3 are listed in the contents."""
        p = self._para(role)
        shown = number + text
        self._bookmarks += 1
        name = f"_Toc{self._bookmarks:09d}"
        start, end = bookmark(self._bookmarks, name)
        p.extend([start, make_run(shown, self.styles.fonts(role)), end])
        if toc_level is not None:
            self.toc.append(_TocEntry(toc_level, shown, name))
        self.n_headings += 1

    def _insert_toc(self, before: BaseOxmlElement) -> None:
        paragraphs: list[BaseOxmlElement] = []
        for i, entry in enumerate(self.toc):
            role = f"toc{min(entry.level, 3)}"
            fonts = self.styles.fonts(role)
            p = _detached_paragraph(self.styles.id(role))
            child(p.get_or_add_pPr(), "w:tabs", PPR_SEQ).append(_right_dot_tab())
            if i == 0:
                p.extend(field_start(TOC_FIELD, fonts))
            runs = [make_run(entry.text, fonts), make_run("\t", fonts)]
            runs += field(f"PAGEREF {entry.bookmark} \\h", None, fonts)
            p.append(hyperlink(entry.bookmark, runs))
            paragraphs.append(p)
        fonts = self.styles.fonts("toc1")
        if not paragraphs:  # nothing to list: the field is still there for Word to update
            p = _detached_paragraph(self.styles.id("toc1"))
            p.extend(field_start(TOC_FIELD, fonts))
            paragraphs.append(p)
        closing = _detached_paragraph(self.styles.id("normal"))
        closing.append(field_end(fonts))
        paragraphs.append(closing)
        for p in paragraphs:
            before.addprevious(p)

    # -- sections and blocks ----------------------------------------------------------
    def _section(self, position: int, entry: SectionEntry) -> None:
        result = entry.result
        self._heading("h1", section_number(position), self.clean.line(result.title), 1)
        if result.status == "failed":
            error = self.clean.line(result.error or "") or "未知错误（no error message）"
            if len(error) > ERROR_CHARS:  # a traceback belongs in the run log, not the report
                error = error[: ERROR_CHARS - 1] + "…"
            self._text("body", FAILED_PREFIX + error, bold=True, color=RED)
            return
        counts = [0, 0, 0]  # （一） / 1. / （1） within this section
        n_tables = n_figures = 0
        self._plan_refs(position, result)
        for i, block in enumerate(result.blocks):
            if i and isinstance(result.blocks[i - 1], Table) and isinstance(block, Paragraph):
                self._gap()  # text straight after a table would touch its last row
            if isinstance(block, Heading):
                level = min(max(int(block.level), 1), 3)
                counts[level - 1] += 1
                counts[level:] = [0] * (3 - level)
                number = sub_number(level, counts[level - 1])
                role = ("h2", "h3", "h4")[level - 1]
                toc_level = level + 1 if level < 3 else None
                self._heading(role, number, self.clean.line(block.text), toc_level)
            elif isinstance(block, Paragraph):
                self._paragraph(block)
            elif isinstance(block, Table):
                n_tables += 1
                self._table(block, position, n_tables, self._marks.get(i))
            elif isinstance(block, Figure):
                n_figures += 1
                self._figure(block, entry.folder, position, n_figures, self._marks.get(i))
            else:  # not a block the writer knows: make it visible rather than drop it
                log.warning("section %s: unknown block %r", result.section_id, block)
                self._text("body", f"【无法显示的内容：{type(block).__name__}】", color=RED)

    # -- cross-references --------------------------------------------------------------
    def _plan_refs(self, position: int, result: SectionResult) -> None:
        """The section's tables and figures that its paragraphs refer to (``[[表:label]]``):
        each gets a bookmark on its caption's label and number, 「表 4-2」."""
        self._result = result
        self._targets, self._marks = {}, {}
        wanted = {
            (REF_KINDS[m.group(1)], m.group(3))
            for b in result.blocks
            if isinstance(b, Paragraph)
            for m in REF_MARKER.finditer(b.text)
        }
        if not wanted:
            return
        numbers = {"table": 0, "figure": 0}
        for i, block in enumerate(result.blocks):
            kind = _ref_kind(block)
            if kind is None:
                continue
            numbers[kind] += 1
            label = block.ref_label  # type: ignore[union-attr]
            if (kind, label) not in wanted:
                continue
            self._refs_made += 1
            name = f"_Ref{self._refs_made:09d}"
            self._marks[i] = name
            shown = f"{'表' if kind == 'table' else '图'} {position}-{numbers[kind]}"
            self._targets.setdefault((kind, label), []).append((name, shown))

    def _drop_unresolved(self, line: str) -> str:
        """The line without the sentences whose optional reference (``[[表?:…]]``) has no
        target in this section."""
        kept = []
        for sentence in re.findall(r"[^。！？]*[。！？]?", line):
            missing = [
                m.group(3)
                for m in REF_MARKER.finditer(sentence)
                if m.group(2) and (REF_KINDS[m.group(1)], m.group(3)) not in self._targets
            ]
            if missing:
                section = self._result.section_id if self._result else "?"
                log.info("section %s: sentence referring to %s left out", section, missing)
            else:
                kept.append(sentence)
        return "".join(kept).strip()

    def _resolve(self, kind_zh: str, label: str) -> tuple[str, str]:
        result = self._result
        assert result is not None
        kind = REF_KINDS[kind_zh]
        found = self._targets.get((kind, label), [])
        what = "表格" if kind == "table" else "图"
        if len(found) != 1:
            problem = "不存在" if not found else f"有 {len(found)} 个同名的"
            raise ReportError(
                f"章节「{result.title}」（{result.section_id}）的段落引用了{what}「{label}」，"
                f"但本章{problem}{what}标签或标题为「{label}」。请检查 [[{kind_zh}:{label}]] "
                f"是否写对，或在 sec.{kind}(..., label=…) 中给出唯一的标签 "
                f"(section {result.section_id}: reference to {'an unknown' if not found else 'an ambiguous'} "
                f"{kind} label {label!r})"
            )
        return found[0]

    def _line(self, role: str, line: str) -> None:
        """One paragraph; its [[表:…]] / [[图:…]] markers become REF fields showing
        「表 4-2」 (the cached result Word, WPS and LibreOffice show)."""
        if REF_MARKER.search(line) is None:
            self._text(role, line)
            return
        line = self._drop_unresolved(line)
        if not line:
            return
        fonts = self.styles.fonts(role)
        p = self._para(role)
        end = 0
        for m in REF_MARKER.finditer(line):
            if m.start() > end:
                p.append(make_run(line[end : m.start()], fonts))
            name, shown = self._resolve(m.group(1), m.group(3))
            p.extend(field(f"REF {name} \\h", shown, fonts))
            end = m.end()
        if end < len(line):
            p.append(make_run(line[end:], fonts))

    def _gap(self) -> None:
        p = self._para("body")
        _spacing(p, before=0, after=0)
        set_attrs(child(p.get_or_add_pPr(), "w:spacing", PPR_SEQ), line=120, lineRule="exact")

    def _paragraph(self, block: Paragraph) -> None:
        role = {"body": "body", "note": "note", "quote": "quote"}.get(block.style, "body")
        lines = [line.strip() for line in self.clean(block.text).splitlines()]
        lines = [line for line in lines if line]
        if role == "note" and lines and not lines[0].startswith("注"):
            lines[0] = "注：" + lines[0]
        for line in lines:  # one paragraph per line: each gets its first-line indent
            self._line(role, line)

    def _note(self, text: str | None) -> None:
        if text is None:
            return
        cleaned = self.clean.line(text)
        if cleaned:
            self._text("note", cleaned if cleaned.startswith("注") else "注：" + cleaned)

    def _caption(
        self, label: str, seq: str, section_no: int, number: int, text: str, mark: str | None
    ) -> None:
        fonts = self.styles.fonts("caption")
        p = self._para("caption", keep_next=label == "表")
        start = end = None
        if mark:  # a cross-reference's target: the label and number, 「表 4-2」
            self._bookmarks += 1
            start, end = bookmark(self._bookmarks, mark)
            p.append(start)
        p.append(make_run(f"{label} {section_no}-", fonts))
        p.extend(field(f"SEQ {seq}_{section_no} \\* ARABIC", str(number), fonts))
        if end is not None:
            p.append(end)
        caption = self.clean.line(text)
        if caption:
            p.append(make_run(" " + caption, fonts))

    def _table(self, block: Table, section_no: int, number: int, mark: str | None = None) -> None:
        self.n_tables += 1
        self._caption("表", "Table", section_no, number, block.caption, mark)
        columns = block.columns
        if not columns:
            self._text("table_text", NO_DATA, bold=None)
            self._note(block.note)
            return
        cells: list[list[CellText]] = []
        for row in block.rows:
            values = list(row)[: len(columns)] + [None] * (len(columns) - len(row))
            cells.append(
                [format_cell(v, c, self.clean) for v, c in zip(values, columns, strict=True)]
            )
        headers = [self.clean.line(c.name) for c in columns]
        weights = [c.width for c in columns]
        if all(w is not None and w > 0 for w in weights):
            total = sum(weights)  # type: ignore[arg-type]
            widths = [int(TEXT_WIDTH_TWIPS * w / total) for w in weights]  # type: ignore[operator]
            widths[-1] += TEXT_WIDTH_TWIPS - sum(widths)
        else:
            widths = _column_widths(headers, cells)

        table = self.doc.add_table(rows=1 + max(len(cells), 1), cols=len(columns))
        tbl = table._tbl
        tblPr = tbl.tblPr
        set_attrs(child(tblPr, "w:tblStyle", TBLPR_SEQ), val=self.styles.id("table"))
        set_attrs(child(tblPr, "w:tblW", TBLPR_SEQ), w=sum(widths), type="dxa")
        set_attrs(child(tblPr, "w:jc", TBLPR_SEQ), val="center")
        set_attrs(child(tblPr, "w:tblLayout", TBLPR_SEQ), type="fixed")
        for gridCol, width in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
            gridCol.set(qn("w:w"), str(width))
        fonts = self.styles.fonts("table_text")
        rows = tbl.findall(qn("w:tr"))

        header_row = rows[0]
        trPr = header_row.get_or_add_trPr()
        child(trPr, "w:cantSplit", TRPR_SEQ)
        child(trPr, "w:tblHeader", TRPR_SEQ)  # repeated at the top of every page
        for tc, text, width in zip(header_row.findall(qn("w:tc")), headers, widths, strict=True):
            self._cell(tc, width, text, fonts, align="center", bold=True, fill=HEADER_FILL)

        if not cells:
            tr = rows[1]
            tcs = tr.findall(qn("w:tc"))
            for extra in tcs[1:]:
                tr.remove(extra)
            set_attrs(child(tcs[0].get_or_add_tcPr(), "w:gridSpan", TCPR_SEQ), val=len(columns))
            self._cell(tcs[0], sum(widths), NO_DATA, fonts, align="center")
        for tr, row_cells in zip(rows[1:], cells, strict=False):
            child(tr.get_or_add_trPr(), "w:cantSplit", TRPR_SEQ)
            for tc, cell, column, width in zip(
                tr.findall(qn("w:tc")), row_cells, columns, widths, strict=True
            ):
                if column.kind in NUMERIC_KINDS:
                    align = "right"
                elif column.kind == "status" or cell.missing:
                    align = "center"
                else:
                    align = "left"
                if cell.shortfall:
                    self._cell(
                        tc,
                        width,
                        cell.text,
                        fonts,
                        align=align,
                        bold=True,
                        color=RED,
                        fill=SHORTFALL_FILL,
                    )
                else:
                    self._cell(tc, width, cell.text, fonts, align=align)
        self._note(block.note)

    def _cell(
        self,
        tc: BaseOxmlElement,
        width: int,
        text: str,
        fonts: Fonts,
        *,
        align: str,
        bold: bool | None = None,
        color: str | None = None,
        fill: str | None = None,
    ) -> None:
        key = (width, fill, align)
        if key not in self._cell_protos:  # large tables: build the properties once, copy them
            tcPr = OxmlElement("w:tcPr")
            set_attrs(child(tcPr, "w:tcW", TCPR_SEQ), w=width, type="dxa")
            if fill:
                shade(tcPr, TCPR_SEQ, fill)
            set_attrs(child(tcPr, "w:vAlign", TCPR_SEQ), val="center")
            pPr = OxmlElement("w:pPr")
            pPr.style = self.styles.id("table_text")
            set_attrs(child(pPr, "w:jc", PPR_SEQ), val=align)
            self._cell_protos[key] = (tcPr, pPr)
        tcPr, pPr = (deepcopy(el) for el in self._cell_protos[key])
        span = tc.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}")
        if span is not None:
            child(tcPr, "w:gridSpan", TCPR_SEQ).set(qn("w:val"), span.get(qn("w:val")))
        remove_children(tc, "w:tcPr")
        tc.insert(0, tcPr)
        p = tc.findall(qn("w:p"))[0]
        remove_children(p, "w:pPr")
        p.insert(0, pPr)
        p.append(make_run(text, fonts, bold=bold, color=color))

    def _figure(
        self, block: Figure, folder: Path, section_no: int, number: int, mark: str | None = None
    ) -> None:
        self.n_figures += 1
        path = Path(folder) / block.path
        width = Cm(block.width_cm) if block.width_cm and block.width_cm > 0 else TEXT_WIDTH
        width = Length(min(width, TEXT_WIDTH))
        p = self._para("figure")
        r = make_run(None, self.styles.fonts("figure"))
        p.append(r)
        try:
            Run(r, DocxParagraph(p, self.doc._body)).add_picture(str(path), width=width)
        except Exception as exc:  # missing or unreadable image: say so in the report
            log.warning("figure %s cannot be inserted: %s", path, exc)
            p.remove(r)
            p.append(
                make_run(
                    f"【图片缺失或无法读取：{self.clean(block.path)}】",
                    self.styles.fonts("figure"),
                    bold=True,
                    color=RED,
                )
            )
        self._caption("图", "Figure", section_no, number, block.caption, mark)
        self._note(block.note)

    # -- page setup, headers and footers ------------------------------------------------
    def _pages(self) -> None:
        sections = list(self.doc.sections)
        for section in sections:
            section.orientation = WD_ORIENTATION.PORTRAIT
            section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
            section.top_margin = section.bottom_margin = MARGIN_TOP_BOTTOM
            section.left_margin = section.right_margin = MARGIN_LEFT_RIGHT
            section.header_distance = section.footer_distance = Cm(1.5)
            section.gutter = Cm(0)
            section.different_first_page_header_footer = False
        cover, contents, body = sections[0], sections[1], sections[-1]
        title = self.clean.line(self.report.meta.title)
        self._header(cover.header, None)
        self._footer(cover.footer, None)
        self._header(contents.header, title)
        self._footer(contents.footer, ("", ""))
        _page_numbers(contents, "upperRoman")
        self._header(body.header, title)
        self._footer(body.footer, ("第 ", " 页"))
        _page_numbers(body, "decimal")

    def _header(self, header: _Header, text: str | None) -> None:
        header.is_linked_to_previous = False
        root = _clear(header)
        p = _detached_paragraph(self.styles.id("header"))
        if text:
            border(p.get_or_add_pPr(), "bottom", size=6)
            p.append(make_run(text, self.styles.fonts("header")))
        root.append(p)

    def _footer(self, footer: _Footer, around: tuple[str, str] | None) -> None:
        footer.is_linked_to_previous = False
        root = _clear(footer)
        p = _detached_paragraph(self.styles.id("footer"))
        if around is not None:
            fonts = self.styles.fonts("footer")
            before, after = around
            if before:
                p.append(make_run(before, fonts))
            p.extend(field("PAGE", "1", fonts))
            if after:
                p.append(make_run(after, fonts))
        root.append(p)

    def _properties(self) -> None:
        meta = self.report.meta
        when = datetime.combine(meta.report_date, time(0, 0))
        props = self.doc.core_properties
        props.author = self.clean.line(meta.organisation)
        props.last_modified_by = self.clean.line(meta.organisation)
        props.title = self.clean.line(meta.title)
        props.subject = f"{meta.period.title_zh}客户服务自查"
        props.keywords = f"服务自查报告; {meta.period}"
        props.category = "自查报告"
        props.comments = ""
        props.content_status = ""
        props.identifier = str(meta.period)
        props.language = "zh-CN"
        props.version = ""
        props.revision = 1
        props.created = props.modified = props.last_printed = when


# -- helpers -------------------------------------------------------------------------
def _open(template: Path | None) -> DocxDocument:
    if template is None:
        return docx.Document()
    try:
        return docx.Document(str(template))
    except Exception as exc:
        raise ReportError(
            f"模板文件无法打开：{template}（{exc}）。模板须为 Word .docx 文件 "
            f"(cannot open the Word template {template}: {exc})"
        ) from exc


def _ref_kind(block: Block) -> str | None:
    if isinstance(block, Table):
        return "table"
    if isinstance(block, Figure):
        return "figure"
    return None


def _detached_paragraph(style_id: str) -> BaseOxmlElement:
    p = OxmlElement("w:p")
    p.get_or_add_pPr().style = style_id
    return p


def _spacing(p: BaseOxmlElement, *, before: float, after: float) -> None:
    set_attrs(
        child(p.get_or_add_pPr(), "w:spacing", PPR_SEQ), before=_twips(before), after=_twips(after)
    )


def _clear(part_owner: _Header | _Footer) -> BaseOxmlElement:
    root = part_owner._element
    for el in list(root):
        root.remove(el)
    return root


def _page_numbers(section: Section, fmt: str) -> None:
    sectPr = section._sectPr
    remove_children(sectPr, "w:pgNumType")
    set_attrs(child(sectPr, "w:pgNumType", SECTPR_SEQ), fmt=fmt, start=1)


CELL_TWIPS = 125  # one half-width character of 10.5pt table text, with room for wider fonts
CELL_PADDING_TWIPS = 260  # the cell margins (2 x 108) and a little air


def _column_widths(headers: list[str], cells: list[list[CellText]]) -> list[int]:
    """Column widths in twips that fill the text width.

    Each column asks for the width of its longest value (its header counts up to 12
    half-width characters: longer headers wrap). If everything fits, the room left is
    shared in proportion; if not, only the widest columns are narrowed (to a common
    cap), so short numbers and statuses never wrap while long text does.
    """
    needs = []
    for j, header in enumerate(headers):
        content = max((display_width(row[j].text) for row in cells), default=0)
        chars = max(min(display_width(header), 12), content, 4)
        needs.append(chars * CELL_TWIPS + CELL_PADDING_TWIPS)
    total = TEXT_WIDTH_TWIPS
    if sum(needs) <= total:
        widths = [total * n // sum(needs) for n in needs]
    else:
        cap, remaining = total / len(needs), total
        for count, need in enumerate(sorted(needs)):  # water-filling: the largest cap that fits
            left = len(needs) - count
            if need * left > remaining:
                cap = remaining / left
                break
            remaining -= need
        widths = [int(min(n, cap)) for n in needs]
    widths[widths.index(max(widths))] += total - sum(widths)
    return widths


def repack(data: bytes) -> bytes:
    """The same package with stable entry order, fixed timestamps and compression."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    order = sorted(entries, key=lambda n: (n != "[Content_Types].xml", n != "_rels/.rels", n))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as packed:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            packed.writestr(info, entries[name], compresslevel=6)
    return out.getvalue()


def _locked(target: Path) -> str:
    return (
        f"报告文件被占用或不可写：{target}，请关闭 Word/WPS 中打开的该文件后重试 "
        f"(the report file is open in another program or not writable: {target}; "
        "close it in Word/WPS and try again)"
    )


def atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``target``, then move it into place."""
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp", dir=folder)
    except PermissionError as exc:
        raise ReportError(_locked(target)) from exc
    except OSError as exc:
        raise ReportError(f"无法写入报告文件：{target}（{exc}）(cannot write the report)") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except OSError:
            mode = 0o644
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except PermissionError as exc:
        raise ReportError(_locked(target)) from exc
    except OSError as exc:
        raise ReportError(f"无法写入报告文件：{target}（{exc}）(cannot write the report)") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
