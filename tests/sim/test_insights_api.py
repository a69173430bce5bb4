"""Logs Insights through the simulator over HTTP (boto3): queries, progress, limits, definitions.

Reads use the demo fleet's canary group in us-east-1; everything that writes
(query definitions, the concurrency limit) uses WRITE_REGION.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from smtop.models.queries import BUILT_IN
from tests.conftest import SIM_NOW
from tests.sim.conftest import WRITE_REGION, make_client

CANARY_GROUP = "/aws/sagemaker/Endpoints/llm-chat-canary"
START, END = SIM_NOW - 3600, SIM_NOW
QUERIES = {q.name: q.query for q in BUILT_IN}


@pytest.fixture(scope="module")
def logs(sim):
    return make_client("logs", sim.url)


@pytest.fixture(scope="module")
def scratch_logs(sim):
    client = make_client("logs", sim.url, WRITE_REGION)
    try:
        client.create_log_group(logGroupName="/insights/scratch")
    except client.exceptions.ResourceAlreadyExistsException:
        pass
    return client


def finish(client, query_id: str) -> tuple[list[str], dict]:
    statuses = []
    for _ in range(100):
        reply = client.get_query_results(queryId=query_id)
        statuses.append(reply["status"])
        if reply["status"] != "Running":
            return statuses, reply
        time.sleep(0.2)
    raise AssertionError("query never completed")


def all_events(client, group: str) -> list[dict]:
    events, token = [], None
    while True:
        request = dict(logGroupName=group, startTime=START * 1000, endTime=END * 1000)
        if token:
            request["nextToken"] = token
        page = client.filter_log_events(**request)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def duration_ms(text: str) -> float:
    """A Rust Duration as TGI logs it (``2.364213617s``, ``812.43ms``, ``375.2µs``) in ms."""
    for unit, scale in (("µs", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(text)


def rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def test_latency_percentiles_agree_with_the_canary_log_lines(logs):
    query_id = logs.start_query(logGroupName=CANARY_GROUP, startTime=START, endTime=END, queryString=QUERIES["latency percentiles"])["queryId"]
    statuses, reply = finish(logs, query_id)
    assert statuses[0] == "Running" and statuses[-1] == "Complete"

    events = all_events(logs, CANARY_GROUP)
    bins: dict[int, list[float]] = {}
    for event in events:
        record = json.loads(event["message"])
        if record.get("message") == "Success":  # TGI's JSON: the duration is the span's total_time
            ts = event["timestamp"]
            bins.setdefault(ts - ts % 300_000, []).append(duration_ms(record["span"]["total_time"]))
    rows = [{cell["field"]: cell["value"] for cell in row} for row in reply["results"]]
    assert len(rows) == len(bins) >= 6  # the 30-minute backfill in 5-minute bins
    for row, start in zip(rows, sorted(bins)):
        assert row["bin(5m)"] == datetime.fromtimestamp(start / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000")
        assert float(row["p50"]) == pytest.approx(rank(bins[start], 50), abs=1e-6)
        assert float(row["p99"]) == pytest.approx(rank(bins[start], 99), abs=1e-6)
        assert int(row["requests"]) == len(bins[start])
    # The canary degrades every ten minutes: its median is not flat over half an hour.
    medians = [float(r["p50"]) for r in rows]
    assert max(medians) > 1.5 * min(medians)

    stats = reply["statistics"]
    assert stats["recordsScanned"] == len(events)
    assert stats["bytesScanned"] == sum(len(e["message"].encode()) for e in events)
    assert stats["recordsMatched"] == sum(len(v) for v in bins.values())


def test_running_reports_partial_statistics_then_complete(logs):
    query_id = logs.start_query(logGroupName=CANARY_GROUP, startTime=START, endTime=END, queryString="filter @message like /ERROR/")["queryId"]
    first = logs.get_query_results(queryId=query_id)
    assert first["status"] == "Running" and first["results"] == []
    _, done = finish(logs, query_id)
    assert done["status"] == "Complete"
    assert first["statistics"]["recordsScanned"] < done["statistics"]["recordsScanned"]


def test_stop_query_cancels_a_running_query(logs):
    query_id = logs.start_query(logGroupName=CANARY_GROUP, startTime=START, endTime=END, queryString="fields @message")["queryId"]
    assert logs.stop_query(queryId=query_id)["success"] is True
    assert logs.get_query_results(queryId=query_id)["status"] == "Cancelled"
    assert logs.stop_query(queryId=query_id)["success"] is False
    described = logs.describe_queries(logGroupName=CANARY_GROUP, status="Cancelled")["queries"]
    assert query_id in {q["queryId"] for q in described}


def test_a_malformed_query_is_refused_with_the_services_message(logs):
    with pytest.raises(ClientError) as raised:
        logs.start_query(logGroupName=CANARY_GROUP, startTime=START, endTime=END, queryString="fields @message\n| sortt @timestamp")
    error = raised.value.response["Error"]
    assert error["Code"] == "MalformedQueryException"
    assert "mismatched input 'sortt'" in error["Message"] and "line 2 and position 3" in error["Message"]


def test_unknown_group_and_query(logs):
    with pytest.raises(ClientError) as raised:
        logs.start_query(logGroupName="/nope", startTime=START, endTime=END, queryString="fields @message")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        logs.get_query_results(queryId="not-a-query")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_too_many_running_queries_is_limit_exceeded(scratch_logs):
    from smtop.sim.patches.insights import MAX_CONCURRENT

    started = []
    try:
        for _ in range(MAX_CONCURRENT):
            started.append(scratch_logs.start_query(logGroupName="/insights/scratch", startTime=START, endTime=END, queryString="fields @message")["queryId"])
        with pytest.raises(ClientError) as raised:
            scratch_logs.start_query(logGroupName="/insights/scratch", startTime=START, endTime=END, queryString="fields @message")
        assert raised.value.response["Error"]["Code"] == "LimitExceededException"
        scratch_logs.stop_query(queryId=started.pop())
        started.append(scratch_logs.start_query(logGroupName="/insights/scratch", startTime=START, endTime=END, queryString="fields @message")["queryId"])
    finally:
        for query_id in started:
            scratch_logs.stop_query(queryId=query_id)


def test_query_definitions_put_describe_update_delete(scratch_logs):
    ids = [
        scratch_logs.put_query_definition(name=f"q{i:02d}", queryString=f"fields @message | limit {i + 1}", logGroupNames=["/insights/scratch"])["queryDefinitionId"]
        for i in range(5)
    ]
    try:
        first = scratch_logs.describe_query_definitions(queryDefinitionNamePrefix="q", maxResults=3)
        assert [d["name"] for d in first["queryDefinitions"]] == ["q00", "q01", "q02"]
        rest = scratch_logs.describe_query_definitions(queryDefinitionNamePrefix="q", maxResults=3, nextToken=first["nextToken"])
        assert [d["name"] for d in rest["queryDefinitions"]] == ["q03", "q04"] and "nextToken" not in rest
        assert first["queryDefinitions"][0]["logGroupNames"] == ["/insights/scratch"]

        same = scratch_logs.put_query_definition(queryDefinitionId=ids[0], name="q00", queryString="fields @timestamp")["queryDefinitionId"]
        assert same == ids[0]
        updated = scratch_logs.describe_query_definitions(queryDefinitionNamePrefix="q00")["queryDefinitions"]
        assert [d["queryString"] for d in updated] == ["fields @timestamp"]
        with pytest.raises(ClientError) as raised:
            scratch_logs.put_query_definition(queryDefinitionId="missing", name="x", queryString="fields @message")
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        for definition_id in ids:
            assert scratch_logs.delete_query_definition(queryDefinitionId=definition_id)["success"] is True
    assert scratch_logs.describe_query_definitions(queryDefinitionNamePrefix="q")["queryDefinitions"] == []
