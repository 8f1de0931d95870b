"""server-yahoo (a real process) on a yahoo-sim that stalls, drops connections and sends
frames a re-encoder would alter: clients never notice, and the bytes are Yahoo's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lib_common.ingestors.yahoo.codec import decode_pricing, encode_pricing
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.sim import Fault, SimConfig, run_simulator

from .conftest import (
    FAST_UPSTREAM,
    YahooClient,
    YahooProcess,
    payload_of,
    spawn,
    upstream_args,
)

pytestmark = pytest.mark.anyio

SYMBOLS = {"BTC-USD", "ETH-USD"}  # crypto: the real calendar says they always trade


def mode_is(mode: str) -> Callable[[dict[str, Any]], bool]:
    return lambda health: bool(health["upstream"]["mode"] == mode)


async def forwarded(server: YahooProcess, source: str) -> float:
    """server_yahoo_quotes_forwarded_total{source=…} from /metrics."""
    wanted = f'server_yahoo_quotes_forwarded_total{{source="{source}"}} '
    for line in (await server.get("/metrics")).text.splitlines():
        if line.startswith(wanted):
            return float(line.removeprefix(wanted))
    raise AssertionError(f"no {wanted!r} in /metrics")


async def ride_out(
    server: YahooProcess, client: YahooClient, sim: Any, fault: Fault
) -> tuple[list[Quote], list[Quote]]:
    """Inject `fault`; collect what the client gets while polling, then after recovery."""
    polls_before = await forwarded(server, "poll")
    seen = len(client.quotes)
    sim.inject(fault)
    await server.wait_health(mode_is("polling"))
    # PricingData synthesised from REST quotes (whole-second times) reach the client.
    await client.see_all(SYMBOLS)
    polled: set[str] = set()
    while polled != SYMBOLS:
        quote = await client.next_quote()
        if quote.ts_upstream % 1_000_000 == 0:
            polled.add(quote.symbol)
    # Those may still be the previous outage's polls (they wait in the client's socket
    # behind what it read last): read on until the server has forwarded this outage's.
    while await forwarded(server, "poll") < polls_before + len(SYMBOLS):
        await client.next_quote()
    during = client.quotes[seen:]
    assert await forwarded(server, "poll") >= polls_before + len(SYMBOLS)
    sim.clear_faults()
    await server.wait_health(mode_is("streaming"))
    seen = len(client.quotes)
    await client.see_all(SYMBOLS)
    return during, client.quotes[seen:]


async def test_stall_and_disconnect_are_invisible_to_clients(
    start_server_yahoo: Callable[..., YahooProcess],
) -> None:
    """A stalled upstream, then an abrupt outage (1006, connections refused): the same client
    connection keeps receiving quotes of its symbols, from REST polling meanwhile and
    from the stream again afterwards; it never reconnects or resubscribes."""
    async with run_simulator(SimConfig(rate=40, seed=6)) as sim:
        server = await spawn(start_server_yahoo, *upstream_args(sim), *FAST_UPSTREAM)
        client = await YahooClient.open(server.ws_url)
        legacy = await YahooClient.open(server.legacy_ws_url)
        await client.subscribe(sorted(SYMBOLS))
        await legacy.subscribe(["BTC-USD"])
        await client.see_all(SYMBOLS)
        await server.wait_health(mode_is("streaming"))

        during, after = await ride_out(server, client, sim, Fault("stall"))
        assert SYMBOLS == {q.symbol for q in during}
        assert SYMBOLS == {q.symbol for q in after}

        during, after = await ride_out(server, client, sim, Fault("disconnect", duration=600))
        assert SYMBOLS == {q.symbol for q in during}
        assert SYMBOLS == {q.symbol for q in after}

        # The legacy client rode out both outages too, on its one connection.
        await legacy.quotes_until(lambda q: q.symbol == "BTC-USD")
        assert {"BTC-USD"} == {q.symbol for q in legacy.quotes}
        health = await server.health()
        # One failover per fault: a quote the stalled socket read before it failed does not
        # count as the new socket's recovery, so the mode does not flap meanwhile.
        assert 2 == health["upstream"]["counts"]["transitions"]["streaming->polling"]
        metrics = (await server.get("/metrics")).text
        assert "server_yahoo_connections_total 2.0" in metrics  # no client reconnected
        assert sim.stats()["connections"]["total"] >= 3  # the upstream was redialled
        await client.aclose()
        await legacy.aclose()


async def test_streamed_payloads_are_the_upstream_bytes(
    start_server_yahoo: Callable[..., YahooProcess],
) -> None:
    """Every PricingData a server-yahoo client gets (both formats) is byte-identical to one
    the simulator sent a direct client; frames carrying fields beyond the schema (which a
    decode + re-encode would drop) arrive with those fields intact."""
    async with run_simulator(SimConfig(rate=60, seed=7)) as sim:
        server = await spawn(start_server_yahoo, *upstream_args(sim))
        direct = await YahooClient.open(sim.ws_url)
        await direct.subscribe(["BTC-USD"])
        await direct.next_quote()
        v2 = await YahooClient.open(server.ws_url)
        legacy = await YahooClient.open(server.legacy_ws_url)
        await v2.subscribe(["BTC-USD"])
        await legacy.subscribe(["BTC-USD"])
        await v2.next_quote()  # the upstream is subscribed from here on
        await legacy.next_quote()
        start_v2, start_legacy = len(v2.frames), len(legacy.frames)

        sim.inject(Fault("garbage", variant="unknown_fields", count=10))
        extended = 0
        while extended < 5:
            quote = await v2.next_quote()
            payload = payload_of(v2.frames[-1])
            if payload != encode_pricing(quote):
                extended += 1
        # The other clients were subscribed all along: read everything they got up to that
        # time (several quotes can share a millisecond when the simulator catches up).
        last_time = v2.quotes[-1].ts_upstream
        await legacy.quotes_until(lambda q: q.ts_upstream > last_time)
        await direct.quotes_until(lambda q: q.ts_upstream > last_time)

        sent = {payload_of(frame) for frame in direct.frames}
        for frames in (v2.frames[start_v2:], legacy.frames[start_legacy:]):
            received = [payload_of(frame) for frame in frames]
            assert received, "no frames to compare"
            assert [p for p in received if p not in sent] == []
        extended_sent = {p for p in sent if p != encode_pricing(_decoded(p))}
        assert len(extended_sent & {payload_of(f) for f in v2.frames}) >= 5
        for client in (direct, v2, legacy):
            await client.aclose()


def _decoded(payload: bytes) -> Quote:
    quote = decode_pricing(payload, 0)
    assert isinstance(quote, Quote)
    return quote
