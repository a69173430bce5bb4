"""The console records a session against the simulator, then replays it offline:
the same rows and times show, and pause and seek move the replay clock."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from smtop.cli import build_parser, open_fleet
from smtop.clock import FrozenClock
from smtop.format import clock_time
from smtop.replay.player import ReplaySource, load_recording
from smtop.replay.recorder import Recorder, recorded
from smtop.config.settings import Settings
from smtop.ui.app import SmtopApp
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.status_bar import StatusBar
from tests.conftest import SIM_NOW
from tests.ui.conftest import aws_environment, wait_for  # noqa: F401  (autouse: no developer AWS config)

GAP = 300  # seconds of recorded time between the two refreshes


def shown_rows(app: SmtopApp) -> list[list[str]]:
    """The endpoint table's cells as the user reads them."""
    table = app.main.query_one(EndpointTable)
    return [[getattr(c, "plain", str(c)) for c in table.get_row_at(i)] for i in range(table.row_count)]


def header(app: SmtopApp) -> str:
    return app.main.query_one(StatusBar).render().plain


@pytest.fixture
async def recording(sim, tmp_path):
    """Record: first refresh at SIM_NOW, a second GAP seconds later; return the file and what was shown."""
    clock = FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc))
    settings = Settings(endpoint_url=sim.url, region="us-east-1", refresh=60.0)
    path = tmp_path / "incident.smtop.gz"
    recorder = Recorder(path, clock, refresh=settings.refresh, window=settings.window)
    app = SmtopApp(lambda: recorded(open_fleet(settings, clock), recorder), settings, clock=clock)
    shown = []
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None and app.main.alarms is not None)
        shown.append((app.main.snapshot.taken_at, shown_rows(app)))
        clock.advance(GAP)
        polls = app.main.polls
        await pilot.press("r")
        await wait_for(pilot, lambda: app.main.polls > polls)
        shown.append((app.main.snapshot.taken_at, shown_rows(app)))
    recorder.close()
    return path, shown, settings


async def test_replay_shows_what_was_recorded_and_seeks(recording):
    path, shown, settings = recording
    (first_at, first_rows), (second_at, second_rows) = shown
    assert first_rows and second_at - first_at == timedelta(seconds=GAP)
    source = ReplaySource(load_recording(path), speed=1)
    app = SmtopApp(lambda: nullcontext(source), replace(settings, read_only=True, refresh=1.0), clock=source.clock, replay=source)
    notices: list[str] = []
    async with app.run_test(size=(140, 40)) as pilot:
        app.notify = lambda message, **kw: notices.append(str(message))
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        assert shown_rows(app) == first_rows
        assert clock_time(first_at) in header(app) and "REPLAY ▶ ×1" in header(app)
        assert app.clock.now() - first_at < timedelta(seconds=5)  # the app's clock is the replay's

        await pilot.press("space")
        paused_at = source.clock.position()
        await pilot.pause(1.2)
        assert source.clock.position() == paused_at and "REPLAY ⏸" in header(app)

        await pilot.press("right_square_bracket")  # +5 min: the second refresh
        await wait_for(pilot, lambda: app.main.snapshot.taken_at == second_at)
        assert shown_rows(app) == second_rows
        assert clock_time(second_at) in header(app) and "100%" in header(app)

        await pilot.press("left")  # -30 s: still after the first refresh, before the second
        await wait_for(pilot, lambda: app.main.snapshot.taken_at == first_at)
        assert source.clock.position() == second_at.timestamp() - 30
        await pilot.press("left_square_bracket")
        assert source.clock.position() == first_at.timestamp()  # not before the start

        await pilot.press("n")  # mutating: refused as under --read-only
        assert any("read-only" in n for n in notices)
        await pilot.press("P")  # no switching: one recording
        assert app.screen is app.main


def test_speed_must_be_sane() -> None:
    parser = build_parser()
    assert parser.parse_args(["--replay", "x", "--speed", "10"]).speed == 10
    with pytest.raises(SystemExit):
        parser.parse_args(["--replay", "x", "--speed", "0"])
