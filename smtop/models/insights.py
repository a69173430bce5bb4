"""Logs Insights: saved queries, a run's request, and its progress as the UI sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

QuerySource = Literal["account", "built-in", "config"]

MAX_RESULT_ROWS = 10_000
"""The most rows Logs Insights returns for one query (the service's cap)."""

FINAL_STATES = frozenset({"Complete", "Failed", "Cancelled", "Timeout", "Unknown", "Malformed"})


@dataclass(frozen=True, slots=True)
class Measure:
    """The value a saved query reads out of log lines, so a run can say when no line had it.

    Some model servers log each request's duration and some do not (nginx's
    ``combined`` line, uvicorn, Triton): a latency query over the latter
    scans lines and finds nothing to measure, which is not the same as "no
    requests".  ``column`` is the result column that holds the value;
    ``absent`` is what to say when a completed run scanned lines and no row
    has that column.
    """

    column: str
    absent: str

    def missing_from(self, progress: QueryProgress) -> bool:
        """Whether ``progress`` is a completed run over some lines in which no row has the value."""
        return (
            progress.status == "Complete"
            and progress.stats.records_scanned > 0
            and self.column not in progress.fields
        )


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """A query the panel offers, from the account, smtop itself or the config file.

    ``log_groups`` empty means "the selected endpoint's log group";
    ``definition_id`` is the account's queryDefinitionId (re-saving updates it).
    """

    name: str
    query: str
    source: QuerySource
    log_groups: tuple[str, ...] = ()
    definition_id: str | None = None
    measure: Measure | None = None
    """What the query reads out of the lines, when it can be missing from them (smtop's latency queries)."""


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """One run: the text, where, and over which time range."""

    query: str
    log_groups: tuple[str, ...]
    start: datetime
    end: datetime
    name: str = ""
    endpoint: str | None = None
    """The endpoint selected when the run started (its results belong to it)."""
    measure: Measure | None = None
    """The query's :class:`Measure`, to say when the lines carried none."""


@dataclass(frozen=True, slots=True)
class QueryStats:
    records_matched: float = 0.0
    records_scanned: float = 0.0
    bytes_scanned: float = 0.0


@dataclass(frozen=True, slots=True)
class QueryProgress:
    """Where a run is: sent on every poll, the last one carries the rows.

    ``status`` is the service's (Scheduled, Running, Complete, Failed,
    Cancelled, Timeout) or smtop's own "Starting", "Waiting" (the account's
    concurrency limit: ``notice`` says when it retries) and "Malformed"
    (``error`` is the service's message).  ``rows`` are cells in
    ``fields`` order, None where a row has no value; @ptr is left out.
    """

    status: str
    query_id: str | None = None
    stats: QueryStats = QueryStats()
    fields: tuple[str, ...] = ()
    rows: tuple[tuple[str | None, ...], ...] = ()
    capped: bool = False
    notice: str | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATES


@dataclass(frozen=True, slots=True)
class QueryDefinitions:
    """The account's saved queries, or why they could not be read (the panel still offers the others)."""

    queries: tuple[SavedQuery, ...] = field(default_factory=tuple)
    error: str | None = None
