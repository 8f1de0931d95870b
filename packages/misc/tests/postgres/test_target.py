"""resolve_target: TLS verified by default, plaintext only on purpose, weak modes refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from rsdev_misc.monitor import UsageError
from rsdev_misc.monitor_postgres import resolve_target

from ..servers import TestCA

DSN = "postgresql://mon:Sekr1t-pw@db.internal:6543/app"


def test_default_is_verify_full_with_a_file(test_ca: TestCA) -> None:
    """Without sslmode anywhere, the target verifies the server against the given CA file."""
    target = resolve_target(DSN, sslrootcert=str(test_ca.ca_file))
    params = conninfo_to_dict(target.conninfo)
    assert params["sslmode"] == "verify-full"
    assert str(test_ca.ca_file) == params["sslrootcert"]


def test_default_ca_is_a_located_bundle_file(
    monkeypatch: pytest.MonkeyPatch, test_ca: TestCA
) -> None:
    """No CA given (or sslrootcert=system): an explicit bundle file, never libpq's default."""
    monkeypatch.setenv("SSL_CERT_FILE", str(test_ca.ca_file))
    for dsn in (DSN, DSN + "?sslrootcert=system"):
        params = conninfo_to_dict(resolve_target(dsn).conninfo)
        assert str(test_ca.ca_file) == params["sslrootcert"]


def test_dsn_sslrootcert_is_used(test_ca: TestCA) -> None:
    """The DSN's own sslrootcert is kept when no flag overrides it."""
    target = resolve_target(f"{DSN}?sslrootcert={test_ca.ca_file}")
    assert str(test_ca.ca_file) == conninfo_to_dict(target.conninfo)["sslrootcert"]


def test_disable_is_plaintext_on_purpose() -> None:
    """--sslmode disable (or sslmode=disable in the DSN) gives plaintext, no CA needed."""
    for target in (
        resolve_target(DSN, sslmode="disable"),
        resolve_target(DSN + "?sslmode=disable"),
    ):
        params = conninfo_to_dict(target.conninfo)
        assert params["sslmode"] == "disable"
        assert "sslrootcert" not in params


@pytest.mark.parametrize("mode", ["allow", "prefer", "require", "verify-ca"])
def test_weak_modes_are_refused(mode: str) -> None:
    """Modes that fall back to plaintext or skip checks are a configuration error."""
    with pytest.raises(UsageError, match=f"sslmode={mode} is refused"):
        resolve_target(DSN, sslmode=mode)
    with pytest.raises(UsageError, match="refused"):
        resolve_target(f"{DSN}?sslmode={mode}")


def test_insecure_is_explicit_require() -> None:
    """--tls-insecure encrypts without verification (sslmode=require), and says so."""
    params = conninfo_to_dict(resolve_target(DSN, tls_insecure=True).conninfo)
    assert params["sslmode"] == "require"
    assert "sslrootcert" not in params
    with pytest.raises(UsageError, match="contradict"):
        resolve_target(DSN, sslmode="disable", tls_insecure=True)


def test_missing_ca_file_is_a_usage_error(tmp_path: Path) -> None:
    """A CA file that does not exist is reported at startup, not as a probe failure."""
    with pytest.raises(UsageError, match="does not exist"):
        resolve_target(DSN, sslrootcert=str(tmp_path / "nope.pem"))


def test_description_and_secrets(test_ca: TestCA) -> None:
    """The description names user, host, port and database, never the password."""
    target = resolve_target(DSN, sslrootcert=str(test_ca.ca_file))
    assert target.description == "postgresql://mon@db.internal:6543/app"
    assert target.secrets == ("Sekr1t-pw",)


def test_connect_timeout_at_least_two_seconds(test_ca: TestCA) -> None:
    """libpq's connect_timeout is whole seconds, at least 2 (1 would be read as 2 anyway)."""
    target = resolve_target(DSN, sslrootcert=str(test_ca.ca_file))
    assert str(conninfo_to_dict(target.conninfo_with_timeout(0.5))["connect_timeout"]) == "2"
    assert str(conninfo_to_dict(target.conninfo_with_timeout(7.2))["connect_timeout"]) == "8"


def test_bad_dsn_is_a_redacted_usage_error() -> None:
    """An unparsable DSN is a UsageError whose text does not carry the password."""
    with pytest.raises(UsageError) as info:
        resolve_target("host=x password=Sekr1t-pw bogus_option=1")
    assert "Sekr1t-pw" not in str(info.value)
