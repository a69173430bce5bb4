"""Every built-in query, run by the engine over lines in all four model-server styles.

The lines come from the simulator's own line writer; the expected answers are
computed here by reading each style the plain way (json.loads, split, a
key=value scan), not with the queries' regular expressions.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from datetime import datetime, timezone

import pytest

from smtop.queries import BUILT_IN
from smtop.sim.fleet import DEMO_FLEET
from smtop.sim.insights import Event, check, parse_query, run
from smtop.sim.logs import _Lines

T0 = 1_794_996_000  # seconds
STYLES = ("gunicorn", "torchserve", "json", "python")


def make_events(seed: int = 11) -> list[Event]:
    rng = random.Random(seed)
    items = []
    for style in STYLES:
        lines = _Lines(style, DEMO_FLEET[0])
        for _ in range(300):
            ms = (T0 + rng.uniform(0, 2400)) * 1000
            ms = int(ms)
            stream = f"AllTraffic/i-{style}-{rng.randrange(2)}"
            roll = rng.random()
            if roll < 0.08:
                messages = lines.failure(rng, ms)
            elif roll < 0.15:
                messages = [lines.access(rng, ms, "/ping", 200, rng.uniform(0.4, 2.5))]
            elif roll < 0.2:
                messages = [lines.info(rng, ms, stream, 50.0)]
            elif roll < 0.24:
                messages = [lines.slow(ms, rng.uniform(900, 4000), 800)]
            else:
                status = 400 if roll < 0.3 else 200
                messages = [lines.access(rng, ms, "/invocations", status, rng.lognormvariate(4.5, 0.7))]
            for message in messages:
                items.append((ms, stream, message))
    items.sort(key=lambda item: item[0])
    return [Event(ms, message, "/g", stream, ms + 300, index=i) for i, (ms, stream, message) in enumerate(items)]


EVENTS = make_events()
QUERIES = {q.name: q.query for q in BUILT_IN}


def latency(message: str) -> float | None:
    """A request's latency read the plain way for each style (None: not a model request)."""
    if message.startswith("{"):
        data = json.loads(message)
        return data.get("latency_ms") if data.get("path") == "/invocations" else None
    if "[inference] request_id=" in message and "path=/invocations" in message:
        pairs = dict(pair.split("=", 1) for pair in message.split() if "=" in pair)
        return float(pairs["latency_ms"]) if "latency_ms" in pairs else None
    if '"POST /invocations HTTP/1.1"' in message:
        return float(message.split()[-1])
    return None


def error_message(message: str) -> str | None:
    if "ERROR" not in message:
        return None
    if message.startswith("{"):
        return json.loads(message)["msg"]
    match = re.search(r"status=\d{3} (.+)", message)
    return match.group(1) if match else None


def status_5xx(message: str) -> bool:
    if message.startswith("{"):
        return json.loads(message).get("status", 0) >= 500
    pairs = dict(pair.split("=", 1) for pair in message.split() if "=" in pair)
    return pairs.get("status", "").startswith("5")


def stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def results(name: str) -> list[dict[str, str]]:
    parsed = parse_query(QUERIES[name])
    check(parsed)
    return [dict(row) for row in run(parsed, EVENTS).rows]


def test_the_sample_has_every_kind_of_line():
    assert sum(latency(e.message) is not None for e in EVENTS) > 600
    assert sum(error_message(e.message) is not None for e in EVENTS) > 40
    assert {e.log_stream.split("-")[1] for e in EVENTS} == set(STYLES)


def test_errors_in_the_last_hour():
    rows = results("errors in the last hour")
    errors = sorted((e for e in EVENTS if "ERROR" in e.message), key=lambda e: e.timestamp, reverse=True)[:100]
    assert [(r["@timestamp"], r["@logStream"], r["@message"]) for r in rows] == [
        (stamp(e.timestamp), e.log_stream, e.message) for e in errors
    ]


def test_latency_percentiles_per_five_minutes():
    rows = results("latency percentiles")
    bins: dict[int, list[float]] = {}
    for e in EVENTS:
        value = latency(e.message)
        if value is not None:
            bins.setdefault(e.timestamp - e.timestamp % 300_000, []).append(value)
    assert [r["bin(5m)"] for r in rows] == [stamp(b) for b in sorted(bins)]
    for row, start in zip(rows, sorted(bins)):
        values = bins[start]
        assert int(row["requests"]) == len(values)
        # torchserve logs whole milliseconds; every style's number is compared as written.
        assert float(row["p50"]) == pytest.approx(rank(values, 50), abs=0.051)
        assert float(row["p99"]) == pytest.approx(rank(values, 99), abs=0.051)


def test_top_error_messages():
    rows = results("top error messages")
    counts = Counter(m for e in EVENTS if (m := error_message(e.message)) is not None)
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:20]
    assert [(r["error"], int(r["events"])) for r in rows] == expected


def test_5xx_per_instance():
    rows = results("5xx per instance")
    counts = Counter(e.log_stream for e in EVENTS if status_5xx(e.message))
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    assert [(r["@logStream"], int(r["errors_5xx"])) for r in rows] == expected


def test_slowest_requests():
    rows = results("slowest requests")
    requests = [(latency(e.message), e) for e in EVENTS if latency(e.message) is not None]
    expected = sorted(requests, key=lambda item: -item[0])[:20]
    assert [float(r["latency_ms"]) for r in rows] == [pytest.approx(value, abs=0.051) for value, _ in expected]
    assert [r["@message"] for r in rows] == [e.message for _, e in expected]


def test_errors_per_five_minutes():
    rows = results("errors per 5 minutes")
    counts = Counter(e.timestamp - e.timestamp % 300_000 for e in EVENTS if "ERROR" in e.message)
    assert [(r["bin(5m)"], int(r["errors"])) for r in rows] == [(stamp(b), counts[b]) for b in sorted(counts)]
