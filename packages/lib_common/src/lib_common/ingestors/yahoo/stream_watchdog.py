"""Silent-failure detection for one upstream connection (sans-I/O).

Yahoo gives no sign when a connection goes dead: the socket stays open and quiet. But a
closed market is quiet too, so silence counts only while at least one of the connection's
symbols is expected to trade. The watchdog measures silence from the later of the last
sign of life (a frame, or the reader being busy handing quotes over) and the last moment
quiet was excused; the caller checks at `deadline()` and says whether quotes are expected.
After a market opens, a dead connection is therefore found at most `timeout` later.
"""

from __future__ import annotations

__all__ = ["StallWatchdog"]


class StallWatchdog:
    """Declares a connection stalled after `timeout` seconds of unexcused silence."""

    def __init__(self, timeout: float, now: float) -> None:
        if not timeout > 0:
            raise ValueError("the inactivity timeout must be > 0 seconds")
        self.timeout = timeout
        self._since = now

    def activity(self, now: float) -> None:
        """A frame arrived (or the reader was busy delivering) at `now`."""
        self._since = now

    def deadline(self) -> float:
        """When to `check` next: the silence reaches `timeout` then."""
        return self._since + self.timeout

    def check(self, now: float, *, expecting: bool) -> float | None:
        """The silence in seconds if the connection is stalled at `now`, else None.

        `expecting` is False when none of the connection's symbols should trade now:
        the silence so far is excused and measuring starts again.
        """
        if not expecting:
            self._since = now
            return None
        silent = now - self._since
        return silent if silent >= self.timeout else None
