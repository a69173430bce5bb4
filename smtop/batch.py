"""`smtop --batch`: the console's snapshot as text or JSON, like `top -b`.

A snapshot has three sections, as the console has three places to look:
the endpoints with their latest metrics, the firing alarms, and the recent
CloudTrail events.  The endpoints are the snapshot: when they cannot be
listed smtop says why in one line and exits 1.  An endpoint that could not be
described is still printed, with ListEndpoints' status and its last
description if it had one, marked ``!`` before its status as the console
marks it (JSON: its ``stale_description``) and explained under the table;
that counts as a failure too (stderr, exit 1).  The other two fail on their own: a
role without cloudtrail:LookupEvents still gets the endpoints and the alarms,
with the section's own message in its place (text) or its ``error`` (JSON),
on stderr too, and the exit code 1 so a script notices (an endpoint URL whose
service lacks the API, moto for one, only gets the section's message).

Everything that came from AWS, error messages included, is printed through
:func:`smtop.format.printable`: an alarm reason or an error message carrying
escape sequences must not drive the terminal that reads the output.  JSON
output escapes them by itself (``ensure_ascii``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, TextIO

from smtop import format as fmt
from smtop.models.catalog import METRICS
from smtop.clock import Clock
from smtop.errors import SmtopError, UnsupportedOperationError
from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot, StaleDescription
from smtop.models.alarms import Alarm, AlarmsSnapshot, CompositeAlarm
from smtop.models.cloudtrail import TrailEvent, TrailSnapshot
from smtop.config.settings import Settings

TRAIL_WINDOW = timedelta(hours=1)
"""How far back batch mode looks for CloudTrail events."""
TRAIL_EVENTS = 20
"""CloudTrail events printed: a snapshot costs one LookupEvents request (a page
of the account's writes) of the account's 2 per second, more only when other
services' writes crowd the followed ones out of it."""

_COLUMNS = (
    ("ENDPOINT", 28, "<"),
    ("STATUS", 12, "<"),
    ("INST", 5, ">"),
    ("INV/MIN", 8, ">"),
    ("AVG_MS", 7, ">"),
    ("P99_MS", 7, ">"),
    ("4XX%", 5, ">"),
    ("5XX%", 5, ">"),
    ("CPU", 5, ">"),
    ("GPU", 5, ">"),
    ("MEM", 5, ">"),
    ("DISK", 5, ">"),
)


@dataclass
class Sections:
    """One snapshot's sections; an ``*_error`` replaces its section when it failed."""

    fleet: FleetSnapshot
    endpoints_error: str | None = None
    """Set when some endpoints could not be described (they are printed, marked)."""
    alarms: AlarmsSnapshot | None = None
    alarms_error: str | None = None
    trail: TrailSnapshot | None = None
    trail_error: str | None = None
    failed: list[str] = field(default_factory=list)
    """Names of the sections that failed ("endpoints", "alarms", "cloudtrail")."""

    def error(self, name: str) -> str | None:
        return {"endpoints": self.endpoints_error, "alarms": self.alarms_error, "cloudtrail": self.trail_error}[name]


def run_batch(settings: Settings, open_fleet: Callable, *, count: int, as_json: bool, clock: Clock, out: TextIO | None = None) -> int:
    """Print ``count`` snapshots; 0 when every section was read, 1 when any failed."""
    out = out or sys.stdout
    try:
        failed = asyncio.run(_loop(settings, open_fleet, count, as_json, clock, out))
    except SmtopError as error:
        print(f"smtop: {fmt.printable(str(error))}", file=sys.stderr)
        return 1
    return 1 if failed else 0


async def _loop(settings: Settings, open_fleet: Callable, count: int, as_json: bool, clock: Clock, out: TextIO) -> bool:
    failed = False
    async with open_fleet(settings, clock) as fleet:
        from smtop.aws.cloudtrail import TrailHistory

        fleet.select_all()  # the JSON's "latest" has every metric of every endpoint, panel-only ones too

        trail = TrailHistory(fleet.aws, clock, window=TRAIL_WINDOW, capacity=TRAIL_EVENTS)
        for iteration in range(count):
            if iteration:
                await asyncio.sleep(settings.refresh)
            sections = await _read(fleet, trail)
            for name in sections.failed:
                print(f"smtop: {name}: {fmt.printable(sections.error(name) or '')}", file=sys.stderr)
            failed = failed or bool(sections.failed)
            if as_json:
                out.write(json.dumps(sections_json(sections, settings), sort_keys=False) + "\n")
            else:
                out.write(sections_text(sections, settings) + "\n")
            out.flush()
    return failed


async def _read(fleet: Any, trail: Any) -> Sections:
    """The endpoints (their failure ends the run), then alarms and CloudTrail, each on its own."""
    snapshot = await fleet.refresh()
    sections = Sections(snapshot)
    if stale := snapshot.stale_endpoints:
        sections.endpoints_error = (
            f"{len(stale)} of {len(snapshot.endpoints)} endpoints could not be described; "
            f"they are printed with ListEndpoints' status and their last description, marked {fmt.STALE_MARK}"
        )
        sections.failed.append("endpoints")
    names = [e.name for e in snapshot.endpoints]
    alarms, events = await asyncio.gather(fleet.alarms(names), trail.poll(), return_exceptions=True)
    if isinstance(alarms, BaseException):
        sections.alarms_error = _section_error(alarms, "alarms", sections)
    else:
        sections.alarms = alarms
    if isinstance(events, BaseException):
        sections.trail_error = _section_error(events, "cloudtrail", sections)
    else:
        sections.trail = events
    return sections


def _section_error(error: BaseException, name: str, sections: Sections) -> str:
    """The section's message; a failure counts (stderr, exit 1) unless the endpoint
    simply lacks the API (moto, LocalStack): then the section says so and that is all."""
    if not isinstance(error, SmtopError):
        raise error  # a bug of ours
    if not isinstance(error, UnsupportedOperationError):
        sections.failed.append(name)
    return str(error)


def _summary(metrics: EndpointMetrics) -> dict[str, float | None]:
    return {
        "invocations_per_minute": metrics.invocations_per_minute,
        "latency_avg_ms": metrics.latency_avg_ms,
        "latency_p99_ms": metrics.latency_p99_ms,
        "error_4xx_pct": metrics.error_4xx_pct,
        "error_5xx_pct": metrics.error_5xx_pct,
        "cpu_pct": metrics.latest("CPUUtilization"),
        "gpu_pct": metrics.latest("GPUUtilization"),
        "memory_pct": metrics.latest("MemoryUtilization"),
        "disk_pct": metrics.latest("DiskUtilization"),
    }


def _endpoint_json(endpoint: Endpoint, metrics: EndpointMetrics) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    for spec in METRICS.values():
        entry: dict[str, Any] = {"unit": spec.aws_unit}
        for stat in spec.stats:
            series = metrics.get(spec.name, stat)
            entry[stat] = None if series is None else series.latest
            if series is not None and series.latest_at is not None:
                entry["timestamp"] = fmt.iso_utc(series.latest_at)
        latest[spec.name] = entry
    return {
        "name": endpoint.name,
        "status": endpoint.status,
        "instances": None if endpoint.never_described else endpoint.instance_count,
        "variants": [
            {
                "name": v.name,
                "instance_type": v.instance_type,
                "current_instance_count": v.current_instance_count,
                "desired_instance_count": v.desired_instance_count,
                "current_weight": v.current_weight,
            }
            for v in endpoint.variants
        ],
        "summary": _summary(metrics),
        "latest": latest,
        "stale_description": _stale_json(endpoint.stale),
    }


def _stale_json(stale: StaleDescription | None) -> dict[str, Any] | None:
    """Why the endpoint's variants are not this snapshot's (None: they are)."""
    if stale is None:
        return None
    return {"operation": stale.operation, "error": stale.reason, "described_at": fmt.iso_utc(stale.described_at)}


def snapshot_json(snapshot: FleetSnapshot, settings: Settings) -> dict[str, Any]:
    return {
        "taken_at": fmt.iso_utc(snapshot.taken_at),
        "profile": settings.profile_label,
        "region": settings.region,
        "period_seconds": snapshot.period,
        "endpoints": [_endpoint_json(e, snapshot.metrics_for(e.name)) for e in snapshot.endpoints],
        "poll": {
            "get_metric_data_calls": snapshot.poll.calls,
            "queries": snapshot.poll.queries,
            "datapoints": snapshot.poll.datapoints,
            "seconds": round(snapshot.poll.seconds, 3),
        },
    }


def snapshot_text(snapshot: FleetSnapshot, settings: Settings) -> str:
    lines = [
        f"smtop {fmt.clock_time(snapshot.taken_at)} · profile {settings.profile_label} · "
        f"{settings.region or 'default region'} · {len(snapshot.endpoints)} endpoints · "
        f"{snapshot.poll.calls} GetMetricData calls ({snapshot.poll.queries} queries)"
    ]
    lines.append(" ".join(f"{title:{align}{width}}" for title, width, align in _COLUMNS))
    if not snapshot.endpoints:
        lines.append("(no endpoints — check --region and --profile)")
    for endpoint in snapshot.endpoints:
        m = snapshot.metrics_for(endpoint.name)
        s = _summary(m)
        cells = (
            fmt.printable(endpoint.name),
            (fmt.STALE_MARK if endpoint.stale else "") + fmt.printable(endpoint.status),
            fmt.MISSING if endpoint.never_described else str(endpoint.instance_count),
            fmt.compact(s["invocations_per_minute"]),
            fmt.compact(s["latency_avg_ms"]),
            fmt.compact(s["latency_p99_ms"]),
            fmt.percent(s["error_4xx_pct"]),
            fmt.percent(s["error_5xx_pct"]),
            fmt.utilization(s["cpu_pct"]),
            fmt.utilization(s["gpu_pct"]),
            fmt.utilization(s["memory_pct"]),
            fmt.utilization(s["disk_pct"]),
        )
        lines.append(" ".join(f"{cell:{align}{width}}" for cell, (_, width, align) in zip(cells, _COLUMNS)))
    lines.extend(_stale_lines(snapshot.stale_endpoints))
    return "\n".join(lines)


def _stale_lines(stale: tuple[Endpoint, ...]) -> list[str]:
    """Under the table: why the marked endpoints' descriptions are old, one line per reason."""
    by_reason: dict[str, list[Endpoint]] = {}
    for endpoint in stale:
        if endpoint.stale is not None:
            by_reason.setdefault(endpoint.stale.reason, []).append(endpoint)
    lines = []
    for reason, endpoints in by_reason.items():
        names = ", ".join(fmt.printable(e.name) + _described(e) for e in endpoints)
        lines.append(f"{fmt.STALE_MARK} {fmt.printable(reason)} ({len(endpoints)}): {names}")
    return lines


def _described(endpoint: Endpoint) -> str:
    at = endpoint.stale.described_at if endpoint.stale else None
    return f" (described {fmt.clock_time(at)})" if at else " (never described)"


def _alarm_json(alarm: Alarm) -> dict[str, Any]:
    endpoints = alarm.endpoint_names
    data: dict[str, Any] = {
        "name": alarm.name,
        "type": "composite" if isinstance(alarm, CompositeAlarm) else "metric",
        "state": alarm.state,
        "endpoint": endpoints[0] if len(endpoints) == 1 else None,
        "endpoints": list(endpoints),
        "since": fmt.iso_utc(alarm.state_since),
        "reason": alarm.reason,
        "metric": getattr(alarm, "metric", None),
        "threshold": getattr(alarm, "threshold", None),
        "acknowledged_by": alarm.ack.by if alarm.ack else None,
        "muted_until": fmt.iso_utc(alarm.muted_until),
    }
    if isinstance(alarm, CompositeAlarm):
        data["rule"] = alarm.rule
        data["children_firing"] = list(alarm.firing_children)
    return data


def _event_json(event: TrailEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "time": fmt.iso_utc(event.time),
        "event": event.name,
        "source": event.source,
        "who": event.who,
        "resource": event.resource,
        "endpoints": sorted(event.endpoints),
        "error_code": event.error_code,
        "error_message": event.error_message,
    }


def sections_json(sections: Sections, settings: Settings) -> dict[str, Any]:
    """The snapshot object, with "alarms" and "cloudtrail" each holding its rows or its error."""
    data = snapshot_json(sections.fleet, settings)
    firing = sections.alarms.firing if sections.alarms else ()
    data["alarms"] = {"firing": [_alarm_json(a) for a in firing], "error": sections.alarms_error}
    events = sections.trail.events[:TRAIL_EVENTS] if sections.trail else ()
    data["cloudtrail"] = {"events": [_event_json(e) for e in events], "error": sections.trail_error}
    return data


def sections_text(sections: Sections, settings: Settings) -> str:
    """The endpoints table, then FIRING ALARMS and CLOUDTRAIL, each with its rows or why it is missing."""
    lines = [snapshot_text(sections.fleet, settings), ""]
    if sections.alarms_error is not None:
        lines.append(f"FIRING ALARMS: not available: {fmt.printable(sections.alarms_error)}")
    else:
        firing = sections.alarms.firing if sections.alarms else ()
        lines.append(f"FIRING ALARMS ({len(firing)})")
        for alarm in firing:
            since = fmt.clock_time(alarm.state_since)
            acked = f" · acked by {fmt.printable(alarm.ack.by)}" if alarm.ack else ""
            where = ", ".join(alarm.endpoint_names) or "-"
            lines.append(f"  {fmt.printable(alarm.name)} · {fmt.printable(where)} · since {since}{acked}")
            if isinstance(alarm, CompositeAlarm):
                lines.append(f"    rule: {fmt.printable(alarm.rule)}")
            if alarm.reason:
                lines.append(f"    {fmt.printable(alarm.reason)}")
    lines.append("")
    if sections.trail_error is not None:
        lines.append(f"CLOUDTRAIL: not available: {fmt.printable(sections.trail_error)}")
    else:
        events = sections.trail.events[:TRAIL_EVENTS] if sections.trail else ()
        lines.append(f"CLOUDTRAIL (last {len(events)} events)")
        for event in events:
            error = f" · {fmt.printable(event.error_code)}" if event.error_code else ""
            lines.append(
                f"  {fmt.clock_time(event.time)} {fmt.printable(event.name)} · {fmt.printable(event.who)}"
                f" · {fmt.printable(event.resource or '-')}{error}"
            )
    return "\n".join(lines)
