"""What the simulator changes in moto, one module per service.

Everything here patches moto classes in the simulator's own process (it never
runs inside the console), at the handler or backend level, so moto's parsing
and serialization of every wire protocol stay in charge.  The one change to
moto's core is a fast path for long numeric lists in its JSON serializer.
"""

from __future__ import annotations

from smtop.sim.clock import SimClock
from smtop.sim.patches.cloudwatch import MetricStores


def install_all(clock: SimClock) -> MetricStores:
    """Apply every patch and return the metric stores the patched handlers use."""
    from smtop.sim.patches import cloudwatch, logs, sagemaker, serialization, times

    times.install(clock)
    stores = MetricStores(clock)
    cloudwatch.install(stores)
    sagemaker.install(clock)
    logs.install()
    serialization.install()
    return stores
