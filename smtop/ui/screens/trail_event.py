"""Enter on a CloudTrail event: the whole record, JSON pretty-printed, rendered literally."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from smtop.format import iso_utc, printable
from smtop.models.cloudtrail import TrailEvent

MAX_SHOWN = 200_000
"""Characters shown of one event (request parameters can be large)."""


def pretty_event(raw: str) -> str:
    """The CloudTrail record indented; a record that is not JSON is shown as it came."""
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


class TrailEventScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("q", "dismiss", "Close", show=False)]

    def __init__(self, event: TrailEvent) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        event = self.event
        header = Text.assemble(
            (iso_utc(event.time) or "", "bold"),
            "  ",
            (printable(event.name), "bold yellow" if event.is_key else "bold"),
            "  by ",
            (printable(event.who), "cyan"),
            "  from ",
            printable(event.source_ip),
        )
        if event.error_code:
            header.append("  ")
            header.append(printable(f"{event.error_code}: {event.error_message or ''}"), style="bold red")
        body = pretty_event(event.raw)
        lines = [printable(line) for line in body[:MAX_SHOWN].split("\n")]
        if len(body) > MAX_SHOWN:
            lines.append(f"… {len(body) - MAX_SHOWN:,} more characters not shown")
        with VerticalScroll(id="trail-event"):
            yield Static(header)
            yield Static(Text("\n".join(lines)), id="trail-event-body")
