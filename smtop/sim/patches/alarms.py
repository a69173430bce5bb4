"""CloudWatch alarms the way the service behaves, on top of moto's alarm store.

What moto 5.2.5 gets wrong or lacks, and what this changes (handlers only;
moto still parses and serializes every protocol):
- PutMetricAlarm: a new alarm starts INSUFFICIENT_DATA ("Unchecked: Initial
  alarm creation"), not OK; updating an alarm keeps its state; Period,
  EvaluationPeriods and DatapointsToAlarm are validated as the service does;
  each call is a ConfigurationUpdate in the alarm's history.
- Alarms evaluate against the indexed metric store (:mod:`smtop.sim.alarms`).
- DescribeAlarms combines its filters (moto applies only the first one it
  finds), returns metric alarms only unless AlarmTypes asks for composite
  ones, sorts by name and pages with MaxRecords (default 50, at most 100)
  and NextToken.
- DescribeAlarmHistory, SetAlarmState's history, and the alarm mute rules
  (Put/Get/List/DeleteAlarmMuteRule) are implemented here.
- PutCompositeAlarm (moto stores an ``AlarmRule`` only through its
  PutMetricAlarm handler and has no PutCompositeAlarm): validated as the API
  reference describes the rule (:mod:`smtop.models.alarm_rule`), the children must
  exist, an actions suppressor needs its wait and extension periods; the
  composite starts INSUFFICIENT_DATA, follows its children, has history, and
  DescribeAlarms returns every CompositeAlarm field.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch import exceptions as cw_errors
from moto.cloudwatch.models import cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.utilities.utils import get_partition

from smtop.models.alarm_rule import AlarmRuleError, alarm_name, parse
from smtop.sim.alarms import MAX_MUTE_TARGETS, STATES, AlarmEngine, AlarmInputError, MuteRule, RegionAlarms, Schedule, Verdict
from smtop.sim.clock import SimClock
from smtop.sim.metric_store import to_epoch
from smtop.sim.patches.cloudwatch import MetricStores
from smtop.sim.patches.handlers import Handlers

DESCRIBE_DEFAULT_PAGE = 50
HISTORY_DEFAULT_PAGE = 100
MUTE_RULES_DEFAULT_PAGE = 100
MAX_PAGE = 100


EVALUATE_PATH = "/_smtop/alarms/evaluate"
"""POST here (``?region=…&account=…``) evaluates a region's alarms at once: for tests and demos."""

_engine: AlarmEngine | None = None

# moto's own handlers, which the ones here call for what moto does right.
_moto_put_metric_alarm = CloudWatchResponse.put_metric_alarm
_moto_set_alarm_state = CloudWatchResponse.set_alarm_state


def start_engine(stores: MetricStores, clock: SimClock) -> AlarmEngine:
    """The process-wide engine the alarm handlers evaluate with, on ``stores`` and ``clock``."""
    global _engine
    _engine = AlarmEngine(
        clock.time,
        lambda account, region: stores.get(account, region),
        lambda account, region: cloudwatch_backends[account][region].alarms,
    )
    return _engine


def engine() -> AlarmEngine:
    """The process-wide engine (moto's backends are process-wide too)."""
    if _engine is None:
        raise RuntimeError("smtop.sim.patches.alarms.start_engine() has not run")
    return _engine


def evaluation_route(app: Any) -> Any:
    """Wrap a WSGI app so ``POST /_smtop/alarms/evaluate`` evaluates alarms now.

    CloudWatch evaluates once a minute; a test that just put data should not
    wait for the next minute, so it asks here.  Answers ``{"evaluated": N}``.
    """
    from urllib.parse import parse_qs

    from moto.core import DEFAULT_ACCOUNT_ID

    def route(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != EVALUATE_PATH:
            return app(environ, start_response)
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"POST only\n"]
        region, account = query.get("region", "us-east-1"), query.get("account", DEFAULT_ACCOUNT_ID)
        count = engine().evaluate_now(account, region)
        body = json.dumps({"evaluated": count}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return route


class InvalidNextToken(cw_errors.CloudWatchException):
    code = "InvalidNextToken"


class LimitExceededFault(cw_errors.CloudWatchException):
    code = "LimitExceeded"


def _error(error: AlarmInputError) -> Exception:
    kinds = {
        "ValidationError": cw_errors.ValidationError,
        "InvalidParameterValue": cw_errors.InvalidParameterValue,
        "InvalidParameterCombination": cw_errors.InvalidParameterCombination,
    }
    return kinds.get(error.code, cw_errors.ValidationError)(error.message)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except (ValueError, KeyError, TypeError):
        raise InvalidNextToken("The service couldn't process the NextToken.") from None


def _page(items: list[Any], params: dict[str, Any], default: int) -> tuple[list[Any], str | None]:
    size = params.get("MaxRecords") or default
    if not 1 <= int(size) <= MAX_PAGE:
        raise cw_errors.ValidationError(f"The value {size} for parameter MaxRecords is not between 1 and {MAX_PAGE}.")
    start = _offset(params.get("NextToken"))
    page = items[start : start + int(size)]
    more = start + int(size) < len(items)
    return page, (_token(start + int(size)) if more else None)


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def metric_alarm(alarm: Any) -> dict[str, Any]:
    """One MetricAlarms entry of DescribeAlarms, as the service returns it."""
    entry: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "AlarmConfigurationUpdatedTimestamp": _aware(alarm.configuration_updated_timestamp),
        "ActionsEnabled": bool(alarm.actions_enabled),
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "StateValue": alarm.state_value,
        "StateReason": alarm.state_reason,
        "StateReasonData": alarm.state_reason_data,
        "StateUpdatedTimestamp": _aware(alarm.state_updated_timestamp),
        "StateTransitionedTimestamp": _aware(getattr(alarm, "state_transitioned_timestamp", alarm.state_updated_timestamp)),
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "Threshold": float(alarm.threshold) if alarm.threshold is not None else None,
        "ComparisonOperator": alarm.comparison_operator,
        "TreatMissingData": alarm.treat_missing_data or "missing",
    }
    optional = {
        "AlarmDescription": alarm.description,
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "Statistic": alarm.statistic,
        "ExtendedStatistic": alarm.extended_statistic,
        "Period": int(alarm.period) if alarm.period else None,
        "Unit": alarm.unit,
        "DatapointsToAlarm": int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        "ThresholdMetricId": alarm.threshold_metric_id,
    }
    entry.update({k: v for k, v in optional.items() if v is not None})
    if alarm.dimensions:
        entry["Dimensions"] = [{"Name": d.name, "Value": d.value} for d in alarm.dimensions]
    if alarm.metric_data_queries:
        entry["Metrics"] = [_query(q) for q in alarm.metric_data_queries]
    return {k: v for k, v in entry.items() if v is not None}


def _query(query: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": query.id}
    for key, value in (("Label", query.label), ("ReturnData", query.return_data), ("Expression", query.expression), ("Period", query.period)):
        if value is not None:
            out[key] = value
    stat = query.metric_stat
    if stat is not None:
        metric = {
            "Namespace": stat.metric.namespace,
            "MetricName": stat.metric.metric_name,
            "Dimensions": [{"Name": d.name, "Value": d.value} for d in stat.metric.dimensions],
        }
        out["MetricStat"] = {"Metric": metric, "Period": stat.period, "Stat": stat.stat}
        if stat.unit:
            out["MetricStat"]["Unit"] = stat.unit
    return out


def validate_metric_alarm(params: dict[str, Any]) -> None:
    """Refuse what PutMetricAlarm refuses (moto accepts anything).

    Period and its range as the API reference (PutMetricAlarm, Period) has them:
    "Valid values are 10, 20, 30, and any multiple of 60"; Period ×
    EvaluationPeriods at most 604,800 s, and 86,400 s for a period under an hour.
    """
    period = params.get("Period")
    if period is not None and not (int(period) in (10, 20, 30) or (int(period) >= 60 and int(period) % 60 == 0)):
        raise cw_errors.ValidationError("The parameter Period must be 10, 20, 30 or a multiple of 60.")
    periods = params.get("EvaluationPeriods")
    if periods is not None and int(periods) < 1:
        raise cw_errors.ValidationError("The parameter EvaluationPeriods must be greater than or equal to 1.")
    if period is not None and periods is not None:
        limit = 86_400 if int(period) < 3600 else 604_800
        if int(period) * int(periods) > limit:
            raise cw_errors.ValidationError(
                f"The total evaluation period (Period × EvaluationPeriods) cannot exceed {limit} seconds"
                + (" for a period under one hour." if limit == 86_400 else ".")
            )
    datapoints = params.get("DatapointsToAlarm")
    if datapoints is not None and periods is not None and not 1 <= int(datapoints) <= int(periods):
        raise cw_errors.ValidationError("DatapointsToAlarm must be between 1 and EvaluationPeriods.")
    if params.get("Statistic") and params.get("ExtendedStatistic"):
        raise cw_errors.InvalidParameterCombination("Statistic and ExtendedStatistic cannot both be specified.")
    if params.get("MetricName") and not (params.get("Statistic") or params.get("ExtendedStatistic")):
        raise cw_errors.ValidationError("One of Statistic or ExtendedStatistic must be specified.")


def _region(response: CloudWatchResponse, engine: AlarmEngine) -> RegionAlarms:
    return engine.region(response.current_account, response.region)


def _keep_state(alarm: Any, old: Any | None) -> None:
    """An updated alarm keeps its state; a new one starts INSUFFICIENT_DATA (moto starts it OK)."""
    if old is not None:
        for attr in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp"):
            setattr(alarm, attr, getattr(old, attr))
        alarm.state_transitioned_timestamp = getattr(old, "state_transitioned_timestamp", old.state_updated_timestamp)
    else:
        alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_transitioned_timestamp = alarm.state_updated_timestamp


def _configuration_update(name: str, old: Any | None, entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The summary and data of a ConfigurationUpdate history item for ``entry`` (the alarm as described)."""
    summary = f'Alarm "{name}" {"updated" if old is not None else "created"}'
    data = {
        "version": "1.0",
        "type": "Update" if old is not None else "Create",
        ("updatedAlarm" if old is not None else "createdAlarm"): _jsonable(entry),
    }
    return summary, data


def put_metric_alarm(response: CloudWatchResponse, *, engine: AlarmEngine, clock: SimClock) -> ActionResult:
    params = response._get_params()
    validate_metric_alarm(params)
    name = params.get("AlarmName")
    with engine.lock:
        old = response.cloudwatch_backend.alarms.get(name)
        result = _moto_put_metric_alarm(response)
        alarm = response.cloudwatch_backend.alarms[name]
        now = clock.time()
        _keep_state(alarm, old)
        summary, data = _configuration_update(name, old, metric_alarm(alarm))
        _region(response, engine).record(name, now, "ConfigurationUpdate", summary, data)
    return result


def put_composite_alarm(response: CloudWatchResponse, *, engine: AlarmEngine, clock: SimClock) -> ActionResult:
    params = response._get_params()
    name = params.get("AlarmName") or ""
    if not 1 <= len(name) <= 255:
        raise cw_errors.ValidationError("AlarmName must be between 1 and 255 characters.")
    try:
        rule = parse(params.get("AlarmRule") or "")
    except AlarmRuleError as error:
        raise cw_errors.ValidationError(str(error)) from None
    alarms = response.cloudwatch_backend.alarms
    missing = [child for child in rule.children if child not in alarms]
    if missing:
        raise cw_errors.ValidationError(
            f"Could not save the composite alarm as alarms [{', '.join(missing)}] in the alarm rule do not exist"
        )
    suppressor = params.get("ActionsSuppressor")
    wait, extension = params.get("ActionsSuppressorWaitPeriod"), params.get("ActionsSuppressorExtensionPeriod")
    if suppressor:
        if alarm_name(suppressor) not in alarms:
            raise cw_errors.ValidationError(f"The actions suppressor {suppressor} does not exist.")
        if wait is None or extension is None:
            raise cw_errors.ValidationError(
                "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required with ActionsSuppressor."
            )
    elif wait is not None or extension is not None:
        raise cw_errors.ValidationError("ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod need an ActionsSuppressor.")
    with engine.lock:
        old = alarms.get(name)
        if old is not None and old.rule is None:
            raise cw_errors.ValidationError(f"{name} is a metric alarm; a composite alarm cannot replace it.")
        alarm = response.cloudwatch_backend.put_metric_alarm(
            name=name, namespace=None, metric_name=None, comparison_operator=None, evaluation_periods=None,
            period=None, threshold=None, statistic=None, description=params.get("AlarmDescription"), dimensions=[],
            alarm_actions=list(params.get("AlarmActions") or []), ok_actions=list(params.get("OKActions") or []),
            insufficient_data_actions=list(params.get("InsufficientDataActions") or []),
            actions_enabled=params.get("ActionsEnabled", True) is not False, rule=rule.text,
            tags=None if old is not None else params.get("Tags"),  # "tags you specify are ignored" on update
        )
        alarm.actions_suppressor = alarms[alarm_name(suppressor)].alarm_arn if suppressor else None
        alarm.actions_suppressor_wait_period = int(wait) if suppressor else None
        alarm.actions_suppressor_extension_period = int(extension) if suppressor else None
        alarm.actions_suppressed_by = getattr(old, "actions_suppressed_by", None)
        alarm.actions_suppressed_reason = getattr(old, "actions_suppressed_reason", None)
        now = clock.time()
        _keep_state(alarm, old)
        summary, data = _configuration_update(name, old, _composite(alarm))
        _region(response, engine).record(name, now, "ConfigurationUpdate", summary, data, alarm_type="CompositeAlarm")
    return EmptyResult()


def set_alarm_state(response: CloudWatchResponse, *, engine: AlarmEngine, clock: SimClock) -> ActionResult:
    params = response._get_params()
    name = params.get("AlarmName")
    with engine.lock:
        alarm = response.cloudwatch_backend.alarms.get(name)
        if alarm is None:
            return _moto_set_alarm_state(response)  # moto's own not-found answer
        if params.get("StateValue") not in STATES:
            return _moto_set_alarm_state(response)
        data = params.get("StateReasonData") or "{}"
        try:
            json.loads(data)
        except ValueError:
            raise cw_errors.InvalidFormat("StateReasonData is not valid JSON.") from None
        verdict = Verdict(params["StateValue"], params.get("StateReason") or "", data)
        engine.transition(_region(response, engine), alarm, verdict, clock.time())
    return EmptyResult()


def describe_alarms(response: CloudWatchResponse, *, engine: AlarmEngine) -> ActionResult:
    params = response._get_params()
    names = params.get("AlarmNames") or []
    prefix = params.get("AlarmNamePrefix")
    if names and prefix:
        raise cw_errors.InvalidParameterCombination("AlarmNames and AlarmNamePrefix cannot be specified together.")
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    state = params.get("StateValue")
    action = params.get("ActionPrefix")
    engine.catch_up(response.current_account, response.region)
    with engine.lock:
        chosen = []
        for alarm in sorted(response.cloudwatch_backend.alarms.values(), key=lambda a: a.name):
            kind = "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"
            actions = [*alarm.alarm_actions, *alarm.ok_actions, *alarm.insufficient_data_actions]
            if (
                kind in types
                and (not names or alarm.name in names)
                and (not prefix or alarm.name.startswith(prefix))
                and (not state or alarm.state_value == state)
                and (not action or any(a.startswith(action) for a in actions))
            ):
                chosen.append(alarm)
        page, token = _page(chosen, params, DESCRIBE_DEFAULT_PAGE)
        answer: dict[str, Any] = {
            "MetricAlarms": [metric_alarm(a) for a in page if a.rule is None],
            "CompositeAlarms": [_composite(a) for a in page if a.rule is not None],
        }
    if token:
        answer["NextToken"] = token
    return ActionResult(answer)


def describe_alarm_history(response: CloudWatchResponse, *, engine: AlarmEngine) -> ActionResult:
    params = response._get_params()
    engine.catch_up(response.current_account, response.region)
    name = params.get("AlarmName")
    kind = params.get("HistoryItemType")
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    start = to_epoch(params["StartDate"]) if params.get("StartDate") else None
    end = to_epoch(params["EndDate"]) if params.get("EndDate") else None
    with engine.lock:
        items = [
            item
            for item in _region(response, engine).history_items()
            if (not name or item["AlarmName"] == name)
            and (not kind or item["HistoryItemType"] == kind)
            and item["AlarmType"] in types
            and (start is None or item["Timestamp"].timestamp() >= start)
            and (end is None or item["Timestamp"].timestamp() <= end)
        ]
    ascending = params.get("ScanBy") == "TimestampAscending"
    items.sort(key=lambda item: item["Timestamp"], reverse=not ascending)
    page, token = _page(items, params, HISTORY_DEFAULT_PAGE)
    answer: dict[str, Any] = {"AlarmHistoryItems": page}
    if token:
        answer["NextToken"] = token
    return ActionResult(answer)


def put_alarm_mute_rule(response: CloudWatchResponse, *, engine: AlarmEngine, clock: SimClock) -> ActionResult:
    params = response._get_params()
    name = params.get("Name") or ""
    if not 1 <= len(name) <= 255:
        raise cw_errors.ValidationError("Name must be between 1 and 255 characters.")
    schedule_params = (params.get("Rule") or {}).get("Schedule") or {}
    try:
        schedule = Schedule.parse(
            schedule_params.get("Expression", ""), schedule_params.get("Duration", ""), schedule_params.get("Timezone")
        )
    except AlarmInputError as error:
        raise _error(error) from None
    targets = tuple((params.get("MuteTargets") or {}).get("AlarmNames") or ())
    if len(targets) > MAX_MUTE_TARGETS:
        raise LimitExceededFault(f"A mute rule can target at most {MAX_MUTE_TARGETS} alarms.")
    missing = [t for t in targets if t not in response.cloudwatch_backend.alarms]
    if missing:
        raise cw_errors.ResourceNotFoundException(f"Alarm {missing[0]} does not exist.")
    region = response.region
    arn = f"arn:{get_partition(region)}:cloudwatch:{region}:{response.current_account}:alarm-mute-rule:{name}"
    start = params.get("StartDate")
    expire = params.get("ExpireDate")
    rule = MuteRule(
        name=name,
        arn=arn,
        description=params.get("Description"),
        schedule=schedule,
        timezone_name=schedule_params.get("Timezone"),
        targets=targets,
        tags=list(params.get("Tags") or []),
        start_date=_moment(start),
        expire_date=_moment(expire),
        last_updated=clock.now(),
    )
    with engine.lock:
        _region(response, engine).rules[name] = rule
    if rule.tags:
        response.cloudwatch_backend.tagger.tag_resource(arn, rule.tags)
    return EmptyResult()


def get_alarm_mute_rule(response: CloudWatchResponse, *, engine: AlarmEngine, clock: SimClock) -> ActionResult:
    name = response._get_param("AlarmMuteRuleName")
    with engine.lock:
        rule = _region(response, engine).rules.get(name)
        if rule is None:
            raise cw_errors.ResourceNotFoundException(f"Alarm mute rule {name} does not exist.")
        return ActionResult(rule.describe(clock.now()))


def list_alarm_mute_rules(response: CloudWatchResponse, *, engine: AlarmEngine, clock: SimClock) -> ActionResult:
    params = response._get_params()
    alarm = params.get("AlarmName")
    statuses = params.get("Statuses") or []
    now = clock.now()
    with engine.lock:
        rules = sorted(_region(response, engine).rules.values(), key=lambda r: r.name)
        chosen = [
            r.summary(now)
            for r in rules
            if (not alarm or alarm in r.targets) and (not statuses or r.status(now) in statuses)
        ]
    page, token = _page(chosen, params, MUTE_RULES_DEFAULT_PAGE)
    answer: dict[str, Any] = {"AlarmMuteRuleSummaries": page}
    if token:
        answer["NextToken"] = token
    return ActionResult(answer)


def delete_alarm_mute_rule(response: CloudWatchResponse, *, engine: AlarmEngine, clock: SimClock) -> ActionResult:
    name = response._get_param("AlarmMuteRuleName")
    with engine.lock:
        region = _region(response, engine)
        rule = region.rules.pop(name, None)
        # "Any alarms that are currently being muted by that rule are immediately unmuted."
        engine.release_muted(region, clock.time())
    if rule is not None and rule.tags:
        response.cloudwatch_backend.tagger.delete_all_tags_for_resource(rule.arn)
    return EmptyResult()

def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(to_epoch(value), timezone.utc)


def _composite(alarm: Any) -> dict[str, Any]:
    """One CompositeAlarms entry of DescribeAlarms (API reference, CompositeAlarm)."""
    entry: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.alarm_arn,
        "AlarmDescription": alarm.description,
        "AlarmRule": alarm.rule,
        "ActionsEnabled": bool(alarm.actions_enabled),
        "AlarmActions": list(alarm.alarm_actions or []),
        "OKActions": list(alarm.ok_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "AlarmConfigurationUpdatedTimestamp": _aware(alarm.configuration_updated_timestamp),
        "StateValue": alarm.state_value,
        "StateReason": alarm.state_reason,
        "StateReasonData": alarm.state_reason_data,
        "StateUpdatedTimestamp": _aware(alarm.state_updated_timestamp),
        "StateTransitionedTimestamp": _aware(getattr(alarm, "state_transitioned_timestamp", alarm.state_updated_timestamp)),
        "ActionsSuppressedBy": getattr(alarm, "actions_suppressed_by", None),
        "ActionsSuppressedReason": getattr(alarm, "actions_suppressed_reason", None),
        "ActionsSuppressor": getattr(alarm, "actions_suppressor", None),
        "ActionsSuppressorWaitPeriod": getattr(alarm, "actions_suppressor_wait_period", None),
        "ActionsSuppressorExtensionPeriod": getattr(alarm, "actions_suppressor_extension_period", None),
    }
    return {k: v for k, v in entry.items() if v is not None}


def _jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in entry.items()}


HANDLERS: Handlers = {
    (CloudWatchResponse, "put_metric_alarm"): put_metric_alarm,
    (CloudWatchResponse, "set_alarm_state"): set_alarm_state,
    (CloudWatchResponse, "put_composite_alarm"): put_composite_alarm,
    (CloudWatchResponse, "describe_alarms"): describe_alarms,
    (CloudWatchResponse, "describe_alarm_history"): describe_alarm_history,
    (CloudWatchResponse, "put_alarm_mute_rule"): put_alarm_mute_rule,
    (CloudWatchResponse, "get_alarm_mute_rule"): get_alarm_mute_rule,
    (CloudWatchResponse, "list_alarm_mute_rules"): list_alarm_mute_rules,
    (CloudWatchResponse, "delete_alarm_mute_rule"): delete_alarm_mute_rule,
}
"""The alarm handlers: install with ``engine=`` (:func:`start_engine`) and ``clock=``."""
