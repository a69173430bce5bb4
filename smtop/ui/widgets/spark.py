"""Sparklines that grow with the room they get.

Textual's Sparkline draws one line.  With a tall terminal the metric panel has
room for two or three lines per metric, and eighth-blocks stacked over several
lines show a latency spike's shape instead of a single block, which is what
people look at first in a demo and at 3 a.m.

:class:`SparkPainter` draws one line of one; the metric panel's rows call it
inline, so a row is one DOM node rather than four (label, sparkline, value
and their container).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style
from textual.widget import Widget

from smtop.ui.themes import glyphs_of

_BLOCKS = " ▁▂▃▄▅▆▇█"
_ASCII = " .,:-=+*#"
"""Nine steps like the eighth-blocks, for terminals that cannot draw them (see smtop.ui.themes)."""

SPARK_CSS = """
{owner} > .spark--min-color {{ color: $primary 50%; }}
{owner} > .spark--max-color {{ color: $accent; }}
{owner} > .spark--marker {{ color: #d24dff; }}
"""
"""The sparkline's colours, as component classes of the widget that draws it."""
SPARK_COMPONENTS = frozenset({"spark--min-color", "spark--max-color", "spark--marker"})


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


@dataclass(frozen=True)
class SparkColors:
    """What a sparkline is drawn with, read from its widget's styles once per line."""

    base: Style
    """The widget's own style (its background fills the padding)."""
    low: RichColor
    high: RichColor
    marker: RichColor
    ascii_only: bool

    @classmethod
    def of(cls, widget: Widget) -> SparkColors:
        """The colours of ``widget``'s ``spark--*`` component classes (see :data:`SPARK_CSS`)."""
        return cls(
            base=widget.rich_style,
            low=widget.get_component_rich_style("spark--min-color").color or RichColor.default(),
            high=widget.get_component_rich_style("spark--max-color").color or RichColor.default(),
            marker=widget.get_component_rich_style("spark--marker").color or RichColor.parse("magenta"),
            ascii_only=glyphs_of(widget.app) == "ascii",
        )


class SparkPainter:
    """Draws values as stacked eighth-blocks, coloured from min to max; marked
    values (deployments) sit on a column tinted with the marker colour
    (magenta: apart from the blue-to-orange ramp of the bars).

    Keeps the bucketed columns of the last data and width, since every line of
    a multi-line sparkline needs them.
    """

    def __init__(self) -> None:
        self._columns: list[float] = []
        self._columns_for: tuple[tuple[float, ...] | None, int] = (None, -1)

    def _bucketed(self, data: tuple[float, ...], width: int) -> list[float]:
        bucketed_for, bucketed_width = self._columns_for
        if data is not bucketed_for or width != bucketed_width:
            self._columns = bucket(data, width)
            self._columns_for = (data, width)
        return self._columns

    def segments(
        self, data: tuple[float, ...], marks: frozenset[int], width: int, height: int, y: int, colors: SparkColors
    ) -> list[Segment]:
        """Line ``y`` (0 = top) of a sparkline ``width`` × ``height`` cells."""
        if width <= 0:
            return []
        if not data:
            return [Segment(" " * width, colors.base)]
        columns = self._bucketed(data, width)
        # Every metric smtop shows is non-negative: bars start at zero so noise
        # on a steady series looks steady and a real spike stands out.
        low, high = min(0.0, min(columns)), max(columns)
        span = high - low
        levels = height * 8
        base = (height - 1 - y) * 8  # eighths below this line
        background = colors.base.bgcolor
        marked = marked_columns(marks, len(data), width) if marks else set()
        tint = _blend(RichColor.from_rgb(0, 0, 0) if background is None else background, colors.marker, 0.55)
        ramp, rule = (_ASCII, "|") if colors.ascii_only else (_BLOCKS, "│")
        pad = width - len(columns)
        segments = [Segment(" " * pad, colors.base)] if pad > 0 else []
        for column, value in enumerate(columns, start=pad):
            share = (value - low) / span if span > 0 else 0.0
            # Every value gets at least one eighth, so a flat line is visible.
            level = 1 + round(share * (levels - 1))
            fill = min(8, max(0, level - base))
            color = _blend(colors.low, colors.high, share)
            if column in marked:
                # The bar keeps its colour (the spike must still read); the
                # column behind it is tinted, and an empty cell shows a rule.
                glyph, fg = (ramp[fill], color) if fill else (rule, colors.marker)
                segments.append(Segment(glyph, Style(color=fg, bgcolor=tint)))
                continue
            segments.append(Segment(ramp[fill], Style(color=color, bgcolor=background)))
        return segments


def _blend(low: RichColor, high: RichColor, share: float) -> RichColor:
    a, b = low.get_truecolor(), high.get_truecolor()
    return RichColor.from_rgb(*(x + (y - x) * share for x, y in zip(a, b)))
