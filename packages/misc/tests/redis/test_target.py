"""resolve_target: URL checks, credentials from flags, TLS only through the policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from rsdev_misc.monitor import UsageError
from rsdev_misc.monitor_redis import resolve_target

from ..servers import TestCA


def test_description_hides_the_password() -> None:
    """The description keeps scheme, user, host, port and db, never the password."""
    target = resolve_target("redis://mon:Sekr1t-pw@127.0.0.1:6390/2")
    assert target.description == "redis://mon@127.0.0.1:6390/2"
    assert target.secrets == ("Sekr1t-pw",)
    assert resolve_target("unix:///run/redis.sock?db=1").description == "unix:///run/redis.sock"


def test_flags_fill_in_missing_credentials() -> None:
    """--username/--password are used when the URL has none; they count as secrets."""
    target = resolve_target("redis://127.0.0.1:6390/0", username="mon", password="Sekr1t-pw")
    assert dict(target.options) == {"username": "mon", "password": "Sekr1t-pw"}
    assert target.description == "redis://mon@127.0.0.1:6390/0"
    assert target.secrets == ("Sekr1t-pw",)


def test_conflicting_passwords_are_refused() -> None:
    """A password in the URL and a different one from the flag is an error, not a guess."""
    with pytest.raises(UsageError, match="two different passwords") as info:
        resolve_target("redis://:Sekr1t-pw@127.0.0.1:6390", password="0ther-pw")
    assert "Sekr1t-pw" not in str(info.value)


def test_rediss_verifies_with_the_ca_file(test_ca: TestCA) -> None:
    """rediss:// gets required verification, host-name checks and the CA file."""
    target = resolve_target("rediss://127.0.0.1:6390", ca_file=str(test_ca.ca_file))
    assert target.tls
    assert target.options["ssl_cert_reqs"] == "required"
    assert target.options["ssl_check_hostname"] is True
    assert target.options["ssl_ca_certs"] == str(test_ca.ca_file)


def test_insecure_is_explicit() -> None:
    """--tls-insecure turns verification off only for rediss://, and only when asked."""
    target = resolve_target("rediss://127.0.0.1:6390", tls_insecure=True)
    assert target.options["ssl_cert_reqs"] == "none"
    with pytest.raises(UsageError, match="needs a rediss:// URL"):
        resolve_target("redis://127.0.0.1:6390", tls_insecure=True)


def test_ca_file_with_plain_url_is_refused(test_ca: TestCA) -> None:
    """--ca-file with redis:// would suggest TLS that is not there: refused."""
    with pytest.raises(UsageError, match="needs a rediss:// URL"):
        resolve_target("redis://127.0.0.1:6390", ca_file=str(test_ca.ca_file))


@pytest.mark.parametrize("query", ["ssl_cert_reqs=none", "ssl_check_hostname=false", "ssl=1"])
def test_tls_options_in_the_url_are_refused(query: str) -> None:
    """redis-py would let URL query options override the TLS policy: refused."""
    with pytest.raises(UsageError, match="TLS options in the URL"):
        resolve_target(f"rediss://127.0.0.1:6390/0?{query}")


def test_bad_urls(tmp_path: Path) -> None:
    """Unknown schemes, bad ports and missing CA files are usage errors."""
    with pytest.raises(UsageError, match="scheme"):
        resolve_target("http://127.0.0.1:6390")
    with pytest.raises(UsageError, match="invalid Redis URL"):
        resolve_target("redis://127.0.0.1:99999")
    with pytest.raises(UsageError, match="does not exist"):
        resolve_target("rediss://127.0.0.1:6390", ca_file=str(tmp_path / "nope.pem"))
