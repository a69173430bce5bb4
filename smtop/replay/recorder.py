"""--record: a wrapper for any source that passes every call through and writes what came back."""


from __future__ import annotations

import gzip
import json
import time
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

from smtop import __version__
from smtop.clock import Clock
from smtop.models import (
    CallerIdentity,
    FleetSnapshot,
    TailUpdate,
)
from smtop.models.alarm_draft import AlarmDraft
from smtop.models.alarms import (
    Alarm,
    AlarmHistoryItem,
    AlarmsSnapshot,
)
from smtop.models.cloudtrail import TrailSnapshot
from smtop.models.insights import QueryDefinitions, QueryProgress, QueryRequest, SavedQuery
from smtop.models.switch import SwitchChoices

from smtop.replay.codec import (
    FORMAT,
    RecordingError,
    SeriesState,
    VERSION,
    enc_alarms,
    enc_definitions,
    enc_history,
    enc_progress,
    enc_request,
    enc_snapshot,
    enc_tail,
    enc_trail_event,
    series_state,
)


KEYFRAME_EVERY = 60
"""Snapshots between two keyframes: bounds a seek's work, costs one full snapshot each."""
FLUSH_SECONDS = 2.0
"""A recording is flushed at least this often, so a crash loses at most that much."""


class Recorder:
    """Writes one recording file; shared by every source of a run (a switch starts a new section).

    Args:
        path: the file (overwritten).
        clock: the console's clock: each record's time.
        refresh, window: the console's, so the replay looks the same.
    """

    def __init__(self, path: str | Path, clock: Clock, *, refresh: float, window: timedelta) -> None:
        self.path = Path(path)
        self._clock = clock
        try:
            self._file = gzip.open(self.path, "wt", encoding="utf-8", compresslevel=6)
        except OSError as error:
            raise RecordingError(f"cannot write the recording {str(path)!r}: {error.strerror or error}") from None
        self._last_flush = time.monotonic()
        self._series: SeriesState | None = None
        self._snapshots = 0
        self._trail_ids: set[str] = set()
        self.records = 0
        self._write(
            {
                "format": FORMAT, "version": VERSION, "smtop": __version__, "created": time.time(),
                "refresh": refresh, "window": window.total_seconds(),
            }
        )

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def begin_source(self, profile: str | None, region: str | None) -> None:
        """A new source (start or profile/region switch): the next snapshot is a keyframe."""
        self._series = None
        self._snapshots = 0
        self._trail_ids.clear()
        self.record("source", profile=profile, region=region)

    def record(self, kind: str, **fields: Any) -> None:
        self._write({"t": self._clock.now().timestamp(), "k": kind, **fields})

    def snapshot(self, snapshot: FleetSnapshot) -> None:
        state = series_state(snapshot)
        keyframe = self._series is None or self._snapshots % KEYFRAME_EVERY == 0
        self.record("snapshot", data=enc_snapshot(snapshot, state, None if keyframe else self._series))
        self._series = state
        self._snapshots += 1
        self._flush()  # a sync point per refresh: a crash loses at most what came after it

    def trail(self, snapshot: TrailSnapshot) -> None:
        new = [enc_trail_event(e) for e in snapshot.events if e.event_id not in self._trail_ids]
        self._trail_ids.update(e.event_id for e in snapshot.events)
        self.record("trail", ids=[e.event_id for e in snapshot.events], new=new, added=snapshot.added, requests=snapshot.requests)

    def _write(self, record: dict) -> None:
        if self._file.closed:
            return
        self._file.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
        self.records += 1
        if time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self._flush()

    def _flush(self) -> None:
        self._file.flush()  # gzip's Z_SYNC_FLUSH: readable up to here, compression state kept
        self._last_flush = time.monotonic()


class RecordingSource:
    """A ConsoleSource that passes everything through and records what came back."""

    def __init__(self, inner: Any, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder
        recorder.begin_source(inner.profile, inner.region)

    @property
    def region(self) -> str | None:
        return self._inner.region

    @property
    def profile(self) -> str | None:
        return self._inner.profile

    async def refresh(self) -> FleetSnapshot:
        snapshot = await self._inner.refresh()
        self._recorder.snapshot(snapshot)
        return snapshot

    async def select(self, endpoint: str | None) -> FleetSnapshot | None:
        # Recorded like a refresh: the replay then has the panel-only metrics
        # of whichever endpoint was selected while recording.
        snapshot = await self._inner.select(endpoint)
        if snapshot is not None:
            self._recorder.snapshot(snapshot)
        return snapshot

    async def whoami(self) -> CallerIdentity:
        identity = await self._inner.whoami()
        self._recorder.record("whoami", account=identity.account, arn=identity.arn, user_id=identity.user_id)
        return identity

    async def switch_choices(self) -> SwitchChoices:
        return await self._inner.switch_choices()

    async def tail(
        self, group: str, *, filter_pattern: str | None = None, since: timedelta = timedelta(minutes=15), live_gate: Any = None
    ) -> AsyncIterator[TailUpdate]:
        async for update in self._inner.tail(group, filter_pattern=filter_pattern, since=since, live_gate=live_gate):
            self._recorder.record("tail", pattern=filter_pattern, data=enc_tail(update))
            yield update

    async def log_groups(self, prefix: str) -> list[str]:
        groups = await self._inner.log_groups(prefix)
        self._recorder.record("log_groups", prefix=prefix, groups=list(groups))
        return groups

    async def trail_events(self) -> TrailSnapshot:
        snapshot = await self._inner.trail_events()
        self._recorder.trail(snapshot)
        return snapshot

    async def alarms(self, endpoints: Iterable[str]) -> AlarmsSnapshot:
        snapshot = await self._inner.alarms(endpoints)
        self._recorder.record("alarms", data=enc_alarms(snapshot))
        return snapshot

    async def alarm_history(self, alarm: str) -> list[AlarmHistoryItem]:
        items = await self._inner.alarm_history(alarm)
        self._recorder.record("history", alarm=alarm, items=enc_history(items))
        return items

    async def run_query(self, request: QueryRequest) -> AsyncIterator[QueryProgress]:
        async for progress in self._inner.run_query(request):
            if progress.done:  # only the result: the replay shows it at once
                self._recorder.record("query", request=enc_request(request), progress=enc_progress(progress))
            yield progress

    async def query_definitions(self) -> QueryDefinitions:
        definitions = await self._inner.query_definitions()
        self._recorder.record("definitions", data=enc_definitions(definitions))
        return definitions

    # Actions pass through unrecorded: their effect shows in the next alarms poll.
    async def sns_topics(self) -> list[str]:
        return await self._inner.sns_topics()

    async def alarm_exists(self, alarm: str) -> bool:
        return await self._inner.alarm_exists(alarm)

    def alarm_request(self, draft: AlarmDraft) -> dict[str, Any]:
        return self._inner.alarm_request(draft)

    async def put_alarm(self, draft: AlarmDraft) -> None:
        await self._inner.put_alarm(draft)

    async def acknowledge(self, alarm: Alarm, window: timedelta, note: str):
        return await self._inner.acknowledge(alarm, window, note)

    async def unacknowledge(self, alarm: Alarm):
        return await self._inner.unacknowledge(alarm)

    async def put_query_definition(self, query: SavedQuery) -> str:
        return await self._inner.put_query_definition(query)


@asynccontextmanager
async def recorded(opened: Any, recorder: Recorder) -> AsyncIterator[RecordingSource]:
    """Wrap a source's async context manager (e.g. ``open_fleet(...)``) so it records."""
    async with opened as source:
        yield RecordingSource(source, recorder)


