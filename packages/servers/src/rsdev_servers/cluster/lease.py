"""Leadership as decisions, sans-I/O: the leader's lease and the followers' token gate.

**The lease.** Redis keeps the lock `ttl` seconds after the last renew *it executed*. The
leader counts from the moment it *sent* that renew (never later than Redis executed it),
renews every `ttl/3`, and steps down `2·ttl/3` after the last renew that succeeded. So a
leader that cannot reach Redis has stopped its upstream at least `ttl/3` before the lock
can expire and another node can take it: two leaders never hold the upstream at once, even
with a little clock-rate difference or scheduling delay.

**The fencing token.** Every acquisition increments a counter in Redis; the new leader's
token is higher than any before it. Bus messages carry it, and each node's `TokenGate`
drops messages with a token lower than the current term's, so a leader that was paused
(SIGSTOP, a long GC, a frozen VM) and wakes up still believing it leads cannot mix stale
quotes into the feed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LeadershipLost", "Lease", "TokenGate", "lock_value", "parse_lock_value"]


def lock_value(token: int, node_id: str) -> str:
    """The lock's value: `"<token> <node>"` (one GET tells both)."""
    return f"{token} {node_id}"


def parse_lock_value(value: str | bytes) -> tuple[int, str] | None:
    """`(token, node)` from a lock value, or None if it is not one."""
    text = value.decode() if isinstance(value, bytes) else value
    token, _, node = text.partition(" ")
    if not token.isdigit() or not node:
        return None
    return int(token), node


@dataclass(slots=True)
class Lease:
    """One leadership term as the leader sees it, on its monotonic clock."""

    token: int
    node_id: str
    ttl: float
    renewed_at: float  # when the last successful acquire/renew was *sent*
    revoked: bool = False

    @property
    def value(self) -> str:
        """The lock value this term holds."""
        return lock_value(self.token, self.node_id)

    @property
    def next_renew(self) -> float:
        """When to send the next renew."""
        return self.renewed_at + self.ttl / 3

    @property
    def deadline(self) -> float:
        """When to step down without a successful renew (before the lock can expire)."""
        return self.renewed_at + self.ttl * 2 / 3

    def valid(self, now: float) -> bool:
        """Whether this node may still act as leader at `now`."""
        return not self.revoked and now < self.deadline

    def renewed(self, sent_at: float) -> None:
        """A renew sent at `sent_at` succeeded."""
        self.renewed_at = max(self.renewed_at, sent_at)

    def revoke(self) -> None:
        """Redis said the lock is not ours (any more): the term ends now."""
        self.revoked = True


@dataclass(slots=True)
class TokenGate:
    """Which leader's messages a node accepts: none from a term older than the current.

    The lock in Redis is the authority (`observe_lock` may lower the token, after a Redis
    that lost its data restarted the counter); an announcement or a message can only
    raise it.
    """

    current: int = 0
    rejected: int = 0

    def observe_lock(self, token: int) -> None:
        """The lock holds `token` now."""
        self.current = token

    def raise_to(self, token: int) -> None:
        """A leader announced `token`."""
        self.current = max(self.current, token)

    def accept(self, token: int) -> bool:
        """Whether a message fenced with `token` is from the current term (or a newer one)."""
        if token < self.current:
            self.rejected += 1
            return False
        self.current = token
        return True


class LeadershipLost(Exception):
    """This node's term ended (the lock is someone else's, or the lease ran out)."""
