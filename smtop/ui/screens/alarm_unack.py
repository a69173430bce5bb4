"""`u` on an alarm in ALARM: deleting its mute rule pages the on-call now, so ask first.

"When you delete a mute rule, any alarms that are currently being muted by
that rule are immediately unmuted. If those alarms are in an ALARM state,
their configured actions will trigger" (CloudWatch API reference,
DeleteAlarmMuteRule).  An alarm that is not in ALARM is un-acknowledged
without this question: nothing fires at once.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from smtop.format import printable
from smtop.models.alarms import Alarm


class AlarmUnackScreen(ModalScreen[bool]):
    """Confirm deleting the mute rule of an alarm in ALARM; dismisses True to go ahead."""

    BINDINGS = [
        Binding("enter,y", "confirm", "Un-acknowledge", priority=True),
        Binding("escape,n", "cancel", "Keep it muted"),
    ]

    def __init__(self, alarm: Alarm) -> None:
        super().__init__()
        self.alarm = alarm

    def compose(self) -> ComposeResult:
        alarm = self.alarm
        actions = len(alarm.alarm_actions)
        with Vertical(id="alarm-unack"):
            yield Static(Text.assemble(("Un-acknowledge ", "bold"), (printable(alarm.name), "bold red"), ("?", "bold")))
            yield Static(
                Text.assemble(
                    "It is in ALARM. Deleting its mute rule unmutes it at once, and CloudWatch then runs its ",
                    (f"{actions} ALARM action{'s' if actions != 1 else ''}" if actions else "ALARM actions", "bold"),
                    " (pages, notifications, scaling) right away.",
                ),
                id="unack-summary",
            )
            yield Static(Text("enter or y un-acknowledge · escape or n keep it muted", style="dim"))

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
