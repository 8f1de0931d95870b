"""WebSocket client sessions on top of the dispatcher: admission, limits, the read loop.

A gateway hands each accepted `WsConnection` to `SessionHub.serve(conn, handler)`. The hub

0. before accepting, `handshake_gate(realm)` (the net layer's `ServerSettings.ws_gate`)
   refuses a handshake the `AccessPolicy` denies with a plain HTTP answer: 401 JSON with
   `WWW-Authenticate: Bearer realm=…` for a missing or wrong token, 403 for a foreign Origin,
1. checks the accepted connection again (→ close 1008: a gateway without the gate) and
   the client cap (→ close 1013),
2. reads the session options from the query (`?priority=high|normal|low`, `?conflate=1`),
3. registers the connection with the dispatcher (the same object is the `FrameSink`),
4. reads messages, spending one token of the client's `TokenBucket` per message: a message
   without a token is answered `rate_limited` and dropped; the others go to
   `handler.on_message` (synchronous: decisions are queued on the dispatcher, never awaited),
5. counts every error answered to the client in its `ErrorBudget`; a client over budget is
   closed with 1008 ("too many bad requests") after its pending frames are written,
6. on exit, always: `handler.on_close`, then the dispatcher forgets the client.

What an error frame looks like is the gateway's business (`error_frame`; None sends
nothing, as a Yahoo-compatible endpoint must), so the hub stays protocol-agnostic.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
from loguru import logger

from lib_common.core import Dispatcher, Priority
from lib_common.net import HttpRequest, HttpResponse, WsConnection
from rsdev_servers.common.http import denial_response
from rsdev_servers.common.ratelimit import ErrorBudget, TokenBucket
from rsdev_servers.common.security import AccessPolicy

__all__ = [
    "CLOSE_ABUSE",
    "CLOSE_FULL",
    "CLOSE_POLICY",
    "ClientLimits",
    "ClientSession",
    "ErrorFrame",
    "SessionHandler",
    "SessionHub",
    "SessionOptions",
    "parse_session_query",
]

CLOSE_POLICY = 1008  # policy violation: unauthorized, forbidden origin, abuse
CLOSE_ABUSE = 1008
CLOSE_FULL = 1013  # try again later: the gateway has its maximum of clients

ErrorFrame = Callable[[str, str, Mapping[str, Any]], bytes | None]
"""(code, message, extra fields) → a complete frame to send, or None to send nothing."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """What one client may do; the defaults suit interactive tools and dashboards."""

    ops_per_second: float = 20.0
    burst: float = 40.0
    max_errors: int = 50  # errors within `error_window` before the client is closed
    error_window: float = 10.0
    max_clients: int = 5000


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """Per-connection options from the handshake query, and what was wrong with it."""

    priority: Priority = Priority.NORMAL
    conflate: bool = False
    problems: tuple[str, ...] = ()


def parse_session_query(query: Mapping[str, str]) -> SessionOptions:
    """`priority` and `conflate` from the query; bad values fall back and are reported."""
    problems: list[str] = []
    priority = Priority.NORMAL
    raw_priority = query.get("priority")
    if raw_priority is not None:
        try:
            priority = Priority.parse(raw_priority)
        except ValueError:
            problems.append("priority must be high, normal or low; using normal")
    conflate = False
    raw_conflate = query.get("conflate")
    if raw_conflate is not None:
        lowered = raw_conflate.strip().lower()
        if lowered in _TRUE:
            conflate = True
        elif lowered not in _FALSE:
            problems.append("conflate must be 1 or 0; not conflating")
    return SessionOptions(priority, conflate, tuple(problems))


@dataclass(eq=False, slots=True)
class ClientSession:
    """One connected client as the gateway's handler sees it."""

    id: int
    conn: WsConnection
    options: SessionOptions
    bucket: TokenBucket
    errors: ErrorBudget
    hub: SessionHub
    connected_at: float
    remote: str
    closing: bool = False
    messages: int = 0
    state: dict[str, Any] = field(default_factory=dict)  # the gateway's own per-client data

    @property
    def priority(self) -> Priority:
        return self.options.priority

    def send(self, frame: bytes) -> bool:
        """Queue one pre-built frame for this client, in order with everything else."""
        return self.hub.dispatcher.send(self.id, frame)

    def reject(self, code: str, message: str, **extra: Any) -> None:
        """Answer a bad request with an error; close the client once it is over budget."""
        self.send_error(code, self.hub.error_frame(code, message, extra))

    def send_error(self, code: str, frame: bytes | None) -> None:
        """Send an error frame built by the gateway (None: send nothing), count it against
        the client's error budget, and close the client once it is over budget."""
        self.hub.count_error(code)
        if frame is not None:
            self.send(frame)
        if self.errors.record(self.hub.clock()) and not self.closing:
            self.hub.count_error("abuse_closed")
            logger.info("client {} {} closed: too many bad requests", self.id, self.remote)
            self.close(CLOSE_ABUSE, "too many bad requests")

    def close(self, code: int, reason: str) -> None:
        """Write what is queued for this client, then close it with `code`."""
        if self.closing:
            return
        self.closing = True
        self.hub.dispatcher.flush()
        self.conn.close(code, reason)


class SessionHandler(Protocol):
    """What a gateway does with its clients (all synchronous: nothing here may block)."""

    def on_open(self, session: ClientSession) -> None: ...

    def on_message(self, session: ClientSession, message: str | bytes) -> None: ...

    def on_close(self, session: ClientSession) -> None: ...


class SessionHub:
    """Every connected client of one gateway, and the admission and limit rules."""

    def __init__(
        self,
        dispatcher: Dispatcher[int],
        policy: AccessPolicy,
        *,
        limits: ClientLimits | None = None,
        error_frame: ErrorFrame | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.dispatcher = dispatcher
        self.policy = policy
        self.limits = limits or ClientLimits()
        self.error_frame: ErrorFrame = error_frame or (lambda code, message, extra: None)
        self.clock = clock
        self.sessions: dict[int, ClientSession] = {}
        self._ids = itertools.count(1)
        self.connections_total = 0
        self.refused: Counter[str] = Counter()  # unauthorized, forbidden_origin, full
        self.errors: Counter[str] = Counter()  # error codes answered, plus abuse_closed
        self.messages_total = 0

    def count_error(self, code: str) -> None:
        self.errors[code] += 1

    def by_priority(self) -> dict[str, int]:
        """Connected clients per priority name (`high`, `normal`, `low`)."""
        counts = {p.name.lower(): 0 for p in Priority}
        for session in self.sessions.values():
            counts[session.priority.name.lower()] += 1
        return counts

    def handshake_gate(self, realm: str) -> Callable[[HttpRequest], HttpResponse | None]:
        """A `ServerSettings.ws_gate`: refuse a denied upgrade with 401/403 before accepting.

        A client then sees an HTTP status (401 asks for the Bearer token of `realm`), not a
        socket that opens and closes at once.
        """

        def gate(request: HttpRequest) -> HttpResponse | None:
            denial = self.policy.check_upgrade(request.headers, request.query)
            if denial is None:
                return None
            self.refused[denial.code] += 1
            return denial_response(denial, realm)

        return gate

    async def serve(self, conn: WsConnection, handler: SessionHandler) -> None:
        """Run one client from handshake to goodbye (the net layer's `ws_handler`)."""
        denial = self.policy.check_upgrade(conn.headers, conn.query)
        if denial is not None:
            self.refused[denial.code] += 1
            conn.close(CLOSE_POLICY, denial.reason)
            return
        if len(self.sessions) >= self.limits.max_clients:
            self.refused["full"] += 1
            conn.close(CLOSE_FULL, "server full, try again later")
            return
        now = self.clock()
        options = parse_session_query(conn.query)
        remote = f"{conn.remote[0]}:{conn.remote[1]}" if conn.remote else "?"
        session = ClientSession(
            id=next(self._ids),
            conn=conn,
            options=options,
            bucket=TokenBucket(self.limits.ops_per_second, self.limits.burst, now),
            errors=ErrorBudget(self.limits.max_errors, self.limits.error_window),
            hub=self,
            connected_at=now,
            remote=remote,
        )
        self.connections_total += 1
        self.dispatcher.add_client(
            session.id, conn, priority=options.priority, conflate=options.conflate
        )
        self.sessions[session.id] = session
        try:
            handler.on_open(session)
            for problem in options.problems:
                session.reject("bad_request", problem)
            await self._read(session, handler)
        finally:
            try:
                handler.on_close(session)
            finally:
                del self.sessions[session.id]
                self.dispatcher.remove_client(session.id)

    async def _read(self, session: ClientSession, handler: SessionHandler) -> None:
        bucket = session.bucket
        async for message in session.conn:
            if session.closing or session.conn.closed:
                # Keep reading (and dropping) until the client's close frame arrives: a
                # full inbound queue would pause the socket and stall the close handshake.
                continue
            session.messages += 1
            self.messages_total += 1
            if not bucket.take(self.clock()):
                session.reject(
                    "rate_limited",
                    f"more than {self.limits.ops_per_second:g} requests per second; slow down",
                )
                continue
            handler.on_message(session, message)

    def close_all(self, code: int, reason: str) -> None:
        """Flush what is queued, then start closing every client (shutdown)."""
        self.dispatcher.flush()
        for session in list(self.sessions.values()):
            session.closing = True
            session.conn.close(code, reason)

    async def run_drain_ticks(self, interval: float = 0.05) -> None:
        """Wake held clients whose transport drained (their waiting frames go out)."""
        dispatcher = self.dispatcher
        while True:
            await anyio.sleep(interval)
            for client in dispatcher.held_clients():
                session = self.sessions.get(client)
                if session is not None and session.conn.writable:
                    dispatcher.notify_drained(client)
