"""Synthetic fleets: N endpoints with three hours of metrics, ready in seconds.

``smtop sim --synthetic-endpoints N`` replaces the six-endpoint demo fleet
with N generated endpoints, for benchmarks (``bench/run.py``) and for trying
the console on a large account.  The demo fleet's way of seeding would not
scale: creating endpoints over HTTP costs a few milliseconds per call, and
:func:`smtop.sim.traffic.backfill` about 40 ms per variant (≈45 s for 1,000
endpoints).  So here:

- Endpoints, models and endpoint configs are created directly in moto's
  SageMaker backend (no HTTP, hence no request log and no CloudTrail event
  for them).  Creation times are still held on the simulator's clock.
- History comes from a handful of *archetypes* (an instance type and a
  traffic shape, see :data:`ARCHETYPES`).  Each archetype's three hours are
  written once by the demo fleet's own :class:`~smtop.sim.traffic.TrafficModel`
  into a scratch store; every variant of that archetype then gets series in
  the real store whose minutes are the archetype's minutes, rotated by a
  per-variant offset so endpoints do not move in lockstep.  The completed
  minutes are *shared* between series (they are closed, and reads never
  change a closed minute), so 1,000 endpoints cost a few tens of MB; the
  newest, still-running minute is copied per series, because live traffic
  (if on) keeps writing into it.

What a GetMetricData call costs is unaffected by the sharing: every query
still finds its own series, bisects its window and aggregates its minutes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace

from smtop.sim.clock import SimClock
from smtop.sim.fleet import REGION, ROLE_ARN, EndpointSpec, VariantSpec, production_variant
from smtop.sim.metric_store import MetricStore, Minute, Series
from smtop.sim.traffic import BACKFILL_SECONDS, TrafficModel, backfill

MAX_SYNTHETIC_ENDPOINTS = 10_000
"""A guard against typos; 1,000 endpoints take a few seconds and ~100 MB."""

_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.4-cpu-py311"
_WORDS = ("fraud", "recsys", "llm", "embed", "churn", "summarize", "vision", "speech", "search", "forecast")


def _archetype(name: str, instance_type: str, **traffic) -> VariantSpec:
    return VariantSpec(name, instance_type, traffic.pop("instances", 1), 1.0, **traffic)


ARCHETYPES: tuple[VariantSpec, ...] = (
    _archetype("cpu-busy", "ml.c5.xlarge", instances=2, invocations_per_minute=900, latency_ms=35, cpu_fraction=0.35),
    _archetype("cpu-small", "ml.m5.large", invocations_per_minute=40, latency_ms=12, cpu_fraction=0.08),
    _archetype("cpu-ranker", "ml.m5.xlarge", instances=3, invocations_per_minute=1800, latency_ms=18, cpu_fraction=0.4),
    _archetype(
        "gpu-llm", "ml.g5.2xlarge", invocations_per_minute=250, latency_ms=700, latency_sigma=0.55,
        cpu_fraction=0.2, gpu_percent=65, memory_percent=78,
    ),
    _archetype("cpu-batchy", "ml.m5.2xlarge", invocations_per_minute=300, latency_ms=60, cpu_fraction=0.2),
    _archetype(
        "gpu-embed", "ml.g4dn.xlarge", instances=2, invocations_per_minute=700, latency_ms=55,
        cpu_fraction=0.18, gpu_percent=50,
    ),
    _archetype("inf2", "ml.inf2.xlarge", instances=2, invocations_per_minute=90, latency_ms=400, cpu_fraction=0.15),
    _archetype(
        "gpu-canary", "ml.g5.2xlarge", invocations_per_minute=200, latency_ms=650, latency_sigma=0.55,
        cpu_fraction=0.22, gpu_percent=60, degrades=True,
    ),
)
"""Variant shapes the synthetic fleet is made of: 3 of 8 on GPU instance types."""

SYNTHETIC_BACKFILL_SECONDS = BACKFILL_SECONDS + 15 * 60
"""Three hours and a quarter: a client whose clock trails the simulator's by
up to 15 minutes (the benchmark's frozen clock does, on purpose, so that its
later refreshes find data) still gets a full three-hour window."""

TWO_VARIANTS_EVERY = 10
"""Every tenth endpoint has a second variant (a canary with 10 % of the traffic)."""


def synthetic_fleet(count: int, seed: int = 0) -> tuple[EndpointSpec, ...]:
    """``count`` endpoints cycling through :data:`ARCHETYPES`, some with two variants.

    Deterministic in ``count`` and ``seed``: names are ``<word>-<index>``.
    """
    if not 0 <= count <= MAX_SYNTHETIC_ENDPOINTS:
        raise ValueError(f"synthetic endpoints must be between 0 and {MAX_SYNTHETIC_ENDPOINTS}, not {count}")
    rng = random.Random(f"{seed}/synthetic/{count}")
    fleet = []
    for index in range(count):
        first = ARCHETYPES[index % len(ARCHETYPES)]
        if index % TWO_VARIANTS_EVERY == TWO_VARIANTS_EVERY - 1:
            second = ARCHETYPES[(index + 3) % len(ARCHETYPES)]
            variants = (_renamed(first, "variant-a", 0.9), _renamed(second, "variant-b", 0.1))
        else:
            variants = (_renamed(first, "AllTraffic", 1.0),)
        fleet.append(
            EndpointSpec(
                f"{_WORDS[index % len(_WORDS)]}-{index:05d}",
                variants,
                created_days_ago=round(rng.uniform(1.0, 120.0), 2),
                team=_WORDS[(index // len(_WORDS)) % len(_WORDS)],
                model_image=_IMAGE,
            )
        )
    return tuple(fleet)


def _renamed(archetype: VariantSpec, name: str, weight: float) -> VariantSpec:
    """A variant named ``name`` with ``archetype``'s shape (and so its history)."""
    return replace(archetype, name=name, weight=weight)


def create_endpoints(fleet: Sequence[EndpointSpec], clock: SimClock, now: float, region: str = REGION) -> None:
    """Create models, endpoint configs and endpoints in moto's SageMaker backend.

    The clock is held at each endpoint's creation moment, as the demo fleet's
    seeder does, so CreationTime reads like a real fleet's; for this thread
    only, which writes to the backends itself.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][region]
    for endpoint in fleet:
        with clock.held(now - endpoint.created_days_ago * 86400):
            config = f"{endpoint.name}-config-v1"
            variants = []
            for variant in endpoint.variants:
                model = f"{endpoint.name}-{variant.name.lower()}"
                backend.create_model(
                    model_name=model,
                    execution_role_arn=ROLE_ARN,
                    primary_container={"Image": endpoint.model_image},
                    vpc_config=None,
                    containers=None,
                    tags=None,
                )
                variants.append(production_variant(variant, model))
            backend.create_endpoint_config(
                endpoint_config_name=config,
                production_variants=variants,
                data_capture_config={},
                async_inference_config={},
                tags=[],
                kms_key_id="",
            )
            backend.create_endpoint(
                endpoint_name=endpoint.name,
                endpoint_config_name=config,
                tags=[{"Key": "team", "Value": endpoint.team}],
            )


def backfill_synthetic(
    store: MetricStore,
    fleet: Iterable[EndpointSpec],
    now: float,
    seed: int = 0,
    seconds: float = SYNTHETIC_BACKFILL_SECONDS,
) -> int:
    """Give every variant of ``fleet`` ``seconds`` of history ending at ``now``.

    Returns:
        The number of series written.
    """
    archetype_history: dict[str, dict[tuple[str, str], Series]] = {}
    rng = random.Random(f"{seed}/synthetic-offsets")
    written = 0
    for endpoint in fleet:
        for variant in endpoint.variants:
            key = _archetype_key(variant)
            history = archetype_history.get(key)
            if history is None:
                history = archetype_history[key] = _archetype_history(variant, now, seed, seconds)
            dims = (("EndpointName", endpoint.name), ("VariantName", variant.name))
            offset = rng.randrange(1 << 30)
            for (namespace, metric), source in history.items():
                _install_series(store, namespace, metric, dims, source, offset)
                written += 1
    return written


def _archetype_key(variant: VariantSpec) -> str:
    # Everything but the name and weight: two variants of one archetype share history.
    return repr((variant.instance_type, variant.instances, variant.invocations_per_minute, variant.latency_ms, variant.degrades))


def _archetype_history(variant: VariantSpec, now: float, seed: int, seconds: float) -> dict[tuple[str, str], Series]:
    """The archetype's history, written by the demo's TrafficModel into a scratch store."""
    spec = EndpointSpec("archetype", (variant,), created_days_ago=0.0, team="", model_image="")
    scratch = MetricStore(clock=lambda: now)
    backfill(scratch, TrafficModel((spec,), seed), now, seconds)
    history = {}
    for series in scratch._series.values():  # noqa: SLF001 - the simulator's own store
        for minute in series.minutes:
            minute.close()
        history[(series.namespace, series.name)] = series
    return history


def _install_series(
    store: MetricStore,
    namespace: str,
    metric: str,
    dims: tuple[tuple[str, str], ...],
    source: Series,
    offset: int,
) -> None:
    """Put ``source``'s minutes under ``dims``: completed minutes rotated and shared, the last copied.

    Only the minutes move; the timestamps stay, so a minute the archetype has
    no data for (a quiet endpoint's latency) stays a gap at the same place.
    """
    *done, running = source.minutes
    shift = offset % len(done) if done else 0
    minutes = done[shift:] + done[:shift] + [_copy(running)]
    with store._lock:  # noqa: SLF001 - installing whole series at once is the point
        target = store._series_for(namespace, metric, dims)  # noqa: SLF001
        target.unit = source.unit
        target.starts = list(source.starts)
        target.minutes = minutes


def _copy(minute: Minute) -> Minute:
    """An independent copy of ``minute`` that later writes may change."""
    copy = Minute()
    for value, count in minute.items():
        copy.add(value, count)
    return copy
