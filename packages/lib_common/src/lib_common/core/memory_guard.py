"""Global byte budget over every client's buffered output, and who to evict when over it.

The event loop is single-threaded, so the "atomic" counter is a plain integer: the sum of
each client's pending frames (queued by the dispatcher, not yet written) and its
transport's write buffer (as the transport reports it). The dispatcher reports both
parts when it flushes; this module only keeps the books and decides.

Eviction policy (`pick_victims`):

1. Every client over the per-client cap is a victim (`SLOW_CONSUMER`), whatever the total.
2. If the total is still over the global budget: evict lowest priority first, then the
   most buffered bytes first, until the projected total is at or under the low-water
   mark (`MEMORY_PRESSURE`). Clients with nothing buffered are never picked: evicting them
   frees nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

ClientT = TypeVar("ClientT", bound=Hashable)

MiB = 1024 * 1024
DEFAULT_BUDGET = 64 * MiB
DEFAULT_LOW_WATER = 48 * MiB
DEFAULT_CLIENT_CAP = 8 * MiB


class Priority(enum.IntEnum):
    """A client's class. Lower values are evicted first and flushed last."""

    LOW = 0
    NORMAL = 1
    HIGH = 2

    @classmethod
    def parse(cls, text: str) -> Priority:
        """`"high"`/`"normal"`/`"low"` (any case) → Priority; ValueError otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"priority must be high, normal or low, not {text!r}") from None


class EvictionReason(enum.Enum):
    """Why a client was evicted (the value is the metrics label)."""

    SLOW_CONSUMER = "slow_consumer"  # over its own cap
    MEMORY_PRESSURE = "memory_pressure"  # picked to bring the global total down


@dataclass(frozen=True, slots=True)
class Victim(Generic[ClientT]):
    """A client to evict and why; `buffered` is what evicting it frees."""

    client: ClientT
    reason: EvictionReason
    buffered: int


@dataclass(frozen=True, slots=True)
class GuardStats:
    """Counters for metrics."""

    guarded_bytes: int
    peak_bytes: int
    clients: int
    budget: int
    evictions: dict[str, int]


@dataclass(slots=True)
class _Account:
    priority: Priority
    pending: int = 0
    transport: int = 0


class MemoryGuard(Generic[ClientT]):
    """Bookkeeping of buffered bytes per client against a global budget."""

    def __init__(
        self,
        *,
        budget: int = DEFAULT_BUDGET,
        low_water: int | None = None,
        client_cap: int = DEFAULT_CLIENT_CAP,
    ) -> None:
        low = budget * 3 // 4 if low_water is None else low_water
        if not 0 <= low <= budget or client_cap <= 0:
            raise ValueError("need 0 <= low_water <= budget and client_cap > 0")
        self.budget = budget
        self.low_water = low
        self.client_cap = client_cap
        self._accounts: dict[ClientT, _Account] = {}
        self._total = 0
        self._peak = 0
        self._evictions = {reason.value: 0 for reason in EvictionReason}

    def add_client(self, client: ClientT, priority: Priority = Priority.NORMAL) -> None:
        """Start accounting for `client`."""
        if client in self._accounts:
            raise ValueError(f"client {client!r} is already guarded")
        self._accounts[client] = _Account(priority)

    def remove_client(self, client: ClientT) -> int:
        """Stop accounting for `client`; returns the bytes it held."""
        account = self._accounts.pop(client, None)
        if account is None:
            return 0
        held = account.pending + account.transport
        self._total -= held
        return held

    def set_pending(self, client: ClientT, pending: int) -> bool:
        """`client` now has `pending` bytes queued and not yet handed to its transport.

        Returns True when the client is over its cap or the total over the budget.
        """
        account = self._accounts[client]
        total = self._total = self._total + pending - account.pending
        account.pending = pending
        if total > self._peak:
            self._peak = total
        return total > self.budget or pending + account.transport > self.client_cap

    def set_transport(self, client: ClientT, buffered: int) -> bool:
        """The transport of `client` now reports `buffered` bytes not yet sent.

        Returns True when the client is over its cap or the total over the budget.
        """
        account = self._accounts[client]
        total = self._total = self._total + buffered - account.transport
        account.transport = buffered
        if total > self._peak:
            self._peak = total
        return total > self.budget or account.pending + buffered > self.client_cap

    def usage(self, client: ClientT) -> int:
        """Bytes buffered for `client` (pending + transport)."""
        account = self._accounts.get(client)
        return 0 if account is None else account.pending + account.transport

    def over_cap(self, client: ClientT) -> bool:
        """True if `client` alone holds more than the per-client cap."""
        return self.usage(client) > self.client_cap

    @property
    def total(self) -> int:
        """Bytes buffered across all clients."""
        return self._total

    def over_budget(self) -> bool:
        """True when the global total is above the budget."""
        return self._total > self.budget

    def pick_victims(self) -> list[Victim[ClientT]]:
        """Who to evict now (see the module docstring); empty when all is well."""
        victims: list[Victim[ClientT]] = []
        projected = self._total
        rest: list[tuple[ClientT, _Account]] = []
        for client, account in self._accounts.items():
            used = account.pending + account.transport
            if used > self.client_cap:
                victims.append(Victim(client, EvictionReason.SLOW_CONSUMER, used))
                projected -= used
            elif used > 0:
                rest.append((client, account))
        if projected > self.budget:
            rest.sort(key=lambda item: (item[1].priority, -(item[1].pending + item[1].transport)))
            for client, account in rest:
                if projected <= self.low_water:
                    break
                used = account.pending + account.transport
                victims.append(Victim(client, EvictionReason.MEMORY_PRESSURE, used))
                projected -= used
        return victims

    def record_eviction(self, victim: Victim[ClientT]) -> None:
        """Count the eviction and stop accounting for the client."""
        self._evictions[victim.reason.value] += 1
        self.remove_client(victim.client)

    def stats(self) -> GuardStats:
        """Counters for metrics."""
        return GuardStats(
            guarded_bytes=self._total,
            peak_bytes=self._peak,
            clients=len(self._accounts),
            budget=self.budget,
            evictions=dict(self._evictions),
        )
