"""A failing refresh marks data stale and the console recovers by itself."""

from __future__ import annotations

import socket

from moto.server import ThreadedMotoServer

from smtop.cli import open_fleet
from smtop.settings import Settings
from smtop.sim.process import spawn_sim
from smtop.ui.app import SmtopApp
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.status_bar import StatusBar
from tests.conftest import SIM_NOW, SIM_SEED
from tests.ui.conftest import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_lost_connection_marks_stale_and_recovers(frozen_clock):
    port = free_port()
    sim = spawn_sim(port=port, traffic=False, seed=SIM_SEED, now=SIM_NOW)
    settings = Settings(endpoint_url=sim.url, region="us-east-1", refresh=1.0)
    app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None)
            before = app.snapshot
            bar = app.query_one(StatusBar)
            sim.stop()
            await wait_for(pilot, lambda: bar.stale_reason is not None, timeout=20)
            assert f"127.0.0.1:{port}" in bar.stale_reason
            assert "retrying" in bar.stale_reason
            assert "STALE" in str(bar.render())
            # The last good data stays on screen while stale.
            assert app.snapshot is before
            assert app.query_one(EndpointTable).visible_names == sorted(e.name for e in before.endpoints)
            assert app.query_one("#endpoints-box").has_class("-stale")

            sim = spawn_sim(port=port, traffic=False, seed=SIM_SEED, now=SIM_NOW)
            await wait_for(pilot, lambda: bar.stale_reason is None, timeout=20)
            assert app.snapshot is not before
            assert not app.query_one("#endpoints-box").has_class("-stale")
            assert app.is_running
    finally:
        sim.stop()


async def test_zero_endpoints_says_where_it_looked(frozen_clock):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        settings = Settings(endpoint_url=f"http://{host}:{port}", region="eu-west-3", profile=None)
        app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.snapshot is not None)
            note = app.query_one("#empty-note")
            assert note.display
            text = str(note.render())
            assert "No SageMaker endpoints" in text and "eu-west-3" in text and "--profile" in text
    finally:
        server.stop()


async def test_unreachable_at_start_exits_with_one_line(frozen_clock, capsys):
    port = free_port()
    settings = Settings(endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1")
    app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: not app.is_running, timeout=20)
    assert app.return_code == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("smtop: Could not connect") and f"127.0.0.1:{port}" in message
    assert "Traceback" not in message
