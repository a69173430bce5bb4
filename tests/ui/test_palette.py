"""The command palette holds every bound action; the config file's keys rebind the app's."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Input

from smtop.cli import open_fleet
from smtop.ui.app import SmtopApp
from smtop.ui.console import ConsoleScreen
from smtop.ui.commands import SmtopCommands, check_key_overrides, palette_commands
from smtop.ui.screens.help import HelpScreen
from smtop.ui.widgets.alarms_panel import AlarmsPanel
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.insights_panel import InsightsPanel
from smtop.ui.widgets.log_panel import LogPanel
from smtop.ui.widgets.log_view import LogView
from smtop.ui.widgets.metric_panel import MetricPanel
from smtop.ui.widgets.trail_feed import TrailFeed
from tests.ui.conftest import wait_for

MOVES = {"cursor_up", "cursor_down", "page_up", "page_down", "cursor_home", "back"}
"""Cursor movement and escape: keys, not commands."""


def make_app(settings, clock) -> SmtopApp:
    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)


async def test_every_bound_action_is_a_palette_command_that_runs(sim_settings, frozen_clock):
    owners = (ConsoleScreen, EndpointTable, MetricPanel, LogPanel, LogView, TrailFeed, InsightsPanel, AlarmsPanel)
    bound = {
        (owner, binding.action)
        for owner in owners
        for binding in getattr(owner, "BINDINGS", ())
        if isinstance(binding, Binding) and binding.action not in MOVES
    }
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.panels_mounted)  # the side panel, logs and feed come after the first frame
        commands = palette_commands([app.main, *app.main.query("*")])
        assert bound - {(type(c.node), c.action) for c in commands} == set()
        # The provider the palette uses offers the same commands, plus the themes.
        provider = SmtopCommands(app.screen)
        titles = [str(hit.display) async for hit in provider.discover()]
        # ...except what the app disables right now: the replay keys outside a replay.
        offered = [t for t in titles if not t.startswith("Theme: ")]
        hidden = [c.title for c in commands if c.title not in offered]
        assert [c.title for c in commands if c.title in offered] == offered
        assert hidden and all(c.action.startswith("replay_") for c in commands if c.title in hidden)
        assert {t.removeprefix("Theme: ") for t in titles if t.startswith("Theme: ")} == set(app.available_themes)
        assert {"textual-light", "nord", "smtop-high-contrast"} <= set(app.available_themes)

        async def run(text: str) -> None:
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            app.screen.query_one(Input).value = text  # as typed, without a key press per letter
            await pilot.pause(0.3)  # the palette searches in a worker
            await pilot.press("down", "enter")
            await pilot.pause()

        await wait_for(pilot, lambda: app.main.polls >= 1)
        polls = app.main.polls
        await run("smtop: Refresh")
        await wait_for(pilot, lambda: app.main.polls > polls)
        since = app.main.query_one(LogPanel).since_index
        await run("Logs: Since")  # a panel's own action, in that panel's namespace
        assert app.main.query_one(LogPanel).since_index == since + 1
        await run("Theme: smtop-high-contrast")
        assert app.theme == "smtop-high-contrast"


def test_key_overrides_refuse_unknown_actions_and_taken_keys():
    keymap, problems = check_key_overrides(
        [("refresh", "ctrl+r"), ("help", "r"), ("bogus", "z"), ("logs", "q"), ("insights", "F2"), ("alarms", "F2")],
        ConsoleScreen.BINDINGS,
    )
    # r is free once refresh moves to ctrl+r; q stays quit's; F2 cannot serve two actions.
    assert keymap == {"refresh": "ctrl+r", "help": "r"}
    assert any(p.startswith("[keys] bogus = 'z': no such action; actions: ack, alarms") for p in problems)
    assert any("[keys] logs = 'q': that key is already quit's; logs keeps 'l'" in p for p in problems)
    assert any("[keys] insights = 'F2'" in p and "alarms's" in p for p in problems)
    assert len(problems) == 4
    assert check_key_overrides([("filter", "?")], ConsoleScreen.BINDINGS)[0] == {}  # "?" is help's question_mark


async def test_the_config_files_keys_rebind_the_console_and_problems_are_shown(sim_settings, frozen_clock):
    settings = replace(sim_settings, keys=(("refresh", "ctrl+r"), ("help", "r"), ("logs", "q")))
    app = make_app(settings, frozen_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None and not app.main.query_one("StatusBar").polling)
        polls = app.main.polls
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.main.polls > polls)
        await pilot.press("r")
        assert isinstance(app.screen, HelpScreen)
        assert "refresh → ctrl+r, help → r" in str(app.screen.query("Static").first().render())
        await pilot.press("escape")
        assert any("logs = 'q'" in n.message and n.title == "config" for n in app._notifications)
        await pilot.press("q")  # still quit: the refused override changed nothing
        await pilot.pause()
    assert app.return_code == 0
