"""Throwaway certificate authorities for the TLS tests: one that signs the servers, one not."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True, slots=True)
class TestCA:
    """A CA on disk: `ca_file` to trust, and a server certificate + key it issued."""

    __test__ = False  # a fixture type, not a test class

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, directory: Path | None = None, *names: str) -> TestCA:
        """Generate a fresh CA and a server certificate for `names` (default: loopback)."""
        where = directory or Path(tempfile.mkdtemp(prefix="rsdev-ca-"))
        where.mkdir(parents=True, exist_ok=True)
        where.chmod(0o755)
        ca = trustme.CA(organization_name="rsdev test CA")
        issued = ca.issue_cert(*(names or LOOPBACK_NAMES))
        ca_file, cert_file, key_file = where / "ca.pem", where / "server.crt", where / "server.key"
        ca.cert_pem.write_to_path(str(ca_file))
        issued.private_key_pem.write_to_path(str(key_file))
        # The chain file holds the leaf first, then the CA, as servers expect.
        cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
        ca_file.chmod(0o644)
        cert_file.chmod(0o644)
        key_file.chmod(0o600)
        return cls(ca_file=ca_file, cert_file=cert_file, key_file=key_file)
