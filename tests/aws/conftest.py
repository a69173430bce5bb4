"""Fixtures for the AWS layer: a real moto server over HTTP, and a fault proxy.

Tests talk HTTP to ``ThreadedMotoServer`` exactly as the console talks to
AWS; nothing of smtop is mocked.  Where moto cannot produce an error shape
(throttling, access denied) a small aiohttp proxy in front of it answers
with a real AWS error body instead.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
import requests
from aiohttp import web
from moto.server import ThreadedMotoServer

from smtop.aws.session import AwsSession
from smtop.models.catalog import METRICS, without_percentiles
from smtop.clock import FrozenClock
from smtop.sim.wsgi import cbor_map

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/smtop-test"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1"
# A fixed "now" in the middle of a minute: the plan ends at 12:00:00.
NOW = datetime(2026, 1, 1, 12, 0, 30, tzinfo=timezone.utc)

# Plain moto answers percentile statistics with HTTP 500; its tests poll the
# catalog without them (percentiles are tested against the simulator).
NO_PERCENTILES = without_percentiles(METRICS)


@pytest.fixture(scope="session")
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """Nothing from the developer's AWS config, credentials or endpoint leaks in."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    config = tmp_path / "aws-config"
    credentials = tmp_path / "aws-credentials"
    config.write_text("")
    credentials.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


@pytest.fixture
def test_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def moto(moto_server, test_credentials):
    """The moto URL, with its state reset for this test."""
    requests.post(f"{moto_server}/moto-api/reset", timeout=5)
    return moto_server


@pytest.fixture
async def aws(moto):
    async with AwsSession(region=REGION, endpoint_url=moto, max_attempts=1) as session:
        yield session


@pytest.fixture
def clock():
    return FrozenClock(NOW)


@pytest.fixture
def boto(moto):
    """A boto3 client factory for seeding moto."""
    return lambda service: boto3.client(service, region_name=REGION, endpoint_url=moto)


@pytest.fixture
def seed(boto):
    """``seed(name, variants)`` creates an endpoint; variants are (name, instance type, count, weight)."""
    sagemaker = boto("sagemaker")
    sagemaker.create_model(ModelName="model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE})

    def create(name: str, variants=(("AllTraffic", "ml.m5.large", 1, 1.0),), config: str | None = None) -> None:
        config = config or f"{name}-config"
        sagemaker.create_endpoint_config(
            EndpointConfigName=config,
            ProductionVariants=[
                {
                    "VariantName": variant,
                    "ModelName": "model",
                    "InstanceType": instance_type,
                    "InitialInstanceCount": count,
                    "InitialVariantWeight": weight,
                }
                for variant, instance_type, count, weight in variants
            ],
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)

    return create


@pytest.fixture
def put_metric(boto):
    """``put_metric(endpoint, variant, metric, at, value)`` stores one datapoint in moto."""
    cloudwatch = boto("cloudwatch")

    def put(endpoint: str, variant: str, metric: str, at: datetime, value: float) -> None:
        cloudwatch.put_metric_data(
            Namespace=METRICS[metric].namespace,
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": endpoint},
                        {"Name": "VariantName", "Value": variant},
                    ],
                    "Timestamp": at,
                    "Value": value,
                }
            ],
        )

    return put


def record_calls(client: Any, operation: str) -> list[dict]:
    """Record the API parameters of every request ``client`` makes for ``operation``.

    botocore emits ``before-parameter-build`` once per API request
    (pagination pages included, retries are off), so the list is both a
    request count and a log of what each asked for.
    """
    calls: list[dict] = []
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(
        f"before-parameter-build.{service}.{operation}", lambda params, **_: calls.append(dict(params))
    )
    return calls


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FaultProxy:
    """An HTTP proxy in front of moto that can answer like AWS does when it fails.

    ``fail(operation, status, code, message)`` makes the next requests for
    ``operation`` return that AWS error (JSON for JSON services, CBOR for
    CloudWatch's rpc-v2-cbor) until ``heal()``; every other request is
    forwarded to moto.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.url = ""
        self.faults: dict[str, tuple[int, str, str]] = {}
        self.seen: list[str] = []
        self._runner: web.AppRunner | None = None

    def fail(self, operation: str, status: int, code: str, message: str) -> None:
        self.faults[operation] = (status, code, message)

    def heal(self) -> None:
        self.faults.clear()

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # aiohttp waits up to 60 s by default for open handlers at cleanup (a
        # Live Tail stream the client abandoned is one): a test proxy need not.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        target = request.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else request.path.rsplit("/", 1)[-1]
        self.seen.append(operation)
        if operation in self.faults:
            status, code, message = self.faults[operation]
            if "cbor" in request.headers.get("Content-Type", "") or "smithy-protocol" in request.headers:
                return web.Response(
                    status=status,
                    body=cbor_map({"__type": code, "message": message}),
                    headers={"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"},
                )
            return web.json_response({"__type": code, "message": message}, status=status)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as upstream:
            payload = await upstream.read()
            passed = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")
            }
            return web.Response(status=upstream.status, body=payload, headers=passed)


@pytest.fixture
async def fault_proxy(moto):
    proxy = FaultProxy(moto)
    await proxy.start()
    yield proxy
    await proxy.stop()
