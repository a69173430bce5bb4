"""The command line as a user meets it: real processes, real servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer


def run_smtop(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smtop", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    """An environment with no AWS configuration at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    empty = tmp_path / "empty"
    empty.write_text("")
    env.update(AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty), AWS_EC2_METADATA_DISABLED="true")
    return env


def assert_one_clear_line(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("smtop: ")
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]


def test_version_and_help():
    assert run_smtop("--version").stdout.startswith("smtop ")
    help_text = run_smtop("--help").stdout
    for flag in ("--demo", "--batch", "--json", "--read-only", "--refresh", "--endpoints", "--endpoint-url", "--profile", "--region"):
        assert flag in help_text


def test_invalid_flag_is_one_line_and_exit_2():
    result = run_smtop("--no-such-flag")
    assert result.returncode == 2
    assert_one_clear_line(result, "--no-such-flag", "smtop --help")


def test_invalid_refresh_value():
    result = run_smtop("--refresh", "soon")
    assert result.returncode == 2
    assert_one_clear_line(result, "soon")


def test_unknown_profile(clean_env):
    result = run_smtop("--batch", "--profile", "does-not-exist", "--region", "us-east-1", env=clean_env)
    assert_one_clear_line(result, "does-not-exist")


def test_no_region(clean_env):
    clean_env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    result = run_smtop("--batch", env=clean_env)
    assert_one_clear_line(result, "region")


def test_no_credentials(clean_env):
    result = run_smtop("--batch", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", env=clean_env)
    assert_one_clear_line(result, "credentials")


def test_unreachable_endpoint_url(clean_env):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clean_env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    result = run_smtop("--batch", "--region", "us-east-1", "--endpoint-url", f"http://127.0.0.1:{port}", env=clean_env)
    assert_one_clear_line(result, f"127.0.0.1:{port}")


# moto keeps its state per process, shared by every server in it: a region of
# its own keeps other tests' endpoints out of this one.
SEEDED_REGION = "ap-southeast-2"


@pytest.fixture
def seeded_moto():
    """A plain moto server seeded by 'someone else' with boto3."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    kw = dict(endpoint_url=url, region_name=SEEDED_REGION, aws_access_key_id="x", aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}))
    sm = boto3.client("sagemaker", **kw)
    cw = boto3.client("cloudwatch", **kw)
    sm.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/sm", PrimaryContainer={"Image": "img"})
    sm.create_endpoint_config(
        EndpointConfigName="cfg",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 2, "InstanceType": "ml.m5.xlarge"}],
    )
    sm.create_endpoint(EndpointName="their-endpoint", EndpointConfigName="cfg")
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=2)
    dims = [{"Name": "EndpointName", "Value": "their-endpoint"}, {"Name": "VariantName", "Value": "AllTraffic"}]
    cw.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": now, "Value": 1234.0},
            {"MetricName": "Invocation5XXErrors", "Dimensions": dims, "Timestamp": now, "Value": 12.0},
            {"MetricName": "ModelLatency", "Dimensions": dims, "Timestamp": now, "Value": 41000.0},
        ],
    )
    cw.put_metric_data(
        Namespace="/aws/sagemaker/Endpoints",
        MetricData=[{"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": now, "Value": 35.5}],
    )
    yield url
    server.stop()


def test_batch_json_shows_exactly_what_someone_else_put(seeded_moto, clean_env):
    clean_env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    result = run_smtop("--batch", "--json", "--region", SEEDED_REGION, "--endpoint-url", seeded_moto, env=clean_env)
    assert result.returncode == 0, result.stderr
    snapshot = json.loads(result.stdout.splitlines()[0])
    (endpoint,) = snapshot["endpoints"]
    assert endpoint["name"] == "their-endpoint"
    assert endpoint["instances"] == 2
    assert endpoint["variants"][0]["instance_type"] == "ml.m5.xlarge"
    latest = endpoint["latest"]
    assert latest["Invocations"]["Sum"] == 1234.0
    assert latest["Invocation5XXErrors"]["Sum"] == 12.0
    assert latest["ModelLatency"]["Average"] == 41000.0
    assert latest["ModelLatency"]["unit"] == "Microseconds"
    assert latest["CPUUtilization"]["Average"] == 35.5
    summary = endpoint["summary"]
    assert summary["invocations_per_minute"] == 1234.0
    assert summary["latency_avg_ms"] == 41.0
    assert summary["error_5xx_pct"] == pytest.approx(100 * 12 / 1234)


def test_batch_text_twice(seeded_moto, clean_env):
    clean_env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    result = run_smtop("-b", "-n", "2", "--refresh", "1", "--region", SEEDED_REGION, "--endpoint-url", seeded_moto, env=clean_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("their-endpoint") == 2
    assert result.stdout.count("ENDPOINT") == 2


# -- batch mode: firing alarms and CloudTrail, each section failing on its own ----------------

HOSTILE = "\x1b]0;pwned\x07 [bold red]x[/bold red] \u202eevil"
MARKUP_USER = "[bold]mallory[@click=app.quit]"


@pytest.fixture(scope="module")
def wall_sim():
    """A simulator on the wall clock (batch mode reads "now" from it), with one endpoint,
    one firing alarm and one failed call in its trail, all carrying hostile text."""
    from smtop.sim.process import spawn_sim

    process = spawn_sim(traffic=False, seed=7, extra_args=["--no-fleet"])
    kw = dict(endpoint_url=process.url, region_name="us-east-1", aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}))
    sm = boto3.client("sagemaker", aws_access_key_id="x", **kw)
    sm.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/sm", PrimaryContainer={"Image": "img"})
    sm.create_endpoint_config(
        EndpointConfigName="cfg",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )
    sm.create_endpoint(EndpointName="batch-endpoint", EndpointConfigName="cfg")
    cw = boto3.client("cloudwatch", aws_access_key_id="x", **kw)
    cw.put_metric_alarm(
        AlarmName=f"alarm {HOSTILE}", Namespace="AWS/SageMaker", MetricName="ModelLatency", Statistic="Average",
        Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "EndpointName", "Value": "batch-endpoint"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        # The simulator evaluates alarms every (wall-clock) minute: with no data, a missing
        # datapoint must keep it in ALARM, or a minute boundary mid-test would clear it.
        TreatMissingData="breaching",
    )
    # A composite over it (the alarm that pages), before it fires: composites follow their children.
    cw.put_composite_alarm(AlarmName=f"pages {HOSTILE}", AlarmRule=f'ALARM("alarm {HOSTILE}") AND NOT FALSE')
    cw.set_alarm_state(AlarmName=f"alarm {HOSTILE}", StateValue="ALARM", StateReason=f"reason {HOSTILE}")
    with pytest.raises(Exception):
        boto3.client("sagemaker", aws_access_key_id=MARKUP_USER, **kw).delete_endpoint(EndpointName=f"gone {HOSTILE}")
    yield process
    process.stop()


def assert_inert(text: str) -> None:
    for bad in ("\x1b", "\x07", "\u202e", "\r"):
        assert bad not in text, repr(bad)


def test_batch_prints_firing_alarms_and_cloudtrail_and_each_fails_on_its_own(wall_sim, clean_env):
    from smtop.format import printable

    clean_env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    args = ("--batch", "--region", "us-east-1", "--endpoint-url", wall_sim.url)
    result = run_smtop(*args, env=clean_env)
    assert result.returncode == 0, result.stderr
    assert_inert(result.stdout + result.stderr)
    out = result.stdout
    assert "batch-endpoint" in out and "FIRING ALARMS (2)" in out
    assert printable(f"alarm {HOSTILE}") in out and printable(f"reason {HOSTILE}") in out
    assert f"{printable(f'pages {HOSTILE}')} · batch-endpoint" in out
    rule = f'ALARM("alarm {HOSTILE}") AND NOT FALSE'
    assert f"rule: {printable(rule)}" in out
    trail = out[out.index("CLOUDTRAIL"):]
    assert "DeleteEndpoint" in trail and MARKUP_USER in trail and "ValidationException" in trail
    assert printable(f"gone {HOSTILE}") in trail

    # No cloudtrail:LookupEvents: the endpoints and the alarms are still there, the section says why.
    wall_sim.inject("deny", "cloudtrail", "LookupEvents")
    try:
        result = run_smtop(*args, "--json", env=clean_env)
    finally:
        wall_sim.clear_faults()
    assert result.returncode == 1
    assert_inert(result.stdout + result.stderr)
    snapshot = json.loads(result.stdout.splitlines()[0])
    assert [e["name"] for e in snapshot["endpoints"]] == ["batch-endpoint"]
    composite, metric = snapshot["alarms"]["firing"]
    assert (metric["name"], metric["type"], metric["reason"], metric["endpoint"]) == (f"alarm {HOSTILE}", "metric", f"reason {HOSTILE}", "batch-endpoint")
    assert (composite["name"], composite["type"], composite["endpoints"]) == (f"pages {HOSTILE}", "composite", ["batch-endpoint"])
    assert composite["children_firing"] == [f"alarm {HOSTILE}"] and composite["rule"] == f'ALARM("alarm {HOSTILE}") AND NOT FALSE'
    assert snapshot["alarms"]["error"] is None
    assert snapshot["cloudtrail"]["events"] == [] and "cloudtrail:LookupEvents" in snapshot["cloudtrail"]["error"]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smtop: cloudtrail: ") and "cloudtrail:LookupEvents" in lines[0]


def test_batch_prints_an_endpoint_it_could_not_describe_marked_and_says_why(wall_sim, clean_env):
    clean_env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    args = ("--batch", "--region", "us-east-1", "--endpoint-url", wall_sim.url)
    wall_sim.inject("deny", "sagemaker", "DescribeEndpoint")
    try:
        text = run_smtop(*args, env=clean_env)
        as_json = run_smtop(*args, "--json", env=clean_env)
    finally:
        wall_sim.clear_faults()
    for result in (text, as_json):
        assert result.returncode == 1
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("smtop: endpoints: 1 of 1 endpoints could not be described")
    row = next(line for line in text.stdout.splitlines() if line.startswith("batch-endpoint"))
    assert row.split()[1:3] == ["!InService", "—"]  # ListEndpoints' status, marked before it as in the table; no instance count known
    assert "! Access denied while calling sagemaker DescribeEndpoint" in text.stdout
    assert "sagemaker:DescribeEndpoint" in text.stdout and "batch-endpoint (never described)" in text.stdout
    assert "FIRING ALARMS (2)" in text.stdout  # the other sections are still read (the metric alarm and its composite)
    (endpoint,) = json.loads(as_json.stdout.splitlines()[0])["endpoints"]
    assert (endpoint["name"], endpoint["status"], endpoint["variants"], endpoint["instances"]) == ("batch-endpoint", "InService", [], None)
    stale = endpoint["stale_description"]
    assert stale["operation"] == "DescribeEndpoint" and stale["described_at"] is None
    assert "sagemaker:DescribeEndpoint" in stale["error"]


@pytest.fixture
def hostile_aws():
    """An "AWS" that answers every call with an error whose message is hostile text."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"__type": "ValidationException", "message": f"bad {HOSTILE}"}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_batch_failure_text_from_aws_is_printed_inert(hostile_aws, clean_env):
    clean_env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    result = run_smtop("--batch", "--region", "us-east-1", "--endpoint-url", hostile_aws, env=clean_env)
    assert_one_clear_line(result, "ValidationException", "[bold red]x[/bold red]")
    assert_inert(result.stderr)
    assert "bad \\x1b]0;pwned\\x07" in result.stderr
