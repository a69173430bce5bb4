"""Live Tail: StartLiveTail sessions on the tail's cursor, while offered and wanted.

Why it is shaped so:

- **Live Tail when offered, polling otherwise.**  StartLiveTail pushes events
  within about a second instead of a poll interval, but it is not offered
  everywhere: moto answers and ends the stream at once; an IAM policy may
  deny it; a region or an emulator may not have it.  Until a session has
  run on the tail, any failure to start, or a session that ends within
  ``min_live`` seconds, switches the tail to polling for good, with a
  notice.  Once one has run, Live Tail is offered here, so a later failure
  is passing: the account's concurrent-session quota is taken
  (LimitExceededException), StartLiveTail is throttled, the connection
  dropped.  The tail then polls on the same cursor and tries Live Tail again
  after a backoff that doubles up to :data:`LIVE_RETRY_MAX` (each try may
  open a session, which is billed; polling shows every line meanwhile), and
  the notice says when.  botocore sends StartLiveTail to a
  ``stream-`` prefixed host (the operation's ``hostPrefix`` in the service
  model); an endpoint URL whose host is an IP address or ``localhost`` (the
  simulator, LocalStack) cannot take a prefix (``smtop.aws.session`` turns
  host-prefix injection off for such clients).
- **Live Tail only while someone reads it.**  It is billed per
  session-minute, polling is not: the console holds a
  :class:`~smtop.models.tail.LiveTailGate` and closes it when nobody looks
  (the panel is off screen, no key for ``live_tail_idle``).  A closed gate
  ends the session and the tail polls on the same cursor; an open one
  starts a session again with a catch-up poll.  Neither switch loses or
  repeats a line.  A session is renewed before the service's 3-hour limit, and after
  each session starts a catch-up poll reads what was ingested while no
  session was open (the cursor drops the overlap).  When the service samples
  a busy group, the update says so (``sampled``) and a notice explains it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import aclosing
from datetime import timedelta
from typing import Any, AsyncIterator, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from smtop.aws.logs.cursor import TailScan
from smtop.aws.logs.feed import TailFeed, backoff, wait_text
from smtop.aws.logs.groups import list_log_groups
from smtop.aws.logs.polling import Poller, call_logs
from smtop.aws.session import AwsSession
from smtop.errors import (
    ConnectionFailedError,
    CredentialsError,
    InvalidFilterPatternError,
    NotFoundError,
    SmtopError,
)
from smtop.models import TailUpdate
from smtop.models.tail import LiveTailGate

log = logging.getLogger(__name__)

LIVE_RENEW_AFTER = timedelta(hours=2, minutes=55)
"""When smtop renews a session itself, before the service ends it at 3 hours."""
LIVE_RETRY_MAX = 300.0
"""Longest wait, seconds, before trying Live Tail again after it failed to restart."""
START_TIMEOUT = 15.0
"""Seconds StartLiveTail may take to answer before Live Tail counts as not offered."""


class LiveUnavailable(Exception):
    """Live Tail cannot be used here; the tail polls instead."""


class LiveTail:
    """Follows a group with Live Tail sessions while the service offers them and the gate is open.

    Args:
        aws: an open ``AwsSession``.
        feed: where accepted events go, shared with the poller.
        poller: reads what was ingested while no session was open.
        offered: try Live Tail at all (False: poll only).
        gate: when Live Tail may run (the console closes it when nobody looks).
        renew_after: renew a session after this long, seconds.
        min_live: a session that ends by itself sooner means "not offered".
    """

    def __init__(
        self,
        aws: AwsSession,
        feed: TailFeed,
        poller: Poller,
        *,
        offered: bool,
        gate: LiveTailGate,
        renew_after: float,
        min_live: float,
    ) -> None:
        self._aws = aws
        self._feed = feed
        self._poller = poller
        self.group = feed.group
        self.offered = offered
        """Whether Live Tail is still worth trying (False once it proved not offered)."""
        self.gate = gate
        self.renew_after = renew_after
        self.min_live = min_live
        self._ran = False
        """A session has run on this tail: the service offers Live Tail here."""
        self._restart_failures = 0  # restarts in a row that failed or ended at once, for the backoff
        self._retry_at = 0.0  # event-loop time before which Live Tail is not tried again
        self._arn: str | None = None
        self._short = 0  # sessions in a row that ended at once before any had run
        self._sampled = False  # the last session update said the service samples
        self._announce = True  # the next catch-up says "Following with Live Tail."

    @property
    def wanted(self) -> bool:
        """Offered, the gate open, and not waiting out the backoff of a failed restart."""
        return self.offered and self.gate.is_open and asyncio.get_running_loop().time() >= self._retry_at

    async def wait_until_wanted(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for Live Tail to be wanted again; return whether it is.

        Returns at once when the gate opens, but never before the retry time
        of a failed restart.
        """
        if not self.offered:
            await asyncio.sleep(timeout)
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        hold = self._retry_at - loop.time()
        if hold > 0:
            await asyncio.sleep(min(hold, timeout))
        await self.gate.wait(True, timeout=max(0.0, deadline - loop.time()))
        return self.wanted

    async def follow(self) -> AsyncIterator[TailUpdate]:
        """Follow with sessions, one after another; return (to polling) when not offered or not wanted."""
        if not self.gate.is_open:
            yield self._paused()
            return
        try:
            arn = self._arn = self._arn or await self._group_arn()
        except (CredentialsError, InvalidFilterPatternError):
            raise
        except (SmtopError, LiveUnavailable) as error:
            yield self._fallback(str(error).rstrip("."))
            return
        self._announce, self._short, self._sampled = True, 0, False
        while True:
            if not self.gate.is_open:
                yield self._paused()
                return
            try:
                session = await LiveSession.start(self._aws, arn, self._poller.filter_pattern, self.renew_after)
            except LiveUnavailable as error:
                yield self._retry_later(str(error)) if self._ran else self._fallback(str(error))
                return
            self._feed.mode = "live"
            self._feed.stats.live_sessions += 1
            async for update in self._run(session):
                yield update
            update, delay = self._after(session)
            if update is not None:
                yield update
            if delay is None:
                return
            if delay:
                await asyncio.sleep(delay)

    async def _run(self, session: LiveSession) -> AsyncIterator[TailUpdate]:
        """One session: a catch-up poll, then its events until it ends; ``session.ended_by`` says how."""
        scan = TailScan(self._feed.cursor, self._feed.cursor.floor, live=True)
        try:
            # What was ingested while no session was open; the cursor drops
            # what the session delivers again.
            async for update in self._catch_up(self._announce):
                yield update
            self._announce = False
            async with aclosing(session.results(self.gate)) as results:
                async for raw, sampled in results:
                    notice = self._sampling(sampled)
                    self._feed.accept(scan, raw)
                    update = self._feed.take(notice=notice or self._feed.recovered(), sampled=sampled)
                    if update is not None:
                        yield update
        except Exception as error:
            reason = session_failure(error)
            if reason is None:
                raise
            session.ended_by = reason
        finally:
            session.close()

    async def _catch_up(self, announce: bool) -> AsyncIterator[TailUpdate]:
        """Poll until the current scan is complete (after a session starts)."""
        while True:
            async for update in self._poller.retrying():
                yield update
            update = self._feed.take(notice="Following with Live Tail." if announce else None)
            announce = False
            if update is not None:
                yield update
            if not self._poller.backlog:
                return

    def _sampling(self, sampled: bool) -> str | None:
        """The notice when the service starts or stops sampling the group."""
        if sampled == self._sampled:
            return None
        self._sampled = sampled
        if sampled:
            return (
                "Live Tail is sampling: this group logs faster than Live Tail delivers, "
                "so some events are not shown; narrow the filter to see them all."
            )
        return "Live Tail shows every event again."

    def _after(self, session: LiveSession) -> tuple[TailUpdate | None, float | None]:
        """What follows a session: an update to show, and the wait before the next one (None: poll instead)."""
        ended_by, lasted = session.ended_by, session.lasted()
        if ended_by in ("paused", "renew") or lasted >= self.min_live:
            # The service kept it open until smtop ended it, or long enough.  A
            # session that ends at once does not reset the backoff of restarts.
            self._ran, self._restart_failures = True, 0
        if ended_by == "paused":
            # Nobody is reading: stop paying for the session and poll on.
            return self._paused(), None
        if ended_by == "renew":
            log.debug("renewing the Live Tail session for %s after %.0f s", self.group, lasted)
            self._short = 0
            return None, 0.0
        if lasted >= self.min_live:
            self._short = 0
            return TailUpdate(self.group, mode="live", notice=f"Live Tail session {ended_by}; reconnecting."), 0.0
        if self._ran:
            return self._retry_later(f"the session {ended_by} after {lasted:.1f} s"), None
        # Ended at once: the service behind the endpoint does not stream
        # (moto), or keeps failing.
        self._short += 1
        if ended_by == "ended" or self._short >= 3:
            return self._fallback(f"the session {ended_by} after {lasted:.1f} s"), None
        delay = self._feed.next_delay()
        notice = f"Live Tail session {ended_by}; retrying in {wait_text(delay)}."
        return TailUpdate(self.group, mode="live", notice=notice), delay

    async def _group_arn(self) -> str:
        for group in await list_log_groups(self._aws, self.group, limit=50):
            if group.name == self.group:
                if not group.arn:
                    raise LiveUnavailable("the log group has no ARN")
                return group.arn
        raise NotFoundError(f"Log group {self.group} does not exist", service="logs", operation="DescribeLogGroups")

    def _paused(self) -> TailUpdate:
        """Live Tail stopped because the console closed the gate: the panel says so."""
        self._feed.mode = "poll"
        reason = self.gate.reason or "not wanted now"
        notice = f"Live Tail paused ({reason}); polling every {self._poller.interval_label()}."
        return TailUpdate(self.group, mode="poll", notice=notice)

    def _retry_later(self, reason: str) -> TailUpdate:
        """Live Tail ran here before and could not restart now: poll, and try again after a backoff."""
        self._feed.mode = "poll"
        self._restart_failures += 1
        self._feed.stats.failures += 1
        delay = backoff(self._feed.backoff, self._restart_failures, LIVE_RETRY_MAX)
        self._retry_at = asyncio.get_running_loop().time() + delay
        log.debug("Live Tail of %s could not restart (%s); next try in %.1f s", self.group, reason, delay)
        return TailUpdate(
            self.group,
            mode="poll",
            notice=f"Live Tail could not restart ({reason}); polling every {self._poller.interval_label()}, "
            f"trying Live Tail again in {wait_text(delay)}.",
        )

    def _fallback(self, reason: str) -> TailUpdate:
        """Live Tail is not offered here: poll for good."""
        self.offered = False
        self._feed.mode = "poll"
        self._feed.failures = 0
        return TailUpdate(
            self.group,
            mode="poll",
            notice=f"Live Tail is not available here ({reason}); polling every {self._poller.interval_label()}.",
        )


class LiveSession:
    """One StartLiveTail session: its event stream, read until it ends, is due for renewal or the gate closes.

    Create with :meth:`start`; :attr:`ended_by` says how it ended: "ended"
    (the service closed the stream), "renew", "paused" (the gate closed), or
    what failed.
    """

    def __init__(self, stream: Any, started: float, renew_after: float) -> None:
        self._stream = stream
        self.started = started
        """Event-loop time StartLiveTail was called."""
        self._renew_at = started + renew_after
        self.ended_by = "ended"

    @classmethod
    async def start(cls, aws: AwsSession, arn: str, filter_pattern: str | None, renew_after: float) -> LiveSession:
        """Call StartLiveTail for the group ``arn``.

        Raises:
            LiveUnavailable: the service did not start a session.
            InvalidFilterPatternError, CredentialsError: the user must act first.
        """
        from botocore.parsers import ResponseParserError  # loaded by the client already

        started = asyncio.get_running_loop().time()
        logs = await aws.client("logs")
        request: dict[str, Any] = {"logGroupIdentifiers": [arn]}
        if filter_pattern:
            request["logEventFilterPattern"] = filter_pattern
        try:
            reply = await asyncio.wait_for(
                call_logs(aws, logs.start_live_tail, "StartLiveTail", request, filter_pattern), START_TIMEOUT
            )
        except asyncio.TimeoutError:
            raise LiveUnavailable(f"StartLiveTail did not answer in {START_TIMEOUT:g} s") from None
        except (InvalidFilterPatternError, CredentialsError):
            raise
        except ConnectionFailedError as error:
            # The URL (a `stream-` host botocore derived) says nothing a person can act on.
            raise LiveUnavailable("its streaming endpoint could not be reached") from error
        except SmtopError as error:
            raise LiveUnavailable(str(error).rstrip(".")) from error
        except ResponseParserError as error:
            # Not a BotoCoreError, so aws_errors lets it through: the endpoint
            # answered, but not with a Live Tail event stream.
            raise LiveUnavailable(f"the answer was not a Live Tail stream: {error}") from error
        return cls(reply["responseStream"], started, renew_after)

    def lasted(self) -> float:
        """Seconds since StartLiveTail was called."""
        return asyncio.get_running_loop().time() - self.started

    async def results(self, gate: LiveTailGate) -> AsyncIterator[tuple[list[Mapping[str, Any]], bool]]:
        """Each session update's events (``sessionResults``) and whether the service samples them.

        Ends when the stream ends, the session is due for renewal, or the
        gate closes (:attr:`ended_by` says which); a failure of the stream
        is raised.
        """
        loop = asyncio.get_running_loop()
        events = self._stream.__aiter__()
        closed = asyncio.ensure_future(gate.wait(False))
        try:
            while True:
                remaining = self._renew_at - loop.time()
                if remaining <= 0:
                    self.ended_by = "renew"
                    return
                if closed.done():
                    self.ended_by = "paused"
                    return
                # Not asyncio.wait_for: on cancellation it waits for the read
                # to finish cancelling, and a read inside the event stream can
                # ignore that; the tail would then never stop.  The read is
                # abandoned instead, and closing the stream ends it.
                read = asyncio.ensure_future(events.__anext__())
                read.add_done_callback(_retrieve)
                try:
                    done, _ = await asyncio.wait({read, closed}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                except asyncio.CancelledError:
                    read.cancel()
                    raise
                if read not in done:
                    read.cancel()
                    self.ended_by = "paused" if closed.done() else "renew"
                    return
                try:
                    item = read.result()
                except StopAsyncIteration:
                    return
                update = item.get("sessionUpdate")
                if update:
                    yield update.get("sessionResults") or [], bool(update.get("sessionMetadata", {}).get("sampled"))
        finally:
            closed.cancel()

    def close(self) -> None:
        try:
            self._stream.close()
        except Exception:  # closing a dead stream must not hide why it died
            log.debug("closing a Live Tail stream failed", exc_info=True)


def session_failure(error: Exception) -> str | None:
    """How a session ended when reading it raised ``error``; None if that is no session failure."""
    if isinstance(error, ClientError):
        # A session error inside the stream (SessionTimeoutException,
        # SessionStreamingException).
        return str(error.response.get("Error", {}).get("Code") or "error")
    if is_connection_error(error):
        return f"connection lost: {error or type(error).__name__}"
    return None


def is_connection_error(error: BaseException) -> bool:
    # aiohttp is loaded by then (aiobotocore uses it); look it up, do not import it.
    aiohttp = sys.modules.get("aiohttp")
    parsers = sys.modules.get("botocore.parsers")
    return (
        isinstance(error, (OSError, asyncio.IncompleteReadError, BotoCoreError))
        or (aiohttp is not None and isinstance(error, aiohttp.ClientError))
        or (parsers is not None and isinstance(error, parsers.ResponseParserError))
    )


def _retrieve(read: asyncio.Future) -> None:
    # An abandoned read's outcome is not wanted; fetching it keeps asyncio quiet.
    if not read.cancelled():
        read.exception()
