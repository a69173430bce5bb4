"""What the screens look like, with the simulator's fixed fleet and a frozen clock.

Regenerate after an intended visual change with
`pytest tests/ui/test_snapshots.py --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

from smtop.cli import open_fleet
from smtop.ui.app import SmtopApp
from tests.ui.conftest import wait_for


def console(settings, clock) -> SmtopApp:
    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)


async def _data_arrived(app: SmtopApp, pilot) -> None:
    await wait_for(pilot, lambda: app.snapshot is not None)
    await pilot.pause()


def test_main_screen(snap_compare, sim_settings, frozen_clock):
    app = console(sim_settings, frozen_clock)
    assert snap_compare(app, terminal_size=(140, 40), run_before=lambda pilot: _data_arrived(app, pilot))


def test_main_screen_80x24(snap_compare, sim_settings, frozen_clock):
    app = console(sim_settings, frozen_clock)

    async def canary_selected(pilot):
        await _data_arrived(app, pilot)
        await pilot.press("down", "down", "down", "down")  # llm-chat-canary, sorted by name
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=canary_selected)


def test_metric_chart(snap_compare, sim_settings, frozen_clock):
    app = console(sim_settings, frozen_clock)

    async def open_latency_chart(pilot):
        await _data_arrived(app, pilot)
        await pilot.press("down", "down", "down", "down", "enter", "down", "down", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=open_latency_chart)
