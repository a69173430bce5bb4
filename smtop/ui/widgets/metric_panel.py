"""The selected endpoint's ten metrics as sparklines with their current value."""

from __future__ import annotations

import bisect
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.strip import Strip
from textual.widgets import ListItem, ListView

from smtop import format as fmt
from smtop.models.catalog import METRICS, MetricSpec
from smtop.models import EndpointMetrics, MetricSeries
from smtop.ui.widgets.spark import SPARK_COMPONENTS, SPARK_CSS, SparkColors, SparkPainter


MARKED_METRICS = frozenset({"ModelLatency"})
"""Sparklines that carry the deployment markers."""
LOADING = "…"
"""The value of a panel-only metric still on its way after a selection change."""
LABEL_WIDTH = 13
VALUE_WIDTH = 22
"""Fixed columns either side of the sparkline, which gets the rest less a space each side."""


class MetricRow(ListItem):
    """label │ sparkline │ value (unit), drawn by the row itself.

    One widget per metric, not a Horizontal of two Labels and a sparkline: the
    ten rows were fifty DOM nodes for Textual to style at start-up and walk at
    every refresh, for a layout that never changes; now they are ten.  The
    label and the value sit on the bottom line; the sparkline takes the row's
    height.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"metric-row--label", *SPARK_COMPONENTS}
    DEFAULT_CSS = SPARK_CSS.format(owner="MetricRow")
    """The label's colour is in smtop.tcss (``MetricRow > .metric-row--label``)."""

    def __init__(self, spec: MetricSpec) -> None:
        super().__init__(id=f"metric-{spec.name}")
        self.spec = spec
        self.data: tuple[float, ...] = ()
        """The sparkline's values, oldest first."""
        self.marks: frozenset[int] = frozenset()
        """Indices into ``data`` to mark (the periods an endpoint was deployed in)."""
        self.value = Text(fmt.MISSING, no_wrap=True, justify="right")
        """The value column's text."""
        self._painter = SparkPainter()

    def show(self, metrics: EndpointMetrics, has_gpu: bool, deployed_at: tuple[float, ...] = (), loading: bool = False) -> None:
        """``loading``: the endpoint's panel-only metrics (catalog ``selected_only``) are on their way."""
        spec = self.spec
        main = metrics.get(spec.name)
        data = tuple(main.values) if main is not None else ()
        # Deployments are marked on the latency row only: tinting all ten rows
        # buried the bars on narrow terminals, and latency is where a bad
        # deploy shows first.  The chart (enter) marks them on any metric.
        marked = main is not None and spec.name in MARKED_METRICS
        marks = periods_of(main, deployed_at) if marked else frozenset()
        value = self._value_text(metrics, main, has_gpu, loading)
        if (data, marks, value) != (self.data, self.marks, self.value):
            # Only a row whose picture changed is drawn again, and without a
            # layout pass (the columns have fixed widths).
            self.data, self.marks, self.value = data, marks, value
            self.refresh()

    def _value_text(self, metrics: EndpointMetrics, main: MetricSeries | None, has_gpu: bool, loading: bool) -> Text:
        spec = self.spec
        value = Text(no_wrap=True, justify="right")
        if spec.gpu_only and not has_gpu and (main is None or not main.values):
            value.append("no GPU", style="dim")
        elif main is None and loading and spec.selected_only:
            value.append(LOADING, style="dim")
        elif main is None or main.latest is None:
            value.append(fmt.MISSING, style="dim")
        else:
            value.append(fmt.metric_value(spec.name, main.latest, period=main.period))
            p99 = metrics.get(spec.name, "p99") if "p99" in spec.stats else None
            if p99 is not None and p99.latest is not None:
                value.append(" · p99 ", style="dim")
                value.append(fmt.compact(spec.to_display(p99.latest)), style="bold")
        return value

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        base = self.rich_style
        bottom = y == height - 1
        label_style = self.get_visual_style("metric-row--label").rich_style
        label = self.spec.label[:LABEL_WIDTH].ljust(LABEL_WIDTH) if bottom else " " * LABEL_WIDTH
        spark_width = max(0, width - LABEL_WIDTH - VALUE_WIDTH - 2)
        spark = self._painter.segments(self.data, self.marks, spark_width, height, y, SparkColors.of(self))
        segments = [Segment(label, label_style), Segment(" ", base), *spark, Segment(" ", base)]
        segments += self._value_segments(base) if bottom else [Segment(" " * VALUE_WIDTH, base)]
        return Strip(segments).adjust_cell_length(width, base)

    def _value_segments(self, base: Style) -> list[Segment]:
        """The value, right-aligned in its column (cropped at the right if longer)."""
        rendered = Segment.apply_style(self.value.render(self.app.console), base)
        strip = Strip(rendered)
        pad = VALUE_WIDTH - strip.cell_length
        if pad < 0:
            return list(strip.crop(0, VALUE_WIDTH))
        # Blank cells in a style of their own (background only), as a Label
        # pads: merged into the value's text they would be exported as
        # no-break spaces, which SVG viewers draw narrower (screenshots).
        return [Segment(" " * pad, Style(bgcolor=base.bgcolor)), *strip] if pad else list(strip)


def periods_of(series: MetricSeries, moments: tuple[float, ...]) -> frozenset[int]:
    """Indices of the datapoints whose period holds one of ``moments`` (epoch seconds)."""
    stamps = series.timestamps
    found = set()
    for moment in moments:
        index = bisect.bisect_right(stamps, moment) - 1
        if index >= 0 and moment < stamps[index] + series.period:
            found.add(index)
    return frozenset(found)


class MetricPanel(ListView):
    """Ten metric rows; enter opens the metric's chart.  Deployments of the
    endpoint (from CloudTrail) are marked on every sparkline at their time."""

    class Opened(Message):
        def __init__(self, metric: str) -> None:
            super().__init__()
            self.metric = metric

    def __init__(self, **kwargs) -> None:
        super().__init__(*(MetricRow(spec) for spec in METRICS.values()), **kwargs)
        self._shown: tuple[EndpointMetrics, bool, bool] | None = None
        self.deployed_at: tuple[float, ...] = ()
        """When the shown endpoint was deployed (epoch seconds), oldest first."""

    def show(self, metrics: EndpointMetrics, has_gpu: bool, loading: bool = False) -> None:
        """``loading``: the rows of panel-only metrics show "…" where they have no data yet."""
        self._shown = (metrics, has_gpu, loading)
        for row in self.query(MetricRow):
            row.show(metrics, has_gpu, self.deployed_at, loading)

    def mark_deployments(self, moments: tuple[float, ...]) -> None:
        """Mark these moments (the endpoint's deployments) on every sparkline."""
        if moments == self.deployed_at:
            return
        self.deployed_at = moments
        if self._shown is not None:
            self.show(*self._shown)

    def on_resize(self) -> None:
        # Tall terminals get taller sparklines: the ten rows share the height.
        rows = list(self.query(MetricRow))
        height = max(1, min(4, self.scrollable_content_region.height // max(1, len(rows))))
        for row in rows:
            row.styles.height = height

    @property
    def selected_metric(self) -> str | None:
        item = self.highlighted_child
        return item.spec.name if isinstance(item, MetricRow) else None

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, MetricRow):
            self.post_message(self.Opened(event.item.spec.name))
