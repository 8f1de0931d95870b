"""The stream client's `on_frame` tap: every raw frame, stamped, before decoding."""

from __future__ import annotations

import itertools

import anyio
import pytest

from lib_common.ingestors.yahoo.backoff import BackoffPolicy
from lib_common.ingestors.yahoo.codec import decode_frame
from lib_common.ingestors.yahoo.quote import Quote
from lib_common.ingestors.yahoo.stream import StreamConfig, YahooStreamClient
from lib_common.sim import Fault, SimConfig, run_simulator

pytestmark = pytest.mark.anyio

DEADLINE = 10.0


def _config(url: str) -> StreamConfig:
    return StreamConfig(
        url=url,
        inactivity_timeout=0,
        heartbeat_interval=0,
        ping_interval=None,
        backoff=BackoffPolicy(base=0.01, cap=0.05, floor=0.01),
        proxy=None,
    )


async def test_on_frame_sees_every_frame_with_its_stamp_before_decoding() -> None:
    """Each delivered quote was tapped first, as the raw frame with the same receipt stamp;
    garbage frames are tapped too, though never delivered."""
    stamps = itertools.count(1_000_000)
    tapped: list[tuple[int, str | bytes]] = []
    async with run_simulator(SimConfig(rate=200, seed=3)) as sim:
        sim.inject(Fault("garbage", count=5, variant="bad_base64"))
        client = YahooStreamClient(
            _config(sim.ws_url),
            symbols=["AAPL"],
            clock_us=lambda: next(stamps),
            on_frame=lambda received, frame: tapped.append((received, frame)),
        )
        delivered: list[Quote] = []
        async with client:
            with anyio.fail_after(DEADLINE):
                async for quote in client.quotes:
                    delivered.append(quote)
                    if len(delivered) == 12:
                        break
    by_stamp = dict(tapped)
    for quote in delivered:
        raw = by_stamp[quote.ts_library_in]  # the tap saw this very frame first
        assert quote == decode_frame(raw, quote.ts_library_in)
    garbage = [frame for _, frame in tapped if not isinstance(decode_frame(frame, 0), Quote)]
    assert len(garbage) == 5
    assert client.stats().decode_errors_total == 5
