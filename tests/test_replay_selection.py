"""--record keeps the selected endpoint's panel-only metrics, fetched at selection time.

The fleet refresh asks InvocationsPerInstance and OverheadLatency for the
selected endpoint only; a recording must hold what the console then showed,
so a replay shows the same panel.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from smtop.aws.console import ConsoleData
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.replay.player import ReplaySource, load_recording
from smtop.replay.recorder import Recorder, RecordingSource
from tests.conftest import SIM_NOW, isolated_aws_env
from tests.test_replay import FakeWall


async def test_a_replay_shows_the_selected_endpoints_panel_metrics(sim, monkeypatch, tmp_path):
    isolated_aws_env(monkeypatch, tmp_path)
    clock = FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc))
    path = tmp_path / "session.smtop.gz"
    recorder = Recorder(path, clock, refresh=60.0, window=timedelta(hours=3))
    async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1) as aws:
        source = RecordingSource(ConsoleData(aws, clock), recorder)
        first = await source.refresh()
        clock.advance(5)
        live = await source.select("doc-summarizer")
    recorder.close()
    assert first.metrics_for("doc-summarizer").get("OverheadLatency") is None  # nothing selected yet
    overhead = live.metrics_for("doc-summarizer").get("OverheadLatency")
    assert overhead is not None and len(overhead) >= 170

    wall = FakeWall()
    replayed = ReplaySource(load_recording(path), wall=wall)
    assert (await replayed.refresh()).metrics_for("doc-summarizer").get("OverheadLatency") is None
    wall.now += 5
    assert (await replayed.select("doc-summarizer")).metrics_for("doc-summarizer") == live.metrics_for("doc-summarizer")
