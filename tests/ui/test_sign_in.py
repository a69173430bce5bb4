"""Signing in again inside the console (L), against the simulator over HTTP.

Expired credentials put the console in one visible state that says what to do
and stops its polls; L opens the same profile anew (re-reading it); a role that
needs an MFA code asks for it in a dialog.  The profiles live in a temporary
AWS config file whose endpoint_url points at the simulator, so every call,
the role's AssumeRole included, goes over the wire.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import pytest

from smtop.cli import open_fleet
from smtop.models.switch import SwitchTarget
from smtop.config.settings import Settings
from smtop.sim.fleet import DEMO_FLEET
from smtop.ui.app import SmtopApp
from smtop.ui.screens.mfa_code import MfaCodeScreen
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.status_bar import StatusBar
from tests.ui.conftest import wait_for

ACCOUNT = "123456789012"
MFA_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/dave"


@pytest.fixture
def profiles(sim, tmp_path, monkeypatch):
    # The role sessions' caches (~/.aws/cli/cache, and smtop's for the simulator's endpoint) are this test's.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    config = tmp_path / "aws-config"
    config.write_text(
        f"[profile keys]\nregion = us-east-1\nendpoint_url = {sim.url}\naws_access_key_id = a\naws_secret_access_key = b\n\n"
        f"[profile mfa]\nregion = us-east-1\nendpoint_url = {sim.url}\nrole_arn = arn:aws:iam::{ACCOUNT}:role/Admin\n"
        f"source_profile = keys\nmfa_serial = {MFA_SERIAL}\nrole_session_name = dave\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return config


def make_app(settings: Settings, clock) -> SmtopApp:
    """The app as the command line builds it: a switch opens the profile anew, with the dialog's code."""

    def switch(target: SwitchTarget) -> AbstractAsyncContextManager:
        return open_fleet(replace(settings, profile=target.profile, region=target.region), clock, mfa_code=target.mfa_code)

    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock, switch=switch)


def header(app: SmtopApp) -> str:
    return app.main.query_one(StatusBar).render().plain


def fleet_names() -> list[str]:
    return sorted(spec.name for spec in DEMO_FLEET)


def mfa_dialog_open(app: SmtopApp) -> bool:
    return isinstance(app.screen, MfaCodeScreen) and bool(app.screen.query("#mfa-code"))


def sagemaker_calls(sim) -> int:
    return sum(n for call, n in sim.faults()["calls"].items() if call.startswith("sagemaker:"))


async def test_expired_credentials_stop_the_polls_until_signing_in_again(sim, profiles, frozen_clock):
    app = make_app(Settings(profile="keys", refresh=1.0), frozen_clock)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        sim.inject("expired", "sagemaker")
        try:
            await wait_for(pilot, lambda: app.main.signed_out is not None)
            await wait_for(pilot, lambda: "press L to sign in again" in header(app))
            text = header(app)
            assert "STALE since" in text and "expired" in text and "retrying" not in text
            polls = app.main.polls
            await pilot.pause(2.5)
            assert app.main.polls == polls  # nothing refreshes by itself any more (every 1 s before)
            # The session is signed out: a refresh now fails at once, without reaching AWS.
            before = sagemaker_calls(sim)
            await pilot.press("r")
            await wait_for(pilot, lambda: app.main.polls == polls + 1)
            assert sagemaker_calls(sim) == before
        finally:
            sim.clear_faults()

        await pilot.press("L")  # the user renewed their keys: sign in again
        await wait_for(pilot, lambda: app.switches == 1)
        await wait_for(pilot, lambda: app.main.signed_out is None and "STALE" not in header(app))
        assert app.main.query_one(EndpointTable).visible_names == fleet_names()
        polls = app.main.polls
        await wait_for(pilot, lambda: app.main.polls > polls)  # refreshing by itself again


async def test_a_role_that_needs_mfa_asks_in_a_dialog_and_signs_in(sim, profiles, frozen_clock):
    """A console without a terminal to prompt on (a tab of --serve, or a cached
    session gone) asks for the code itself; the role is assumed with it."""
    app = make_app(Settings(profile="mfa", refresh=60.0), frozen_clock)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: mfa_dialog_open(app))
        dialog = app.screen
        assert MFA_SERIAL in dialog.query_one("#mfa-title").render().plain
        await pilot.press(*"12345", "enter")  # five digits: STS's TokenCode is six
        assert app.screen is dialog and app.switches == 0
        before = sim.faults()["calls"].get("sts:AssumeRole", 0)
        await pilot.press("6", "enter")
        await wait_for(pilot, lambda: app.switches == 1, timeout=20)
        await wait_for(pilot, lambda: app.main.query_one(EndpointTable).visible_names == fleet_names())
        assert sim.faults()["calls"].get("sts:AssumeRole", 0) == before + 1
        await wait_for(pilot, lambda: app.main.query_one(StatusBar).identity is not None)
        assert ":assumed-role/Admin/dave" in app.main.query_one(StatusBar).identity.arn
        assert "STALE" not in header(app)


async def test_escape_leaves_the_dialog_and_the_header_says_what_to_do(sim, profiles, frozen_clock):
    app = make_app(Settings(profile="mfa", refresh=60.0), frozen_clock)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: mfa_dialog_open(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, MfaCodeScreen))
        assert "press L to sign in again" in header(app) and "MFA code" in header(app)
        await pilot.press("L")  # asks again
        await wait_for(pilot, lambda: mfa_dialog_open(app))


async def test_signing_in_again_keeps_the_selected_endpoint_and_the_order(sim, profiles, frozen_clock):
    app = make_app(Settings(profile="keys", refresh=60.0), frozen_clock)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        table = app.main.query_one(EndpointTable)
        await pilot.press("S")  # names, Z to A
        order = table.visible_names
        assert order == sorted(order, reverse=True)
        await pilot.press("down", "down")
        chosen = table.selected_name
        await wait_for(pilot, lambda: app.main.selected == chosen)
        await pilot.press("L")
        await wait_for(pilot, lambda: app.switches == 1)
        table = app.main.query_one(EndpointTable)  # composed anew
        await wait_for(pilot, lambda: table.visible_names == order)
        await wait_for(pilot, lambda: app.main.selected == chosen)
        assert table.selected_name == chosen


async def test_environment_keys_that_expired_do_not_offer_to_sign_in_again(sim, frozen_clock):
    """A running process cannot re-read its environment: the header says to start
    smtop again with fresh keys, and offers no L."""
    settings = Settings(endpoint_url=sim.url, region="us-east-1", refresh=60.0)
    app = make_app(settings, frozen_clock)
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        sim.inject("expired", "sagemaker")
        try:
            await pilot.press("r")
            await wait_for(pilot, lambda: app.main.signed_out is not None)
        finally:
            sim.clear_faults()
        text = header(app)
        assert "export fresh AWS_ACCESS_KEY_ID" in text and "start smtop again" in text
        assert "press L" not in text and not app.main.signed_out.renewable


async def test_switching_to_a_profile_that_needs_mfa_asks_for_the_code(sim, profiles, frozen_clock):
    from smtop.ui.screens.switch import SwitchScreen

    app = make_app(Settings(profile="keys", refresh=60.0), frozen_clock)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, SwitchScreen) and "mfa" in app.screen.choices.profiles)
        await pilot.press(*"mfa", "enter")
        await wait_for(pilot, lambda: mfa_dialog_open(app), timeout=20)
        await pilot.press(*"246810", "enter")
        await wait_for(pilot, lambda: app.switches == 1, timeout=20)
        await wait_for(pilot, lambda: app.main.query_one(StatusBar).identity is not None)
        assert ":assumed-role/Admin/dave" in app.main.query_one(StatusBar).identity.arn
        assert app.settings.profile == "mfa"
