"""The error family of the encrypted-config package.

Every failure a user can cause or fix (no key, wrong key, tampered file, bad JSON, a missing
field) is a `ConfigError` subclass whose message names the file and the fix. No message ever
contains key material, and none echoes configuration *values* (they may be secrets): only
file names, dotted paths, key names and type names.
"""

from __future__ import annotations

import os

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConfigFileError",
    "ConfigPathError",
    "EditError",
    "FormatError",
    "InsecureKeyFileError",
    "InvalidKeyError",
    "KeyFileError",
    "MissingKeyError",
    "NotJSONError",
    "SectionError",
    "SourceError",
    "UnsupportedVersionError",
]


class ConfigError(Exception):
    """Base class: a configuration problem the user can fix. The CLI exits with `exit_code`."""

    exit_code: int = 2


class MissingKeyError(ConfigError):
    """No key was given: neither an explicit key, a key file, nor the environment variables."""


class InvalidKeyError(ConfigError):
    """A key was found but is not 32 bytes of base64. The message names where it came from."""


class KeyFileError(ConfigError):
    """A key file could not be read (missing, a directory, no permission)."""


class InsecureKeyFileError(KeyFileError):
    """A key file is accessible by group or others; it must be mode 0600 (or 0400)."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        self.path = os.fspath(path)
        self.mode = mode
        super().__init__(
            f"key file {self.path} is accessible by group or others (mode {mode:04o}); "
            f"a key file must be private to its owner: run `chmod 600 {self.path}`"
        )


class ConfigFileError(ConfigError):
    """A configuration file could not be read or written (missing, no permission, disk full)."""


class FormatError(ConfigError):
    """The bytes are not a well-formed rsdev encrypted config (bad header or layout)."""


class UnsupportedVersionError(FormatError):
    """The file is an rsdev encrypted config of a format version this code does not know."""

    def __init__(self, name: str, version: int, supported: int) -> None:
        self.name = name
        self.version = version
        super().__init__(
            f"{name}: encrypted config format version {version} is not supported "
            f"(this lib-common reads version {supported}); upgrade lib-common to read it"
        )


class AuthenticationError(ConfigError):
    """Decryption failed: wrong key or a modified file. GCM cannot tell the two apart."""

    def __init__(self, name: str, reason: str | None = None) -> None:
        self.name = name
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"{name}: cannot decrypt{detail}: the file was tampered with or the key is wrong"
        )


class NotJSONError(ConfigError):
    """The (decrypted) content is not valid JSON, or not the JSON shape that was required."""


class ConfigPathError(ConfigError, LookupError):
    """A dotted path (`db.replicas.0.host`) does not exist in the document."""


class SectionError(ConfigError):
    """A section does not match its dataclass: missing, unknown or wrongly typed fields."""


class SourceError(ConfigError):
    """A config source is not allowed (e.g. a plain `http://` URL) or could not be fetched."""


class EditError(ConfigError):
    """`rsdev-config edit` was abandoned (editor failed, invalid result); the file is unchanged."""
