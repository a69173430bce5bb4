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

_BLOCKS = " ▁▂▃▄▅▆▇█"


def bucket(values: Sequence[float], width: int) -> list[float]:
    """At most ``width`` columns: the max of each slice, newest at the right.

    With fewer values than columns each value gets one column (right-aligned
    by the caller), so a short history is not stretched into false plateaus.
    """
    n = len(values)
    if n <= width:
        return list(values)
    return [max(values[(i * n) // width : ((i + 1) * n) // width]) for i in range(width)]


class TallSparkline(Widget):
    """Values as stacked eighth-blocks, coloured from min to max."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"spark--min-color", "spark--max-color"}
    DEFAULT_CSS = """
    TallSparkline { height: 1; }
    TallSparkline > .spark--min-color { color: $primary 50%; }
    TallSparkline > .spark--max-color { color: $accent; }
    """

    data: reactive[tuple[float, ...]] = reactive(tuple, layout=False)
    """The values, oldest first."""

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
        segments = [Segment(" " * (width - len(columns)), self.rich_style)] if len(columns) < width else []
        for value in columns:
            share = (value - low) / span if span > 0 else 0.0
            # Every value gets at least one eighth, so a flat line is visible.
            level = 1 + round(share * (levels - 1))
            fill = min(8, max(0, level - base))
            color = _blend(low_color, high_color, share)
            segments.append(Segment(_BLOCKS[fill], Style(color=color, bgcolor=background)))
        return Strip(segments, width)

    def watch_data(self) -> None:
        self.refresh()


def _blend(low: RichColor, high: RichColor, share: float) -> RichColor:
    a, b = low.get_truecolor(), high.get_truecolor()
    return RichColor.from_rgb(*(x + (y - x) * share for x, y in zip(a, b)))
