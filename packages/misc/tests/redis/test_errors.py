"""classify_error: redis-py exceptions mapped to a FailureKind."""

from __future__ import annotations

import ssl

import pytest
from redis import exceptions as rex

from rsdev_misc.monitor import FailureKind
from rsdev_misc.monitor_redis import classify_error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (rex.AuthenticationError("invalid username-password pair"), FailureKind.AUTHENTICATION),
        (rex.ResponseError("WRONGPASS invalid username-password pair"), FailureKind.AUTHENTICATION),
        (rex.ResponseError("NOAUTH Authentication required."), FailureKind.AUTHENTICATION),
        (rex.NoPermissionError("NOPERM no permissions to run 'set'"), FailureKind.AUTHENTICATION),
        (rex.TimeoutError("Timeout reading from 127.0.0.1:6379"), FailureKind.TIMEOUT),
        (TimeoutError(), FailureKind.TIMEOUT),
        (
            rex.ConnectionError("Error 1 connecting. [SSL: CERTIFICATE_VERIFY_FAILED] failed"),
            FailureKind.TLS,
        ),
        (ssl.SSLCertVerificationError("hostname mismatch"), FailureKind.TLS),
        (rex.ConnectionError("Error 111 connecting to 127.0.0.1:6379."), FailureKind.NETWORK),
        (ConnectionRefusedError(111, "refused"), FailureKind.NETWORK),
        (rex.BusyLoadingError("Redis is loading the dataset in memory"), FailureKind.SERVER),
        (
            rex.ReadOnlyError("READONLY You can't write against a read only replica."),
            FailureKind.SERVER,
        ),
        (rex.ResponseError("MISCONF cannot persist"), FailureKind.SERVER),
    ],
)
def test_classification(error: BaseException, expected: FailureKind) -> None:
    """Each redis-py failure is blamed on the right party."""
    assert classify_error(error) == expected
