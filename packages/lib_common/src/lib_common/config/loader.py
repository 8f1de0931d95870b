"""Loading configuration: from a file (encrypted or plain JSON) or an https:// URL.

The format is detected by content, not by file name: bytes starting with the
`rsdev-config/` header are an encrypted envelope and need a key; anything else must be plain
JSON, which is accepted for development with a logged warning. Every document's top level
must be a JSON object.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from loguru import logger

from lib_common.config.document import parse_object
from lib_common.config.envelope import decrypt_bytes, is_envelope
from lib_common.config.errors import NotJSONError, SourceError
from lib_common.config.files import read_bytes
from lib_common.config.keys import KeyLike, load_key
from lib_common.config.paths import lookup
from lib_common.config.sections import build_section

if TYPE_CHECKING:
    from lib_common.tls import TLSPolicy

__all__ = ["Source", "load_config", "load_section", "parse_config"]

T = TypeVar("T")

Source: TypeAlias = str | os.PathLike[str]
"""A file path, or an `https://` URL given as a string."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def load_config(
    source: Source,
    *,
    key: KeyLike | None = None,
    key_file: str | os.PathLike[str] | None = None,
    tls: TLSPolicy | None = None,
) -> dict[str, Any]:
    """Load a config document (a JSON object) from a path or an https:// URL.

    An encrypted document is decrypted with `key`, else the key found by the usual
    precedence (`key_file`, then `RSDEV_CONFIG_KEY`, then `RSDEV_CONFIG_KEY_FILE`). `tls`
    applies to URL sources only (default: verify against the system CAs).
    """
    if isinstance(source, str) and _SCHEME.match(source):
        blob, name = _fetch_https(source, tls)
    else:
        name = os.fspath(source)
        blob = read_bytes(name)
    return parse_config(blob, name=name, key=key, key_file=key_file)


def parse_config(
    blob: bytes,
    *,
    name: str,
    key: KeyLike | None = None,
    key_file: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Parse config bytes already in memory: an encrypted envelope or plain JSON."""
    if is_envelope(blob):
        config_key = load_key(key=key, key_file=key_file)
        return parse_object(decrypt_bytes(blob, config_key, name=name), name=name)
    try:
        doc = parse_object(blob, name=name)
    except NotJSONError as exc:
        raise NotJSONError(
            f"{exc} (and it is not an rsdev encrypted config: no 'rsdev-config/' header)"
        ) from None
    logger.warning(
        "config {name} is plain, unencrypted JSON: fine for development, "
        "encrypt it with `rsdev-config encrypt` for production",
        name=name,
    )
    return doc


def load_section(
    data_or_source: Mapping[str, Any] | Source,
    path: str,
    cls: type[T],
    *,
    key: KeyLike | None = None,
    key_file: str | os.PathLike[str] | None = None,
    tls: TLSPolicy | None = None,
) -> T:
    """Build dataclass `cls` from the section at dotted `path` ("" = the whole document).

    `data_or_source` is an already loaded document, or a source for `load_config`.
    """
    if isinstance(data_or_source, Mapping):
        doc: Any = data_or_source
        name = "<config>"
    else:
        doc = load_config(data_or_source, key=key, key_file=key_file, tls=tls)
        name = _display_name(data_or_source)
    return build_section(cls, lookup(doc, path, name=name), path=path, name=name)


def _display_name(source: Source) -> str:
    if isinstance(source, str) and _SCHEME.match(source):
        return _redact_url(source)
    return os.fspath(source)


def _redact_url(url: str) -> str:
    """The URL without credentials, query or fragment (they may hold tokens)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _fetch_https(url: str, tls: TLSPolicy | None) -> tuple[bytes, str]:
    name = _redact_url(url)
    if urllib.parse.urlsplit(url).scheme.lower() != "https":
        raise SourceError(
            f"{name}: only https:// URLs are allowed as config sources "
            "(a config holds secrets; plain http would expose them)"
        )
    # Imported here: only URL sources need the HTTP client.
    from lib_common.ky_http import Ky, KyError
    from lib_common.tls import TLSConfigError, TLSPolicy

    try:
        with Ky(tls=tls if tls is not None else TLSPolicy()) as client:
            response = client.get(url)
            response.raise_for_status()
            return response.content, name
    except KyError as exc:
        # ky_http's message leads with the full URL, which may carry a token: show ours.
        detail = str(exc).removeprefix(f"{exc.method} {exc.url}: ").replace(url, name)
        raise SourceError(f"cannot fetch config from {name}: {detail}") from None
    except TLSConfigError as exc:
        raise SourceError(f"cannot fetch config from {name}: {exc}") from None
