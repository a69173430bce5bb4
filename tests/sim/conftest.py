"""Clients for the simulator tests: boto3 over HTTP, retries off, dummy credentials.

Tests that write (metrics, endpoints) use ``WRITE_REGION``: the simulator keeps
each region apart, so the demo fleet in us-east-1, which other test packages
snapshot, never sees them.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

FLEET_REGION = "us-east-1"
WRITE_REGION = "us-west-2"


def make_client(service: str, url: str, region: str = FLEET_REGION):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def cloudwatch(sim):
    """CloudWatch client on the fleet's region (read only, please)."""
    return make_client("cloudwatch", sim.url)


@pytest.fixture(scope="session")
def sagemaker(sim):
    """SageMaker client on the fleet's region (read only, please)."""
    return make_client("sagemaker", sim.url)


@pytest.fixture(scope="session")
def scratch_cloudwatch(sim):
    """CloudWatch client on a region of its own, for tests that put metric data."""
    return make_client("cloudwatch", sim.url, WRITE_REGION)


@pytest.fixture(scope="session")
def scratch_sagemaker(sim):
    """SageMaker client on a region of its own, for tests that create endpoints."""
    return make_client("sagemaker", sim.url, WRITE_REGION)
