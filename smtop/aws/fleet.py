"""The fleet monitor: the one call the UI and batch mode make for data.

A refresh lists (and, where something changed, describes) the endpoints,
then runs the metric plan for them and returns an immutable snapshot.  An
endpoint that could not be described is in the snapshot all the same, marked
(see ``smtop.aws.endpoints``): its metrics are asked for the variants last
described, and one never described has none until it is.

The monitor also knows which endpoint the console has selected: the metrics
only its metric panel shows are asked for that endpoint alone (see
``smtop.aws.metrics``), with every refresh and at once when it changes.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Mapping

from smtop.aws.endpoints import EndpointInventory
from smtop.aws.metrics import DEFAULT_OVERLAP, MetricPoller
from smtop.aws.session import AwsSession
from smtop.models.catalog import METRICS, MetricSpec
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
        metrics: the catalog to poll; defaults to all of ``smtop.models.catalog``.

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
        self._selected: str | None = None
        self._in_last: str | None = None  # whose panel-only metrics `last` holds
        self._everything = False
        self.last: FleetSnapshot | None = None
        """The last successful snapshot, if any."""

    def select(self, endpoint: str | None) -> None:
        """The endpoint whose panel-only metrics (catalog ``selected_only``)
        the refreshes ask for from now on; the previous one's are dropped."""
        self._selected = endpoint

    def select_all(self) -> None:
        """Batch mode prints the whole fleet: every endpoint's panel-only metrics
        too, and every endpoint's description, however long pacing makes the
        describes take (the console's refresh instead waits at most the
        inventory's budget and describes the rest at the next refresh)."""
        self._everything = True
        self.inventory.budget = None

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
            selected = {e.name for e in endpoints} if self._everything else {self._selected}
            stats = await self.poller.poll(endpoints, taken_at, selected)
            self._in_last = self._selected
            snapshot = FleetSnapshot(
                taken_at=taken_at,
                endpoints=tuple(endpoints),
                metrics=self.poller.endpoint_metrics(endpoints),
                period=self.period,
                poll=stats,
            )
            self.last = snapshot
            return snapshot

    async def refresh_selected(self) -> FleetSnapshot | None:
        """The last snapshot with the selected endpoint's panel-only metrics,
        fetched now if they are missing (one small GetMetricData call), so a
        new selection need not wait for the next refresh.

        Returns None before the first refresh (which will include them).
        Runs after a refresh in progress, never beside it.  The previous
        selection's panel-only series are dropped, not kept warm: memory stays
        at the fleet plus one endpoint, and coming back to it costs the same
        one call either way (only datapoints, which are free, would differ).

        Raises:
            SmtopError: any AWS failure; the next refresh asks them again.
        """
        async with self._lock:
            last = self.last
            endpoint = last.endpoint(self._selected) if last is not None else None
            if last is None or endpoint is None or self._everything:
                return last
            await self.poller.poll_selected(endpoint)
            metrics = dict(last.metrics)
            # The previous selection's panel-only series were dropped: rebuild its entry too.
            for name in {endpoint.name, self._in_last} - {None}:
                if (changed := last.endpoint(name)) is not None:
                    metrics[name] = self.poller.metrics_for(changed)
            self._in_last = endpoint.name
            self.last = replace(last, metrics=metrics)
            return self.last
