"""Shared fixtures: one deterministic simulator for the whole test session."""

from __future__ import annotations

import pytest

from smtop.sim.process import SimProcess, spawn_sim

SIM_NOW = 1_794_999_960
"""Where the session simulator's clock starts (a whole minute, 2026-11-18 11:06 UTC);
its backfilled history covers the three hours before it."""

SIM_SEED = 7
"""Seed of the session simulator's history."""


@pytest.fixture(scope="session", autouse=True)
def cache_home(tmp_path_factory):
    """smtop's cache (botocore's cut-down models, smtop.aws.lean_models) in a
    directory of this test run, never the developer's own."""
    path = tmp_path_factory.mktemp("cache-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(path))
        yield path


@pytest.fixture(scope="session")
def sim() -> SimProcess:
    """A simulator child process with the demo fleet, no live traffic, fixed seed and clock."""
    process = spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW)
    try:
        yield process
    finally:
        process.stop()


def isolated_aws_env(monkeypatch, tmp_path, key: str = "testing", secret: str = "testing", token: str | None = None) -> None:
    """No AWS_* variable of the developer's shell, empty config and credentials
    files, and these keys: no test reads a real account's settings."""
    import os

    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    if token is not None:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)


def private_fault_sim() -> SimProcess:
    """An empty simulator of its own (no fleet, no traffic): faults and outages stay in it."""
    return spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW, extra_args=["--no-fleet"])
