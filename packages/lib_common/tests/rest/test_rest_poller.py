"""Tests for `YahooRestPoller` against the simulator over loopback, with fake time."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from lib_common.ingestors.yahoo.quote import MarketHours, Quote, QuoteType
from lib_common.ingestors.yahoo.rest import YahooRestPoller
from lib_common.ky_http import ApiResponse, AsyncKy, Hooks
from lib_common.sim import Fault, Simulator

# Fixture types live in conftest.py, which test modules cannot import.
FakeTime = Any

pytestmark = pytest.mark.anyio


class SendLog:
    """ky hooks that record when each request is sent and how many are in flight (a request
    that fails without a response stays counted: use it where every request is answered)."""

    def __init__(
        self, clock: Callable[[], float] = lambda: 0.0, stop_after: int | None = None
    ) -> None:
        self.clock = clock
        self.times: list[float] = []
        self.paths: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.stop_after = stop_after
        self.enough = anyio.Event()

    def before(self, request: httpx.Request) -> None:
        self.times.append(self.clock())
        self.paths.append(request.url.path)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.stop_after is not None and len(self.times) >= self.stop_after:
            self.enough.set()

    def after(self, _request: httpx.Request, _response: ApiResponse) -> None:
        self.in_flight -= 1

    def ky(self, sim: Simulator, timeout: float = 10.0) -> AsyncKy:
        hooks = Hooks(before_request=(self.before,), after_response=(self.after,))
        return AsyncKy(sim.rest_url, hooks=hooks, timeout=timeout)


async def _run_until(poller: YahooRestPoller, log: SendLog, symbols: list[str]) -> list[Quote]:
    """Run the poll loop until `log.stop_after` requests were sent; the emitted quotes."""
    emitted: list[Quote] = []
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poller.run, lambda: symbols, emitted.append)
            await log.enough.wait()
            tg.cancel_scope.cancel()
    return emitted


async def test_rate_limit_retry_after_delays_next_request(
    sim: Simulator, fake_time: FakeTime
) -> None:
    """429 with Retry-After: 2 → the next request is sent 2 s later (fake clock), then the
    cadence recovers from the slowed interval back to the base one."""
    sim.inject(Fault("429", count=1, retry_after=2, target="rest"))
    log = SendLog(fake_time.clock, stop_after=10)
    async with log.ky(sim) as ky:
        poller = YahooRestPoller(
            ky, interval=0.5, concurrency=1, clock=fake_time.clock, sleep=fake_time.sleep
        )
        emitted = await _run_until(poller, log, ["AAPL"])
    sent = [t - 1000.0 for t in log.times]
    # 429 at 0; factor 2 → I = 1 s, so Retry-After (2 s) rules; then I = 0.5·(1 + 2^-n).
    assert sent[:5] == [0.0, 2.0, 2.75, 3.375, 3.9375]
    assert all(later - earlier >= 0.5 for earlier, later in itertools.pairwise(sent))
    stats = poller.stats
    assert stats.rate_limited == 1
    assert stats.factor == pytest.approx(1.0, abs=0.01)
    assert [q.symbol for q in emitted] == ["AAPL"]  # the rest were unchanged


async def test_rate_limit_through_control_api_stops_the_round(
    sim: Simulator, fake_time: FakeTime
) -> None:
    """A 429 (injected with POST /_sim/fault) stops the round: later symbols are not sent."""
    async with httpx.AsyncClient() as control:
        reply = await control.post(
            sim.base_url + "/_sim/fault",
            json={"kind": "429", "count": 1, "retry_after": 7, "target": "rest"},
        )
    assert reply.status_code == 201
    log = SendLog(fake_time.clock)
    async with log.ky(sim) as ky:
        poller = YahooRestPoller(ky, interval=1.0, concurrency=1, clock=fake_time.clock)
        assert await poller.poll_once(["AAPL", "MSFT", "TSLA"]) == []
        assert log.paths == ["/v8/finance/chart/AAPL"]
        assert poller.stats.deferred == 2
        assert poller.cadence.next_poll_at() == 1007.0
        assert await poller.poll_once(["AAPL", "MSFT"]) == []  # still held: nothing sent
        assert len(log.paths) == 1
        assert poller.stats.factor == 2.0  # a round that sent nothing changes nothing
        fake_time.now = 1007.0
        quotes = await poller.poll_once(["AAPL", "MSFT", "TSLA"])
    assert [q.symbol for q in quotes] == ["AAPL", "MSFT", "TSLA"]


async def test_poll_maps_simulator_chart(sim: Simulator, fake_time: FakeTime) -> None:
    """A round returns one poll quote per symbol with the simulator's values."""
    async with YahooRestPoller(sim.rest_url, clock=fake_time.clock, now_us=lambda: 42) as poller:
        quotes = await poller.poll_once(["AAPL", "BTC-USD", "^GSPC", "EURUSD=X"])
    assert [q.symbol for q in quotes] == ["AAPL", "BTC-USD", "^GSPC", "EURUSD=X"]
    aapl, btc, gspc, eur = quotes
    state = sim.market.state("AAPL")
    assert state.price == aapl.price
    assert int(state.updated) * 1_000_000 == aapl.ts_upstream
    assert aapl.ts_library_in == 42
    assert aapl.source == "poll"
    assert (aapl.quote_type, aapl.exchange, aapl.currency) == (QuoteType.EQUITY, "NMS", "USD")
    assert aapl.market_hours == MarketHours.REGULAR_MARKET  # 12:00 New York
    assert state.previous_close == aapl.previous_close
    assert aapl.change == pytest.approx(state.price - state.previous_close)
    assert btc.quote_type == QuoteType.CRYPTOCURRENCY
    assert gspc.quote_type == QuoteType.INDEX
    assert eur.quote_type == QuoteType.CURRENCY
    assert aapl.ts_upstream == int(sim.config.clock()) * 1_000_000


async def test_unchanged_quotes_are_not_re_emitted(sim: Simulator, fake_time: FakeTime) -> None:
    """A second round with the same data returns nothing; a moved price returns again."""
    received = iter(range(1, 100))
    async with YahooRestPoller(
        sim.rest_url, clock=fake_time.clock, now_us=lambda: next(received)
    ) as poller:
        first = await poller.poll_once(["AAPL", "MSFT"])
        second = await poller.poll_once(["AAPL", "MSFT"])
        sim.market.step("MSFT")
        third = await poller.poll_once(["AAPL", "MSFT"])
    assert len(first) == 2
    assert second == []
    assert [q.symbol for q in third] == ["MSFT"]
    assert poller.stats.unchanged == 3


async def test_concurrency_limit_is_respected(sim: Simulator, fake_time: FakeTime) -> None:
    """With concurrency 2, never more than 2 requests are in flight (and 2 are used)."""
    log = SendLog()
    symbols = ["AAPL", "MSFT", "TSLA", "NVDA", "AMZN", "GOOGL", "META", "KO"]
    async with log.ky(sim) as ky:
        poller = YahooRestPoller(ky, concurrency=2, clock=fake_time.clock)
        quotes = await poller.poll_once(symbols)
    assert symbols == [q.symbol for q in quotes]
    assert log.max_in_flight == 2


async def test_hung_requests_hold_their_slots(sim: Simulator, fake_time: FakeTime) -> None:
    """Two hung requests (sim `hang`) with concurrency 2 keep every other request unsent;
    they time out, the round goes on, and the hung symbols are errors, not crashes."""
    sim.inject(Fault("hang", count=2, target="rest"))
    log = SendLog(time.monotonic)
    async with log.ky(sim, timeout=0.5) as ky:
        poller = YahooRestPoller(ky, concurrency=2, clock=fake_time.clock)
        with anyio.fail_after(5):
            quotes = await poller.poll_once(["AAPL", "MSFT", "TSLA", "NVDA"])
    assert [q.symbol for q in quotes] == ["TSLA", "NVDA"]
    hung, rest = log.times[:2], log.times[2:]
    assert min(rest) - max(hung) >= 0.4  # TSLA/NVDA waited for the hung ones to time out
    assert poller.stats.errors["timeout"] == 2
    sim.clear_faults()


async def test_unknown_symbol_is_skipped_and_logged_once(
    sim: Simulator, fake_time: FakeTime, log_lines: list[str]
) -> None:
    """chart.error for one symbol is logged once, counted, and the others still arrive."""
    async with YahooRestPoller(sim.rest_url, clock=fake_time.clock) as poller:
        first = await poller.poll_once(["INVALID", "AAPL"])
        await poller.poll_once(["INVALID", "AAPL"])
    assert [q.symbol for q in first] == ["AAPL"]
    assert poller.stats.errors["chart_error"] == 2
    logged = [line for line in log_lines if "INVALID" in line]
    assert len(logged) == 1
    assert "Not Found" in logged[0]
    assert poller.stats.factor == 1.0  # an unknown symbol is not an outage


async def test_down_page_backs_off(
    sim: Simulator, fake_time: FakeTime, log_lines: list[str]
) -> None:
    """'Will be right back' is an outage: the round stops and the next waits the backoff."""
    sim.inject(Fault("down_page", count=1, target="rest"))
    log = SendLog(fake_time.clock)
    async with log.ky(sim) as ky:
        poller = YahooRestPoller(ky, interval=1.0, concurrency=1, clock=fake_time.clock)
        assert await poller.poll_once(["AAPL", "MSFT"]) == []
    assert len(log.times) == 1  # MSFT was not sent into the outage
    assert poller.stats.errors["down_page"] == 1
    assert poller.stats.outages == 1
    assert poller.cadence.next_poll_at() == 1005.0  # backoff_base 5 s
    assert any("Will be right back" in line for line in log_lines)


async def test_round_of_server_errors_is_an_outage(sim: Simulator, fake_time: FakeTime) -> None:
    """When every request of a round gets 500, the cadence backs off; a good round resets it."""
    sim.inject(Fault("500", count=2, target="rest"))
    async with YahooRestPoller(
        sim.rest_url, interval=1.0, concurrency=2, clock=fake_time.clock
    ) as poller:
        assert await poller.poll_once(["AAPL", "MSFT"]) == []
        assert poller.stats.errors["server_error"] == 2
        assert poller.cadence.failures == 1
        fake_time.now = poller.cadence.next_poll_at()
        assert len(await poller.poll_once(["AAPL", "MSFT"])) == 2
        assert poller.cadence.failures == 0


async def test_transport_errors_are_not_fatal(fake_time: FakeTime) -> None:
    """A refused connection is counted as a transport error and the round completes."""
    with anyio.fail_after(5):
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        await listener.aclose()  # nothing listens there now
        async with YahooRestPoller(f"http://127.0.0.1:{port}", clock=fake_time.clock) as poller:
            assert await poller.poll_once(["AAPL"]) == []
    assert poller.stats.errors["transport"] == 1
    assert poller.stats.outages == 1


async def test_run_emits_through_async_callback_and_cancels_cleanly(
    sim: Simulator, fake_time: FakeTime
) -> None:
    """run() awaits an async emit, follows the symbols callable, and stops on cancel."""
    seen: list[str] = []
    got_two = anyio.Event()

    async def emit(quote: Quote) -> None:
        seen.append(quote.symbol)
        if len(seen) == 2:
            got_two.set()

    async with YahooRestPoller(
        sim.rest_url, interval=1.0, clock=fake_time.clock, sleep=fake_time.sleep
    ) as poller:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(poller.run, lambda: ("AAPL", "KO"), emit)
                await got_two.wait()
                tg.cancel_scope.cancel()
    assert seen == ["AAPL", "KO"]


async def test_run_waits_while_no_symbols(sim: Simulator, fake_time: FakeTime) -> None:
    """With nothing to poll, run() sends nothing and sleeps one interval at a time."""
    log = SendLog(fake_time.clock)
    async with log.ky(sim) as ky:
        poller = YahooRestPoller(ky, interval=3.0, clock=fake_time.clock, sleep=fake_time.sleep)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(poller.run, lambda: (), print)
                while len(fake_time.sleeps) < 3:
                    await anyio.lowlevel.checkpoint()
                tg.cancel_scope.cancel()
    assert log.times == []
    assert fake_time.sleeps[:3] == [3.0, 3.0, 3.0]


def test_concurrency_must_be_positive() -> None:
    """concurrency < 1 is refused."""
    with pytest.raises(ValueError):
        YahooRestPoller("http://127.0.0.1:9", concurrency=0)


async def test_malformed_body_is_skipped_not_an_outage(sim: Simulator, fake_time: FakeTime) -> None:
    """A 200 that is not a chart (swapped in by a ky hook) skips the symbol; no backoff."""

    def garble(request: httpx.Request, response: ApiResponse) -> ApiResponse:
        if request.url.path.endswith("/MSFT"):
            return ApiResponse(status=200, url=response.url, content=b'{"chart": {}}')
        return response

    async with AsyncKy(sim.rest_url, hooks=Hooks(after_response=(garble,))) as ky:
        poller = YahooRestPoller(ky, interval=1.0, clock=fake_time.clock)
        quotes = await poller.poll_once(["AAPL", "MSFT"])
    assert [q.symbol for q in quotes] == ["AAPL"]
    assert poller.stats.errors["malformed"] == 1
    assert poller.cadence.failures == 0
    assert poller.cadence.next_poll_at() == 1001.0


async def test_one_server_error_in_a_good_round_is_not_an_outage(
    sim: Simulator, fake_time: FakeTime
) -> None:
    """A single 500 among good answers is a symbol error; the cadence stays on time."""
    sim.inject(Fault("500", count=1, target="rest"))
    async with YahooRestPoller(
        sim.rest_url, interval=1.0, concurrency=1, clock=fake_time.clock
    ) as poller:
        quotes = await poller.poll_once(["AAPL", "MSFT", "KO"])
    assert [q.symbol for q in quotes] == ["MSFT", "KO"]
    assert poller.stats.errors["server_error"] == 1
    assert poller.stats.outages == 0
    assert poller.cadence.next_poll_at() == 1001.0
