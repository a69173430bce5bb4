"""CloudWatch Logs through the simulator over HTTP: FilterLogEvents and the fleet's logs (Live Tail: test_live_tail.py).

Read-only checks use the session simulator's fleet (us-east-1); tests that put
events use ``WRITE_REGION`` so the fleet's groups never see them.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from smtop.sim.fleet import DEMO_FLEET
from smtop.sim.logs import LOG_BACKFILL_SECONDS
from smtop.sim.traffic import TrafficModel
from tests.conftest import SIM_NOW, SIM_SEED
from tests.sim.conftest import FLEET_REGION, WRITE_REGION

NOW_MS = SIM_NOW * 1000
CANARY_GROUP = "/aws/sagemaker/Endpoints/llm-chat-canary"
INSTANCE_STREAM = re.compile(r"(?P<variant>[A-Za-z0-9-]+)/i-0[0-9a-f]{16}")


def logs_client(url: str, region: str = FLEET_REGION, **config):
    return boto3.client(
        "logs",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


@pytest.fixture(scope="module")
def logs(sim):
    return logs_client(sim.url)


@pytest.fixture(scope="module")
def scratch_logs(sim):
    return logs_client(sim.url, WRITE_REGION)


def filter_all(client, **request) -> list[dict]:
    """Every page of a FilterLogEvents walk."""
    events, pages = [], 0
    while True:
        page = client.filter_log_events(**request)
        events += page["events"]
        pages += 1
        assert pages < 1000
        if "nextToken" not in page:
            return events
        request["nextToken"] = page["nextToken"]


# --------------------------------------------------------------------------- paging and boundaries


@pytest.fixture(scope="module")
def crowded_group(scratch_logs):
    """2,500 events over 3 streams in 100 distinct milliseconds (25 events share each)."""
    group = "/test/paging"
    scratch_logs.create_log_group(logGroupName=group)
    expected = []
    base = NOW_MS - 600_000
    for s in range(3):
        stream = f"AllTraffic/i-{s}"
        scratch_logs.create_log_stream(logGroupName=group, logStreamName=stream)
        batch = []
        for i in range(s, 2500, 3):
            message = f"event {i:04d} {'ERROR' if i % 7 == 0 else 'INFO'} stream {s}"
            batch.append({"timestamp": base + i // 25, "message": message})
            expected.append((stream, message))
        scratch_logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
    return group, base, expected


def test_pages_of_100_return_every_event_once_in_time_order(scratch_logs, crowded_group):
    group, _, expected = crowded_group
    events = filter_all(scratch_logs, logGroupName=group, limit=100)
    assert len(events) == 2500
    assert Counter((e["logStreamName"], e["message"]) for e in events) == Counter(expected)
    assert len({e["eventId"] for e in events}) == 2500
    assert all(len(e["eventId"]) == 56 and e["eventId"].isdigit() for e in events)
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert {e["logStreamName"] for e in events[:75]} == {"AllTraffic/i-0", "AllTraffic/i-1", "AllTraffic/i-2"}


def test_a_page_has_a_token_only_when_more_events_match(scratch_logs, crowded_group):
    group, _, _ = crowded_group
    first = scratch_logs.filter_log_events(logGroupName=group, limit=2499)
    assert len(first["events"]) == 2499 and "nextToken" in first
    last = scratch_logs.filter_log_events(logGroupName=group, limit=2499, nextToken=first["nextToken"])
    assert len(last["events"]) == 1 and "nextToken" not in last
    whole = scratch_logs.filter_log_events(logGroupName=group, limit=2500)
    assert len(whole["events"]) == 2500 and "nextToken" not in whole
    default = scratch_logs.filter_log_events(logGroupName=group)
    assert len(default["events"]) == 2500  # the default limit is 10,000


def test_paging_with_a_pattern_and_newest_first(scratch_logs, crowded_group):
    group, _, expected = crowded_group
    errors = filter_all(scratch_logs, logGroupName=group, filterPattern="ERROR", limit=37)
    assert sorted(e["message"] for e in errors) == sorted(m for _, m in expected if " ERROR " in m)
    newest_first = filter_all(scratch_logs, logGroupName=group, limit=100, startFromHead=False)
    assert len(newest_first) == 2500
    assert [e["eventId"] for e in newest_first] == [e["eventId"] for e in reversed(filter_all(scratch_logs, logGroupName=group))]


def test_time_window_includes_both_ends(scratch_logs, crowded_group):
    group, base, _ = crowded_group
    one_ms = filter_all(scratch_logs, logGroupName=group, startTime=base + 10, endTime=base + 10)
    assert len(one_ms) == 25 and {e["timestamp"] for e in one_ms} == {base + 10}
    window = filter_all(scratch_logs, logGroupName=group, startTime=base + 10, endTime=base + 19, limit=30)
    assert len(window) == 250
    assert filter_all(scratch_logs, logGroupName=group, startTime=base + 100) == []
    assert len(filter_all(scratch_logs, logGroupName=group, endTime=base)) == 25


def test_streams_by_name_prefix_and_group_by_arn(scratch_logs, crowded_group):
    group, _, _ = crowded_group
    named = filter_all(scratch_logs, logGroupName=group, logStreamNames=["AllTraffic/i-1"])
    assert {e["logStreamName"] for e in named} == {"AllTraffic/i-1"} and len(named) == 833
    assert len(filter_all(scratch_logs, logGroupName=group, logStreamNamePrefix="AllTraffic/i-")) == 2500
    assert filter_all(scratch_logs, logGroupName=group, logStreamNamePrefix="variant-b/") == []
    arn = scratch_logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    assert len(filter_all(scratch_logs, logGroupIdentifier=arn, limit=1000)) == 2500
    assert len(filter_all(scratch_logs, logGroupIdentifier=group, limit=1000)) == 2500


def test_events_put_while_paging_do_not_shift_the_pages(scratch_logs):
    group = "/test/paging-live"
    scratch_logs.create_log_group(logGroupName=group)
    scratch_logs.create_log_stream(logGroupName=group, logStreamName="s")
    put = lambda ts, n, tag: scratch_logs.put_log_events(  # noqa: E731
        logGroupName=group, logStreamName="s", logEvents=[{"timestamp": ts, "message": f"{tag} {i}"} for i in range(n)]
    )
    put(NOW_MS - 5000, 30, "old")
    first = scratch_logs.filter_log_events(logGroupName=group, limit=20)
    put(NOW_MS - 5000, 5, "same-ms")  # same timestamp, ingested later: after the first 30
    put(NOW_MS - 1000, 5, "new")
    rest = filter_all(scratch_logs, logGroupName=group, limit=20, nextToken=first["nextToken"])
    seen = [e["message"] for e in first["events"] + rest]
    assert len(seen) == len(set(seen)) == 40
    assert seen[-5:] == [f"new {i}" for i in range(5)]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('{ $.level = "ERROR"', "If a filter pattern starts with '{' it must end with '}'"),
        ("{ $.latency >> 3 }", "Invalid filter pattern"),
        ("user@example.com", "Invalid character(s) in term 'user@example.com'"),
    ],
)
def test_an_invalid_pattern_is_invalid_parameter(scratch_logs, crowded_group, pattern, message):
    group, _, _ = crowded_group
    with pytest.raises(ClientError) as error:
        scratch_logs.filter_log_events(logGroupName=group, filterPattern=pattern)
    assert error.value.response["Error"] == {"Code": "InvalidParameterException", "Message": message}
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_request_errors(scratch_logs, crowded_group):
    group, _, _ = crowded_group
    with pytest.raises(ClientError) as error:
        scratch_logs.filter_log_events(logGroupName="/no/such/group")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as error:
        scratch_logs.filter_log_events(logGroupName=group, logGroupIdentifier=group)
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as error:
        scratch_logs.filter_log_events(logGroupName=group, logStreamNames=["a"], logStreamNamePrefix="a")
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    # A token that is not one of ours ends the walk (as the service answers a stale token).
    stale = scratch_logs.filter_log_events(logGroupName=group, nextToken="not-a-token")
    assert stale["events"] == [] and "nextToken" not in stale


# --------------------------------------------------------------------------- the fleet's logs


def test_every_endpoint_has_a_group_with_one_stream_per_instance(logs):
    groups = {g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/")["logGroups"]}
    assert groups == {f"/aws/sagemaker/Endpoints/{e.name}" for e in DEMO_FLEET} | {
        "/aws/sagemaker/TrainingJobs",
        "/aws/sagemaker/ProcessingJobs",
    }
    for endpoint in DEMO_FLEET:
        group = f"/aws/sagemaker/Endpoints/{endpoint.name}"
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        names = [s["logStreamName"] for s in streams]
        assert all(INSTANCE_STREAM.fullmatch(n) for n in names), names
        per_variant = Counter(INSTANCE_STREAM.fullmatch(n)["variant"] for n in names)
        assert per_variant == {v.name: v.instances for v in endpoint.variants}
        for stream in streams:
            assert NOW_MS - LOG_BACKFILL_SECONDS * 1000 <= stream["firstEventTimestamp"] < stream["lastEventTimestamp"] <= NOW_MS
        newest = logs.get_log_events(logGroupName=group, logStreamName=names[0], limit=5)["events"]
        assert len(newest) == 5 and all(e["message"] for e in newest)


def test_job_groups_have_host_streams(logs):
    for group, job in (("/aws/sagemaker/TrainingJobs", "churn-train-"), ("/aws/sagemaker/ProcessingJobs", "fraud-features-")):
        names = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]
        assert any(re.fullmatch(rf"{job}\d{{4}}-\d\d-\d\d/algo-1-\d{{10}}", n) for n in names), names
    failed = filter_all(logs, logGroupName="/aws/sagemaker/TrainingJobs", filterPattern="OutOfMemoryError")
    assert len(failed) == 1 and failed[0]["message"].startswith("Traceback (most recent call last):\n")


def _minute_mid(ms: int) -> float:
    return (ms // 60_000) * 60 + 30


def _message(event: dict) -> str:
    """The text of a canary line: TGI's JSON output keeps it under ``message`` (the
    launcher's under ``fields.message``)."""
    record = json.loads(event["message"])
    return record.get("message") or record["fields"]["message"]


def _total_time_ms(event: dict) -> float:
    """TGI's ``total_time``, a Rust Duration (``2.36s``, ``812.4ms``), in ms."""
    number, unit = re.fullmatch(r"([\d.]+)(s|ms|µs)", json.loads(event["message"])["span"]["total_time"]).groups()
    return float(number) * {"s": 1000, "ms": 1, "µs": 0.001}[unit]


def test_canary_errors_coincide_with_its_degradation(logs):
    model = TrafficModel(DEMO_FLEET, SIM_SEED)
    canary = next(v for e, v in model.variants() if e.name == "llm-chat-canary")
    start = NOW_MS - LOG_BACKFILL_SECONDS * 1000
    every_error = filter_all(logs, logGroupName=CANARY_GROUP, filterPattern='{ $.level = "ERROR" }', startTime=start)
    # A request TGI refuses (a 4XX) is logged at ERROR too, at any time.
    errors = [e for e in every_error if not _message(e).startswith("Input validation error")]
    assert len(errors) >= 20 and len(every_error) > len(errors)
    assert all(model.degraded(canary, _minute_mid(e["timestamp"])) for e in errors)
    bad_minutes = {m for m in range(start // 60_000, NOW_MS // 60_000) if model.degraded(canary, m * 60 + 30)}
    assert bad_minutes, "the backfill window should hold at least one bad spell"
    with_errors = {e["timestamp"] // 60_000 for e in errors}
    assert len(with_errors & bad_minutes) >= 0.8 * len(bad_minutes)
    causes = Counter(
        "oom" if "CUDA out of memory" in _message(e) or "Method Decode" in _message(e)
        else "incomplete" if _message(e) == "Incomplete generation" else "model"
        for e in errors
    )
    assert set(causes) == {"oom", "incomplete", "model"}
    # The shard's exception is one event (the launcher logs it as one JSON record), only in bad spells.
    tracebacks = filter_all(logs, logGroupName=CANARY_GROUP, filterPattern='"Traceback (most recent call last)"')
    assert tracebacks and all("\n" in _message(e) for e in tracebacks)
    assert all(model.degraded(canary, _minute_mid(e["timestamp"])) for e in tracebacks)
    # Other endpoints log no errors at all.
    for endpoint in DEMO_FLEET:
        if endpoint.name != "llm-chat-canary":
            group = f"/aws/sagemaker/Endpoints/{endpoint.name}"
            assert filter_all(logs, logGroupName=group, filterPattern="?ERROR ?Traceback") == []


def test_canary_latencies_follow_its_degradation(logs):
    model = TrafficModel(DEMO_FLEET, SIM_SEED)
    canary = next(v for e, v in model.variants() if e.name == "llm-chat-canary")
    served = filter_all(logs, logGroupName=CANARY_GROUP, filterPattern='{ $.message = "Success" }')
    good = sorted(_total_time_ms(e) for e in served if not model.degraded(canary, _minute_mid(e["timestamp"])))
    bad = sorted(_total_time_ms(e) for e in served if model.degraded(canary, _minute_mid(e["timestamp"])))
    assert 400 < good[len(good) // 2] < 1600  # the canary's ~780 ms median
    assert bad[len(bad) // 2] > 3 * good[len(good) // 2]


@pytest.mark.parametrize(
    ("endpoint", "pattern"),
    [
        # nginx's combined format: nine fields, the last the user agent (no request time).
        ("fraud-detector-prod", '[ip, ident, user, timestamp, request, status = 200, bytes, referer, agent = "AHC/2.0"]'),
        ("churn-scorer-staging", '"POST /invocations HTTP/1.1"'),
        ("recsys-ranker", "?ACCESS_LOG ?TS_METRICS"),
        ("image-embeddings", "[time, level, worker, kind = ACCESS_LOG, dash, client, request, status = 200, latency_ms < 10000]"),
        ("doc-summarizer", '[time, level, worker = "W-9000-model", kind = ACCESS_LOG, dash, client, request, status = 200, latency_ms >= 0]'),
        ("llm-chat-canary", '{ $.message = "Success" && $.span.name = "generate" && $.target = "text_generation_router::server" }'),
    ],
)
def test_each_model_server_logs_in_its_own_style(logs, endpoint, pattern):
    page = logs.filter_log_events(logGroupName=f"/aws/sagemaker/Endpoints/{endpoint}", filterPattern=pattern, limit=50)
    assert len(page["events"]) == 50


def test_request_lines_carry_the_latency_the_metrics_count(logs, cloudwatch):
    """Over the last half hour, the median of the durations the request lines carry
    is the median of ModelLatency (µs) within a quarter, for each container that
    logs one; the nginx endpoints' lines carry none."""
    from smtop.models.queries import BUILT_IN

    query = next(q for q in BUILT_IN if q.name == "slowest requests").query.replace("| limit 20\n", "| limit 10000\n")
    for endpoint in DEMO_FLEET:
        group = f"/aws/sagemaker/Endpoints/{endpoint.name}"
        query_id = logs.start_query(logGroupName=group, startTime=SIM_NOW - 1800, endTime=SIM_NOW, queryString=query)["queryId"]
        while (reply := logs.get_query_results(queryId=query_id))["status"] == "Running":
            time.sleep(0.1)
        values = sorted(float(cell["value"]) for row in reply["results"] for cell in row if cell["field"] == "latency_ms")
        if endpoint.log_format == "nginx":
            assert values == [] and reply["statistics"]["recordsScanned"] > 0
            continue
        variant = endpoint.variants[0]
        metric = cloudwatch.get_metric_data(
            MetricDataQueries=[{
                "Id": "p50", "ReturnData": True,
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
                               "Dimensions": [{"Name": "EndpointName", "Value": endpoint.name}, {"Name": "VariantName", "Value": variant.name}]},
                    "Period": 1800, "Stat": "p50",
                },
            }],
            StartTime=datetime.fromtimestamp(SIM_NOW - 1800, timezone.utc), EndTime=datetime.fromtimestamp(SIM_NOW, timezone.utc),
        )["MetricDataResults"][0]["Values"]
        assert len(values) > 100, endpoint.name
        assert values[len(values) // 2] == pytest.approx(metric[0] / 1000, rel=0.25), endpoint.name


def test_fleet_logs_are_deterministic(logs, sim):
    from smtop.sim.logs import instance_ids

    canary = next(e for e in DEMO_FLEET if e.name == "llm-chat-canary")
    streams = logs.describe_log_streams(logGroupName=CANARY_GROUP)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [f"AllTraffic/{i}" for i in instance_ids(SIM_SEED, canary, canary.variants[0])]


def test_a_tail_poll_is_fast(logs):
    # What the console does every couple of seconds: the last 30 s of a busy group.
    logs.filter_log_events(logGroupName="/aws/sagemaker/Endpoints/recsys-ranker", startTime=NOW_MS - 30_000)
    started = time.perf_counter()
    for _ in range(10):
        logs.filter_log_events(logGroupName="/aws/sagemaker/Endpoints/recsys-ranker", startTime=NOW_MS - 30_000, filterPattern="?ERROR ?WARN")
    assert (time.perf_counter() - started) / 10 < 0.25


def test_timestamps_read_as_the_simulated_clock(logs):
    group = logs.describe_log_groups(logGroupNamePrefix=CANARY_GROUP)["logGroups"][0]
    created = datetime.fromtimestamp(group["creationTime"] / 1000, timezone.utc)
    assert created < datetime.fromtimestamp(SIM_NOW - 86400, timezone.utc)
