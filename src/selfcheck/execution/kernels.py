"""Where section kernels come from: their environment, and the warm pool.

This module imports nothing heavy, so the command line can start the pool first
thing — its fork server then imports pandas, matplotlib & co. while this process
imports the runner and validates the data. :mod:`selfcheck.execution.engine` plugs the pool
into jupyter_client and Papermill; :mod:`selfcheck.execution.forkserver` is the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from selfcheck.errors import ParamsError

IN_SERVER: str | None = None  # in a run forked by a shared server: that server's socket
START_TIMEOUT = 120  # seconds to wait for the server's warm-up (imports) before giving up
IDLE_SECONDS = 900  # a shared server stops after this long without a request (SELFCHECK_POOL_IDLE)
# the variables that can shape what the server imports (or what its modules read once, at
# import): they tell shared servers apart. Anything else — make's MAKEFLAGS, a terminal's
# TERM, PATH — does not: the kernels and runs it forks get the requester's own environment.
# XDG_RUNTIME_DIR too: where it is too long for a socket path the socket falls back to
# the temporary folder, which must not hand such a client another setting's server
KEY_ENV = ("HOME", "TZ", "LANG", "TMPDIR", "VIRTUAL_ENV", "CONDA_PREFIX", "XDG_RUNTIME_DIR")
KEY_ENV_PREFIXES = (
    "PYTHON", "LD_", "DYLD_", "JUPYTER", "IPYTHON", "MPL", "MATPLOTLIB", "ARROW_", "OMP_",
    "OPENBLAS", "MKL_", "NUMEXPR", "LC_", "XDG_CONFIG", "XDG_DATA", "XDG_CACHE", "SELFCHECK_",
    "PYDEVD",
)  # fmt: skip
# SELFCHECK_RUN marks the kernels of a run (their results say origin papermill), set by
# the runner after it has found its server: it shapes no import
NOT_KEY_PREFIXES = ("SELFCHECK_POOL", "SELFCHECK_RUN")
ENGINES = ("selfcheck", "papermill")  # warm forked kernels | Papermill's engine, cold kernels


def kernel_environment() -> None:
    """Make notebook kernels resolve inside this environment, with no manual registration.

    The ``python3`` kernelspec that ipykernel installs into this environment
    (``sys.prefix/share/jupyter``) is put first on ``JUPYTER_PATH``, so a user-level
    kernel of the same name elsewhere cannot take over; jupyter_client starts it
    with this interpreter (``sys.executable``). Call it before starting a
    :class:`KernelPool`: the pool's server imports with the environment it is given.
    """
    env_share = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if env_share not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([env_share, *paths])
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def resolve_engine(engine: str | None = None) -> str:
    """``selfcheck`` (warm forked kernels) where the platform can fork, else ``papermill``.

    ``engine`` wins over ``SELFCHECK_ENGINE``; the default is ``selfcheck``.
    """
    name = engine or os.environ.get("SELFCHECK_ENGINE") or "selfcheck"
    if name not in ENGINES:
        raise ParamsError(f"未知的执行引擎 {name!r}（可选：{'、'.join(ENGINES)}）")
    if name == "selfcheck" and not fork_available():
        return "papermill"
    return name


def warm_pool(
    engine: str | None = None, *, shared: bool = False, cwd: str | Path | None = None
) -> AbstractContextManager[KernelPool | None]:
    """The kernel pool of a run, or None for cold kernels (``engine="papermill"``).

    ``shared``: use (or start) the user's server that stays warm between runs for
    ``SELFCHECK_POOL_IDLE`` seconds (default 900; 0 turns sharing off); otherwise the
    run starts its own server and stops it at the end.
    """
    kernel_environment()
    if resolve_engine(engine) != "selfcheck":
        return nullcontext(None)
    if shared and idle_seconds() > 0:
        return _SharedOrOwn(cwd)
    return KernelPool(cwd=cwd)


class _SharedOrOwn(AbstractContextManager):
    """The shared server; the run's own when that cannot be had (the run never fails for it)."""

    def __init__(self, cwd: str | Path | None) -> None:
        self.cwd, self.pool = cwd, None

    def __enter__(self) -> KernelPool:
        try:
            self.pool = KernelPool(shared=True, cwd=self.cwd).start()
        except (OSError, PoolError):
            self.pool = KernelPool(cwd=self.cwd).start()
        return self.pool

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.close()


def idle_seconds() -> float:
    try:
        return float(os.environ.get("SELFCHECK_POOL_IDLE", IDLE_SECONDS))
    except ValueError:
        return IDLE_SECONDS


def fork_available() -> bool:
    return hasattr(os, "fork") and hasattr(socket, "send_fds") and sys.platform != "win32"


class PoolError(RuntimeError):
    """The fork server could not be started or did not answer."""


class KernelPool:
    """A fork server: warm kernels on request, HTML rendering on the side.

    Its own (``shared=False``): started by :meth:`start` (which returns at once; the
    server imports in the background and the first request waits for that) and
    stopped, with any kernel still running, by :meth:`close`.

    Shared (``shared=True``): the server of this user, interpreter, package and
    environment, found through a socket in a private runtime folder, or started
    detached when there is none or it reports itself stale (a module it imported has
    changed on disk since). It outlives the run and stops after ``SELFCHECK_POOL_IDLE``
    idle seconds; :meth:`close` only lets go of it.
    """

    def __init__(self, *, shared: bool = False, cwd: str | Path | None = None) -> None:
        self.shared = shared
        self.cwd = str(cwd) if cwd is not None else None
        self.socket_path: str | None = None
        self._dir: str | None = None
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.kernels_started = 0
        self.server_pid: int | None = None
        self.reused = False  # shared server found warm

    @property
    def running(self) -> bool:
        if self.shared:
            return self.socket_path is not None
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> KernelPool:
        if self.socket_path is not None:
            return self
        if self.shared:
            return self._attach()
        self._dir = tempfile.mkdtemp(prefix="selfcheck-pool-")
        self.socket_path = os.path.join(self._dir, "fork.sock")
        self._proc = self._spawn(self.socket_path, owned=True)
        self.server_pid = self._proc.pid
        return self

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()  # the server stops (and kills stray kernels) on EOF
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self.socket_path = None

    def __enter__(self) -> KernelPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, path: str, *, owned: bool, log: str | None = None) -> subprocess.Popen:
        # bound and listening here, so requests queue up until the server has warmed up
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(path)
            listener.listen(64)
            args = [sys.executable, "-m", "selfcheck.execution.forkserver", str(listener.fileno())]
            if owned:
                # the same interpreter and environment a cold kernel gets: it imports the same
                return subprocess.Popen(
                    args, stdin=subprocess.PIPE, cwd=self.cwd, pass_fds=(listener.fileno(),)
                )
            assert log is not None
            with open(log, "ab") as out:
                proc = subprocess.Popen(
                    [*args, "--idle", str(idle_seconds()), "--path", path],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    cwd=self.cwd,
                    pass_fds=(listener.fileno(),),
                    start_new_session=True,  # not in the terminal's group: Ctrl-C is the run's
                )
            proc.wait()  # it forks the server off and exits at once
            return proc
        finally:
            listener.close()

    def _attach(self) -> KernelPool:
        if IN_SERVER is not None:  # a run forked by the server: its kernels come from there
            self.socket_path = IN_SERVER
            with contextlib.suppress(PoolError):
                self.server_pid, self.reused = int(self.ping(timeout=10)["pid"]), True
                return self
            self.socket_path = None
        folder = runtime_dir()
        key = server_key()
        path = str(folder / f"pool-{key}.sock")
        log = folder / f"pool-{key}.log"  # the server's output, and the lock of this key
        with open(log, "a+b") as lock:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)  # one client at a time decides to start a server
            self.socket_path = path
            if os.path.exists(path):
                try:
                    hello = self._request({"op": "hello"}, connect_only=True)
                    if not hello.get("stale"):
                        self.server_pid, self.reused = int(hello["pid"]), True
                        return self
                except PoolError:
                    pass
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)  # a stale or dead server's: it keeps serving its own kernels
            self._spawn(path, owned=False, log=str(log))
        return self

    # -- requests -------------------------------------------------------------------------
    def _request(
        self,
        payload: dict,
        timeout: float | None = START_TIMEOUT,
        *,
        fds: tuple[int, ...] = (),
        connect_only: bool = False,
    ) -> dict:
        if not self.running:
            raise PoolError("fork server is not running")
        assert self.socket_path is not None
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.settimeout(2 if connect_only else timeout)
            conn.connect(self.socket_path)
            conn.settimeout(timeout)
            data = json.dumps(payload).encode("utf-8") + b"\n"
            if fds:
                sent = socket.send_fds(conn, [data], list(fds))
                conn.sendall(data[sent:])
            else:
                conn.sendall(data)
            chunks = []
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    break
        except OSError as e:
            raise PoolError(f"fork server: {e}") from None
        finally:
            conn.close()
        if not chunks:
            raise PoolError("fork server closed the connection without answering")
        reply = json.loads(b"".join(chunks))
        if "error" in reply:
            raise PoolError(reply["error"])
        return reply

    def ping(self, timeout: float | None = START_TIMEOUT) -> dict:
        """Waits for the warm-up. The reply has the server's pid, the modules that failed to
        preload, and the CPU seconds of the kernels and renderers it has reaped."""
        return self._request({"op": "hello"}, timeout)

    def can_fork(self, argv: list[str]) -> bool:
        """Only this interpreter's ``-m ipykernel_launcher`` is forked; anything else is spawned."""
        if not self.running or len(argv) < 3 or argv[1:3] != ["-m", "ipykernel_launcher"]:
            return False
        try:
            return os.path.samefile(argv[0], sys.executable)
        except OSError:
            return False

    def fork_kernel(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """A new kernel process; its stdout and stderr are ours, as a spawned kernel's would be."""
        fds = tuple(fd for fd in (1, 2) if _is_open(fd))
        reply = self._request(
            {"op": "kernel", "argv": argv, "cwd": cwd, "env": env, "fds": len(fds)}, fds=fds
        )
        with self._lock:
            self.kernels_started += 1
        return int(reply["pid"])

    def render_html(self, notebook: Path, output: Path) -> Path:
        self._request({"op": "html", "notebook": str(notebook), "output": str(output)}, None)
        return output


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def runtime_dir() -> Path:
    """A folder only this user can enter (the shared server's socket lives there)."""
    bases = [b for b in (os.environ.get("XDG_RUNTIME_DIR"), tempfile.gettempdir()) if b]
    # a UNIX socket's path must stay under ~108 bytes
    fits = [b for b in bases if len(os.path.join(b, "selfcheck-65535", "pool-x.sock")) + 15 < 100]
    if not fits:
        raise PoolError("no runtime folder with a path short enough for a socket")
    folder = Path(fits[0]) / f"selfcheck-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    st = folder.stat()
    if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o077:
        raise PoolError(f"{folder} is not private to this user; not using a shared kernel pool")
    return folder


def server_key() -> str:
    """One shared server per interpreter, package location and the environment variables
    that shape its imports (:data:`KEY_ENV`, :data:`KEY_ENV_PREFIXES`; as the kernels get
    them: after :func:`kernel_environment`). ``sys.path`` follows from these."""
    from selfcheck import __version__

    env = {
        k: v
        for k, v in os.environ.items()
        if (k in KEY_ENV or k.startswith(KEY_ENV_PREFIXES)) and not k.startswith(NOT_KEY_PREFIXES)
    }
    text = json.dumps(
        [sys.executable, sys.prefix, sys.version, __version__, __file__, env],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _shared_handle() -> KernelPool | None:
    kernel_environment()
    try:
        path = runtime_dir() / f"pool-{server_key()}.sock"
    except PoolError:
        return None
    if not path.exists():
        return None
    pool = KernelPool(shared=True)
    pool.socket_path = str(path)
    return pool


def shared_status() -> dict | None:
    """This environment's shared server: pid, kernels and runs forked, socket; None if none."""
    pool = _shared_handle()
    if pool is None:
        return None
    try:
        return pool._request({"op": "hello"}, connect_only=True) | {"socket": pool.socket_path}
    except PoolError:
        return None


def start_shared() -> KernelPool | None:
    """Find this environment's shared server, or start one (it warms up in the background);
    None where there can be none (no ``fork``, or ``SELFCHECK_POOL_IDLE=0``)."""
    if idle_seconds() <= 0 or not fork_available():
        return None
    kernel_environment()
    try:
        return KernelPool(shared=True).start()
    except (OSError, PoolError):
        return None


def keep_warm(stop: threading.Event, every: float = 60) -> None:
    """Until ``stop`` is set, keep the shared server from idling out — a new one replaces it
    when it has gone away or stale (`selfcheck lab` runs this while JupyterLab is open, so
    re-running an edited section never waits for the warm-up)."""
    while not stop.wait(every):
        start_shared()


def stop_shared(timeout: float = 10) -> bool:
    """Stop this environment's shared server (if any) once its kernels are done; True when
    one was stopped."""
    pool = _shared_handle()
    if pool is None:
        return False
    try:
        pid = int(pool._request({"op": "hello"}, connect_only=True)["pid"])
        pool._request({"op": "stop"}, connect_only=True)
    except PoolError:
        return False
    return wait_exited(pid, timeout)


def wait_exited(pid: int, timeout: float) -> bool:
    """Whether process ``pid`` is gone (exited and reaped) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def run_in_server(argv: list[str]) -> int | None:
    """``selfcheck ARGV`` in a process forked from the warm shared server, or None.

    The forked run starts with everything imported — the command line, the runner,
    pandas … — and takes this terminal (stdin, stdout, stderr), working directory and
    environment; Ctrl-C and the exit code pass through. None (run here instead) when
    there is no warm server for this environment, or it is stale.
    """
    import signal

    if IN_SERVER or idle_seconds() <= 0 or not fork_available():
        return None
    pool = _shared_handle()
    if pool is None:
        return None
    path = pool.socket_path
    try:
        if pool._request({"op": "hello"}, connect_only=True).get("stale"):
            return None
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(2)
        conn.connect(str(path))
        conn.settimeout(None)
    except (PoolError, OSError):
        return None
    with conn:
        request = {
            "op": "run",
            "argv": argv,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "socket": str(path),
        }
        data = json.dumps(request).encode("utf-8") + b"\n"
        fds = [fd for fd in (0, 1, 2) if _is_open(fd)]
        try:
            sent = socket.send_fds(conn, [data], fds)
            conn.sendall(data[sent:])
            reader = conn.makefile("rb")
            first = json.loads(reader.readline() or b"{}")
        except (OSError, ValueError):
            return None
        if "pid" not in first:
            return None  # refused (not a shared server, or another user): run here
        pid = int(first["pid"])

        def forward(signum, _frame) -> None:
            with contextlib.suppress(OSError):
                os.kill(pid, signum)

        previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            line = reader.readline()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    try:
        return int(json.loads(line)["exit"])
    except (ValueError, KeyError, TypeError):
        print("错误：预热进程中的运行意外中止 (the forked run died)。", file=sys.stderr)
        return 1
