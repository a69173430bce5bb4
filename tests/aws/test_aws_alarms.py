"""The alarms data layer through aiobotocore over HTTP: the simulator, a fault proxy, plain moto.

Everything that writes uses its own region of the session simulator, so the
demo fleet's alarms in us-east-1 stay as other tests expect them.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from smtop.models.alarm_draft import initial_draft
from smtop.aws.alarms import AlarmMonitor, ack_rule_name
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.errors import AccessDeniedError, ReadOnlyError, SmtopError, UnsupportedOperationError
from smtop.models.alarms import ACK_TAG_BY, ACK_TAG_NOTE, ACK_TAG_UNTIL, ChildAlarm, CompositeAlarm, MetricAlarm
from tests.aws.conftest import FaultProxy
from tests.conftest import SIM_NOW, isolated_aws_env, private_fault_sim

REGION = "eu-west-1"
"""Alarms written here stay out of the demo fleet's us-east-1."""


class OperationRecorder(FaultProxy):
    """The fault proxy, also naming every call of the query protocol (STS, SNS).

    ``operations`` lists ``service:Operation`` for every request that passed:
    the service from the signature's credential scope, the operation from the
    X-Amz-Target header (JSON), the rpc-v2-cbor path, or the form's Action.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.operations: list[str] = []

    async def _handle(self, request):
        from urllib.parse import parse_qs

        body = await request.read()  # aiohttp keeps it: the proxy reads it again
        scope = request.headers.get("Authorization", "").split("Credential=")[-1].split("/")
        service = scope[3] if len(scope) > 3 else "?"
        target = request.headers.get("X-Amz-Target", "")
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif "/operation/" in request.path:
            operation = request.path.rsplit("/", 1)[-1]
        else:
            operation = parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
        self.operations.append(f"{service}:{operation}")
        return await super()._handle(request)


@pytest.fixture
def clock() -> FrozenClock:
    # Ten seconds past the simulator's start: acknowledgements start "now" for the simulator too.
    return FrozenClock(datetime.fromtimestamp(SIM_NOW + 10, timezone.utc))


@pytest.fixture
def cw(sim, test_credentials):
    return boto3.client("cloudwatch", endpoint_url=sim.url, region_name=REGION)


@pytest.fixture
async def monitor(sim, test_credentials, clock):
    async with AwsSession(region=REGION, endpoint_url=sim.url, max_attempts=1) as aws:
        yield AlarmMonitor(aws, clock)


def make_alarm(cw, endpoint: str = "ep-a", **extra) -> str:
    name = f"test-{uuid.uuid4().hex[:8]}"
    cw.put_metric_alarm(
        AlarmName=name, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore", **extra,
    )
    return name


async def test_the_fleet_alarms_are_read_with_state_and_endpoint(sim, test_credentials, clock):
    cloudwatch = boto3.client("cloudwatch", endpoint_url=sim.url, region_name="us-east-1")

    def states() -> list:
        return cloudwatch.describe_alarms()["MetricAlarms"]

    # The simulator evaluates alarms as minutes pass: compare with a plain read that
    # saw the same states before and after smtop's (a transition in between: again).
    for _ in range(3):
        raw = states()
        async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1) as aws:
            snapshot = await AlarmMonitor(aws, clock).refresh(["llm-chat-canary"])
        if [(a["AlarmName"], a["StateValue"], a["StateTransitionedTimestamp"]) for a in states()] == [
            (a["AlarmName"], a["StateValue"], a["StateTransitionedTimestamp"]) for a in raw
        ]:
            break
    sagemaker = {a["AlarmName"]: a for a in raw if a["Namespace"] in ("AWS/SageMaker", "/aws/sagemaker/Endpoints")}
    metric = [a for a in snapshot.alarms if isinstance(a, MetricAlarm)]
    assert {a.name for a in metric} == set(sagemaker) and len(sagemaker) >= 5
    for alarm in metric:
        assert alarm.state == sagemaker[alarm.name]["StateValue"]
        assert alarm.endpoint == {d["Name"]: d["Value"] for d in sagemaker[alarm.name]["Dimensions"]}["EndpointName"]
        assert alarm.state_since == sagemaker[alarm.name]["StateTransitionedTimestamp"]
    assert snapshot.mute_notice is None
    assert {a.name for a in snapshot.for_endpoint("llm-chat-canary")} >= {"llm-chat-canary-p99-latency", "llm-chat-canary-5xx"}


async def test_alarms_of_other_namespaces_are_kept_only_when_they_name_an_endpoint(cw, monitor):
    endpoint = f"ep-{uuid.uuid4().hex[:6]}"
    cw.put_metric_alarm(
        AlarmName=f"{endpoint}-custom", Namespace="MyApp", MetricName="QueueDepth", Statistic="Average",
        Dimensions=[{"Name": "Model", "Value": endpoint}], Period=60, EvaluationPeriods=1, Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.put_metric_alarm(
        AlarmName=f"{endpoint}-unrelated", Namespace="MyApp", MetricName="QueueDepth", Statistic="Average",
        Dimensions=[{"Name": "Model", "Value": "something-else"}], Period=60, EvaluationPeriods=1, Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
    )
    names = {a.name: a for a in (await monitor.refresh([endpoint])).alarms}
    assert f"{endpoint}-custom" in names and names[f"{endpoint}-custom"].endpoint == endpoint
    assert f"{endpoint}-unrelated" not in names


async def test_an_alarm_created_from_the_form_reads_back_with_the_values_entered(cw, monitor):
    from dataclasses import replace

    name = f"form-{uuid.uuid4().hex[:8]}"
    topic = boto3.client("sns", endpoint_url=cw.meta.endpoint_url, region_name=REGION).create_topic(Name=f"t-{name}")["TopicArn"]
    draft = replace(
        initial_draft("llm-chat-canary", "AllTraffic"),
        name=name, threshold="1500", evaluation_periods="3", datapoints_to_alarm="2", topic_arn=topic,
    )
    assert not await monitor.exists(name)
    await monitor.put_alarm(draft)
    assert await monitor.exists(name)
    assert topic in await monitor.topics()
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm["Threshold"] == 1_500_000.0  # 1500 ms typed, microseconds stored
    assert (alarm["MetricName"], alarm["Namespace"], alarm["Statistic"]) == ("ModelLatency", "AWS/SageMaker", "Average")
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 3, 2)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["AlarmActions"] == [topic] and alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"EndpointName": "llm-chat-canary", "VariantName": "AllTraffic"}


async def test_acknowledge_and_unacknowledge_through_the_simulator(cw, monitor, clock):
    name = make_alarm(cw)
    alarm = (await monitor.refresh(["ep-a"])).get(name)
    me = boto3.client("sts", endpoint_url=cw.meta.endpoint_url, region_name=REGION).get_caller_identity()["Arn"]

    ack, warning = await monitor.acknowledge(alarm, timedelta(hours=1), "  rolling   back ")
    assert warning is None
    rule = cw.get_alarm_mute_rule(AlarmMuteRuleName=ack_rule_name(name))
    start = clock.now().replace(second=0, microsecond=0)
    assert rule["Rule"]["Schedule"]["Expression"] == f"at({start:%Y-%m-%dT%H:%M})"
    assert rule["Rule"]["Schedule"]["Duration"] == "PT1H1M"  # at() is to the minute: the mute covers the whole hour
    assert rule["MuteTargets"]["AlarmNames"] == [name] and rule["Status"] == "ACTIVE"
    assert me in rule["Description"] and "Note: rolling back" in rule["Description"]
    tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=alarm.arn)["Tags"]}
    assert tags[ACK_TAG_BY] == me and tags[ACK_TAG_NOTE] == "rolling back"
    assert tags[ACK_TAG_UNTIL] == (start + timedelta(minutes=61)).strftime("%Y-%m-%dT%H:%M:%SZ")

    shown = (await monitor.refresh(["ep-a"])).get(name)
    assert shown.ack is not None and shown.ack.by == me and shown.ack.note == "rolling back"
    assert shown.muted_until == start + timedelta(minutes=61) >= clock.now() + timedelta(hours=1)
    assert shown.muted_by.status == "ACTIVE"

    rules, warning = await monitor.unacknowledge(shown)
    assert rules == [ack_rule_name(name)] and warning is None
    with pytest.raises(ClientError):
        cw.get_alarm_mute_rule(AlarmMuteRuleName=ack_rule_name(name))
    assert cw.list_tags_for_resource(ResourceARN=alarm.arn)["Tags"] == []
    assert (await monitor.refresh(["ep-a"])).get(name).ack is None
    with pytest.raises(SmtopError, match="no smtop acknowledgement"):
        await monitor.unacknowledge(shown)


async def test_someone_elses_mute_rule_shows_as_muted_and_is_not_deleted(cw, monitor):
    name = make_alarm(cw)
    cw.put_alarm_mute_rule(
        Name=f"maint-{name}", Rule={"Schedule": {"Expression": "cron(0 2 * * *)", "Duration": "PT2H"}},
        MuteTargets={"AlarmNames": [name]},
    )
    alarm = (await monitor.refresh(["ep-a"])).get(name)
    assert alarm.muted_by.name == f"maint-{name}" and alarm.ack is None and not alarm.muted_by.one_time
    with pytest.raises(SmtopError, match=f"muted by maint-{name}, which smtop did not create"):
        await monitor.unacknowledge(alarm)
    assert cw.get_alarm_mute_rule(AlarmMuteRuleName=f"maint-{name}")["Name"] == f"maint-{name}"


async def test_a_denied_mute_rule_says_so_and_nothing_else_is_changed(sim, cw, test_credentials, clock):
    name = make_alarm(cw, AlarmActions=["arn:aws:sns:eu-west-1:123456789012:pager"])
    proxy = OperationRecorder(sim.url)
    await proxy.start()
    try:
        proxy.fail("PutAlarmMuteRule", 400, "AccessDeniedException", "User is not authorized to perform cloudwatch:PutAlarmMuteRule")
        async with AwsSession(region=REGION, endpoint_url=proxy.url, max_attempts=1) as aws:
            monitor = AlarmMonitor(aws, clock)
            alarm = (await monitor.refresh(["ep-a"])).get(name)
            with pytest.raises(AccessDeniedError) as error:
                await monitor.acknowledge(alarm, timedelta(hours=1))
    finally:
        await proxy.stop()
    message = str(error.value)
    assert "cloudwatch:PutAlarmMuteRule" in message and "NOT acknowledged" in message
    # No fallback: the only write attempted was the refused mute rule.
    writes = [op for op in proxy.operations if not op.split(":")[1].startswith(("Describe", "List", "Get"))]
    assert writes == ["monitoring:PutAlarmMuteRule"]
    assert "sts:GetCallerIdentity" in proxy.operations
    after = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert after["ActionsEnabled"] is True


async def test_plain_moto_lacks_mute_rules_the_alarms_still_show(aws, clock, boto):
    boto("cloudwatch").put_metric_alarm(
        AlarmName="a", Namespace="AWS/SageMaker", MetricName="ModelLatency", Statistic="Average",
        Dimensions=[{"Name": "EndpointName", "Value": "e"}], Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    monitor = AlarmMonitor(aws, clock)
    snapshot = await monitor.refresh(["e"])
    assert [a.name for a in snapshot.alarms] == ["a"]
    assert snapshot.ack_unavailable.startswith("Acknowledging is not available here") and "ListAlarmMuteRules" in snapshot.ack_unavailable
    with pytest.raises(SmtopError, match="NOT acknowledged; its actions are unchanged"):
        await monitor.acknowledge(snapshot.alarms[0], timedelta(hours=1))
    assert boto("cloudwatch").describe_alarms()["MetricAlarms"][0]["ActionsEnabled"] is True


async def test_read_only_refuses_every_alarm_change_before_sending(sim, cw, monitor, test_credentials, clock):
    name = make_alarm(cw)
    await monitor.acknowledge((await monitor.refresh(["ep-a"])).get(name), timedelta(hours=1))
    async with AwsSession(region=REGION, endpoint_url=sim.url, max_attempts=1, read_only=True) as aws:
        read_only = AlarmMonitor(aws, clock)
        alarm = (await read_only.refresh(["ep-a"])).get(name)
        assert alarm.ack is not None  # reading works
        with pytest.raises(ReadOnlyError):
            await read_only.acknowledge(alarm, timedelta(hours=2))
        with pytest.raises(ReadOnlyError):
            await read_only.put_alarm(initial_draft("ep-a", "AllTraffic"))
        with pytest.raises(ReadOnlyError):
            await read_only.unacknowledge(alarm)
    rule = cw.get_alarm_mute_rule(AlarmMuteRuleName=ack_rule_name(name))
    assert rule["Rule"]["Schedule"]["Duration"] in ("PT1H", "PT1H1M")  # the first ack, unchanged
    assert not cw.describe_alarms(AlarmNamePrefix="ep-a-ModelLatency")["MetricAlarms"]


MUTE_RULE_OPERATIONS = ("ListAlarmMuteRules", "GetAlarmMuteRule", "PutAlarmMuteRule", "DeleteAlarmMuteRule")


async def test_a_region_without_mute_rules_lists_its_alarms_and_says_acknowledging_is_unavailable(monkeypatch, tmp_path, clock):
    """The simulator answers the mute-rule operations as a region that lacks
    them does (InvalidAction through CloudWatch's query-compatible JSON):
    the alarms still show, and acknowledging says why it cannot work."""
    isolated_aws_env(monkeypatch, tmp_path)
    process = private_fault_sim()
    try:
        cw = boto3.client("cloudwatch", endpoint_url=process.url, region_name=REGION)
        name = make_alarm(cw, AlarmActions=["arn:aws:sns:eu-west-1:123456789012:pager"])
        for operation in MUTE_RULE_OPERATIONS:
            process.inject("unsupported", "cloudwatch", operation)
        async with AwsSession(region=REGION, endpoint_url=process.url, max_attempts=1) as aws:
            monitor = AlarmMonitor(aws, clock)
            snapshot = await monitor.refresh(["ep-a"])
            assert [a.name for a in snapshot.alarms] == [name]
            assert snapshot.ack_unavailable.startswith("Acknowledging is not available here")
            assert "ListAlarmMuteRules" in snapshot.ack_unavailable and "InvalidAction" in snapshot.ack_unavailable
            assert snapshot.mute_notice == snapshot.ack_unavailable
            with pytest.raises(UnsupportedOperationError, match="NOT acknowledged; its actions are unchanged"):
                await monitor.acknowledge(snapshot.alarms[0], timedelta(hours=1))
        assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is True
        assert process.faults()["calls"]["cloudwatch:ListAlarmMuteRules"] == 1  # no retry of an answer that will not change
    finally:
        process.stop()


async def test_composite_alarms_are_listed_with_their_rule_children_and_endpoints(cw, monitor):
    """DescribeAlarms returns composites only when AlarmTypes asks (API reference, DescribeAlarms);
    a composite concerns the endpoints of the alarms its rule names, through nested composites too."""
    endpoint = f"ep-{uuid.uuid4().hex[:6]}"
    a, b = make_alarm(cw, endpoint), make_alarm(cw, endpoint)
    elsewhere = f"{endpoint}-queue"
    cw.put_metric_alarm(
        AlarmName=elsewhere, Namespace="MyApp", MetricName="QueueDepth", Statistic="Average",
        Dimensions=[{"Name": "Queue", "Value": "jobs"}], Period=60, EvaluationPeriods=1, Threshold=5,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore",
    )
    cw.set_alarm_state(AlarmName=a, StateValue="ALARM", StateReason="test")
    cw.put_composite_alarm(AlarmName=f"{endpoint}-pages", AlarmRule=f'ALARM({a}) AND NOT OK("{b}")', AlarmActions=["arn:aws:sns:eu-west-1:123456789012:pager"])
    cw.put_composite_alarm(AlarmName=f"{endpoint}-nested", AlarmRule=f"ALARM({endpoint}-pages) OR ALARM({elsewhere})")
    cw.put_composite_alarm(AlarmName=f"{endpoint}-unrelated", AlarmRule=f"ALARM({elsewhere})")
    cw.set_alarm_state(AlarmName=b, StateValue="INSUFFICIENT_DATA", StateReason="test")  # the composites follow at once

    snapshot = await monitor.refresh([endpoint])
    pages, nested = snapshot.get(f"{endpoint}-pages"), snapshot.get(f"{endpoint}-nested")
    assert isinstance(pages, CompositeAlarm) and isinstance(nested, CompositeAlarm)
    assert snapshot.get(f"{endpoint}-unrelated") is None and snapshot.get(elsewhere) is None
    # ALARM(a) is TRUE and OK(b) is FALSE: the rule holds, so the composite is in ALARM.
    assert pages.state == "ALARM" and pages.rule == f'ALARM({a}) AND NOT OK("{b}")'
    assert pages.children == (ChildAlarm(a, "ALARM"), ChildAlarm(b, "INSUFFICIENT_DATA"))
    assert pages.firing_children == (a,) and pages.endpoints == (endpoint,) and len(pages.alarm_actions) == 1
    assert nested.state == "ALARM" and nested.endpoints == (endpoint,)
    assert nested.children == (ChildAlarm(f"{endpoint}-pages", "ALARM"), ChildAlarm(elsewhere, "INSUFFICIENT_DATA"))
    assert {x.name for x in snapshot.for_endpoint(endpoint)} == {a, b, f"{endpoint}-pages", f"{endpoint}-nested"}
    assert endpoint in snapshot.firing_endpoints
    # Firing composites come before the metric alarms they combine.
    firing = [x.name for x in snapshot.alarms if x.endpoint_names == (endpoint,) and x.firing]
    assert firing[:2] == sorted([f"{endpoint}-nested", f"{endpoint}-pages"]) and firing[2] == a
    # Its history needs AlarmTypes too (DescribeAlarmHistory returns metric alarms' only without it).
    history = await monitor.history(f"{endpoint}-pages")
    assert [(h.kind, h.summary) for h in history if h.kind != "Action"] == [
        ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"), ("ConfigurationUpdate", f'Alarm "{endpoint}-pages" created'),
    ]
    assert [h.summary for h in history if h.kind == "Action"] == ["Successfully executed action arn:aws:sns:eu-west-1:123456789012:pager"]
    # Mute rules target alarms by name, composites included (API reference, MuteTargets): acknowledging is the same.
    ack, warning = await monitor.acknowledge(pages, timedelta(minutes=30), "on it")
    assert warning is None
    assert cw.get_alarm_mute_rule(AlarmMuteRuleName=ack_rule_name(pages.name))["MuteTargets"]["AlarmNames"] == [pages.name]
    assert (await monitor.refresh([endpoint])).get(pages.name).ack.note == "on it"


class CompositeDenied(FaultProxy):
    """A role whose cloudwatch:DescribeAlarms is scoped to some alarms: asking for composites is refused."""

    async def _handle(self, request):
        body = await request.read()
        if request.headers.get("X-Amz-Target", "").endswith(".DescribeAlarms") and b"CompositeAlarm" in body:
            from aiohttp import web

            return web.json_response(
                {"__type": "AccessDeniedException", "message": "not authorized to perform cloudwatch:DescribeAlarms on *"},
                status=400, headers={"x-amzn-query-error": "AccessDenied;Sender"},
            )
        return await super()._handle(request)


async def test_a_role_that_cannot_read_composites_still_sees_its_metric_alarms(sim, cw, test_credentials, clock):
    name = make_alarm(cw)
    proxy = CompositeDenied(sim.url)
    await proxy.start()
    try:
        async with AwsSession(region=REGION, endpoint_url=proxy.url, max_attempts=1) as aws:
            snapshot = await AlarmMonitor(aws, clock).refresh(["ep-a"])
    finally:
        await proxy.stop()
    assert snapshot.get(name) is not None and not any(isinstance(a, CompositeAlarm) for a in snapshot.alarms)
    assert snapshot.composite_notice.startswith("Composite alarms are not shown: Access denied")
    assert 'cloudwatch:DescribeAlarms on "*"' in snapshot.composite_notice
