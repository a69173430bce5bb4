"""`smtop --batch`: the console's snapshot as text or JSON, like `top -b`."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Callable, TextIO

from smtop import format as fmt
from smtop.catalog import METRICS
from smtop.clock import Clock
from smtop.errors import SmtopError
from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot
from smtop.settings import Settings

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


def run_batch(settings: Settings, open_fleet: Callable, *, count: int, as_json: bool, clock: Clock, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        asyncio.run(_loop(settings, open_fleet, count, as_json, clock, out))
    except SmtopError as error:
        print(f"smtop: {error}", file=sys.stderr)
        return 1
    return 0


async def _loop(settings: Settings, open_fleet: Callable, count: int, as_json: bool, clock: Clock, out: TextIO) -> None:
    async with open_fleet(settings, clock) as fleet:
        for iteration in range(count):
            if iteration:
                await asyncio.sleep(settings.refresh)
            snapshot = await fleet.refresh()
            if as_json:
                out.write(json.dumps(snapshot_json(snapshot, settings), sort_keys=False) + "\n")
            else:
                out.write(snapshot_text(snapshot, settings) + "\n")
            out.flush()


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
        "instances": endpoint.instance_count,
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
    }


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
            fmt.printable(endpoint.status),
            str(endpoint.instance_count),
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
    return "\n".join(lines)
