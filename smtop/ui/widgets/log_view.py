"""A log view whose cost does not grow with its buffer.

Lines live in a fixed-size ring (O(1) append and random access); the view is a
ScrollView that renders only the lines on screen, so 10,000 buffered lines
cost the same to paint as 100.  Every message is untrusted: it is split into
lines, made printable (escape sequences shown as ``\\x1b``), capped in length,
and drawn as plain segments — never parsed as markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from collections import deque
from typing import Iterator, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smtop.format import iso_utc, printable
from smtop.models import LogEvent

STREAM_WIDTH = 19
"""An EC2 instance id (i- and 17 hex digits) fits whole."""

MAX_LINE_CHARS = 4_000
"""Longer lines are cut on screen (the detail view shows the whole event)."""

# One pass finds the first level word; it is looked for in the head of the
# message only (levels come first; a 1 MB line must not cost a 1 MB scan).
_LEVEL = re.compile(
    r"\b(?P<error>ERROR|CRITICAL|FATAL|Traceback|Exception|OutOfMemory|out of memory|panic)\b"
    r"|\"level\":\s*\"(?P<jerror>error|critical|fatal)\""
    r"|\b(?P<warn>WARN|WARNING)\b|\"level\":\s*\"(?P<jwarn>warn|warning)\"",
    re.I,
)
LEVEL_SCAN_CHARS = 2_000


class Ring:
    """A bounded sequence: appending past ``capacity`` evicts the oldest item."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: list = [None] * capacity
        self._start = 0
        self._count = 0
        self.evicted = 0
        """How many items were pushed out since creation."""

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int):
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._items[(self._start + index) % self.capacity]

    def __iter__(self) -> Iterator:
        for index in range(self._count):
            yield self._items[(self._start + index) % self.capacity]

    def append(self, item) -> None:
        if self._count < self.capacity:
            self._items[(self._start + self._count) % self.capacity] = item
            self._count += 1
        else:
            self._items[self._start] = item
            self._start = (self._start + 1) % self.capacity
            self.evicted += 1

    def clear(self) -> None:
        self._items = [None] * self.capacity
        self._start = self._count = 0


@dataclass(frozen=True, slots=True)
class LogLine:
    """One screen line of an event (multi-line events give several)."""

    event: LogEvent
    text: str
    """Printable, capped text of this line."""
    first: bool
    """The event's first line (shows time and stream)."""
    level: str
    """"error", "warn" or "" for the whole event."""


def level_of(message: str) -> str:
    """"error", "warn" or "": the most severe level word in the message's head."""
    level = ""
    for match in _LEVEL.finditer(message, 0, LEVEL_SCAN_CHARS):
        if match.group("error") or match.group("jerror"):
            return "error"
        level = "warn"
    return level


def lines_of(event: LogEvent) -> list[LogLine]:
    """Split an event into printable screen lines."""
    message = event.message.rstrip("\n")
    level = level_of(message)
    lines = []
    for index, raw in enumerate(message.split("\n") or [""]):
        text = printable(raw.rstrip("\r"))
        if len(text) > MAX_LINE_CHARS:
            text = f"{text[:MAX_LINE_CHARS]}… [{len(raw):,} chars; enter shows the event]"
        lines.append(LogLine(event, text, index == 0, level))
    return lines


def stream_label(stream: str, width: int = STREAM_WIDTH) -> str:
    """`AllTraffic/i-0a1b2c3d4e5f` → `i-0a1b2c3d4e5f`: the instance is what differs.

    Where it must be cut, its end is kept: instance ids differ there.
    """
    label = printable(stream.rsplit("/", 1)[-1])
    return label if len(label) <= width else "…" + label[-(width - 1) :]


_KIND_STYLES = {"error": Style(color="red", bold=True), "warn": Style(color="yellow"), "": Style(), "dim": Style(dim=True)}
_REVERSE = Style(reverse=True)

_STREAM_COLORS = ("cyan", "magenta", "green", "blue", "yellow", "bright_cyan", "bright_magenta", "bright_green")


class LogView(ScrollView, can_focus=True):
    """Interleaved log lines of a group, newest at the bottom."""

    BINDINGS = [
        Binding("f", "toggle_follow", "Follow/pause"),
        Binding("w", "toggle_wrap", "Wrap", show=False),
        Binding("T", "toggle_timestamps", "Times", show=False),
        Binding("enter", "open_line", "Show line"),
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
        Binding("j", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "cursor_home", show=False),
        Binding("end", "cursor_end", "End", show=False),
    ]

    DEFAULT_CSS = """
    LogView { height: 1fr; }
    """

    follow: reactive[bool] = reactive(True)
    """New lines scroll into view; moving the cursor up pauses."""
    wrap: reactive[bool] = reactive(False)
    """Long lines wrap instead of scrolling sideways."""
    timestamps: reactive[bool] = reactive(True)
    """Show each event's time (UTC)."""
    cursor: reactive[int] = reactive(-1, always_update=True)
    """Index of the highlighted screen line, -1 when following the end."""

    class Opened(Message):
        """Enter on a line: show its whole event."""

        def __init__(self, event: LogEvent) -> None:
            super().__init__()
            self.event = event

    class FollowChanged(Message):
        def __init__(self, follow: bool) -> None:
            super().__init__()
            self.follow = follow

    def __init__(self, capacity: int = 10_000, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines = Ring(capacity)
        self.pending: Ring = Ring(capacity)
        """Lines that arrived while paused (shown on resume)."""
        self._visual: deque[tuple[int, int]] | None = None  # wrap mode: (line seq, start col)
        self._visual_width = 0
        self._skipped = 0  # lines of a batch cut before they entered the ring (still "dropped")
        self._repaint_count = 0
        self._base_for: tuple | None = None
        self._base = Style()
        self._styles: dict[tuple[Style, str], Style] = {}
        self._widest = 0
        self._streams: dict[str, str] = {}

    # -- data --------------------------------------------------------------
    @property
    def dropped(self) -> int:
        """Lines pushed out of the buffer (or out of the paused backlog)."""
        return self.lines.evicted + self.pending.evicted + self._skipped

    def add_events(self, events: Sequence[LogEvent]) -> int:
        """Append events; returns the number of screen lines added.

        A batch larger than the buffer is cut first: only its newest events,
        those that can still be seen, are split and made printable; the rest
        count as dropped without costing anything.
        """
        target = self.lines if self.follow else self.pending
        events = list(events)
        keep_from, room = len(events), target.capacity
        while keep_from > 0 and room > 0:
            keep_from -= 1
            room -= events[keep_from].message.count("\n", 0, 100_000) + 1
        skipped = sum(e.message.count("\n", 0, 100_000) + 1 for e in events[:keep_from])
        self._skipped += skipped
        added = 0
        widest = self._widest
        for event in events[keep_from:]:
            for line in lines_of(event):
                target.append(line)
                added += 1
                widest = max(widest, len(line.text) if line.text.isascii() else cell_len(line.text))
        if target is self.lines:
            self._widest = widest
            if added or skipped:
                self._layout_changed(appended=added)
        return added

    def clear(self) -> None:
        self.lines.clear()
        self.pending.clear()
        self.lines.evicted = self.pending.evicted = self._skipped = 0
        self._widest = 0
        self.cursor = -1
        self._layout_changed()

    def _flush_pending(self) -> None:
        for line in self.pending:
            self.lines.append(line)
            self._widest = max(self._widest, len(line.text) if line.text.isascii() else cell_len(line.text))
        self._skipped += self.pending.evicted
        self.pending.clear()
        self.pending.evicted = 0
        self._layout_changed()

    # -- geometry ----------------------------------------------------------
    def _prefix_width(self) -> int:
        return (10 if self.timestamps else 0) + self._stream_width + 1

    @property
    def _stream_width(self) -> int:
        # Narrow terminals give the message the room: the id's last digits suffice.
        return STREAM_WIDTH if self.size.width >= 120 else 11

    def _layout_changed(self, appended: int | None = None) -> None:
        """Recompute the scrollable size; ``appended`` lines at the end can
        extend the wrap index instead of rebuilding it."""
        if appended is None or not self.wrap or self._visual is None:
            self._visual = None
        else:
            self._extend_visual(appended)
        height = self._visual_count()
        width = self._prefix_width() + (0 if self.wrap else self._widest)
        self.virtual_size = Size(width, height)
        if self.follow:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def _text_width(self) -> int:
        return max(10, self.scrollable_content_region.width - self._prefix_width())

    def _visual_index(self) -> deque[tuple[int, int]]:
        """Wrap mode only: screen rows as (line sequence number, start column).

        Sequence numbers count every line ever added (index + evicted), so
        evicting old lines drops rows from the left and appending adds rows at
        the right: the index grows with the lines added, not with the buffer.
        """
        if self._visual is None:
            self._visual = deque()
            self._visual_width = self._text_width()
            self._extend_visual(len(self.lines))
        return self._visual

    def _extend_visual(self, appended: int) -> None:
        visual, width, first = self._visual, self._visual_width, self.lines.evicted
        while visual and visual[0][0] < first:
            visual.popleft()
        for index in range(max(0, len(self.lines) - appended), len(self.lines)):
            length = max(1, len(self.lines[index].text))
            visual.extend((first + index, start) for start in range(0, length, width))

    def _visual_count(self) -> int:
        return len(self._visual_index()) if self.wrap else len(self.lines)

    def _visual_row(self, row: int) -> tuple[int, int] | None:
        """Wrap mode: (line index, start column) of a screen row."""
        visual = self._visual_index()
        if row >= len(visual):
            return None
        seq, start = visual[row]
        return seq - self.lines.evicted, start

    def on_resize(self) -> None:
        self._layout_changed()

    # -- rendering ---------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        base = self._base_style()
        if self.wrap:
            found = self._visual_row(row)
            if found is None:
                return Strip.blank(width, base)
            index, start = found
            line = self.lines[index]
            text = line.text[start : start + self._text_width()]
            first = line.first and start == 0
        else:
            if row >= len(self.lines):
                return Strip.blank(width, base)
            index = row
            line = self.lines[index]
            text, first = line.text, line.first
        highlighted = self.cursor == index and not self.follow
        segments = self._prefix(line, first, base)
        segments.append(Segment(text, self._style(base, line.level)))
        strip = Strip(segments)
        if not self.wrap:
            strip = strip.crop(scroll_x, scroll_x + width)
        strip = strip.extend_cell_length(width, base)
        if highlighted:
            strip = strip.apply_style(_REVERSE)
        return strip

    def _base_style(self) -> Style:
        """The widget's own style, computed once per frame rather than per line
        (it walks the ancestors: a third of a line's cost)."""
        key = (self._repaint_count, self.has_focus)
        if self._base_for != key:
            self._base_for, self._base = key, self.rich_style
        return self._base

    def _style(self, base: Style, kind: str) -> Style:
        style = self._styles.get((base, kind))
        if style is None:
            style = self._styles[(base, kind)] = base + _KIND_STYLES[kind] if kind in _KIND_STYLES else base + Style(color=kind)
        return style

    def refresh(self, *args, **kwargs):
        self._repaint_count += 1
        return super().refresh(*args, **kwargs)

    def _prefix(self, line: LogLine, first: bool, base: Style) -> list[Segment]:
        segments = []
        if self.timestamps:
            stamp = datetime.fromtimestamp(line.event.timestamp, timezone.utc).strftime("%H:%M:%S") if first else ""
            segments.append(Segment(f"{stamp:<9} ", self._style(base, "dim")))
        width = self._stream_width
        label = stream_label(line.event.stream, width) if first else ""
        segments.append(Segment(f"{label:<{width}} ", self._style(base, self._stream_color(line.event.stream))))
        return segments

    def _stream_color(self, stream: str) -> str:
        color = self._streams.get(stream)
        if color is None:
            color = self._streams[stream] = _STREAM_COLORS[len(self._streams) % len(_STREAM_COLORS)]
        return color

    # -- keys --------------------------------------------------------------
    def watch_follow(self, follow: bool) -> None:
        if follow:
            self.cursor = -1
            self._flush_pending()
            self.scroll_end(animate=False, x_axis=False)
        self.post_message(self.FollowChanged(follow))

    def watch_wrap(self) -> None:
        self._layout_changed()

    def watch_timestamps(self) -> None:
        self._layout_changed()

    def watch_cursor(self) -> None:
        self.refresh()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        if not self.follow and len(self.lines):
            self.cursor = len(self.lines) - 1

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps

    def _move(self, delta: int) -> None:
        if not len(self.lines):
            return
        if self.follow:
            self.follow = False  # reading back through the log pauses it, as less +F does
            self.cursor = len(self.lines) - 1
        self.cursor = max(0, min(len(self.lines) - 1, self.cursor + delta))
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        row = self.cursor
        if self.wrap:
            seq = self.cursor + self.lines.evicted
            row = next((i for i, (s, _) in enumerate(self._visual_index()) if s == seq), 0)
        height = self.scrollable_content_region.height
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False)
        elif row >= self.scroll_y + height:
            self.scroll_to(y=row - height + 1, animate=False)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_page_up(self) -> None:
        self._move(-max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._move(max(1, self.scrollable_content_region.height - 1))

    def action_cursor_home(self) -> None:
        self._move(-len(self.lines))

    def action_cursor_end(self) -> None:
        self.follow = True

    def action_open_line(self) -> None:
        if 0 <= self.cursor < len(self.lines):
            self.post_message(self.Opened(self.lines[self.cursor].event))
        elif len(self.lines):
            self.post_message(self.Opened(self.lines[-1].event))

    def text_lines(self) -> list[str]:
        """The buffer as plain text lines, for saving to a file."""
        out = []
        for line in self.lines:
            stamp = iso_utc(line.event.timestamp, timespec="milliseconds")
            out.append(f"{stamp} {printable(line.event.stream)} {line.text}" if line.first else f"{'':>29} {line.text}")
        return out
