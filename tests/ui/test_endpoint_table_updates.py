"""The endpoint table rewrites only what changed, and still shows every change.

A refresh with the same rows in the same order updates cells in place and
skips unchanged ones (bench/scale.py measures why); these tests pin that the
shortcut never hides a change, including one that only changes a colour.
"""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult

from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot, MetricSeries, Variant
from smtop.ui.widgets.endpoint_table import EndpointTable

NOW = 1_767_225_600.0


def _snapshot(errors_4xx: dict[str, float], invocations: float = 1000.0) -> FleetSnapshot:
    endpoints, metrics = [], {}
    for name, errors in errors_4xx.items():
        endpoints.append(Endpoint(name, "InService", variants=(Variant("v1", "ml.m5.large", 1, 1, 1.0),)))
        series = {
            ("Invocations", "Sum"): MetricSeries("Invocations", "Sum", 60, (NOW,), (invocations,)),
            ("Invocation4XXErrors", "Sum"): MetricSeries("Invocation4XXErrors", "Sum", 60, (NOW,), (errors,)),
        }
        metrics[name] = EndpointMetrics(name, series)
    return FleetSnapshot(datetime.fromtimestamp(NOW, timezone.utc), tuple(endpoints), metrics)


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield EndpointTable()


def _cell(table: EndpointTable, name: str, column: str):
    return table.get_cell(name, column)


async def test_a_refresh_that_only_crosses_a_threshold_recolours_the_cell():
    # 9.99 and 10 errors per 1,000 calls both print "1.0" (%), but only 1.0 %
    # reaches the 4xx warning threshold (1 %): the text is equal, the colour not.
    app = TableApp()
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.query_one(EndpointTable)
        table.show(_snapshot({"a-endpoint": 9.99, "b-endpoint": 0.0}))
        await pilot.pause()
        before = _cell(table, "a-endpoint", "4xx")
        assert before.plain.strip() == "1.0" and not before.style

        table.show(_snapshot({"a-endpoint": 10.0, "b-endpoint": 0.0}))
        await pilot.pause()
        after = _cell(table, "a-endpoint", "4xx")
        assert after.plain == before.plain
        assert after.style == "yellow"
        assert table.visible_names == ["a-endpoint", "b-endpoint"]


async def test_unchanged_cells_keep_their_objects_and_changed_ones_are_replaced():
    app = TableApp()
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.query_one(EndpointTable)
        table.show(_snapshot({"a-endpoint": 1.0, "b-endpoint": 2.0}))
        await pilot.pause()
        kept = _cell(table, "b-endpoint", "4xx")

        table.show(_snapshot({"a-endpoint": 30.0, "b-endpoint": 2.0}))
        await pilot.pause()
        assert _cell(table, "b-endpoint", "4xx") is kept
        assert _cell(table, "a-endpoint", "4xx").plain.strip() == f"{100 * 30.0 / 1000:.1f}"


async def test_sorting_reorders_the_rows_with_their_values():
    app = TableApp()
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.query_one(EndpointTable)
        table.show(_snapshot({"a-endpoint": 1.0, "b-endpoint": 50.0, "c-endpoint": 5.0}))
        await pilot.pause()
        table.sort_key, table.sort_reverse = "4xx", True
        table.set_filter("")
        await pilot.pause()
        assert table.visible_names == ["b-endpoint", "c-endpoint", "a-endpoint"]
        shown = [table.get_row_at(i)[5].plain.strip() for i in range(3)]
        assert shown == ["5.0", "0.5", "0.1"]
