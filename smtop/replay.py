"""--record and --replay: what the console received, saved and played back offline.

A recording is gzip-compressed JSON lines.  The first line is a header
(``{"format": "smtop-recording", "version": 1, ...}``); every other line is
one thing a ConsoleSource method returned, with the console clock's time it
arrived at: ``{"t": epoch, "k": kind, ...}``.  JSON lines, not pickle: a
recording is read back by another smtop version, maybe after a post-incident
review was shared, and must never run code; every model has an explicit
encoder and decoder here, so a change of a model is a visible change of the
format (and of ``VERSION``).

What makes it compact: a fleet snapshot carries the whole metric window
(3 h × every series), which repeats almost entirely from one refresh to the
next.  Snapshots are written as *keyframes* (every series in full) every
``KEYFRAME_EVERY`` snapshots and as *deltas* (per series: where its window
starts now and only the datapoints that are new or changed) in between, so
seeking materialises at most ``KEYFRAME_EVERY`` deltas.  CloudTrail snapshots
likewise write each event once and then only its id.  An hour of a demo
fleet at 5 s refresh is a few MB.

Replay follows a :class:`ReplayClock` (the app's clock during a replay): each
method returns what the recording held at the clock's time, log tails yield
recorded lines when the clock passes them.  A replay cannot change AWS: every
mutating method raises :class:`ReadOnlyError`.
"""

from __future__ import annotations

import asyncio
import bisect
import gzip
import json
import time
import zlib
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable

from smtop import __version__
from smtop.clock import Clock
from smtop.errors import ReadOnlyError, SmtopError
from smtop.models import (
    CallerIdentity,
    Endpoint,
    EndpointMetrics,
    FleetSnapshot,
    LogEvent,
    MetricSeries,
    PollStats,
    StaleDescription,
    TailUpdate,
    Variant,
)
from smtop.models.alarms import (
    Acknowledgement,
    Alarm,
    AlarmHistoryItem,
    AlarmsSnapshot,
    ChildAlarm,
    CompositeAlarm,
    MetricAlarm,
    MuteRule,
)
from smtop.models.cloudtrail import TrailEvent, TrailSnapshot
from smtop.models.insights import QueryDefinitions, QueryProgress, QueryRequest, QueryStats, SavedQuery
from smtop.models.replay import ReplayPosition
from smtop.models.switch import SwitchChoices

FORMAT = "smtop-recording"
VERSION = 1
KEYFRAME_EVERY = 60
"""Snapshots between two keyframes: bounds a seek's work, costs one full snapshot each."""
FLUSH_SECONDS = 2.0
"""A recording is flushed at least this often, so a crash loses at most that much."""


class RecordingError(SmtopError):
    """A recording that cannot be read (not one, a newer format, damaged)."""


# -- times ----------------------------------------------------------------------------
def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if value is not None else None


# -- fleet snapshots ------------------------------------------------------------------
def _enc_endpoint(e: Endpoint) -> dict:
    return {
        "name": e.name, "status": e.status, "arn": e.arn, "config": e.config_name,
        "created": _ts(e.created), "modified": _ts(e.last_modified), "failure": e.failure_reason,
        "variants": [
            [v.name, v.instance_type, v.current_instance_count, v.desired_instance_count, v.current_weight] for v in e.variants
        ],
        **({"stale": [e.stale.reason, e.stale.operation, _ts(e.stale.described_at)]} if e.stale else {}),
    }


def _dec_endpoint(d: dict) -> Endpoint:
    return Endpoint(
        name=d["name"], status=d["status"], arn=d["arn"], config_name=d["config"],
        created=_dt(d["created"]), last_modified=_dt(d["modified"]), failure_reason=d["failure"],
        variants=tuple(Variant(*fields) for fields in d["variants"]),  # in Variant's field order, as written
        stale=_dec_stale(d.get("stale")),  # absent: described (and in recordings made before the mark)
    )


def _dec_stale(fields: list | None) -> StaleDescription | None:
    if fields is None:
        return None
    reason, operation, described_at = fields
    return StaleDescription(reason, operation, _dt(described_at))


SeriesState = dict[str, tuple[int, tuple[float, ...], tuple[float, ...]]]
"""Series key ("endpoint\\tmetric\\tstat") → (period, timestamps, values)."""


def _series_state(snapshot: FleetSnapshot) -> SeriesState:
    return {
        f"{name}\t{metric}\t{stat}": (s.period, s.timestamps, s.values)
        for name, em in snapshot.metrics.items()
        for (metric, stat), s in em.series.items()
    }


def _enc_snapshot(snapshot: FleetSnapshot, state: SeriesState, previous: SeriesState | None) -> dict:
    """A keyframe when ``previous`` is None, else a delta against it."""
    p = snapshot.poll
    record: dict[str, Any] = {
        "taken_at": _ts(snapshot.taken_at), "period": snapshot.period,
        "poll": [p.calls, p.queries, p.datapoints, p.seconds, p.incremental],
        "endpoints": [_enc_endpoint(e) for e in snapshot.endpoints],
        # Endpoints with metrics but no series keep their entry.
        "metric_endpoints": sorted(snapshot.metrics),
    }
    if previous is None:
        record["keyframe"] = {key: [period, list(ts), list(vs)] for key, (period, ts, vs) in state.items()}
        return record
    delta = {}
    for key, (period, ts, vs) in state.items():
        old = previous.get(key)
        known = dict(zip(old[1], old[2])) if old else {}
        changed = [(t, v) for t, v in zip(ts, vs) if known.get(t) != v]
        delta[key] = [period, ts[0] if ts else None, len(ts), [t for t, _ in changed], [v for _, v in changed]]
    record["delta"] = delta
    return record


def _apply_snapshot(record: dict, previous: SeriesState | None) -> SeriesState:
    if "keyframe" in record:
        return {key: (period, tuple(ts), tuple(vs)) for key, (period, ts, vs) in record["keyframe"].items()}
    if previous is None:
        raise RecordingError("a snapshot delta without its keyframe: the recording is damaged")
    state: SeriesState = {}
    for key, (period, first, length, ts, vs) in record["delta"].items():
        old = previous.get(key)
        points = {t: v for t, v in zip(old[1], old[2]) if first is not None and t >= first} if old else {}
        points.update(zip(ts, vs))
        times = tuple(sorted(points))
        if len(times) != length:
            raise RecordingError("a snapshot delta does not add up: the recording is damaged")
        state[key] = (period, times, tuple(points[t] for t in times))
    return state


def _build_snapshot(record: dict, state: SeriesState) -> FleetSnapshot:
    series: dict[str, dict[tuple[str, str], MetricSeries]] = {name: {} for name in record["metric_endpoints"]}
    for key, (period, ts, vs) in state.items():
        name, metric, stat = key.split("\t")
        series.setdefault(name, {})[(metric, stat)] = MetricSeries(metric, stat, period, ts, vs)
    calls, queries, datapoints, seconds, incremental = record["poll"]
    return FleetSnapshot(
        taken_at=_dt(record["taken_at"]),
        endpoints=tuple(_dec_endpoint(e) for e in record["endpoints"]),
        metrics={name: EndpointMetrics(name, s) for name, s in series.items()},
        period=record["period"],
        poll=PollStats(calls, queries, datapoints, seconds, incremental),
    )


# -- logs -----------------------------------------------------------------------------
def _enc_tail(update: TailUpdate) -> dict:
    return {
        "group": update.group, "mode": update.mode, "sampled": update.sampled, "notice": update.notice,
        "events": [[e.timestamp, e.message, e.stream, e.event_id, e.group, e.ingestion_time] for e in update.events],
    }


def _dec_tail(d: dict) -> TailUpdate:
    return TailUpdate(
        group=d["group"], mode=d["mode"], sampled=d["sampled"], notice=d["notice"],
        events=tuple(LogEvent(ts, msg, stream, eid, group, ing) for ts, msg, stream, eid, group, ing in d["events"]),
    )


# -- CloudTrail -----------------------------------------------------------------------
def _enc_trail_event(e: TrailEvent) -> dict:
    return {
        "id": e.event_id, "name": e.name, "source": e.source, "time": _ts(e.time), "who": e.who,
        "resource": e.resource, "endpoints": sorted(e.endpoints), "ip": e.source_ip,
        "error_code": e.error_code, "error_message": e.error_message, "raw": e.raw,
    }


def _dec_trail_event(d: dict) -> TrailEvent:
    return TrailEvent(
        event_id=d["id"], name=d["name"], source=d["source"], time=_dt(d["time"]), who=d["who"],
        resource=d["resource"], endpoints=frozenset(d["endpoints"]), source_ip=d["ip"],
        error_code=d["error_code"], error_message=d["error_message"], raw=d["raw"],
    )


# -- alarms ---------------------------------------------------------------------------
def _enc_rule(r: MuteRule | None) -> dict | None:
    if r is None:
        return None
    return {
        "name": r.name, "arn": r.arn, "status": r.status, "targets": list(r.targets), "description": r.description,
        "starts": _ts(r.starts), "until": _ts(r.until), "one_time": r.one_time, "expression": r.expression,
    }


def _dec_rule(d: dict | None) -> MuteRule | None:
    if d is None:
        return None
    return MuteRule(
        name=d["name"], arn=d["arn"], status=d["status"], targets=tuple(d["targets"]), description=d["description"],
        starts=_dt(d["starts"]), until=_dt(d["until"]), one_time=d["one_time"], expression=d["expression"],
    )


def _enc_ack(a: Acknowledgement | None) -> dict | None:
    if a is None:
        return None
    return {"alarm": a.alarm, "rule": a.rule, "by": a.by, "at": _ts(a.at), "until": _ts(a.until), "note": a.note}


def _dec_ack(d: dict | None) -> Acknowledgement | None:
    if d is None:
        return None
    return Acknowledgement(alarm=d["alarm"], rule=d["rule"], by=d["by"], at=_dt(d["at"]), until=_dt(d["until"]), note=d["note"])


def _enc_alarm(a: Alarm) -> dict:
    common = {
        "name": a.name, "state": a.state, "arn": a.arn, "reason": a.reason, "since": _ts(a.state_since),
        "actions_enabled": a.actions_enabled, "actions": list(a.alarm_actions), "description": a.description,
        "muted_by": _enc_rule(a.muted_by), "ack": _enc_ack(a.ack),
    }
    if isinstance(a, CompositeAlarm):
        return {
            **common, "kind": "composite", "rule": a.rule, "children": [[c.name, c.state] for c in a.children],
            "endpoints": list(a.endpoints), "suppressor": a.actions_suppressor, "suppressor_wait": a.suppressor_wait,
            "suppressor_extension": a.suppressor_extension, "suppressed_by": a.actions_suppressed_by,
            "suppressed_reason": a.actions_suppressed_reason,
        }
    return {
        **common, "namespace": a.namespace,
        "metric": a.metric, "dimensions": [list(d) for d in a.dimensions], "statistic": a.statistic,
        "period": a.period, "evaluation_periods": a.evaluation_periods, "datapoints_to_alarm": a.datapoints_to_alarm,
        "threshold": a.threshold, "comparison": a.comparison, "unit": a.unit, "endpoint": a.endpoint,
    }


def _dec_alarm(d: dict) -> Alarm:
    common = dict(
        name=d["name"], state=d["state"], arn=d["arn"], reason=d["reason"], state_since=_dt(d["since"]),
        actions_enabled=d["actions_enabled"], alarm_actions=tuple(d["actions"]), description=d["description"],
        muted_by=_dec_rule(d["muted_by"]), ack=_dec_ack(d["ack"]),
    )
    if d.get("kind") == "composite":
        return CompositeAlarm(
            **common, rule=d["rule"], children=tuple(ChildAlarm(name, state) for name, state in d["children"]),
            endpoints=tuple(d["endpoints"]), actions_suppressor=d["suppressor"], suppressor_wait=d["suppressor_wait"],
            suppressor_extension=d["suppressor_extension"], actions_suppressed_by=d["suppressed_by"],
            actions_suppressed_reason=d["suppressed_reason"],
        )
    return MetricAlarm(
        **common, namespace=d["namespace"],
        metric=d["metric"], dimensions=tuple((k, v) for k, v in d["dimensions"]), statistic=d["statistic"],
        period=d["period"], evaluation_periods=d["evaluation_periods"], datapoints_to_alarm=d["datapoints_to_alarm"],
        threshold=d["threshold"], comparison=d["comparison"], unit=d["unit"], endpoint=d["endpoint"],
    )


def _enc_alarms(s: AlarmsSnapshot) -> dict:
    return {
        "taken_at": _ts(s.taken_at), "alarms": [_enc_alarm(a) for a in s.alarms], "mute_notice": s.mute_notice,
        "ack_unavailable": s.ack_unavailable, "composite_notice": s.composite_notice,
    }


def _dec_alarms(d: dict) -> AlarmsSnapshot:
    return AlarmsSnapshot(
        taken_at=_dt(d["taken_at"]), alarms=tuple(_dec_alarm(a) for a in d["alarms"]), mute_notice=d["mute_notice"],
        ack_unavailable=d.get("ack_unavailable"), composite_notice=d.get("composite_notice"),
    )


def _enc_history(items: list[AlarmHistoryItem]) -> list:
    return [[_ts(i.timestamp), i.kind, i.summary, i.data] for i in items]


def _dec_history(rows: list) -> list[AlarmHistoryItem]:
    return [AlarmHistoryItem(_dt(t), kind, summary, data) for t, kind, summary, data in rows]


# -- Logs Insights ------------------------------------------------------------------------
def _enc_request(r: QueryRequest) -> dict:
    return {"query": r.query, "groups": list(r.log_groups), "start": _ts(r.start), "end": _ts(r.end), "name": r.name, "endpoint": r.endpoint}


def _dec_request(d: dict) -> QueryRequest:
    return QueryRequest(d["query"], tuple(d["groups"]), _dt(d["start"]), _dt(d["end"]), d["name"], d["endpoint"])


def _enc_progress(p: QueryProgress) -> dict:
    s = p.stats
    return {
        "status": p.status, "id": p.query_id, "stats": [s.records_matched, s.records_scanned, s.bytes_scanned],
        "fields": list(p.fields), "rows": [list(r) for r in p.rows], "capped": p.capped, "notice": p.notice, "error": p.error,
    }


def _dec_progress(d: dict) -> QueryProgress:
    return QueryProgress(
        status=d["status"], query_id=d["id"], stats=QueryStats(*d["stats"]), fields=tuple(d["fields"]),
        rows=tuple(tuple(r) for r in d["rows"]), capped=d["capped"], notice=d["notice"], error=d["error"],
    )


def _enc_definitions(q: QueryDefinitions) -> dict:
    return {
        "queries": [[s.name, s.query, s.source, list(s.log_groups), s.definition_id] for s in q.queries],
        "error": q.error,
    }


def _dec_definitions(d: dict) -> QueryDefinitions:
    return QueryDefinitions(
        queries=tuple(SavedQuery(n, q, src, tuple(g), i) for n, q, src, g, i in d["queries"]), error=d["error"]
    )


# -- writing ----------------------------------------------------------------------------
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
        state = _series_state(snapshot)
        keyframe = self._series is None or self._snapshots % KEYFRAME_EVERY == 0
        self.record("snapshot", data=_enc_snapshot(snapshot, state, None if keyframe else self._series))
        self._series = state
        self._snapshots += 1
        self._flush()  # a sync point per refresh: a crash loses at most what came after it

    def trail(self, snapshot: TrailSnapshot) -> None:
        new = [_enc_trail_event(e) for e in snapshot.events if e.event_id not in self._trail_ids]
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
            self._recorder.record("tail", pattern=filter_pattern, data=_enc_tail(update))
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
        self._recorder.record("alarms", data=_enc_alarms(snapshot))
        return snapshot

    async def alarm_history(self, alarm: str) -> list[AlarmHistoryItem]:
        items = await self._inner.alarm_history(alarm)
        self._recorder.record("history", alarm=alarm, items=_enc_history(items))
        return items

    async def run_query(self, request: QueryRequest) -> AsyncIterator[QueryProgress]:
        async for progress in self._inner.run_query(request):
            if progress.done:  # only the result: the replay shows it at once
                self._recorder.record("query", request=_enc_request(request), progress=_enc_progress(progress))
            yield progress

    async def query_definitions(self) -> QueryDefinitions:
        definitions = await self._inner.query_definitions()
        self._recorder.record("definitions", data=_enc_definitions(definitions))
        return definitions

    # Actions pass through unrecorded: their effect shows in the next alarms poll.
    async def sns_topics(self) -> list[str]:
        return await self._inner.sns_topics()

    async def alarm_exists(self, alarm: str) -> bool:
        return await self._inner.alarm_exists(alarm)

    async def put_alarm(self, request: dict[str, Any]) -> None:
        await self._inner.put_alarm(request)

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
            start, state = keyframe, _apply_snapshot(records[keyframe]["data"], None)
        for i in range(start + 1, index + 1):
            state = _apply_snapshot(records[i]["data"], state)
        self._cache = (index, state)
        return _build_snapshot(records[index]["data"], state)

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
                recording._trail_events[event["id"]] = _dec_trail_event(event)
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
        return _dt(self.position())

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
        return ReplayPosition(at=c.now(), start=_dt(c.start), end=_dt(c.end), speed=c.speed, paused=c.paused)

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
                fill.extend(e for e in _dec_tail(kinds[i]["data"]).events if e.timestamp >= at - since.total_seconds())
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
            update = _dec_tail(kinds[i]["data"])
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
        return _dec_alarms(r["data"]) if r is not None else AlarmsSnapshot(taken_at=self.clock.now())

    async def alarm_history(self, alarm: str) -> list[AlarmHistoryItem]:
        r = self.recording.latest("history", self.clock.end, lambda r: r["alarm"] == alarm)
        return _dec_history(r["items"]) if r is not None else []

    async def run_query(self, request: QueryRequest) -> AsyncIterator[QueryProgress]:
        """The recorded result of the same query on the same groups (the last one run by then, else the first)."""

        def same(r: dict) -> bool:
            return r["request"]["query"] == request.query and tuple(r["request"]["groups"]) == request.log_groups

        r = self.recording.latest("query", self.clock.position(), same) or self.recording.latest("query", self.clock.end, same)
        if r is None:
            yield QueryProgress("Failed", error="This query was not run while recording; a replay only has the recorded results.")
            return
        yield _dec_progress(r["progress"])

    async def query_definitions(self) -> QueryDefinitions:
        r = self.recording.latest("definitions", self.clock.end)
        return _dec_definitions(r["data"]) if r is not None else QueryDefinitions()

    async def sns_topics(self) -> list[str]:
        return []

    async def alarm_exists(self, alarm: str) -> bool:
        return False

    async def put_alarm(self, request: dict[str, Any]) -> None:
        raise _refused("PutMetricAlarm")

    async def acknowledge(self, alarm: Alarm, window: timedelta, note: str):
        raise _refused("PutAlarmMuteRule")

    async def unacknowledge(self, alarm: Alarm):
        raise _refused("DeleteAlarmMuteRule")

    async def put_query_definition(self, query: SavedQuery) -> str:
        raise _refused("PutQueryDefinition")


def _refused(operation: str) -> ReadOnlyError:
    return ReadOnlyError(f"This is a replay of a recording: {operation} would change AWS, so it is not sent.", operation=operation)
