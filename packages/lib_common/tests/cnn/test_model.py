"""Tests for `parse_fear_greed` and the frozen Fear & Greed values (plain function calls)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from lib_common.ingestors.cnn import (
    COMPONENT_NAMES,
    FearGreed,
    FearGreedComponent,
    FearGreedPoint,
    Rating,
    parse_fear_greed,
    parse_rating,
)

T0 = 1_761_696_000_000  # 2025-10-29 00:00 UTC in ms


def _parse(doc: object, **options: bool) -> FearGreed:
    value = parse_fear_greed(doc, **options)
    assert value is not None
    return value


def test_reference_document_headline(graphdata: dict[str, Any]) -> None:
    """Score, rating, aware timestamp and the four reference points are read."""
    value = _parse(graphdata)
    assert value.score == 52.8571428571429
    assert value.rating is Rating.NEUTRAL
    assert value.timestamp == datetime(2025, 10, 30, 23, 59, 46, tzinfo=UTC)
    assert value.timestamp.tzinfo is not None
    assert (
        value.previous_close,
        value.previous_1_week,
        value.previous_1_month,
        value.previous_1_year,
    ) == (49.6285714285714, 36.0571428571429, 61.2, 70.3428571428571)


def test_reference_document_components(graphdata: dict[str, Any]) -> None:
    """All nine components are parsed with score, rating, ms timestamp and their points."""
    value = _parse(graphdata)
    assert tuple(value.components) == COMPONENT_NAMES
    vix = value.components["market_volatility_vix"]
    assert vix == FearGreedComponent(
        name="market_volatility_vix",
        score=50.0,
        rating=Rating.NEUTRAL,
        timestamp=datetime(2025, 10, 30, 23, 59, 46, tzinfo=UTC),
        data=(
            FearGreedPoint(datetime(2025, 10, 29, tzinfo=UTC), 16.9 * 0.99, Rating.NEUTRAL),
            FearGreedPoint(datetime(2025, 10, 30, tzinfo=UTC), 16.9, Rating.NEUTRAL),
        ),
    )
    assert value.components["stock_price_breadth"].rating is Rating.EXTREME_FEAR
    assert value.components["put_call_options"].rating is Rating.EXTREME_GREED


def test_reference_document_history(graphdata: dict[str, Any]) -> None:
    """The index's daily history becomes points with aware timestamps."""
    value = _parse(graphdata)
    assert value.history == (
        FearGreedPoint(datetime(2025, 10, 29, tzinfo=UTC), 49.6285714285714, Rating.NEUTRAL),
        FearGreedPoint(datetime(2025, 10, 30, tzinfo=UTC), 52.8571428571429, Rating.NEUTRAL),
    )


def test_history_can_be_skipped(graphdata: dict[str, Any]) -> None:
    """history=False leaves out the index's and the components' series."""
    value = _parse(graphdata, history=False)
    assert value.history == ()
    assert all(c.data == () for c in value.components.values())
    assert value.components["junk_bond_demand"].score == 60.3


def test_missing_optional_fields_are_none(graphdata: dict[str, Any]) -> None:
    """Reference points, rating and absent components are optional."""
    head = graphdata["fear_and_greed"]
    for name in ("rating", "previous_close", "previous_1_week", "previous_1_month"):
        del head[name]
    head["previous_1_year"] = "n/a"
    del graphdata["safe_haven_demand"], graphdata["fear_and_greed_historical"]
    value = _parse(graphdata)
    assert value.rating is None
    assert (value.previous_close, value.previous_1_week, value.previous_1_year) == (
        None,
        None,
        None,
    )
    assert "safe_haven_demand" not in value.components
    assert len(value.components) == 8
    assert value.history == ()


def test_unknown_rating_is_kept_as_lowercase_string(graphdata: dict[str, Any]) -> None:
    """A rating CNN might add later is tolerated as a plain lowercase string."""
    graphdata["fear_and_greed"]["rating"] = "Mild Panic"
    assert _parse(graphdata).rating == "mild panic"
    assert parse_rating("GREED") is Rating.GREED
    assert parse_rating(3) is None


def test_malformed_component_and_points_are_skipped(
    graphdata: dict[str, Any], log_lines: list[str]
) -> None:
    """A component that is not an object, and points without x/y, are skipped and logged."""
    graphdata["junk_bond_demand"] = [1, 2]
    graphdata["fear_and_greed_historical"]["data"].extend(
        [{"x": "yesterday", "y": 1}, {"y": 1}, "junk", {"x": T0, "y": None}]
    )
    value = _parse(graphdata)
    assert "junk_bond_demand" not in value.components
    assert len(value.history) == 2
    assert any("junk_bond_demand" in line for line in log_lines)
    assert any("4 malformed point(s)" in line for line in log_lines)


def test_timestamp_falls_back_to_historical(graphdata: dict[str, Any]) -> None:
    """Without fear_and_greed.timestamp, the historical block's epoch-ms timestamp is used."""
    del graphdata["fear_and_greed"]["timestamp"]
    value = _parse(graphdata)
    assert value.timestamp == datetime(2025, 10, 30, 23, 59, 46, tzinfo=UTC)


def test_naive_and_z_timestamps_are_utc(graphdata: dict[str, Any]) -> None:
    """ISO timestamps without an offset are read as UTC; a trailing Z too."""
    graphdata["fear_and_greed"]["timestamp"] = "2025-10-30T12:00:00"
    assert _parse(graphdata).timestamp == datetime(2025, 10, 30, 12, tzinfo=UTC)
    graphdata["fear_and_greed"]["timestamp"] = "2025-10-30T12:00:00.250Z"
    assert _parse(graphdata).timestamp == datetime(2025, 10, 30, 12, 0, 0, 250_000, tzinfo=UTC)


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        "I'm a teapot",
        {},
        {"fear_and_greed": None},
        {"fear_and_greed": {"score": "52", "timestamp": "2025-10-30T00:00:00+00:00"}},
        {"fear_and_greed": {"score": True, "timestamp": "2025-10-30T00:00:00+00:00"}},
        {"fear_and_greed": {"score": 52.0}},
        {"fear_and_greed": {"score": 52.0, "timestamp": "not a time"}},
        {"fear_and_greed": {"score": 52.0, "timestamp": 12}},
    ],
)
def test_unusable_bodies_give_none(doc: object, log_lines: list[str]) -> None:
    """Without a numeric score and a timestamp there is no value: None and a warning."""
    assert parse_fear_greed(doc) is None
    assert any(line.startswith("WARNING") for line in log_lines)


def test_values_are_frozen(graphdata: dict[str, Any]) -> None:
    """FearGreed and its components cannot be changed after parsing."""
    value = _parse(graphdata)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.score = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        value.components["x"] = value.components["put_call_options"]  # type: ignore[index]


def test_components_mapping_is_a_private_copy() -> None:
    """Changing the dict a FearGreed was built from does not change the FearGreed."""
    source: dict[str, FearGreedComponent] = {}
    value = FearGreed(score=1.0, rating=None, timestamp=datetime(2025, 1, 1, tzinfo=UTC))
    value = dataclasses.replace(value, components=source)
    source["x"] = FearGreedComponent("x", None, None, None)
    assert dict(value.components) == {}
