"""The log tail: every event of a log group once, in time order, live.

A tail fills from the last ``since`` by polling, then follows with Live
Tail while it is offered and someone reads it, and polls otherwise; both
write through one cursor, so switching neither repeats nor drops a line.
The policies live with the parts they shape: ``cursor`` (the dedupe key and
the lag window), ``polling`` (bounded polls, the initial fill, failures and
their backoff), ``live`` (when Live Tail runs, renewal, retrying it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import AsyncIterator

from smtop.aws.logs.cursor import DEFAULT_LAG, DEFAULT_MAX_KEYS, TailCursor
from smtop.aws.logs.feed import TailFeed, TailStats, ms
from smtop.aws.logs.live import LIVE_RENEW_AFTER, LiveTail
from smtop.aws.logs.polling import Poller
from smtop.aws.session import AwsSession
from smtop.clock import Clock, SystemClock
from smtop.models import TailUpdate
from smtop.models.tail import LiveTailGate


class LogTail:
    """Follow one log group: an initial fill, then Live Tail or polling.

    One tail per (group, filter pattern, since): to change any of them the
    UI cancels the task iterating this tail and starts a new one.

    Args:
        aws: an open ``AwsSession``.
        group: the log group name, e.g. ``/aws/sagemaker/Endpoints/fraud``.
        filter_pattern: a CloudWatch Logs filter pattern (``ERROR``,
            ``?ERROR ?WARN``, ``{ $.level = "error" }``); None shows all.
        since: how far back the initial fill reaches.
        clock: where "now" comes from (the fill's start and the jump).
        poll_interval: seconds between polls when caught up.
        quiet_interval: longest wait between polls of a quiet group (None:
            ``poll_interval``).
        page_limit: events per FilterLogEvents page (None: the service's
            default, up to 10,000 or 1 MB).
        max_pages: pages per poll; a longer backlog continues at once in
            the next poll.
        fill_limit: events the initial fill keeps (the panel's buffer size).
        fill_pages: pages the initial fill reads before it jumps ahead.
        lag: the late-event window (see ``smtop.aws.logs.cursor``).
        max_keys: bound of the cursor's memory.
        live: try Live Tail after the fill.
        live_gate: when Live Tail may run (the console closes it when nobody
            looks); None: always.
        live_renew_after: renew a Live Tail session after this long.
        min_live: a session that ends by itself sooner means "not offered".
        backoff: first retry delay after a failure, seconds; doubles up to
            ``max_backoff``, with jitter.
        max_backoff: longest retry delay, seconds.

    Example:
        >>> tail = LogTail(aws, "/aws/sagemaker/Endpoints/fraud", filter_pattern="ERROR",
        ...                since=timedelta(minutes=30))
        >>> async for update in tail.updates():
        ...     show(update.events, update.notice)
    """

    def __init__(
        self,
        aws: AwsSession,
        group: str,
        *,
        filter_pattern: str | None = None,
        since: timedelta = timedelta(minutes=10),
        clock: Clock | None = None,
        poll_interval: float = 2.0,
        quiet_interval: float | None = None,
        page_limit: int | None = None,
        max_pages: int = 10,
        fill_limit: int = 10_000,
        fill_pages: int = 20,
        lag: timedelta = DEFAULT_LAG,
        max_keys: int = DEFAULT_MAX_KEYS,
        live: bool = True,
        live_gate: LiveTailGate | None = None,
        live_renew_after: timedelta = LIVE_RENEW_AFTER,
        min_live: float = 10.0,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        if max_pages < 1 or fill_pages < 1 or fill_limit < 1:
            raise ValueError("max_pages, fill_pages and fill_limit must be >= 1")
        if page_limit is not None and not 1 <= page_limit <= 10_000:
            raise ValueError("page_limit must be within 1..10000")
        self.group = group
        self.since = since
        self._clock = clock or SystemClock()
        self._feed = TailFeed(
            group, lag_ms=int(lag.total_seconds() * 1000), max_keys=max_keys, backoff=backoff, max_backoff=max_backoff
        )
        self._poller = Poller(
            aws,
            self._feed,
            filter_pattern=filter_pattern or None,
            poll_interval=poll_interval,
            quiet_interval=max(poll_interval, quiet_interval) if quiet_interval else poll_interval,
            page_limit=page_limit,
            max_pages=max_pages,
            fill_limit=fill_limit,
            fill_pages=fill_pages,
        )
        self._live = LiveTail(
            aws,
            self._feed,
            self._poller,
            offered=live,
            gate=live_gate or LiveTailGate(),
            renew_after=live_renew_after.total_seconds(),
            min_live=min_live,
        )

    @property
    def mode(self) -> str:
        """"poll" or "live": how events arrive now."""
        return self._feed.mode

    @property
    def stats(self) -> TailStats:
        return self._feed.stats

    @property
    def cursor(self) -> TailCursor:
        return self._feed.cursor

    @property
    def live(self) -> bool:
        """Whether Live Tail is still worth trying (False once it proved not offered)."""
        return self._live.offered

    def __aiter__(self) -> AsyncIterator[TailUpdate]:
        return self.updates()

    async def updates(self) -> AsyncIterator[TailUpdate]:
        """Yield what the tail delivers, forever (cancel the task to stop).

        The first update is the initial fill, sent even when empty (possibly
        with a notice about skipped events); notices about failures can come
        before it.  Later updates carry new events, in time order
        within each update, and/or a notice (fell back to polling,
        throttled, retrying…).  Updates without events or notice are not
        sent.

        Raises:
            InvalidFilterPatternError: the service rejected the pattern.
            AccessDeniedError, CredentialsError: the user must act first.
        """
        self._poller.restart(ms(self._clock.now() - self.since))
        async for update in self._poller.fill(self._clock):
            yield update
        while True:
            if self._live.offered:
                async for update in self._live.follow():
                    yield update
            async for update in self._follow_polling():
                yield update

    async def _follow_polling(self) -> AsyncIterator[TailUpdate]:
        """Poll until Live Tail is wanted (and offered) again; forever if it never is."""
        self._feed.mode = "poll"
        wait = self._poller.poll_interval
        while True:
            async for update in self._poller.retrying():
                yield update
            update = self._feed.take(notice=self._feed.recovered())
            if update is not None:
                yield update
            if self._live.wanted:
                return
            if not self._poller.backlog:
                wait = self._poller.next_wait(wait, new_lines=update is not None and bool(update.events))
                if await self._live.wait_until_wanted(wait):
                    return  # the console wants Live Tail again: at once, not after the wait
