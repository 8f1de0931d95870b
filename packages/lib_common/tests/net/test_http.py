"""HttpRequest target parsing and HttpResponse constructors (no sockets)."""

from __future__ import annotations

import json

from lib_common.net import Headers, HttpRequest, HttpResponse


def test_request_splits_path_and_query() -> None:
    """The path is percent-decoded and the query parsed, last value winning."""
    request = HttpRequest(
        "GET", "/v8/finance/chart/%5EGSPC?interval=1m&range=1d&range=5d", Headers()
    )
    assert request.path == "/v8/finance/chart/^GSPC"
    assert request.query == {"interval": "1m", "range": "5d"}


def test_request_json_body() -> None:
    """`json()` decodes the body."""
    request = HttpRequest("POST", "/x", Headers(), body=b'{"a": 1}')
    assert request.json() == {"a": 1}


def test_response_json_sets_content_type() -> None:
    """`HttpResponse.json` encodes compactly and sets the JSON content type first."""
    response = HttpResponse.json({"a": [1, 2]}, status=201, headers=[("X-A", "b")])
    assert response.status == 201
    assert response.headers == (("Content-Type", "application/json"), ("X-A", "b"))
    assert json.loads(response.body) == {"a": [1, 2]}
