"""CNN Fear & Greed as typed, frozen values, and the pure parser of CNN's graphdata body.

`parse_fear_greed(doc)` reads `production.dataviz.cnn.io/index/fearandgreed/graphdata`
(already JSON-decoded) and never raises: a body without a usable headline score and
timestamp gives None; a malformed component, point or optional field is logged and
left out (None / absent), never fatal.

Body shape: `fear_and_greed: {score, rating, timestamp (ISO-8601), previous_close,
previous_1_week, previous_1_month, previous_1_year}`, `fear_and_greed_historical:
{timestamp, score, rating, data: [{x: epoch ms, y: score, rating}]}` and nine component
series `{timestamp (epoch ms), score, rating, data: [{x, y, rating}]}`; in a component's
data `y` is the indicator's own value (S&P level, VIX, put/call ratio…), not a score.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final

from loguru import logger

__all__ = [
    "COMPONENT_NAMES",
    "FearGreed",
    "FearGreedComponent",
    "FearGreedPoint",
    "Rating",
    "parse_fear_greed",
    "parse_rating",
]

COMPONENT_NAMES: Final = (
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


class Rating(enum.StrEnum):
    """CNN's ratings (lowercase on the wire). Unknown spellings stay plain strings."""

    EXTREME_FEAR = "extreme fear"
    FEAR = "fear"
    NEUTRAL = "neutral"
    GREED = "greed"
    EXTREME_GREED = "extreme greed"


def parse_rating(value: object) -> Rating | str | None:
    """A `Rating` for a known spelling, the lowercase string for an unknown one, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    try:
        return Rating(text)
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class FearGreedPoint:
    """One historical point: when, the value (`y`), and CNN's rating of it."""

    timestamp: datetime
    value: float
    rating: Rating | str | None = None


@dataclass(frozen=True, slots=True)
class FearGreedComponent:
    """One of the nine indicators the index is built from."""

    name: str
    score: float | None
    rating: Rating | str | None
    timestamp: datetime | None
    data: tuple[FearGreedPoint, ...] = ()


@dataclass(frozen=True, slots=True)
class FearGreed:
    """The index now, its reference points, its components and (optionally) its history."""

    score: float
    rating: Rating | str | None
    timestamp: datetime
    previous_close: float | None = None
    previous_1_week: float | None = None
    previous_1_month: float | None = None
    previous_1_year: float | None = None
    components: Mapping[str, FearGreedComponent] = field(
        default_factory=lambda: MappingProxyType({})
    )
    history: tuple[FearGreedPoint, ...] = ()

    def __post_init__(self) -> None:
        # Frozen all the way down: a read-only view of a private copy.
        object.__setattr__(self, "components", MappingProxyType(dict(self.components)))


def parse_fear_greed(doc: object, *, history: bool = True) -> FearGreed | None:
    """The `FearGreed` in a graphdata body, or None (logged) when it has no usable headline.

    `history=False` skips the year of daily points (index and components) for callers
    that only want the current value.
    """
    if not isinstance(doc, dict):
        logger.warning("CNN Fear & Greed: body is {}, not an object", type(doc).__name__)
        return None
    head = doc.get("fear_and_greed")
    historical = doc.get("fear_and_greed_historical")
    if not isinstance(head, dict):
        logger.warning("CNN Fear & Greed: no 'fear_and_greed' object in the body")
        return None
    score = _number(head.get("score"))
    if score is None:
        logger.warning("CNN Fear & Greed: fear_and_greed.score is missing or not a number")
        return None
    timestamp = _time(head.get("timestamp"))
    if timestamp is None and isinstance(historical, dict):
        timestamp = _time(historical.get("timestamp"))
    if timestamp is None:
        logger.warning("CNN Fear & Greed: no usable timestamp for the score")
        return None
    components = {}
    for name in COMPONENT_NAMES:
        component = _component(name, doc.get(name), history=history)
        if component is not None:
            components[name] = component
    return FearGreed(
        score=score,
        rating=parse_rating(head.get("rating")),
        timestamp=timestamp,
        previous_close=_number(head.get("previous_close")),
        previous_1_week=_number(head.get("previous_1_week")),
        previous_1_month=_number(head.get("previous_1_month")),
        previous_1_year=_number(head.get("previous_1_year")),
        components=components,
        history=_points("fear_and_greed_historical", historical) if history else (),
    )


def _component(name: str, value: object, *, history: bool) -> FearGreedComponent | None:
    if value is None:
        logger.debug("CNN Fear & Greed: component {} absent", name)
        return None
    if not isinstance(value, dict):
        logger.warning("CNN Fear & Greed: component {} is not an object; skipped", name)
        return None
    return FearGreedComponent(
        name=name,
        score=_number(value.get("score")),
        rating=parse_rating(value.get("rating")),
        timestamp=_time(value.get("timestamp")),
        data=_points(name, value) if history else (),
    )


def _points(name: str, series: object) -> tuple[FearGreedPoint, ...]:
    data = series.get("data") if isinstance(series, dict) else None
    if data is None:
        return ()
    if not isinstance(data, list):
        logger.warning("CNN Fear & Greed: {}.data is not a list; skipped", name)
        return ()
    points = []
    bad = 0
    for item in data:
        when = _time(item.get("x")) if isinstance(item, dict) else None
        value = _number(item.get("y")) if isinstance(item, dict) else None
        if when is None or value is None:
            bad += 1
            continue
        points.append(FearGreedPoint(when, value, parse_rating(item.get("rating"))))
    if bad:
        logger.warning("CNN Fear & Greed: {} malformed point(s) in {} skipped", bad, name)
    return tuple(points)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


# Epoch milliseconds before 1990 or after 2200 are not CNN's; treat them as garbage.
_MS_RANGE: Final = (631_152_000_000.0, 7_258_118_400_000.0)


def _time(value: object) -> datetime | None:
    """An aware UTC datetime from epoch milliseconds or an ISO-8601 string (naive = UTC)."""
    number = _number(value)
    if number is not None:
        if not _MS_RANGE[0] <= number <= _MS_RANGE[1]:
            return None
        return datetime.fromtimestamp(number / 1000.0, UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
