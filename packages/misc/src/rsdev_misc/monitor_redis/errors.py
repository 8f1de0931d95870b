"""Which `FailureKind` a redis-py error is: sans-I/O, from the exception type and message."""

from __future__ import annotations

import ssl

from redis import exceptions as rex

from rsdev_misc.monitor import FailureKind

__all__ = ["classify_error"]

_AUTH_REPLIES = ("WRONGPASS", "NOAUTH", "NOPERM")
_TLS_TEXT = ("ssl", "certificate", "tls")


def classify_error(exc: BaseException) -> FailureKind:
    """Blame for a failed probe: authentication, TLS, timeout, network, or the server."""
    if isinstance(exc, rex.AuthenticationError | rex.AuthorizationError | rex.NoPermissionError):
        return FailureKind.AUTHENTICATION
    if isinstance(exc, rex.ResponseError):
        if str(exc).upper().startswith(_AUTH_REPLIES):
            return FailureKind.AUTHENTICATION
        return FailureKind.SERVER  # LOADING, READONLY, MISCONF, OOM, BUSY…
    if isinstance(exc, rex.TimeoutError | TimeoutError):
        return FailureKind.TIMEOUT
    if isinstance(exc, rex.BusyLoadingError):
        return FailureKind.SERVER  # up, but still loading its dataset
    if isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError):
        return FailureKind.TLS
    if isinstance(exc, rex.ConnectionError | OSError):
        # redis-py flattens handshake failures into ConnectionError("… [SSL: …] …").
        text = str(exc).lower()
        if any(needle in text for needle in _TLS_TEXT):
            return FailureKind.TLS
        return FailureKind.NETWORK
    return FailureKind.SERVER
