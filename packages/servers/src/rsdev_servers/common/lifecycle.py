"""Process lifecycle shared by the gateways: event loop, signals, a bounded shutdown.

- `run_async(main)`: run `main()` on asyncio (uvloop when installed, unless
  `RSDEV_EVENT_LOOP=asyncio`) and return its exit code.
- `Shutdown`: `await tg.start(shutdown.watch_signals)` installs SIGINT/SIGTERM handlers
  *before* the gateway announces itself, so a signal is never lost to the default action.
  The first signal sets `shutdown.requested` (the gateway then stops accepting, closes
  its clients with 1001, flushes, closes its upstreams and returns) and arms a watchdog:
  if the process is still running `grace` seconds later it is ended with `EXIT_ERROR`.
  A second signal at least a second later ends it at once, for an operator who does not
  want to wait (sooner, it is taken for a duplicate: `uv run`, `timeout` and systemd's
  control-group kill can each deliver the same stop signal twice).
- `open_server(stack, host, port, …)`: enter `lib_common.net.serve` on an exit stack,
  turning a failure to listen into `BindError` with one clear line.
- `serve_until_stopped(run, app=…)`: the whole process around a gateway: signals, the
  watchdog, and the exit code (0 clean stop, 1 failure, 2 bad setting, 3 cannot listen).
- `run_console_script(app, load, options, run)`: a gateway's `main`: settings (a bad one
  is one line and exit 2), logging, then `serve_until_stopped`.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import importlib.util
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any, TypeVar

import anyio
from anyio.abc import TaskStatus
from loguru import logger

from lib_common.logging import setup_logging_from_args
from lib_common.net import HttpHandler, Server, ServerSettings, WsHandler, not_found, serve
from rsdev_servers.common.settings import (
    EXIT_BIND,
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_OK,
    Option,
    Resolved,
    SettingsError,
)

__all__ = [
    "DEFAULT_GRACE",
    "BindError",
    "Shutdown",
    "describe_bind_error",
    "open_server",
    "return_large_buffers_to_the_os",
    "run_async",
    "run_console_script",
    "serve_until_stopped",
]

DEFAULT_GRACE = 5.0
SettingsT = TypeVar("SettingsT")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DUPLICATE_WINDOW = 1.0  # seconds within which a repeated stop signal is the same stop


EVENT_LOOP_ENV = "RSDEV_EVENT_LOOP"


def use_uvloop(environ: Mapping[str, str] = os.environ) -> bool:
    """uvloop if importable, unless `RSDEV_EVENT_LOOP=asyncio` asks for the standard loop
    (to compare, or to rule uvloop out); `RSDEV_EVENT_LOOP=uvloop` requires it."""
    wanted = environ.get(EVENT_LOOP_ENV, "").strip().lower()
    if wanted not in ("", "asyncio", "uvloop"):
        raise ValueError(f"{EVENT_LOOP_ENV} must be asyncio or uvloop, not {wanted!r}")
    available = importlib.util.find_spec("uvloop") is not None
    if wanted == "uvloop" and not available:
        raise ValueError(f"{EVENT_LOOP_ENV}=uvloop, but uvloop is not installed")
    return available and wanted != "asyncio"


def run_async(main: Callable[[], Awaitable[int]]) -> int:
    """Run `main` in a fresh event loop (see `use_uvloop`) and return its result."""
    options = {"use_uvloop": use_uvloop()}
    result: int = anyio.run(main, backend="asyncio", backend_options=options)
    return result


def _force_exit(code: int) -> None:  # pragma: no cover - ends the process
    os._exit(code)


class Shutdown:
    """A stop request from a signal (or from code), with a watchdog on how long it takes."""

    def __init__(
        self,
        *,
        grace: float = DEFAULT_GRACE,
        signals: Iterable[signal.Signals] = STOP_SIGNALS,
        force_exit: Callable[[int], Any] = _force_exit,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.grace = grace
        self.signals = tuple(signals)
        self.requested = anyio.Event()
        self.reason: str | None = None
        self._force_exit = force_exit
        self._clock = clock
        self._watchdog: threading.Timer | None = None
        self._first_signal_at: float | None = None

    def request(self, reason: str) -> None:
        """Ask for a graceful stop (idempotent); the watchdog starts now."""
        if self.requested.is_set():
            return
        self.reason = reason
        self.requested.set()
        if self.grace > 0:
            timer = threading.Timer(self.grace, self._timed_out)
            timer.daemon = True
            timer.start()
            self._watchdog = timer

    def finished(self) -> None:
        """The graceful stop completed: disarm the watchdog."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    @property
    def watchdog_armed(self) -> bool:
        """True between `request` and `finished` (when a grace period is set)."""
        return self._watchdog is not None

    async def watch_signals(
        self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Turn the first stop signal into `request`, a second into an immediate exit."""
        with anyio.open_signal_receiver(*self.signals) as received:
            task_status.started()
            async for signum in received:
                name = signal.Signals(signum).name
                now = self._clock()
                if self._first_signal_at is not None:
                    if now - self._first_signal_at < DUPLICATE_WINDOW:
                        continue  # the same stop, delivered twice
                    logger.warning("{} again: exiting now", name)
                    self._force_exit(EXIT_ERROR)
                    return
                self._first_signal_at = now
                logger.info("{}: shutting down (at most {:g} s)", name, self.grace)
                self.request(name)

    def _timed_out(self) -> None:
        # A thread, so it fires even if the event loop is wedged. No logging machinery here.
        message = f"shutdown did not finish within {self.grace:g} s; exiting\n"
        with contextlib.suppress(OSError, ValueError):
            os.write(sys.stderr.fileno(), message.encode())
        self._force_exit(EXIT_ERROR)


def describe_bind_error(host: str, port: int, exc: OSError) -> str:
    """One line saying why `host:port` cannot be listened on, and what to do."""
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the address is already in use (another instance?)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: no such local address"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    detail = exc.strerror or str(exc)
    return f"cannot listen on {where}: {detail}"


class BindError(Exception):
    """The listening socket could not be made; the message is one line for people."""

    exit_code = EXIT_BIND


async def open_server(
    stack: AsyncExitStack,
    host: str,
    port: int,
    *,
    http_handler: HttpHandler = not_found,
    ws_handler: WsHandler | None = None,
    settings: ServerSettings | None = None,
) -> Server:
    """`serve(...)` entered on `stack` (it shuts down when the stack closes)."""
    try:
        return await stack.enter_async_context(
            serve(host, port, http_handler=http_handler, ws_handler=ws_handler, settings=settings)
        )
    except OSError as exc:
        raise BindError(describe_bind_error(host, port, exc)) from exc


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def serve_until_stopped(
    run: Callable[[anyio.Event], Awaitable[None]],
    *,
    app: str,
    grace: float = DEFAULT_GRACE,
    stderr: Callable[[str], Any] | None = None,
) -> int:
    """Run `run(stop_event)` until it returns; SIGINT/SIGTERM set the event. The exit code.

    `run` must return promptly (within `grace` seconds) once the event is set, having
    closed its clients and upstreams. A `BindError` or `SettingsError` becomes one line on
    stderr; anything else is logged with its traceback.
    """
    say = stderr or (lambda line: sys.stderr.write(line + "\n"))

    async def main() -> int:
        shutdown = Shutdown(grace=grace)
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(shutdown.watch_signals)
                await run(shutdown.requested)
                tg.cancel_scope.cancel()
        except Exception as exc:
            shutdown.finished()
            leaf = _leaf(exc)
            if isinstance(leaf, BindError):
                say(f"{app}: error: {leaf}")
                return EXIT_BIND
            if isinstance(leaf, SettingsError):
                say(f"{app}: error: {leaf}")
                return EXIT_CONFIG
            logger.opt(exception=exc).error("{} failed: {!r}", app, leaf)
            return EXIT_ERROR
        shutdown.finished()
        return EXIT_OK

    return run_async(main)


# glibc's mallopt(M_MMAP_THRESHOLD, …): allocations above it get their own mapping.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 128 * 1024


def return_large_buffers_to_the_os() -> bool:
    """Serve large allocations (client write buffers) from their own memory mappings.

    glibc's default threshold adapts upwards, so the megabytes a slow client's buffer held
    stay in the heap after the memory guard evicts it and RSS stays at its peak. With a
    fixed 128 KiB threshold they are unmapped on free and the budget bounds RSS, not just
    the guard's count. A no-op (False) where the C library is not glibc.
    """
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


def run_console_script(
    app: str,
    *,
    load: Callable[[], tuple[SettingsT, argparse.Namespace, Resolved]],
    options: Sequence[Option],
    run: Callable[[SettingsT, anyio.Event], Awaitable[None]],
    grace: float = DEFAULT_GRACE,
) -> int:
    """A gateway's `main`: `load()` the settings, set up logging, serve; the exit code.

    A bad setting or logging option is one line on stderr and `EXIT_CONFIG`; the rest is
    `serve_until_stopped`.
    """
    try:
        settings, args, resolved = load()
    except SettingsError as exc:
        sys.stderr.write(f"{app}: error: {exc}\n")
        return EXIT_CONFIG
    try:
        uvloop = use_uvloop()
    except ValueError as exc:
        sys.stderr.write(f"{app}: error: {exc}\n")
        return EXIT_CONFIG
    try:
        handle = setup_logging_from_args(app, args)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"{app}: error: logging: {exc}\n")
        return EXIT_CONFIG
    try:
        logger.debug("settings: {}", resolved.describe(options))
        logger.debug("event loop: {}", "uvloop" if uvloop else "asyncio")
        return_large_buffers_to_the_os()
        return serve_until_stopped(lambda stop: run(settings, stop), app=app, grace=grace)
    finally:
        handle.close()
