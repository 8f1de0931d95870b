"""`rsdev-config edit`: decrypt to a private temp file, run the editor, re-encrypt.

The original file is rewritten only when the editor exits 0, the result is a valid JSON
object, and the content changed; on any other outcome it stays byte-identical. The
plaintext lives in a fresh directory only its owner can enter, and is deleted afterwards.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from enum import Enum

from lib_common.config.document import parse_object
from lib_common.config.envelope import decrypt_bytes, encrypt_bytes
from lib_common.config.errors import EditError, NotJSONError
from lib_common.config.files import atomic_write, read_bytes
from lib_common.config.keys import ConfigKey

__all__ = ["EditOutcome", "edit_file", "editor_command"]


class EditOutcome(Enum):
    SAVED = "saved"
    UNCHANGED = "unchanged"


def editor_command(environ: Mapping[str, str]) -> list[str]:
    """The editor to run: `$EDITOR`, else `$VISUAL`, else `vi` (may carry arguments)."""
    for var in ("EDITOR", "VISUAL"):
        value = environ.get(var, "").strip()
        if value:
            try:
                return shlex.split(value)
            except ValueError as exc:  # e.g. an unbalanced quote
                raise EditError(f"cannot parse ${var} ({exc})") from None
    return ["vi"]


def edit_file(
    path: str | os.PathLike[str], key: ConfigKey, *, environ: Mapping[str, str] | None = None
) -> EditOutcome:
    """Edit an encrypted config in the user's editor; see the module docstring."""
    name = os.fspath(path)
    env = os.environ if environ is None else environ
    original = read_bytes(name)
    plaintext = decrypt_bytes(original, key, name=name)
    workdir = tempfile.mkdtemp(prefix="rsdev-config-")  # mode 0700
    try:
        # A .json name gives the editor its syntax highlighting.
        stem = os.path.basename(name).removesuffix(".enc").removesuffix(".json")
        draft = os.path.join(workdir, stem + ".json")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(plaintext)
        command = [*editor_command(env), draft]
        try:
            status = subprocess.run(command, check=False).returncode
        except OSError as exc:
            raise EditError(
                f"cannot start editor {command[0]!r}: {exc.strerror or exc}; "
                f"{name} is unchanged (set EDITOR)"
            ) from None
        if status != 0:
            raise EditError(f"editor exited with status {status}; {name} is unchanged")
        edited = read_bytes(draft)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if edited == plaintext:
        return EditOutcome.UNCHANGED
    try:
        parse_object(edited, name="the edited document")
    except NotJSONError as exc:
        raise EditError(f"{exc}; your changes were discarded and {name} is unchanged") from None
    # Someone else may have rewritten the file while the editor was open: do not clobber it.
    if read_bytes(name) != original:
        raise EditError(f"{name} changed on disk during the edit; your changes were discarded")
    atomic_write(name, encrypt_bytes(edited, key))
    return EditOutcome.SAVED
