"""The console: one screen, every panel driven by the selected endpoint.

A ``ConsoleScreen`` is handed its source (:class:`SourceHandle`: opened by
the screen, or already opened and proven by a profile/region switch, which
replaces the whole screen, so the old one's workers and timers end with it),
the settings and the clock.  Each panel is handed, in its constructor, the
part of the source it uses.  The state the panels share (the fleet snapshot,
the selected endpoint, the alarms, the CloudTrail events) lives here and is
pushed to them.

Every stream has one worker: the fleet refresh here, the alarms in the Alarms
tab, the CloudTrail feed in its strip, the log tail in the logs panel; each is
a :func:`smtop.models.source.polled` stream (or the tail's own), so polls never
overlap however slow AWS is.

The first frame has the header, the table and the metric panel.  The side
panel, the logs and the CloudTrail feed are imported and mounted once the
first data is painted (or ``PANELS_AT_LATEST`` after the first frame if it is
slow): their imports, compose and CSS would otherwise compete with the first
frame and the first refresh.  A key that needs one of them before then runs
once they are in, after the keys before it.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from smtop.clock import Clock
from smtop.config.settings import Settings
from smtop.errors import ConfigurationError, ConnectionFailedError, CredentialsError, MfaRequiredError, SmtopError
from smtop.format import printable, safe_text
from smtop.models import CallerIdentity, EndpointMetrics, FleetSnapshot
from smtop.models.alarms import Alarm, AlarmsSnapshot
from smtop.models.cloudtrail import TrailSnapshot
from smtop.models.replay import ReplayControl
from smtop.models.source import ConsoleSource, RefreshSignal, Update, polled
from smtop.ui.alarm_keys import AlarmChanged, AlarmKeys
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.metric_panel import MetricPanel
from smtop.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:  # the panels of the second stage, imported when they are mounted
    from textual.widgets import TabbedContent

    from smtop.ui.screens.metric_detail import MetricDetailScreen
    from smtop.ui.widgets.alarms_panel import AlarmsPanel
    from smtop.ui.widgets.endpoint_detail import EndpointDetail
    from smtop.ui.widgets.insights_panel import InsightsPanel
    from smtop.ui.widgets.log_panel import LogPanel
    from smtop.ui.widgets.log_view import LogView
    from smtop.ui.widgets.trail_feed import TrailFeed

PANELS_AT_LATEST = 1.5
"""Seconds after the first frame the panels are mounted even if no data came yet."""
SELECTION_REST = 0.3
"""Seconds the cursor rests on an endpoint before its panel-only metrics are
asked for and its log tail starts: scrolling through the table costs no call a row."""
SEEK_SMALL = 30.0
"""Seconds of recorded time ← → move in a replay."""
SEEK_LARGE = 300.0
"""Seconds of recorded time [ ] move in a replay."""
LOWER_ROWS = 12
"""The metrics row's height on a -tall screen (smtop.tcss #lower)."""
BOX_MIN_ROWS = 6
"""The endpoints box's least height (smtop.tcss #endpoints-box)."""

# Before any data has ever arrived these mean the console cannot work at all:
# better one clear line in the shell than an empty screen.  (Not a missing MFA
# code: the app asks for it in a dialog.)
_FATAL_AT_START = (ConfigurationError, CredentialsError, ConnectionFailedError)


@dataclass
class Activity:
    """When a key or a click last came (the log panel pauses Live Tail after
    ``live_tail_idle`` without one); the app writes it, the panels read it."""

    last_input: datetime | None = None


@dataclass
class ViewChoices:
    """What the user chose on the panels; it stays across a profile/region
    switch, as a k9s view stays across contexts (and signing in again changes nothing)."""

    since: int | None = None
    insights_range: int | None = None
    trail_all: bool = False
    sort: tuple[str, bool] = ("name", False)
    selected: str | None = None


class SourceHandle:
    """A console's source and what closes it: opened by the screen when it is
    first needed (``connect``), or already open (a switch proved it)."""

    def __init__(
        self,
        connect: Callable[[], AbstractAsyncContextManager[ConsoleSource]] | None = None,
        *,
        source: ConsoleSource | None = None,
        stack: AsyncExitStack | None = None,
    ) -> None:
        self._connect = connect
        self.source = source
        self._stack = stack or AsyncExitStack()

    async def open(self) -> ConsoleSource:
        if self.source is None:
            assert self._connect is not None
            self.source = await self._stack.enter_async_context(self._connect())
        return self.source

    async def close(self) -> None:
        await self._stack.aclose()


@dataclass
class FleetUpdated(Message):
    """The fleet stream's latest: a snapshot, or why the refresh failed."""

    update: Update[FleetSnapshot]


@dataclass
class SelectedReady(Message):
    """The selected endpoint's panel-only metrics arrived (``snapshot``) or failed (``error``)."""

    endpoint: str
    snapshot: FleetSnapshot | None
    error: SmtopError | None = None


@dataclass
class IdentityKnown(Message):
    identity: CallerIdentity


@dataclass
class SignedOut(Message):
    """The source's credentials stopped working; bubbles to the app, which signs in again."""

    error: CredentialsError
    at_start: bool


class ConsoleScreen(Screen):
    """The console's one screen.

    Args:
        handle: the source (see :class:`SourceHandle`).
        settings: what the command line and the config file decided.
        clock: the one clock (frozen in tests, the recording's in a replay).
        activity: when the console was last used (the app records it).
        replay: steers a ``--replay`` (pause, seek); None otherwise.
        first: an already fetched snapshot (a switch proved the source with it).
        identity: whose account (a switch asked STS already).
        view: the choices to keep from the screen this one replaces.
        can_sign_in: whether signing in again (L) can open the source anew.
    """

    BINDINGS = [
        Binding("q", "app.quit", "Quit", id="quit"),
        Binding("question_mark", "app.help", "Help", key_display="?", id="help"),
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
        Binding("P", "app.switch_context", "Profile/region", key_display="P", id="switch"),
        Binding("L", "app.sign_in", "Sign in again", key_display="L", show=False, id="sign_in"),
        # Replay only (check_action hides them otherwise).
        Binding("space", "replay_pause", "Pause replay", id="replay_pause"),
        Binding("left_square_bracket", "replay_seek(-%g)" % SEEK_LARGE, "Back 5m", key_display="[", id="replay_back"),
        Binding("right_square_bracket", "replay_seek(%g)" % SEEK_LARGE, "Forward 5m", key_display="]", id="replay_forward"),
        Binding("left", "replay_seek(-%g)" % SEEK_SMALL, "Back 30s", key_display="←", show=False, priority=True, id="replay_step_back"),
        Binding("right", "replay_seek(%g)" % SEEK_SMALL, "Forward 30s", key_display="→", show=False, priority=True, id="replay_step"),
    ]

    snapshot: var[FleetSnapshot | None] = var(None)
    """The last fleet snapshot (completed with the selection's panel-only metrics)."""
    selected: var[str | None] = var(None)
    """The endpoint every panel follows."""
    alarms: var[AlarmsSnapshot | None] = var(None)
    """The fleet's alarms, once read."""
    trail: var[TrailSnapshot | None] = var(None)
    """The CloudTrail feed's events, once read (deploy markers on the charts)."""
    signed_out: var[CredentialsError | None] = var(None)
    """Why the source's credentials stopped working (the header says what to do)."""

    def __init__(
        self,
        handle: SourceHandle,
        settings: Settings,
        clock: Clock,
        *,
        activity: Activity | None = None,
        replay: ReplayControl | None = None,
        first: FleetSnapshot | None = None,
        identity: CallerIdentity | None = None,
        view: ViewChoices | None = None,
        can_sign_in: bool = False,
    ) -> None:
        super().__init__()
        self.handle = handle
        self.settings = settings
        self.clock = clock
        self.activity = activity or Activity(clock.now())
        self.replay = replay
        self._first = first
        self._identity = identity
        self._view = view or ViewChoices(sort=("name", False))
        self.can_sign_in = can_sign_in
        self.source: ConsoleSource | None = handle.source
        self._source_open = asyncio.Event()
        self.refresh_signal = RefreshSignal()
        self.polls = 0
        """Fleet refreshes that ended (tests wait on it)."""
        self.alarm_polls = 0
        """Alarm reads that ended."""
        self.loading_selected: str | None = None
        """The endpoint whose panel-only metrics are on their way (see _ask_selected)."""
        self.panels_mounted = False
        """The panels of the second stage are in (see _mount_panels)."""
        self._after_panels: list[Callable[[], Any]] = []
        self._panels_lock = asyncio.Lock()
        self._waiting_snapshot: FleetSnapshot | None = None
        """The first snapshot, shown once the panels are in."""
        self._select_timer: Timer | None = None
        self._tail_timer: Timer | None = None

    # -- composing ---------------------------------------------------------------------
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
        # Empty, titled boxes where the panels of the second stage go: the first
        # frame already has the screen's final layout.
        yield Static(id="logs-pending", classes="pending")
        yield Static(id="trail-pending", classes="pending")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#endpoints-box").border_title = "ENDPOINTS"
        self.query_one("#metrics").border_title = "METRICS"
        self.query_one("#logs-pending").border_title = "LOGS"
        self.query_one("#trail-pending").border_title = "CLOUDTRAIL"
        self.query_one("#filter", Input).display = False
        self.query_one("#empty-note").display = False
        table = self.query_one(EndpointTable)
        table.sort_key, table.sort_reverse = self._view.sort
        table.select(self._view.selected)
        table.focus()
        bar = self.query_one(StatusBar)
        if self.source is not None:
            bar.where = (self.source.profile, self.source.region)
        bar.identity = self._identity
        if self.replay is not None:
            self._show_position()
            self.set_interval(1.0, self._show_position)
        self.call_after_refresh(self._fit_endpoints_box)
        # After the first frame: the connection's imports (the AWS SDK, ~0.5 s, in
        # a thread) would otherwise compete with it.
        self.call_after_refresh(self._follow_fleet)
        self.set_timer(PANELS_AT_LATEST, self._mount_panels)

    async def on_unmount(self) -> None:
        await self.handle.close()

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_endpoints_box)

    # -- the second stage --------------------------------------------------------------
    def when_panels(self, action: Callable[[], Any]) -> None:
        """Run ``action`` now if the panels are in, else once they are (in order)."""
        if self.panels_mounted:
            action()
        else:
            self._after_panels.append(action)
            self._mount_panels()

    @work(group="panels", exit_on_error=False)
    async def _mount_panels(self) -> None:
        """The side panel, the logs and the CloudTrail feed take their
        placeholders' place, once the source is open (they are handed it);
        then the first snapshot, if it came meanwhile, is shown on every panel."""
        async with self._panels_lock:
            if not self.panels_mounted:
                await self._source_open.wait()
                await self._mount_panels_now()
        waiting, self._waiting_snapshot = self._waiting_snapshot, None
        if waiting is not None:
            self._snapshot_ready(waiting)
        pending, self._after_panels = self._after_panels, []
        for action in pending:
            action()

    async def _mount_panels_now(self) -> None:
        from textual.widgets import TabbedContent, TabPane

        from smtop.ui.widgets.alarms_panel import AlarmsPanel
        from smtop.ui.widgets.endpoint_detail import EndpointDetail
        from smtop.ui.widgets.insights_panel import RANGES as INSIGHTS_RANGES, InsightsPanel
        from smtop.ui.widgets.log_panel import SINCE_PRESETS, LogPanel
        from smtop.ui.widgets.trail_feed import TrailFeed

        await self.query_one(EndpointTable).wait_for_refresh()  # the first data painted before the panels' imports
        source, s = self.source, self.settings
        view = self._view
        side = TabbedContent(id="side", initial="side-detail")
        insights = InsightsPanel(
            source, clock=self.clock, config_path=s.config_path,
            range_index=view.insights_range if view.insights_range is not None else _nearest(INSIGHTS_RANGES, s.insights_range),
            id="insights",
        )
        alarms = AlarmsPanel(source, clock=self.clock, every=_alarm_interval(s), endpoints=self._endpoint_names, id="alarms")
        for title, pane, panel in (
            ("Endpoint", "side-detail", EndpointDetail(id="detail")),
            ("Insights", "side-insights", insights),
            ("Alarms", "side-alarms", alarms),
        ):
            side.compose_add_child(TabPane(title, panel, id=pane))
        logs = LogPanel(
            source, clock=self.clock, activity=self.activity, idle=s.live_tail_idle, retry=min(10.0, s.refresh),
            since_index=view.since if view.since is not None else _nearest(SINCE_PRESETS, s.log_since), id="logs",
        )
        trail = TrailFeed(source, every=1.0 if self.replay is not None else None, show_all=view.trail_all, id="trail")
        with self.app.batch_update():
            await self.query_one("#lower").mount(side, before="#side-pending")
            await self.mount(logs, trail, before="#logs-pending")
            await self.query(".pending").remove()
        self.alarm_keys = AlarmKeys(self, source, clock=self.clock, read_only=s.read_only, presets=s.alarm_presets)
        self.panels_mounted = True
        self._show_selected()
        self._tail_selected()
        self.call_after_refresh(self._fit_endpoints_box)

    # -- the fleet stream --------------------------------------------------------------
    @work(exclusive=True, group="fleet", exit_on_error=False)
    async def _follow_fleet(self) -> None:
        try:
            source = await self.handle.open()
        except SmtopError as error:
            self.post_message(FleetUpdated(Update(error=error)))
            return
        self.source = source
        self._source_open.set()
        self.query_one(StatusBar).where = (source.profile, source.region)
        if self._identity is None:
            self._fetch_identity()
        if self._first is not None:
            self.post_message(FleetUpdated(Update(value=self._first)))
            await self.refresh_signal.wait(self.settings.refresh)

        async def refresh() -> FleetSnapshot:
            self.query_one(StatusBar).polling = True
            try:
                return await source.refresh()
            finally:
                self.query_one(StatusBar).polling = False

        def every(update: Update[FleetSnapshot]) -> float | None:
            # Signed out: nothing polls until L (a new screen) or r.
            return None if isinstance(update.error, CredentialsError) else self.settings.refresh

        async for update in polled(refresh, every=every, now=self.refresh_signal):
            self.post_message(FleetUpdated(update))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A bug, not an AWS failure: show it, keep the console alive, go on polling."""
        if event.state != WorkerState.ERROR or event.worker.group not in ("fleet", "panels"):
            return
        error = event.worker.error
        self.log.error(f"{event.worker.group} worker failed", error=repr(error))
        if event.worker.group == "fleet":
            self.post_message(FleetUpdated(Update(error=SmtopError(f"internal error: {type(error).__name__}: {error}"))))
            self.set_timer(self.settings.refresh, self._follow_fleet)

    def action_refresh_now(self) -> None:
        if self.query_one(StatusBar).polling:
            self.notify("A refresh is already running.", timeout=2)
            return
        self.refresh_signal.now()

    @on(FleetUpdated)
    def _fleet_updated(self, message: FleetUpdated) -> None:
        self.polls += 1
        update = message.update
        if update.error is not None:
            self._refresh_failed(update.error)
        elif update.value is not None and not self.panels_mounted:
            # The first data: the table is painted first, then the panels are
            # mounted and the snapshot shown on every one of them.  (Mounted while
            # the AWS SDK was imported or the refresh ran, they delayed it: one
            # thread, the GIL.)
            self._waiting_snapshot = update.value
            self.query_one(EndpointTable).show(update.value)
            self._mount_panels()
        elif update.value is not None:
            self._snapshot_ready(update.value)

    def _snapshot_ready(self, snapshot: FleetSnapshot) -> None:
        first = self.snapshot is None
        self.snapshot = snapshot
        self.signed_out = None
        bar = self.query_one(StatusBar)
        bar.snapshot = snapshot
        bar.stale_reason = None
        bar.stale_since = None
        self.query_one("#endpoints-box").remove_class("-stale")
        self.query_one(EndpointTable).show(snapshot)
        self._show_empty_note(snapshot)
        self._show_selected()
        for screen in self._open_charts():
            screen.show(snapshot.metrics_for(screen.endpoint))
        if first:
            self.app.post_message(FirstData())

    def _refresh_failed(self, error: SmtopError) -> None:
        mfa = isinstance(error, MfaRequiredError) and self.can_sign_in
        if self.snapshot is None and isinstance(error, _FATAL_AT_START) and not mfa:
            # Printed by Rich after the app ends: a Text, so AWS text is not markup.
            self.app.exit(return_code=2, message=safe_text(f"smtop: {error}"))
            return
        bar = self.query_one(StatusBar)
        if bar.stale_reason is None:
            bar.stale_since = self.clock.now()
        if isinstance(error, CredentialsError) and self.can_sign_in:
            first = self.signed_out is None
            self.signed_out = error
            bar.stale_reason = f"{error} — press L to sign in again" if error.renewable else str(error)
            if first:
                self.app.post_message(SignedOut(error, at_start=self.snapshot is None))
        else:
            bar.stale_reason = f"{error} — retrying in {self.settings.refresh:g}s"
        self.query_one("#endpoints-box").add_class("-stale")

    def _show_empty_note(self, snapshot: FleetSnapshot) -> None:
        note = self.query_one("#empty-note", Static)
        empty = not snapshot.endpoints
        note.display = empty
        if empty:
            s = self.settings
            where = f"region {s.region or 'from your AWS config'}, profile {s.profile_label}"
            scope = f" matching {s.endpoint_pattern!r}" if s.endpoint_pattern else ""
            # Two lines, each made safe on its own: safe_text shows a newline
            # inside AWS-supplied text as an escape.
            note.update(
                Text("\n").join(
                    [
                        safe_text(f"No SageMaker endpoints{scope} in {where}."),
                        Text("Check --region and --profile (or --endpoints), switch with P, or press r to refresh."),
                    ]
                )
            )

    @work(group="identity", exit_on_error=False)
    async def _fetch_identity(self) -> None:
        """Ask STS once per source; a failure leaves the account unshown (it is only a label)."""
        try:
            identity = await self.source.whoami()
        except SmtopError as error:
            self.log.warning("GetCallerIdentity failed", error=str(error))
            return
        self.post_message(IdentityKnown(identity))

    @on(IdentityKnown)
    def _identity_known(self, message: IdentityKnown) -> None:
        self.query_one(StatusBar).identity = message.identity

    # -- selection -------------------------------------------------------------------
    @on(EndpointTable.Selected)
    def _endpoint_selected(self, message: EndpointTable.Selected) -> None:
        changed = message.name != self.selected
        self.selected = message.name
        if changed:
            self._ask_selected()
        self._show_selected()
        if message.confirmed:
            self.query_one(MetricPanel).focus()
        # Every cursor move would restart the log tail; wait until the cursor rests.
        if self._tail_timer is not None:
            self._tail_timer.stop()
        self._tail_timer = self.set_timer(SELECTION_REST, self._tail_selected)

    def _ask_selected(self) -> None:
        """A new selection: the refreshes asked the metric panel's own metrics
        (Overhead, Inv/instance) for the previous endpoint only.  Its rows show
        "…" until a small poll brings them, once the cursor rests."""
        self.loading_selected = self.selected
        if self._select_timer is not None:
            self._select_timer.stop()
        self._select_timer = self.set_timer(SELECTION_REST, self._fetch_selected)

    @work(exclusive=True, group="selected", exit_on_error=False)
    async def _fetch_selected(self) -> None:
        source, name = self.source, self.selected
        if source is None or name is None:
            return
        try:
            message = SelectedReady(name, await source.select(name))
        except SmtopError as error:
            message = SelectedReady(name, None, error)
        self.post_message(message)

    @on(SelectedReady)
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
        if not self.panels_mounted:
            return
        snapshot = self.snapshot
        endpoint = snapshot.endpoint(self.selected) if snapshot else None
        self.logs.group = endpoint.log_group if endpoint else None

    def _show_selected(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        endpoint = snapshot.endpoint(self.selected)
        metrics = snapshot.metrics_for(self.selected) if self.selected else EndpointMetrics("")
        panel = self.query_one(MetricPanel)
        panel.border_title = (
            Text.assemble("METRICS ", safe_text(self.selected), f" ({_window_label(self.settings)})")
            if self.selected
            else "METRICS"
        )
        loading = self.selected is not None and self.loading_selected == self.selected
        panel.show(metrics, endpoint.has_gpu if endpoint else False, loading=loading)
        if not self.panels_mounted:
            return
        self.trail_feed.endpoint = self.selected
        self._show_deployments()
        self.detail.show(endpoint)
        self.insights.show_endpoint(self.selected if endpoint else None, endpoint.log_group if endpoint else None)

    def _endpoint_names(self) -> list[str]:
        return [e.name for e in self.snapshot.endpoints] if self.snapshot else []

    # -- what the panels tell ----------------------------------------------------------
    def on_trail_feed_updated(self, message: TrailFeed.Updated) -> None:
        self.trail = message.snapshot
        self._show_deployments()

    def on_alarms_panel_updated(self, message: AlarmsPanel.Updated) -> None:
        self.alarm_polls += 1
        snapshot = message.snapshot
        if snapshot is not None:
            self.alarms = snapshot
            self.query_one(StatusBar).firing = len(snapshot.firing)
            self.query_one(EndpointTable).set_firing(snapshot.firing_endpoints)

    @on(AlarmChanged)
    def _alarm_changed(self, message: AlarmChanged) -> None:
        self.notify(message.text, severity=message.severity, timeout=8 if message.severity == "error" else 5)
        if self.panels_mounted:
            self.alarms_panel.refresh_now()

    def on_log_view_opened(self, message: LogView.Opened) -> None:
        from smtop.ui.screens.log_event import LogEventScreen

        self.app.push_screen(LogEventScreen(message.event))

    def on_alarm_list_opened(self, message: Any) -> None:
        from smtop.ui.screens.alarm_history import AlarmHistoryScreen

        self.app.push_screen(AlarmHistoryScreen(message.alarm, self.source.alarm_history))

    @on(MetricPanel.Opened)
    def _metric_opened(self, message: MetricPanel.Opened) -> None:
        if self.snapshot is None or self.selected is None:
            return
        deployments = self.trail.deployments(self.selected) if self.trail else ()
        from smtop.ui.screens.metric_detail import MetricDetailScreen  # plotext: imported on first use

        self.app.push_screen(
            MetricDetailScreen(self.selected, message.metric, self.snapshot.metrics_for(self.selected), deployments)
        )

    def _show_deployments(self) -> None:
        """Mark the selected endpoint's deployments on its sparklines and open chart."""
        deployments = self.trail.deployments(self.selected) if self.trail and self.selected else ()
        self.query_one(MetricPanel).mark_deployments(tuple(e.time.timestamp() for e in deployments))
        for screen in self._open_charts():
            if screen.endpoint == self.selected:
                screen.mark(deployments)

    def _open_charts(self) -> list[MetricDetailScreen]:
        """The metric charts on the screen stack (none before the chart module,
        and plotext, is first imported)."""
        if "smtop.ui.screens.metric_detail" not in sys.modules or not self.is_attached:
            return []
        from smtop.ui.screens.metric_detail import MetricDetailScreen

        return [screen for screen in self.app.screen_stack if isinstance(screen, MetricDetailScreen)]

    # -- keys ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys exist only in a replay; ← → leave a text box its cursor."""
        if action in ("replay_pause", "replay_seek"):
            if self.replay is None:
                return False
            if parameters and abs(float(parameters[0])) == SEEK_SMALL and isinstance(self.focused, Input):
                return False
        if action == "app.switch_context" and self.replay is not None:
            return False  # a replay plays one recording: the key and its footer slot go to the replay's
        return True

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        # At once, not on the next message as focus() does: keys typed right
        # after `/` may already be queued, and they are filter text, not commands.
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(EndpointTable).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.input.display = bool(event.value)
        self.query_one(EndpointTable).focus()

    def action_toggle_logs(self) -> None:
        def toggle() -> None:
            self.remove_class("-trail")
            self.toggle_class("-logs")
            self.call_after_refresh(self._fit_endpoints_box)
            if self.has_class("-logs"):
                self.logs.view.focus()

        self.when_panels(toggle)

    def action_show_trail(self) -> None:
        """Focus the CloudTrail feed; on short terminals it takes the logs' and
        metrics' place until `c` again."""

        def show() -> None:
            if self.has_class("-short"):
                self.remove_class("-logs")
                self.toggle_class("-trail")
                self.call_after_refresh(self._fit_endpoints_box)
                if not self.has_class("-trail"):
                    self.query_one(EndpointTable).focus()
                    return
            self.trail_feed.query_one("#trail-table").focus()

        self.when_panels(show)

    def action_side(self, pane: str) -> None:
        """Show one tab of the side panel and focus it; on narrow terminals the
        side panel takes the metrics' place until escape."""

        def show() -> None:
            self.side.active = pane
            self.add_class("-side")
            self.call_after_refresh(self._fit_endpoints_box)
            self.remove_class("-logs")
            self.call_after_refresh(self._focus_side, pane)

        self.when_panels(show)

    def _focus_side(self, pane: str) -> None:
        tab = self.query_one(f"#{pane}")
        focusable = [w for w in tab.query("*") if w.focusable]
        (focusable[0] if focusable else self.side).focus()

    def action_follow_logs(self) -> None:
        self.when_panels(lambda: self.logs.view.action_toggle_follow())

    def action_new_alarm(self) -> None:
        self.when_panels(self._new_alarm)

    def _new_alarm(self) -> None:
        if self.alarm_keys.refused("creating an alarm (PutMetricAlarm)"):
            return
        endpoint = self.snapshot.endpoint(self.selected) if self.snapshot else None
        if endpoint is None:
            self.notify("Select an endpoint first: the new alarm watches it.", severity="warning")
            return
        # The metric being looked at when the metric panel has the focus, else the seed's ModelLatency.
        panel = self.query_one(MetricPanel)
        self.alarm_keys.new_alarm(endpoint, panel.selected_metric if panel.has_focus else None)

    def action_ack_alarm(self) -> None:
        self.when_panels(self._ack_alarm)

    def _ack_alarm(self) -> None:
        if self.alarm_keys.refused("acknowledging (PutAlarmMuteRule)", unavailable=self._ack_unavailable):
            return
        alarm = self._alarm_in_focus() or self._endpoint_alarm(lambda a: a.firing)
        if alarm is None:
            where = f"on {self.selected}" if self.selected else "selected"
            self.notify(f"No firing alarm {where}: open the Alarms tab (A) and pick one to acknowledge.", severity="warning")
            return
        self.alarm_keys.acknowledge(alarm)

    def action_unack_alarm(self) -> None:
        self.when_panels(self._unack_alarm)

    def _unack_alarm(self) -> None:
        if self.alarm_keys.refused("un-acknowledging (DeleteAlarmMuteRule)", unavailable=self._ack_unavailable):
            return
        alarm = self._alarm_in_focus() or self._endpoint_alarm(lambda a: a.ack is not None)
        if alarm is None:
            self.notify("No acknowledged alarm selected: pick one in the Alarms tab (A).", severity="warning")
            return
        self.alarm_keys.unacknowledge(alarm)

    @property
    def _ack_unavailable(self) -> str | None:
        """Why acknowledging cannot work here (no alarm mute rules in this region)."""
        return self.alarms.ack_unavailable if self.alarms is not None else None

    def _alarm_in_focus(self) -> Alarm | None:
        """The highlighted alarm when the Alarms tab has the focus."""
        panel = self.alarms_panel
        return panel.selected_alarm if panel.has_focus_within else None

    def _endpoint_alarm(self, wanted: Callable[[Alarm], bool]) -> Alarm | None:
        """The selected endpoint's first alarm that is ``wanted``."""
        if self.alarms is None or self.selected is None:
            return None
        return next((a for a in self.alarms.for_endpoint(self.selected) if wanted(a)), None)

    def action_back(self) -> None:
        if self.panels_mounted:
            if self.logs.cancel_pattern_edit():
                return
            if self.has_class("-side") and self.side.has_focus_within:
                self.remove_class("-side")
                self.call_after_refresh(self._fit_endpoints_box)
                self.query_one(EndpointTable).focus()
                return
            if self.trail_feed.has_focus_within:
                self.remove_class("-trail")
                self.query_one(EndpointTable).focus()
                return
        box = self.query_one("#filter", Input)
        if box.has_focus or box.display:
            box.value = ""
            box.display = False
            self.query_one(EndpointTable).focus()

    # -- a replay ---------------------------------------------------------------------
    def _show_position(self) -> None:
        if self.is_attached:
            self.query_one(StatusBar).replay = self.replay.position()

    def action_replay_pause(self) -> None:
        if self.replay is None:  # reached from the command palette outside a replay
            return
        self.replay.toggle_pause()
        self._show_position()

    def action_replay_seek(self, seconds: float) -> None:
        if self.replay is None:
            return
        self.replay.seek(float(seconds))
        self._show_position()
        # Every panel at the new time at once, not at its next poll.
        self.refresh_signal.now()
        if self.panels_mounted:
            self.alarms_panel.refresh_now()
            self.trail_feed.refresh_now()
            self.logs.restart()

    # -- a switch keeps the view ---------------------------------------------------------
    def view_choices(self) -> ViewChoices:
        table = self.query_one(EndpointTable)
        choices = ViewChoices(sort=(table.sort_key, table.sort_reverse), selected=self.selected)
        if self.panels_mounted:
            choices.since = self.logs.since_index
            choices.insights_range = self.insights.range_index
            choices.trail_all = self.trail_feed.show_all
        return choices

    # -- the panels of the second stage (imported with them) ------------------------------
    @property
    def logs(self) -> LogPanel:
        return self.query_one("#logs")  # type: ignore[return-value]

    @property
    def trail_feed(self) -> TrailFeed:
        return self.query_one("#trail")  # type: ignore[return-value]

    @property
    def insights(self) -> InsightsPanel:
        return self.query_one("#insights")  # type: ignore[return-value]

    @property
    def alarms_panel(self) -> AlarmsPanel:
        return self.query_one("#alarms")  # type: ignore[return-value]

    @property
    def detail(self) -> EndpointDetail:
        return self.query_one("#detail")  # type: ignore[return-value]

    @property
    def side(self) -> TabbedContent:
        return self.query_one("#side")  # type: ignore[return-value]

    # -- layout ------------------------------------------------------------------------
    def _fit_endpoints_box(self) -> None:
        """Give the endpoints box and the metrics row what the other panels
        leave, so the screen itself never scrolls: with the CSS's percentages
        alone a long fleet would push the footer off, and the side panel's
        taller row more.  (Short terminals show one lower panel at a time: the
        CSS fits them.)"""
        if not self.is_mounted or not self.panels_mounted:
            return
        box, lower = self.query_one("#endpoints-box"), self.query_one("#lower")
        if self.has_class("-short"):
            box.styles.max_height = lower.styles.max_height = None
            return

        def shown(widget: Widget) -> int:
            return widget.outer_size.height if widget.display else 0

        logs = self.logs
        logs_min = int(logs.styles.min_height.value) if logs.display and logs.styles.min_height is not None else 0
        height = self.size.height
        others = shown(self.query_one(StatusBar)) + shown(self.query_one(Footer)) + shown(self.trail_feed) + logs_min
        lower_cap = max(LOWER_ROWS, height - others - BOX_MIN_ROWS)
        box_cap = max(BOX_MIN_ROWS, min(height - others - min(shown(lower), lower_cap), height // 2))
        for widget, cap in ((lower, lower_cap), (box, box_cap)):
            if widget.styles.max_height is None or widget.styles.max_height.value != cap:
                widget.styles.max_height = cap


@dataclass
class FirstData(Message):
    """The console painted its first data (the app freezes start-up's heap then)."""


def _alarm_interval(settings: Settings) -> float:
    """Alarms are read at the metric refresh rate, but at least every 30 s."""
    return min(settings.refresh, 30.0)


def is_text_box(widget: Widget | None) -> bool:
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


def _window_label(settings: Settings) -> str:
    hours = settings.window.total_seconds() / 3600
    return f"{hours:g}h" if hours >= 1 else f"{settings.window.total_seconds() / 60:g}m"
