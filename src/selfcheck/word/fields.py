"""Low-level WordprocessingML for the Word writer: runs with East-Asian fonts, complex
fields (TOC, PAGEREF, SEQ, PAGE), bookmarks and schema-ordered child elements.

python-docx covers paragraphs, tables and pictures; what it does not cover (fields,
bookmarks, ``w:eastAsia`` fonts, shading, header rows) is built here with lxml, always
inserting children in the order the schema (ECMA-376) prescribes so that Word does not
reject the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from copy import deepcopy
from functools import lru_cache

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement

# -- child order of the elements we touch (ECMA-376 part 1, §17) ---------------------
PPR_SEQ = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr",
    "w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs",
    "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
    "w:pPrChange",
)  # fmt: skip
RPR_SEQ = (
    "w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps",
    "w:strike", "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint",
    "w:noProof", "w:snapToGrid", "w:vanish", "w:webHidden", "w:color", "w:spacing",
    "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
    "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang",
    "w:eastAsianLayout", "w:specVanish", "w:oMath",
)  # fmt: skip
TCPR_SEQ = (
    "w:cnfStyle", "w:tcW", "w:gridSpan", "w:hMerge", "w:vMerge", "w:tcBorders", "w:shd",
    "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark",
)  # fmt: skip
TRPR_SEQ = (
    "w:cnfStyle", "w:divId", "w:gridBefore", "w:gridAfter", "w:wBefore", "w:wAfter",
    "w:cantSplit", "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden",
)  # fmt: skip
TBLPR_SEQ = (
    "w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
    "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd",
    "w:tblBorders", "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
    "w:tblDescription",
)  # fmt: skip
SECTPR_SEQ = (
    "w:headerReference", "w:footerReference", "w:footnotePr", "w:endnotePr", "w:type",
    "w:pgSz", "w:pgMar", "w:paperSrc", "w:pgBorders", "w:lnNumType", "w:pgNumType",
    "w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg", "w:textDirection",
    "w:bidi", "w:rtlGutter", "w:docGrid", "w:printerSettings", "w:sectPrChange",
)  # fmt: skip
STYLE_SEQ = (
    "w:name", "w:aliases", "w:basedOn", "w:next", "w:link", "w:autoRedefine", "w:hidden",
    "w:uiPriority", "w:semiHidden", "w:unhideWhenUsed", "w:qFormat", "w:locked",
    "w:personal", "w:personalCompose", "w:personalReply", "w:rsid", "w:pPr", "w:rPr",
    "w:tblPr", "w:trPr", "w:tcPr", "w:tblStylePr",
)  # fmt: skip
SETTINGS_SEQ = (
    "w:writeProtection", "w:view", "w:zoom", "w:removePersonalInformation",
    "w:removeDateAndTime", "w:doNotDisplayPageBoundaries", "w:displayBackgroundShape",
    "w:printPostScriptOverText", "w:printFractionalCharacterWidth", "w:printFormsData",
    "w:embedTrueTypeFonts", "w:embedSystemFonts", "w:saveSubsetFonts", "w:saveFormsData",
    "w:mirrorMargins", "w:alignBordersAndEdges", "w:bordersDoNotSurroundHeader",
    "w:bordersDoNotSurroundFooter", "w:gutterAtTop", "w:hideSpellingErrors",
    "w:hideGrammaticalErrors", "w:activeWritingStyle", "w:proofState", "w:formsDesign",
    "w:attachedTemplate", "w:linkStyles", "w:stylePaneFormatFilter",
    "w:stylePaneSortMethod", "w:documentType", "w:mailMerge", "w:revisionView",
    "w:trackRevisions", "w:doNotTrackMoves", "w:doNotTrackFormatting",
    "w:documentProtection", "w:autoFormatOverride", "w:styleLockTheme",
    "w:styleLockQFSet", "w:defaultTabStop", "w:autoHyphenation",
    "w:consecutiveHyphenLimit", "w:hyphenationZone", "w:doNotHyphenateCaps",
    "w:showEnvelope", "w:summaryLength", "w:clickAndTypeStyle", "w:defaultTableStyle",
    "w:evenAndOddHeaders", "w:bookFoldRevPrinting", "w:bookFoldPrinting",
    "w:bookFoldPrintingSheets", "w:drawingGridHorizontalSpacing",
    "w:drawingGridVerticalSpacing", "w:displayHorizontalDrawingGridEvery",
    "w:displayVerticalDrawingGridEvery", "w:doNotUseMarginsForDrawingGridOrigin",
    "w:drawingGridHorizontalOrigin", "w:drawingGridVerticalOrigin",
    "w:doNotShadeFormData", "w:noPunctuationKerning", "w:characterSpacingControl",
    "w:printTwoOnOne", "w:strictFirstAndLastChars", "w:noLineBreaksAfter",
    "w:noLineBreaksBefore", "w:savePreviewPicture", "w:doNotValidateAgainstSchema",
    "w:saveInvalidXml", "w:ignoreMixedContent", "w:alwaysShowPlaceholderText",
    "w:doNotDemarcateInvalidXml", "w:saveXmlDataOnly", "w:useXSLTWhenSaving",
    "w:saveThroughXslt", "w:showXMLTags", "w:alwaysMergeEmptyNamespace",
    "w:updateFields", "w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat",
    "w:docVars", "w:rsids", "m:mathPr", "w:attachedSchema", "w:themeFontLang",
    "w:clrSchemeMapping", "w:doNotIncludeSubdocsInStats", "w:doNotAutoCompressPictures",
    "w:forceUpgrade", "w:captions", "w:readModeInkLockDown", "w:smartTagType",
    "sl:schemaLibrary", "w:shapeDefaults", "w:doNotEmbedSmartTags", "w:decimalSymbol",
    "w:listSeparator",
)  # fmt: skip

FONT_SLOTS = ("ascii", "hAnsi", "eastAsia", "cs")
# the theme attribute that, when present, overrides each explicit font slot
THEME_ATTR = {
    "ascii": "asciiTheme",
    "hAnsi": "hAnsiTheme",
    "eastAsia": "eastAsiaTheme",
    "cs": "cstheme",
}

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"

Fonts = Mapping[str, str]  # rFonts attributes without prefix: {"ascii": ..., "eastAsia": ...}


def _prefixed(el: BaseOxmlElement) -> str:
    """``{namespace}local`` → ``w:local`` for the namespaces we order."""
    tag = el.tag
    if not isinstance(tag, str) or "}" not in tag:
        return ""
    ns, local = tag[1:].split("}", 1)
    for prefix in ("w", "m", "sl"):
        if qn(f"{prefix}:x")[1:].split("}", 1)[0] == ns:
            return f"{prefix}:{local}"
    return ""


def child(parent: BaseOxmlElement, tag: str, seq: Sequence[str]) -> BaseOxmlElement:
    """The child ``tag`` of ``parent``, created at its schema position if missing."""
    found = parent.find(qn(tag))
    if found is not None:
        return found
    new = OxmlElement(tag)
    insert_ordered(parent, new, tag, seq)
    return new


def insert_ordered(
    parent: BaseOxmlElement, new: BaseOxmlElement, tag: str, seq: Sequence[str]
) -> None:
    rank = seq.index(tag) if tag in seq else len(seq)
    for existing in parent:
        other = _prefixed(existing)
        if other in seq and seq.index(other) > rank:
            existing.addprevious(new)
            return
    parent.append(new)


def remove_children(parent: BaseOxmlElement, *tags: str) -> None:
    for tag in tags:
        for found in parent.findall(qn(tag)):
            parent.remove(found)


def set_attrs(el: BaseOxmlElement, **attrs: str | int | None) -> BaseOxmlElement:
    """Set (or, for None, remove) ``w:`` attributes."""
    for name, value in attrs.items():
        key = qn(f"w:{name}")
        if value is None:
            el.attrib.pop(key, None)
        else:
            el.set(key, str(value))
    return el


def set_fonts(rPr: BaseOxmlElement, fonts: Fonts) -> None:
    """Fonts on an ``w:rPr``. ``fonts`` holds explicit names (``ascii``, ``eastAsia`` …)
    and, carried over from a template style, theme references (``asciiTheme`` …). An
    explicit slot without its theme reference drops the element's theme attribute, since
    the theme attribute would win over the explicit name."""
    rFonts = child(rPr, "w:rFonts", RPR_SEQ)
    for slot, theme in THEME_ATTR.items():
        if slot in fonts:
            rFonts.set(qn(f"w:{slot}"), fonts[slot])
            if theme not in fonts:
                rFonts.attrib.pop(qn(f"w:{theme}"), None)
        if theme in fonts:
            rFonts.set(qn(f"w:{theme}"), fonts[theme])


def set_lang(rPr: BaseOxmlElement, *, latin: str = "en-US", east_asia: str = "zh-CN") -> None:
    lang = child(rPr, "w:lang", RPR_SEQ)
    set_attrs(lang, val=latin, eastAsia=east_asia)


def on_off(parent: BaseOxmlElement, tag: str, seq: Sequence[str], value: bool | None) -> None:
    """A toggle property: present (on), ``w:val="0"`` (off) or absent (None: inherit)."""
    remove_children(parent, tag)
    if value is None:
        return
    el = child(parent, tag, seq)
    if not value:
        el.set(qn("w:val"), "0")


# -- runs ----------------------------------------------------------------------------
def make_run(
    text: str | None,
    fonts: Fonts,
    *,
    bold: bool | None = None,
    italic: bool | None = None,
    color: str | None = None,
    size_pt: float | None = None,
) -> BaseOxmlElement:
    """A ``w:r`` with explicit fonts (ascii/hAnsi/eastAsia/cs) and, optionally, text.

    Tabs and line breaks in ``text`` become ``w:tab`` / ``w:br``.
    """
    r = OxmlElement("w:r")
    r.append(deepcopy(_run_properties(tuple(fonts.items()), bold, italic, color, size_pt)))
    if not text:
        return r
    if any(ch in text for ch in "\t\n\r"):
        r.text = text  # python-docx splits out w:tab / w:br
    else:
        t = OxmlElement("w:t")
        t.text = text
        if text != text.strip():
            t.set(_XML_SPACE, "preserve")
        r.append(t)
    return r


@lru_cache(maxsize=256)
def _run_properties(
    fonts: tuple[tuple[str, str], ...],
    bold: bool | None,
    italic: bool | None,
    color: str | None,
    size_pt: float | None,
) -> BaseOxmlElement:
    """The ``w:rPr`` of a run (a prototype: callers copy it, large tables reuse it)."""
    rPr = OxmlElement("w:rPr")
    set_fonts(rPr, dict(fonts))
    if bold is not None:
        on_off(rPr, "w:b", RPR_SEQ, bold)
        on_off(rPr, "w:bCs", RPR_SEQ, bold)
    if italic is not None:
        on_off(rPr, "w:i", RPR_SEQ, italic)
        on_off(rPr, "w:iCs", RPR_SEQ, italic)
    if color is not None:
        set_attrs(child(rPr, "w:color", RPR_SEQ), val=color)
    if size_pt is not None:
        half_points = round(size_pt * 2)
        set_attrs(child(rPr, "w:sz", RPR_SEQ), val=half_points)
        set_attrs(child(rPr, "w:szCs", RPR_SEQ), val=half_points)
    return rPr


def _fld_char(kind: str, fonts: Fonts) -> BaseOxmlElement:
    r = make_run(None, fonts)
    fld = OxmlElement("w:fldChar")
    fld.set(qn("w:fldCharType"), kind)
    r.append(fld)
    return r


def _instr(code: str, fonts: Fonts) -> BaseOxmlElement:
    r = make_run(None, fonts)
    instr = OxmlElement("w:instrText")
    instr.set(_XML_SPACE, "preserve")
    instr.text = f" {code.strip()} "
    r.append(instr)
    return r


def field_start(code: str, fonts: Fonts) -> list[BaseOxmlElement]:
    """begin, instruction, separate: the runs before a complex field's cached result."""
    return [_fld_char("begin", fonts), _instr(code, fonts), _fld_char("separate", fonts)]


def field_end(fonts: Fonts) -> BaseOxmlElement:
    return _fld_char("end", fonts)


def field(code: str, result: str | None, fonts: Fonts) -> list[BaseOxmlElement]:
    """A whole complex field. ``result`` is its cached result, what a reader sees before
    any field update; None leaves the result empty."""
    runs = field_start(code, fonts)
    if result:
        runs.append(make_run(result, fonts))
    runs.append(field_end(fonts))
    return runs


def bookmark(bm_id: int, name: str) -> tuple[BaseOxmlElement, BaseOxmlElement]:
    start = OxmlElement("w:bookmarkStart")
    set_attrs(start, id=bm_id, name=name)
    end = OxmlElement("w:bookmarkEnd")
    set_attrs(end, id=bm_id)
    return start, end


def hyperlink(anchor: str, runs: Iterable[BaseOxmlElement]) -> BaseOxmlElement:
    """An internal hyperlink (to a bookmark) around ``runs``."""
    link = OxmlElement("w:hyperlink")
    set_attrs(link, anchor=anchor, history="1")
    for r in runs:
        link.append(r)
    return link


def shade(parent: BaseOxmlElement, seq: Sequence[str], fill: str) -> None:
    """Solid background ``fill`` (hex RGB) on a ``w:tcPr`` / ``w:pPr`` / ``w:rPr``."""
    remove_children(parent, "w:shd")
    shd = child(parent, "w:shd", seq)
    set_attrs(shd, val="clear", color="auto", fill=fill)


def border(parent: BaseOxmlElement, side: str, *, size: int = 4, color: str = "auto") -> None:
    """A single line on one ``side`` of a paragraph (``w:pBdr``)."""
    pBdr = child(parent, "w:pBdr", PPR_SEQ)
    order = ("w:top", "w:left", "w:bottom", "w:right", "w:between", "w:bar")
    remove_children(pBdr, f"w:{side}")
    line = child(pBdr, f"w:{side}", order)
    set_attrs(line, val="single", sz=size, space=1, color=color)
