"""`n`: a new alarm for the selected endpoint and metric.

The form shows, while it is filled in, the exact PutMetricAlarm request it
will send (thresholds converted to the metric's unit) and every validation
problem; ctrl+s sends it.  PutMetricAlarm silently replaces an alarm of the
same name, so an existing name needs a second ctrl+s to confirm.  The rules
themselves live in :mod:`smtop.models.alarm_draft`; the request is the
source's (``alarm_request``), which sends it (``put_alarm``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from smtop.models.alarm_draft import (
    COMPARISONS,
    PRESET_LABELS,
    STATISTICS,
    AlarmDraft,
    apply_preset,
    cautions,
    suggest_name,
    threshold_note,
    validate,
)
from smtop.models.catalog import METRICS
from smtop.errors import SmtopError
from smtop.format import printable

_TEXT_FIELDS = ("name", "threshold", "period", "evaluation_periods", "datapoints_to_alarm")


class AlarmFormScreen(ModalScreen[AlarmDraft | None]):
    """The new-alarm form; dismisses with the draft that was sent, or None."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Create alarm", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        draft: AlarmDraft,
        variants: tuple[str, ...],
        *,
        topics: Callable[[], Awaitable[list[str]]],
        exists: Callable[[str], Awaitable[bool]],
        request: Callable[[AlarmDraft], dict[str, Any]],
        send: Callable[[AlarmDraft], Awaitable[None]],
        presets: tuple[Any, ...] = (),
    ) -> None:
        """``request`` shows what ``send`` would send; ``presets``: the config
        file's (smtop.config.file.AlarmPreset), after the built-in ones."""
        super().__init__()
        self.draft = draft
        self.variants = variants or (draft.variant,)
        self._topics = topics
        self._exists = exists
        self._request = request
        self._send = send
        self._presets = presets
        self.confirm_overwrite: str | None = None
        """The name the user was warned about; a second ctrl+s replaces that alarm."""
        self.sending = False
        self._named_by_user = False

    # -- layout ------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        d = self.draft
        with Vertical(id="alarm-form"):
            yield Static(Text.assemble(("New alarm for ", "bold"), (printable(d.endpoint), "bold cyan")))
            with VerticalScroll(id="alarm-form-fields"):
                yield from self._row("preset", Select(self._preset_options(), prompt="(none)", id="preset"))
                yield from self._row("name", Input(d.name, id="name", max_length=300))
                if len(self.variants) > 1:
                    yield from self._row("variant", Select([(printable(v), v) for v in self.variants], value=d.variant, allow_blank=False, id="variant"))
                yield from self._row("metric", Select([(m, m) for m in METRICS], value=d.metric, allow_blank=False, id="metric"))
                yield from self._row("statistic", Select([(s, s) for s in STATISTICS], value=d.statistic, allow_blank=False, id="statistic"))
                yield from self._row("comparison", Select([(f"{sym}  {op}", op) for op, sym in COMPARISONS.items()], value=d.comparison, allow_blank=False, id="comparison"))
                with Horizontal(classes="form-row"):
                    yield Static("threshold", classes="label")
                    yield Input(d.threshold, id="threshold")
                    yield Static(id="threshold-unit")
                yield from self._row("period (s)", Input(d.period, id="period"))
                yield from self._row("eval periods", Input(d.evaluation_periods, id="evaluation_periods"))
                yield from self._row("datapoints", Input(d.datapoints_to_alarm, placeholder="= eval periods", id="datapoints_to_alarm"))
                yield from self._row("notify (SNS)", Select([], prompt="no action (loading topics…)", id="topic"))
                yield Static(id="form-errors")
                yield Static(Text("PutMetricAlarm request", style="bold"))
                yield Static(id="form-preview")
            yield Static(id="form-status")
            yield Static(Text("ctrl+s create · escape cancel · tab next field", style="dim"))

    @staticmethod
    def _row(label: str, widget) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Static(label, classes="label")
            yield widget

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self._load_topics()
        self._refresh_view()

    # -- topics --------------------------------------------------------------------
    class TopicsLoaded(Message):
        def __init__(self, topics: list[str] | None, error: str | None = None) -> None:
            super().__init__()
            self.topics = topics
            self.error = error

    @work(exclusive=True, group="alarm-topics", exit_on_error=False)
    async def _load_topics(self) -> None:
        try:
            topics = await self._topics()
        except SmtopError as error:
            self.post_message(self.TopicsLoaded(None, str(error)))
        else:
            self.post_message(self.TopicsLoaded(topics))

    def on_alarm_form_screen_topics_loaded(self, message: TopicsLoaded) -> None:
        select = self.query_one("#topic", Select)
        if message.topics is None:
            select.prompt = "no action (topics unavailable)"
            self._status(f"SNS topics could not be listed: {message.error}", "yellow")
            return
        select.set_options([(printable(arn.rsplit(":", 1)[-1]), arn) for arn in message.topics])
        select.prompt = "no action" if message.topics else "no action (no SNS topics in this region)"

    # -- editing -------------------------------------------------------------------
    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        field = event.input.id
        if field not in _TEXT_FIELDS:
            return
        if field == "name" and event.input.has_focus:
            self._named_by_user = True
        self.draft = replace(self.draft, **{field: event.value})
        self._refresh_view()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        field, value = event.select.id, event.value
        if field == "preset":
            if value is not Select.BLANK:
                self._apply(apply_preset(self.draft, str(value), self._config_presets()))
            return
        if field == "topic":
            self.draft = replace(self.draft, topic_arn=None if value is Select.BLANK else str(value))
        elif field in ("variant", "metric", "statistic", "comparison") and value is not Select.BLANK:
            self.draft = replace(self.draft, **{field: str(value)})
            if field == "metric":
                self.draft = replace(self.draft, statistic=METRICS[str(value)].stats[0])
                self.query_one("#statistic", Select).value = self.draft.statistic
            if not self._named_by_user:
                d = self.draft
                self.query_one("#name", Input).value = suggest_name(d.endpoint, d.metric, d.statistic, d.comparison)
        self._refresh_view()

    def _config_presets(self) -> dict[str, dict[str, str]]:
        """The config file's presets, keyed apart from the built-in ones."""
        return {f"config:{p.name}": dict(p.fields) for p in self._presets}

    def _preset_options(self) -> list[tuple[str, str]]:
        built_in = [(label, key) for key, label in PRESET_LABELS.items()]
        return built_in + [(printable(key.removeprefix("config:")) + " (config)", key) for key in self._config_presets()]

    def _apply(self, draft: AlarmDraft) -> None:
        """Put a whole draft (a preset) into the fields."""
        self.draft = draft
        self._named_by_user = False
        for field in _TEXT_FIELDS:
            self.query_one(f"#{field}", Input).value = getattr(draft, field)
        for field in ("metric", "statistic", "comparison"):
            self.query_one(f"#{field}", Select).value = getattr(draft, field)
        self._refresh_view()

    def _refresh_view(self) -> None:
        draft = self.draft
        self.query_one("#threshold-unit", Static).update(Text(threshold_note(draft), style="bold"))
        errors = validate(draft)
        box = self.query_one("#form-errors", Static)
        shown = Text("\n".join(f"✗ {e.message}" for e in errors), style="bold red") if errors else Text("✓ ready to send", style="green")
        for caution in cautions(draft):
            shown.append("\n")
            shown.append(f"! {caution.message}", style="yellow")
        box.update(shown)
        body = json.dumps(self._request(draft), indent=2) if not errors else "(fix the problems above to see the request)"
        # Line by line: printable() would show the newlines themselves as \x0a.
        self.query_one("#form-preview", Static).update(Text("\n".join(printable(line) for line in body.splitlines())))
        if self.confirm_overwrite is not None and draft.name != self.confirm_overwrite:
            self.confirm_overwrite = None
            self._status("")

    def _status(self, message: str, style: str = "") -> None:
        self.query_one("#form-status", Static).update(Text(printable(message), style=style))

    # -- sending -------------------------------------------------------------------
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        if self.sending:
            return
        errors = validate(self.draft)
        if errors:
            self._status(f"Not sent: {errors[0].message}", "bold red")
            return
        self.sending = True
        self._status("Checking the name…")
        self._submit(self.draft, overwrite=self.confirm_overwrite == self.draft.name)

    class Outcome(Message):
        """How a submit ended: sent, needs overwrite confirmation, or failed."""

        def __init__(self, draft: AlarmDraft, kind: str, error: str | None = None) -> None:
            super().__init__()
            self.draft = draft
            self.kind = kind
            self.error = error

    @work(exclusive=True, group="alarm-submit", exit_on_error=False)
    async def _submit(self, draft: AlarmDraft, overwrite: bool) -> None:
        try:
            if not overwrite and await self._exists(draft.name):
                self.post_message(self.Outcome(draft, "exists"))
                return
            await self._send(draft)
        except SmtopError as error:
            self.post_message(self.Outcome(draft, "failed", str(error)))
        else:
            self.post_message(self.Outcome(draft, "sent"))

    def on_alarm_form_screen_outcome(self, message: Outcome) -> None:
        self.sending = False
        name = message.draft.name
        if message.kind == "sent":
            self.dismiss(message.draft)
        elif message.kind == "exists":
            self.confirm_overwrite = name
            self._status(
                f"An alarm named {name} already exists and PutMetricAlarm would replace it. "
                "Press ctrl+s again to overwrite it, or change the name.",
                "bold yellow",
            )
        else:
            self._status(f"Not created: {message.error}", "bold red")
