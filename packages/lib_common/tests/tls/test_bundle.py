"""Tests for locating the system CA bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_common.tls import TLSConfigError, locate_ca_bundle


def test_ssl_cert_file_overrides_everything(ca_file: Path) -> None:
    """SSL_CERT_FILE, when set, is the bundle."""
    assert ca_file == locate_ca_bundle({"SSL_CERT_FILE": str(ca_file)})


def test_ssl_cert_file_pointing_nowhere_is_an_error(tmp_path: Path) -> None:
    """A SSL_CERT_FILE that does not exist is refused instead of silently ignored."""
    with pytest.raises(TLSConfigError, match="SSL_CERT_FILE"):
        locate_ca_bundle({"SSL_CERT_FILE": str(tmp_path / "missing.pem")})


def test_without_override_an_existing_absolute_pem_file_is_found() -> None:
    """With no override the search ends at an existing absolute PEM file (system or certifi)."""
    bundle = locate_ca_bundle({})
    assert bundle.is_absolute()
    assert bundle.is_file()
    assert b"BEGIN CERTIFICATE" in bundle.read_bytes()[:100_000]
