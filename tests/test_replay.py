"""--record / --replay: what the console received comes back the same, at the right time.

Recorded through the real path (ConsoleData over aiobotocore against the
simulator), read back through ReplaySource; the models are frozen
dataclasses, so "the same" is plain equality of every field.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone

import pytest

from smtop.aws.console import ConsoleData
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.errors import ReadOnlyError
from smtop.models.insights import QueryRequest
from smtop.replay import recorder as replay_recorder
from smtop.replay import codec
from smtop.replay.codec import RecordingError
from smtop.replay.player import ReplayClock, ReplaySource, load_recording
from smtop.replay.recorder import Recorder, RecordingSource
from tests.conftest import SIM_NOW

START = datetime.fromtimestamp(SIM_NOW, timezone.utc)


class FakeWall:
    """The replay's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


async def record_session(sim, path, clock: FrozenClock) -> dict:
    """Record three refreshes a minute apart plus one of everything else; return what was received."""
    got: dict = {"snapshots": [], "tail": []}
    recorder = Recorder(path, clock, refresh=60.0, window=timedelta(hours=3))
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1) as aws:
        source = RecordingSource(ConsoleData(aws, clock), recorder)
        got["whoami"] = (clock.now(), await source.whoami())
        for _ in range(3):
            got["snapshots"].append((clock.now(), await source.refresh()))
            clock.advance(60)
        got["trail"] = (clock.now(), await source.trail_events())
        got["alarms"] = (clock.now(), await source.alarms([e.name for e in got["snapshots"][-1][1].endpoints]))
        group = got["snapshots"][0][1].endpoints[0].log_group
        tail = source.tail(group, filter_pattern=None, since=timedelta(minutes=30))
        got["tail"].append((clock.now(), await anext(tail)))
        await tail.aclose()
        request = QueryRequest("fields @timestamp, @message | limit 5", (group,), START - timedelta(hours=1), START)
        progress = [p async for p in source.run_query(request)]
        got["query"] = (clock.now(), request, progress[-1])
        got["definitions"] = (clock.now(), await source.query_definitions())
    recorder.close()
    return got


async def test_a_recorded_session_replays_the_same_data(sim, aws_env, tmp_path):
    path = tmp_path / "session.smtop.gz"
    got = await record_session(sim, path, FrozenClock(START))
    recording = load_recording(path)
    assert recording.header["format"] == "smtop-recording" and recording.header["version"] == 1
    wall = FakeWall()
    replay = ReplaySource(recording, wall=wall)
    assert replay.clock.now() == got["snapshots"][0][0]  # the replay starts at the first snapshot
    assert replay.region == "us-east-1"

    for at, snapshot in got["snapshots"]:
        replay.clock.seek((at - replay.clock.now()).total_seconds())
        assert await replay.refresh() == snapshot
        assert sum(len(s) for m in snapshot.metrics.values() for s in m.series.values()) > 1000  # real metric history
    # Between two recorded refreshes the replay shows the earlier one.
    replay.clock.seek(-30)  # the last one was taken 120 s in: 90 s is between the second and third
    assert await replay.refresh() == got["snapshots"][1][1]

    end = replay.clock.end
    replay.clock.seek(10_000)
    assert replay.clock.position() == end
    assert await replay.trail_events() == got["trail"][1] and got["trail"][1].events
    assert await replay.alarms([]) == got["alarms"][1] and got["alarms"][1].alarms
    assert (await replay.whoami()) == got["whoami"][1]
    _, request, result = got["query"]
    assert result.status == "Complete" and result.rows
    assert [p async for p in replay.run_query(request)] == [result]
    other = QueryRequest("stats count(*)", request.log_groups, request.start, request.end)
    assert [p.status async for p in replay.run_query(other)] == ["Failed"]
    assert await replay.query_definitions() == got["definitions"][1]

    first_update = got["tail"][0][1]
    assert first_update.events
    replayed = replay.tail(first_update.group, since=timedelta(minutes=30))
    fill = await anext(replayed)
    await replayed.aclose()
    assert [e.event_id for e in fill.events] == [e.event_id for e in first_update.events]
    assert fill.events == first_update.events

    # A replay cannot change AWS.
    alarm = got["alarms"][1].alarms[0]
    for call in (replay.put_alarm({"AlarmName": "x"}), replay.acknowledge(alarm, timedelta(hours=1), "n"), replay.unacknowledge(alarm)):
        with pytest.raises(ReadOnlyError, match="replay"):
            await call


def test_replay_clock_speed_pause_and_seek() -> None:
    wall = FakeWall()
    clock = ReplayClock(1000.0, 2000.0, speed=4, wall=wall)
    wall.now += 10
    assert clock.position() == 1040.0  # 10 wall seconds at ×4
    clock.toggle_pause()
    wall.now += 50
    assert clock.position() == 1040.0 and clock.paused
    clock.seek(300)
    assert clock.position() == 1340.0  # seeking while paused moves, and stays paused
    clock.toggle_pause()
    wall.now += 5
    assert clock.position() == 1360.0
    clock.seek(-5000)
    assert clock.position() == 1000.0  # never before the start
    wall.now += 1000
    assert clock.position() == 2000.0  # and it stops at the end
    assert clock.now() == datetime.fromtimestamp(2000.0, timezone.utc)


async def test_keyframes_and_deltas_rebuild_every_snapshot(sim, aws_env, tmp_path, monkeypatch):
    """More snapshots than a keyframe interval, read back in and out of order."""
    monkeypatch.setattr(replay_recorder, "KEYFRAME_EVERY", 6)  # the real 60 only costs the test time
    KEYFRAME_EVERY = replay_recorder.KEYFRAME_EVERY
    path = tmp_path / "long.smtop.gz"
    clock = FrozenClock(START - timedelta(minutes=KEYFRAME_EVERY + 10))
    recorder = Recorder(path, clock, refresh=60.0, window=timedelta(hours=3))
    snapshots = []
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1) as aws:
        source = RecordingSource(ConsoleData(aws, clock), recorder)
        for _ in range(KEYFRAME_EVERY + 5):
            snapshots.append(await source.refresh())
            clock.advance(60)
    recorder.close()
    recording = load_recording(path)
    data = [r["data"] for r in recording.records["snapshot"]]
    assert ["keyframe" in d for d in data] == [i % KEYFRAME_EVERY == 0 for i in range(len(data))]
    for index in (len(snapshots) - 1, 3, KEYFRAME_EVERY + 2, KEYFRAME_EVERY, KEYFRAME_EVERY - 1, 0, 1, 2):
        assert recording.snapshot(index) == snapshots[index], index
    # Compact: the deltas are a small part of a keyframe.
    sizes = [len(json.dumps(d)) for d in data]
    assert max(sizes[1:KEYFRAME_EVERY]) * 10 < sizes[0]


def test_files_that_are_not_recordings_are_refused(tmp_path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("hello")
    with pytest.raises(RecordingError, match="not an smtop recording"):
        load_recording(plain)
    newer = tmp_path / "newer.gz"
    with gzip.open(newer, "wt") as f:
        f.write(json.dumps({"format": "smtop-recording", "version": 99, "smtop": "9.0"}) + "\n")
    with pytest.raises(RecordingError, match="version 99"):
        load_recording(newer)
    with pytest.raises(RecordingError, match="cannot read"):
        load_recording(tmp_path / "missing.gz")


async def test_a_recording_cut_short_keeps_what_was_flushed(sim, aws_env, tmp_path):
    path = tmp_path / "cut.smtop.gz"
    await record_session(sim, path, FrozenClock(START))
    whole = path.read_bytes()
    complete = load_recording(path)
    path.write_bytes(whole[: int(len(whole) * 0.9)])  # smtop killed mid-write
    recording = load_recording(path)
    assert recording.truncated and not complete.truncated
    # Every refresh is a flush point: all three snapshots survive, later records do not.
    assert len(recording.records["snapshot"]) == 3
    assert sum(map(len, recording.records.values())) < sum(map(len, complete.records.values()))
    assert recording.snapshot(2) == complete.snapshot(2)


def test_an_endpoint_marked_stale_keeps_its_mark_through_a_recording() -> None:
    from smtop.models import Endpoint, StaleDescription, Variant

    old = Endpoint("a", "Updating", variants=(Variant("v", "ml.m5.large", 1, 2, 1.0),),
                   stale=StaleDescription("AWS throttled smtop.", "DescribeEndpoint", START - timedelta(minutes=5)))
    never = Endpoint("b", "InService", stale=StaleDescription("Its turn had not come."))
    for endpoint in (old, never, Endpoint("c", "InService")):
        written = json.loads(json.dumps(codec.enc_endpoint(endpoint)))
        assert codec.dec_endpoint(written) == endpoint
    assert "stale" not in codec.enc_endpoint(Endpoint("c", "InService"))  # recordings of described fleets are unchanged
