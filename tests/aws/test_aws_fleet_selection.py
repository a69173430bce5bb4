"""What a refresh costs, and the selected endpoint's own metrics, against a
synthetic fleet in the simulator over HTTP.

90 endpoints are a size where the old plan (every metric of every endpoint,
11 queries a CPU variant, 12 a GPU one) needed 3 calls and the issue's floor,
ceil(N·10/500), is 2.  Calls and queries are counted from botocore's events
on the real client, as bench/gmd.py counts them.  A 30-minute window keeps
the first fill small; the calls do not depend on it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from smtop.aws.fleet import FleetMonitor
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.sim.process import spawn_sim
from tests.aws.conftest import record_calls
from tests.conftest import SIM_NOW, SIM_SEED

pytestmark = pytest.mark.slow

N = 90
WINDOW = timedelta(minutes=30)
PANEL_ONLY = {("InvocationsPerInstance", "Sum"), ("OverheadLatency", "Average"), ("OverheadLatency", "p99")}


@pytest.fixture(scope="module")
def synthetic_sim():
    process = spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW, timeout=60, extra_args=["--synthetic-endpoints", str(N)])
    try:
        yield process
    finally:
        process.stop()


def asked(requests: list[dict]) -> set[tuple[str, str, str, str]]:
    """(endpoint, variant, metric, stat) of every query in ``requests``."""
    out = set()
    for request in requests:
        for query in request["MetricDataQueries"]:
            stat = query["MetricStat"]
            dims = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
            out.add((dims["EndpointName"], dims["VariantName"], stat["Metric"]["MetricName"], stat["Stat"]))
    return out


def panel_only(queries: set[tuple[str, str, str, str]]) -> set[tuple[str, str, str, str]]:
    return {q for q in queries if (q[2], q[3]) in PANEL_ONLY}


def overhead_from_the_service(url: str, endpoint: str, variant: str, start: float, end: float) -> dict[float, float]:
    """OverheadLatency Average of one variant, asked directly with boto3."""
    cloudwatch = boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    reply = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": "OverheadLatency",
                        "Dimensions": [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
                    },
                    "Period": 60,
                    "Stat": "Average",
                },
            }
        ],
        StartTime=datetime.fromtimestamp(start, timezone.utc),
        EndTime=datetime.fromtimestamp(end, timezone.utc),
    )
    result = reply["MetricDataResults"][0]
    return {ts.timestamp(): value for ts, value in zip(result["Timestamps"], result["Values"])}


async def test_the_fleet_costs_the_floor_and_the_selection_one_small_call(synthetic_sim, test_credentials):
    clock = FrozenClock(datetime.fromtimestamp(SIM_NOW + 30, timezone.utc))
    end = float(SIM_NOW)  # the plans end at the start of the running minute
    async with AwsSession(region="us-east-1", endpoint_url=synthetic_sim.url, max_attempts=1, read_only=True) as aws:
        requests = record_calls(await aws.client("cloudwatch"), "GetMetricData")
        fleet = FleetMonitor(aws, clock, window=WINDOW)

        # 1. The first refresh, nothing selected yet (as the console starts).
        first = await fleet.refresh()
        variants = [v for e in first.endpoints for v in e.variants]
        table_queries = sum(9 if v.has_gpu else 8 for v in variants)
        assert len(first.endpoints) == N
        assert math.ceil(sum(12 if v.has_gpu else 11 for v in variants) / 500) == 3  # what every metric would cost
        assert len(requests) == first.poll.calls == math.ceil(N * 10 / 500) == 2
        assert sum(len(r["MetricDataQueries"]) for r in requests) == first.poll.queries == table_queries
        assert not panel_only(asked(requests))

        # 2. A selection: one call with just its panel-only series, the whole window of them.
        chosen = next(e for e in sorted(first.endpoints, key=lambda e: e.name) if len(e.variants) == 1)
        fleet.select(chosen.name)
        before = len(requests)
        selected = await fleet.refresh_selected()
        new = requests[before:]
        assert len(new) == 1
        variant = chosen.variants[0].name
        assert asked(new) == {(chosen.name, variant, m, s) for m, s in PANEL_ONLY}
        assert (new[0]["StartTime"].timestamp(), new[0]["EndTime"].timestamp()) == (end - WINDOW.total_seconds(), end)
        overhead = selected.metrics_for(chosen.name).get("OverheadLatency")
        expected = overhead_from_the_service(synthetic_sim.url, chosen.name, variant, end - WINDOW.total_seconds(), end)
        assert len(expected) >= 25
        assert dict(zip(overhead.timestamps, overhead.values)) == pytest.approx(expected)
        assert selected.metrics_for(chosen.name).get("Invocations") is first.metrics_for(chosen.name).get("Invocations")
        assert selected.endpoints == first.endpoints and fleet.last is selected
        await fleet.refresh_selected()
        assert len(requests) == before + 1, "already fetched: nothing asked again"

        # 3. The next refresh carries them incrementally, in the fleet's calls.
        clock.advance(60)
        before = len(requests)
        second = await fleet.refresh()
        new = requests[before:]
        assert len(new) == second.poll.calls == 2 and second.poll.incremental
        assert second.poll.queries == table_queries + 3
        assert panel_only(asked(new)) == {(chosen.name, variant, m, s) for m, s in PANEL_ONLY}
        assert {r["StartTime"] for r in new} == {datetime.fromtimestamp(end - 5 * 60, timezone.utc)}

        # 4. Another selection reaching a refresh before its own poll: its first
        # fill shares the fleet's calls (still 2), the previous one's are dropped.
        other = next(e for e in sorted(first.endpoints, key=lambda e: e.name, reverse=True) if len(e.variants) == 1)
        fleet.select(other.name)
        clock.advance(60)
        before = len(requests)
        third = await fleet.refresh()
        new = requests[before:]
        assert len(new) == third.poll.calls == math.ceil((table_queries + 3) / 500) == 2
        assert {q[0] for q in panel_only(asked(new))} == {other.name}
        assert {k.endpoint for k in fleet.poller.buffers if (k.metric, k.stat) in PANEL_ONLY} == {other.name}
        assert len(third.metrics_for(other.name).get("OverheadLatency")) >= 25  # its history, not a few minutes
        assert third.metrics_for(chosen.name).get("OverheadLatency") is None
