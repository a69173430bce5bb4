"""The selected endpoint's ten metrics as sparklines with their current value."""

from __future__ import annotations

import bisect

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label, ListItem, ListView

from smtop import format as fmt
from smtop.catalog import METRICS, MetricSpec
from smtop.models import EndpointMetrics, MetricSeries
from smtop.ui.widgets.spark import TallSparkline


MARKED_METRICS = frozenset({"ModelLatency"})
"""Sparklines that carry the deployment markers."""
LOADING = "…"
"""The value of a panel-only metric still on its way after a selection change."""


class MetricRow(ListItem):
    """label │ sparkline │ value (unit)."""

    def __init__(self, spec: MetricSpec) -> None:
        super().__init__(id=f"metric-{spec.name}")
        self.spec = spec
        self._value: Text | None = None
        """The value text shown, so an unchanged one is not drawn again."""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.spec.label, classes="metric-label")
            yield TallSparkline(classes="metric-spark")
            yield Label(fmt.MISSING, classes="metric-value")

    def show(self, metrics: EndpointMetrics, has_gpu: bool, deployed_at: tuple[float, ...] = (), loading: bool = False) -> None:
        """``loading``: the endpoint's panel-only metrics (catalog ``selected_only``) are on their way."""
        spec = self.spec
        main = metrics.get(spec.name)
        values = list(main.values) if main is not None else []
        spark = self.query_one(TallSparkline)
        spark.data = tuple(values)
        # Deployments are marked on the latency row only: tinting all ten rows
        # buried the bars on narrow terminals, and latency is where a bad
        # deploy shows first.  The chart (enter) marks them on any metric.
        marked = main is not None and spec.name in MARKED_METRICS
        spark.marks = periods_of(main, deployed_at) if marked else frozenset()
        value = Text(no_wrap=True, justify="right")
        if spec.gpu_only and not has_gpu and not values:
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
        if value != self._value:
            # The value column has a fixed width (smtop.tcss): no layout pass, which
            # would repaint the whole screen each refresh, for ten rows.
            self._value = value
            self.query_one(".metric-value", Label).update(value, layout=False)


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
