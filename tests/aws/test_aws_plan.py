"""The poll plan and the series buffers, without I/O."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from smtop.aws.buffers import SeriesBuffer
from smtop.aws.metrics import MetricPoller, series_for
from smtop.models import Endpoint, SeriesKey, Variant
from tests.aws.conftest import NOW


def fleet(count: int, instance_type: str = "ml.m5.large", variants: int = 1) -> list[Endpoint]:
    return [
        Endpoint(
            f"ep-{i}",
            "InService",
            variants=tuple(Variant(f"v{j}", instance_type, 1, 1, 1.0) for j in range(variants)),
        )
        for i in range(count)
    ]


def planner(**kw) -> MetricPoller:
    return MetricPoller(None, **kw)  # plan() does no I/O


# What the endpoints table shows, per variant (GPU only on GPU instances).
TABLE = {
    ("Invocations", "Sum"), ("ModelLatency", "Average"), ("ModelLatency", "p99"),
    ("Invocation4XXErrors", "Sum"), ("Invocation5XXErrors", "Sum"),
    ("CPUUtilization", "Average"), ("MemoryUtilization", "Average"), ("DiskUtilization", "Average"),
}
# What only the selected endpoint's metric panel shows.
PANEL_ONLY = {("InvocationsPerInstance", "Sum"), ("OverheadLatency", "Average"), ("OverheadLatency", "p99")}


def test_gpu_utilization_only_for_gpu_variants():
    endpoint = Endpoint(
        "llm", "InService", variants=(Variant("gpu", "ml.g4dn.xlarge", 1), Variant("cpu", "ml.m5.large", 1))
    )
    keys = series_for([endpoint])
    gpu_metrics = {(k.variant, k.metric) for k in keys if k.metric == "GPUUtilization"}
    assert gpu_metrics == {("gpu", "GPUUtilization")}
    assert {(k.metric, k.stat) for k in keys if k.variant == "cpu"} == TABLE
    assert {(k.metric, k.stat) for k in keys if k.variant == "gpu"} == TABLE | {("GPUUtilization", "Average")}
    assert len(keys) == 8 + 9
    assert SeriesKey("llm", "cpu", "ModelLatency", "p99") in keys


def test_panel_only_metrics_only_for_the_selected_endpoints():
    endpoints = fleet(3, variants=2)
    keys = series_for(endpoints, selected={"ep-1", "not-in-the-fleet"})
    panel_only = {k for k in keys if (k.metric, k.stat) in PANEL_ONLY}
    assert panel_only == {SeriesKey("ep-1", f"v{j}", m, s) for j in range(2) for m, s in PANEL_ONLY}
    assert len(keys) == 3 * 2 * 8 + 2 * 3


@pytest.mark.parametrize("count", [10, 100, 500, 1000])
def test_plan_packs_queries_into_the_fewest_calls(count):
    plan = planner().plan(fleet(count), NOW, selected={"ep-0"})
    assert plan.queries == 8 * count + 3
    assert plan.calls == math.ceil(plan.queries / 500) <= math.ceil(count * 10 / 500)  # the floor
    assert all(len(batch.queries) <= 500 for batch in plan.batches)
    ids = [q.id for batch in plan.batches for q in batch.queries]
    assert len(set(ids)) == len(ids)
    assert not plan.incremental


def test_plan_is_aligned_to_the_period_and_covers_the_window():
    plan = planner(window=timedelta(hours=3)).plan(fleet(1), NOW)  # 12:00:30
    assert plan.end == NOW.replace(second=0).timestamp()  # the running minute is left out
    assert plan.end - plan.window_start == 3 * 3600
    assert plan.batches[0].periods == 180
    assert plan.expected_datapoints == 8 * 180


def test_query_shape():
    query = planner().plan(fleet(1, "ml.p3.2xlarge"), NOW, selected={"ep-0"}).batches[0].queries
    by_metric = {(q.key.metric, q.key.stat): q.to_api(60) for q in query}
    cpu = by_metric[("CPUUtilization", "Average")]["MetricStat"]
    assert cpu["Metric"]["Namespace"] == "/aws/sagemaker/Endpoints"
    assert cpu["Metric"]["Dimensions"] == [
        {"Name": "EndpointName", "Value": "ep-0"},
        {"Name": "VariantName", "Value": "v0"},
    ]
    assert (cpu["Period"], cpu["Stat"]) == (60, "Average")
    p99 = by_metric[("ModelLatency", "p99")]["MetricStat"]
    assert (p99["Metric"]["Namespace"], p99["Stat"]) == ("AWS/SageMaker", "p99")
    assert ("GPUUtilization", "Average") in by_metric
    overhead = by_metric[("OverheadLatency", "p99")]["MetricStat"]
    assert (overhead["Metric"]["Namespace"], overhead["Stat"]) == ("AWS/SageMaker", "p99")


def test_ids_are_short_and_stable_across_plans():
    poller = planner()
    first = {q.key: q.id for b in poller.plan(fleet(3), NOW).batches for q in b.queries}
    again = {q.key: q.id for b in poller.plan(fleet(5), NOW).batches for q in b.queries}
    assert all(again[key] == query_id for key, query_id in first.items())
    assert max(len(i) for i in again.values()) <= 4


def key(metric="Invocations") -> SeriesKey:
    return SeriesKey("e", "v", metric, "Sum")


def test_buffer_replaces_late_data_and_keeps_order():
    buffer = SeriesBuffer(key(), 60, capacity=10)
    assert buffer.merge([(60.0, 1.0), (120.0, 2.0), (240.0, 4.0)], oldest=0)
    version = buffer.version
    assert not buffer.merge([(120.0, 2.0), (240.0, 4.0)], oldest=0), "a re-fetch of the same values is no change"
    assert buffer.version == version
    assert buffer.merge([(120.0, 5.0), (180.0, 3.0), (300.0, 6.0)], oldest=0)  # late + new
    series = buffer.series()
    assert series.timestamps == (60.0, 120.0, 180.0, 240.0, 300.0)
    assert series.values == (1.0, 5.0, 3.0, 4.0, 6.0)
    assert buffer.series() is series, "built once per change"


def test_buffer_is_bounded_by_window_and_capacity():
    buffer = SeriesBuffer(key(), 60, capacity=5)
    buffer.merge([(float(t), 1.0) for t in range(0, 600, 60)], oldest=0)
    assert len(buffer) == 5 and buffer.series().timestamps[0] == 300.0
    buffer.merge([], oldest=480.0)
    assert buffer.series().timestamps == (480.0, 540.0)
