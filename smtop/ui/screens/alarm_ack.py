"""`a`: acknowledge an alarm — mute its actions for a window, with an optional note.

The screen only collects the window and the note and says exactly what will
happen; the app sends the one-time mute rule (PutAlarmMuteRule).  What it
says is what CloudWatch's documentation says a mute rule does:

- "Muting an alarm will mute actions associated with all alarm states,
  including OK, ALARM, and INSUFFICIENT_DATA" (CloudWatch User Guide, "How
  alarm mute rules work"): the recovery notification is muted too;
- an alarm still in ALARM when the window ends runs its actions then: "Alarm
  action is executed because the mute window has ended and the alarm remains
  in the same state (ALARM) in which it was originally muted" (same page);
- "When you delete a mute rule, any alarms that are currently being muted by
  that rule are immediately unmuted. If those alarms are in an ALARM state,
  their configured actions will trigger" (API reference, DeleteAlarmMuteRule):
  so ``u`` on an alarm in ALARM asks first (:mod:`smtop.ui.screens.alarm_unack`).
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
from smtop.models.alarms import Alarm

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

    alarm: Alarm
    window: timedelta
    note: str


def what_muting_does(until: datetime) -> Text:
    """The dialog's account of a mute rule, in the words on-call needs (see the module's sources)."""
    return Text.assemble(
        "A one-time mute rule mutes ", ("all", "bold"), " of the alarm's actions (OK and INSUFFICIENT_DATA too) "
        f"until about {clock_time(until)}; the alarm keeps evaluating. ",
        ("If it is still in ALARM when the mute ends, it notifies again.", "bold"),
        " u deletes the rule: if the alarm is in ALARM, its actions run at once. "
        "Who, when and the note go into the rule and the alarm's tags.",
    )


class AlarmAckScreen(ModalScreen[AckRequest | None]):
    """Choose how long to mute, add a note, confirm with ctrl+s (or enter in the note)."""

    BINDINGS = [
        Binding("ctrl+s", "confirm", "Acknowledge", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, alarm: Alarm, now: datetime) -> None:
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
        self.query_one("#ack-summary", Static).update(what_muting_does(self.now + self.window))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        note = self.query_one("#ack-note", Input).value.strip()
        self.dismiss(AckRequest(self.alarm, self.window, note))

    def action_cancel(self) -> None:
        self.dismiss(None)
