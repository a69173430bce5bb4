"""CloudWatch Logs Insights behind the Logs API: queries that really run, and saved queries.

moto 5.2.5 runs StartQuery synchronously, ignores filter/parse/stats, and has
no StopQuery or query definitions.  Here:

- StartQuery parses the query first (:mod:`smtop.sim.insights`): a malformed
  one is MalformedQueryException (HTTP 400) with the service-style message,
  so a console shows what the user would read against AWS.  More than
  :data:`MAX_CONCURRENT` running queries in one account and region is
  LimitExceededException, as the service's concurrency quota answers.
- The answer is computed at once, but the query reports ``Running`` (with
  partial statistics and no rows) to at least its first GetQueryResults and
  until its simulated run time has passed: a client's polling, its progress
  display and StopQuery are exercised as against AWS, deterministically (a
  query nobody has polled yet is still running, so a test can cancel it).
  A query left running is done after :data:`ABANDONED_AFTER` seconds, so
  abandoned ones do not hold the quota forever.
- StopQuery cancels a running query; Describe/Put/DeleteQueryDefinition keep
  saved queries per account and region, sorted by name, paginated.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import moto.logs.models as logs_models
from moto.logs.exceptions import InvalidParameterException, LogsClientError, ResourceNotFoundException
from moto.logs.responses import LogsResponse

from smtop.sim.clock import SimClock
from smtop.sim.insights import Event, Outcome, QuerySyntaxError, check, parse_query, run
from smtop.sim.patches.handlers import Handlers
from smtop.sim.patches.logs import find_group

MAX_CONCURRENT = 30
"""Running queries allowed per account and region (the service's default quota)."""
MAX_ROWS = 10_000
"""The most rows one query returns, and StartQuery's largest ``limit``."""
ABANDONED_AFTER = 60.0
"""Simulated seconds after which a query nobody polled to the end completes anyway."""


class MalformedQueryException(LogsClientError):
    def __init__(self, message: str) -> None:
        self.code = 400
        super().__init__("MalformedQueryException", message)


class LimitExceededException(LogsClientError):
    def __init__(self, message: str) -> None:
        self.code = 400
        super().__init__("LimitExceededException", message)


@dataclass
class _Query:
    query_id: str
    text: str
    groups: list[str]
    start: int
    end: int
    created: float
    duration: float
    outcome: Outcome
    status: str = "Running"
    polls: int = 0


@dataclass
class _Insights:
    """One account and region's queries and query definitions."""

    queries: dict[str, _Query] = field(default_factory=dict)
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATES_LOCK = threading.Lock()


def _state(backend: logs_models.LogsBackend) -> _Insights:
    # Kept on the backend itself, so moto's reset (new backends) resets it too.
    with _STATES_LOCK:
        state = getattr(backend, "_smtop_insights", None)
        if state is None:
            state = _Insights()
            backend._smtop_insights = state
        return state


def run_time(scanned: int) -> float:
    """How long a query over ``scanned`` records pretends to run (seconds): ~50k records a second."""
    return min(0.4 + scanned / 50_000, 5.0)


def _events(backend: logs_models.LogsBackend, groups: list[str], start_ms: int, end_ms: int, account: str):
    for name in groups:
        group = backend.groups[name]
        for stream in list(group.streams.values()):
            for index, event in enumerate(list(stream.events)):
                if start_ms <= event.timestamp <= end_ms:
                    yield Event(event.timestamp, event.message, name, stream.log_stream_name, event.ingestion_time, account, index)


def _status(query: _Query, now: float) -> str:
    if query.status == "Running":
        elapsed = now - query.created
        if (query.polls >= 1 and elapsed >= query.duration) or elapsed >= ABANDONED_AFTER:
            query.status = "Complete"
    return query.status


def _statistics(query: _Query, fraction: float) -> dict[str, float]:
    outcome = query.outcome
    return {
        "recordsMatched": float(int(outcome.records_matched * fraction)),
        "recordsScanned": float(int(outcome.records_scanned * fraction)),
        "bytesScanned": float(int(outcome.bytes_scanned * fraction)),
    }


def _group_names(response: LogsResponse) -> list[str]:
    name = response._get_param("logGroupName")
    names = response._get_param("logGroupNames")
    identifiers = response._get_param("logGroupIdentifiers")
    given = [x for x in (name, names, identifiers) if x]
    if len(given) != 1:
        raise InvalidParameterException(
            "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be specified."
        )
    if name:
        return [find_group(response.logs_backend, name, None).name]
    if names:
        return [find_group(response.logs_backend, n, None).name for n in names]
    return [find_group(response.logs_backend, None, i).name for i in identifiers]


def start_query(response: LogsResponse, *, clock: SimClock) -> str:
    text = response._get_param("queryString") or ""
    if len(text) > 10_000:
        raise InvalidParameterException("queryString must be at most 10000 characters long.")
    start, end = response._get_int_param("startTime"), response._get_int_param("endTime")
    if start is None or end is None:
        raise InvalidParameterException("startTime and endTime are required.")
    if end < start:
        raise InvalidParameterException("End time should not be before the start time")
    limit = response._get_int_param("limit") or MAX_ROWS
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidParameterException(f"limit must be between 1 and {MAX_ROWS}.")
    groups = _group_names(response)
    try:
        parsed = parse_query(text)
        check(parsed)
    except QuerySyntaxError as error:
        raise MalformedQueryException(str(error)) from None
    state = _state(response.logs_backend)
    now = clock.time()
    with state.lock:
        running = sum(1 for q in state.queries.values() if _status(q, now) == "Running")
        if running >= MAX_CONCURRENT:
            raise LimitExceededException(
                f"Account maximum query concurrency limit of [{MAX_CONCURRENT}] reached."
            )
    try:
        outcome = run(parsed, _events(response.logs_backend, groups, start * 1000, end * 1000, response.current_account), limit=limit)
    except QuerySyntaxError as error:  # an argument only a record shows wrong
        raise MalformedQueryException(str(error)) from None
    query = _Query(
        query_id=str(uuid.uuid4()),
        text=text,
        groups=groups,
        start=start,
        end=end,
        created=now,
        duration=run_time(outcome.records_scanned),
        outcome=outcome,
    )
    with state.lock:
        state.queries[query.query_id] = query
    return json.dumps({"queryId": query.query_id})


def _find(response: LogsResponse) -> _Query:
    query = _state(response.logs_backend).queries.get(response._get_param("queryId") or "")
    if query is None:
        raise ResourceNotFoundException("The specified query does not exist.")
    return query


def get_query_results(response: LogsResponse, *, clock: SimClock) -> str:
    query = _find(response)
    now = clock.time()
    with _state(response.logs_backend).lock:
        status = _status(query, now)
        answer: dict[str, Any] = {"status": status, "results": []}
        if status == "Running":
            query.polls += 1
            answer["statistics"] = _statistics(query, min(0.9, (now - query.created) / query.duration))
        else:
            answer["statistics"] = _statistics(query, 1.0)
            if status == "Complete":
                answer["results"] = [
                    [{"field": name, "value": value} for name, value in row] for row in query.outcome.rows
                ]
    return json.dumps(answer)


def stop_query(response: LogsResponse, *, clock: SimClock) -> str:
    query = _find(response)
    with _state(response.logs_backend).lock:
        stopped = _status(query, clock.time()) == "Running"
        if stopped:
            query.status = "Cancelled"
    return json.dumps({"success": stopped})


def describe_queries(response: LogsResponse, *, clock: SimClock) -> str:
    group = response._get_param("logGroupName")
    wanted = response._get_param("status")
    now = clock.time()
    state = _state(response.logs_backend)
    with state.lock:
        found = [
            {
                "queryId": q.query_id,
                "queryString": q.text,
                "status": _status(q, now),
                "createTime": int(q.created * 1000),
                "logGroupName": q.groups[0],
            }
            for q in state.queries.values()
            if (not group or group in q.groups) and (not wanted or _status(q, now) == wanted)
        ]
    return json.dumps({"queries": found})


def put_query_definition(response: LogsResponse, *, clock: SimClock) -> str:
    name = response._get_param("name") or ""
    text = response._get_param("queryString") or ""
    if not 1 <= len(name) <= 255:
        raise InvalidParameterException("name must be between 1 and 255 characters long.")
    if not 1 <= len(text) <= 10_000:
        raise InvalidParameterException("queryString must be between 1 and 10000 characters long.")
    state = _state(response.logs_backend)
    definition_id = response._get_param("queryDefinitionId")
    with state.lock:
        if definition_id and definition_id not in state.definitions:
            raise ResourceNotFoundException("The specified query definition does not exist.")
        definition_id = definition_id or str(uuid.uuid4())
        state.definitions[definition_id] = {
            "queryDefinitionId": definition_id,
            "name": name,
            "queryString": text,
            "lastModified": int(clock.time() * 1000),
            "logGroupNames": list(response._get_param("logGroupNames") or []),
        }
    return json.dumps({"queryDefinitionId": definition_id})


def describe_query_definitions(response: LogsResponse) -> str:
    prefix = response._get_param("queryDefinitionNamePrefix") or ""
    size = response._get_int_param("maxResults") or 1000
    if not 1 <= size <= 1000:
        raise InvalidParameterException("maxResults must be between 1 and 1000.")
    start = int(response._get_param("nextToken") or 0)
    state = _state(response.logs_backend)
    with state.lock:
        matching = sorted(
            (d for d in state.definitions.values() if d["name"].startswith(prefix)),
            key=lambda d: (d["name"], d["queryDefinitionId"]),
        )
    page = matching[start : start + size]
    answer: dict[str, Any] = {"queryDefinitions": page}
    if start + size < len(matching):
        answer["nextToken"] = str(start + size)
    return json.dumps(answer)


def delete_query_definition(response: LogsResponse) -> str:
    state = _state(response.logs_backend)
    with state.lock:
        if state.definitions.pop(response._get_param("queryDefinitionId") or "", None) is None:
            raise ResourceNotFoundException("The specified query definition does not exist.")
    return json.dumps({"success": True})


HANDLERS: Handlers = {
    (LogsResponse, "start_query"): start_query,
    (LogsResponse, "get_query_results"): get_query_results,
    (LogsResponse, "stop_query"): stop_query,
    (LogsResponse, "describe_queries"): describe_queries,
    (LogsResponse, "put_query_definition"): put_query_definition,
    (LogsResponse, "describe_query_definitions"): describe_query_definitions,
    (LogsResponse, "delete_query_definition"): delete_query_definition,
}
"""The Insights operations of the Logs API: install with ``clock=``."""
