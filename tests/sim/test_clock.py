"""The simulator's clock as its clients see it: never behind the wall clock.

The seeders hold the clock at moments in the past while they create the fleet,
its alarms and the people's past calls.  AWS's reference for a client is the
wall clock: botocore refuses credentials whose Expiration has passed
(``refreshed credentials are still expired``), and CloudTrail refuses a
LookupEvents StartTime later than its "now" (``InvalidTimeRangeException``).
So a hold reaches only the seeder holding it, and every other client, at any
moment of the simulator's life, is served a time not behind the wall clock.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import boto3
from botocore.config import Config

from smtop.sim.clock import HeldClockScope, SimClock
from smtop.sim.fleet import SEEDER_KEY
from smtop.sim.process import start_sim

DAY = 86400.0


def _wall() -> datetime:
    return datetime.now(timezone.utc)


def _clients(url: str, retries: int = 1):
    kw = dict(
        endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": retries, "mode": "standard"}),
    )
    return boto3.client("sts", **kw), boto3.client("cloudtrail", **kw)


def test_a_hold_is_seen_by_the_holding_thread_only():
    clock = SimClock()
    seen: list[float] = []
    with clock.held(time.time() - 3 * DAY):
        held = clock.time()
        other = threading.Thread(target=lambda: seen.append(clock.time()))
        other.start()
        other.join()
    assert held < time.time() - 3 * DAY + 1
    assert seen[0] >= time.time() - 1
    assert clock.time() >= time.time() - 1


def test_a_hold_for_a_key_serves_only_that_keys_requests():
    clock = SimClock()
    held_at = time.time() - 3 * DAY

    def app(environ, start_response):  # what moto does: stamp with the clock of this thread
        start_response("200 OK", [])
        return [repr(clock.time()).encode()]

    scope = HeldClockScope(app, clock)

    def served(key: str) -> float:
        environ = {
            "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={key}/20261206/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0",
            "wsgi.input": io.BytesIO(b""),
        }
        return float(b"".join(scope(environ, lambda status, headers: None)))

    with clock.held_for(SEEDER_KEY, held_at):
        assert served(SEEDER_KEY) == held_at
        assert served("AKIASOMEONEELSE00001") >= time.time() - 1
    assert served(SEEDER_KEY) >= time.time() - 1


def test_clients_are_never_served_a_past_time_while_the_simulator_seeds():
    """From the moment the simulator listens, through its seeding, to after it: STS
    AssumeRole's credentials expire in the future and LookupEvents accepts
    StartTime = now - 1 h (both against the wall clock)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = start_sim(port=port, traffic=True)
    try:
        url = f"http://127.0.0.1:{port}"
        while process.running:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.01)
        sts, cloudtrail = _clients(url)
        rounds_while_seeding = lookups = 0
        next_lookup = 0.0
        deadline = time.monotonic() + 60
        finished_at: float | None = None
        # Until the "listening" line (printed after seeding), and a second beyond it.
        while finished_at is None or time.monotonic() < finished_at + 1.0:
            assert time.monotonic() < deadline, "the simulator did not get ready"
            seeding = process.url is None
            credentials = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/probe", RoleSessionName="probe")["Credentials"]
            assert credentials["Expiration"] > _wall(), "STS issued credentials that had already expired"
            if time.monotonic() >= next_lookup:  # LookupEvents: 2 per second per account and region
                cloudtrail.lookup_events(StartTime=_wall() - timedelta(hours=1), MaxResults=1)
                lookups += 1
                next_lookup = time.monotonic() + 0.55
            rounds_while_seeding += seeding
            if not seeding and finished_at is None:
                finished_at = time.monotonic()
        assert rounds_while_seeding >= 5, "the calls must overlap the seeding to prove anything"
        assert lookups >= 2
    finally:
        process.stop()


def test_a_simulator_pinned_in_the_past_issues_credentials_live_now(sim):
    """``--now`` puts the session simulator's history weeks back; what a client checks
    against its own clock still is not behind it."""
    assert sim.now < time.time() - DAY  # the fixture's clock really is in the past
    sts, cloudtrail = _clients(sim.url, retries=5)
    credentials = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/probe", RoleSessionName="probe")["Credentials"]
    assert _wall() + timedelta(minutes=59) < credentials["Expiration"] <= _wall() + timedelta(hours=1, seconds=5)
    answer = cloudtrail.lookup_events(StartTime=_wall() - timedelta(hours=1))
    assert answer["Events"] == []  # the pinned history ended weeks ago
    # The history itself stays where --now put it (alice's calls, all in the backfill).
    recent = cloudtrail.lookup_events(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice"}],
        StartTime=datetime.fromtimestamp(sim.now - 3 * 3600, timezone.utc), MaxResults=5,
    )
    assert recent["Events"] and all(e["EventTime"].timestamp() <= sim.now for e in recent["Events"])
