"""The workload: symbols, which client wants which, rates and phases; expected deliveries.

Symbols are shaped so that restream streams them at any hour: nine in ten are equities
of exchanges whose calendars restream does not carry (`.L`, `.NS`, `.DE`, `.TO`, `.ST`:
"may be trading", so the stream stays up), one in ten is a crypto pair (24/7). Message
sizes then match real traffic: lean equity quotes of about 340 bytes and rich crypto
quotes of about 570 bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from random import Random
from typing import Any

__all__ = [
    "ClientPlan",
    "Workload",
    "default_workers",
    "expected_per_client",
    "plan_clients",
    "symbol_names",
    "union_symbols",
]

_SUFFIXES = (".L", ".NS", ".DE", ".TO", ".ST")


@dataclass(frozen=True, slots=True)
class Workload:
    """One measured configuration, the same for every gateway."""

    clients: int = 1000
    symbols: int = 500
    per_client: int = 50
    rate: float = 2000.0  # upstream messages per second, all symbols together
    duration: float = 20.0  # the measured window, seconds
    warmup: float = 3.0  # traffic flows this long before the window opens
    drain: float = 3.0  # after the window closes, late deliveries still count this long
    workers: int = 4  # client processes
    seed: int = 1
    slow_fraction: float = 0.0  # storm: this share of clients stop reading at the window

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["expected_deliveries_per_s"] = round(
            self.rate * self.per_client / self.symbols * self.clients
        )
        return data


@dataclass(frozen=True, slots=True)
class ClientPlan:
    """One client: its id, its symbols, and whether it stops reading in a storm."""

    cid: int
    symbols: tuple[str, ...]
    slow: bool = False


def symbol_names(count: int) -> list[str]:
    """`count` distinct symbols: every tenth a crypto pair, the rest foreign equities."""
    names = []
    for i in range(count):
        if i % 10 == 0:
            names.append(f"C{i:03d}-USD")
        else:
            names.append(f"E{i:03d}{_SUFFIXES[i % len(_SUFFIXES)]}")
    return names


def plan_clients(workload: Workload) -> list[ClientPlan]:
    """Every client's K of S symbols (seeded); the first `slow_fraction` spread evenly."""
    rng = Random(workload.seed)
    names = symbol_names(workload.symbols)
    slow_every = 0
    if workload.slow_fraction > 0:
        slow_every = max(1, round(1 / workload.slow_fraction))
    plans = []
    for cid in range(workload.clients):
        chosen = tuple(rng.sample(names, workload.per_client))
        slow = bool(slow_every) and cid % slow_every == slow_every - 1
        plans.append(ClientPlan(cid, chosen, slow))
    return plans


def union_symbols(plans: Sequence[ClientPlan]) -> list[str]:
    """The symbols anyone wants, in a fixed order (the feeder's rotation)."""
    wanted = {s for p in plans for s in p.symbols}
    return sorted(wanted)


def expected_per_client(plans: Sequence[ClientPlan], sent: Mapping[str, int]) -> dict[int, int]:
    """Quotes each client should receive: the sum of the window's sends over its symbols."""
    return {p.cid: sum(sent.get(s, 0) for s in p.symbols) for p in plans}


def default_workers(clients: int) -> int:
    """About 250 connections per client process, between 2 and 8 processes."""
    return min(8, max(2, math.ceil(clients / 250)))
