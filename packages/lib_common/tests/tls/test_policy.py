"""Tests for TLSPolicy: validation, insecure mode, libpq and redis-py settings."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from lib_common.tls import TLSConfigError, TLSPolicy


def test_verify_false_without_insecure_is_refused() -> None:
    """Turning verification off needs the explicit insecure switch."""
    with pytest.raises(TLSConfigError, match="insecure=True"):
        TLSPolicy(verify=False)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_minimum_below_tls12_is_refused(version: ssl.TLSVersion) -> None:
    """A minimum below TLS 1.2 is a downgrade and is refused."""
    with pytest.raises(TLSConfigError, match=r"below TLS 1\.2"):
        TLSPolicy(minimum_version=version)


def test_client_key_without_cert_is_refused(tmp_path: Path) -> None:
    """A lone client key is a configuration mistake."""
    with pytest.raises(TLSConfigError, match="client_key"):
        TLSPolicy(client_key=tmp_path / "key.pem")


def test_default_context_verifies_with_tls12_minimum() -> None:
    """The default context checks certificate and host name and refuses < TLS 1.2."""
    context = TLSPolicy().ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert ssl.TLSVersion.TLSv1_2 == context.minimum_version
    assert context.cert_store_stats()["x509_ca"] > 0


def test_from_options_missing_ca_file(tmp_path: Path) -> None:
    """A CA file that does not exist fails at configuration time with its path."""
    missing = tmp_path / "nope.pem"
    with pytest.raises(TLSConfigError, match=r"nope\.pem"):
        TLSPolicy.from_options(ca_file=missing)


def test_from_options_ca_file_that_is_not_pem(tmp_path: Path) -> None:
    """A CA file without certificates fails at configuration time."""
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(TLSConfigError, match="cannot load CA certificates"):
        TLSPolicy.from_options(ca_file=garbage)


def test_from_options_parses_version_and_absolutises_paths(
    ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """from_options accepts "1.3" and relative paths, stored absolute."""
    monkeypatch.chdir(ca_file.parent)
    policy = TLSPolicy.from_options(ca_file="ca.pem", minimum_version="1.3")
    assert ca_file == policy.ca_file
    assert ssl.TLSVersion.TLSv1_3 == policy.minimum_version


def test_from_options_rejects_unknown_version() -> None:
    """An unknown version string is a clear error."""
    with pytest.raises(TLSConfigError, match="not understood"):
        TLSPolicy.from_options(minimum_version="1.1")


def test_from_options_loads_client_cert(ca: trustme.CA, tmp_path: Path) -> None:
    """A client certificate with its key loads into the context."""
    leaf = ca.issue_cert("client.test")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    for blob in leaf.cert_chain_pems:
        blob.write_to_path(str(cert), append=True)
    leaf.private_key_pem.write_to_path(str(key))
    policy = TLSPolicy.from_options(client_cert=cert, client_key=key)
    assert cert == policy.client_cert
    policy.ssl_context()


def test_from_options_bad_client_key(ca: trustme.CA, tmp_path: Path) -> None:
    """A client key that does not match the certificate is refused."""
    cert, key = tmp_path / "client.pem", tmp_path / "other.key"
    ca.issue_cert("client.test").cert_chain_pems[0].write_to_path(str(cert))
    ca.issue_cert("other.test").private_key_pem.write_to_path(str(key))
    with pytest.raises(TLSConfigError, match="client certificate"):
        TLSPolicy.from_options(client_cert=cert, client_key=key)


def test_libpq_params_with_ca_file(ca_file: Path) -> None:
    """An explicit CA gives verify-full with that absolute file."""
    params = TLSPolicy(ca_file=ca_file).libpq_params()
    assert {
        "sslmode": "verify-full",
        "sslrootcert": str(ca_file),
        "ssl_min_protocol_version": "TLSv1.2",
    } == params


def test_libpq_params_without_ca_use_the_located_bundle_file(
    ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a CA file sslrootcert is the located bundle *file*, never "system"."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert str(ca_file) == TLSPolicy().libpq_params()["sslrootcert"]
    monkeypatch.delenv("SSL_CERT_FILE")
    rootcert = TLSPolicy().libpq_params()["sslrootcert"]
    assert rootcert != "system"
    assert Path(rootcert).is_absolute()
    assert Path(rootcert).is_file()


def test_libpq_params_client_cert(tmp_path: Path) -> None:
    """Client certificate and key become sslcert and sslkey."""
    params = TLSPolicy(client_cert=tmp_path / "c.pem", client_key=tmp_path / "c.key").libpq_params()
    assert str(tmp_path / "c.pem") == params["sslcert"]
    assert str(tmp_path / "c.key") == params["sslkey"]


def test_libpq_params_insecure_requires_tls_and_warns(warnings_logged: list[str]) -> None:
    """Insecure gives sslmode=require without a root file, with a loud warning."""
    params = TLSPolicy(verify=False, insecure=True).libpq_params()
    assert params["sslmode"] == "require"
    assert "sslrootcert" not in params
    assert len(warnings_logged) == 1
    assert "TLS VERIFICATION DISABLED" in warnings_logged[0]


def test_redis_kwargs_verify(ca_file: Path) -> None:
    """redis-py gets required verification, hostname check and the CA file."""
    kwargs = TLSPolicy(ca_file=ca_file).redis_kwargs()
    assert {
        "ssl_cert_reqs": "required",
        "ssl_check_hostname": True,
        "ssl_ca_certs": str(ca_file),
        "ssl_min_version": ssl.TLSVersion.TLSv1_2,
    } == kwargs


def test_redis_kwargs_insecure_warns(warnings_logged: list[str]) -> None:
    """Insecure redis settings switch checks off and warn."""
    kwargs = TLSPolicy(insecure=True).redis_kwargs()
    assert kwargs["ssl_cert_reqs"] == "none"
    assert kwargs["ssl_check_hostname"] is False
    assert len(warnings_logged) == 1


def test_insecure_warns_every_time_a_context_is_built(warnings_logged: list[str]) -> None:
    """Each context built from an insecure policy logs the warning again."""
    policy = TLSPolicy(insecure=True)
    policy.ssl_context()
    policy.ssl_context()
    assert len(warnings_logged) == 2
    assert all("NOT authenticated" in message for message in warnings_logged)
