"""A failing refresh marks data stale and the console recovers by itself."""

from __future__ import annotations

import os
import socket

from moto.server import ThreadedMotoServer

from smtop.cli import open_fleet
from smtop.config.settings import Settings
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
            await wait_for(pilot, lambda: app.main.snapshot is not None)
            before = app.main.snapshot
            bar = app.main.query_one(StatusBar)
            sim.stop()
            await wait_for(pilot, lambda: bar.stale_reason is not None, timeout=20)
            assert f"127.0.0.1:{port}" in bar.stale_reason
            assert "retrying" in bar.stale_reason
            assert "STALE" in str(bar.render())
            # The last good data stays on screen while stale.
            assert app.main.snapshot is before
            assert app.main.query_one(EndpointTable).visible_names == sorted(e.name for e in before.endpoints)
            assert app.main.query_one("#endpoints-box").has_class("-stale")

            sim = spawn_sim(port=port, traffic=False, seed=SIM_SEED, now=SIM_NOW)
            await wait_for(pilot, lambda: bar.stale_reason is None, timeout=20)
            assert app.main.snapshot is not before
            assert not app.main.query_one("#endpoints-box").has_class("-stale")
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
            await wait_for(pilot, lambda: app.main.snapshot is not None)
            note = app.main.query_one("#empty-note")
            assert note.display
            text = str(note.render())
            assert "No SageMaker endpoints" in text and "eu-west-3" in text and "--profile" in text
            # Two real lines, not an escaped newline.
            assert "\\x0a" not in text and text.count("\n") == 1
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


async def test_markup_in_user_and_aws_text_is_shown_literally(frozen_clock):
    """--endpoints with markup-like text, shown in the empty-fleet note, must not
    be parsed (Textual would crash on `[/bold]` or swallow `[ab]`)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        settings = Settings(endpoint_url=f"http://{host}:{port}", region="eu-west-3", endpoint_pattern="x[/bold]-[ab]*")
        app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.main.snapshot is not None)
            await pilot.pause()
            assert app.is_running
            assert "'x[/bold]-[ab]*'" in str(app.main.query_one("#empty-note").render())
    finally:
        server.stop()


async def test_hostile_error_text_reaches_the_screen_as_text(frozen_clock, capsys):
    """An error message carrying markup and an escape sequence (AWS text) in the
    stale header and in the one line printed at exit."""
    from smtop.errors import ConnectionFailedError
    from smtop.models.source import Update
    from smtop.ui.console import FleetUpdated

    port = free_port()
    settings = Settings(endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1")
    app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: not app.is_running, timeout=20)
    hostile = ConnectionFailedError("boom [/bold] [red]x\x1b]0;owned\x07")
    app2 = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    async with app2.run_test(size=(100, 30)) as pilot:
        app2.main.snapshot = object()  # pretend data had arrived: the failure is then "stale", not fatal
        app2.main.post_message(FleetUpdated(Update(error=hostile)))
        await pilot.pause()
        bar = app2.main.query_one(StatusBar)
        rendered = str(bar.render())
        assert "[/bold] [red]x" in rendered and "\x1b" not in rendered and "\\x1b]0;owned\\x07" in rendered
        assert app2.is_running
    capsys.readouterr()
    app3 = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    async with app3.run_test(size=(100, 30)) as pilot:
        app3.main.post_message(FleetUpdated(Update(error=hostile)))
        await wait_for(pilot, lambda: not app3.is_running, timeout=20)
    printed = capsys.readouterr().err
    assert "boom [/bold] [red]x" in printed and "\x1b" not in printed


async def test_quitting_the_demo_during_start_up_stops_the_simulator(frozen_clock):
    import psutil

    settings = Settings(demo=True, refresh=5.0)
    app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    me = psutil.Process()

    def simulators():
        return [p for p in me.children(recursive=True) if "smtop.sim" in " ".join(p.cmdline()) and p.pid not in before]

    before: set[int] = set()
    before = {p.pid for p in simulators()}  # the session's own simulator, if started

    saved = dict(os.environ)  # the demo points this process's AWS config at the simulator
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: simulators(), timeout=10)
            started = simulators()
            await pilot.press("q")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    gone, alive = psutil.wait_procs(started, timeout=10)
    assert not alive, "the demo simulator outlived the console"
