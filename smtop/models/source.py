"""The data contract: what the console and batch mode need from a source of data.

Three sources keep it: ``smtop.aws.console.ConsoleData`` (AWS),
``smtop.replay.recorder.RecordingSource`` (any source, recorded) and
``smtop.replay.player.ReplaySource`` (a recording played back).  It is split by
concern, so a panel is handed the part it uses (the log panel a
:class:`LogSource`, the CloudTrail feed a :class:`TrailSource`…); a
:class:`ConsoleSource` is all of them.

Polling has one shape everywhere: :func:`polled` turns a source's fetch into
an async iterator of :class:`Update`, one fetch at a time, the next one after
its interval or as soon as a :class:`RefreshSignal` asks.  Each panel runs one
worker that consumes one such stream (the log tail is a stream of its own).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, AsyncIterator, Awaitable, Callable, Generic, Iterable, Protocol, TypeVar

from smtop.errors import SmtopError
from smtop.models import CallerIdentity, FleetSnapshot, TailUpdate
from smtop.models.alarm_draft import AlarmDraft
from smtop.models.alarms import Acknowledgement, Alarm, AlarmHistoryItem, AlarmsSnapshot
from smtop.models.cloudtrail import TrailSnapshot
from smtop.models.insights import QueryDefinitions, QueryProgress, QueryRequest, SavedQuery
from smtop.models.switch import SwitchChoices
from smtop.models.tail import LiveTailGate

T = TypeVar("T")


class FleetSource(Protocol):
    """Endpoints and their metrics, and whose account they are."""

    @property
    def region(self) -> str | None: ...

    @property
    def profile(self) -> str | None: ...

    async def refresh(self) -> FleetSnapshot:
        """Endpoints and metrics now (incrementally after the first)."""
        ...

    async def select(self, endpoint: str | None) -> FleetSnapshot | None:
        """The selected endpoint changed: the last snapshot completed with its
        panel-only metrics (fetched now), None before the first refresh."""
        ...

    async def whoami(self) -> CallerIdentity: ...

    async def switch_choices(self) -> SwitchChoices: ...


class LogSource(Protocol):
    """Log groups and their tails."""

    def tail(
        self, group: str, *, filter_pattern: str | None, since: timedelta, live_gate: LiveTailGate | None = None
    ) -> AsyncIterator[TailUpdate]: ...

    async def log_groups(self, prefix: str) -> list[str]: ...


class AlarmSource(Protocol):
    """The fleet's alarms, and the three things the console changes: a new
    alarm, an acknowledgement (a mute rule) and its removal."""

    async def alarms(self, endpoints: Iterable[str]) -> AlarmsSnapshot: ...

    async def alarm_history(self, alarm: str) -> list[AlarmHistoryItem]: ...

    async def sns_topics(self) -> list[str]: ...

    async def alarm_exists(self, alarm: str) -> bool: ...

    def alarm_request(self, draft: AlarmDraft) -> dict[str, Any]:
        """The request ``put_alarm(draft)`` would send, for the form's preview."""
        ...

    async def put_alarm(self, draft: AlarmDraft) -> None: ...

    async def acknowledge(self, alarm: Alarm, window: timedelta, note: str) -> tuple[Acknowledgement, str | None]: ...

    async def unacknowledge(self, alarm: Alarm) -> tuple[list[str], str | None]: ...


class TrailSource(Protocol):
    """Recent CloudTrail events about the fleet."""

    async def trail_events(self) -> TrailSnapshot: ...


class InsightsSource(Protocol):
    """Logs Insights: saved queries and runs."""

    def run_query(self, request: QueryRequest) -> AsyncIterator[QueryProgress]: ...

    async def query_definitions(self) -> QueryDefinitions: ...

    async def put_query_definition(self, query: SavedQuery) -> str: ...


class ConsoleSource(FleetSource, LogSource, AlarmSource, TrailSource, InsightsSource, Protocol):
    """Everything the console shows."""


# -- polling ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Update(Generic[T]):
    """One fetch of a polled stream: its value, or why it failed."""

    value: T | None = None
    error: SmtopError | None = None


class RefreshSignal:
    """Asks a polled stream for its next fetch now (a key, a replay's seek,
    an alarm just changed) instead of after its interval."""

    def __init__(self) -> None:
        self._asked = asyncio.Event()

    def now(self) -> None:
        self._asked.set()

    async def wait(self, seconds: float | None) -> None:
        """Until ``now()`` or ``seconds`` (None: only ``now()``)."""
        try:
            await asyncio.wait_for(self._asked.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        self._asked.clear()


async def polled(
    fetch: Callable[[], Awaitable[T]],
    *,
    every: float | Callable[[Update[T]], float | None],
    now: RefreshSignal,
) -> AsyncIterator[Update[T]]:
    """``fetch`` again and again, as :class:`Update` values.

    One fetch at a time: the next waits ``every`` seconds after the last one
    ended (so a slow AWS never piles calls up), or less when ``now`` asks.
    ``every`` may depend on the last update (a throttled feed waits longer);
    None waits for ``now`` alone (expired credentials: nothing retries a dead
    login by itself).
    """
    while True:
        try:
            update: Update[T] = Update(value=await fetch())
        except SmtopError as error:
            update = Update(error=error)
        yield update
        await now.wait(every(update) if callable(every) else every)
