"""EndpointInventory against moto: variants, counts, pages, the describe cache."""

from __future__ import annotations

import pytest

from smtop.aws.endpoints import EndpointInventory
from tests.aws.conftest import record_calls


async def test_endpoints_with_variants_instance_types_and_counts(aws, seed):
    seed("llm-chat", [("gpu", "ml.g4dn.xlarge", 2, 0.75), ("cpu", "ml.m5.large", 3, 0.25)])
    seed("fraud-detector")

    endpoints = await EndpointInventory(aws).refresh()

    assert [e.name for e in endpoints] == ["fraud-detector", "llm-chat"]
    llm = endpoints[1]
    assert llm.status == "InService"
    assert llm.config_name == "llm-chat-config"
    assert llm.arn.endswith(":endpoint/llm-chat")
    assert llm.created is not None and llm.last_modified is not None
    gpu, cpu = llm.variants
    assert (gpu.name, gpu.instance_type, gpu.current_instance_count, gpu.desired_instance_count) == (
        "gpu",
        "ml.g4dn.xlarge",
        2,
        2,
    )
    assert gpu.current_weight == pytest.approx(0.75)
    assert (cpu.instance_type, cpu.current_instance_count) == ("ml.m5.large", 3)
    assert gpu.has_gpu and not cpu.has_gpu
    assert llm.instance_count == 5
    assert not endpoints[0].has_gpu


async def test_listing_follows_pages(aws, seed, boto):
    seed("ep-000")
    seeder = boto("sagemaker")
    for i in range(1, 130):
        seeder.create_endpoint(EndpointName=f"ep-{i:03d}", EndpointConfigName="ep-000-config")
    sagemaker = await aws.client("sagemaker")
    pages = record_calls(sagemaker, "ListEndpoints")

    endpoints = await EndpointInventory(aws).refresh()

    assert len(endpoints) == 130
    assert [e.name for e in endpoints] == [f"ep-{i:03d}" for i in range(130)]
    assert len(pages) == 2  # 100 per page
    assert pages[1]["NextToken"]


async def test_refresh_describes_only_what_changed(aws, seed, boto, clock):
    for name in ("a", "b", "c"):
        seed(name)
    inventory = EndpointInventory(aws, clock)
    sagemaker = await aws.client("sagemaker")
    describes = record_calls(sagemaker, "DescribeEndpoint")
    configs = record_calls(sagemaker, "DescribeEndpointConfig")

    await inventory.refresh()
    assert len(describes) == 3 and len(configs) == 3

    await inventory.refresh()
    assert len(describes) == 3, "an unchanged fleet costs no describes"

    boto("sagemaker").delete_endpoint(EndpointName="b")
    boto("sagemaker").create_endpoint(EndpointName="d", EndpointConfigName="a-config")
    endpoints = await inventory.refresh()
    assert [e.name for e in endpoints] == ["a", "c", "d"]
    assert [d["EndpointName"] for d in describes[3:]] == ["d"]
    assert len(configs) == 3, "endpoint configs are cached by name"

    clock.advance(11 * 60)  # past max_age: everything is described again once
    await inventory.refresh()
    assert len(describes) == 7


async def test_pattern_filters_names(aws, seed):
    for name in ("fraud-prod", "fraud-canary", "llm-prod"):
        seed(name)
    assert [e.name for e in await EndpointInventory(aws, pattern="*-prod").refresh()] == ["fraud-prod", "llm-prod"]
    assert [e.name for e in await EndpointInventory(aws, pattern="FRAUD").refresh()] == ["fraud-canary", "fraud-prod"]
