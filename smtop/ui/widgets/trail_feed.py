"""The CLOUDTRAIL strip: who changed what, just before it broke.

It shows write events only: the account's reads (every tool's Describe* and
List*, smtop's own) are in CloudTrail too, and would bury the changes.  The
feed polls in its own worker (a :func:`~smtop.models.source.polled` stream:
never two polls at once; the data layer also paces every LookupEvents request
of the account and region to CloudTrail's 2 per second).  Each poll's
:class:`TrailSnapshot` travels in :class:`TrailFeed.Updated`, which bubbles on
to the console, where deployments become markers on the charts.  While
the feed does not yet hold its whole window, its title says how far back it
is complete.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from smtop.errors import AccessDeniedError, ServiceError, SmtopError, ThrottledError, UnsupportedOperationError
from smtop.format import safe_text
from smtop.models.cloudtrail import TrailEvent, TrailSnapshot
from smtop.models.source import RefreshSignal, TrailSource, Update, polled

POLL_SECONDS = 15.0
"""Between polls: one LookupEvents request each (a page of writes), far below the account's 2 per second."""
THROTTLED_SECONDS = 30.0
"""After a poll that stayed throttled: give the rest of the team's tools room."""
DENIED_SECONDS = POLL_SECONDS
"""After AccessDenied: the permission may be granted meanwhile, and the feed
must come back within one poll when it is (one denied call per poll costs nothing)."""

_COLUMNS = ("time", "event", "who", "resource", "error", "source IP")
"""The error code before the source IP: at 80 columns it is the one that must show."""


class TrailFeed(Vertical):
    """Recent CloudTrail events, newest first, for the selected endpoint or all."""

    BINDINGS = [Binding("e", "toggle_scope", "Endpoint/all")]

    endpoint: reactive[str | None] = reactive(None)
    """The selected endpoint (the feed shows its events unless showing all)."""
    show_all: reactive[bool] = reactive(False)
    """Show every event of the account's SageMaker and CloudWatch, not just the endpoint's."""

    class Updated(Message):
        """A poll finished; bubbles on to the console (deploy markers)."""

        def __init__(self, snapshot: TrailSnapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

    class Failed(Message):
        def __init__(self, error: SmtopError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, source: TrailSource, *, every: float | None = None, show_all: bool = False, **kwargs) -> None:
        """``every``: seconds between polls (POLL_SECONDS; a replay's is its tick)."""
        super().__init__(**kwargs)
        self._source = source
        self.poll_seconds = every or POLL_SECONDS
        """Between polls (tests against the simulator shorten it; the pacer still holds 2/s)."""
        self._refresh = RefreshSignal()
        self.snapshot = TrailSnapshot()
        self.shown: tuple[TrailEvent, ...] = ()
        """The events in the table, top to bottom (what the scope lets through)."""
        self.error: SmtopError | None = None
        self.set_reactive(TrailFeed.show_all, show_all)

    def compose(self) -> ComposeResult:
        table: DataTable = DataTable(id="trail-table", cursor_type="row", zebra_stripes=False, show_header=True)
        _add_columns(table)
        yield table
        yield Static(id="trail-notice")

    def on_mount(self) -> None:
        self.query_one("#trail-notice").display = False
        self._update_title()
        self._follow()

    # -- polling -------------------------------------------------------------
    @work(exclusive=True, group="trail", exit_on_error=False)
    async def _follow(self) -> None:
        async for update in polled(self._source.trail_events, every=self._wait_after, now=self._refresh):
            self.post_message(self.Updated(update.value) if update.value is not None else self.Failed(update.error))

    def refresh_now(self) -> None:
        """Poll at once (a replay's seek); the schedule goes on from it."""
        self._refresh.now()

    @on(Worker.StateChanged)
    def _crashed(self, event: Worker.StateChanged) -> None:
        """A bug of ours (not an AWS failure): say so, start polling again."""
        if event.worker.group != "trail" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.log.error("trail poll failed", error=repr(error))
        self.post_message(self.Failed(ServiceError(f"The CloudTrail feed failed: {type(error).__name__}: {error}.")))
        self.set_timer(self.poll_seconds, self._follow)

    def _wait_after(self, update: Update[TrailSnapshot]) -> float:
        """When to poll again: sooner or later after a failure, by its kind."""
        error = update.error
        if isinstance(error, ThrottledError):
            return max(self.poll_seconds, THROTTLED_SECONDS * self.poll_seconds / POLL_SECONDS)
        if isinstance(error, AccessDeniedError):
            return DENIED_SECONDS * self.poll_seconds / POLL_SECONDS
        if isinstance(error, UnsupportedOperationError):
            return DENIED_SECONDS
        return self.poll_seconds

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._show_failure(message.error)

    @on(Updated)
    def _updated(self, message: Updated) -> None:
        self.snapshot = message.snapshot
        self.error = None
        self._notice(None)
        self._render_rows()

    def _show_failure(self, error: SmtopError) -> None:
        """Say what failed in words a person acts on, and when it is tried again."""
        self.error = error
        wait = self._wait_after(Update(error=error))
        if isinstance(error, ThrottledError):
            text = f"CloudTrail throttled LookupEvents (2 requests/s per account and region); retrying in {wait:g}s."
        elif isinstance(error, AccessDeniedError):
            text = f"{error} The rest of smtop works without it; retrying in {wait:g}s."
        elif isinstance(error, UnsupportedOperationError):
            text = f"{error} No CloudTrail events can be shown."
        else:
            text = f"{error} Retrying in {wait:g}s."
        self._notice(text)

    # -- showing -------------------------------------------------------------
    def watch_endpoint(self) -> None:
        self._render_rows()

    def watch_show_all(self) -> None:
        self._render_rows()

    def action_toggle_scope(self) -> None:
        self.show_all = not self.show_all

    def _render_rows(self) -> None:
        if not self.is_mounted:
            return
        scope = None if self.show_all else self.endpoint
        events = tuple(e for e in self.snapshot.events if e.concerns(scope))
        if events == self.shown:
            # Most polls bring nothing new: rebuilding the table would repaint
            # it (and lay the screen out again) every 30 s for nothing.
            self._update_title()
            return
        table = self.query_one(DataTable)
        keep = table.cursor_row
        selected = self.shown[keep].event_id if 0 <= keep < len(self.shown) else None
        # Columns too: DataTable widths only grow, so a wide row once shown
        # (another endpoint's error) would leave its width behind.
        table.clear(columns=True)
        _add_columns(table)
        for event in events:
            table.add_row(*_cells(event), key=event.event_id)
        self.shown = events
        if selected is not None:
            index = next((i for i, e in enumerate(events) if e.event_id == selected), 0)
            table.move_cursor(row=index, animate=False)
        self._update_title()

    def _update_title(self) -> None:
        scope = "all endpoints" if self.show_all or self.endpoint is None else self.endpoint
        self.border_title = Text.assemble("CLOUDTRAIL ", safe_text(scope, "bold"))
        count = f"{len(self.shown)} event{'' if len(self.shown) == 1 else 's'}"
        since = self.snapshot.complete_since
        if since is not None:
            count += f" since {since:%H:%MZ}"
        self.border_subtitle = f"{count} · e: endpoint/all"

    def _notice(self, text: str | None) -> None:
        notice = self.query_one("#trail-notice", Static)
        notice.display = text is not None
        if text is not None:
            notice.update(safe_text(text))

    @property
    def notice(self) -> str:
        """The notice line's text ("" when none), for tests and the title."""
        notice = self.query_one("#trail-notice", Static)
        return str(notice.render()) if notice.display else ""

    @on(DataTable.RowSelected)
    def _opened(self, event: DataTable.RowSelected) -> None:
        event.stop()
        from smtop.ui.screens.trail_event import TrailEventScreen

        index = event.cursor_row
        if 0 <= index < len(self.shown):
            self.app.push_screen(TrailEventScreen(self.shown[index]))


def _add_columns(table: DataTable) -> None:
    for label in _COLUMNS:
        table.add_column(label, key=label)


def _cells(event: TrailEvent) -> tuple[Text, ...]:
    """One row: every field from AWS rendered literally (Text, printable); the
    seed's key events stand out, a failed call's error code is red."""
    return (
        Text(event.time.strftime("%H:%M:%SZ"), style="dim"),
        safe_text(event.name, "bold yellow" if event.is_key else ""),
        safe_text(event.who),
        safe_text(event.resource),
        safe_text(event.error_code or "", "bold red"),
        safe_text(event.source_ip, "dim"),
    )
