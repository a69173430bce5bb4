"""Every built-in query, run by the engine over lines in every container's format.

The lines come from the simulator's own line writer (each format checked
against the containers' source in ``test_log_formats``); the expected answers
are computed here by reading each format the plain way (json.loads, split,
the last field), not with the queries' regular expressions.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import datetime, timezone

import pytest

from smtop.models.queries import BUILT_IN
from smtop.sim.insights import Event, check, parse_query, run
from smtop.sim.log_formats import FORMATS

T0 = 1_794_996_000  # seconds


def make_events(seed: int = 11) -> list[Event]:
    rng = random.Random(seed)
    items = []
    for name, fmt in FORMATS.items():
        for _ in range(300):
            ms = int((T0 + rng.uniform(0, 2400)) * 1000)
            stream = f"AllTraffic/i-{name}-{rng.randrange(2)}"
            roll = rng.random()
            if roll < 0.08:
                messages = fmt.failure(rng, ms, rng.lognormvariate(6, 0.5))
            elif roll < 0.15:
                messages = fmt.ping(rng, ms)
            elif roll < 0.2:
                messages = fmt.periodic(rng, ms, 1.0)
            else:
                status = 400 if roll < 0.26 else 200
                messages = fmt.request(rng, ms, status, rng.lognormvariate(4.5, 0.7) * rng.choice((1, 1, 30)))
            for message in messages:
                items.append((ms, stream, message))
    items.sort(key=lambda item: item[0])
    return [Event(ms, message, "/g", stream, ms + 300, index=i) for i, (ms, stream, message) in enumerate(items)]


EVENTS = make_events()
QUERIES = {q.name: q.query for q in BUILT_IN}


def _duration_ms(text: str) -> float:
    for unit, scale in (("µs", 1e-3), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(text)


def latency(message: str) -> float | None:
    """A request's duration in ms read the plain way for each format (None: the line has none)."""
    if message.startswith("{"):
        data = json.loads(message)
        return _duration_ms(data["span"]["total_time"]) if data.get("message") == "Success" else None
    if message.endswith(": Success") and 'total_time="' in message:
        return _duration_ms(message.split('total_time="')[1].split('"')[0])
    if " ACCESS_LOG - " in message and '"POST /invocations HTTP/1.1"' in message:
        return float(message.split()[-1])
    return None


def is_request(message: str) -> bool:
    """A line that logs one model invocation, read the plain way: a served request's
    access line (MMS, TorchServe, nginx, uvicorn), TGI's Success line, Triton's request line."""
    if message.startswith("{"):
        return json.loads(message).get("message") == "Success"
    return (
        '"POST /invocations HTTP/1.1"' in message
        or (message.endswith(": Success") and 'total_time="' in message)
        or message.endswith('"SageMaker request: 2 /invocations"')
    )


def error_message(message: str) -> str | None:
    """The error text of TGI's ERROR lines (router and launcher, text or JSON); None for others."""
    if "ERROR" not in message:
        return None
    if message.startswith("{"):
        data = json.loads(message)
        text = data.get("message") or data.get("fields", {}).get("message")
        return text.split("\n")[0] if data["level"] == "ERROR" else None
    first = message.split("\n")[0]
    if " text_generation_launcher: " in first:
        return first.split(" text_generation_launcher: ", 1)[1]
    if "text_generation_router" in first:
        return first.split(".rs:", 1)[1].split(": ", 1)[1]
    return None


def status_5xx(message: str) -> bool:
    """An access line (nginx, MMS, TorchServe, uvicorn) with a 5xx status."""
    if 'HTTP/1.1" ' not in message:
        return False
    return message.split('HTTP/1.1" ', 1)[1][:1] == "5"


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
    assert sum(status_5xx(e.message) for e in EVENTS) > 40
    assert {e.log_stream.split("-", 1)[1].rsplit("-", 1)[0] for e in EVENTS} == set(FORMATS)


def test_errors_in_the_last_hour():
    rows = results("errors in the last hour")
    errors = sorted((e for e in EVENTS if "ERROR" in e.message), key=lambda e: e.timestamp, reverse=True)[:100]
    assert [(r["@timestamp"], r["@logStream"], r["@message"]) for r in rows] == [
        (stamp(e.timestamp), e.log_stream, e.message) for e in errors
    ]


def test_latency_percentiles_per_five_minutes():
    """requests counts every request line, timed or not; p50 and p99 rank the durations."""
    rows = results("latency percentiles")
    requests: Counter[int] = Counter()
    bins: dict[int, list[float]] = {}
    for e in EVENTS:
        start = e.timestamp - e.timestamp % 300_000
        if is_request(e.message):
            requests[start] += 1
        value = latency(e.message)
        if value is not None:
            bins.setdefault(start, []).append(value)
    assert set(bins) <= set(requests)
    assert [r["bin(5m)"] for r in rows] == [stamp(b) for b in sorted(requests)]
    for row, start in zip(rows, sorted(requests)):
        values = bins[start]
        assert int(row["requests"]) == requests[start] > len(values)  # nginx, vLLM and Triton requests too
        assert float(row["p50"]) == pytest.approx(rank(values, 50), abs=1e-6)
        assert float(row["p99"]) == pytest.approx(rank(values, 99), abs=1e-6)


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
    assert [float(r["latency_ms"]) for r in rows] == [pytest.approx(value, abs=1e-6) for value, _ in expected]
    assert [r["@message"] for r in rows] == [e.message for _, e in expected]


def test_errors_per_five_minutes():
    rows = results("errors per 5 minutes")
    counts = Counter(e.timestamp - e.timestamp % 300_000 for e in EVENTS if "ERROR" in e.message)
    assert [(r["bin(5m)"], int(r["errors"])) for r in rows] == [(stamp(b), counts[b]) for b in sorted(counts)]
