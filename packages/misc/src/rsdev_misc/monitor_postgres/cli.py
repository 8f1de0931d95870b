"""`monitor-postgres`: the command line, on the shared monitor CLI (rsdev_misc.monitor)."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Sequence

from rsdev_misc.monitor import UsageError, add_setting, build_parser, run_cli
from rsdev_misc.monitor_postgres.heartbeat import Heartbeat
from rsdev_misc.monitor_postgres.probe import DEFAULT_QUERY, PostgresProbe
from rsdev_misc.monitor_postgres.target import resolve_target

__all__ = ["TOOL", "build_postgres_parser", "main", "make_probe"]

TOOL = "monitor-postgres"
ENV_PREFIX = "RSDEV_MONITOR_POSTGRES"

_DESCRIPTION = """\
Watch a PostgreSQL server (directly or through PgBouncer, Supabase Supavisor or Neon's
pooler): connect, run SELECT 1 (or --query), close, every --interval seconds; say when it
goes DOWN and for how long it was down. Connect and query times are reported separately.
Safe through transaction poolers: the simple query protocol only, nothing is prepared."""

_EPILOG = """\
TLS: the server is verified by default (sslmode=verify-full). Pass the CA that signed it
with --sslrootcert (Supabase: the "Supabase Root 2021 CA" file from the dashboard); without
it the system's CA bundle is used (Neon and other public-CA hosts). --sslmode disable is the
only way to plaintext; there is never a silent fallback.

examples:
  monitor-postgres --once --dsn 'postgresql://monitor@db.example:5432/app' \\
      --sslrootcert /etc/ssl/certs/db-ca.pem          # exit 0 OK, 2 CRITICAL
  DATABASE_URL=postgresql://monitor@127.0.0.1:6432/app monitor-postgres \\
      --sslmode disable --keep-connection --interval 10"""


def build_postgres_parser() -> argparse.ArgumentParser:
    """The parser: the shared monitor options plus the PostgreSQL ones."""
    parser = build_parser(TOOL, _DESCRIPTION, ENV_PREFIX, epilog=_EPILOG)
    pg = parser.add_argument_group("postgresql")
    add_setting(
        parser,
        "--dsn",
        env="DATABASE_URL",
        config_key="dsn",
        metavar="DSN",
        group=pg,
        help="libpq URL or key=value string (a password in it is never printed; "
        "PGPASSWORD and ~/.pgpass work too)",
    )
    add_setting(
        parser,
        "--query",
        env=f"{ENV_PREFIX}_QUERY",
        config_key="query",
        default=DEFAULT_QUERY,
        metavar="SQL",
        group=pg,
        help="the statement to run (simple query protocol; keep it cheap)",
    )
    add_setting(
        parser,
        "--keep-connection",
        env=f"{ENV_PREFIX}_KEEP_CONNECTION",
        config_key="keep_connection",
        flag=True,
        group=pg,
        help="reuse one connection between probes (reconnect after a failure) "
        "instead of a fresh connection per probe",
    )
    add_setting(
        parser,
        "--heartbeat-table",
        env=f"{ENV_PREFIX}_HEARTBEAT_TABLE",
        config_key="heartbeat_table",
        metavar="NAME",
        group=pg,
        help="also upsert a row (id, ts, host, pid) into this table on each probe, "
        "creating it if missing (NAME or SCHEMA.NAME); off by default",
    )
    tls = parser.add_argument_group("tls")
    add_setting(
        parser,
        "--sslmode",
        env=f"{ENV_PREFIX}_SSLMODE",
        config_key="sslmode",
        metavar="MODE",
        group=tls,
        help="verify-full (the default unless the DSN says otherwise) or disable "
        "(plaintext, on purpose); prefer/require/verify-ca are refused",
    )
    add_setting(
        parser,
        "--sslrootcert",
        env=f"{ENV_PREFIX}_SSLROOTCERT",
        config_key="sslrootcert",
        metavar="FILE",
        group=tls,
        help="PEM file of the CA(s) to trust (default: the DSN's sslrootcert, else the "
        "system bundle); must be a file: psycopg-binary cannot find Debian's store",
    )
    add_setting(
        parser,
        "--tls-insecure",
        env=f"{ENV_PREFIX}_TLS_INSECURE",
        config_key="tls_insecure",
        flag=True,
        group=tls,
        help="INSECURE: encrypt but do not verify the server (sslmode=require); "
        "a loud warning is logged at start",
    )
    return parser


def make_probe(args: argparse.Namespace) -> PostgresProbe:
    """Build the probe from resolved settings; `UsageError` for anything unusable."""
    if not args.dsn:
        raise UsageError("no DSN: pass --dsn or set DATABASE_URL")
    target = resolve_target(
        args.dsn,
        sslmode=args.sslmode,
        sslrootcert=args.sslrootcert,
        tls_insecure=bool(args.tls_insecure),
    )
    heartbeat = None
    if args.heartbeat_table:
        host = socket.gethostname()
        try:
            heartbeat = Heartbeat(
                table=args.heartbeat_table, row_id=f"{TOOL}@{host}", host=host, pid=os.getpid()
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return PostgresProbe(
        target,
        query=args.query,
        keep_connection=bool(args.keep_connection),
        heartbeat=heartbeat,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Console script entry point; returns the exit code."""
    args = build_postgres_parser().parse_args(argv)
    return run_cli(args, make_probe, TOOL)
