"""Tests for `FearGreedPoller` against the simulator over loopback, with fake time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest

from lib_common.ingestors.cnn import (
    BOT_REFUSAL,
    COMPONENT_NAMES,
    FearGreed,
    FearGreedError,
    FearGreedPoller,
    FearGreedSchedule,
)
from lib_common.ky_http import ApiResponse, AsyncKy, Hooks
from lib_common.sim import Fault, ManualClock, Simulator

# Fixture types live in conftest.py, which test modules cannot import.
FakeTime = Any

pytestmark = pytest.mark.anyio

WALL = datetime(2025, 10, 30, 16, 0, tzinfo=UTC)


def _poller(sim: Simulator, fake_time: FakeTime, **options: Any) -> FearGreedPoller:
    options.setdefault("market_open", lambda _dt: True)
    return FearGreedPoller(
        sim.base_url,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        wall_clock=lambda: WALL,
        **options,
    )


async def _run(poller: FearGreedPoller, fake_time: FakeTime, sleeps: int) -> list[FearGreed]:
    """Run the poll loop until it has slept `sleeps` times; the values it emitted."""
    emitted: list[FearGreed] = []
    fake_time.stop_after = sleeps
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poller.run, emitted.append)
            await fake_time.done.wait()
            tg.cancel_scope.cancel()
    return emitted


async def test_fetch_once_parses_simulator_body(
    sim: Simulator, fake_time: FakeTime, sim_clock: ManualClock
) -> None:
    """One fetch gives the simulator's score, an aware timestamp and all nine components."""
    async with _poller(sim, fake_time) as poller:
        value = await poller.fetch_once()
    assert value.score == round(sim.fear_greed.score, 4)
    assert value.timestamp == datetime.fromtimestamp(sim_clock(), UTC)
    assert tuple(value.components) == COMPONENT_NAMES
    assert len(value.history) > 300  # a year of daily points plus now
    assert poller.stats.successes == 1


async def test_requests_carry_browser_headers(sim: Simulator, fake_time: FakeTime) -> None:
    """Every request sends a desktop Chrome User-Agent, CNN's Referer and Accept JSON."""
    seen: list[httpx.Headers] = []
    hooks = Hooks(before_request=(lambda request: seen.append(request.headers),))
    async with AsyncKy(sim.base_url, hooks=hooks) as ky:
        poller = FearGreedPoller(ky, clock=fake_time.clock, sleep=fake_time.sleep)
        await poller.fetch_once()
    headers = seen[0]
    assert headers["user-agent"].startswith("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")
    assert "Chrome/" in headers["user-agent"]
    assert headers["referer"] == "https://www.cnn.com/markets/fear-and-greed"
    assert headers["accept"] == "application/json"


async def test_bot_user_agent_gets_clear_418_error(sim: Simulator, fake_time: FakeTime) -> None:
    """The simulator's UA check answers a bot User-Agent with 418: a 'blocked' error."""
    async with _poller(sim, fake_time, headers={"User-Agent": "python-httpx/0.28"}) as poller:
        with pytest.raises(FearGreedError) as caught:
            await poller.fetch_once()
    assert caught.value.kind == "blocked"
    assert caught.value.status == 418
    assert str(caught.value) == BOT_REFUSAL
    assert poller.stats.errors["blocked"] == 1


async def test_418_is_logged_and_backed_off_then_recovers(
    sim: Simulator, fake_time: FakeTime, log_lines: list[str]
) -> None:
    """Three 418s: a clear error each time and waits of 60, 120, 240 s; then a value."""
    sim.inject(Fault("418", count=3, target="cnn"))
    async with _poller(sim, fake_time) as poller:
        emitted = await _run(poller, fake_time, sleeps=4)
    assert fake_time.sleeps[:4] == [60.0, 120.0, 240.0, 300.0]
    refusals = [line for line in log_lines if BOT_REFUSAL in line]
    assert len(refusals) == 3
    assert all(line.startswith("ERROR") for line in refusals)
    assert len(emitted) == 1
    assert any("answering again" in line for line in log_lines)


@pytest.mark.parametrize("kind", ["500", "down_page"])
async def test_server_errors_back_off(sim: Simulator, fake_time: FakeTime, kind: str) -> None:
    """A 500 or an outage page is a 'server_error' and backs off, never fatal."""
    sim.inject(Fault(kind, count=2, target="cnn"))  # type: ignore[arg-type]
    async with _poller(sim, fake_time) as poller:
        emitted = await _run(poller, fake_time, sleeps=3)
    assert fake_time.sleeps[:3] == [60.0, 120.0, 300.0]
    assert poller.stats.errors["server_error"] == 2
    assert len(emitted) == 1


async def test_rate_limit_waits_retry_after(sim: Simulator, fake_time: FakeTime) -> None:
    """A 429 with Retry-After 150 waits 150 s (longer than the 60 s first backoff)."""
    sim.inject(Fault("429", count=1, retry_after=150, target="cnn"))
    async with _poller(sim, fake_time) as poller:
        await _run(poller, fake_time, sleeps=1)
    assert fake_time.sleeps[0] == 150.0
    assert poller.stats.errors["rate_limited"] == 1


async def test_transport_error_backs_off(fake_time: FakeTime, log_lines: list[str]) -> None:
    """Nothing listening: a 'transport' error, logged, and the capped backoff."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    async with FearGreedPoller(
        f"http://127.0.0.1:{port}", clock=fake_time.clock, sleep=fake_time.sleep
    ) as poller:
        await _run(poller, fake_time, sleeps=2)
    assert fake_time.sleeps[:2] == [60.0, 120.0]
    assert poller.stats.errors["transport"] >= 2
    assert any(line.startswith("ERROR") and "request failed" in line for line in log_lines)


async def test_non_json_body_is_malformed(sim: Simulator, fake_time: FakeTime) -> None:
    """A 200 whose body is not JSON (here swapped in by a ky hook) is 'malformed'."""

    def html(_request: httpx.Request, response: ApiResponse) -> ApiResponse:
        return ApiResponse(status=200, url=response.url, content=b"<html>consent</html>")

    async with AsyncKy(sim.base_url, hooks=Hooks(after_response=(html,))) as ky:
        poller = FearGreedPoller(ky, clock=fake_time.clock, sleep=fake_time.sleep)
        with pytest.raises(FearGreedError) as caught:
            await poller.fetch_once()
    assert caught.value.kind == "malformed"


async def test_market_closed_polls_less_often(sim: Simulator, fake_time: FakeTime) -> None:
    """With the market closed the delay after a flat poll is 4 × 300 s instead of 300 s."""
    asked: list[datetime] = []

    def closed(dt: datetime) -> bool:
        asked.append(dt)
        return False

    async with _poller(sim, fake_time, market_open=closed) as poller:
        await _run(poller, fake_time, sleeps=1)
    assert fake_time.sleeps[0] == 1200.0
    assert asked[0] == WALL


async def test_unchanged_value_is_not_emitted_again(
    sim: Simulator, fake_time: FakeTime, sim_clock: ManualClock
) -> None:
    """With the simulator's clock frozen the second poll repeats the first: not emitted;
    once its clock moves, the new value is emitted."""
    async with _poller(sim, fake_time) as poller:
        first = await _run(poller, fake_time, sleeps=2)
        assert len(first) == 1
        assert poller.stats.unchanged >= 1
        sim_clock.advance(600.0)
        fake_time.done = anyio.Event()
        second = await _run(poller, fake_time, sleeps=3)
    assert len(second) == 1
    assert second[0].timestamp > first[0].timestamp


async def test_delays_follow_schedule_as_simulated_score_moves(
    sim: Simulator, fake_time: FakeTime, sim_clock: ManualClock
) -> None:
    """Fake time drives both clocks; every delay is what the schedule gives for the
    scores seen at those times, and all stay within [60 s, 1800 s]."""
    fake_time.on_sleep.append(sim_clock.advance)
    async with _poller(sim, fake_time) as poller:
        emitted = await _run(poller, fake_time, sleeps=6)
    replay = FearGreedSchedule()
    now, expected = 1000.0, []
    for value, delay in zip(emitted, fake_time.sleeps, strict=False):
        replay.observe(value.score, now)
        expected.append(replay.next_delay(market_open=True))
        now += delay
    assert fake_time.sleeps[: len(expected)] == pytest.approx(expected)
    assert all(60.0 <= d <= 1800.0 for d in fake_time.sleeps)
    assert len(emitted) >= 5
