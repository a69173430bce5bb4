"""The ten SageMaker endpoint metrics smtop watches (the seed's table).

One table says, per metric, where CloudWatch keeps it, which statistics smtop
asks for, the unit CloudWatch stores and the unit the user reads, and whether
it is polled for every endpoint or only for the selected one.  The poll
planner, the aggregation of variants and every renderer read it from here.

Why two scopes: CloudWatch bills every metric asked, and the fleet refresh
asks every series of every variant.  The endpoints table shows eight series
(nine on GPU variants); InvocationsPerInstance and OverheadLatency (Average
and p99) appear only in the metric panel of the selected endpoint, so they
are asked for that endpoint alone (``selected_only``).  That brings a fleet
of N single-variant endpoints to at most ceil(N·10/500) calls a refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Aggregation = Literal["sum", "weighted-mean", "max"]

INVOCATION_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    namespace: str
    stats: tuple[str, ...]
    aws_unit: str
    unit: str
    label: str
    description: str
    scale: float = 1.0
    gpu_only: bool = False
    selected_only: bool = False
    """Only the selected endpoint's metric panel shows it (no table column):
    polled for that endpoint alone, not for the whole fleet."""

    def to_display(self, value: float | None) -> float | None:
        """Convert a value in CloudWatch's unit to the unit shown."""
        return None if value is None else value * self.scale

    def shown(self, value: float, period: int) -> float:
        """A datapoint as the user reads it: counts (a Sum per period) per
        minute whatever the period, everything else in its display unit."""
        scaled = value * self.scale
        return scaled * 60.0 / period if self.is_count else scaled

    def from_display(self, value: float) -> float:
        """Convert a value typed by the user back to CloudWatch's unit."""
        return value / self.scale

    @property
    def is_count(self) -> bool:
        return self.stats == ("Sum",)


def _spec(name, namespace, stats, aws_unit, unit, label, description, **kw) -> MetricSpec:
    return MetricSpec(name, namespace, stats, aws_unit, unit, label, description, **kw)


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _spec("Invocations", INVOCATION_NAMESPACE, ("Sum",), "None", "/min", "Invocations", "Number of requests"),
        _spec("InvocationsPerInstance", INVOCATION_NAMESPACE, ("Sum",), "None", "/min", "Inv/instance", "Requests per instance", selected_only=True),
        _spec("ModelLatency", INVOCATION_NAMESPACE, ("Average", "p99"), "Microseconds", "ms", "ModelLatency", "Inference time", scale=1e-3),
        _spec("OverheadLatency", INVOCATION_NAMESPACE, ("Average", "p99"), "Microseconds", "ms", "Overhead", "SageMaker overhead", scale=1e-3, selected_only=True),
        _spec("Invocation4XXErrors", INVOCATION_NAMESPACE, ("Sum",), "None", "/min", "4XX errors", "Client errors"),
        _spec("Invocation5XXErrors", INVOCATION_NAMESPACE, ("Sum",), "None", "/min", "5XX errors", "Server errors"),
        _spec("CPUUtilization", INSTANCE_NAMESPACE, ("Average",), "Percent", "%", "CPU", "CPU usage (100% per core)"),
        _spec("MemoryUtilization", INSTANCE_NAMESPACE, ("Average",), "Percent", "%", "Memory", "Memory usage"),
        _spec("GPUUtilization", INSTANCE_NAMESPACE, ("Average",), "Percent", "%", "GPU", "GPU usage (100% per GPU)", gpu_only=True),
        _spec("DiskUtilization", INSTANCE_NAMESPACE, ("Average",), "Percent", "%", "Disk", "Disk usage"),
    )
}

# How the series of an endpoint's variants combine into the endpoint's own:
# counts add up, averages weigh by traffic or instances, and a p99 cannot be
# merged exactly, so the worst variant's p99 stands for the endpoint.
# InvocationsPerInstance is stored as a Sum but is a per-instance rate: across
# variants it is a mean weighted by instance count (adding would double it).
AGGREGATION: dict[tuple[str, str], Aggregation] = {
    (m.name, s): ("sum" if s == "Sum" else "max" if s.startswith("p") else "weighted-mean")
    for m in METRICS.values()
    for s in m.stats
}
AGGREGATION[("InvocationsPerInstance", "Sum")] = "weighted-mean"


def without_percentiles(metrics: dict[str, MetricSpec]) -> dict[str, MetricSpec]:
    """The same catalog asking no percentile statistics (for services that lack them)."""
    from dataclasses import replace

    return {
        name: replace(spec, stats=tuple(s for s in spec.stats if not s.startswith("p")))
        for name, spec in metrics.items()
    }
