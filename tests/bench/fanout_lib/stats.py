"""Latency histograms from the client workers, merged; percentiles from the merge."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

__all__ = ["merge_histograms", "percentile_ms"]


def merge_histograms(parts: Iterable[Mapping[str, int]]) -> Counter[int]:
    """Sum the workers' histograms (bucket lower bound in µs → count)."""
    total: Counter[int] = Counter()
    for part in parts:
        for key, count in part.items():
            total[int(key)] += count
    return total


def percentile_ms(hist: Mapping[int, int], q: float) -> float | None:
    """The q-th percentile (0–100) in ms: the bucket holding that rank (lower bound)."""
    n = sum(hist.values())
    if n == 0:
        return None
    rank = max(1, round(q / 100 * n))
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= rank:
            return bucket / 1000
    return max(hist) / 1000
