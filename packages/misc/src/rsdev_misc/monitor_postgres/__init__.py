"""monitor-postgres: a PostgreSQL health probe and daemon, safe through transaction poolers.

- `PostgresProbe(target, *, query="SELECT 1", keep_connection=False, heartbeat=None)`: the
  `Probe` (rsdev_misc.monitor) — `await probe.probe(timeout)` returns a `ProbeResult` with
  details ``connect_ms``, ``query_ms`` (``heartbeat_ms``) and ``connection`` (new/kept).
- `resolve_target(dsn, *, sslmode=None, sslrootcert=None, tls_insecure=False)`: the DSN and
  TLS choice checked and turned into a `PostgresTarget` (raises `UsageError`).
- `classify_error(exc)`: the `FailureKind` of a psycopg error.
- `Heartbeat(table, row_id, host, pid)`: the optional heartbeat row.
- `main(argv=None)`: the console script.
"""

from rsdev_misc.monitor_postgres.cli import build_postgres_parser, main, make_probe
from rsdev_misc.monitor_postgres.errors import classify_error
from rsdev_misc.monitor_postgres.heartbeat import Heartbeat
from rsdev_misc.monitor_postgres.probe import DEFAULT_QUERY, PostgresProbe
from rsdev_misc.monitor_postgres.target import PostgresTarget, describe, resolve_target

__all__ = [
    "DEFAULT_QUERY",
    "Heartbeat",
    "PostgresProbe",
    "PostgresTarget",
    "build_postgres_parser",
    "classify_error",
    "describe",
    "main",
    "make_probe",
    "resolve_target",
]
