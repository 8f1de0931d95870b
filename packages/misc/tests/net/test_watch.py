"""monitor-net's loop against real loopback listeners: DOWN, degraded, UP, the outage log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loguru import logger

from rsdev_misc.monitor import MonitorLoop, MonitorSettings, State
from rsdev_misc.monitor.testing import FakeClock
from rsdev_misc.monitor_net import NetObserver, NetProbe, OutageLog
from rsdev_misc.monitor_net.checks import parse_dns, parse_tcp

pytestmark = pytest.mark.anyio

INTERVAL = 10.0


@pytest.fixture
def alerts():
    """Messages of alert records logged during the test."""
    seen: list[str] = []
    handler = logger.add(
        lambda m: seen.append(m.record["message"]),
        filter=lambda r: r["extra"].get("alert") is True,
    )
    yield seen
    logger.remove(handler)


def watch(peers, tmp_path: Path, **settings):
    clock = FakeClock()
    probe = NetProbe([parse_tcp(p.address) for p in peers])
    cfg = MonitorSettings(interval=INTERVAL, timeout=1.0, **settings)
    log = OutageLog(tmp_path / "outages.jsonl")
    observer = NetObserver(probe, cfg, outage_log=log)
    loop = MonitorLoop(probe, cfg, tool="monitor-net", clock=clock, observers=[observer])
    return loop, clock, log


async def beat(loop: MonitorLoop, clock: FakeClock):
    b = await loop.step()
    clock.advance(INTERVAL)
    return b


async def test_all_targets_down_is_down_after_threshold(listeners, tmp_path, alerts) -> None:
    """Stopping every listener: PENDING, PENDING, then DOWN on the third offline round."""
    peers = await listeners(3)
    loop, clock, _ = watch(peers, tmp_path, fail_after=3)
    assert (await beat(loop, clock)).step.state is State.UP
    for p in peers:
        await p.stop()
    states = [(await beat(loop, clock)).step.state for _ in range(3)]
    assert states == [State.PENDING, State.PENDING, State.DOWN]
    assert len(alerts) == 1
    assert "is DOWN" in alerts[0]
    assert "offline: all 3 targets failed" in alerts[0]


async def test_one_target_down_is_degraded_not_down(listeners, tmp_path, alerts) -> None:
    """One of three listeners stopped: the target stays UP, DEGRADED is alerted, then logged."""
    peers = await listeners(3)
    loop, clock, log = watch(peers, tmp_path, fail_after=2, recover_after=2)
    await beat(loop, clock)
    await peers[1].stop()
    rounds = [await beat(loop, clock) for _ in range(3)]
    assert all(r.step.state is State.UP and r.result.degraded for r in rounds)
    assert len(alerts) == 1
    assert alerts[0].startswith("network DEGRADED: 1 of 3 targets failing")
    await peers[1].start()
    await beat(loop, clock)
    await beat(loop, clock)
    (entry,) = log.records
    assert entry["kind"] == "degraded"
    assert entry["targets_failed"] == [f"tcp {peers[1].address}"]
    assert entry["duration_s"] == 3 * INTERVAL  # from the first degraded to the first good round


async def test_restart_brings_up_with_duration_in_outage_log(listeners, tmp_path, alerts) -> None:
    """Listeners back: UP after --recover-after rounds; the outage log has the duration."""
    peers = await listeners(2)
    loop, clock, _ = watch(peers, tmp_path, fail_after=2, recover_after=2)
    await beat(loop, clock)
    for p in peers:
        await p.stop()
    for _ in range(5):
        await beat(loop, clock)  # offline from the 2nd round to the 6th
    for p in peers:
        await p.start()
    first_up = await beat(loop, clock)
    second_up = await beat(loop, clock)
    assert (first_up.step.state, second_up.step.state) == (State.DOWN, State.UP)
    assert alerts[-1].startswith(
        f"net[tcp {peers[0].address}, tcp {peers[1].address}] is UP again after 50s down"
    )
    lines = (tmp_path / "outages.jsonl").read_text().splitlines()
    entry = json.loads(lines[0])
    assert len(lines) == 1
    assert (entry["kind"], entry["duration_s"], entry["error_bound_s"]) == ("offline", 50.0, 10.0)
    assert entry["targets_failed"] == sorted(f"tcp {p.address}" for p in peers)
    assert entry["start"].endswith("Z")
    assert entry["end"].endswith("Z")
    assert entry["continued_after_restart"] is False


async def test_offline_then_partial_recovery(listeners, dns_server, tmp_path) -> None:
    """Coming back partly (one target) ends the offline outage and starts a degraded period."""
    peers = await listeners(1)
    clock = FakeClock()
    probe = NetProbe(
        [parse_tcp(peers[0].address), parse_dns(f"x.test@127.0.0.1:{dns_server.port}")]
    )
    cfg = MonitorSettings(interval=INTERVAL, timeout=0.3, fail_after=1, recover_after=1)
    log = OutageLog()
    loop = MonitorLoop(probe, cfg, clock=clock, observers=[NetObserver(probe, cfg, outage_log=log)])
    await peers[0].stop()
    await dns_server.stop()
    assert (await beat(loop, clock)).step.state is State.DOWN
    await peers[0].start()
    b = await beat(loop, clock)
    assert (b.step.state, b.result.degraded) == (State.UP, True)
    assert [r["kind"] for r in log.records] == ["offline"]
    assert log.summary().startswith("offline: 1 outage(s), total 10s")
