"""botocore's models cut down to smtop's operations (smtop.aws.lean_models).

A missing operation would surface as a client without the method, so the
list is checked against the code's own calls, the cut model against
botocore's full one, and a session against the simulator over HTTP.
"""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest

from smtop.aws import lean_models
from smtop.aws.session import AwsSession

AWS_PACKAGE = Path(lean_models.__file__).parent

# Every way the AWS layer names an operation it calls: its error context, its
# logs call wrapper, and paginators (snake case).
_NAMED = re.compile(r'errors\(\s*"(\w+)",\s*"(\w+)"')
_CALLED = re.compile(r'_call\(\s*(\w+)\.\w+,\s*"(\w+)"')
_PAGINATED = re.compile(r'(\w+)\.get_paginator\("(\w+)"\)')
_VARIABLE_SERVICE = {"logs": "logs", "sagemaker": "sagemaker", "cloudwatch": "cloudwatch", "sns": "sns"}


def _camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def operations_in_code() -> set[tuple[str, str]]:
    found = set()
    for path in AWS_PACKAGE.glob("*.py"):
        text = path.read_text()
        found.update(_NAMED.findall(text))
        found.update(("logs", operation) for _, operation in _CALLED.findall(text))
        found.update((_VARIABLE_SERVICE[var], _camel(op)) for var, op in _PAGINATED.findall(text))
    return found


def full_model(service: str) -> dict:
    return botocore.session.get_session().get_component("data_loader").load_service_model(service, "service-2")


def test_every_operation_the_code_calls_is_kept():
    in_code = operations_in_code()
    assert len(in_code) >= 20  # the scan itself works
    missing = {(service, op) for service, op in in_code if op not in lean_models.OPERATIONS.get(service, ())}
    assert not missing


@pytest.mark.parametrize("service", sorted(lean_models.OPERATIONS))
def test_lean_model_is_closed_and_undocumented(service):
    full = full_model(service)
    wanted = lean_models.OPERATIONS[service]
    assert wanted <= set(full["operations"])  # nothing renamed in this botocore
    lean = lean_models.lean_model(full, wanted)
    assert set(lean["operations"]) == wanted
    assert lean["metadata"] == {k: v for k, v in full["metadata"].items()}
    assert "documentation" not in repr(lean)
    # Every shape reference resolves inside the lean model.
    refs = re.findall(r"'shape': '([^']+)'", repr(lean["operations"]) + repr(lean["shapes"]))
    assert refs and set(refs) <= set(lean["shapes"])
    # And each kept operation's input and output are the full model's, documentation aside.
    for name in wanted:
        for key in ("input", "output"):
            if key in full["operations"][name]:
                shape = full["operations"][name][key]["shape"]
                assert set(lean["shapes"][shape].get("members", {})) == set(full["shapes"][shape].get("members", {}))
    assert len(lean["shapes"]) < len(full["shapes"])


async def test_session_writes_then_reads_the_lean_models(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    async with AwsSession(region="us-east-1", endpoint_url=sim.url) as aws:
        sagemaker = await aws.client("sagemaker")
        assert set(sagemaker.meta.service_model.operation_names) == lean_models.OPERATIONS["sagemaker"]
        listed = [e["EndpointName"] async for page in sagemaker.get_paginator("list_endpoints").paginate() for e in page["Endpoints"]]
        assert "fraud-detector-prod" in listed
    written = list((tmp_path / "cache" / "smtop" / "botocore-models").glob("*/sagemaker/*/service-2.json"))
    assert len(written) == 1
    before = written[0].stat().st_mtime_ns
    async with AwsSession(region="us-east-1", endpoint_url=sim.url) as aws:
        sagemaker = await aws.client("sagemaker")
        reply = await sagemaker.describe_endpoint(EndpointName="fraud-detector-prod")
        assert reply["EndpointName"] == "fraud-detector-prod"
        assert len(sagemaker.meta.service_model.operation_names) == 3
    assert written[0].stat().st_mtime_ns == before  # read, not written again


async def test_own_model_directories_win(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "my-models"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    async with AwsSession(region="us-east-1", endpoint_url=sim.url) as aws:
        sagemaker = await aws.client("sagemaker")
        assert len(sagemaker.meta.service_model.operation_names) > 100
    assert not (tmp_path / "cache").exists()


async def test_unwritable_cache_still_opens_clients(sim, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    async with AwsSession(region="us-east-1", endpoint_url=sim.url) as aws:
        cloudtrail = await aws.client("cloudtrail")
        reply = await cloudtrail.lookup_events(MaxResults=1)
        assert "Events" in reply


def test_every_service_keeps_its_endpoint_entry():
    for service in lean_models.OPERATIONS:
        assert full_model(service)["metadata"]["endpointPrefix"] in lean_models.ENDPOINT_PREFIXES


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"])
async def test_pruned_endpoint_data_resolves_as_botocore_does(tmp_path, monkeypatch, region):
    """Clients of the pruned session get the URL and signing region a plain
    botocore session gives them, across partitions; and hold only a few entries."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    plain = botocore.session.get_session()
    async with AwsSession(region=region) as aws:
        for service in sorted(lean_models.OPERATIONS):
            ours = (await aws.client(service)).meta
            theirs = plain.create_client(service, region_name=region).meta
            assert (ours.endpoint_url, ours.region_name) == (theirs.endpoint_url, theirs.region_name)
            assert ours.config.signature_version == theirs.config.signature_version
        resolver = aws._session._get_internal_component("endpoint_resolver")
    assert resolver.uses_builtin_data
    for partition in resolver._endpoint_data["partitions"]:
        assert set(partition["services"]) <= lean_models.ENDPOINT_PREFIXES
    # Only smtop's session was pruned: another session's data is whole.
    assert plain._get_internal_component("endpoint_resolver").get_available_endpoints("s3", "aws")


_PROVIDER_CALLS = {"assume_role": "sts", "assume_role_with_web_identity": "sts", "get_role_credentials": "sso", "create_token": "sso-oidc"}


def test_the_credential_providers_operations_are_kept():
    """botocore's credential providers open their STS, SSO and SSO OIDC clients
    from smtop's session, so they read its lean models too: a role profile broke
    with AttributeError ('STS' object has no attribute 'assume_role') when the
    cut STS model held only GetCallerIdentity."""
    import aiobotocore.credentials
    import aiobotocore.tokens
    import botocore.credentials
    import botocore.tokens

    modules = (aiobotocore.credentials, aiobotocore.tokens, botocore.credentials, botocore.tokens)
    text = "".join(Path(module.__file__).read_text() for module in modules)
    called = set(re.findall(r"client\.([a-z_]+)\(", text))
    assert called == set(_PROVIDER_CALLS)  # the scan sees every call they make (a new one fails here first)
    for method, service in _PROVIDER_CALLS.items():
        if service in lean_models.OPERATIONS:
            assert _camel(method) in lean_models.OPERATIONS[service], (service, method)


async def test_a_role_profile_signs_in_over_the_lean_sts_model(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    async with AwsSession(region="us-east-1", endpoint_url=sim.url) as aws:
        await aws.whoami()  # writes the lean STS model
    assert list((tmp_path / "cache" / "smtop" / "botocore-models").glob("*/sts/*/service-2.json"))
    config = tmp_path / "config"
    config.write_text("[profile oncall]\nrole_arn = arn:aws:iam::123456789012:role/OnCall\ncredential_source = Environment\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    async with AwsSession(profile="oncall", region="us-east-1", endpoint_url=sim.url) as aws:
        assert await aws.sign_in() == "assume-role"
        assert ":assumed-role/OnCall/" in (await aws.whoami()).arn
