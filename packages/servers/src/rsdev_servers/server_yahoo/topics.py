"""Who receives which format of which symbol: the dispatcher's subscriber lookup.

The symbol registry (inside the upstream manager) counts references per *symbol*: it
decides upstream traffic and linger, whatever format clients speak. The dispatcher
delivers per *topic* (`formats.topic`: one key per format and symbol), so that a quote
framed once for the envelope format reaches exactly the envelope clients and the legacy
frame exactly the legacy clients. `FormatTopics` is that per-topic index.

It is kept from the registry's own answers: after each registry call the handler passes
the client's `added` / `removed` symbols here, and `remove_client` on disconnect, so the
two never disagree about which client holds which symbol. Sans-I/O: plain sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Set

from rsdev_servers.server_yahoo.formats import WireFormat, topic

__all__ = ["FormatTopics"]

_EMPTY: frozenset[int] = frozenset()


class FormatTopics:
    """topic → client ids, for clients of known format (`SubscriberLookup[int]`)."""

    def __init__(self) -> None:
        self._format: dict[int, WireFormat] = {}
        self._topics_of: dict[int, set[str]] = {}
        self._clients: dict[str, set[int]] = {}

    def add_client(self, client: int, fmt: WireFormat) -> None:
        """A client that speaks `fmt` connected (it holds no symbols yet)."""
        if client in self._format:
            raise ValueError(f"client {client} is already known")
        self._format[client] = fmt
        self._topics_of[client] = set()

    def format_of(self, client: int) -> WireFormat | None:
        return self._format.get(client)

    def add(self, client: int, symbols: Iterable[str]) -> None:
        """`client` now holds these (normalised) symbols."""
        fmt = self._format[client]
        mine = self._topics_of[client]
        for symbol in symbols:
            key = topic(fmt, symbol)
            mine.add(key)
            self._clients.setdefault(key, set()).add(client)

    def remove(self, client: int, symbols: Iterable[str]) -> None:
        """`client` no longer holds these symbols (unknown ones are ignored)."""
        fmt = self._format.get(client)
        if fmt is None:
            return
        mine = self._topics_of[client]
        for symbol in symbols:
            key = topic(fmt, symbol)
            mine.discard(key)
            self._drop(key, client)

    def remove_client(self, client: int) -> None:
        """`client` disconnected: forget it and all its topics."""
        self._format.pop(client, None)
        for key in self._topics_of.pop(client, ()):
            self._drop(key, client)

    def subscribers(self, symbol: str) -> Set[int]:
        """Clients of a topic (the dispatcher calls its keys "symbols")."""
        return self._clients.get(symbol, _EMPTY)

    def count(self, fmt: WireFormat, symbol: str) -> int:
        """How many clients of `fmt` hold `symbol`."""
        return len(self._clients.get(topic(fmt, symbol), _EMPTY))

    def clients(self) -> int:
        return len(self._format)

    def clients_by_format(self) -> dict[WireFormat, int]:
        counts = dict.fromkeys(WireFormat, 0)
        for fmt in self._format.values():
            counts[fmt] += 1
        return counts

    def _drop(self, key: str, client: int) -> None:
        holders = self._clients.get(key)
        if holders is None:
            return
        holders.discard(client)
        if not holders:
            del self._clients[key]
