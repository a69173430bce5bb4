"""Switching profile and region inside the console (P), against the simulator.

The profiles live in a temporary AWS config file whose endpoint_url points at
the simulator: the console reaches it through botocore's own profile
resolution, exactly as it would reach a real account.  The simulator's fleet
lives in us-east-1; the test creates one endpoint in ca-central-1 (a region
no other test writes to), so the two regions have different data.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import boto3
import pytest
from botocore.config import Config

from smtop.cli import open_fleet
from smtop.models.switch import SwitchTarget
from smtop.config.settings import Settings
from smtop.sim.fleet import DEMO_FLEET
from smtop.ui.app import SmtopApp
from smtop.ui.screens.switch import SwitchScreen
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.insights_panel import DEFAULT_RANGE, InsightsPanel
from smtop.ui.widgets.log_panel import DEFAULT_SINCE, LogPanel
from smtop.ui.widgets.status_bar import StatusBar
from smtop.ui.widgets.trail_feed import TrailFeed
from tests.ui.conftest import wait_for

OTHER_REGION = "ca-central-1"
OTHER_ENDPOINT = "switch-test-ca"
ACCOUNT = "123456789012"  # moto's default account: what STS answers for any key


@pytest.fixture
def profiles(sim, tmp_path, monkeypatch):
    """~/.aws/config with a working profile per region and one without credentials."""
    config = tmp_path / "aws-config"
    config.write_text(
        f"[profile sim-east]\nregion = us-east-1\nendpoint_url = {sim.url}\naws_access_key_id = a\naws_secret_access_key = b\n\n"
        f"[profile sim-ca]\nregion = {OTHER_REGION}\nendpoint_url = {sim.url}\naws_access_key_id = a\naws_secret_access_key = b\n\n"
        f"[profile no-keys]\nregion = {OTHER_REGION}\nendpoint_url = {sim.url}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    # With a profile named, botocore skips the environment's keys: no-keys has none at all.
    return config


@pytest.fixture(scope="module")
def other_region_endpoint(sim) -> str:
    sm = boto3.client(
        "sagemaker", endpoint_url=sim.url, region_name=OTHER_REGION, aws_access_key_id="a",
        aws_secret_access_key="b", config=Config(retries={"max_attempts": 1}),
    )
    if OTHER_ENDPOINT not in [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]:
        sm.create_model(ModelName="switch-m", ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm", PrimaryContainer={"Image": "img"})
        sm.create_endpoint_config(
            EndpointConfigName="switch-cfg",
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "switch-m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        )
        sm.create_endpoint(EndpointName=OTHER_ENDPOINT, EndpointConfigName="switch-cfg")
    return OTHER_ENDPOINT


def make_app(settings: Settings, clock) -> SmtopApp:
    def switch(target: SwitchTarget) -> AbstractAsyncContextManager:
        return open_fleet(replace(settings, profile=target.profile, region=target.region), clock)

    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock, switch=switch)


def header(app: SmtopApp) -> str:
    return app.main.query_one(StatusBar).render().plain


def table_names(app: SmtopApp) -> list[str]:
    return app.main.query_one(EndpointTable).visible_names


async def test_switching_region_replaces_every_panel(profiles, other_region_endpoint, frozen_clock):
    settings = Settings(profile="sim-east", refresh=60.0)
    app = make_app(settings, frozen_clock)
    east = sorted(spec.name for spec in DEMO_FLEET)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None and app.main.query_one(StatusBar).identity is not None)
        assert table_names(app) == east
        assert f"sim-east@{ACCOUNT} · us-east-1" in header(app)
        await wait_for(pilot, lambda: app.main.query_one(LogPanel).received > 0)  # the east log tail runs
        await wait_for(pilot, lambda: app.main.query_one(TrailFeed).shown)  # east CloudTrail rows are on screen
        # Choices made on the panels, which the switch must keep.
        app.main.query_one(LogPanel).since_index = 0
        app.main.query_one(InsightsPanel).range_index = 0
        app.main.query_one(TrailFeed).show_all = True

        await pilot.press("P")
        screen = app.screen
        assert isinstance(screen, SwitchScreen)
        await wait_for(pilot, lambda: screen.choices.profiles == ("no-keys", "sim-ca", "sim-east"))
        assert OTHER_REGION in screen.choices.regions and "us-east-1" in screen.choices.regions
        await pilot.press(*"sim-ca", "enter")

        await wait_for(pilot, lambda: app.switches == 1)
        await wait_for(pilot, lambda: table_names(app) == [other_region_endpoint])
        assert f"sim-ca@{ACCOUNT} · {OTHER_REGION}" in header(app)
        assert app.main.query_one(LogPanel).since_index == 0 != DEFAULT_SINCE
        assert app.main.query_one(InsightsPanel).range_index == 0 != DEFAULT_RANGE
        assert app.main.query_one(TrailFeed).show_all
        # Nothing of us-east-1 is left: no east endpoint in the table (above), no east log line, no east event.
        logs = app.main.query_one(LogPanel)
        assert logs.group in (None, f"/aws/sagemaker/Endpoints/{other_region_endpoint}")
        assert not any(name in line for line in logs.view.text_lines() for name in east)
        assert app.main.selected in (None, other_region_endpoint)
        await wait_for(pilot, lambda: app.main.alarms is not None)
        assert not any(a.endpoint in east for a in app.main.alarms.alarms)  # the east fleet's alarms are gone
        # The new region's CloudTrail: the test's own CreateEndpoint there, nothing from the east fleet.
        feed = app.main.query_one(TrailFeed)
        await wait_for(pilot, lambda: any(e.resource == other_region_endpoint for e in feed.snapshot.events))
        assert all(not (e.endpoints & set(east)) for e in feed.snapshot.events)
        # Polls go on against the new source.
        polls = app.main.polls
        await pilot.press("r")
        await wait_for(pilot, lambda: app.main.polls > polls)
        assert table_names(app) == [other_region_endpoint]


async def test_a_failed_switch_keeps_the_previous_source(profiles, other_region_endpoint, frozen_clock):
    settings = Settings(profile="sim-ca", refresh=60.0)
    app = make_app(settings, frozen_clock)
    notices: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.notify = lambda message, **kw: notices.append(str(message))  # what the user reads, recorded
        await wait_for(pilot, lambda: table_names(app) == [other_region_endpoint])
        source = app.main.source

        await pilot.press("P")
        await wait_for(pilot, lambda: "no-keys" in app.screen.choices.profiles)
        await pilot.press(*"no-keys", "enter")
        await wait_for(pilot, lambda: any("Could not switch" in n for n in notices))
        failure = next(n for n in notices if "Could not switch" in n)
        assert "no-keys" in failure and "still on the previous one" in failure
        assert "credentials" in failure.lower()

        await pilot.press("P")
        await pilot.press(*"no-such-profile", "enter")  # neither a profile nor a region: refused in the picker
        assert any("neither a profile" in n for n in notices)
        await pilot.press("escape")

        assert app.main.source is source and app.switches == 0
        assert f"sim-ca@{ACCOUNT}" in header(app)
        polls = app.main.polls
        await pilot.press("r")
        await wait_for(pilot, lambda: app.main.polls > polls)
        assert table_names(app) == [other_region_endpoint]
        assert app.main.query_one(StatusBar).stale_reason is None

        # Enter takes the one name the filter leaves: a region, keeping the profile.
        await pilot.press("P")
        await wait_for(pilot, lambda: OTHER_REGION in app.screen.choices.regions)
        await pilot.press(*"ca-centr", "enter")
        await wait_for(pilot, lambda: app.switches == 1)
        assert app.main.source is not source
        assert f"sim-ca@{ACCOUNT} · {OTHER_REGION}" in header(app)
