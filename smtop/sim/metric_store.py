"""An indexed CloudWatch metric store: what the simulator answers metric calls from.

Why not moto's own store: moto 5.2.5 keeps every datapoint in one flat list and
scans all of it for every query and every period (50 queries over 9,000
datapoints took 6.8 s), expands ``Values``/``Counts`` into one datapoint per
count, fails with HTTP 500 on percentile statistics, matches dimensions only in
the order they were put, ignores ``MaxDatapoints`` and never pages.

Here a series is keyed by (namespace, metric name, *set* of dimensions), so the
order of dimensions never matters, and holds one aggregate per minute (CloudWatch's
standard resolution), sorted by time so a query bisects straight to its window.
Each minute keeps Sum, SampleCount, Minimum and Maximum exactly, plus a
value → count histogram from which percentiles are read by weighted nearest
rank.  A console refresh (500 queries, newest minutes) is answered in tens of
milliseconds and three hours of 500 series in about a quarter of a second,
where moto takes seconds.

Deliberate simplifications (documented, not accidental):
- Storage resolution is one minute.  A Period below 60 (1, 5, 10, 20, 30, which
  CloudWatch allows for high-resolution metrics) answers with the minute points.
- A statistic set (``StatisticValues``) feeds Sum/SampleCount/Minimum/Maximum
  and Average; it feeds percentiles only when Minimum == Maximum, because its
  distribution is otherwise unknown (CloudWatch has the same rule).
- A series remembers one unit (the last one put); a query's ``Unit`` must match it.
- Metric math and Metrics Insights expressions are not evaluated yet.
- Memory is bounded by dropping minutes older than the retention (15 days, like
  CloudWatch's 1-minute data), by compacting a minute's histogram into two
  arrays once its series has moved on, and by coarsening a histogram to three
  significant digits past ``MAX_DISTINCT_VALUES`` values.  The demo fleet's
  live traffic costs about 3.5 MB per hour.
"""

from __future__ import annotations

import base64
import bisect
import json
import math
import re
import threading
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

RESOLUTION = 60
"""Seconds per stored aggregate (CloudWatch standard resolution)."""

RETENTION = 15 * 86400
"""Minutes older than this (relative to the clock) are dropped."""

MAX_DISTINCT_VALUES = 1024
"""A minute's histogram is coarsened beyond this many distinct values."""

MAX_QUERIES = 500
"""GetMetricData's limit on MetricDataQueries per call."""

DEFAULT_MAX_DATAPOINTS = 100_800
"""GetMetricData's default MaxDatapoints per call."""

# Periods CloudWatch accepts: the high-resolution ones, and multiples of a minute.
_SUB_MINUTE_PERIODS = (1, 5, 10, 20, 30)
_PERCENTILE = re.compile(r"^p(\d{1,3}(?:\.\d+)?)$")
_BASIC_STATS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

DimensionsLike = Mapping[str, str] | Iterable[Mapping[str, str]] | Iterable[tuple[str, str]]


class MetricQueryError(Exception):
    """A request CloudWatch would refuse; ``code`` is CloudWatch's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalize_dimensions(dimensions: DimensionsLike | None) -> tuple[tuple[str, str], ...]:
    """Dimensions as ``((name, value), ...)`` from a mapping, AWS dicts or pairs."""
    if not dimensions:
        return ()
    if isinstance(dimensions, Mapping):
        return tuple((str(k), str(v)) for k, v in dimensions.items())
    pairs = []
    for item in dimensions:
        if isinstance(item, Mapping):
            pairs.append((str(item["Name"]), str(item.get("Value", ""))))
        else:
            name, value = item
            pairs.append((str(name), str(value)))
    return tuple(pairs)


def parse_stat(stat: str) -> str | float:
    """Return a basic statistic's name, or the percentile of ``pNN``/``pNN.N`` as a float.

    Raises:
        MetricQueryError: for a statistic the simulator does not compute.
    """
    if stat in _BASIC_STATS:
        return stat
    match = _PERCENTILE.match(stat or "")
    if match and 0.0 <= float(match.group(1)) <= 100.0:
        return float(match.group(1))
    raise MetricQueryError(
        "InvalidParameterValue",
        f"The statistic {stat!r} is not supported by the smtop simulator "
        f"(supported: {', '.join(_BASIC_STATS)}, pNN and pNN.N).",
    )


class Minute:
    """The aggregate of everything put into one series during one minute.

    While a minute receives data its histogram is a dict (cheap to add to);
    once the series has moved on it is closed into two compact arrays (sorted
    values, cumulative counts), which is also what percentiles read.  Late
    data reopens it.
    """

    __slots__ = ("sum", "count", "minimum", "maximum", "coarse", "_open", "_values", "_cumulative")

    def __init__(self) -> None:
        self.sum = 0.0
        self.count = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.coarse = False
        self._open: dict[float, float] | None = {}
        self._values: array | None = None
        self._cumulative: array | None = None

    def add(self, value: float, count: float = 1.0) -> None:
        if count <= 0:
            return
        self.sum += value * count
        self.count += count
        if value < self.minimum:
            self.minimum = value
        if value > self.maximum:
            self.maximum = value
        self._record(value, count)

    def add_statistic_set(self, total: float, count: float, minimum: float, maximum: float) -> None:
        if count <= 0:
            return
        self.sum += total
        self.count += count
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        if minimum == maximum:
            self._record(minimum, count)

    def _record(self, value: float, count: float) -> None:
        hist = self._open
        if hist is None:
            hist = self._open = dict(self.items())
        if self.coarse:
            value = _three_digits(value)
        hist[value] = hist.get(value, 0.0) + count
        self._values = self._cumulative = None
        if len(hist) > MAX_DISTINCT_VALUES and not self.coarse:
            # Bounded memory beats exactness for a minute fed thousands of
            # distinct values; three digits keep a percentile within 0.5 %.
            coarse: dict[float, float] = {}
            for v, c in hist.items():
                key = _three_digits(v)
                coarse[key] = coarse.get(key, 0.0) + c
            self._open = coarse
            self.coarse = True

    def items(self) -> Iterable[tuple[float, float]]:
        """(value, count) pairs of the histogram."""
        if self._open is not None:
            return self._open.items()
        values, cumulative = self._values, self._cumulative
        return ((v, c - (cumulative[i - 1] if i else 0.0)) for i, (v, c) in enumerate(zip(values, cumulative)))

    def ranked(self) -> tuple[Sequence[float], Sequence[float]]:
        """Sorted distinct values and their cumulative counts (cached until the next write)."""
        if self._values is None:
            self._values, self._cumulative = _rank(self._open or {})
        return self._values, self._cumulative

    def close(self) -> None:
        """Keep only the compact ranked form: the minute is not expected to change."""
        if self._open is not None:
            self.ranked()
            self._open = None


def _three_digits(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, 2 - int(math.floor(math.log10(abs(value)))))


def _rank(hist: Mapping[float, float]) -> tuple[array, array]:
    values = array("d", sorted(hist))
    cumulative = array("d", accumulate(hist[v] for v in values))
    return values, cumulative


def weighted_percentile(values: Sequence[float], cumulative: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0–100) of sorted ``values`` with cumulative counts.

    The smallest value whose cumulative count reaches ``ceil(q/100 · total)``
    (at least the first sample): what sorting every sample and picking that rank
    would give, without expanding the counts.
    """
    if not values:
        return None
    total = cumulative[-1]
    rank = max(math.ceil(q / 100.0 * total - 1e-9), 1)
    index = bisect.bisect_left(cumulative, rank - 1e-9)
    return values[min(index, len(values) - 1)]


class Series:
    """One metric with one set of dimensions: minutes sorted by start time."""

    __slots__ = ("namespace", "name", "dimensions", "unit", "starts", "minutes")

    def __init__(self, namespace: str, name: str, dimensions: tuple[tuple[str, str], ...]) -> None:
        self.namespace = namespace
        self.name = name
        self.dimensions = dimensions  # in the order first put, for ListMetrics
        self.unit = "None"
        self.starts: list[int] = []
        self.minutes: list[Minute] = []

    def minute_at(self, timestamp: float) -> Minute:
        start = int(timestamp // RESOLUTION) * RESOLUTION
        starts = self.starts
        # Writes nearly always land in the newest minute: check it before bisecting.
        if starts and starts[-1] == start:
            return self.minutes[-1]
        index = bisect.bisect_left(starts, start)
        if index < len(starts) and starts[index] == start:
            return self.minutes[index]
        minute = Minute()
        if index == len(starts) and starts:
            self.minutes[-1].close()  # the series moved on: compact the previous minute
        starts.insert(index, start)
        self.minutes.insert(index, minute)
        return minute

    def drop_before(self, cutoff: float) -> None:
        if self.starts and self.starts[0] < cutoff:
            index = bisect.bisect_left(self.starts, cutoff)
            del self.starts[:index]
            del self.minutes[:index]

    def window(self, start: float, end: float) -> tuple[list[int], list[Minute]]:
        lo = bisect.bisect_left(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return self.starts[lo:hi], self.minutes[lo:hi]

    def aggregate(self, stat: str | float, period: int, start: float, end: float) -> tuple[list[float], list[float]]:
        """Ascending (timestamps, values) of ``stat`` per ``period`` in [start, end).

        ``start`` must already be rounded the way CloudWatch rounds StartTime
        (see :func:`round_start`); periods count from it.
        """
        period = max(period, RESOLUTION)
        first = math.floor(start / RESOLUTION) * RESOLUTION
        starts, minutes = self.window(first, end)
        timestamps: list[float] = []
        values: list[float] = []
        if period == RESOLUTION:
            # The console's common case: one stored minute per datapoint.
            reduce_one = _MINUTE_STATS.get(stat) or _percentile_of(stat)
            for at, minute in zip(starts, minutes):
                if minute.count > 0:
                    value = reduce_one(minute)
                    if value is not None:
                        timestamps.append(float(at))
                        values.append(value)
            return timestamps, values
        group: list[Minute] = []
        group_start = None
        for at, minute in zip(starts, minutes):
            # Periods count from the (rounded) StartTime, as CloudWatch's do.
            bucket = first + ((at - first) // period) * period
            if bucket != group_start:
                if group:
                    self._emit(stat, group_start, group, timestamps, values)
                group, group_start = [], bucket
            group.append(minute)
        if group:
            self._emit(stat, group_start, group, timestamps, values)
        return timestamps, values

    @staticmethod
    def _emit(stat, at, group, timestamps, values) -> None:
        value = _reduce(stat, group)
        if value is not None:
            timestamps.append(float(at))
            values.append(value)


_MINUTE_STATS = {
    "Sum": lambda m: m.sum,
    "SampleCount": lambda m: m.count,
    "Average": lambda m: m.sum / m.count,
    "Minimum": lambda m: m.minimum,
    "Maximum": lambda m: m.maximum,
}


def _percentile_of(q: float):
    def percentile(minute: Minute) -> float | None:
        values, cumulative = minute.ranked()
        return weighted_percentile(values, cumulative, q)

    return percentile


def _reduce(stat: str | float, minutes: Sequence[Minute]) -> float | None:
    count = sum(m.count for m in minutes)
    if count <= 0:
        return None
    if stat == "Sum":
        return sum(m.sum for m in minutes)
    if stat == "SampleCount":
        return count
    if stat == "Average":
        return sum(m.sum for m in minutes) / count
    if stat == "Minimum":
        return min(m.minimum for m in minutes)
    if stat == "Maximum":
        return max(m.maximum for m in minutes)
    if len(minutes) == 1:
        values, cumulative = minutes[0].ranked()
    else:
        merged: dict[float, float] = {}
        for m in minutes:
            for v, c in m.items():
                merged[v] = merged.get(v, 0.0) + c
        values, cumulative = _rank(merged)
    return weighted_percentile(values, cumulative, float(stat))


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One answered MetricDataQuery (timestamps in epoch seconds)."""

    id: str
    label: str
    timestamps: list[float]
    values: list[float]
    status: str = "Complete"


class MetricStore:
    """Thread-safe store of CloudWatch series for one account and region.

    Args:
        clock: Callable returning the current epoch seconds (retention and
            ``PutMetricData`` without a timestamp use it).
        retention: Seconds of history kept.
    """

    def __init__(self, clock=None, retention: float = RETENTION) -> None:
        import time

        self._clock = clock or time.time
        self._retention = retention
        self._series: dict[tuple[str, str, frozenset], Series] = {}
        self._lock = threading.RLock()

    # -- writing ---------------------------------------------------------------

    def put(
        self,
        namespace: str,
        name: str,
        dimensions: DimensionsLike | None = None,
        timestamp: float | None = None,
        *,
        value: float | None = None,
        values: Sequence[float] | None = None,
        counts: Sequence[float] | None = None,
        statistic_set: Mapping[str, float] | None = None,
        unit: str | None = None,
    ) -> None:
        """Record one MetricDatum (exactly one of value, values[/counts], statistic_set)."""
        at = self._clock() if timestamp is None else timestamp
        dims = normalize_dimensions(dimensions)
        with self._lock:
            if at < self._clock() - self._retention:
                return
            series = self._series_for(namespace, name, dims)
            if unit:
                series.unit = unit
            minute = series.minute_at(at)
            if values:
                weights = counts if counts else [1.0] * len(values)
                for v, c in zip(values, weights):
                    minute.add(float(v), float(c))
            elif statistic_set is not None:
                minute.add_statistic_set(
                    float(statistic_set["Sum"]),
                    float(statistic_set["SampleCount"]),
                    float(statistic_set["Minimum"]),
                    float(statistic_set["Maximum"]),
                )
            else:
                minute.add(float(value if value is not None else 0.0))
            series.drop_before(self._clock() - self._retention)

    def put_datum(self, namespace: str, datum: Mapping[str, Any]) -> None:
        """Record one MetricDatum shaped as botocore sends it (``MetricName``, ``Values``…)."""
        timestamp = datum.get("Timestamp")
        self.put(
            namespace,
            datum["MetricName"],
            datum.get("Dimensions") or (),
            None if timestamp is None else to_epoch(timestamp),
            value=datum.get("Value"),
            values=datum.get("Values"),
            counts=datum.get("Counts"),
            statistic_set=datum.get("StatisticValues"),
            unit=datum.get("Unit"),
        )

    def _series_for(self, namespace: str, name: str, dims: tuple[tuple[str, str], ...]) -> Series:
        key = (namespace, name, frozenset(dims))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = Series(namespace, name, dims)
        return series

    # -- reading ---------------------------------------------------------------

    def find(self, namespace: str, name: str, dimensions: DimensionsLike | None) -> Series | None:
        """The series with exactly these dimensions (in any order), if any."""
        return self._series.get((namespace, name, frozenset(normalize_dimensions(dimensions))))

    def series_data(
        self,
        namespace: str,
        name: str,
        dimensions: DimensionsLike | None,
        stat: str,
        period: int,
        start: float,
        end: float,
        unit: str | None = None,
    ) -> tuple[list[float], list[float]]:
        """Ascending (timestamps, values) of one statistic of one series."""
        parsed = parse_stat(stat)
        with self._lock:
            series = self.find(namespace, name, dimensions)
            if series is None or (unit and unit != series.unit):
                return [], []
            return series.aggregate(parsed, period, start, end)

    def get_metric_data(
        self,
        queries: Sequence[Mapping[str, Any]],
        start: float,
        end: float,
        *,
        scan_by: str | None = None,
        max_datapoints: int | None = None,
        next_token: str | None = None,
    ) -> tuple[list[MetricResult], str | None]:
        """Answer a GetMetricData request as CloudWatch would, one page at a time.

        Args:
            queries: ``MetricDataQueries`` as botocore shapes them.
            start: ``StartTime`` in epoch seconds.
            end: ``EndTime`` in epoch seconds.
            scan_by: ``TimestampDescending`` (default) or ``TimestampAscending``.
            max_datapoints: Datapoints per page (default 100,800).
            next_token: The ``NextToken`` of the previous page.

        Returns:
            The page's results and the token of the next page (``None`` when done).

        Raises:
            MetricQueryError: for requests CloudWatch refuses.
        """
        if len(queries) > MAX_QUERIES:
            raise MetricQueryError(
                "ValidationError",
                f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.",
            )
        if end < start:
            raise MetricQueryError("ValidationError", "The parameter EndTime must be greater than StartTime.")
        if end == start:
            raise MetricQueryError("ValidationError", "The parameter StartTime must not equal parameter EndTime.")
        descending = (scan_by or "TimestampDescending") == "TimestampDescending"
        budget = DEFAULT_MAX_DATAPOINTS if not max_datapoints else int(max_datapoints)
        first_query, offset = _decode_token(next_token) if next_token else (0, 0)
        _validate_queries(queries)
        start = round_start(start, self._clock())

        results: list[MetricResult] = []
        token = None
        with self._lock:
            for index in range(first_query, len(queries)):
                query = queries[index]
                if query.get("ReturnData") is False:
                    continue
                stat = query["MetricStat"]
                metric = stat["Metric"]
                timestamps, values = self.series_data(
                    metric["Namespace"],
                    metric["MetricName"],
                    metric.get("Dimensions"),
                    stat["Stat"],
                    int(stat["Period"]),
                    start,
                    end,
                    stat.get("Unit"),
                )
                if descending:
                    timestamps.reverse()
                    values.reverse()
                skip = offset if index == first_query else 0
                remaining = len(timestamps) - skip
                label = query.get("Label") or metric["MetricName"]
                if remaining > budget:
                    if budget > 0:
                        results.append(
                            MetricResult(
                                query["Id"],
                                label,
                                timestamps[skip : skip + budget],
                                values[skip : skip + budget],
                                "PartialData",
                            )
                        )
                    token = _encode_token(index, skip + budget)
                    break
                results.append(MetricResult(query["Id"], label, timestamps[skip:], values[skip:]))
                budget -= remaining
        return results, token

    def get_metric_statistics(
        self,
        namespace: str,
        name: str,
        dimensions: DimensionsLike | None,
        start: float,
        end: float,
        period: int,
        statistics: Sequence[str] = (),
        extended_statistics: Sequence[str] = (),
        unit: str | None = None,
    ) -> list[dict[str, Any]]:
        """GetMetricStatistics datapoints, ascending, as dicts with epoch ``Timestamp``."""
        if end <= start:
            raise MetricQueryError(
                "InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime."
            )
        _validate_period(period, "Period")
        if not statistics and not extended_statistics:
            raise MetricQueryError(
                "InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics"
            )
        for stat in extended_statistics:
            if not isinstance(parse_stat(stat), float):
                raise MetricQueryError(
                    "InvalidParameterValue", f"The value {stat} for parameter ExtendedStatistics is not supported."
                )
        start = round_start(start, self._clock())
        datapoints: dict[float, dict[str, Any]] = {}
        with self._lock:
            series = self.find(namespace, name, dimensions)
            if series is None or (unit and unit != series.unit):
                return []
            for stat in statistics:
                for at, value in zip(*series.aggregate(parse_stat(stat), period, start, end)):
                    datapoints.setdefault(at, {"Timestamp": at, "Unit": series.unit})[stat] = value
            for stat in extended_statistics:
                for at, value in zip(*series.aggregate(parse_stat(stat), period, start, end)):
                    point = datapoints.setdefault(at, {"Timestamp": at, "Unit": series.unit})
                    point.setdefault("ExtendedStatistics", {})[stat] = value
        return [datapoints[at] for at in sorted(datapoints)]

    def list_metrics(
        self,
        namespace: str | None = None,
        name: str | None = None,
        dimension_filters: Iterable[Mapping[str, str]] | None = None,
        active_since: float | None = None,
    ) -> list[Series]:
        """Series matching ListMetrics' filters, in the order they were first put.

        A dimension filter without ``Value`` matches any value of that name.
        """
        filters = [(f["Name"], f.get("Value")) for f in dimension_filters or ()]
        with self._lock:
            found = []
            for series in self._series.values():
                if namespace and series.namespace != namespace:
                    continue
                if name and series.name != name:
                    continue
                dims = dict(series.dimensions)
                if any(n not in dims or (v is not None and dims[n] != v) for n, v in filters):
                    continue
                if active_since is not None and (not series.starts or series.starts[-1] + RESOLUTION <= active_since):
                    continue
                found.append(series)
            return found

    def __len__(self) -> int:
        return len(self._series)


def round_start(start: float, now: float) -> float:
    """StartTime rounded down as CloudWatch does: to the minute for data under
    15 days old, to five minutes up to 63 days, to the hour beyond."""
    age = now - start
    step = 60 if age < 15 * 86400 else 300 if age < 63 * 86400 else 3600
    return math.floor(start / step) * step


def _validate_queries(queries: Sequence[Mapping[str, Any]]) -> None:
    seen: set[str] = set()
    for number, query in enumerate(queries, start=1):
        query_id = query.get("Id", "")
        if query_id in seen:
            raise MetricQueryError("ValidationError", f"The value {query_id} for field Id must be unique.")
        seen.add(query_id)
        if "Expression" in query:
            raise MetricQueryError(
                "ValidationError",
                "Metric math and Metrics Insights expressions are not supported by the smtop simulator yet "
                f"(MetricDataQueries.member.{number}.Expression).",
            )
        if "MetricStat" not in query:
            raise MetricQueryError(
                "ValidationError", f"The parameter MetricDataQueries.member.{number}.MetricStat is required."
            )
        stat = query["MetricStat"]
        parse_stat(stat.get("Stat", ""))
        _validate_period(int(stat.get("Period") or 0), f"MetricDataQueries.member.{number}.MetricStat.Period")


def _validate_period(period: int, field: str) -> None:
    if period in _SUB_MINUTE_PERIODS or (period > 0 and period % RESOLUTION == 0):
        return
    raise MetricQueryError(
        "ValidationError",
        f"The parameter {field} must be 1, 5, 10, 20, 30, or a multiple of 60.",
    )


def _encode_token(query_index: int, offset: int) -> str:
    raw = json.dumps({"q": query_index, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["q"]), int(data["o"])
    except (ValueError, KeyError, TypeError) as error:
        raise MetricQueryError("InvalidNextToken", "The service couldn't process the NextToken.") from error


def to_epoch(value: Any) -> float:
    """Epoch seconds from what botocore's parsers produce (datetime, number or ISO text)."""
    from datetime import datetime, timezone

    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        # moto hands over naive datetimes that mean UTC.
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()
