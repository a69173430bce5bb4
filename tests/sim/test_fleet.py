"""The demo fleet as the console finds it: endpoints, variants, and three hours of metrics."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from smtop.models.catalog import INSTANCE_NAMESPACE, INVOCATION_NAMESPACE, METRICS
from tests.conftest import SIM_NOW

ROLE = "arn:aws:iam::123456789012:role/test"

FLEET = {
    # endpoint: {variant: (instance type, instances, weight)}
    "fraud-detector-prod": {"AllTraffic": ("ml.c5.xlarge", 2, 1.0)},
    "llm-chat-canary": {"AllTraffic": ("ml.g5.2xlarge", 1, 1.0)},
    "recsys-ranker": {"variant-a": ("ml.m5.xlarge", 3, 0.9), "variant-b": ("ml.m5.2xlarge", 1, 0.1)},
    "image-embeddings": {"AllTraffic": ("ml.g4dn.xlarge", 2, 1.0)},
    "churn-scorer-staging": {"AllTraffic": ("ml.m5.large", 1, 1.0)},
    "doc-summarizer": {"AllTraffic": ("ml.inf2.xlarge", 2, 1.0)},
}
GPU_TYPES = {"ml.g5.2xlarge", "ml.g4dn.xlarge"}


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def dims(endpoint: str, variant: str) -> list[dict]:
    return [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]


def test_endpoints_variants_and_instance_types(sagemaker):
    listed = sagemaker.list_endpoints()["Endpoints"]
    assert sorted(e["EndpointName"] for e in listed) == sorted(FLEET)
    assert {e["EndpointStatus"] for e in listed} == {"InService"}
    for name, variants in FLEET.items():
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
        assert endpoint["CreationTime"] < at(SIM_NOW - 3 * 3600)
        summaries = {v["VariantName"]: v for v in endpoint["ProductionVariants"]}
        assert set(summaries) == set(variants)
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        configured = {v["VariantName"]: v for v in config["ProductionVariants"]}
        for variant, (instance_type, count, weight) in variants.items():
            assert configured[variant]["InstanceType"] == instance_type
            assert summaries[variant]["CurrentInstanceCount"] == summaries[variant]["DesiredInstanceCount"] == count
            assert summaries[variant]["CurrentWeight"] == summaries[variant]["DesiredWeight"] == weight


def test_canary_was_updated_after_it_was_created(sagemaker):
    canary = sagemaker.describe_endpoint(EndpointName="llm-chat-canary")
    assert canary["EndpointConfigName"] == "llm-chat-canary-config-v2"
    assert canary["CreationTime"] < canary["LastModifiedTime"] < at(SIM_NOW)


def test_current_instance_types_and_update_endpoint(scratch_sagemaker):
    client = scratch_sagemaker
    client.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    kinds = ["ml.g5.xlarge", "ml.g6.xlarge", "ml.inf2.xlarge", "ml.p4d.24xlarge", "ml.c7i.large"]
    variants = [
        {"VariantName": f"v{i}", "ModelName": "m", "InstanceType": kind, "InitialInstanceCount": 1 + i}
        for i, kind in enumerate(kinds)
    ]
    client.create_endpoint_config(EndpointConfigName="new-types", ProductionVariants=variants)
    client.create_endpoint(EndpointName="new-types", EndpointConfigName="new-types")
    described = client.describe_endpoint(EndpointName="new-types")["ProductionVariants"]
    assert [(v["VariantName"], v["CurrentInstanceCount"], v["CurrentWeight"]) for v in described] == [
        (f"v{i}", 1 + i, 1.0) for i in range(len(kinds))
    ]

    with pytest.raises(ClientError) as raised:
        client.create_endpoint_config(
            EndpointConfigName="bogus",
            ProductionVariants=[{"VariantName": "v", "ModelName": "m", "InstanceType": "ml.bogus.xlarge", "InitialInstanceCount": 1}],
        )
    assert "ml.bogus.xlarge" in raised.value.response["Error"]["Message"]

    client.create_endpoint_config(
        EndpointConfigName="smaller",
        ProductionVariants=[{"VariantName": "v0", "ModelName": "m", "InstanceType": "ml.g6.2xlarge", "InitialInstanceCount": 4, "InitialVariantWeight": 0.5}],
    )
    client.update_endpoint(EndpointName="new-types", EndpointConfigName="smaller")
    updated = client.describe_endpoint(EndpointName="new-types")
    for _ in range(50):  # Updating for a couple of simulated seconds (smtop/sim/patches/sagemaker.py)
        if updated["EndpointStatus"] == "InService":
            break
        time.sleep(0.2)
        updated = client.describe_endpoint(EndpointName="new-types")
    assert updated["EndpointConfigName"] == "smaller"
    assert [(v["VariantName"], v["CurrentInstanceCount"], v["CurrentWeight"]) for v in updated["ProductionVariants"]] == [("v0", 4, 0.5)]
    with pytest.raises(ClientError):
        client.update_endpoint(EndpointName="missing", EndpointConfigName="smaller")


def _fleet_queries() -> list[tuple[str, str, str, dict]]:
    """(endpoint, variant, stat, query) for every catalog metric and stat of every variant."""
    queries = []
    for endpoint, variants in FLEET.items():
        for variant, (instance_type, _, _) in variants.items():
            for spec in METRICS.values():
                if spec.gpu_only and instance_type not in GPU_TYPES:
                    continue
                for stat in spec.stats:
                    metric = {"Namespace": spec.namespace, "MetricName": spec.name, "Dimensions": dims(endpoint, variant)}
                    query = {"Id": f"q{len(queries)}", "MetricStat": {"Metric": metric, "Period": 60, "Stat": stat}}
                    queries.append((endpoint, variant, stat, query))
    return queries


def test_backfill_covers_three_hours_of_every_metric(cloudwatch):
    queries = _fleet_queries()
    response = cloudwatch.get_metric_data(
        MetricDataQueries=[q for *_, q in queries],
        StartTime=at(SIM_NOW - 3 * 3600),
        EndTime=at(SIM_NOW),
        ScanBy="TimestampAscending",
    )
    minutes = [at(SIM_NOW - 3 * 3600 + 60 * m) for m in range(180)]
    results = {r["Id"]: r for r in response["MetricDataResults"]}
    for endpoint, variant, stat, query in queries:
        result = results[query["Id"]]
        name = query["MetricStat"]["Metric"]["MetricName"]
        assert result["Timestamps"] == minutes, (endpoint, variant, name, stat)
        assert all(v >= 0 for v in result["Values"])


def test_gpu_metrics_only_on_gpu_instances(cloudwatch):
    metrics = cloudwatch.list_metrics(Namespace=INSTANCE_NAMESPACE, MetricName="GPUUtilization")["Metrics"]
    with_gpu = sorted({d["Value"] for m in metrics for d in m["Dimensions"] if d["Name"] == "EndpointName"})
    assert with_gpu == ["image-embeddings", "llm-chat-canary"]
    invocation_metrics = cloudwatch.list_metrics(Namespace=INVOCATION_NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in invocation_metrics} == {s.name for s in METRICS.values() if s.namespace == INVOCATION_NAMESPACE}


def _series(cloudwatch, endpoint: str, variant: str, metric: str, stat: str) -> list[float]:
    spec = METRICS[metric]
    response = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {"Namespace": spec.namespace, "MetricName": metric, "Dimensions": dims(endpoint, variant)},
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=at(SIM_NOW - 3 * 3600),
        EndTime=at(SIM_NOW),
        ScanBy="TimestampAscending",
    )
    return response["MetricDataResults"][0]["Values"]


def test_values_are_realistic(cloudwatch):
    calls = _series(cloudwatch, "fraud-detector-prod", "AllTraffic", "Invocations", "Sum")
    assert 600 < min(calls) and max(calls) < 2500
    latency = _series(cloudwatch, "fraud-detector-prod", "AllTraffic", "ModelLatency", "Average")
    assert 15_000 < min(latency) and max(latency) < 150_000  # microseconds
    p99 = _series(cloudwatch, "fraud-detector-prod", "AllTraffic", "ModelLatency", "p99")
    assert all(high > 1.5 * mean for high, mean in zip(p99, latency))
    cpu = _series(cloudwatch, "fraud-detector-prod", "AllTraffic", "CPUUtilization", "Average")
    assert max(cpu) > 100  # per-core percent on a 4-vCPU instance
    quiet = _series(cloudwatch, "churn-scorer-staging", "AllTraffic", "Invocations", "Sum")
    assert sum(quiet) / len(quiet) < 30
    weights = [sum(_series(cloudwatch, "recsys-ranker", v, "Invocations", "Sum")) for v in ("variant-a", "variant-b")]
    assert 0.85 < weights[0] / sum(weights) < 0.95


def test_canary_degrades_now_and_then(cloudwatch):
    calls = _series(cloudwatch, "llm-chat-canary", "AllTraffic", "Invocations", "Sum")
    errors = _series(cloudwatch, "llm-chat-canary", "AllTraffic", "Invocation5XXErrors", "Sum")
    latency = _series(cloudwatch, "llm-chat-canary", "AllTraffic", "ModelLatency", "Average")
    gpu = _series(cloudwatch, "llm-chat-canary", "AllTraffic", "GPUUtilization", "Average")
    typical = sorted(latency)[len(latency) // 2]
    bad = [i for i, value in enumerate(latency) if value > 3 * typical]
    good = [i for i in range(len(calls)) if i not in bad]
    # About three minutes in every ten: some 18 spells in three hours.
    assert 30 < len(bad) < 75
    bad_rate = sum(errors[i] for i in bad) / sum(calls[i] for i in bad)
    assert 0.015 < bad_rate < 0.09
    assert max(errors[i] / calls[i] for i in good) < 0.01
    assert min(gpu[i] for i in bad) > 88
    assert sum(gpu[i] for i in good) / len(good) < 80
    steady = _series(cloudwatch, "fraud-detector-prod", "AllTraffic", "Invocation5XXErrors", "Sum")
    assert sum(steady) < 10
