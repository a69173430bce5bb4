"""LogTail against the simulator: the demo fleet's endpoint log groups, filter patterns, Live Tail.

The session's simulator is shared and deterministic (``SIM_NOW``, fixed
seed, no live traffic); these tests only read.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from smtop.aws.logs.groups import list_log_groups
from smtop.aws.logs.tail import LogTail
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.models.tail import LiveTailGate
from smtop.sim.live_tail import MAX_CONCURRENT_SESSIONS
from tests.conftest import SIM_NOW
from tests.sim.test_live_tail import Reader, logs_client

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


class Lines(threading.Thread):
    """Writes numbered lines into a fresh group of the simulator, one PutLogEvents each."""

    def __init__(self, sim, count: int, every: float, region: str = "us-west-2") -> None:
        import boto3

        super().__init__(daemon=True)
        self.region = region
        self.group = f"/aws/sagemaker/Endpoints/live-{time.time_ns()}"
        self.client = boto3.client("logs", region_name=region, endpoint_url=sim.url)
        self.client.create_log_group(logGroupName=self.group)
        self.client.create_log_stream(logGroupName=self.group, logStreamName="AllTraffic/i-0")
        self.count, self.every = count, every
        self.written: list[str] = []
        self.at: dict[str, float] = {}

    def run(self) -> None:
        self.write(self.count, self.every)

    def write(self, count: int, every: float = 0.0) -> None:
        """The next ``count`` lines, ``every`` seconds apart (blocking)."""
        base = SIM_NOW * 1000 + 1000
        for _ in range(count):
            n = len(self.written)
            message = f"line {n:04d}"
            self.client.put_log_events(
                logGroupName=self.group, logStreamName="AllTraffic/i-0",
                logEvents=[{"timestamp": base + n * 10, "message": message}],
            )
            self.at[message] = time.monotonic()
            self.written.append(message)
            time.sleep(every)


class Shown:
    """Consumes a tail in a task: every line shown, every notice, when each line came."""

    def __init__(self, tail: LogTail) -> None:
        self.tail = tail
        self.lines: list[str] = []
        self.notices: list[str] = []
        self.updates = []
        self.at: dict[str, float] = {}
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for update in self.tail.updates():
            self.updates.append(update)
            for event in update.events:
                self.lines.append(event.message)
                self.at.setdefault(event.message, time.monotonic())
            if update.notice:
                self.notices.append(update.notice)

    async def until(self, condition, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert not self.task.done(), self.task.exception()
            assert time.monotonic() < deadline, (self.notices, len(self.lines))
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        await asyncio.sleep(1.2)  # one more Live Tail update and poll: a repeat would come now
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def live_tail(aws, group: str, **options) -> LogTail:
    return LogTail(
        aws, group, since=timedelta(minutes=5), clock=FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc)),
        **{"poll_interval": 30.0, "backoff": 0.1, "max_backoff": 0.5, **options},
    )


def open_sessions(sim) -> int:
    import requests

    return requests.get(f"{sim.url}/_smtop/live-tail", timeout=5).json()["open"]


async def test_the_tail_follows_the_simulator_on_live_tail(sim, test_credentials):
    lines = Lines(sim, count=40, every=0.05)
    async with AwsSession(region=lines.region, endpoint_url=sim.url, max_attempts=1) as aws:
        # Polls 30 s apart: only Live Tail can bring the lines within seconds.
        shown = Shown(live_tail(aws, lines.group))
        await shown.until(lambda: shown.tail.mode == "live")
        lines.start()
        await shown.until(lambda: len(shown.lines) >= lines.count)
        await shown.stop()
    assert "Following with Live Tail." in shown.notices
    assert not any("not available" in n for n in shown.notices)
    assert Counter(shown.lines) == Counter(lines.written)
    assert shown.lines == lines.written  # one stream: time order is write order
    assert sum(len(u.events) for u in shown.updates if u.mode == "live") == lines.count
    # Within half the 30 s poll interval: only Live Tail brings them so soon (about a second
    # on an idle machine; how much sooner than the poll is bench/'s business).
    delays = [shown.at[m] - lines.at[m] for m in lines.written]
    assert max(delays) < 15, max(delays)
    assert shown.tail.stats.live_sessions == 1 and shown.tail.stats.polls <= 2


async def test_denied_live_tail_falls_back_to_polling_and_loses_nothing(sim, test_credentials):
    import requests

    lines = Lines(sim, count=30, every=0.05)
    requests.post(f"{sim.url}/_smtop/faults", json={"kind": "deny", "service": "logs", "operation": "StartLiveTail"}, timeout=5)
    try:
        async with AwsSession(region=lines.region, endpoint_url=sim.url, max_attempts=1) as aws:
            shown = Shown(live_tail(aws, lines.group, poll_interval=0.2))
            await shown.until(lambda: shown.notices)
            lines.start()
            await shown.until(lambda: len(shown.lines) >= lines.count)
            await shown.stop()
    finally:
        requests.delete(f"{sim.url}/_smtop/faults", timeout=5)
    assert any("Live Tail is not available here" in n and "StartLiveTail" in n for n in shown.notices), shown.notices
    assert shown.tail.mode == "poll" and shown.tail.stats.live_sessions == 0
    assert all(u.mode == "poll" for u in shown.updates)
    assert shown.lines == lines.written


async def test_closing_the_gate_polls_and_opening_it_streams_again_without_loss_or_repeats(sim, test_credentials):
    lines = Lines(sim, count=120, every=0.05)
    gate = LiveTailGate()
    async with AwsSession(region=lines.region, endpoint_url=sim.url, max_attempts=1) as aws:
        shown = Shown(live_tail(aws, lines.group, poll_interval=0.3, live_gate=gate))
        await shown.until(lambda: shown.tail.mode == "live")
        lines.start()
        await shown.until(lambda: len(shown.lines) >= 20)
        gate.close("no key pressed for 15 min")
        await shown.until(lambda: shown.tail.mode == "poll")
        # The session is closed at once: no session-minute is billed while polling.
        await shown.until(lambda: open_sessions(sim) == 0, timeout=5)
        polled_from = len(shown.lines)
        await shown.until(lambda: len(shown.lines) >= polled_from + 20)
        gate.open()
        await shown.until(lambda: shown.tail.mode == "live")
        await shown.until(lambda: len(shown.lines) >= lines.count)
        await shown.stop()
    assert "Live Tail paused (no key pressed for 15 min); polling every 0.3 s." in shown.notices
    assert shown.notices.count("Following with Live Tail.") == 2
    assert shown.tail.stats.live_sessions == 2
    assert any(u.mode == "poll" and u.events for u in shown.updates)
    assert sum(1 for u in shown.updates if u.mode == "live" and u.events) >= 2
    assert shown.lines == lines.written  # nothing lost, nothing twice, in order


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


async def test_a_resumed_tail_whose_live_tail_is_throttled_polls_and_comes_back_to_live_tail(sim, test_credentials):
    """Reopening the gate is not a first start: a throttled StartLiveTail then is passing, not "not offered"."""
    lines = Lines(sim, count=120, every=0.05)
    gate = LiveTailGate()
    async with AwsSession(region=lines.region, endpoint_url=sim.url, max_attempts=1) as aws:
        shown = Shown(live_tail(aws, lines.group, poll_interval=0.3, live_gate=gate))
        await shown.until(lambda: shown.tail.mode == "live")
        lines.start()
        await shown.until(lambda: len(shown.lines) >= 20)
        gate.close("no key pressed for 15 min")
        await shown.until(lambda: shown.tail.mode == "poll")
        await shown.until(lambda: open_sessions(sim) == 0, timeout=5)
        sim.inject("throttle", "logs", "StartLiveTail", count=1)
        try:
            gate.open()
            await shown.until(lambda: shown.tail.stats.live_sessions == 2)
            refused = sim.faults()["faults"][0]["injected"]
        finally:
            sim.clear_faults()
        await shown.until(lambda: shown.tail.mode == "live")
        await shown.until(lambda: len(shown.lines) >= lines.count)
        await shown.stop()
    assert refused == 1
    assert not any("not available" in n for n in shown.notices), shown.notices
    retry = [n for n in shown.notices if n.startswith("Live Tail could not restart")]
    assert len(retry) == 1 and "throttled" in retry[0] and "polling every 0.3 s" in retry[0], shown.notices
    assert "trying Live Tail again in" in retry[0]
    assert shown.lines == lines.written  # nothing lost, nothing twice, in order


async def test_at_the_accounts_session_limit_a_resumed_tail_polls_until_a_session_is_free(sim, test_credentials):
    """LimitExceededException (15 sessions per account and Region) on a resume: poll, retry, stream again."""
    region = "ap-southeast-2"  # no other test's sessions
    lines = Lines(sim, count=0, every=0, region=region)
    gate = LiveTailGate()
    others = logs_client(sim.url, region, max_pool_connections=MAX_CONCURRENT_SESSIONS + 5)
    arn = others.describe_log_groups(logGroupNamePrefix=lines.group)["logGroups"][0]["logGroupArn"]
    readers: list[Reader] = []
    async with AwsSession(region=region, endpoint_url=sim.url, max_attempts=1) as aws:
        shown = Shown(live_tail(aws, lines.group, poll_interval=0.3, live_gate=gate))
        try:
            await shown.until(lambda: shown.tail.mode == "live")
            await asyncio.to_thread(lines.write, 10)
            await shown.until(lambda: len(shown.lines) >= 10)
            gate.close("the log panel is hidden")
            await shown.until(lambda: shown.tail.mode == "poll")
            await shown.until(lambda: open_sessions(sim) == 0, timeout=5)
            # Other consoles of the account take every session.
            readers.extend(Reader(others.start_live_tail(logGroupIdentifiers=[arn])) for _ in range(MAX_CONCURRENT_SESSIONS))
            gate.open()
            await shown.until(lambda: any(n.startswith("Live Tail could not restart") for n in shown.notices))
            await asyncio.to_thread(lines.write, 10)
            await shown.until(lambda: len(shown.lines) >= 20)  # polling shows them meanwhile
            assert shown.tail.mode == "poll" and shown.tail.stats.live_sessions == 1
            readers.pop().close()
            await shown.until(lambda: shown.tail.stats.live_sessions == 2)
            await shown.until(lambda: shown.tail.mode == "live")
            await asyncio.to_thread(lines.write, 10)
            await shown.until(lambda: len(shown.lines) >= 30)
            await shown.stop()
        finally:
            for reader in readers:
                reader.close()
    assert not any("not available" in n for n in shown.notices), shown.notices
    retry = next(n for n in shown.notices if n.startswith("Live Tail could not restart"))
    assert "limit of 15" in retry, retry
    assert "polling every 0.3 s" in retry and "trying Live Tail again in" in retry, retry
    assert shown.lines == lines.written
