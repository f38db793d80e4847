"""Documents rendered in worker processes, never in the service's own process.

    from crm_common.pdf_pool import render

    data: bytes = render(invoice_pdf, view, "bg", "Northwind GmbH")   # invoice_pdf(view, …) in a worker

Why processes. A service runs under eventlet: its locks (the logging handlers' ones included) are
green, usable only by green threads of the hub's thread. A document rendered in an OS thread
(eventlet's ``tpool``) logs through fontTools and blocks for good on such a lock as soon as a
green thread holds it; every worker that logs then waits behind it and the service answers
nothing. A worker process shares no lock with the service, and uses another core.

How. A pool of at most ``CRM_PDF_WORKERS`` processes (default: min(2, CPUs)), started lazily
with the ``spawn`` method (a fresh interpreter: nothing green, no inherited locks) and kept for
the life of the service, so each loads and prepares its fonts once. A render sends the function
(a module-level function, pickled by reference) and its arguments over a socket pair, with the
service's ``CRM_*`` environment of the moment (font directory, cache directory); the worker sends
back the result or the exception raised (re-raised here with the worker's traceback as its
cause). A request identical to one being rendered (a client retrying the same document while
the first attempt still renders) waits for that render rather than starting another. Waiting is
on that socket only: under eventlet a green socket (the hub keeps serving other
workers meanwhile), otherwise a blocking one; no green primitive is ever touched outside the
hub's thread.

Failures. A worker process that dies during a render (crash, out of memory, killed) gives
:class:`~crm_common.errors.Unavailable` (HTTP 503, ``details.reason = "renderer_crashed"``) and
is replaced by a fresh one at the next render; a render that takes longer than
``CRM_PDF_TIMEOUT_SECONDS`` (default 60, waiting for a free worker included) kills its worker and
gives ``Unavailable`` (``render_timeout``, or ``renderers_busy`` when no worker became free).
An exception the render function raises reaches the caller unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import pickle
import socket
import struct
import threading
import time
import traceback
from typing import Any

from .errors import Unavailable

log = logging.getLogger(__name__)

WORKERS_ENV = "CRM_PDF_WORKERS"
TIMEOUT_ENV = "CRM_PDF_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT = 60.0
START_METHOD = "spawn"
ENV_PREFIX = "CRM_"  # the environment a render sees is the service's at the time of the call

_HEADER = struct.Struct("!Q")


def workers_from_env() -> int:
    default = max(1, min(2, os.cpu_count() or 1))
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        log.warning("%s=%r is not a positive whole number; using %d", WORKERS_ENV, raw, default)
        return default
    return value


def timeout_from_env() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        log.warning("%s=%r is not a positive number of seconds; using %g", TIMEOUT_ENV, raw, DEFAULT_TIMEOUT)
        return DEFAULT_TIMEOUT
    return value


def _green() -> bool:
    """Whether this process runs under eventlet (its threads and locks are green)."""
    try:
        from eventlet import patcher
    except ImportError:  # pragma: no cover - services always have eventlet
        return False
    return bool(patcher.is_monkey_patched("thread"))


# -- framing: an 8-byte length, then a pickle ----------------------------------------------------


class _WorkerLost(Exception):
    """The worker's end of the socket closed: the process is gone."""


class _NotSent(_WorkerLost):
    """The worker was gone before it received the request (safe to send it to another one)."""


def _send(sock: Any, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)))
    sock.sendall(payload)


def _recv_exact(sock: Any, size: int, deadline: float | None) -> bytes:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("render timed out")
            sock.settimeout(remaining)
        n = sock.recv_into(view[got:])
        if n == 0:
            raise _WorkerLost("connection closed")
        got += n
    return bytes(buf)


def _recv(sock: Any, deadline: float | None = None) -> bytes:
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    return _recv_exact(sock, size, deadline)


# -- the worker process ----------------------------------------------------------------------


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (set as its ``__cause__``)."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f"\n\n(in the document worker process)\n{self.tb}"


def _apply_env(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(ENV_PREFIX) and k not in env]:
        del os.environ[key]
    os.environ.update(env)


def _warm_up() -> None:
    """Find, prepare and parse the fonts once, before the first document needs them."""
    try:
        from .pdf import Document

        Document()
    except Exception:  # a missing font: the render that needs it reports it
        log.debug("font warm-up failed", exc_info=True)


def _reply(request: bytes) -> bytes:
    try:
        fn, args, kwargs, env = pickle.loads(request)
        _apply_env(env)
        result: tuple = ("ok", fn(*args, **kwargs))
    except Exception as exc:
        result = ("error", exc, traceback.format_exc())
    try:
        return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable result or exception
        detail = RuntimeError(f"document worker: result cannot be sent back: {exc!r} ({result[1]!r})")
        return pickle.dumps(("error", detail, result[-1] if result[0] == "error" else ""))


def _serve(conn: Any) -> None:
    """The worker process: answer render requests until the service closes its end."""
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s pdf-worker[%(process)d] %(name)s: %(message)s",
    )
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    conn.close()
    _warm_up()
    try:
        while True:
            try:
                request = _recv(sock)
            except (_WorkerLost, OSError):
                return  # the service stopped (or died): nothing left to do
            try:
                _send(sock, _reply(request))
            except OSError:
                return  # the service gave up on this render (timeout) or stopped
    except KeyboardInterrupt:  # Ctrl-C in a terminal reaches the whole process group
        return
    finally:
        sock.close()


# -- the pool (service side) -----------------------------------------------------------------


class _Worker:
    """One worker process and the service's end of its socket."""

    def __init__(self, ctx: Any, green: bool) -> None:
        import _socket
        from multiprocessing.connection import Connection

        a, b = _socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        parent_fd, child_fd = a.detach(), b.detach()
        child = Connection(child_fd)  # pickled for the new process as a duplicate of the fd
        try:
            self.process = ctx.Process(target=_serve, args=(child,), name="crm-pdf-worker", daemon=True)
            self.process.start()
        except BaseException:
            os.close(parent_fd)
            raise
        finally:
            child.close()
        if green:
            from eventlet.greenio import GreenSocket

            self.sock: Any = GreenSocket(socket.AF_UNIX, socket.SOCK_STREAM, 0, parent_fd)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, parent_fd)
        self.pid = self.process.pid
        self.renders = 0

    def alive(self) -> bool:
        return self.process.is_alive()

    def call(self, request: bytes, deadline: float) -> bytes:
        try:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            _send(self.sock, request)
        except TimeoutError:
            raise
        except OSError as exc:  # the process exited while idle: nothing was rendered
            raise _NotSent(str(exc)) from exc
        try:
            return _recv(self.sock, deadline)
        except ConnectionError as exc:
            raise _WorkerLost(str(exc)) from exc

    def stop(self) -> int | None:
        """Kill the process (if still running), reap it; its exit code."""
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(Exception):
            if self.process.exitcode is None:
                self.process.kill()
            self.process.join()  # waitpid: green under eventlet, immediate after SIGKILL
        code = self.process.exitcode
        with contextlib.suppress(Exception):
            self.process.close()
        return code


class _Flight:
    """A render in progress that identical requests wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()  # green under eventlet
        self.reply: bytes | None = None
        self.error: BaseException | None = None


class RenderPool:
    """At most ``size`` worker processes, started on demand; :meth:`run` renders in one."""

    def __init__(self, size: int | None = None, timeout: float | None = None, method: str = START_METHOD):
        self.size = size or workers_from_env()
        self.timeout = timeout or timeout_from_env()
        self._ctx = multiprocessing.get_context(method)
        self._green = _green()
        self._cond = threading.Condition()  # green under eventlet: only green threads use it
        self._idle: list[_Worker] = []
        self._count = 0  # workers started and not stopped (idle or rendering)
        self._closed = False
        self._inflight: dict[bytes, _Flight] = {}  # identical requests being rendered

    # -- public ----------------------------------------------------------------------------
    def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in a worker process; its result, or its exception raised here."""
        env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
        request = pickle.dumps((fn, args, kwargs, env), protocol=pickle.HIGHEST_PROTOCOL)
        reply = self._single_flight(request, fn)
        try:
            outcome = pickle.loads(reply)
        except Exception as exc:  # an exception class that cannot be rebuilt from its args
            raise RuntimeError(f"document worker: cannot read the result of {_name(fn)}: {exc!r}") from None
        if outcome[0] == "ok":
            return outcome[1]
        error, tb = outcome[1], outcome[2]
        raise error from RemoteTraceback(tb)

    def _single_flight(self, request: bytes, fn: Any) -> bytes:
        """The reply to ``request``; an identical request already being rendered (a client
        retrying the same document) waits for that render instead of starting another."""
        key = hashlib.sha256(request).digest()
        with self._cond:
            flight = self._inflight.get(key)
            leader = flight is None
            if flight is None:
                flight = self._inflight[key] = _Flight()
        if not leader:
            if not flight.done.wait(self.timeout):
                raise Unavailable(
                    f"Rendering the document took longer than {self.timeout:g} s; try again later",
                    {"reason": "render_timeout"},
                )
            if flight.error is not None:
                error = flight.error
                if isinstance(error, Unavailable):  # a copy: each caller gets its own traceback
                    raise Unavailable(error.message, error.details) from None
                raise error
            assert flight.reply is not None
            return flight.reply
        try:
            deadline = time.monotonic() + self.timeout
            try:
                flight.reply = self._exchange(self._checkout(deadline), request, deadline, fn, retryable=True)
            except _NotSent:  # an idle worker had exited: once more, with a fresh one
                flight.reply = self._exchange(
                    self._checkout(deadline), request, deadline, fn, retryable=False
                )
            return flight.reply
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._cond:
                self._inflight.pop(key, None)
            flight.done.set()

    def _exchange(self, worker: _Worker, request: bytes, deadline: float, fn: Any, retryable: bool) -> bytes:
        """Send ``request`` to ``worker``, its reply; the worker goes back to the pool, or is
        stopped when anything went wrong."""
        try:
            reply = worker.call(request, deadline)
        except TimeoutError:
            code = self._discard(worker)
            log.error(
                "document render (%s) took over %gs: worker %s killed", _name(fn), self.timeout, worker.pid
            )
            raise Unavailable(
                f"Rendering the document took longer than {self.timeout:g} s; try again later",
                {"reason": "render_timeout", "exit_code": code},
            ) from None
        except _WorkerLost as lost:
            code = self._discard(worker)
            if retryable and isinstance(lost, _NotSent):
                raise
            log.error("document worker %s died rendering %s (exit code %s)", worker.pid, _name(fn), code)
            raise Unavailable(
                "The document renderer stopped unexpectedly; try again",
                {"reason": "renderer_crashed", "exit_code": code},
            ) from None
        except BaseException:  # the calling green thread was killed meanwhile: the reply is lost
            self._discard(worker)
            raise
        worker.renders += 1
        self._checkin(worker)
        return reply

    def workers(self) -> int:
        """How many worker processes are running now."""
        with self._cond:
            return self._count

    def close(self) -> None:
        """Stop the idle workers; workers still rendering stop when their render ends."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()

    # -- workers ---------------------------------------------------------------------------
    def _checkout(self, deadline: float) -> _Worker:
        dead: list[_Worker] = []
        try:
            with self._cond:
                while True:
                    if self._closed:
                        raise Unavailable(
                            "The document renderer is shutting down", {"reason": "renderers_closed"}
                        )
                    while self._idle:
                        worker = self._idle.pop()  # the most recently used: its fonts are warm
                        if worker.alive():
                            return worker
                        self._count -= 1
                        dead.append(worker)
                    if self._count < self.size:
                        self._count += 1
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Unavailable(
                            "Every document renderer is busy; try again later", {"reason": "renderers_busy"}
                        )
                    self._cond.wait(remaining)
        finally:
            for worker in dead:
                log.warning("document worker %s exited while idle (exit code %s)", worker.pid, worker.stop())
        try:
            return _Worker(self._ctx, self._green)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _checkin(self, worker: _Worker) -> None:
        with self._cond:
            if not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._count -= 1
        worker.stop()

    def _discard(self, worker: _Worker) -> int | None:
        code = worker.stop()
        with self._cond:
            self._count -= 1
            self._cond.notify()
        return code


def _name(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"


_pool: RenderPool | None = None
_pool_lock = threading.Lock()  # held only for a few instructions, never across a switch


def pool() -> RenderPool:
    """The process's pool, created at first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = RenderPool()
        return _pool


def render(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a document worker process (see the module's docstring)."""
    return pool().run(fn, *args, **kwargs)


def shutdown() -> None:
    """Stop the process's pool (the next render starts a new one)."""
    global _pool
    with _pool_lock:
        current, _pool = _pool, None
    if current is not None:
        current.close()


__all__ = [
    "RemoteTraceback",
    "RenderPool",
    "pool",
    "render",
    "shutdown",
    "timeout_from_env",
    "workers_from_env",
]
