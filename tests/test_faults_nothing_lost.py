"""Nothing lost across throttling, dropped connections and a server restart.

Counts what went in (log lines written, datapoints put, through boto3) and
what came out of smtop's data layer (the log tail, the fleet monitor), with
the simulator's fault layer failing calls in between.  Each test writes into
a region of its own on a simulator of its own, so the outage touches no other
test.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from smtop.aws.fleet import FleetMonitor
from smtop.aws.logs.tail import LogTail
from smtop.aws.session import AwsSession
from smtop.models.catalog import METRICS
from smtop.clock import FrozenClock
from smtop.errors import SmtopError
from tests.conftest import SIM_NOW, isolated_aws_env, private_fault_sim

REGION = "ap-southeast-2"
ROLE = "arn:aws:iam::123456789012:role/smtop-test"
IMAGE = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/model:1"


@pytest.fixture(scope="module")
def fsim():
    process = private_fault_sim()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(autouse=True)
def credentials(monkeypatch, tmp_path, fsim):
    isolated_aws_env(monkeypatch, tmp_path)
    fsim.clear_faults()
    yield
    fsim.clear_faults()


def boto(fsim, service: str):
    # The writer retries hard on its own: its job is to get every line in.
    return boto3.client(
        service, region_name=REGION, endpoint_url=fsim.url,
        config=Config(retries={"total_max_attempts": 10, "mode": "standard"}, connect_timeout=2, read_timeout=5),
    )


class LineWriter(threading.Thread):
    """Writes numbered lines to one stream, each confirmed before the next; retries through outages."""

    def __init__(self, fsim, group: str, stream: str, count: int, every: float) -> None:
        super().__init__(daemon=True)
        self.client = boto(fsim, "logs")
        self.group, self.stream, self.count, self.every = group, stream, count, every
        self.written: list[str] = []

    def run(self) -> None:
        base = SIM_NOW * 1000 + 1000
        for n in range(self.count):
            message = f"line {n:04d} of {self.stream}"
            while True:
                try:
                    self.client.put_log_events(
                        logGroupName=self.group, logStreamName=self.stream,
                        logEvents=[{"timestamp": base + n * 10, "message": message}],
                    )
                    break
                except Exception:  # the outage outlasted boto3's retries: try again
                    time.sleep(0.2)
            self.written.append(message)
            time.sleep(self.every)


def stored_messages(client, group: str) -> list[str]:
    return [e["message"] for page in client.get_paginator("filter_log_events").paginate(logGroupName=group) for e in page["events"]]


async def test_log_tail_shows_every_line_once_across_throttling_drops_and_a_restart(fsim):
    group = f"/aws/sagemaker/Endpoints/nothing-lost-{time.time_ns()}"
    client = boto(fsim, "logs")
    client.create_log_group(logGroupName=group)
    client.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-0")
    writer = LineWriter(fsim, group, "AllTraffic/i-0", count=100, every=0.03)
    shown: list[str] = []
    notices: list[str] = []
    clock = FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc))

    async with AwsSession(region=REGION, endpoint_url=fsim.url, max_attempts=1, connect_timeout=1, read_timeout=3) as aws:
        tail = LogTail(
            aws, group, since=timedelta(minutes=5), clock=clock, poll_interval=0.1,
            live=False, backoff=0.1, max_backoff=0.8, page_limit=20, max_pages=2,
        )

        async def read() -> None:
            async for update in tail.updates():
                shown.extend(e.message for e in update.events)
                if update.notice:
                    notices.append(update.notice)

        reader = asyncio.create_task(read())
        writer.start()
        fsim.reset_calls()
        for kind, share in (("throttle", 0.5), ("drop", 0.4)):
            fsim.inject(kind, "logs", "FilterLogEvents", share=share)
            await until_injected(fsim, 2)  # however slowly a loaded machine polls
            fsim.clear_faults()
        fsim.outage(1.0)
        await asyncio.sleep(0.2)
        await asyncio.to_thread(writer.join, 60)
        # What the service holds is the truth: a write cut off by the outage after
        # it was stored and then retried by boto3 is stored (and rightly shown) twice.
        stored = await asyncio.to_thread(stored_messages, client, group)
        deadline = time.monotonic() + 20
        while len(shown) < len(stored) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything shown twice would arrive now
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)

    state = fsim.faults()
    assert len(writer.written) == 100 and set(stored) == set(writer.written)
    extra = Counter(shown) - Counter(stored)
    missing = Counter(stored) - Counter(shown)
    assert not extra and not missing, (sorted(extra)[:5], sorted(missing)[:5])
    assert shown == stored  # one stream: time order is write order
    # Faults were really hit, said so, and the retries backed off instead of spinning.
    assert tail.stats.failures >= 3
    assert any("throttling" in n for n in notices) and any("connection" in n.lower() for n in notices)
    assert any("no events were lost" in n for n in notices)
    filter_calls = state["calls"].get("logs:FilterLogEvents", 0)
    assert filter_calls < 400, filter_calls  # ~0.1 s polls over ~6 s; a tight loop makes thousands


async def until_injected(fsim, count: int, timeout: float = 20.0) -> None:
    """Until the active fault rule has hit ``count`` calls."""
    deadline = time.monotonic() + timeout
    while sum(rule["injected"] for rule in fsim.faults()["faults"]) < count:
        assert time.monotonic() < deadline, "the fault was never hit"
        await asyncio.sleep(0.05)


async def wait_until_back(fsim, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fsim.faults()
            return
        except OSError:
            assert time.monotonic() < deadline, "the simulator did not come back"
            await asyncio.sleep(0.1)


def put_metric(cloudwatch, endpoint: str, at: float, value: float) -> None:
    cloudwatch.put_metric_data(
        Namespace=METRICS["Invocations"].namespace,
        MetricData=[{
            "MetricName": "Invocations",
            "Dimensions": [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
            "Timestamp": datetime.fromtimestamp(at, timezone.utc),
            "Value": value,
        }],
    )


def create_endpoint(fsim, name: str) -> None:
    sagemaker = boto(fsim, "sagemaker")
    sagemaker.create_model(ModelName=f"{name}-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE})
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": f"{name}-model", "InstanceType": "ml.m5.large",
                             "InitialInstanceCount": 1, "InitialVariantWeight": 1.0}],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


async def test_metrics_have_no_gap_after_failed_refreshes(fsim):
    name = f"gapless-{time.time_ns() % 10**8}"
    create_endpoint(fsim, name)
    cloudwatch = boto(fsim, "cloudwatch")
    start = SIM_NOW - 20 * 60  # a whole minute
    expected: dict[float, float] = {}

    def put_minutes(first: int, last: int) -> None:
        for minute in range(first, last):
            at = start + minute * 60
            expected[at] = float(100 + minute)
            put_metric(cloudwatch, name, at, expected[at])

    put_minutes(0, 10)
    clock = FrozenClock(datetime.fromtimestamp(start + 10 * 60 + 30, timezone.utc))
    async with AwsSession(region=REGION, endpoint_url=fsim.url, max_attempts=1, connect_timeout=1, read_timeout=3) as aws:
        monitor = FleetMonitor(aws, clock, window=timedelta(hours=1))
        first = await monitor.refresh()
        assert [e.name for e in first.endpoints] == [name]
        failures: list[str] = []
        # Each failed refresh is a period whose data arrives meanwhile.
        for minute, fault in ((10, ("throttle", "cloudwatch")), (11, ("drop", "cloudwatch")), (12, ("throttle", "sagemaker")), (13, None)):
            put_minutes(minute, minute + 1)
            clock.advance(60)
            if fault is None:
                fsim.outage(1.0)
                await asyncio.sleep(0.7)
            else:
                fsim.inject(*fault)
            with pytest.raises(SmtopError) as caught:
                await monitor.refresh()
            failures.append(type(caught.value).__name__)
            if fault is not None:
                fsim.clear_faults()
        await wait_until_back(fsim)
        put_minutes(14, 16)
        clock.advance(120)
        snapshot = await monitor.refresh()

    assert failures == ["ThrottledError", "ConnectionFailedError", "ThrottledError", "ConnectionFailedError"]
    series = snapshot.metrics_for(name).get("Invocations")
    got = dict(zip(series.timestamps, series.values))
    # Every minute put is there with its value; the minutes before (no data)
    # are the zeros a count metric shows for "no requests".
    assert {at: got.get(at) for at in expected} == expected
    assert all(value == 0 for at, value in got.items() if at not in expected)


class OffsetClock:
    """The simulator's own time (its clock runs from --now at wall speed), read off one of its events."""

    def __init__(self, sim_epoch: float) -> None:
        self.offset = sim_epoch - time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset, timezone.utc)


class AlarmWriter(threading.Thread):
    """Makes N management calls (PutMetricAlarm), each one CloudTrail event; retries through outages."""

    def __init__(self, fsim, prefix: str, count: int, every: float) -> None:
        super().__init__(daemon=True)
        self.client = boto(fsim, "cloudwatch")
        self.prefix, self.count, self.every = prefix, count, every
        self.done = 0

    def put(self, n: int) -> None:
        self.client.put_metric_alarm(
            AlarmName=f"{self.prefix}-{n:03d}", Namespace="Custom/NothingLost", MetricName="m", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        )

    def run(self) -> None:
        for n in range(self.count):
            while True:
                try:
                    self.put(n)
                    break
                except Exception:  # the outage outlasted boto3's retries: try again
                    time.sleep(0.2)
            self.done += 1
            time.sleep(self.every)


def lookup_truth(fsim, since: datetime) -> list[str]:
    """Every monitoring event since ``since``, as the simulator itself answers LookupEvents."""
    trail = boto(fsim, "cloudtrail")
    ids = []
    for page in trail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "monitoring.amazonaws.com"}], StartTime=since,
    ):
        ids += [e["EventId"] for e in page["Events"]]
    return ids


async def test_cloudtrail_feed_shows_every_event_once_across_throttling_drops_and_a_restart(fsim):
    from smtop.aws.cloudtrail import TrailHistory

    prefix = f"nothing-lost-{time.time_ns() % 10**8}"
    writer = AlarmWriter(fsim, prefix, count=80, every=0.01)
    writer.put(999)  # one event first: it tells the simulator's time
    first = boto(fsim, "cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "monitoring.amazonaws.com"}], MaxResults=1,
    )["Events"][0]
    clock = OffsetClock(first["EventTime"].timestamp())
    since = first["EventTime"]
    failures: list[str] = []
    added = 0
    async with AwsSession(region=REGION, endpoint_url=fsim.url, max_attempts=1, connect_timeout=1, read_timeout=3) as aws:
        # A short backoff; the region holds only this test's monitoring events (shown is cut at the first).
        history = TrailHistory(aws, clock, sources=("monitoring.amazonaws.com",), window=timedelta(hours=1),
                               capacity=1000, backoff=0.1, max_attempts=2)

        async def poll_once() -> None:
            nonlocal added
            try:
                snapshot = await history.poll()
            except SmtopError as error:
                failures.append(type(error).__name__)
                await asyncio.sleep(0.1)
                return
            added += snapshot.added
            assert len({e.event_id for e in snapshot.events}) == len(snapshot.events)

        writer.start()
        fsim.reset_calls()
        began = time.monotonic()
        # Counted faults, not shares: the few paced requests of a second would make a share hit or miss by chance.
        for fault in (("throttle", 3), ("drop", 2), None):
            if fault is None:
                fsim.outage(1.0)
                await asyncio.sleep(0.2)
            else:
                fsim.inject(fault[0], "cloudtrail", "LookupEvents", count=fault[1])
            end = time.monotonic() + 1.2
            while time.monotonic() < end:
                await poll_once()
            fsim.clear_faults()
        await wait_until_back(fsim)
        await asyncio.to_thread(writer.join, 60)
        calls = fsim.faults()["calls"].get("cloudtrail:LookupEvents", 0)
        seconds = time.monotonic() - began
        await poll_once()
        shown = [e.event_id for e in history._events.values() if e.time >= since]

    truth = lookup_truth(fsim, since)
    assert writer.done == 80 and len(truth) >= 81  # every alarm write (one retried across the outage may be two), and the first
    assert len(shown) == len(set(shown)), "an event shown twice"
    assert set(shown) == set(truth), (len(set(truth) - set(shown)), len(set(shown) - set(truth)))
    assert added == len(truth)  # each counted as new exactly once (this region has no other monitoring events)
    # Faults were really hit, and the pacer held LookupEvents under 2 a second throughout.
    # Three throttles in a row: one retried as it was (a backoff), then a poll failed as a whole.
    assert history.backoffs and {"ThrottledError", "ConnectionFailedError"} <= set(failures), failures
    assert calls <= 2 * seconds, (calls, seconds)


async def test_insights_rows_are_the_clean_runs_rows_across_throttled_and_dropped_polls(fsim):
    from smtop.aws.insights import InsightsRunner
    from smtop.models.insights import QueryRequest

    group = f"/aws/sagemaker/Endpoints/insights-lost-{time.time_ns() % 10**8}"
    logs = boto(fsim, "logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    base = SIM_NOW * 1000 - 600_000
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": base + i * 1000, "message": f"req {i} status={500 if i % 7 == 0 else 200} latency_ms={i * 3}"} for i in range(300)
    ])
    request = QueryRequest(
        query="filter @message like /status=500/\n| parse @message /latency_ms=(?<ms>\\d+)/\n| stats count(*) as n, max(ms) as worst by bin(1m)",
        log_groups=(group,), start=datetime.fromtimestamp(SIM_NOW - 3600, timezone.utc),
        end=datetime.fromtimestamp(SIM_NOW + 60, timezone.utc),
    )
    async with AwsSession(region=REGION, endpoint_url=fsim.url, max_attempts=1, connect_timeout=1, read_timeout=3) as aws:
        async def run() -> list:
            return [p async for p in InsightsRunner(aws, request, poll_first=0.05, poll_max=0.2).progress()]

        clean = (await run())[-1]
        assert clean.status == "Complete" and clean.rows
        fsim.reset_calls()
        fsim.inject("throttle", "logs", "GetQueryResults", count=3)
        fsim.inject("drop", "logs", "GetQueryResults", count=2)
        states = await run()
    faulted = states[-1]
    assert faulted.status == "Complete"
    assert (faulted.fields, faulted.rows) == (clean.fields, clean.rows)
    notices = [s.notice for s in states if s.notice]
    assert any("throttled, retrying in" in n for n in notices) and any("connection failed, retrying in" in n for n in notices)
    calls = fsim.faults()["calls"]
    assert calls["logs:StartQuery"] == 1 and calls["logs:GetQueryResults"] >= 6  # 5 faulted, then the answer
