"""The Insights engine on its own: every answer is recomputed here with plain Python.

Events are generated in the test (JSON and key=value lines with known
fields), so each expected value comes from the data, not from the engine.
"""

from __future__ import annotations

import json
import math
import random
import re

import pytest

from smtop.sim.insights import Event, QuerySyntaxError, check, parse_query, run

T0 = 1_794_996_000_000  # ms, a whole hour


def make_events(count: int = 600, seed: int = 3) -> list[Event]:
    rng = random.Random(seed)
    events = []
    for i in range(count):
        ts = T0 + i * 7_000 + rng.randrange(0, 5_000)
        status = rng.choice((200, 200, 200, 200, 400, 500, 503))
        latency = round(rng.lognormvariate(4, 0.8), 1)
        level = "ERROR" if status >= 500 else ("WARN" if status >= 400 else "INFO")
        user = f"u{rng.randrange(0, 12)}"
        if i % 3 == 0:
            message = f"2026-11-18 10:00:00,000 {level} [inference] user={user} status={status} latency_ms={latency}"
        else:
            message = json.dumps({"level": level, "status": status, "latency_ms": latency, "user": user, "req": {"path": "/invocations", "tokens": i % 50}})
        events.append(Event(ts, message, "/g", f"AllTraffic/i-{i % 2}", ts + 200, index=i))
    return events


EVENTS = make_events()


def fields_of(event: Event) -> dict:
    """What the test knows about each event, decoded independently of the engine."""
    if event.message.startswith("{"):
        data = json.loads(event.message)
        return {"status": data["status"], "latency_ms": data["latency_ms"], "level": data["level"], "user": data["user"], "json": True}
    pairs = dict(re.findall(r"(\w+)=(\S+)", event.message))
    level = event.message.split()[2]
    return {"status": int(pairs["status"]), "latency_ms": float(pairs["latency_ms"]), "level": level, "user": pairs["user"], "json": False}


def answer(query: str, events=EVENTS, limit: int = 10_000):
    parsed = parse_query(query)
    check(parsed)
    outcome = run(parsed, events, limit=limit)
    return outcome, [dict(row) for row in outcome.rows]


def stamp(ms: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def test_filter_like_regex_sort_desc_and_limit():
    outcome, rows = answer("fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp desc | limit 25")
    errors = [e for e in EVENTS if "ERROR" in e.message]
    expected = sorted(errors, key=lambda e: e.timestamp, reverse=True)[:25]
    assert [r["@message"] for r in rows] == [e.message for e in expected]
    assert [r["@timestamp"] for r in rows] == [stamp(e.timestamp) for e in expected]
    assert all("@ptr" in r for r in rows)
    assert outcome.records_scanned == len(EVENTS)
    assert outcome.records_matched == len(errors)
    assert outcome.bytes_scanned == sum(len(e.message.encode()) for e in EVENTS)


@pytest.mark.parametrize(
    ("condition", "predicate"),
    [
        ("status >= 500", lambda f: f["status"] >= 500),
        ("status = 400", lambda f: f["status"] == 400),
        ("status != 200 and latency_ms < 40", lambda f: f["status"] != 200 and f["latency_ms"] < 40),
        ("status > 200 or latency_ms <= 20", lambda f: f["status"] > 200 or f["latency_ms"] <= 20),
        ("ispresent(status) and not status = 200", lambda f: f["status"] != 200),
        ("status in [400, 503]", lambda f: f["status"] in (400, 503)),
        ("status not in [200, 400]", lambda f: f["status"] not in (200, 400)),
        ('level = "WARN"', lambda f: f["level"] == "WARN"),
        ("level =~ /^E/", lambda f: f["level"].startswith("E")),
        ('user like "u1"', lambda f: "u1" in f["user"]),
        ("user not like /^u[0-4]$/", lambda f: not re.match(r"^u[0-4]$", f["user"])),
        ("(status = 500 or status = 503) and not level = \"INFO\"", lambda f: f["status"] in (500, 503)),
    ],
)
def test_filter_comparisons_on_json_fields(condition, predicate):
    # Only JSON events have discovered fields; the key=value ones have none.
    _, rows = answer(f"fields @timestamp, status | filter {condition} | sort @timestamp asc")
    expected = [e for e in EVENTS if fields_of(e)["json"] and predicate(fields_of(e))]
    assert [r["@timestamp"] for r in rows] == [stamp(e.timestamp) for e in sorted(expected, key=lambda e: e.timestamp)]


def test_nested_json_fields_are_flattened_with_dots():
    _, rows = answer("filter req.tokens >= 45 | fields req.tokens, req.path | sort req.tokens desc, @timestamp asc")
    expected = [e for e in EVENTS if fields_of(e)["json"] and json.loads(e.message)["req"]["tokens"] >= 45]
    expected.sort(key=lambda e: (-json.loads(e.message)["req"]["tokens"], e.timestamp))
    assert [int(r["req.tokens"]) for r in rows] == [json.loads(e.message)["req"]["tokens"] for e in expected]
    assert {r["req.path"] for r in rows} == {"/invocations"}


def test_parse_with_a_regex_and_named_groups_then_stats_by_field():
    _, rows = answer(
        r"filter @message like /\[inference\]/ | parse @message /user=(?<who>u\d+) status=(?<code>\d+)/"
        " | stats count(*) as n, count_distinct(code) as codes by who | sort who asc"
    )
    plain = [fields_of(e) for e in EVENTS if not fields_of(e)["json"]]
    users = sorted({f["user"] for f in plain})
    assert [r["who"] for r in rows] == users
    for row in rows:
        mine = [f for f in plain if f["user"] == row["who"]]
        assert int(row["n"]) == len(mine)
        assert int(row["codes"]) == len({f["status"] for f in mine})


def test_parse_with_a_glob():
    _, rows = answer('parse @message "* [inference] user=* status=* " as head, who, code | filter ispresent(code) | display who, code')
    plain = [fields_of(e) for e in EVENTS if not fields_of(e)["json"]]
    assert [(r["who"], int(r["code"])) for r in rows] == [(f["user"], f["status"]) for f in plain]


def test_stats_functions_by_bin():
    _, rows = answer(
        "stats count(*) as n, sum(latency_ms) as total, avg(latency_ms) as mean, min(latency_ms) as low,"
        " max(latency_ms) as high, pct(latency_ms, 50) as p50, percentile(latency_ms, 99) as p99 by bin(10m)"
    )
    bins: dict[int, list[Event]] = {}
    for e in EVENTS:
        bins.setdefault(e.timestamp - e.timestamp % 600_000, []).append(e)
    assert [r["bin(10m)"] for r in rows] == [stamp(b) for b in sorted(bins)]
    for row, start in zip(rows, sorted(bins)):
        events = bins[start]
        # count(*) counts every record; the others only records that have the field (JSON ones).
        values = [fields_of(e)["latency_ms"] for e in events if fields_of(e)["json"]]
        assert int(row["n"]) == len(events)
        assert float(row["total"]) == pytest.approx(sum(values), abs=1e-3)
        assert float(row["mean"]) == pytest.approx(sum(values) / len(values), abs=1e-3)
        assert float(row["low"]) == min(values) and float(row["high"]) == max(values)
        assert float(row["p50"]) == rank(values, 50)
        assert float(row["p99"]) == rank(values, 99)


def test_fields_arithmetic_alias_and_dedup():
    _, rows = answer("fields latency_ms * 2 as double, user | filter ispresent(double) | dedup user | sort user asc")
    seen, expected = set(), []
    for e in EVENTS:
        f = fields_of(e)
        if f["json"] and f["user"] not in seen:
            seen.add(f["user"])
            expected.append((f["user"], f["latency_ms"] * 2))
    expected.sort()
    assert [(r["user"], float(r["double"])) for r in rows] == [(u, pytest.approx(d)) for u, d in expected]


def test_coalesce_takes_the_first_value_present_and_arithmetic_on_a_missing_field_has_none():
    """General functions: coalesce "returns the first non-null value from the list";
    a latency parsed in one of two units becomes milliseconds either way."""
    events = [
        Event(T0, 'done total_time="2.5s"', "/g", "s", T0, index=0),
        Event(T0 + 1, 'done total_time="812.4ms"', "/g", "s", T0 + 1, index=1),
        Event(T0 + 2, "no time here", "/g", "s", T0 + 2, index=2),
    ]
    _, rows = answer(
        'parse @message /total_time="(?<secs>[\\d.]+)s"/ | parse @message /total_time="(?<millis>[\\d.]+)ms"/'
        " | fields secs * 1000 as secs_ms | fields coalesce(secs_ms, millis) as ms, coalesce(millis, secs_ms) as other"
        " | display @message, ms, other",
        events,
    )
    assert [{k: v for k, v in row.items() if k != "@ptr"} for row in rows] == [
        {"@message": 'done total_time="2.5s"', "ms": "2500", "other": "2500"},
        {"@message": 'done total_time="812.4ms"', "ms": "812.4", "other": "812.4"},
        {"@message": "no time here"},
    ]
    with pytest.raises(QuerySyntaxError, match="coalesce needs at least one field"):
        check(parse_query("fields coalesce() as x"))


def test_default_columns_and_the_request_limit():
    outcome, rows = answer("filter status = 500", limit=7)
    assert len(rows) == 7
    assert set(rows[0]) == {"@timestamp", "@message", "@ptr"}
    assert outcome.records_matched == sum(1 for e in EVENTS if fields_of(e)["json"] and fields_of(e)["status"] == 500)


def test_a_stats_query_over_no_records_counts_zero():
    _, rows = answer("filter status = 999 | stats count(*) as n")
    assert rows == [{"n": "0"}]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("fitler @message like /x/", r"mismatched input 'fitler' expecting \{.*K_FILTER.*\} at line 1 and position 1"),
        ("fields @message\n| stats count(*) by bin(5m) x", r"mismatched input 'x' .* at line 2 and position 29"),
        ("fields @timestamp | limit", r"mismatched input '<EOF>'"),
        ("fields @message\n| stats foo(x)", r"Unknown function: foo at line 2 and position 9"),
        ("stats count(*) by bin(5)", r"bin needs one time period"),
        ("filter @message like /a(b/", r"Invalid regular expression"),
        ("stats pct(latency_ms) as p", r"pct needs a field and a percentile"),
        ("filter count(*) > 1", r"only allowed in stats"),
        ("fields a | ~", r"token recognition error at: '~'"),
        ("   ", r"Query string is empty"),
    ],
)
def test_malformed_queries_say_where(query, message):
    with pytest.raises(QuerySyntaxError) as raised:
        check(parse_query(query))
    assert re.search(message, str(raised.value)), str(raised.value)
