"""Enter on an alarm: its history (DescribeAlarmHistory), newest first."""

from __future__ import annotations

from typing import Awaitable, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from smtop.errors import SmtopError
from smtop.format import iso_utc, printable
from smtop.models.alarms import AlarmHistoryItem

KIND_STYLE = {"StateUpdate": "bold", "Action": "cyan", "ConfigurationUpdate": "magenta"}


def history_text(items: list[AlarmHistoryItem]) -> Text:
    """One line per item: time, kind, summary (all literal)."""
    if not items:
        return Text("No history recorded for this alarm.", style="dim")
    text = Text()
    for item in items:
        text.append(iso_utc(item.timestamp, timespec="seconds") or "?", style="dim")
        text.append(f"  {item.kind:<19} ", style=KIND_STYLE.get(item.kind, ""))
        summary = printable(item.summary)
        style = "red" if summary.endswith("to ALARM") else "green" if summary.endswith("to OK") else ""
        text.append(summary, style=style)
        text.append("\n")
    return text


class AlarmHistoryScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("q", "dismiss", "Close", show=False)]

    def __init__(self, alarm: str, load: Callable[[str], Awaitable[list[AlarmHistoryItem]]]) -> None:
        super().__init__()
        self.alarm = alarm
        self._load = load
        self.items: list[AlarmHistoryItem] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="alarm-history"):
            yield Static(Text.assemble(("History of ", "bold"), (printable(self.alarm), "bold")))
            yield Static("Loading…", id="alarm-history-body")

    def on_mount(self) -> None:
        self._fetch()

    class Loaded(Message):
        """The history arrived (``items``), or could not be read (``error``)."""

        def __init__(self, items: list[AlarmHistoryItem] | None, error: str | None = None) -> None:
            super().__init__()
            self.items = items
            self.error = error

    @work(exclusive=True, group="alarm-history", exit_on_error=False)
    async def _fetch(self) -> None:
        try:
            items = await self._load(self.alarm)
        except SmtopError as error:
            self.post_message(self.Loaded(None, str(error)))
        else:
            self.post_message(self.Loaded(items))

    def on_alarm_history_screen_loaded(self, message: Loaded) -> None:
        body = self.query_one("#alarm-history-body", Static)
        if message.error is not None:
            body.update(Text(printable(message.error), style="bold yellow"))
            return
        self.items = message.items
        body.update(history_text(message.items or []))
