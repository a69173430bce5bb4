"""Alarm evaluation, history and mute rules in the simulator.

The evaluator is tested in-process against a MetricStore with numbers chosen
here; the wire behaviour (INSUFFICIENT_DATA at creation, DescribeAlarms
filters and paging, DescribeAlarmHistory, the mute rule API) through boto3
over HTTP against the session simulator, in a region of its own.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import requests
from botocore.exceptions import ClientError

from smtop.sim.alarms import AlarmEngine, MuteRule, Schedule, evaluate
from smtop.sim.metric_store import MetricStore
from tests.conftest import SIM_NOW
from tests.sim.conftest import WRITE_REGION

T0 = 1_800_000_000  # a whole minute (and a whole five minutes)
DIMS = [{"Name": "EndpointName", "Value": "e1"}, {"Name": "VariantName", "Value": "AllTraffic"}]


def alarm(**overrides) -> SimpleNamespace:
    """What moto's Alarm carries, with the seed's example as defaults (60 s periods)."""
    values = dict(
        name="a1", alarm_arn="arn:aws:cloudwatch:us-east-1:1:alarm:a1", rule=None, namespace="AWS/SageMaker", metric_name="ModelLatency",
        dimensions=[SimpleNamespace(name=d["Name"], value=d["Value"]) for d in DIMS],
        statistic="Average", extended_statistic=None, period=60, evaluation_periods=2, datapoints_to_alarm=None,
        threshold=1_000_000.0, comparison_operator="GreaterThanThreshold", treat_missing_data=None, unit=None,
        metric_data_queries=[], actions_enabled=True, alarm_actions=["arn:aws:sns:us-east-1:1:pager"], ok_actions=[],
        insufficient_data_actions=[], state_value="INSUFFICIENT_DATA", state_reason="Unchecked: Initial alarm creation",
        state_reason_data="{}", state_updated_timestamp=datetime(2027, 1, 1),
        configuration_updated_timestamp=datetime.fromtimestamp(T0 - 3600, timezone.utc).replace(tzinfo=None),
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def store_with(minutes: dict[int, list[float]]) -> MetricStore:
    """ModelLatency samples (µs) per minute offset from T0."""
    store = MetricStore(clock=lambda: T0 + 3600)
    for offset, samples in minutes.items():
        for value in samples:
            store.put("AWS/SageMaker", "ModelLatency", DIMS, T0 + offset * 60 + 5, value=value, unit="Microseconds")
    return store


def test_two_breaching_periods_make_alarm_and_the_reason_lists_them():
    store = store_with({-2: [1_500_000, 2_500_000], -1: [3_000_000]})
    verdict = evaluate(alarm(), store, T0)
    assert verdict.state == "ALARM"
    # Averages computed by hand: 2.0 s and 3.0 s, newest first as CloudWatch lists them.
    assert "2 out of the last 2 datapoints [3000000 (" in verdict.reason and "2000000 (" in verdict.reason
    data = json.loads(verdict.reason_data)
    assert data["recentDatapoints"] == [2_000_000.0, 3_000_000.0]
    assert data["threshold"] == 1_000_000.0 and data["period"] == 60


def test_one_good_period_of_two_is_ok_and_no_data_is_insufficient():
    store = store_with({-2: [2_000_000], -1: [400_000]})
    assert evaluate(alarm(), store, T0).state == "OK"
    assert evaluate(alarm(), store, T0 + 3600).state == "INSUFFICIENT_DATA"


def test_datapoints_to_alarm_m_of_n_and_percentiles():
    # 2 of 3: the middle minute is fine, the other two breach.
    store = store_with({-3: [2_000_000], -2: [10_000], -1: [2_000_000]})
    assert evaluate(alarm(evaluation_periods=3, datapoints_to_alarm=2), store, T0).state == "ALARM"
    assert evaluate(alarm(evaluation_periods=3), store, T0).state == "OK"
    # p99 of 100 samples with one slow request is that request; the average is not.
    samples = [100_000.0] * 99 + [5_000_000.0]
    store = store_with({-1: samples})
    p99 = alarm(statistic=None, extended_statistic="p99", evaluation_periods=1)
    assert evaluate(p99, store, T0).state == "OK"  # nearest rank: the 99th of 100 is 0.1 s
    samples = [100_000.0] * 98 + [5_000_000.0] * 2
    assert evaluate(p99, store_with({-1: samples}), T0).state == "ALARM"


def test_missing_data_is_treated_as_configured():
    store = store_with({-1: [10_000]})  # one good minute, one missing
    assert evaluate(alarm(treat_missing_data="breaching"), store, T0).state == "OK"
    assert evaluate(alarm(treat_missing_data="breaching", datapoints_to_alarm=1), store, T0).state == "ALARM"
    empty = store_with({})
    assert evaluate(alarm(treat_missing_data="notBreaching"), empty, T0).state == "OK"
    assert evaluate(alarm(treat_missing_data="ignore", state_value="ALARM"), empty, T0).state == "ALARM"


def test_the_engine_catches_up_minute_by_minute_and_mutes_actions():
    now = [T0 + 6 * 60 + 30.0]
    store = store_with({1: [2e6], 2: [2e6], 3: [2e6], 4: [1e4], 5: [1e4]})
    alarms = {"a1": alarm(state_value="OK", treat_missing_data="notBreaching")}
    engine = AlarmEngine(lambda: now[0], lambda *_: store, lambda *_: alarms)
    region = engine.region("1", "r")
    region.last_tick = T0
    engine.catch_up("1", "r")
    items = sorted(region.history["a1"], key=lambda i: i["Timestamp"])
    changes = [(i["Timestamp"].timestamp() - T0, i["HistorySummary"]) for i in items if i["HistoryItemType"] == "StateUpdate"]
    # Minutes 1 and 2 breach: ALARM at the evaluation of minute 3 (T0+180); minute 4 is fine: OK at T0+300.
    assert changes == [(180, "Alarm updated from OK to ALARM"), (300, "Alarm updated from ALARM to OK")]
    actions = [i for i in items if i["HistoryItemType"] == "Action"]
    assert [json.loads(a["HistoryData"])["actionState"] for a in actions] == ["Succeeded"]  # no OKActions
    # A mute rule active at the next transition mutes its action, and says which rule did.
    rule = MuteRule(
        name="maint", arn="arn:rule/maint", description=None,
        schedule=Schedule.parse(f"at({datetime.fromtimestamp(T0, timezone.utc):%Y-%m-%dT%H:%M})", "PT2H", None),
        timezone_name=None, targets=("a1",), tags=[], start_date=None, expire_date=None, last_updated=datetime.now(timezone.utc),
    )
    region.rules["maint"] = rule
    for offset in (6, 7):
        store.put("AWS/SageMaker", "ModelLatency", DIMS, T0 + offset * 60 + 5, value=3e6, unit="Microseconds")
    now[0] = T0 + 8 * 60 + 1
    engine.catch_up("1", "r")
    assert alarms["a1"].state_value == "ALARM"
    muted = [i for i in region.history["a1"] if i["HistoryItemType"] == "Action"][-1]
    assert "muted by alarm mute rule maint" in muted["HistorySummary"]


def _one_time_rule(start: float, duration: str, targets=("a1",)) -> MuteRule:
    return MuteRule(
        name="ack", arn="arn:rule/ack", description=None,
        schedule=Schedule.parse(f"at({datetime.fromtimestamp(start, timezone.utc):%Y-%m-%dT%H:%M})", duration, None),
        timezone_name=None, targets=targets, tags=[], start_date=None, expire_date=None, last_updated=datetime.now(timezone.utc),
    )


def _actions(region, name: str = "a1") -> list[tuple[float, str, str]]:
    """(seconds after T0, actionState, the action) of every Action history item, oldest first."""
    items = sorted((i for i in region.history.get(name, ()) if i["HistoryItemType"] == "Action"), key=lambda i: i["Timestamp"])
    return [(i["Timestamp"].timestamp() - T0, json.loads(i["HistoryData"])["actionState"], json.loads(i["HistoryData"])["notificationResource"]) for i in items]


def _engine_from(now: list[float], store: MetricStore, alarms: dict):
    engine = AlarmEngine(lambda: now[0], lambda *_: store, lambda *_: alarms)
    region = engine.region("1", "r")
    region.last_tick = T0
    return engine, region


def test_a_mute_silences_every_state_and_an_alarm_still_in_alarm_notifies_when_it_ends():
    """CloudWatch User Guide, "How alarm mute rules work": "Muting an alarm will mute actions
    associated with all alarm states, including OK, ALARM, and INSUFFICIENT_DATA"; an alarm
    still in ALARM when the window ends has its action "executed because the mute window has
    ended and the alarm remains in the same state (ALARM) in which it was originally muted"."""
    pager, ok = "arn:aws:sns:us-east-1:1:pager", "arn:aws:sns:us-east-1:1:ok"
    now = [T0 + 30.0]
    store = store_with({m: [2e6] for m in range(1, 20)})  # breaching from minute 1 on, for good
    alarms = {"a1": alarm(state_value="OK", treat_missing_data="notBreaching", ok_actions=[ok])}
    engine, region = _engine_from(now, store, alarms)
    region.rules["ack"] = _one_time_rule(T0, "PT10M")  # muted T0 .. T0+10 min
    now[0] = T0 + 15 * 60 + 1
    engine.catch_up("1", "r")
    # ALARM at minute 3, muted; the window ends at minute 10 with the alarm still in ALARM: it notifies then.
    assert _actions(region) == [(180, "Muted", pager), (600, "Succeeded", pager)]


def test_an_alarm_back_to_ok_during_the_mute_does_not_page_when_it_ends():
    """The same page's first scenario: ALARM muted, back to OK while muted (its OK action muted
    too), the window ends in OK: "no ALARM action is executed because alarm is now in OK state"."""
    pager, ok = "arn:aws:sns:us-east-1:1:pager", "arn:aws:sns:us-east-1:1:ok"
    now = [T0 + 30.0]
    store = store_with({1: [2e6], 2: [2e6], 3: [1e4], 4: [1e4]})
    alarms = {"a1": alarm(state_value="OK", treat_missing_data="notBreaching", ok_actions=[ok])}
    engine, region = _engine_from(now, store, alarms)
    region.rules["ack"] = _one_time_rule(T0, "PT10M")
    now[0] = T0 + 15 * 60 + 1
    engine.catch_up("1", "r")
    assert alarms["a1"].state_value == "OK"
    assert [(t, state, action) for t, state, action in _actions(region) if action == pager] == [(180, "Muted", pager)]
    assert (240, "Muted", ok) in _actions(region)  # the recovery notification was muted as well


def test_deleting_the_rule_of_an_alarm_in_alarm_runs_its_actions_at_once(scratch_cloudwatch, name):
    """API reference, DeleteAlarmMuteRule: "any alarms that are currently being muted by that
    rule are immediately unmuted. If those alarms are in an ALARM state, their configured
    actions will trigger"."""
    cw = scratch_cloudwatch
    pager = f"arn:aws:sns:{WRITE_REGION}:123456789012:{name}"
    created = put_alarm(cw, name, "e", TreatMissingData="ignore", AlarmActions=[pager])
    start = created["AlarmConfigurationUpdatedTimestamp"].replace(second=0, microsecond=0)
    cw.put_alarm_mute_rule(
        Name=f"{name}-ack", Rule={"Schedule": {"Expression": f"at({start:%Y-%m-%dT%H:%M})", "Duration": "PT1H"}},
        MuteTargets={"AlarmNames": [name]},
    )
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")

    def actions() -> list[str]:
        items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action", ScanBy="TimestampAscending")
        return [json.loads(i["HistoryData"])["actionState"] for i in items["AlarmHistoryItems"]]

    assert actions() == ["Muted"]
    cw.delete_alarm_mute_rule(AlarmMuteRuleName=f"{name}-ack")
    assert actions() == ["Muted", "Succeeded"]
    cw.delete_alarm_mute_rule(AlarmMuteRuleName=f"{name}-ack")  # idempotent, and nothing runs twice
    assert actions() == ["Muted", "Succeeded"]


def test_schedules():
    at = Schedule.parse("at(2026-11-18T11:00)", "PT1H", "UTC")
    rule = MuteRule("r", "arn", None, at, None, ("a",), [], None, None, datetime.now(timezone.utc))
    moment = datetime(2026, 11, 18, 11, 0, tzinfo=timezone.utc)
    assert rule.status(moment - timedelta(seconds=1)) == "SCHEDULED"
    assert rule.status(moment + timedelta(minutes=59)) == "ACTIVE"
    assert rule.status(moment + timedelta(hours=1)) == "EXPIRED"
    nightly = Schedule.parse("cron(0 2 * * *)", "PT2H", "UTC")
    assert nightly.active_window(datetime(2026, 11, 18, 3, 30, tzinfo=timezone.utc)) is not None
    assert nightly.active_window(datetime(2026, 11, 18, 4, 0, tzinfo=timezone.utc)) is None
    sundays = Schedule.parse("cron(0 2 * * SUN)", "PT1H", "UTC")
    assert sundays.active_window(datetime(2026, 11, 22, 2, 30, tzinfo=timezone.utc)) is not None  # a Sunday
    assert sundays.active_window(datetime(2026, 11, 23, 2, 30, tzinfo=timezone.utc)) is None


# -- over HTTP ------------------------------------------------------------------------


@pytest.fixture
def name() -> str:
    return f"smtop-test-{uuid.uuid4().hex[:8]}"


def put_alarm(cw, name: str, endpoint: str, **extra) -> dict:
    params = dict(
        AlarmName=name, Namespace="AWS/SageMaker", MetricName="ModelLatency",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
        Statistic="Average", Period=60, EvaluationPeriods=2, Threshold=1_000_000, ComparisonOperator="GreaterThanThreshold",
    )
    cw.put_metric_alarm(**{**params, **extra})
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def evaluate_now(sim, region: str = WRITE_REGION) -> int:
    reply = requests.post(f"{sim.url}/_smtop/alarms/evaluate", params={"region": region}, timeout=10)
    reply.raise_for_status()
    return reply.json()["evaluated"]


def put_latency(cw, endpoint: str, start: float, minutes: int, value: float) -> None:
    cw.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "ModelLatency",
                "Dimensions": [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
                "Timestamp": datetime.fromtimestamp(start + i * 60 + 1, timezone.utc),
                "Value": value,
                "Unit": "Microseconds",
            }
            for i in range(minutes)
        ],
    )


def test_a_new_alarm_starts_insufficient_then_evaluates_against_the_data(sim, scratch_cloudwatch, name):
    cw = scratch_cloudwatch
    endpoint = f"ep-{name}"
    created = put_alarm(cw, name, endpoint)
    assert created["StateValue"] == "INSUFFICIENT_DATA"
    assert created["StateReason"] == "Unchecked: Initial alarm creation"
    now = created["AlarmConfigurationUpdatedTimestamp"].timestamp()
    minute = now // 60 * 60
    put_latency(cw, endpoint, minute - 600, 12, 2_500_000)  # 2.5 s for ten minutes, and the next two
    assert evaluate_now(sim) >= 1
    fired = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert fired["StateValue"] == "ALARM"
    assert "were greater than the threshold (1000000)" in fired["StateReason"]
    assert json.loads(fired["StateReasonData"])["recentDatapoints"] == [2_500_000.0, 2_500_000.0]
    # Recovery: two fast minutes after the slow ones end the alarm.
    put_latency(cw, endpoint, minute - 600, 12, 1.0)  # the averages fall to ~1.25 s… still above
    evaluate_now(sim)
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] == "ALARM"
    put_latency(cw, endpoint, minute - 600, 12, 1.0)
    put_latency(cw, endpoint, minute - 600, 12, 1.0)  # (2.5e6 + 3) / 4 = 625 ms < 1 s
    evaluate_now(sim)
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] == "OK"
    history = cw.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        f'Alarm "{name}" created',
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    # Updating an alarm keeps its state and adds a configuration update.
    assert put_alarm(cw, name, endpoint, Threshold=2_000_000)["StateValue"] == "OK"
    kinds = cw.describe_alarm_history(AlarmName=name, HistoryItemType="ConfigurationUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in kinds] == [f'Alarm "{name}" updated', f'Alarm "{name}" created']


def test_put_metric_alarm_is_validated_like_the_service(scratch_cloudwatch, name):
    with pytest.raises(ClientError, match="Period must be 10, 20, 30 or a multiple of 60"):
        put_alarm(scratch_cloudwatch, name, "e", Period=90)
    # PutMetricAlarm API reference, Period: at most 86,400 s under an hour, 604,800 s otherwise.
    with pytest.raises(ClientError, match="cannot exceed 86400 seconds for a period under one hour"):
        put_alarm(scratch_cloudwatch, name, "e", Period=60, EvaluationPeriods=1441)
    with pytest.raises(ClientError, match="cannot exceed 604800 seconds"):
        put_alarm(scratch_cloudwatch, name, "e", Period=3600, EvaluationPeriods=169)
    for period, periods in ((20, 4320), (60, 1440), (3600, 168), (86400, 7)):  # each exactly at its limit
        assert put_alarm(scratch_cloudwatch, f"{name}-{period}", "e", Period=period, EvaluationPeriods=periods)["Period"] == period
    with pytest.raises(ClientError, match="DatapointsToAlarm"):
        put_alarm(scratch_cloudwatch, name, "e", DatapointsToAlarm=3)


def test_describe_alarms_combines_filters_and_pages(sim, scratch_cloudwatch, name):
    cw = scratch_cloudwatch
    for i in range(5):
        # "ignore": with no data an evaluation keeps the state set below.
        put_alarm(cw, f"{name}-{i}", "e", TreatMissingData="ignore", AlarmActions=[f"arn:aws:sns:{WRITE_REGION}:123456789012:{name}-{i % 2}"])
    cw.set_alarm_state(AlarmName=f"{name}-3", StateValue="ALARM", StateReason="test")
    both = cw.describe_alarms(AlarmNamePrefix=name, StateValue="ALARM")["MetricAlarms"]
    assert [a["AlarmName"] for a in both] == [f"{name}-3"]  # moto would return all five
    by_action = cw.describe_alarms(AlarmNamePrefix=name, ActionPrefix=f"arn:aws:sns:{WRITE_REGION}:123456789012:{name}-1")
    assert [a["AlarmName"] for a in by_action["MetricAlarms"]] == [f"{name}-1", f"{name}-3"]
    first = cw.describe_alarms(AlarmNamePrefix=name, MaxRecords=2)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == [f"{name}-0", f"{name}-1"]
    seen = [a["AlarmName"] for page in cw.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=name, PaginationConfig={"PageSize": 2}) for a in page["MetricAlarms"]]
    assert seen == [f"{name}-{i}" for i in range(5)]
    with pytest.raises(ClientError, match="InvalidParameterCombination"):
        cw.describe_alarms(AlarmNames=[name], AlarmNamePrefix=name)
    history = cw.describe_alarm_history(AlarmName=f"{name}-3", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"


def test_mute_rules_round_trip(scratch_cloudwatch, name):
    cw = scratch_cloudwatch
    created = put_alarm(cw, name, "e")
    now = created["AlarmConfigurationUpdatedTimestamp"]
    start = now.replace(second=0, microsecond=0)
    cw.put_alarm_mute_rule(
        Name=f"{name}-ack", Description="acked by test",
        Rule={"Schedule": {"Expression": f"at({start:%Y-%m-%dT%H:%M})", "Duration": "PT1H"}},
        MuteTargets={"AlarmNames": [name]}, Tags=[{"Key": "k", "Value": "v"}],
    )
    cw.put_alarm_mute_rule(
        Name=f"{name}-later",
        Rule={"Schedule": {"Expression": f"at({start + timedelta(days=1):%Y-%m-%dT%H:%M})", "Duration": "PT30M"}},
        MuteTargets={"AlarmNames": [name]},
    )
    rule = cw.get_alarm_mute_rule(AlarmMuteRuleName=f"{name}-ack")
    assert rule["Status"] == "ACTIVE" and rule["MuteType"] == "ONE_TIME"
    assert rule["MuteTargets"]["AlarmNames"] == [name] and rule["Description"] == "acked by test"
    assert rule["Rule"]["Schedule"] == {"Expression": f"at({start:%Y-%m-%dT%H:%M})", "Duration": "PT1H"}
    assert rule["AlarmMuteRuleArn"].endswith(f":alarm-mute-rule:{name}-ack")
    targeting = cw.list_alarm_mute_rules(AlarmName=name)["AlarmMuteRuleSummaries"]
    assert sorted(s["Status"] for s in targeting) == ["ACTIVE", "SCHEDULED"]
    active = cw.list_alarm_mute_rules(AlarmName=name, Statuses=["ACTIVE"])["AlarmMuteRuleSummaries"]
    assert [s["AlarmMuteRuleArn"] for s in active] == [rule["AlarmMuteRuleArn"]]
    assert "Name" not in active[0]  # the service's summaries carry the ARN only
    cw.delete_alarm_mute_rule(AlarmMuteRuleName=f"{name}-ack")
    cw.delete_alarm_mute_rule(AlarmMuteRuleName=f"{name}-ack")  # idempotent
    with pytest.raises(ClientError) as error:
        cw.get_alarm_mute_rule(AlarmMuteRuleName=f"{name}-ack")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError, match="at\\(yyyy-MM-ddThh:mm\\)"):
        cw.put_alarm_mute_rule(Name="bad", Rule={"Schedule": {"Expression": "tomorrow", "Duration": "PT1H"}}, MuteTargets={"AlarmNames": [name]})
    with pytest.raises(ClientError, match="between PT1M and P15D"):
        cw.put_alarm_mute_rule(Name="bad", Rule={"Schedule": {"Expression": "at(2030-01-01T00:00)", "Duration": "P16D"}}, MuteTargets={"AlarmNames": [name]})
    with pytest.raises(ClientError, match="does not exist"):
        cw.put_alarm_mute_rule(Name="bad", Rule={"Schedule": {"Expression": "at(2030-01-01T00:00)", "Duration": "PT1H"}}, MuteTargets={"AlarmNames": [f"{name}-nope"]})


def test_the_canary_alarm_fired_and_cleared_in_the_demo_history(cloudwatch):
    history = cloudwatch.describe_alarm_history(
        AlarmName="llm-chat-canary-p99-latency", HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    fired = [h for h in history if h["HistorySummary"].endswith("to ALARM")]
    cleared = [h for h in history if h["HistorySummary"] == "Alarm updated from ALARM to OK"]
    assert len(fired) >= 5 and len(cleared) >= 5  # two hours of a canary that degrades every ten minutes
    # Check each transition to ALARM independently: some p99 of the three minutes before it was above 5 s.
    for item in fired[:3]:
        at = item["Timestamp"]
        reply = cloudwatch.get_metric_data(
            MetricDataQueries=[{
                "Id": "p99",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Dimensions": [
                        {"Name": "EndpointName", "Value": "llm-chat-canary"}, {"Name": "VariantName", "Value": "AllTraffic"}]},
                    "Period": 60, "Stat": "p99",
                },
            }],
            StartTime=at - timedelta(minutes=3), EndTime=at,
        )
        values = reply["MetricDataResults"][0]["Values"]
        assert max(values) > 5_000_000, (at, values)
    assert all(h["Timestamp"].timestamp() <= SIM_NOW + 3600 for h in history)


# -- composite alarms (API reference, PutCompositeAlarm and CompositeAlarm) ---------------------


def composite(cw, name: str, rule: str, **extra) -> dict:
    cw.put_composite_alarm(AlarmName=name, AlarmRule=rule, **extra)
    return cw.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]


def state_of(cw, name: str) -> str:
    reply = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm", "MetricAlarm"])
    return (reply["CompositeAlarms"] + reply["MetricAlarms"])[0]["StateValue"]


def children(cw, name: str, count: int) -> list[str]:
    """Metric alarms that keep whatever state a test sets ("ignore" with no data)."""
    names = [f"{name}-{i}" for i in range(count)]
    for child in names:
        put_alarm(cw, child, "e", TreatMissingData="ignore")
    return names


def test_a_composite_starts_insufficient_then_follows_its_rule(sim, scratch_cloudwatch, name):
    cw = scratch_cloudwatch
    cpu, disk, network = children(cw, name, 3)
    rule = f"(ALARM({cpu}) OR ALARM({disk})) AND OK({network})"  # the reference's third example
    created = composite(cw, name, rule, AlarmDescription="noise-free", AlarmActions=[f"arn:aws:sns:{WRITE_REGION}:123456789012:{name}"])
    # "When this operation creates an alarm, the alarm state is immediately set to INSUFFICIENT_DATA."
    assert created["StateValue"] == "INSUFFICIENT_DATA" and created["AlarmRule"] == rule
    assert created["AlarmDescription"] == "noise-free" and created["ActionsEnabled"] is True
    # DescribeAlarms: "If you omit this parameter, only metric alarms are returned".
    assert cw.describe_alarms(AlarmNames=[name])["CompositeAlarms"] == []
    evaluate_now(sim)
    assert state_of(cw, name) == "OK"  # no child in ALARM: the rule is FALSE
    cw.set_alarm_state(AlarmName=disk, StateValue="ALARM", StateReason="test")
    cw.set_alarm_state(AlarmName=network, StateValue="OK", StateReason="test")
    assert state_of(cw, name) == "ALARM"  # DiskReadOpsTooHigh in ALARM, NetworkOutTooHigh OK
    cw.set_alarm_state(AlarmName=network, StateValue="ALARM", StateReason="test")
    assert state_of(cw, name) == "OK"  # "not notified ... if a known network problem is also occurring"
    history = cw.describe_alarm_history(AlarmName=name, AlarmTypes=["CompositeAlarm"], ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history if h["HistoryItemType"] != "Action"] == [
        f'Alarm "{name}" created',
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    assert {h["AlarmType"] for h in history} == {"CompositeAlarm"}
    # DescribeAlarmHistory without AlarmTypes returns metric alarms' history only.
    assert cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"] == []


def test_every_function_and_operator_of_the_rule(sim, scratch_cloudwatch, name):
    cw = scratch_cloudwatch
    a, b = children(cw, name, 2)
    cw.set_alarm_state(AlarmName=a, StateValue="ALARM", StateReason="test")  # b stays INSUFFICIENT_DATA
    expected = {
        f"ALARM({a})": "ALARM",
        f'OK("{a}")': "OK",
        f"INSUFFICIENT_DATA({b})": "ALARM",
        f"NOT ALARM({a})": "OK",
        f"ALARM({a}) AND ALARM({b})": "OK",
        f"ALARM({a}) OR ALARM({b})": "ALARM",
        "TRUE": "ALARM",
        "FALSE": "OK",
        f"ALARM(arn:aws:cloudwatch:{WRITE_REGION}:123456789012:alarm:{a})": "ALARM",
    }
    for i, (rule, state) in enumerate(expected.items()):
        composite(cw, f"{name}-c{i}", rule)
    evaluate_now(sim)
    assert {rule: state_of(cw, f"{name}-c{i}") for i, rule in enumerate(expected)} == expected


def test_put_composite_alarm_refuses_what_the_service_refuses(scratch_cloudwatch, name):
    cw = scratch_cloudwatch
    (a,) = children(cw, name, 1)
    with pytest.raises(ClientError, match=r"alarms \[nope\] in the alarm rule do not exist"):
        cw.put_composite_alarm(AlarmName=name, AlarmRule="ALARM(nope)")
    with pytest.raises(ClientError, match="ends where"):
        cw.put_composite_alarm(AlarmName=name, AlarmRule=f"ALARM({a}) AND")
    with pytest.raises(ClientError, match="names 101 alarms"):
        cw.put_composite_alarm(AlarmName=name, AlarmRule=" OR ".join(f"ALARM(x{i})" for i in range(101)))
    # "WaitPeriod is required only when ActionsSuppressor is specified."
    with pytest.raises(ClientError, match="required with ActionsSuppressor"):
        cw.put_composite_alarm(AlarmName=name, AlarmRule=f"ALARM({a})", ActionsSuppressor=a)
    assert cw.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"] == []


def test_composites_of_composites_and_cycles(sim, scratch_cloudwatch, name):
    cw = scratch_cloudwatch
    (a,) = children(cw, name, 1)
    composite(cw, f"{name}-inner", f"ALARM({a})")
    composite(cw, f"{name}-outer", f"ALARM({name}-inner)")
    cw.set_alarm_state(AlarmName=a, StateValue="ALARM", StateReason="test")
    assert state_of(cw, f"{name}-inner") == state_of(cw, f"{name}-outer") == "ALARM"
    # A cycle: "the evaluation of composite alarms stops if CloudWatch detects a cycle".
    composite(cw, f"{name}-inner", f"ALARM({a}) AND ALARM({name}-outer)")
    cw.set_alarm_state(AlarmName=a, StateValue="OK", StateReason="test")
    assert state_of(cw, f"{name}-inner") == state_of(cw, f"{name}-outer") == "ALARM"  # frozen where they were


def test_a_suppressor_in_alarm_holds_back_a_composites_actions_and_a_mute_rule_mutes_them(sim, scratch_cloudwatch, name):
    cw = scratch_cloudwatch
    a, deploying = children(cw, name, 2)
    pager = f"arn:aws:sns:{WRITE_REGION}:123456789012:{name}"
    created = composite(
        cw, f"{name}-pages", f"ALARM({a})", AlarmActions=[pager],
        ActionsSuppressor=deploying, ActionsSuppressorWaitPeriod=60, ActionsSuppressorExtensionPeriod=120,
    )
    assert created["ActionsSuppressor"].endswith(f":alarm:{deploying}")
    assert (created["ActionsSuppressorWaitPeriod"], created["ActionsSuppressorExtensionPeriod"]) == (60, 120)
    cw.set_alarm_state(AlarmName=deploying, StateValue="ALARM", StateReason="deploying")
    cw.set_alarm_state(AlarmName=a, StateValue="ALARM", StateReason="test")
    shown = cw.describe_alarms(AlarmNames=[f"{name}-pages"], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]
    # "When the value is ALARM, it means that the actions are suppressed because the suppressor alarm is in ALARM".
    assert shown["StateValue"] == "ALARM" and shown["ActionsSuppressedBy"] == "Alarm"
    assert deploying in shown["ActionsSuppressedReason"]

    def actions(alarm: str) -> list[str]:
        items = cw.describe_alarm_history(AlarmName=alarm, AlarmTypes=["CompositeAlarm"], HistoryItemType="Action")
        return [json.loads(i["HistoryData"])["actionState"] for i in items["AlarmHistoryItems"]]

    assert actions(f"{name}-pages") == []
    # Mute rules target composites by name too; their actions are muted like a metric alarm's.
    other = composite(cw, f"{name}-other", f"ALARM({a}) OR TRUE", AlarmActions=[pager])
    start = other["AlarmConfigurationUpdatedTimestamp"].replace(second=0, microsecond=0)
    cw.put_alarm_mute_rule(
        Name=f"{name}-mute", Rule={"Schedule": {"Expression": f"at({start:%Y-%m-%dT%H:%M})", "Duration": "PT1H"}},
        MuteTargets={"AlarmNames": [f"{name}-other"]},
    )
    evaluate_now(sim)
    assert state_of(cw, f"{name}-other") == "ALARM" and actions(f"{name}-other") == ["Muted"]


def test_the_demo_composite_pages_when_the_canary_errors_and_is_slow(cloudwatch):
    demo = cloudwatch.describe_alarms(AlarmNames=["llm-chat-canary-degraded"], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]
    assert "ALARM(\"llm-chat-canary-5xx\")" in demo["AlarmRule"] and demo["AlarmActions"][0].endswith(":oncall-pager")
    history = cloudwatch.describe_alarm_history(
        AlarmName="llm-chat-canary-degraded", AlarmTypes=["CompositeAlarm"], HistoryItemType="StateUpdate", ScanBy="TimestampAscending",
    )["AlarmHistoryItems"]
    fired = [h["Timestamp"] for h in history if h["HistorySummary"].endswith("to ALARM")]
    assert len(fired) >= 5  # two hours of a canary that degrades every ten minutes
    # Each time it fired, its rule held: the 5xx alarm and a latency alarm were last moved to ALARM.
    def last_move(child: str, at) -> str:
        items = cloudwatch.describe_alarm_history(
            AlarmName=child, HistoryItemType="StateUpdate", EndDate=at, ScanBy="TimestampDescending", MaxRecords=1,
        )["AlarmHistoryItems"]
        return items[0]["HistorySummary"] if items else ""

    for at in fired[:3]:
        assert last_move("llm-chat-canary-5xx", at).endswith("to ALARM")
        assert any(last_move(f"llm-chat-canary-{c}-latency", at).endswith("to ALARM") for c in ("p99", "avg"))
