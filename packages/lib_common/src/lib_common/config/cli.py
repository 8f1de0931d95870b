"""The `rsdev-config` console script: keygen, encrypt, decrypt, edit, get.

Exit codes: 0 success; 2 a configuration error (no key, wrong key or tampered file, not
JSON, unsupported format version, unreadable file, missing path, abandoned edit) or a
usage error; 130 interrupted. Messages go to stderr and never contain key material.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from lib_common.config.document import parse_object
from lib_common.config.editor import EditOutcome, edit_file
from lib_common.config.envelope import decrypt_bytes, encrypt_bytes, is_envelope
from lib_common.config.errors import ConfigError, NotJSONError
from lib_common.config.files import atomic_write, read_bytes
from lib_common.config.keys import KEY_ENV, KEY_FILE_ENV, generate_key, load_key
from lib_common.config.loader import load_config
from lib_common.config.paths import lookup

__all__ = ["build_parser", "main"]

PROG = "rsdev-config"

_KEYS_HELP = f"""\
key: the first of --key-file FILE, ${KEY_ENV} (the base64 key itself) and
${KEY_FILE_ENV} (a key file path). A key file must be mode 0600 or 0400.

exit codes: 0 ok; 2 config error (no key, wrong key or tampered file, not JSON,
unsupported format version, unreadable file, missing path, abandoned edit) or usage
error; 130 interrupted.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so docs and tests can render the help)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Encrypted JSON configuration for rsdev (AES-256-GCM, whole document).",
        epilog=_KEYS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    keyed = argparse.ArgumentParser(add_help=False)
    keyed.add_argument(
        "--key-file",
        metavar="FILE",
        help=f"read the key from FILE (mode 0600); overrides ${KEY_ENV} and ${KEY_FILE_ENV}",
    )

    def command(
        name: str, summary: str, details: str, *, needs_key: bool
    ) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=f"{summary}\n\n{details}",
            epilog=_KEYS_HELP if needs_key else None,
            parents=[keyed] if needs_key else [],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    keygen = command(
        "keygen",
        "Make a new random key.",
        "Prints a new 32-byte key as base64, or with --out writes it to a new file with mode\n"
        "0600 (atomically; an existing file is kept unless --force).",
        needs_key=False,
    )
    keygen.add_argument("--out", metavar="FILE", help="write the key to FILE instead of stdout")
    keygen.add_argument("--force", action="store_true", help="replace FILE if it exists")

    encrypt = command(
        "encrypt",
        "Encrypt a JSON file.",
        "Validates IN as a JSON object and writes it encrypted to OUT (mode 0600, atomically).\n"
        "IN may be '-' for stdin. An existing OUT is kept unless --force.\n\n"
        "example: rsdev-config encrypt config.json config.enc && shred -u config.json",
        needs_key=True,
    )
    encrypt.add_argument("input", metavar="IN", help="plain JSON file, or - for stdin")
    encrypt.add_argument("output", metavar="OUT", help="encrypted file to write")
    encrypt.add_argument("--force", action="store_true", help="replace OUT if it exists")

    decrypt = command(
        "decrypt",
        "Print the decrypted JSON of an encrypted file.",
        "Authenticates and decrypts FILE and writes the JSON document to stdout.\n\n"
        "example: rsdev-config decrypt config.enc | jq .db",
        needs_key=True,
    )
    decrypt.add_argument("file", metavar="FILE", help="encrypted config file")

    edit = command(
        "edit",
        "Edit an encrypted file in $EDITOR.",
        "Decrypts FILE into a private temporary file, opens it in $EDITOR (else $VISUAL,\n"
        "else vi), checks the result is a JSON object and re-encrypts FILE atomically.\n"
        "FILE is left byte-identical if the editor fails, the JSON is invalid, or nothing\n"
        "changed.",
        needs_key=True,
    )
    edit.add_argument("file", metavar="FILE", help="encrypted config file")

    get = command(
        "get",
        "Print one value by dotted path.",
        "Prints the value at PATH in FILE (encrypted, or plain JSON): objects and arrays as\n"
        "JSON, strings as plain text, other scalars as JSON (true, null, 42). Array items\n"
        "are addressed by index: db.replicas.0.host.\n\n"
        "example: PGPASSWORD=$(rsdev-config get config.enc db.password)",
        needs_key=True,
    )
    get.add_argument("file", metavar="FILE", help="config file (encrypted or plain JSON)")
    get.add_argument("path", metavar="PATH", help="dotted path, e.g. db.replicas.0.host")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (argparse exits 2 itself on usage errors)."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "keygen":
        return _keygen(args.out, force=args.force)
    if args.command == "get":
        # Plain JSON needs no key, so the key is only looked up for an encrypted file.
        doc = load_config(args.file, key_file=args.key_file)
        value = lookup(doc, args.path, name=args.file)
        text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
        _write_stdout((text + "\n").encode("utf-8"))
        return 0
    key = load_key(key_file=args.key_file)
    if args.command == "encrypt":
        data = sys.stdin.buffer.read() if args.input == "-" else read_bytes(args.input)
        name = "<stdin>" if args.input == "-" else args.input
        if is_envelope(data):
            raise NotJSONError(f"{name} is already an rsdev encrypted config")
        parse_object(data, name=name)
        # The user's own formatting is kept: the exact bytes are encrypted.
        atomic_write(args.output, encrypt_bytes(data, key), overwrite=args.force)
        print(f"encrypted {name} -> {args.output}", file=sys.stderr)
    elif args.command == "decrypt":
        plaintext = decrypt_bytes(read_bytes(args.file), key, name=args.file)
        parse_object(plaintext, name=args.file)
        _write_stdout(plaintext)
    elif args.command == "edit":
        outcome = edit_file(args.file, key)
        message = "saved" if outcome is EditOutcome.SAVED else "no changes; left untouched"
        print(f"{args.file}: {message}", file=sys.stderr)
    return 0


def _keygen(out: str | None, *, force: bool) -> int:
    key = generate_key()
    if out is None:
        print(key)
        return 0
    atomic_write(out, (key + "\n").encode("ascii"), overwrite=force)
    print(f"wrote a new key to {out} (mode 0600); keep it out of version control", file=sys.stderr)
    return 0


def _write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    sys.exit(main())
