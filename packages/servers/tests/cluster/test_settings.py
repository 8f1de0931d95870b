"""`restream --cluster …`: the options, their sources, and the node settings they make."""

from __future__ import annotations

import pytest

from rsdev_servers.cluster.join import ClusterJoin
from rsdev_servers.common.settings import SettingsError
from rsdev_servers.restream.settings import OPTIONS, load_settings

SECRET = "s3cret-Pw-ZANZIBAR"


def test_cluster_options_from_flags_and_environment() -> None:
    """Flags win over RESTREAM_* variables; the node settings follow."""
    env = {"RESTREAM_CLUSTER": f"redis://:{SECRET}@10.0.0.5:6379/0", "RESTREAM_CLUSTER_TTL": "3"}
    settings, _, resolved = load_settings(["--cluster-name", "eu-1"], env)
    assert "eu-1" == settings.cluster_name
    assert 3.0 == settings.cluster_ttl
    assert SECRET not in str(resolved.describe(OPTIONS))  # the settings log line
    node = ClusterJoin(settings).cluster
    assert ("eu-1", 3.0, settings.cluster) == (node.name, node.ttl, node.url)
    assert SECRET not in node.redacted_url()
    assert "redis://***@10.0.0.5:6379/0" == node.redacted_url()


def test_without_cluster_restream_stands_alone() -> None:
    """No --cluster: no cluster settings (and ClusterJoin refuses to build a node)."""
    settings, _, _ = load_settings([], {})
    assert settings.cluster is None
    with pytest.raises(ValueError):
        ClusterJoin(settings)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--cluster", f"http://user:{SECRET}@h:1"], "--cluster"),
        (["--cluster", "redis://h", "--cluster-ttl", "0.01"], "--cluster-ttl"),
        (["--cluster", "redis://h", "--cluster-name", "a:b"], "--cluster-name"),
    ],
)
def test_bad_cluster_options_are_refused_without_echoing_secrets(
    argv: list[str], fragment: str
) -> None:
    """A bad value is one line naming the option, never the URL (it may hold a password)."""
    with pytest.raises(SettingsError) as caught:
        load_settings(argv, {})
    assert fragment in str(caught.value)
    assert SECRET not in str(caught.value)
