"""load_config from https:// URLs, against a real TLS server on 127.0.0.1 (trustme CA)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from lib_common.config import SourceError, encrypt_document, load_config, load_section
from lib_common.tls import TLSPolicy

DOC = {"db": {"host": "db1.internal", "port": 6432}}


@dataclass
class Db:
    host: str
    port: int


@dataclass
class Served:
    base: str
    policy: TLSPolicy


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throwaway CA for this module's server certificates."""
    return trustme.CA()


@pytest.fixture
def served(tmp_path: Path, key: str, ca: trustme.CA) -> Iterator[Served]:
    """An HTTPS server on 127.0.0.1:0 serving /c.enc (encrypted) and /plain.json."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    files = {"/c.enc": encrypt_document(DOC, key), "/plain.json": b'{"plain": true}'}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    # A short poll interval keeps shutdown() at teardown quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield Served(f"https://127.0.0.1:{port}", TLSPolicy.from_options(ca_file=ca_file))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_encrypted_config_over_https(served: Served, key: str) -> None:
    """An encrypted document fetched over verified TLS is decrypted."""
    assert load_config(f"{served.base}/c.enc", key=key, tls=served.policy) == DOC


def test_section_over_https(served: Served, key: str) -> None:
    """load_section accepts an https source."""
    db = load_section(f"{served.base}/c.enc", "db", Db, key=key, tls=served.policy)
    assert db == Db("db1.internal", 6432)


def test_plain_json_over_https_warns(served: Served, log_lines: list[str]) -> None:
    """Plain JSON from a URL loads too, with the plain-config warning naming the URL."""
    assert load_config(f"{served.base}/plain.json", tls=served.policy) == {"plain": True}
    assert len(log_lines) == 1
    assert f"{served.base}/plain.json" in log_lines[0]


def test_http_error_status_is_source_error_without_query(served: Served) -> None:
    """A 404 is a SourceError naming the URL, with the query (a token) left out."""
    with pytest.raises(SourceError) as info:
        load_config(f"{served.base}/missing.enc?token=t0ken", tls=served.policy)
    message = str(info.value)
    assert f"cannot fetch config from {served.base}/missing.enc: HTTP 404" in message
    assert "t0ken" not in message


def test_untrusted_server_certificate_is_refused(served: Served, tmp_path: Path) -> None:
    """A server whose certificate the policy does not trust is refused (TLS error)."""
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    with pytest.raises(SourceError, match="TLS"):
        load_config(f"{served.base}/c.enc", tls=TLSPolicy.from_options(ca_file=other))
