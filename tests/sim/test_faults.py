"""The simulator's fault modes, through aiobotocore over HTTP and the control API.

Each fault must look to botocore exactly like the real AWS failure does: the
error code parsed from the service's own protocol (JSON, CBOR-compatible
CloudWatch, query XML for STS), so smtop's error mapping is exercised as in
production.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from smtop.aws.errors import translate
from smtop.aws.session import AwsSession
from smtop.errors import AccessDeniedError, ConnectionFailedError, CredentialsError, ThrottledError, UnsupportedOperationError
from smtop.sim.faults import FaultSpecError, parse_fault_spec
from smtop.sim.process import start_sim
from tests.conftest import SIM_NOW, isolated_aws_env, private_fault_sim

REGION = "eu-north-1"

# service -> (a cheap read call, throttle code, deny code, expired code) as AWS sends them.
CALLS = {
    "cloudwatch": (lambda c: c.describe_alarms(), "Throttling", "AccessDenied", "ExpiredToken"),
    "logs": (lambda c: c.describe_log_groups(), "ThrottlingException", "AccessDeniedException", "ExpiredTokenException"),
    "sagemaker": (lambda c: c.list_endpoints(), "ThrottlingException", "AccessDeniedException", "ExpiredTokenException"),
    "sts": (lambda c: c.get_caller_identity(), "Throttling", "AccessDenied", "ExpiredToken"),
    "cloudtrail": (lambda c: c.lookup_events(), "ThrottlingException", "AccessDeniedException", "ExpiredTokenException"),
}
OPERATIONS = {"cloudwatch": "DescribeAlarms", "logs": "DescribeLogGroups", "sagemaker": "ListEndpoints", "sts": "GetCallerIdentity", "cloudtrail": "LookupEvents"}


@pytest.fixture(scope="module")
def fsim():
    """A simulator of its own: faults and outages must not reach other tests."""
    process = private_fault_sim()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(autouse=True)
def credentials(monkeypatch, tmp_path):
    isolated_aws_env(monkeypatch, tmp_path)


@pytest.fixture(autouse=True)
def no_faults_left(fsim):
    fsim.clear_faults()
    yield
    fsim.clear_faults()


def session(fsim, attempts: int = 1) -> AwsSession:
    return AwsSession(region=REGION, endpoint_url=fsim.url, max_attempts=attempts)


async def call(aws: AwsSession, service: str):
    client = await aws.client(service)
    return await CALLS[service][0](client)


async def test_errors_come_in_each_services_own_protocol(fsim):
    # One session for the three kinds: opening five clients is most of the cost.
    async with session(fsim) as aws:
        for kind, column in (("throttle", 1), ("deny", 2), ("expired", 3)):
            fsim.clear_faults()
            fsim.inject(kind)
            for service, spec in CALLS.items():
                with pytest.raises(ClientError) as caught:
                    await call(aws, service)
                assert caught.value.response["Error"]["Code"] == spec[column], (kind, service)
            rule = fsim.faults()["faults"][0]
            assert rule["injected"] == rule["matched"] == len(CALLS), kind


async def test_smtop_reads_each_fault_as_the_error_a_person_acts_on(fsim):
    async with session(fsim) as aws:
        logs = await aws.client("logs")
        fsim.inject("deny", "logs", "FilterLogEvents")
        with pytest.raises(ClientError) as denied:
            await logs.filter_log_events(logGroupName="g")
        await logs.describe_log_groups()  # another operation of the same service still works
        error = translate(denied.value, service="logs")
        assert isinstance(error, AccessDeniedError) and error.action == "logs:FilterLogEvents"
        assert "logs:FilterLogEvents" in str(error)

        fsim.clear_faults()
        fsim.inject("expired", "sts")
        with pytest.raises(ClientError) as expired:
            await (await aws.client("sts")).get_caller_identity()
        error = translate(expired.value, service="sts", profile="oncall")
        assert isinstance(error, CredentialsError) and "aws sso login --profile oncall" in str(error)

        fsim.clear_faults()
        fsim.inject("throttle", "cloudwatch")
        with pytest.raises(ThrottledError, match="throttled"):
            with aws.errors("cloudwatch", "DescribeAlarms"):
                await (await aws.client("cloudwatch")).describe_alarms()


async def test_a_share_of_calls_fails_and_the_same_seed_fails_the_same_calls():
    # Two simulators of the same seed, started side by side; boto3's clients share one loaded model.
    processes = [start_sim(traffic=False, seed=11, now=SIM_NOW, extra_args=["--no-fleet", "--fault", "throttle:sagemaker,share=0.3"]) for _ in range(2)]
    patterns = []
    try:
        for process in processes:
            process.wait_ready(20)
            sagemaker = boto3.client(
                "sagemaker", endpoint_url=process.url, region_name=REGION, aws_access_key_id="testing",
                aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}),
            )
            outcome = []
            for _ in range(40):
                try:
                    sagemaker.list_endpoints()
                    outcome.append(0)
                except ClientError:
                    outcome.append(1)
            patterns.append(outcome)
            state = process.faults()
            assert state["faults"][0]["injected"] == sum(outcome)
            await call_other_service_unharmed(process)
    finally:
        for process in processes:
            process.stop()
    assert patterns[0] == patterns[1]
    assert 0.1 <= sum(patterns[0]) / 40 <= 0.5


async def call_other_service_unharmed(process) -> None:
    async with session(process) as aws:
        await call(aws, "logs")


async def test_latency_delays_only_the_chosen_service(fsim):
    fsim.inject("latency", "sagemaker", seconds=0.4)
    async with session(fsim) as aws:
        await call(aws, "logs")  # open both clients before timing
        await call(aws, "sagemaker")
        began = time.monotonic()
        await call(aws, "sagemaker")
        slow = time.monotonic() - began
        began = time.monotonic()
        await call(aws, "logs")
        fast = time.monotonic() - began
    assert slow >= 0.4 and fast < 0.3


async def test_dropped_connections_fail_and_botocore_retries_them(fsim):
    fsim.inject("drop", "sagemaker", count=2)
    async with session(fsim, attempts=1) as aws:
        with pytest.raises(ConnectionFailedError):
            with aws.errors("sagemaker", "ListEndpoints"):
                await call(aws, "sagemaker")
    fsim.reset_calls()
    # The second drop is used up by the first attempt here; the retry gets through.
    async with session(fsim, attempts=3) as aws:
        reply = await call(aws, "sagemaker")
    assert reply["Endpoints"] == []
    assert fsim.faults()["calls"]["sagemaker:ListEndpoints"] == 2


def test_the_simulators_own_callers_are_counted_apart(fsim):
    """A count of the clients' calls (bench/cost.py) holds no call of the
    simulator's people deploying: they sign with keys of their own."""
    from smtop.sim.people import BOB

    fsim.reset_calls()
    for key in (BOB.access_key_id, "someone-else"):
        client = boto3.client(
            "sagemaker", region_name=REGION, endpoint_url=fsim.url, aws_access_key_id=key,
            aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1}),
        )
        client.list_endpoints()
    state = fsim.faults()
    assert state["calls"]["sagemaker:ListEndpoints"] == 1
    assert state["own_calls"]["sagemaker:ListEndpoints"] == 1
    fsim.reset_calls()
    assert fsim.faults()["own_calls"] == {}


async def test_an_outage_refuses_calls_then_the_server_is_back_with_its_state(fsim):
    group = f"/outage/{time.time_ns()}"
    boto = boto3.client("logs", region_name=REGION, endpoint_url=fsim.url, config=Config(retries={"total_max_attempts": 1}))
    boto.create_log_group(logGroupName=group)
    url = fsim.url
    fsim.outage(1.5)
    await asyncio.sleep(0.7)  # the listener closes within its 0.5 s poll
    async with session(fsim) as aws:
        with pytest.raises(ConnectionFailedError):
            with aws.errors("logs", "DescribeLogGroups"):
                await call(aws, "logs")
        deadline = time.monotonic() + 10
        while True:
            try:
                with aws.errors("logs", "DescribeLogGroups"):
                    reply = await (await aws.client("logs")).describe_log_groups(logGroupNamePrefix=group)
                break
            except ConnectionFailedError:
                assert time.monotonic() < deadline, "the simulator did not come back"
                await asyncio.sleep(0.2)
    assert [g["logGroupName"] for g in reply["logGroups"]] == [group]
    assert fsim.url == url and fsim.running


def test_control_api_shows_validates_and_clears(fsim):
    state = fsim.inject("throttle", "logs", "FilterLogEvents", share=0.5, count=3)
    assert state["faults"] == [
        {"kind": "throttle", "service": "logs", "operation": "FilterLogEvents", "share": 0.5, "seconds": 0.0, "count": 3, "matched": 0, "injected": 0}
    ]
    for bad, reason in [
        ({"kind": "explode"}, "unknown fault kind"),
        ({"kind": "throttle", "share": 2}, "share must be between 0 and 1"),
        ({"kind": "latency"}, "needs seconds > 0"),
        ({"kind": "deny", "service": "logs\x1b[31m"}, "is not a service or operation name"),
        ({"kind": "deny", "colour": "red"}, "unknown fault field"),
    ]:
        with pytest.raises(urllib.error.HTTPError) as caught:
            fsim._control("POST", "faults", bad)
        assert caught.value.code == 400 and reason in json.loads(caught.value.read())["error"]
    assert len(fsim.faults()["faults"]) == 1  # a rejected rule adds nothing
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(f"{fsim.url}/_smtop/faults", data=b"{not json", method="POST"))
    assert caught.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as caught:
        fsim._control("GET", "nothing-here")
    assert caught.value.code == 404
    assert fsim.clear_faults()["faults"] == []


def test_fault_specs_on_the_command_line():
    rule = parse_fault_spec("deny:logs:FilterLogEvents")
    assert (rule.kind, rule.service, rule.operation, rule.share) == ("deny", "logs", "FilterLogEvents", 1.0)
    rule = parse_fault_spec("latency,seconds=0.5,count=2")
    assert (rule.kind, rule.service, rule.seconds, rule.count) == ("latency", None, 0.5, 2)
    for bad in ["", "throttle,share=x", "throttle,speed=2", "drop:sagemaker,count=0", "latency,seconds=9999"]:
        with pytest.raises(FaultSpecError):
            parse_fault_spec(bad)
    done = subprocess.run(
        [sys.executable, "-m", "smtop.sim", "--port", "0", "--fault", "throttle,share=1.5"],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 2
    assert "share must be between 0 and 1" in done.stderr and "Traceback" not in done.stderr


# What an endpoint answers for an operation it lacks, per protocol, and where AWS says so:
# - query (STS, SNS, CloudWatch over query): InvalidAction, HTTP 400, the "Common Errors"
#   page of each query API reference ("The action or operation requested is invalid");
# - JSON 1.1 (SageMaker, Logs, CloudTrail): com.amazon.coral.service#UnknownOperationException,
#   HTTP 400, the code AWS's JSON front ends give (botocore's JSON parser keeps what follows '#');
# - REST-JSON (SageMaker Runtime): UnknownOperationException in X-Amzn-ErrorType with HTTP 404
#   (botocore's Lex V2 Models model: "you receive an HTTP 404 - UnknownOperationException");
# - CloudWatch over JSON 1.0 or RPC v2 CBOR: awsQueryCompatible in its model, so the query code
#   travels in x-amzn-query-error and botocore parses InvalidAction, keeping the JSON code in
#   Error.QueryErrorCode.
UNSUPPORTED = {
    "sagemaker": ("UnknownOperationException", 400),
    "logs": ("UnknownOperationException", 400),
    "cloudtrail": ("UnknownOperationException", 400),
    "sts": ("InvalidAction", 400),
    "sns": ("InvalidAction", 400),
    "cloudwatch": ("InvalidAction", 400),
}


async def test_unsupported_answers_each_service_in_its_own_protocol(fsim):
    calls = {**{s: spec[0] for s, spec in CALLS.items()}, "sns": lambda c: c.list_topics()}
    operations = {**OPERATIONS, "sns": "ListTopics"}
    fsim.inject("unsupported")
    async with session(fsim) as aws:
        for service, (code, status) in UNSUPPORTED.items():
            with pytest.raises(ClientError) as caught:
                await calls[service](await aws.client(service))
            error = caught.value.response
            assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), service
            if service == "cloudwatch":
                assert error["Error"]["QueryErrorCode"] == "UnknownOperationException"
            smtop_error = translate(caught.value, service=service)
            assert isinstance(smtop_error, UnsupportedOperationError), service
            assert operations[service] in str(smtop_error) and code in str(smtop_error)
    rule = fsim.faults()["faults"][0]
    assert rule["injected"] == len(UNSUPPORTED)


def _client_speaking(tmp_path, service: str, version: str, protocol: str, url: str):
    """A botocore client of ``service`` whose model offers only ``protocol``: botocore
    picks JSON for CloudWatch, and the other protocols AWS serves must work too."""
    import gzip

    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    model = loader.load_service_model(service, "service-2", version)
    model["metadata"]["protocols"] = [protocol]
    model["metadata"]["protocol"] = protocol
    folder = tmp_path / protocol / service / version
    folder.mkdir(parents=True)
    (folder / "service-2.json.gz").write_bytes(gzip.compress(json.dumps(model).encode()))
    loader.search_paths.insert(0, str(tmp_path / protocol))
    return session.create_client(service, region_name=REGION, endpoint_url=url, config=Config(retries={"total_max_attempts": 1}))


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "query"])
def test_unsupported_answers_cloudwatch_in_cbor_and_query_too(fsim, tmp_path, protocol):
    fsim.inject("unsupported", "cloudwatch", "ListAlarmMuteRules")
    cloudwatch = _client_speaking(tmp_path, "cloudwatch", "2010-08-01", protocol, fsim.url)
    with pytest.raises(ClientError) as caught:
        cloudwatch.list_alarm_mute_rules()
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("InvalidAction", 400)
    if protocol == "query":
        assert "ListAlarmMuteRules" in error["Error"]["Message"]
    else:
        assert error["ResponseMetadata"]["HTTPHeaders"]["smithy-protocol"] == "rpc-v2-cbor"
        assert error["Error"]["QueryErrorCode"] == "UnknownOperationException"
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []  # other operations still answer
    assert fsim.faults()["faults"][0]["injected"] == 1


def test_unsupported_answers_rest_json_with_404(fsim):
    fsim.inject("unsupported", "sagemaker")
    runtime = boto3.client(
        "sagemaker-runtime", endpoint_url=fsim.url, region_name=REGION, config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="e", Body=b"{}", ContentType="application/json")
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("UnknownOperationException", 404)
    assert isinstance(translate(caught.value, service="sagemaker", operation="InvokeEndpoint"), UnsupportedOperationError)
