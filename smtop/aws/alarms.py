"""CloudWatch alarms for the fleet: read them, create them, acknowledge them.

Acknowledging is AWS-native (see DESIGN.md): a one-time alarm mute rule
(PutAlarmMuteRule, ``at(…)`` plus a duration) that mutes the alarm's actions
for a window while it keeps evaluating.  Who acknowledged, when and why are
written where teammates look: the rule's description and the alarm's tags.
If the rule cannot be created (denied, or an endpoint without the API) the
acknowledgement fails loudly; nothing ever falls back to DisableAlarmActions,
which would silence the alarm until someone remembers to turn it back on.

Mute rules are read with ListAlarmMuteRules (summaries carry no name nor
targets) and one GetAlarmMuteRule per rule, cached by the rule's
LastUpdatedTimestamp, so a steady account costs one list call per poll.

Composite alarms are read in the same DescribeAlarms pages, which return
metric alarms only unless ``AlarmTypes`` names composites too (API
reference, DescribeAlarms).  A composite concerns an endpoint when its rule
names an alarm of that endpoint, directly or through another composite.
Reading composites needs cloudwatch:DescribeAlarms "scoped to *" (same
page); a role scoped narrower still gets its metric alarms, and a notice.
Mute rules target "existing alarms" by name (API reference, MuteTargets),
composites included, so a composite is acknowledged the way a metric alarm is.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from smtop.models.alarm_draft import COMPARISONS, AlarmDraft, display_unit, to_metric_unit, typed_number, validate
from smtop.models.alarm_rule import children as rule_children
from smtop.aws.session import AwsSession
from smtop.models.catalog import INSTANCE_NAMESPACE, INVOCATION_NAMESPACE
from smtop.clock import Clock
from smtop.errors import AccessDeniedError, NotFoundError, SmtopError, ThrottledError, UnsupportedOperationError
from smtop.models.alarms import (
    ACK_RULE_PREFIX,
    ACK_TAG_AT,
    ACK_TAG_BY,
    ACK_TAG_NOTE,
    ACK_TAG_UNTIL,
    ACK_TAGS,
    Acknowledgement,
    Alarm,
    AlarmHistoryItem,
    AlarmsSnapshot,
    ChildAlarm,
    CompositeAlarm,
    MetricAlarm,
    MuteRule,
)

SAGEMAKER_NAMESPACES = frozenset({INVOCATION_NAMESPACE, INSTANCE_NAMESPACE})
ENDPOINT_DIMENSION = "EndpointName"
MAX_RULE_NAME = 255
MAX_NOTE = 200
"""Tag values hold 256 characters; the note is cut to fit with room to spare."""
MAX_RULE_DETAILS = 100
"""GetAlarmMuteRule calls per poll at most (new or changed rules only)."""
HISTORY_LIMIT = 100

_RULE_ARN_NAME = re.compile(r":alarm-mute-rule[:/](?P<name>.+)$")
_ACK_DESCRIPTION = re.compile(r"^Acknowledged by (?P<by>\S+) at (?P<at>\S+) with smtop(?:\. Note: (?P<note>.*))?$", re.S)


def ack_rule_name(alarm: str) -> str:
    """The mute rule that acknowledges ``alarm`` (one per alarm, so a second ack replaces it)."""
    name = ACK_RULE_PREFIX + alarm
    if len(name) <= MAX_RULE_NAME:
        return name
    digest = hashlib.sha256(alarm.encode()).hexdigest()[:12]
    return f"{name[: MAX_RULE_NAME - 13]}-{digest}"


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _dimensions(raw: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(namespace, name, value) of every dimension the alarm watches, metric math included."""
    found = [(raw.get("Namespace", ""), d["Name"], d["Value"]) for d in raw.get("Dimensions") or []]
    for query in raw.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        found += [(metric.get("Namespace", ""), d["Name"], d["Value"]) for d in metric.get("Dimensions") or []]
    return found


def endpoint_of(raw: dict[str, Any], endpoints: frozenset[str]) -> tuple[bool, str | None]:
    """Whether an alarm concerns SageMaker endpoints, and which endpoint it names.

    An alarm belongs in the console when it watches a SageMaker namespace or
    any of its dimensions names an endpoint (an EndpointName dimension in any
    namespace, or a value equal to a known endpoint's name).
    """
    dims = _dimensions(raw)
    namespaces = {raw.get("Namespace")} | {ns for ns, _, _ in dims}
    named = next((value for _, key, value in dims if key == ENDPOINT_DIMENSION), None)
    named = named or next((value for _, _, value in dims if value in endpoints), None)
    return bool(namespaces & SAGEMAKER_NAMESPACES) or named is not None, named


def _alarm_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """What DescribeAlarms says of every alarm, metric or composite."""
    return dict(
        name=raw["AlarmName"],
        state=raw.get("StateValue", "INSUFFICIENT_DATA"),
        arn=raw.get("AlarmArn", ""),
        reason=raw.get("StateReason", ""),
        state_since=_utc(raw.get("StateTransitionedTimestamp") or raw.get("StateUpdatedTimestamp")),
        actions_enabled=bool(raw.get("ActionsEnabled", True)),
        alarm_actions=tuple(raw.get("AlarmActions") or ()),
        description=raw.get("AlarmDescription", ""),
    )


def parse_alarm(raw: dict[str, Any], endpoint: str | None) -> MetricAlarm:
    """A DescribeAlarms MetricAlarm as the console's model."""
    return MetricAlarm(
        **_alarm_fields(raw),
        namespace=raw.get("Namespace", ""),
        metric=raw.get("MetricName", "") or ("(metric math)" if raw.get("Metrics") else ""),
        dimensions=tuple((d["Name"], d["Value"]) for d in raw.get("Dimensions") or ()),
        statistic=raw.get("ExtendedStatistic") or raw.get("Statistic", ""),
        period=int(raw.get("Period") or 0),
        evaluation_periods=int(raw.get("EvaluationPeriods") or 0),
        datapoints_to_alarm=raw.get("DatapointsToAlarm"),
        threshold=raw.get("Threshold"),
        comparison=raw.get("ComparisonOperator", ""),
        unit=raw.get("Unit"),
        endpoint=endpoint,
    )


def parse_composite(raw: dict[str, Any], states: dict[str, str], endpoints: Iterable[str]) -> CompositeAlarm:
    """A DescribeAlarms CompositeAlarm as the console's model.

    ``states``: every alarm's state by name, for the children the rule names.
    """
    rule = raw.get("AlarmRule", "")
    return CompositeAlarm(
        **_alarm_fields(raw),
        rule=rule,
        children=tuple(ChildAlarm(name, states.get(name)) for name in rule_children(rule)),
        endpoints=tuple(sorted(endpoints)),
        actions_suppressor=raw.get("ActionsSuppressor"),
        suppressor_wait=raw.get("ActionsSuppressorWaitPeriod"),
        suppressor_extension=raw.get("ActionsSuppressorExtensionPeriod"),
        actions_suppressed_by=raw.get("ActionsSuppressedBy"),
        actions_suppressed_reason=raw.get("ActionsSuppressedReason") or "",
    )


def concerned_composites(composites: list[dict[str, Any]], metric: list[dict[str, Any]], listed: Iterable[Alarm]) -> list[CompositeAlarm]:
    """The composite alarms whose rule names a listed alarm, directly or through
    other composites, each with the endpoints of the alarms it reaches."""
    states = {raw["AlarmName"]: raw.get("StateValue", "INSUFFICIENT_DATA") for raw in [*metric, *composites]}
    reach: dict[str, set[str]] = {alarm.name: set(alarm.endpoint_names) for alarm in listed}
    named = {raw["AlarmName"]: rule_children(raw.get("AlarmRule", "")) for raw in composites}
    changed = True
    while changed:  # sets only grow: this ends
        changed = False
        for name, children in named.items():
            reached = [child for child in children if child in reach]
            if not reached:
                continue
            endpoints = set().union(*(reach[child] for child in reached))
            if name not in reach or not endpoints <= reach[name]:
                reach.setdefault(name, set()).update(endpoints)
                changed = True
    return [parse_composite(raw, states, reach[raw["AlarmName"]]) for raw in composites if raw["AlarmName"] in reach]


def parse_rule(raw: dict[str, Any]) -> MuteRule:
    """A GetAlarmMuteRule answer as the console's model, with its window computed."""
    schedule = (raw.get("Rule") or {}).get("Schedule") or {}
    expression = schedule.get("Expression", "")
    starts = until = None
    match = re.match(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2})\)$", expression)
    duration = _duration(schedule.get("Duration", ""))
    if match and (schedule.get("Timezone") in (None, "UTC", "Etc/UTC")):
        starts = datetime.fromisoformat(match.group(1)).replace(tzinfo=timezone.utc)
        until = starts + duration if duration is not None else None
    expire = _utc(raw.get("ExpireDate"))
    if expire is not None and (until is None or expire < until):
        until = expire
    return MuteRule(
        name=raw.get("Name", ""),
        arn=raw.get("AlarmMuteRuleArn", ""),
        status=raw.get("Status", ""),
        targets=tuple((raw.get("MuteTargets") or {}).get("AlarmNames") or ()),
        description=raw.get("Description", ""),
        starts=starts,
        until=until,
        one_time=raw.get("MuteType", "ONE_TIME") == "ONE_TIME",
        expression=expression,
    )


def _duration(text: str) -> timedelta | None:
    match = re.match(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", text or "")
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _iso_duration(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    time_part = (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")
    return "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")


def ack_description(by: str, at: datetime, note: str) -> str:
    """The mute rule's description: the acknowledgement in words teammates read."""
    text = f"Acknowledged by {by} at {at.strftime('%Y-%m-%dT%H:%M:%SZ')} with smtop"
    return f"{text}. Note: {note}" if note else text


def parse_ack(alarm: str, rule: MuteRule) -> Acknowledgement | None:
    """The acknowledgement an smtop mute rule records, if it is one."""
    if not rule.by_smtop:
        return None
    match = _ACK_DESCRIPTION.match(rule.description or "")
    if match is None:
        return Acknowledgement(alarm, rule.name, by="?", at=rule.starts, until=rule.until)
    at = datetime.fromisoformat(match.group("at").replace("Z", "+00:00"))
    return Acknowledgement(alarm, rule.name, by=match.group("by"), at=at, until=rule.until, note=match.group("note") or "")


class AlarmMonitor:
    """The fleet's alarms with their mute rules; acknowledge and create.

    Args:
        aws: an open session.
        clock: the one clock (frozen in tests).
    """

    def __init__(self, aws: AwsSession, clock: Clock) -> None:
        self.aws = aws
        self.clock = clock
        self._rules: dict[str, tuple[Any, MuteRule]] = {}
        """arn -> (LastUpdatedTimestamp, rule): GetAlarmMuteRule answers cached."""

    # -- reading ---------------------------------------------------------------
    async def refresh(self, endpoints: Iterable[str] = ()) -> AlarmsSnapshot:
        """Alarms that concern the fleet, with who muted or acknowledged them.

        A failure to read mute rules does not fail the poll: the alarms are
        shown and ``mute_notice`` says why mutes are missing.
        """
        known = frozenset(endpoints)
        metric, composites, composite_notice = await self._describe_alarms()
        alarms: list[Alarm] = []
        for raw in metric:
            concerns, endpoint = endpoint_of(raw, known)
            if concerns:
                alarms.append(parse_alarm(raw, endpoint))
        alarms += concerned_composites(composites, metric, alarms)
        notice = unavailable = None
        try:
            rules = await self.mute_rules()
        except UnsupportedOperationError as error:
            # A region (or partition) without alarm mute rules: the alarms
            # still show, and acknowledging says why it cannot be done.
            unavailable = f"Acknowledging is not available here: {error}"
            notice, rules = unavailable, []
        except (AccessDeniedError, ThrottledError) as error:
            notice = f"Mutes and acknowledgements are not shown: {error}"
            rules = []
        alarms = [self._with_mutes(alarm, rules) for alarm in alarms]
        order = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}
        # In each state, composites (often the ones that page) before the alarms they combine.
        alarms.sort(key=lambda a: (order.get(a.state, 3), not isinstance(a, CompositeAlarm), (a.endpoint_names or ("~",))[0], a.name))
        return AlarmsSnapshot(
            taken_at=self.clock.now(), alarms=tuple(alarms), mute_notice=notice, ack_unavailable=unavailable,
            composite_notice=composite_notice,
        )

    async def _describe_alarms(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
        """Every metric and composite alarm of the region, and why composites are missing, if they are."""
        try:
            metric, composites = await self._describe(["CompositeAlarm", "MetricAlarm"])
        except AccessDeniedError as error:
            metric, _ = await self._describe(["MetricAlarm"])
            return metric, [], f"Composite alarms are not shown: {error} Reading them needs cloudwatch:DescribeAlarms on \"*\"."
        return metric, composites, None

    async def _describe(self, types: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        cloudwatch = await self.aws.client("cloudwatch")
        metric: list[dict[str, Any]] = []
        composites: list[dict[str, Any]] = []
        with self.aws.errors("cloudwatch", "DescribeAlarms"):
            paginator = cloudwatch.get_paginator("describe_alarms")
            async for page in paginator.paginate(AlarmTypes=types, PaginationConfig={"PageSize": 100}):
                metric.extend(page.get("MetricAlarms") or ())
                composites.extend(page.get("CompositeAlarms") or ())
        return metric, composites

    async def mute_rules(self) -> list[MuteRule]:
        """Active and scheduled mute rules with their targets (details cached)."""
        cloudwatch = await self.aws.client("cloudwatch")
        summaries: list[dict[str, Any]] = []
        with self.aws.errors("cloudwatch", "ListAlarmMuteRules"):
            paginator = cloudwatch.get_paginator("list_alarm_mute_rules")
            async for page in paginator.paginate(Statuses=["ACTIVE", "SCHEDULED"]):
                summaries.extend(page.get("AlarmMuteRuleSummaries") or ())
        rules: list[MuteRule] = []
        fetched = 0
        live = set()
        for summary in summaries:
            arn = summary.get("AlarmMuteRuleArn", "")
            live.add(arn)
            stamp = summary.get("LastUpdatedTimestamp")
            cached = self._rules.get(arn)
            if cached is None or cached[0] != stamp:
                if fetched >= MAX_RULE_DETAILS:
                    continue
                name = _rule_name(arn)
                with self.aws.errors("cloudwatch", "GetAlarmMuteRule"):
                    try:
                        raw = await cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName=name)
                    except cloudwatch.exceptions.ResourceNotFoundException:
                        continue  # deleted between the list and the get
                fetched += 1
                cached = self._rules[arn] = (stamp, parse_rule(raw))
            rule = cached[1]
            # The list's status is fresher than a cached detail's.
            rules.append(replace(rule, status=summary.get("Status", rule.status)))
        for arn in set(self._rules) - live:
            del self._rules[arn]
        return rules

    def _with_mutes(self, alarm: Alarm, rules: list[MuteRule]) -> Alarm:
        targeting = [r for r in rules if alarm.name in r.targets]
        if not targeting:
            return alarm
        targeting.sort(key=lambda r: (r.status != "ACTIVE", not r.by_smtop))
        rule = targeting[0]
        ack = next((parse_ack(alarm.name, r) for r in targeting if r.by_smtop), None)
        return replace(alarm, muted_by=rule, ack=ack)

    async def history(self, alarm: str, limit: int = HISTORY_LIMIT) -> list[AlarmHistoryItem]:
        """The alarm's newest history items (DescribeAlarmHistory), newest first."""
        cloudwatch = await self.aws.client("cloudwatch")
        with self.aws.errors("cloudwatch", "DescribeAlarmHistory"):
            # Without AlarmTypes only a metric alarm's history comes back.
            reply = await cloudwatch.describe_alarm_history(
                AlarmName=alarm, AlarmTypes=["CompositeAlarm", "MetricAlarm"], MaxRecords=min(limit, 100),
                ScanBy="TimestampDescending",
            )
        return [
            AlarmHistoryItem(
                timestamp=_utc(item["Timestamp"]),
                kind=item.get("HistoryItemType", ""),
                summary=item.get("HistorySummary", ""),
                data=item.get("HistoryData", ""),
            )
            for item in reply.get("AlarmHistoryItems") or ()
        ]

    async def topics(self) -> list[str]:
        """ARNs of the account's SNS topics in this region (alarm action choices)."""
        sns = await self.aws.client("sns")
        arns: list[str] = []
        with self.aws.errors("sns", "ListTopics"):
            async for page in sns.get_paginator("list_topics").paginate():
                arns.extend(t["TopicArn"] for t in page.get("Topics") or ())
        return sorted(arns)

    async def exists(self, alarm: str) -> bool:
        """Whether an alarm of this name exists (PutMetricAlarm would overwrite it)."""
        cloudwatch = await self.aws.client("cloudwatch")
        with self.aws.errors("cloudwatch", "DescribeAlarms"):
            reply = await cloudwatch.describe_alarms(AlarmNames=[alarm], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        return bool(reply.get("MetricAlarms") or reply.get("CompositeAlarms"))


    # -- changing ----------------------------------------------------------------
    async def put_alarm(self, draft: AlarmDraft) -> None:
        """Create (or replace) the alarm a valid draft describes (PutMetricAlarm)."""
        request = alarm_request(draft)
        cloudwatch = await self.aws.client("cloudwatch")
        with self.aws.errors("cloudwatch", "PutMetricAlarm"):
            await cloudwatch.put_metric_alarm(**request)

    async def acknowledge(self, alarm: Alarm, window: timedelta, note: str = "") -> tuple[Acknowledgement, str | None]:
        """Mute ``alarm``'s actions for ``window`` with a one-time mute rule.

        Returns:
            The acknowledgement, and a warning when the rule is in place but
            the alarm could not be tagged (teammates still see the rule).

        Raises:
            SmtopError: the rule could not be created; the message says the
                alarm was not acknowledged.  Nothing else was changed.
        """
        identity = await self.aws.whoami()
        by = identity.arn or identity.user_id or "unknown"
        now = self.clock.now().astimezone(timezone.utc)
        start = now.replace(second=0, microsecond=0)
        # at() has minute precision: round the duration up so the mute lasts the whole window.
        minutes = max(1, math.ceil((now + window - start).total_seconds() / 60))
        until = start + timedelta(minutes=minutes)
        note = " ".join(note.split())[:MAX_NOTE]
        rule = ack_rule_name(alarm.name)
        cloudwatch = await self.aws.client("cloudwatch")
        try:
            with self.aws.errors("cloudwatch", "PutAlarmMuteRule"):
                await cloudwatch.put_alarm_mute_rule(
                    Name=rule,
                    Description=ack_description(by, now, note),
                    Rule={"Schedule": {"Expression": f"at({start.strftime('%Y-%m-%dT%H:%M')})", "Duration": _iso_duration(minutes), "Timezone": "UTC"}},
                    MuteTargets={"AlarmNames": [alarm.name]},
                    Tags=[{"Key": "smtop:acknowledges", "Value": alarm.name[:256]}],
                )
        except AccessDeniedError as error:
            raise AccessDeniedError(
                f"{error} {alarm.name} was NOT acknowledged; its actions are unchanged.",
                action=error.action, service=error.service, operation=error.operation,
            ) from error
        except SmtopError as error:
            raise type(error)(
                f"{error} {alarm.name} was NOT acknowledged; its actions are unchanged.",
                service=error.service, operation=error.operation,
            ) from error
        ack = Acknowledgement(alarm.name, rule, by=by, at=now, until=until, note=note)
        tags = {ACK_TAG_BY: by, ACK_TAG_AT: now.strftime("%Y-%m-%dT%H:%M:%SZ"), ACK_TAG_UNTIL: until.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if note:
            tags[ACK_TAG_NOTE] = note
        try:
            with self.aws.errors("cloudwatch", "TagResource"):
                await cloudwatch.tag_resource(ResourceARN=alarm.arn, Tags=[{"Key": k, "Value": v[:256]} for k, v in tags.items()])
        except SmtopError as error:
            return ack, f"Acknowledged (mute rule {rule}), but the alarm's tags were not set: {error}"
        return ack, None

    async def unacknowledge(self, alarm: Alarm) -> tuple[list[str], str | None]:
        """Delete smtop's mute rules on ``alarm`` and its acknowledgement tags.

        Returns:
            The names of the rules deleted, and a warning when the alarm's
            acknowledgement tags could not be removed.

        Raises:
            NotFoundError: no smtop rule targets the alarm (rules others made
                are left alone: they are somebody's maintenance window).
        """
        cloudwatch = await self.aws.client("cloudwatch")
        names: list[str] = []
        with self.aws.errors("cloudwatch", "ListAlarmMuteRules"):
            paginator = cloudwatch.get_paginator("list_alarm_mute_rules")
            async for page in paginator.paginate(AlarmName=alarm.name):
                names += [_rule_name(s.get("AlarmMuteRuleArn", "")) for s in page.get("AlarmMuteRuleSummaries") or ()]
        ours = [n for n in names if n.startswith(ACK_RULE_PREFIX)]
        if not ours:
            others = f" (it is muted by {', '.join(names)}, which smtop did not create)" if names else ""
            raise NotFoundError(f"{alarm.name} has no smtop acknowledgement to remove{others}.")
        for name in ours:
            with self.aws.errors("cloudwatch", "DeleteAlarmMuteRule"):
                await cloudwatch.delete_alarm_mute_rule(AlarmMuteRuleName=name)
        try:
            with self.aws.errors("cloudwatch", "UntagResource"):
                await cloudwatch.untag_resource(ResourceARN=alarm.arn, TagKeys=list(ACK_TAGS))
        except SmtopError as error:
            return ours, f"Un-acknowledged (its actions are live again), but its smtop:acked-* tags remain: {error}"
        return ours, None


def _rule_name(arn: str) -> str:
    match = _RULE_ARN_NAME.search(arn)
    return match.group("name") if match else arn


def alarm_request(draft: AlarmDraft) -> dict[str, Any]:
    """The exact PutMetricAlarm parameters for a valid draft: the threshold in
    the metric's own unit (microseconds for latencies), a description that says
    what the alarm watches, actions on both ALARM and OK.

    Raises:
        ValueError: the draft has errors (the form validates first).
    """
    errors = validate(draft)
    if errors:
        raise ValueError(errors[0].message)
    spec = draft.spec
    threshold = to_metric_unit(draft.metric, typed_number(draft.threshold))  # type: ignore[arg-type]
    request: dict[str, Any] = {
        "AlarmName": draft.name,
        "AlarmDescription": draft.description or _alarm_description(draft),
        "Namespace": spec.namespace,
        "MetricName": draft.metric,
        "Dimensions": [
            {"Name": "EndpointName", "Value": draft.endpoint},
            {"Name": "VariantName", "Value": draft.variant},
        ],
        "Period": int(draft.period),
        "EvaluationPeriods": int(draft.evaluation_periods),
        "Threshold": float(threshold),
        "ComparisonOperator": draft.comparison,
        "TreatMissingData": draft.treat_missing_data,
        "ActionsEnabled": True,
        "AlarmActions": [draft.topic_arn] if draft.topic_arn else [],
        "OKActions": [draft.topic_arn] if draft.topic_arn else [],
    }
    if draft.statistic.startswith("p"):
        request["ExtendedStatistic"] = draft.statistic
    else:
        request["Statistic"] = draft.statistic
    if draft.datapoints_to_alarm.strip():
        request["DatapointsToAlarm"] = int(draft.datapoints_to_alarm)
    return request


def _alarm_description(draft: AlarmDraft) -> str:
    unit = display_unit(draft.metric)
    return (
        f"{draft.metric} {draft.statistic} {COMPARISONS[draft.comparison]} {draft.threshold.strip()} {unit} "
        f"for {draft.datapoints_to_alarm.strip() or draft.evaluation_periods} of {draft.evaluation_periods} "
        f"periods of {draft.period} s on {draft.endpoint}/{draft.variant} (created with smtop)"
    )
