"""CloudWatch Logs: FilterLogEvents done as the service does it, and a clear Live Tail answer.

- FilterLogEvents is answered by :func:`smtop.sim.logs_search.filter_events`
  with real filter patterns (:mod:`smtop.sim.filter_pattern`): moto ignores
  JSON and space-delimited patterns, reads ``?ERROR ?WARN`` as two required
  words, scans and sorts every event on every call, and ignores
  logGroupIdentifier, logStreamNamePrefix and startFromHead.  An invalid
  pattern is InvalidParameterException (HTTP 400) with the service's message.
- Event ids come from an atomic counter (moto's ``+= 1`` on a class
  attribute can hand two writer threads the same id).
- StartLiveTail: moto serializes the whole event stream into one body (its
  serializer joins the frames), so it cannot stream; it answers with up to
  500 of the *oldest* stored events and closes.  Here the handler validates
  the request as the service does (1 to 10 groups, each an existing group's
  ARN not ending in ``*``, stream filters only with one group and not both,
  a valid pattern, the concurrent-session quota) and opens a session in
  :data:`smtop.sim.live_tail.SESSIONS`; its answer is the session's
  ``sessionStart``, which :class:`smtop.sim.live_tail.LiveTailStreamer`
  turns into the real event stream.  (botocore sends StartLiveTail to a
  ``stream-`` prefixed host; a client of a local endpoint turns host-prefix
  injection off, as botocore's ``inject_host_prefix`` documents for custom
  endpoints.)
"""

from __future__ import annotations

import json
import re
from typing import Any

import moto.logs.models as logs_models
from moto.logs.exceptions import InvalidParameterException, LogsClientError, ResourceNotFoundException
from moto.logs.responses import LogsResponse

from smtop.sim.filter_pattern import FilterPatternError, compile_filter_pattern
from smtop.sim.live_tail import MAX_CONCURRENT_SESSIONS, MAX_LOG_GROUPS, SESSIONS, ConcurrentSessionsExceeded
from smtop.sim.logs_search import MAX_LIMIT, filter_events, next_event_id
from smtop.sim.patches.handlers import Handlers

_ARN = re.compile(r"arn:[^:]+:logs:[^:]*:[^:]*:log-group:(?P<name>[^:]+)(?::\*)?")

_moto_event_init = logs_models.LogEvent.__init__


class LimitExceededException(LogsClientError):
    def __init__(self, message: str) -> None:
        self.code = 400
        super().__init__("LimitExceededException", message)


def find_group(backend: logs_models.LogsBackend, name: str | None, identifier: str | None) -> logs_models.LogGroup:
    """The group a request names by ``logGroupName`` or ``logGroupIdentifier`` (name or ARN)."""
    if name and identifier:
        raise InvalidParameterException("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if not name and not identifier:
        raise InvalidParameterException("Either logGroupName or logGroupIdentifier must be specified.")
    if identifier:
        arn = _ARN.fullmatch(identifier)
        name = arn.group("name") if arn else identifier
    group = backend.groups.get(name or "")
    if group is None:
        raise ResourceNotFoundException("The specified log group does not exist.")
    return group


def _live_tail_group(backend: logs_models.LogsBackend, identifier: str) -> logs_models.LogGroup:
    """StartLiveTail wants each group by its ARN, and not one ending in ``*``."""
    arn = _ARN.fullmatch(identifier)
    if arn is None or identifier.endswith("*"):
        raise InvalidParameterException(
            f"Log group identifier {identifier!r} must be a log group ARN that does not end with '*'."
        )
    group = backend.groups.get(arn.group("name"))
    if group is None or group.arn.removesuffix(":*") != identifier:
        raise ResourceNotFoundException("The specified log group does not exist.")
    return group


def _compile(pattern: str | None):
    try:
        return compile_filter_pattern(pattern)
    except FilterPatternError as error:
        raise InvalidParameterException(str(error)) from None


def event_init(event: logs_models.LogEvent, ingestion_time: int, log_event: dict[str, Any]) -> None:
    _moto_event_init(event, ingestion_time, log_event)
    event.event_id = next_event_id()


def filter_log_events(response: LogsResponse) -> str:
    group = find_group(response.logs_backend, response._get_param("logGroupName"), response._get_param("logGroupIdentifier"))
    names = response._get_param("logStreamNames")
    prefix = response._get_param("logStreamNamePrefix")
    if names and prefix:
        raise InvalidParameterException("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
    limit = response._get_param("limit") or MAX_LIMIT
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise InvalidParameterException(
            constraint=f"Member must have value less than or equal to {MAX_LIMIT}", parameter="limit", value=limit
        )
    matcher = _compile(response._get_param("filterPattern"))
    streams = list(group.streams.values())
    if names:
        wanted = set(names)
        streams = [s for s in streams if s.log_stream_name in wanted]
    elif prefix:
        streams = [s for s in streams if s.log_stream_name.startswith(prefix)]
    page = filter_events(
        streams,
        start=response._get_param("startTime"),
        end=response._get_param("endTime"),
        matcher=matcher,
        limit=int(limit),
        token=response._get_param("nextToken"),
        descending=response._get_param("startFromHead") is False,
    )
    answer: dict[str, Any] = {"events": page.events, "searchedLogStreams": []}
    if page.next_token:
        answer["nextToken"] = page.next_token
    return json.dumps(answer)


def start_live_tail(response: LogsResponse) -> str:
    identifiers = response._get_param("logGroupIdentifiers") or []
    names = response._get_param("logStreamNames")
    prefixes = response._get_param("logStreamNamePrefixes")
    if not 1 <= len(identifiers) <= MAX_LOG_GROUPS:
        raise InvalidParameterException(
            constraint=f"Member must have length less than or equal to {MAX_LOG_GROUPS}",
            parameter="logGroupIdentifiers",
            value=identifiers,
        )
    if names and prefixes:
        raise InvalidParameterException("logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.")
    if (names or prefixes) and len(identifiers) > 1:
        raise InvalidParameterException(
            "logStreamNames and logStreamNamePrefixes can be specified only with a single log group."
        )
    groups = [_live_tail_group(response.logs_backend, identifier) for identifier in identifiers]
    pattern = response._get_param("logEventFilterPattern") or None
    matcher = _compile(pattern)
    try:
        session = SESSIONS.open(
            account=response.current_account,
            region=response.region,
            groups=groups,
            identifiers=list(identifiers),
            matcher=matcher,
            stream_names=list(names) if names else None,
            stream_prefixes=list(prefixes) if prefixes else None,
            pattern=pattern,
        )
    except ConcurrentSessionsExceeded:
        raise LimitExceededException(
            f"The account has reached its limit of {MAX_CONCURRENT_SESSIONS} concurrent Live Tail sessions."
        ) from None
    return json.dumps(session.start_event())


HANDLERS: Handlers = {
    (logs_models.LogEvent, "__init__"): event_init,
    (LogsResponse, "filter_log_events"): filter_log_events,
    (LogsResponse, "start_live_tail"): start_live_tail,
}
"""FilterLogEvents, StartLiveTail, and event ids from one counter."""
