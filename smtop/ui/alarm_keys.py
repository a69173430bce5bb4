"""The console's alarm keys: n (a new alarm), a (acknowledge), u (un-acknowledge).

The console chooses the endpoint or the alarm; this module opens the dialog
and makes the call.  Under ``--read-only`` the three keys are refused here,
before any screen opens (the AWS layer's allowlist would refuse the calls
anyway); a region without alarm mute rules refuses a and u with the alarms'
own reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.screen import Screen

from smtop.clock import Clock
from smtop.errors import SmtopError
from smtop.format import clock_time
from smtop.models import Endpoint
from smtop.models.alarms import Alarm
from smtop.models.names import principal_name
from smtop.models.source import AlarmSource

if TYPE_CHECKING:
    from smtop.ui.screens.alarm_ack import AckRequest

READ_ONLY_REFUSAL = "smtop is running read-only: {what} would change AWS, so it is not available. Restart without --read-only."


@dataclass
class AlarmChanged(Message):
    """An alarm was created, acknowledged or un-acknowledged (or that failed)."""

    text: str
    severity: str = "information"


class AlarmKeys:
    """What n, a and u do once the console chose the endpoint or the alarm: the
    refusals, the dialogs and the calls; each outcome is an :class:`AlarmChanged`
    posted to ``screen``.

    Args:
        screen: the console (dialogs open over it, outcomes are posted to it).
        source: where alarms are created, acknowledged and un-acknowledged.
        clock: the console's clock (the acknowledgement's window starts now).
        read_only: refuse all three before any dialog opens.
        presets: the config file's alarm presets, for the new-alarm form.
    """

    def __init__(self, screen: Screen, source: AlarmSource, *, clock: Clock, read_only: bool, presets: tuple = ()) -> None:
        self.screen = screen
        self.source = source
        self.clock = clock
        self.read_only = read_only
        self.presets = presets

    def refused(self, what: str, *, unavailable: str | None = None) -> bool:
        """Whether the key must do nothing: --read-only, or (``unavailable``)
        the region has no alarm mute rules; the notification says why."""
        if self.read_only:
            self.screen.notify(READ_ONLY_REFUSAL.format(what=what), severity="warning", timeout=6)
            return True
        if unavailable:
            self.screen.notify(unavailable, severity="warning", timeout=8)
            return True
        return False

    def new_alarm(self, endpoint: Endpoint, metric: str | None) -> None:
        """The form for an alarm on ``endpoint`` (its first variant), on ``metric`` or ModelLatency."""
        from smtop.models.alarm_draft import initial_draft
        from smtop.ui.screens.alarm_form import AlarmFormScreen

        variants = tuple(v.name for v in endpoint.variants) or ("AllTraffic",)
        source = self.source

        def created(draft) -> None:
            if draft:
                self.screen.post_message(
                    AlarmChanged(f"Alarm {draft.name} saved; it shows INSUFFICIENT_DATA until CloudWatch first evaluates it.")
                )

        self.screen.app.push_screen(
            AlarmFormScreen(
                initial_draft(endpoint.name, variants[0], metric), variants,
                topics=source.sns_topics, exists=source.alarm_exists, request=source.alarm_request,
                send=source.put_alarm, presets=self.presets,
            ),
            created,
        )

    def acknowledge(self, alarm: Alarm) -> None:
        from smtop.ui.screens.alarm_ack import AlarmAckScreen

        def chosen(request: AckRequest | None) -> None:
            if request is not None:
                self.screen.run_worker(self._send_ack(request), group="alarm-change", exit_on_error=False)

        self.screen.app.push_screen(AlarmAckScreen(alarm, self.clock.now()), chosen)

    async def _send_ack(self, request: AckRequest) -> None:
        try:
            ack, warning = await self.source.acknowledge(request.alarm, request.window, request.note)
        except SmtopError as error:
            self.screen.post_message(AlarmChanged(str(error), "error"))
            return
        text = f"{ack.alarm} acknowledged by {principal_name(ack.by)}: actions muted until {clock_time(ack.until)}."
        self.screen.post_message(AlarmChanged(warning or text, "warning" if warning else "information"))

    def unacknowledge(self, alarm: Alarm) -> None:
        if not alarm.firing or alarm.ack is None:  # nothing fires at once (or nothing of smtop's to delete)
            self.screen.run_worker(self._send_unack(alarm), group="alarm-change", exit_on_error=False)
            return
        # In ALARM, deleting the rule runs the alarm's actions at once: ask first.
        from smtop.ui.screens.alarm_unack import AlarmUnackScreen

        def confirmed(go: bool | None) -> None:
            if go:
                self.screen.run_worker(self._send_unack(alarm), group="alarm-change", exit_on_error=False)

        self.screen.app.push_screen(AlarmUnackScreen(alarm), confirmed)

    async def _send_unack(self, alarm: Alarm) -> None:
        try:
            rules, warning = await self.source.unacknowledge(alarm)
        except SmtopError as error:
            self.screen.post_message(AlarmChanged(str(error), "error"))
            return
        live = "in ALARM, so CloudWatch runs its actions now" if alarm.firing else "its actions are live again"
        text = f"{alarm.name} un-acknowledged: mute rule {', '.join(rules)} deleted, {live}."
        self.screen.post_message(AlarmChanged(warning or text, "warning" if warning else "information"))
