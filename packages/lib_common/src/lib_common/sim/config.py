"""Settings of one simulator instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib_common.sim.clock import Clock, wall_clock

__all__ = ["SimConfig"]


@dataclass(frozen=True, slots=True)
class SimConfig:
    """How the simulator listens and behaves.

    rate: quote messages per second across all subscribed symbols and connections
      (0: none, only snapshots on subscribe).
    seed: seeds every symbol's random walk and the Fear & Greed index.
    symbol_cap: symbols one WebSocket connection may hold; the rest are dropped silently.
    clock: epoch seconds; frames' `time`, REST times and fault durations read it.
    unknown_symbols: symbols with no data (no stream, REST 404), besides malformed ones.
    cnn_require_browser_ua: answer CNN requests without "Mozilla/" in User-Agent with 418.
    retry_after: the Retry-After seconds of a 429 fault that does not set its own.
    close_on_bad_control: close (no status) a connection that sends malformed control
      JSON, as Yahoo reportedly does; by default such messages are ignored.
    """

    host: str = "127.0.0.1"
    port: int = 0
    rate: float = 10.0
    seed: int = 0
    symbol_cap: int = 100
    clock: Clock = field(default=wall_clock, compare=False)
    unknown_symbols: frozenset[str] = frozenset({"INVALID", "NOSUCHSYMBOL", "DELISTED"})
    cnn_require_browser_ua: bool = True
    retry_after: int = 30
    close_on_bad_control: bool = False

    def __post_init__(self) -> None:
        if self.rate < 0:
            raise ValueError("rate must be >= 0")
        if self.symbol_cap < 1:
            raise ValueError("symbol_cap must be >= 1")
