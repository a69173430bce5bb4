"""Shared fixtures: one deterministic simulator for the whole test session."""

from __future__ import annotations

import pytest

from smtop.sim.process import SimProcess, spawn_sim

SIM_NOW = 1_794_999_960
"""Where the session simulator's clock starts (a whole minute, 2026-11-18 11:06 UTC);
its backfilled history covers the three hours before it."""

SIM_SEED = 7
"""Seed of the session simulator's history."""


@pytest.fixture(scope="session")
def sim() -> SimProcess:
    """A simulator child process with the demo fleet, no live traffic, fixed seed and clock."""
    process = spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW)
    try:
        yield process
    finally:
        process.stop()
