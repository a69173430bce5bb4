"""The endpoint table draws exactly what Textual's DataTable drew for it.

``RowTable`` renders its cells without Rich's console (that is where
DataTable's time went at 1,000 endpoints).  These tests put the same cells in
a real ``DataTable`` configured as the old table was (row cursor, zebra
stripes, no cell padding, the same column widths) and compare the two
widgets' rendered lines segment by segment: text, colours, bold, and the
row/column metadata that mouse clicks read.  Hostile names (markup, wide
characters, over-long), firing marks, warning colours, missing values, the
cursor, focus and scrolling are all in the picture.
"""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot, MetricSeries, Variant
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.themes import HIGH_CONTRAST
from smtop.ui.widgets.row_table import RowTable

NOW = 1_767_225_600.0
NAMES = [
    "[bold red]not-markup",
    "推理端点-日本語モデル-wide",  # wide characters, cut in the middle of one
    "a-very-long-endpoint-name-that-never-fits-the-column-at-all",
    "plain",
    *(f"fleet-{i:02d}" for i in range(26)),
]
STATUSES = ["InService", "Failed", "Creating", "Weird\x1b[31mStatus"]


def fleet() -> FleetSnapshot:
    endpoints, metrics = [], {}
    for i, name in enumerate(NAMES):
        variants = tuple(Variant(f"v{v}", "ml.g5.xlarge", 1 + i % 3, 1 + i % 3, 1.0) for v in range(1 + (i % 4 == 0)))
        endpoints.append(Endpoint(name, STATUSES[i % len(STATUSES)], variants=variants))
        series = {}
        if i % 7:  # every seventh endpoint has no data at all
            calls = 1000.0 * (i + 1)
            values = {
                ("Invocations", "Sum"): calls,
                ("Invocation4XXErrors", "Sum"): calls * (i % 5) / 100,  # 0 … 4 %: under and over the thresholds
                ("Invocation5XXErrors", "Sum"): calls * (i % 3) / 100,
                ("ModelLatency", "Average"): 1000.0 * i,
                ("GPUUtilization", "Average"): 10.0 * (i % 11),
            }
            series = {key: MetricSeries(key[0], key[1], 60, (NOW,), (value,)) for key, value in values.items()}
        metrics[name] = EndpointMetrics(name, series)
    return FleetSnapshot(datetime.fromtimestamp(NOW, timezone.utc), tuple(endpoints), metrics)


class Ours(App):
    def compose(self) -> ComposeResult:
        yield EndpointTable()

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)


class Reference(App):
    """DataTable as the old ``EndpointTable(DataTable)`` set it up."""

    def __init__(self, header: list[Text], widths: tuple[int, ...], rows: list[tuple[str, list[Text]]]) -> None:
        super().__init__()
        self.spec = header, widths, rows

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=True, cell_padding=0)

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)
        table = self.query_one(DataTable)
        header, widths, rows = self.spec
        for index, (label, width) in enumerate(zip(header, widths)):
            table.add_column(label, key=str(index), width=width)
        for key, cells in rows:
            table.add_row(*cells, key=key)


def lines(widget: RowTable | DataTable) -> list[list[tuple[str, object]]]:
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return [[(segment.text, segment.style) for segment in strip] for strip in strips]


async def compare(
    size: tuple[int, int], cursor: int, scroll: int, focus: bool, firing: frozenset[str], theme: str | None = None
) -> None:
    """Draw the fleet in both tables; ours switches to ``theme`` after its first frame."""
    ours = Ours()
    async with ours.run_test(size=size) as pilot:
        table = ours.query_one(EndpointTable)
        table.set_firing(firing)
        table.show(fleet())
        await pilot.pause()
        table.move_cursor(row=cursor)
        table.scroll_to(y=scroll, animate=False)
        if not focus:
            table.blur()
        await pilot.pause()
        if theme:
            ours.theme = theme
            await pilot.pause()
        header = table.header_cells()
        widths = table._widths
        rows = [(name, table.get_row(name)) for name in table.visible_names]
        mine = lines(table)
        offset = table.scroll_offset
    assert firing <= set(NAMES) and any(len(name) > widths[0] for name in NAMES)

    reference = Reference(header, widths, rows)
    async with reference.run_test(size=size) as pilot:
        data_table = reference.query_one(DataTable)
        if theme:
            reference.theme = theme
        await pilot.pause()
        data_table.move_cursor(row=cursor, animate=False)
        await pilot.pause()
        data_table.scroll_to(y=scroll, animate=False)
        if not focus:
            data_table.blur()
        await pilot.pause()
        assert data_table.scroll_offset == offset
        theirs = lines(data_table)
    assert len(mine) == len(theirs) == size[1]
    for y, (a, b) in enumerate(zip(mine, theirs)):
        assert a == b, f"line {y}"


async def test_the_table_draws_what_datatable_drew_focused_at_the_top():
    await compare((120, 20), cursor=2, scroll=0, focus=True, firing=frozenset({NAMES[1], NAMES[4]}))


async def test_the_table_draws_what_datatable_drew_scrolled_blurred_and_narrow():
    # At 80 columns the last column is off screen; an odd cursor row tests the other zebra stripe.
    await compare((80, 14), cursor=15, scroll=9, focus=False, firing=frozenset({NAMES[2]}))


async def test_a_theme_switch_redraws_the_table_in_the_new_theme():
    await compare((120, 16), cursor=3, scroll=0, focus=True, firing=frozenset({NAMES[0]}), theme=HIGH_CONTRAST.name)
