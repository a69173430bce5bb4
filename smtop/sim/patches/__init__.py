"""What the simulator changes in moto, one module per service.

Everything here patches moto classes in the simulator's own process (it never
runs inside the console), at the handler or backend level, so moto's parsing
and serialization of every wire protocol stay in charge.  The one change to
moto's core is a fast path for long numeric lists in its JSON serializer.
"""

from __future__ import annotations

from smtop.sim.clock import SimClock
from smtop.sim.cloudtrail import Trail
from smtop.sim.patches.cloudwatch import MetricStores


def install_all(clock: SimClock, trail: Trail | None = None) -> MetricStores:
    """Apply every patch and return the metric stores the patched handlers use.

    ``trail`` is the recorded CloudTrail history LookupEvents answers from
    (an empty one when not given)."""
    from smtop.sim.patches import cloudwatch, logs, sagemaker, serialization, times

    times.install(clock)
    stores = MetricStores(clock)
    cloudwatch.install(stores)
    __import__("smtop.sim.patches.alarms", fromlist=["install"]).install(stores, clock)  # after cloudwatch: same handlers class
    sagemaker.install(clock)
    logs.install()
    __import__("smtop.sim.patches.insights", fromlist=["install"]).install(clock)  # Logs Insights
    serialization.install()
    from smtop.sim.patches import cloudtrail

    cloudtrail.install(trail or Trail(clock))
    return stores
