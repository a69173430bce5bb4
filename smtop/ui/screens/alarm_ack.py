"""`a`: acknowledge an alarm — mute its actions for a window, with an optional note.

The screen only collects the window and the note and says exactly what will
happen; the app sends the one-time mute rule (PutAlarmMuteRule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from smtop.format import clock_time, printable
from smtop.models.alarms import MetricAlarm

WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("15 minutes", timedelta(minutes=15)),
    ("30 minutes", timedelta(minutes=30)),
    ("1 hour", timedelta(hours=1)),
    ("2 hours", timedelta(hours=2)),
    ("4 hours", timedelta(hours=4)),
    ("8 hours", timedelta(hours=8)),
    ("24 hours", timedelta(hours=24)),
)
DEFAULT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class AckRequest:
    """What the user confirmed."""

    alarm: MetricAlarm
    window: timedelta
    note: str


class AlarmAckScreen(ModalScreen[AckRequest | None]):
    """Choose how long to mute, add a note, confirm with ctrl+s (or enter in the note)."""

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Acknowledge", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, alarm: MetricAlarm, now: datetime) -> None:
        super().__init__()
        self.alarm = alarm
        self.now = now

    def compose(self) -> ComposeResult:
        alarm = self.alarm
        with Vertical(id="alarm-ack"):
            yield Static(Text.assemble(("Acknowledge ", "bold"), (printable(alarm.name), "bold red" if alarm.firing else "bold")))
            yield Static(Text(printable(alarm.reason), style="dim"), id="ack-reason")
            yield Static("Mute its actions for", classes="label")
            yield Select([(label, window) for label, window in WINDOWS], value=DEFAULT_WINDOW, allow_blank=False, id="ack-window")
            yield Static("Note for teammates (optional)", classes="label")
            yield Input(placeholder="e.g. rolling back the canary", max_length=200, id="ack-note")
            yield Static(id="ack-summary")
            yield Static(Text("ctrl+s or enter acknowledge · escape cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#ack-note", Input).focus()
        self._summarize()

    @property
    def window(self) -> timedelta:
        value = self.query_one("#ack-window", Select).value
        return value if isinstance(value, timedelta) else DEFAULT_WINDOW

    def on_select_changed(self, event: Select.Changed) -> None:
        self._summarize()

    def _summarize(self) -> None:
        until = self.now + self.window
        self.query_one("#ack-summary", Static).update(
            Text(
                f"A one-time alarm mute rule (PutAlarmMuteRule) mutes the alarm's actions until about "
                f"{clock_time(until)}; the alarm keeps evaluating. Your name, the time and the note go "
                "into the rule's description and the alarm's tags. u removes it."
            )
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        note = self.query_one("#ack-note", Input).value.strip()
        self.dismiss(AckRequest(self.alarm, self.window, note))

    def action_cancel(self) -> None:
        self.dismiss(None)
