"""Runs a parsed Insights query over log events, as the service answers it.

Semantics chosen where the service documents none, each one the tests
compute the same way independently:

- A record is one log event with @timestamp, @message, @logStream, @log,
  @ingestionTime and @ptr, plus the fields of a JSON message (nested keys
  flattened with dots, as Insights discovers them).  JSON is decoded only
  when a query asks for a field the record does not have.
- A comparison whose sides both read as numbers compares numbers; otherwise
  strings.  A missing field compares false (and ``!=`` too), as in Insights.
- ``pct(f, p)`` / ``percentile(f, p)`` is the nearest-rank percentile of the
  numeric values of ``f``: the value at rank ceil(p/100·n) of the sorted
  values.  Non-numeric and missing values are ignored by every statistic but
  ``count(*)``.
- ``coalesce(a, b, …)`` is the first of its arguments that has a value
  ("Returns the first non-null value from the list", General functions on
  the page "Boolean, comparison, numeric, datetime, and other functions");
  arithmetic on a missing field has no value, so ``coalesce(s * 1000, ms)``
  picks whichever unit a line was parsed in.
- ``bin(d)`` floors @timestamp to a multiple of ``d`` since the epoch;
  ``stats … by`` answers one row per group, ordered by the group values.
- Without ``fields``/``display``/``stats`` a row shows @timestamp and
  @message; rows of raw events also carry @ptr.  Missing values are left out
  of a row, as GetQueryResults leaves them out.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Iterable

from smtop.sim.insights.parser import (
    Binary,
    Call,
    DedupCmd,
    DisplayCmd,
    Duration,
    Field,
    FieldsCmd,
    FilterCmd,
    LimitCmd,
    Like,
    Literal,
    Logic,
    Member,
    Not,
    ParseCmd,
    Query,
    SortCmd,
    Star,
    StatsCmd,
    QuerySyntaxError,
)

_JSON_DONE = "\0json"


class Instant(int):
    """Epoch milliseconds that print as Insights prints @timestamp and bin()."""

    def __str__(self) -> str:
        t = time.gmtime(self // 1000)
        return f"{time.strftime('%Y-%m-%d %H:%M:%S', t)}.{self % 1000:03d}"


@dataclass(frozen=True)
class Event:
    """One stored log event, as the simulator hands it to the engine."""

    timestamp: int
    message: str
    log_group: str
    log_stream: str
    ingestion_time: int
    account: str = "123456789012"
    index: int = 0


@dataclass
class Outcome:
    """Rows (field → text, in column order) and the statistics GetQueryResults reports."""

    rows: list[list[tuple[str, str]]]
    records_matched: int
    records_scanned: int
    bytes_scanned: int


def record_of(event: Event) -> dict[str, Any]:
    return {
        "@timestamp": Instant(event.timestamp),
        "@message": event.message,
        "@logStream": event.log_stream,
        "@log": f"{event.account}:{event.log_group}",
        "@ingestionTime": Instant(event.ingestion_time),
        "@ptr": f"{event.log_group}|{event.log_stream}|{event.index}",
    }


def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, into)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _flatten(f"{prefix}.{i}", inner, into)
    elif prefix and prefix not in into:
        into[prefix] = value


def lookup(record: dict[str, Any], name: str) -> Any:
    """A field's value, discovering JSON fields of the message on first need."""
    if name in record:
        return record[name]
    if _JSON_DONE not in record:
        record[_JSON_DONE] = True
        message = record.get("@message")
        if isinstance(message, str) and message.startswith("{"):
            try:
                decoded = json.loads(message)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                _flatten("", decoded, record)
        return record.get(name)
    return None


def number(value: Any) -> float | None:
    """The value as a number, or None when it does not read as one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    a, b = number(left), number(right)
    if a is None or b is None:
        a, b = _text(left), _text(right)
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    return a >= b


def _arith(op: str, left: Any, right: Any) -> Any:
    a, b = number(left), number(right)
    if a is None or b is None:
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    return a / b if op == "/" else a % b


def evaluate(node: Any, record: dict[str, Any]) -> Any:
    """The value of an expression for one record (None when missing)."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Field):
        return lookup(record, node.name)
    if isinstance(node, Binary):
        left, right = evaluate(node.left, record), evaluate(node.right, record)
        if node.op in ("+", "-", "*", "/", "%"):
            return _arith(node.op, left, right)
        return _compare(node.op, left, right)
    if isinstance(node, Logic):
        values = (bool(evaluate(item, record)) for item in node.items)
        return all(values) if node.op == "and" else any(values)
    if isinstance(node, Not):
        return not evaluate(node.expr, record)
    if isinstance(node, Like):
        value = evaluate(node.expr, record)
        if value is None:
            return False
        text = _text(value)
        found = node.pattern in text if isinstance(node.pattern, str) else node.pattern.search(text) is not None
        return found != node.negate
    if isinstance(node, Member):
        value = evaluate(node.expr, record)
        if value is None:
            return False
        found = any(_compare("=", value, candidate) for candidate in node.values)
        return found != node.negate
    if isinstance(node, Call):
        return _scalar(node, record)
    raise QuerySyntaxError(f"{type(node).__name__} cannot be used here")


def _scalar(call: Call, record: dict[str, Any]) -> Any:
    if call.name == "bin":
        if len(call.args) != 1 or not isinstance(call.args[0], Duration):
            raise QuerySyntaxError(f"bin needs one time period such as 5m: {call.text}")
        period = call.args[0].ms
        stamp = lookup(record, "@timestamp")
        return Instant(stamp - stamp % period) if stamp is not None else None
    if call.name in ("pct", "percentile", "count", "count_distinct", "sum", "avg", "min", "max"):
        raise QuerySyntaxError(f"{call.text}: statistics functions are only allowed in stats")
    if call.name == "coalesce":
        return next((value for value in (evaluate(arg, record) for arg in call.args) if value is not None), None)
    if len(call.args) != 1:
        raise QuerySyntaxError(f"{call.name} takes one argument: {call.text}")
    value = evaluate(call.args[0], record)
    if call.name == "ispresent":
        return value is not None
    if value is None:
        return None
    if call.name == "strlen":
        return len(_text(value))
    if call.name == "tolower":
        return _text(value).lower()
    if call.name == "toupper":
        return _text(value).upper()
    amount = number(value)
    if amount is None:
        return None
    return {"abs": abs, "floor": math.floor, "ceil": math.ceil}[call.name](amount)


def nearest_rank(values: list[float], p: float) -> float | None:
    """The p-th percentile by nearest rank (see the module docstring)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class _Aggregate:
    """One statistic of one group, fed record by record."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.count = 0
        self.values: list[float] = []
        self.distinct: set[str] = set()
        if call.name in ("pct", "percentile"):
            if len(call.args) != 2 or not isinstance(call.args[1], Literal) or number(call.args[1].value) is None:
                raise QuerySyntaxError(f"{call.name} needs a field and a percentile: {call.text}")
            self.p = float(call.args[1].value)
            if not 0 <= self.p <= 100:
                raise QuerySyntaxError(f"percentile must be between 0 and 100: {call.text}")
        elif call.name == "count" and not call.args:
            pass
        elif len(call.args) != 1:
            raise QuerySyntaxError(f"{call.name} takes one argument: {call.text}")

    def add(self, record: dict[str, Any]) -> None:
        name = self.call.name
        if name == "count":
            if not self.call.args or isinstance(self.call.args[0], Star):
                self.count += 1
            elif evaluate(self.call.args[0], record) is not None:
                self.count += 1
            return
        value = evaluate(self.call.args[0], record)
        if value is None:
            return
        if name == "count_distinct":
            self.distinct.add(_text(value))
            return
        amount = number(value)
        if amount is not None:
            self.values.append(amount)

    def result(self) -> Any:
        name = self.call.name
        if name == "count":
            return self.count
        if name == "count_distinct":
            return len(self.distinct)
        if not self.values:
            return None
        if name == "sum":
            return sum(self.values)
        if name == "avg":
            return sum(self.values) / len(self.values)
        if name == "min":
            return min(self.values)
        if name == "max":
            return max(self.values)
        return nearest_rank(self.values, self.p)


def _group_order(key: tuple) -> tuple:
    return tuple((value is None, number(value) is None, number(value) or 0, _text(value)) for value in key)


def _stats(command: StatsCmd, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple, list[_Aggregate]] = {}
    for record in records:
        key = tuple(evaluate(item.expr, record) for item in command.groups)
        aggregates = groups.get(key)
        if aggregates is None:
            aggregates = groups[key] = [_Aggregate(item.expr) for item in command.aggregates]
        for aggregate in aggregates:
            aggregate.add(record)
    if not command.groups and not groups:
        groups[()] = [_Aggregate(item.expr) for item in command.aggregates]
    rows = []
    for key in sorted(groups, key=_group_order):
        row = {item.name: value for item, value in zip(command.groups, key)}
        row.update({item.name: aggregate.result() for item, aggregate in zip(command.aggregates, groups[key])})
        row[_JSON_DONE] = True
        rows.append(row)
    return rows


def _sort(command: SortCmd, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for name, descending in reversed(command.keys):
        present = [r for r in rows if lookup(r, name) is not None]
        missing = [r for r in rows if lookup(r, name) is None]
        numeric = all(number(lookup(r, name)) is not None for r in present)
        key = (lambda r: number(lookup(r, name))) if numeric else (lambda r: _text(lookup(r, name)))
        rows = sorted(present, key=key, reverse=descending) + missing
    return rows


def _dedup(command: DedupCmd, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple] = set()
    kept = []
    for row in rows:
        values = tuple(lookup(row, name) for name in command.names)
        if any(v is None for v in values):
            kept.append(row)  # null values are not duplicates
            continue
        key = tuple(_text(v) for v in values)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _parse(command: ParseCmd, record: dict[str, Any]) -> None:
    value = lookup(record, command.source)
    if value is None:
        return
    match = command.regex.search(_text(value))
    if match is None:
        return
    if command.regex.groupindex:
        record.update(match.groupdict())
    else:
        record.update(zip(command.names, match.groups()))


def run(query: Query, events: Iterable[Event], *, limit: int = 10_000) -> Outcome:
    """Evaluate ``query`` over ``events`` (already cut to the time range).

    Args:
        limit: the StartQuery ``limit`` (the service's maximum is 10,000 rows).
    """
    scanned = 0
    size = 0
    rows: list[dict[str, Any]] = []
    for event in events:
        scanned += 1
        size += len(event.message.encode())
        rows.append(record_of(event))
    shown: list[str] = []
    raw = True
    matched: int | None = None
    for command in query.commands:
        if isinstance(command, FilterCmd):
            rows = [r for r in rows if evaluate(command.expr, r)]
        elif isinstance(command, ParseCmd):
            for r in rows:
                _parse(command, r)
        elif isinstance(command, FieldsCmd):
            for r in rows:
                for item in command.items:
                    r[item.name] = evaluate(item.expr, r)
            shown += [i.name for i in command.items if i.name not in shown]
        elif isinstance(command, StatsCmd):
            if matched is None:
                matched = len(rows)
            rows = _stats(command, rows)
            shown = [i.name for i in command.groups + command.aggregates]
            raw = False
        elif isinstance(command, SortCmd):
            rows = _sort(command, rows)
        elif isinstance(command, LimitCmd):
            if matched is None:
                matched = len(rows)
            rows = rows[: command.count]
        elif isinstance(command, DedupCmd):
            rows = _dedup(command, rows)
        elif isinstance(command, DisplayCmd):
            shown = list(command.names)
    if matched is None:
        matched = len(rows)
    columns = shown or ["@timestamp", "@message"]
    if raw and "@ptr" not in columns:
        columns = columns + ["@ptr"]
    answer = []
    for row in rows[: min(limit, 10_000)]:
        cells = [(name, lookup(row, name)) for name in columns]
        answer.append([(name, _text(value)) for name, value in cells if value is not None])
    return Outcome(answer, matched, scanned, size)


def check(query: Query) -> None:
    """Raise QuerySyntaxError for what only shows when evaluating (bad arguments), before any record."""
    for command in query.commands:
        if isinstance(command, StatsCmd):
            for item in command.aggregates:
                _Aggregate(item.expr)
            for item in command.groups:
                _check_scalars(item.expr)
        elif isinstance(command, FieldsCmd):
            for item in command.items:
                _check_scalars(item.expr)
        elif isinstance(command, FilterCmd):
            _check_scalars(command.expr)


def _check_scalars(node: Any) -> None:
    if isinstance(node, Call):
        if node.name == "bin":
            if len(node.args) != 1 or not isinstance(node.args[0], Duration):
                raise QuerySyntaxError(f"bin needs one time period such as 5m: {node.text}")
        elif node.name == "coalesce":
            if not node.args:
                raise QuerySyntaxError(f"coalesce needs at least one field: {node.text}")
        elif node.name not in ("ispresent", "strlen", "tolower", "toupper", "abs", "floor", "ceil"):
            raise QuerySyntaxError(f"{node.text}: statistics functions are only allowed in stats")
        for arg in node.args:
            _check_scalars(arg)
    for child in ("left", "right", "expr"):
        if hasattr(node, child):
            _check_scalars(getattr(node, child))
    for item in getattr(node, "items", ()):
        _check_scalars(item)


def _text(value: Any) -> str:
    """How GetQueryResults writes a value: every value is a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Instant):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
