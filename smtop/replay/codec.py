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

from datetime import datetime, timezone
from typing import Any

from smtop.errors import SmtopError
from smtop.models import (
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
from smtop.models.cloudtrail import TrailEvent
from smtop.models.insights import QueryDefinitions, QueryProgress, QueryRequest, QueryStats, SavedQuery

FORMAT = "smtop-recording"
VERSION = 1


class RecordingError(SmtopError):
    """A recording that cannot be read (not one, a newer format, damaged)."""


# -- times ----------------------------------------------------------------------------
def epoch_of(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def moment_of(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if value is not None else None


# -- fleet snapshots ------------------------------------------------------------------
def enc_endpoint(e: Endpoint) -> dict:
    return {
        "name": e.name, "status": e.status, "arn": e.arn, "config": e.config_name,
        "created": epoch_of(e.created), "modified": epoch_of(e.last_modified), "failure": e.failure_reason,
        "variants": [
            [v.name, v.instance_type, v.current_instance_count, v.desired_instance_count, v.current_weight] for v in e.variants
        ],
        **({"stale": [e.stale.reason, e.stale.operation, epoch_of(e.stale.described_at)]} if e.stale else {}),
    }


def dec_endpoint(d: dict) -> Endpoint:
    return Endpoint(
        name=d["name"], status=d["status"], arn=d["arn"], config_name=d["config"],
        created=moment_of(d["created"]), last_modified=moment_of(d["modified"]), failure_reason=d["failure"],
        variants=tuple(Variant(*fields) for fields in d["variants"]),  # in Variant's field order, as written
        stale=dec_stale(d.get("stale")),  # absent: described (and in recordings made before the mark)
    )


def dec_stale(fields: list | None) -> StaleDescription | None:
    if fields is None:
        return None
    reason, operation, described_at = fields
    return StaleDescription(reason, operation, moment_of(described_at))


SeriesState = dict[str, tuple[int, tuple[float, ...], tuple[float, ...]]]
"""Series key ("endpoint\\tmetric\\tstat") → (period, timestamps, values)."""


def series_state(snapshot: FleetSnapshot) -> SeriesState:
    return {
        f"{name}\t{metric}\t{stat}": (s.period, s.timestamps, s.values)
        for name, em in snapshot.metrics.items()
        for (metric, stat), s in em.series.items()
    }


def enc_snapshot(snapshot: FleetSnapshot, state: SeriesState, previous: SeriesState | None) -> dict:
    """A keyframe when ``previous`` is None, else a delta against it."""
    p = snapshot.poll
    record: dict[str, Any] = {
        "taken_at": epoch_of(snapshot.taken_at), "period": snapshot.period,
        "poll": [p.calls, p.queries, p.datapoints, p.seconds, p.incremental],
        "endpoints": [enc_endpoint(e) for e in snapshot.endpoints],
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


def apply_snapshot(record: dict, previous: SeriesState | None) -> SeriesState:
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


def build_snapshot(record: dict, state: SeriesState) -> FleetSnapshot:
    series: dict[str, dict[tuple[str, str], MetricSeries]] = {name: {} for name in record["metric_endpoints"]}
    for key, (period, ts, vs) in state.items():
        name, metric, stat = key.split("\t")
        series.setdefault(name, {})[(metric, stat)] = MetricSeries(metric, stat, period, ts, vs)
    calls, queries, datapoints, seconds, incremental = record["poll"]
    return FleetSnapshot(
        taken_at=moment_of(record["taken_at"]),
        endpoints=tuple(dec_endpoint(e) for e in record["endpoints"]),
        metrics={name: EndpointMetrics(name, s) for name, s in series.items()},
        period=record["period"],
        poll=PollStats(calls, queries, datapoints, seconds, incremental),
    )


# -- logs -----------------------------------------------------------------------------
def enc_tail(update: TailUpdate) -> dict:
    return {
        "group": update.group, "mode": update.mode, "sampled": update.sampled, "notice": update.notice,
        "events": [[e.timestamp, e.message, e.stream, e.event_id, e.group, e.ingestion_time] for e in update.events],
    }


def dec_tail(d: dict) -> TailUpdate:
    return TailUpdate(
        group=d["group"], mode=d["mode"], sampled=d["sampled"], notice=d["notice"],
        events=tuple(LogEvent(ts, msg, stream, eid, group, ing) for ts, msg, stream, eid, group, ing in d["events"]),
    )


# -- CloudTrail -----------------------------------------------------------------------
def enc_trail_event(e: TrailEvent) -> dict:
    return {
        "id": e.event_id, "name": e.name, "source": e.source, "time": epoch_of(e.time), "who": e.who,
        "resource": e.resource, "endpoints": sorted(e.endpoints), "ip": e.source_ip,
        "error_code": e.error_code, "error_message": e.error_message, "raw": e.raw,
    }


def dec_trail_event(d: dict) -> TrailEvent:
    return TrailEvent(
        event_id=d["id"], name=d["name"], source=d["source"], time=moment_of(d["time"]), who=d["who"],
        resource=d["resource"], endpoints=frozenset(d["endpoints"]), source_ip=d["ip"],
        error_code=d["error_code"], error_message=d["error_message"], raw=d["raw"],
    )


# -- alarms ---------------------------------------------------------------------------
def enc_rule(r: MuteRule | None) -> dict | None:
    if r is None:
        return None
    return {
        "name": r.name, "arn": r.arn, "status": r.status, "targets": list(r.targets), "description": r.description,
        "starts": epoch_of(r.starts), "until": epoch_of(r.until), "one_time": r.one_time, "expression": r.expression,
    }


def dec_rule(d: dict | None) -> MuteRule | None:
    if d is None:
        return None
    return MuteRule(
        name=d["name"], arn=d["arn"], status=d["status"], targets=tuple(d["targets"]), description=d["description"],
        starts=moment_of(d["starts"]), until=moment_of(d["until"]), one_time=d["one_time"], expression=d["expression"],
    )


def enc_ack(a: Acknowledgement | None) -> dict | None:
    if a is None:
        return None
    return {"alarm": a.alarm, "rule": a.rule, "by": a.by, "at": epoch_of(a.at), "until": epoch_of(a.until), "note": a.note}


def dec_ack(d: dict | None) -> Acknowledgement | None:
    if d is None:
        return None
    return Acknowledgement(alarm=d["alarm"], rule=d["rule"], by=d["by"], at=moment_of(d["at"]), until=moment_of(d["until"]), note=d["note"])


def enc_alarm(a: Alarm) -> dict:
    common = {
        "name": a.name, "state": a.state, "arn": a.arn, "reason": a.reason, "since": epoch_of(a.state_since),
        "actions_enabled": a.actions_enabled, "actions": list(a.alarm_actions), "description": a.description,
        "muted_by": enc_rule(a.muted_by), "ack": enc_ack(a.ack),
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


def dec_alarm(d: dict) -> Alarm:
    common = dict(
        name=d["name"], state=d["state"], arn=d["arn"], reason=d["reason"], state_since=moment_of(d["since"]),
        actions_enabled=d["actions_enabled"], alarm_actions=tuple(d["actions"]), description=d["description"],
        muted_by=dec_rule(d["muted_by"]), ack=dec_ack(d["ack"]),
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


def enc_alarms(s: AlarmsSnapshot) -> dict:
    return {
        "taken_at": epoch_of(s.taken_at), "alarms": [enc_alarm(a) for a in s.alarms], "mute_notice": s.mute_notice,
        "ack_unavailable": s.ack_unavailable, "composite_notice": s.composite_notice,
    }


def dec_alarms(d: dict) -> AlarmsSnapshot:
    return AlarmsSnapshot(
        taken_at=moment_of(d["taken_at"]), alarms=tuple(dec_alarm(a) for a in d["alarms"]), mute_notice=d["mute_notice"],
        ack_unavailable=d.get("ack_unavailable"), composite_notice=d.get("composite_notice"),
    )


def enc_history(items: list[AlarmHistoryItem]) -> list:
    return [[epoch_of(i.timestamp), i.kind, i.summary, i.data] for i in items]


def dec_history(rows: list) -> list[AlarmHistoryItem]:
    return [AlarmHistoryItem(moment_of(t), kind, summary, data) for t, kind, summary, data in rows]


# -- Logs Insights ------------------------------------------------------------------------
def enc_request(r: QueryRequest) -> dict:
    return {"query": r.query, "groups": list(r.log_groups), "start": epoch_of(r.start), "end": epoch_of(r.end), "name": r.name, "endpoint": r.endpoint}


def dec_request(d: dict) -> QueryRequest:
    return QueryRequest(d["query"], tuple(d["groups"]), moment_of(d["start"]), moment_of(d["end"]), d["name"], d["endpoint"])


def enc_progress(p: QueryProgress) -> dict:
    s = p.stats
    return {
        "status": p.status, "id": p.query_id, "stats": [s.records_matched, s.records_scanned, s.bytes_scanned],
        "fields": list(p.fields), "rows": [list(r) for r in p.rows], "capped": p.capped, "notice": p.notice, "error": p.error,
    }


def dec_progress(d: dict) -> QueryProgress:
    return QueryProgress(
        status=d["status"], query_id=d["id"], stats=QueryStats(*d["stats"]), fields=tuple(d["fields"]),
        rows=tuple(tuple(r) for r in d["rows"]), capped=d["capped"], notice=d["notice"], error=d["error"],
    )


def enc_definitions(q: QueryDefinitions) -> dict:
    return {
        "queries": [[s.name, s.query, s.source, list(s.log_groups), s.definition_id] for s in q.queries],
        "error": q.error,
    }


def dec_definitions(d: dict) -> QueryDefinitions:
    return QueryDefinitions(
        queries=tuple(SavedQuery(n, q, src, tuple(g), i) for n, q, src, g, i in d["queries"]), error=d["error"]
    )


# -- writing ----------------------------------------------------------------------------
