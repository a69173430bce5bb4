"""An endpoint whose description could not be refreshed is marked in its row
and explained in the endpoint panel, on an in-memory fleet.

Three endpoints: one described, one whose last DescribeEndpoint was throttled
(it keeps the variants of an older description), one never described (only
ListEndpoints' status is known).  The reason is AWS's text: markup and escape
sequences in it are shown as text.
"""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App, ComposeResult
from textual.geometry import Region

from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot, StaleDescription, Variant
from smtop.ui.widgets.endpoint_detail import EndpointDetail
from smtop.ui.widgets.endpoint_table import EndpointTable

NOW = datetime(2026, 11, 18, 11, 6, tzinfo=timezone.utc)
EARLIER = datetime(2026, 11, 18, 10, 55, 30, tzinfo=timezone.utc)
THROTTLED = "AWS throttled smtop while calling sagemaker DescribeEndpoint (too many requests)."
DENIED = "[bold]Access denied[/bold] \x1b[31mwhile calling sagemaker DescribeEndpoint."


def fleet() -> FleetSnapshot:
    variant = (Variant("AllTraffic", "ml.m5.large", 2, 2, 1.0),)
    endpoints = (
        Endpoint("fresh", "InService", variants=variant),
        Endpoint(
            "throttled",
            "Updating",
            config_name="throttled-config",
            variants=(Variant("canary", "ml.g5.2xlarge", 3, 3, 0.5),),
            stale=StaleDescription(THROTTLED, "DescribeEndpoint", EARLIER),
        ),
        Endpoint("unknown", "InService", stale=StaleDescription(DENIED, "DescribeEndpoint")),
    )
    return FleetSnapshot(NOW, endpoints, {e.name: EndpointMetrics(e.name) for e in endpoints})


class FleetApp(App):
    """The table and the endpoint panel, told what the console tells them."""

    def __init__(self, snapshot: FleetSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        yield EndpointTable()
        yield EndpointDetail()

    def on_mount(self) -> None:
        table = self.query_one(EndpointTable)
        table.styles.height = 6
        table.focus()
        table.show(self.snapshot)

    def on_endpoint_table_selected(self, message: EndpointTable.Selected) -> None:
        self.query_one(EndpointDetail).show(self.snapshot.endpoint(message.name))


def lines(widget) -> list[str]:
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return ["".join(segment.text for segment in strip).rstrip() for strip in strips]


async def test_the_row_and_the_panel_say_the_description_is_old_and_why():
    app = FleetApp(fleet())
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(EndpointTable)
        detail = app.query_one(EndpointDetail)
        await pilot.pause()
        rows = {row.split()[0]: row for row in lines(table)[1:4]}
        assert "!" not in rows["fresh"] and " InSvc" in rows["fresh"] and rows["fresh"].endswith("2i")
        assert "!Update" in rows["throttled"] and rows["throttled"].endswith("3i")  # the old counts are kept
        assert "!InSvc" in rows["unknown"] and rows["unknown"].endswith("—")  # never described: no count
        assert table.get_cell("throttled", "status").spans[0].style == "bold yellow"

        assert table.selected_name == "fresh"
        text = "\n".join(lines(detail))
        assert "described" not in text and "AllTraffic" in text
        assert "status InService" in " ".join(text.split())

        await pilot.press("down")
        await pilot.pause()
        assert table.selected_name == "throttled"
        text = " ".join(" ".join(lines(detail)).split())
        assert "status !Updating" in text  # the mark where the table has it: before the status
        assert "described 10:55:30Z, not since" in text
        assert THROTTLED in text
        assert "Variants, types and counts are from that description" in text
        assert "canary" in text and "ml.g5.2xlarge" in text

        await pilot.press("down")
        await pilot.pause()
        text = " ".join(" ".join(lines(detail)).split())
        assert "status !InService" in text
        assert "described not yet" in text
        assert "[bold]Access denied[/bold]" in text  # markup from AWS shown as text
        assert "\x1b" not in text
        assert "Only ListEndpoints' status is known." in text
        assert "variant" not in text  # no empty variants table
