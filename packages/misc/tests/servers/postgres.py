"""A real PostgreSQL 15 on 127.0.0.1 (TLS on, SCRAM passwords), and PgBouncer in front of it.

Both refuse to run as root, so when the tests are root (CI) they run as an unprivileged
system user (see `_support.service_user`). `stop()`/`start()` keep the port and data dir so
tests can take the server away and bring it back.
"""

from __future__ import annotations

import shutil
import signal
import subprocess

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ._support import (
    ServiceUser,
    free_port,
    port_open,
    require_binary,
    service_user,
    stop_process,
    wait_until,
)
from .tls import TestCA

PG_BIN_DIRS = (
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
)

_HBA = """\
# Superuser set-up over the private unix socket; everything over TCP needs a SCRAM password.
local all all trust
host all all 127.0.0.1/32 scram-sha-256
"""


def _env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LANG": "C"}


class PostgresServer:
    """A throwaway cluster with one login role owning one database."""

    user = "rsdev_monitor"
    dbname = "rsdev"
    host = "127.0.0.1"

    def __init__(self, ca: TestCA, password: str) -> None:
        self.password = password
        self.ca = ca
        self._bin = require_binary("postgres", *PG_BIN_DIRS).parent
        self._runner: ServiceUser = service_user()
        self.base = self._runner.make_dir("rsdev-pg-")
        self.data_dir = self.base / "data"
        self.socket_dir = self.base / "sock"
        self.log_file = self.base / "postgres.log"
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        try:
            self._initdb()
        except BaseException:
            self.close()  # never leave a half-started server behind
            raise

    def dsn(self, **overrides: str | int) -> str:
        """libpq conninfo for the monitor role over TCP; TLS settings are the caller's."""
        params: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }
        params.update(overrides)
        return make_conninfo("", **params)

    def superuser_dsn(self) -> str:
        """The bootstrap superuser over the unix socket (trust), for set-up and checks."""
        return make_conninfo(
            host=str(self.socket_dir), port=self.port, user="postgres", dbname=self.dbname
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (again) on the same port and data dir; return once it accepts logins."""
        if self.running:
            return
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self._bin / "postgres"), "-D", str(self.data_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.base,
                env=_env(),
                user=self._runner.uid,
                group=self._runner.gid,
                extra_groups=self._runner.extra_groups,
            )
        wait_until(self._accepts_logins, what="postgres", process=self._process, log=self.log_file)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): connections are cut, the port is closed when this returns."""
        if self._process is not None:
            stop_process(self._process, signal.SIGINT)
        self._process = None

    def ensure_running(self) -> None:
        """Put the server back after a test that stopped it."""
        self.start()

    def close(self) -> None:
        """Stop and delete everything."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def _run_as_owner(self, *argv: str) -> None:
        subprocess.run(
            argv,
            check=True,
            capture_output=True,
            cwd=self.base,
            env=_env(),
            user=self._runner.uid,
            group=self._runner.gid,
            extra_groups=self._runner.extra_groups,
        )

    def _initdb(self) -> None:
        self.socket_dir.mkdir(mode=0o755)
        self._runner.chown(self.socket_dir)
        self._run_as_owner(
            str(self._bin / "initdb"),
            "-D", str(self.data_dir),
            "-U", "postgres",
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )  # fmt: skip
        # The server insists its key is private to the user it runs as.
        for source, name, mode in (
            (self.ca.cert_file, "server.crt", 0o644),
            (self.ca.key_file, "server.key", 0o600),
        ):
            target = self.data_dir / name
            shutil.copyfile(source, target)
            target.chmod(mode)
            self._runner.chown(target)
        (self.data_dir / "pg_hba.conf").write_text(_HBA)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"""
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.socket_dir}'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
password_encryption = 'scram-sha-256'
max_connections = 40
shared_buffers = 16MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
"""
            )
        self.start()
        with psycopg.connect(
            make_conninfo(host=str(self.socket_dir), port=self.port, user="postgres"),
            autocommit=True,
        ) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(self.user), sql.Literal(self.password)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(self.dbname), sql.Identifier(self.user)
                )
            )

    def _accepts_logins(self) -> bool:
        if not port_open(self.port):
            return False
        try:
            with psycopg.connect(
                make_conninfo(host=str(self.socket_dir), port=self.port, user="postgres"),
                connect_timeout=2,
            ):
                return True
        except psycopg.OperationalError:
            return False


class PgBouncerServer:
    """PgBouncer in `pool_mode=transaction` in front of `PostgresServer`, plaintext, SCRAM."""

    host = "127.0.0.1"

    def __init__(self, postgres: PostgresServer) -> None:
        self.postgres = postgres
        self.user = postgres.user
        self.password = postgres.password
        self.dbname = postgres.dbname
        self._binary = require_binary("pgbouncer", "/usr/sbin")
        self._runner = service_user()
        self.base = self._runner.make_dir("rsdev-pgbouncer-")
        self.port = free_port()
        self.log_file = self.base / "pgbouncer.log"
        self.ini_file = self.base / "pgbouncer.ini"
        self._process: subprocess.Popen[bytes] | None = None
        userlist = self.base / "userlist.txt"
        # PgBouncer needs the plain password (or the SCRAM secret) to log in to Postgres itself.
        userlist.write_text(f'"{self.user}" "{self.password}"\n')
        userlist.chmod(0o600)
        self._runner.chown(userlist)
        self.ini_file.write_text(
            f"""[databases]
{self.dbname} = host={postgres.host} port={postgres.port} dbname={postgres.dbname}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir = {self.base}
auth_type = scram-sha-256
auth_file = {userlist}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 50
server_tls_sslmode = disable
# After PostgreSQL restarts in a test, log in to it again within a second (default 15 s).
server_login_retry = 1
pidfile = {self.base}/pgbouncer.pid
"""
        )
        try:
            self.start()
        except BaseException:
            self.close()
            raise

    def dsn(self, **overrides: str | int) -> str:
        """libpq conninfo through the pooler (plaintext on loopback: pass sslmode=disable)."""
        params: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }
        params.update(overrides)
        return make_conninfo("", **params)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (again) on the same port; return once a login through it works."""
        if self.running:
            return
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self._binary), str(self.ini_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.base,
                env=_env(),
                user=self._runner.uid,
                group=self._runner.gid,
                extra_groups=self._runner.extra_groups,
            )
        wait_until(
            self._answers_queries, what="pgbouncer", process=self._process, log=self.log_file
        )

    def stop(self) -> None:
        """SIGINT: PgBouncer's immediate shutdown."""
        if self._process is not None:
            stop_process(self._process, signal.SIGINT)
        self._process = None

    def ensure_running(self) -> None:
        """Put PostgreSQL and PgBouncer back, and wait until queries pass through again."""
        self.postgres.ensure_running()
        self.start()
        wait_until(
            self._answers_queries, what="pgbouncer", process=self._process, log=self.log_file
        )

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def _answers_queries(self) -> bool:
        # A login alone proves little: PgBouncer authenticates clients itself. Run a query,
        # which needs a server connection (after a PostgreSQL restart it may need a retry).
        if not port_open(self.port):
            return False
        try:
            with psycopg.connect(
                self.dsn(sslmode="disable", connect_timeout=2), prepare_threshold=None
            ) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True
