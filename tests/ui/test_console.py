"""The console end to end: real app, real aiobotocore, the simulator over HTTP."""

from __future__ import annotations

import asyncio
import gc
import time

from textual import events
from textual.widgets import Input

from smtop.cli import open_fleet
from smtop.config.settings import Settings
from smtop.ui.app import SmtopApp
from smtop.ui.console import ConsoleScreen
from smtop.ui.screens.help import HelpScreen
from smtop.ui.screens.metric_detail import MetricDetailScreen
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.metric_panel import MetricPanel, MetricRow
from smtop.ui.widgets.status_bar import StatusBar
from tests.ui.conftest import wait_for


def make_app(settings: Settings, clock) -> SmtopApp:
    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)


async def test_console_shows_the_fleet_with_metrics(sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        snapshot = app.main.snapshot
        table = app.main.query_one(EndpointTable)
        names = sorted(e.name for e in snapshot.endpoints)
        assert table.visible_names == names  # sorted by name by default
        assert len(names) >= 4
        # Every endpoint of the fleet has traffic in the simulator's backfill.
        for name in names:
            assert snapshot.metrics_for(name).invocations_per_minute is not None, name
        # The first endpoint is selected and drives the metric panel.
        await wait_for(pilot, lambda: app.main.selected == names[0])
        panel = app.main.query_one(MetricPanel)
        assert names[0] in str(panel.border_title)
        row = app.main.query_one("#metric-Invocations", MetricRow)
        series = snapshot.metrics_for(names[0]).get("Invocations")
        assert list(row.data) == list(series.values)
        assert len(series.values) >= 170  # three hours at one-minute periods
        status = str(app.main.query_one(StatusBar).render())
        assert "us-east-1" in status and "STALE" not in status
        assert "11:06:00Z" in status  # the frozen clock's time of the refresh


async def test_selecting_an_endpoint_drives_the_panels(sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        table = app.main.query_one(EndpointTable)
        second = table.visible_names[1]
        await pilot.press("down")
        await wait_for(pilot, lambda: app.main.selected == second)
        expected = app.main.snapshot.metrics_for(second).get("ModelLatency", "Average")
        row = app.main.query_one("#metric-ModelLatency", MetricRow)
        assert list(row.data) == list(expected.values)
        assert second in str(app.main.query_one(MetricPanel).border_title)


async def test_filter_narrows_the_table_and_escape_clears_it(sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        table = app.main.query_one(EndpointTable)
        everyone = table.visible_names
        await pilot.press("slash")
        assert app.main.query_one("#filter", Input).has_focus
        await pilot.press(*"canary")
        assert table.visible_names == [n for n in everyone if "canary" in n]
        assert table.visible_names  # the demo fleet has a canary
        await pilot.press("enter")
        assert table.has_focus
        assert table.visible_names == [n for n in everyone if "canary" in n]
        await pilot.press("slash", "escape")
        assert table.visible_names == everyone


async def test_keys_typed_in_one_burst_after_slash_all_reach_the_filter(sim_settings, frozen_clock):
    """A terminal hands over a fast typist's keys (or a paste, or tmux's) at once:
    every key after `/` is filter text, not a command (c opens CloudTrail, a acks)."""
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        shown = app.main.query_one("#trail").display
        for key, character in (("slash", "/"), ("c", "c"), ("a", "a"), ("n", "n")):
            app.post_message(events.Key(key, character))  # as the driver posts what it reads
        await pilot.pause()
        assert app.main.query_one("#filter", Input).value == "can"
        assert app.screen is app.main and app.main.query_one("#trail").display == shown


async def test_the_command_lines_app_leaves_start_up_objects_out_of_collection(sim_settings, frozen_clock):
    """smtop's own run freezes the heap after its first data (full collections
    over Textual and botocore were the slowest key presses); a test's app does not."""
    gc.unfreeze()
    try:
        for freeze, expect_frozen in ((False, False), (True, True)):
            app = SmtopApp(lambda: open_fleet(sim_settings, frozen_clock), sim_settings, clock=frozen_clock, freeze_heap=freeze)
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_for(pilot, lambda: app.main.snapshot is not None)
                await pilot.pause()
                assert (gc.get_freeze_count() > 0) is expect_frozen
    finally:
        gc.unfreeze()


async def test_sort_cycles_columns_worst_first(sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        table = app.main.query_one(EndpointTable)
        await pilot.press("s", "s")  # name → status → inv/min
        assert table.sort_key == "inv"
        rates = {e.name: app.main.snapshot.metrics_for(e.name).invocations_per_minute for e in app.main.snapshot.endpoints}
        assert table.visible_names == sorted(rates, key=lambda n: (rates[n], n), reverse=True)
        await pilot.press("S")
        assert table.visible_names == sorted(rates, key=lambda n: (rates[n], n))


async def test_enter_on_a_metric_opens_its_chart(sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        await pilot.press("enter")  # endpoint → metrics panel
        assert app.main.query_one(MetricPanel).has_focus
        await pilot.press("down", "down", "enter")  # Invocations → InvocationsPerInstance → ModelLatency
        await pilot.pause()
        assert isinstance(app.screen, MetricDetailScreen)
        assert app.screen.metric == "ModelLatency"
        assert app.screen.endpoint == app.main.selected
        await pilot.press("escape")
        assert not isinstance(app.screen, MetricDetailScreen)


async def test_help_lists_the_keys(sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_polls_never_overlap(sim_settings, frozen_clock):
    """However often `r` is pressed, one refresh runs at a time."""
    intervals: list[tuple[float, float]] = []

    class Timed:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        async def refresh(self):
            start = time.monotonic()
            try:
                return await self.inner.refresh()
            finally:
                intervals.append((start, time.monotonic()))

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def connect():
        async with open_fleet(sim_settings, frozen_clock) as fleet:
            yield Timed(fleet)

    app = SmtopApp(connect, sim_settings, clock=frozen_clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        for _ in range(15):
            await pilot.press("r")
            await asyncio.sleep(0.01)
        await wait_for(pilot, lambda: not app.main.query_one(StatusBar).polling)
        await pilot.pause(0.2)
    assert len(intervals) >= 2
    ordered = sorted(intervals)
    for (_, end), (next_start, _) in zip(ordered, ordered[1:]):
        assert next_start >= end


async def test_console_fits_80x24(sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        await pilot.pause()  # let the layout take the rows in
        table = app.main.query_one(EndpointTable)
        panel = app.main.query_one(MetricPanel)
        assert table.region.height >= 4  # header + at least three endpoints
        assert panel.region.height >= 10  # all ten metrics without scrolling
        assert panel.region.bottom <= 23  # above the footer
        rows = list(panel.query(MetricRow))
        assert all(row.region.height == 1 and row.region.y < panel.region.bottom for row in rows)
        assert not app.main.query_one("#detail").display or app.main.query_one("#detail").region.width == 0


async def test_help_fits_80x24_and_lists_every_binding(sim_settings, frozen_clock):
    from smtop.ui.screens.help import KEYS
    from smtop.ui.screens.alarm_ack import AlarmAckScreen
    from smtop.ui.screens.alarm_form import AlarmFormScreen
    from smtop.ui.widgets.log_panel import LogPanel
    from smtop.ui.widgets.log_view import LogView
    from smtop.ui.widgets.trail_feed import TrailFeed
    from smtop.ui.screens.insights_editor import InsightsEditorScreen
    from smtop.ui.screens.insights_results import InsightsResultsScreen
    from smtop.ui.widgets.insights_panel import InsightsPanel

    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        help_box = app.screen.query_one("#help")
        assert help_box.region.width >= 60 and help_box.region.height >= 15
    listed = {token.strip(",") for _, keys, _ in KEYS for token in keys.split()}
    names = {"question_mark": "?", "slash": "/", "pageup": "pgup", "pagedown": "pgdn", "up": "↑", "down": "↓",
             "left": "←", "right": "→", "left_square_bracket": "[", "right_square_bracket": "]"}
    bound = {
        names.get(binding.key, binding.key)
        for owner in (
            ConsoleScreen, EndpointTable, MetricPanel, LogPanel, LogView, TrailFeed, AlarmFormScreen, AlarmAckScreen,
            InsightsPanel, InsightsEditorScreen, InsightsResultsScreen,
        )
        for binding in owner.BINDINGS
    }
    # Textual's own keys that the help documents (focus moves, list selection).
    builtin = {"tab", "shift+tab", "enter", "↑", "↓", "pgup", "pgdn", "home", "end", "escape", "ctrl+p"}
    builtin |= {"any", "key"}  # "any key" resumes a paused Live Tail: the app notes every key, no binding
    assert bound - listed == set(), "bound but missing from ? help"
    assert listed - bound - builtin == set(), "in ? help but bound to nothing"


async def test_refreshes_and_log_switches_land_while_a_modal_is_open(sim_settings, frozen_clock):
    """Data arriving under the help screen or a chart must reach the main screen."""
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        await pilot.press("question_mark")
        polls = app.main.polls
        app.main.action_refresh_now()
        await wait_for(pilot, lambda: app.main.polls > polls)
        await pilot.pause(0.5)  # the debounced log switch fires under the modal too
        assert app.is_running and isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("enter", "enter")  # metrics → chart of Invocations
        assert isinstance(app.screen, MetricDetailScreen)
        polls = app.main.polls
        app.main.action_refresh_now()
        await wait_for(pilot, lambda: app.main.polls > polls)
        assert app.is_running and isinstance(app.screen, MetricDetailScreen)


async def test_the_sort_arrow_fits_every_column(sim_settings, frozen_clock):
    from smtop.ui.widgets.endpoint_table import COLUMNS

    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        table = app.main.query_one(EndpointTable)
        for column in COLUMNS:
            table.sort_key = column.key
            label = table._header(column)
            assert label.plain.rstrip().endswith(("▲", "▼"))
            assert label.cell_len <= column.width or column.key == "name", column.key
