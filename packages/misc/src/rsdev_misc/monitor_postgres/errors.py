"""Which `FailureKind` a psycopg error is: sans-I/O, from the SQLSTATE or libpq's message.

Errors raised while connecting carry no SQLSTATE (libpq reports a connection failure as
text only), so those are recognised by the message; errors after login keep `sqlstate`.
"""

from __future__ import annotations

import psycopg

from rsdev_misc.monitor import FailureKind

__all__ = ["classify_error"]

# SQLSTATE class 28 = invalid authorization specification (28000) / invalid password (28P01).
_AUTH_STATES = ("28000", "28P01")
# libpq's English messages (psycopg-binary's libpq has no translations).
_AUTH_TEXT = (
    "password authentication failed",
    "sasl authentication failed",
    "authentication failed",
    "no password supplied",
    "no pg_hba.conf entry",
    "pg_hba.conf rejects",
    'role "',  # role "x" does not exist / is not permitted to log in
)
_TLS_TEXT = (
    "ssl error",
    "ssl syscall",
    "certificate",
    "ssl was required",
    "does not support ssl",
    "sslmode",
    "ssl connection",
)
_TIMEOUT_TEXT = ("timeout expired", "timed out", "query_wait_timeout", "canceling statement")
_NETWORK_TEXT = (
    "connection refused",
    "could not connect",
    "could not translate host name",
    "failed to resolve host",
    "name or service not known",
    "no route to host",
    "network is unreachable",
    "connection reset",
    "server closed the connection unexpectedly",
    "no such file or directory",  # unix socket path
    "connection to server",
    "broken pipe",
    "consuming input failed",
)


def classify_error(exc: BaseException) -> FailureKind:
    """Blame for a failed probe: authentication, TLS, timeout, network, or the server."""
    if isinstance(exc, TimeoutError | psycopg.errors.ConnectionTimeout):
        return FailureKind.TIMEOUT
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate:
        if sqlstate in _AUTH_STATES:
            return FailureKind.AUTHENTICATION
        if sqlstate == "57014":  # query_canceled: statement_timeout or a cancel
            return FailureKind.TIMEOUT
        if sqlstate.startswith("08"):  # connection exception
            return _from_text(str(exc).lower(), default=FailureKind.NETWORK)
        return FailureKind.SERVER
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | OSError):
        return _from_text(str(exc).lower(), default=FailureKind.NETWORK)
    return FailureKind.SERVER


def _from_text(text: str, *, default: FailureKind) -> FailureKind:
    # Order matters: "connection to server … failed: FATAL: password authentication failed"
    # names the network path *and* the real cause; the cause wins.
    for needles, kind in (
        (_AUTH_TEXT, FailureKind.AUTHENTICATION),
        (_TLS_TEXT, FailureKind.TLS),
        (_TIMEOUT_TEXT, FailureKind.TIMEOUT),
    ):
        if any(needle in text for needle in needles):
            return kind
    if "fatal:" in text:  # the server answered and refused (e.g. database does not exist)
        return FailureKind.SERVER
    if any(needle in text for needle in _NETWORK_TEXT):
        return FailureKind.NETWORK
    return default
