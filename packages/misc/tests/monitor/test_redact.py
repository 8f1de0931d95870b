"""redact(): no password or token survives in any of the forms monitors print."""

from __future__ import annotations

import pytest

from rsdev_misc.monitor import redact

CASES = [
    ("postgresql://app:s3cr3t@db.example:5432/prod", "postgresql://app:***@db.example:5432/prod"),
    ("postgres://app:p@ss@127.0.0.1/db", "postgres://app:***@127.0.0.1/db"),
    ("redis://:s3cr3t@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("rediss://default:s3cr3t@cache:6380", "rediss://default:***@cache:6380"),
    ("host=db user=app password=s3cr3t dbname=x", "host=db user=app password=*** dbname=x"),
    ("host=db password = 'se cr\\'et' port=5", "host=db password = '***' port=5"),
    ("http://127.0.0.1/x?a=1&token=s3cr3t&b=2", "http://127.0.0.1/x?a=1&token=***&b=2"),
    ("postgresql://h/db?user=u&password=s3cr3t", "postgresql://h/db?user=u&password=***"),
    ("https://h/?auth=s3cr3t#frag", "https://h/?auth=***#frag"),
    ("{'password': 's3cr3t', 'user': 'app'}", "{'password': '***', 'user': 'app'}"),
    ('{"api_key": "s3cr3t"}', '{"api_key": "***"}'),
    ("Authorization: Bearer s3cr3t.tok", "Authorization: Bearer ***"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_secret_forms_are_masked(raw: str, expected: str) -> None:
    """Each secret form is masked and the rest of the text is kept."""
    assert expected == redact(raw)


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_redaction_is_idempotent(raw: str, expected: str) -> None:
    """Redacting twice changes nothing more."""
    assert expected == redact(redact(raw))


def test_text_without_secrets_is_unchanged() -> None:
    """Hosts, ports, users and ordinary errors pass through."""
    text = 'password authentication failed for user "app" at 127.0.0.1:5432 (postgresql://app@h/db)'
    assert text == redact(text)


def test_known_secret_is_masked_anywhere() -> None:
    """A literal secret the caller knows is masked even in an unexpected form."""
    assert redact("server said: hunter22 rejected", ["hunter22"]) == "server said: *** rejected"


def test_secret_embedded_in_error_message() -> None:
    """A URL inside an exception message loses its password."""
    msg = "cannot connect to postgresql://u:hunter22@127.0.0.1:1/db: refused"
    assert "hunter22" not in redact(msg)
