"""Live Tail streamed as CloudWatch Logs streams it: sessions, limits, the event stream.

StartLiveTail answers with a response stream that stays open (the
``application/vnd.amazon.eventstream`` framing of botocore's event streams),
which moto cannot do: its serializer joins the frames into one body and
ends the call.  Here the call goes through moto first (the patched handler in
:mod:`smtop.sim.patches.logs` validates the request the way the service does
and opens a :class:`LiveTailSession`), and :class:`LiveTailStreamer`, a WSGI
middleware, turns its answer into a stream written by the request's own
thread of the threaded server, one frame at a time (werkzeug sends each
yielded chunk with chunked transfer encoding and flushes it).

What the service does, and so the simulator (AWS's pages: the API reference
"StartLiveTail", "StartLiveTailResponseStream", "LiveTailSessionUpdate" and
"LiveTailSessionMetadata"; the user guide's "Use Live Tail to view logs in
near real time"; the AWS CLI reference "start-live-tail"; botocore's
``logs`` service model, operation StartLiveTail):

- The stream opens with the ``initial-response`` event (empty for this
  JSON-protocol operation), then one ``sessionStart`` naming the session, the
  groups and the filters.
- Then a ``sessionUpdate`` every second, with an empty ``sessionResults``
  array when nothing new was ingested.  An update carries at most 500 events:
  when more matched in that second they are sampled down to 500 and
  ``sessionMetadata.sampled`` is true.
- A client that reads slower than updates come: the service buffers up to 10
  updates or 5,000 events and then drops the oldest.  Here the writer thread
  simply blocks on the socket; when it can write again, the events it has
  not sent are cut to the newest 5,000 before sampling.
- The session times out after three hours: a ``SessionTimeoutException``
  exception event (``:message-type: exception``), then the stream ends.  An
  unknown failure on the server's side is a ``SessionStreamingException``.
  Both are events in the stream, not HTTP errors: the HTTP answer was 200.
- Events are those *ingested* while the session is open, filtered by the
  request's ``logEventFilterPattern`` (the same pattern language as
  FilterLogEvents, :mod:`smtop.sim.filter_pattern`) and by
  ``logStreamNames`` / ``logStreamNamePrefixes``.  "Ingested" is "stored in
  moto's stream": the simulator's traffic appends straight into moto, and
  PutLogEvents does too.
- Up to 10 log groups per session, each given by its ARN (not ending in
  ``*``); the stream filters only with a single group.  Live Tail is billed
  per session-minute, which is why :attr:`LiveTailSessions.session_seconds`
  counts the time sessions were open (``GET /_smtop/live-tail``).
- The concurrent session quota is 15 per account and Region (CloudWatch Logs
  User Guide, "CloudWatch Logs quotas": Live Tail concurrent sessions); one
  more StartLiveTail is LimitExceededException.

Timing: updates go out every *wall* second (a property of the connection);
the three hours are counted on the simulator's clock, so ``--speed``
compresses a session's life the way it compresses the rest of the world.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from smtop.sim.filter_pattern import Matcher
from smtop.sim.wsgi import event_stream_message

UPDATE_SECONDS = 1.0
"""The service sends a sessionUpdate every second."""
MAX_EVENTS_PER_UPDATE = 500
"""Above this many matching events in a second, an update carries a sample of 500."""
BUFFERED_EVENTS = 5_000
"""What the service keeps for a slow reader before it drops the oldest."""
SESSION_SECONDS = 3 * 3600.0
"""A session times out after three hours."""
MAX_LOG_GROUPS = 10
"""logGroupIdentifiers holds 1 to 10 groups (the model's list bounds too)."""
MAX_CONCURRENT_SESSIONS = 15
"""Open sessions per account and Region before LimitExceededException."""
UNCLAIMED_SECONDS = 30.0
"""A session opened by the handler that no streamer took (no middleware in
front of moto) stops counting against the quota after this long."""

LIVE_TAIL_TARGET = "Logs_20140328.StartLiveTail"
STATS_PATH = "/_smtop/live-tail"


class ConcurrentSessionsExceeded(Exception):
    """The account already has :data:`MAX_CONCURRENT_SESSIONS` sessions open."""


@dataclass
class LiveTailSession:
    """One open session: what it tails and how far it has read each stream."""

    session_id: str
    request_id: str
    account: str
    region: str
    groups: list[Any]
    """moto ``LogGroup`` objects, in request order."""
    identifiers: list[str]
    """The ARNs as requested, one per group."""
    matcher: Matcher
    stream_names: list[str] | None = None
    stream_prefixes: list[str] | None = None
    pattern: str | None = None
    opened: float = field(default_factory=time.monotonic)
    claimed: bool = False
    _read: dict[int, int] = field(default_factory=dict)
    """id(moto LogStream) → how many of its events were already considered."""
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.session_id)
        # Only what is ingested from now on: mark every stream as read to its end.
        for _, stream in self._streams():
            self._read[id(stream)] = len(stream.events)

    def start_event(self) -> dict[str, Any]:
        """The ``sessionStart`` payload (LiveTailSessionStart)."""
        start: dict[str, Any] = {
            "requestId": self.request_id,
            "sessionId": self.session_id,
            "logGroupIdentifiers": list(self.identifiers),
        }
        if self.stream_names:
            start["logStreamNames"] = list(self.stream_names)
        if self.stream_prefixes:
            start["logStreamNamePrefixes"] = list(self.stream_prefixes)
        if self.pattern:
            start["logEventFilterPattern"] = self.pattern
        return start

    def _streams(self) -> Iterator[tuple[str, Any]]:
        for identifier, group in zip(self.identifiers, self.groups):
            for stream in list(group.streams.values()):
                name = stream.log_stream_name
                if self.stream_names is not None and name not in self.stream_names:
                    continue
                if self.stream_prefixes is not None and not any(name.startswith(p) for p in self.stream_prefixes):
                    continue
                yield identifier, stream

    def collect(self) -> tuple[list[dict[str, Any]], bool]:
        """The matching events ingested since the last call, and whether they were sampled."""
        fresh: list[tuple[int, int, dict[str, Any]]] = []
        for identifier, stream in self._streams():
            stored = stream.events  # moto only appends to this list
            count = len(stored)
            start = self._read.get(id(stream), 0)  # a stream created since: all of it is new
            self._read[id(stream)] = count
            for event in stored[start:count]:
                if not self.matcher(event.message):
                    continue
                fresh.append(
                    (
                        event.ingestion_time,
                        event.event_id,
                        {
                            "logStreamName": stream.log_stream_name,
                            "logGroupIdentifier": identifier,
                            "message": event.message,
                            "timestamp": event.timestamp,
                            "ingestionTime": event.ingestion_time,
                        },
                    )
                )
        fresh.sort(key=lambda item: item[:2])
        fresh = fresh[-BUFFERED_EVENTS:]  # a slow reader: the oldest are dropped
        sampled = len(fresh) > MAX_EVENTS_PER_UPDATE
        if sampled:
            fresh = sorted(self._rng.sample(fresh, MAX_EVENTS_PER_UPDATE), key=lambda item: item[:2])
        return [event for _, _, event in fresh], sampled


class LiveTailSessions:
    """Every open Live Tail session of the process, and the time they were open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, LiveTailSession] = {}
        self._ids = itertools.count(1)
        self.started = 0
        """Sessions opened since the last reset."""
        self._closed_seconds = 0.0

    def open(self, **details: Any) -> LiveTailSession:
        """Open a session (the StartLiveTail handler, after validating the request).

        Raises:
            ConcurrentSessionsExceeded: the account has too many open already.
        """
        now = time.monotonic()
        with self._lock:
            for stale in [s for s in self._open.values() if not s.claimed and now - s.opened > UNCLAIMED_SECONDS]:
                del self._open[stale.session_id]
            same = [s for s in self._open.values() if (s.account, s.region) == (details["account"], details["region"])]
            if len(same) >= MAX_CONCURRENT_SESSIONS:
                raise ConcurrentSessionsExceeded
            session = LiveTailSession(session_id=str(uuid.uuid4()), request_id=str(uuid.uuid4()), **details)
            self._open[session.session_id] = session
            self.started += 1
            return session

    def claim(self, session_id: str) -> LiveTailSession | None:
        with self._lock:
            session = self._open.get(session_id)
            if session is None or session.claimed:
                return None
            session.claimed = True
            session.opened = time.monotonic()
            return session

    def close(self, session: LiveTailSession) -> None:
        with self._lock:
            if self._open.pop(session.session_id, None) is not None and session.claimed:
                self._closed_seconds += time.monotonic() - session.opened

    def stats(self) -> dict[str, Any]:
        """Open sessions, sessions started and seconds streamed (closed ones plus the open so far)."""
        now = time.monotonic()
        with self._lock:
            streaming = [s for s in self._open.values() if s.claimed]
            seconds = self._closed_seconds + sum(now - s.opened for s in streaming)
            return {"open": len(streaming), "started": self.started, "session_seconds": round(seconds, 3)}

    def reset_stats(self) -> None:
        """Count from now on (open sessions count from now too)."""
        now = time.monotonic()
        with self._lock:
            self.started = 0
            self._closed_seconds = 0.0
            for session in self._open.values():
                if session.claimed:
                    session.opened = now


SESSIONS = LiveTailSessions()
"""The process's sessions: the moto handler opens them, the streamer serves them."""


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    """An event message of the response stream."""
    return event_stream_message(
        {":message-type": "event", ":event-type": event_type, ":content-type": "application/json"},
        json.dumps(payload).encode(),
    )


def exception(exception_type: str, message: str) -> bytes:
    """An exception message of the response stream (SessionTimeoutException…)."""
    return event_stream_message(
        {":message-type": "exception", ":exception-type": exception_type, ":content-type": "application/json"},
        json.dumps({"message": message}).encode(),
    )


class LiveTailStreamer:
    """WSGI middleware: a successful StartLiveTail becomes a long event-stream answer.

    Sits inside the fault injector (faults hit StartLiveTail like any call)
    and outside the CloudTrail recorder (which records the call's short
    answer from moto, as CloudTrail records the request, never the stream).

    Args:
        app: The moto application (with the CloudTrail recorder).
        clock: Callable returning the simulated epoch seconds (the 3-hour limit).
        sessions: The session registry the moto handler opens sessions in.
        session_seconds: How long a session lives on the simulated clock.
        update_seconds: Wall seconds between updates.
    """

    def __init__(
        self,
        app: Callable,
        clock: Callable[[], float],
        sessions: LiveTailSessions = SESSIONS,
        session_seconds: float = SESSION_SECONDS,
        update_seconds: float = UPDATE_SECONDS,
    ) -> None:
        self.app = app
        self.clock = clock
        self.sessions = sessions
        self.session_seconds = session_seconds
        self.update_seconds = update_seconds
        self._closing = threading.Event()

    def close_all(self) -> None:
        """End every open stream (the server is stopping): each writer returns at its next tick."""
        self._closing.set()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") != LIVE_TAIL_TARGET:
            return self.app(environ, start_response)
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return lambda data: None  # moto never writes through write()

        body = b"".join(self.app(environ, capture))
        session = None
        if answer.get("status", "").startswith("200"):
            try:
                session = self.sessions.claim(json.loads(body).get("sessionId", ""))
            except (ValueError, AttributeError):
                session = None
        if session is None:  # an error, in the service's own protocol: pass it on
            start_response(answer.get("status", "500 Internal Server Error"), answer.get("headers", []))
            return [body]
        start_response(
            "200 OK",
            [("Content-Type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", session.request_id)],
        )
        return self._stream(session)

    def _stream(self, session: LiveTailSession) -> Iterator[bytes]:
        try:
            yield event("initial-response", {})
            yield event("sessionStart", session.start_event())
            began = self.clock()
            tick = time.monotonic()
            while True:
                tick += self.update_seconds
                if self._closing.wait(max(0.0, tick - time.monotonic())):
                    return
                tick = max(tick, time.monotonic() - self.update_seconds)  # never a burst of catch-up ticks
                if self.clock() - began >= self.session_seconds:
                    yield exception("SessionTimeoutException", "The Live Tail session timed out after 3 hours.")
                    return
                try:
                    results, sampled = session.collect()
                except Exception as error:  # the service's "unknown error": said in the stream
                    yield exception("SessionStreamingException", f"Live Tail session failed: {type(error).__name__}")
                    return
                yield event("sessionUpdate", {"sessionMetadata": {"sampled": sampled}, "sessionResults": results})
        finally:
            # The client closed the stream, the connection broke, or the session ended.
            self.sessions.close(session)

    def stats_route(self, app: Callable) -> Callable:
        """Wrap the server's outermost app so ``GET /_smtop/live-tail`` answers
        :meth:`LiveTailSessions.stats` (``DELETE`` resets the counts): what the
        bench's cost section bills as session-minutes."""

        def route(environ: dict, start_response: Callable) -> Iterable[bytes]:
            if environ.get("PATH_INFO") != STATS_PATH:
                return app(environ, start_response)
            return self._stats(environ, start_response)

        return route

    def _stats(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "DELETE":
            self.sessions.reset_stats()
        elif method != "GET":
            start_response("405 Method Not Allowed", [("Content-Type", "text/plain")])
            return [b"GET or DELETE\n"]
        body = json.dumps(self.sessions.stats()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
