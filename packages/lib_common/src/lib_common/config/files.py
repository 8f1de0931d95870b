"""Reading config files and writing them atomically.

A write goes to a temporary file in the target's directory (same filesystem), is flushed
and fsynced, then renamed over the target with `os.replace`, and the directory is fsynced
so the rename itself survives a crash. Readers see the old file or the new one, never half
of either. Encrypted configs and key files are written with mode 0600.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from lib_common.config.document import encrypt_document
from lib_common.config.errors import ConfigFileError
from lib_common.config.keys import KeyLike

__all__ = ["atomic_write", "read_bytes", "save_encrypted"]

PRIVATE_MODE = 0o600


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a whole file, translating OS errors into `ConfigFileError`."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ConfigFileError(f"cannot read {name}: {exc.strerror or exc}") from None


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    mode: int = PRIVATE_MODE,
    overwrite: bool = True,
) -> None:
    """Replace (or, with `overwrite=False`, create) `path` with `data`, atomically.

    With `overwrite=False` the file is published with `os.link`, which fails if the target
    exists, so two writers cannot both "create" it.
    """
    name = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(name))
    try:
        fd, tmp = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(name)}.", suffix=".tmp"
        )
    except OSError as exc:
        raise ConfigFileError(f"cannot write {name}: {exc.strerror or exc}") from None
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), mode)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if overwrite:
                os.replace(tmp, name)
            else:
                os.link(tmp, name)
                os.unlink(tmp)
        except FileExistsError:
            raise ConfigFileError(
                f"{name} already exists; refusing to overwrite it (--force replaces it)"
            ) from None
        except OSError as exc:
            raise ConfigFileError(f"cannot write {name}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    # Makes the rename durable; not possible (nor needed) on every platform.
    if os.name != "posix":
        return
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def save_encrypted(
    path: str | os.PathLike[str], obj: Any, key: KeyLike, *, overwrite: bool = True
) -> None:
    """Encrypt `obj` as a JSON document and write it to `path` atomically with mode 0600."""
    atomic_write(path, encrypt_document(obj, key), overwrite=overwrite)
