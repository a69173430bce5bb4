"""TrailHistory (the CloudTrail feed) against the simulator over HTTP.

The expected events are computed from the simulated people's schedule
(:func:`smtop.sim.people.episodes`) or from the calls the test itself makes,
never from the feed's own output.  Tests that write use a region of their own.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from smtop.aws.cloudtrail import TrailHistory
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.errors import AccessDeniedError, ThrottledError, UnsupportedOperationError
from smtop.sim.fleet import DEMO_FLEET
from smtop.sim.people import ALICE, episodes
from smtop.sim.traffic import TrafficModel
from tests.conftest import SIM_NOW, SIM_SEED

pytestmark = pytest.mark.slow

ROLE = "arn:aws:iam::123456789012:role/test"
NOW = datetime.fromtimestamp(SIM_NOW, timezone.utc)


def boto(sim, service: str, region: str, key: str = "testing"):
    return boto3.client(
        service, endpoint_url=sim.url, region_name=region, aws_access_key_id=key,
        aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1}),
    )


def create_models(sim, region: str, names: list[str]) -> None:
    sagemaker = boto(sim, "sagemaker", region, ALICE.access_key_id)
    for name in names:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})


def count_writes(sim, region: str, since: datetime) -> int:
    """Write events in the region's history since ``since``, counted straight from LookupEvents."""
    trail, token, count = boto(sim, "cloudtrail", region), None, 0
    while True:
        time.sleep(0.55)  # LookupEvents: 2 per second
        page = trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}], StartTime=since, **({"NextToken": token} if token else {})
        )
        count += len(page["Events"])
        token = page.get("NextToken")
        if not token:
            return count


def scheduled_calls() -> list[tuple[int, str, str, dict]]:
    """(second, operation, who, parameters) of every call the demo's people made, newest first."""
    start = SIM_NOW - 3 * 3600
    played = [ep for ep in episodes(TrafficModel(DEMO_FLEET, SIM_SEED), start, SIM_NOW) if ep[-1].at < SIM_NOW - 10]
    return sorted(((int(a.at), a.operation, a.who.name, a.parameters) for ep in played for a in ep), key=lambda c: -c[0])


async def test_first_fill_pages_through_the_demo_trail_paced_and_filters_by_endpoint(sim, test_credentials):
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1, read_only=True) as aws:
        history = TrailHistory(aws, FrozenClock(NOW))
        client = await aws.client("cloudtrail")
        sent: list[float] = []
        client.meta.events.register("before-send.cloudtrail.LookupEvents", lambda **_: sent.append(time.monotonic()))

        first = await history.poll()
        again = await history.poll()

    expected = scheduled_calls()
    sagemaker = [e for e in first.events if e.source == "sagemaker.amazonaws.com"]
    assert [(int(e.time.timestamp()), e.name, e.who) for e in sagemaker] == [(t, op, who) for t, op, who, _ in expected]
    assert len(expected) > 50  # more than one page of sagemaker events
    # One ReadOnly=false query: the pages hold the window's writes of every service
    # (SNS's too), 50 a page, and none of its reads.
    # (LookupEvents promises at most 50 a page, not full pages, and other tests' writes
    # may land while the fill pages: one request more than the count's is still one query.)
    writes = await asyncio.to_thread(count_writes, sim, "us-east-1", NOW - timedelta(hours=3))
    assert 2 <= first.requests <= math.ceil(writes / 50) + 1 and first.added == len(first.events)
    assert not any(e.read_only for e in first.events)
    assert [e.time for e in first.events] == sorted((e.time for e in first.events), reverse=True)
    # Paced to LookupEvents' 2 requests per second: no two requests closer than 0.5 s.
    assert len(sent) == first.requests + again.requests
    assert min(b - a for a, b in zip(sent, sent[1:])) >= 0.5

    # The second poll asks again from 10 minutes back: it finds nothing new and repeats nothing.
    assert again.added == 0
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events]

    about_canary = [e for e in first.events if e.concerns("llm-chat-canary")]
    canary = [e for e in about_canary if e.source == "sagemaker.amazonaws.com"]
    # CloudWatch calls about the canary (its alarms) carry it as an EndpointName dimension.
    assert all(e.name.endswith("Alarm") or "Alarm" in e.name for e in about_canary if e not in canary)
    assert [(int(e.time.timestamp()), e.name, e.who) for e in canary] == [
        (t, op, who) for t, op, who, params in expected if params.get("EndpointName") == "llm-chat-canary"
    ]
    assert {e.name for e in canary} == {"UpdateEndpoint"}
    assert [e.time for e in first.deployments("llm-chat-canary")] == sorted(e.time for e in canary)
    failed = [e for e in first.events if e.error_code]
    assert failed and all(e.error_code == "ValidationException" and e.resource == "doc-summarizer" for e in failed)
    assert not any(e.is_deployment for e in failed)
    assert first.deployments("doc-summarizer") == ()


async def test_incremental_polls_add_each_new_event_once(sim, test_credentials):
    region = "me-central-1"
    async with AwsSession(region=region, endpoint_url=sim.url, max_attempts=1) as aws:
        history = TrailHistory(aws, FrozenClock(NOW), sources=("sagemaker.amazonaws.com",))
        create_models(sim, region, ["a1", "a2", "a3"])
        first = await history.poll()
        create_models(sim, region, ["b1", "b2"])
        second = await history.poll()
        third = await history.poll()

    assert (first.added, second.added, third.added) == (3, 2, 0)
    assert [e.resource for e in third.events] == ["b2", "b1", "a3", "a2", "a1"]
    assert {e.who for e in third.events} == {"alice"}
    assert len({e.event_id for e in third.events}) == 5


async def test_throttling_backs_off_and_loses_or_repeats_nothing(sim, test_credentials):
    """Another tool uses the account's 2 LookupEvents per second: the feed is throttled,
    backs off with jitter, and still delivers every event exactly once."""
    region = "ap-southeast-3"
    names = [f"m-{i:03d}" for i in range(80)]  # two pages
    create_models(sim, region, names)
    other_tool = boto(sim, "cloudtrail", region)
    burst_done, stop = threading.Event(), threading.Event()

    def hammer() -> None:
        for _ in range(3):  # three bursts that each take the whole quota of a second
            if stop.is_set():
                return
            for _ in range(2):
                try:
                    other_tool.lookup_events(MaxResults=1)
                except Exception:
                    pass
            burst_done.set()
            stop.wait(0.7)

    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    try:
        await asyncio.to_thread(burst_done.wait, 5)
        async with AwsSession(region=region, endpoint_url=sim.url, max_attempts=1) as aws:
            history = TrailHistory(aws, FrozenClock(NOW), sources=("sagemaker.amazonaws.com",), backoff=0.2, max_attempts=40)
            snapshot = await history.poll()
    finally:
        stop.set()
        thread.join(5)

    assert history.backoffs, "the feed was never throttled"
    assert snapshot.requests > 2  # two pages, plus the throttled attempts
    assert sorted(e.resource for e in snapshot.events) == names
    assert len({e.event_id for e in snapshot.events}) == len(names) == snapshot.added


async def test_persistent_throttling_fails_the_poll_after_growing_backoffs(fault_proxy):
    fault_proxy.fail("LookupEvents", 400, "ThrottlingException", "Rate exceeded")
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    async with AwsSession(region="us-east-1", endpoint_url=fault_proxy.url, max_attempts=1) as aws:
        history = TrailHistory(aws, FrozenClock(NOW), sources=("sagemaker.amazonaws.com",), max_attempts=4, backoff=0.5, sleep=sleep)
        with pytest.raises(ThrottledError):
            await history.poll()
    assert fault_proxy.seen.count("LookupEvents") == 4
    assert len(waited) == 3
    for attempt, seconds in enumerate(waited):
        step = 0.5 * 2**attempt
        assert step / 2 <= seconds <= step


async def test_access_denied_names_the_iam_action_and_plain_moto_says_unsupported(fault_proxy):
    fault_proxy.fail("LookupEvents", 400, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/x is not authorized")
    async with AwsSession(region="us-east-1", endpoint_url=fault_proxy.url, max_attempts=1) as aws:
        history = TrailHistory(aws, FrozenClock(NOW))
        with pytest.raises(AccessDeniedError) as denied:
            await history.poll()
        assert denied.value.action == "cloudtrail:LookupEvents"
        assert "cloudtrail:LookupEvents" in str(denied.value)
        fault_proxy.heal()
        with pytest.raises(UnsupportedOperationError):  # moto 5.2.5 has no LookupEvents
            await history.poll()
