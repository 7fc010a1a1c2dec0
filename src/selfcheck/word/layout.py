"""Layout pass: the finished .docx laid out once by LibreOffice, headless, so the contents
show page numbers when the file is opened, and the PDF copy beside it.

The writer leaves the cached results of the contents' ``PAGEREF`` fields empty: page
numbers need a layout engine. Where LibreOffice (``soffice``) is installed:

1. the .docx is converted to PDF (``writer_pdf_Export``; Word bookmarks exported as PDF
   named destinations, headings as the PDF outline, fonts embedded) in a LibreOffice
   profile of its own, so it works beside a LibreOffice the user has open and as root;
2. the page of every heading is read from the PDF's named destinations — one per Word
   bookmark, so each contents entry is matched by its bookmark name, not by its text
   (two headings may read the same) — with the PDF outline, matched in order by text, as
   the fallback for a LibreOffice that does not export destinations;
3. those pages are turned into the numbers the page footer prints: the body is the
   document's last Word section, its numbering restarts at 1 in Arabic figures
   (``writer._pages``), and it begins on the page of the first heading; so a heading on
   PDF page *p* is listed as ``p - first + 1`` (the cover and the Roman-numbered contents
   pages before it hold no heading);
4. the numbers are written into the ``PAGEREF`` results of ``document.xml`` and the
   package is re-packed exactly as the writer packs it (same inputs, same bytes);
5. the filled .docx is converted again for the PDF copy (the first PDF's contents have no
   numbers); its heading pages are checked against the numbers written (filling the
   contents cannot move the body, which restarts its numbering, but a wider contents
   entry could: then the numbers are filled in again, once). Before the first conversion
   the previous report's numbers are written in: when the headings have not moved, the
   first PDF is already the copy and one conversion is enough (:func:`lay_out`).

Where LibreOffice is absent (or the layout is turned off) nothing changes: the report
keeps the entries without numbers (Word fills them in on F9 / 更新域) and the caller says so
once in its log.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from selfcheck.errors import ReportError

log = logging.getLogger(__name__)

SOFFICE_ENV = "SELFCHECK_SOFFICE"  # the soffice to use; set but empty: none (no layout)
TIMEOUT_ENV = "SELFCHECK_SOFFICE_TIMEOUT"  # seconds per conversion (default 300)
DEFAULT_TIMEOUT = 300.0
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
DOCUMENT_XML = "word/document.xml"

# writer_pdf_Export options (JSON form, LibreOffice 7.4 and newer; older versions ignore
# it and use their defaults, which export the outline and embed fonts too)
PDF_OPTIONS = {
    "ExportBookmarks": {"type": "boolean", "value": "true"},
    "ExportBookmarksToPDFDestination": {"type": "boolean", "value": "true"},
    "EmbedStandardFonts": {"type": "boolean", "value": "true"},
    "ExportNotes": {"type": "boolean", "value": "false"},
    "UseTaggedPDF": {"type": "boolean", "value": "true"},
}
PDF_FILTER = "pdf:writer_pdf_Export:" + json.dumps(PDF_OPTIONS, separators=(",", ":"))

_PAGEREF = re.compile(r"^\s*PAGEREF\s+(\S+)")
_NOT_FOUND = (
    "未找到 LibreOffice：目录暂无页码（在 Word 中按 F9 更新域即可显示），未生成 PDF 副本。"
    "安装方法见 README “LibreOffice and the PDF copy”。"
    "(LibreOffice not found: contents without page numbers, no PDF copy)"
)


@dataclass(frozen=True)
class LayoutResult:
    """What the layout pass did. ``pages``: contents bookmark → page number as printed;
    ``pdf``: the PDF copy (None when not asked for or not possible); ``message``: one line
    for the run log when something was not done (LibreOffice missing, conversion failed)."""

    pages: Mapping[str, int]
    pdf: Path | None
    soffice: Path | None
    seconds: float
    conversions: int = 0
    message: str | None = None

    @property
    def done(self) -> bool:
        return self.soffice is not None and self.message is None


# -- finding LibreOffice -------------------------------------------------------------
def _install_paths() -> list[Path]:
    if sys.platform == "win32":
        roots = [os.environ.get(k) for k in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432")]
        return [Path(r) / "LibreOffice" / "program" / "soffice.exe" for r in roots if r]
    if sys.platform == "darwin":
        return [Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")]
    return [
        Path("/usr/lib/libreoffice/program/soffice"),
        Path("/usr/lib64/libreoffice/program/soffice"),
        Path("/opt/libreoffice/program/soffice"),
        Path("/snap/bin/libreoffice"),
    ]


def find_soffice() -> Path | None:
    """LibreOffice's ``soffice``: ``$SELFCHECK_SOFFICE`` when set (empty: none), else
    ``soffice`` / ``libreoffice`` on PATH, else the usual install folders (Windows'
    Program Files, macOS' /Applications, Linux' /usr/lib/libreoffice, /opt)."""
    if SOFFICE_ENV in os.environ:
        wanted = os.environ[SOFFICE_ENV].strip()
        if not wanted:
            return None
        found = shutil.which(wanted)
        return Path(found) if found else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    for path in _install_paths():
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def _timeout() -> float:
    try:
        return float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


# -- converting ----------------------------------------------------------------------
def convert_to_pdf(
    docx: Path, outdir: Path, soffice: Path, *, profile: Path, timeout: float | None = None
) -> Path:
    """``docx`` → ``outdir/<stem>.pdf`` with LibreOffice headless, in the profile folder
    ``profile`` (its own: a LibreOffice the user has open is not disturbed, and it works
    as root). A conversion that fails or takes longer than ``timeout`` seconds is a
    :class:`ReportError` saying so; the LibreOffice processes it started are ended."""
    timeout = _timeout() if timeout is None else timeout
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(soffice),
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        "--headless", "--invisible", "--nologo", "--nodefault", "--norestore", "--nolockcheck",
        "--convert-to", PDF_FILTER, "--outdir", str(outdir), str(docx),
    ]  # fmt: skip
    popen: dict = {"start_new_session": True} if os.name == "posix" else {}
    if os.name == "nt":
        popen["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen
        )
    except OSError as e:
        raise ReportError(
            f"无法启动 LibreOffice：{soffice}（{e.strerror or e}）(cannot start LibreOffice)"
        ) from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise ReportError(
            f"LibreOffice 排版超时（{timeout:.0f} 秒）：{docx.name}。可调大环境变量 {TIMEOUT_ENV}，"
            f"或在参数中设 layout: off (LibreOffice did not finish within {timeout:.0f} s)"
        ) from None
    pdf = outdir / (docx.stem + ".pdf")
    if proc.returncode != 0 or not pdf.is_file():
        detail = (err or out or b"").decode("utf-8", "replace").strip().splitlines()
        raise ReportError(
            f"LibreOffice 未能把 {docx.name} 转为 PDF（退出码 {proc.returncode}"
            + (f"：{detail[-1][:200]}" if detail else "")
            + "）(LibreOffice could not convert the report to PDF)"
        )
    return pdf


def _kill(proc: subprocess.Popen) -> None:
    """End the conversion and what it started (soffice starts soffice.bin)."""
    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # soffice.exe starts soffice.bin: end the whole tree
            subprocess.run(
                ["taskkill", "/T", "/F", "/PID", str(proc.pid)], capture_output=True, timeout=30
            )
            proc.kill()
    with contextlib.suppress(Exception):
        proc.communicate(timeout=10)


# -- reading the PDF -----------------------------------------------------------------
@dataclass(frozen=True)
class TocEntry:
    bookmark: str
    text: str  # the heading's text (what the contents lists)


def toc_entries(docx_bytes: bytes) -> list[TocEntry]:
    """The contents' entries of a .docx written by the writer: every ``PAGEREF``
    bookmark in document order, with the text of the heading that carries it."""
    root = _document(docx_bytes)
    names = [m for m in (_pageref(t.text or "") for t in root.iter(f"{W}instrText")) if m]
    texts: dict[str, str] = {}
    for start in root.iter(f"{W}bookmarkStart"):
        name = start.get(f"{W}name")
        if name in names and name not in texts:
            p = start.getparent()
            texts[name] = "".join(t.text or "" for t in p.iter(f"{W}t"))
    return [TocEntry(n, texts.get(n, "")) for n in dict.fromkeys(names)]


def _pageref(code: str) -> str | None:
    m = _PAGEREF.match(code)
    return m.group(1) if m else None


def heading_pages(pdf: Path, entries: Sequence[TocEntry]) -> dict[str, int]:
    """Bookmark → 0-based PDF page index of each contents entry's heading: from the PDF's
    named destinations, else from its outline (matched in order by text)."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(pdf))
    except Exception as e:  # pypdf missing, or a PDF it cannot read
        raise ReportError(
            f"无法读取 LibreOffice 生成的 PDF：{pdf.name}（{e}）(cannot read the laid-out PDF)"
        ) from None
    found: dict[str, int] = {}
    with contextlib.suppress(Exception):
        dests = {_dest_key(k): v for k, v in reader.named_destinations.items()}
        for entry in entries:
            dest = dests.get(_dest_key(entry.bookmark))
            if dest is None:  # LibreOffice writes "_Toc1" as "5FToc1" (hex of each symbol)
                dest = dests.get(_dest_key(_escaped(entry.bookmark)))
            if dest is not None:
                page = reader.get_destination_page_number(dest)
                if page is not None and page >= 0:
                    found[entry.bookmark] = page
    if len(found) == len(entries):
        return found
    outline = [(_squash(title), page) for title, page in outline_pages(reader)]
    i = 0
    for entry in entries:
        if entry.bookmark in found:
            continue
        want = _squash(entry.text)
        for j in range(i, len(outline)):
            if outline[j][0] == want:
                found[entry.bookmark] = outline[j][1]
                i = j + 1
                break
    return found


def _dest_key(name: str) -> str:
    return name.lstrip("/").replace("#", "")


def _escaped(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", lambda m: f"{ord(m.group()):02X}", name)


def outline_pages(reader: object) -> list[tuple[str, int]]:
    """The PDF outline flattened in order: (title, 0-based page index)."""
    out: list[tuple[str, int]] = []

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                out.append((str(item.title), reader.get_destination_page_number(item)))  # type: ignore[attr-defined]

    walk(reader.outline)  # type: ignore[attr-defined]
    return out


def _squash(text: str) -> str:
    return "".join(text.split())


def printed_numbers(pdf_pages: Mapping[str, int], entries: Sequence[TocEntry]) -> dict[str, int]:
    """PDF page indexes → the numbers the body's footer prints: the body begins on the
    page of the first heading and counts from 1 (see the module's docstring)."""
    if not entries or entries[0].bookmark not in pdf_pages:
        return {}
    first = pdf_pages[entries[0].bookmark]
    return {
        e.bookmark: pdf_pages[e.bookmark] - first + 1 for e in entries if e.bookmark in pdf_pages
    }


# -- writing the numbers -------------------------------------------------------------
def _document(docx_bytes: bytes) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        return etree.fromstring(z.read(DOCUMENT_XML))


def fill_page_numbers(docx_bytes: bytes, pages: Mapping[str, int]) -> bytes:
    """The package with each ``PAGEREF <bookmark>`` field's cached result set to its page
    number (bookmarks not in ``pages`` keep theirs); re-packed as the writer packs."""
    from selfcheck.word.writer import repack

    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    root = etree.fromstring(entries[DOCUMENT_XML])
    for instr in list(root.iter(f"{W}instrText")):
        name = _pageref(instr.text or "")
        if name is None or name not in pages:
            continue
        _set_result(instr.getparent(), str(pages[name]))
    entries[DOCUMENT_XML] = etree.tostring(root, encoding="UTF-8", standalone=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return repack(out.getvalue())


def _set_result(instr_run: etree._Element, text: str) -> None:
    """Between the field's ``separate`` and ``end``: one run holding ``text`` (in the
    fonts of the ``separate`` run)."""
    run = instr_run.getnext()
    while run is not None and not _fld(run, "separate"):
        run = run.getnext()
    if run is None:
        return
    separate = run
    nxt = separate.getnext()
    while nxt is not None and not _fld(nxt, "end"):
        after = nxt.getnext()
        nxt.getparent().remove(nxt)
        nxt = after
    result = etree.SubElement(separate.getparent(), f"{W}r")
    separate.addnext(result)
    rpr = separate.find(f"{W}rPr")
    if rpr is not None:
        result.append(etree.fromstring(etree.tostring(rpr)))
    t = etree.SubElement(result, f"{W}t")
    t.text = text


def _fld(run: etree._Element, kind: str) -> bool:
    fld = run.find(f"{W}fldChar")
    return fld is not None and fld.get(f"{W}fldCharType") == kind


# -- the pass ------------------------------------------------------------------------
def lay_out(docx: Path, *, pdf: Path | None, previous: Path | None = None) -> LayoutResult:
    """Fill in the contents' page numbers of ``docx`` (rewritten in place, atomically) and,
    when ``pdf`` is given, write the PDF copy there. Without LibreOffice, or when it fails,
    ``docx`` is left as it was and ``message`` says why (the report is still complete).

    ``previous``: the report this one replaces. Its contents' numbers are written in
    before the first conversion: when the headings have not moved (rewording, a new run
    over the same data) that conversion is already the PDF copy, one LibreOffice pass
    instead of two. The .docx written is the same either way (the body's layout does not
    depend on the contents' numbers). When the report is then the previous one byte for
    byte and the previous PDF copy is there, both stand: no conversion at all."""
    started = time.perf_counter()
    soffice = find_soffice()
    if soffice is None:
        return LayoutResult({}, None, None, 0.0, message=_NOT_FOUND)
    conversions = 0
    original = docx.read_bytes()
    try:
        with tempfile.TemporaryDirectory(prefix="selfcheck-layout-") as tmp_name:
            tmp = Path(tmp_name)
            profile = tmp / "profile"
            data = original
            entries = toc_entries(data)
            numbers: dict[str, int] = {}
            final: Path | None = None
            if entries:
                guess = _previous_numbers(previous, entries)
                if guess:
                    data = fill_page_numbers(data, guess)
                    _replace(docx, data)
                if _unchanged(data, guess, entries, previous, pdf):
                    assert previous is not None
                    if pdf is not None:
                        _move(previous.with_suffix(".pdf"), pdf)
                    log.info("layout: the report is the previous one, byte for byte: reused")
                    return LayoutResult(guess, pdf, soffice, time.perf_counter() - started, 0)
                first = convert_to_pdf(docx, tmp / "pass1", soffice, profile=profile)
                conversions += 1
                numbers = printed_numbers(heading_pages(first, entries), entries)
                missing = [e.text for e in entries if e.bookmark not in numbers]
                if missing:
                    log.warning(
                        "layout: no page found for %d headings: %s", len(missing), missing[:3]
                    )
                if guess and numbers == guess:
                    final = first  # the previous report's numbers were right: done
                else:
                    data = fill_page_numbers(data, numbers)
                    _replace(docx, data)
            if pdf is not None:
                for attempt in range(3):
                    if final is not None:
                        break
                    final = convert_to_pdf(
                        docx, tmp / f"pass{conversions + 1}", soffice, profile=profile
                    )
                    conversions += 1
                    again = printed_numbers(heading_pages(final, entries), entries)
                    if not entries or again == numbers or attempt == 2:
                        break
                    log.info("layout: the filled-in contents moved the headings; filling again")
                    numbers, final = again, None
                    data = fill_page_numbers(data, numbers)
                    _replace(docx, data)
                assert final is not None
                _move(final, pdf)
    except ReportError as e:
        with contextlib.suppress(ReportError):
            _replace(docx, original)
        return LayoutResult(
            {}, None, soffice, time.perf_counter() - started, conversions,
            message=f"{e}；报告已生成，目录暂无页码（Word 中按 F9 更新），未生成 PDF 副本。",
        )  # fmt: skip
    return LayoutResult(numbers, pdf, soffice, time.perf_counter() - started, conversions)


def _unchanged(
    data: bytes,
    guess: Mapping[str, int],
    entries: Sequence[TocEntry],
    previous: Path | None,
    pdf: Path | None,
) -> bool:
    """The report is the previous one byte for byte once its numbers are in: the previous
    layout (and PDF copy, when one is wanted and there) stands, no conversion needed."""
    if previous is None or len(guess) != len(entries):
        return False
    if pdf is not None and not previous.with_suffix(".pdf").is_file():
        return False
    try:
        return previous.read_bytes() == data
    except OSError:
        return False


def _previous_numbers(previous: Path | None, entries: Sequence[TocEntry]) -> dict[str, int]:
    """The page numbers the previous report's contents show for the same entries (same
    bookmark, same heading); empty when there is none or it cannot be read."""
    if previous is None or not previous.is_file():
        return {}
    try:
        data = previous.read_bytes()
        old = {e.bookmark: e.text for e in toc_entries(data)}
        root = _document(data)
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return {}
    shown = _results(root)
    want = {e.bookmark for e in entries if old.get(e.bookmark) == e.text}
    return {b: int(n) for b, n in shown.items() if b in want and n.isdigit()}


def _results(root: etree._Element) -> dict[str, str]:
    """Bookmark → the cached result of its PAGEREF field."""
    out: dict[str, str] = {}
    for instr in root.iter(f"{W}instrText"):
        name = _pageref(instr.text or "")
        if name is None:
            continue
        run, text, on = instr.getparent().getnext(), "", False
        while run is not None and not _fld(run, "end"):
            if _fld(run, "separate"):
                on = True
            elif on:
                text += "".join(t.text or "" for t in run.iter(f"{W}t"))
            run = run.getnext()
        out[name] = text
    return out


def _replace(target: Path, data: bytes) -> None:
    from selfcheck.word.writer import atomic_write

    atomic_write(target, data)


def _move(source: Path, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as e:
        raise ReportError(
            f"无法写入 PDF 副本：{target}（{e.strerror or e}）(cannot write the PDF copy)"
        ) from None


def layout_report(
    docx: Path, *, mode: str = "libreoffice", pdf: bool = True, previous: Path | None = None
) -> LayoutResult:
    """The pass as a run asks for it (parameters ``layout`` and ``pdf``): the PDF copy goes
    beside ``docx`` with the same stem; ``previous``: the report this one replaces (see
    :func:`lay_out`). Logs one line when something was not done."""
    if mode == "off":
        result = LayoutResult(
            {}, None, None, 0.0,
            message="未排版（layout: off 或 --no-layout）：目录暂无页码，未生成 PDF 副本。"
            "(layout skipped: no page numbers in the contents, no PDF copy)",
        )  # fmt: skip
    else:
        result = lay_out(docx, pdf=docx.with_suffix(".pdf") if pdf else None, previous=previous)
    if result.message:
        log.warning("%s", result.message)
    else:
        log.info(
            "layout: %d contents page numbers by %s in %.1f s (%d conversions)",
            len(result.pages), result.soffice, result.seconds, result.conversions,
        )  # fmt: skip
    return result
