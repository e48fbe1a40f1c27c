"""Latency percentiles and summaries."""

import statistics


def percentile(values, fraction):
    """Return the ``fraction`` percentile of ``values`` (linear interpolation between ranks); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def latency_summary(seconds):
    """Return mean, p50, p95, p99 and max of latencies given in seconds, in milliseconds."""
    if not seconds:
        return {"mean_ms": None, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "mean_ms": 1000 * statistics.fmean(seconds),
        "p50_ms": 1000 * percentile(seconds, 0.50),
        "p95_ms": 1000 * percentile(seconds, 0.95),
        "p99_ms": 1000 * percentile(seconds, 0.99),
        "max_ms": 1000 * max(seconds),
    }
