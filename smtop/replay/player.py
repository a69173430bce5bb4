"""--replay: a recording played back as a source, on the replay's clock; nothing can change AWS."""


from __future__ import annotations

import asyncio
import bisect
import gzip
import json
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable

from smtop import __version__
from smtop.errors import ReadOnlyError, SmtopError
from smtop.models import (
    CallerIdentity,
    FleetSnapshot,
    LogEvent,
    TailUpdate,
)
from smtop.models.alarm_draft import AlarmDraft
from smtop.models.alarms import (
    Alarm,
    AlarmHistoryItem,
    AlarmsSnapshot,
)
from smtop.models.cloudtrail import TrailEvent, TrailSnapshot
from smtop.models.insights import QueryDefinitions, QueryProgress, QueryRequest, SavedQuery
from smtop.models.replay import ReplayPosition
from smtop.models.switch import SwitchChoices

from smtop.replay.codec import (
    FORMAT,
    RecordingError,
    SeriesState,
    VERSION,
    apply_snapshot,
    build_snapshot,
    dec_alarms,
    dec_definitions,
    dec_history,
    dec_progress,
    dec_tail,
    dec_trail_event,
    moment_of,
)


# -- reading ----------------------------------------------------------------------------
@dataclass
class Recording:
    """A recording loaded for replay: records by kind, in time order.

    Records stay as parsed JSON; models are built when asked for (a
    snapshot from its keyframe and the deltas since, cached for the next).
    """

    header: dict
    times: dict[str, list[float]] = field(default_factory=dict)
    records: dict[str, list[dict]] = field(default_factory=dict)
    truncated: bool = False
    """The file ended mid-stream (smtop was killed while recording): what was flushed is kept."""
    _trail_events: dict[str, TrailEvent] = field(default_factory=dict)
    _cache: tuple[int, SeriesState] | None = None

    @property
    def start(self) -> float:
        first = self.times.get("snapshot") or [t for ts in self.times.values() for t in ts[:1]]
        return min(first) if first else self.header.get("created", 0.0)

    @property
    def end(self) -> float:
        last = [ts[-1] for ts in self.times.values() if ts]
        return max(last) if last else self.start

    def index_at(self, kind: str, at: float, where: Callable[[dict], bool] | None = None) -> int | None:
        """The index of the last ``kind`` record at or before ``at`` (matching ``where``)."""
        times = self.times.get(kind, [])
        i = bisect.bisect_right(times, at) - 1
        records = self.records.get(kind, [])
        while i >= 0 and where is not None and not where(records[i]):
            i -= 1
        return i if i >= 0 else None

    def latest(self, kind: str, at: float, where: Callable[[dict], bool] | None = None) -> dict | None:
        i = self.index_at(kind, at, where)
        return self.records[kind][i] if i is not None else None

    def snapshot(self, index: int) -> FleetSnapshot:
        """The ``index``-th recorded fleet snapshot, rebuilt from its keyframe."""
        records = self.records["snapshot"]
        keyframe = index
        while keyframe > 0 and "keyframe" not in records[keyframe]["data"]:
            keyframe -= 1
        cached = self._cache
        if cached is not None and keyframe <= cached[0] <= index:
            start, state = cached  # playing forward: only the deltas since the last one shown
        else:
            start, state = keyframe, apply_snapshot(records[keyframe]["data"], None)
        for i in range(start + 1, index + 1):
            state = apply_snapshot(records[i]["data"], state)
        self._cache = (index, state)
        return build_snapshot(records[index]["data"], state)

    def trail(self, record: dict) -> TrailSnapshot:
        return TrailSnapshot(
            events=tuple(self._trail_events[i] for i in record["ids"] if i in self._trail_events),
            added=record["added"],
            requests=record["requests"],
        )


def load_recording(path: str | Path) -> Recording:
    """Read a recording made by --record.

    Raises:
        RecordingError: not a recording, a format this smtop cannot read, or damaged.
    """
    name = str(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            lines, truncated = _read_lines(file)
    except OSError as error:
        if isinstance(error, gzip.BadGzipFile):
            raise RecordingError(f"{name!r} is not an smtop recording (not gzip): record one with --record FILE") from None
        raise RecordingError(f"cannot read the recording {name!r}: {error.strerror or error}") from None
    try:
        header = json.loads(lines[0]) if lines else {}
    except json.JSONDecodeError:
        header = {}
    if header.get("format") != FORMAT:
        raise RecordingError(f"{name!r} is not an smtop recording: record one with --record FILE")
    if header.get("version") != VERSION:
        raise RecordingError(
            f"{name!r} is a version {header.get('version')} recording (smtop {header.get('smtop', '?')}); "
            f"this smtop {__version__} reads version {VERSION}"
        )
    recording = Recording(header=header, truncated=truncated)
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
            kind, t = record["k"], float(record["t"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            if number == len(lines):  # a last line cut short by a crash
                recording.truncated = True
                break
            raise RecordingError(f"{name!r} line {number} is damaged") from None
        if kind == "trail":
            for event in record["new"]:
                recording._trail_events[event["id"]] = dec_trail_event(event)
        recording.times.setdefault(kind, []).append(t)
        recording.records.setdefault(kind, []).append(record)
    if not recording.records.get("snapshot"):
        raise RecordingError(f"{name!r} holds no fleet snapshot: nothing to replay")
    return recording


def _read_lines(file) -> tuple[list[str], bool]:
    lines: list[str] = []
    try:
        for line in file:
            lines.append(line)
    except (EOFError, zlib.error):
        return lines, True
    return lines, False


# -- playing --------------------------------------------------------------------------------
class ReplayClock:
    """Recording time that moves with the wall clock × speed; pauses and seeks.

    It is the app's clock during a replay, so everything that asks "now"
    (the Insights range, the ack form, "STALE since") lives in recorded time.
    It stops at the end of the recording.
    """

    def __init__(self, start: float, end: float, *, speed: float = 1.0, wall: Callable[[], float] = time.monotonic) -> None:
        self.start = start
        self.end = end
        self.speed = speed
        self._wall = wall
        self._anchor_at = start
        self._anchor_wall = wall()
        self.paused = False

    def position(self) -> float:
        """Recorded epoch seconds shown now."""
        if self.paused:
            return self._anchor_at
        at = self._anchor_at + (self._wall() - self._anchor_wall) * self.speed
        return min(self.end, max(self.start, at))

    def now(self) -> datetime:
        return moment_of(self.position())

    def _anchor(self, at: float) -> None:
        self._anchor_at = min(self.end, max(self.start, at))
        self._anchor_wall = self._wall()

    def toggle_pause(self) -> None:
        self._anchor(self.position())
        self.paused = not self.paused

    def seek(self, seconds: float) -> None:
        """Move by ``seconds`` of recorded time (negative: back), within the recording."""
        self._anchor(self.position() + seconds)


class ReplaySource:
    """A ConsoleSource over a recording, at the replay clock's time; read-only.

    Also the replay's controls for the app (position, pause, seek).
    """

    TAIL_STEP = 0.2
    """Wall seconds between checks whether a tail's next recorded update is due."""

    def __init__(self, recording: Recording, *, speed: float = 1.0, wall: Callable[[], float] = time.monotonic) -> None:
        self.recording = recording
        self.clock = ReplayClock(recording.start, recording.end, speed=speed, wall=wall)

    # -- controls -------------------------------------------------------------------
    def position(self) -> ReplayPosition:
        c = self.clock
        return ReplayPosition(at=c.now(), start=moment_of(c.start), end=moment_of(c.end), speed=c.speed, paused=c.paused)

    def toggle_pause(self) -> None:
        self.clock.toggle_pause()

    def seek(self, seconds: float) -> None:
        self.clock.seek(seconds)

    # -- what the console reads --------------------------------------------------------
    def _source_record(self) -> dict:
        return self.recording.latest("source", self.clock.position()) or (self.recording.records.get("source") or [{}])[0]

    @property
    def region(self) -> str | None:
        return self._source_record().get("region")

    @property
    def profile(self) -> str | None:
        return self._source_record().get("profile")

    async def refresh(self) -> FleetSnapshot:
        index = self.recording.index_at("snapshot", self.clock.position())
        return self.recording.snapshot(index if index is not None else 0)

    async def select(self, endpoint: str | None) -> FleetSnapshot | None:
        """What was recorded: the panel-only metrics of the endpoint selected
        while recording (another endpoint's show as missing)."""
        return await self.refresh()

    async def whoami(self) -> CallerIdentity:
        r = self.recording.latest("whoami", self.clock.position()) or (self.recording.records.get("whoami") or [None])[0]
        if r is None:
            raise SmtopError("the recording does not say which account it was")
        return CallerIdentity(r["account"], r["arn"], r["user_id"])

    async def switch_choices(self) -> SwitchChoices:
        return SwitchChoices()

    async def tail(
        self, group: str, *, filter_pattern: str | None = None, since: timedelta = timedelta(minutes=15), live_gate: Any = None
    ) -> AsyncIterator[TailUpdate]:
        """The group's recorded lines (``live_gate`` has nothing to switch here): those of the last ``since`` at once, then as the clock reaches them."""
        kinds = self.recording.records.get("tail", [])
        times = self.recording.times.get("tail", [])
        mine = [i for i, r in enumerate(kinds) if r["data"]["group"] == group]
        same_pattern = [i for i in mine if kinds[i].get("pattern") == filter_pattern]
        notice = None
        if filter_pattern and not same_pattern and mine:
            notice = f"Replay: this group was not recorded with the pattern {filter_pattern!r}; showing what was recorded."
        chosen = same_pattern or mine
        at = self.clock.position()
        seen: set[str] = set()
        fill: list[LogEvent] = []
        rest = []
        for i in chosen:
            if times[i] <= at:
                fill.extend(e for e in dec_tail(kinds[i]["data"]).events if e.timestamp >= at - since.total_seconds())
            else:
                rest.append(i)
        fill = sorted({e.event_id: e for e in fill}.values(), key=lambda e: (e.timestamp, e.event_id))
        seen.update(e.event_id for e in fill)
        if not chosen:
            notice = "Replay: no lines of this group were recorded."
        yield TailUpdate(group=group, events=tuple(fill), mode="replay", notice=notice)
        for i in rest:
            while self.clock.position() < times[i]:
                await asyncio.sleep(self.TAIL_STEP)
            update = dec_tail(kinds[i]["data"])
            events = tuple(e for e in update.events if e.event_id not in seen)
            seen.update(e.event_id for e in events)
            yield TailUpdate(group=group, events=events, mode="replay", sampled=update.sampled, notice=update.notice)
        while True:  # the recording ends here; a tail never does
            await asyncio.sleep(3600)

    async def log_groups(self, prefix: str) -> list[str]:
        r = self.recording.latest("log_groups", self.clock.position(), lambda r: r["prefix"] == prefix)
        if r is not None:
            return list(r["groups"])
        snapshot = await self.refresh()
        return sorted(e.log_group for e in snapshot.endpoints if e.log_group.startswith(prefix))

    async def trail_events(self) -> TrailSnapshot:
        r = self.recording.latest("trail", self.clock.position())
        return self.recording.trail(r) if r is not None else TrailSnapshot()

    async def alarms(self, endpoints: Iterable[str]) -> AlarmsSnapshot:
        r = self.recording.latest("alarms", self.clock.position())
        return dec_alarms(r["data"]) if r is not None else AlarmsSnapshot(taken_at=self.clock.now())

    async def alarm_history(self, alarm: str) -> list[AlarmHistoryItem]:
        r = self.recording.latest("history", self.clock.end, lambda r: r["alarm"] == alarm)
        return dec_history(r["items"]) if r is not None else []

    async def run_query(self, request: QueryRequest) -> AsyncIterator[QueryProgress]:
        """The recorded result of the same query on the same groups (the last one run by then, else the first)."""

        def same(r: dict) -> bool:
            return r["request"]["query"] == request.query and tuple(r["request"]["groups"]) == request.log_groups

        r = self.recording.latest("query", self.clock.position(), same) or self.recording.latest("query", self.clock.end, same)
        if r is None:
            yield QueryProgress("Failed", error="This query was not run while recording; a replay only has the recorded results.")
            return
        yield dec_progress(r["progress"])

    async def query_definitions(self) -> QueryDefinitions:
        r = self.recording.latest("definitions", self.clock.end)
        return dec_definitions(r["data"]) if r is not None else QueryDefinitions()

    async def sns_topics(self) -> list[str]:
        return []

    async def alarm_exists(self, alarm: str) -> bool:
        return False

    def alarm_request(self, draft: AlarmDraft) -> dict[str, Any]:
        raise _refused("PutMetricAlarm")

    async def put_alarm(self, draft: AlarmDraft) -> None:
        raise _refused("PutMetricAlarm")

    async def acknowledge(self, alarm: Alarm, window: timedelta, note: str):
        raise _refused("PutAlarmMuteRule")

    async def unacknowledge(self, alarm: Alarm):
        raise _refused("DeleteAlarmMuteRule")

    async def put_query_definition(self, query: SavedQuery) -> str:
        raise _refused("PutQueryDefinition")


def _refused(operation: str) -> ReadOnlyError:
    return ReadOnlyError(f"This is a replay of a recording: {operation} would change AWS, so it is not sent.", operation=operation)
