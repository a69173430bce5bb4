"""A log view whose cost does not grow with its buffer.

Lines live in a fixed-size ring (O(1) append and random access); the view is a
ScrollView that renders only the lines on screen, so 10,000 buffered lines
cost the same to paint as 100.  Every message is untrusted: it is split into
lines, made printable (escape sequences shown as ``\\x1b``), capped in length,
and drawn as plain segments — never parsed as markup.

Events fed by the tail are queued and taken in slices of a few milliseconds
with the event loop free in between (``feed``): a key pressed during a burst
of 100,000 events waits for one slice, not for the whole burst.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timezone
from collections import deque
from typing import Iterable, Iterator, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
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
_LEVEL_WORDS = ("error", "critical", "fatal", "traceback", "exception", "outofmemory", "out of memory", "panic", "warn")
"""Every word _LEVEL can match, in lower case: most lines hold none, and
substring tests rule them out ten times faster than the regex."""

STRIP_CACHE_ROWS = 128
"""Drawn rows kept: a screen or two (each drawn row carries a dozen objects of Textual caches)."""

INGEST_SLICE_SECONDS = 0.005
"""Ingest work done in one go on the event loop; a key press waits at most
this long (plus a frame) for a burst of events to be taken in."""
INGEST_YIELD_SECONDS = 0.001
"""Pause between slices, long enough for a key to travel app → view → action
(a few hops of the message queues) and for a due frame to be painted."""
LAYOUT_EVERY_SECONDS = 0.1
"""While a backlog is taken in, the view's size and scroll (and so a frame)
follow at most this often, not after every slice: a frame costs several
slices' worth of CPU, and a person reads nothing at 60 frames a second."""


class LogLine(NamedTuple):
    """One screen line of an event (multi-line events give several)."""

    event: LogEvent
    text: str
    """Printable, capped text of this line."""
    first: bool
    """The event's first line (shows time and stream)."""
    level: str
    """"error", "warn" or "" for the whole event."""
    cells: int
    """Width of ``text`` on screen."""


_LEVELS = ("", "warn", "error")


class LineRing:
    """A bounded sequence of log lines: appending past ``capacity`` evicts the oldest.

    Lines are kept column by column (event, text, and first/level/width packed
    in one int) and made into LogLine objects only when read.  Ten thousand
    buffered lines are then not ten thousand more objects for Python's
    garbage collector to walk at each full collection, a pause that grows
    with the buffer and lands on whatever key is being answered.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._start = self._count = 0
        self._events: list[LogEvent | None] = [None] * capacity
        self._texts: list[str] = [""] * capacity
        self._meta: list[int] = [0] * capacity
        self.evicted = 0
        """How many lines were pushed out since creation."""

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> LogLine:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        slot = (self._start + index) % self.capacity
        meta = self._meta[slot]
        return LogLine(self._events[slot], self._texts[slot], bool(meta & 1), _LEVELS[(meta >> 1) & 3], meta >> 3)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[LogLine]:
        for index in range(self._count):
            yield self[index]

    def append(self, line: LogLine) -> None:
        if self._count < self.capacity:
            slot = (self._start + self._count) % self.capacity
            self._count += 1
        else:
            slot = self._start
            self._start = (self._start + 1) % self.capacity
            self.evicted += 1
        self._events[slot] = line.event
        self._texts[slot] = line.text
        self._meta[slot] = line.first | _LEVELS.index(line.level) << 1 | line.cells << 3

    def clear(self) -> None:
        """Forget every line (the eviction count is the caller's to reset)."""
        self._events = [None] * self.capacity
        self._texts = [""] * self.capacity
        self._start = self._count = 0


def level_of(message: str) -> str:
    """"error", "warn" or "": the most severe level word in the message's head."""
    head = message[:LEVEL_SCAN_CHARS].lower()
    if not any(word in head for word in _LEVEL_WORDS):
        return ""
    level = ""
    for match in _LEVEL.finditer(message, 0, LEVEL_SCAN_CHARS):
        if match.group("error") or match.group("jerror"):
            return "error"
        level = "warn"
    return level


def line_count(event: LogEvent) -> int:
    """How many screen lines ``lines_of(event)`` makes, without making them."""
    return event.message.rstrip("\n").count("\n") + 1


def lines_of(event: LogEvent) -> list[LogLine]:
    """Split an event into printable screen lines."""
    message = event.message.rstrip("\n")
    level = level_of(message)
    lines = []
    for index, raw in enumerate(message.split("\n") or [""]):
        raw = raw.rstrip("\r")
        # Each character becomes one or more: the cut can be made before the
        # (costlier) escaping, so a megabyte line costs no more than a short one.
        text = printable(raw[:MAX_LINE_CHARS])
        if len(raw) > MAX_LINE_CHARS or len(text) > MAX_LINE_CHARS:
            head, tail = text[:MAX_LINE_CHARS], f"… [{len(raw):,} chars; enter shows the event]"
            text, cells = head + tail, _cells(head) + cell_len(tail)
        else:
            cells = _cells(text)
        lines.append(LogLine(event, text, index == 0, level, cells))
    return lines


def _cells(text: str) -> int:
    """Screen width of printable text (ASCII: its length, known without a scan)."""
    return len(text) if text.isascii() else cell_len(text)


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

    class Ingested(Message):
        """Everything fed has been taken in (line and drop counts are final)."""

    def __init__(self, capacity: int = 10_000, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines = LineRing(capacity)
        self.pending = LineRing(capacity)
        """Lines that arrived while paused (shown on resume)."""
        self._visual: deque[tuple[int, int]] | None = None  # wrap mode: (line seq, start col)
        self._unindexed = 0  # wrap mode: lines appended since the index was last extended
        self._layout_stale = False  # lines were appended since the size was last set
        self._visual_width = 0
        self._skipped = 0  # lines of a batch cut before they entered the ring (still "dropped")
        self._repaint_count = 0
        self._base_for: tuple | None = None
        self._base = Style()
        self._styles: dict[tuple[Style, str], Style] = {}
        self._widest = 0
        self._streams: dict[str, str] = {}
        self._strips: LRUCache[tuple, Strip] = LRUCache(STRIP_CACHE_ROWS)
        """Rows drawn, by (line sequence number, start, scroll_x, width, highlighted, styles…)."""
        self._inbox: deque[tuple[LogEvent, int]] = deque()
        """Events fed but not yet taken in, with their screen line counts."""
        self._inbox_lines = 0
        self._draining = False

    # -- data --------------------------------------------------------------
    @property
    def dropped(self) -> int:
        """Lines pushed out of the buffer (or out of the paused backlog)."""
        return self.lines.evicted + self.pending.evicted + self._skipped

    @property
    def backlog(self) -> int:
        """Events fed and not yet taken in."""
        return len(self._inbox)

    def feed(self, events: Iterable[LogEvent]) -> None:
        """Queue events to be shown, in order, and take in what one slice allows.

        The rest is taken in by a worker, one slice of INGEST_SLICE_SECONDS
        at a time with the loop free in between, so keys and frames are not
        held up by a burst.
        """
        self._enqueue(events)
        self._ingest(INGEST_SLICE_SECONDS)
        if not self._inbox:
            self._catch_up_layout()
        elif not self._draining:  # the layout follows when the backlog is in, or LAYOUT_EVERY_SECONDS on
            self._draining = True
            self.run_worker(self._drain, group="log-ingest", description="log view ingest")

    def add_events(self, events: Iterable[LogEvent]) -> int:
        """Take events in now, whole; returns the number of screen lines added.

        For callers that want the lines at once (tests, benchmarks); the
        tail's bursts go through ``feed``.
        """
        self._enqueue(events)
        added = self._ingest(None)
        self._catch_up_layout()
        return added

    def _enqueue(self, events: Iterable[LogEvent]) -> None:
        """Queue events; a backlog larger than the buffer is cut first: only its
        newest events, those that can still be seen, will be split and made
        printable, the rest count as dropped without costing anything."""
        inbox, capacity = self._inbox, self.lines.capacity
        for event in events:
            count = line_count(event)
            inbox.append((event, count))
            self._inbox_lines += count
        while len(inbox) > 1 and self._inbox_lines - inbox[0][1] >= capacity:
            _, count = inbox.popleft()
            self._inbox_lines -= count
            self._skipped += count

    def _ingest(self, budget: float | None) -> int:
        """Take queued events in, oldest first, for up to ``budget`` seconds
        (at least one event; None: all of them); returns the lines added."""
        inbox = self._inbox
        if not inbox:
            return 0
        target = self.lines if self.follow else self.pending
        following = target is self.lines
        deadline = None if budget is None else time.perf_counter() + budget
        added, widest = 0, self._widest
        while inbox:
            event, count = inbox.popleft()
            self._inbox_lines -= count
            for line in lines_of(event):
                target.append(line)
                if following and line.cells > widest:
                    widest = line.cells
            added += count
            if deadline is not None and time.perf_counter() >= deadline:
                break
        if following:
            self._widest = widest
            self._layout_stale = True
            if self._visual is not None:
                self._unindexed += added
        return added

    async def _drain(self) -> None:
        """Take the backlog in slice by slice, letting the loop run in between."""
        laid_out = time.perf_counter()
        try:
            while self._inbox:
                await asyncio.sleep(INGEST_YIELD_SECONDS)
                self._ingest(INGEST_SLICE_SECONDS)
                if time.perf_counter() - laid_out >= LAYOUT_EVERY_SECONDS:
                    self._catch_up_layout()
                    laid_out = time.perf_counter()
        finally:
            self._draining = False
        self._catch_up_layout()
        self.post_message(self.Ingested())

    def clear(self) -> None:
        self._strips.clear()  # sequence numbers start again from 0
        self._inbox.clear()
        self._inbox_lines = 0
        self.lines.clear()
        self.pending.clear()
        self.lines.evicted = self.pending.evicted = self._skipped = 0
        self._widest = 0
        self.cursor = -1
        self._layout_changed()

    def _flush_pending(self) -> None:
        for line in self.pending:
            self.lines.append(line)
            self._widest = max(self._widest, line.cells)
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

    def _catch_up_layout(self) -> None:
        """Size and scroll for the lines appended since the last layout."""
        if self._layout_stale:
            self._layout_changed(rebuild=False)

    def _layout_changed(self, rebuild: bool = True) -> None:
        """Recompute the scrollable size; when lines were only appended
        (``rebuild=False``) the wrap index is extended instead of rebuilt."""
        self._layout_stale = False
        if rebuild:
            self._visual = None
        height = self._visual_count()
        width = self._prefix_width() + (0 if self.wrap else self._widest)
        before, self.virtual_size = self.virtual_size, Size(width, height)
        if self.follow:
            # Lines only appended, the width and the scrollbars as they were: the
            # end is known now, and scrolling there now saves the frame a
            # scroll after the next refresh would cost.
            settled = not rebuild and width == before.width and self.show_vertical_scrollbar
            self.scroll_end(animate=False, immediate=settled, x_axis=False)
        self.refresh()

    def _text_width(self) -> int:
        return max(10, self.scrollable_content_region.width - self._prefix_width())

    def _visual_index(self) -> deque[tuple[int, int]]:
        """Wrap mode only: screen rows as (line sequence number, start column).

        Sequence numbers count every line ever added (index + evicted), so
        evicting old lines drops rows from the left and appending adds rows at
        the right: the index grows with the lines added, not with the buffer.
        """
        width = self._text_width()
        if self._visual is not None and width != self._visual_width:
            # The text area changed under the index (the vertical scrollbar
            # came with the lines): rebuild it, and the size after it.
            self._visual = None
            self.call_later(self._layout_changed, False)
        if self._visual is None:
            self._visual = deque()
            self._visual_width = width
            self._extend_visual(len(self.lines))
        elif self._unindexed:
            self._extend_visual(self._unindexed)
        self._unindexed = 0
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
        """One screen row; rows already drawn come from a cache, so a frame
        after new lines scrolled the view only draws the new ones."""
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width
        base = self._base_style()
        if self.wrap:
            found = self._visual_row(row)
            if found is None:
                return Strip.blank(width, base)
            index, start = found
            scroll_x = 0
        else:
            if row >= len(self.lines):
                return Strip.blank(width, base)
            index, start = row, 0
        highlighted = self.cursor == index and not self.follow
        key = (index + self.lines.evicted, start, scroll_x, width, highlighted, base, self.timestamps, self.wrap, self._stream_width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(self.lines[index], start, scroll_x, width, highlighted, base)
        return strip

    def _render_row(self, line: LogLine, start: int, scroll_x: int, width: int, highlighted: bool, base: Style) -> Strip:
        """A row of ``line``: from column ``start`` of its text when wrapping,
        else the whole line seen from ``scroll_x``."""
        if self.wrap:
            text = line.text[start : start + self._text_width()]
            first = line.first and start == 0
        else:
            text, first = line.text, line.first
            seen = text[: max(0, scroll_x + width - self._prefix_width())]
            if seen.isascii():  # one cell per character: what lies right of the screen can go uncropped
                text = seen
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
