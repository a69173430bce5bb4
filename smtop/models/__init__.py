"""Frozen dataclasses shared by every layer.

Nothing here knows botocore or Textual: the AWS layer builds these from API
responses, the UI and batch mode only read them.  Timestamps inside metric
series are epoch seconds (floats are cheaper than datetimes by the tens of
thousands); everything else uses timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

from smtop.models.catalog import METRICS, MetricSpec

# Instance families that report GPUUtilization (Inferentia/Trainium report
# NeuronCore metrics instead, so they are not "GPU" for smtop's purposes).
_GPU_FAMILIES = ("ml.g", "ml.p")


@dataclass(frozen=True, slots=True)
class Variant:
    """One production variant of an endpoint, as DescribeEndpoint reports it."""

    name: str
    instance_type: str | None = None
    current_instance_count: int | None = None
    desired_instance_count: int | None = None
    current_weight: float | None = None

    @property
    def has_gpu(self) -> bool:
        return bool(self.instance_type) and self.instance_type.startswith(_GPU_FAMILIES)


@dataclass(frozen=True, slots=True)
class StaleDescription:
    """Why an endpoint's description (variants, instance types, counts) is not
    this refresh's: its Describe call failed, or was put off to keep smtop's
    pace.  The endpoint is still listed, with ListEndpoints' current status,
    and is described again at the next refresh."""

    reason: str
    """What happened, for the user (an error message from AWS is untrusted text)."""
    operation: str | None = None
    """The call that failed ("DescribeEndpoint", "DescribeEndpointConfig"); None when it was put off."""
    described_at: datetime | None = None
    """When the description shown was taken; None: never (no variants are known)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A SageMaker endpoint with its variants."""

    name: str
    status: str
    arn: str = ""
    config_name: str = ""
    created: datetime | None = None
    last_modified: datetime | None = None
    variants: tuple[Variant, ...] = ()
    failure_reason: str | None = None
    stale: StaleDescription | None = None
    """Set when the variants are an older description, or none (see StaleDescription)."""

    @property
    def instance_count(self) -> int:
        return sum(v.current_instance_count or 0 for v in self.variants)

    @property
    def never_described(self) -> bool:
        """Only ListEndpoints' view is known: no variants, and an instance count unknown, not 0."""
        return self.stale is not None and self.stale.described_at is None

    @property
    def has_gpu(self) -> bool:
        return any(v.has_gpu for v in self.variants)

    @property
    def log_group(self) -> str:
        return f"/aws/sagemaker/Endpoints/{self.name}"


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """Identifies one CloudWatch series as smtop polls it (per variant)."""

    endpoint: str
    variant: str
    metric: str
    stat: str


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """Datapoints of one metric statistic, ascending by time, in AWS units.

    ``timestamps`` are the starts of the periods (epoch seconds).  Conversion
    to what the user reads (µs → ms) is the catalog's job, in one place.
    """

    metric: str
    stat: str
    period: int
    timestamps: tuple[float, ...] = ()
    values: tuple[float, ...] = ()

    @property
    def spec(self) -> MetricSpec:
        return METRICS[self.metric]

    @property
    def latest(self) -> float | None:
        return self.values[-1] if self.values else None

    @property
    def latest_at(self) -> float | None:
        return self.timestamps[-1] if self.timestamps else None

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True, slots=True)
class EndpointMetrics:
    """Endpoint-level series (variants combined) keyed by (metric, stat)."""

    endpoint: str
    series: Mapping[tuple[str, str], MetricSeries] = field(default_factory=dict)

    def get(self, metric: str, stat: str | None = None) -> MetricSeries | None:
        return self.series.get((metric, stat or METRICS[metric].stats[0]))

    def latest(self, metric: str, stat: str | None = None) -> float | None:
        series = self.get(metric, stat)
        return series.latest if series is not None else None

    # The table's columns, in the units the user reads.
    @property
    def invocations_per_minute(self) -> float | None:
        return self._per_minute("Invocations")

    @property
    def latency_avg_ms(self) -> float | None:
        return METRICS["ModelLatency"].to_display(self.latest("ModelLatency", "Average"))

    @property
    def latency_p99_ms(self) -> float | None:
        return METRICS["ModelLatency"].to_display(self.latest("ModelLatency", "p99"))

    @property
    def error_4xx_pct(self) -> float | None:
        return self._error_pct("Invocation4XXErrors")

    @property
    def error_5xx_pct(self) -> float | None:
        return self._error_pct("Invocation5XXErrors")

    def _per_minute(self, metric: str) -> float | None:
        series = self.get(metric)
        if series is None or series.latest is None:
            return None
        return series.spec.shown(series.latest, series.period)

    def _error_pct(self, metric: str) -> float | None:
        errors = self.get(metric)
        calls = self.get("Invocations")
        if errors is None or calls is None or errors.latest is None:
            return None
        # Compare like with like: the invocations of the same period.
        at = errors.latest_at
        try:
            index = calls.timestamps.index(at)
        except ValueError:
            return None
        total = calls.values[index]
        return 100.0 * errors.latest / total if total else 0.0


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """Who the credentials belong to (STS GetCallerIdentity)."""

    account: str
    arn: str
    user_id: str = ""


@dataclass(frozen=True, slots=True)
class PollStats:
    """What one metric refresh cost, for the header, batch mode and bench/."""

    calls: int = 0
    queries: int = 0
    datapoints: int = 0
    seconds: float = 0.0
    incremental: bool = False


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    """Everything the console shows after one refresh."""

    taken_at: datetime
    endpoints: tuple[Endpoint, ...]
    metrics: Mapping[str, EndpointMetrics]
    period: int = 60
    poll: PollStats = PollStats()

    def metrics_for(self, endpoint: str) -> EndpointMetrics:
        return self.metrics.get(endpoint) or EndpointMetrics(endpoint)

    def endpoint(self, name: str | None) -> Endpoint | None:
        """The endpoint called ``name``, if the fleet has it."""
        return next((e for e in self.endpoints if e.name == name), None)

    @property
    def stale_endpoints(self) -> tuple[Endpoint, ...]:
        """Endpoints whose description is not this refresh's (``Endpoint.stale``)."""
        return tuple(e for e in self.endpoints if e.stale is not None)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One CloudWatch Logs event.  ``message`` is untrusted text, kept as
    received; renderers make it safe."""

    timestamp: float
    """Event time, epoch seconds (millisecond precision)."""
    message: str
    stream: str
    event_id: str
    group: str = ""
    ingestion_time: float | None = None


@dataclass(frozen=True, slots=True)
class TailUpdate:
    """What one step of a log tail delivered, in time order."""

    group: str
    events: tuple[LogEvent, ...] = ()
    mode: str = "poll"
    """"live" (StartLiveTail) or "poll" (FilterLogEvents)."""
    sampled: bool = False
    """Live Tail dropped events to keep up (the service samples busy groups)."""
    notice: str | None = None
    """Something the user should read (fell back to polling, reconnected…)."""


@dataclass(frozen=True, slots=True)
class LogGroup:
    """A CloudWatch Logs group, as DescribeLogGroups reports it."""

    name: str
    arn: str = ""
    """The ARN without the trailing ``:*`` (what StartLiveTail wants)."""
    created: datetime | None = None
    stored_bytes: int | None = None
    retention_days: int | None = None
