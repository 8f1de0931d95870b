"""One TLS policy from which every client (HTTP, WebSocket, Redis, PostgreSQL) gets its settings.

Verification is on by default and can only be turned off by saying ``insecure=True``, which
logs a loud warning every time settings are built from it: there is no silent downgrade.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loguru import logger

from lib_common.tls.bundle import locate_ca_bundle
from lib_common.tls.errors import TLSConfigError

__all__ = ["TLSPolicy"]

_ALLOWED_MINIMUMS = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
_VERSION_NAMES = {
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2,
    "tlsv1.3": ssl.TLSVersion.TLSv1_3,
    "tlsv1_2": ssl.TLSVersion.TLSv1_2,
    "tlsv1_3": ssl.TLSVersion.TLSv1_3,
}
# libpq's names for ssl_min_protocol_version (libpq >= 13).
_LIBPQ_VERSION = {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}


def _warn_insecure(target: str) -> None:
    logger.warning(
        "TLS VERIFICATION DISABLED (insecure=True) for {}: the connection is encrypted but the "
        "server is NOT authenticated; anyone on the path can impersonate it",
        target,
    )


def _readable_file(value: str | os.PathLike[str], what: str) -> Path:
    path = Path(value).expanduser().absolute()
    if not path.is_file():
        raise TLSConfigError(f"{what} {str(path)!r} does not exist or is not a file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise TLSConfigError(f"{what} {str(path)!r} is not readable: {exc.strerror}") from exc
    return path


def _parse_version(value: str | ssl.TLSVersion) -> ssl.TLSVersion:
    if isinstance(value, ssl.TLSVersion):
        return value
    try:
        return _VERSION_NAMES[value.strip().lower()]
    except KeyError:
        raise TLSConfigError(
            f"minimum TLS version {value!r} not understood (use 1.2 or 1.3)"
        ) from None


@dataclass(frozen=True, slots=True)
class TLSPolicy:
    """How to secure a client connection; build with ``from_options`` to validate files early.

    ``server_hostname`` overrides the name used for SNI and certificate checks where the
    client allows it (``ky_http``, ``asyncio``/``websockets`` ``server_hostname=``).
    """

    verify: bool = True
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    server_hostname: str | None = None
    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    insecure: bool = False

    def __post_init__(self) -> None:
        if not self.verify and not self.insecure:
            raise TLSConfigError(
                "verify=False would disable certificate checks silently; "
                "set insecure=True to do that on purpose"
            )
        if self.minimum_version not in _ALLOWED_MINIMUMS:
            raise TLSConfigError(
                f"minimum TLS version {self.minimum_version.name} is below TLS 1.2; refused"
            )
        if self.client_key is not None and self.client_cert is None:
            raise TLSConfigError("client_key given without client_cert")

    @classmethod
    def from_options(
        cls,
        *,
        ca_file: str | os.PathLike[str] | None = None,
        insecure: bool = False,
        client_cert: str | os.PathLike[str] | None = None,
        client_key: str | os.PathLike[str] | None = None,
        server_hostname: str | None = None,
        minimum_version: str | ssl.TLSVersion | None = None,
    ) -> TLSPolicy:
        """Build a policy from CLI/config values, checking that every file exists and loads."""
        ca = _readable_file(ca_file, "CA file") if ca_file else None
        cert = _readable_file(client_cert, "client certificate") if client_cert else None
        key = _readable_file(client_key, "client key") if client_key else None
        policy = cls(
            verify=not insecure,
            ca_file=ca,
            client_cert=cert,
            client_key=key,
            server_hostname=server_hostname or None,
            minimum_version=_parse_version(minimum_version or ssl.TLSVersion.TLSv1_2),
            insecure=insecure,
        )
        # Load once now so a bad PEM fails at startup, not at the first connection.
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        policy._load_trust(probe)
        policy._load_client_cert(probe)
        return policy

    @property
    def verifies(self) -> bool:
        """True when the server's certificate and host name are checked."""
        return self.verify and not self.insecure

    def ca_bundle(self) -> Path:
        """The PEM file of trusted roots: the explicit CA file or the located system bundle."""
        return self.ca_file.absolute() if self.ca_file is not None else locate_ca_bundle()

    def ssl_context(self) -> ssl.SSLContext:
        """A client-side context for HTTP, WebSocket and Redis connections."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = self.minimum_version
        if self.verifies:
            context.check_hostname = True
            context.verify_mode = ssl.CERT_REQUIRED
            self._load_trust(context)
        else:
            _warn_insecure("an SSL context")
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self._load_client_cert(context)
        return context

    def libpq_params(self) -> dict[str, str]:
        """Connection parameters for libpq/psycopg (merge into the conninfo or pass as kwargs)."""
        params: dict[str, str] = {"ssl_min_protocol_version": _LIBPQ_VERSION[self.minimum_version]}
        if self.verifies:
            params["sslmode"] = "verify-full"
            params["sslrootcert"] = str(self.ca_bundle())
        else:
            _warn_insecure("PostgreSQL (sslmode=require)")
            # No sslrootcert: with a root file present libpq would verify the CA after all.
            params["sslmode"] = "require"
        if self.client_cert is not None:
            params["sslcert"] = str(self.client_cert.absolute())
        if self.client_key is not None:
            params["sslkey"] = str(self.client_key.absolute())
        return params

    def redis_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for redis-py's ``Redis``/``from_url`` with a ``rediss://`` URL.

        redis-py builds its own context from these (it takes no ``ssl_context``).
        """
        kwargs: dict[str, Any] = {"ssl_min_version": self.minimum_version}
        if self.verifies:
            kwargs |= {
                "ssl_cert_reqs": "required",
                "ssl_check_hostname": True,
                "ssl_ca_certs": str(self.ca_bundle()),
            }
        else:
            _warn_insecure("Redis")
            kwargs |= {"ssl_cert_reqs": "none", "ssl_check_hostname": False}
        if self.client_cert is not None:
            kwargs["ssl_certfile"] = str(self.client_cert.absolute())
        if self.client_key is not None:
            kwargs["ssl_keyfile"] = str(self.client_key.absolute())
        return kwargs

    def _load_trust(self, context: ssl.SSLContext) -> None:
        if not self.verifies:
            return
        bundle = self.ca_bundle()
        try:
            context.load_verify_locations(cafile=bundle)
        except (OSError, ssl.SSLError) as exc:
            raise TLSConfigError(
                f"cannot load CA certificates from {str(bundle)!r}: {exc}"
            ) from exc

    def _load_client_cert(self, context: ssl.SSLContext) -> None:
        if self.client_cert is None:
            return
        try:
            context.load_cert_chain(certfile=self.client_cert, keyfile=self.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise TLSConfigError(
                f"cannot load client certificate {str(self.client_cert)!r}: {exc}"
            ) from exc
