"""What a tail hands on: the events its cursor accepted, in time order, with a notice.

Polling and Live Tail accept events into one :class:`TailFeed` through the
same :class:`~smtop.aws.logs.cursor.TailCursor`, so that switching between
them neither repeats nor drops a line.  The feed also keeps the run of
failures in a row, so the backoff and the "reconnected" notice are the same
whichever way the events came.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Literal, Mapping, Sequence

from smtop.aws.logs.cursor import TailCursor, TailScan
from smtop.errors import (
    AccessDeniedError,
    ConnectionFailedError,
    CredentialsError,
    InvalidFilterPatternError,
    NotFoundError,
    SmtopError,
    ThrottledError,
)
from smtop.models import LogEvent, TailUpdate

log = logging.getLogger(__name__)

Mode = Literal["poll", "live"]


@dataclass
class TailStats:
    """What a tail has done so far (tests, bench/, a status line)."""

    polls: int = 0
    pages: int = 0
    events_read: int = 0
    events_shown: int = 0
    live_sessions: int = 0
    failures: int = 0
    last_wait: float = 0.0
    """Seconds the polling loop last waited between polls."""


class TailFeed:
    """The cursor, the events it accepted and not yet handed on, and the failure run.

    Args:
        group: the log group the events come from.
        lag_ms, max_keys: the cursor's window and memory (see the cursor).
        backoff: first retry delay after a failure, seconds; doubles up to
            ``max_backoff``, with jitter.
        max_backoff: longest retry delay, seconds.
    """

    def __init__(self, group: str, *, lag_ms: int, max_keys: int, backoff: float, max_backoff: float) -> None:
        self.group = group
        self.lag_ms = lag_ms
        self.max_keys = max_keys
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.stats = TailStats()
        self.mode: Mode = "poll"
        """How events arrive now."""
        self.cursor = TailCursor(0, lag_ms=lag_ms, max_keys=max_keys)
        self.pending: list[LogEvent] = []
        """Accepted, not yet handed on; kept through a failure, so it is sent with the failure's notice."""
        self.failures = 0
        """Failures in a row, for the backoff and the "reconnected" notice."""

    def restart(self, start_ms: int) -> None:
        """Forget what was shown: a new cursor whose oldest event is at ``start_ms``."""
        self.cursor = TailCursor(start_ms, lag_ms=self.lag_ms, max_keys=self.max_keys)
        self.pending = []

    def accept(self, scan: TailScan, raw: Sequence[Mapping[str, Any]]) -> None:
        """Keep the events of a page or a session update that the cursor has not shown."""
        self.stats.events_read += len(raw)
        self.pending.extend(scan.accept(log_event(e, self.group) for e in raw))

    def drain(self) -> list[LogEvent]:
        """The pending events as accepted (not yet in time order), handed over."""
        events, self.pending = self.pending, []
        return events

    def take(self, *, notice: str | None = None, sampled: bool = False) -> TailUpdate | None:
        """The pending events in time order, with ``notice``; None when there is neither."""
        events = by_time(self.drain())
        self.stats.events_shown += len(events)
        if not events and not notice:
            return None
        return TailUpdate(self.group, events, mode=self.mode, sampled=sampled, notice=notice)

    def failed(self, error: SmtopError) -> tuple[TailUpdate | None, float]:
        """What a failure means: re-raise it, or a notice (with the pending events) and the wait before retrying.

        Raises:
            InvalidFilterPatternError, AccessDeniedError, CredentialsError:
                the user must act first; so must any error that is not
                retryable.  A missing group is waited for: a new endpoint's
                group appears with its first instance.
        """
        if isinstance(error, (InvalidFilterPatternError, AccessDeniedError, CredentialsError)):
            raise error
        if not (error.retryable or isinstance(error, NotFoundError)):
            raise error
        delay = self.next_delay()
        if isinstance(error, NotFoundError):
            what = f"Log group {self.group} does not exist (yet)"
        elif isinstance(error, ThrottledError):
            what = "CloudWatch Logs is throttling smtop"
        elif isinstance(error, ConnectionFailedError):
            what = "Lost the connection to CloudWatch Logs"
        else:
            what = str(error).rstrip(".")
        log.debug("tail of %s failed (%s); retrying in %.1f s", self.group, error, delay)
        return self.take(notice=f"{what}; retrying in {wait_text(delay)}."), delay

    def next_delay(self) -> float:
        """Count one more failure; the wait before the next try."""
        self.failures += 1
        self.stats.failures += 1
        return backoff(self.backoff, self.failures, self.max_backoff)

    def recovered(self) -> str | None:
        """The notice that a run of failures ended (and forget the run); None if there was none."""
        if not self.failures:
            return None
        self.failures = 0
        return "Reconnected; no events were lost." if self.mode == "poll" else "Live Tail reconnected."


def log_event(raw: Mapping[str, Any], group: str) -> LogEvent:
    """An event of a FilterLogEvents page or a Live Tail session update."""
    ingested = raw.get("ingestionTime")
    return LogEvent(
        timestamp=int(raw.get("timestamp", 0)) / 1000,
        message=str(raw.get("message", "")),
        stream=str(raw.get("logStreamName", "")),
        event_id=str(raw.get("eventId", "")),
        group=group,
        ingestion_time=int(ingested) / 1000 if ingested is not None else None,
    )


def by_time(events: Iterable[LogEvent]) -> tuple[LogEvent, ...]:
    return tuple(sorted(events, key=lambda e: e.timestamp))


def backoff(first: float, failures: int, longest: float) -> float:
    """The wait after ``failures`` failures in a row: doubling from ``first`` up to ``longest``, with jitter."""
    delay = min(longest, first * 2 ** (failures - 1))
    return delay * random.uniform(0.5, 1.0)  # jitter: many tails must not retry in step


def wait_text(delay: float) -> str:
    """A wait in a notice: "3 s", "0.4 s"."""
    return f"{delay:.0f} s" if delay >= 1 else f"{delay:.1f} s"


def ms(value: datetime) -> int:
    """Epoch milliseconds, as CloudWatch Logs counts time."""
    return int(value.timestamp() * 1000)
