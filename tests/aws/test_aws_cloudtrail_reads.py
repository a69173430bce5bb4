"""The CloudTrail feed on an account full of reads, over HTTP against the simulator.

Event history holds read events too (smtop/sim/cloudtrail.py names AWS's pages),
so on a real account every tool's Describe*/List* calls outnumber the writes the
feed is for.  Expected events come from the simulated people's schedule and the
test's own calls, never from the feed; costs come from LookupEvents' documented
page size (50) and quota (2 requests per second per account and region).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from smtop.aws.cloudtrail import REQUESTS_PER_SECOND, SOURCES, LookupPacer, TrailHistory
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.sim.fleet import DEMO_ALARMS, DEMO_FLEET
from smtop.sim.process import spawn_sim
from smtop.sim.people import episodes
from smtop.sim.traffic import TrafficModel
from tests.conftest import SIM_NOW, SIM_SEED

pytestmark = pytest.mark.slow

NOW = datetime.fromtimestamp(SIM_NOW, timezone.utc)
WINDOW = timedelta(hours=3)
READS_PER_WRITE = 100
MONITORING_TOOL = "AKIADASHBOARDTOOL001"
"""A dashboard that reads the endpoints and alarms all day (a key of its own)."""


def boto(url: str, service: str, region: str = "us-east-1", key: str = "testing"):
    return boto3.client(
        service, endpoint_url=url, region_name=region, aws_access_key_id=key,
        aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1}),
    )


def lookup_pages(url: str, region: str, **params):
    """Every page of one LookupEvents query, spaced to the 2-per-second quota."""
    trail, token = boto(url, "cloudtrail", region), None
    while True:
        time.sleep(0.55)
        page = trail.lookup_events(**params, **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return


class Paced:
    """The slots the LookupEvents pacers gave out and when each request went out (epoch seconds).

    What the pacer guarantees is its slots: never closer than 1/2 s for an account and
    region, and no request sent before its slot.  The gaps between the sends
    themselves also depend on how promptly a loaded machine wakes each request.
    """

    def __init__(self, monkeypatch) -> None:
        self.slots: list[float] = []
        self.sent: list[float] = []
        claim = LookupPacer.claim

        def recorded(pacer: LookupPacer) -> float:
            slot = claim(pacer)
            self.slots.append(slot)
            return slot

        monkeypatch.setattr(LookupPacer, "claim", recorded)

    async def watch(self, aws: AwsSession) -> None:
        client = await aws.client("cloudtrail")
        client.meta.events.register("before-send.cloudtrail.LookupEvents", lambda **_: self.sent.append(time.time()))

    def check(self) -> None:
        slots, sent = sorted(self.slots), sorted(self.sent)
        assert len(slots) == len(sent) >= 2
        assert min(b - a for a, b in zip(slots, slots[1:])) >= 1 / REQUESTS_PER_SECOND
        # The k-th request out went at or after the k-th slot (each one after its own).
        assert all(at >= slot - 0.01 for at, slot in zip(sent, slots)), list(zip(sent, slots))


def followed_writes(url: str, region: str, since: datetime) -> list[dict]:
    """The window's write events of the feed's sources, newest first, straight from LookupEvents."""
    writes = [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]
    return [e for page in lookup_pages(url, region, LookupAttributes=writes, StartTime=since) for e in page["Events"] if e["EventSource"] in SOURCES]


@pytest.fixture(scope="module")
def busy_sim():
    """The demo account (its people's 3 hours of changes), then a hundred reads per write:
    DescribeEndpoint, ListEndpoints and DescribeAlarms, in the feed's own sources."""
    process = spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW)
    try:
        writes = followed_writes(process.url, "us-east-1", NOW - WINDOW)
        sagemaker, cloudwatch = boto(process.url, "sagemaker", key=MONITORING_TOOL), boto(process.url, "cloudwatch", key=MONITORING_TOOL)
        names = [endpoint.name for endpoint in DEMO_FLEET]

        def read(i: int) -> None:
            if i % 3 == 0:
                cloudwatch.describe_alarms(MaxRecords=5)
            elif i % 3 == 1:
                sagemaker.describe_endpoint(EndpointName=names[i % len(names)])
            else:
                sagemaker.list_endpoints(MaxResults=5)

        reads = READS_PER_WRITE * len(writes)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(read, range(reads)))
        process.window_writes = writes
        process.reads = reads
        yield process
    finally:
        process.stop()


def scheduled_sagemaker_calls() -> list[tuple[int, str, str, dict]]:
    """(second, operation, who, parameters) of the people's calls in the window, newest first."""
    played = [ep for ep in episodes(TrafficModel(DEMO_FLEET, SIM_SEED), SIM_NOW - WINDOW.total_seconds(), SIM_NOW) if ep[-1].at < SIM_NOW - 10]
    return sorted(((int(a.at), a.operation, a.who.name, a.parameters) for ep in played for a in ep), key=lambda c: -c[0])


def test_the_simulator_answers_the_readonly_attribute(busy_sim):
    """LookupEvents' ReadOnly attribute: "true" gives the reads, "false" the writes."""
    reads = next(lookup_pages(busy_sim.url, "us-east-1", LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "true"}], MaxResults=50))
    assert len(reads["Events"]) == 50 and {e["ReadOnly"] for e in reads["Events"]} == {"true"}
    assert {e["EventName"] for e in reads["Events"]} <= {"DescribeEndpoint", "ListEndpoints", "DescribeAlarms", "LookupEvents"}
    assert {e["ReadOnly"] for e in busy_sim.window_writes} == {"false"}
    # What a feed that looked up by EventSource would page through first: the reads.
    by_source = next(lookup_pages(busy_sim.url, "us-east-1", LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "sagemaker.amazonaws.com"}]))
    assert sum(e["ReadOnly"] == "false" for e in by_source["Events"]) == 0


async def test_the_feed_covers_three_hours_of_writes_among_a_hundred_times_more_reads(busy_sim, test_credentials, monkeypatch):
    writes = busy_sim.window_writes
    assert busy_sim.reads >= READS_PER_WRITE * len(writes) and len(writes) > 50
    paced = Paced(monkeypatch)
    async with AwsSession(region="us-east-1", endpoint_url=busy_sim.url, max_attempts=1, read_only=True) as aws:
        history = TrailHistory(aws, FrozenClock(NOW), window=WINDOW)
        await paced.watch(aws)
        first = await history.poll()
        again = await history.poll()

    # Every write of the window, none of the reads, the oldest deploys included.
    assert not any(e.read_only for e in first.events)
    scheduled = scheduled_sagemaker_calls()
    sagemaker = [(int(e.time.timestamp()), e.name, e.who) for e in first.events if e.source == "sagemaker.amazonaws.com"]
    assert sagemaker == [(t, op, who) for t, op, who, _ in scheduled]
    alarms = {json.loads(e.raw)["requestParameters"]["alarmName"] for e in first.events if e.name == "PutMetricAlarm"}
    assert alarms == {alarm.name for alarm in DEMO_ALARMS}
    assert {e.event_id for e in first.events} == {e["EventId"] for e in writes}
    canary_deploys = sorted(t for t, op, _, params in scheduled if op == "UpdateEndpoint" and params["EndpointName"] == "llm-chat-canary")
    assert [int(e.time.timestamp()) for e in first.deployments("llm-chat-canary")] == canary_deploys
    assert canary_deploys[0] < SIM_NOW - 2.5 * 3600  # markers from the window's first half hour
    assert first.complete_since is None
    # The cost is the writes' pages (of every service), whatever the reads: 2, not ~150.
    all_writes = sum(len(p["Events"]) for p in lookup_pages(
        busy_sim.url, "us-east-1", LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}], StartTime=NOW - WINDOW))
    retries = len(history.backoffs)  # a request the simulator throttled anyway (jitter on a loaded machine)
    assert first.requests + again.requests == math.ceil(all_writes / 50) + 1 + retries <= 4 + retries
    assert again.added == 0
    # Within the account's 2 requests per second.
    paced.check()


async def test_a_first_fill_longer_than_a_polls_budget_goes_on_at_the_next_poll(sim, test_credentials):
    """Another service's writes fill the pages (here CloudWatch Logs'): the first fill
    reads its budget of pages per poll, says how far back it is complete, and resumes
    where it stopped until the feed holds the older SageMaker writes too."""
    region = "eu-south-1"
    sagemaker, logs = boto(sim.url, "sagemaker", region), boto(sim.url, "logs", region)
    for name in ("first", "second"):
        sagemaker.create_model(ModelName=name, ExecutionRoleArn="arn:aws:iam::123456789012:role/r", PrimaryContainer={"Image": "i"})
    for i in range(120):  # 2.4 pages of writes the feed does not follow, all newer
        logs.create_log_group(logGroupName=f"/other/service/{i}")
    async with AwsSession(region=region, endpoint_url=sim.url, max_attempts=1) as aws:
        # Two hours on: the writes are older than the incremental polls' 10-minute look back.
        history = TrailHistory(aws, FrozenClock(NOW + timedelta(hours=2)), sources=("sagemaker.amazonaws.com",), pages_per_poll=1)
        polls = [await history.poll() for _ in range(4)]

    # Fill pages 1, 2 and 3, one a poll, each poll after the first with its incremental page too.
    assert sum(p.requests for p in polls) == 1 + 2 + 2 + 1 + len(history.backoffs)
    assert [len(p.events) for p in polls] == [0, 0, 2, 2]
    assert polls[0].complete_since is not None and polls[1].complete_since is not None
    assert polls[0].complete_since >= polls[1].complete_since
    assert polls[2].complete_since is None and polls[3].complete_since is None
    assert [e.resource for e in polls[3].events] == ["second", "first"]


async def test_every_console_of_the_process_shares_the_accounts_pacer(sim, test_credentials, monkeypatch):
    """Two consoles (sessions of their own, as after a profile switch or in one
    --serve process) polling the same account and region at once: their
    LookupEvents requests queue at one pacer, its slots never closer than 0.5 s."""
    region = "eu-south-2"
    sagemaker = boto(sim.url, "sagemaker", region)
    for i in range(60):  # two pages of writes
        sagemaker.create_model(ModelName=f"m-{i}", ExecutionRoleArn="arn:aws:iam::123456789012:role/r", PrimaryContainer={"Image": "i"})
    paced = Paced(monkeypatch)
    async with (
        AwsSession(region=region, endpoint_url=sim.url, max_attempts=1) as one,
        AwsSession(region=region, endpoint_url=sim.url, max_attempts=1) as two,
    ):
        for aws in (one, two):
            await paced.watch(aws)
        histories = [TrailHistory(aws, FrozenClock(NOW), sources=("sagemaker.amazonaws.com",)) for aws in (one, two)]
        snapshots = await asyncio.gather(*(h.poll() for h in histories))

    assert [len(s.events) for s in snapshots] == [60, 60]
    assert len(paced.sent) == sum(s.requests for s in snapshots) >= 4
    paced.check()  # one queue: two pacers would each have given a slot at once
