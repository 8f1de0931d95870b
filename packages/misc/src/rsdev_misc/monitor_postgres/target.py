"""From a DSN and the TLS options to the exact libpq parameters a probe connects with.

The TLS rule (lib_common.tls): verify the server (``sslmode=verify-full`` against an
explicit CA file, or the located system bundle) unless the user says otherwise *explicitly*:
``sslmode=disable`` for plaintext (loopback, unix socket, a pooler on the same host) or
``--tls-insecure`` for encryption without verification. The modes that can silently fall
back to plaintext (``allow``, ``prefer``) or skip checks (``require``, ``verify-ca``) are
refused, whether they come from a flag or from the DSN.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from lib_common.tls import TLSConfigError, TLSPolicy
from rsdev_misc.monitor import UsageError, redact

__all__ = ["MIN_CONNECT_TIMEOUT_S", "SSLMODES", "PostgresTarget", "resolve_target"]

SSLMODES = ("verify-full", "disable")
MIN_CONNECT_TIMEOUT_S = 2  # libpq treats 1 as 2 anyway; below that it is "wait forever"-ish

_REFUSED = {
    "allow": "tries plaintext first",
    "prefer": "falls back to plaintext when TLS fails",
    "require": "encrypts but does not check who the server is",
    "verify-ca": "does not check the server's host name",
}


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """Where and how to connect; `description` is safe to print, `conninfo` is not."""

    conninfo: str
    description: str
    sslmode: str
    secrets: tuple[str, ...]

    def conninfo_with_timeout(self, timeout: float) -> str:
        """The conninfo with libpq's own connect_timeout (whole seconds, at least 2)."""
        seconds = max(MIN_CONNECT_TIMEOUT_S, math.ceil(timeout))
        return make_conninfo(self.conninfo, connect_timeout=seconds)


def resolve_target(
    dsn: str,
    *,
    sslmode: str | None = None,
    sslrootcert: str | None = None,
    tls_insecure: bool = False,
    environ: Mapping[str, str] | None = None,
) -> PostgresTarget:
    """Check the DSN and the TLS choice; raise `UsageError` (redacted) when they are unusable."""
    env = os.environ if environ is None else environ
    try:
        params = conninfo_to_dict(dsn)
    except ProgrammingError as exc:
        raise UsageError(f"invalid DSN: {redact(exc)}") from None
    secrets = tuple(s for s in (str(params.get("password") or ""), env.get("PGPASSWORD", "")) if s)
    mode = sslmode or str(params.get("sslmode") or "verify-full")
    if tls_insecure:
        if sslmode == "disable":
            raise UsageError("--tls-insecure and --sslmode disable contradict each other")
        policy_params = _policy_params(ca_file=None, insecure=True)
        mode = policy_params["sslmode"]
    elif mode == "disable":
        policy_params = {"sslmode": "disable"}
    elif mode == "verify-full":
        ca = sslrootcert or params.get("sslrootcert")
        # "system" means the system's roots: psycopg-binary's OpenSSL cannot find Debian's
        # store by itself, so hand libpq the located bundle file instead.
        policy_params = _policy_params(ca_file=None if ca in (None, "", "system") else str(ca))
    elif mode in _REFUSED:
        raise UsageError(
            f"sslmode={mode} is refused: it {_REFUSED[mode]}. Use --sslmode verify-full "
            "(with --sslrootcert CA.pem), or --sslmode disable on purpose for plaintext, "
            "or --tls-insecure to encrypt without verifying"
        )
    else:
        raise UsageError(f"unknown sslmode {mode!r} (use verify-full or disable)")
    params.pop("sslrootcert", None)
    params.update(policy_params)
    return PostgresTarget(
        conninfo=make_conninfo("", **params),
        description=describe(params),
        sslmode=mode,
        secrets=secrets,
    )


def describe(params: Mapping[str, object]) -> str:
    """``postgresql://user@host:port/dbname`` without the password, for logs and state."""
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = str(params.get("port") or "5432")
    user = str(params.get("user") or "")
    dbname = str(params.get("dbname") or user)
    userinfo = f"{user}@" if user else ""
    hostport = ",".join(f"{h}:{port}" for h in host.split(","))
    return f"postgresql://{userinfo}{hostport}/{dbname}"


def _policy_params(*, ca_file: str | None, insecure: bool = False) -> dict[str, str]:
    try:
        return TLSPolicy.from_options(ca_file=ca_file, insecure=insecure).libpq_params()
    except TLSConfigError as exc:
        raise UsageError(f"TLS: {exc}") from None
