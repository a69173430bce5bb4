"""Every failure reaches the user as an smtop error with a sentence to act on.

Real error responses: moto where it produces them, otherwise a proxy that
answers with the body AWS sends (JSON for SageMaker, CBOR for CloudWatch).
"""

from __future__ import annotations

import pytest
from botocore import exceptions as boto

from smtop.aws.endpoints import EndpointInventory
from smtop.aws.errors import iam_action, translate
from smtop.aws.session import AwsSession
from smtop.aws.fleet import FleetMonitor
from smtop.errors import (
    AccessDeniedError,
    ConfigurationError,
    ConnectionFailedError,
    CredentialsError,
    NotFoundError,
    ServiceError,
    ThrottledError,
    UnsupportedOperationError,
)
from tests.aws.conftest import NO_PERCENTILES, REGION, closed_port


async def test_access_denied_names_the_iam_action(fault_proxy, seed, clock):
    seed("fraud-detector")  # without endpoints there is nothing to ask CloudWatch
    fault_proxy.fail("GetMetricData", 400, "AccessDenied", "User is not authorized to perform GetMetricData")
    async with AwsSession(region=REGION, endpoint_url=fault_proxy.url, max_attempts=1) as aws:
        monitor = FleetMonitor(aws, clock, metrics=NO_PERCENTILES)
        with pytest.raises(AccessDeniedError) as denied:
            await monitor.refresh()
    assert denied.value.action == "cloudwatch:GetMetricData"
    assert "needs the IAM permission cloudwatch:GetMetricData" in str(denied.value)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, ThrottledError),
        ("AccessDeniedException", 400, AccessDeniedError),
        ("ExpiredTokenException", 400, CredentialsError),
        ("UnrecognizedClientException", 400, CredentialsError),
        ("ResourceNotFound", 400, NotFoundError),
        ("InternalFailure", 500, ServiceError),
    ],
)
async def test_sagemaker_error_codes(fault_proxy, code, status, expected):
    fault_proxy.fail("ListEndpoints", status, code, "something happened")
    async with AwsSession(region=REGION, endpoint_url=fault_proxy.url, max_attempts=1, profile=None) as aws:
        with pytest.raises(expected) as caught:
            await EndpointInventory(aws).refresh()
    error = caught.value
    assert (error.service, error.operation) == ("sagemaker", "ListEndpoints")
    assert str(error).endswith(".")
    if expected is AccessDeniedError:
        assert error.action == "sagemaker:ListEndpoints"


async def test_throttling_is_retryable_and_says_so(fault_proxy):
    fault_proxy.fail("ListEndpoints", 400, "ThrottlingException", "Rate exceeded")
    async with AwsSession(region=REGION, endpoint_url=fault_proxy.url, max_attempts=1) as aws:
        with pytest.raises(ThrottledError, match="throttled") as caught:
            await EndpointInventory(aws).refresh()
    assert caught.value.retryable


async def test_validation_could_not_find_is_not_found(aws):
    sagemaker = await aws.client("sagemaker")
    with pytest.raises(NotFoundError, match="Could not find"), aws.errors("sagemaker", "DescribeEndpoint"):
        await sagemaker.describe_endpoint(EndpointName="missing")


async def test_html_500_from_an_endpoint_without_the_operation(aws):
    # moto does not implement CloudTrail LookupEvents and answers with a web page.
    cloudtrail = await aws.client("cloudtrail")
    with pytest.raises(UnsupportedOperationError, match="LookupEvents"), aws.errors("cloudtrail", "LookupEvents"):
        await cloudtrail.lookup_events()


async def test_unreachable_endpoint_names_the_url(test_credentials):
    url = f"http://127.0.0.1:{closed_port()}"
    async with AwsSession(region=REGION, endpoint_url=url, max_attempts=1) as aws:
        with pytest.raises(ConnectionFailedError) as caught:
            await EndpointInventory(aws).refresh()
    assert url in str(caught.value)
    assert caught.value.retryable


async def test_unknown_profile_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="'nope'"):
        async with AwsSession(profile="nope") as aws:
            await aws.client("sagemaker")


async def test_no_region_is_a_configuration_error(test_credentials):
    async with AwsSession() as aws:
        with pytest.raises(ConfigurationError, match="region"):
            await aws.client("sagemaker")


async def test_no_credentials_is_a_credentials_error(moto_server):
    async with AwsSession(region=REGION, endpoint_url=moto_server, max_attempts=1) as aws:
        with pytest.raises(CredentialsError, match="credentials"):
            await EndpointInventory(aws).refresh()


def test_expired_sso_session_says_how_to_log_in():
    error = translate(boto.UnauthorizedSSOTokenError(), service="sagemaker", profile="prod")
    assert isinstance(error, CredentialsError)
    assert "aws sso login --profile prod" in str(error)


def test_iam_action_uses_the_iam_prefix():
    assert iam_action("cloudwatch", "GetMetricData") == "cloudwatch:GetMetricData"
    assert iam_action("monitoring", "GetMetricData") == "cloudwatch:GetMetricData"
    assert iam_action("logs", "StartQuery") == "logs:StartQuery"
    assert iam_action(None, "StartQuery") is None


def test_our_own_bugs_are_not_disguised():
    from smtop.aws.errors import aws_errors

    with pytest.raises(KeyError):
        with aws_errors("sagemaker", "ListEndpoints"):
            raise KeyError("bug")


async def test_a_garbled_answer_is_a_service_error_not_a_crash(test_credentials):
    """A 200 whose body is not the API's (a captive portal, a wrong URL)."""
    from aiohttp import web

    async def portal(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Welcome to the hotel wifi", content_type="text/xml")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", portal)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with AwsSession(region=REGION, endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1) as aws:
            with pytest.raises(ServiceError, match="could not be read while .*GetCallerIdentity"):
                await aws.whoami()  # STS speaks XML, which botocore must parse
    finally:
        await runner.cleanup()
