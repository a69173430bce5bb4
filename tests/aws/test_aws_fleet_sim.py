"""FleetMonitor against the simulator's demo fleet, percentiles included.

The session's simulator is shared and deterministic (``SIM_NOW``, fixed
seed, no live traffic); this test only reads, through a read-only session,
which also shows a whole refresh passes the read-only guard.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from smtop.aws.endpoints import EndpointInventory
from smtop.aws.fleet import FleetMonitor
from smtop.aws.metrics import MetricPoller
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from tests.conftest import SIM_NOW

pytestmark = pytest.mark.slow


def variant_values(cloudwatch, endpoint: str, variant: str, namespace: str, metric: str, stat: str) -> dict:
    reply = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": "EndpointName", "Value": endpoint},
                            {"Name": "VariantName", "Value": variant},
                        ],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=datetime.fromtimestamp(SIM_NOW - 3 * 3600, timezone.utc),
        EndTime=datetime.fromtimestamp(SIM_NOW, timezone.utc),
    )
    result = reply["MetricDataResults"][0]
    return {ts.timestamp(): value for ts, value in zip(result["Timestamps"], result["Values"])}


async def test_demo_fleet_through_the_monitor(sim, test_credentials):
    clock = FrozenClock(datetime.fromtimestamp(SIM_NOW + 30, timezone.utc))
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1, read_only=True) as aws:
        fleet = FleetMonitor(aws, clock)
        fleet.select("recsys-ranker")
        snapshot = await fleet.refresh()
        clock.advance(60)
        again = await fleet.refresh()

    names = [e.name for e in snapshot.endpoints]
    assert "recsys-ranker" in names and "llm-chat-canary" in names
    variants = sum(len(e.variants) for e in snapshot.endpoints)
    gpu_variants = sum(v.has_gpu for e in snapshot.endpoints for v in e.variants)
    # The table's 8 series a variant (9 on GPU), the panel's 3 more for the selected one's two variants.
    assert snapshot.poll.queries == 8 * variants + gpu_variants + 3 * 2
    assert snapshot.poll.calls == 1
    assert snapshot.poll.datapoints > 0.8 * snapshot.poll.queries * 180  # three hours of history
    assert again.poll.incremental and again.poll.datapoints <= again.poll.queries * 6

    for endpoint in snapshot.endpoints:
        metrics = snapshot.metrics_for(endpoint.name)
        assert metrics.latency_p99_ms is not None, endpoint.name
        assert metrics.latency_p99_ms >= metrics.latency_avg_ms
        assert (metrics.get("GPUUtilization") is not None) is endpoint.has_gpu
        selected = endpoint.name == "recsys-ranker"
        for metric, stat in (("InvocationsPerInstance", "Sum"), ("OverheadLatency", "Average"), ("OverheadLatency", "p99")):
            assert (metrics.get(metric, stat) is not None) is selected, (endpoint.name, metric, stat)

    # The two-variant endpoint, computed independently from the simulator's per-variant answers.
    cloudwatch = boto3.client(
        "cloudwatch", endpoint_url=sim.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    ranker = snapshot.metrics_for("recsys-ranker")
    p99 = ranker.get("ModelLatency", "p99")
    invocations = ranker.get("Invocations")
    a_p99, b_p99 = (
        variant_values(cloudwatch, "recsys-ranker", v, "AWS/SageMaker", "ModelLatency", "p99")
        for v in ("variant-a", "variant-b")
    )
    a_calls, b_calls = (
        variant_values(cloudwatch, "recsys-ranker", v, "AWS/SageMaker", "Invocations", "Sum")
        for v in ("variant-a", "variant-b")
    )
    for ts, value in zip(p99.timestamps[-30:], p99.values[-30:]):
        assert value == pytest.approx(max(x[ts] for x in (a_p99, b_p99) if ts in x))
    for ts, value in zip(invocations.timestamps[-30:], invocations.values[-30:]):
        assert value == pytest.approx(a_calls.get(ts, 0.0) + b_calls.get(ts, 0.0))
    assert invocations.latest_at == SIM_NOW - 60
    assert snapshot.taken_at - timedelta(seconds=30) == datetime.fromtimestamp(SIM_NOW, timezone.utc)


async def test_pages_with_next_token_add_up_to_one_answer(sim, test_credentials):
    now = datetime.fromtimestamp(SIM_NOW + 30, timezone.utc)
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1, read_only=True) as aws:
        endpoints = await EndpointInventory(aws).refresh()
        whole, paged = MetricPoller(aws), MetricPoller(aws, max_datapoints=2_000)
        one = await whole.poll(endpoints, now)
        many = await paged.poll(endpoints, now)
        assert one.calls == 1
        assert many.calls == math.ceil(one.datapoints / 2_000)
        assert many.datapoints == one.datapoints
        assert paged.endpoint_metrics(endpoints) == whole.endpoint_metrics(endpoints)
