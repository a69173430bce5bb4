"""What the screens look like, with the simulator's fixed fleet and a frozen clock.

Regenerate after an intended visual change with
`pytest tests/ui/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

import pytest

from smtop.cli import open_fleet
from smtop.ui.app import SmtopApp
from smtop.ui.widgets.endpoint_detail import EndpointDetail
from smtop.ui.widgets.log_panel import LogPanel
from smtop.ui.widgets.status_bar import StatusBar
from smtop.ui.widgets.trail_feed import TrailFeed
from tests.ui.conftest import wait_for
from tests.ui.test_logs_panel import filtered_count


@pytest.fixture(autouse=True)
def notices_stay(monkeypatch):
    """Notices fade after seconds of wall time: keep them for a stable picture."""
    monkeypatch.setattr(LogPanel, "NOTICE_SECONDS", 3600.0)


def console(settings, clock) -> SmtopApp:
    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)


async def settled(sim, app: SmtopApp, pilot) -> None:
    """Everything the picture shows has arrived: metrics, the side panel's detail,
    the alarm count, the CloudTrail feed for the selection, and the log panel's
    tail settled: every event of its window shown (the count the service itself
    gives), on Live Tail where the panel is on screen, polling where it is not.
    Each of these comes by its own call; on a loaded machine any may come last."""
    await wait_for(pilot, lambda: app.main.snapshot is not None)
    bar = app.main.query_one(StatusBar)
    await wait_for(pilot, lambda: bar.firing is not None)
    # The selected endpoint's panel-only metrics arrive by their own call.
    await wait_for(pilot, lambda: app.main.selected and app.main.loading_selected is None)
    detail = app.main.query_one(EndpointDetail)
    await wait_for(pilot, lambda: getattr(detail._shown, "name", None) == app.main.selected)
    feed = app.main.query_one(TrailFeed)
    await wait_for(pilot, lambda: feed.endpoint == app.main.selected and feed.shown, timeout=20)
    panel = app.main.query_one(LogPanel)
    # Settled even where the panel is hidden (80x24): it tails all the same.
    await wait_for(pilot, lambda: app.main.selected and panel.group == f"/aws/sagemaker/Endpoints/{app.main.selected}")
    expected = filtered_count(sim, panel.group, "", panel.since)
    await wait_for(pilot, lambda: panel.received == expected and tail_settled(panel))
    await pilot.pause()


def tail_settled(panel: LogPanel) -> bool:
    if panel.is_on_screen:
        return panel.mode == "live" and panel.last_notice == "Following with Live Tail."
    return panel.mode == "poll" and "polling every" in (panel.last_notice or "")


def test_main_screen(snap_compare, sim, sim_settings, frozen_clock):
    app = console(sim_settings, frozen_clock)
    assert snap_compare(app, terminal_size=(140, 40), run_before=lambda pilot: settled(sim, app, pilot))


def test_main_screen_80x24(snap_compare, sim, sim_settings, frozen_clock):
    app = console(sim_settings, frozen_clock)

    async def canary_selected(pilot):
        await settled(sim, app, pilot)
        await pilot.press("down", "down", "down", "down")  # llm-chat-canary, sorted by name
        await settled(sim, app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=canary_selected)


def test_logs_at_80x24(snap_compare, sim, sim_settings, frozen_clock):
    """Short terminals: `l` gives the logs the metrics' place."""
    app = console(sim_settings, frozen_clock)

    async def logs_shown(pilot):
        await settled(sim, app, pilot)
        await pilot.press("l")
        await settled(sim, app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=logs_shown)


def test_metric_chart(snap_compare, sim, sim_settings, frozen_clock):
    app = console(sim_settings, frozen_clock)

    async def open_latency_chart(pilot):
        await settled(sim, app, pilot)
        await pilot.press("down", "down", "down", "down")
        await settled(sim, app, pilot)  # the feed's deployments mark the chart
        await pilot.press("enter", "down", "down", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=open_latency_chart)


def test_acknowledge_dialog_80x24(snap_compare, sim, sim_settings, frozen_clock):
    """What a mute does, said in the dialog, and all of it on an 80x24 terminal.

    Opened over the settled main screen (the a key's path is tested with Pilot in
    test_alarms.py): the Alarms tab behind it would show the session simulator's
    alarms, which other tests add to."""
    from smtop.ui.screens.alarm_ack import AlarmAckScreen

    app = console(sim_settings, frozen_clock)

    async def acknowledge_the_canarys_composite(pilot):
        await settled(sim, app, pilot)
        await wait_for(pilot, lambda: app.main.alarms is not None and app.main.alarms.get("llm-chat-canary-degraded") is not None)
        app.push_screen(AlarmAckScreen(app.main.alarms.get("llm-chat-canary-degraded"), frozen_clock.now()))
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmAckScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=acknowledge_the_canarys_composite)


def test_signed_out_with_the_mfa_dialog_80x24(snap_compare, sim, sim_settings, frozen_clock):
    """A role session that needed MFA has ended: the header says so and which key
    signs in again, and L's dialog asks for the code, on an 80x24 terminal.

    The expiry is posted as the refresh's failure over the settled main screen
    (the path from botocore's refresher is tested in tests/test_signin.py)."""
    from smtop.errors import MfaRequiredError
    from smtop.models.switch import SwitchTarget
    from smtop.models.source import Update
    from smtop.ui.console import FleetUpdated
    from smtop.ui.screens.mfa_code import MfaCodeScreen

    app = SmtopApp(
        lambda: open_fleet(sim_settings, frozen_clock), sim_settings, clock=frozen_clock,
        switch=lambda target: open_fleet(sim_settings, frozen_clock),
    )
    error = MfaRequiredError(
        "Your MFA role session has expired; it needs a new MFA code.", serial="arn:aws:iam::123456789012:mfa/alice"
    )

    async def signed_out(pilot):
        await settled(sim, app, pilot)
        app.main.post_message(FleetUpdated(Update(error=error)))
        await wait_for(pilot, lambda: app.main.signed_out is error)
        app.ask_mfa_code(SwitchTarget("prod-admin", "us-east-1"), error)
        await wait_for(pilot, lambda: isinstance(app.screen, MfaCodeScreen) and bool(app.screen.query("#mfa-code")))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=signed_out)
