"""A query's results full screen: the table, and a chart when the query is ``stats … by bin(…)``."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label
from textual_plotext import PlotextPlot

from smtop.ui.themes import glyphs_of, plot_marker
from smtop.format import printable, safe_text
from smtop.models.insights import QueryProgress, QueryRequest

_BIN_TIME = "%Y-%m-%d %H:%M:%S.%f"


def bin_column(fields: tuple[str, ...]) -> int | None:
    """Which column holds ``bin(…)`` times (by name, or None)."""
    for index, name in enumerate(fields):
        if name.replace(" ", "").lower().startswith("bin("):
            return index
    return None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def sort_rows(rows, column: int | None, reverse: bool):
    """Rows ordered by one column: numerically when every value there is a number."""
    if column is None:
        return list(rows)
    values = [row[column] for row in rows]
    numeric = all(_number(v) is not None for v in values if v is not None)
    present = [r for r in rows if r[column] is not None]
    missing = [r for r in rows if r[column] is None]
    key = (lambda r: _number(r[column])) if numeric else (lambda r: r[column])
    return sorted(present, key=key, reverse=reverse) + missing


def chart_series(fields: tuple[str, ...], rows) -> tuple[list[str], dict[str, list[float]]]:
    """Times (oldest first) and, for every all-numeric column, its values per bin."""
    at = bin_column(fields)
    if at is None:
        return [], {}
    ordered = sorted((r for r in rows if r[at]), key=lambda r: r[at])
    times = [datetime.strptime(r[at], _BIN_TIME).strftime("%Y-%m-%d %H:%M:%S") for r in ordered]
    series = {}
    for index, name in enumerate(fields):
        if index == at:
            continue
        values = [_number(r[index]) for r in ordered]
        if values and all(v is not None for v in values):
            series[name] = values
    return times, series


class InsightsResultsScreen(ModalScreen[None]):
    """Every row of one run; the chart above it for binned stats."""

    BINDINGS = [Binding("escape", "dismiss", "Back"), Binding("q", "dismiss", "Back", show=False)]

    def __init__(self, request: QueryRequest, progress: QueryProgress) -> None:
        super().__init__()
        self.request = request
        self.progress = progress

    def compose(self) -> ComposeResult:
        with Vertical(id="insights-results-screen"):
            yield Label(id="insights-results-title")
            yield PlotextPlot(id="insights-chart")
            yield DataTable(id="insights-results-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        request, progress = self.request, self.progress
        whose = request.endpoint or ", ".join(request.log_groups)
        span = f"{request.start:%H:%M}–{request.end:%H:%M} UTC"
        capped = " (capped at 10,000)" if progress.capped else ""
        self.query_one("#insights-results-title", Label).update(
            safe_text(f"{request.name or 'query'} · {whose} · {span} · {len(progress.rows):,} rows{capped}")
        )
        table = self.query_one("#insights-results-table", DataTable)
        for name in progress.fields:
            table.add_column(Text(printable(name)))
        table.add_rows([[Text(printable(v or "")) for v in row] for row in progress.rows])
        times, series = chart_series(progress.fields, progress.rows)
        plot = self.query_one(PlotextPlot)
        plot.display = bool(series)
        if series:
            plt = plot.plt
            plt.clear_data()
            plt.clear_figure()
            plt.date_form("Y-m-d H:M:S", "H:M")
            plt.xlabel("bin start (UTC)")
            # A count beside latencies (requests next to p99) would be a flat line
            # at the bottom hiding the others: series ten times smaller get the right axis.
            top = max(max(values) for values in series.values())
            for name, values in series.items():
                side = "right" if max(values) * 10 < top else "left"
                label = printable(name) + (" (right axis)" if side == "right" else "")
                plt.plot(times, values, label=label, marker=plot_marker(glyphs_of(self.app)), yside=side)
            plot.refresh()
