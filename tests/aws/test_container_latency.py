"""The latency queries over the lines real model-server containers write, run by smtop's
Insights runner (aiobotocore) against the simulator over HTTP.

The samples and their expected latencies are written by hand
(:mod:`tests.container_log_samples`).  Containers whose request lines carry no
duration give those lines without a latency, and the query's
:class:`~smtop.models.insights.Measure` says these logs carry no latency; a
range with no request line (a quiet endpoint's health checks, or DJL
Serving, which logs no request line) says there were no requests in it.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from smtop.aws.insights import InsightsRunner
from smtop.aws.session import AwsSession
from smtop.models.insights import QueryProgress, QueryRequest
from smtop.models.queries import BUILT_IN, LATENCY_MEASURE
from tests.conftest import SIM_NOW
from tests.container_log_samples import QUIET, SAMPLES, Sample

WRITE_REGION = "us-west-2"
END = datetime.fromtimestamp(SIM_NOW, timezone.utc)  # 2026-11-18 11:06 UTC
QUERIES = {q.name: q for q in BUILT_IN}


def epoch_ms(clock: str) -> int:
    hour, minute, second = (int(part) for part in clock.split(":"))
    return calendar.timegm((2026, 11, 18, hour, minute, second)) * 1000


def put_samples(sim, prefix: str, samples: dict[str, Sample]) -> dict[str, str]:
    """One log group per sample, its lines in one instance stream (put over HTTP)."""
    client = boto3.client(
        "logs", endpoint_url=sim.url, region_name=WRITE_REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}),
    )
    for name, sample in samples.items():
        group = f"{prefix}{name}"
        client.create_log_group(logGroupName=group)
        client.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-0123456789abcdef0")
        events = [{"timestamp": epoch_ms(clock) + i, "message": message} for i, (clock, message) in enumerate(sample.lines)]
        client.put_log_events(logGroupName=group, logStreamName="AllTraffic/i-0123456789abcdef0", logEvents=events)
    return {name: f"{prefix}{name}" for name in samples}


@pytest.fixture(scope="module")
def groups(sim):
    return put_samples(sim, "/test/container-latency/", SAMPLES)


@pytest.fixture(scope="module")
def quiet_groups(sim):
    return put_samples(sim, "/test/container-latency-quiet/", QUIET)


@pytest.fixture
async def aws(sim, test_credentials):
    async with AwsSession(region=WRITE_REGION, endpoint_url=sim.url, max_attempts=1) as session:
        yield session


async def run(aws: AwsSession, name: str, group: str) -> tuple[QueryRequest, QueryProgress]:
    saved = QUERIES[name]
    request = QueryRequest(saved.query, (group,), END - timedelta(hours=1), END, saved.name, measure=saved.measure)
    states = [p async for p in InsightsRunner(aws, request, poll_first=0.05, poll_max=0.2).progress()]
    assert states[-1].status == "Complete", states[-1]
    return request, states[-1]


def test_every_sample_names_its_source():
    assert all(sample.source and sample.lines for sample in SAMPLES.values())
    assert {name for name, s in SAMPLES.items() if not s.slowest} == {"nginx", "vllm", "triton", "djl"}
    assert {name for name, s in SAMPLES.items() if s.untimed} == {"nginx", "vllm", "triton"}  # DJL logs no request line


@pytest.mark.parametrize("name", [n for n, s in SAMPLES.items() if s.slowest])
async def test_the_latency_queries_read_each_requests_duration_in_ms(aws, groups, name):
    sample = SAMPLES[name]
    request, slowest = await run(aws, "slowest requests", groups[name])
    assert slowest.fields == ("@timestamp", "latency_ms", "@logStream", "@message")
    assert [float(row[1]) for row in slowest.rows] == [pytest.approx(ms, abs=1e-6) for ms in sample.slowest]
    assert request.measure.note(slowest) is None

    request, percentiles = await run(aws, "latency percentiles", groups[name])
    assert percentiles.fields == ("bin(5m)", "p50", "p99", "requests")
    assert [(b, float(p50), float(p99), int(n)) for b, p50, p99, n in percentiles.rows] == [
        (b, pytest.approx(p50, abs=1e-6), pytest.approx(p99, abs=1e-6), n) for b, p50, p99, n in sample.bins
    ]
    assert request.measure.note(percentiles) is None


@pytest.mark.parametrize("name", [n for n, s in SAMPLES.items() if s.untimed])
async def test_request_lines_without_a_duration_say_these_logs_carry_no_latency(aws, groups, name):
    sample = SAMPLES[name]
    request, slowest = await run(aws, "slowest requests", groups[name])
    # The request lines themselves, none with a latency: the proof of what the note says.
    assert slowest.fields == ("@timestamp", "@logStream", "@message")
    assert len(slowest.rows) == sum(n for _, n in sample.untimed)
    assert request.measure.note(slowest) == LATENCY_MEASURE.absent

    request, percentiles = await run(aws, "latency percentiles", groups[name])
    assert percentiles.fields == ("bin(5m)", "requests")  # no p50, p99: no duration to rank
    assert [(b, int(n)) for b, n in percentiles.rows] == list(sample.untimed)
    assert request.measure.note(percentiles) == LATENCY_MEASURE.absent
    assert LATENCY_MEASURE.absent.startswith("These logs carry no latency")


async def test_a_container_that_logs_no_request_line_has_no_requests_to_show(aws, groups):
    """DJL Serving's default sends its access log to a file: its lines hold no request to measure."""
    for query in ("slowest requests", "latency percentiles"):
        request, progress = await run(aws, query, groups["djl"])
        assert progress.rows == () and progress.stats.records_scanned == len(SAMPLES["djl"].lines)
        assert request.measure.note(progress) == LATENCY_MEASURE.none


@pytest.mark.parametrize("name", sorted(QUIET))
async def test_a_quiet_endpoint_is_not_called_a_format_without_latency(aws, quiet_groups, name):
    """Only /ping (and metrics) lines in the range: these servers do log latency, there was nothing to log."""
    for query in ("slowest requests", "latency percentiles"):
        request, progress = await run(aws, query, quiet_groups[name])
        assert progress.rows == ()
        assert progress.stats.records_scanned == len(QUIET[name].lines)
        assert request.measure.note(progress) == LATENCY_MEASURE.none
        assert LATENCY_MEASURE.none.startswith("No requests in this range")


async def test_an_empty_range_is_not_called_a_format_without_latency(aws, groups):
    saved = QUERIES["slowest requests"]
    request = QueryRequest(saved.query, (groups["mms"],), END - timedelta(minutes=5), END, saved.name, measure=saved.measure)
    final = [p async for p in InsightsRunner(aws, request, poll_first=0.05, poll_max=0.2).progress()][-1]
    assert final.status == "Complete" and final.rows == () and final.stats.records_scanned == 0
    assert request.measure.note(final) == LATENCY_MEASURE.none
