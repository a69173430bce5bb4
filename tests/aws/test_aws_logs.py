"""LogTail and list_log_groups through aiobotocore over HTTP to moto.

Plain moto (not the simulator): these tests use no filter patterns, which
plain moto ignores, and pass ``interleaved`` so moto sorts across streams as
CloudWatch does.  Events are stamped with the wall clock because moto
rejects events older than 14 days or more than 2 hours ahead.

Every test counts events in and out by a unique message: zero repeats, zero
gaps.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections import Counter
from datetime import timedelta

import pytest
from aiohttp import web

from smtop.aws.logs.groups import list_log_groups
from smtop.aws.logs.tail import LogTail
from smtop.aws.session import AwsSession
from smtop.clock import SystemClock
from smtop.errors import InvalidFilterPatternError
from smtop.models import TailUpdate
from tests.aws.conftest import REGION, FaultProxy

GROUP = "/aws/sagemaker/Endpoints/fraud-detector-prod"
STREAMS = ("AllTraffic/i-0a1", "AllTraffic/i-0b2", "Canary/i-0c3")

FAST = dict(poll_interval=0.05, backoff=0.05, max_backoff=0.2, live=False, clock=SystemClock())


def now_ms() -> int:
    return int(time.time() * 1000)


class Writer:
    """Puts uniquely numbered lines into moto (through boto3, in a thread)."""

    def __init__(self, boto) -> None:
        self.logs = boto("logs")
        self.sent: list[str] = []
        self.streams: set[str] = set()

    def group(self, name: str = GROUP) -> None:
        self.logs.create_log_group(logGroupName=name)

    def put(self, stream: str, count: int, at: int | None = None, spread: int = 3, step: int = 1) -> None:
        """``count`` lines on ``stream``, stamped on only ``spread`` distinct times ``step`` ms apart."""
        if stream not in self.streams:
            self.logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
            self.streams.add(stream)
        at = now_ms() if at is None else at
        lines = [f"{stream} #{len(self.sent) + i}" for i in range(count)]
        events = [{"timestamp": at + i % spread * step, "message": line} for i, line in enumerate(lines)]
        events.sort(key=lambda e: e["timestamp"])
        reply = self.logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)
        assert not reply.get("rejectedLogEventsInfo"), reply
        self.sent.extend(lines)

    async def aput(self, *args, **kw) -> None:
        await asyncio.to_thread(self.put, *args, **kw)


class Reader:
    """Runs a tail in a task and keeps every update."""

    def __init__(self, tail: LogTail) -> None:
        self.tail = tail
        self.updates: list[TailUpdate] = []
        self.error: BaseException | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for update in self.tail.updates():
                self.updates.append(update)
        except Exception as error:  # noqa: BLE001 - the test looks at it
            self.error = error

    @property
    def messages(self) -> list[str]:
        return [e.message for u in self.updates for e in u.events]

    @property
    def notices(self) -> list[str]:
        return [u.notice for u in self.updates if u.notice]

    async def until(self, condition, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.error is not None:
                raise self.error
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; notices: {self.notices}; got {len(self.messages)} events")
            await asyncio.sleep(0.02)

    async def more_polls(self, count: int = 3) -> None:
        """Wait until the tail has begun ``count`` more polls.

        Polls, not wall time: on a loaded machine a fixed sleep may see no
        poll at all.  A poll begins only after the updates of the one before
        it were taken, so all but the last have been seen.
        """
        target = self.tail.stats.polls + count
        await self.until(lambda: self.tail.stats.polls >= target)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def assert_exactly_once(got: list[str], sent: list[str]) -> None:
    repeats = [m for m, n in Counter(got).items() if n > 1]
    missing = set(sent) - set(got)
    assert not repeats, f"{len(repeats)} shown twice, e.g. {repeats[:3]}"
    assert not missing, f"{len(missing)} never shown, e.g. {sorted(missing)[:3]}"
    assert len(got) == len(sent)


def in_time_order(update: TailUpdate) -> bool:
    times = [e.timestamp for e in update.events]
    return times == sorted(times)


async def test_small_pages_many_polls_and_a_new_stream_lose_nothing(aws, boto):
    writer = Writer(boto)
    writer.group()
    for stream in STREAMS:
        writer.put(stream, 120)
    tail = LogTail(aws, GROUP, since=timedelta(minutes=5), page_limit=50, max_pages=2, **FAST)
    reader = Reader(tail)
    await reader.until(lambda: len(reader.messages) == 360)

    # More events between polls, on equal timestamps, some stamped 3 s in the
    # past (ingested late), and a new instance's stream appearing mid-tail.
    for round_ in range(4):
        for stream in STREAMS:
            await writer.aput(stream, 40, at=now_ms() - (3000 if round_ % 2 else 0))
        if round_ == 1:
            await writer.aput("AllTraffic/i-0d4-new", 25)
    await reader.until(lambda: len(reader.messages) >= len(writer.sent))
    await reader.more_polls()  # nothing may come twice
    await reader.stop()

    assert_exactly_once(reader.messages, writer.sent)
    assert any(m.startswith("AllTraffic/i-0d4-new") for m in reader.messages)
    assert all(in_time_order(u) for u in reader.updates)
    assert all(u.mode == "poll" for u in reader.updates)
    assert tail.stats.pages > 30  # really paged: 50 events a page
    assert {e.group for u in reader.updates for e in u.events} == {GROUP}


class DroppingProxy(FaultProxy):
    """Closes the connection instead of answering every ``every``-th FilterLogEvents."""

    every = 0
    dropped = 0
    _count = 0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.every and "FilterLogEvents" in request.headers.get("X-Amz-Target", ""):
            self._count += 1
            if self._count % self.every == 0:
                self.dropped += 1
                request.transport.close()
                return web.Response(status=500)
        return await super()._handle(request)


@pytest.fixture
async def dropping_proxy(moto):
    proxy = DroppingProxy(moto)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_dropped_connections_lose_nothing(dropping_proxy, boto):
    writer = Writer(boto)
    writer.group()
    for stream in STREAMS:
        writer.put(stream, 100)
    dropping_proxy.every = 3
    async with AwsSession(region=REGION, endpoint_url=dropping_proxy.url, max_attempts=1) as aws:
        tail = LogTail(aws, GROUP, since=timedelta(minutes=5), page_limit=40, max_pages=3, **FAST)
        reader = Reader(tail)
        for _ in range(3):
            await reader.until(lambda: len(reader.messages) >= len(writer.sent))
            for stream in STREAMS:
                await writer.aput(stream, 30)
        await reader.until(lambda: len(reader.messages) >= len(writer.sent))
        await reader.more_polls(4)  # some of them dropped: nothing may come twice
        await reader.stop()

    assert dropping_proxy.dropped >= 5
    assert_exactly_once(reader.messages, writer.sent)
    assert any("retrying in" in n for n in reader.notices)
    assert any("no events were lost" in n for n in reader.notices)


async def test_throttling_backs_off_with_a_notice_and_loses_nothing(fault_proxy, boto):
    writer = Writer(boto)
    writer.group()
    writer.put(STREAMS[0], 50)
    async with AwsSession(region=REGION, endpoint_url=fault_proxy.url, max_attempts=1) as aws:
        tail = LogTail(aws, GROUP, since=timedelta(minutes=5), **FAST)
        reader = Reader(tail)
        await reader.until(lambda: len(reader.messages) == 50)
        fault_proxy.fail("FilterLogEvents", 400, "ThrottlingException", "Rate exceeded")
        asked = fault_proxy.seen.count("FilterLogEvents")
        began = time.monotonic()
        await writer.aput(STREAMS[1], 30)
        await reader.until(lambda: fault_proxy.seen.count("FilterLogEvents") - asked >= 6)
        elapsed = time.monotonic() - began
        during = fault_proxy.seen.count("FilterLogEvents") - asked
        fault_proxy.heal()
        await reader.until(lambda: len(reader.messages) == 80)
        await reader.stop()

    throttled = [n for n in reader.notices if "throttling" in n]
    assert throttled and "retrying in" in throttled[0]
    # Backoff 0.05 s doubling to 0.2 s, jittered ×0.5–1: after three tries
    # they are at least 0.1 s apart, where a tight loop would try every few ms.
    assert during <= 4 + elapsed / 0.1, (during, elapsed)
    assert_exactly_once(reader.messages, writer.sent)


async def test_an_invalid_filter_pattern_is_a_clear_error(fault_proxy, boto):
    Writer(boto).group()
    fault_proxy.fail("FilterLogEvents", 400, "InvalidParameterException", "Invalid character(s) in term '\"ERROR'")
    async with AwsSession(region=REGION, endpoint_url=fault_proxy.url, max_attempts=1) as aws:
        tail = LogTail(aws, GROUP, filter_pattern='"ERROR', **FAST)
        with pytest.raises(InvalidFilterPatternError) as raised:
            async for _ in tail.updates():
                pass
    assert raised.value.pattern == '"ERROR'
    assert "not valid" in str(raised.value) and "Invalid character" in str(raised.value)


async def test_a_missing_group_is_waited_for(aws, boto):
    tail = LogTail(aws, GROUP, since=timedelta(minutes=5), **FAST)
    reader = Reader(tail)
    await reader.until(lambda: any("does not exist (yet)" in n for n in reader.notices))
    writer = Writer(boto)
    writer.group()
    await writer.aput(STREAMS[0], 10)
    await reader.until(lambda: len(reader.messages) == 10)
    await reader.stop()
    assert_exactly_once(reader.messages, writer.sent)


async def test_initial_fill_keeps_the_newest_events(aws, boto):
    writer = Writer(boto)
    writer.group()
    writer.put(STREAMS[0], 300, at=now_ms() - 60_000, spread=300)
    tail = LogTail(aws, GROUP, since=timedelta(minutes=5), fill_limit=100, page_limit=100, **FAST)
    reader = Reader(tail)
    await reader.until(lambda: reader.updates)
    await reader.stop()
    first = reader.updates[0]
    assert [e.message for e in first.events] == writer.sent[-100:]
    assert first.notice and "last 100 of 300" in first.notice


async def test_initial_fill_of_a_busy_group_jumps_ahead(aws, boto):
    writer = Writer(boto)
    writer.group()
    start = now_ms() - 120_000
    # 2,000 events evenly over 2 minutes; the fill may read 3 pages of 100.
    for chunk in range(4):
        writer.put(STREAMS[0], 500, at=start + chunk * 30_000, spread=500, step=60)
    tail = LogTail(
        aws, GROUP, since=timedelta(minutes=5), fill_limit=100, page_limit=100, fill_pages=3, max_pages=3, **FAST
    )
    reader = Reader(tail)
    await reader.until(lambda: writer.sent[-1] in reader.messages)
    await reader.more_polls()
    await reader.stop()
    first = reader.updates[0]
    assert first.notice and "Too many events" in first.notice
    assert len(first.events) <= 100
    # Only the newest part of the window is read, and the jump is close to
    # the end: the newest events are shown, the oldest never are.
    got = reader.messages
    assert writer.sent[-1] in got
    assert writer.sent[0] not in got
    assert len(got) < 500
    assert len(set(got)) == len(got)


async def test_live_tail_against_a_local_endpoint_falls_back_fast(aws, boto):
    writer = Writer(boto)
    writer.group()
    writer.put(STREAMS[0], 20)
    tail = LogTail(aws, GROUP, since=timedelta(minutes=5), **{**FAST, "live": True})
    reader = Reader(tail)
    began = time.perf_counter()
    await reader.until(lambda: any("Live Tail is not available" in n for n in reader.notices))
    fallback = time.perf_counter() - began
    await writer.aput(STREAMS[1], 20)
    await reader.until(lambda: len(reader.messages) == 40)
    await reader.stop()
    assert fallback < 2.0, fallback
    assert tail.mode == "poll"
    assert_exactly_once(reader.messages, writer.sent)


async def test_live_tail_session_that_ends_at_once_falls_back_without_repeats(aws, boto):
    # Without the host prefix (a local endpoint: the session turns it off) moto answers
    # StartLiveTail, replays the group's stored events and ends the stream: the replay
    # must not show twice.
    logs = await aws.client("logs")
    assert logs.meta.config.inject_host_prefix is False
    writer = Writer(boto)
    writer.group()
    writer.put(STREAMS[0], 30)
    tail = LogTail(aws, GROUP, since=timedelta(minutes=5), **{**FAST, "live": True})
    reader = Reader(tail)
    await reader.until(lambda: any("Live Tail is not available" in n for n in reader.notices))
    await writer.aput(STREAMS[1], 10)
    await reader.until(lambda: len(reader.messages) == 40)
    await reader.more_polls()
    await reader.stop()
    assert tail.stats.live_sessions == 1
    assert any("ended after" in n for n in reader.notices)
    assert_exactly_once(reader.messages, writer.sent)


async def test_list_log_groups_by_prefix_across_pages(aws, boto):
    logs = boto("logs")
    names = [f"/aws/sagemaker/Endpoints/ep-{i:03d}" for i in range(60)]
    names += ["/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs", "/aws/lambda/other"]
    for name in names:
        logs.create_log_group(logGroupName=name)
    groups = await list_log_groups(aws, "/aws/sagemaker/")
    assert [g.name for g in groups] == sorted(n for n in names if n.startswith("/aws/sagemaker/"))
    assert groups[0].arn.endswith(":log-group:/aws/sagemaker/Endpoints/ep-000")
    assert groups[0].created is not None
    assert len(await list_log_groups(aws, "/aws/sagemaker/Endpoints/", limit=10)) == 10
    assert len(await list_log_groups(aws)) == 63


def event_frame(event_type: str, payload: dict) -> bytes:
    """One AWS event-stream message (the binary framing Live Tail answers in)."""
    headers = b""
    for name, value in ((":message-type", "event"), (":event-type", event_type), (":content-type", "application/json")):
        key, text = name.encode(), value.encode()
        headers += bytes([len(key)]) + key + b"\x07" + len(text).to_bytes(2, "big") + text
    body = json.dumps(payload).encode()
    prelude = (12 + len(headers) + len(body) + 4).to_bytes(4, "big") + len(headers).to_bytes(4, "big")
    prelude += zlib.crc32(prelude).to_bytes(4, "big")
    message = prelude + headers + body
    return message + zlib.crc32(message).to_bytes(4, "big")


class LiveTailProxy(FaultProxy):
    """moto behind a proxy that streams StartLiveTail like CloudWatch does.

    Each open session receives what :meth:`ingest` is given while it is open
    (events ingested between sessions are never pushed, as with the real
    service); ``sampled`` marks the updates as sampled.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.sessions: list[asyncio.Queue] = []
        self.started = 0
        self.sampled = False
        self.closing = False
        self._streaming: set[asyncio.Task] = set()

    async def stop(self) -> None:
        # Open sessions stream until told: end them, or the server's shutdown
        # waits for their handlers.  A handler can be stuck in write() to a
        # client that stopped reading (a session the tail abandoned): cancel it.
        self.closing = True
        for task in list(self._streaming):
            task.cancel()
        await super().stop()

    def ingest(self, events: list[dict]) -> None:
        for queue in self.sessions:
            queue.put_nowait(events)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("X-Amz-Target", "").endswith("StartLiveTail"):
            return await super()._handle(request)
        self.started += 1
        self._streaming.add(asyncio.current_task())
        response = web.StreamResponse(headers={"Content-Type": "application/vnd.amazon.eventstream"})
        await response.prepare(request)
        queue: asyncio.Queue = asyncio.Queue()
        self.sessions.append(queue)
        try:
            await response.write(event_frame("initial-response", {}))
            await response.write(event_frame("sessionStart", {"sessionId": f"s{self.started}"}))
            while not self.closing:
                try:
                    events = await asyncio.wait_for(queue.get(), 0.1)
                except asyncio.TimeoutError:
                    events = []  # the service sends an update every second, empty or not
                update = {"sessionMetadata": {"sampled": self.sampled}, "sessionResults": events}
                await response.write(event_frame("sessionUpdate", update))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.sessions.remove(queue)
            self._streaming.discard(asyncio.current_task())
        return response


@pytest.fixture
async def live_proxy(moto):
    proxy = LiveTailProxy(moto)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_live_tail_renews_sessions_and_catches_up_without_gaps_or_repeats(live_proxy, boto):
    writer = Writer(boto)
    writer.group()
    writer.put(STREAMS[0], 30)

    def put_and_push(stream: str, count: int, push: bool) -> None:
        first = len(writer.sent)
        at = now_ms()
        writer.put(stream, count, at=at)
        if push:  # what the open session delivers
            live_proxy.ingest(
                [
                    {"logStreamName": stream, "timestamp": at + i % 3, "message": m, "ingestionTime": at + 5}
                    for i, m in enumerate(writer.sent[first:])
                ]
            )

    async with AwsSession(region=REGION, endpoint_url=live_proxy.url, max_attempts=1) as aws:
        logs = await aws.client("logs")
        assert logs.meta.config.inject_host_prefix is False  # a local endpoint has no stream- host
        tail = LogTail(
            aws,
            GROUP,
            since=timedelta(minutes=5),
            **{**FAST, "live": True, "poll_interval": 60.0},
            live_renew_after=timedelta(seconds=0.5),
            min_live=0.2,
        )
        reader = Reader(tail)
        await reader.until(lambda: tail.mode == "live" and live_proxy.sessions)
        for round_ in range(8):
            # Every third batch is ingested while no session saw it: only the
            # catch-up poll after the next session start can show it.
            await asyncio.to_thread(put_and_push, STREAMS[round_ % 3], 20, round_ % 3 != 2)
            await asyncio.sleep(0.15)
        live_proxy.sampled = True
        await asyncio.to_thread(put_and_push, STREAMS[0], 5, True)
        await reader.until(lambda: len(reader.messages) >= len(writer.sent))
        # Two more sessions: the catch-up poll after the first of them is
        # done by the time the second starts, and nothing may come twice.
        sessions = tail.stats.live_sessions
        await reader.until(lambda: tail.stats.live_sessions >= sessions + 2)
        await reader.stop()

    assert live_proxy.started >= 3  # renewed before the (shortened) session limit
    assert_exactly_once(reader.messages, writer.sent)
    assert any(u.mode == "live" and u.events for u in reader.updates)
    assert any(u.sampled for u in reader.updates)
    assert any("sampling" in n for n in reader.notices)
    assert not any("not available" in n for n in reader.notices)
