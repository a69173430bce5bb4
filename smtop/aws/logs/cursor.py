"""The tail's memory of what it showed: every event once, across pages, polls and sessions.

Why it is shaped so:

- **One cursor for every source.**  A tail reads the same group through
  FilterLogEvents pages, repeated polls, reconnects after a failure, and Live
  Tail sessions.  :class:`TailCursor` is the single memory of what was shown,
  so switching between them neither repeats nor drops an event.
- **The dedupe key is the content, not the eventId.**  Live Tail events carry
  no eventId (LiveTailSessionLogEvent has logStreamName, timestamp, message
  and ingestionTime only), so an id-keyed cursor could not tell a Live Tail
  event from the same event read by a catch-up poll.  The key is
  ``(timestamp ms, stream, hash(message))`` with a *count*: the cursor
  remembers how many such events it has shown, each scan (one
  FilterLogEvents walk from one startTime, or one Live Tail session) counts
  how many it has met, and only the excess is new.  Two identical lines
  logged in the same millisecond on the same stream are therefore both shown
  (a set of keys would show one).  The price: such twins straddling the
  start of a Live Tail session can be shown once instead of twice, and two
  different messages with colliding 64-bit hashes at the same millisecond
  on the same stream would merge; both are far rarer than anything a
  person reads.
- **A lag window for late events.**  CloudWatch Logs stamps events with the
  writer's time, and they become searchable only after ingestion, seconds
  later and not in timestamp order across streams.  A cursor that restarted
  exactly at the newest timestamp would skip an event stamped a little
  earlier that was ingested after the poll.  So each scan starts ``lag``
  (10 s) before the newest timestamp shown and the cursor keeps the counts of
  that window: late events inside it are shown (out of order, when they
  arrive), repeats are not.  Events older than the window when they arrive
  are not shown, in either mode; ``TailCursor.late`` counts them.  Memory is
  bounded by ``max_keys``: past it the oldest timestamps are forgotten and
  the window shrinks (never below the newest millisecond), so memory does
  not grow with the event rate.
"""

from __future__ import annotations

import heapq
from datetime import timedelta
from typing import Iterable

from smtop.models import LogEvent

DEFAULT_LAG = timedelta(seconds=10)
DEFAULT_MAX_KEYS = 50_000

_Where = tuple[str, int]  # (stream, hash(message)) at one timestamp


class TailCursor:
    """What a tail has shown: a start time plus counts over a lag window.

    Pure (no I/O, no clock): feed it what FilterLogEvents pages or Live Tail
    sessions return, through a :class:`TailScan`, and it returns only what
    was not shown before.  See the module docstring for the key design.

    Args:
        start_ms: the oldest event time the tail shows (epoch ms).
        lag_ms: how far behind the newest timestamp a late event is still
            accepted, and where the next scan starts.
        max_keys: soft bound on remembered ``(timestamp, stream, message)``
            entries; past it the window shrinks from its old end.

    Example:
        >>> cursor = TailCursor(start_ms=0)
        >>> scan = cursor.scan()
        >>> new = scan.accept(page_events)        # first page
        >>> new += scan.accept(next_page_events)  # same scan, next page
        >>> cursor.scan().start_ms                # where the next poll starts
    """

    def __init__(self, start_ms: int, *, lag_ms: int = 10_000, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if lag_ms < 0 or max_keys < 1:
            raise ValueError("lag_ms must be >= 0 and max_keys >= 1")
        self.lag_ms = lag_ms
        self.max_keys = max_keys
        self.newest: int | None = None
        """Newest event time shown (epoch ms), or None before the first event."""
        self.late = 0
        """Events met older than the window (re-reads of forgotten ones, or too late to show)."""
        self.shown = 0
        """Events accepted as new, in total."""
        self._floor = start_ms
        self._shown: dict[int, dict[_Where, int]] = {}
        self._times: list[int] = []  # heap of the timestamps in _shown
        self._size = 0

    @property
    def floor(self) -> int:
        """The oldest event time still accepted (epoch ms): the next scan's start."""
        return self._floor

    @property
    def remembered(self) -> int:
        """How many (timestamp, stream, message) entries are held (tests, bench)."""
        return self._size

    def scan(self) -> TailScan:
        """Begin a scan: one FilterLogEvents walk or one Live Tail session."""
        return TailScan(self, self._floor)

    def _accept(self, scan: TailScan, events: Iterable[LogEvent]) -> list[LogEvent]:
        fresh: list[LogEvent] = []
        for event in events:
            ts = round(event.timestamp * 1000)
            if ts < self._floor:
                # Older than the window: shown before and forgotten, or
                # ingested too late to tell from those.
                self.late += 1
                continue
            where = (event.stream, hash(event.message))
            met = scan.count(ts, where)
            shown = self._shown.get(ts)
            if shown is None:
                shown = self._shown[ts] = {}
                heapq.heappush(self._times, ts)
            before = shown.get(where, 0)
            if met > before:
                if before == 0:
                    self._size += 1
                shown[where] = met
                fresh.append(event)
                if self.newest is None or ts > self.newest:
                    self.newest = ts
        self.shown += len(fresh)
        self._prune()
        return fresh

    def _prune(self) -> None:
        if self.newest is not None:
            self._floor = max(self._floor, self.newest - self.lag_ms)
        times = self._times
        while times and (times[0] < self._floor or (self._size > self.max_keys and times[0] != self.newest)):
            ts = heapq.heappop(times)
            self._size -= len(self._shown.pop(ts, ()))
            # Forgotten means never re-read: the next scan starts after it.
            self._floor = max(self._floor, ts + 1)


class TailScan:
    """One pass over a group (a FilterLogEvents walk or a Live Tail session).

    Counts the events it met per ``(timestamp, stream, message)`` so that the
    cursor can tell the n-th twin from a repeat.  Create with
    :meth:`TailCursor.scan`.
    """

    def __init__(self, cursor: TailCursor, start_ms: int, live: bool = False) -> None:
        self.cursor = cursor
        self.start_ms = start_ms
        """The startTime this scan asks for (epoch ms)."""
        self.live = live
        self.counts: dict[int, dict[_Where, int]] = {}
        self._times: list[int] = []

    def accept(self, events: Iterable[LogEvent]) -> list[LogEvent]:
        """Return the events of this page/update that were not shown before, in input order."""
        return self.cursor._accept(self, events)

    def count(self, ts: int, where: _Where) -> int:
        at = self.counts.get(ts)
        if at is None:
            at = self.counts[ts] = {}
            heapq.heappush(self._times, ts)
            # Counts below the cursor's floor are never consulted again.
            floor = self.cursor.floor
            while self._times and self._times[0] < floor:
                self.counts.pop(heapq.heappop(self._times), None)
        met = at.get(where, 0) + 1
        at[where] = met
        return met
