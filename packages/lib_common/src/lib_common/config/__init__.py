"""Encrypted JSON configuration ("Cloud Config"): AES-256-GCM documents, keys, loader, CLI.

    from lib_common.config import load_config, load_section

    cfg = load_config("/etc/rsdev/restream.enc")          # key from RSDEV_CONFIG_KEY[_FILE]
    db = load_section(cfg, "db", DbSettings)               # a typed dataclass

    # CLI front ends: each Setting by flag > environment > config > default
    resolved = resolve_settings(settings, flags, environ=os.environ, config=cfg)

See docs/config.md for the file format, key handling, the `rsdev-config` CLI and the shared
setting resolution (`lib_common.config.settings`).
"""

from lib_common.config.document import decrypt_document, encrypt_document
from lib_common.config.envelope import FORMAT_VERSION, decrypt_bytes, encrypt_bytes
from lib_common.config.errors import (
    AuthenticationError,
    ConfigError,
    ConfigFileError,
    ConfigPathError,
    EditError,
    FormatError,
    InsecureKeyFileError,
    InvalidKeyError,
    KeyFileError,
    MissingKeyError,
    NotJSONError,
    SectionError,
    SourceError,
    UnsupportedVersionError,
)
from lib_common.config.files import atomic_write, save_encrypted
from lib_common.config.keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    ConfigKey,
    KeyLike,
    generate_key,
    load_key,
    read_key_file,
)
from lib_common.config.loader import Source, load_config, load_section, parse_config
from lib_common.config.paths import lookup
from lib_common.config.settings import (
    Resolved,
    Setting,
    SettingValueError,
    help_with_notes,
    resolve_settings,
    unknown_config_keys,
)

__all__ = [
    "FORMAT_VERSION",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "AuthenticationError",
    "ConfigError",
    "ConfigFileError",
    "ConfigKey",
    "ConfigPathError",
    "EditError",
    "FormatError",
    "InsecureKeyFileError",
    "InvalidKeyError",
    "KeyFileError",
    "KeyLike",
    "MissingKeyError",
    "NotJSONError",
    "Resolved",
    "SectionError",
    "Setting",
    "SettingValueError",
    "Source",
    "SourceError",
    "UnsupportedVersionError",
    "atomic_write",
    "decrypt_bytes",
    "decrypt_document",
    "encrypt_bytes",
    "encrypt_document",
    "generate_key",
    "help_with_notes",
    "load_config",
    "load_key",
    "load_section",
    "lookup",
    "parse_config",
    "read_key_file",
    "resolve_settings",
    "save_encrypted",
    "unknown_config_keys",
]
