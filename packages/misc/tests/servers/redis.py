"""A real redis-server on 127.0.0.1 (password + ACL user, optionally TLS only), and a black hole.

Redis has no persistence here (`--save ''`, `--appendonly no`): every start is empty.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import redis

from ._support import free_port, port_open, require_binary, stop_process, wait_until
from .tls import TestCA


class RedisServer:
    """redis-server with `requirepass` for `default` and an ACL user `monitor`."""

    host = "127.0.0.1"
    username = "monitor"

    def __init__(self, password: str, *, tls: TestCA | None = None) -> None:
        self.password = password
        self.tls = tls
        self._binary = require_binary("redis-server", "/usr/bin")
        self.base = Path(tempfile.mkdtemp(prefix="rsdev-redis-"))
        self.log_file = self.base / "redis.log"
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        try:
            self.start()
        except BaseException:
            self.close()  # never leave a half-started server behind
            raise

    @property
    def scheme(self) -> str:
        return "rediss" if self.tls else "redis"

    def url(self, *, password: str | None = None, username: str | None = None) -> str:
        """`redis[s]://monitor:<password>@127.0.0.1:<port>/0` (password URL-quoted)."""
        user = quote(username or self.username, safe="")
        secret = quote(self.password if password is None else password, safe="")
        return f"{self.scheme}://{user}:{secret}@{self.host}:{self.port}/0"

    def client(self) -> redis.Redis:
        """A plain synchronous client for checks made by the test itself.

        It trusts the server's CA but skips the host-name check, so a server whose
        certificate names another host (for the monitor's negative tests) still starts.
        """
        extra: dict[str, object] = {}
        if self.tls:
            extra = {
                "ssl": True,
                "ssl_ca_certs": str(self.tls.ca_file),
                "ssl_check_hostname": False,
            }
        return redis.Redis(
            host=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            socket_timeout=5,
            **extra,  # type: ignore[arg-type]
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (again) on the same port; return once PING answers."""
        if self.running:
            return
        argv = [
            str(self._binary),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.base),
            "--daemonize", "no",
            "--requirepass", self.password,
            # The ACL user the monitor logs in as (Redis 6+ `user` directive).
            "--user", self.username, "on", f">{self.password}", "~*", "&*", "+@all",
        ]  # fmt: skip
        if self.tls:
            argv += [
                "--port", "0",
                "--tls-port", str(self.port),
                "--tls-cert-file", str(self.tls.cert_file),
                "--tls-key-file", str(self.tls.key_file),
                "--tls-ca-cert-file", str(self.tls.ca_file),
                "--tls-auth-clients", "no",
            ]  # fmt: skip
        else:
            argv += ["--port", str(self.port)]
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        wait_until(self._answers, what="redis-server", process=self._process, log=self.log_file)

    def stop(self) -> None:
        """SIGTERM: redis exits (nothing to save) and closes the port."""
        if self._process is not None:
            stop_process(self._process, signal.SIGTERM)
        self._process = None

    def ensure_running(self) -> None:
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def _answers(self) -> bool:
        if not port_open(self.port):
            return False
        with contextlib.suppress(redis.RedisError), self.client() as client:
            return bool(client.ping())
        return False


class BlackHole:
    """A TCP port on 127.0.0.1 that completes the handshake and then never says a word.

    The socket listens but never calls accept(): the kernel finishes the three-way handshake
    for queued connections, so a client's connect succeeds and its reads wait forever.
    """

    host = "127.0.0.1"

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((self.host, 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])

    def close(self) -> None:
        self._sock.close()
