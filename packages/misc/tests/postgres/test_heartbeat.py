"""The optional heartbeat row: created on demand, upserted per probe, values quoted safely."""

from __future__ import annotations

import psycopg
import pytest

from rsdev_misc.monitor_postgres import Heartbeat, PostgresProbe, resolve_target

from ..servers import PgBouncerServer, PostgresServer

pytestmark = pytest.mark.anyio


def read_rows(postgres: PostgresServer, table: str) -> list[tuple[object, ...]]:
    with psycopg.connect(postgres.superuser_dsn()) as conn:
        query = psycopg.sql.SQL("SELECT id, ts, host, pid FROM {} ORDER BY id").format(
            psycopg.sql.Identifier(*table.split("."))
        )
        return conn.execute(query).fetchall()


async def test_row_is_created_and_refreshed(postgres: PostgresServer) -> None:
    """The first probe creates the table; every probe refreshes the one row's ts."""
    beat = Heartbeat(table="monitor_heartbeat", row_id="monitor-postgres@h1", host="h1", pid=42)
    target = resolve_target(postgres.dsn(), sslrootcert=str(postgres.ca.ca_file))
    probe = PostgresProbe(target, heartbeat=beat)
    first = await probe.probe(5)
    assert first.ok, first.error
    assert isinstance(first.details["heartbeat_ms"], float)
    [(row_id, ts1, host, pid)] = read_rows(postgres, "monitor_heartbeat")
    assert (row_id, host, pid) == ("monitor-postgres@h1", "h1", 42)
    assert (await probe.probe(5)).ok
    [(_, ts2, _, _)] = read_rows(postgres, "monitor_heartbeat")
    assert ts2 > ts1  # type: ignore[operator]


async def test_values_are_quoted_not_executed(pgbouncer: PgBouncerServer) -> None:
    """Hostile values land verbatim, through PgBouncer, on a kept connection (simple protocol)."""
    hostile = "x'); DROP TABLE hb_quoting; --"
    beat = Heartbeat(table="public.hb_quoting", row_id=hostile, host=hostile, pid=7)
    target = resolve_target(pgbouncer.dsn(), sslmode="disable")
    probe = PostgresProbe(target, heartbeat=beat, keep_connection=True)
    try:
        for _ in range(8):  # past psycopg's prepare threshold of 5
            result = await probe.probe(5)
            assert result.ok, result.error
    finally:
        await probe.aclose()
    [(row_id, _, host, _)] = read_rows(pgbouncer.postgres, "public.hb_quoting")
    assert (row_id, host) == (hostile, hostile)


def test_table_name_must_be_name_or_schema_name() -> None:
    """Only NAME or SCHEMA.NAME is accepted as a heartbeat table."""
    with pytest.raises(ValueError):
        Heartbeat(table="a.b.c", row_id="r", host="h", pid=1)
    with pytest.raises(ValueError):
        Heartbeat(table="a.", row_id="r", host="h", pid=1)
