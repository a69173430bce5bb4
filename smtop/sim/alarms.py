"""Metric alarms that evaluate, keep history, and honour mute rules.

moto 5.2.5 stores alarms but never evaluates them (they sit in OK forever,
even at creation, where CloudWatch says INSUFFICIENT_DATA), has no alarm
history and no alarm mute rules.  This module is what the simulator answers
those from; :mod:`smtop.sim.patches.alarms` wires it to moto's handlers.

Evaluation is driven by the simulator's clock, not by a thread: alarms are
evaluated at every whole minute of simulated time, and whoever reads alarms
(DescribeAlarms, DescribeAlarmHistory) first catches up on the minutes that
passed since the last evaluation, stamping each transition with the minute it
belongs to.  So a ``--no-traffic`` simulator costs nothing while nobody
looks, the result depends only on the stored data and the clock (the same
``--seed``/``--now`` give the same history), and a test can ask for an
evaluation now (:meth:`AlarmEngine.evaluate_now`).

What an evaluation does, as CloudWatch documents it: the last
``EvaluationPeriods`` whole periods before the evaluation minute are
aggregated with the alarm's statistic; ``DatapointsToAlarm`` (default: all of
them) breaching datapoints make ALARM; missing datapoints follow
``TreatMissingData`` (missing, ignore, breaching, notBreaching).  Metric-math
alarms (``Metrics``) are not evaluated and stay INSUFFICIENT_DATA.

Mute rules follow CloudWatch's "How alarm mute rules work": a mute silences
the actions of every state (OK and INSUFFICIENT_DATA too); an alarm still in
the state it was muted in when the window ends runs that state's actions
then; and deleting the rule unmutes at once, running the actions of an alarm
still in the muted state (API reference, DeleteAlarmMuteRule: "If those
alarms are in an ALARM state, their configured actions will trigger").

Composite alarms (PutCompositeAlarm) follow their children: whenever an
alarm changes state, the composites whose AlarmRule names it are evaluated
again (children before parents), ALARM when the rule is TRUE, OK otherwise;
a new composite is INSUFFICIENT_DATA until its first evaluation, "the only
time that the alarm can be in INSUFFICIENT_DATA state" (API reference,
PutCompositeAlarm).  Composites in a cycle are not evaluated ("the evaluation
of composite alarms stops if CloudWatch detects a cycle").  An actions
suppressor in ALARM keeps a composite's ALARM actions from running
(ActionsSuppressedBy ``Alarm``); the wait and extension periods are stored
and returned, not simulated.  A composite's StateReason names the child that
changed last; the API reference says only "an explanation for the alarm
state", so that wording is the simulator's.

Simplifications, on purpose: an alarm's actions are recorded in its history
("Successfully executed action …", or muted by a rule) but nothing is
published to SNS; recurring (``cron``) mute rules are matched minute by
minute over their duration, which is exact but slow for day-long windows.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smtop.models.alarm_rule import AlarmRuleError, Rule, alarm_name, parse
from smtop.sim.metric_store import MetricStore

EVALUATION_INTERVAL = 60
"""CloudWatch evaluates metric alarms once a minute."""

MAX_CATCH_UP = 15
"""Evaluation minutes replayed at most after a quiet spell (older ones are skipped)."""

HISTORY_PER_ALARM = 500
"""History items kept per alarm (CloudWatch keeps 30 days; memory must stay bounded)."""

MAX_MUTE_TARGETS = 100
MIN_MUTE_MINUTES = 1
MAX_MUTE_MINUTES = 15 * 24 * 60

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
_COMPARE_WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


class AlarmLike(Protocol):
    """The attributes of moto's ``Alarm`` the evaluator reads and writes."""

    name: str
    alarm_arn: str
    rule: str | None
    """A composite alarm's AlarmRule; None for a metric alarm."""
    namespace: str
    metric_name: str
    dimensions: list[Any]
    statistic: str | None
    extended_statistic: str | None
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int | None
    threshold: float
    comparison_operator: str
    treat_missing_data: str | None
    unit: str | None
    metric_data_queries: list[Any]
    actions_enabled: bool
    alarm_actions: list[str]
    ok_actions: list[str]
    insufficient_data_actions: list[str]
    state_value: str
    state_reason: str
    state_reason_data: str
    state_updated_timestamp: datetime
    configuration_updated_timestamp: datetime


class AlarmInputError(ValueError):
    """A request CloudWatch would refuse; ``code`` is its error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- evaluation ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one evaluation concluded."""

    state: str
    reason: str
    reason_data: str


def _stamp(epoch: float) -> str:
    """CloudWatch's timestamp style inside StateReasonData."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _short(epoch: float) -> str:
    """CloudWatch's timestamp style inside StateReason (dd/MM/yy HH:mm:ss)."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%d/%m/%y %H:%M:%S")


def _naive(epoch: float) -> datetime:
    """moto keeps naive UTC datetimes on its models."""
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


def _dims(alarm: AlarmLike) -> list[tuple[str, str]]:
    return [(d.name, d.value) for d in alarm.dimensions]


def evaluate(alarm: AlarmLike, store: MetricStore, at: float) -> Verdict | None:
    """Evaluate ``alarm`` at the evaluation moment ``at`` against ``store``.

    Returns ``None`` for alarms the simulator cannot evaluate (metric math,
    anomaly bands), which then keep their state.
    """
    compare = _COMPARE.get(alarm.comparison_operator)
    if alarm.metric_data_queries or compare is None or not alarm.metric_name:
        return None
    period = int(alarm.period)
    count = int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or count)
    stat = alarm.extended_statistic or alarm.statistic or "Average"
    end = math.floor(at / period) * period
    start = end - count * period
    times, values = store.series_data(
        alarm.namespace, alarm.metric_name, _dims(alarm), stat, period, start, end, alarm.unit or None
    )
    points = dict(zip(times, values))
    slots = [start + i * period for i in range(count)]
    treat = alarm.treat_missing_data or "missing"
    breaching = 0
    present = 0
    for slot in slots:
        value = points.get(float(slot))
        if value is None:
            breaching += treat == "breaching"
            continue
        present += 1
        breaching += compare(value, float(alarm.threshold))
    if breaching >= needed:
        state = "ALARM"
    elif present == 0 and treat in ("missing", "ignore"):
        state = alarm.state_value if treat == "ignore" else "INSUFFICIENT_DATA"
    else:
        state = "OK"
    reason = _reason(alarm, state, points, breaching, present, needed, count)
    data = {
        "version": "1.0",
        "queryDate": _stamp(at),
        "startDate": _stamp(start),
        ("extendedStatistic" if alarm.extended_statistic else "statistic"): stat,
        "period": period,
        "recentDatapoints": [points[t] for t in sorted(points)],
        "threshold": float(alarm.threshold),
        "evaluatedDatapoints": [
            {"timestamp": _stamp(t), "value": points[t]} for t in sorted(points, reverse=True)
        ],
    }
    if alarm.unit:
        data["unit"] = alarm.unit
    return Verdict(state, reason, json.dumps(data, separators=(",", ":")))


def _reason(alarm: AlarmLike, state: str, points: dict[float, float], breaching: int, present: int, needed: int, count: int) -> str:
    if present == 0:
        if state == "INSUFFICIENT_DATA":
            return f"Insufficient Data: {count} datapoint{'s' if count != 1 else ''} were unknown."
        return f"Missing data treated as {alarm.treat_missing_data} for all {count} datapoints."
    listed = ", ".join(f"{points[t]:.10g} ({_short(t)})" for t in sorted(points, reverse=True))
    words = _COMPARE_WORDS[alarm.comparison_operator]
    if state == "ALARM":
        return (
            f"Threshold Crossed: {breaching} out of the last {count} datapoints [{listed}] were {words} "
            f"the threshold ({float(alarm.threshold):.10g}) (minimum {needed} datapoint"
            f"{'s' if needed != 1 else ''} for OK -> ALARM transition)."
        )
    return (
        f"Threshold Crossed: {present - breaching} out of the last {count} datapoints [{listed}] were not "
        f"{words} the threshold ({float(alarm.threshold):.10g}) (minimum 1 datapoint for ALARM -> OK transition)."
    )


# -- mute rules -----------------------------------------------------------------

_AT = re.compile(r"^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_NAMES = {
    **{m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)},
    **{d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])},
}
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def parse_duration(text: str) -> timedelta:
    """ISO 8601 duration of a mute rule (PT1M … P15D)."""
    match = _DURATION.match(text or "")
    if not match or not any(match.groups()) or text.endswith("T"):
        raise AlarmInputError("ValidationError", f"Duration {text!r} is not an ISO 8601 duration such as PT1H or P2DT12H.")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not timedelta(minutes=MIN_MUTE_MINUTES) <= duration <= timedelta(minutes=MAX_MUTE_MINUTES):
        raise AlarmInputError("ValidationError", f"Duration {text} must be between PT1M and P15D.")
    return duration


def _cron_field(text: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        if part in ("*", "?"):
            values.update(range(low, high + 1))
            continue
        bounds = [_NAMES.get(p, p) for p in part.split("-")]
        try:
            first, last = (int(bounds[0]), int(bounds[-1]))
        except ValueError:
            raise AlarmInputError("ValidationError", f"Invalid cron field {text!r}.") from None
        if len(bounds) > 2 or not low <= first <= last <= high:
            raise AlarmInputError("ValidationError", f"Invalid cron field {text!r}.")
        values.update(range(first, last + 1))
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule expression: one-time (``at``) or recurring (``cron``)."""

    expression: str
    duration: timedelta
    zone: timezone | ZoneInfo
    at: datetime | None = None
    cron: tuple[frozenset[int], ...] = ()

    @classmethod
    def parse(cls, expression: str, duration: str, zone_name: str | None) -> Schedule:
        try:
            zone = ZoneInfo(zone_name) if zone_name and zone_name != "UTC" else timezone.utc
        except (ZoneInfoNotFoundError, ValueError):
            raise AlarmInputError("ValidationError", f"Unknown time zone {zone_name!r}.") from None
        length = parse_duration(duration)
        match = _AT.match(expression or "")
        if match:
            try:
                moment = datetime(*(int(g) for g in match.groups()), tzinfo=zone)
            except ValueError:
                raise AlarmInputError("ValidationError", f"Invalid date in {expression!r}.") from None
            return cls(expression, length, zone, at=moment)
        match = _CRON.match(expression or "")
        fields = match.group(1).split() if match else []
        if len(fields) != 5:
            raise AlarmInputError(
                "ValidationError",
                f"Schedule expression {expression!r} must be at(yyyy-MM-ddThh:mm) or cron(minutes hours day month weekday).",
            )
        cron = tuple(_cron_field(f, lo, hi) for f, (lo, hi) in zip(fields, _CRON_RANGES))
        return cls(expression, length, zone, cron=cron)

    @property
    def one_time(self) -> bool:
        return self.at is not None

    def _fires_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        minute, hour, day, month, weekday = self.cron
        return (
            local.minute in minute
            and local.hour in hour
            and local.day in day
            and local.month in month
            and (local.weekday() + 1) % 7 in weekday
        )

    def active_window(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The [start, end) window containing ``now``, if any."""
        if self.at is not None:
            end = self.at + self.duration
            return (self.at, end) if self.at <= now < end else None
        probe = now.replace(second=0, microsecond=0)
        for _ in range(int(self.duration.total_seconds() // 60) + 1):
            if self._fires_at(probe) and now < probe + self.duration:
                return probe, probe + self.duration
            probe -= timedelta(minutes=1)
        return None


@dataclass
class MuteRule:
    """An alarm mute rule as PutAlarmMuteRule stored it."""

    name: str
    arn: str
    description: str | None
    schedule: Schedule
    timezone_name: str | None
    targets: tuple[str, ...]
    tags: list[dict[str, str]]
    start_date: datetime | None
    expire_date: datetime | None
    last_updated: datetime

    def status(self, now: datetime) -> str:
        """SCHEDULED, ACTIVE or EXPIRED at ``now`` (what Get/ListAlarmMuteRules report)."""
        if self.expire_date is not None and now >= self.expire_date:
            return "EXPIRED"
        if self.start_date is not None and now < self.start_date:
            return "SCHEDULED"
        if self.schedule.active_window(now) is not None:
            return "ACTIVE"
        if self.schedule.one_time and now >= self.schedule.at + self.schedule.duration:
            return "EXPIRED"
        return "SCHEDULED"

    def describe(self, now: datetime) -> dict[str, Any]:
        """The GetAlarmMuteRule answer."""
        schedule: dict[str, Any] = {"Expression": self.schedule.expression, "Duration": _iso_duration(self.schedule.duration)}
        if self.timezone_name:
            schedule["Timezone"] = self.timezone_name
        answer: dict[str, Any] = {
            "Name": self.name,
            "AlarmMuteRuleArn": self.arn,
            "Rule": {"Schedule": schedule},
            "MuteTargets": {"AlarmNames": list(self.targets)},
            "Status": self.status(now),
            "LastUpdatedTimestamp": self.last_updated,
            "MuteType": "ONE_TIME" if self.schedule.one_time else "RECURRING",
        }
        if self.description is not None:
            answer["Description"] = self.description
        if self.start_date is not None:
            answer["StartDate"] = self.start_date
        if self.expire_date is not None:
            answer["ExpireDate"] = self.expire_date
        return answer

    def summary(self, now: datetime) -> dict[str, Any]:
        """The ListAlarmMuteRules entry (the service's summary has no name nor targets)."""
        full = self.describe(now)
        keys = ("AlarmMuteRuleArn", "ExpireDate", "Status", "MuteType", "LastUpdatedTimestamp")
        return {k: full[k] for k in keys if k in full}


def _iso_duration(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    time_part = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")


# -- one region's alarms --------------------------------------------------------


@dataclass
class RegionAlarms:
    """What the simulator keeps beside moto's alarms for one account and region."""

    account: str
    region: str
    history: dict[str, deque] = field(default_factory=dict)
    rules: dict[str, MuteRule] = field(default_factory=dict)
    last_tick: float | None = None
    muted: dict[str, tuple[str, str]] = field(default_factory=dict)
    """alarm -> (the state whose actions a rule muted, that rule): run them if the mute ends first."""

    def record(self, alarm: str, at: float, kind: str, summary: str, data: dict[str, Any], alarm_type: str = "MetricAlarm") -> None:
        items = self.history.setdefault(alarm, deque(maxlen=HISTORY_PER_ALARM))
        items.append(
            {
                "AlarmName": alarm,
                "AlarmType": alarm_type,
                "Timestamp": datetime.fromtimestamp(at, timezone.utc),
                "HistoryItemType": kind,
                "HistorySummary": summary,
                "HistoryData": json.dumps(data, separators=(",", ":")),
            }
        )

    def history_items(self) -> Iterator[dict[str, Any]]:
        for items in self.history.values():
            yield from items

    def muting_rule(self, alarm: str, now: datetime) -> MuteRule | None:
        """The first ACTIVE rule that targets ``alarm``, if any."""
        for rule in self.rules.values():
            if alarm in rule.targets and rule.status(now) == "ACTIVE":
                return rule
        return None


class AlarmEngine:
    """Evaluates the alarms of every account and region on the simulator's clock.

    Args:
        clock: Callable returning the simulated epoch seconds.
        store_of: ``(account, region) -> MetricStore`` (the indexed store).
        alarms_of: ``(account, region) -> {name: alarm}`` (moto's alarms).
    """

    def __init__(
        self,
        clock: Callable[[], float],
        store_of: Callable[[str, str], MetricStore],
        alarms_of: Callable[[str, str], dict[str, AlarmLike]],
    ) -> None:
        self.clock = clock
        self._store_of = store_of
        self._alarms_of = alarms_of
        self._regions: dict[tuple[str, str], RegionAlarms] = {}
        # One lock for everything: evaluation is milliseconds, and requests
        # for alarms must never see a half-applied transition.
        self.lock = threading.RLock()

    def region(self, account: str, region: str) -> RegionAlarms:
        with self.lock:
            state = self._regions.get((account, region))
            if state is None:
                state = self._regions[(account, region)] = RegionAlarms(account, region)
            return state

    def catch_up(self, account: str, region: str) -> None:
        """Evaluate at every whole minute passed since the last evaluation."""
        with self.lock:
            state = self.region(account, region)
            latest = math.floor(self.clock() / EVALUATION_INTERVAL) * EVALUATION_INTERVAL
            first = latest if state.last_tick is None else state.last_tick + EVALUATION_INTERVAL
            first = max(first, latest - (MAX_CATCH_UP - 1) * EVALUATION_INTERVAL)
            for tick in range(int(first), int(latest) + 1, EVALUATION_INTERVAL):
                self._evaluate_all(state, float(tick))
            state.last_tick = max(latest, state.last_tick or latest)

    def replay(self, account: str, region: str, since: float) -> None:
        """Evaluate every minute from ``since`` to now (the demo fleet's past),
        so alarm history already shows the canary's earlier bad spells."""
        with self.lock:
            state = self.region(account, region)
            latest = math.floor(self.clock() / EVALUATION_INTERVAL) * EVALUATION_INTERVAL
            first = math.ceil(since / EVALUATION_INTERVAL) * EVALUATION_INTERVAL
            for tick in range(int(first), int(latest) + 1, EVALUATION_INTERVAL):
                self._evaluate_all(state, float(tick))
            state.last_tick = latest

    def evaluate_now(self, account: str, region: str, names: Iterable[str] | None = None) -> int:
        """Evaluate (some) alarms at this very moment; returns how many were evaluated."""
        with self.lock:
            state = self.region(account, region)
            return self._evaluate_all(state, self.clock(), set(names) if names is not None else None)

    def _evaluate_all(self, state: RegionAlarms, at: float, only: set[str] | None = None) -> int:
        store = self._store_of(state.account, state.region)
        done = 0
        for alarm in list(self._alarms_of(state.account, state.region).values()):
            if only is not None and alarm.name not in only:
                continue
            created = alarm.configuration_updated_timestamp.replace(tzinfo=timezone.utc).timestamp()
            if created > at:
                continue
            verdict = evaluate(alarm, store, at)
            if verdict is None:
                continue
            done += 1
            if verdict.state != alarm.state_value:
                self.transition(state, alarm, verdict, at, cascade=False)
        self.evaluate_composites(state, at)
        self.release_muted(state, at)
        return done

    def evaluate_composites(self, state: RegionAlarms, at: float) -> None:
        """Bring every composite alarm in line with its children's states, children first."""
        alarms = self._alarms_of(state.account, state.region)
        for alarm in _composites_in_order(alarms):
            created = alarm.configuration_updated_timestamp.replace(tzinfo=timezone.utc).timestamp()
            if created > at:
                continue
            verdict = composite_verdict(alarm, alarms, at)
            if verdict is not None and verdict.state != alarm.state_value:
                self.transition(state, alarm, verdict, at, cascade=False)

    def release_muted(self, state: RegionAlarms, at: float) -> None:
        """Run the muted actions of alarms whose mute is over (window ended or
        rule deleted) while they are still in the state they were muted in."""
        alarms = self._alarms_of(state.account, state.region)
        now = datetime.fromtimestamp(at, timezone.utc)
        for name, (muted_state, _rule) in list(state.muted.items()):
            alarm = alarms.get(name)
            if alarm is None or alarm.state_value != muted_state:
                del state.muted[name]  # it moved on: that transition had its own actions
            elif state.muting_rule(name, now) is None:
                del state.muted[name]
                self._act(state, alarm, muted_state, at)

    def transition(self, state: RegionAlarms, alarm: AlarmLike, verdict: Verdict, at: float, cascade: bool = True) -> None:
        """Move ``alarm`` to the verdict's state, with its history and actions;
        ``cascade``: then re-evaluate the composite alarms (they follow their children)."""
        old = (alarm.state_value, alarm.state_reason)
        alarm.state_value = verdict.state
        alarm.state_reason = verdict.reason
        alarm.state_reason_data = verdict.reason_data
        alarm.state_updated_timestamp = _naive(at)
        alarm.state_transitioned_timestamp = _naive(at)
        state.record(
            alarm.name,
            at,
            "StateUpdate",
            f"Alarm updated from {old[0]} to {verdict.state}",
            {
                "version": "1.0",
                "oldState": {"stateValue": old[0], "stateReason": old[1]},
                "newState": {
                    "stateValue": verdict.state,
                    "stateReason": verdict.reason,
                    "stateReasonData": json.loads(verdict.reason_data),
                },
            },
            alarm_type=_alarm_type(alarm),
        )
        self._act(state, alarm, verdict.state, at)
        if cascade:
            self.evaluate_composites(state, at)

    def _act(self, state: RegionAlarms, alarm: AlarmLike, new_state: str, at: float) -> None:
        actions = {
            "ALARM": alarm.alarm_actions,
            "OK": alarm.ok_actions,
            "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
        }[new_state] or []
        if alarm.rule:
            suppressor = _suppressor_in_alarm(alarm, self._alarms_of(state.account, state.region)) if new_state == "ALARM" else None
            alarm.actions_suppressed_by = "Alarm" if suppressor else None
            alarm.actions_suppressed_reason = f"Alarm {suppressor} is in ALARM state" if suppressor else None
            if suppressor:
                return
        if not actions or not alarm.actions_enabled:
            return
        rule = state.muting_rule(alarm.name, datetime.fromtimestamp(at, timezone.utc))
        if rule is not None:
            state.muted[alarm.name] = (new_state, rule.name)
        else:
            state.muted.pop(alarm.name, None)
        for action in actions:
            if rule is not None:
                summary = f"Action {action} was muted by alarm mute rule {rule.name}"
                data = {"actionState": "Muted", "muteRule": rule.arn, "notificationResource": action}
            else:
                summary = f"Successfully executed action {action}"
                data = {"actionState": "Succeeded", "notificationResource": action}
            data["stateUpdateTimestamp"] = int(at * 1000)
            state.record(alarm.name, at, "Action", summary, data, alarm_type=_alarm_type(alarm))


# -- composite alarms ---------------------------------------------------------------


def _alarm_type(alarm: AlarmLike) -> str:
    """DescribeAlarmHistory's AlarmType of an alarm (moto keeps composites as alarms with a rule)."""
    return "CompositeAlarm" if alarm.rule else "MetricAlarm"

_RULES: dict[str, Rule | None] = {}
"""Parsed AlarmRules by text (None: unparseable, never evaluated)."""


def composite_rule(text: str) -> Rule | None:
    if text not in _RULES:
        if len(_RULES) > 10_000:
            _RULES.clear()
        try:
            _RULES[text] = parse(text)
        except AlarmRuleError:
            _RULES[text] = None
    return _RULES[text]


def _composites_in_order(alarms: dict[str, AlarmLike]) -> list[AlarmLike]:
    """Composite alarms, each after the composites its rule names; those in a
    cycle, or depending on one, left out (their evaluation stops)."""
    composites = {name: a for name, a in alarms.items() if a.rule}
    ordered: list[AlarmLike] = []
    marks: dict[str, str] = {}  # "visiting", "done" or "cyclic"

    def visit(name: str) -> bool:
        mark = marks.get(name)
        if mark is not None:
            return mark == "done"  # "visiting" again: a cycle
        marks[name] = "visiting"
        rule = composite_rule(composites[name].rule)
        ok = all([visit(child) for child in (rule.children if rule else ()) if child in composites])
        marks[name] = "done" if ok else "cyclic"
        if ok:
            ordered.append(composites[name])
        return ok

    for name in composites:
        visit(name)
    return ordered


def composite_verdict(alarm: AlarmLike, alarms: dict[str, AlarmLike], at: float) -> Verdict | None:
    """ALARM when the composite's rule is TRUE over its children's states, else OK."""
    rule = composite_rule(alarm.rule)
    if rule is None:
        return None

    def state_of(name: str) -> str | None:
        child = alarms.get(name)
        return child.state_value if child is not None else None

    state = "ALARM" if rule.holds(state_of) else "OK"
    named = [alarms[name] for name in rule.children if name in alarms]
    if not named:
        return Verdict(state, f"The alarm rule evaluated to {'TRUE' if state == 'ALARM' else 'FALSE'}.", "{}")
    latest = max(named, key=lambda child: getattr(child, "state_transitioned_timestamp", child.state_updated_timestamp))
    changed = getattr(latest, "state_transitioned_timestamp", latest.state_updated_timestamp).replace(tzinfo=timezone.utc)
    reason = f"{latest.alarm_arn} transitioned to {latest.state_value} at {changed:%A %d %B, %Y %H:%M:%S} UTC"
    data = {
        "triggeringAlarms": [
            {
                "arn": child.alarm_arn,
                "state": {
                    "value": child.state_value,
                    "timestamp": _stamp(getattr(child, "state_transitioned_timestamp", child.state_updated_timestamp).replace(tzinfo=timezone.utc).timestamp()),
                },
            }
            for child in named
        ]
    }
    return Verdict(state, reason, json.dumps(data, separators=(",", ":")))


def _suppressor_in_alarm(alarm: AlarmLike, alarms: dict[str, AlarmLike]) -> str | None:
    """The name of the composite's actions suppressor when that alarm is in ALARM."""
    reference = getattr(alarm, "actions_suppressor", None)
    suppressor = alarms.get(alarm_name(reference)) if reference else None
    return suppressor.name if suppressor is not None and suppressor.state_value == "ALARM" else None
