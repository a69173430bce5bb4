"""The LOGS panel end to end: the real app tails the simulator's log groups."""

from __future__ import annotations

from datetime import timedelta

import boto3
from botocore.config import Config
from textual import events
from textual.widgets import Input

from smtop.cli import open_fleet
from smtop.ui.app import SmtopApp
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.log_panel import LogPanel
from smtop.ui.widgets.log_view import LogView
from tests.conftest import SIM_NOW
from tests.ui.conftest import wait_for
from tests.ui.test_log_view import HOSTILE


def make_app(settings, clock) -> SmtopApp:
    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)


def logs_client(sim):
    return boto3.client(
        "logs",
        endpoint_url=sim.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


def filtered_count(sim, group: str, pattern: str, since: timedelta) -> int:
    """What the service itself returns for the pattern: the independent answer."""
    client = logs_client(sim)
    kwargs = {"logGroupName": group, "startTime": int((SIM_NOW - since.total_seconds()) * 1000)}
    if pattern:
        kwargs["filterPattern"] = pattern
    return sum(len(page["events"]) for page in client.get_paginator("filter_log_events").paginate(**kwargs))


async def select(pilot, app: SmtopApp, name: str) -> LogPanel:
    table = app.main.query_one(EndpointTable)
    table.move_cursor(row=table.visible_names.index(name))
    panel = app.main.query_one(LogPanel)
    await wait_for(pilot, lambda: panel.group == f"/aws/sagemaker/Endpoints/{name}" and panel.received > 0)
    return panel


async def test_selected_endpoint_logs_stream_in_and_switch(sim, sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        panel = await select(pilot, app, "fraud-detector-prod")
        view = panel.view
        expected = filtered_count(sim, panel.group, "", panel.since)
        await wait_for(pilot, lambda: panel.received >= expected)
        assert panel.received == expected  # every event of the window once, none twice
        times = [line.event.timestamp for line in view.lines if line.first]
        assert times == sorted(times)  # interleaved across instances, in time order
        assert len({line.event.stream for line in view.lines}) == 2  # both instances
        assert "fraud-detector-prod" in str(panel.border_title)

        panel = await select(pilot, app, "llm-chat-canary")
        assert all(line.event.group.endswith("llm-chat-canary") or not line.event.group for line in view.lines)
        assert not any("fraud" in line.event.stream for line in view.lines)


async def test_filter_pattern_narrows_server_side_and_bad_pattern_is_kept(sim, sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        panel = await select(pilot, app, "llm-chat-canary")
        everything = panel.received
        panel.view.focus()
        await pilot.press("slash")
        await pilot.press(*'{ $.level = "ERROR" }', "enter")
        expected = filtered_count(sim, panel.group, '{ $.level = "ERROR" }', panel.since)
        assert 0 < expected < everything
        await wait_for(pilot, lambda: panel.pattern == '{ $.level = "ERROR" }' and panel.received == expected)
        assert all('"level":"ERROR"' in line.event.message for line in panel.view.lines if line.first)
        assert 'filter: { $.level = "ERROR" }' in str(panel.border_subtitle)

        await pilot.press("slash", "ctrl+u", *"{ $.level = ", "enter")
        notice = panel.query_one("#log-notice")
        await wait_for(pilot, lambda: notice.display and notice.has_class("-error"))
        assert "filter pattern" in str(notice.render()).lower()
        assert panel.pattern == "{ $.level ="  # the text is kept to fix
        await pilot.press("slash")
        assert panel.query_one("#log-pattern").value == "{ $.level ="
        assert app.is_running


async def test_follow_pause_and_since(sim, sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        panel = await select(pilot, app, "recsys-ranker")
        fifteen = filtered_count(sim, panel.group, "", timedelta(minutes=15))
        await wait_for(pilot, lambda: panel.received == fifteen)
        await pilot.press("f")
        assert not panel.view.follow and "paused" in str(panel.border_subtitle)
        await pilot.press("f")
        assert panel.view.follow and "follow" in str(panel.border_subtitle)
        panel.view.focus()
        await pilot.press("t")  # 15m → 1h (more than the simulator's 30 min of logs)
        assert "since 1h" in str(panel.border_subtitle)
        hour = filtered_count(sim, panel.group, "", timedelta(hours=1))
        assert hour > fifteen
        await wait_for(pilot, lambda: panel.received == hour)


async def test_hostile_log_lines_show_as_text(sim, sim_settings, frozen_clock):
    group = "/aws/sagemaker/Endpoints/zz-hostile-test"
    client = logs_client(sim)
    client.create_log_group(logGroupName=group)
    client.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-0\x1b[31mevil")
    start = int((SIM_NOW - 120) * 1000)
    client.put_log_events(
        logGroupName=group,
        logStreamName="AllTraffic/i-0\x1b[31mevil",
        logEvents=[{"timestamp": start + i, "message": m} for i, m in enumerate(HOSTILE + ["x" * 262_000])],
    )
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        panel = app.main.query_one(LogPanel)
        await wait_for(pilot, lambda: panel.group is not None)  # the selected endpoint's, first
        panel.group = group
        await wait_for(pilot, lambda: panel.received == len(HOSTILE) + 1)
        view = panel.query_one(LogView)
        await pilot.pause()
        rendered = "\n".join("".join(s.text for s in view.render_line(y)) for y in range(view.size.height))
        assert "\x1b" not in rendered and "\x07" not in rendered
        assert "[bold red]not markup[/bold red]" in rendered
        assert "\\x1b[2J\\x1b[H cleared your screen" in rendered
        await pilot.press("l")
        assert app.is_running


async def test_a_pattern_typed_in_one_burst_after_slash_is_all_pattern(sim, sim_settings, frozen_clock):
    """f, a, t and l are commands on the log view (follow, ack, since, logs):
    typed in the same burst as `/` they are the pattern's letters."""
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        panel = await select(pilot, app, "llm-chat-canary")
        panel.view.focus()
        await pilot.pause()
        following, since = panel.view.follow, panel.since_index
        for character in "/fatal":
            app.post_message(events.Key("slash" if character == "/" else character, character))
        await pilot.pause()
        assert panel.query_one("#log-pattern", Input).value == "fatal"
        assert (panel.view.follow, panel.since_index) == (following, since) and app.screen is app.main


def open_live_tail_sessions(sim) -> int:
    """What the simulator streams now: the session-minutes AWS would bill."""
    import requests

    return requests.get(f"{sim.url}/_smtop/live-tail", timeout=5).json()["open"]


async def test_live_tail_pauses_when_nobody_uses_the_console_and_any_key_resumes_it(sim, sim_settings, frozen_clock, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(LogPanel, "LIVE_CHECK_SECONDS", 0.1)
    app = make_app(replace(sim_settings, live_tail_idle=timedelta(minutes=15)), frozen_clock)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        panel = await select(pilot, app, "fraud-detector-prod")
        await wait_for(pilot, lambda: panel.mode == "live")
        assert "live" in str(panel.border_subtitle)
        frozen_clock.advance(15 * 60 - 1)  # a second short of idle: still live
        await pilot.pause(0.4)
        assert panel.mode == "live" and panel.live_gate.is_open
        frozen_clock.advance(2)
        await wait_for(pilot, lambda: panel.mode == "poll")
        assert panel.last_notice.startswith("Live Tail paused (no key pressed for 15m; any key resumes it); polling every")
        assert "Live Tail paused: any key resumes" in str(panel.border_subtitle)
        await wait_for(pilot, lambda: open_live_tail_sessions(sim) == 0)  # no session-minute billed while idle
        await pilot.press("z")  # bound to nothing: any key says somebody is there
        await wait_for(pilot, lambda: panel.mode == "live")
        assert panel.last_notice == "Following with Live Tail."
        assert "Live Tail paused" not in str(panel.border_subtitle)


async def test_live_tail_runs_only_while_the_log_panel_is_on_screen(sim, sim_settings, frozen_clock, monkeypatch):
    monkeypatch.setattr(LogPanel, "LIVE_CHECK_SECONDS", 0.1)
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(80, 24)) as pilot:  # short: the metrics and the logs take turns (`l`)
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        panel = await select(pilot, app, "fraud-detector-prod")
        await wait_for(pilot, lambda: panel.mode == "poll")
        assert not panel.is_on_screen and not panel.live_gate.is_open
        assert panel.live_gate.reason == "the log panel is not on screen"
        await pilot.press("l")
        await wait_for(pilot, lambda: panel.mode == "live")
        await pilot.press("l")
        await wait_for(pilot, lambda: panel.mode == "poll")
        await wait_for(pilot, lambda: open_live_tail_sessions(sim) == 0)


async def test_live_tail_idle_of_zero_always_polls(sim, sim_settings, frozen_clock, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(LogPanel, "LIVE_CHECK_SECONDS", 0.1)
    app = make_app(replace(sim_settings, live_tail_idle=timedelta(0)), frozen_clock)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        panel = await select(pilot, app, "fraud-detector-prod")
        await wait_for(pilot, lambda: panel.last_notice is not None)
        await pilot.press("z")
        await pilot.pause(0.5)
        assert panel.mode == "poll"
        assert panel.last_notice.startswith("Live Tail paused (live_tail_idle is 0s in the config file)")
