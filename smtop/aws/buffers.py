"""Bounded history of one CloudWatch series.

Memory must not grow with uptime, so each series keeps at most the window's
periods plus the re-fetched overlap in a ``deque(maxlen=...)``.  CloudWatch
data can arrive late, so the newest periods are fetched again on every
refresh and a value for a timestamp already held replaces it.  The
immutable ``MetricSeries`` handed to the UI is built only when the buffer
changed (``version``), so a refresh where most series are unchanged costs
little.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Iterable

from smtop.models import MetricSeries, SeriesKey

# One counter for all buffers, so a (key, version) pair never repeats even
# when a series is dropped and comes back (an endpoint deleted and re-created).
_versions = itertools.count(1)


class SeriesBuffer:
    """Time-ordered points of one series, bounded.

    Timestamps and values sit in two parallel deques of floats rather than
    one deque of pairs: a fleet holds millions of points, and pairs are
    objects the garbage collector walks on every pass (measured: they more
    than double the time to build a 1,000-endpoint snapshot).

    Args:
        key: which series this is.
        period: seconds per datapoint.
        capacity: most points kept (window periods + overlap).
    """

    __slots__ = ("key", "period", "fetched_until", "version", "_times", "_values", "_cached", "_filled")

    def __init__(self, key: SeriesKey, period: int, capacity: int) -> None:
        self.key = key
        self.period = period
        self.fetched_until: float | None = None
        """End (epoch seconds) of the last successful fetch; None until the first fill."""
        self.version = next(_versions)
        """Changes whenever the points change; caches downstream compare it."""
        self._times: deque[float] = deque(maxlen=capacity)
        self._values: deque[float] = deque(maxlen=capacity)
        self._cached: MetricSeries | None = None
        self._filled: tuple[tuple, MetricSeries] | None = None

    def __len__(self) -> int:
        return len(self._times)

    @property
    def capacity(self) -> int:
        return self._times.maxlen or 0

    @property
    def latest_at(self) -> float | None:
        return self._times[-1] if self._times else None

    def merge(self, points: Iterable[tuple[float, float]], oldest: float) -> bool:
        """Add fetched points, replace re-fetched ones, drop those before ``oldest``.

        Args:
            points: ``(timestamp, value)`` pairs, normally ascending.
            oldest: the window's start; older points are dropped.

        Returns:
            True when the buffer changed.
        """
        new = sorted((ts, value) for ts, value in points if ts >= oldest)
        times, values = self._times, self._values
        changed = False
        if new:
            # Only the tail can overlap a fetch (it starts at most `overlap`
            # periods back), so popping the tail keeps a merge O(overlap).
            first = new[0][0]
            before: dict[float, float] = {}
            while times and times[-1] >= first:
                before[times.pop()] = values.pop()
            after = dict(before)
            after.update(new)
            changed = after != before
            for ts in sorted(after):
                times.append(ts)
                values.append(after[ts])
        while times and times[0] < oldest:
            times.popleft()
            values.popleft()
            changed = True
        if changed:
            self.version = next(_versions)
            self._cached = self._filled = None
        return changed

    def series(self) -> MetricSeries:
        """The points as an immutable ``MetricSeries`` (cached until the next change)."""
        if self._cached is None:
            self._cached = MetricSeries(
                self.key.metric, self.key.stat, self.period, tuple(self._times), tuple(self._values)
            )
        return self._cached

    def filled(self, grid: tuple[float, ...]) -> MetricSeries:
        """The series on ``grid`` (period starts), 0 where a period has no value.

        For counts, which SageMaker does not emit for a minute without
        traffic.  Cached until the buffer or the grid changes.
        """
        signature = (grid[0], len(grid)) if grid else ()
        if self._filled is not None and self._filled[0] == signature:
            return self._filled[1]
        by_time = dict(zip(self._times, self._values))
        values = list(map(by_time.pop, grid, itertools.repeat(0.0)))  # C speed: ~1M points a refresh
        timestamps = grid
        if by_time:
            # Points off the grid (not expected: fetches start on period
            # boundaries) are kept rather than silently lost.
            merged = dict(zip(grid, values))
            merged.update(by_time)
            timestamps = tuple(sorted(merged))
            values = [merged[ts] for ts in timestamps]
        series = MetricSeries(self.key.metric, self.key.stat, self.period, timestamps, tuple(values))
        self._filled = (signature, series)
        return series
