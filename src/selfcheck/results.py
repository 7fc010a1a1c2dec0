"""Saved section results as inputs of other sections, and their consistency.

The sections of phase 2 (summary, findings, measures, appendix) are built from the
saved results of other sections. :func:`read_inputs` hands them over only when each is
there, ``ok``, of the period, and not older than what it was itself built from; the
reading section records the digest of each (``SectionResult.inputs``), so
:func:`check_consistency` can tell, before a report is assembled, that a summary no
longer matches the sections beside it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from selfcheck.blocks import RUN_ENV, SECTION_FILE, SectionResult
from selfcheck.config import Config
from selfcheck.errors import SectionError
from selfcheck.sections import SECTIONS, SectionDef, get_section

# a saved result as last read in this process, with its figures' digest, by file: the
# readers of a run (and a re-run cell) read the same unchanged file once; a result saved
# again (written aside, then moved in place) has another stamp and is read anew
_loaded: dict[Path, tuple[tuple[int, int, int], SectionResult, str]] = {}


def load_result(folder: Path) -> tuple[SectionResult, str]:
    """The result saved in ``folder`` and its :meth:`~SectionResult.figures_digest`
    (unreadable: the :class:`ReportError` of :meth:`SectionResult.load`). The result is
    shared by the callers of this process: read it, do not change it."""
    path = folder / SECTION_FILE
    try:
        st = path.stat()
    except OSError:
        result = SectionResult.load(folder)  # names the missing or unreadable file
        return result, result.figures_digest()
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    hit = _loaded.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1], hit[2]
    result = SectionResult.load(folder)
    digest = result.figures_digest()
    _loaded[path] = (stamp, result, digest)
    return result, digest


def _name(s: SectionDef) -> str:
    return f"章节“{s.title}”（{s.id}）"


def default_inputs(reader: SectionDef) -> list[SectionDef]:
    """What a section reads unless it says otherwise: every section that runs before it."""
    return [s for s in SECTIONS if not s.after_all and s.id != reader.id]


@contextlib.contextmanager
def batch_environment() -> Iterator[None]:
    """Around the runner's execution of the notebooks: their kernels see ``SELFCHECK_RUN=1``
    (results marked ``papermill``; a failed section, which the run itself recorded and
    goes on past only with ``--allow-partial``, is named by the sections reading it)."""
    before = os.environ.get(RUN_ENV)
    os.environ[RUN_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(RUN_ENV, None)
        else:
            os.environ[RUN_ENV] = before


def read_inputs(
    config: Config,
    reader: SectionDef,
    section_ids: Sequence[str] | None = None,
    *,
    allow_failed: bool | None = None,
) -> list[SectionResult]:
    """The saved results ``reader`` is built from, in report order, or a
    :class:`SectionError` naming every one that is missing, failed or stale.

    A failed result is handed over (for the reader to name it) only in a batch run
    (``allow_failed`` defaults to ``SELFCHECK_RUN=1``): the runner goes on to the
    reading sections past a failure only when the report may be partial."""
    if allow_failed is None:
        allow_failed = os.environ.get(RUN_ENV) == "1"
    wanted = (
        default_inputs(reader)
        if section_ids is None
        else sorted((get_section(i) for i in section_ids), key=SECTIONS.index)
    )
    root = config.output_dir / "sections"
    results: list[SectionResult] = []
    problems: list[str] = []
    for s in wanted:
        folder = root / s.id
        if not (folder / SECTION_FILE).exists():
            problems.append(f"{_name(s)}没有本期结果（{folder / SECTION_FILE}）")
            continue
        r, _ = load_result(folder)  # unreadable: a ReportError naming the file
        if r.period != str(config.period):
            problems.append(f"{_name(s)}的结果属于 {r.period}，不是 {config.period}")
        elif r.status != "ok" and not allow_failed:
            problems.append(f"{_name(s)}运行失败：{r.error or '原因未记录'}")
        else:
            results.append(r)
    if not problems:
        problems = check_consistency(results, root=root)
    if problems:
        raise SectionError(
            f"{_name(reader)}读取其他章节的结果，但"
            + "；".join(problems)
            + "。请先运行这些章节的笔记本（或 selfcheck run …），再运行本节。"
            " (inputs of this section are missing, failed or stale)",
            section=reader.id,
        )
    return results


def check_consistency(
    results: Sequence[SectionResult], *, root=None, config: Config | None = None
) -> list[str]:
    """Each result that was built from other sections' results, and no longer matches
    them: one message each (an empty list when everything matches).

    A recorded input is compared with the result of that section among ``results``; one
    not among them is read from ``root`` (the ``sections`` folder; by default that of
    ``config``) when given, else reported as missing.
    """
    if root is None and config is not None:
        root = config.output_dir / "sections"
    by_id = {r.section_id: r for r in results}
    titles = {s.id: s.title for s in SECTIONS}
    digests: dict[str, str | None] = {}  # each section's digest computed once

    def digest_of(sid: str) -> str | None:
        if sid not in digests:
            current = by_id.get(sid)
            if current is not None:
                digests[sid] = current.figures_digest()
            elif root is not None and (root / sid / SECTION_FILE).exists():
                digests[sid] = load_result(root / sid)[1]
            else:
                digests[sid] = None
        return digests[sid]

    out: list[str] = []
    for r in results:
        if r.status != "ok" or not r.inputs:
            continue
        for sid, digest in sorted(r.inputs.items()):
            current = digest_of(sid)
            name = f"“{titles.get(sid, sid)}”（{sid}）"
            reader = f"章节“{r.title}”（{r.section_id}）"
            if current is None:
                out.append(f"{reader}读取的章节{name}没有结果")
            elif current != digest:
                out.append(
                    f"{reader}的结果比章节{name}的结果旧（{name}在其后重新生成），"
                    f"须重新运行 {get_section(r.section_id).notebook}"
                )
    return out
