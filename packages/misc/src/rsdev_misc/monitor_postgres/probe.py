"""`PostgresProbe`: connect, run one query, close — safe through transaction poolers.

Pooler safety (PgBouncer ``pool_mode=transaction``, Supavisor, Neon): psycopg would prepare
a statement run more than five times on one connection, and the pooler's next backend then
fails with ``prepared statement "_pg3_0" already exists``. So ``prepare_threshold=None``
*and* a client-side cursor: every statement goes out with the simple query protocol. No
``options=-c …`` startup parameters either (poolers reject them); time limits are enforced
here, by libpq's ``connect_timeout`` and by a deadline around the whole probe.

The phases, deadline, kept connection and failure mapping are `PhasedProbe`'s; this module
says only how PostgreSQL connects, queries, beats and words its errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg
from psycopg.rows import TupleRow

from rsdev_misc.monitor import FailureKind, PhasedProbe
from rsdev_misc.monitor_postgres.errors import classify_error
from rsdev_misc.monitor_postgres.heartbeat import Heartbeat
from rsdev_misc.monitor_postgres.target import PostgresTarget

__all__ = ["DEFAULT_QUERY", "PostgresProbe"]

DEFAULT_QUERY = "SELECT 1"
Connection = psycopg.AsyncConnection[TupleRow]


class PostgresProbe(PhasedProbe[PostgresTarget, Connection, Heartbeat]):
    """One `SELECT 1` (or `query`) per probe, on a fresh connection unless `keep_connection`."""

    call_phase = "querying"
    call_key = "query_ms"

    def __init__(
        self,
        target: PostgresTarget,
        *,
        query: str = DEFAULT_QUERY,
        keep_connection: bool = False,
        heartbeat: Heartbeat | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__(target, keep_connection=keep_connection, heartbeat=heartbeat, timer=timer)
        self._query = query
        # The kept connection that already ran CREATE TABLE; a replacement runs it again.
        self._heartbeat_table_on: Connection | None = None

    async def _open(
        self, deadline_s: float, connect_timer: AbstractContextManager[None]
    ) -> Connection:
        with connect_timer:
            return await psycopg.AsyncConnection.connect(
                self._target.conninfo_with_timeout(deadline_s),
                autocommit=True,
                prepare_threshold=None,
                cursor_factory=psycopg.AsyncClientCursor,
            )

    def _usable(self, conn: Connection) -> bool:
        return not conn.closed and not conn.broken

    async def _call(self, conn: Connection) -> None:
        cursor = await conn.execute(self._query.encode())
        if cursor.description is not None:
            await cursor.fetchall()

    async def _beat(self, conn: Connection, heartbeat: Heartbeat, call_ms: float) -> None:
        if not (self._keep and self._heartbeat_table_on is conn):
            await conn.execute(heartbeat.create())
            if self._keep:
                self._heartbeat_table_on = conn
        await conn.execute(heartbeat.upsert())

    async def _close(self, conn: Connection) -> None:
        await conn.close()

    def _classify(self, exc: Exception) -> FailureKind:
        return classify_error(exc)

    def _describe(self, exc: Exception) -> str:
        text = _one_line(str(exc)) or type(exc).__name__
        state = getattr(exc, "sqlstate", None)
        return text + (f" (SQLSTATE {state})" if state else "")

    def _latency_ms(self, connect_ms: float | None, call_ms: float) -> float:
        # A fresh connection's set-up is part of what a client would wait for.
        return (connect_ms or 0.0) + call_ms


def _one_line(message: str) -> str:
    """libpq's message without psycopg's prefix and libpq's tab-indented hints, on one line."""
    message = message.removeprefix("connection failed: ")
    lines = [" ".join(line.split()) for line in message.splitlines() if not line.startswith("\t")]
    return "; ".join(line for line in lines if line)
