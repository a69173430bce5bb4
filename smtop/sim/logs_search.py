"""FilterLogEvents over moto's log streams: time-indexed, interleaved, stably paged.

moto 5.2.5 answers FilterLogEvents by filtering and sorting every event of
every stream on each call, sorts by timestamp only, and pages by searching the
sorted list for the last event's id.  Here each stream keeps a
:class:`StreamIndex`, events sorted by ``(timestamp, event id)`` beside them,
so a tail poll bisects to its time window instead of reading hours of
history, and streams are merged lazily until the page is full.

Paging: ``(timestamp, event id)`` is unique and totally ordered, and the
token names the last event returned, so the next page starts strictly after
it.  Events that share a millisecond are neither skipped nor repeated across
pages, and events ingested while a client pages do not shift it.  A page
carries a token only when at least one more matching event exists.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import itertools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from smtop.sim.filter_pattern import Matcher

MAX_LIMIT = 10_000
"""FilterLogEvents returns at most (and by default) 10,000 events a page."""

_TOKEN_PREFIX = "smtop-v1"
_EVENT_IDS = itertools.count(1)
"""moto numbers events with ``cls._event_id += 1``, which two writer threads can
race on; ``next()`` on a shared count is atomic under the GIL."""


def next_event_id() -> int:
    """A process-wide unique, increasing event id."""
    return next(_EVENT_IDS)


def event_id_string(event_id: int) -> str:
    """The eventId as CloudWatch spells it: 56 digits."""
    return f"{event_id:056d}"


Key = tuple[int, int]
"""(timestamp in ms, event id): the order of events in a group."""


class StreamIndex:
    """A stream's events in ``(timestamp, event id)`` order, kept up to date lazily.

    moto appends to ``stream.events`` and never rewrites it; the index picks
    up what was appended since it last looked.  In-order appends (the normal
    case) extend it; an older event arriving late makes it re-sort once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen = 0
        self.keys: list[Key] = []
        self.events: list[Any] = []

    def refresh(self, stored: list[Any]) -> tuple[list[Key], list[Any], int]:
        """Catch up with ``stored`` and return (keys, events, count) to read without the lock."""
        with self._lock:
            count = len(stored)
            if count > self._seen:
                fresh = stored[self._seen : count]
                fresh_keys = [(e.timestamp, e.event_id) for e in fresh]
                in_order = all(a <= b for a, b in zip(fresh_keys, fresh_keys[1:]))
                if in_order and (not self.keys or self.keys[-1] <= fresh_keys[0]):
                    # New lists, not extend(): a concurrent reader keeps its own snapshot.
                    self.keys = self.keys + fresh_keys
                    self.events = self.events + fresh
                else:
                    pairs = sorted(zip(self.keys + fresh_keys, self.events + fresh), key=lambda pair: pair[0])
                    self.keys = [key for key, _ in pairs]
                    self.events = [event for _, event in pairs]
                self._seen = count
            return self.keys, self.events, len(self.keys)


def stream_index(stream: Any) -> StreamIndex:
    """The index of a moto ``LogStream``, created on first use."""
    index = getattr(stream, "_smtop_index", None)
    if index is None:
        index = stream._smtop_index = StreamIndex()  # noqa: SLF001 - our attribute on moto's object
    return index


@dataclass(frozen=True, slots=True)
class Page:
    events: list[dict[str, Any]]
    next_token: str | None


def encode_token(key: Key, descending: bool) -> str:
    raw = f"{_TOKEN_PREFIX}:{'d' if descending else 'a'}:{key[0]}:{key[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[Key, bool] | None:
    """The key a token resumes after and its direction, or ``None`` when it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, direction, timestamp, event_id = raw.split(":")
        if prefix != _TOKEN_PREFIX or direction not in "ad":
            return None
        return (int(timestamp), int(event_id)), direction == "d"
    except (ValueError, UnicodeDecodeError):
        return None


def _window(
    keys: list[Key], count: int, start: int | None, end: int | None, after: Key | None, descending: bool
) -> range:
    """Indexes of ``keys`` inside [start, end] (both inclusive) and past ``after``."""
    lo = 0 if start is None else bisect.bisect_left(keys, (start, -1), 0, count)
    hi = count if end is None else bisect.bisect_right(keys, (end, float("inf")), 0, count)
    if after is not None:
        if descending:
            hi = min(hi, bisect.bisect_left(keys, after, 0, count))
        else:
            lo = max(lo, bisect.bisect_right(keys, after, 0, count))
    if lo >= hi:
        return range(0)
    return range(hi - 1, lo - 1, -1) if descending else range(lo, hi)


def _stream_events(name: str, keys: list[Key], events: list[Any], indexes: range) -> Iterator[tuple[Key, str, Any]]:
    for i in indexes:
        yield keys[i], name, events[i]


def filter_events(
    streams: Iterable[Any],
    *,
    start: int | None,
    end: int | None,
    matcher: Matcher,
    limit: int,
    token: str | None = None,
    descending: bool = False,
) -> Page:
    """One FilterLogEvents page over ``streams`` (moto ``LogStream`` objects).

    Args:
        streams: The streams to search.
        start: Earliest timestamp (ms) returned, inclusive; ``None`` for no bound.
        end: Latest timestamp (ms) returned, inclusive (the API: "later than this
            time are not returned"); ``None`` for no bound.
        matcher: The compiled filter pattern.
        limit: Events per page, 1–10,000.
        token: A nextToken from an earlier page; one that is not ours yields an
            empty last page (as CloudWatch answers an unknown token).
        descending: Newest first (``startFromHead=false``); a token keeps the
            direction of the page that issued it.
    """
    after: Key | None = None
    if token:
        decoded = decode_token(token)
        if decoded is None:
            return Page([], None)
        after, descending = decoded
    sources = []
    for stream in streams:
        keys, events, count = stream_index(stream).refresh(stream.events)
        indexes = _window(keys, count, start, end, after, descending)
        if indexes:
            sources.append(_stream_events(stream.log_stream_name, keys, events, indexes))
    merged = heapq.merge(*sources, reverse=descending)
    page: list[dict[str, Any]] = []
    last: Key | None = None
    for key, name, event in merged:
        if not matcher(event.message):
            continue
        if len(page) == limit:
            return Page(page, encode_token(last, descending))  # type: ignore[arg-type]
        page.append(
            {
                "logStreamName": name,
                "timestamp": event.timestamp,
                "message": event.message,
                "ingestionTime": event.ingestion_time,
                "eventId": event_id_string(event.event_id),
            }
        )
        last = key
    return Page(page, None)
