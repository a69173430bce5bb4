"""AwsSession: one client per service, endpoint URL resolution, read-only guard."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings

import pytest

from smtop.aws import session as session_module
from smtop.aws.readonly import is_read_operation
from smtop.aws.session import AwsSession
from smtop.errors import ConnectionFailedError, ReadOnlyError, SmtopError
from tests.aws.conftest import REGION, closed_port, record_calls


async def test_client_is_opened_once_per_service(aws):
    first = await aws.client("sagemaker")
    assert await aws.client("sagemaker") is first
    assert await aws.client("cloudwatch") is not first
    assert aws.region == REGION


async def test_region_and_profile_come_from_the_environment(monkeypatch, isolated_env, moto):
    (isolated_env / "aws-config").write_text("[profile prod]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    async with AwsSession(endpoint_url=moto) as aws:
        assert (aws.profile, aws.region) == ("prod", "eu-west-1")
        assert "testing" not in repr(aws)  # credentials never shown


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER"])
async def test_standard_endpoint_url_variables_are_honoured(monkeypatch, moto, seed, variable):
    seed("from-env")
    monkeypatch.setenv(variable, moto)
    async with AwsSession(region=REGION, max_attempts=1) as aws:
        sagemaker = await aws.client("sagemaker")
        assert sagemaker.meta.endpoint_url == moto
        reply = await sagemaker.list_endpoints()
    assert [e["EndpointName"] for e in reply["Endpoints"]] == ["from-env"]


async def test_whoami(aws):
    identity = await aws.whoami()
    assert identity.account == "123456789012"
    assert identity.arn.startswith("arn:aws:")


@pytest.mark.parametrize(
    ("operation", "reads"),
    [
        ("DescribeEndpoint", True),
        ("ListEndpoints", True),
        ("GetMetricData", True),
        ("LookupEvents", True),
        ("FilterLogEvents", True),
        ("StartQuery", True),
        ("StopQuery", True),
        ("GetQueryResults", True),
        ("StartLiveTail", True),
        ("PutMetricAlarm", False),
        ("PutAlarmMuteRule", False),
        ("CreateEndpoint", False),
        ("DeleteAlarms", False),
        ("StartPipelineExecution", False),
        ("TagResource", False),
        ("Getaway", False),  # a prefix must be a whole word
    ],
)
def test_read_operation_allowlist(operation, reads):
    assert is_read_operation(operation) is reads


async def test_read_only_refuses_writes_before_sending(moto, boto):
    async with AwsSession(region=REGION, endpoint_url=moto, max_attempts=1, read_only=True) as aws:
        cloudwatch = await aws.client("cloudwatch")
        sagemaker = await aws.client("sagemaker")
        sent = record_calls(cloudwatch, "PutMetricAlarm")
        with pytest.raises(ReadOnlyError, match="read-only") as refused:
            await cloudwatch.put_metric_alarm(
                AlarmName="x",
                MetricName="Invocations",
                Namespace="AWS/SageMaker",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1.0,
                ComparisonOperator="GreaterThanThreshold",
            )
        assert refused.value.operation == "PutMetricAlarm"
        # Refused even with invalid parameters: nothing is validated, built or sent.
        logs = await aws.client("logs")
        with pytest.raises(ReadOnlyError):
            await logs.put_query_definition(name=123)
        # Operations smtop never calls are not even on its clients (smtop.aws.lean_models).
        assert not hasattr(sagemaker, "create_endpoint")
        # Reads still work.
        assert (await sagemaker.list_endpoints())["Endpoints"] == []
    assert sent == []  # the guard ran before the request was even parameterised
    assert boto("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert boto("sagemaker").list_endpoints()["Endpoints"] == []


async def test_read_only_refusal_never_touches_the_network(test_credentials):
    # Pointed at a closed port, any request would fail to connect; a refusal
    # must come first.
    url = f"http://127.0.0.1:{closed_port()}"
    async with AwsSession(region=REGION, endpoint_url=url, max_attempts=1, read_only=True) as aws:
        sagemaker = await aws.client("sagemaker")
        cloudwatch = await aws.client("cloudwatch")
        with pytest.raises(ReadOnlyError):
            await cloudwatch.delete_alarm_mute_rule(AlarmMuteRuleName="prod")
        with pytest.raises(ConnectionFailedError), aws.errors("sagemaker", "ListEndpoints"):
            await sagemaker.list_endpoints()


async def test_timestamps_parse_to_the_same_instant_in_utc(aws, seed, boto):
    """The fast parser (epoch → UTC datetime) agrees with botocore's own."""
    seed("ts")
    expected = boto("sagemaker").describe_endpoint(EndpointName="ts")["CreationTime"]
    sagemaker = await aws.client("sagemaker")
    got = (await sagemaker.describe_endpoint(EndpointName="ts"))["CreationTime"]
    assert got.tzinfo is not None and got.utcoffset().total_seconds() == 0
    assert got == expected  # same instant, whatever zone botocore chose


def test_parse_timestamp_handles_strings_too():
    from datetime import datetime, timezone

    from smtop.aws.session import parse_timestamp

    assert parse_timestamp(1_795_000_000.5) == datetime(2026, 11, 18, 11, 6, 40, 500000, tzinfo=timezone.utc)
    assert parse_timestamp("2026-11-18T11:06:40Z") == datetime(2026, 11, 18, 11, 6, 40, tzinfo=timezone.utc)


async def test_a_client_opening_while_the_session_closes_fails_cleanly(monkeypatch, moto, test_credentials):
    """Quitting while a client's model is read in its thread: the opening fails
    with smtop's error, and no half-made client is left (it was an
    AttributeError on the closed stack and an un-awaited coroutine)."""
    reading, release = threading.Event(), threading.Event()
    real = session_module._load_service_data

    def slow_read(*args):
        reading.set()
        release.wait(5)
        real(*args)

    monkeypatch.setattr(session_module, "_load_service_data", slow_read)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aws = AwsSession(region=REGION, endpoint_url=moto)
        await aws.__aenter__()
        opening = asyncio.create_task(aws.client("logs"))
        await asyncio.to_thread(reading.wait, 5)
        await aws.__aexit__(None, None, None)
        release.set()
        with pytest.raises(SmtopError, match="closed before its client was opened"):
            await opening
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
