"""The two-stage start: the first frame has the header, the table, the metrics
and empty boxes; the side panel, the logs and the CloudTrail feed are mounted
just after.  Keys typed before that must reach them, in order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from smtop.cli import open_fleet
from smtop.config.settings import Settings
from smtop.ui.app import SmtopApp
from tests.ui.conftest import wait_for


def make_app(settings: Settings, clock) -> SmtopApp:
    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)


def within(app: SmtopApp, selector: str) -> bool:
    """The focused widget is the one matching ``selector`` or inside it."""
    target = app.main.query_one(selector)
    return app.focused is not None and target in app.focused.ancestors_with_self


@pytest.mark.parametrize(
    ("keys", "reached"),
    [
        (["l"], lambda app: app.main.has_class("-logs") and within(app, "#logs LogView")),
        (["i"], lambda app: app.main.query_one("#side").active == "side-insights" and within(app, "#insights")),
        (["A"], lambda app: app.main.query_one("#side").active == "side-alarms" and within(app, "#alarms")),
        (["c"], lambda app: within(app, "#trail-table")),
        # Letters that are commands elsewhere (c CloudTrail, a Ack, t) are the filter's text.
        (["slash", "c", "a", "t"], lambda app: within(app, "#filter") and app.main.query_one("#filter").value == "cat"),
    ],
    ids=["l", "i", "A", "c", "/cat"],
)
async def test_keys_typed_before_the_panels_are_mounted_reach_them(sim_settings, frozen_clock, keys, reached):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        # Start-up is under way (Ready not handled yet): the panels are placeholders.
        assert not app.main.panels_mounted
        assert not app.main.query("#logs") and len(app.main.query(".pending")) == 3
        await pilot.press(*keys)
        await wait_for(pilot, lambda: app.main.panels_mounted and reached(app))
        assert not app.main.query(".pending")


async def test_the_configured_ranges_and_the_first_data_reach_the_panels(sim, frozen_clock):
    settings = Settings(
        endpoint_url=sim.url,
        region="us-east-1",
        refresh=60.0,
        log_since=timedelta(hours=2, minutes=50),  # nearest preset: 3h, the 4th
        insights_range=timedelta(minutes=4),  # nearest preset: 5m, the 1st
    )
    app = make_app(settings, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        assert app.main.panels_mounted  # with the first data at the latest
        logs, insights = app.main.query_one("#logs"), app.main.query_one("#insights")
        assert (logs.since_index, insights.range_index) == (3, 0)
        # The first snapshot's selection drives them.
        first = app.main.query_one("EndpointTable").visible_names[0]
        await wait_for(pilot, lambda: logs.group is not None)
        assert first in logs.group
        assert app.main.query_one("#trail").endpoint == first
        await wait_for(pilot, lambda: app.main.trail is not None)  # the feed was started


async def test_quitting_while_the_panels_are_mounted_neither_hangs_nor_fails(sim_settings, frozen_clock):
    """Textual's test harness shuts the app down from its own task, whatever the
    app is doing: here, mounting the panels (as at the first data)."""
    app = make_app(sim_settings, frozen_clock)

    async def run() -> None:
        async with app.run_test(size=(140, 40)):
            assert not app.main.panels_mounted
            app.main._mount_panels()
            await asyncio.sleep(0)  # under way when the harness shuts the app down

    await asyncio.wait_for(run(), 20)
    assert app.return_code in (None, 0)