"""`redact`: the one function that removes secrets from any text a monitor prints or logs.

It covers the forms in which a connection string or an error message carries a secret:

- URL userinfo: ``postgresql://user:secret@host/db`` → ``postgresql://user:***@host/db``
  (also ``redis://:secret@host``; a password holding a raw ``@`` is covered up to the last
  ``@`` of the authority);
- query parameters: ``?password=…``, ``&token=…``, ``auth``, ``access_token``, ``api_key``…;
- libpq key=value DSNs: ``password=secret`` and ``password='se cret'`` (quoted, with ``\\'``);
- ``"password": "…"`` in JSON or Python reprs, and ``Authorization: Bearer …`` headers;
- literal values the caller knows are secret (``extra_secrets``), wherever they appear.

Redaction is idempotent (``redact(redact(x)) == redact(x)``) and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MASK", "SECRET_KEYS", "redact"]

MASK = "***"

# Parameter names whose value is a secret (compared case-insensitively).
SECRET_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "pass",
    "sslpassword",
    "token",
    "access_token",
    "refresh_token",
    "auth",
    "auth_token",
    "api_key",
    "apikey",
    "secret",
    "client_secret",
)
_KEYS = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))

# scheme://user:password@host — the password runs to the last '@' before the path.
_URL_USERINFO = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*:)(?P<secret>[^/?#\s]*)@(?=[^@/?#\s]*(?:[/?#\s]|$))"
)
# ?password=x&… / ;token=x — stops at the next separator.
_QUERY = re.compile(rf"(?P<head>[?&;](?:{_KEYS})=)(?P<secret>[^&#;\s]*)", re.IGNORECASE)
# libpq key=value: password=x or password = 'x y' (quotes with backslash escapes).
_KEYVALUE = re.compile(
    rf"(?P<head>(?<![\w?&;.\-])(?:{_KEYS})\s*=\s*)"
    r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s'\"]+)",
    re.IGNORECASE,
)
# "password": "x" (JSON) / 'password': 'x' (Python repr) / password: x (YAML-ish, unquoted).
_MAPPING = re.compile(
    rf"(?P<head>(?P<q>['\"]?)(?:{_KEYS})(?P=q)\s*:\s*)"
    r"(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,}'\"]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<head>\b(?:Bearer|Basic)\s+)(?P<secret>[A-Za-z0-9._~+/=\-]+)")


def _mask(match: re.Match[str]) -> str:
    secret = match.group("secret")
    if secret in (MASK, f"'{MASK}'", f'"{MASK}"'):
        return match.group(0)
    quote = secret[0] if secret[:1] in ("'", '"') else ""
    tail = "@" if match.re is _URL_USERINFO else ""
    return f"{match.group('head')}{quote}{MASK}{quote}{tail}"


def redact(text: object, extra_secrets: Iterable[str] = ()) -> str:
    """Return `text` (any object, via `str`) with every password, token and key masked."""
    out = str(text)
    # Known literal secrets first: they may appear in forms no pattern anticipates.
    for secret in sorted({s for s in extra_secrets if s and len(s) >= 3}, key=len, reverse=True):
        out = out.replace(secret, MASK)
    for pattern in (_URL_USERINFO, _QUERY, _KEYVALUE, _MAPPING, _BEARER):
        out = pattern.sub(_mask, out)
    return out
