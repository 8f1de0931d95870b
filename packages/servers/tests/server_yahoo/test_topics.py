"""FormatTopics: the per-format subscriber index the dispatcher delivers by."""

from __future__ import annotations

import pytest

from rsdev_servers.server_yahoo.formats import WireFormat, topic
from rsdev_servers.server_yahoo.topics import FormatTopics

V2, LEGACY = WireFormat.ENVELOPE, WireFormat.LEGACY


def make() -> FormatTopics:
    topics = FormatTopics()
    topics.add_client(1, V2)
    topics.add_client(2, LEGACY)
    topics.add_client(3, V2)
    topics.add(1, ["AAPL", "MSFT"])
    topics.add(2, ["AAPL"])
    topics.add(3, ["AAPL"])
    return topics


def test_subscribers_are_split_by_format() -> None:
    """A symbol's envelope topic holds the v2 clients, its legacy topic the legacy ones."""
    topics = make()
    assert {1, 3} == set(topics.subscribers(topic(V2, "AAPL")))
    assert {2} == set(topics.subscribers(topic(LEGACY, "AAPL")))
    assert {1} == set(topics.subscribers(topic(V2, "MSFT")))
    assert set() == set(topics.subscribers(topic(LEGACY, "MSFT")))
    assert (2, 1) == (topics.count(V2, "AAPL"), topics.count(LEGACY, "AAPL"))


def test_remove_and_disconnect_forget_the_client() -> None:
    """Removing symbols or the whole client leaves no empty topic behind."""
    topics = make()
    topics.remove(1, ["MSFT", "NOT-HELD"])
    assert 0 == topics.count(V2, "MSFT")
    topics.remove_client(3)
    topics.remove_client(3)  # idempotent
    assert {1} == set(topics.subscribers(topic(V2, "AAPL")))
    topics.remove_client(1)
    topics.remove_client(2)
    assert 0 == topics.clients()
    assert 0 == topics.count(V2, "AAPL") + topics.count(LEGACY, "AAPL")
    assert {V2: 0, LEGACY: 0} == topics.clients_by_format()


def test_adding_twice_is_harmless_and_unknown_clients_are_refused() -> None:
    """Re-adding a held symbol changes nothing; a client must be added before its symbols."""
    topics = make()
    topics.add(1, ["AAPL"])
    assert 2 == topics.count(V2, "AAPL")
    with pytest.raises(ValueError):
        topics.add_client(1, LEGACY)
    with pytest.raises(KeyError):
        topics.add(99, ["AAPL"])
    topics.remove(99, ["AAPL"])  # an unknown client's removal is ignored
    assert {V2: 2, LEGACY: 1} == topics.clients_by_format()
