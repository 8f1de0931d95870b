"""PostgresProbe against a real PostgreSQL 15 (TLS) and PgBouncer in transaction mode."""

from __future__ import annotations

import time

import anyio
import psycopg
import pytest

from rsdev_misc.monitor import FailureKind
from rsdev_misc.monitor_postgres import PostgresProbe, resolve_target

from ..servers import BlackHole, PgBouncerServer, PostgresServer, TestCA

pytestmark = pytest.mark.anyio


def direct(postgres: PostgresServer, **kwargs: object) -> PostgresProbe:
    target = resolve_target(postgres.dsn(), sslrootcert=str(postgres.ca.ca_file))
    return PostgresProbe(target, **kwargs)  # type: ignore[arg-type]


async def test_select_1_over_verified_tls(postgres: PostgresServer) -> None:
    """A fresh verify-full connection runs SELECT 1; connect and query times are separate."""
    probe = direct(postgres)
    result = await probe.probe(5)
    assert result.ok, result.error
    assert result.details["connection"] == "new"
    connect_ms, query_ms = result.details["connect_ms"], result.details["query_ms"]
    assert isinstance(connect_ms, float)
    assert isinstance(query_ms, float)
    assert result.latency_ms == pytest.approx(connect_ms + query_ms)
    assert "postgresql://rsdev_monitor@127.0.0.1:" in probe.target
    assert postgres.password not in probe.target


async def test_probe_session_is_encrypted(postgres: PostgresServer) -> None:
    """The probe's own session is TLS: this query divides by zero on a plaintext session."""
    only_on_tls = "SELECT 1 / ssl::int FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    result = await direct(postgres, query=only_on_tls).probe(5)
    assert result.ok, result.error


async def test_fresh_connection_per_probe(postgres: PostgresServer) -> None:
    """By default each probe opens and closes its own connection (like Uptime Kuma)."""
    probe = direct(postgres, query="SELECT pg_backend_pid()")
    first, second = await probe.probe(5), await probe.probe(5)
    assert (first.details["connection"], second.details["connection"]) == ("new", "new")


async def test_keep_connection_reuses_and_reconnects(postgres: PostgresServer) -> None:
    """--keep-connection reuses one session, and after a restart reconnects on its own."""
    probe = direct(postgres, keep_connection=True)
    try:
        assert (await probe.probe(5)).details["connection"] == "new"
        assert (await probe.probe(5)).details["connection"] == "kept"
        await anyio.to_thread.run_sync(postgres.stop)
        down = await probe.probe(2)
        assert not down.ok
        await anyio.to_thread.run_sync(postgres.start)
        back = await probe.probe(5)
        assert back.ok, back.error
        assert back.details["connection"] == "new"
    finally:
        await probe.aclose()


async def test_100_probes_on_kept_connections_through_pgbouncer(pgbouncer: PgBouncerServer) -> None:
    """Through PgBouncer pool_mode=transaction, 2×100 probes on kept connections all pass."""
    target = resolve_target(pgbouncer.dsn(), sslmode="disable")
    probes = [PostgresProbe(target, keep_connection=True) for _ in range(2)]
    try:
        results = []
        for _ in range(100):
            for probe in probes:  # interleaved: each client lands on the other's backend
                results.append(await probe.probe(5))
        failures = [r.error for r in results if not r.ok]
        assert failures == []
        assert len(results) == 200
        assert {"kept"} == {r.details["connection"] for r in results[2:]}
    finally:
        for probe in probes:
            await probe.aclose()


async def test_pgbouncer_setup_reproduces_the_prepared_statement_trap(
    pgbouncer: PgBouncerServer,
) -> None:
    """Control: psycopg's defaults (prepare after 5 runs) do fail behind this PgBouncer."""
    dsn = pgbouncer.dsn(sslmode="disable")
    async with (
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) as a,
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) as b,
    ):

        async def twenty_rounds() -> None:
            for _ in range(20):
                await a.execute("SELECT 1")
                await b.execute("SELECT 1")

        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            await twenty_rounds()


async def test_database_down_behind_pgbouncer_fails_within_the_deadline(
    pgbouncer: PgBouncerServer,
) -> None:
    """PgBouncer up, PostgreSQL down: the probe fails within --timeout, not after 120 s."""
    await anyio.to_thread.run_sync(pgbouncer.postgres.stop)
    probe = PostgresProbe(resolve_target(pgbouncer.dsn(), sslmode="disable"))
    started = time.monotonic()
    result = await probe.probe(0.5)
    assert time.monotonic() - started < 1.5
    assert not result.ok
    # PgBouncer first holds the query (timeout), then reports its cached login error (08P01).
    assert result.failure in (FailureKind.TIMEOUT, FailureKind.NETWORK)


async def test_wrong_ca_fails_as_tls(postgres: PostgresServer, other_ca: TestCA) -> None:
    """verify-full against an unrelated CA fails as TLS, though the server allows plaintext."""
    target = resolve_target(postgres.dsn(), sslrootcert=str(other_ca.ca_file))
    result = await PostgresProbe(target).probe(5)
    assert not result.ok
    assert result.failure == FailureKind.TLS
    assert "certificate verify failed" in (result.error or "")


async def test_tls_insecure_encrypts_without_verifying(postgres: PostgresServer) -> None:
    """--tls-insecure connects without trusting any CA, and the session is still encrypted."""
    only_on_tls = "SELECT 1 / ssl::int FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    target = resolve_target(postgres.dsn(), tls_insecure=True)
    result = await PostgresProbe(target, query=only_on_tls).probe(5)
    assert result.ok, result.error


async def test_wrong_host_name_fails_as_tls(postgres: PostgresServer) -> None:
    """The right CA but a name the certificate lacks fails verify-full's host-name check."""
    # hostaddr keeps the connection on loopback; libpq checks the certificate against host.
    dsn = postgres.dsn(host="db.example", hostaddr="127.0.0.1")
    result = await PostgresProbe(resolve_target(dsn, sslrootcert=str(postgres.ca.ca_file))).probe(5)
    assert not result.ok
    assert result.failure == FailureKind.TLS


async def test_wrong_password_is_authentication(postgres: PostgresServer) -> None:
    """A wrong password is AUTHENTICATION, and neither password appears in the result."""
    wrong = "Wrong-Pw-QUAGGA-91"
    target = resolve_target(postgres.dsn(password=wrong), sslrootcert=str(postgres.ca.ca_file))
    result = await PostgresProbe(target).probe(5)
    assert not result.ok
    assert result.failure == FailureKind.AUTHENTICATION
    assert "authentication" in (result.error or "")
    assert wrong not in repr(result)
    assert postgres.password not in repr(result)


async def test_stopped_server_is_network(postgres: PostgresServer) -> None:
    """A stopped server (connection refused) is NETWORK, at once."""
    await anyio.to_thread.run_sync(postgres.stop)
    result = await direct(postgres).probe(5)
    assert not result.ok
    assert result.failure == FailureKind.NETWORK
    assert "Connection refused" in (result.error or "")


async def test_black_hole_times_out_within_the_deadline(
    black_hole: BlackHole, test_ca: TestCA
) -> None:
    """A server that accepts and never answers is TIMEOUT after `timeout`, not libpq's 2 s."""
    dsn = f"host=127.0.0.1 port={black_hole.port} user=x dbname=x password=Pw-hole-1"
    probe = PostgresProbe(resolve_target(dsn, sslrootcert=str(test_ca.ca_file)))
    started = time.monotonic()
    result = await probe.probe(0.5)
    elapsed = time.monotonic() - started
    assert not result.ok
    assert result.failure == FailureKind.TIMEOUT
    assert 0.4 < elapsed < 1.5
    assert "while connecting" in (result.error or "")


async def test_slow_query_times_out(postgres: PostgresServer) -> None:
    """A query slower than the timeout is cut off as TIMEOUT while querying."""
    started = time.monotonic()
    result = await direct(postgres, query="SELECT pg_sleep(5)").probe(0.5)
    assert result.failure == FailureKind.TIMEOUT
    assert "while querying" in (result.error or "")
    assert time.monotonic() - started < 2


async def test_sql_error_is_server_with_sqlstate(postgres: PostgresServer) -> None:
    """A failing --query is a SERVER failure carrying its SQLSTATE."""
    result = await direct(postgres, query="SELECT * FROM no_such_table").probe(5)
    assert result.failure == FailureKind.SERVER
    assert "SQLSTATE 42P01" in (result.error or "")
