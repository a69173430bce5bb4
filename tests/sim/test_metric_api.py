"""CloudWatch metric calls against the simulator, through boto3 and aiobotocore over HTTP.

Expected numbers are computed here from the samples put, independently of the
simulator's store: expand Values × Counts, sort, take the nearest rank.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from datetime import datetime, timezone

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from tests.conftest import SIM_NOW
from tests.sim.conftest import WRITE_REGION

# Minutes well inside the simulator's retention and clearly in its past.
T0 = SIM_NOW - 2 * 3600
DIMS = [{"Name": "EndpointName", "Value": "e1"}, {"Name": "VariantName", "Value": "v1"}]


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def nearest_rank(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1]


def namespace() -> str:
    return f"smtop-test/{uuid.uuid4().hex[:8]}"


def query(qid: str, ns: str, stat: str, dims=DIMS, period: int = 60, name: str = "Latency", **extra) -> dict:
    return {
        "Id": qid,
        "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name, "Dimensions": dims}, "Period": period, "Stat": stat},
        **extra,
    }


def by_id(response) -> dict[str, dict]:
    return {r["Id"]: r for r in response["MetricDataResults"]}


def test_percentiles_and_basic_stats_match_the_samples(scratch_cloudwatch):
    ns = namespace()
    rng = random.Random(11)
    values = [float(rng.randint(1_000, 90_000)) for _ in range(40)]
    counts = [float(rng.randint(1, 60)) for _ in values]
    extra = [123_456.0, 777.0]
    # Two puts into the same minute, one with Values/Counts, one with single Values.
    scratch_cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[{"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at(T0 + 5), "Values": values, "Counts": counts, "Unit": "Microseconds"}],
    )
    scratch_cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at(T0 + 50), "Value": v, "Unit": "Microseconds"}
            for v in extra
        ],
    )
    samples = [v for v, c in zip(values, counts) for _ in range(int(c))] + extra
    stats = ["p50", "p90", "p99", "p99.9", "Average", "Sum", "Minimum", "Maximum", "SampleCount"]
    response = scratch_cloudwatch.get_metric_data(
        MetricDataQueries=[query(f"q{i}", ns, s) for i, s in enumerate(stats)],
        StartTime=at(T0 - 600),
        EndTime=at(T0 + 600),
    )
    results = by_id(response)
    expected = {
        "p50": nearest_rank(samples, 50),
        "p90": nearest_rank(samples, 90),
        "p99": nearest_rank(samples, 99),
        "p99.9": nearest_rank(samples, 99.9),
        "Average": sum(samples) / len(samples),
        "Sum": sum(samples),
        "Minimum": min(samples),
        "Maximum": max(samples),
        "SampleCount": len(samples),
    }
    for i, stat in enumerate(stats):
        result = results[f"q{i}"]
        assert result["StatusCode"] == "Complete"
        assert result["Timestamps"] == [at(T0)], stat
        assert result["Values"] == [pytest.approx(expected[stat])], stat


def test_counts_are_not_expanded(scratch_cloudwatch):
    ns = namespace()
    # Ten million samples: expanding them per count (as moto does) would take minutes.
    scratch_cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[{"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at(T0), "Values": [10.0, 20.0, 30.0], "Counts": [5e6, 4.9e6, 1e5]}],
    )
    started = time.perf_counter()
    results = by_id(
        scratch_cloudwatch.get_metric_data(
            MetricDataQueries=[query("p99", ns, "p99"), query("n", ns, "SampleCount"), query("p50", ns, "p50")],
            StartTime=at(T0 - 60),
            EndTime=at(T0 + 60),
        )
    )
    assert time.perf_counter() - started < 2
    assert results["n"]["Values"] == [1e7]
    # Nearest rank: the 5,000,000th sample is the last 10.0, the 9,900,000th the last 20.0.
    assert results["p50"]["Values"] == [10.0]
    assert results["p99"]["Values"] == [20.0]


def test_statistic_sets(scratch_cloudwatch):
    ns = namespace()
    scratch_cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at(T0 + 1), "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 10, "Maximum": 40}},
            {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at(T0 + 2), "Value": 50},
        ],
    )
    results = by_id(
        scratch_cloudwatch.get_metric_data(
            MetricDataQueries=[query(s.lower(), ns, s) for s in ("Sum", "SampleCount", "Average", "Minimum", "Maximum")],
            StartTime=at(T0),
            EndTime=at(T0 + 60),
        )
    )
    assert {k: v["Values"] for k, v in results.items()} == {
        "sum": [150.0], "samplecount": [5.0], "average": [30.0], "minimum": [10.0], "maximum": [50.0]
    }


def test_dimension_order_does_not_matter_but_the_set_does(scratch_cloudwatch):
    ns = namespace()
    scratch_cloudwatch.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at(T0), "Value": 7.0}])
    results = by_id(
        scratch_cloudwatch.get_metric_data(
            MetricDataQueries=[
                query("same", ns, "Sum"),
                query("reversed", ns, "Sum", dims=list(reversed(DIMS))),
                query("subset", ns, "Sum", dims=DIMS[:1]),
            ],
            StartTime=at(T0 - 60),
            EndTime=at(T0 + 60),
        )
    )
    assert results["same"]["Values"] == [7.0]
    assert results["reversed"]["Values"] == [7.0]
    assert results["subset"]["Values"] == []


def test_at_most_500_queries(cloudwatch):
    queries = [query(f"q{i}", "AWS/SageMaker", "Sum", name="Invocations") for i in range(501)]
    window = {"StartTime": at(SIM_NOW - 600), "EndTime": at(SIM_NOW)}
    assert len(cloudwatch.get_metric_data(MetricDataQueries=queries[:500], **window)["MetricDataResults"]) == 500
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_data(MetricDataQueries=queries, **window)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == "The collection MetricDataQueries must not have a size greater than 500."
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unsupported_statistic_and_expression_are_client_errors(cloudwatch):
    window = {"StartTime": at(SIM_NOW - 600), "EndTime": at(SIM_NOW)}
    for bad in ([query("a", "AWS/SageMaker", "TM99", name="ModelLatency")], [{"Id": "e", "Expression": "SUM(METRICS())"}]):
        with pytest.raises(ClientError) as raised:
            cloudwatch.get_metric_data(MetricDataQueries=bad, **window)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _put_series(client, ns: str, variants: int, minutes: int) -> None:
    for v in range(variants):
        dims = [{"Name": "EndpointName", "Value": "e1"}, {"Name": "VariantName", "Value": f"v{v}"}]
        data = [{"MetricName": "Latency", "Dimensions": dims, "Timestamp": at(T0 + 60 * m), "Value": float(100 * v + m)} for m in range(minutes)]
        client.put_metric_data(Namespace=ns, MetricData=data)


def test_pagination_with_max_datapoints(scratch_cloudwatch):
    ns = namespace()
    _put_series(scratch_cloudwatch, ns, variants=3, minutes=30)
    queries = [
        query(f"v{v}", ns, "Sum", dims=[{"Name": "EndpointName", "Value": "e1"}, {"Name": "VariantName", "Value": f"v{v}"}])
        for v in range(3)
    ]
    window = {"StartTime": at(T0), "EndTime": at(T0 + 1800)}
    whole = by_id(scratch_cloudwatch.get_metric_data(MetricDataQueries=queries, **window))
    assert [len(whole[f"v{v}"]["Values"]) for v in range(3)] == [30, 30, 30]

    first = scratch_cloudwatch.get_metric_data(MetricDataQueries=queries, MaxDatapoints=20, **window)
    assert "NextToken" in first
    assert [(r["Id"], r["StatusCode"], len(r["Values"])) for r in first["MetricDataResults"]] == [("v0", "PartialData", 20)]

    pages = list(scratch_cloudwatch.get_paginator("get_metric_data").paginate(MetricDataQueries=queries, MaxDatapoints=20, **window))
    assert len(pages) == 5
    assert all(sum(len(r["Values"]) for r in p["MetricDataResults"]) <= 20 for p in pages)
    joined: dict[str, list] = {}
    for page in pages:
        for result in page["MetricDataResults"]:
            joined.setdefault(result["Id"], []).extend(zip(result["Timestamps"], result["Values"]))
    assert joined == {k: list(zip(r["Timestamps"], r["Values"])) for k, r in whole.items()}


def test_scan_by_and_period_aggregation(scratch_cloudwatch):
    ns = namespace()
    _put_series(scratch_cloudwatch, ns, variants=1, minutes=10)
    dims = [{"Name": "EndpointName", "Value": "e1"}, {"Name": "VariantName", "Value": "v0"}]
    window = {"StartTime": at(T0), "EndTime": at(T0 + 600)}
    descending = by_id(scratch_cloudwatch.get_metric_data(MetricDataQueries=[query("q", ns, "Sum", dims=dims)], **window))["q"]
    ascending = by_id(
        scratch_cloudwatch.get_metric_data(MetricDataQueries=[query("q", ns, "Sum", dims=dims)], ScanBy="TimestampAscending", **window)
    )["q"]
    assert descending["Timestamps"] == [at(T0 + 60 * m) for m in reversed(range(10))]
    assert ascending["Timestamps"] == list(reversed(descending["Timestamps"]))
    assert ascending["Values"] == [float(m) for m in range(10)]

    five = by_id(
        scratch_cloudwatch.get_metric_data(
            MetricDataQueries=[query("s", ns, "Sum", dims=dims, period=300, Label="five minutes"), query("hidden", ns, "Sum", dims=dims, ReturnData=False)],
            ScanBy="TimestampAscending",
            **window,
        )
    )
    assert list(five) == ["s"]
    assert five["s"]["Label"] == "five minutes"
    # Periods count from StartTime (rounded to the minute), not from the epoch.
    assert five["s"]["Timestamps"] == [at(T0), at(T0 + 300)]
    assert five["s"]["Values"] == [0.0 + 1 + 2 + 3 + 4, 5.0 + 6 + 7 + 8 + 9]


def test_get_metric_statistics_and_list_metrics(scratch_cloudwatch):
    ns = namespace()
    scratch_cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[{"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at(T0 + 10), "Values": [1.0, 2.0, 3.0, 4.0], "Unit": "Milliseconds"}],
    )
    scratch_cloudwatch.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Other", "Dimensions": DIMS[:1], "Value": 1.0}])
    stats = scratch_cloudwatch.get_metric_statistics(
        Namespace=ns,
        MetricName="Latency",
        Dimensions=list(reversed(DIMS)),
        StartTime=at(T0),
        EndTime=at(T0 + 60),
        Period=60,
        Statistics=["Average", "Maximum"],
        ExtendedStatistics=["p50"],
    )
    assert stats["Datapoints"] == [
        {"Timestamp": at(T0), "Average": 2.5, "Maximum": 4.0, "Unit": "Milliseconds", "ExtendedStatistics": {"p50": 2.0}}
    ]
    listed = scratch_cloudwatch.list_metrics(Namespace=ns)["Metrics"]
    assert sorted(m["MetricName"] for m in listed) == ["Latency", "Other"]
    only = scratch_cloudwatch.list_metrics(Namespace=ns, Dimensions=[{"Name": "VariantName"}])["Metrics"]
    assert [(m["MetricName"], m["Dimensions"]) for m in only] == [("Latency", DIMS)]


async def test_aiobotocore_percentiles_and_paginator(sim):
    """The console's own client stack: aiobotocore, async paginator, retries off."""
    session = get_session()
    config = AioConfig(retries={"max_attempts": 1})
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    ns = namespace()
    samples = [float(v) for v in range(1, 201)]
    async with session.create_client("cloudwatch", endpoint_url=sim.url, region_name=WRITE_REGION, config=config, **credentials) as client:
        await client.put_metric_data(
            Namespace=ns, MetricData=[{"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": at(T0), "Values": samples}]
        )
        paginator = client.get_paginator("get_metric_data")
        results = {}
        async for page in paginator.paginate(
            MetricDataQueries=[query("p99", ns, "p99"), query("p50", ns, "p50"), query("avg", ns, "Average")],
            StartTime=at(T0 - 60),
            EndTime=at(T0 + 60),
        ):
            results.update(by_id(page))
    assert results["p99"]["Values"] == [nearest_rank(samples, 99)] == [198.0]
    assert results["p50"]["Values"] == [100.0]
    assert results["avg"]["Values"] == [100.5]

    async with session.create_client("sagemaker", endpoint_url=sim.url, region_name="us-east-1", config=config, **credentials) as client:
        names = [e["EndpointName"] async for page in client.get_paginator("list_endpoints").paginate() for e in page["Endpoints"]]
    assert "llm-chat-canary" in names
