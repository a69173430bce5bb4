"""CloudWatch alarms as the console shows them: state, mutes, acknowledgements, history.

Built by :mod:`smtop.aws.alarms` from DescribeAlarms, the alarm mute rules
and alarm tags; read by the alarms panel, the header, the endpoint table and
batch mode.  Every string that came from AWS is untrusted: renderers make it
safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FIRING = "ALARM"

ACK_TAG_BY = "smtop:acked-by"
ACK_TAG_AT = "smtop:acked-at"
ACK_TAG_UNTIL = "smtop:muted-until"
ACK_TAG_NOTE = "smtop:ack-note"
ACK_TAGS = (ACK_TAG_BY, ACK_TAG_AT, ACK_TAG_UNTIL, ACK_TAG_NOTE)
"""Alarm tags an acknowledgement sets, so teammates see it on the alarm itself."""

ACK_RULE_PREFIX = "smtop-ack-"
"""Mute rules smtop creates to acknowledge an alarm start with this."""


@dataclass(frozen=True, slots=True)
class MuteRule:
    """An alarm mute rule (GetAlarmMuteRule), reduced to what the console shows."""

    name: str
    arn: str
    status: str
    """SCHEDULED, ACTIVE or EXPIRED."""
    targets: tuple[str, ...] = ()
    description: str = ""
    starts: datetime | None = None
    until: datetime | None = None
    """When the current (or next, for a one-time rule the only) window ends."""
    one_time: bool = True
    expression: str = ""

    @property
    def by_smtop(self) -> bool:
        return self.name.startswith(ACK_RULE_PREFIX)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """Who acknowledged an alarm, when, why, and until when its actions are muted."""

    alarm: str
    rule: str
    by: str
    at: datetime | None
    until: datetime | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Alarm:
    """What every alarm the console lists has: state, actions, and who muted it."""

    name: str
    state: str
    arn: str = ""
    reason: str = ""
    state_since: datetime | None = None
    """When the alarm entered its current state (StateTransitionedTimestamp)."""
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()
    description: str = ""
    muted_by: MuteRule | None = None
    """An ACTIVE (or SCHEDULED) mute rule targeting this alarm."""
    ack: Acknowledgement | None = None

    @property
    def firing(self) -> bool:
        return self.state == FIRING

    @property
    def muted_until(self) -> datetime | None:
        if self.ack is not None and self.ack.until is not None:
            return self.ack.until
        return self.muted_by.until if self.muted_by is not None else None

    @property
    def endpoint_names(self) -> tuple[str, ...]:
        """The SageMaker endpoints this alarm concerns."""
        return ()


@dataclass(frozen=True, slots=True)
class MetricAlarm(Alarm):
    """One metric alarm (DescribeAlarms' MetricAlarm), plus what smtop learnt about it."""

    namespace: str = ""
    metric: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()
    statistic: str = ""
    period: int = 0
    evaluation_periods: int = 0
    datapoints_to_alarm: int | None = None
    threshold: float | None = None
    comparison: str = ""
    unit: str | None = None
    endpoint: str | None = None
    """The SageMaker endpoint the alarm watches, when its dimensions name one."""

    @property
    def endpoint_names(self) -> tuple[str, ...]:
        return (self.endpoint,) if self.endpoint else ()


@dataclass(frozen=True, slots=True)
class ChildAlarm:
    """An alarm a composite alarm's rule names, with its state when last read."""

    name: str
    state: str | None
    """None: not among the alarms DescribeAlarms returned (deleted, or out of reach)."""


@dataclass(frozen=True, slots=True)
class CompositeAlarm(Alarm):
    """One composite alarm (DescribeAlarms' CompositeAlarm): a rule over other alarms' states."""

    rule: str = ""
    """The AlarmRule, as written (``ALARM(a) AND NOT ALARM(b)``)."""
    children: tuple[ChildAlarm, ...] = ()
    endpoints: tuple[str, ...] = ()
    """The endpoints of the alarms its rule names (through nested composites too)."""
    actions_suppressor: str | None = None
    """The alarm whose ALARM state suppresses this one's actions (its ARN)."""
    suppressor_wait: int | None = None
    suppressor_extension: int | None = None
    actions_suppressed_by: str | None = None
    """Alarm, WaitPeriod or ExtensionPeriod while actions are suppressed."""
    actions_suppressed_reason: str = ""

    @property
    def endpoint_names(self) -> tuple[str, ...]:
        return self.endpoints

    @property
    def firing_children(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.children if c.state == FIRING)


@dataclass(frozen=True, slots=True)
class AlarmsSnapshot:
    """Every alarm that concerns the fleet, after one alarms poll."""

    taken_at: datetime
    alarms: tuple[Alarm, ...] = ()
    mute_notice: str | None = None
    """Why mute rules could not be read (denied, not supported), or None."""
    ack_unavailable: str | None = None
    """Why acknowledging cannot work here (the endpoint has no alarm mute rules), or None."""
    composite_notice: str | None = None
    """Why composite alarms are missing (DescribeAlarms not allowed on *), or None."""

    @property
    def firing(self) -> tuple[Alarm, ...]:
        return tuple(a for a in self.alarms if a.firing)

    @property
    def firing_endpoints(self) -> frozenset[str]:
        return frozenset(e for a in self.alarms if a.firing for e in a.endpoint_names)

    def for_endpoint(self, endpoint: str) -> tuple[Alarm, ...]:
        return tuple(a for a in self.alarms if endpoint in a.endpoint_names)

    def get(self, name: str) -> Alarm | None:
        return next((a for a in self.alarms if a.name == name), None)


@dataclass(frozen=True, slots=True)
class AlarmHistoryItem:
    """One DescribeAlarmHistory item."""

    timestamp: datetime
    kind: str
    """StateUpdate, ConfigurationUpdate or Action."""
    summary: str
    data: str = ""
