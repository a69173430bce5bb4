"""Edit an Insights query in place: a multi-line editor that suggests the language's words."""

from __future__ import annotations

import re

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static, TextArea

from smtop.format import safe_text

COMMANDS = ("fields", "filter", "stats", "sort", "limit", "parse", "display", "dedup")
"""What may start a stage (after ``|`` or at the start)."""
WORDS = (
    "and", "or", "not", "like", "in", "as", "by", "asc", "desc",
    "count(*)", "count_distinct(", "sum(", "avg(", "min(", "max(", "pct(", "percentile(",
    "bin(5m)", "ispresent(", "strlen(", "tolower(", "toupper(", "abs(", "floor(", "ceil(",
    "@timestamp", "@message", "@logStream", "@log", "@ptr",
)
"""Everything else the simulator's engine (and the service) understands."""

_WORD = re.compile(r"[@A-Za-z_][A-Za-z0-9_.]*$")


def suggestions(before_cursor: str) -> tuple[str, ...]:
    """Words that fit where the cursor is, given the query text before it."""
    stage = before_cursor.rsplit("|", 1)[-1]
    word_match = _WORD.search(before_cursor)
    word = word_match.group(0) if word_match else ""
    starting_stage = not stage[: len(stage) - len(word)].strip()
    pool = COMMANDS if starting_stage else WORDS
    return tuple(w for w in pool if w.startswith(word) and w != word)


class InsightsEditorScreen(ModalScreen[str | None]):
    """Returns the edited text (ctrl+s runs it) or None (escape keeps the old text)."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Run"),
        Binding("ctrl+t", "complete", "Complete word"),
        Binding("escape", "dismiss_editor", "Cancel"),
    ]

    def __init__(self, name: str, text: str) -> None:
        super().__init__()
        self.query_name = name
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="insights-editor"):
            yield Label(safe_text(f"Edit {self.query_name} — ctrl+s runs, escape cancels"), id="insights-editor-title")
            yield TextArea(self.text, id="insights-editor-text", soft_wrap=True, show_line_numbers=True)
            yield Static(id="insights-suggestions")
        yield Footer()

    def on_mount(self) -> None:
        editor = self.query_one(TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)
        self._suggest()

    @property
    def editor(self) -> TextArea:
        return self.query_one(TextArea)

    def _before_cursor(self) -> str:
        editor = self.editor
        row, column = editor.cursor_location
        lines = editor.text.split("\n")
        return "\n".join(lines[:row] + [lines[row][:column] if row < len(lines) else ""])

    @on(TextArea.Changed)
    @on(TextArea.SelectionChanged)
    def _suggest(self) -> None:
        found = suggestions(self._before_cursor())
        line = "  ".join(found[:10]) if found else "—"
        self.query_one("#insights-suggestions", Static).update(
            Text.assemble(("suggestions (ctrl+t takes the first): ", "dim"), Text(line))
        )

    def action_complete(self) -> None:
        found = suggestions(self._before_cursor())
        if not found:
            return
        before = self._before_cursor()
        word = _WORD.search(before)
        typed = word.group(0) if word else ""
        self.editor.insert(found[0][len(typed):])

    def action_submit(self) -> None:
        self.dismiss(self.editor.text)

    def action_dismiss_editor(self) -> None:
        self.dismiss(None)
