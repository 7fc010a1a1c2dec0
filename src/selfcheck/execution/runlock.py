"""One run at a time per output folder, and the marker of a run that did not finish.

A run (and ``validate``) holds ``<output folder>/.selfcheck.lock`` (an OS file lock
through :mod:`filelock`: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) for
as long as it writes there. The operating system drops the lock when its process
ends, however it ends, so the lock of a killed run is taken over by the next one; the
holder's pid, host, start time and command are kept beside it (``.selfcheck-owner.json``)
to name it to a second run, which stops at once (or, with ``wait``, waits its turn).

While a run is in progress the folder holds ``运行未完成.txt``: the report there is
still the previous run's, the section results beside it are from the run in progress
(or from one that failed or was killed). The successful end of a run removes it;
the next run finds one left by a dead run and says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from selfcheck.errors import OutputError, RunLockedError

LOCK_FILE = ".selfcheck.lock"
OWNER_FILE = ".selfcheck-owner.json"
MARKER_FILE = "运行未完成.txt"
WAIT_POLL = 0.5


def now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def command_line() -> str:
    argv = list(sys.argv)
    if argv and argv[0].endswith(("__main__.py", "selfcheck")):
        argv[0] = "selfcheck"
    return " ".join(argv)


def make_output_dir(folder: Path) -> Path:
    """``folder`` created (with its parents), or :class:`OutputError` saying why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(folder))
    except OSError as e:
        raise OutputError(
            f"无法创建输出目录：{folder}（{_reason(e)}）。"
            "请检查参数文件中的 output_dir：路径上可能已有同名文件、位置只读或没有写入权限；"
            "改用可写的目录，或移走挡路的文件后重试。"
            f"(cannot create the output folder {folder}: {e.strerror or e})"
        ) from None
    return folder


def _reason(e: OSError) -> str:
    if isinstance(e, (FileExistsError, NotADirectoryError)):
        return "路径上已有同名文件"
    if isinstance(e, PermissionError):
        return "没有写入权限"
    if getattr(e, "errno", None) == 30:  # EROFS
        return "位置只读"
    return e.strerror or str(e)


@contextlib.contextmanager
def output_lock(
    folder: Path,
    *,
    what: str = "run",
    wait: bool = False,
    echo: Callable[[str], None] = print,
) -> Iterator[dict]:
    """Hold the output folder's lock; yields the holder record written beside it."""
    from filelock import FileLock, Timeout

    make_output_dir(folder)
    lock = FileLock(str(folder / LOCK_FILE))
    owner_path = folder / OWNER_FILE
    told = False
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except Timeout:
            other = _read_owner(owner_path)
            if not wait:
                raise RunLockedError(
                    f"输出目录 {folder} 正被另一个运行占用：{_describe(other)}。"
                    "请等它结束后再运行，或加 --wait 排队等待；"
                    "两次运行同时写同一个目录会互相删除对方的章节结果。"
                    f"(the output folder is locked by another run: {_describe_en(other)})"
                ) from None
            if not told:
                echo(f"输出目录 {folder} 正被另一个运行占用（{_describe(other)}），等待其结束……")
                told = True
            time.sleep(WAIT_POLL)
        except OSError as e:
            raise OutputError(
                f"无法在输出目录中建立运行锁：{folder / LOCK_FILE}（{_reason(e)}）。"
                "请确认该目录可写。(cannot create the lock file)"
            ) from None
    owner = {
        "what": what,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": now(),
        "command": command_line(),
    }
    try:
        _write_atomic(owner_path, json.dumps(owner, ensure_ascii=False, indent=1))
        yield owner
    finally:
        with contextlib.suppress(OSError):
            owner_path.unlink(missing_ok=True)
        lock.release()


def _read_owner(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _describe(owner: dict | None) -> str:
    if not owner:
        return "进程信息不详"
    kind = "校验" if owner.get("what") == "validate" else "运行"
    return (
        f"{kind}进程 {owner.get('pid')}，主机 {owner.get('host')}，"
        f"开始于 {owner.get('started_at')}，命令 {owner.get('command')}"
    )


def _describe_en(owner: dict | None) -> str:
    if not owner:
        return "holder unknown"
    return (
        f"pid {owner.get('pid')} on {owner.get('host')}, started {owner.get('started_at')}, "
        f"command {owner.get('command')}"
    )


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- the marker of an unfinished run ------------------------------------------------------
def leftover_marker(folder: Path) -> str | None:
    """The note a run that did not finish left in ``folder`` (read by the next run, which
    holds the lock: whoever wrote it is no longer running)."""
    try:
        return (folder / MARKER_FILE).read_text(encoding="utf-8")
    except OSError:
        return None


def marker_summary(text: str) -> str:
    """The marker's start and status lines, for the next run's first message."""
    keep = [
        line.split("：", 1)[1].strip()
        for line in text.splitlines()
        if line.startswith(("运行开始：", "状态："))
    ]
    return "；".join(keep) or "详情见该文件"


def write_marker(
    folder: Path,
    owner: dict,
    *,
    report: Path,
    report_from: str | None,
    status: str = "运行中（或已被中断）",
) -> None:
    if report.exists():
        old = (
            f"本目录中的报告 {report.name} 来自 {report_from or '更早'} 的运行，"
            "不包含这次运行的结果。"
        )
        old_en = f"The report {report.name} here is from the run of {report_from or 'earlier'}."
    else:
        old = "本目录中还没有报告。"
        old_en = "There is no report here yet."
    text = "\n".join(
        [
            "本目录中的运行没有完成（正在运行、已失败或被中断）。",
            f"运行开始：{owner['started_at']}（进程 {owner['pid']}，主机 {owner['host']}）",
            f"命令：{owner['command']}",
            f"状态：{status}",
            old,
            "sections/、notebooks/ 与 data_quality.json 中的结果来自这次未完成的运行，"
            "与报告不一致。请重新运行；运行成功结束后本文件会自动删除。",
            "",
            f"(The run started {owner['started_at']} did not finish. {old_en} "
            "The section results beside it are from the unfinished run; run again. "
            "This file is removed when a run ends successfully.)",
            "",
        ]
    )
    _write_atomic(folder / MARKER_FILE, text)


def remove_marker(folder: Path) -> None:
    (folder / MARKER_FILE).unlink(missing_ok=True)
