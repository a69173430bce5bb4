"""What the simulator changes in moto, one module per service.

Everything here patches moto classes in the simulator's own process (it never
runs inside the console), at the handler or backend level, so moto's parsing
and serialization of every wire protocol stay in charge.  The one change to
moto's core is a fast path for long numeric lists in its JSON serializer.

Each module lists what it replaces in its ``HANDLERS`` table (see
:mod:`smtop.sim.patches.handlers`); :func:`install_all` installs every table
with what its handlers need.
"""

from __future__ import annotations

from smtop.sim.clock import SimClock
from smtop.sim.cloudtrail import Trail
from smtop.sim.patches.cloudwatch import MetricStores


def install_all(clock: SimClock, trail: Trail | None = None) -> MetricStores:
    """Apply every patch and return the metric stores the patched handlers use.

    ``trail`` is the recorded CloudTrail history LookupEvents answers from
    (an empty one when not given)."""
    from smtop.sim.patches import alarms, cloudtrail, cloudwatch, insights, logs, sagemaker, serialization, times
    from smtop.sim.patches.handlers import install_handlers

    times.install(clock)
    stores = MetricStores(clock)
    install_handlers(cloudwatch.HANDLERS, stores=stores)
    install_handlers(alarms.HANDLERS, engine=alarms.start_engine(stores, clock), clock=clock)
    install_handlers(
        sagemaker.HANDLERS,
        updates=sagemaker.EndpointUpdates(clock),
        clock=clock,
        instance_types=frozenset(sagemaker.accepted_instance_types()),
    )
    install_handlers(logs.HANDLERS)
    install_handlers(insights.HANDLERS, clock=clock)
    install_handlers(cloudtrail.HANDLERS, trail=trail or Trail(clock), lookup_limit=cloudtrail.LookupRateLimit())
    install_handlers(serialization.HANDLERS)
    return stores
