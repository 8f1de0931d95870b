"""`server-yahoo --demo` (a real process): both Yahoo wire formats, exactly what was asked."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import anyio
import pytest

from .conftest import YahooClient, YahooProcess, payload_of, spawn

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[YahooProcess]:
    """One `server-yahoo --demo` shared by this module; it must stop cleanly (exit 0)."""
    process = YahooProcess(["--demo"], tmp_path_factory.mktemp("demo") / "server-yahoo.log")
    yield process
    code = process.stop()
    assert code == 0, process.logs()


async def test_envelope_and_legacy_clients_get_exactly_their_symbols(demo: YahooProcess) -> None:
    """A ?version=2 client gets JSON envelope frames, a legacy client bare base64, each
    only for the symbols it subscribed, all decodable by lib_common's decode_frame."""
    v2_symbols = {"AAPL", "BTC-USD"}
    legacy_symbols = {"MSFT", "ETH-USD", "^GSPC"}
    v2 = await YahooClient.open(demo.ws_url)
    legacy = await YahooClient.open(demo.legacy_ws_url)
    try:
        await v2.subscribe(sorted(v2_symbols))
        await legacy.subscribe(sorted(legacy_symbols))
        await v2.see_all(v2_symbols)
        await legacy.see_all(legacy_symbols)
        for _ in range(10):
            await v2.next_quote()
            await legacy.next_quote()
    finally:
        await v2.aclose()
        await legacy.aclose()

    assert v2_symbols == {q.symbol for q in v2.quotes}
    assert legacy_symbols == {q.symbol for q in legacy.quotes}
    for frame in v2.frames:
        envelope = json.loads(frame)
        assert ["type", "message"] == list(envelope)
        assert "pricing" == envelope["type"]
    for frame in legacy.frames:
        assert not frame.startswith("{")
        assert frame == frame.strip()
    # The payload is the same PricingData in both wrappings (decode_frame read them all).
    assert all(payload_of(f) for f in v2.frames + legacy.frames)


async def test_demo_banner_health_and_metrics(demo: YahooProcess) -> None:
    """The banner names both stream URLs; /health and /metrics answer on the same port."""
    assert f"ws://127.0.0.1:{demo.port}/?version=2" in demo.banner
    assert f"ws://127.0.0.1:{demo.port}/)" in demo.banner
    health = await demo.health()
    assert "server-yahoo" == health["service"]
    assert health["status"] in ("ok", "degraded")
    assert "regular" == health["upstream"]["market"]  # the demo market is always open
    metrics = await demo.get("/metrics")
    assert 200 == metrics.status_code
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "server_yahoo_frames_built_total" in metrics.text


async def test_start_and_stop_within_a_few_seconds(
    start_server_yahoo: Callable[..., YahooProcess],
) -> None:
    """SIGTERM closes connected clients with 1001 and the process exits 0."""
    process = await spawn(start_server_yahoo, "--demo")
    client = await YahooClient.open(process.ws_url)
    await client.subscribe(["AAPL"])
    await client.next_quote()
    process.terminate()
    assert 1001 == await client.close_code()
    assert 0 == await anyio.to_thread.run_sync(process.wait)
