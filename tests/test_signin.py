"""Signing in as people do: every source of botocore's credential chain, over the wire.

Each case writes the AWS configuration a person would have (files, environment,
a token file, a credentials server of the test's own), then

- runs ``smtop -b --json`` as a process against the simulator and checks the
  fleet arrived (the same endpoints a plain-keys boto3 client lists), with no
  traceback, and that the credential call went over the wire to the simulator
  (its count of calls per operation);
- signs an ``AwsSession`` in through the same configuration and asks STS who
  it is: the identity is the role, session or key the source names.

How each source is configured comes from the AWS SDKs and Tools Reference Guide
("Assume role credential provider", "Process credential provider", "Container
credential provider", "IMDS credential provider", "IAM Identity Center credential
provider") and the AWS CLI User Guide ("Use an IAM role in the AWS CLI"): the
setting names, the token cache path (sha1 of the start URL or the session
name), the IMDSv2 token handshake, the container endpoint's Authorization header.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import boto3
import pytest
import requests
from botocore.config import Config

from smtop.aws.session import AwsSession
from smtop.errors import CredentialsError, MfaRequiredError

ACCOUNT = "123456789012"  # moto's default account: where the simulator's fleet lives
REGION = "us-east-1"
SSO_START = "https://smtop-test.awsapps.com/start"
MFA_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice"


# -- the world around smtop ----------------------------------------------------------
class Person:
    """One person's AWS setup in a temporary home: files, environment, servers."""

    def __init__(self, tmp_path: Path, sim_url: str) -> None:
        self.home = tmp_path / "home"
        (self.home / ".aws").mkdir(parents=True)
        self.config = self.home / ".aws" / "config"
        self.credentials = self.home / ".aws" / "credentials"
        self.config.write_text("")
        self.credentials.write_text("")
        self.sim_url = sim_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update(
            HOME=str(self.home),
            # smtop's cache (its credentials of other endpoints than AWS's, the lean models): this person's own
            XDG_CACHE_HOME=str(tmp_path / "cache"),
            AWS_CONFIG_FILE=str(self.config),
            AWS_SHARED_CREDENTIALS_FILE=str(self.credentials),
            AWS_EC2_METADATA_DISABLED="true",
        )
        self.profile: str | None = None

    def add(self, text: str, file: str = "config") -> None:
        path = self.config if file == "config" else self.credentials
        path.write_text(path.read_text() + text.strip() + "\n\n")

    def sso_token(self, key: str, *, expires_in: timedelta, refresh: bool = False) -> Path:
        """A token as `aws sso login` leaves it in ~/.aws/sso/cache (botocore's SSOTokenLoader:
        the file is the sha1 of the session name, or of the start URL for a legacy profile)."""
        cache = self.home / ".aws" / "sso" / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        token = {
            "startUrl": SSO_START,
            "region": REGION,
            "accessToken": "aoa-test-token",
            "expiresAt": (datetime.now(timezone.utc) + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if refresh:
            token.update(
                clientId="client-id",
                clientSecret="client-secret",
                registrationExpiresAt=(datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                refreshToken="aor-test-refresh",
            )
        path = cache / f"{hashlib.sha1(key.encode()).hexdigest()}.json"
        path.write_text(json.dumps(token))
        return path

    def batch(self, *args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
        profile = ("--profile", self.profile) if self.profile else ()
        return subprocess.run(
            [sys.executable, "-m", "smtop", "-b", "--json", "--region", REGION, "--endpoint-url", self.sim_url, *profile, *args],
            capture_output=True, text=True, timeout=90, env=self.env, stdin=stdin,
        )

    def whoami(self) -> str:
        """Who STS says the signed-in session is, asked by a fresh process as a
        user's would be (botocore reads the token and cache paths at import)."""
        code = (
            "import asyncio, sys\n"
            "from smtop.aws.session import AwsSession\n"
            "async def main():\n"
            "    async with AwsSession(profile=sys.argv[1] or None, region=sys.argv[2], endpoint_url=sys.argv[3], max_attempts=1) as aws:\n"
            "        await aws.sign_in()\n"
            "        print((await aws.whoami()).arn)\n"
            "asyncio.run(main())\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, self.profile or "", REGION, self.sim_url],
            capture_output=True, text=True, timeout=60, env=self.env, stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


class CredentialServer:
    """The container credentials endpoint and IMDSv2, as a container or an instance has them.

    Container ("Container credential provider"): GET on the full URI with the
    authorization token in the Authorization header.  IMDSv2 ("Use IMDSv2",
    EC2 User Guide): PUT /latest/api/token with a TTL header gives a session
    token; every GET must carry it (an instance that requires IMDSv2 answers
    401 without it); the role's name, then its credentials, under
    /latest/meta-data/iam/security-credentials/.
    """

    AUTH = "container-secret-token"
    ROLE = "smtop-instance-role"

    def __init__(self) -> None:
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self) -> None:
                if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    server.hits.append("imds-token")
                    self._send(200, "imds-session-token")
                else:
                    self._send(400, "")

            def do_GET(self) -> None:
                creds = json.dumps(
                    {
                        "Code": "Success",
                        "AccessKeyId": "ASIAFROMCREDSERVER01",
                        "SecretAccessKey": "secret",
                        "Token": "token",
                        "Expiration": (datetime.now(timezone.utc) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                )
                if self.path == "/container-creds":
                    if self.headers.get("Authorization") != CredentialServer.AUTH:
                        return self._send(403, "")
                    server.hits.append("container")
                    return self._send(200, creds)
                if self.headers.get("X-aws-ec2-metadata-token") != "imds-session-token":
                    return self._send(401, "")
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path == base:
                    return self._send(200, CredentialServer.ROLE)
                if self.path == base + CredentialServer.ROLE:
                    server.hits.append("imds")
                    return self._send(200, creds)
                self._send(404, "")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def fleet(sim) -> list[str]:
    """The endpoints of the simulator's account, listed by plain boto3 with static keys."""
    client = boto3.client(
        "sagemaker", endpoint_url=sim.url, region_name=REGION, aws_access_key_id="x",
        aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}),
    )
    return sorted(e["EndpointName"] for e in client.list_endpoints()["Endpoints"])


@pytest.fixture
def person(tmp_path, sim) -> Person:
    return Person(tmp_path, sim.url)


@pytest.fixture
def credential_server():
    server = CredentialServer()
    yield server
    server.close()


def calls(sim) -> dict[str, int]:
    return requests.get(f"{sim.url}/_smtop/faults", timeout=5).json()["calls"]


def reaches_the_fleet(person: Person, fleet: list[str], sim, *, credential_call: str | None) -> None:
    before = calls(sim).get(credential_call, 0) if credential_call else 0
    result = person.batch()
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 0, result.stderr
    snapshot = json.loads(result.stdout.splitlines()[0])
    assert sorted(e["name"] for e in snapshot["endpoints"]) == fleet
    if credential_call:
        assert calls(sim).get(credential_call, 0) > before  # signed in over the wire, at the simulator


# -- the sources, one configuration each -------------------------------------------------
def environment_keys(person: Person, _server) -> str:
    person.env.update(AWS_ACCESS_KEY_ID="AKIAENVIRONMENT00001", AWS_SECRET_ACCESS_KEY="secret")
    return r":user/"


def shared_credentials_file(person: Person, _server) -> str:
    person.add("[prod]\naws_access_key_id = AKIASHAREDFILE000001\naws_secret_access_key = secret", "credentials")
    person.profile = "prod"
    return r":user/"


def role_with_source_profile(person: Person, _server) -> str:
    person.add("[base]\naws_access_key_id = AKIABASEPROFILE00001\naws_secret_access_key = secret", "credentials")
    person.add(f"[profile oncall]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/OnCall\nsource_profile = base\nrole_session_name = alice")
    person.profile = "oncall"
    return ":assumed-role/OnCall/alice"


def role_with_credential_source(person: Person, _server) -> str:
    person.env.update(AWS_ACCESS_KEY_ID="AKIAENVIRONMENT00002", AWS_SECRET_ACCESS_KEY="secret")
    person.add(f"[profile ci]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/Deployer\ncredential_source = Environment\nrole_session_name = ci")
    person.profile = "ci"
    return ":assumed-role/Deployer/ci"


def chained_roles(person: Person, _server) -> str:
    person.add("[base]\naws_access_key_id = AKIABASEPROFILE00002\naws_secret_access_key = secret", "credentials")
    person.add(f"[profile hop]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/Hop\nsource_profile = base")
    person.add(f"[profile admin]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/Admin\nsource_profile = hop\nrole_session_name = bob")
    person.profile = "admin"
    return ":assumed-role/Admin/bob"


def web_identity_environment(person: Person, _server) -> str:
    token = person.home / "token.jwt"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bWw6c210b3AifQ.c2ln")
    person.env.update(
        AWS_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/EksPod", AWS_WEB_IDENTITY_TOKEN_FILE=str(token), AWS_ROLE_SESSION_NAME="pod"
    )
    return ":assumed-role/EksPod/pod"


def web_identity_profile(person: Person, _server) -> str:
    token = person.home / "token.jwt"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmNvcnAvbWwifQ.c2ln")
    person.add(
        f"[profile gha]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/GitHubActions\nweb_identity_token_file = {token}\nrole_session_name = gha"
    )
    person.profile = "gha"
    return ":assumed-role/GitHubActions/gha"


def sso_legacy(person: Person, _server) -> str:
    person.add(
        f"[profile sso-legacy]\nsso_start_url = {SSO_START}\nsso_region = {REGION}\n"
        f"sso_account_id = {ACCOUNT}\nsso_role_name = ReadOnly\nregion = {REGION}"
    )
    person.sso_token(SSO_START, expires_in=timedelta(hours=8))
    person.profile = "sso-legacy"
    return ":assumed-role/AWSReservedSSO_ReadOnly_"  # IAM Identity Center's role for the permission set


def sso_session(person: Person, _server) -> str:
    person.add(f"[sso-session corp]\nsso_start_url = {SSO_START}\nsso_region = {REGION}\nsso_registration_scopes = sso:account:access")
    person.add(f"[profile sso]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = OnCallAccess\nregion = {REGION}")
    person.sso_token("corp", expires_in=timedelta(hours=8), refresh=True)
    person.profile = "sso"
    return ":assumed-role/AWSReservedSSO_OnCallAccess_"


def credential_process(person: Person, _server) -> str:
    script = person.home / "creds.py"
    script.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'AKIAPROCESS000000001', 'SecretAccessKey': 'secret'}))\n"
    )
    person.add(f"[profile vault]\ncredential_process = {sys.executable} {script}")
    person.profile = "vault"
    return r":user/"


def container_credentials(person: Person, server: CredentialServer) -> str:
    person.env.update(
        AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{server.url}/container-creds", AWS_CONTAINER_AUTHORIZATION_TOKEN=CredentialServer.AUTH
    )
    return r":user/"


def instance_metadata(person: Person, server: CredentialServer) -> str:
    del person.env["AWS_EC2_METADATA_DISABLED"]
    person.env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=server.url)
    return r":user/"


def role_from_container(person: Person, server: CredentialServer) -> str:
    container_credentials(person, server)
    person.add(f"[profile task]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/TaskRole\ncredential_source = EcsContainer\nrole_session_name = task")
    person.profile = "task"
    return ":assumed-role/TaskRole/task"


def role_from_instance(person: Person, server: CredentialServer) -> str:
    instance_metadata(person, server)
    person.add(f"[profile box]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/BoxRole\ncredential_source = Ec2InstanceMetadata\nrole_session_name = box")
    person.profile = "box"
    return ":assumed-role/BoxRole/box"


SOURCES: dict[str, tuple[Callable[[Person, CredentialServer], str], str | None, str | None]] = {
    # name: (configure, the credential call the simulator sees, the test server's hit)
    "environment": (environment_keys, None, None),
    "shared credentials file": (shared_credentials_file, None, None),
    "assume role (source_profile)": (role_with_source_profile, "sts:AssumeRole", None),
    "assume role (credential_source)": (role_with_credential_source, "sts:AssumeRole", None),
    "chained roles": (chained_roles, "sts:AssumeRole", None),
    "web identity (environment)": (web_identity_environment, "sts:AssumeRoleWithWebIdentity", None),
    "web identity (profile)": (web_identity_profile, "sts:AssumeRoleWithWebIdentity", None),
    "sso (legacy)": (sso_legacy, None, None),
    "sso (sso_session)": (sso_session, None, None),
    "credential_process": (credential_process, None, None),
    "container": (container_credentials, None, "container"),
    "instance metadata (IMDSv2)": (instance_metadata, None, "imds"),
    "role from container": (role_from_container, "sts:AssumeRole", "container"),
    "role from instance metadata": (role_from_instance, "sts:AssumeRole", "imds"),
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_batch_reaches_the_fleet(source, person, fleet, sim, credential_server):
    configure, credential_call, hit = SOURCES[source]
    configure(person, credential_server)
    reaches_the_fleet(person, fleet, sim, credential_call=credential_call)
    if hit:
        assert hit in credential_server.hits
    if hit == "imds":
        assert "imds-token" in credential_server.hits  # IMDSv2: the token first, every read with it


@pytest.mark.parametrize("source", list(SOURCES))
def test_signs_in_as_the_source_says(source, person, credential_server):
    configure, _, _ = SOURCES[source]
    expected = configure(person, credential_server)
    arn = person.whoami()
    assert arn.startswith("arn:aws:") and expected in arn, arn


def test_chained_roles_assume_each_role_in_turn(person, sim, fleet, credential_server):
    chained_roles(person, credential_server)
    before = calls(sim).get("sts:AssumeRole", 0)
    reaches_the_fleet(person, fleet, sim, credential_call=None)
    assert calls(sim).get("sts:AssumeRole", 0) - before == 2  # base -> Hop -> Admin


def simulator_role_sessions(person: Person) -> list[Path]:
    """The role sessions smtop cached for an endpoint other than AWS's (smtop's own cache)."""
    return list((Path(person.env["XDG_CACHE_HOME"]) / "smtop" / "credentials").glob("*/*.json"))


def test_a_role_session_is_cached_but_never_in_the_aws_clis_cache_for_another_endpoint(person, sim, fleet, credential_server):
    """"Use an IAM role in the AWS CLI": the temporary credentials are cached and
    reused until they expire, so the next run makes no AssumeRole.  botocore's
    cache key is the role's arguments, not the endpoint: the simulator's
    credentials in ~/.aws/cli/cache would be served to the real profile, by
    smtop and by the AWS CLI, so for another endpoint they go to smtop's cache."""
    role_with_source_profile(person, credential_server)
    reaches_the_fleet(person, fleet, sim, credential_call="sts:AssumeRole")
    assert not list((person.home / ".aws" / "cli" / "cache").glob("*.json"))
    cached = simulator_role_sessions(person)
    assert len(cached) == 1
    assert oct(cached[0].stat().st_mode & 0o777) == "0o600"  # readable by the owner only
    assert json.loads(cached[0].read_text())["Credentials"]["AccessKeyId"].startswith("ASIA")
    before = calls(sim).get("sts:AssumeRole", 0)
    reaches_the_fleet(person, fleet, sim, credential_call=None)
    assert calls(sim).get("sts:AssumeRole", 0) == before


@pytest.mark.parametrize(
    ("environment", "profile", "expected"),
    [
        ({}, "", None),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, "", "http://127.0.0.1:1"),
        ({"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:2"}, "", "http://127.0.0.1:2"),
        ({}, "endpoint_url = http://127.0.0.1:3\n", "http://127.0.0.1:3"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", None),
    ],
)
def test_the_aws_clis_cache_is_used_only_when_credentials_come_from_aws(person, monkeypatch, environment, profile, expected):
    """The endpoint the credential providers' clients use, as botocore resolves it
    ("Service-specific endpoints", AWS SDKs and Tools Reference Guide: the
    AWS_ENDPOINT_URL variables, a profile's endpoint_url, and
    ignore_configured_endpoint_urls), decides the cache."""
    from aiobotocore.session import AioSession

    from smtop.aws.signin import cache_dir, credential_endpoint

    person.add(f"[profile p]\nregion = us-east-1\n{profile}")
    for name, value in {**person.env, **environment}.items():
        if name.startswith("AWS_") or name in ("HOME", "XDG_CACHE_HOME"):
            monkeypatch.setenv(name, value)
    endpoint = credential_endpoint(AioSession(profile="p"), None)
    assert endpoint == expected
    assert (cache_dir(endpoint) == person.home / ".aws" / "cli" / "cache") is (expected is None)


def test_an_sso_token_about_to_expire_is_refreshed(person, fleet, sim, credential_server):
    """botocore renews an sso_session token within 15 minutes of its expiry with
    SSO OIDC CreateToken (grant refresh_token) and writes it back to the cache."""
    sso_session(person, credential_server)
    token_file = person.sso_token("corp", expires_in=timedelta(minutes=5), refresh=True)
    reaches_the_fleet(person, fleet, sim, credential_call=None)
    renewed = json.loads(token_file.read_text())
    assert renewed["accessToken"] != "aoa-test-token" and renewed["refreshToken"] != "aor-test-refresh"
    assert datetime.fromisoformat(renewed["expiresAt"].replace("Z", "+00:00")) > datetime.now(timezone.utc) + timedelta(minutes=30)


@pytest.mark.parametrize("legacy", [False, True])
def test_an_expired_sso_login_says_how_to_log_in_again(person, credential_server, legacy):
    (sso_legacy if legacy else sso_session)(person, credential_server)
    person.sso_token(SSO_START if legacy else "corp", expires_in=timedelta(minutes=-5))
    result = person.batch()
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"aws sso login --profile {person.profile}" in result.stderr


def test_a_role_the_service_refuses_is_one_line(person, sim, credential_server):
    role_with_source_profile(person, credential_server)
    sim.inject("deny", "sts", "AssumeRole")
    try:
        result = person.batch()
    finally:
        sim.clear_faults()
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "AssumeRole" in lines[0] and "AccessDenied" in lines[0], lines


def test_the_endpoint_url_reaches_the_credential_calls_too(person, sim, credential_server):
    """--endpoint-url means every AWS call: the role's AssumeRole goes there, not to the real STS."""
    role_with_source_profile(person, credential_server)
    before = calls(sim).get("sts:AssumeRole", 0)
    result = person.batch()
    assert result.returncode == 0, result.stderr
    assert calls(sim).get("sts:AssumeRole", 0) == before + 1


# -- a role that needs an MFA code ------------------------------------------------------------
def mfa_role(person: Person) -> None:
    person.add("[base]\naws_access_key_id = AKIABASEPROFILE00003\naws_secret_access_key = secret", "credentials")
    person.add(
        f"[profile mfa]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/Admin\nsource_profile = base\n"
        f"mfa_serial = {MFA_SERIAL}\nrole_session_name = carol"
    )
    person.profile = "mfa"


def test_batch_without_a_terminal_refuses_a_profile_that_needs_a_code(person):
    mfa_role(person)
    result = person.batch()
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "MFA code" in lines[0] and "no terminal" in lines[0]


def test_serve_refuses_a_profile_that_needs_a_code(person):
    mfa_role(person)
    result = subprocess.run(
        [sys.executable, "-m", "smtop", "--serve", "--port", "1", "--profile", "mfa", "--endpoint-url", person.sim_url],
        capture_output=True, text=True, timeout=60, env=person.env, stdin=subprocess.DEVNULL,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "MFA code" in lines[0] and "--serve" in lines[0]


async def test_a_cached_role_session_near_its_end_needs_a_new_code(person, sim, monkeypatch):
    """The console's session never prompts: a cached MFA role session with less
    than botocore's 15-minute window left is expired to botocore, so signing in
    asks the prompter, which raises MfaRequiredError naming the device; with a
    code (the console's dialog) the role is assumed again."""
    from smtop.aws.signin import MfaCode

    mfa_role(person)
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in person.env.items():
        if name.startswith("AWS_") or name in ("HOME", "XDG_CACHE_HOME"):
            monkeypatch.setenv(name, value)
    async with AwsSession(profile="mfa", region=REGION, endpoint_url=sim.url, mfa_prompter=MfaCode("123456")) as aws:
        await aws.sign_in()
    (cached,) = simulator_role_sessions(person)
    document = json.loads(cached.read_text())
    document["Credentials"]["Expiration"] = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cached.write_text(json.dumps(document))

    async with AwsSession(profile="mfa", region=REGION, endpoint_url=sim.url, max_attempts=1) as aws:
        with pytest.raises(MfaRequiredError) as raised:
            await aws.sign_in()
        assert raised.value.serial == MFA_SERIAL
        # Signed out: no call leaves the session, nothing is retried.
        before = calls(sim)
        sagemaker = await aws.client("sagemaker")
        with pytest.raises(CredentialsError), aws.errors("sagemaker", "ListEndpoints"):
            await sagemaker.list_endpoints()
        assert calls(sim).get("sagemaker:ListEndpoints", 0) == before.get("sagemaker:ListEndpoints", 0)

    before = calls(sim).get("sts:AssumeRole", 0)
    async with AwsSession(profile="mfa", region=REGION, endpoint_url=sim.url, mfa_prompter=MfaCode("654321")) as aws:
        await aws.sign_in()
        assert ":assumed-role/Admin/carol" in (await aws.whoami()).arn
    assert calls(sim).get("sts:AssumeRole", 0) == before + 1


def in_terminal(
    argv: list[str], env: dict[str, str], *, prompt: bytes, answer: str, until: bytes | None = None, then: bytes = b"", timeout: float = 60
) -> bytes:
    """Run ``argv`` on a pseudo-terminal of 120x40 as a person would: type ``answer``
    at ``prompt``, wait for ``until`` (None: the end), press ``then``; return
    everything it wrote."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the program, on the terminal
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    output, answered, pressed = b"", False, False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # the program ended
                    break
                if not data:
                    break
                output += data
            if not answered and prompt in output:
                os.write(fd, answer.encode() + b"\r")
                answered = True
            if answered and not pressed and until is not None and until in output:
                pressed = True
                if not then:
                    break
                time.sleep(0.5)
                os.write(fd, then)
        else:
            raise AssertionError(f"timed out; the terminal showed: {output[-2000:]!r}")
    finally:
        status = os.waitpid(pid, 0)[1]
        os.close(fd)
    assert answered, output[-2000:]
    assert os.waitstatus_to_exitcode(status) == 0, output[-2000:]
    return output


def test_batch_on_a_terminal_asks_the_mfa_code_there(person, sim, fleet):
    mfa_role(person)
    argv = [sys.executable, "-m", "smtop", "-b", "--json", "--region", REGION, "--endpoint-url", sim.url, "--profile", "mfa"]
    before = calls(sim).get("sts:AssumeRole", 0)
    output = in_terminal(argv, person.env, prompt=f"Enter MFA code for {MFA_SERIAL}:".encode(), answer="123456")
    assert calls(sim).get("sts:AssumeRole", 0) == before + 1
    text = output.decode(errors="replace")
    snapshot = json.loads(text[text.index('{"'):].splitlines()[0])
    assert sorted(e["name"] for e in snapshot["endpoints"]) == fleet
    # The session is cached: the next run, even without a terminal, asks nothing.
    reaches_the_fleet(person, fleet, sim, credential_call=None)
    assert calls(sim).get("sts:AssumeRole", 0) == before + 1


def test_the_console_asks_the_mfa_code_before_it_starts(person, sim, fleet):
    """The prompt is botocore's own, on the terminal, before the console takes it
    over (its alternate screen); after the code the console shows the endpoints."""
    mfa_role(person)
    person.env.update(SMTOP_CONFIG=str(person.home / "none.toml"), TERM="xterm-256color", LANG="C.UTF-8")
    argv = [sys.executable, "-m", "smtop", "--region", REGION, "--endpoint-url", sim.url, "--profile", "mfa"]
    prompt = f"Enter MFA code for {MFA_SERIAL}:".encode()
    output = in_terminal(argv, person.env, prompt=prompt, answer="123456", until=fleet[0].encode(), then=b"q", timeout=90)
    alternate_screen = b"\x1b[?1049h"
    assert output.index(prompt) < output.index(alternate_screen)
    assert b"Traceback" not in output


# -- what must never happen: secrets in the debug log, tracebacks, a sign-out for a hiccup ------
@pytest.mark.parametrize("source", ["assume role (source_profile)", "web identity (profile)"])
def test_the_debug_log_holds_none_of_the_credentials_signing_in_used(source, person, sim, credential_server):
    """botocore logs STS's XML answer (<SecretAccessKey>, <SessionToken>) and the
    AssumeRoleWithWebIdentity request (the token itself) at DEBUG."""
    SOURCES[source][0](person, credential_server)
    log = person.home / "debug.log"
    result = person.batch("--debug", str(log))
    assert result.returncode == 0, result.stderr
    text = log.read_text()
    assert "AssumeRole" in text  # the sign-in is in the log...
    (cached,) = simulator_role_sessions(person)
    credentials = json.loads(cached.read_text())["Credentials"]
    secrets = [credentials["SecretAccessKey"], credentials["SessionToken"], credentials["AccessKeyId"]]
    if source.startswith("web identity"):
        secrets.append((person.home / "token.jwt").read_text())
    for secret in secrets:
        assert secret not in text  # ...its secrets are not


def test_a_credential_process_that_hands_back_expired_keys_is_one_line(person):
    """botocore raises a bare RuntimeError ("refreshed credentials are still
    expired") when a source's credentials are already past their Expiration."""
    script = person.home / "stale.py"
    script.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'AKIAPROCESS000000002', "
        "'SecretAccessKey': 'secret', 'SessionToken': 'token', 'Expiration': '2020-01-01T00:00:00Z'}))\n"
    )
    person.add(f"[profile stale]\ncredential_process = {sys.executable} {script}")
    person.profile = "stale"
    result = person.batch()
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(lines) == 1 and "already expired" in lines[0] and "credential_process" in lines[0], lines


def test_ctrl_d_at_the_mfa_prompt_is_one_line(person, sim):
    mfa_role(person)
    argv = [sys.executable, "-m", "smtop", "-b", "--region", REGION, "--endpoint-url", sim.url, "--profile", "mfa"]
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, person.env)
    output = b""
    deadline = time.monotonic() + 60
    sent = False
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            output += data
        if not sent and b"Enter MFA code" in output:
            os.write(fd, b"\x04")  # ctrl+d
            sent = True
    status = os.waitpid(pid, 0)[1]
    os.close(fd)
    assert sent and os.waitstatus_to_exitcode(status) != 0
    text = output.decode(errors="replace")
    assert "Traceback" not in text and "smtop: No MFA code was entered." in text, text


async def test_a_throttled_sign_in_is_not_a_sign_out(person, sim, monkeypatch):
    """STS throttling the AssumeRole is a hiccup: the next refresh may sign in."""
    from smtop.errors import ThrottledError

    role_with_source_profile(person, None)
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in person.env.items():
        if name.startswith("AWS_") or name in ("HOME", "XDG_CACHE_HOME"):
            monkeypatch.setenv(name, value)
    sim.inject("throttle", "sts", "AssumeRole")
    try:
        async with AwsSession(profile="oncall", region=REGION, endpoint_url=sim.url, max_attempts=1) as aws:
            with pytest.raises(ThrottledError):
                await aws.sign_in()
            assert aws.signed_out is None
    finally:
        sim.clear_faults()


async def test_an_mfa_role_session_that_ends_while_in_use_asks_for_a_code(person, sim, monkeypatch):
    """A session signed in with a code: botocore renews role credentials itself
    from 15 minutes before they expire, except a role that needs MFA, whose
    refresher raises RefreshWithMFAUnsupportedError once the session enters the
    mandatory window (10 minutes before).  The session then needs a code."""
    from smtop.aws.signin import MfaCode

    mfa_role(person)
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in person.env.items():
        if name.startswith("AWS_") or name in ("HOME", "XDG_CACHE_HOME"):
            monkeypatch.setenv(name, value)
    async with AwsSession(profile="mfa", region=REGION, endpoint_url=sim.url, mfa_prompter=MfaCode("123456")) as aws:
        await aws.sign_in()
        sagemaker = await aws.client("sagemaker")
        with aws.errors("sagemaker", "ListEndpoints"):
            await sagemaker.list_endpoints()
        credentials = await aws._session.get_credentials()
        now = datetime.now(timezone.utc)
        expires = credentials._expiry_time
        credentials._time_fetcher = lambda: now + (expires - now) - timedelta(minutes=5)  # 5 minutes before the end
        with pytest.raises(MfaRequiredError) as raised, aws.errors("sagemaker", "ListEndpoints"):
            await sagemaker.list_endpoints()
        assert raised.value.serial == MFA_SERIAL and "new MFA code" in str(raised.value)
        assert aws.signed_out is raised.value
