"""The new-alarm form's rules, without a screen: validation, units, presets, the request.

Pure on purpose: the modal (:mod:`smtop.ui.screens.alarm_form`) only collects
text, and everything that decides what reaches PutMetricAlarm lives here
where a unit test reaches it.  The user types a threshold in the unit the
console shows (ms for latencies, % for utilization, a count per period for
errors); CloudWatch compares against the metric's own unit (SageMaker
publishes ModelLatency and OverheadLatency in microseconds), so the
conversion happens once, here, with :class:`smtop.models.catalog.MetricSpec`.

No ``Unit`` is sent: an alarm whose Unit differs from the unit the data was
published with never sees a datapoint and stays INSUFFICIENT_DATA forever.

Periods, from the PutMetricAlarm API reference (Period): "Valid values are
10, 20, 30, and any multiple of 60"; 10, 20 or 30 only for metrics stored at
one-second resolution, else the alarm "does not receive data for the
attempts that do not correspond to a one-minute data resolution, and the
alarm might often lapse into INSUFFICENT_DATA status", and such a period
"sets this alarm as a high-resolution alarm, which has a higher charge".
SageMaker publishes its metrics once a minute ("Amazon SageMaker AI metrics
in Amazon CloudWatch") unless the endpoint config's MetricsConfig sets
MetricPublishFrequencyInSeconds to 10 or 30 (invocation metrics follow it
only with EnableEnhancedMetrics: SageMaker API reference, MetricsConfig), so
the form accepts those periods with a warning that says both.  The same
reference caps the evaluation range: Period × EvaluationPeriods "can't be
more than 604,800 seconds", and for a period under one hour not "longer than
one day (86,400 seconds)".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from smtop.models.catalog import METRICS, MetricSpec
from smtop.models.characters import has_ascii_control

STATISTICS = ("Average", "Sum", "Maximum", "Minimum", "SampleCount", "p50", "p90", "p95", "p99", "p99.9")
COMPARISONS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
TREAT_MISSING = ("missing", "notBreaching", "breaching", "ignore")
MAX_NAME = 255
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
"""Periods under a minute: high-resolution alarms, for metrics stored at one-second resolution."""
MAX_TOTAL_SECONDS = 7 * 86400
"""Period × EvaluationPeriods at most (PutMetricAlarm API reference)."""
MAX_TOTAL_SECONDS_SHORT_PERIOD = 86400
"""The same for periods under an hour: one day."""
SHORT_PERIOD = 3600
STANDARD_ALARM_PRICE = 0.10
HIGH_RESOLUTION_ALARM_PRICE = 0.30
"""USD per alarm metric per month, standard (60 s) and high-resolution (10 s) alarms,
US East (N. Virginia): the Alarms table of the Amazon CloudWatch pricing page."""

_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,3})?|100)$")


@dataclass(frozen=True, slots=True)
class AlarmDraft:
    """What the form holds: text as typed, plus the choices made."""

    name: str
    endpoint: str
    variant: str
    metric: str = "ModelLatency"
    statistic: str = "Average"
    threshold: str = "1000"
    comparison: str = "GreaterThanThreshold"
    period: str = "300"
    evaluation_periods: str = "2"
    datapoints_to_alarm: str = ""
    """Empty: the same as evaluation periods (CloudWatch's default)."""
    topic_arn: str | None = None
    treat_missing_data: str = "missing"
    description: str = ""

    @property
    def spec(self) -> MetricSpec:
        return METRICS[self.metric]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem, tied to the field the user must fix."""

    field: str
    message: str


def display_unit(metric: str) -> str:
    """The unit the threshold is typed in, as the form shows it."""
    spec = METRICS[metric]
    if spec.is_count:
        return "count per period"
    return spec.unit


def metric_unit(metric: str) -> str:
    """The unit CloudWatch stores the metric in (what the threshold is sent in)."""
    spec = METRICS[metric]
    return "count" if spec.is_count else spec.aws_unit


def to_metric_unit(metric: str, shown: float) -> float:
    """A threshold typed in the display unit, in the metric's unit (ms → µs).

    Counts are not converted: the table shows them per minute, but an alarm
    compares the statistic over its own period, and the form says so.
    """
    spec = METRICS[metric]
    if spec.is_count:
        return shown
    return spec.from_display(shown)


def from_metric_unit(metric: str, stored: float) -> float:
    """The inverse of :func:`to_metric_unit` (µs → ms), for showing an alarm's threshold."""
    spec = METRICS[metric]
    return stored if spec.is_count else stored * spec.scale


def suggest_name(endpoint: str, metric: str, statistic: str, comparison: str = "GreaterThanThreshold") -> str:
    """A name that says what fires: ``llm-chat-canary-ModelLatency-p99-high``."""
    direction = "high" if comparison.startswith("Greater") else "low"
    return f"{endpoint}-{metric}-{statistic}-{direction}"[:MAX_NAME]


def typed_number(text: str) -> float | None:
    """A number as typed in the form (``1_000`` too); None when it is not one."""
    try:
        value = float(text.strip().replace("_", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def validate(draft: AlarmDraft) -> list[FieldError]:
    """Every problem of the draft, in form order; empty when it can be sent."""
    errors: list[FieldError] = []
    name = draft.name
    if not name.strip():
        errors.append(FieldError("name", "The alarm needs a name."))
    elif len(name) > MAX_NAME:
        errors.append(FieldError("name", f"The name is {len(name)} characters; CloudWatch allows {MAX_NAME}."))
    elif has_ascii_control(name):
        errors.append(FieldError("name", "The name cannot contain control characters."))
    elif name != name.strip():
        errors.append(FieldError("name", "The name cannot start or end with a space."))
    if draft.metric not in METRICS:
        errors.append(FieldError("metric", f"{draft.metric!r} is not one of the SageMaker metrics smtop knows."))
    if draft.statistic not in ("Average", "Sum", "Maximum", "Minimum", "SampleCount") and not _PERCENTILE.match(draft.statistic):
        errors.append(FieldError("statistic", f"{draft.statistic!r} is not a statistic: use Average, Sum, Maximum, Minimum, SampleCount or p0–p100 (p99, p99.9)."))
    if typed_number(draft.threshold) is None:
        errors.append(FieldError("threshold", f"The threshold must be a number (in {display_unit(draft.metric) if draft.metric in METRICS else 'the metric unit'}), not {draft.threshold!r}."))
    if draft.comparison not in COMPARISONS:
        errors.append(FieldError("comparison", f"{draft.comparison!r} is not a comparison."))
    period = _whole(draft.period)
    if period is None or not (period in HIGH_RESOLUTION_PERIODS or (period >= 60 and period % 60 == 0)):
        period = None
        errors.append(FieldError("period", f"The period must be 10, 20, 30 or a multiple of 60 seconds, not {draft.period!r}."))
    periods = _whole(draft.evaluation_periods)
    if periods is None or periods < 1:
        errors.append(FieldError("evaluation_periods", f"Evaluation periods must be a whole number of at least 1, not {draft.evaluation_periods!r}."))
    elif period is not None and period * periods > (limit := max_evaluation_seconds(period)):
        span = "one day" if limit == MAX_TOTAL_SECONDS_SHORT_PERIOD else "seven days"
        under = " for a period under an hour" if limit == MAX_TOTAL_SECONDS_SHORT_PERIOD else ""
        errors.append(FieldError(
            "evaluation_periods",
            f"Period × evaluation periods is {period * periods:,} s; CloudWatch allows at most {limit:,} s ({span}){under}: "
            f"at most {limit // period:,} periods of {period} s.",
        ))
    if draft.datapoints_to_alarm.strip():
        points = _whole(draft.datapoints_to_alarm)
        if points is None or points < 1:
            errors.append(FieldError("datapoints_to_alarm", f"Datapoints to alarm must be a whole number of at least 1, not {draft.datapoints_to_alarm!r}."))
        elif periods is not None and points > periods:
            errors.append(FieldError("datapoints_to_alarm", f"Datapoints to alarm ({points}) cannot exceed evaluation periods ({periods})."))
    if draft.treat_missing_data not in TREAT_MISSING:
        errors.append(FieldError("treat_missing_data", f"{draft.treat_missing_data!r} is not a way to treat missing data."))
    return errors


def max_evaluation_seconds(period: int) -> int:
    """The longest Period × EvaluationPeriods CloudWatch accepts for ``period``."""
    return MAX_TOTAL_SECONDS_SHORT_PERIOD if period < SHORT_PERIOD else MAX_TOTAL_SECONDS


def cautions(draft: AlarmDraft) -> list[FieldError]:
    """What is valid but likely not what the user wants (the form shows it; it never blocks)."""
    found: list[FieldError] = []
    period = _whole(draft.period)
    if period in HIGH_RESOLUTION_PERIODS:
        found.append(FieldError(
            "period",
            f"A {period} s period makes a high-resolution alarm: ${HIGH_RESOLUTION_ALARM_PRICE:.2f} a month instead of "
            f"${STANDARD_ALARM_PRICE:.2f} (us-east-1). SageMaker publishes its metrics once a minute unless the "
            "endpoint config's MetricsConfig sets MetricPublishFrequencyInSeconds to 10 or 30 (invocation metrics "
            "need EnableEnhancedMetrics too); otherwise most evaluations find no data and the alarm lapses into "
            "INSUFFICIENT_DATA.",
        ))
    return found


def threshold_note(draft: AlarmDraft) -> str:
    """"1000 ms = 1000000 Microseconds": what the typed threshold becomes."""
    if draft.metric not in METRICS:
        return "unit: ?"
    value = typed_number(draft.threshold)
    shown = display_unit(draft.metric)
    if value is None:
        return f"unit: {shown}"
    if METRICS[draft.metric].is_count:
        return f"{value:.10g} (count per {draft.period.strip() or '?'} s period)"
    sent = to_metric_unit(draft.metric, value)
    if sent == value:
        return f"{value:.10g} {shown}"
    return f"{value:.10g} {shown} = {sent:.10g} {metric_unit(draft.metric)} (CloudWatch's unit for {draft.metric})"


def _preset(metric: str, statistic: str, threshold: str, period: str = "300", periods: str = "2", datapoints: str = "") -> dict[str, str]:
    return {
        "metric": metric, "statistic": statistic, "comparison": "GreaterThanThreshold", "threshold": threshold,
        "period": period, "evaluation_periods": periods, "datapoints_to_alarm": datapoints,
    }


PRESETS: dict[str, dict[str, str]] = {
    "5xx": _preset("Invocation5XXErrors", "Sum", "0", period="60", periods="5", datapoints="5"),
    "p99": _preset("ModelLatency", "p99", "1000"),
    "cpu": _preset("CPUUtilization", "Average", "90"),
    "gpu": _preset("GPUUtilization", "Average", "90"),
    "memory": _preset("MemoryUtilization", "Average", "90"),
}
"""Ready-made alarms: any 5XX error for 5 minutes, p99 latency, CPU/GPU/memory above 90 %."""

PRESET_LABELS = {
    "5xx": "any 5XX error for 5 minutes",
    "p99": "p99 latency above 1 s",
    "cpu": "CPU above 90 % (100 % per core)",
    "gpu": "GPU above 90 %",
    "memory": "memory above 90 %",
}


def apply_preset(draft: AlarmDraft, preset: str, extra: dict[str, dict[str, str]] | None = None) -> AlarmDraft:
    """The draft with a preset's metric, statistic and thresholds, and a name to match.

    ``extra``: the user's own presets (from the config file) beside the built-in ones.
    """
    fields = {**PRESETS, **(extra or {})}[preset]
    changed = replace(draft, **fields)
    return replace(changed, name=suggest_name(draft.endpoint, changed.metric, changed.statistic, changed.comparison))


def initial_draft(endpoint: str, variant: str, metric: str | None = None) -> AlarmDraft:
    """The seed's example for this endpoint: ModelLatency, Average, 300 s, 2 periods, >.

    When another metric is selected in the metric panel the draft watches it
    instead, with its catalog statistic and a threshold that fits its unit.
    """
    metric = metric if metric in METRICS else "ModelLatency"
    spec = METRICS[metric]
    statistic = spec.stats[0]
    threshold = {"ms": "1000", "%": "90"}.get(spec.unit, "0" if spec.is_count else "1000")
    return AlarmDraft(
        name=suggest_name(endpoint, metric, statistic),
        endpoint=endpoint,
        variant=variant,
        metric=metric,
        statistic=statistic,
        threshold=threshold,
    )
