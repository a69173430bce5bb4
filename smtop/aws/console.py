"""Everything the console reads, over one AWS session.

The UI and batch mode talk to this one object: it owns the fleet monitor
(endpoints + metrics) and starts log tails, so the UI never needs to know
which AWS API sits behind a panel.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, AsyncIterator, Iterable

from smtop.aws.alarms import AlarmMonitor, alarm_request
from smtop.aws.fleet import FleetMonitor
from smtop.aws.logs import LogTail, list_log_groups
from smtop.aws.session import AwsSession
from smtop.clock import Clock
from smtop.models import CallerIdentity, FleetSnapshot, TailUpdate
from smtop.models.alarm_draft import AlarmDraft
from smtop.models.alarms import Acknowledgement, AlarmHistoryItem, AlarmsSnapshot, MetricAlarm
from smtop.models.cloudtrail import TrailSnapshot
from smtop.models.insights import QueryDefinitions, QueryProgress, QueryRequest, SavedQuery
from smtop.models.switch import SwitchChoices
from smtop.models.tail import LiveTailGate


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
        self.alarm_monitor = AlarmMonitor(aws, clock)
        self.log_buffer = log_buffer
        self._trail = None  # TrailHistory, made on the first trail_events()

    @property
    def region(self) -> str | None:
        """The region the session resolved (from --region, the env or the profile)."""
        return self.aws.region

    @property
    def profile(self) -> str | None:
        return self.aws.profile

    async def whoami(self) -> CallerIdentity:
        """The account and principal behind the credentials (STS), for the header."""
        return await self.aws.whoami()

    async def switch_choices(self) -> SwitchChoices:
        """Profiles and regions the console can switch to (read off the event loop: files)."""
        return await asyncio.to_thread(_switch_choices)

    async def refresh(self) -> FleetSnapshot:
        """Endpoints and their metrics, incrementally (see FleetMonitor)."""
        return await self.fleet.refresh()

    async def select(self, endpoint: str | None) -> FleetSnapshot | None:
        """The console selected ``endpoint``: its panel-only metrics are asked
        with every refresh from now on, and fetched at once (one small
        GetMetricData call).  Returns the last snapshot with them (None
        before the first refresh)."""
        self.fleet.select(endpoint)
        return await self.fleet.refresh_selected()

    def select_all(self) -> None:
        """Every endpoint's panel-only metrics with every refresh (batch mode prints them all)."""
        self.fleet.select_all()

    def tail(
        self,
        group: str,
        *,
        filter_pattern: str | None = None,
        since: timedelta = timedelta(minutes=15),
        live_gate: LiveTailGate | None = None,
    ) -> AsyncIterator[TailUpdate]:
        """Follow a log group; cancel the iterating task to stop.  ``live_gate``
        says when Live Tail may run (see smtop.models.tail)."""
        return LogTail(
            self.aws,
            group,
            filter_pattern=filter_pattern,
            since=since,
            live_gate=live_gate,
            clock=self.clock,
            fill_limit=self.log_buffer,
            poll_interval=1.0,  # as `aws logs tail` and awslogs do while lines flow...
            quiet_interval=5.0,  # ...and 5 s when the group is quiet: the 5 TPS quota is the account's
        ).updates()

    async def log_groups(self, prefix: str) -> list[str]:
        return [group.name for group in await list_log_groups(self.aws, prefix)]

    # -- Logs Insights (issue 4) ----------------------------------------------
    def run_query(self, request: QueryRequest) -> AsyncIterator[QueryProgress]:
        """Run an Insights query to its end; cancel the iterating task to stop it (StopQuery)."""
        from smtop.aws.insights import InsightsRunner

        return InsightsRunner(self.aws, request).progress()

    async def query_definitions(self) -> QueryDefinitions:
        """The account's saved Insights queries (DescribeQueryDefinitions)."""
        from smtop.aws.insights import query_definitions

        return await query_definitions(self.aws)

    async def put_query_definition(self, query: SavedQuery) -> str:
        """Save a query in the account; refused under --read-only (ReadOnlyError)."""
        from smtop.aws.insights import put_query_definition

        return await put_query_definition(self.aws, query)

    # -- CloudTrail (issue 5) ---------------------------------------------------
    async def trail_events(self) -> TrailSnapshot:
        """Recent CloudTrail events (SageMaker, CloudWatch), incrementally; see TrailHistory."""
        from smtop.aws.cloudtrail import TrailHistory

        if self._trail is None:
            self._trail = TrailHistory(self.aws, self.clock, window=self.fleet.window)
        return await self._trail.poll()

    # -- alarms (issue 6) --------------------------------------------------------
    async def alarms(self, endpoints: Iterable[str]) -> AlarmsSnapshot:
        """The fleet's alarms with their mutes and acknowledgements."""
        return await self.alarm_monitor.refresh(endpoints)

    async def alarm_history(self, alarm: str) -> list[AlarmHistoryItem]:
        return await self.alarm_monitor.history(alarm)

    async def sns_topics(self) -> list[str]:
        return await self.alarm_monitor.topics()

    async def alarm_exists(self, alarm: str) -> bool:
        return await self.alarm_monitor.exists(alarm)

    def alarm_request(self, draft: AlarmDraft) -> dict[str, Any]:
        """What put_alarm(draft) sends (the new-alarm form shows it)."""
        return alarm_request(draft)

    async def put_alarm(self, draft: AlarmDraft) -> None:
        """PutMetricAlarm; refused under --read-only (ReadOnlyError)."""
        await self.alarm_monitor.put_alarm(draft)

    async def acknowledge(self, alarm: MetricAlarm, window: timedelta, note: str) -> tuple[Acknowledgement, str | None]:
        """A one-time mute rule over ``window``; refused under --read-only."""
        return await self.alarm_monitor.acknowledge(alarm, window, note)

    async def unacknowledge(self, alarm: MetricAlarm) -> tuple[list[str], str | None]:
        return await self.alarm_monitor.unacknowledge(alarm)


def _switch_choices() -> SwitchChoices:
    """The AWS config files' profiles and SageMaker's regions, as botocore knows them."""
    import botocore.session
    from botocore.exceptions import BotoCoreError

    session = botocore.session.Session()
    try:
        profiles = tuple(sorted(session.available_profiles))
    except BotoCoreError:  # a malformed config file: the switcher still offers regions (and typing)
        profiles = ()
    regions = tuple(sorted(session.get_available_regions("sagemaker")))
    return SwitchChoices(profiles=profiles, regions=regions)
