"""Key and channel names of a cluster."""

from __future__ import annotations

import pytest

from rsdev_servers.cluster.naming import ClusterKeys, check_cluster_name


def test_control_keys_share_one_hash_tag_and_bus_channels_none() -> None:
    """Control keys are in one Redis Cluster slot; bus channels spread over the shards."""
    keys = ClusterKeys("prod", shards=8)
    for key in (keys.lock, keys.fence, keys.members, keys.status, keys.last, keys.control):
        assert key.startswith("{prod}:")
    assert "{prod}:interest:n1" == keys.interest("n1")
    assert "prod:bus:3" == keys.bus(3)


def test_a_symbol_always_lands_on_the_same_shard() -> None:
    """The shard of a symbol is stable (crc32), and within range."""
    keys = ClusterKeys("x", shards=16)
    assert keys.shard_of("AAPL") == ClusterKeys("y", shards=16).shard_of("AAPL")
    shards = {keys.shard_of(f"SYM{i}") for i in range(200)}
    assert shards <= set(range(16))
    assert len(shards) > 8  # spread, not lumped


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "{tag}", "a:b"])
def test_bad_cluster_names_are_refused(bad: str) -> None:
    """Names prefix every key: only a safe alphabet."""
    with pytest.raises(ValueError):
        check_cluster_name(bad)
    assert "prod-1.eu_w" == check_cluster_name(" prod-1.eu_w ")
