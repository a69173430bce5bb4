"""StartLiveTail through the simulator over HTTP, as the service streams it.

The expected answers come from AWS's material: botocore's ``logs`` model
(StartLiveTail, StartLiveTailResponseStream, LiveTailSessionUpdate…) and the
API reference page "StartLiveTail" — sessionStart first, a sessionUpdate every
second (empty when nothing was ingested), at most 500 events an update with
``sampled`` set above that, SessionTimeoutException after three hours, at most
10 log groups given by ARN, stream filters only with one group.
"""

from __future__ import annotations

import threading
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from smtop.sim.live_tail import MAX_CONCURRENT_SESSIONS
from smtop.sim.process import spawn_sim
from tests.conftest import SIM_NOW
from tests.sim.conftest import WRITE_REGION

NOW_MS = SIM_NOW * 1000


def logs_client(url: str, region: str = WRITE_REGION, **config):
    return boto3.client(
        "logs",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # A local endpoint has no `stream-` host: botocore's documented switch for custom endpoints.
        config=Config(retries={"total_max_attempts": 1}, inject_host_prefix=False, **config),
    )


@pytest.fixture(scope="module")
def logs(sim):
    return logs_client(sim.url)


_groups = iter(range(10_000))


def new_group(logs, streams=("AllTraffic/i-1", "AllTraffic/i-2")) -> str:
    """A fresh group with ``streams``; returns its ARN."""
    name = f"/test/live-tail/{next(_groups)}"
    logs.create_log_group(logGroupName=name)
    for stream in streams:
        logs.create_log_stream(logGroupName=name, logStreamName=stream)
    return logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["logGroupArn"]


def put(logs, arn: str, stream: str, messages: list[str]) -> None:
    at = NOW_MS + 1000  # the simulator's clock started at SIM_NOW; moto refuses events far from it
    logs.put_log_events(
        logGroupName=arn.rsplit(":log-group:", 1)[1],
        logStreamName=stream,
        logEvents=[{"timestamp": at, "message": m} for m in messages],
    )


class Reader:
    """Reads a Live Tail response stream in a thread, noting when each event came."""

    def __init__(self, reply) -> None:
        self.stream = reply["responseStream"]
        self.events: list[tuple[float, str, dict]] = []
        self.error: Exception | None = None
        self.ended = False
        """The stream ended (the service closed the session, or close() did)."""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for item in self.stream:
                (kind, body), = item.items()
                self.events.append((time.monotonic(), kind, body))
        except Exception as error:  # noqa: BLE001 - the test inspects it
            self.error = error
        self.ended = True

    def updates(self) -> list[dict]:
        return [body for _, kind, body in self.events if kind == "sessionUpdate"]

    def messages(self) -> list[str]:
        return [e["message"] for u in self.updates() for e in u["sessionResults"]]

    def until(self, condition, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; events so far: {self.events[-3:]}, error {self.error!r}"
            time.sleep(0.05)

    def close(self) -> None:
        self.stream.close()
        self._thread.join(5)


def test_a_session_streams_what_is_ingested_after_it_starts(logs):
    arn = new_group(logs)
    put(logs, arn, "AllTraffic/i-1", ["before the session"])
    reader = Reader(logs.start_live_tail(logGroupIdentifiers=[arn]))
    try:
        reader.until(lambda: reader.events)
        (_, kind, start), = reader.events[:1]
        assert kind == "sessionStart"
        assert start["logGroupIdentifiers"] == [arn]
        assert start["sessionId"] and start["requestId"]
        reader.until(lambda: len(reader.updates()) >= 2)
        put(logs, arn, "AllTraffic/i-1", ["one", "two"])
        put(logs, arn, "AllTraffic/i-2", ["three"])
        reader.until(lambda: len(reader.messages()) == 3)
        reader.until(lambda: len(reader.updates()) >= 6)
    finally:
        reader.close()
    assert sorted(reader.messages()) == ["one", "three", "two"]  # not the event from before
    event = next(e for u in reader.updates() for e in u["sessionResults"] if e["message"] == "three")
    assert event["logStreamName"] == "AllTraffic/i-2"
    assert event["logGroupIdentifier"] == arn
    assert event["ingestionTime"] >= event["timestamp"] > 0
    # An update every second, empty when nothing new was ingested.  Each update is due a
    # second after the last one was due, so they never come faster; a loaded machine may
    # deliver one late (and the next one sooner), so the rate is checked over the run.
    times = [at for at, kind, _ in reader.events if kind == "sessionUpdate"]
    span, gaps = times[-1] - times[0], len(times) - 1
    assert gaps >= 5 and span >= gaps - 1.0, (span, gaps)
    assert span / gaps < 3.0, (span, gaps)  # still about one a second: none is held back for long
    assert any(u["sessionResults"] == [] for u in reader.updates())
    assert all(u["sessionMetadata"] == {"sampled": False} for u in reader.updates())


def test_the_stream_is_streamed_while_other_calls_are_answered(logs):
    arn = new_group(logs)
    readers = [Reader(logs_client(logs.meta.endpoint_url).start_live_tail(logGroupIdentifiers=[arn])) for _ in range(3)]
    try:
        # Updates arrive while each session is still open (it lasts three hours):
        # flushed as written, not held until the response ends.
        for reader in readers:
            reader.until(lambda r=reader: r.updates())
        # Three open streams do not hold the server up: other calls are answered
        # (a server that held them would leave these to the read timeout).
        quick = logs_client(logs.meta.endpoint_url, read_timeout=20, connect_timeout=5)
        for _ in range(5):
            assert quick.describe_log_groups(logGroupNamePrefix=arn.rsplit(":log-group:", 1)[1])["logGroups"]
        assert all(r.error is None and not r.ended for r in readers)
    finally:
        for reader in readers:
            reader.close()


def test_filter_pattern_and_stream_filters_apply(logs):
    arn = new_group(logs, streams=("AllTraffic/i-1", "AllTraffic/i-2", "Canary/i-3"))
    patterned = Reader(logs.start_live_tail(logGroupIdentifiers=[arn], logEventFilterPattern="?ERROR ?WARN"))
    by_name = Reader(logs_client(logs.meta.endpoint_url).start_live_tail(logGroupIdentifiers=[arn], logStreamNames=["Canary/i-3"]))
    by_prefix = Reader(logs_client(logs.meta.endpoint_url).start_live_tail(logGroupIdentifiers=[arn], logStreamNamePrefixes=["AllTraffic/"]))
    readers = (patterned, by_name, by_prefix)
    try:
        for reader in readers:
            reader.until(lambda r=reader: r.updates())
        put(logs, arn, "AllTraffic/i-1", ["INFO fine", "ERROR boom"])
        put(logs, arn, "Canary/i-3", ["WARN slow", "INFO canary"])
        patterned.until(lambda: len(patterned.messages()) == 2)
        by_name.until(lambda: len(by_name.messages()) == 2)
        by_prefix.until(lambda: len(by_prefix.messages()) == 2)
        time.sleep(1.2)  # one more update: nothing else may come
    finally:
        for reader in readers:
            reader.close()
    assert sorted(patterned.messages()) == ["ERROR boom", "WARN slow"]
    assert sorted(by_name.messages()) == ["INFO canary", "WARN slow"]
    assert sorted(by_prefix.messages()) == ["ERROR boom", "INFO fine"]
    start = by_prefix.events[0][2]
    assert start["logStreamNamePrefixes"] == ["AllTraffic/"]
    assert patterned.events[0][2]["logEventFilterPattern"] == "?ERROR ?WARN"


def test_more_than_500_events_in_a_second_are_sampled_to_500(logs):
    arn = new_group(logs)
    reader = Reader(logs.start_live_tail(logGroupIdentifiers=[arn]))
    try:
        reader.until(lambda: reader.updates())
        put(logs, arn, "AllTraffic/i-1", [f"line {i}" for i in range(1200)])
        reader.until(lambda: any(u["sessionResults"] for u in reader.updates()))
        reader.until(lambda: len(reader.updates()) >= 4)
    finally:
        reader.close()
    full = [u for u in reader.updates() if u["sessionResults"]]
    assert len(full) == 1
    assert len(full[0]["sessionResults"]) == 500
    assert full[0]["sessionMetadata"]["sampled"] is True
    assert len(set(reader.messages())) == 500
    assert all(u["sessionMetadata"]["sampled"] is False for u in reader.updates() if not u["sessionResults"])


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"logGroupIdentifiers": ["/test/live-tail/by-name"]}, "InvalidParameterException"),  # a name, not an ARN
        ({"logGroupIdentifiers": ["{arn}:*"]}, "InvalidParameterException"),
        ({"logGroupIdentifiers": ["{arn}"] * 11}, "InvalidParameterException"),
        ({"logGroupIdentifiers": ["{arn}"], "logStreamNames": ["a"], "logStreamNamePrefixes": ["b"]}, "InvalidParameterException"),
        ({"logGroupIdentifiers": ["{arn}", "{arn}"], "logStreamNames": ["a"]}, "InvalidParameterException"),
        ({"logGroupIdentifiers": ["{arn}"], "logEventFilterPattern": '{ $.level = "ERROR"'}, "InvalidParameterException"),
        ({"logGroupIdentifiers": ["{arn}-missing"]}, "ResourceNotFoundException"),
    ],
)
def test_requests_the_service_refuses(sim, request_, code):
    # Parameter validation off: the service, not botocore, must refuse 11 groups.
    logs = logs_client(sim.url, parameter_validation=False)
    arn = new_group(logs)
    request = {k: [v.format(arn=arn) for v in values] if isinstance(values, list) else values for k, values in request_.items()}
    with pytest.raises(ClientError) as error:
        logs.start_live_tail(**request)
    assert error.value.response["Error"]["Code"] == code
    # Refused at once, as an HTTP error answer: not a 200 stream that fails later.
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_account_has_at_most_15_sessions_open(sim):
    region = "eu-west-1"  # no other test's sessions
    logs = logs_client(sim.url, region, max_pool_connections=MAX_CONCURRENT_SESSIONS + 5)
    arn = new_group(logs)
    readers = [Reader(logs.start_live_tail(logGroupIdentifiers=[arn])) for _ in range(MAX_CONCURRENT_SESSIONS)]
    try:
        with pytest.raises(ClientError) as error:
            logs.start_live_tail(logGroupIdentifiers=[arn])
        assert error.value.response["Error"]["Code"] == "LimitExceededException"
        readers[0].close()
        # The service frees the session when it notices the closed stream (its next update).
        deadline = time.monotonic() + 5
        while True:
            try:
                readers.append(Reader(logs.start_live_tail(logGroupIdentifiers=[arn])))
                break
            except ClientError as refused:
                assert refused.response["Error"]["Code"] == "LimitExceededException"
                assert time.monotonic() < deadline, "a closed session kept counting"
                time.sleep(0.2)
    finally:
        for reader in readers:
            reader.close()


def test_denied_live_tail_is_an_error_answer(sim, logs):
    arn = new_group(logs)
    requests.post(f"{sim.url}/_smtop/faults", json={"kind": "deny", "service": "logs", "operation": "StartLiveTail"}, timeout=5)
    try:
        with pytest.raises(ClientError) as error:
            logs.start_live_tail(logGroupIdentifiers=[arn])
    finally:
        requests.delete(f"{sim.url}/_smtop/faults", timeout=5)
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"


def test_a_session_times_out_after_three_hours_in_the_stream():
    # 3,600 simulated seconds per second: the three hours pass in three.
    with spawn_sim(traffic=False, extra_args=["--no-fleet", "--speed", "3600"]) as fast:
        logs = logs_client(fast.url)
        arn = new_group(logs)
        began = time.monotonic()
        reader = Reader(logs.start_live_tail(logGroupIdentifiers=[arn]))
        try:
            reader.until(lambda: reader.error is not None)
        finally:
            reader.close()
        lasted = time.monotonic() - began
        stats = requests.get(f"{fast.url}/_smtop/live-tail", timeout=5).json()
    assert isinstance(reader.error, ClientError)
    assert reader.error.response["Error"]["Code"] == "SessionTimeoutException"
    assert lasted > 2.0, lasted  # three simulated hours, not less (and not three real ones: until's timeout)
    assert len(reader.updates()) >= 1
    assert stats["open"] == 0 and stats["started"] == 1
    assert 2.0 < stats["session_seconds"] <= lasted  # billed for as long as it was open, within what the test saw


def test_session_minutes_are_counted(sim, logs):
    arn = new_group(logs)
    requests.delete(f"{sim.url}/_smtop/live-tail", timeout=5)
    began = time.monotonic()
    reader = Reader(logs.start_live_tail(logGroupIdentifiers=[arn]))
    try:
        reader.until(lambda: len(reader.updates()) >= 2)
        stats = requests.get(f"{sim.url}/_smtop/live-tail", timeout=5).json()
        elapsed = time.monotonic() - began
    finally:
        reader.close()
    assert stats["started"] == 1
    assert stats["open"] >= 1
    # Two updates a second apart: at least that long open; at most as long as the test
    # watched, plus the last second of a session an earlier test closed (the service
    # frees it at its next update).
    assert 1.5 < stats["session_seconds"] <= elapsed + 1.0
