"""Where the trusted CA certificates live when the user names no CA file.

One file, used everywhere (HTTP, WebSocket, Redis *and* libpq), so every client trusts the
same roots. libpq needs a *file*: psycopg-binary bundles its own OpenSSL whose default CA
path does not exist on Debian, so ``sslrootcert=system`` is not an option there.

Search order: ``$SSL_CERT_FILE`` (OpenSSL's own override; if set it must exist), the
file this Python's OpenSSL was built to use, the usual distribution bundles, and finally
certifi's copy of Mozilla's roots (always present: httpx depends on it).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path

from loguru import logger

from lib_common.tls.errors import TLSConfigError

__all__ = ["SYSTEM_BUNDLE_CANDIDATES", "locate_ca_bundle"]

SYSTEM_BUNDLE_CANDIDATES: tuple[str, ...] = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL, CentOS
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL 7+
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, FreeBSD, Alpine
)


def _certifi_bundle() -> Path | None:
    try:
        import certifi  # not a declared dependency: httpx brings it
    except ImportError:  # pragma: no cover - httpx always installs it
        return None
    return Path(certifi.where())


def locate_ca_bundle(environ: Mapping[str, str] | None = None) -> Path:
    """Return the absolute path of a PEM file holding the system's trusted root CAs."""
    env = os.environ if environ is None else environ
    override = env.get("SSL_CERT_FILE")
    if override:
        path = Path(override).absolute()
        if not path.is_file():
            # An explicit setting that points nowhere is a mistake, not a hint to look elsewhere.
            raise TLSConfigError(f"SSL_CERT_FILE={override!r} is not a readable file")
        return path
    candidates = [ssl.get_default_verify_paths().openssl_cafile, *SYSTEM_BUNDLE_CANDIDATES]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).absolute()
    certifi_path = _certifi_bundle()
    if certifi_path is not None and certifi_path.is_file():
        logger.debug("no system CA bundle found; using certifi's {}", certifi_path)
        return certifi_path.absolute()
    raise TLSConfigError(
        "no CA bundle found (tried SSL_CERT_FILE, "
        + ", ".join(c for c in candidates if c)
        + ", certifi); pass an explicit CA file"
    )
