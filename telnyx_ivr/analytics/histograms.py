"""Fixed-bucket histograms, so percentiles can be summed across roll-ups. Pure.

A histogram maps a bucket's index in ``BOUNDS`` to its count (sparse: most buckets are empty;
stored as JSON its keys are text). The last index holds everything above the last bound. Bounds
grow by 12 % a step, so a percentile read from a histogram, interpolated inside its bucket, is
within about 6 % of the exact value; docs/dashboards.md says so where the figures are shown.
"""

import bisect
import math

# Upper bounds, in the unit of the figure (milliseconds or seconds): 0.1 to about 100,000.
BOUNDS = tuple(round(0.1 * 1.12**i, 4) for i in range(int(math.log(1e6) / math.log(1.12)) + 1))


def bucket(value):
    """The index of the bucket ``value`` falls in."""
    return bisect.bisect_left(BOUNDS, max(value, 0.0))


def of(values):
    """The histogram of ``values`` (None values are left out)."""
    counts = {}
    for value in values:
        if value is not None:
            index = bucket(value)
            counts[index] = counts.get(index, 0) + 1
    return counts


def load(stored):
    """A histogram as stored in JSON (text keys) or None, made one to add to."""
    return {int(index): count for index, count in (stored or {}).items()}


def add(into, other):
    """Add histogram ``other`` (or None) to ``into``, in place; returns ``into``."""
    for index, count in (other or {}).items():
        index = int(index)
        into[index] = into.get(index, 0) + count
    return into


def total(counts):
    return sum(counts.values())


def percentile(counts, q):
    """The ``q``-th percentile (0..100), interpolated inside its bucket; None when empty."""
    ordered = sorted((int(index), count) for index, count in counts.items() if count)
    n = sum(count for _, count in ordered)
    if n == 0:
        return None
    rank = q / 100 * n
    seen = 0
    for index, count in ordered:
        if seen + count >= rank:
            low = BOUNDS[index - 1] if 0 < index <= len(BOUNDS) else 0.0
            high = BOUNDS[min(index, len(BOUNDS) - 1)]
            return _significant(low + (high - low) * (rank - seen) / count)
        seen += count
    return BOUNDS[-1]


def _significant(value, digits=3):
    """``value`` to 3 significant digits: finer would claim precision the buckets lack."""
    return float(f"{value:.{digits}g}") if value else 0.0


def percentiles(counts, qs=(50, 95, 99)):
    return {f"p{q}": percentile(counts, q) for q in qs}
