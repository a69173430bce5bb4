"""The Alarms tab: every alarm that concerns the fleet, firing first.

One row per alarm (state, name, since when, acknowledgement or mute; a
composite alarm marked ◆), and under the table the highlighted alarm in
full: its reason, metric and threshold — or, for a composite, its rule and
which of the alarms it names are in ALARM —, whether its actions are
enabled or suppressed, and who acknowledged it, until when and why.
Everything here came from AWS and is rendered literally.
"""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from dataclasses import dataclass
from typing import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from smtop.models.alarm_draft import COMPARISONS, display_unit, from_metric_unit
from smtop.models.catalog import METRICS
from smtop.format import clock_time, printable
from smtop.clock import Clock
from smtop.errors import SmtopError
from smtop.models.alarms import Alarm, AlarmsSnapshot, CompositeAlarm, MetricAlarm
from smtop.models.names import principal_name
from smtop.models.source import AlarmSource, RefreshSignal, polled

STATE_STYLE = {"ALARM": "bold red", "INSUFFICIENT_DATA": "yellow", "OK": "green"}
STATE_LABEL = {"ALARM": "● ALARM", "INSUFFICIENT_DATA": "◌ NODATA", "OK": "○ OK"}


COMPOSITE_MARK = "◆ "
"""Before a composite alarm's name."""


def mute_text(alarm: Alarm) -> Text:
    """"acked by alice, muted until 14:26Z", "muted until … by rule …", or nothing."""
    ack = alarm.ack
    if ack is not None:
        return Text.assemble(("acked by ", "cyan"), (printable(principal_name(ack.by)), "bold cyan"), (f", muted until {clock_time(ack.until)}", "cyan"))
    rule = alarm.muted_by
    if rule is None:
        return Text("")
    state = "muted" if rule.status == "ACTIVE" else "mute scheduled"
    when = f" until {clock_time(rule.until)}" if rule.until else ""
    return Text(f"{state}{when} by rule {printable(rule.name)}", style="cyan")


def name_cell(alarm: Alarm) -> Text:
    """The name, after ✓ when acknowledged or ⊘ when muted by another rule, and ◆ for a composite."""
    glyph = "✓ " if alarm.ack is not None else "⊘ " if alarm.muted_by is not None and alarm.muted_by.status == "ACTIVE" else ""
    kind = COMPOSITE_MARK if isinstance(alarm, CompositeAlarm) else ""
    return Text.assemble(
        (glyph, "bold cyan"), (kind, "bold magenta"), (printable(alarm.name), "bold red" if alarm.firing else ""),
        no_wrap=True, overflow="ellipsis",
    )


def since_text(moment: datetime | None, now: datetime | None) -> str:
    """How long the alarm has been in its state, the way on-call reads it."""
    if moment is None:
        return "—"
    if now is None:
        return clock_time(moment)
    minutes = max(0, int((now - moment).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h{minutes % 60:02d}"
    return f"{minutes // 1440}d"


def threshold_text(alarm: MetricAlarm) -> str:
    """The threshold in the unit the console shows the metric in (µs → ms)."""
    if alarm.threshold is None:
        return "?"
    if alarm.metric in METRICS and alarm.namespace == METRICS[alarm.metric].namespace:
        return f"{from_metric_unit(alarm.metric, alarm.threshold):g} {display_unit(alarm.metric)}"
    return f"{alarm.threshold:g}"


def detail_text(alarm: Alarm) -> Text:
    """The highlighted alarm in full; who acknowledged it comes right after its
    state, because the tab is short and that is what a teammate looks for."""
    text = Text()
    text.append(printable(alarm.name), style="bold")
    text.append(f"  {alarm.state}", style=STATE_STYLE.get(alarm.state, ""))
    text.append(f" since {clock_time(alarm.state_since)}\n")
    mute = mute_text(alarm)
    if mute.plain:
        text.append(mute)
        if alarm.ack is not None:
            text.append(f" (at {clock_time(alarm.ack.at)} by {printable(alarm.ack.by)})", style="dim")
            if alarm.ack.note:
                text.append(" — ")
                text.append(printable(alarm.ack.note), style="italic")
        text.append("\n")
    if isinstance(alarm, CompositeAlarm):
        _composite_lines(text, alarm)
    elif isinstance(alarm, MetricAlarm):
        if alarm.endpoint:
            text.append("endpoint ", style="dim")
            text.append(printable(alarm.endpoint) + "  ")
        text.append("metric ", style="dim")
        text.append(printable(f"{alarm.metric} {alarm.statistic} {COMPARISONS.get(alarm.comparison, alarm.comparison)} {threshold_text(alarm)}"))
        text.append(f" ({alarm.datapoints_to_alarm or alarm.evaluation_periods} of {alarm.evaluation_periods} × {alarm.period}s)\n")
    text.append("actions ", style="dim")
    if not alarm.actions_enabled:
        text.append("DISABLED\n", style="bold yellow")
    elif isinstance(alarm, CompositeAlarm) and alarm.actions_suppressed_by:
        text.append(f"SUPPRESSED ({printable(alarm.actions_suppressed_by)}) ", style="bold yellow")
        text.append(printable(alarm.actions_suppressed_reason) + "\n", style="yellow")
    else:
        text.append(f"enabled ({len(alarm.alarm_actions)} on ALARM)\n")
    text.append(printable(alarm.reason), style="dim")
    return text


def _composite_lines(text: Text, alarm: CompositeAlarm) -> None:
    """A composite's children with their states (what on-call acts on), its rule,
    its endpoints and its actions suppressor."""
    if alarm.children:
        text.append(f"children ({len(alarm.firing_children)} of {len(alarm.children)} in ALARM) ", style="dim")
        for child in alarm.children:
            state = child.state or "?"
            text.append(STATE_LABEL.get(state, "? ")[:1], style=STATE_STYLE.get(state, "dim"))
            text.append(" " + printable(child.name) + "  ", style="bold red" if state == "ALARM" else "")
        text.append("\n")
    text.append("rule ", style="dim")
    text.append(printable(alarm.rule) + "\n")
    if alarm.endpoints:
        text.append("endpoints ", style="dim")
        text.append(printable(", ".join(alarm.endpoints)) + "\n")
    if alarm.actions_suppressor:
        text.append("suppressed while ", style="dim")
        text.append(printable(alarm.actions_suppressor.rsplit(":alarm:", 1)[-1]))
        text.append(f" is in ALARM (waits {alarm.suppressor_wait}s for it, {alarm.suppressor_extension}s after)\n", style="dim")


class AlarmList(DataTable):
    """The table of alarms (enter opens the highlighted alarm's history)."""

    class Opened(Message):
        """Enter on an alarm: show its history."""

        def __init__(self, alarm: str) -> None:
            super().__init__()
            self.alarm = alarm

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=1, **kwargs)

    def on_mount(self) -> None:
        # Three columns: the side panel is ~50 wide; the detail below has the rest.
        self.add_column("state", key="state", width=8)
        self.add_column("since", key="since", width=5)
        self.add_column("alarm", key="alarm")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Opened(str(event.row_key.value)))


class AlarmsPanel(Vertical):
    """Alarms of the fleet with their mutes, read on their own schedule.

    Apart from the metrics: a failing DescribeAlarms (denied, throttled) shows
    here and never stops the endpoint table, and a slow one never delays it.
    Each read travels in :class:`AlarmsPanel.Updated`, which bubbles on to the
    console (the header's firing count, the table's marks, the alarm keys).

    Args:
        source: where alarms are read.
        clock: the console's clock.
        every: seconds between reads.
        endpoints: the fleet's endpoint names at the time of a read.
    """

    @dataclass
    class Updated(Message):
        """A read ended: its alarms, or (``snapshot`` None) why it failed."""

        snapshot: AlarmsSnapshot | None
        error: SmtopError | None = None

    def __init__(
        self,
        source: AlarmSource,
        *,
        clock: Clock,
        every: float,
        endpoints: Callable[[], list[str]],
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self._source = source
        self._clock = clock
        self._every = every
        self._endpoints = endpoints
        self._refresh = RefreshSignal()
        self.snapshot: AlarmsSnapshot | None = None
        self._order: list[str] = []
        self._rows: list[tuple] | None = None
        """The table's cells as last drawn (see show)."""
        self._detail: Text | str | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading alarms…", id="alarms-status")
        yield AlarmList(id="alarms-table")
        yield Static(id="alarms-detail")

    def on_mount(self) -> None:
        self._follow()

    @work(exclusive=True, group="alarms", exit_on_error=False)
    async def _follow(self) -> None:
        source, endpoints = self._source, self._endpoints
        async for update in polled(lambda: source.alarms(endpoints()), every=self._every, now=self._refresh):
            self.post_message(self.Updated(update.value, update.error))

    def refresh_now(self) -> None:
        """Read again at once (an alarm just changed, a replay seeked)."""
        self._refresh.now()

    @on(Updated)
    def _updated(self, message: Updated) -> None:
        if message.snapshot is not None:
            self.show(message.snapshot)
        elif message.error is not None:
            self.show_error(f"Alarms are not up to date: {message.error} — retrying in {self._every:g}s")

    @property
    def table(self) -> AlarmList:
        return self.query_one(AlarmList)

    def show(self, snapshot: AlarmsSnapshot) -> None:
        """Redraw from a new snapshot, keeping the highlighted alarm."""
        self.snapshot = snapshot
        table = self.table
        # Keep the user's place while they work in the tab; otherwise firing (first) leads.
        keep = self.selected_alarm.name if self.selected_alarm and self.has_focus_within else None
        now = snapshot.taken_at
        rows = [
            (
                Text(STATE_LABEL.get(alarm.state, printable(alarm.state)), style=STATE_STYLE.get(alarm.state, "")),
                since_text(alarm.state_since, now),
                name_cell(alarm),
                alarm.name,
            )
            for alarm in snapshot.alarms
        ]
        if rows != self._rows:
            # Only when something shows differently: a rebuilt table is repainted
            # (and the screen laid out again) at every alarm poll otherwise.
            self._rows = rows
            table.clear()
            for *cells, name in rows:
                table.add_row(*cells, key=name)
            self._order = [a.name for a in snapshot.alarms]
            table.move_cursor(row=self._order.index(keep) if keep in self._order else 0, animate=False)
        firing = len(snapshot.firing)
        status = Text(f"{len(snapshot.alarms)} alarms", style="bold")
        if firing:
            status.append(f" · {firing} firing", style="bold red")
        status.append(f" · {clock_time(snapshot.taken_at)}", style="dim")
        if not snapshot.alarms:
            status.append("\nNo CloudWatch alarm watches these endpoints yet: n creates one.")
        for notice in (snapshot.mute_notice, snapshot.composite_notice):
            if notice:
                status.append("\n")
                status.append(printable(notice), style="yellow")
        shown = self.query_one("#alarms-status", Static)
        # Each poll changes the time only: lines of the same lengths take the
        # same room, so no layout pass over the whole screen every 5 s.
        shown.update(status, layout=_shape(shown.content) != _shape(status))
        self.remove_class("-failed")
        self._show_detail()

    def show_error(self, message: str) -> None:
        """Alarms could not be read: say why, keep the last alarms on screen."""
        self.add_class("-failed")
        self.query_one("#alarms-status", Static).update(Text(printable(message), style="bold yellow"))

    @property
    def selected_alarm(self) -> Alarm | None:
        snapshot = self.snapshot
        row = self.table.cursor_row
        if snapshot is None or not self._order or not 0 <= row < len(self._order):
            return None
        return snapshot.get(self._order[row])

    def select(self, name: str) -> None:
        """Move the cursor to the alarm called ``name``."""
        if name in self._order:
            self.table.move_cursor(row=self._order.index(name), animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        alarm = self.selected_alarm
        detail = detail_text(alarm) if alarm else ""
        if detail != self._detail:
            self._detail = detail
            self.query_one("#alarms-detail", Static).update(detail)


def _shape(content: object) -> list[int] | None:
    """The cell length of each line of a Text, which decides the room it takes."""
    return [cell_len(line) for line in content.plain.split("\n")] if isinstance(content, Text) else None
