"""Synthetic endpoint traffic: the ten catalog metrics for every variant.

One model, :class:`TrafficModel`, says what a variant did during any interval
of time; the backfill asks it for every past minute and :class:`LiveTraffic`
for every couple of seconds from then on, so history and live data look
alike.  Both write straight into the metric store (not over HTTP): three
hours of a fleet is ~20,000 datums and this keeps startup well under a second.

What it models, per variant:
- Invocations per minute around the variant's mean, with a day curve (peak
  mid-afternoon UTC), a half-hour wave and noise; InvocationsPerInstance.
- ModelLatency and OverheadLatency in microseconds as ``Values``/``Counts``
  (a log-normal distribution), so p99 is meaningful, not an average.
- 4XX errors at a small rate; 5XX errors near zero.
- CPU (up to 100 % per vCPU), memory, disk and, on GPU instances only, GPU
  utilization, one value per instance.
- The degrading canary: a variant with ``degrades`` spends about three minutes
  of every ten with latency ×5–10, 2–8 % 5XX errors and its GPU pinned at ~95 %.
- Container logs are :mod:`smtop.sim.logs`' part, drawn from this model's
  load curve and degradation schedule; :class:`LiveTraffic` writes each
  interval's lines together with its metrics when it is handed the writer.

Everything drawn for the past comes from a random generator seeded by
(seed, endpoint, variant, minute), so the same ``--seed`` and ``--now`` give
the same history byte for byte.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterable
from statistics import NormalDist

from smtop.models.catalog import INSTANCE_NAMESPACE, INVOCATION_NAMESPACE
from smtop.sim.draws import poisson
from smtop.sim.fleet import EndpointSpec, VariantSpec
from smtop.sim.metric_store import MetricStore

BACKFILL_SECONDS = 3 * 3600
LIVE_INTERVAL = 2.0

DEGRADE_CYCLE = 600.0
"""The canary's trouble recurs about every ten minutes…"""
DEGRADE_MINUTES = (2.5, 3.5)
"""…and lasts between these many minutes."""

# Latency histogram used when a batch is large: bins of the distribution by
# probability, finer in the tail so p99 and p99.9 land on real bins.
_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1.0)
_BINS = tuple(
    (NormalDist().inv_cdf((lo + hi) / 2), hi - lo) for lo, hi in zip(_EDGES, _EDGES[1:])
)
_SAMPLED_BELOW = 40
"""Batches smaller than this draw each request's latency instead."""

_GRID = math.log(1.02)
"""Latencies snap to a 2 % log grid: distinct values per minute stay few."""


def _snap(microseconds: float) -> float:
    return float(round(math.exp(round(math.log(max(microseconds, 1.0)) / _GRID) * _GRID)))


class TrafficModel:
    """What every variant of a fleet does over time, deterministic per seed.

    Args:
        fleet: The endpoints to simulate.
        seed: Seeds the history (and the canary's schedule).
    """

    def __init__(self, fleet: Iterable[EndpointSpec], seed: int) -> None:
        self.fleet = tuple(fleet)
        self.seed = seed
        self._phase = random.Random(f"{seed}/canary").uniform(0, DEGRADE_CYCLE)

    def variants(self) -> Iterable[tuple[EndpointSpec, VariantSpec]]:
        for endpoint in self.fleet:
            for variant in endpoint.variants:
                yield endpoint, variant

    def degraded(self, variant: VariantSpec, at: float) -> bool:
        """Whether ``variant`` is in one of its bad spells at ``at``."""
        if not variant.degrades:
            return False
        shifted = at + self._phase
        cycle = int(shifted // DEGRADE_CYCLE)
        low, high = DEGRADE_MINUTES
        spell = 60 * random.Random(f"{self.seed}/spell/{cycle}").uniform(low, high)
        return shifted - cycle * DEGRADE_CYCLE < spell

    def spells(self, start: float, end: float) -> list[tuple[float, float]]:
        """The (begin, end) of every bad spell of a degrading variant that begins
        in [start, end): the people's canary deploys are timed from these."""
        found = []
        first = int((start + self._phase) // DEGRADE_CYCLE)
        for cycle in range(first, int((end + self._phase) // DEGRADE_CYCLE) + 1):
            begin = cycle * DEGRADE_CYCLE - self._phase
            low, high = DEGRADE_MINUTES
            length = 60 * random.Random(f"{self.seed}/spell/{cycle}").uniform(low, high)
            if start <= begin < end:
                found.append((begin, begin + length))
        return found

    def rng(self, endpoint: EndpointSpec, variant: VariantSpec, minute: int) -> random.Random:
        """The generator for one variant's minute of history."""
        return random.Random(f"{self.seed}/{endpoint.name}/{variant.name}/{minute}")

    def write(
        self,
        store: MetricStore,
        endpoint: EndpointSpec,
        variant: VariantSpec,
        start: float,
        seconds: float,
        rng: random.Random,
    ) -> None:
        """Write what ``variant`` did during [start, start + seconds) into ``store``."""
        if seconds <= 0:
            return
        at = start + seconds / 2  # inside the interval's minute, whatever its length
        dims = (("EndpointName", endpoint.name), ("VariantName", variant.name))
        bad = self.degraded(variant, at)
        load = self._load(variant, at)

        calls = poisson(rng, variant.invocations_per_minute / 60.0 * seconds * load * rng.gauss(1.0, 0.03))
        errors_4xx = poisson(rng, calls * variant.error_4xx_rate)
        error_5xx_rate = rng.uniform(0.02, 0.08) if bad else 0.00005
        errors_5xx = poisson(rng, calls * error_5xx_rate)

        put = store.put
        ns = INVOCATION_NAMESPACE
        put(ns, "Invocations", dims, at, value=calls, unit="None")
        put(ns, "InvocationsPerInstance", dims, at, value=calls / variant.instances, unit="None")
        put(ns, "Invocation4XXErrors", dims, at, value=errors_4xx, unit="None")
        put(ns, "Invocation5XXErrors", dims, at, value=errors_5xx, unit="None")
        served = calls - errors_4xx
        if served > 0:
            median = variant.latency_ms * 1000 * (0.9 + 0.1 * load) * rng.gauss(1.0, 0.04)
            if bad:
                median *= rng.uniform(5.0, 10.0)
            values, counts = self._latencies(rng, median, variant.latency_sigma, served)
            put(ns, "ModelLatency", dims, at, values=values, counts=counts, unit="Microseconds")
            values, counts = self._latencies(rng, variant.overhead_ms * 1000 * rng.gauss(1.0, 0.05), 0.35, served)
            put(ns, "OverheadLatency", dims, at, values=values, counts=counts, unit="Microseconds")

        ns = INSTANCE_NAMESPACE
        spec = variant.spec
        # Utilization follows load only partly: models keep a floor of background work.
        busy = variant.cpu_fraction * (0.6 + 0.4 * load) * (1.6 if bad else 1.0)
        drift = math.sin(at / 21600.0 + len(endpoint.name))  # slow, six-hour-ish
        for instance in range(variant.instances):
            # Instances are never perfectly balanced: a stable skew per instance.
            skew = 1.0 + 0.06 * (instance - (variant.instances - 1) / 2)
            cpu = spec.vcpus * 100 * min(busy * skew * rng.gauss(1.0, 0.05), 0.98)
            put(ns, "CPUUtilization", dims, at, value=round(max(cpu, 0.5), 1), unit="Percent")
            memory = variant.memory_percent + 2.5 * drift + rng.gauss(0, 0.4)
            put(ns, "MemoryUtilization", dims, at, value=round(min(max(memory, 1), 99.5), 1), unit="Percent")
            disk = variant.disk_percent + 0.8 * drift + 0.05 * instance
            put(ns, "DiskUtilization", dims, at, value=round(disk, 1), unit="Percent")
            if spec.gpus:
                gpu = rng.gauss(95.0, 1.5) if bad else variant.gpu_percent * (0.7 + 0.3 * load) * skew * rng.gauss(1.0, 0.05)
                put(ns, "GPUUtilization", dims, at, value=round(min(max(gpu, 0.0), 100.0 * spec.gpus), 1), unit="Percent")

    @staticmethod
    def _load(variant: VariantSpec, at: float) -> float:
        """Traffic relative to the variant's mean: day curve × half-hour wave."""
        hour = (at % 86400) / 3600
        day = 1 + 0.3 * math.cos(2 * math.pi * (hour - 15) / 24)
        wave = 1 + 0.08 * math.sin(2 * math.pi * at / 1800 + variant.invocations_per_minute)
        return day * wave

    @staticmethod
    def _latencies(rng: random.Random, median_us: float, sigma: float, requests: int) -> tuple[list[float], list[float]]:
        """Values/Counts of ``requests`` log-normal latencies around ``median_us``."""
        tally: dict[float, float] = {}
        if requests < _SAMPLED_BELOW:
            for _ in range(requests):
                value = _snap(median_us * math.exp(rng.gauss(0.0, sigma)))
                tally[value] = tally.get(value, 0.0) + 1
        else:
            # Largest-remainder rounding keeps the counts summing to ``requests``.
            shares = [(z, weight * requests) for z, weight in _BINS]
            counts = [int(share) for _, share in shares]
            short = requests - sum(counts)
            order = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i][1])
            for i in order[:short]:
                counts[i] += 1
            for (z, _), count in zip(shares, counts):
                if count:
                    value = _snap(median_us * math.exp(sigma * z))
                    tally[value] = tally.get(value, 0.0) + count
        return list(tally), list(tally.values())


def backfill(store: MetricStore, model: TrafficModel, now: float, seconds: float = BACKFILL_SECONDS) -> None:
    """Write ``seconds`` of history ending at ``now``, one interval per minute.

    The minute ``now`` falls in is written only up to ``now``, as CloudWatch
    would show it mid-minute.
    """
    first = int((now - seconds) // 60) * 60
    last = int(now // 60) * 60
    for endpoint, variant in model.variants():
        for minute in range(first, last + 1, 60):
            length = min(60.0, now - minute)
            model.write(store, endpoint, variant, float(minute), length, model.rng(endpoint, variant, minute))


class LiveTraffic(threading.Thread):
    """Keeps writing the model's traffic every ``interval`` seconds until stopped.

    Args:
        store: Where the datapoints go.
        model: What the fleet does.
        clock: Callable returning the simulated epoch seconds.
        since: Where the backfill ended (epoch seconds).
        interval: Seconds between writes.
        logs: Writes the container logs of an interval ``(start, end, rng)``
            (:meth:`smtop.sim.logs.ContainerLogs.write`), with the random
            generator of the metrics; None: no logs.
    """

    def __init__(
        self,
        store: MetricStore,
        model: TrafficModel,
        clock,
        since: float,
        interval: float = LIVE_INTERVAL,
        logs: Callable[[float, float, random.Random], object] | None = None,
    ) -> None:
        super().__init__(name="smtop-sim-traffic", daemon=True)
        self._store = store
        self._model = model
        self._clock = clock
        self._since = since
        self._interval = interval
        self._logs = logs
        self._stopped = threading.Event()
        self._rng = random.Random(f"{model.seed}/live/{since}")

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            self.tick()

    def tick(self) -> None:
        """Write everything that happened since the previous tick."""
        now = self._clock()
        if now <= self._since:
            return
        for endpoint, variant in self._model.variants():
            self._model.write(self._store, endpoint, variant, self._since, now - self._since, self._rng)
        if self._logs is not None:
            self._logs(self._since, now, self._rng)
        self._since = now

    def stop(self) -> None:
        self._stopped.set()
