"""Small statistics: percentiles of latencies, medians of runs, rates from counters over time."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from bench.sampling import Sample


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def quantiles(values: Sequence[float]) -> list[float]:
    """The 0th to 100th percentiles (101 numbers): a distribution small enough to keep and chart."""
    return [round(percentile(values, q), 2) for q in range(101)] if values else []


def median(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def drain_rate(samples: Sequence[Sample], total: float) -> float:
    """Items per second of a counter rising to `total`: from its first sample above zero to the
    first sample at `total`, so start-up (imports, connecting) does not count."""
    moving = [(t, v) for t, v in samples if v > 0]
    done = [(t, v) for t, v in samples if v >= total]
    if not moving or not done:
        return math.nan
    (t0, v0), (t1, v1) = moving[0], done[0]
    if t1 > t0:
        return (v1 - v0) / (t1 - t0)
    # Finished between two samples (a tiny smoke drain): count from the last sample at zero.
    idle = [t for t, v in samples if v <= 0 and t < t1]
    return v1 / (t1 - idle[-1]) if idle else math.nan


def steady_rate(samples: Sequence[Sample], total: float, low: float = 0.1, high: float = 0.9) -> float:
    """Items per second between the moments the counter passed `low` and `high` of `total`: the
    pace of the bulk of a drain, apart from its start and from stragglers (retried messages)."""
    first = [(t, v) for t, v in samples if v >= low * total]
    last = [(t, v) for t, v in samples if v >= high * total]
    if not first or not last or last[0][0] <= first[0][0]:
        return math.nan
    return (last[0][1] - first[0][1]) / (last[0][0] - first[0][0])


def drained_from_depth(samples: Sequence[Sample], total: float) -> list[Sample]:
    """A queue-depth series as a count of messages taken off the queue."""
    return [(t, total - depth) for t, depth in samples]


def rolling_rate(samples: Sequence[Sample], window: float = 0.5) -> list[Sample]:
    """(t, items/s over the last `window` seconds) for a chart."""
    out: list[Sample] = []
    j = 0
    for i, (t, v) in enumerate(samples):
        while j < i and samples[j][0] < t - window:
            j += 1
        if i > j and t > samples[j][0]:
            out.append((round(t, 2), round((v - samples[j][1]) / (t - samples[j][0]), 1)))
    return out


def halves_peak(samples: Sequence[Sample], start: float, end: float) -> tuple[float, float]:
    """The highest value in the first and in the second half of [start, end]."""
    middle = (start + end) / 2
    first = [v for t, v in samples if start <= t <= middle] or _nearest(samples, (start + middle) / 2)
    second = [v for t, v in samples if middle < t <= end] or _nearest(samples, (middle + end) / 2)
    return (max(first) if first else math.nan, max(second) if second else math.nan)


def _nearest(samples: Sequence[Sample], moment: float) -> list[float]:
    """The sample closest to `moment`: a half shorter than the sampling interval still gets one."""
    if not samples or math.isnan(moment):
        return []
    return [min(samples, key=lambda s: abs(s[0] - moment))[1]]


def active_span(samples: Sequence[Sample], total: float) -> tuple[float, float]:
    """When a counter first moved and when it reached `total` (for splitting a drain in halves)."""
    moving = [t for t, v in samples if v > 0]
    done = [t for t, v in samples if v >= total]
    return (moving[0] if moving else math.nan, done[0] if done else math.nan)
