"""One metric of one endpoint as a plotext chart with a time axis and its deployments."""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.containers import Vertical
from textual.widgets import Footer, Label
from textual_plotext import PlotextPlot

from smtop import format as fmt
from smtop.ui.themes import glyphs_of, plot_marker
from smtop.format import printable, safe_text
from smtop.models.catalog import METRICS
from smtop.models import EndpointMetrics
from smtop.models.cloudtrail import TrailEvent


class MetricDetailScreen(ModalScreen[None]):
    """A chart of every statistic smtop polls for the metric, over the window."""

    BINDINGS = [Binding("escape", "dismiss", "Back"), Binding("q", "dismiss", "Back", show=False)]

    def __init__(self, endpoint: str, metric: str, metrics: EndpointMetrics, deployments: tuple[TrailEvent, ...] = ()) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.metric = metric
        self._metrics = metrics
        self.deployments = deployments
        """The endpoint's deployments (CloudTrail), drawn as vertical lines."""

    def compose(self) -> ComposeResult:
        with Vertical(id="metric-detail"):
            yield Label(id="metric-detail-title")
            yield PlotextPlot(id="metric-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.show(self._metrics)

    def show(self, metrics: EndpointMetrics) -> None:
        """Redraw from newer data (the app forwards every snapshot)."""
        if metrics.endpoint != self.endpoint:
            return
        self._metrics = metrics
        spec = METRICS[self.metric]
        unit = spec.unit
        title = self.query_one("#metric-detail-title", Label)
        title.update(safe_text(f"{spec.name} · {self.endpoint} · {spec.description} ({unit})"))
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.date_form("Y-m-d H:M", "H:M")  # full dates in, so a window across midnight stays in order
        plt.xlabel("time (UTC)")
        plt.ylabel(unit)
        plotted = False
        for stat in spec.stats:
            series = metrics.get(self.metric, stat)
            if series is None or not series.values:
                continue
            times = [datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M") for ts in series.timestamps]
            values = [spec.shown(v, series.period) for v in series.values]
            plt.plot(times, values, label=f"{stat} (now {fmt.compact(values[-1])})", marker=plot_marker(glyphs_of(self.app)))
            plotted = True
        if not plotted:
            plt.title("no datapoints in the window")
        else:
            self._draw_deployments(plt, metrics)
        plot.refresh()

    def mark(self, deployments: tuple[TrailEvent, ...]) -> None:
        """Redraw with these deployments of the endpoint marked."""
        if deployments != self.deployments:
            self.deployments = deployments
            self.show(self._metrics)

    def _draw_deployments(self, plt, metrics: EndpointMetrics) -> None:
        """A vertical line at each deployment inside the plotted window, labelled with who."""
        series = metrics.get(self.metric)
        if series is None or not series.timestamps:
            return
        first, last = series.timestamps[0], series.timestamps[-1] + series.period
        top = max((METRICS[self.metric].shown(v, series.period) for v in series.values), default=0.0)
        shown = [e for e in self.deployments if first <= e.time.timestamp() < last]
        for event in shown:
            x = plt.string_to_time(event.time.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M"))
            plt.vline(x, "magenta")
        if shown:
            # Only the latest is labelled: a busy canary has a deploy every few minutes.
            latest = shown[-1]
            x = plt.string_to_time(latest.time.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M"))
            # plotext draws text as given: printable() keeps escapes out of the terminal.
            plt.text(printable(f"{latest.name} · {latest.who} ▸"), x, top, color="magenta", alignment="right")
