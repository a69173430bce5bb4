"""Resource times from the simulator's clock instead of the wall clock.

moto stamps what it creates (endpoints, alarms, log events, trails) with
``moto.core.utils.utcnow()``.  Reading the simulator's clock instead keeps one
notion of "now" in the whole simulated account: with ``--now`` the fleet's
CreationTime, an alarm's StateUpdatedTimestamp and the backfilled metrics
agree, and a second run with the same arguments reproduces them.

STS is the exception: the client checks a credential's Expiration against
its own clock (botocore refuses credentials that are already expired), so
STS stamps from a time never behind the wall clock, whatever ``--now`` says.
"""

from __future__ import annotations

import importlib

import moto.core.utils as moto_utils

from smtop.sim.clock import SimClock

# moto modules that imported utcnow by name (rebinding moto.core.utils alone
# would miss them); moto.core.utils itself covers unix_time()/unix_time_millis().
_MODULES = (
    "moto.cloudwatch.models",
    "moto.logs.models",
    "moto.sagemaker.models",
    "moto.cloudtrail.models",
)


def install(clock: SimClock) -> None:
    """Point moto's ``utcnow`` at ``clock`` in the modules the simulator uses."""
    moto_utils.utcnow = clock.utcnow_naive
    for name in _MODULES:
        module = importlib.import_module(name)
        if getattr(module, "utcnow", None) is not None:
            module.utcnow = clock.utcnow_naive
    importlib.import_module("moto.sts.models").utcnow = clock.utcnow_not_behind_wall
