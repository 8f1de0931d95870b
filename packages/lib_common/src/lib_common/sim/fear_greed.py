"""CNN's Fear & Greed index, simulated: a slow, seeded random walk and a year of history.

The body has the shape of `production.dataviz.cnn.io/index/fearandgreed/graphdata`: the
current `fear_and_greed` value with its reference points, `fear_and_greed_historical`,
and the nine component series. The live score moves one small step per simulated minute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any, Final

from lib_common.sim.clock import Clock

__all__ = ["COMPONENTS", "FearGreed", "rating"]

COMPONENTS: Final = (
    "market_momentum_sp500",
    "market_momentum_sp125",
    "stock_price_strength",
    "stock_price_breadth",
    "put_call_options",
    "market_volatility_vix",
    "market_volatility_vix_50",
    "junk_bond_demand",
    "safe_haven_demand",
)
# Each component's indicator value `y` as centre + slope × (score − 50) / 50: plausible
# ranges (S&P level, put/call ratio, VIX, ...), falling with greed where the real one does.
_INDICATOR: Final[dict[str, tuple[float, float]]] = {
    "market_momentum_sp500": (5900.0, 250.0),
    "market_momentum_sp125": (5700.0, 150.0),
    "stock_price_strength": (2.0, 6.0),
    "stock_price_breadth": (900.0, 400.0),
    "put_call_options": (0.85, -0.2),
    "market_volatility_vix": (18.0, -6.0),
    "market_volatility_vix_50": (18.5, -4.0),
    "junk_bond_demand": (2.0, -0.5),
    "safe_haven_demand": (2.0, 6.0),
}
_HISTORY_DAYS: Final = 400
_STEP_SECONDS: Final = 60.0
_MAX_STEPS: Final = 10_000  # catching up after a long clock jump stays bounded


def rating(score: float) -> str:
    """CNN's lowercase rating for a 0–100 score."""
    if score < 25:
        return "extreme fear"
    if score < 45:
        return "fear"
    if score <= 55:
        return "neutral"
    if score <= 75:
        return "greed"
    return "extreme greed"


def _clamp(score: float) -> float:
    return min(100.0, max(0.0, score))


def _point(x_ms: float, y: float, score: float) -> dict[str, Any]:
    return {"x": x_ms, "y": round(y, 4), "rating": rating(score)}


class FearGreed:
    """The index's state; `payload()` renders the CNN body at the clock's current time."""

    def __init__(self, seed: int, clock: Clock) -> None:
        self._clock = clock
        now = clock()
        today = datetime.fromtimestamp(now, UTC).date()
        rng = Random(f"{seed}:fear_greed")
        score = 50.0 + rng.uniform(-20.0, 20.0)
        self._days: list[tuple[date, float]] = []
        for back in range(_HISTORY_DAYS, 0, -1):
            score = _clamp(score + rng.gauss(0.0, 4.0) + 0.05 * (50.0 - score))
            self._days.append((today - timedelta(days=back), score))
        self._components: dict[str, list[tuple[float, float]]] = {}
        for name in COMPONENTS:
            crng = Random(f"{seed}:fear_greed:{name}")
            self._components[name] = [
                (_day_ms(day), _clamp(main + crng.gauss(0.0, 12.0))) for day, main in self._days
            ]
        self._live_rng = Random(f"{seed}:fear_greed:live")
        self._score = _clamp(score + self._live_rng.gauss(0.0, 3.0))  # today moved already
        self._stepped_to = now

    @property
    def score(self) -> float:
        """The current score after catching up with the clock."""
        self._advance()
        return self._score

    def _advance(self) -> None:
        now = self._clock()
        steps = int((now - self._stepped_to) // _STEP_SECONDS)
        if steps <= 0:
            return
        self._stepped_to += steps * _STEP_SECONDS
        rng = self._live_rng
        score = self._score
        for _ in range(min(steps, _MAX_STEPS)):
            score = _clamp(score + rng.gauss(0.0, 0.25) + 0.002 * (50.0 - score))
        self._score = score

    def payload(self, since: date | None = None) -> dict[str, Any]:
        """The graphdata body; `since` limits the history (the `/graphdata/YYYY-MM-DD` form)."""
        self._advance()
        now = self._clock()
        now_ms = float(int(now * 1000))
        score = round(self._score, 4)
        days = [(d, s) for d, s in self._days if since is None or d >= since]

        def back(n: int) -> float:
            return round(self._days[-n][1], 4)

        body: dict[str, Any] = {
            "fear_and_greed": {
                "score": score,
                "rating": rating(score),
                "timestamp": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
                "previous_close": back(1),
                "previous_1_week": back(7),
                "previous_1_month": back(30),
                "previous_1_year": back(365),
            },
            "fear_and_greed_historical": {
                "timestamp": now_ms,
                "score": score,
                "rating": rating(score),
                "data": [_point(_day_ms(d), s, s) for d, s in days]
                + [_point(now_ms, score, score)],
            },
        }
        since_ms = _day_ms(since) if since is not None else float("-inf")
        for name, series in self._components.items():
            centre, slope = _INDICATOR[name]
            last = series[-1][1]
            body[name] = {
                "timestamp": now_ms,
                "score": round(last, 4),
                "rating": rating(last),
                "data": [
                    _point(x, centre + slope * (s - 50.0) / 50.0, s)
                    for x, s in series
                    if x >= since_ms
                ],
            }
        return body


def _day_ms(day: date) -> float:
    return float(int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000)
