"""Describing a large fleet while SageMaker throttles or refuses some calls.

A simulator of 300 synthetic endpoints over HTTP, failing calls with its
fault injection (``smtop sim --fault``) in SageMaker's own protocol: a
``ThrottlingException`` or an ``AccessDeniedException`` answer, on a
deterministic share of the calls.  The counts the assertions compare with
are the simulator's own (calls seen, faults injected), not smtop's.

Where a test is about losing nothing, its pacer is fast (the simulator
answers in milliseconds and 600 calls at smtop's 50 a second would take
12 s); the pace itself has a test of its own.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import boto3
import pytest

from smtop.aws.endpoints import PUT_OFF, DescribePacer, EndpointInventory
from smtop.aws.fleet import FleetMonitor
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.errors import CredentialsError
from smtop.sim.process import spawn_sim
from tests.conftest import SIM_NOW, SIM_SEED

pytestmark = pytest.mark.slow

N = 300
REGION = "us-east-1"


@pytest.fixture(scope="module")
def fleet_sim():
    process = spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW, timeout=60, extra_args=["--synthetic-endpoints", str(N)])
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def sim(fleet_sim, test_credentials):
    """The module's simulator with no fault and its call counts at zero."""
    fleet_sim.clear_faults()
    fleet_sim.reset_calls()
    yield fleet_sim
    fleet_sim.clear_faults()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.fromtimestamp(SIM_NOW + 30, timezone.utc))


def fast() -> DescribePacer:
    return DescribePacer(rate=2_000, burst=2_000)


def calls(sim, operation: str) -> int:
    return sim.faults()["calls"].get(f"sagemaker:{operation}", 0)


def listed_by_the_service(sim) -> dict[str, str]:
    """Every endpoint's name and status, as ListEndpoints pages them to boto3."""
    sagemaker = boto3.client("sagemaker", endpoint_url=sim.url, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")
    return {
        e["EndpointName"]: e["EndpointStatus"]
        for page in sagemaker.get_paginator("list_endpoints").paginate()
        for e in page["Endpoints"]
    }


async def test_a_throttled_refresh_loses_no_endpoint_and_marks_the_throttled(sim, clock):
    async with AwsSession(region=REGION, endpoint_url=sim.url, max_attempts=1) as aws:
        inventory = EndpointInventory(aws, clock, pacer=fast())
        first = await inventory.refresh()
        described_at = clock.now()
        assert len(first) == N and not any(e.stale for e in first)

        clock.advance(11 * 60)  # past max_age: every endpoint is described again
        sim.inject("throttle", "sagemaker", "DescribeEndpoint", share=0.3)
        second = await inventory.refresh()
        throttled = sim.faults()["faults"][0]["injected"]

        assert [e.name for e in second] == [e.name for e in first]
        marked = [e for e in second if e.stale]
        assert len(marked) == throttled and 0.2 * N < throttled < 0.4 * N  # retries are off: one throttle, one mark
        before = {e.name: e for e in first}
        for endpoint in marked:
            assert endpoint.stale.operation == "DescribeEndpoint"
            assert "throttled" in endpoint.stale.reason
            assert endpoint.stale.described_at == described_at
            assert endpoint.variants == before[endpoint.name].variants  # the last description is kept
            assert endpoint.status == "InService"
        assert all(e == before[e.name] for e in second if not e.stale)
        assert inventory.pacer.rate == inventory.pacer.max_rate / 2  # the throttled refresh slows the next

        sim.clear_faults()
        sim.reset_calls()
        third = await inventory.refresh()
        assert not any(e.stale for e in third)
        assert calls(sim, "DescribeEndpoint") == len(marked)  # only the marked are asked again
        assert calls(sim, "DescribeEndpointConfig") == 0  # configs stay cached
        assert {e.name: e for e in third} == before


async def test_endpoints_never_described_show_from_the_list_and_get_no_metrics(sim, clock):
    from datetime import timedelta

    sim.inject("deny", "sagemaker", "DescribeEndpoint", share=0.1)
    sim.inject("throttle", "sagemaker", "DescribeEndpointConfig", share=0.1)
    async with AwsSession(region=REGION, endpoint_url=sim.url, max_attempts=1, read_only=True) as aws:
        monitor = FleetMonitor(aws, clock, window=timedelta(minutes=30))
        monitor.inventory.pacer = fast()
        snapshot = await monitor.refresh()
        denied, throttled = (rule["injected"] for rule in sim.faults()["faults"])

        service = listed_by_the_service(sim)
        assert [e.name for e in snapshot.endpoints] == sorted(service)
        assert {e.name: e.status for e in snapshot.endpoints} == service
        by_operation: dict[str, list] = {}
        for endpoint in snapshot.stale_endpoints:
            by_operation.setdefault(endpoint.stale.operation, []).append(endpoint)
            assert endpoint.variants == () and endpoint.stale.described_at is None
            assert endpoint.arn.endswith(f":endpoint/{endpoint.name}") and endpoint.created is not None
            assert snapshot.metrics_for(endpoint.name).series == {}
        assert len(by_operation["DescribeEndpoint"]) == denied > 0
        assert len(by_operation["DescribeEndpointConfig"]) == throttled > 0
        assert all("sagemaker:DescribeEndpoint" in e.stale.reason for e in by_operation["DescribeEndpoint"])
        assert all("DescribeEndpointConfig" in e.stale.reason for e in by_operation["DescribeEndpointConfig"])
        described = [e for e in snapshot.endpoints if e.stale is None]
        assert len(described) == N - denied - throttled
        assert all(snapshot.metrics_for(e.name).latency_avg_ms is not None for e in described)

        sim.clear_faults()
        again = await monitor.refresh()
        assert not again.stale_endpoints
        assert all(again.metrics_for(e.name).latency_avg_ms is not None for e in again.endpoints)


async def test_botocore_retries_a_throttle_twice_then_the_next_refresh_asks_again(sim, clock):
    pattern = "*-000[0-4]?"  # 50 endpoints
    sim.inject("throttle", "sagemaker", "DescribeEndpoint", share=0.5)
    async with AwsSession(region=REGION, endpoint_url=sim.url) as aws:  # the console's 3 attempts
        inventory = EndpointInventory(aws, clock, pattern=pattern, pacer=fast())
        endpoints = await inventory.refresh()
        injected = sim.faults()["faults"][0]["injected"]
        marked = [e for e in endpoints if e.stale]

        assert len(endpoints) == 50
        # Each throttle was retried, except the third of a call, which marks its endpoint.
        assert calls(sim, "DescribeEndpoint") == 50 + injected - len(marked)
        assert 0 < len(marked) < 50 * 0.5
        assert all(e.stale.operation == "DescribeEndpoint" and e.variants == () for e in marked)

        sim.clear_faults()
        sim.reset_calls()
        again = await inventory.refresh()
        assert not any(e.stale for e in again)
        assert calls(sim, "DescribeEndpoint") == len(marked)


async def test_describes_keep_to_the_pacers_rate(sim, clock):
    pattern = "*-000[0-3]?"  # 40 endpoints: 80 calls with their configs
    rate, burst = 40.0, 4
    sent: list[float] = []
    async with AwsSession(region=REGION, endpoint_url=sim.url, max_attempts=1) as aws:
        sagemaker = await aws.client("sagemaker")
        loop = asyncio.get_running_loop()
        for operation in ("DescribeEndpoint", "DescribeEndpointConfig"):
            sagemaker.meta.events.register(f"before-send.sagemaker.{operation}", lambda **_: sent.append(loop.time()))
        inventory = EndpointInventory(aws, clock, pattern=pattern, pacer=DescribePacer(rate=rate, burst=burst), budget=None)
        endpoints = await inventory.refresh()

    assert len(endpoints) == 40 and not any(e.stale for e in endpoints)
    assert len(sent) == 80
    assert sent[-1] - sent[0] >= (80 - burst) / rate - 0.05
    for start in sent:  # no one-second window holds more than the burst and a second's tokens
        assert sum(start <= t < start + 1.0 for t in sent) <= burst + rate


async def test_describes_past_the_budget_wait_for_the_next_refresh(sim, clock):
    pattern = "*-000[0-5]?"  # 60 endpoints
    async with AwsSession(region=REGION, endpoint_url=sim.url, max_attempts=1) as aws:
        inventory = EndpointInventory(aws, clock, pattern=pattern, pacer=DescribePacer(rate=40, burst=1), budget=1.0)
        first = await inventory.refresh()
        put_off = [e for e in first if e.stale]

        assert len(first) == 60
        assert 0 < len(put_off) < 60
        assert all(e.stale == PUT_OFF and e.variants == () for e in put_off)
        assert calls(sim, "DescribeEndpoint") == 60 - len(put_off)  # nothing was sent for them

        refreshes = 1
        while any(e.stale for e in await inventory.refresh()):
            refreshes += 1
            assert refreshes < 20
        assert calls(sim, "DescribeEndpoint") == 60  # each endpoint described once
        assert calls(sim, "DescribeEndpointConfig") == 60

        # Past max_age an unchanged endpoint whose turn does not come keeps its description, unmarked.
        clock.advance(11 * 60)
        sim.reset_calls()
        endpoints = await inventory.refresh()
        assert 0 < calls(sim, "DescribeEndpoint") < 60
        assert not any(e.stale for e in endpoints)


async def test_expired_credentials_fail_the_refresh_as_a_whole(sim, clock):
    sim.inject("expired", "sagemaker", "DescribeEndpoint", share=0.2)
    async with AwsSession(region=REGION, endpoint_url=sim.url, max_attempts=1) as aws:
        inventory = EndpointInventory(aws, clock, pattern="fraud-*", pacer=fast())
        with pytest.raises(CredentialsError, match="expired"):
            await inventory.refresh()
        sim.clear_faults()
        # The session is signed out: nothing more is sent with those credentials.
        before = sum(n for call, n in sim.faults()["calls"].items() if call.startswith("sagemaker:"))
        with pytest.raises(CredentialsError, match="expired"):
            await inventory.refresh()
        assert sum(n for call, n in sim.faults()["calls"].items() if call.startswith("sagemaker:")) == before
    async with AwsSession(region=REGION, endpoint_url=sim.url, max_attempts=1) as aws:  # signed in again
        endpoints = await EndpointInventory(aws, clock, pattern="fraud-*", pacer=fast()).refresh()
    assert len(endpoints) == 30 and not any(e.stale for e in endpoints)
