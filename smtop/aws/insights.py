"""Logs Insights over aiobotocore: run a query to its end, and keep saved queries.

:class:`InsightsRunner` is one run as an async iterator of
:class:`~smtop.models.insights.QueryProgress`: StartQuery, then
GetQueryResults polled with a growing interval (the service computes for
seconds to minutes, and GetQueryResults has a 5 TPS quota per account) until
the query is done.  Cancelling the iterating task stops the query on the
service too (StopQuery), so an abandoned run does not hold one of the
account's concurrent-query slots.  Two service answers are not failures the
user must act on at once:

- LimitExceededException (too many queries running in the account): the run
  says so and retries StartQuery after a wait, until it gets a slot or is
  cancelled.
- MalformedQueryException: the run ends with status "Malformed" and the
  service's own message, so the user can fix the text.

Throttling and dropped connections (after botocore's own retries) are not
the end of a run either: StartQuery is tried again, and GetQueryResults is
polled again for the same query id (the query keeps running on the
service), after a jittered backoff that the run reports as "throttled,
retrying in Ns"; only :data:`TRANSIENT_TRIES` failures in a row end it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from smtop.aws.session import AwsSession
from smtop.errors import ConnectionFailedError, SmtopError, ThrottledError
from smtop.models.insights import (
    MAX_RESULT_ROWS,
    QueryDefinitions,
    QueryProgress,
    QueryRequest,
    QueryStats,
    SavedQuery,
)

POLL_FIRST = 0.3
"""Seconds before the first GetQueryResults: small queries finish about then."""
POLL_MAX = 3.0
"""The interval grows by half each poll up to this."""
LIMIT_RETRY_FIRST = 5.0
LIMIT_RETRY_MAX = 30.0
TRANSIENT_FIRST = 1.0
"""First wait after a throttled or dropped call; doubles (with jitter) up to POLL_MAX * 4."""
TRANSIENT_TRIES = 8
"""Throttled or dropped calls in a row before the run gives up (about a minute)."""
DEFINITIONS_MAX = 1_000
"""The most account query definitions listed (DescribeQueryDefinitions pages of 1,000)."""

Sleep = Callable[[float], Awaitable[Any]]


def error_code(error: SmtopError) -> str | None:
    """The AWS error code behind a translated error (``MalformedQueryException``), if any."""
    response = getattr(error.__cause__, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def service_message(error: SmtopError) -> str:
    """The service's own message behind a translated error, else smtop's sentence."""
    response = getattr(error.__cause__, "response", None)
    if isinstance(response, dict):
        message = str(response.get("Error", {}).get("Message", "")).strip()
        if message:
            return message
    return str(error)


def _stats(reply: dict[str, Any]) -> QueryStats:
    stats = reply.get("statistics") or {}
    return QueryStats(
        records_matched=float(stats.get("recordsMatched", 0.0)),
        records_scanned=float(stats.get("recordsScanned", 0.0)),
        bytes_scanned=float(stats.get("bytesScanned", 0.0)),
    )


def table_of(results: list[list[dict[str, str]]]) -> tuple[tuple[str, ...], tuple[tuple[str | None, ...], ...]]:
    """GetQueryResults rows (lists of field/value pairs) → column names and cells.

    Columns keep the order in which fields first appear; @ptr (an opaque
    pointer for GetLogRecord) is not shown.
    """
    fields: dict[str, None] = {}
    for row in results:
        for cell in row:
            name = cell.get("field", "")
            if name and name != "@ptr":
                fields.setdefault(name, None)
    names = tuple(fields)
    rows = []
    for row in results[:MAX_RESULT_ROWS]:
        values = {cell.get("field"): cell.get("value") for cell in row}
        rows.append(tuple(values.get(name) for name in names))
    return names, tuple(rows)


class InsightsRunner:
    """Runs one query to its end; iterate :meth:`progress`, cancel the task to stop.

    Args:
        aws: the open session.
        request: what to run, where, over which time range.
        poll_first, poll_max: the GetQueryResults backoff (seconds).
        limit_retry: first wait after LimitExceededException (doubles up to 30 s).
        sleep: ``asyncio.sleep``; tests may pass a faster one.
    """

    def __init__(
        self,
        aws: AwsSession,
        request: QueryRequest,
        *,
        poll_first: float = POLL_FIRST,
        poll_max: float = POLL_MAX,
        limit_retry: float = LIMIT_RETRY_FIRST,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.aws = aws
        self.request = request
        self.poll_first = poll_first
        self.poll_max = poll_max
        self.limit_retry = limit_retry
        self._sleep = sleep
        self.query_id: str | None = None
        self.polls = 0
        self._finished = False
        self._failures = 0
        """Throttled or dropped calls in a row."""
        self._rng = random.Random()

    def _transient(self, error: SmtopError) -> float:
        """Count a throttled or dropped call; the backoff before the next try.

        Raises:
            SmtopError: ``error`` itself, after TRANSIENT_TRIES in a row.
        """
        self._failures += 1
        if self._failures >= TRANSIENT_TRIES:
            raise error
        step = min(self.poll_max * 4, TRANSIENT_FIRST * 2 ** (self._failures - 1))
        return round(step * self._rng.uniform(0.5, 1.0), 1)

    @staticmethod
    def _transient_notice(error: SmtopError, operation: str, delay: float) -> str:
        what = "throttled" if isinstance(error, ThrottledError) else "connection failed"
        return f"{operation} {what}, retrying in {delay:g}s."

    async def progress(self) -> AsyncIterator[QueryProgress]:
        """Yield the run's states, the last one final (``done``)."""
        logs = await self.aws.client("logs")
        yield QueryProgress("Starting")
        wait = self.limit_retry
        attempt = 0
        while self.query_id is None:
            try:
                reply = await self._start(logs)
            except SmtopError as error:
                code = error_code(error)
                if code == "MalformedQueryException":
                    yield QueryProgress("Malformed", error=service_message(error))
                    return
                if isinstance(error, (ThrottledError, ConnectionFailedError)):
                    delay = self._transient(error)
                    yield QueryProgress("Starting", notice=self._transient_notice(error, "StartQuery", delay))
                    await self._sleep(delay)
                    continue
                if code != "LimitExceededException":
                    raise
                attempt += 1
                yield QueryProgress(
                    "Waiting",
                    notice=f"Too many Logs Insights queries are running in this account; "
                    f"retrying in {wait:g}s (attempt {attempt}).",
                )
                await self._sleep(wait)
                wait = min(wait * 2, LIMIT_RETRY_MAX)
                continue
            self.query_id = reply["queryId"]
            self._failures = 0
        yield QueryProgress("Scheduled", query_id=self.query_id)
        try:
            async for state in self._poll(logs):
                yield state
        finally:
            if self.query_id is not None and not self._finished:
                await self._stop(logs)

    async def _start(self, logs: Any) -> dict[str, Any]:
        """StartQuery, finished even if the run is cancelled meanwhile: the
        service may already run the query, and only its id lets us stop it."""
        call = asyncio.ensure_future(
            logs.start_query(
                logGroupNames=list(self.request.log_groups),
                startTime=int(self.request.start.timestamp()),
                endTime=int(self.request.end.timestamp()),
                queryString=self.request.query,
                limit=MAX_RESULT_ROWS,
            )
        )
        try:
            with self.aws.errors("logs", "StartQuery"):
                return await asyncio.shield(call)
        except asyncio.CancelledError:
            try:
                self.query_id = (await call)["queryId"]
            except Exception:  # noqa: BLE001 - it failed to start: nothing to stop
                raise asyncio.CancelledError from None
            await self._stop(logs)
            raise

    async def _poll(self, logs: Any) -> AsyncIterator[QueryProgress]:
        interval = self.poll_first
        last = QueryProgress("Scheduled", query_id=self.query_id)
        while True:
            await self._sleep(interval)
            interval = min(interval * 1.5, self.poll_max)
            try:
                with self.aws.errors("logs", "GetQueryResults"):
                    reply = await logs.get_query_results(queryId=self.query_id)
            except (ThrottledError, ConnectionFailedError) as error:
                # The query runs on regardless: ask again for the same id later.
                interval = self._transient(error)
                yield replace(last, notice=self._transient_notice(error, "GetQueryResults", interval))
                continue
            self._failures = 0
            self.polls += 1
            status = reply.get("status", "Unknown")
            stats = _stats(reply)
            if status in ("Scheduled", "Running"):
                last = QueryProgress(status, query_id=self.query_id, stats=stats)
                yield last
                continue
            self._finished = True
            fields, rows = table_of(reply.get("results") or [])
            error = None if status == "Complete" else f"The query ended with status {status}."
            yield QueryProgress(
                status,
                query_id=self.query_id,
                stats=stats,
                fields=fields,
                rows=rows,
                capped=len(rows) >= MAX_RESULT_ROWS,
                error=error,
            )
            return

    async def _stop(self, logs: Any) -> None:
        # Runs while the task is being cancelled: shielded, so the StopQuery
        # itself is not cancelled half-way; a failure to stop is not worth
        # an error (the service times the query out on its own).
        try:
            with self.aws.errors("logs", "StopQuery"):
                await asyncio.shield(logs.stop_query(queryId=self.query_id))
        except (SmtopError, asyncio.CancelledError):
            pass


async def query_definitions(aws: AwsSession) -> QueryDefinitions:
    """The account's saved queries (DescribeQueryDefinitions), or why they could not be read."""
    logs = await aws.client("logs")
    found: list[SavedQuery] = []
    token: str | None = None
    try:
        while len(found) < DEFINITIONS_MAX:
            request: dict[str, Any] = {"maxResults": 1000}
            if token:
                request["nextToken"] = token
            with aws.errors("logs", "DescribeQueryDefinitions"):
                reply = await logs.describe_query_definitions(**request)
            for item in reply.get("queryDefinitions", []):
                found.append(
                    SavedQuery(
                        name=item.get("name", ""),
                        query=item.get("queryString", ""),
                        source="account",
                        log_groups=tuple(item.get("logGroupNames") or ()),
                        definition_id=item.get("queryDefinitionId"),
                    )
                )
            token = reply.get("nextToken")
            if not token:
                break
    except SmtopError as error:
        return QueryDefinitions(tuple(found), error=str(error))
    return QueryDefinitions(tuple(found[:DEFINITIONS_MAX]))


async def put_query_definition(aws: AwsSession, query: SavedQuery) -> str:
    """Save ``query`` in the account (PutQueryDefinition); update it when it has an id.

    Raises:
        ReadOnlyError: under --read-only (the call is refused before it is sent).
    """
    logs = await aws.client("logs")
    request: dict[str, Any] = {"name": query.name, "queryString": query.query}
    if query.log_groups:
        request["logGroupNames"] = list(query.log_groups)
    if query.definition_id:
        request["queryDefinitionId"] = query.definition_id
    with aws.errors("logs", "PutQueryDefinition"):
        reply = await logs.put_query_definition(**request)
    return reply["queryDefinitionId"]
