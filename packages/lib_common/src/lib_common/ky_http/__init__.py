"""ky_http: the seed's retrying HTTP client (named after the JS library *ky*) on httpx.

``AsyncKy``/``Ky`` return an ``ApiResponse`` for every HTTP status and raise only the
``KyError`` family; ``RetryPolicy`` says what is retried and how long to wait.
"""

from lib_common.ky_http.client import AsyncKy
from lib_common.ky_http.errors import (
    KyDecodeError,
    KyError,
    KyRequestError,
    KyStatusError,
    KyTimeoutError,
    KyTLSError,
    KyTransportError,
)
from lib_common.ky_http.hooks import AfterResponse, BeforeRequest, BeforeRetry, Hooks
from lib_common.ky_http.policy import (
    IDEMPOTENT_METHODS,
    RETRY_AFTER_STATUS_CODES,
    RETRY_STATUS_CODES,
    Failure,
    RetryDecision,
    RetryPolicy,
    parse_retry_after,
    response_retry_after,
)
from lib_common.ky_http.response import ApiResponse
from lib_common.ky_http.sync_client import Ky

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_AFTER_STATUS_CODES",
    "RETRY_STATUS_CODES",
    "AfterResponse",
    "ApiResponse",
    "AsyncKy",
    "BeforeRequest",
    "BeforeRetry",
    "Failure",
    "Hooks",
    "Ky",
    "KyDecodeError",
    "KyError",
    "KyRequestError",
    "KyStatusError",
    "KyTLSError",
    "KyTimeoutError",
    "KyTransportError",
    "RetryDecision",
    "RetryPolicy",
    "parse_retry_after",
    "response_retry_after",
]
