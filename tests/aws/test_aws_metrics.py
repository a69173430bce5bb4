"""Metric polling against moto over HTTP: packing, the incremental window,
late data, bounded buffers, variants combined, endpoints coming and going.

Plain moto fails on percentiles, so these poll the catalog without p99
(``NO_PERCENTILES``); the simulator tests cover p99.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from smtop.aws.fleet import FleetMonitor
from smtop.aws.session import AwsSession
from smtop.errors import ThrottledError
from tests.aws.conftest import NO_PERCENTILES, NOW, REGION, record_calls

MINUTE = timedelta(minutes=1)
END = NOW.replace(second=0)  # the first plan ends here (12:00)


def at(minutes_before_end: int, seconds: int = 10) -> datetime:
    """A time inside the period that starts ``minutes_before_end`` before 12:00."""
    return END - minutes_before_end * MINUTE + timedelta(seconds=seconds)


def epoch(minutes_before_end: int) -> float:
    return (END - minutes_before_end * MINUTE).timestamp()


def monitor(aws, clock, **kw) -> FleetMonitor:
    return FleetMonitor(aws, clock, metrics=NO_PERCENTILES, **kw)


async def test_seventy_five_endpoints_cost_ceil_q_over_500_calls(aws, clock, seed, boto, put_metric):
    seed("cpu-00")
    seed("gpu-00", [("AllTraffic", "ml.g4dn.xlarge", 1, 1.0)])
    sagemaker = boto("sagemaker")
    for i in range(1, 50):
        sagemaker.create_endpoint(EndpointName=f"cpu-{i:02d}", EndpointConfigName="cpu-00-config")
    for i in range(1, 25):
        sagemaker.create_endpoint(EndpointName=f"gpu-{i:02d}", EndpointConfigName="gpu-00-config")
    for minutes in (1, 2, 3):
        put_metric("cpu-07", "AllTraffic", "Invocations", at(minutes), 10.0 * minutes)
    put_metric("gpu-03", "AllTraffic", "GPUUtilization", at(1), 93.0)
    put_metric("cpu-07", "AllTraffic", "OverheadLatency", at(1), 900.0)
    put_metric("cpu-08", "AllTraffic", "OverheadLatency", at(1), 800.0)
    cloudwatch = await aws.client("cloudwatch")
    requests = record_calls(cloudwatch, "GetMetricData")
    fleet = monitor(aws, clock)
    fleet.select("cpu-07")

    snapshot = await fleet.refresh()

    # 7 Sum/Average queries per variant the table shows, GPUUtilization on 25,
    # and the panel's InvocationsPerInstance and OverheadLatency for cpu-07 only.
    queries = 75 * 7 + 25 + 2
    assert snapshot.poll.queries == queries
    assert snapshot.poll.calls == len(requests) == math.ceil(queries / 500) == math.ceil(75 * 10 / 500) == 2
    assert sorted(len(r["MetricDataQueries"]) for r in requests) == [queries - 500, 500]
    overhead = [
        q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
        for r in requests
        for q in r["MetricDataQueries"]
        if q["MetricStat"]["Metric"]["MetricName"] in ("OverheadLatency", "InvocationsPerInstance")
    ]
    assert overhead == ["cpu-07", "cpu-07"]
    assert snapshot.poll.datapoints == 5
    assert snapshot.metrics_for("cpu-07").latest("OverheadLatency") == 900.0
    assert snapshot.metrics_for("cpu-08").get("OverheadLatency") is None
    assert not snapshot.poll.incremental
    for request in requests:
        assert request["ScanBy"] == "TimestampAscending"
        assert request["EndTime"] - request["StartTime"] == timedelta(hours=3)
        assert request["MaxDatapoints"] == 100_800
    assert snapshot.metrics_for("gpu-03").latest("GPUUtilization") == 93.0
    assert snapshot.metrics_for("cpu-07").invocations_per_minute == 10.0
    assert snapshot.metrics_for("cpu-07").get("GPUUtilization") is None


async def test_incremental_window_new_and_late_data(aws, clock, seed, put_metric):
    seed("fraud")
    put_metric("fraud", "AllTraffic", "Invocations", at(2), 5.0)  # 11:58
    put_metric("fraud", "AllTraffic", "Invocations", at(1), 7.0)  # 11:59
    put_metric("fraud", "AllTraffic", "CPUUtilization", at(1), 40.0)
    fleet = monitor(aws, clock)
    requests = record_calls(await aws.client("cloudwatch"), "GetMetricData")

    first = await fleet.refresh()
    invocations = first.metrics_for("fraud").get("Invocations")
    assert invocations.timestamps[0] == epoch(180)
    assert len(invocations) == 180  # zeros where SageMaker emitted nothing
    assert invocations.values[-2:] == (5.0, 7.0)
    assert sum(invocations.values[:-2]) == 0

    put_metric("fraud", "AllTraffic", "Invocations", at(1, 40), 3.0)  # late: 11:59 is now 10
    put_metric("fraud", "AllTraffic", "Invocations", at(-1), 4.0)  # 12:01
    put_metric("fraud", "AllTraffic", "CPUUtilization", at(-1), 60.0)
    put_metric("fraud", "AllTraffic", "Invocations", at(-2), 9.0)  # 12:02, still running
    clock.advance(120)  # 12:02:30

    second = await fleet.refresh()

    assert second.poll.incremental
    assert requests[-1]["StartTime"] == END - 5 * MINUTE  # previous end minus the overlap
    assert requests[-1]["EndTime"] == END + 2 * MINUTE
    assert second.poll.datapoints == 5  # only 11:55–12:01 travelled: 3 invocations, 2 cpu
    invocations = second.metrics_for("fraud").get("Invocations")
    assert dict(zip(invocations.timestamps[-4:], invocations.values[-4:])) == {
        epoch(2): 5.0,
        epoch(1): 10.0,
        epoch(0): 0.0,
        epoch(-1): 4.0,
    }
    assert invocations.timestamps[0] == epoch(178) and len(invocations) == 180
    cpu = second.metrics_for("fraud").get("CPUUtilization")
    assert cpu.timestamps == (epoch(1), epoch(-1))  # no zeros invented for utilization
    assert second.metrics_for("fraud").latest("CPUUtilization") == 60.0


async def test_counts_lagging_instance_metrics_are_not_read_as_zero(aws, clock, seed, put_metric):
    # CloudWatch often has CPUUtilization for a minute before Invocations.
    seed("fraud")
    put_metric("fraud", "AllTraffic", "Invocations", at(2), 120.0)  # 11:58
    put_metric("fraud", "AllTraffic", "Invocation5XXErrors", at(2), 6.0)
    put_metric("fraud", "AllTraffic", "CPUUtilization", at(2), 40.0)
    put_metric("fraud", "AllTraffic", "CPUUtilization", at(1), 45.0)  # 11:59: counts still lagging

    metrics = (await monitor(aws, clock).refresh()).metrics_for("fraud")

    invocations = metrics.get("Invocations")
    assert invocations.latest_at == epoch(2)
    assert metrics.invocations_per_minute == 120.0  # not a filled-in 0/min for 11:59
    assert metrics.error_5xx_pct == 5.0
    assert metrics.latest("CPUUtilization") == 45.0


async def test_unchanged_refresh_reuses_the_built_series(aws, clock, seed, put_metric):
    seed("fraud")
    put_metric("fraud", "AllTraffic", "Invocations", at(1), 7.0)
    fleet = monitor(aws, clock)
    first = await fleet.refresh()
    second = await fleet.refresh()
    assert second.metrics["fraud"] is first.metrics["fraud"]


async def test_buffers_stay_bounded(aws, clock, seed, boto, put_metric):
    seed("busy")
    cloudwatch = boto("cloudwatch")
    cloudwatch.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [
                    {"Name": "EndpointName", "Value": "busy"},
                    {"Name": "VariantName", "Value": "AllTraffic"},
                ],
                "Timestamp": at(minutes),
                "Value": 1.0,
            }
            for minutes in range(-40, 20)
        ],
    )
    fleet = monitor(aws, clock, window=timedelta(minutes=10))
    for _ in range(5):
        snapshot = await fleet.refresh()
        buffers = fleet.poller.buffers.values()
        window_start = (clock.now().replace(second=0) - timedelta(minutes=10)).timestamp()
        for buffer in buffers:
            assert len(buffer) <= buffer.capacity == 15
            assert all(ts >= window_start for ts in buffer.series().timestamps)
        invocations = snapshot.metrics_for("busy").get("Invocations")
        assert invocations.values == (1.0,) * 10
        clock.advance(7 * 60)


async def test_two_variants_combine_by_the_catalog(aws, clock, seed, put_metric):
    seed("ab", [("A", "ml.m5.large", 2, 0.5), ("B", "ml.m5.large", 1, 0.5)])
    data = {
        # minute: {variant: (invocations, latency µs, cpu %, invocations per instance)}
        2: {"A": (10, 100.0, 50.0, 5.0), "B": (30, 300.0, 80.0, 30.0)},
        1: {"A": (30, 100.0, 50.0, 15.0), "B": (10, 300.0, 80.0, 10.0)},
    }
    for minutes, variants in data.items():
        for variant, (calls, latency, cpu, per_instance) in variants.items():
            put_metric("ab", variant, "Invocations", at(minutes), calls)
            put_metric("ab", variant, "ModelLatency", at(minutes), latency)
            put_metric("ab", variant, "CPUUtilization", at(minutes), cpu)
            put_metric("ab", variant, "InvocationsPerInstance", at(minutes), per_instance)
    put_metric("ab", "A", "Invocation5XXErrors", at(1), 3.0)

    fleet = monitor(aws, clock)
    fleet.select("ab")
    metrics = (await fleet.refresh()).metrics_for("ab")

    def value(metric: str, minutes: int) -> float:
        series = metrics.get(metric)
        return series.values[series.timestamps.index(epoch(minutes))]

    assert value("Invocations", 2) == 40 and value("Invocations", 1) == 40
    assert value("Invocations", 3) == 0
    # Latency weighs by each variant's invocations in that minute.
    assert value("ModelLatency", 2) == pytest.approx((100 * 10 + 300 * 30) / 40)
    assert value("ModelLatency", 1) == pytest.approx((100 * 30 + 300 * 10) / 40)
    # Utilization and invocations per instance weigh by instance count (2 and 1).
    assert value("CPUUtilization", 1) == pytest.approx((50 * 2 + 80 * 1) / 3)
    assert value("InvocationsPerInstance", 1) == pytest.approx((15 * 2 + 10 * 1) / 3)
    assert value("Invocation5XXErrors", 1) == 3  # B had none: 0, not missing
    assert metrics.error_5xx_pct == pytest.approx(7.5)
    assert metrics.latency_avg_ms == pytest.approx(0.15)


async def test_endpoints_that_come_and_go(aws, clock, seed, boto, put_metric):
    seed("old")
    fleet = monitor(aws, clock)
    await fleet.refresh()
    boto("sagemaker").delete_endpoint(EndpointName="old")
    seed("new")
    put_metric("new", "AllTraffic", "Invocations", at(-1), 2.0)
    clock.advance(120)
    requests = record_calls(await aws.client("cloudwatch"), "GetMetricData")

    snapshot = await fleet.refresh()

    assert [e.name for e in snapshot.endpoints] == ["new"]
    assert set(snapshot.metrics) == {"new"}
    assert {key.endpoint for key in fleet.poller.buffers} == {"new"}
    assert not snapshot.poll.incremental
    assert requests[0]["EndTime"] - requests[0]["StartTime"] == timedelta(hours=3)  # a first fill
    assert snapshot.metrics_for("new").invocations_per_minute == 2.0


async def test_failed_poll_leaves_no_gap(fault_proxy, clock, seed, put_metric):
    seed("fraud")
    async with AwsSession(region=REGION, endpoint_url=fault_proxy.url, max_attempts=1) as aws:
        fleet = monitor(aws, clock)
        requests = record_calls(await aws.client("cloudwatch"), "GetMetricData")
        await fleet.refresh()

        fault_proxy.fail("GetMetricData", 400, "ThrottlingException", "Rate exceeded")
        clock.advance(120)
        with pytest.raises(ThrottledError):
            await fleet.refresh()

        fault_proxy.heal()
        put_metric("fraud", "AllTraffic", "Invocations", at(-1), 6.0)  # 12:01, during the outage
        clock.advance(120)
        snapshot = await fleet.refresh()

    assert requests[-1]["StartTime"] == END - 5 * MINUTE  # from the last *successful* end
    assert requests[-1]["EndTime"] == END + 4 * MINUTE
    assert snapshot.poll.incremental
    invocations = snapshot.metrics_for("fraud").get("Invocations")
    assert invocations.values[invocations.timestamps.index(epoch(-1))] == 6.0
    assert snapshot.taken_at == NOW + timedelta(minutes=4)


async def test_percentiles_switch_off_where_the_service_lacks_them(aws, clock, seed, put_metric, boto):
    """Plain moto answers p99 with HTTP 500: the refresh still shows everything else."""
    seed("fraud")
    put_metric("fraud", "AllTraffic", "ModelLatency", at(1), 41_000.0)
    fleet = FleetMonitor(aws, clock)  # the full catalog, p99 included
    requests = record_calls(await aws.client("cloudwatch"), "GetMetricData")

    snapshot = await fleet.refresh()

    assert fleet.poller.percentiles_supported is False
    metrics = snapshot.metrics_for("fraud")
    assert metrics.latest("ModelLatency", "Average") == 41_000.0
    assert metrics.get("ModelLatency", "p99") is None
    stats = {q["MetricStat"]["Stat"] for q in requests[-1]["MetricDataQueries"]}
    assert "p99" not in stats and "Average" in stats
    # The next refresh does not ask for percentiles again.
    count = len(requests)
    await fleet.refresh()
    assert len(requests) == count + 1
