"""The simulator as a process: readiness, determinism, live traffic, clean exits."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest

from smtop.sim.process import SimStartError, spawn_sim
from tests.conftest import SIM_NOW, SIM_SEED

pytestmark = pytest.mark.slow


def raw_get_metric_data(url: str, body: dict) -> bytes:
    """POST GetMetricData as awsJson 1.0 (what botocore speaks to CloudWatch) and return the raw body."""
    request = urllib.request.Request(
        url + "/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.GetMetricData",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261118/us-east-1/monitoring/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def fleet_request(start: float, end: float) -> dict:
    queries = []
    for endpoint, variant in (("llm-chat-canary", "AllTraffic"), ("recsys-ranker", "variant-b")):
        for metric, stat in (("Invocations", "Sum"), ("ModelLatency", "p99"), ("ModelLatency", "Average"), ("Invocation5XXErrors", "Sum")):
            dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
            queries.append(
                {
                    "Id": f"q{len(queries)}",
                    "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": dims}, "Period": 60, "Stat": stat},
                }
            )
    return {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}


def test_same_seed_and_now_give_byte_identical_answers(sim):
    body = fleet_request(SIM_NOW - 3 * 3600, SIM_NOW)
    expected = raw_get_metric_data(sim.url, body)
    assert len(json.loads(expected)["MetricDataResults"][0]["Values"]) == 180
    with spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW) as twin:
        assert raw_get_metric_data(twin.url, body) == expected
        assert twin.stop() == 0
    with spawn_sim(traffic=False, seed=SIM_SEED + 1, now=SIM_NOW) as other:
        assert raw_get_metric_data(other.url, body) != expected


def test_live_traffic_moves_within_seconds():
    with spawn_sim(traffic=True, seed=3) as live:
        now = time.time()
        body = fleet_request(now - 300, now + 120)
        first = raw_get_metric_data(live.url, body)
        deadline = time.monotonic() + 10
        while raw_get_metric_data(live.url, body) == first:
            assert time.monotonic() < deadline, "no new datapoints within 10 s"
            time.sleep(0.5)
        # The parent going away (its end of stdin closing) stops the simulator cleanly.
        live.popen.stdin.close()
        assert live.popen.wait(10) == 0
        assert "Traceback" not in live.stderr_tail(50)


def test_ready_line_and_clean_sigterm(sim):
    assert sim.url.startswith("http://127.0.0.1:")
    assert sim.running
    with spawn_sim(traffic=True, seed=1, extra_args=["--no-fleet"]) as bare:
        assert bare.stop() == 0
        assert "Traceback" not in bare.stderr_tail(50)


def test_a_child_that_dies_reports_its_stderr():
    with pytest.raises(SimStartError) as raised:
        spawn_sim(extra_args=["--no-such-flag"])
    assert "exited with code 2" in str(raised.value)
    assert "unrecognized arguments: --no-such-flag" in str(raised.value)


def test_a_port_in_use_is_an_error_not_a_hang():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SimStartError) as raised:
            spawn_sim(port=taken.getsockname()[1], extra_args=["--no-fleet"], timeout=15)
    assert "exited with code 1" in str(raised.value)
    assert "in use" in str(raised.value)
