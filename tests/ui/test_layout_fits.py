"""The console fits its terminal: the screen itself never scrolls, whatever panels are open."""

from __future__ import annotations

import pytest

from smtop.ui.widgets.endpoint_table import EndpointTable
from tests.ui.conftest import wait_for
from tests.ui.test_console import make_app


@pytest.mark.parametrize("size", [(120, 36), (100, 48)])  # the tightest -tall size; the side panel grows on 48
async def test_the_screen_never_scrolls(sim_settings, frozen_clock, size):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        for keys in ((), ("i",), ("escape",), ("slash", "c"), ("escape", "c"), ("escape",)):
            await pilot.press(*keys)
            await pilot.pause()
            await pilot.pause()
            screen = app.main
            assert screen.virtual_size.height <= screen.size.height, (keys, screen.virtual_size, screen.size)
            assert not screen.show_vertical_scrollbar
            assert app.main.query_one(EndpointTable).size.height >= 3  # the header and at least two endpoints
