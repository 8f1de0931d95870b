"""classify_error: SQLSTATEs and libpq connection messages mapped to a FailureKind."""

from __future__ import annotations

import psycopg
import pytest

from rsdev_misc.monitor import FailureKind
from rsdev_misc.monitor_postgres import classify_error

_CONN = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: '


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('FATAL:  password authentication failed for user "m"', FailureKind.AUTHENTICATION),
        ("FATAL:  SASL authentication failed", FailureKind.AUTHENTICATION),
        ("fe_sendauth: no password supplied", FailureKind.AUTHENTICATION),
        ('FATAL:  no pg_hba.conf entry for host "127.0.0.1"', FailureKind.AUTHENTICATION),
        ("SSL error: certificate verify failed", FailureKind.TLS),
        ("server does not support SSL, but SSL was required", FailureKind.TLS),
        ('root certificate file "/x" does not exist', FailureKind.TLS),
        ("Connection refused\n\tIs the server running on that host", FailureKind.NETWORK),
        ("server closed the connection unexpectedly", FailureKind.NETWORK),
        ("timeout expired", FailureKind.TIMEOUT),
        ('FATAL:  database "x" does not exist', FailureKind.SERVER),
        ("FATAL:  the database system is shutting down", FailureKind.SERVER),
    ],
)
def test_connection_messages(message: str, expected: FailureKind) -> None:
    """A connect-time OperationalError (no SQLSTATE) is classified by libpq's message."""
    assert expected == classify_error(psycopg.OperationalError(_CONN + message))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (psycopg.errors.InvalidPassword("x"), FailureKind.AUTHENTICATION),
        (psycopg.errors.InvalidAuthorizationSpecification("x"), FailureKind.AUTHENTICATION),
        (psycopg.errors.QueryCanceled("x"), FailureKind.TIMEOUT),
        (psycopg.errors.AdminShutdown("x"), FailureKind.SERVER),
        (psycopg.errors.UndefinedTable("x"), FailureKind.SERVER),
        (psycopg.errors.ProtocolViolation("query_wait_timeout"), FailureKind.TIMEOUT),
        (psycopg.errors.ConnectionFailure("x"), FailureKind.NETWORK),
    ],
)
def test_sqlstates(error: psycopg.Error, expected: FailureKind) -> None:
    """An error with a SQLSTATE is classified by it (class 28 is authentication)."""
    assert expected == classify_error(error)


def test_timeouts() -> None:
    """Our own deadline and libpq's connect_timeout are both TIMEOUT."""
    assert classify_error(TimeoutError()) == FailureKind.TIMEOUT
    assert classify_error(psycopg.errors.ConnectionTimeout("x")) == FailureKind.TIMEOUT
