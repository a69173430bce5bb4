"""CloudTrail in the simulator: calls are recorded as CloudTrail records them, and
LookupEvents answers like the service (attributes, time range, pages, 2 TPS).

Everything goes over HTTP with boto3.  Each test writes in a region of its own
that no other test uses, so it sees exactly the events it caused (and has its
own LookupEvents quota).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from smtop.sim.cloudtrail import DEMO_ONCALL
from smtop.sim.fleet import DEMO_FLEET
from smtop.sim.people import ALICE, BOB, episodes
from smtop.sim.traffic import TrafficModel
from tests.conftest import SIM_NOW, SIM_SEED

ROLE = "arn:aws:iam::123456789012:role/test"
_last_lookup: dict[str, float] = {}


def client(sim, service: str, region: str, key: str = "testing"):
    return boto3.client(
        service,
        endpoint_url=sim.url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


def lookup(trail, **params) -> dict:
    """One LookupEvents call, spaced from the previous one in the region (2 per second)."""
    region = trail.meta.region_name
    wait = _last_lookup.get(region, 0.0) + 0.55 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    try:
        return trail.lookup_events(**params)
    finally:
        _last_lookup[region] = time.monotonic()


def variants(model: str) -> list[dict]:
    return [{"VariantName": "AllTraffic", "ModelName": model, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}]


def test_management_calls_are_recorded_with_the_callers_identity(sim):
    region = "me-south-1"
    alice = client(sim, "sagemaker", region, ALICE.access_key_id)
    stranger = client(sim, "sagemaker", region, "AKIASTRANGEREXAMPLE9")
    alice.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    alice.create_endpoint_config(EndpointConfigName="c", ProductionVariants=variants("m"))
    alice.create_endpoint(EndpointName="ep", EndpointConfigName="c")
    alice.describe_endpoint(EndpointName="ep")  # reads are management events too
    alice.list_endpoints()
    with pytest.raises(ClientError):
        alice.create_endpoint(EndpointName="ep2", EndpointConfigName="missing")
    stranger.create_model(ModelName="m2", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})

    # Only SageMaker's events: the session simulator is shared, and a CloudWatch
    # TagResource once showed up in this region from elsewhere in the suite.
    sagemaker_only = [{"AttributeKey": "EventSource", "AttributeValue": "sagemaker.amazonaws.com"}]
    events = lookup(client(sim, "cloudtrail", region), LookupAttributes=sagemaker_only)["Events"]

    assert [(e["EventName"], e["Username"], e["ReadOnly"]) for e in events] == [
        ("CreateModel", "AKIASTRANGEREXAMPLE9", "false"),
        ("CreateEndpoint", "alice", "false"),
        ("ListEndpoints", "alice", "true"),
        ("DescribeEndpoint", "alice", "true"),
        ("CreateEndpoint", "alice", "false"),
        ("CreateEndpointConfig", "alice", "false"),
        ("CreateModel", "alice", "false"),
    ]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    stranger_record, failed, described, created = records[0], records[1], records[3], records[4]
    # "CloudTrail record contents": a read is readOnly, keeps its request, and has no response elements.
    assert described["readOnly"] is True and described["managementEvent"] is True and described["eventType"] == "AwsApiCall"
    assert described["requestParameters"] == {"endpointName": "ep"} and described["responseElements"] is None
    assert {"ResourceType": "AWS::SageMaker::Endpoint", "ResourceName": "ep"} in events[3]["Resources"]
    assert created["userIdentity"]["type"] == "IAMUser"
    assert created["userIdentity"]["arn"] == "arn:aws:iam::123456789012:user/alice"
    assert created["userIdentity"]["accessKeyId"] == ALICE.access_key_id
    assert created["sourceIPAddress"] == ALICE.source_ip
    assert created["eventSource"] == "sagemaker.amazonaws.com"
    assert created["awsRegion"] == region
    assert created["readOnly"] is False and created["eventType"] == "AwsApiCall"
    assert created["requestParameters"] == {"endpointName": "ep", "endpointConfigName": "c"}
    assert created["responseElements"]["endpointArn"].endswith(":endpoint/ep")
    assert "errorCode" not in created
    assert failed["errorCode"] == "ValidationException"
    assert "missing" in failed["errorMessage"]
    assert failed["responseElements"] is None
    assert stranger_record["userIdentity"]["userName"] == "AKIASTRANGEREXAMPLE9"
    assert {"ResourceType": "AWS::SageMaker::Endpoint", "ResourceName": "ep"} in events[4]["Resources"]
    assert len({e["EventId"] for e in events}) == len(events)
    # eventTime comes from the simulator's clock, which started at SIM_NOW.
    assert all(e["EventTime"] >= datetime.fromtimestamp(SIM_NOW, timezone.utc) for e in events)


def test_reads_are_in_event_history_and_data_events_are_not(sim):
    """What event history holds (see smtop/sim/cloudtrail.py for the pages): every
    management call, reads with ReadOnly "true", CloudTrail's own LookupEvents
    among them; no data event and none of the calls CloudWatch's and CloudWatch
    Logs' CloudTrail pages list as not logged."""
    region = "ca-west-1"
    key = "AKIAREADSEXAMPLE0001"
    cloudwatch, logs, sagemaker = (client(sim, service, region, key) for service in ("cloudwatch", "logs", "sagemaker"))
    now = datetime.now(timezone.utc)
    hour_ago = now - timedelta(hours=1)
    cloudwatch.put_metric_data(Namespace="Test", MetricData=[{"MetricName": "m", "Value": 1.0}])
    cloudwatch.list_metrics(Namespace="Test")
    cloudwatch.get_metric_statistics(Namespace="Test", MetricName="m", StartTime=hour_ago, EndTime=now, Period=60, Statistics=["Sum"])
    cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {"Namespace": "Test", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}],
        StartTime=hour_ago, EndTime=now,
    )
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": int(now.timestamp() * 1000), "message": "x"}])
    logs.get_log_events(logGroupName="g", logStreamName="s")
    logs.filter_log_events(logGroupName="g")
    cloudwatch.describe_alarms()
    logs.describe_log_groups()
    sagemaker.list_endpoints()
    trail = client(sim, "cloudtrail", region, key)

    def mine(read_only: str) -> list[dict]:
        events = lookup(trail, LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": read_only}])["Events"]
        return [e for e in events if e["AccessKeyId"] == key]

    writes = mine("false")
    assert [(e["EventName"], e["EventSource"]) for e in writes] == [
        ("CreateLogStream", "logs.amazonaws.com"),
        ("CreateLogGroup", "logs.amazonaws.com"),
    ]
    reads = mine("true")
    assert [(e["EventName"], e["EventSource"]) for e in reads] == [
        ("LookupEvents", "cloudtrail.amazonaws.com"),  # the lookup just above
        ("ListEndpoints", "sagemaker.amazonaws.com"),
        ("DescribeLogGroups", "logs.amazonaws.com"),
        ("DescribeAlarms", "monitoring.amazonaws.com"),
    ]
    assert {e["ReadOnly"] for e in reads} == {"true"} and {e["ReadOnly"] for e in writes} == {"false"}
    assert all(json.loads(e["CloudTrailEvent"])["readOnly"] is True for e in reads)


def test_a_key_made_in_iam_shows_its_user(sim):
    region = "af-south-1"
    iam = client(sim, "iam", region)
    iam.create_user(UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]["AccessKeyId"]
    client(sim, "sagemaker", region, key).create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    found = lookup(client(sim, "cloudtrail", region), LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": key}])
    assert [(e["EventName"], e["Username"]) for e in found["Events"]] == [("CreateModel", "carol")]


def test_sts_names_the_same_principal_as_the_trail(sim):
    """GetCallerIdentity (who acknowledged an alarm) agrees with the trail's userIdentity."""
    region = "af-south-1"
    iam = client(sim, "iam", region)
    iam.create_user(UserName="dave")
    issued = iam.create_access_key(UserName="dave")["AccessKey"]["AccessKeyId"]
    arns = {key: client(sim, "sts", region, key).get_caller_identity()["Arn"] for key in (DEMO_ONCALL.access_key_id, ALICE.access_key_id, "AKIASTRANGEREXAMPLE8", issued)}
    assert arns == {
        DEMO_ONCALL.access_key_id: "arn:aws:sts::123456789012:assumed-role/OnCallEngineer/oncall",
        ALICE.access_key_id: "arn:aws:iam::123456789012:user/alice",
        "AKIASTRANGEREXAMPLE8": "arn:aws:iam::123456789012:user/AKIASTRANGEREXAMPLE8",
        issued: "arn:aws:iam::123456789012:user/dave",
    }


def test_lookup_attributes_and_pages_newest_first(sim):
    region = "ap-east-1"  # no other test writes here (the hostile tests use ap-northeast-3)
    callers = {ALICE.name: client(sim, "sagemaker", region, ALICE.access_key_id), BOB.name: client(sim, "sagemaker", region, BOB.access_key_id)}
    made = []
    for i in range(12):
        who = "alice" if i % 2 == 0 else "bob"
        callers[who].create_model(ModelName=f"model-{i}", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
        made.append((f"model-{i}", who))
    trail = client(sim, "cloudtrail", region)

    pages, token = [], None
    while True:
        page = lookup(trail, MaxResults=5, **({"NextToken": token} if token else {}))
        pages.append(page["Events"])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [5, 5, 2]
    listed = [e for p in pages for e in p]
    assert [e["Resources"][0]["ResourceName"] for e in listed] == [name for name, _ in reversed(made)]

    bobs = lookup(trail, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "bob"}])["Events"]
    assert [e["Resources"][0]["ResourceName"] for e in bobs] == [n for n, who in reversed(made) if who == "bob"]
    one = lookup(trail, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "model-3"}])["Events"]
    assert [(e["EventName"], e["Username"]) for e in one] == [("CreateModel", "bob")]
    by_id = lookup(trail, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": listed[7]["EventId"]}])["Events"]
    assert [e["EventId"] for e in by_id] == [listed[7]["EventId"]]


def test_time_range_matches_the_peoples_schedule(sim):
    """The demo trail (us-east-1, read only here) holds exactly the scheduled calls of the window."""
    model = TrafficModel(DEMO_FLEET, SIM_SEED)
    start, end = SIM_NOW - 3 * 3600, SIM_NOW
    played = [ep for ep in episodes(model, start, end) if ep[-1].at < end - 10]
    window = (SIM_NOW - 5400, SIM_NOW - 1800)
    expected = sorted(
        ((int(a.at), a.operation, a.who.name) for ep in played for a in ep if window[0] <= int(a.at) <= window[1]),
        reverse=True,
    )
    trail = client(sim, "cloudtrail", "us-east-1")
    found, token = [], None
    while True:
        params = {
            "LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "sagemaker.amazonaws.com"}],
            "StartTime": datetime.fromtimestamp(window[0], timezone.utc),
            "EndTime": datetime.fromtimestamp(window[1], timezone.utc),
        }
        page = lookup(trail, **params, **({"NextToken": token} if token else {}))
        found += [(int(e["EventTime"].timestamp()), e["EventName"], e["Username"]) for e in page["Events"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(expected) > 10
    assert sorted(found, reverse=True) == expected
    assert [t for t, _, _ in found] == sorted((t for t, _, _ in found), reverse=True)


def test_invalid_requests_and_the_two_per_second_quota(sim):
    trail = client(sim, "cloudtrail", "il-central-1")
    cases = [
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "Username", "AttributeValue": "a"},
                    {"AttributeKey": "EventName", "AttributeValue": "b"},
                ]
            },
            "InvalidLookupAttributesException",
        ),
        (
            {"StartTime": datetime(2026, 1, 2, tzinfo=timezone.utc), "EndTime": datetime(2026, 1, 1, tzinfo=timezone.utc)},
            "InvalidTimeRangeException",
        ),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as raised:
            lookup(trail, **params)
        assert raised.value.response["Error"]["Code"] == code

    time.sleep(1.1)
    # Six at once: sequential calls on a loaded machine can spread over more
    # than a second and all pass; six concurrent ones cannot.
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(lambda _: _outcome(trail), range(6)))
    assert 1 <= outcomes.count("ok") <= 4 and outcomes.count("ThrottlingException") >= 2, outcomes


def _outcome(trail) -> str:
    try:
        trail.lookup_events(MaxResults=1)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "ok"


def test_update_endpoint_is_updating_for_a_while_then_in_service(sim):
    sagemaker = client(sim, "sagemaker", "ap-south-2")
    sagemaker.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    sagemaker.create_endpoint_config(EndpointConfigName="v1", ProductionVariants=variants("m"))
    sagemaker.create_endpoint_config(
        EndpointConfigName="v2",
        ProductionVariants=[{**variants("m")[0], "InitialInstanceCount": 3, "InitialVariantWeight": 0.5}],
    )
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="v1")

    sagemaker.update_endpoint(EndpointName="ep", EndpointConfigName="v2")
    updating = sagemaker.describe_endpoint(EndpointName="ep")
    assert (updating["EndpointStatus"], updating["EndpointConfigName"]) == ("Updating", "v1")
    with pytest.raises(ClientError) as raised:
        sagemaker.update_endpoint(EndpointName="ep", EndpointConfigName="v1")
    assert "in-progress" in raised.value.response["Error"]["Message"]
    done = _wait_in_service(sagemaker, "ep")
    assert done["EndpointConfigName"] == "v2"
    assert [(v["CurrentInstanceCount"], v["CurrentWeight"]) for v in done["ProductionVariants"]] == [(3, 0.5)]

    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName="ep", DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredWeight": 0.2, "DesiredInstanceCount": 2}]
    )
    (variant,) = sagemaker.describe_endpoint(EndpointName="ep")["ProductionVariants"]
    assert (variant["CurrentWeight"], variant["DesiredWeight"], variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]) == (0.5, 0.2, 3, 2)
    (variant,) = _wait_in_service(sagemaker, "ep")["ProductionVariants"]
    assert (variant["CurrentWeight"], variant["CurrentInstanceCount"]) == (0.2, 2)
    with pytest.raises(ClientError):
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName="ep", DesiredWeightsAndCapacities=[{"VariantName": "nope", "DesiredWeight": 1.0}]
        )


def _wait_in_service(sagemaker, name: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = sagemaker.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] == "InService" or time.monotonic() > deadline:
            assert described["EndpointStatus"] == "InService"
            return described
        time.sleep(0.2)


def test_the_peoples_schedule_is_fixed_by_the_seed():
    a = episodes(TrafficModel(DEMO_FLEET, 7), SIM_NOW - 3 * 3600, SIM_NOW)
    b = episodes(TrafficModel(DEMO_FLEET, 7), SIM_NOW - 3 * 3600, SIM_NOW)
    c = episodes(TrafficModel(DEMO_FLEET, 8), SIM_NOW - 3 * 3600, SIM_NOW)
    assert a == b and a != c
    model = TrafficModel(DEMO_FLEET, 7)
    canary = next(e for e in DEMO_FLEET if e.name == "llm-chat-canary").variants[0]
    deploys = [ep[1] for ep in a if len(ep) == 3 and ep[1].parameters.get("EndpointName") == "llm-chat-canary"]
    assert deploys
    for deploy in deploys:  # every canary deploy comes shortly before a bad spell, which it did not overlap
        assert not model.degraded(canary, deploy.at) and model.degraded(canary, deploy.at + 61)
