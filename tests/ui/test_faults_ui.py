"""Today's panels under each simulator fault: the real app over HTTP.

For every fault: nothing crashes, the affected panel says what happened in
words a person acts on, the other panels keep updating, and everything comes
back by itself within one refresh of the fault clearing, with retries that
back off (counted at the simulator, not trusted from smtop).

To run these over another panel (Insights, CloudTrail, Alarms): add a row
to ``PANELS`` (the service and operation it calls, where it writes its own
failure, the keys that show it); the denied-panel test then covers it, and
the other tests show the pattern for throttling, expiry, drops and outages.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import boto3
import pytest
from botocore.config import Config

from smtop.cli import open_fleet
from smtop.settings import Settings
from smtop.sim.process import spawn_sim
from smtop.ui.app import SmtopApp
from smtop.ui.screens.help import HelpScreen
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.log_panel import LogPanel
from smtop.ui.widgets.status_bar import StatusBar
from tests.conftest import SIM_NOW, SIM_SEED
from tests.ui.conftest import wait_for

ENDPOINT = "fraud-detector-prod"
GROUP = f"/aws/sagemaker/Endpoints/{ENDPOINT}"
STREAM = "AllTraffic/i-faults"
REFRESH = 1.0


@pytest.fixture(scope="module")
def fsim():
    """The demo fleet on a simulator of its own: faults and outages stay here."""
    process = spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW)
    logs = logs_client(process)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(autouse=True)
def clean(fsim):
    fsim.clear_faults()
    yield
    fsim.clear_faults()


def logs_client(process):
    return boto3.client(
        "logs", endpoint_url=process.url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 10}),
    )


class Lines:
    """Writes numbered lines into the selected endpoint's log group (the 'other panel' that must keep moving)."""

    count = 0

    def __init__(self, process) -> None:
        self.client = logs_client(process)

    def write(self, n: int = 1) -> list[str]:
        messages = []
        for _ in range(n):
            Lines.count += 1
            messages.append(f"fault-test line {Lines.count}")
        self.client.put_log_events(
            logGroupName=GROUP, logStreamName=STREAM,
            logEvents=[{"timestamp": SIM_NOW * 1000 + Lines.count * 10 + i, "message": m} for i, m in enumerate(messages)],
        )
        return messages


def log_lines(app) -> list[str]:
    """The messages the log view holds (its events, as received)."""
    return [line.event.message for line in app.main.query_one(LogPanel).view.lines if line.first]


def notice(app) -> str:
    box = app.main.query_one("#log-notice")
    return str(box.render()) if box.display else ""


def header(app) -> str:
    return str(app.main.query_one(StatusBar).render())


async def started(pilot, app) -> None:
    await wait_for(pilot, lambda: app.snapshot is not None, timeout=20)
    table = app.main.query_one(EndpointTable)
    table.move_cursor(row=table.visible_names.index(ENDPOINT))
    panel = app.main.query_one(LogPanel)
    await wait_for(pilot, lambda: panel.group == GROUP and panel.mode == "poll", timeout=20)


def make_app(fsim, frozen_clock, **settings) -> SmtopApp:
    settings = Settings(endpoint_url=fsim.url, region="us-east-1", refresh=REFRESH, **settings)
    return SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)


@contextmanager
def calls_counted(fsim):
    """The simulator's count of calls made while the block ran, by "service:operation"."""
    fsim.reset_calls()
    counts: dict[str, int] = {}
    began = time.monotonic()
    yield counts
    counts.update(fsim.faults()["calls"])
    counts["_seconds"] = time.monotonic() - began


async def recovers_within_one_refresh(pilot, app) -> None:
    """After a fault clears, the refresh in flight may still fail; the next one must not."""
    polls = app.polls
    bar = app.main.query_one(StatusBar)
    await wait_for(pilot, lambda: bar.stale_reason is None, timeout=REFRESH * 2 + 15)
    assert app.polls <= polls + 2
    assert not app.main.query_one("#endpoints-box").has_class("-stale")


async def test_throttled_metrics_say_so_back_off_while_logs_keep_flowing(fsim, frozen_clock):
    app = make_app(fsim, frozen_clock)
    lines = Lines(fsim)
    async with app.run_test(size=(140, 40)) as pilot:
        await started(pilot, app)
        bar = app.main.query_one(StatusBar)
        with calls_counted(fsim) as calls:
            fsim.inject("throttle", "cloudwatch", "GetMetricData")
            await wait_for(pilot, lambda: bar.stale_reason is not None, timeout=20)
            assert "throttled" in bar.stale_reason and f"retrying in {REFRESH:g}s" in bar.stale_reason
            assert "cloudwatch GetMetricData" in header(app)
            # "retrying in" is within the 140 columns of the header, not cut off behind the reason.
            assert header(app).index(f"retrying in {REFRESH:g}s") < 140 - 20
            written = lines.write(3)
            await wait_for(pilot, lambda: set(written) <= set(log_lines(app)), timeout=10)
            polls = app.polls
            await wait_for(pilot, lambda: app.polls >= polls + 1, timeout=30)
            fsim.clear_faults()
        await recovers_within_one_refresh(pilot, app)
        assert app.is_running
    # botocore's standard retries: 3 attempts per refresh with jittered
    # backoff, then the next refresh REFRESH s later; never a tight loop.
    attempts = calls.get("cloudwatch:GetMetricData", 0)
    assert 3 <= attempts <= 3 * (calls["_seconds"] / REFRESH + 2), calls


@dataclass(frozen=True)
class Panel:
    """How a fault test reads one panel.  To cover a new panel (Insights,
    CloudTrail, Alarms) add a row to PANELS: the call it makes, where it
    writes its failure, and a probe that moves when it has fresh data."""

    name: str
    service: str
    operation: str
    failure_text: Callable[[SmtopApp], str]
    """The panel's own failure line ("" when it has none)."""
    open: tuple[str, ...] = ()
    """Keys that show the panel (and make it start polling)."""


def stale_text(app) -> str:
    return app.main.query_one(StatusBar).stale_reason or ""


PANELS = [
    Panel("metrics", "cloudwatch", "GetMetricData", stale_text),
    Panel("logs", "logs", "FilterLogEvents", notice),
]


@pytest.mark.parametrize("panel", PANELS, ids=lambda p: p.name)
async def test_a_denied_panel_names_the_iam_action_and_the_others_keep_updating(fsim, frozen_clock, panel):
    app = make_app(fsim, frozen_clock)
    lines = Lines(fsim)
    async with app.run_test(size=(140, 40)) as pilot:
        await started(pilot, app)
        for key in panel.open:
            await pilot.press(key)
        fsim.inject("deny", panel.service, panel.operation)
        action = f"{panel.service}:{panel.operation}"
        await wait_for(pilot, lambda: action in panel.failure_text(app), timeout=20)
        assert "retrying in" in panel.failure_text(app).lower()
        # The others keep updating: the refresh cycle and the log tail.
        polls = app.polls
        written = lines.write(2)
        await wait_for(pilot, lambda: app.polls >= polls + 2, timeout=20)
        for other in PANELS:
            if other is not panel:
                assert not other.failure_text(app), other.name
        if panel.name != "logs":
            await wait_for(pilot, lambda: set(written) <= set(log_lines(app)), timeout=10)
        fsim.clear_faults()
        await wait_for(pilot, lambda: not panel.failure_text(app), timeout=REFRESH * 2 + 10)
        if panel.name == "logs":
            await wait_for(pilot, lambda: set(written) <= set(log_lines(app)), timeout=10)
        assert app.is_running


async def test_expired_sso_token_says_which_login_to_run(fsim, frozen_clock, tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile oncall]\nregion = us-east-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[oncall]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    app = make_app(fsim, frozen_clock, profile="oncall")
    async with app.run_test(size=(160, 40)) as pilot:
        await started(pilot, app)
        bar = app.main.query_one(StatusBar)
        fsim.inject("expired")
        await wait_for(pilot, lambda: bar.stale_reason is not None and "aws sso login --profile oncall" in notice(app), timeout=20)
        assert "aws sso login --profile oncall" in bar.stale_reason
        assert "expired" in bar.stale_reason
        fsim.clear_faults()
        await recovers_within_one_refresh(pilot, app)
        written = Lines(fsim).write(1)
        await wait_for(pilot, lambda: set(written) <= set(log_lines(app)) and not notice(app), timeout=REFRESH + 10)


async def test_dropped_connections_and_latency_never_freeze_the_screen(fsim, frozen_clock):
    app = make_app(fsim, frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await started(pilot, app)
        bar = app.main.query_one(StatusBar)
        fsim.inject("latency", "sagemaker", "ListEndpoints", seconds=1.5)
        fsim.inject("drop", "cloudwatch", share=0.6)
        polls = app.polls
        await wait_for(pilot, lambda: bar.polling, timeout=10)
        # A refresh hangs on a slow call: the keys still answer, within that same refresh.
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), timeout=2.0)
        assert bar.polling and app.polls == polls
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.polls >= polls + 1, timeout=40)
        assert app.is_running and app.main.query_one(EndpointTable).visible_names
        fsim.clear_faults()
        await recovers_within_one_refresh(pilot, app)
        assert app.is_running


async def test_outage_and_restart_marks_stale_and_comes_back(fsim, frozen_clock):
    app = make_app(fsim, frozen_clock)
    lines = Lines(fsim)
    async with app.run_test(size=(140, 40)) as pilot:
        await started(pilot, app)
        bar = app.main.query_one(StatusBar)
        before = list(log_lines(app))
        fsim.outage(2.5)
        await wait_for(pilot, lambda: bar.stale_reason is not None, timeout=20)
        assert "connect" in bar.stale_reason.lower() or "connection" in bar.stale_reason.lower()
        assert app.snapshot is not None and app.main.query_one(EndpointTable).visible_names  # last data stays
        await recovers_within_one_refresh(pilot, app)
        written = lines.write(2)
        await wait_for(pilot, lambda: set(written) <= set(log_lines(app)), timeout=20)
        shown = log_lines(app)
        assert len(shown) == len(set(shown)) and set(before) <= set(shown)  # nothing twice, nothing lost


# Written independently of smtop.aws.readonly: what an operation name says it does.
_READS = ("Describe", "List", "Get", "Filter", "Lookup")
_READ_ONLY_STARTS = {"StartQuery", "StopQuery", "StartLiveTail"}


async def test_read_only_session_sends_no_mutating_call(fsim, frozen_clock):
    """Every call that reached the simulator during a whole session, recorded there."""
    fsim.reset_calls()
    app = make_app(fsim, frozen_clock, read_only=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(pilot, app)
        # Everything a user can do: every panel, refresh, and the keys that would write.
        for key in ("r", "d", "escape", "i", "escape", "A", "a", "n", "ctrl+s", "escape", "escape", "l", "l", "f", "t", "r"):
            await pilot.press(key)
            await pilot.pause(0.1)
        polls = app.polls
        await wait_for(pilot, lambda: app.polls >= polls + 1, timeout=20)
        assert app.is_running
    calls = fsim.faults()["calls"]
    assert {"sagemaker:ListEndpoints", "cloudwatch:GetMetricData", "logs:FilterLogEvents"} <= set(calls), calls
    mutating = {op for op in calls if not (op.split(":", 1)[1].startswith(_READS) or op.split(":", 1)[1] in _READ_ONLY_STARTS)}
    assert not mutating, mutating
