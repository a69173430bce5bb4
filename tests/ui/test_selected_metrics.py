"""The metric panel's own metrics follow the cursor without a full refresh.

The fleet refresh asks only what the endpoints table shows; InvocationsPerInstance
and OverheadLatency are asked for the selected endpoint alone.  Moving the cursor
shows those rows as loading, then one small GetMetricData call fills them.
"""

from __future__ import annotations

from smtop import format as fmt
from smtop.cli import open_fleet
from smtop.ui import console as console_module
from smtop.ui.app import SmtopApp
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.metric_panel import MetricRow
from tests.aws.conftest import record_calls
from tests.aws.test_aws_fleet_selection import PANEL_ONLY, overhead_from_the_service
from tests.conftest import SIM_NOW
from tests.ui.conftest import wait_for

def value_text(app: SmtopApp, metric: str) -> str:
    return app.main.query_one(f"#metric-{metric}", MetricRow).value.plain


async def test_moving_the_cursor_fills_the_panel_rows_without_a_refresh(sim, sim_settings, frozen_clock, monkeypatch):
    # The cursor must rest before the small call goes out; 0.3 s passed within one
    # key press on a loaded CI machine, and the "…" state was gone before it was seen.
    monkeypatch.setattr(console_module, "SELECTION_REST", 2.0)
    app = SmtopApp(lambda: open_fleet(sim_settings, frozen_clock), sim_settings, clock=frozen_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        first, second = app.main.query_one(EndpointTable).visible_names[:2]
        await wait_for(pilot, lambda: app.main.selected == first and app.main.loading_selected is None)
        assert value_text(app, "OverheadLatency") not in (fmt.MISSING, "…")
        requests = record_calls(await app.main.source.aws.client("cloudwatch"), "GetMetricData")
        polls = app.main.polls

        await pilot.press("down")
        assert app.main.selected == second
        assert value_text(app, "OverheadLatency") == value_text(app, "InvocationsPerInstance") == "…"
        assert value_text(app, "ModelLatency") not in (fmt.MISSING, "…")  # the fleet refresh brought it

        await wait_for(pilot, lambda: app.main.loading_selected is None)
        assert app.main.polls == polls, "no full refresh"
        assert len(requests) == 1
        asked = {
            (
                tuple(d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]),
                q["MetricStat"]["Metric"]["MetricName"],
                q["MetricStat"]["Stat"],
            )
            for q in requests[0]["MetricDataQueries"]
        }
        assert asked == {((second, "AllTraffic"), metric, stat) for metric, stat in PANEL_ONLY}
        expected = sorted(overhead_from_the_service(sim.url, second, "AllTraffic", SIM_NOW - 3 * 3600, SIM_NOW).items())
        assert len(expected) >= 170
        row = app.main.query_one("#metric-OverheadLatency", MetricRow)
        assert list(row.data) == [value for _, value in expected]
        shown = value_text(app, "OverheadLatency")
        assert shown.startswith(fmt.metric_value("OverheadLatency", expected[-1][1])) and "p99" in shown
        assert value_text(app, "InvocationsPerInstance").endswith("/min")
