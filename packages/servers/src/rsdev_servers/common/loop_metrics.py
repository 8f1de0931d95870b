"""Per-message histograms for the event loop's hot path, exposed through prometheus_client.

prometheus_client's `Histogram.observe` takes a lock per update and finds its bucket by a
linear scan; restream made three such updates per upstream quote, a few per cent of its
CPU at 2,000 quotes/s. These are updated from the event loop's one thread only: a bisect
and two additions. The exposition (names, `_bucket`/`_count`/`_sum`, labels) is the
library's own, through a collector registered on the gateway's registry.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["LoopHistogram", "LoopHistogramFamily"]


class LoopHistogram:
    """Bucket counts and a sum; `observe` must only be called from one thread."""

    __slots__ = ("_bounds", "_counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self._counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        """Count `value` in the first bucket whose upper bound is >= it."""
        self._counts[bisect_left(self._bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        """Observations so far."""
        return sum(self._counts)

    def cumulative(self) -> list[tuple[str, float]]:
        """Prometheus buckets: (upper bound, observations at or below it), ending at +Inf."""
        out: list[tuple[str, float]] = []
        running = 0
        for bound, n in zip((*self._bounds, math.inf), self._counts, strict=True):
            running += n
            # repr is prometheus_client's spelling of bounds below 1e6 (Go's, above).
            out.append(("+Inf" if bound == math.inf else repr(bound), float(running)))
        return out


class LoopHistogramFamily(Collector):
    """A labelled family of `LoopHistogram`s, collected as one Prometheus histogram."""

    def __init__(
        self, name: str, documentation: str, buckets: Iterable[float], labels: Sequence[str] = ()
    ) -> None:
        bounds = tuple(sorted(float(b) for b in buckets))
        if not bounds or len(set(bounds)) != len(bounds) or not all(map(math.isfinite, bounds)):
            raise ValueError("buckets must be distinct finite upper bounds")
        if bounds[-1] >= 1e6:
            raise ValueError("bucket bounds must stay below 1e6 (their text is repr)")
        self.name = name
        self.documentation = documentation
        self.label_names = tuple(labels)
        self._bounds = bounds
        self._children: dict[tuple[str, ...], LoopHistogram] = {}

    def labels(self, *values: str) -> LoopHistogram:
        """The histogram of one label combination (created on first use: bind it once)."""
        if len(values) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {values}")
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = LoopHistogram(self._bounds)
        return child

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=list(self.label_names))
        for values, child in self._children.items():
            family.add_metric(list(values), child.cumulative(), sum_value=child.sum)
        yield family
