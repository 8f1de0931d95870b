"""`PhasedProbe`: the skeleton shared by the connection-based probes (postgres, redis).

One probe runs in phases — connect (or reuse a kept connection), one timed call, an optional
heartbeat write, then close unless the connection is kept — all under one `anyio.fail_after`
deadline. The phase reached names the failure ("no answer within 2 s while querying"), and
any exception becomes a failed, classified, redacted `ProbeResult`: a probe never raises for
a service failure. A subclass supplies only what is specific to its service: how to open
and close a connection, the call, the heartbeat and how errors are classified and worded.

Timing keys in `ProbeResult.details`: ``connection`` (``new`` or ``kept``), ``connect_ms``
(new connections only), the subclass's `call_key` and ``heartbeat_ms`` (with a heartbeat).
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ClassVar, Generic, Protocol, TypeVar

import anyio

from rsdev_misc.monitor.probe import FailureKind, ProbeResult
from rsdev_misc.monitor.redact import redact

__all__ = ["PhasedProbe", "ServiceTarget"]

Timings = dict[str, float | str]


class ServiceTarget(Protocol):
    """What the skeleton needs of a target: a printable description and the secrets to mask."""

    @property
    def description(self) -> str: ...

    @property
    def secrets(self) -> tuple[str, ...]: ...


TargetT = TypeVar("TargetT", bound=ServiceTarget)
ConnT = TypeVar("ConnT")
HeartbeatT = TypeVar("HeartbeatT")


class PhasedProbe(abc.ABC, Generic[TargetT, ConnT, HeartbeatT]):
    """A `Probe` that connects, makes one timed call, maybe writes a heartbeat, then closes."""

    call_phase: ClassVar[str]  # the phase while the call runs, e.g. "querying"
    call_key: ClassVar[str]  # its timing key in `details`, e.g. "query_ms"
    close_grace_s: ClassVar[float | None] = None  # bound on a close; None waits for it

    def __init__(
        self,
        target: TargetT,
        *,
        keep_connection: bool,
        heartbeat: HeartbeatT | None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._target = target
        self._keep = keep_connection
        self._heartbeat = heartbeat
        self._timer = timer
        self._conn: ConnT | None = None  # only ever set with keep_connection

    @property
    def target(self) -> str:
        return self._target.description

    async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109 - the Probe protocol
        """Connect (or reuse), call, heartbeat, close; never raises for service failures."""
        timings: Timings = {}
        phase = "connecting"
        try:
            with anyio.fail_after(timeout):
                conn, phase = await self._connection(timeout, timings), self.call_phase
                try:
                    with self._timed(timings, self.call_key):
                        await self._call(conn)
                    if self._heartbeat is not None:
                        phase = "writing the heartbeat"
                        call_ms = float(timings[self.call_key])
                        with self._timed(timings, "heartbeat_ms"):
                            await self._beat(conn, self._heartbeat, call_ms)
                finally:
                    if not self._keep:
                        await self._release(conn)
        except Exception as exc:
            await self._drop()
            return self._failure(exc, phase, timeout, timings)
        connect_ms = timings.get("connect_ms")
        latency = self._latency_ms(
            None if connect_ms is None else float(connect_ms), float(timings[self.call_key])
        )
        return ProbeResult(ok=True, latency_ms=latency, details=timings)

    async def aclose(self) -> None:
        await self._drop()

    # --- what a service supplies -------------------------------------------------------

    @abc.abstractmethod
    async def _open(self, deadline_s: float, connect_timer: AbstractContextManager[None]) -> ConnT:
        """Open a connection; wrap just the network part in `connect_timer` (→ connect_ms).

        `deadline_s` is the probe's timeout, for the client library's own limits (connect and
        socket timeouts). Building a client object stays outside `connect_timer`: connect_ms
        is TCP + TLS + authentication (redis-py's client alone costs ~0.2 ms). On failure,
        close whatever was half opened (with `_release`) before raising.
        """

    @abc.abstractmethod
    async def _call(self, conn: ConnT) -> None:
        """The checked call (a query, a PING); its time is `call_key` and the latency."""

    @abc.abstractmethod
    async def _beat(self, conn: ConnT, heartbeat: HeartbeatT, call_ms: float) -> None:
        """Write the heartbeat; `call_ms` is the call's time, for payloads that report it."""

    @abc.abstractmethod
    async def _close(self, conn: ConnT) -> None:
        """Close the connection (the skeleton shields and bounds this)."""

    @abc.abstractmethod
    def _classify(self, exc: Exception) -> FailureKind:
        """Who is to blame for `exc`."""

    @abc.abstractmethod
    def _describe(self, exc: Exception) -> str:
        """`exc` as one line for the error message, after "<phase>: "."""

    @abc.abstractmethod
    def _latency_ms(self, connect_ms: float | None, call_ms: float) -> float:
        """The probe's latency from its timings (connect_ms is None on a kept connection)."""

    def _usable(self, conn: ConnT) -> bool:
        """Whether a kept connection may be reused; a broken one is replaced."""
        return True

    # --- the skeleton ------------------------------------------------------------------

    async def _connection(self, deadline_s: float, timings: Timings) -> ConnT:
        conn = self._conn
        if conn is not None and self._usable(conn):
            timings["connection"] = "kept"
            return conn
        await self._drop()
        conn = await self._open(deadline_s, self._timed(timings, "connect_ms"))
        timings["connection"] = "new"
        if self._keep:
            self._conn = conn
        return conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._release(conn)

    async def _release(self, conn: ConnT) -> None:
        # Shielded: a probe cut short by its deadline must still release the socket; bounded
        # by close_grace_s where a close may wait on the peer (a TLS close_notify).
        with anyio.CancelScope(shield=True), anyio.move_on_after(self.close_grace_s):
            await self._close(conn)

    @contextmanager
    def _timed(self, timings: Timings, key: str) -> Iterator[None]:
        # Recorded only on success: a failed step leaves no figure behind.
        started = self._timer()
        yield
        timings[key] = _ms(self._timer() - started)

    def _failure(self, exc: Exception, phase: str, timeout: float, timings: Timings) -> ProbeResult:
        if isinstance(exc, TimeoutError):
            message = f"no answer within {timeout:g} s while {phase}"
        else:
            message = f"{phase}: {self._describe(exc)}"
        return ProbeResult(
            ok=False,
            error=redact(message, self._target.secrets),
            failure=self._classify(exc),
            details=timings,
        )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
