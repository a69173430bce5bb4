"""Polling: FilterLogEvents pages into the tail's cursor, the initial fill, and retrying.

Why it is shaped so:

- **Bounded work per poll.**  A poll reads at most ``max_pages`` pages; if the
  group had more, the scan's nextToken is kept and the next poll continues
  it at once (no sleep), so a backlog is worked off in steps that each reach
  the UI, and a poll always moves forward even when the lag window alone
  holds more events than a poll reads.
- **Initial fill keeps the tail.**  FilterLogEvents only reads forward in
  time, so the events of the last ``since`` are walked from the oldest and
  only the newest ``fill_limit`` are kept (the panel's ring buffer holds no
  more).  A busy group's 12 hours can be millions of events; after
  ``fill_pages`` pages the tail estimates the event rate from what it read,
  jumps (once) to where the last ``2 x fill_limit`` events should start, and
  says so in a notice; the part in between is never read.  Rate estimates
  are only that: for bursty groups the jump can land early (the surplus
  arrives through the following bounded polls) or late (fewer lines shown).
  The newest events are always shown.
- **A quiet group is asked less often.**  FilterLogEvents' 5 TPS quota is
  shared by the whole account and region, so the wait between polls doubles
  up to ``quiet_interval`` while no new line comes; the first new line
  brings it back to ``poll_interval``.
- **Failures never end the tail.**  Throttling, dropped connections and
  service errors back off exponentially with jitter (never a tight loop),
  yield a notice saying when the next try is, and resume where they stopped
  (the failed page is asked again with the same nextToken; the cursor drops
  any overlap).
  A log group that does not exist (yet: a new endpoint's group appears with
  its first instance) is waited for the same way.  Denied access, bad
  credentials and an invalid filter pattern end the tail with an smtop
  error the panel shows.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from botocore.exceptions import ClientError

from smtop.aws.logs.cursor import TailScan
from smtop.aws.logs.feed import TailFeed, by_time, ms
from smtop.aws.session import AwsSession
from smtop.clock import Clock
from smtop.errors import InvalidFilterPatternError, SmtopError
from smtop.models import LogEvent, TailUpdate


class Poller:
    """Reads a log group through FilterLogEvents into the tail's feed.

    Args:
        aws: an open ``AwsSession``.
        feed: where accepted events go (its cursor says where a scan starts).
        filter_pattern: a CloudWatch Logs filter pattern; None shows all.
        poll_interval: seconds between polls while lines come.
        quiet_interval: longest wait between polls of a quiet group.
        page_limit: events per FilterLogEvents page (None: the service's
            default, up to 10,000 or 1 MB).
        max_pages: pages per poll; a longer backlog continues at once in
            the next poll.
        fill_limit: events the initial fill keeps (the panel's buffer size).
        fill_pages: pages the initial fill reads before it jumps ahead.
    """

    def __init__(
        self,
        aws: AwsSession,
        feed: TailFeed,
        *,
        filter_pattern: str | None,
        poll_interval: float,
        quiet_interval: float,
        page_limit: int | None,
        max_pages: int,
        fill_limit: int,
        fill_pages: int,
    ) -> None:
        self._aws = aws
        self._feed = feed
        self.group = feed.group
        self.filter_pattern = filter_pattern
        self.poll_interval = poll_interval
        self.quiet_interval = quiet_interval
        self.page_limit = page_limit
        self.max_pages = max_pages
        self.fill_limit = fill_limit
        self.fill_pages = fill_pages
        self._scan: TailScan | None = None
        self._token: str | None = None

    def restart(self, start_ms: int) -> None:
        """Start over from ``start_ms`` with a new cursor; the current scan is dropped."""
        self._feed.restart(start_ms)
        self._scan, self._token = None, None

    @property
    def backlog(self) -> bool:
        """The current scan has more pages (the last poll stopped at ``max_pages``)."""
        return self._scan is not None  # read() ends the scan when its last page is read

    async def read(self, max_pages: int) -> bool:
        """Read up to ``max_pages`` pages of the current scan into the feed.

        Returns True when the scan has more pages (a backlog).  On failure the
        pages read so far stay accepted and pending, and the scan keeps its
        nextToken: the retry asks for the failed page again.  (Restarting the
        scan instead would livelock on a flaky link whenever the lag window
        holds more pages than succeed in a row.)
        """
        logs = await self._aws.client("logs")
        feed = self._feed
        if self._scan is None:
            self._scan, self._token = feed.cursor.scan(), None
        scan = self._scan
        feed.stats.polls += 1
        for _ in range(max_pages):
            request: dict[str, Any] = {
                "logGroupName": self.group,
                "startTime": scan.start_ms,
                # Ignored by CloudWatch (always interleaved since 2019);
                # emulators such as moto sort across streams only with it.
                "interleaved": True,
            }
            if self.filter_pattern:
                request["filterPattern"] = self.filter_pattern
            if self.page_limit:
                request["limit"] = self.page_limit
            if self._token:
                request["nextToken"] = self._token
            reply = await call_logs(self._aws, logs.filter_log_events, "FilterLogEvents", request, self.filter_pattern)
            feed.stats.pages += 1
            feed.accept(scan, reply.get("events", []))
            self._token = reply.get("nextToken") or None
            if self._token is None:
                self._scan = None
                return False
        return True

    async def retrying(self) -> AsyncIterator[TailUpdate]:
        """One successful :meth:`read` of ``max_pages``, retrying failures after a backoff.

        Yields each failure's notice (with the events of the pages read
        before it).  Afterwards :attr:`backlog` says whether the scan has
        more pages.
        """
        while True:
            try:
                await self.read(self.max_pages)
                return
            except SmtopError as error:
                update, delay = self._feed.failed(error)
            if update is not None:
                yield update
            await asyncio.sleep(delay)

    def next_wait(self, wait: float, new_lines: bool) -> float:
        """The wait before the next poll, after one that waited ``wait`` and brought ``new_lines`` or not."""
        wait = self.poll_interval if new_lines else min(self.quiet_interval, wait * 2)
        self._feed.stats.last_wait = wait
        return wait

    def interval_label(self) -> str:
        """How often the tail polls, for a notice."""
        if self.quiet_interval > self.poll_interval:
            return f"{self.poll_interval:g} s ({self.quiet_interval:g} s when quiet)"
        return f"{self.poll_interval:g} s"

    async def fill(self, clock: Clock) -> AsyncIterator[TailUpdate]:
        """The initial fill: the newest ``fill_limit`` events since the cursor's start.

        The last update is always sent, even empty: it tells the panel the
        fill is done.  Failure notices can come before it.
        """
        feed = self._feed
        kept: deque[LogEvent] = deque(maxlen=self.fill_limit)
        begin = feed.cursor.floor
        read = pages = 0
        first_at: int | None = None  # time of the first event read
        skipped_to: int | None = None
        while True:
            before = feed.stats.pages
            try:
                more = await self.read(self.max_pages)
                failure = None
            except SmtopError as error:
                failure = error
            # Pages read before a failure count: the retry resumes after them.
            pages += feed.stats.pages - before
            accepted = feed.drain()
            read += len(accepted)
            if first_at is None and accepted:
                first_at = round(min(e.timestamp for e in accepted) * 1000)
            kept.extend(accepted)
            if failure is not None:
                update, delay = feed.failed(failure)
                if update is not None:
                    yield update
                await asyncio.sleep(delay)
                continue
            feed.failures = 0
            if not more:
                break
            if pages < self.fill_pages:
                continue
            # The fill's page budget is spent with more to read.
            jump = self._jump(read, first_at, clock) if skipped_to is None else None
            if jump is not None:
                # Forget the old part: a new cursor at the jump point.
                skipped_to = jump
                self.restart(jump)
                kept.clear()
                read = pages = 0
                first_at = None
                continue
            break  # the rest arrives through the following polls
        notice = None
        if skipped_to is not None:
            notice = (
                f"Too many events since {_clock_text(begin)} to load them all: "
                f"showing from {_clock_text(skipped_to)} on."
            )
        elif read > len(kept):
            notice = f"Showing the last {len(kept):,} of {read:,} events since {_clock_text(begin)}."
        events = by_time(kept)
        feed.stats.events_shown += len(events)
        yield TailUpdate(self.group, events, mode="poll", notice=notice)

    def _jump(self, read: int, first_at: int | None, clock: Clock) -> int | None:
        """Where the last ``2 x fill_limit`` events should start, at the rate read so far; None if not ahead."""
        newest = self._feed.cursor.newest
        if newest is None or first_at is None or newest <= first_at:
            return None
        # The rate where the group has events, with room to spare: the
        # fill's deque trims the surplus, a shortfall shows fewer lines.
        rate = read / (newest - first_at)  # events per ms
        jump = ms(clock.now()) - int(2 * self.fill_limit / rate)
        return jump if jump > newest else None


async def call_logs(
    aws: AwsSession, method: Any, operation: str, request: dict[str, Any], filter_pattern: str | None
) -> Any:
    """Call CloudWatch Logs with its errors translated; a rejected filter pattern says so."""
    with aws.errors("logs", operation):
        try:
            return await method(**request)
        except ClientError as error:
            raise _pattern_error(error, operation, filter_pattern) or error


def _pattern_error(error: ClientError, operation: str, filter_pattern: str | None) -> SmtopError | None:
    body = error.response.get("Error", {})
    if body.get("Code") not in ("InvalidParameterException", "MalformedQueryException"):
        return None
    message = " ".join(str(body.get("Message", "")).split())
    if not filter_pattern or not any(w in message.lower() for w in ("pattern", "filter", "term")):
        return None
    return InvalidFilterPatternError(
        f"The filter pattern {filter_pattern!r} is not valid: {message or 'CloudWatch Logs rejected it'}",
        pattern=filter_pattern,
        service="logs",
        operation=operation,
    )


def _clock_text(epoch_ms: int) -> str:
    """A time in a notice, in UTC as the console shows every time."""
    return datetime.fromtimestamp(epoch_ms / 1000, timezone.utc).strftime("%H:%M:%SZ")
