"""Console tests run the real app against the simulator over HTTP."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from smtop.clock import FrozenClock
from smtop.config.settings import Settings
from tests.conftest import SIM_NOW, isolated_aws_env


@pytest.fixture
def frozen_clock() -> FrozenClock:
    return FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc))


@pytest.fixture
def sim_settings(sim) -> Settings:
    return Settings(endpoint_url=sim.url, region="us-east-1", refresh=60.0)


async def wait_for(pilot, predicate, timeout: float = 10.0) -> None:
    """Let the app run until predicate() holds (data arrives through real HTTP)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch, tmp_path):
    """No test may read the developer's AWS config or reach a real account."""
    isolated_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def terminal_environment(monkeypatch, tmp_path):
    """The same terminal and no config file for every console test, whatever the
    developer's shell has: graphs draw braille only under a UTF-8 locale, NO_COLOR
    turns colours off, and a real config file would change keys, ranges and theme."""
    for name in ("LC_ALL", "LC_CTYPE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("SMTOP_CONFIG", str(tmp_path / "no-config.toml"))
