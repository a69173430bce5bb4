"""Enter on a log line: the whole event, JSON pretty-printed, rendered literally."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from smtop.format import iso_utc, printable
from smtop.models import LogEvent

MAX_SHOWN = 200_000
"""Characters shown of one event (a 1 MB line stays usable)."""


def pretty(message: str) -> tuple[str, bool]:
    """The message pretty-printed if it is JSON (or ends with a JSON object)."""
    text = message.strip()
    start = text.find("{")
    for candidate in (text, text[start:] if start > 0 else None):
        if not candidate or candidate[0] not in "[{":
            continue
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        prefix = text[: len(text) - len(candidate)]
        return prefix + json.dumps(parsed, indent=2, ensure_ascii=False), True
    return message, False


class LogEventScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("q", "dismiss", "Close", show=False)]

    def __init__(self, event: LogEvent) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        event = self.event
        body, is_json = pretty(event.message[:MAX_SHOWN])
        when = iso_utc(event.timestamp, timespec="milliseconds")
        header = Text.assemble(
            (when, "bold"),
            "  ",
            (printable(event.stream), "cyan"),
            "  ",
            ("JSON" if is_json else "", "dim"),
        )
        lines = [printable(line) for line in body.split("\n")]
        if len(event.message) > MAX_SHOWN:
            lines.append(f"… {len(event.message) - MAX_SHOWN:,} more characters not shown")
        with VerticalScroll(id="log-event"):
            yield Static(header)
            yield Static(Text("\n".join(lines)), id="log-event-body")
