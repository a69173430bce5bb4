"""The console's alarm keys (n, a, u) and the alarms poll, mixed into SmtopApp.

Alarms are polled on their own schedule, apart from metrics: a failing
DescribeAlarms (denied, throttled) shows in the Alarms tab and never stops
the endpoint table, and a slow one never delays it.  Like the metric poll,
the next alarms poll is scheduled only when the last one finished.

Under ``--read-only`` the three keys are refused here, before any screen
opens, and the AWS layer's allowlist would refuse the calls anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.message import Message
from textual.timer import Timer

from typing import TYPE_CHECKING

from smtop.errors import SmtopError
from smtop.format import clock_time
from smtop.models.alarms import Alarm, AlarmsSnapshot
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.metric_panel import MetricPanel
from smtop.ui.widgets.status_bar import StatusBar

# The Alarms tab comes with the panels mounted after the first frame, the
# form, acknowledgement and history screens when first opened.
if TYPE_CHECKING:
    from smtop.ui.screens.alarm_ack import AckRequest
    from smtop.ui.widgets.alarms_panel import AlarmList, AlarmsPanel

ALARM_REFRESH_MAX = 30.0
"""Alarms are polled at the metric refresh rate, but at least this often (s)."""

READ_ONLY_REFUSAL = "smtop is running read-only: {what} would change AWS, so it is not available. Restart without --read-only."


@dataclass
class AlarmsReady(Message):
    snapshot: AlarmsSnapshot


@dataclass
class AlarmsFailed(Message):
    error: SmtopError


@dataclass
class AlarmChanged(Message):
    """An alarm was created, acknowledged or un-acknowledged (or that failed)."""

    text: str
    severity: str = "information"


class AlarmActions:
    """Mixin for SmtopApp: owns ``alarms`` and the n/a/u actions."""

    alarms: AlarmsSnapshot | None = None
    alarm_polls: int = 0
    _alarm_timer: Timer | None = None
    _alarms_running: bool = False
    _alarms_again: bool = False

    @property
    def alarm_interval(self) -> float:
        return min(self.settings.refresh, ALARM_REFRESH_MAX)

    # -- polling -------------------------------------------------------------------
    def request_alarm_poll(self) -> None:
        """Poll alarms now, or right after the poll in flight (never two at once)."""
        if self.source is None or not self.is_running:
            return
        if self._alarms_running:
            self._alarms_again = True
            return
        if self._alarm_timer is not None:
            self._alarm_timer.stop()
            self._alarm_timer = None
        self._alarms_running = True
        self._poll_alarms()

    @work(group="alarms", exit_on_error=False)
    async def _poll_alarms(self) -> None:
        source = self.source
        try:
            names = [e.name for e in self.snapshot.endpoints] if self.snapshot else []
            try:
                message: AlarmsReady | AlarmsFailed = AlarmsReady(await source.alarms(names))
            except SmtopError as error:
                message = AlarmsFailed(error)
            if source is self.source:  # not switched to another profile/region meanwhile
                self.post_message(message)
        finally:
            self._alarms_running = False
            self.alarm_polls += 1
            again, self._alarms_again = self._alarms_again, False
            if self.is_running and again:
                # Not set_timer(0): Textual's timer divides by its interval
                # once it is late, and the failed timer task ended polling for good.
                self.call_later(self.request_alarm_poll)
            elif self.is_running:
                self._alarm_timer = self.set_timer(self.alarm_interval, self.request_alarm_poll)

    def on_alarms_ready(self, message: AlarmsReady) -> None:
        if not self.is_running:
            return
        snapshot = message.snapshot
        self.alarms = snapshot
        self._alarms_panel().show(snapshot)
        self.main.query_one(StatusBar).firing = len(snapshot.firing)
        self.main.query_one(EndpointTable).set_firing(snapshot.firing_endpoints)

    def on_alarms_failed(self, message: AlarmsFailed) -> None:
        if not self.is_running:
            return
        self._alarms_panel().show_error(
            f"Alarms are not up to date: {message.error} — retrying in {self.alarm_interval:g}s"
        )

    def on_alarm_changed(self, message: AlarmChanged) -> None:
        if not self.is_running:
            return
        self.notify(message.text, severity=message.severity, timeout=8 if message.severity == "error" else 5)
        self.request_alarm_poll()

    def on_alarm_list_opened(self, message: AlarmList.Opened) -> None:
        if self.source is not None:
            from smtop.ui.screens.alarm_history import AlarmHistoryScreen

            self.push_screen(AlarmHistoryScreen(message.alarm, self.source.alarm_history))

    # -- which alarm ---------------------------------------------------------------
    def _alarms_panel(self) -> AlarmsPanel:
        from smtop.ui.widgets.alarms_panel import AlarmsPanel

        return self.main.query_one("#alarms", AlarmsPanel)

    def _alarm_in_focus(self) -> Alarm | None:
        """The highlighted alarm when the Alarms tab has the focus."""
        panel = self._alarms_panel()
        return panel.selected_alarm if panel.has_focus_within else None

    def _endpoint_alarm(self, wanted) -> Alarm | None:
        if self.alarms is None or self.selected is None:
            return None
        return next((a for a in self.alarms.for_endpoint(self.selected) if wanted(a)), None)

    def _refuse_read_only(self, what: str) -> bool:
        if self.settings.read_only:
            self.notify(READ_ONLY_REFUSAL.format(what=what), severity="warning", timeout=6)
            return True
        return False

    def _refuse_unavailable(self) -> bool:
        """Acknowledging needs alarm mute rules, which this region may not have."""
        reason = self.alarms.ack_unavailable if self.alarms is not None else None
        if reason:
            self.notify(reason, severity="warning", timeout=8)
            return True
        return False

    # -- n ---------------------------------------------------------------------------
    def action_new_alarm(self) -> None:
        if self._refuse_read_only("creating an alarm (PutMetricAlarm)"):
            return
        endpoint = self.snapshot.endpoint(self.selected) if self.snapshot else None
        if endpoint is None or self.source is None:
            self.notify("Select an endpoint first: the new alarm watches it.", severity="warning")
            return
        from smtop.models.alarm_draft import initial_draft
        from smtop.ui.screens.alarm_form import AlarmFormScreen

        variants = tuple(v.name for v in endpoint.variants) or ("AllTraffic",)
        # The metric being looked at when the metric panel has the focus, else the seed's ModelLatency.
        panel = self.main.query_one(MetricPanel)
        metric = panel.selected_metric if panel.has_focus else None
        draft = initial_draft(endpoint.name, variants[0], metric)
        source = self.source

        def created(request) -> None:
            if request:
                self.post_message(AlarmChanged(f"Alarm {request['AlarmName']} saved; it shows INSUFFICIENT_DATA until CloudWatch first evaluates it."))

        self.push_screen(
            AlarmFormScreen(draft, variants, topics=source.sns_topics, exists=source.alarm_exists, send=source.put_alarm),
            created,
        )

    # -- a ---------------------------------------------------------------------------
    def action_ack_alarm(self) -> None:
        if self._refuse_read_only("acknowledging (PutAlarmMuteRule)") or self._refuse_unavailable():
            return
        alarm = self._alarm_in_focus() or self._endpoint_alarm(lambda a: a.firing)
        if alarm is None:
            where = f"on {self.selected}" if self.selected else "selected"
            self.notify(f"No firing alarm {where}: open the Alarms tab (A) and pick one to acknowledge.", severity="warning")
            return
        from smtop.ui.screens.alarm_ack import AlarmAckScreen

        self.push_screen(AlarmAckScreen(alarm, self.clock.now()), self._acknowledge)

    def _acknowledge(self, request: AckRequest | None) -> None:
        if request is not None:
            self._send_ack(request)

    @work(group="alarm-change", exit_on_error=False)
    async def _send_ack(self, request: AckRequest) -> None:
        try:
            ack, warning = await self.source.acknowledge(request.alarm, request.window, request.note)
        except SmtopError as error:
            self.post_message(AlarmChanged(str(error), "error"))
            return
        from smtop.models.names import principal_name

        text = f"{ack.alarm} acknowledged by {principal_name(ack.by)}: actions muted until {clock_time(ack.until)}."
        self.post_message(AlarmChanged(warning or text, "warning" if warning else "information"))

    # -- u ---------------------------------------------------------------------------
    def action_unack_alarm(self) -> None:
        if self._refuse_read_only("un-acknowledging (DeleteAlarmMuteRule)") or self._refuse_unavailable():
            return
        alarm = self._alarm_in_focus() or self._endpoint_alarm(lambda a: a.ack is not None)
        if alarm is None:
            self.notify("No acknowledged alarm selected: pick one in the Alarms tab (A).", severity="warning")
            return
        if not alarm.firing or alarm.ack is None:  # nothing fires at once (or nothing of smtop's to delete)
            self._send_unack(alarm)
            return
        # In ALARM, deleting the rule runs the alarm's actions at once: ask first.
        from smtop.ui.screens.alarm_unack import AlarmUnackScreen

        def confirmed(go: bool | None) -> None:
            if go:
                self._send_unack(alarm)

        self.push_screen(AlarmUnackScreen(alarm), confirmed)

    @work(group="alarm-change", exit_on_error=False)
    async def _send_unack(self, alarm: Alarm) -> None:
        try:
            rules, warning = await self.source.unacknowledge(alarm)
        except SmtopError as error:
            self.post_message(AlarmChanged(str(error), "error"))
            return
        live = "in ALARM, so CloudWatch runs its actions now" if alarm.firing else "its actions are live again"
        text = f"{alarm.name} un-acknowledged: mute rule {', '.join(rules)} deleted, {live}."
        self.post_message(AlarmChanged(warning or text, "warning" if warning else "information"))
