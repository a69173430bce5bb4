"""The smtop console: one screen, every panel driven by the selected endpoint.

Data arrives through one polling worker that posts a message; widgets only
read the snapshot in that message.  The next poll is scheduled when the last
one has finished, so polls never overlap however slow AWS is.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import re
import sys
import weakref
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from datetime import timedelta
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterable, Protocol

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from rich.text import Text

from smtop.clock import Clock, SystemClock
from smtop.format import printable, safe_text
from smtop.errors import ConfigurationError, ConnectionFailedError, CredentialsError, MfaRequiredError, SmtopError
from smtop.models import CallerIdentity, EndpointMetrics, FleetSnapshot, TailUpdate
from smtop.models.alarms import Acknowledgement, Alarm, AlarmHistoryItem, AlarmsSnapshot
from smtop.models.cloudtrail import TrailSnapshot
from smtop.models.insights import QueryDefinitions, QueryProgress, QueryRequest, SavedQuery
from smtop.models.switch import SwitchChoices, SwitchTarget
from smtop.models.tail import LiveTailGate
from smtop.config.settings import Settings
from smtop.ui.messages import RefreshFailed, SnapshotReady
from smtop.ui.alarm_actions import AlarmActions
from smtop.ui.replay_controls import SEEK_LARGE, SEEK_SMALL, ReplayControl, ReplayControls
from smtop.ui.switching import SourceSwitcher, SourceSwitching
from smtop.ui.commands import SmtopCommands, check_key_overrides
from smtop.ui.themes import choose_theme, glyph_mode, register_themes
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.metric_panel import MetricPanel
from smtop.ui.widgets.status_bar import StatusBar

# The side panel, the logs and the CloudTrail feed are imported and mounted
# right after the first frame (SmtopApp.mount_panels), the modal screens when
# they first open: the first frame waits only for what it shows.
if TYPE_CHECKING:
    from textual.widgets import TabbedContent
    from smtop.ui.screens.metric_detail import MetricDetailScreen
    from smtop.ui.widgets.endpoint_detail import EndpointDetail
    from smtop.ui.widgets.insights_panel import InsightsPanel
    from smtop.ui.widgets.log_panel import LogPanel
    from smtop.ui.widgets.log_view import LogView
    from smtop.ui.widgets.trail_feed import TrailFeed

def _while_running(handler):
    """Messages still arrive while the app shuts down and its widgets go away:
    a handler that would query them then does nothing."""

    @functools.wraps(handler)
    def guarded(self, message):
        if self.is_running:
            return handler(self, message)
        return None

    return guarded


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Errors that, before any data has ever arrived, mean the console cannot work
# at all: better one clear line in the shell than an empty screen.  (Not a
# missing MFA code: the console asks for it in a dialog.)
_FATAL_AT_START = (ConfigurationError, CredentialsError, ConnectionFailedError)

PANELS_AT_LATEST = 1.5
"""Seconds after the first frame the panels are mounted even if no data came yet."""

SELECTION_REST = 0.3
"""Seconds the cursor rests on an endpoint before its panel-only metrics are asked."""


class SelectedReady(Message):
    """The selected endpoint's panel-only metrics arrived (``snapshot``) or failed (``error``)."""

    def __init__(self, endpoint: str, snapshot: FleetSnapshot | None, error: SmtopError | None = None) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.snapshot = snapshot
        self.error = error


class ConsoleSource(Protocol):
    """What the console needs from the data layer (smtop.aws.console.ConsoleData)."""

    region: str | None
    profile: str | None

    async def refresh(self) -> FleetSnapshot: ...

    async def select(self, endpoint: str | None) -> FleetSnapshot | None:
        """The selected endpoint changed: the last snapshot completed with its
        panel-only metrics (fetched now), None before the first refresh."""
        ...

    async def whoami(self) -> CallerIdentity: ...

    async def switch_choices(self) -> SwitchChoices: ...

    def tail(
        self, group: str, *, filter_pattern: str | None, since: timedelta, live_gate: LiveTailGate | None = None
    ) -> AsyncIterator[TailUpdate]: ...

    async def log_groups(self, prefix: str) -> list[str]: ...

    async def alarms(self, endpoints: Iterable[str]) -> AlarmsSnapshot: ...

    async def alarm_history(self, alarm: str) -> list[AlarmHistoryItem]: ...

    async def sns_topics(self) -> list[str]: ...

    async def alarm_exists(self, alarm: str) -> bool: ...

    async def put_alarm(self, request: dict[str, Any]) -> None: ...

    async def acknowledge(self, alarm: Alarm, window: timedelta, note: str) -> tuple[Acknowledgement, str | None]: ...

    async def unacknowledge(self, alarm: Alarm) -> tuple[list[str], str | None]: ...

    async def trail_events(self) -> TrailSnapshot: ...

    def run_query(self, request: QueryRequest) -> AsyncIterator[QueryProgress]: ...

    async def query_definitions(self) -> QueryDefinitions: ...

    async def put_query_definition(self, query: SavedQuery) -> str: ...


FleetConnector = Callable[[], AbstractAsyncContextManager[ConsoleSource]]


class SmtopApp(ReplayControls, SourceSwitching, AlarmActions, App[int]):
    CSS_PATH = Path(__file__).with_name("smtop.tcss")
    TITLE = "smtop"
    COMMANDS = App.COMMANDS | {SmtopCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    # Below 36 rows metrics and logs take turns (`l`); above, both are shown.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall"), (56, "-huge")]
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("r", "refresh_now", "Refresh", id="refresh"),
        Binding("l", "toggle_logs", "Logs", id="logs"),
        Binding("c", "show_trail", "CloudTrail", id="cloudtrail"),
        Binding("f", "follow_logs", "Follow", show=False, id="follow"),
        Binding("d", "side('side-detail')", "Endpoint", show=False, id="detail"),
        Binding("i", "side('side-insights')", "Insights", id="insights"),
        Binding("A", "side('side-alarms')", "Alarms", key_display="A", id="alarms"),
        Binding("n", "new_alarm", "New alarm", id="new_alarm"),
        Binding("a", "ack_alarm", "Ack", id="ack"),
        Binding("u", "unack_alarm", "Un-ack", show=False, id="unack"),
        Binding("escape", "back", "Back", show=False, id="back"),
        Binding("P", "switch_context", "Profile/region", key_display="P", id="switch"),
        Binding("L", "sign_in", "Sign in again", key_display="L", show=False, id="sign_in"),
        # Replay only (check_action hides them otherwise).
        Binding("space", "replay_pause", "Pause replay", id="replay_pause"),
        Binding("left_square_bracket", "replay_seek(-%g)" % SEEK_LARGE, "Back 5m", key_display="[", id="replay_back"),
        Binding("right_square_bracket", "replay_seek(%g)" % SEEK_LARGE, "Forward 5m", key_display="]", id="replay_forward"),
        Binding("left", "replay_seek(-%g)" % SEEK_SMALL, "Back 30s", key_display="←", show=False, priority=True, id="replay_step_back"),
        Binding("right", "replay_seek(%g)" % SEEK_SMALL, "Forward 30s", key_display="→", show=False, priority=True, id="replay_step"),
    ]

    def __init__(
        self,
        connect: FleetConnector,
        settings: Settings,
        *,
        clock: Clock | None = None,
        switch: SourceSwitcher | None = None,
        replay: ReplayControl | None = None,
        freeze_heap: bool = False,
    ) -> None:
        """``switch`` opens a source for another profile/region (key P); None: not offered.
        ``replay`` steers a --replay (its source is also what ``connect`` opens).
        ``freeze_heap``: after the first data, leave start-up's objects out of
        garbage collection (the command line does; a test process must not)."""
        super().__init__()
        self._connect = connect
        self._switcher = switch
        self.replay = replay
        self.settings = settings
        self.clock = clock or SystemClock()
        self.glyphs = glyph_mode(settings.glyphs)
        """How graphs draw here: braille, block or ascii (see smtop.ui.themes)."""
        register_themes(self)
        self.key_overrides, self._setup_problems = check_key_overrides(settings.keys, self.BINDINGS)
        """The config file's [keys] that were applied (binding id → key), for `?` help."""
        self._redirected_keys: weakref.WeakSet[events.Key] = weakref.WeakSet()
        self._freeze_pending = freeze_heap
        self.set_keymap(self.key_overrides)
        self._stack = AsyncExitStack()
        self._source: ConsoleSource | None = None
        self._follow_selection: Timer | None = None
        # Kept, not looked up: messages still arrive while the app shuts down,
        # after the screen stack is already empty.
        self._main_screen: Screen | None = None
        self._next_poll: Timer | None = None
        self.snapshot: FleetSnapshot | None = None
        self.trail: TrailSnapshot | None = None
        self.selected: str | None = None
        self.polls = 0
        self.loading_selected: str | None = None
        """The endpoint whose panel-only metrics are on their way (see _ask_selected)."""
        self._select_timer: Timer | None = None
        self.panels_mounted = False
        """The panels of the second stage are in (see mount_panels)."""
        self._panels_lock = asyncio.Lock()
        """Held while the panels are mounted; shutdown waits for it (see _shutdown)."""
        self._stopping = False
        self.last_input = self.clock.now()
        """When a key or a click last came (the log panel pauses Live Tail after live_tail_idle)."""

    def compose(self) -> ComposeResult:
        s = self.settings
        yield StatusBar(profile=s.profile_label, region=s.region or "default region", refresh=s.refresh, read_only=s.read_only)
        with Vertical(id="endpoints-box"):
            yield EndpointTable(id="endpoints")
            yield Static(id="empty-note")
            yield Input(placeholder="filter endpoints (substring or glob) — enter keeps, escape clears", id="filter")
        with Horizontal(id="lower"):
            yield MetricPanel(id="metrics")
            yield Static(id="side-pending", classes="pending")
        # Empty, titled boxes where the panels of mount_panels go: the first
        # frame already has the screen's final layout.
        yield Static(id="logs-pending", classes="pending")
        yield Static(id="trail-pending", classes="pending")
        yield Footer()

    def on_mount(self) -> None:
        self._main_screen = self.screen
        self._prepare_main()
        self._apply_preferences()
        self.start_replay_ticks()

    def on_ready(self) -> None:
        """The first frame is on screen: only now connect, whose imports (the AWS
        SDK, ~0.5 s, in a thread) would otherwise compete with that frame.  The
        panels the first frame went without are mounted once the first data is
        painted (see on_snapshot_ready), or PANELS_AT_LATEST from now if it is slow."""
        self._begin_poll()
        self.set_timer(PANELS_AT_LATEST, self.mount_panels)

    async def on_event(self, event: events.Event) -> None:
        """A key (or click) before the panels are mounted, even before the first
        frame, waits for them: awaited here, in the app's own message loop, it
        and every key behind it keep their order and find their widget."""
        if not self.panels_mounted and _asks_for_panels(event):
            await self.mount_panels()
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self.last_input = self.clock.now()  # the log panel's Live Tail runs only while the console is used
        await super().on_event(event)

    async def mount_panels(self) -> None:
        """The second stage of the start (and of a profile/region switch): the
        side panel, the logs and the CloudTrail feed take their placeholders'
        place.  Whoever asks first mounts them; the others wait for that."""
        async with self._panels_lock:
            if not self.panels_mounted and not self._stopping:
                await self._mount_panels()

    async def _shutdown(self) -> None:
        """Textual's test harness (App.run_test) shuts the app down from a task
        of its own, which may be while the panels are being mounted: their
        mount would then never finish, nor the handler awaiting it, nor the
        shutdown waiting for that handler.  The mount finishes first, and none
        starts after.  (A quit comes through the message loop, after any mount.)"""
        async with self._panels_lock:
            self._stopping = True
        await super()._shutdown()

    async def _mount_panels(self) -> None:
        from textual.widgets import TabbedContent, TabPane

        from smtop.ui.widgets.alarms_panel import AlarmsPanel
        from smtop.ui.widgets.endpoint_detail import EndpointDetail
        from smtop.ui.widgets.insights_panel import RANGES as INSIGHTS_RANGES, InsightsPanel
        from smtop.ui.widgets.log_panel import SINCE_PRESETS, LogPanel
        from smtop.ui.widgets.trail_feed import TrailFeed

        # The side panel: one tab per view of the selected endpoint.  On
        # narrow terminals it takes the metrics' place when asked for.
        side = TabbedContent(id="side", initial="side-detail")
        insights, logs, trail = InsightsPanel(id="insights"), LogPanel(id="logs"), TrailFeed(id="trail")
        for title, pane, panel in (
            ("Endpoint", "side-detail", EndpointDetail(id="detail")),
            ("Insights", "side-insights", insights),
            ("Alarms", "side-alarms", AlarmsPanel(id="alarms")),
        ):
            side.compose_add_child(TabPane(title, panel, id=pane))
        main = self.main
        with self.batch_update():
            await main.query_one("#lower").mount(side, before="#side-pending")
            await main.mount(logs, trail, before="#logs-pending")
            await main.query(".pending").remove()
        self.panels_mounted = True
        s = self.settings
        logs.since_index = _nearest(SINCE_PRESETS, s.log_since)
        insights.range_index = _nearest(INSIGHTS_RANGES, s.insights_range)
        self.prepare_replay_panels()
        self.call_after_refresh(self._fit_endpoints_box)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_endpoints_box)

    def _fit_endpoints_box(self) -> None:
        """Give the endpoints box and the metrics row what the other panels
        leave, so the screen itself never scrolls.  With the CSS's percentages
        alone, 120x36 overflowed by 3 rows with six endpoints, a long fleet
        pushed the footer off, and the side panel's taller row by 5 more.
        (Short terminals show one lower panel at a time: the CSS fits them.)"""
        main = self.main
        if not main.is_mounted or not self.panels_mounted:
            return
        box, lower = main.query_one("#endpoints-box"), main.query_one("#lower")
        if main.has_class("-short"):
            box.styles.max_height = lower.styles.max_height = None
            return

        def shown(widget: Widget) -> int:
            return widget.outer_size.height if widget.display else 0

        logs = main.query_one("#logs")
        logs_min = int(logs.styles.min_height.value) if logs.display and logs.styles.min_height is not None else 0
        height = main.size.height
        others = shown(main.query_one(StatusBar)) + shown(main.query_one(Footer)) + shown(main.query_one("#trail")) + logs_min
        lower_cap = max(LOWER_ROWS, height - others - BOX_MIN_ROWS)
        box_cap = max(BOX_MIN_ROWS, min(height - others - min(shown(lower), lower_cap), height // 2))
        for widget, cap in ((lower, lower_cap), (box, box_cap)):
            if widget.styles.max_height is None or widget.styles.max_height.value != cap:
                widget.styles.max_height = cap

    def _prepare_main(self) -> None:
        """What the freshly composed panels need (at start and after a profile/region switch)."""
        self.main.query_one("#endpoints-box").border_title = "ENDPOINTS"
        self.main.query_one("#metrics").border_title = "METRICS"
        self.main.query_one("#logs-pending").border_title = "LOGS"
        self.main.query_one("#trail-pending").border_title = "CLOUDTRAIL"
        self.main.query_one("#filter", Input).display = False
        self.main.query_one("#empty-note").display = False
        self.main.query_one(EndpointTable).focus()
        self.call_after_refresh(self._fit_endpoints_box)

    def _apply_preferences(self) -> None:
        """The config file's theme; every problem with it, told once.  (Its
        starting time ranges reach the panels in mount_panels.)"""
        s = self.settings
        problems = [*s.config_problems, *self._setup_problems, choose_theme(self, s.theme)]
        for problem in filter(None, problems):
            self.notify(problem, title="config", severity="warning", timeout=20, markup=False)

    @property
    def main(self) -> Screen:
        """The console's own screen.  App.query_one would search whatever is on
        top (help, a chart), so everything here looks in the main screen."""
        return self._main_screen or self.screen

    @property
    def source(self) -> ConsoleSource | None:
        """The connected data source (None until connected)."""
        return self._source

    async def on_unmount(self) -> None:
        if self._next_poll is not None:
            self._next_poll.stop()
        await self._stack.aclose()

    # -- polling -------------------------------------------------------------
    def _begin_poll(self) -> None:
        """The one way a refresh starts (first connect, the timer, `r`).

        The pending timer is stopped and the flag set before the worker runs, so
        a key press and the timer can never start two refreshes.
        """
        if self._next_poll is not None:
            self._next_poll.stop()
            self._next_poll = None
        bars = self.main.query(StatusBar)
        if not bars:
            # The timer fired while the app was shutting down (its widgets are
            # gone): there is nothing left to refresh.  Seen under CI load.
            return
        bars.first().polling = True
        self._poll()

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def _poll(self) -> None:
        source = self._source
        try:
            if source is None:
                source = self._source = await self._stack.enter_async_context(self._connect())
                self.main.query_one(StatusBar).where = (source.profile, source.region)
                self._fetch_identity(source)
            message: SnapshotReady | RefreshFailed = SnapshotReady(await source.refresh())
        except SmtopError as error:
            message = RefreshFailed(error)
        if source is None or source is self._source:  # not switched away meanwhile (smtop.ui.switching)
            self.post_message(message)

    @on(Worker.StateChanged)
    @_while_running
    def _worker_finished(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "poll" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.main.query_one(StatusBar).polling = False
        self.polls += 1
        if event.state == WorkerState.ERROR:
            # A bug, not an AWS failure: show it, keep the console alive, try again later.
            error = event.worker.error
            self.log.error("poll failed", error=repr(error))
            self.post_message(RefreshFailed(SmtopError(f"internal error: {type(error).__name__}: {error}")))
        if self.is_running and self.signed_out is None:  # signed out: nothing polls until L (or r)
            self._next_poll = self.set_timer(self.settings.refresh, self._begin_poll)

    def action_refresh_now(self) -> None:
        if self.main.query_one(StatusBar).polling:
            self.notify("A refresh is already running.", timeout=2)
            return
        self._begin_poll()

    # -- data arrives ----------------------------------------------------------
    @_while_running
    async def on_snapshot_ready(self, message: SnapshotReady) -> None:
        snapshot = message.snapshot
        if not self.panels_mounted:
            # The first data: the table is painted first, then the panels are
            # mounted and the rest of the snapshot shown on them.  (Mounted while
            # the AWS SDK was imported or the refresh ran, they delayed it by
            # 0.4-0.5 s: one thread, the GIL.)
            async with self._panels_lock:
                if self._stopping:
                    return
                if not self.panels_mounted:
                    table = self.main.query_one(EndpointTable)
                    table.show(snapshot)
                    await table.wait_for_refresh()
                    await self._mount_panels()
        self.snapshot = snapshot
        self.signed_out = None
        bar = self.main.query_one(StatusBar)
        bar.snapshot = snapshot
        bar.stale_reason = None
        bar.stale_since = None
        self.main.query_one("#endpoints-box").remove_class("-stale")
        self.main.query_one(EndpointTable).show(snapshot)
        # Both after the table is painted: their first polls open the alarm and
        # CloudTrail clients (reading models), which held the first data back.
        if self.alarm_polls == 0 and not self._alarms_running:
            self.call_after_refresh(self.request_alarm_poll)  # the first one needs the endpoint names; then its own schedule
        self._show_empty_note(snapshot)
        self._show_selected()
        self.call_after_refresh(self._trail().start)
        for screen in self._open_charts():
            screen.show(snapshot.metrics_for(screen.endpoint))
        if self._freeze_pending:
            self._freeze_pending = False
            self.call_after_refresh(freeze_startup_heap)

    @_while_running
    def on_refresh_failed(self, message: RefreshFailed) -> None:
        error = message.error
        can_sign_in = self._switcher is not None
        mfa = isinstance(error, MfaRequiredError) and can_sign_in
        if self.snapshot is None and isinstance(error, _FATAL_AT_START) and not mfa:
            # Printed by Rich after the app ends: a Text, so AWS text is not markup.
            self.exit(return_code=2, message=safe_text(f"smtop: {error}"))
            return
        bar = self.main.query_one(StatusBar)
        if bar.stale_reason is None:
            bar.stale_since = self.clock.now()
        if isinstance(error, CredentialsError) and can_sign_in:
            first = self.signed_out is None
            self.signed_out = error
            then = " — press L to sign in again" if error.renewable else ""
            bar.stale_reason = f"{error}{then}"
            if mfa and self.snapshot is None and first:
                # No role session yet (a console without a terminal: a tab of --serve).
                self.ask_mfa_code(SwitchTarget(self.settings.profile, self.settings.region), error)
            elif first:
                advice = " Press L to sign in again." if error.renewable else ""
                self.notify(printable(f"{error}{advice}"), title="signed out", severity="error", timeout=30, markup=False)
        else:
            bar.stale_reason = f"{error} — retrying in {self.settings.refresh:g}s"
        self.main.query_one("#endpoints-box").add_class("-stale")

    def _show_empty_note(self, snapshot: FleetSnapshot) -> None:
        note = self.main.query_one("#empty-note", Static)
        empty = not snapshot.endpoints
        note.display = empty
        if empty:
            s = self.settings
            where = f"region {s.region or 'from your AWS config'}, profile {s.profile_label}"
            scope = f" matching {s.endpoint_pattern!r}" if s.endpoint_pattern else ""
            # Two lines, each made safe on its own: safe_text shows a newline
            # inside AWS-supplied text as an escape (it was printing "\x0a" here).
            note.update(
                Text("\n").join(
                    [
                        safe_text(f"No SageMaker endpoints{scope} in {where}."),
                        Text("Check --region and --profile (or --endpoints), switch with P, or press r to refresh."),
                    ]
                )
            )

    # -- selection -----------------------------------------------------------
    @on(EndpointTable.Selected)
    @_while_running
    def _endpoint_selected(self, message: EndpointTable.Selected) -> None:
        changed = message.name != self.selected
        self.selected = message.name
        if changed:
            self._ask_selected()
        self._show_selected()
        if message.confirmed:
            self.main.query_one(MetricPanel).focus()
        # Every cursor move would restart the log tail; wait until the cursor rests.
        if self._follow_selection is not None:
            self._follow_selection.stop()
        self._follow_selection = self.set_timer(0.3, self._tail_selected)

    def _ask_selected(self) -> None:
        """A new selection: the refreshes asked the metric panel's own metrics
        (Overhead, Inv/instance) for the previous endpoint only.  Its rows show
        "…" until a small poll brings them, once the cursor rests (scrolling
        through the table must not cost a call a row), not at the next refresh."""
        self.loading_selected = self.selected
        if self._select_timer is not None:
            self._select_timer.stop()
        self._select_timer = self.set_timer(SELECTION_REST, self._fetch_selected)

    @work(exclusive=True, group="selected", exit_on_error=False)
    async def _fetch_selected(self) -> None:
        source, name = self._source, self.selected
        if source is None or name is None or not self.is_running:
            return
        try:
            message = SelectedReady(name, await source.select(name))
        except SmtopError as error:
            message = SelectedReady(name, None, error)
        if source is self._source:  # not switched away meanwhile
            self.post_message(message)

    @on(SelectedReady)
    @_while_running
    def _selected_ready(self, message: SelectedReady) -> None:
        if message.endpoint == self.loading_selected:
            self.loading_selected = None
        if message.error is not None:
            self.notify(
                printable(f"Metrics of {message.endpoint}: {message.error} — the next refresh asks again."),
                severity="warning",
                markup=False,
            )
        elif message.snapshot is not None:
            self.snapshot = message.snapshot  # the last refresh's, completed: the table needs no redraw
            for screen in self._open_charts():
                if screen.endpoint == message.endpoint:
                    screen.show(message.snapshot.metrics_for(message.endpoint))
        if message.endpoint == self.selected:
            self._show_selected()

    def _tail_selected(self) -> None:
        if not self.is_running:
            return
        snapshot = self.snapshot
        endpoint = snapshot.endpoint(self.selected) if snapshot else None
        self._logs().group = endpoint.log_group if endpoint else None

    def _show_selected(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        endpoint = snapshot.endpoint(self.selected)
        metrics = snapshot.metrics_for(self.selected) if self.selected else EndpointMetrics("")
        panel = self.main.query_one(MetricPanel)
        panel.border_title = (
            Text.assemble("METRICS ", safe_text(self.selected), f" ({_window_label(self.settings)})")
            if self.selected
            else "METRICS"
        )
        loading = self.selected is not None and self.loading_selected == self.selected
        panel.show(metrics, endpoint.has_gpu if endpoint else False, loading=loading)
        self._trail().endpoint = self.selected
        self._show_deployments()
        self._detail().show(endpoint)
        self._insights().show_endpoint(self.selected if endpoint else None, endpoint.log_group if endpoint else None)

    @on(MetricPanel.Opened)
    @_while_running
    def _metric_opened(self, message: MetricPanel.Opened) -> None:
        if self.snapshot is None or self.selected is None:
            return
        deployments = self.trail.deployments(self.selected) if self.trail else ()
        from smtop.ui.screens.metric_detail import MetricDetailScreen  # plotext: imported on first use

        self.push_screen(MetricDetailScreen(self.selected, message.metric, self.snapshot.metrics_for(self.selected), deployments))

    # -- CloudTrail ------------------------------------------------------------
    @_while_running
    def on_trail_feed_updated(self, message: TrailFeed.Updated) -> None:
        self.trail = message.snapshot
        self._show_deployments()

    def _show_deployments(self) -> None:
        """Mark the selected endpoint's deployments on its sparklines and open chart."""
        deployments = self.trail.deployments(self.selected) if self.trail and self.selected else ()
        self.main.query_one(MetricPanel).mark_deployments(tuple(e.time.timestamp() for e in deployments))
        for screen in self._open_charts():
            if screen.endpoint == self.selected:
                screen.mark(deployments)

    def _open_charts(self) -> list[MetricDetailScreen]:
        """The metric charts on the screen stack.  The chart module (and
        plotext, ~0.1 s of the start) is imported when the first chart opens,
        so before that there can be none."""
        if "smtop.ui.screens.metric_detail" not in sys.modules:
            return []
        from smtop.ui.screens.metric_detail import MetricDetailScreen

        return [screen for screen in self.screen_stack if isinstance(screen, MetricDetailScreen)]

    def action_show_trail(self) -> None:
        """Focus the CloudTrail feed; on short terminals it takes the logs' and
        metrics' place until `c` again."""
        feed = self._trail()
        if self.main.has_class("-short"):
            self.main.remove_class("-logs")
            self.main.toggle_class("-trail")
            self.call_after_refresh(self._fit_endpoints_box)
            if not self.main.has_class("-trail"):
                self.main.query_one(EndpointTable).focus()
                return
        feed.query_one("#trail-table").focus()

    # -- filter ----------------------------------------------------------------
    async def _on_key(self, event: events.Key) -> None:
        """Keys typed right after one that moves focus into a text box (`/`, `n`,
        `e`…) were already queued for the widget that had focus: they bubble up
        here unhandled and would run commands (`c`, `a`) under the box's name.
        They are the box's text.  (Textual calls this, then App's own _on_key.)"""
        focused = self.focused
        if event.is_printable and _is_text_box(focused) and event not in self._redirected_keys:
            redirected = events.Key(event.key, event.character)
            self._redirected_keys.add(redirected)  # never twice: a box that declines it lets it through
            focused.post_message(redirected)
            event.prevent_default()  # App's own handler (the bindings) runs after this one otherwise

    def action_filter(self) -> None:
        box = self.main.query_one("#filter", Input)
        box.display = True
        # At once, not on the next message as focus() does: keys typed right
        # after `/` may already be queued, and they are filter text, not commands.
        self.main.set_focus(box)

    @on(Input.Changed)
    def _no_control_characters(self, event: Input.Changed) -> None:
        """A pasted escape sequence must not reach the terminal through a text
        box (Input draws its value as it is): every one-line box in every screen
        drops C0/C1 control characters as they arrive."""
        cleaned = _CONTROL_CHARACTERS.sub("", event.value)
        if cleaned != event.value:
            event.input.value = cleaned

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.main.query_one(EndpointTable).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        table = self.main.query_one(EndpointTable)
        event.input.display = bool(event.value)
        table.focus()

    @_while_running
    def on_log_view_opened(self, message: LogView.Opened) -> None:
        from smtop.ui.screens.log_event import LogEventScreen

        self.push_screen(LogEventScreen(message.event))

    def action_toggle_logs(self) -> None:
        self.main.remove_class("-trail")
        self.main.toggle_class("-logs")
        self.call_after_refresh(self._fit_endpoints_box)
        if self.main.has_class("-logs"):
            self._logs().view.focus()

    def action_side(self, pane: str) -> None:
        """Show one tab of the side panel and focus it; on narrow terminals the
        side panel takes the metrics' place until escape."""
        side = self._side()
        side.active = pane
        self.main.add_class("-side")
        self.call_after_refresh(self._fit_endpoints_box)
        if self.main.has_class("-logs"):
            self.main.remove_class("-logs")
        self.call_after_refresh(self._focus_side, pane)

    def _focus_side(self, pane: str) -> None:
        tab = self.main.query_one(f"#{pane}")
        focusable = [w for w in tab.query("*") if w.focusable]
        (focusable[0] if focusable else self._side()).focus()

    def action_follow_logs(self) -> None:
        self._logs().view.action_toggle_follow()

    def action_back(self) -> None:
        if self._logs().cancel_pattern_edit():
            return
        if self.main.has_class("-side") and self.main.query_one("#side").has_focus_within:
            self.main.remove_class("-side")
            self.call_after_refresh(self._fit_endpoints_box)
            self.main.query_one(EndpointTable).focus()
            return
        if self._trail().has_focus_within:
            self.main.remove_class("-trail")
            self.main.query_one(EndpointTable).focus()
            return
        box = self.main.query_one("#filter", Input)
        if box.has_focus or box.display:
            box.value = ""
            box.display = False
            self.main.query_one(EndpointTable).focus()

    def action_help(self) -> None:
        from smtop.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    # -- the panels of mount_panels (imported with them) ---------------------------
    def _logs(self) -> LogPanel:
        from smtop.ui.widgets.log_panel import LogPanel

        return self.main.query_one("#logs", LogPanel)

    def _trail(self) -> TrailFeed:
        from smtop.ui.widgets.trail_feed import TrailFeed

        return self.main.query_one("#trail", TrailFeed)

    def _insights(self) -> InsightsPanel:
        from smtop.ui.widgets.insights_panel import InsightsPanel

        return self.main.query_one("#insights", InsightsPanel)

    def _detail(self) -> EndpointDetail:
        from smtop.ui.widgets.endpoint_detail import EndpointDetail

        return self.main.query_one("#detail", EndpointDetail)

    def _side(self) -> TabbedContent:
        from textual.widgets import TabbedContent

        return self.main.query_one("#side", TabbedContent)


def _asks_for_panels(event: events.Event) -> bool:
    """A key or a click (not a mere mouse move): it may need any panel."""
    return isinstance(event, (events.Key, events.MouseDown, events.MouseUp, events.Click))


def _is_text_box(widget: Widget | None) -> bool:
    """An Input or a TextArea (whose module, loaded by the Insights editor,
    is left out of the start: none can have the focus before it is loaded)."""
    if isinstance(widget, Input):
        return True
    if "textual.widgets._text_area" not in sys.modules:
        return False
    from textual.widgets import TextArea

    return isinstance(widget, TextArea)


def _nearest(presets: tuple[tuple[str, timedelta], ...], wanted: timedelta) -> int:
    """The preset closest to a configured duration (the panels cycle through fixed steps)."""
    return min(range(len(presets)), key=lambda i: abs(presets[i][1] - wanted))


LOWER_ROWS = 12
"""The metrics row's height on a -tall screen (smtop.tcss #lower)."""
BOX_MIN_ROWS = 6
"""The endpoints box's least height (smtop.tcss #endpoints-box)."""


def freeze_startup_heap() -> None:
    """Leave what start-up built (Textual, botocore's service models, the first
    snapshot) out of every later collection: it lives as long as the app, and
    the collector's full passes over it (60–150 ms on a busy machine) were the
    slowest key presses during log bursts (bench/logs.py part a)."""
    gc.collect()
    gc.freeze()


def _window_label(settings: Settings) -> str:
    hours = settings.window.total_seconds() / 3600
    return f"{hours:g}h" if hours >= 1 else f"{settings.window.total_seconds() / 60:g}m"
