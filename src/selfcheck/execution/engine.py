"""Warm kernels for Papermill: the ``selfcheck`` engine, on the kernel pool of :mod:`kernels`.

A section kernel used to cost a new Python process that imported pandas, pyarrow,
matplotlib, seaborn, scipy and the package (≈2.5 s of CPU) before its first line of
work, and a serial run paid that once per section. Here one *fork server*
(:mod:`selfcheck.execution.forkserver`) imports all of that once, while the runner validates
the data, and every section gets a **new kernel process forked from it**: a fresh
process per section, never reused, that starts with the modules imported and
nothing executed. Isolation is the same as with cold kernels — nothing a section
does can reach another — and the test suite checks that the document is
byte-identical to a cold, one-by-one run with Papermill's own engine.

Papermill still executes every notebook: :class:`SelfcheckEngine` is Papermill's
nbclient engine with a kernel manager whose provisioner asks the pool for the
kernel process instead of starting ``python -m ipykernel_launcher``. Everything
else (messages, outputs, errors, timeouts, interrupts, shutdown) is jupyter_client
and nbclient as usual, but for two waits cut short: a forked kernel is killed once its
notebook is done (~0.2 s of graceful shutdown saved) and the ready handshake does not
end with 0.2 s of listening to a quiet IOPub channel. The pool also renders executed
notebooks to HTML in forked children, off the runner's interpreter lock.

Where ``os.fork`` is missing (Windows), or the kernel asked for is not this
interpreter's ipykernel, kernels are started the ordinary way.

Kernel channels go over UNIX sockets (zmq ``ipc``) in a private folder of each kernel,
where the platform has them (:class:`IpcKernelManager`, used for cold kernels too): a
TCP port picked free by jupyter_client can be taken by another process before the
kernel binds it (``Address already in use`` from the heartbeat); a path in a folder of
its own cannot.
"""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import subprocess
import tempfile
import time
import uuid
import weakref
from contextlib import contextmanager, nullcontext
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import ensure_event_loop
from papermill.engines import NBClientEngine, papermill_engines
from traitlets import DottedObjectName, Type, default

from selfcheck.execution.kernels import KernelPool, PoolError

ENGINE_NAME = "selfcheck"


class ForkedProcess:
    """The part of ``subprocess.Popen`` jupyter_client uses, for a kernel forked by the server.

    The kernel is the server's child, not ours: liveness comes from a pidfd (Linux) or,
    failing that, from signalling the pid; the exit status stays with the server.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(pid)
            except OSError:
                self._pidfd = None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if self._pidfd is not None:
            ready, _, _ = select.select([self._pidfd], [], [], 0)
            alive = not ready
        else:
            try:
                os.kill(self.pid, 0)
                alive = True
            except ProcessLookupError:
                alive = False
            except PermissionError:
                alive = True
        if alive:
            return None
        self.returncode = 0
        self._close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        import signal

        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        import signal

        self.send_signal(signal.SIGTERM)

    def _close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def __del__(self) -> None:
        self._close()


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with the process launch asked of the pool."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        pool: KernelPool | None = getattr(self.parent, "pool", None)
        if pool is None or not pool.can_fork(cmd):
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            pid = pool.fork_kernel(cmd, cwd, env)
        except PoolError as e:  # the server is gone: this kernel starts the ordinary way
            self.log.warning("selfcheck kernel pool unavailable (%s); starting a cold kernel", e)
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedProcess(pid)  # type: ignore[assignment]
        self.pid = pid
        self.pgid = pid  # the child called setsid()
        return self.connection_info


class PooledKernelClient(AsyncKernelClient):
    """jupyter_client's client, with the ready handshake's final IOPub drain shortened.

    ``wait_for_ready`` ends by reading IOPub until it has been quiet for 0.2 s — 0.2 s
    lost on every kernel, as the handshake's status messages are there at once. nbclient
    matches every message to its request anyway, so a short drain is enough.
    """

    DRAIN_SECONDS = 0.01

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:  # as jupyter_client: a kernel_info reply, and IOPub connected
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                msg = None
            if msg is not None and msg["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(msg)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=self.DRAIN_SECONDS)
            except Empty:
                break

    wait_for_ready = _async_wait_for_ready


def ipc_available() -> bool:
    """Whether zmq can talk over UNIX sockets here (POSIX; not Windows)."""
    if os.name != "posix":
        return False
    import zmq

    return bool(zmq.has("ipc"))


class IpcKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, its channels over UNIX sockets in a folder of the
    kernel's own (``tcp`` where zmq has no ``ipc``): no port for another process to take."""

    _ipc_dir: str | None = None

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc" if ipc_available() else "tcp"

    @default("ip")
    def _ip_default(self) -> str:
        if self.transport != "ipc":
            return super()._ip_default()
        # short (a UNIX socket path holds ~100 bytes) and private (0700, made afresh)
        self._ipc_dir = tempfile.mkdtemp(prefix="sck-")
        return os.path.join(self._ipc_dir, "k")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if not restart and self._ipc_dir is not None:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = None

    cleanup_resources = _async_cleanup_resources


class PooledKernelManager(IpcKernelManager):
    """A kernel manager whose kernels come from ``pool`` (set on a per-pool subclass)."""

    pool: KernelPool | None = None
    client_class = DottedObjectName("selfcheck.execution.engine.PooledKernelClient")
    client_factory = Type(klass=PooledKernelClient, default_value=PooledKernelClient)

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.provisioner is None and self.pool is not None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # the exit shows on a pidfd at once: poll it often rather than every 0.1 s
        await super()._async_wait(min(pollinterval, 0.005))

    async def _async_finish_shutdown(
        self, waittime: float | None = None, pollinterval: float = 0.1, restart: bool = False
    ) -> None:
        await super()._async_finish_shutdown(waittime, min(pollinterval, 0.005), restart)


_POOL_MANAGERS: weakref.WeakKeyDictionary[KernelPool, type] = weakref.WeakKeyDictionary()


def pooled_manager_class(pool: KernelPool) -> type:
    """A jupyter_client kernel manager whose kernels ``pool`` forks (one class per pool)."""
    cls = _POOL_MANAGERS.get(pool)
    if cls is None:
        cls = type("PooledKernelManager", (PooledKernelManager,), {"pool": pool})
        _POOL_MANAGERS[pool] = cls
    return cls


class SelfcheckEngine(NBClientEngine):
    """Papermill's nbclient engine, kernels from a :class:`KernelPool` (``kernel_pool=``).

    Without a pool (for instance ``papermill --engine selfcheck``) it is exactly the
    nbclient engine.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        pool: KernelPool | None = kwargs.pop("kernel_pool", None)
        save_every: float | None = kwargs.pop("save_every", None)
        if pool is not None and pool.running:
            kwargs["kernel_manager_class"] = pooled_manager_class(pool)
            # nbclient has every output once the last cell is idle and the kernel is never
            # reused: kill it rather than wait ~0.2 s for a graceful shutdown
            kwargs.setdefault("shutdown_kernel", "immediate")
        throttle = nullcontext() if save_every is None else _saves_at_most_every(nb_man, save_every)
        with throttle:
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)


@contextmanager
def _saves_at_most_every(nb_man, seconds: float):
    """Papermill writes the output notebook at the start and at the end of every cell:
    the whole notebook, figures included, validated against its schema, 2–5 ms a time on
    the large quarter's notebooks, ~1.4 s of the run's interpreter (which the section
    threads share) over the ~450 writes of a run. Within the block a write is put off
    while the last one is less than ``seconds`` old, and made once it is that old, if the
    notebook is still running then: a file is never more than ``seconds`` behind a running
    cell (a cell that runs for long is shown as running, as papermill shows it). Papermill's
    write once the notebook is done (or has failed), after the block, is whole as before.

    The put-off write is a timer on the event loop nbclient runs this thread's cells on
    (``ensure_event_loop``: one per thread), so it runs on this thread, between the
    loop's handling of the kernel's messages, never while the notebook is being changed.
    """
    save = nb_man.save
    loop = ensure_event_loop()
    pending: list[asyncio.TimerHandle] = []

    def throttled(**kwargs):
        while pending:
            pending.pop().cancel()
        age = (nb_man.now() - nb_man.last_save_time).total_seconds()
        if age >= seconds:
            save(**kwargs)
        else:
            pending.append(loop.call_later(seconds - age, throttled))

    nb_man.save = throttled
    try:
        yield
    finally:
        nb_man.save = save
        while pending:
            pending.pop().cancel()


def register() -> str:
    """Register the engine with Papermill (idempotent); returns its name."""
    papermill_engines.register(ENGINE_NAME, SelfcheckEngine)
    return ENGINE_NAME
