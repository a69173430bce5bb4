"""Metric polling is planned, not looped.

Why it is shaped so:

- **Packing.**  One GetMetricData call carries up to 500 queries, and AWS
  bills per metric queried, not per call.  Asking per endpoint would cost N
  calls (and hit the 50 TPS quota at a few hundred endpoints); a plan packs
  every (endpoint, variant, metric, statistic) into ceil(Q/500) calls.
- **Only what is shown.**  Every endpoint gets the series the endpoints table
  shows: 8 queries per CPU variant (Invocations, ModelLatency Average and
  p99, 4XX, 5XX, CPU, Memory, Disk), 9 with GPUUtilization.  The metric
  panel's own series (``selected_only`` in the catalog: InvocationsPerInstance,
  OverheadLatency Average and p99) are asked for the selected endpoint alone,
  in the same calls (they fit the last call's slack), and fetched at once by
  ``poll_selected`` when the selection changes.  1,000 single-variant
  endpoints cost ceil((8,000 + 3)/500) = 17 calls a refresh, where all ten
  metrics of every endpoint would take 20.
- **Incremental window.**  The first fill asks for the whole window (3 h by
  default, aligned to the period).  Afterwards a series only needs what is
  new since its last fetched end, plus a few periods of overlap because
  CloudWatch accepts datapoints late; a refresh then moves ~5 datapoints per
  series instead of ~180.  A call has one StartTime, so series are grouped by
  where their fetch starts: new endpoints get their first fill in their own
  calls while the rest stay incremental.  When that would cost more calls
  than ceil(Q/500), the part-filled calls are merged, each asking from its
  earliest member's start (a series asked from further back merges the
  repeated points as late data): the call count never exceeds ceil(Q/500).
- **Atomic commit.**  Results are merged only after every call of the plan
  succeeded, and only then does a series' fetched end move.  A failed poll
  leaves the state as it was, so the next one asks for the same span again
  and no gap appears.
- **Whole periods.**  The plan ends at the start of the current period: the
  running minute is incomplete, and showing it would make counts dip at
  every refresh.
- **Emulators without percentiles.**  Plain moto answers a p99 query with
  HTTP 500 (UnsupportedOperationError).  CloudWatch itself never does, so the
  first such answer switches percentiles off for the session and the refresh
  is retried without them: everything else still shows, p99 reads "—".
- **Pagination.**  Results arrive ``TimestampAscending``; a call whose
  datapoints exceed ``MaxDatapoints`` (100,800, the service maximum) is
  continued with ``NextToken`` (a 3 h window of 500 queries is 90,000
  datapoints, so only longer windows page).

Ids are short (``q17``) to keep 500-query requests small, and stable for a
series' life so results map back without string parsing.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Collection, Iterable, Mapping, Sequence

from smtop.aws.aggregate import EndpointAggregator
from smtop.aws.buffers import SeriesBuffer
from smtop.aws.session import AwsSession, gather_or_raise
from smtop.models.catalog import METRICS, MetricSpec, without_percentiles
from smtop.errors import UnsupportedOperationError
from smtop.models import Endpoint, EndpointMetrics, PollStats, SeriesKey

MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
DEFAULT_OVERLAP = 5


def series_for(
    endpoints: Iterable[Endpoint],
    metrics: Mapping[str, MetricSpec] = METRICS,
    selected: Collection[str] = (),
) -> list[SeriesKey]:
    """Every series smtop polls for ``endpoints``: each variant × metric × stat.

    GPUUtilization is asked only for variants on GPU instance types; on
    others it does not exist and would waste a query slot.  The metric
    panel's own metrics (``selected_only``) only for the endpoints named in
    ``selected``: the table shows none of them.

    Args:
        endpoints: the fleet.
        metrics: the catalog to poll (tests drop percentiles, which moto lacks).
        selected: names of the endpoints whose panel-only metrics are asked too.
    """
    keys = []
    for endpoint in endpoints:
        detailed = endpoint.name in selected
        for variant in endpoint.variants:
            for spec in metrics.values():
                if (spec.gpu_only and not variant.has_gpu) or (spec.selected_only and not detailed):
                    continue
                keys.extend(SeriesKey(endpoint.name, variant.name, spec.name, stat) for stat in spec.stats)
    return keys


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """One MetricDataQuery: a series and the Id that maps its result back."""

    id: str
    key: SeriesKey

    def to_api(self, period: int) -> dict[str, Any]:
        spec = METRICS[self.key.metric]
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": spec.namespace,
                    "MetricName": spec.name,
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": self.key.endpoint},
                        {"Name": "VariantName", "Value": self.key.variant},
                    ],
                },
                "Period": period,
                "Stat": self.key.stat,
            },
            "ReturnData": True,
        }


@dataclass(frozen=True, slots=True)
class MetricBatch:
    """The queries of one GetMetricData call and the span they ask for.

    Attributes:
        start: first period start asked (epoch seconds).
        end: end of the span, exclusive (epoch seconds).
        period: seconds per datapoint.
        queries: at most 500.
        first_fill: the batch asks for the whole window (new series, or a
            gap longer than the window).
    """

    start: float
    end: float
    period: int
    queries: tuple[MetricQuery, ...]
    first_fill: bool = False

    @property
    def periods(self) -> int:
        return int((self.end - self.start) // self.period)


@dataclass(frozen=True, slots=True)
class MetricPlan:
    """What one refresh will ask CloudWatch: batches of ≤500 queries.

    Attributes:
        window_start: the oldest period start kept (epoch seconds).
        end: the end of the span asked (start of the running period).
        batches: one per GetMetricData call (before pagination).
    """

    window_start: float
    end: float
    batches: tuple[MetricBatch, ...]

    @property
    def calls(self) -> int:
        return len(self.batches)

    @property
    def queries(self) -> int:
        return sum(len(b.queries) for b in self.batches)

    @property
    def incremental(self) -> bool:
        """True when no batch asked for the whole window (a first fill, or a
        catch-up after a gap longer than the window)."""
        return bool(self.batches) and not any(b.first_fill for b in self.batches)

    @property
    def expected_datapoints(self) -> int:
        """Upper bound: every query has a value in every period."""
        return sum(len(b.queries) * b.periods for b in self.batches)


class MetricPoller:
    """Plans, fetches and keeps the fleet's metric history.

    Args:
        aws: the open session.
        window: how much history to keep and show.
        period: seconds per datapoint (60 = SageMaker's finest).
        overlap: periods re-fetched each refresh for late datapoints.
        concurrency: GetMetricData calls in flight at once.
        max_queries: queries per call (the API maximum is 500).
        max_datapoints: datapoints per response page; more are fetched with
            NextToken (the API maximum, 100,800, is also its default).
        metrics: the catalog to poll; defaults to all of ``smtop.models.catalog``.
    """

    def __init__(
        self,
        aws: AwsSession,
        window: timedelta = timedelta(hours=3),
        period: int = 60,
        overlap: int = DEFAULT_OVERLAP,
        concurrency: int = 4,
        max_queries: int = MAX_QUERIES_PER_CALL,
        max_datapoints: int = MAX_DATAPOINTS_PER_CALL,
        metrics: Mapping[str, MetricSpec] = METRICS,
    ) -> None:
        if period <= 0 or window.total_seconds() < period:
            raise ValueError("window must hold at least one period")
        self._aws = aws
        self.period = period
        self.periods = math.ceil(window.total_seconds() / period)
        self.overlap = overlap
        self._limit = asyncio.Semaphore(concurrency)
        self._max_queries = min(max_queries, MAX_QUERIES_PER_CALL)
        self._max_datapoints = min(max_datapoints, MAX_DATAPOINTS_PER_CALL)
        self._buffers: dict[SeriesKey, SeriesBuffer] = {}
        self._ids: dict[SeriesKey, str] = {}
        self._requests: dict[SeriesKey, dict[str, Any]] = {}
        self._next_id = itertools.count()
        self._metrics = metrics
        self.percentiles_supported = True
        """False once the service answered a percentile query as unsupported."""
        self._aggregator = EndpointAggregator(period, metrics)
        self._window_start = 0.0
        self._end = 0.0

    @property
    def buffers(self) -> Mapping[SeriesKey, SeriesBuffer]:
        """The per-variant history, read-only (tests, bench)."""
        return self._buffers

    def plan(self, endpoints: Sequence[Endpoint], now: datetime, selected: Collection[str] = ()) -> MetricPlan:
        """Decide the GetMetricData calls for a refresh at ``now`` (no I/O).

        Args:
            endpoints: the fleet.
            now: the refresh's time; the plan ends at the start of its period.
            selected: endpoints whose panel-only metrics are asked too.
        """
        end = math.floor(now.timestamp() / self.period) * self.period
        return self._plan(series_for(endpoints, self._metrics, selected), end)

    def _plan(self, keys: Iterable[SeriesKey], end: float) -> MetricPlan:
        """Batches asking ``keys`` up to ``end``, each from where its series needs it."""
        window_start = end - self.periods * self.period
        by_start: dict[float, list[MetricQuery]] = {}
        for key in keys:
            buffer = self._buffers.get(key)
            fetched = buffer.fetched_until if buffer is not None else None
            start = window_start if fetched is None else max(window_start, fetched - self.overlap * self.period)
            by_start.setdefault(start, []).append(MetricQuery(self._id(key), key))
        batches = tuple(
            MetricBatch(start, end, self.period, tuple(chunk), first_fill=start == window_start)
            for start, chunk in _pack(by_start, self._max_queries)
        )
        return MetricPlan(window_start, end, batches)

    async def poll(self, endpoints: Sequence[Endpoint], now: datetime, selected: Collection[str] = ()) -> PollStats:
        """Fetch what the plan asks and merge it into the buffers.

        Series of endpoints (or variants, or GPU metrics) no longer present
        are dropped, and so are the panel-only series of endpoints no longer
        in ``selected``: memory stays bounded by the fleet plus the selection.
        Nothing changes if any call fails.

        Raises:
            SmtopError: an AWS failure, already translated.
        """
        plan, stats = await self._execute(lambda: self.plan(endpoints, now, selected))
        self._drop_except({q.key for batch in plan.batches for q in batch.queries})
        self._window_start, self._end = plan.window_start, plan.end
        return stats

    async def poll_selected(self, endpoint: Endpoint) -> PollStats:
        """Fetch ``endpoint``'s panel-only series now, up to the last poll's end.

        For a selection change: the panel need not wait for the next refresh,
        and one small call (3 queries a variant) fills the whole window.  The
        span ends where the last ``poll`` ended, so these series stay in step
        with the fleet's and the next refresh asks them in the same calls.
        Series already fetched that far are not asked again; other endpoints'
        panel-only series are dropped.  Before the first poll nothing is
        asked: that poll will include them.

        Raises:
            SmtopError: an AWS failure, already translated (nothing changes).
        """
        if not self._end:
            return PollStats()

        def plan() -> MetricPlan:
            keys = series_for([endpoint], self._metrics, {endpoint.name})
            missing = [k for k in keys if self._metrics[k.metric].selected_only and not self._complete(k)]
            return self._plan(missing, self._end)

        _, stats = await self._execute(plan)
        for key in [k for k in self._buffers if k.endpoint != endpoint.name and self._metrics[k.metric].selected_only]:
            self._forget(key)
        return stats

    async def _execute(self, make_plan: Callable[[], MetricPlan]) -> tuple[MetricPlan, PollStats]:
        """Plan, fetch every batch and merge: all or nothing.

        The first answer saying percentiles are unsupported switches them off
        for the session and plans again without them.
        """
        plan = make_plan()
        began = time.perf_counter()
        try:
            fetched = await gather_or_raise(self._fetch(batch) for batch in plan.batches)
        except UnsupportedOperationError:
            if not self.percentiles_supported or not any(
                q.key.stat.startswith("p") for b in plan.batches for q in b.queries
            ):
                raise
            self._metrics = without_percentiles(self._metrics)
            self.percentiles_supported = False
            return await self._execute(make_plan)
        calls = sum(pages for _, pages in fetched)
        datapoints = 0
        for batch, (results, _) in zip(plan.batches, fetched):
            for query in batch.queries:
                points, complete = results.get(query.id, ([], True))
                datapoints += len(points)
                buffer = self._buffers.get(query.key)
                if buffer is None:
                    buffer = self._buffers[query.key] = SeriesBuffer(
                        query.key, self.period, self.periods + self.overlap
                    )
                buffer.merge(points, plan.window_start)
                if complete:
                    buffer.fetched_until = plan.end
        return plan, PollStats(
            calls=calls,
            queries=plan.queries,
            datapoints=datapoints,
            seconds=time.perf_counter() - began,
            incremental=plan.incremental,
        )

    def endpoint_metrics(self, endpoints: Sequence[Endpoint]) -> dict[str, EndpointMetrics]:
        """Endpoint-level series for the last poll (variants combined)."""
        metrics = self._combined(endpoints)
        self._aggregator.forget_except(metrics)
        return metrics

    def metrics_for(self, endpoint: Endpoint) -> EndpointMetrics:
        """One endpoint's series (after ``poll_selected``), the others' kept as built."""
        return self._combined([endpoint])[endpoint.name]

    def _combined(self, endpoints: Sequence[Endpoint]) -> dict[str, EndpointMetrics]:
        # Counts are 0 where missing, up to the newest period a count was seen
        # in.  CloudWatch lags a minute or two, and the instance metrics
        # (CPU…) often arrive before Invocations: filling up to "now", or up
        # to the newest CPU point, would show false zeros (0/min, 0 % errors).
        # An endpoint without counts takes the fleet's count horizon; a fleet
        # without any counts (all idle) the newest period of any metric.
        fleet_horizon = _newest(b for k, b in self._buffers.items() if k.stat == "Sum")
        if fleet_horizon is None:
            fleet_horizon = _newest(self._buffers.values())
        if fleet_horizon is None:
            fleet_horizon = self._end - self.period
        by_endpoint: dict[str, dict[tuple[str, str, str], SeriesBuffer]] = {}
        for key, buffer in self._buffers.items():
            by_endpoint.setdefault(key.endpoint, {})[(key.variant, key.metric, key.stat)] = buffer
        grids: dict[float, tuple[float, ...]] = {}
        metrics = {}
        for endpoint in endpoints:
            own = by_endpoint.get(endpoint.name, {})
            horizon = _newest(b for (_, _, stat), b in own.items() if stat == "Sum")
            if horizon is None:
                horizon = fleet_horizon
            grid = grids.get(horizon)
            if grid is None:
                grid = grids[horizon] = tuple(
                    float(ts) for ts in range(int(self._window_start), int(horizon) + 1, self.period)
                )
            lookup = lambda variant, metric, stat, own=own: own.get((variant, metric, stat))  # noqa: E731
            metrics[endpoint.name] = self._aggregator.combine(endpoint, lookup, grid)
        return metrics

    def _id(self, key: SeriesKey) -> str:
        query_id = self._ids.get(key)
        if query_id is None:
            query_id = self._ids[key] = f"q{next(self._next_id)}"
        return query_id

    def _complete(self, key: SeriesKey) -> bool:
        """The series is fetched up to the last poll's end."""
        buffer = self._buffers.get(key)
        return buffer is not None and buffer.fetched_until is not None and buffer.fetched_until >= self._end

    def _drop_except(self, wanted: set[SeriesKey]) -> None:
        for key in [k for k in self._buffers if k not in wanted]:
            self._forget(key)

    def _forget(self, key: SeriesKey) -> None:
        del self._buffers[key]
        self._ids.pop(key, None)
        self._requests.pop(key, None)

    def _request(self, query: MetricQuery) -> dict[str, Any]:
        """The query's request dict, built once per series: a series' Id and
        period never change, and rebuilding 12,000 nested dicts costs a tenth
        of a 1,000-endpoint refresh's CPU."""
        request = self._requests.get(query.key)
        if request is None:
            request = self._requests[query.key] = query.to_api(self.period)
        return request

    async def _fetch(self, batch: MetricBatch) -> tuple[dict[str, tuple[list[tuple[float, float]], bool]], int]:
        """Run one batch, following NextToken; returns points by Id and the pages used."""
        cloudwatch = await self._aws.client("cloudwatch")
        request: dict[str, Any] = {
            "MetricDataQueries": [self._request(q) for q in batch.queries],
            "StartTime": datetime.fromtimestamp(batch.start, timezone.utc),
            "EndTime": datetime.fromtimestamp(batch.end, timezone.utc),
            "ScanBy": "TimestampAscending",
            "MaxDatapoints": self._max_datapoints,
        }
        results: dict[str, tuple[list[tuple[float, float]], bool]] = {}
        pages = 0
        async with self._limit:
            while True:
                with self._aws.errors("cloudwatch", "GetMetricData"):
                    reply = await cloudwatch.get_metric_data(**request)
                pages += 1
                for result in reply.get("MetricDataResults", []):
                    points, complete = results.setdefault(result["Id"], ([], True))
                    points.extend(
                        (ts.timestamp(), float(value))
                        for ts, value in zip(result.get("Timestamps", []), result.get("Values", []))
                    )
                    # Forbidden/InternalError for one query: keep its fetched end
                    # where it was so the span is asked again next time.
                    ok = result.get("StatusCode", "Complete") in ("Complete", "PartialData")
                    results[result["Id"]] = (points, complete and ok)
                token = reply.get("NextToken")
                if not token:
                    return results, pages
                request["NextToken"] = token


def _pack(by_start: Mapping[float, list[MetricQuery]], limit: int) -> list[tuple[float, list[MetricQuery]]]:
    """Chunks of at most ``limit`` queries, each with the start its call asks from.

    A call has one StartTime.  Each start's queries fill whole calls of their
    own; what is left of each start would cost a part-filled call apiece, so
    when that is more calls than the leftovers need together they share
    calls, sorted by start, each call asking from its earliest member's start.
    Either way the plan makes ceil(Q/limit) calls; the merge costs only
    datapoints (free), so it is done only when it saves a call.
    """
    chunks: list[tuple[float, list[MetricQuery]]] = []
    leftovers: list[tuple[float, list[MetricQuery]]] = []
    for start, queries in sorted(by_start.items()):
        whole = len(queries) - len(queries) % limit
        chunks.extend((start, queries[i : i + limit]) for i in range(0, whole, limit))
        if whole < len(queries):
            leftovers.append((start, queries[whole:]))
    if len(leftovers) > math.ceil(sum(len(q) for _, q in leftovers) / limit):
        flat = [(start, query) for start, queries in leftovers for query in queries]
        leftovers = [(flat[i][0], [q for _, q in flat[i : i + limit]]) for i in range(0, len(flat), limit)]
    return chunks + leftovers


def _newest(buffers: Iterable[SeriesBuffer]) -> float | None:
    """The start of the newest period any of ``buffers`` holds a value for."""
    return max((b.latest_at for b in buffers if b.latest_at is not None), default=None)
