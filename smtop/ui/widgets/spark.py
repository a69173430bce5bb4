"""A sparkline that grows with the room it gets.

Textual's Sparkline draws one line.  With a tall terminal the metric panel has
room for two or three lines per metric, and eighth-blocks stacked over several
lines show a latency spike's shape instead of a single block, which is what
people look at first in a demo and at 3 a.m.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from smtop.ui.themes import glyphs_of

_BLOCKS = " ▁▂▃▄▅▆▇█"
_ASCII = " .,:-=+*#"
"""Nine steps like the eighth-blocks, for terminals that cannot draw them (see smtop.ui.themes)."""


def bucket(values: Sequence[float], width: int) -> list[float]:
    """At most ``width`` columns: the max of each slice, newest at the right.

    With fewer values than columns each value gets one column (right-aligned
    by the caller), so a short history is not stretched into false plateaus.
    """
    n = len(values)
    if n <= width:
        return list(values)
    return [max(values[(i * n) // width : ((i + 1) * n) // width]) for i in range(width)]


def marked_columns(marks: frozenset[int], count: int, width: int) -> set[int]:
    """The columns that show any of the value indices in ``marks`` (see :func:`bucket`)."""
    if count <= width:
        pad = width - count
        return {pad + i for i in marks if 0 <= i < count}
    columns = set()
    for i in marks:
        if 0 <= i < count:
            # Column c holds values[(c*n)//w : ((c+1)*n)//w]; invert that for i.
            column = i * width // count
            while column + 1 < width and ((column + 1) * count) // width <= i:
                column += 1
            while column > 0 and (column * count) // width > i:
                column -= 1
            columns.add(column)
    return columns


class TallSparkline(Widget):
    """Values as stacked eighth-blocks, coloured from min to max; marked values
    (deployments) sit on a column tinted with the marker colour (magenta: apart
    from the blue-to-orange ramp of the bars)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"spark--min-color", "spark--max-color", "spark--marker"}
    DEFAULT_CSS = """
    TallSparkline { height: 1; }
    TallSparkline > .spark--min-color { color: $primary 50%; }
    TallSparkline > .spark--max-color { color: $accent; }
    TallSparkline > .spark--marker { color: #d24dff; }
    """

    data: reactive[tuple[float, ...]] = reactive(tuple, layout=False)
    """The values, oldest first."""
    marks: reactive[frozenset[int]] = reactive(frozenset, layout=False)
    """Indices into ``data`` to mark (the periods an endpoint was deployed in)."""

    def __init__(self, data: Sequence[float] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_reactive(TallSparkline.data, tuple(data))
        self._columns: list[float] = []
        self._columns_for: tuple[tuple[float, ...] | None, int] = (None, -1)

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if width <= 0 or not self.data:
            return Strip.blank(width, self.rich_style)
        data, bucketed_for, bucketed_width = self.data, *self._columns_for
        if data is not bucketed_for or width != bucketed_width:
            self._columns = bucket(data, width)
            self._columns_for = (data, width)
        columns = self._columns
        # Every metric smtop shows is non-negative: bars start at zero so noise
        # on a steady series looks steady and a real spike stands out.
        low, high = min(0.0, min(columns)), max(columns)
        span = high - low
        levels = height * 8
        base = (height - 1 - y) * 8  # eighths below this line
        low_color = self.get_component_rich_style("spark--min-color").color or RichColor.default()
        high_color = self.get_component_rich_style("spark--max-color").color or RichColor.default()
        background = self.rich_style.bgcolor
        marked = marked_columns(self.marks, len(data), width) if self.marks else set()
        marker = self.get_component_rich_style("spark--marker").color or RichColor.parse("magenta")
        tint = _blend(RichColor.from_rgb(0, 0, 0) if background is None else background, marker, 0.55)
        ascii_only = glyphs_of(self.app) == "ascii"
        ramp, rule = (_ASCII, "|") if ascii_only else (_BLOCKS, "│")
        pad = width - len(columns)
        segments = [Segment(" " * pad, self.rich_style)] if pad > 0 else []
        for column, value in enumerate(columns, start=pad):
            share = (value - low) / span if span > 0 else 0.0
            # Every value gets at least one eighth, so a flat line is visible.
            level = 1 + round(share * (levels - 1))
            fill = min(8, max(0, level - base))
            color = _blend(low_color, high_color, share)
            if column in marked:
                # The bar keeps its colour (the spike must still read); the
                # column behind it is tinted, and an empty cell shows a rule.
                glyph, fg = (ramp[fill], color) if fill else (rule, marker)
                segments.append(Segment(glyph, Style(color=fg, bgcolor=tint)))
                continue
            segments.append(Segment(ramp[fill], Style(color=color, bgcolor=background)))
        return Strip(segments, width)

    def watch_data(self) -> None:
        self.refresh()

    def watch_marks(self) -> None:
        self.refresh()


def _blend(low: RichColor, high: RichColor, share: float) -> RichColor:
    a, b = low.get_truecolor(), high.get_truecolor()
    return RichColor.from_rgb(*(x + (y - x) * share for x, y in zip(a, b)))
