"""The LOGS panel: tails the selected endpoint's log group.

The tail runs in one exclusive worker per panel; switching endpoint, filter
pattern, time range or group cancels it and starts a new one.  Updates reach
the view only through messages.

Live Tail is billed per session-minute, and a console is often left open
all day: the panel lets the tail use Live Tail only while it is on screen
and the console was used (a key or a click) in the last ``live_tail_idle``
(the config file's setting, 15 minutes by default).  Then the tail polls
FilterLogEvents on the same cursor, the panel says so, and any key brings
Live Tail back, the way any key wakes a screen saver: the condition is
"somebody is here", and any key says that.  (A specific key would be one
more thing to learn for no gain; `?` lists it under the logs.)
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from smtop.config.file import duration_label
from smtop.errors import AccessDeniedError, CredentialsError, NotFoundError, ServiceError, SmtopError
from smtop.format import safe_text
from smtop.clock import Clock
from smtop.models import TailUpdate
from smtop.models.source import LogSource
from smtop.models.tail import LiveTailGate
from smtop.ui.widgets.log_view import LogView

SINCE_PRESETS: tuple[tuple[str, timedelta], ...] = (
    ("5m", timedelta(minutes=5)),
    ("15m", timedelta(minutes=15)),
    ("1h", timedelta(hours=1)),
    ("3h", timedelta(hours=3)),
    ("12h", timedelta(hours=12)),
)
DEFAULT_SINCE = 1  # 15 minutes
ENDPOINT_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"
RETRY_SECONDS = 10.0


def _retried(error: SmtopError) -> bool:
    """Whether a failed tail starts again by itself: throttling and dropped
    connections clear; denied access, expired credentials and a group not there
    yet are fixed by a person elsewhere (a policy, a login, the endpoint's first
    line), and the tail comes back by itself once they are."""
    return error.retryable or isinstance(error, (NotFoundError, AccessDeniedError, CredentialsError))


class LogPanel(Vertical):
    """Title with the tail's state, a filter-pattern input, the view, a notice line."""

    BINDINGS = [
        Binding("slash", "edit_pattern", "Filter pattern", key_display="/"),
        Binding("t", "cycle_since", "Since"),
        Binding("g", "pick_group", "Log group"),
        Binding("s", "save", "Save"),
    ]

    group: reactive[str | None] = reactive(None)
    """The log group tailed (None: nothing selected)."""
    pattern: reactive[str] = reactive("")
    """The CloudWatch filter pattern applied by the service ("" = everything)."""
    since_index: reactive[int] = reactive(DEFAULT_SINCE)
    """Which of SINCE_PRESETS the tail started from."""
    mode: reactive[str] = reactive("")
    """"live" or "poll" once the tail has said which."""

    class Tailed(Message):
        """One update from the tail worker."""

        def __init__(self, generation: int, update: TailUpdate) -> None:
            super().__init__()
            self.generation = generation
            self.update = update

    class TailFailed(Message):
        """The tail failed; ``retry_in`` seconds until it starts again (None: it does not)."""

        def __init__(self, generation: int, error: SmtopError, retry_in: float | None = None) -> None:
            super().__init__()
            self.generation = generation
            self.error = error
            self.retry_in = retry_in

    class Restarted(Message):
        """A failed tail starts again: its lines come anew."""

        def __init__(self, generation: int) -> None:
            super().__init__()
            self.generation = generation

    NOTICE_SECONDS = 10.0
    """How long a notice that is not an error stays (fell back to polling, reconnected…)."""
    LIVE_CHECK_SECONDS = 1.0
    """How often the panel asks whether Live Tail should run (on screen, console used)."""

    def __init__(
        self,
        source: LogSource,
        *,
        clock: Clock,
        activity: Any,
        idle: timedelta = timedelta(minutes=15),
        retry: float = RETRY_SECONDS,
        since_index: int = DEFAULT_SINCE,
        capacity: int = 10_000,
        **kwargs,
    ) -> None:
        """``activity.last_input``: when the console was last used; ``idle``: Live
        Tail pauses after that long without a key (0: always poll); ``retry``:
        seconds before a failed tail starts again."""
        super().__init__(**kwargs)
        self._source = source
        self._clock = clock
        self._activity = activity
        self._idle = idle
        self._retry_seconds = retry
        self._capacity = capacity
        self._notice_timer: Timer | None = None
        self._generation = 0
        self._delivered = 0
        self.set_reactive(LogPanel.since_index, since_index)
        self._title: Text | None = None
        self._subtitle: Text | None = None
        self.last_notice: str | None = None
        """The last notice the current tail gave (fell back to polling, throttled…)."""
        self.live_gate = LiveTailGate()
        """Open while Live Tail may run: the panel on screen and the console used lately."""
        self.idle = False
        """Nobody used the console for live_tail_idle (Live Tail is paused for that)."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="CloudWatch filter pattern: ERROR  \"quoted phrase\"  ?ERROR ?WARN  -health  { $.level = \"ERROR\" }", id="log-pattern")
        yield LogView(self._capacity, id="log-view")
        yield Static(id="log-notice")

    def on_mount(self) -> None:
        self.query_one("#log-pattern").display = False
        self.query_one("#log-notice").display = False
        self._update_title()
        self.set_interval(self.LIVE_CHECK_SECONDS, self.check_live_tail)

    # -- when Live Tail may run --------------------------------------------
    def check_live_tail(self) -> None:
        """Open or close the gate: Live Tail only on screen and while the console is used."""
        idle, last_input, clock = self._idle, self._activity.last_input, self._clock
        reason = None
        if idle <= timedelta(0):
            reason = "live_tail_idle is 0s in the config file"
        elif not (self.display and self.is_on_screen):
            reason = "the log panel is not on screen"
        self.idle = last_input is not None and clock is not None and clock.now() - last_input >= idle
        if reason is None and self.idle:
            reason = f"no key pressed for {duration_label(idle)}; any key resumes it"
        was_open = self.live_gate.is_open
        if reason is None:
            self.live_gate.open()
        else:
            self.live_gate.close(reason)
        if was_open != self.live_gate.is_open:
            self._update_title()

    @property
    def received(self) -> int:
        """Events of the current tail the view has taken in (shown, held while
        paused, or counted as dropped): those still queued are not counted."""
        return self._delivered - self.view.backlog

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    @property
    def since(self) -> timedelta:
        return SINCE_PRESETS[self.since_index][1]

    # -- starting and stopping the tail -------------------------------------
    def watch_group(self) -> None:
        self.restart()

    def restart(self) -> None:
        """Start a new tail for the current group/pattern/since (cancels the old one)."""
        if not self.is_mounted:
            return
        self._generation += 1
        self.view.clear()
        self.view.follow = True  # a new tail starts at its newest line, even if the last was paused
        self._delivered = 0
        self.last_notice = None
        self.mode = ""
        self._notice(None)
        self._update_title()
        if self.group is None:
            self.workers.cancel_group(self, "tail")
            return
        self._tail(self._generation, self.group, self.pattern or None, self.since)

    @work(exclusive=True, group="tail", exit_on_error=False)
    async def _tail(self, generation: int, group: str, pattern: str | None, since: timedelta) -> None:
        """The one worker of a tail: its updates, and after a failure that may
        clear (throttling, a dropped connection, denied access or expired
        credentials the person fixes elsewhere, a group not there yet) the tail
        again from its start, ``retry`` seconds later."""
        while True:
            try:
                async for update in self._source.tail(group, filter_pattern=pattern, since=since, live_gate=self.live_gate):
                    self.post_message(self.Tailed(generation, update))
                return
            except SmtopError as error:
                again = _retried(error)
                self.post_message(self.TailFailed(generation, error, self._retry_seconds if again else None))
                if not again:
                    return
            await asyncio.sleep(self._retry_seconds)
            self.post_message(self.Restarted(generation))

    @on(Tailed)
    def _tailed(self, message: Tailed) -> None:
        if message.generation != self._generation:
            return  # from a tail that was replaced
        update = message.update
        self.view.feed(update.events)
        self._delivered += len(update.events)
        self.mode = update.mode
        if update.notice or update.sampled:
            notice = update.notice or "Live Tail is sampling this busy group: not every event is shown."
            self.last_notice = notice
            self._notice(notice, error=False)
        elif update.events:
            self._notice(None)
        if not self.view.backlog:  # else once the view has taken the batch in (LogView.Ingested)
            self._update_title()

    @on(Worker.StateChanged)
    def _tail_crashed(self, event: Worker.StateChanged) -> None:
        """A bug in the tail (not an AWS failure): say so and start over, never freeze."""
        if event.worker.group != "tail" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.log.error("log tail failed", error=repr(error))
        self.post_message(
            self.TailFailed(self._generation, ServiceError(f"The log tail failed: {type(error).__name__}: {error}."), self._retry_seconds)
        )
        self.set_timer(self._retry_seconds, self.restart)

    @on(TailFailed)
    def _failed(self, message: TailFailed) -> None:
        if message.generation != self._generation:
            return
        error = message.error
        text = str(error)
        if isinstance(error, NotFoundError):
            text = f"{text} — the group appears once the endpoint writes its first log line."
        if message.retry_in is not None:
            text += f" Retrying in {message.retry_in:g}s."
        self._notice(text, error=True)
        self._update_title()

    @on(Restarted)
    def _restarted(self, message: Restarted) -> None:
        if message.generation == self._generation:
            self.view.clear()
            self._delivered = 0
            self.mode = ""

    # -- title and notices ----------------------------------------------------
    def _update_title(self) -> None:
        if not self.is_mounted:
            return
        view = self.view
        state = "follow" if view.follow else f"paused · {len(view.pending):,} new"
        parts = [state, f"since {SINCE_PRESETS[self.since_index][0]}"]
        if self.mode == "poll" and self.idle and not self.live_gate.is_open:
            parts.append("poll · Live Tail paused: any key resumes")
        elif self.mode:
            parts.append(self.mode)
        if self.pattern:
            parts.append(f"filter: {self.pattern}")
        parts.append(f"{len(view.lines):,} lines")
        if view.dropped:
            parts.append(f"{view.dropped:,} dropped")
        group = self.group or "no endpoint selected"
        endpoint_group = group.removeprefix(ENDPOINT_GROUP_PREFIX)
        # Border titles are markup: the group and the pattern are user/AWS text, so escape them.
        # Each assignment repaints the panel, view included: only what changed is set.
        title = Text.assemble("LOGS ", safe_text(endpoint_group, "bold"))
        subtitle = safe_text(" · ".join(parts))
        if title != self._title:
            self.border_title = self._title = title
        if subtitle != self._subtitle:
            self.border_subtitle = self._subtitle = subtitle

    def _notice(self, text: str | None, *, error: bool = False) -> None:
        notice = self.query_one("#log-notice", Static)
        notice.display = text is not None
        notice.set_class(error, "-error")
        if self._notice_timer is not None:
            self._notice_timer.stop()
            self._notice_timer = None
        if text is not None:
            notice.update(safe_text(text))
            if not error:  # information fades; an error stays until it is resolved
                self._notice_timer = self.set_timer(self.NOTICE_SECONDS, lambda: self._notice(None))

    @on(LogView.FollowChanged)
    @on(LogView.Ingested)
    def _view_changed(self) -> None:
        self._update_title()

    # -- keys -------------------------------------------------------------
    def action_edit_pattern(self) -> None:
        box = self.query_one("#log-pattern", Input)
        box.value = self.pattern
        box.display = True
        # At once (focus() waits a message): keys typed right after are the
        # pattern, and the app hands such keys to the focused box.
        self.screen.set_focus(box)

    @on(Input.Submitted, "#log-pattern")
    def _pattern_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.display = False
        self.view.focus()
        if event.value.strip() != self.pattern:
            self.pattern = event.value.strip()
            self.restart()

    def cancel_pattern_edit(self) -> bool:
        """Escape in the pattern box: close it, keep the tail as it is."""
        box = self.query_one("#log-pattern", Input)
        if not box.display:
            return False
        box.display = False
        self.view.focus()
        return True

    def action_cycle_since(self) -> None:
        self.since_index = (self.since_index + 1) % len(SINCE_PRESETS)
        self.restart()

    def action_pick_group(self) -> None:
        from smtop.ui.screens.log_groups import LogGroupScreen

        def chosen(group: str | None) -> None:
            if group:
                self.group = group

        self.app.push_screen(LogGroupScreen(self._source, current=self.group), chosen)

    def action_save(self) -> None:
        lines = self.view.text_lines()
        if not lines:
            self.notify("Nothing to save yet.", timeout=3)
            return
        name = (self.group or "logs").strip("/").replace("/", "_")
        path = Path.cwd() / f"smtop-{name}.log"
        try:
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        except OSError as error:
            self.notify(f"Could not save the log: {error}", severity="error", markup=False)
            return
        self.notify(f"Saved {len(lines):,} lines to {path}", timeout=5, markup=False)
