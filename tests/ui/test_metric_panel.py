"""The metric panel's rows: one widget each, drawing label │ sparkline │ value.

The panel runs alone in a small app here (the console's own tests drive it
with the simulator's data): what a row shows is checked cell by cell against
series whose bars are known without smtop's code (a zero and a maximum are the
lowest and the highest step of the ramp).
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from smtop import format as fmt
from smtop.models.catalog import METRICS
from smtop.models import EndpointMetrics, MetricSeries
from smtop.ui.widgets.metric_panel import LABEL_WIDTH, VALUE_WIDTH, MetricPanel, MetricRow

PANEL_WIDTH = 78
"""The panel's inside at 80 columns (the narrow layout gives it the whole width, less its border)."""


class PanelApp(App[None]):
    CSS = "MetricPanel { border: round $primary; height: 12; }"
    """Ten one-line rows in their border, as at 80×24."""

    def __init__(self, glyphs: str = "braille") -> None:
        super().__init__()
        self.glyphs = glyphs
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield MetricPanel(id="metrics")

    def on_metric_panel_opened(self, message: MetricPanel.Opened) -> None:
        self.opened.append(message.metric)


def low_high(metric: str, stat: str | None = None, values=(0.0, 8.0)) -> MetricSeries:
    stat = stat or METRICS[metric].stats[0]
    return MetricSeries(metric, stat, 60, tuple(60.0 * i for i in range(len(values))), tuple(values))


def metrics() -> EndpointMetrics:
    """Invocations and CPU climb from zero to their peak; no GPU metric at all."""
    series = [low_high("Invocations"), low_high("CPUUtilization")]
    return EndpointMetrics("ep", {(s.metric, s.stat): s for s in series})


def text_of(row: MetricRow, y: int = 0) -> str:
    return row.render_line(y).text


@pytest.mark.parametrize(("glyphs", "bars"), [("braille", "▁█"), ("block", "▁█"), ("ascii", ".#")])
async def test_a_row_at_80_columns_is_label_sparkline_value(glyphs, bars):
    app = PanelApp(glyphs)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(MetricPanel)
        panel.show(metrics(), has_gpu=False)
        await pilot.pause()
        row = app.query_one("#metric-Invocations", MetricRow)
        assert row.size.width == PANEL_WIDTH and row.size.height == 1
        line = text_of(row)
        assert len(line) == PANEL_WIDTH
        spark_width = PANEL_WIDTH - LABEL_WIDTH - VALUE_WIDTH - 2
        assert line[:LABEL_WIDTH] == "Invocations".ljust(LABEL_WIDTH)
        # Two values, right-aligned in the sparkline's columns: lowest step, then full.
        # A space either side of the sparkline.
        assert line[LABEL_WIDTH : LABEL_WIDTH + 2 + spark_width] == " " + " " * (spark_width - 2) + bars + " "
        value = line[-VALUE_WIDTH:]
        assert value.lstrip() == row.value.plain and value.endswith("/min")
        # No data: a blank sparkline and the reason in the value column.
        gpu = text_of(app.query_one("#metric-GPUUtilization", MetricRow))
        assert gpu.startswith("GPU ") and gpu.endswith(" no GPU") and set(gpu[LABEL_WIDTH:-7]) == {" "}
        memory = text_of(app.query_one("#metric-MemoryUtilization", MetricRow))
        assert memory.rstrip().endswith(f" {fmt.MISSING}")


async def test_tall_rows_stack_the_bars_and_keep_label_and_value_on_the_bottom_line():
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(MetricPanel)
        panel.styles.height = 22  # room for two lines a row, as on a tall terminal
        panel.show(metrics(), has_gpu=False)
        await pilot.pause()
        row = app.query_one("#metric-CPUUtilization", MetricRow)
        assert row.size.height == 2
        top, bottom = text_of(row, 0), text_of(row, 1)
        # Zero is one eighth of the bottom cell; the peak fills both cells.
        spark = slice(LABEL_WIDTH + 1, PANEL_WIDTH - VALUE_WIDTH - 1)
        assert top[spark].endswith(" █") and bottom[spark].endswith("▁█")
        assert top.strip() == "█" and bottom.startswith("CPU ") and bottom.rstrip().endswith("%")


async def test_enter_and_a_click_on_a_row_open_its_chart_and_the_cursor_is_drawn():
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(MetricPanel)
        panel.show(metrics(), has_gpu=False)
        panel.focus()
        await pilot.pause()
        first = app.query_one("#metric-Invocations", MetricRow)
        second = app.query_one("#metric-InvocationsPerInstance", MetricRow)
        other = app.query_one("#metric-DiskUtilization", MetricRow)

        def background(row: MetricRow):
            return next(iter(row.render_line(0))).style.bgcolor

        assert background(first) != background(second) == background(other)  # the cursor is on the first row
        await pilot.press("down", "enter")
        assert panel.selected_metric == "InvocationsPerInstance"
        assert background(second) != background(first) == background(other)
        await pilot.click("#metric-ModelLatency", offset=(2, 0))
        await pilot.pause()
        assert app.opened == ["InvocationsPerInstance", "ModelLatency"]
