"""The CLOUDTRAIL strip, the event screen and the deploy markers, driven with Pilot
against the simulator's demo trail (the people's deploys, computed from their schedule)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from textual.app import App
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from smtop.cli import open_fleet
from smtop.models.cloudtrail import TrailEvent, TrailSnapshot
from smtop.sim.fleet import DEMO_FLEET
from smtop.sim.people import episodes
from smtop.sim.traffic import TrafficModel
from smtop.ui.app import SmtopApp
from smtop.ui.screens.metric_detail import MetricDetailScreen
from smtop.ui.screens.trail_event import TrailEventScreen
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.metric_panel import MetricRow
from smtop.ui.widgets.trail_feed import TrailFeed
from tests.conftest import SIM_NOW, SIM_SEED
from tests.ui.conftest import wait_for

CANARY = "llm-chat-canary"


def canary_deploy_times() -> list[int]:
    """When the simulated people updated the canary (from their schedule, not from the app)."""
    played = [ep for ep in episodes(TrafficModel(DEMO_FLEET, SIM_SEED), SIM_NOW - 3 * 3600, SIM_NOW) if ep[-1].at < SIM_NOW - 10]
    return sorted(int(a.at) for ep in played for a in ep if a.operation == "UpdateEndpoint" and a.parameters["EndpointName"] == CANARY)


async def select(pilot, app: SmtopApp, name: str) -> None:
    table = app.main.query_one(EndpointTable)
    for _ in range(table.visible_names.index(name)):
        await pilot.press("down")
    await wait_for(pilot, lambda: app.main.selected == name)


async def test_feed_shows_who_deployed_the_canary_and_marks_its_sparklines(sim_settings, frozen_clock):
    app = SmtopApp(lambda: open_fleet(sim_settings, frozen_clock), sim_settings, clock=frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        await select(pilot, app, CANARY)
        feed = app.main.query_one(TrailFeed)
        await wait_for(pilot, lambda: len(feed.shown) > 0, timeout=20)

        deploys = canary_deploy_times()
        # SageMaker's events about the canary are the people's deploys (its alarms' CloudWatch calls come too).
        sagemaker = [e for e in feed.shown if e.source == "sagemaker.amazonaws.com"]
        assert [int(e.time.timestamp()) for e in sagemaker] == sorted(deploys, reverse=True)
        assert {e.who for e in sagemaker} <= {"alice", "bob", "github-actions-llm-chat"}
        table = feed.query_one(DataTable)
        assert table.row_count == len(feed.shown)
        first_row = [str(cell) for cell in table.get_row_at(0)]
        newest = feed.shown[0]
        assert first_row[:4] == [newest.time.strftime("%H:%M:%SZ"), newest.name, newest.who, CANARY]
        assert CANARY in str(feed.border_title)

        # The same deploys, marked on the latency sparkline at the periods they fell in.
        series = app.main.snapshot.metrics_for(CANARY).get("ModelLatency")
        expected = {i for i, t in enumerate(series.timestamps) if any(t <= d < t + series.period for d in deploys)}
        row = app.main.query_one("#metric-ModelLatency", MetricRow)
        await wait_for(pilot, lambda: row.marks == expected)
        assert len(expected) >= 10
        # Only the latency row carries them: the other nine stay readable.
        assert app.main.query_one("#metric-CPUUtilization", MetricRow).marks == frozenset()

        # ...and as vertical lines in the metric's chart, the latest labelled with who.
        app.main.query_one(EndpointTable).focus()
        await pilot.press("enter", "down", "down", "enter")  # → metrics → ModelLatency → chart
        await pilot.pause()
        chart = app.screen
        assert isinstance(chart, MetricDetailScreen) and chart.metric == "ModelLatency"
        assert sorted(int(e.time.timestamp()) for e in chart.deployments) == deploys
        latest = max(chart.deployments, key=lambda e: e.time)
        drawn = chart.query_one(PlotextPlot).plt.build()
        assert f"{latest.name} · {latest.who}" in drawn
        await pilot.press("escape")

        # c focuses the feed, e widens it to every endpoint, enter opens the whole event.
        await pilot.press("c")
        assert table.has_focus
        await pilot.press("e")
        assert feed.show_all and table.row_count == len(feed.snapshot.events) > len(sagemaker)
        assert "all endpoints" in str(feed.border_title)
        failed = next(i for i, e in enumerate(feed.shown) if e.error_code)
        table.move_cursor(row=failed)
        await pilot.press("enter")
        assert isinstance(app.screen, TrailEventScreen)
        body = str(app.screen.query_one("#trail-event-body", Static).render())
        record = json.loads(body)
        assert record["errorCode"] == "ValidationException" and record["eventID"] == feed.shown[failed].event_id
        await pilot.press("escape")
        assert not isinstance(app.screen, TrailEventScreen)

        # Other endpoints get no canary markers.
        await pilot.press("e")
        app.main.query_one(EndpointTable).focus()
        await pilot.press("up")
        await wait_for(pilot, lambda: app.main.selected != CANARY)
        assert app.main.query_one("#metric-ModelLatency", MetricRow).marks == frozenset()


async def test_the_feed_shows_the_writes_and_none_of_the_reads(sim, sim_settings, frozen_clock):
    """The console's own reads (DescribeEndpoint each refresh) are in the account's
    event history, as AWS records them; the feed, widened to every endpoint, shows
    the people's writes and not one read."""
    import boto3

    app = SmtopApp(lambda: open_fleet(sim_settings, frozen_clock), sim_settings, clock=frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        feed = app.main.query_one(TrailFeed)
        feed.show_all = True
        await wait_for(pilot, lambda: len(feed.shown) > 0, timeout=20)
        trail = boto3.client("cloudtrail", endpoint_url=sim.url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        reads = await asyncio.to_thread(
            trail.lookup_events, LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "true"}], MaxResults=50
        )
        assert {"DescribeEndpoint", "LookupEvents"} <= {e["EventName"] for e in reads["Events"]}
        assert feed.shown == feed.snapshot.events and not any(e.read_only for e in feed.shown)
        assert not [e.name for e in feed.shown if e.name.startswith(("Describe", "List", "Get", "Lookup"))]
        assert {"UpdateEndpoint", "CreateEndpointConfig", "PutMetricAlarm"} <= {e.name for e in feed.shown}


class _QuietTrail:
    """A trail source whose poll never ends: the test hands the feed its snapshots itself."""

    async def trail_events(self) -> TrailSnapshot:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class _FeedApp(App):
    def compose(self):
        yield TrailFeed(_QuietTrail(), id="trail")


async def test_a_feed_not_yet_complete_says_how_far_back_it_is():
    event = TrailEvent(event_id="e0", name="UpdateEndpoint", source="sagemaker.amazonaws.com", time=datetime.fromtimestamp(SIM_NOW, timezone.utc), who="alice")
    app = _FeedApp()
    async with app.run_test(size=(120, 12)) as pilot:
        feed = app.query_one(TrailFeed)
        since = datetime.fromtimestamp(SIM_NOW - 1800, timezone.utc)
        feed.post_message(TrailFeed.Updated(TrailSnapshot(events=(event,), added=1, requests=20, complete_since=since)))
        await pilot.pause()
        assert feed.shown == (event,)
        assert str(feed.border_subtitle) == f"1 event since {since:%H:%MZ} · e: endpoint/all"
        feed.post_message(TrailFeed.Updated(TrailSnapshot(events=(event,), added=0, requests=1)))
        await pilot.pause()
        assert str(feed.border_subtitle) == "1 event · e: endpoint/all"


async def test_on_80x24_the_feed_takes_the_logs_place_on_c(sim_settings, frozen_clock):
    app = SmtopApp(lambda: open_fleet(sim_settings, frozen_clock), sim_settings, clock=frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        feed = app.main.query_one(TrailFeed)
        assert not feed.display or feed.region.height == 0
        await pilot.press("c")
        await pilot.pause()
        assert feed.region.height >= 8 and feed.query_one(DataTable).has_focus
        assert app.main.query_one("#lower").region.height == 0
        await pilot.press("c")
        await pilot.pause()
        assert feed.region.height == 0 and app.main.query_one("#lower").region.height > 0
        await pilot.press("c")
        await pilot.pause()
        assert feed.region.height >= 8
        await pilot.press("escape")  # escape gives the room back too
        await pilot.pause()
        assert feed.region.height == 0 and app.main.query_one(EndpointTable).has_focus


async def test_access_denied_is_said_with_the_iam_action_and_the_rest_works(sim, sim_settings, frozen_clock):
    sim.inject("deny", "cloudtrail", "LookupEvents")
    try:
        app = SmtopApp(lambda: open_fleet(sim_settings, frozen_clock), sim_settings, clock=frozen_clock)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: app.main.snapshot is not None)
            feed = app.main.query_one(TrailFeed)
            await wait_for(pilot, lambda: "cloudtrail:LookupEvents" in feed.notice, timeout=20)
            assert feed.shown == ()
            assert app.main.snapshot.endpoints  # the rest of the console keeps working
    finally:
        sim.clear_faults()


class _EventApp(App):
    def __init__(self, event: TrailEvent) -> None:
        super().__init__()
        self.event = event

    def on_mount(self) -> None:
        self.push_screen(TrailEventScreen(self.event))


async def test_event_screen_renders_hostile_text_literally():
    raw = json.dumps({"eventName": "UpdateEndpoint", "userIdentity": {"userName": "[bold red]mallory[/]\x1b]0;pwned\x07"}})
    event = TrailEvent(
        event_id="e1", name="UpdateEndpoint", source="sagemaker.amazonaws.com",
        time=datetime.fromtimestamp(SIM_NOW, timezone.utc), who="[bold red]mallory[/]\x1b]0;pwned\x07",
        source_ip="10.0.0.1", raw=raw,
    )
    app = _EventApp(event)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrailEventScreen)
        body = screen.query_one("#trail-event-body", Static).render()
        assert not body.spans  # no markup was parsed
        text = str(body)
        assert "\x1b" not in text and "\x07" not in text
        assert '"userName": "[bold red]mallory[/]\\u001b]0;pwned\\u0007"' in text  # JSON's own escapes, shown as text
        header = str(screen.query(Static).first().render())
        assert "[bold red]mallory[/]\\x1b]0;pwned\\x07" in header


async def test_event_screen_shows_a_record_that_is_not_json_as_it_came():
    event = TrailEvent(
        event_id="e2", name="DeleteEndpoint", source="sagemaker.amazonaws.com",
        time=datetime.fromtimestamp(SIM_NOW, timezone.utc), who="bob", raw="not json \x1b[2J [link=x]y[/link]",
    )
    app = _EventApp(event)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        body = app.screen.query_one("#trail-event-body", Static).render()
        assert str(body) == "not json \\x1b[2J [link=x]y[/link]" and not body.spans
