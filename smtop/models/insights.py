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
    """The value a saved query reads out of request lines, so a run can say why it has none.

    Some model servers log each request's duration and some do not (nginx's
    ``combined`` line, uvicorn, Triton), and a quiet endpoint logs only its
    ``/ping`` health checks.  A query with a measure keeps every request line
    it recognises, with the value where the line carries it, so a complete
    run tells the cases apart: rows with the value (nothing to say); rows
    (request lines, or groups of them) of which none has it (``absent``: these
    logs do not carry it); no row (``none``: no request in the range).
    ``column`` is the result column that holds the value.
    """

    column: str
    absent: str
    none: str

    def note(self, progress: QueryProgress) -> str | None:
        """What to say under a run's rows: ``absent``, ``none``, or None (a value was there, or not done)."""
        if progress.status != "Complete":
            return None
        if not progress.rows:
            return self.none
        if self.column in progress.fields:
            at = progress.fields.index(self.column)
            if any(row[at] not in (None, "") for row in progress.rows):
                return None
        return self.absent


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
