"""Which notebook cell is running, and the notebook file a kernel belongs to."""

from __future__ import annotations

import json
import os
import weakref
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selfcheck.errors import SectionError

if TYPE_CHECKING:
    from selfcheck.section import Section


# -- which cell is running ----------------------------------------------------------------
class _CellTracker:
    """The key of the code being run: in an IPython kernel the notebook cell's id
    (``cellId`` in the execute request's metadata, as JupyterLab and nbclient send it, or
    ``ExecutionInfo.cell_id``); without one, each execution (outside IPython, each call)
    is a key of its own."""

    def __init__(self) -> None:
        self._calls = count(1)
        self._runs = count(1)
        self._shell: Any = None
        self._info: tuple[str, object, str | None] | None = None
        self.deleted: set[str] = set()
        self._sections: weakref.WeakSet[Section] = weakref.WeakSet()

    def watch(self, section: Section) -> None:
        self._sections.add(section)
        shell = _shell()
        if shell is not None and shell is not self._shell:
            shell.events.register("pre_run_cell", self._pre_run_cell)
            self._shell = shell
            self._info = self._from_request(shell, None)  # the cell running right now

    def _pre_run_cell(self, info: Any = None) -> None:
        self._info = self._from_request(self._shell, info)
        key, run, code = self._info
        for section in list(self._sections):
            section._cell_started(key, run, code)

    def _from_request(self, shell: Any, info: Any) -> tuple[str, object, str | None]:
        metadata: dict = {}
        msg_id = None
        kernel = getattr(shell, "kernel", None)
        if kernel is not None:
            try:
                parent = kernel.get_parent("shell")
            except TypeError:
                parent = kernel.get_parent()
            except AttributeError:
                parent = getattr(kernel, "_parent_header", {}) or {}
            metadata = parent.get("metadata") or {}
            msg_id = (parent.get("header") or {}).get("msg_id")
        cell_id = getattr(info, "cell_id", None) or metadata.get("cellId")
        cell_id = cell_id or metadata.get("cell_id")
        deleted = metadata.get("deletedCells") or []
        if isinstance(deleted, list):
            self.deleted.update(str(d) for d in deleted)
        run = msg_id or f"run-{next(self._runs)}"
        code = getattr(info, "raw_cell", None)
        if cell_id:
            return f"cell:{cell_id}", run, code
        return f"run:{run}", run, code

    def current(self) -> tuple[str, object, str | None]:
        if _shell() is None:
            n = next(self._calls)
            return f"call:{n}", n, None
        if self._info is None:
            self._info = self._from_request(_shell(), None)
        return self._info


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


_cells = _CellTracker()


def _notebook_path() -> Path | None:
    """The notebook this kernel belongs to, as JupyterLab tells the kernel (``__session__``
    in the user namespace, or ``JPY_SESSION_NAME``); ``None`` when it does not."""
    shell = _shell()
    names = []
    if shell is not None:
        names.append(shell.user_ns.get("__session__"))
    names.append(os.environ.get("JPY_SESSION_NAME"))
    for name in names:
        if not name or not isinstance(name, str) or not name.endswith(".ipynb"):
            continue
        path = Path(name)
        for candidate in (path, Path.cwd() / path, Path.cwd() / path.name):
            if candidate.is_file():
                return candidate
    return None


def _notebook_cells(path: Path) -> list[tuple[str, str]]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return [
            (str(c["id"]), "".join(c.get("source", "")))
            for c in nb.get("cells", [])
            if c.get("cell_type") == "code" and "id" in c
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise SectionError(
            f"无法读取笔记本 {path}（{e}），本节结果未保存 (cannot read notebook)"
        ) from None


def _norm(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


def _first_line(code: str | None) -> str:
    lines = [line for line in (code or "").strip().splitlines() if line.strip()]
    return f"“{lines[0][:40]}”" if lines else "（空单元）"
