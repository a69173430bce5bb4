"""LogTail against the simulator: the demo fleet's endpoint log groups, filter patterns included.

The session's simulator is shared and deterministic (``SIM_NOW``, fixed
seed, no live traffic); these tests only read.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from smtop.aws.logs import LogTail, list_log_groups
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from tests.conftest import SIM_NOW

pytestmark = pytest.mark.slow

CANARY = "/aws/sagemaker/Endpoints/llm-chat-canary"


async def fill(aws, **kw):
    tail = LogTail(
        aws,
        CANARY,
        since=timedelta(hours=3),
        clock=FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc)),
        poll_interval=0.05,
        fill_pages=1_000,
        max_pages=1_000,
        fill_limit=100_000,
        **{"live": False, **kw},
    )
    updates = tail.updates()
    try:
        first = await updates.__anext__()
        return tail, first, updates
    except BaseException:
        await updates.aclose()
        raise


async def test_filter_patterns_and_small_pages_agree(sim, test_credentials):
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1, read_only=True) as aws:
        groups = [g.name for g in await list_log_groups(aws, "/aws/sagemaker/")]
        everything = {}
        for pattern in (None, "ERROR", "?Incomplete ?memory"):
            for page_limit in (None, 50):
                tail, first, updates = await fill(aws, filter_pattern=pattern, page_limit=page_limit)
                await updates.aclose()
                ids = Counter(e.event_id for e in first.events)
                assert all(n == 1 for n in ids.values())
                assert [e.timestamp for e in first.events] == sorted(e.timestamp for e in first.events)
                everything[pattern, page_limit] = [e.event_id for e in first.events]
                if page_limit:
                    assert tail.stats.pages > 1 or len(first.events) <= page_limit

    assert {CANARY, "/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs"} <= set(groups)
    for pattern in (None, "ERROR", "?Incomplete ?memory"):
        assert everything[pattern, None] == everything[pattern, 50]
    assert everything[None, None], "the canary's group has history"
    # TGI's failed generations ("Incomplete generation", CUDA out of memory, illegal memory access) are
    # some of its ERROR lines (input validation errors are the others), which are some of its lines.
    assert 0 < len(everything["?Incomplete ?memory", None]) < len(everything["ERROR", None]) < len(everything[None, None])
    assert set(everything["?Incomplete ?memory", None]) <= set(everything["ERROR", None]) <= set(everything[None, None])


async def test_live_tail_against_the_simulator_falls_back_to_polling(sim, test_credentials):
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1, read_only=True) as aws:
        tail, first, updates = await fill(aws, live=True, filter_pattern="ERROR")
        began = time.perf_counter()
        try:
            second = await updates.__anext__()
        finally:
            await updates.aclose()
    assert first.events
    assert second.notice and "Live Tail is not available" in second.notice
    assert time.perf_counter() - began < 2.0
    assert tail.mode == "poll"


async def test_a_quiet_group_is_polled_less_often_until_a_line_arrives(sim, test_credentials):
    """FilterLogEvents' 5 TPS quota is the account's: an idle tail backs off, a new line brings it back."""
    import boto3

    region, group = "us-west-2", "/aws/sagemaker/Endpoints/quiet-tail"
    client = boto3.client("logs", region_name=region, endpoint_url=sim.url)
    client.create_log_group(logGroupName=group)
    client.create_log_stream(logGroupName=group, logStreamName="s")
    async with AwsSession(region=region, endpoint_url=sim.url, max_attempts=1, read_only=True) as aws:
        clock = FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc))  # the simulator's time
        tail = LogTail(aws, group, since=timedelta(minutes=5), clock=clock, poll_interval=0.1, quiet_interval=0.8, live=False)
        received: asyncio.Queue = asyncio.Queue()

        async def consume() -> None:
            async for update in tail.updates():
                await received.put(update)

        consumer = asyncio.create_task(consume())
        try:
            waits: list[float] = []
            polls = 0
            deadline = time.monotonic() + 10
            while len(waits) < 6 and time.monotonic() < deadline:  # the loop's own waits while nothing arrives
                await asyncio.sleep(0.02)
                if tail.stats.polls != polls and tail.stats.last_wait:
                    polls = tail.stats.polls
                    waits.append(tail.stats.last_wait)
            assert len(waits) == 6 and waits == sorted(waits) and waits[0] < waits[-1] == 0.8
            while not received.empty():
                assert not received.get_nowait().events  # nothing was there to show
            client.put_log_events(
                logGroupName=group, logStreamName="s", logEvents=[{"timestamp": int((SIM_NOW - 60) * 1000), "message": "back"}]
            )
            update = await asyncio.wait_for(received.get(), timeout=5)
            assert [e.message for e in update.events] == ["back"]
            polls = tail.stats.polls
            await asyncio.sleep(0.45)  # back at 0.1 s: several polls where 0.8 s would allow none
            assert tail.stats.polls >= polls + 2
        finally:
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)
