"""Fork server: the heavy modules imported once, a fresh process forked per kernel.

Started by :class:`selfcheck.execution.kernels.KernelPool` as ``python -m selfcheck.execution.forkserver
FD``, FD being a UNIX socket the pool has already bound and put in listening state.
It imports :func:`preload_modules` (IPython, pandas, pyarrow, matplotlib, seaborn,
scipy, duckdb, the section modules) — while the runner validates the data — and only
then accepts requests, so an early request simply waits for the warm-up. What only
renderers need (nbconvert) is imported afterwards, in the first pause between requests:
on a run's first start the section kernels do not wait for it (the first HTML request
comes a second later); what only a forked run needs (the runner: shared servers) once
the run that started the server is over — it is for the next one.
It never runs notebook code itself: every kernel starts from the same state, modules
imported and nothing executed, and what a section does dies with its process.

Requests, one JSON line per connection (and file descriptors passed alongside):

* ``kernel`` (``argv``, ``cwd``, ``env``; the requester's stdout and stderr) forks a
  child that becomes the IPython kernel ``argv`` describes (``python -m
  ipykernel_launcher -f FILE ...``) in its own session, with ``cwd`` and exactly
  ``env``; it answers its pid once its ports are bound.
* ``html`` (``notebook``, ``output``) forks a child that renders the executed notebook
  with nbconvert and answers ``{"ok": true}`` or ``{"error": ...}`` when done.
* ``run`` (shared servers only: ``argv``, ``cwd``, ``env``, ``socket``; the requester's
  stdin, stdout and stderr) forks a child that is ``selfcheck ARGV`` — the command line
  and runner with nothing left to import — and answers its pid, then its exit code.
* ``hello`` (pid, modules that failed to preload, whether it is stale, counts, CPU of
  the reaped children) and ``stop``.

Its own server (a run's) exits when its standard input closes, killing any kernel
still running. A shared server (``--idle``) is detached, exits after so many idle
seconds, on ``stop``, or — once it has told a client it is stale, because a module it
imported has changed on disk — when its last child is done. Only requests from the
same user are taken. Import errors while preloading are not fatal: the module is left
for the kernel to import (and to report in the notebook).

``SELFCHECK_POOL_LOG=FILE`` (in the environment the server starts with) appends a line
per reaped child: its kind, user and system CPU seconds, and the time it was reaped.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import selectors
import signal
import socket
import sys
import time
import traceback
from collections.abc import Iterable

from selfcheck.execution.slowimports import block_slow_imports

PRELOAD_BASE = (
    # what IPKernelApp.initialize imports (the debugger pulls in debugpy: 0.07 s a kernel)
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython",
    "IPython.display",
    "IPython.extensions",
    "sqlite3",
    "tornado.locks",
    "tornado.queues",
    # what the sections import
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.compute",
    "pyarrow.csv",
    "pyarrow.parquet",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
    "scipy.stats",
    "duckdb",
    "selfcheck.section",
    "selfcheck.sections.common",
)
HTML_MODULES = ("nbconvert",)


RUNNER_MODULES = (
    "selfcheck.cli",
    "selfcheck.execution.runner",
    "selfcheck.execution.engine",
    "selfcheck.quality",
)


def preload_modules() -> list[str]:
    """Everything a section kernel imports anyway, the registered section modules included:
    imported before the server takes its first request."""
    from selfcheck.sections import SECTIONS

    return [*PRELOAD_BASE, *(f"selfcheck.sections.{s.id}" for s in SECTIONS)]


def deferred_modules(*, runner: bool = False) -> tuple[list[str], list[str]]:
    """What the HTML renderers import — imported once the server is serving, when no
    request is waiting — and, for a shared server, what the runner imports (it forks runs
    too) — imported when, besides, no child is left: after the run that started it."""
    return list(HTML_MODULES), list(RUNNER_MODULES if runner else ())


def freeze() -> None:
    """What is imported stays: keep the collector of every fork off it (fewer pages copied)."""
    gc.collect()
    gc.freeze()


def _preload(names: Iterable[str]) -> dict[str, str]:
    import importlib

    names = list(names)
    failed = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as e:  # the kernel will import it again and show the error
            failed[name] = f"{type(e).__name__}: {e}"
    if "nbconvert" in names and "nbconvert" in sys.modules:
        _warm_nbconvert()
    return failed


_exporter = None  # the warm HTML exporter the renderers inherit: its templates are compiled


def _html_exporter():
    global _exporter
    if _exporter is None:
        from nbconvert import HTMLExporter

        _exporter = HTMLExporter()
    return _exporter


def _warm_nbconvert() -> None:
    """Render one tiny notebook, so the forked renderers find the templates compiled (a new
    exporter compiles them again: half the time of rendering a section's notebook)."""
    try:
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_markdown_cell("# warm"))
        nb.cells.append(nbformat.v4.new_code_cell("1"))
        _html_exporter().from_notebook_node(nb)
    except Exception:
        pass


class Server:
    """The accept loop. ``owned``: stops when its standard input closes (the run is over).
    Shared: stops after ``idle`` seconds without a request and with no child left, or once
    it has reported itself stale (a module it imported changed on disk) and its children
    are done."""

    def __init__(self, listener_fd: int, *, idle: float | None = None, path: str | None = None):
        self.listener = socket.socket(fileno=listener_fd)  # bound and listening (by the pool)
        self.idle, self.path = idle, path
        self.path_id = _file_id(path) if path else None
        self.children: dict[int, str] = {}  # pid → "kernel" | "html" | "run", until reaped
        self.failed: dict[str, str] = {}
        self.children_cpu = 0.0  # user + system seconds of the reaped children
        self.kernels = self.runs = 0
        self.stopping = False
        self.last_request = time.monotonic()
        self._sources: list[tuple[str, tuple[int, int] | None]] = []
        self._selector: selectors.BaseSelector | None = None
        # modules to import in the first pause between requests; and once no child is left
        self.deferred: list[str] = []
        self.deferred_idle: list[str] = []
        self.cpu_log = os.environ.get("SELFCHECK_POOL_LOG")

    def snapshot_sources(self) -> None:
        """Remember every imported module's file, to tell later whether one has changed."""
        files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
        self._sources = [(f, _file_stamp(f)) for f in sorted(f for f in files if f)]

    def stale(self) -> bool:
        return any(_file_stamp(f) != stamp for f, stamp in self._sources)

    # -- main loop ----------------------------------------------------------------------
    def serve(self) -> None:
        sel = self._selector = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ, "accept")
        if self.idle is None:
            sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
        try:
            while True:
                pending = self.deferred or self.deferred_idle
                events = sel.select(timeout=0.05 if pending else 0.2)
                if not events and self.deferred:
                    self._import_deferred()
                elif not events and self.deferred_idle and not self.children:
                    self._import_deferred(idle=True)
                for key, _ in events:
                    if key.data == "stdin":
                        if not os.read(sys.stdin.fileno(), 4096):
                            return  # the run is over (or its process died): stop
                    elif not self.stopping:
                        conn, _ = self.listener.accept()
                        self.last_request = time.monotonic()
                        self._handle(conn)
                self._reap()
                idle = time.monotonic() - self.last_request > (self.idle or 0)
                if self.idle is not None and not self.children and (self.stopping or idle):
                    return
        finally:
            self._shutdown()

    def _handle(self, conn: socket.socket) -> None:
        try:
            if _peer_uid(conn) not in (os.getuid(), None):
                raise PermissionError("requests are taken from this user only")
            request, fds = _read_request(conn)
            op = request.get("op")
            if op == "hello":
                stale = self.idle is not None and self.stale()
                if stale:  # finish what runs, take nothing new; the client starts a new server
                    self._stop_listening()
                _reply(
                    conn,
                    {
                        "pid": os.getpid(),
                        "failed": self.failed,
                        "stale": stale,
                        "kernels": self.kernels,
                        "runs": self.runs,
                        "children_cpu": round(self.children_cpu, 3),
                    },
                )
            elif op == "stop":
                self._stop_listening()
                _reply(conn, {"ok": True})
            elif op in ("kernel", "html") or (op == "run" and self.idle is not None):
                if op != "kernel" and self.deferred:
                    self._import_deferred()  # what a renderer or a run needs, once, here
                if op == "run" and self.deferred_idle:
                    self._import_deferred(idle=True)
                pid = os.fork()
                if pid == 0:
                    self._child(op, request, conn, fds)  # never returns
                self.children[pid] = op
                if op == "kernel":  # the kernel answers itself, once its ports are bound
                    self.kernels += 1
                elif op == "run":
                    self.runs += 1
            else:
                _reply(conn, {"error": f"unknown op {op!r}"})
            for fd in fds:
                os.close(fd)
        except Exception as e:
            with contextlib.suppress(OSError):
                _reply(conn, {"error": f"{type(e).__name__}: {e}"})
        finally:
            conn.close()

    def _import_deferred(self, *, idle: bool = False) -> None:
        if idle:
            names, self.deferred_idle = self.deferred_idle, []
        else:
            names, self.deferred = self.deferred, []
        self.failed |= _preload(names)
        if self.idle is not None:
            self.snapshot_sources()  # what is imported now
        freeze()

    def _stop_listening(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        if self.path and self.path_id is not None and _file_id(self.path) == self.path_id:
            with contextlib.suppress(OSError):
                os.unlink(self.path)  # still ours: nobody else may find this server again
        if self._selector is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self.listener)
        self.listener.close()  # a request still queued gets an error (and starts cold)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, _, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            op = self.children.pop(pid, None)
            self.children_cpu += usage.ru_utime + usage.ru_stime
            if self.cpu_log:  # SELFCHECK_POOL_LOG: what each child cost, for benchmarks
                with contextlib.suppress(OSError), open(self.cpu_log, "a") as f:
                    f.write(
                        f"{op}\t{usage.ru_utime:.3f}\t{usage.ru_stime:.3f}\t{time.time():.3f}\n"
                    )

    def _shutdown(self) -> None:
        for pid, kind in list(self.children.items()):
            try:  # not reaped yet, so the pid (and a kernel's group) is still ours
                if kind == "kernel":
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        self._stop_listening()

    # -- in the forked child ------------------------------------------------------------
    def _child(self, op: str, request: dict, conn: socket.socket, fds: list[int]) -> None:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self.listener.close()
            if self._selector is not None:
                self._selector.close()
            _reseed()
            if op == "kernel":
                for target, fd in zip((1, 2), fds, strict=False):  # the requester's stdout, stderr
                    os.dup2(fd, target)
                for fd in fds:
                    os.close(fd)
                code = _run_kernel(request, conn)
            elif op == "run":
                code = _run_cli(request, conn, fds)
            else:
                code = _render(request, conn)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def _run_kernel(request: dict, conn: socket.socket) -> int:
    """Become the kernel: what ``python -m ipykernel_launcher ARGS`` does in a new process.

    The pid goes back over ``conn`` once the kernel's ports are bound, so the client's
    first connection succeeds at once instead of retrying (zmq waits 0.1 s and more)."""
    import atexit
    import importlib.util

    os.setsid()  # its own process group, as jupyter_client starts kernels
    _die_with(_peer_pid(conn))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.chdir(request["cwd"])
    env = dict(request["env"])
    env["JPY_PARENT_PID"] = str(os.getppid())  # the kernel exits if the server goes away
    os.environ.clear()
    os.environ.update(env)
    argv = request["argv"]
    spec = importlib.util.find_spec("ipykernel_launcher")
    sys.argv = [spec.origin if spec and spec.origin else "ipykernel_launcher", *argv[3:]]
    from ipykernel import kernelapp

    code = 0
    try:
        # ipykernel read JPY_PARENT_PID when the server imported it; the kernel's parent is
        # the server, and it watches it as a cold kernel watches the process that started it
        app = kernelapp.IPKernelApp.instance(parent_handle=os.getppid())
        app.initialize()
        _reply(conn, {"pid": os.getpid()})
        conn.close()
        app.start()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    atexit._run_exitfuncs()  # what the interpreter would do at exit (history, logging)
    return code


def _run_cli(request: dict, conn: socket.socket, fds: list[int]) -> int:
    """Become ``selfcheck ARGV`` as typed in the requester's terminal: its stdin, stdout,
    stderr, working directory and environment; the exit code goes back over ``conn``."""
    import atexit

    for target, fd in zip((0, 1, 2), fds, strict=False):
        os.dup2(fd, target)
    for fd in fds:
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    _reopen_std_streams()
    _reply(conn, {"pid": os.getpid()})
    finished = _watch_requester(conn)
    from selfcheck import cli
    from selfcheck.execution import kernels

    kernels.IN_SERVER = request["socket"]
    sys.argv = ["selfcheck", *request["argv"]]
    code = 1
    try:
        code = cli.main(list(request["argv"]))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        code = 130
    finally:
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        finished.set()
        with contextlib.suppress(OSError):
            _reply(conn, {"exit": code})
    return code


def _reopen_std_streams() -> None:
    """Text streams over the new fds 0–2, buffered as Python buffers them for this terminal."""
    import io

    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    for name, fd in (("stdin", 0), ("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        encoding = getattr(old, "encoding", None) or "utf-8"
        errors = getattr(old, "errors", None) or "strict"
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        if fd == 0:
            setattr(sys, name, io.TextIOWrapper(io.BufferedReader(raw), encoding, errors))
            continue
        line = unbuffered or fd == 2 or os.isatty(fd)
        buffered = io.BufferedWriter(raw)
        setattr(
            sys,
            name,
            io.TextIOWrapper(
                buffered, encoding, errors, line_buffering=line, write_through=unbuffered
            ),
        )


def _watch_requester(conn: socket.socket):
    """Interrupt the run when the command that asked for it goes away (killed, closed)."""
    import threading

    finished = threading.Event()

    def watch() -> None:
        with contextlib.suppress(OSError, ValueError):
            while conn.recv(1):
                pass
        if not finished.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="requester", daemon=True).start()
    return finished


def _peer_creds(conn: socket.socket) -> tuple[int, int] | None:
    """(pid, uid) of the process at the other end of a UNIX socket (Linux)."""
    import struct

    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return None
    pid, uid, _ = struct.unpack("3i", creds)
    return pid, uid


def _peer_uid(conn: socket.socket) -> int | None:
    creds = _peer_creds(conn)
    return None if creds is None else creds[1]


def _peer_pid(conn: socket.socket) -> int | None:
    creds = _peer_creds(conn)
    return None if creds is None or creds[0] <= 0 else creds[0]


def _die_with(pid: int | None) -> None:
    """End this kernel when the process that asked for it ends, as a spawned kernel ends with
    the runner that started it: a run that dies (killed, interrupted mid-section) leaves no
    kernel behind — nor, through it, a shared server that never goes idle."""
    import threading

    if pid is None:
        return

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(1)
        os.killpg(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="requester-watch", daemon=True).start()


def _render(request: dict, conn: socket.socket) -> int:
    try:
        body, _ = _html_exporter().from_filename(request["notebook"])
        output = request["output"]
        tmp = f"{output}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(tmp, output)
    except Exception as e:
        _reply(conn, {"error": f"{type(e).__name__}: {e}"})
        return 1
    _reply(conn, {"ok": True})
    return 0


def _reseed() -> None:
    """A forked child must not share its random state with its siblings (``random`` reseeds
    itself at fork; numpy's global generator does not)."""
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed()


def _read_request(conn: socket.socket) -> tuple[dict, list[int]]:
    """One JSON line, and the file descriptors that came with its first bytes."""
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
    chunks = [data]
    while data and not data.endswith(b"\n"):
        data = conn.recv(1 << 16)
        chunks.append(data)
    return json.loads(b"".join(chunks)), list(fds)


def _file_stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _reply(conn: socket.socket, payload: dict) -> None:
    conn.sendall(json.dumps(payload).encode("utf-8") + b"\n")


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m selfcheck.execution.forkserver")
    p.add_argument("fd", type=int, help="a UNIX socket, bound and listening")
    p.add_argument("--idle", type=float, default=None, help="shared: stop after so many idle s")
    p.add_argument("--path", default=None, help="shared: the socket's path (unlinked on exit)")
    args = p.parse_args(argv)
    if args.idle is not None and os.fork() > 0:
        os._exit(0)  # shared: detached from the process that started it (init reaps it)
    # Not the folder the server was started from: kernels add their own cwd, as usual
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle
    server = Server(args.fd, idle=args.idle, path=args.path)
    block_slow_imports()
    server.failed = _preload(preload_modules())
    server.deferred, server.deferred_idle = deferred_modules(runner=args.idle is not None)
    freeze()
    server.serve()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # no interpreter teardown: nothing to save, and with everything imported (and frozen
    # out of the collector) it is slow and has extension modules complain about leaks
    os._exit(code)
