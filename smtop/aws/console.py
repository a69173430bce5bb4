"""Everything the console reads, over one AWS session.

The UI and batch mode talk to this one object: it owns the fleet monitor
(endpoints + metrics) and starts log tails, so the UI never needs to know
which AWS API sits behind a panel.
"""

from __future__ import annotations

from datetime import timedelta
from typing import AsyncIterator

from smtop.aws.fleet import FleetMonitor
from smtop.aws.logs import LogTail, list_log_groups
from smtop.aws.session import AwsSession
from smtop.clock import Clock
from smtop.models import FleetSnapshot, TailUpdate


class ConsoleData:
    """The data source of the console.

    Args:
        aws: an open session.
        clock: the one clock (frozen in tests and screenshots).
        window: metric history kept per series.
        period: seconds per datapoint.
        endpoint_pattern: only endpoints whose name matches.
        log_buffer: lines the log panel keeps (the tail's initial fill keeps no more).
    """

    def __init__(
        self,
        aws: AwsSession,
        clock: Clock,
        *,
        window: timedelta = timedelta(hours=3),
        period: int = 60,
        endpoint_pattern: str | None = None,
        log_buffer: int = 10_000,
    ) -> None:
        self.aws = aws
        self.clock = clock
        self.fleet = FleetMonitor(aws, clock, window=window, period=period, endpoint_pattern=endpoint_pattern)
        self.log_buffer = log_buffer

    @property
    def region(self) -> str | None:
        """The region the session resolved (from --region, the env or the profile)."""
        return self.aws.region

    @property
    def profile(self) -> str | None:
        return self.aws.profile

    async def refresh(self) -> FleetSnapshot:
        """Endpoints and their metrics, incrementally (see FleetMonitor)."""
        return await self.fleet.refresh()

    def tail(self, group: str, *, filter_pattern: str | None = None, since: timedelta = timedelta(minutes=15)) -> AsyncIterator[TailUpdate]:
        """Follow a log group; cancel the iterating task to stop."""
        return LogTail(
            self.aws,
            group,
            filter_pattern=filter_pattern,
            since=since,
            clock=self.clock,
            fill_limit=self.log_buffer,
            poll_interval=1.0,  # as `aws logs tail` and awslogs do; one tail stays far below the 5 TPS quota
        ).updates()

    async def log_groups(self, prefix: str) -> list[str]:
        return [group.name for group in await list_log_groups(self.aws, prefix)]
