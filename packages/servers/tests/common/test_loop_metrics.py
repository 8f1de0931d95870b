"""Loop histograms expose exactly what prometheus_client's own Histogram would."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from rsdev_servers.common.loop_metrics import LoopHistogramFamily

BUCKETS = (0.00001, 0.0005, 0.001, 0.25, 1, 15, 60)


def samples(registry: CollectorRegistry) -> set[str]:
    """The exposition's sample lines other than `_created` (a creation timestamp)."""
    text = generate_latest(registry).decode()
    return {
        line for line in text.splitlines() if line and "#" not in line and "_created" not in line
    }


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["stream", "poll"]),
            st.one_of(
                st.sampled_from(BUCKETS),  # exactly on a bound: counted in that bucket
                st.floats(min_value=0, max_value=120, allow_nan=False),
            ),
        ),
        max_size=50,
    )
)
def test_same_exposition_as_prometheus_client(observations: list[tuple[str, float]]) -> None:
    """Bucket, count and sum lines are the reference library's, label by label."""
    reference, ours = CollectorRegistry(), CollectorRegistry()
    histogram = Histogram("lat_seconds", "doc", ["source"], buckets=BUCKETS, registry=reference)
    family = LoopHistogramFamily("lat_seconds", "doc", BUCKETS, labels=["source"])
    ours.register(family)
    for source in ("stream", "poll"):  # children exist before any observation in both
        histogram.labels(source)
        family.labels(source)
    for source, value in observations:
        histogram.labels(source).observe(value)
        family.labels(source).observe(value)
    assert samples(reference) == samples(ours)
    assert len(observations) == sum(family.labels(s).count for s in ("stream", "poll"))


def test_unlabelled_family_and_label_arity() -> None:
    """An unlabelled family has one child; a wrong number of label values is refused."""
    family = LoopHistogramFamily("x_seconds", "doc", [1.0, 0.5])
    family.labels().observe(0.7)
    family.labels().observe(3)
    assert [("0.5", 0.0), ("1.0", 1.0), ("+Inf", 2.0)] == family.labels().cumulative()
    with pytest.raises(ValueError, match="takes labels"):
        family.labels("extra")


@pytest.mark.parametrize("buckets", [[], [1.0, 1.0], [1.0, float("inf")], [2e6]])
def test_nonsense_buckets_are_refused(buckets: list[float]) -> None:
    """Empty, repeated, infinite or huge bounds are an error at construction."""
    with pytest.raises(ValueError, match="bucket"):
        LoopHistogramFamily("x_seconds", "doc", buckets)
