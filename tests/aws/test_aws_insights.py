"""The Insights runner and query definitions through aiobotocore against the simulator."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from smtop.aws.insights import InsightsRunner, put_query_definition, query_definitions, table_of
from smtop.aws.session import AwsSession
from smtop.errors import ReadOnlyError
from smtop.models.insights import QueryRequest, SavedQuery
from smtop.models.queries import BUILT_IN
from tests.conftest import SIM_NOW

CANARY_GROUP = "/aws/sagemaker/Endpoints/llm-chat-canary"
WRITE_REGION = "us-west-2"
SCRATCH_GROUP = "/insights/runner-scratch"
END = datetime.fromtimestamp(SIM_NOW, timezone.utc)
QUERIES = {q.name: q.query for q in BUILT_IN}


def boto_logs(url: str, region: str = "us-east-1"):
    return boto3.client(
        "logs", endpoint_url=url, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


def request(query: str, group: str = CANARY_GROUP) -> QueryRequest:
    return QueryRequest(query=query, log_groups=(group,), start=END - timedelta(hours=1), end=END, name="t", endpoint="llm-chat-canary")


@pytest.fixture
async def aws(sim, test_credentials):
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1) as session:
        yield session


@pytest.fixture
async def scratch(sim, test_credentials):
    client = boto_logs(sim.url, WRITE_REGION)
    try:
        client.create_log_group(logGroupName=SCRATCH_GROUP)
    except client.exceptions.ResourceAlreadyExistsException:
        pass
    async with AwsSession(region=WRITE_REGION, endpoint_url=sim.url, max_attempts=1) as session:
        yield session, client


async def test_a_run_goes_from_starting_to_complete_with_the_rows(aws, sim):
    runner = InsightsRunner(aws, request(QUERIES["latency percentiles"]), poll_first=0.1, poll_max=0.3)
    states = [p async for p in runner.progress()]
    assert [s.status for s in states[:2]] == ["Starting", "Scheduled"]
    assert "Running" in [s.status for s in states]
    final = states[-1]
    assert final.status == "Complete" and final.done and final.error is None
    # The same query through boto3 answers the same table.
    client = boto_logs(sim.url)
    query_id = client.start_query(logGroupName=CANARY_GROUP, startTime=SIM_NOW - 3600, endTime=SIM_NOW, queryString=QUERIES["latency percentiles"])["queryId"]
    while (reply := client.get_query_results(queryId=query_id))["status"] == "Running":
        await asyncio.sleep(0.1)
    assert final.fields == ("bin(5m)", "p50", "p99", "requests")
    expected = tuple(tuple({c["field"]: c["value"] for c in row}.get(f) for f in final.fields) for row in reply["results"])
    assert final.rows == expected
    assert final.stats.records_scanned == reply["statistics"]["recordsScanned"] > 0
    assert final.stats.bytes_scanned == reply["statistics"]["bytesScanned"]
    # Polls back off: fewer polls than the run's duration / the first interval.
    assert 1 <= runner.polls <= 10


async def test_a_malformed_query_ends_the_run_with_the_services_message(aws):
    states = [p async for p in InsightsRunner(aws, request("fields @message | stats count(*) by")).progress()]
    assert states[-1].status == "Malformed"
    assert states[-1].error.startswith("mismatched input '<EOF>'")


async def test_cancelling_the_run_stops_the_query(aws, sim):
    runner = InsightsRunner(aws, request("fields @message"), poll_first=5.0)
    seen = []

    async def consume():
        async for state in runner.progress():
            seen.append(state)

    task = asyncio.create_task(consume())
    while not seen or seen[-1].status != "Scheduled":
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    described = boto_logs(sim.url).describe_queries(logGroupName=CANARY_GROUP)["queries"]
    assert {q["queryId"]: q["status"] for q in described}[runner.query_id] == "Cancelled"


async def test_limit_exceeded_waits_with_a_notice_and_retries(scratch):
    from smtop.sim.patches.insights import MAX_CONCURRENT

    session, client = scratch
    hogs = [
        client.start_query(logGroupName=SCRATCH_GROUP, startTime=SIM_NOW - 60, endTime=SIM_NOW, queryString="fields @message")["queryId"]
        for _ in range(MAX_CONCURRENT)
    ]
    waits = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # a slot frees up while the runner waits
            client.stop_query(queryId=hogs.pop())
        await asyncio.sleep(0.01)

    try:
        runner = InsightsRunner(session, request("fields @message", SCRATCH_GROUP), limit_retry=4.0, sleep=sleep)
        states = [p async for p in runner.progress()]
    finally:
        for query_id in hogs:
            client.stop_query(queryId=query_id)
    waiting = [s for s in states if s.status == "Waiting"]
    assert len(waiting) == 2
    assert "retrying in 4s" in waiting[0].notice and "retrying in 8s" in waiting[1].notice
    assert waits[:2] == [4.0, 8.0]
    assert states[-1].status == "Complete"


async def test_query_definitions_are_listed_saved_and_updated(scratch):
    session, client = scratch
    saved = SavedQuery("runner test", "fields @message | limit 5", "built-in", (SCRATCH_GROUP,))
    definition_id = await put_query_definition(session, saved)
    try:
        listed = await query_definitions(session)
        mine = [q for q in listed.queries if q.definition_id == definition_id]
        assert mine == [SavedQuery("runner test", "fields @message | limit 5", "account", (SCRATCH_GROUP,), definition_id)]
        again = await put_query_definition(session, SavedQuery("runner test", "fields @timestamp", "account", (), definition_id))
        assert again == definition_id
        stored = client.describe_query_definitions(queryDefinitionNamePrefix="runner test")["queryDefinitions"]
        assert [d["queryString"] for d in stored] == ["fields @timestamp"]
    finally:
        client.delete_query_definition(queryDefinitionId=definition_id)


async def test_read_only_refuses_to_save_a_definition(sim, test_credentials):
    async with AwsSession(region=WRITE_REGION, endpoint_url=sim.url, max_attempts=1, read_only=True) as session:
        with pytest.raises(ReadOnlyError):
            await put_query_definition(session, SavedQuery("nope", "fields @message", "built-in"))
        # Running queries is reading: allowed.
        assert (await query_definitions(session)).error is None
    names = [d["name"] for d in boto_logs(sim.url, WRITE_REGION).describe_query_definitions()["queryDefinitions"]]
    assert "nope" not in names


def test_table_of_keeps_column_order_and_drops_the_pointer():
    fields, rows = table_of([
        [{"field": "@timestamp", "value": "t1"}, {"field": "@message", "value": "m1"}, {"field": "@ptr", "value": "p"}],
        [{"field": "@timestamp", "value": "t2"}, {"field": "extra", "value": "x"}],
    ])
    assert fields == ("@timestamp", "@message", "extra")
    assert rows == (("t1", "m1", None), ("t2", None, "x"))


async def test_results_are_capped_at_the_services_10000_rows(scratch):
    session, client = scratch
    group = "/insights/runner-many"
    try:
        client.create_log_group(logGroupName=group)
        client.create_log_stream(logGroupName=group, logStreamName="s")
        base = (SIM_NOW - 1800) * 1000
        for chunk in range(2):
            events = [{"timestamp": base + chunk * 6000 + i, "message": f"line {chunk} {i}"} for i in range(5_100)]
            client.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        runner = InsightsRunner(session, request("fields @message", group), poll_first=0.1, poll_max=0.3)
        final = [p async for p in runner.progress()][-1]
    finally:
        client.delete_log_group(logGroupName=group)
    assert final.status == "Complete"
    assert len(final.rows) == 10_000 and final.capped
    assert final.stats.records_matched == final.stats.records_scanned == 10_200


async def test_cancelling_while_the_query_starts_still_stops_it(aws, sim):
    runner = InsightsRunner(aws, request("fields @message"))
    progress = runner.progress()
    assert (await progress.__anext__()).status == "Starting"
    task = asyncio.ensure_future(progress.__anext__())  # now inside StartQuery
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runner.query_id is not None
    described = boto_logs(sim.url).describe_queries(logGroupName=CANARY_GROUP)["queries"]
    assert {q["queryId"]: q["status"] for q in described}[runner.query_id] == "Cancelled"
