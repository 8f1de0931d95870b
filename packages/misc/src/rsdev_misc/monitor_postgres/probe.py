"""`PostgresProbe`: connect, run one query, close — safe through transaction poolers.

Pooler safety (PgBouncer ``pool_mode=transaction``, Supavisor, Neon): psycopg would prepare
a statement run more than five times on one connection, and the pooler's next backend then
fails with ``prepared statement "_pg3_0" already exists``. So ``prepare_threshold=None``
*and* a client-side cursor: every statement goes out with the simple query protocol. No
``options=-c …`` startup parameters either (poolers reject them); time limits are enforced
here, by libpq's ``connect_timeout`` and by a deadline around the whole probe.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import psycopg
from psycopg.rows import TupleRow

from rsdev_misc.monitor import ProbeResult, redact
from rsdev_misc.monitor_postgres.errors import classify_error
from rsdev_misc.monitor_postgres.heartbeat import Heartbeat
from rsdev_misc.monitor_postgres.target import PostgresTarget

__all__ = ["DEFAULT_QUERY", "PostgresProbe"]

DEFAULT_QUERY = "SELECT 1"
Connection = psycopg.AsyncConnection[TupleRow]


class PostgresProbe:
    """One `SELECT 1` (or `query`) per probe, on a fresh connection unless `keep_connection`."""

    def __init__(
        self,
        target: PostgresTarget,
        *,
        query: str = DEFAULT_QUERY,
        keep_connection: bool = False,
        heartbeat: Heartbeat | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._target = target
        self._query = query
        self._keep = keep_connection
        self._heartbeat = heartbeat
        self._timer = timer
        self._conn: Connection | None = None
        self._heartbeat_ready = False  # CREATE TABLE done on the current kept connection

    @property
    def target(self) -> str:
        return self._target.description

    async def probe(self, timeout: float) -> ProbeResult:  # noqa: ASYNC109 - the Probe protocol
        """Connect (or reuse), query, heartbeat, close; never raises for service failures."""
        timings: dict[str, float | str] = {}
        phase = "connecting"
        try:
            with anyio.fail_after(timeout):
                conn, phase = await self._connection(timeout, timings), "querying"
                try:
                    started = self._timer()
                    cursor = await conn.execute(self._query.encode())
                    if cursor.description is not None:
                        await cursor.fetchall()
                    timings["query_ms"] = _ms(self._timer() - started)
                    if self._heartbeat is not None:
                        phase = "writing the heartbeat"
                        await self._beat(conn, self._heartbeat, timings)
                finally:
                    if not self._keep:
                        await _close(conn)
        except Exception as exc:
            await self._drop()
            return self._failure(exc, phase, timeout, timings)
        latency = float(timings.get("connect_ms", 0.0)) + float(timings["query_ms"])
        return ProbeResult(ok=True, latency_ms=latency, details=timings)

    async def aclose(self) -> None:
        await self._drop()

    async def _connection(self, deadline_s: float, timings: dict[str, float | str]) -> Connection:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            timings["connection"] = "kept"
            return conn
        await self._drop()
        started = self._timer()
        conn = await psycopg.AsyncConnection.connect(
            self._target.conninfo_with_timeout(deadline_s),
            autocommit=True,
            prepare_threshold=None,
            cursor_factory=psycopg.AsyncClientCursor,
        )
        timings["connect_ms"] = _ms(self._timer() - started)
        timings["connection"] = "new"
        if self._keep:
            self._conn = conn
        self._heartbeat_ready = False
        return conn

    async def _beat(
        self, conn: Connection, heartbeat: Heartbeat, timings: dict[str, float | str]
    ) -> None:
        started = self._timer()
        if not (self._keep and self._heartbeat_ready):
            await conn.execute(heartbeat.create())
            self._heartbeat_ready = True
        await conn.execute(heartbeat.upsert())
        timings["heartbeat_ms"] = _ms(self._timer() - started)

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._heartbeat_ready = False
        if conn is not None:
            await _close(conn)

    def _failure(
        self, exc: Exception, phase: str, timeout: float, timings: dict[str, float | str]
    ) -> ProbeResult:
        kind = classify_error(exc)
        if isinstance(exc, TimeoutError):
            message = f"no answer within {timeout:g} s while {phase}"
        else:
            text = _one_line(str(exc)) or type(exc).__name__
            state = getattr(exc, "sqlstate", None)
            message = f"{phase}: {text}" + (f" (SQLSTATE {state})" if state else "")
        return ProbeResult(
            ok=False,
            error=redact(message, self._target.secrets),
            failure=kind,
            details=timings,
        )


async def _close(conn: Connection) -> None:
    # Shielded: a probe cut short by its deadline must still release the socket.
    with anyio.CancelScope(shield=True):
        await conn.close()


def _one_line(message: str) -> str:
    """libpq's message without psycopg's prefix and libpq's tab-indented hints, on one line."""
    message = message.removeprefix("connection failed: ")
    lines = [" ".join(line.split()) for line in message.splitlines() if not line.startswith("\t")]
    return "; ".join(line for line in lines if line)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
