"""Combine an endpoint's variants into the endpoint's own series.

CloudWatch is polled per variant (EndpointName + VariantName), because
instance metrics exist only per variant; the table shows endpoints.  How
variants combine follows ``catalog.AGGREGATION``:

- counts (``Sum``) add up; SageMaker emits nothing for a minute without
  traffic, so a missing period inside the window is 0, not "unknown";
- means are weighted: latency by each variant's invocations in that period
  (a variant serving 1% of traffic must not move the endpoint's latency by
  half), utilization by instance count;
- a percentile cannot be merged exactly, so the worst variant's p99 stands
  for the endpoint;
- InvocationsPerInstance is stored as a ``Sum`` but is a per-instance rate,
  so across variants it is a mean weighted by instance count (summing it
  would double it for a two-variant endpoint).

Everything else in a series stays missing when CloudWatch has no value.
Results are cached per endpoint and rebuilt only when one of its buffers
(or its variants, or the window) changed.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

from smtop.aws.buffers import SeriesBuffer
from smtop.models.catalog import AGGREGATION, METRICS, Aggregation, MetricSpec
from smtop.models import Endpoint, EndpointMetrics, MetricSeries, Variant

_WEIGHTED_BY_INVOCATIONS = frozenset({"ModelLatency", "OverheadLatency"})

# (variant name, metric, stat) -> buffer, for one endpoint.
BufferLookup = Callable[[str, str, str], SeriesBuffer | None]


def aggregation(metric: str, stat: str) -> Aggregation:
    """How the variants' values of ``(metric, stat)`` combine."""
    return AGGREGATION[(metric, stat)]


class EndpointAggregator:
    """Builds ``EndpointMetrics`` from per-variant buffers, with a cache.

    Args:
        period: seconds per datapoint.
        metrics: the catalog polled.
    """

    def __init__(self, period: int, metrics: Mapping[str, MetricSpec] = METRICS) -> None:
        self._period = period
        self._metrics = metrics
        self._cache: dict[str, tuple[tuple, EndpointMetrics]] = {}

    def combine(self, endpoint: Endpoint, lookup: BufferLookup, grid: tuple[float, ...]) -> EndpointMetrics:
        """Return the endpoint's series.

        Args:
            endpoint: the endpoint and its variants (instance counts weigh means).
            lookup: finds a variant's buffer for ``(variant, metric, stat)``.
            grid: the period starts over which missing counts are 0.
        """
        parts = {
            (metric, stat): [(v, b) for v in endpoint.variants if (b := lookup(v.name, metric, stat)) is not None]
            for metric, spec in self._metrics.items()
            for stat in spec.stats
        }
        signature = (
            endpoint.variants,
            (grid[0], len(grid)) if grid else (),
            tuple((b.key, b.version) for pairs in parts.values() for _, b in pairs),
        )
        cached = self._cache.get(endpoint.name)
        if cached is not None and cached[0] == signature:
            return cached[1]
        per_variant: dict[tuple[str, str], list[MetricSeries]] = {
            (metric, stat): [b.filled(grid) if stat == "Sum" else b.series() for _, b in pairs]
            for (metric, stat), pairs in parts.items()
        }
        # Each variant's invocations weigh its latency.
        invocations = {
            variant.name: calls
            for (variant, _), calls in zip(
                parts.get(("Invocations", "Sum"), []), per_variant.get(("Invocations", "Sum"), [])
            )
        }
        series = {}
        for (metric, stat), pairs in parts.items():
            variants = [v for v, _ in pairs]
            members = per_variant[(metric, stat)]
            if not members:
                continue  # e.g. GPUUtilization on a CPU-only endpoint
            if len(members) == 1:
                series[(metric, stat)] = members[0]  # one variant: its series is the endpoint's
                continue
            how = aggregation(metric, stat)
            weights = None if how != "weighted-mean" else _weights(metric, variants, invocations)
            series[(metric, stat)] = _combine(metric, stat, self._period, how, members, weights)
        result = EndpointMetrics(endpoint.name, series)
        self._cache[endpoint.name] = (signature, result)
        return result

    def forget_except(self, names: Iterable[str]) -> None:
        """Drop cached results of endpoints not in ``names`` (deleted ones)."""
        keep = set(names)
        for name in [n for n in self._cache if n not in keep]:
            del self._cache[name]


Weight = Callable[[float], float]


def _combine(
    metric: str,
    stat: str,
    period: int,
    how: Aggregation,
    members: list[MetricSeries],
    weights: list[Weight] | None,
) -> MetricSeries:
    maps = [dict(zip(m.timestamps, m.values)) for m in members]
    timestamps = sorted(set().union(*maps))
    if how == "sum":
        values = [sum(values.get(ts, 0.0) for values in maps) for ts in timestamps]
    elif how == "max":
        values = [max(values[ts] for values in maps if ts in values) for ts in timestamps]
    else:
        values = [_weighted_mean(ts, maps, weights or []) for ts in timestamps]
    return MetricSeries(metric, stat, period, tuple(timestamps), tuple(values))


def _weights(metric: str, variants: list[Variant], invocations: Mapping[str, MetricSeries]) -> list[Weight]:
    """Per variant, the weight of its value at a timestamp."""
    if metric in _WEIGHTED_BY_INVOCATIONS:
        calls = {name: dict(zip(s.timestamps, s.values)) for name, s in invocations.items()}
        return [lambda ts, inv=calls.get(v.name, {}): inv.get(ts, 0.0) for v in variants]
    return [lambda ts, n=_instances(v): n for v in variants]


def _instances(variant: Variant) -> float:
    # Unknown counts (None) weigh like one instance rather than vanishing.
    return 1.0 if variant.current_instance_count is None else float(variant.current_instance_count)


def _weighted_mean(ts: float, per_variant: list[dict[float, float]], weights: list[Weight]) -> float:
    present = [(values[ts], weight(ts)) for values, weight in zip(per_variant, weights) if ts in values]
    total = sum(w for _, w in present)
    if total <= 0:
        # No traffic or no instance counts to weigh by: every variant counts the same.
        return sum(v for v, _ in present) / len(present)
    return sum(v * w for v, w in present) / total
