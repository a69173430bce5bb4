"""The endpoint table's behaviour on its own: sort, filter, cursor, paging, mouse.

The table only reorders names and draws the rows on screen; these tests pin
what the user sees of that: the order of the rows, that the cursor stays on
the same endpoint (and says so) through refreshes, sorts and filters, that
paging and clicks land on the row they should, and that rows off screen are
never built.
"""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult
from textual.geometry import Region

from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot, MetricSeries, Variant
from smtop.ui.widgets.endpoint_table import COLUMNS, EndpointTable

NOW = 1_767_225_600.0


def fleet(rates: dict[str, float | None]) -> FleetSnapshot:
    """Endpoints with these invocations per minute (None: no data)."""
    endpoints, metrics = [], {}
    for name, rate in rates.items():
        endpoints.append(Endpoint(name, "InService", variants=(Variant("v1", "ml.m5.large", 1, 1, 1.0),)))
        series = {} if rate is None else {("Invocations", "Sum"): MetricSeries("Invocations", "Sum", 60, (NOW,), (rate,))}
        metrics[name] = EndpointMetrics(name, series)
    return FleetSnapshot(datetime.fromtimestamp(NOW, timezone.utc), tuple(endpoints), metrics)


class TableApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[str | None, bool]] = []

    def compose(self) -> ComposeResult:
        yield EndpointTable()

    def on_endpoint_table_selected(self, message: EndpointTable.Selected) -> None:
        self.messages.append((message.name, message.confirmed))


def by_rate(rates: dict[str, float | None], reverse: bool) -> list[str]:
    known = sorted(((r, n) for n, r in rates.items() if r is not None), reverse=reverse)
    return [n for _, n in known] + sorted(n for n, r in rates.items() if r is None)


def screen_rows(table: EndpointTable) -> list[str]:
    strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return ["".join(segment.text for segment in strip) for strip in strips]


async def test_sort_orders_by_value_then_name_and_leaves_missing_values_last():
    rates = {"d": 5.0, "a": 5.0, "c": None, "b": 9.0, "e": 1.0, "f": None, "g": 5.0}
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(EndpointTable)
        table.focus()
        table.show(fleet(rates))
        await pilot.pause()
        assert table.visible_names == sorted(rates)
        await pilot.press("s", "s")  # name → status → inv/min, busiest first
        assert (table.sort_key, table.sort_reverse) == ("inv", True)
        assert table.visible_names == by_rate(rates, reverse=True)
        assert "inv/min▼" in screen_rows(table)[0]
        await pilot.press("S")
        assert table.visible_names == by_rate(rates, reverse=False)
        assert "inv/min▲" in screen_rows(table)[0]


async def test_the_cursor_stays_on_its_endpoint_through_refresh_sort_and_filter():
    rates = {f"ep-{i:02d}": float(i) for i in range(40)}
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(EndpointTable)
        table.focus()
        table.show(fleet(rates))
        await pilot.pause()
        table.move_cursor(row=table.visible_names.index("ep-25"))
        await pilot.pause()
        assert table.selected_name == "ep-25" and app.messages[-1] == ("ep-25", False)

        await pilot.press("s", "s")  # by rate, busiest first: ep-25 moves from row 25 to row 14
        await pilot.pause()
        assert table.visible_names.index("ep-25") == 14
        assert table.selected_name == "ep-25" and app.messages[-1] == ("ep-25", False)
        assert any("ep-25" in row for row in screen_rows(table))  # scrolled into view

        # A refresh that makes ep-25 the busiest endpoint moves it to the top, cursor and all.
        table.show(fleet({**rates, "ep-25": 1000.0}))
        await pilot.pause()
        assert table.visible_names[0] == "ep-25" and table.selected_name == "ep-25"
        assert "ep-25" in screen_rows(table)[1]

        table.set_filter("ep-2")
        await pilot.pause()
        assert table.visible_names == by_rate({n: r for n, r in rates.items() if n.startswith("ep-2")} | {"ep-25": 1000.0}, True)
        assert table.selected_name == "ep-25"

        table.set_filter("ep-1")  # ep-25 is filtered out: the cursor goes to the first row shown
        await pilot.pause()
        assert table.selected_name == "ep-19" and app.messages[-1] == ("ep-19", False)
        table.set_filter("")
        await pilot.pause()
        assert table.selected_name == "ep-19" and len(table.visible_names) == 40


async def test_an_endpoint_that_disappears_takes_the_cursor_to_the_top():
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(EndpointTable)
        table.show(fleet({"a": 1.0, "b": 2.0, "c": 3.0}))
        await pilot.pause()
        table.move_cursor(row=2)
        await pilot.pause()
        table.show(fleet({"a": 1.0, "b": 2.0}))
        await pilot.pause()
        assert table.visible_names == ["a", "b"] and table.selected_name == "a"
        assert app.messages[-1] == ("a", False)


async def test_page_down_and_up_move_a_screenful_and_keep_the_cursor_in_view():
    names = [f"ep-{i:03d}" for i in range(100)]
    app = TableApp()
    async with app.run_test(size=(120, 15)) as pilot:
        table = app.query_one(EndpointTable)
        table.focus()
        table.show(fleet(dict.fromkeys(names, 1.0)))
        await pilot.pause()
        rows_shown = table.size.height - 1  # under the header
        assert rows_shown == 14
        for page in range(1, 9):
            await pilot.press("pagedown")
            expected = min(page * rows_shown, len(names) - 1)
            assert table.selected_name == names[expected]
            assert table.scroll_y <= expected < table.scroll_y + rows_shown
            assert names[expected] in "".join(screen_rows(table))
        assert table.selected_name == names[-1]
        await pilot.press("pageup")
        assert table.selected_name == names[-1 - rows_shown]
        await pilot.press("ctrl+home")
        assert table.selected_name == names[0] and table.scroll_y == 0
        await pilot.press("j", "j", "k")
        assert table.selected_name == names[1]


async def test_clicks_select_a_row_open_it_on_a_second_click_and_sort_on_the_header():
    rates = {"a": 3.0, "b": 1.0, "c": 2.0}
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(EndpointTable)
        table.show(fleet(rates))
        await pilot.pause()
        await pilot.click(EndpointTable, offset=(3, 3))  # the header is line 0: line 3 is the third endpoint
        await pilot.pause()
        assert table.selected_name == "c" and app.messages[-1] == ("c", False)
        await pilot.click(EndpointTable, offset=(3, 3))
        await pilot.pause()
        assert app.messages[-1] == ("c", True)

        inv_x = sum(table._widths[:2]) + 2  # inside the inv/min header
        assert COLUMNS[2].key == "inv"
        await pilot.click(EndpointTable, offset=(inv_x, 0))
        await pilot.pause()
        assert (table.sort_key, table.sort_reverse) == ("inv", True)
        assert table.visible_names == ["a", "c", "b"] and table.selected_name == "c"
        await pilot.click(EndpointTable, offset=(inv_x, 0))
        await pilot.pause()
        assert table.visible_names == ["b", "c", "a"]


async def test_enter_confirms_the_endpoint_under_the_cursor():
    app = TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(EndpointTable)
        table.focus()
        table.show(fleet({"a": 1.0, "b": 2.0}))
        await pilot.pause()
        await pilot.press("down", "enter")
        assert app.messages[-1] == ("b", True)


async def test_only_the_rows_on_screen_are_built():
    """1,000 endpoints cost what the rows on screen cost: a refresh or a sort
    builds no cells for the rows nobody sees."""
    names = [f"ep-{i:04d}" for i in range(1000)]
    app = TableApp()
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(EndpointTable)
        table.focus()
        table.show(fleet({n: float(i % 97) for i, n in enumerate(names)}))
        await pilot.pause()
        assert len(table.visible_names) == 1000
        assert len(table._rows) <= table.size.height
        await pilot.press("s", "s", "pagedown")
        assert len(table._rows) <= 3 * table.size.height
