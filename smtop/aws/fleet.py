"""The fleet monitor: the one call the UI and batch mode make for data.

A refresh lists (and, where something changed, describes) the endpoints,
then runs the metric plan for them and returns an immutable snapshot.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Mapping

from smtop.aws.endpoints import EndpointInventory
from smtop.aws.metrics import DEFAULT_OVERLAP, MetricPoller
from smtop.aws.session import AwsSession
from smtop.catalog import METRICS, MetricSpec
from smtop.clock import Clock, SystemClock
from smtop.models import FleetSnapshot


class FleetMonitor:
    """Endpoints plus their metrics, refreshed incrementally.

    Args:
        aws: an open ``AwsSession``.
        clock: where "now" comes from (frozen in tests and screenshots).
        window: how much metric history to keep.
        period: seconds per datapoint.
        endpoint_pattern: glob (``fraud-*``) or substring filter on names.
        overlap: periods re-fetched each refresh for late datapoints.
        metrics: the catalog to poll; defaults to all of ``smtop.catalog``.

    Example:
        >>> async with AwsSession(region="us-east-1") as aws:
        ...     monitor = FleetMonitor(aws, SystemClock())
        ...     snapshot = await monitor.refresh()
    """

    def __init__(
        self,
        aws: AwsSession,
        clock: Clock | None = None,
        window: timedelta = timedelta(hours=3),
        period: int = 60,
        endpoint_pattern: str | None = None,
        overlap: int = DEFAULT_OVERLAP,
        metrics: Mapping[str, MetricSpec] = METRICS,
    ) -> None:
        self._clock = clock or SystemClock()
        self.period = period
        self.window = window
        self.inventory = EndpointInventory(aws, self._clock, endpoint_pattern)
        self.poller = MetricPoller(aws, window=window, period=period, overlap=overlap, metrics=metrics)
        self._lock = asyncio.Lock()
        self.last: FleetSnapshot | None = None
        """The last successful snapshot, if any."""

    async def refresh(self) -> FleetSnapshot:
        """Poll AWS once and return what the console shows.

        Safe to call again after a failure: a failed refresh changes nothing,
        so the next one asks for the same span and leaves no gap.  Concurrent
        calls run one after the other.

        Raises:
            SmtopError: any AWS failure, with a message for the user.
        """
        async with self._lock:
            taken_at = self._clock.now()
            endpoints = await self.inventory.refresh()
            stats = await self.poller.poll(endpoints, taken_at)
            snapshot = FleetSnapshot(
                taken_at=taken_at,
                endpoints=tuple(endpoints),
                metrics=self.poller.endpoint_metrics(endpoints),
                period=self.period,
                poll=stats,
            )
            self.last = snapshot
            return snapshot
