"""The Insights side panel end to end: the real app, aiobotocore, the simulator over HTTP."""

from __future__ import annotations

import math
import json
from dataclasses import replace

import boto3
import pytest
from botocore.config import Config
from textual.widgets import DataTable, TextArea

from smtop.cli import open_fleet
from smtop.config.settings import Settings
from smtop.ui.app import SmtopApp
from smtop.ui.screens.insights_editor import InsightsEditorScreen, suggestions
from smtop.ui.screens.insights_results import InsightsResultsScreen
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.insights_panel import InsightsPanel
from tests.conftest import SIM_NOW
from tests.ui.conftest import wait_for

CANARY = "llm-chat-canary"
CANARY_GROUP = f"/aws/sagemaker/Endpoints/{CANARY}"


@pytest.fixture(autouse=True)
def config_file(tmp_path, monkeypatch):
    """Each test's own config file, never the developer's."""
    path = tmp_path / "smtop" / "config.toml"
    monkeypatch.setenv("SMTOP_CONFIG", str(path))
    return path


def boto_logs(url: str, region: str = "us-east-1"):
    return boto3.client(
        "logs", endpoint_url=url, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


def make_app(settings: Settings, clock) -> SmtopApp:
    return SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)


async def open_panel(app: SmtopApp, pilot, endpoint: str | None = CANARY) -> InsightsPanel:
    await wait_for(pilot, lambda: app.main.snapshot is not None)
    if endpoint:
        # Down the table (sorted by name) rather than typing a filter: fewer keys, less time.
        table = app.main.query_one(EndpointTable)
        await pilot.press(*["down"] * table.visible_names.index(endpoint))
        await wait_for(pilot, lambda: app.main.selected == endpoint)
    await pilot.press("i")
    panel = app.main.query_one(InsightsPanel)
    await wait_for(pilot, lambda: panel._loaded and not any(w.group == "insights-load" and w.is_running for w in panel.workers))
    return panel


async def choose(pilot, panel: InsightsPanel, name: str) -> None:
    index = next(i for i, q in enumerate(panel.queries) if q.name == name)
    await pilot.press("home", *["down"] * index)
    assert panel.current.name == name


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


async def test_latency_percentiles_on_the_canary_show_the_log_lines_percentiles(sim, sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_panel(app, pilot)
        labels = {(q.source, q.name) for q in panel.queries}
        assert ("built-in", "latency percentiles") in labels and ("built-in", "errors in the last hour") in labels
        await choose(pilot, panel, "latency percentiles")
        await pilot.press("enter")
        await wait_for(pilot, lambda: panel.progress is not None and panel.progress.query_id is not None)
        # While it runs: back to the table, another endpoint, the Endpoint tab — the run goes on.
        await pilot.press("escape", "up", "d")
        await wait_for(pilot, lambda: app.main.selected not in (None, CANARY))
        await wait_for(pilot, lambda: panel.progress.done)
        assert panel.progress.status == "Complete", panel.progress
        status = str(panel.query_one("#insights-status").render())
        assert "latency percentiles: Complete" in status and f"{len(panel.progress.rows)} rows" in status
        assert f"for {CANARY} (not the selected endpoint)" in status
        await pilot.press("i")

        # Independently: the canary's request lines of the last hour, by 5-minute bin.
        client = boto_logs(sim.url)
        bins: dict[int, list[float]] = {}
        token = None
        while True:
            page = client.filter_log_events(logGroupName=CANARY_GROUP, startTime=(SIM_NOW - 3600) * 1000, endTime=SIM_NOW * 1000, **({"nextToken": token} if token else {}))
            for event in page["events"]:
                record = json.loads(event["message"])
                if record.get("message") == "Success":  # TGI's JSON: the span's total_time, a Rust Duration
                    total = record["span"]["total_time"]
                    unit = "µs" if total.endswith("µs") else "ms" if total.endswith("ms") else "s"
                    scale = {"µs": 0.001, "ms": 1.0, "s": 1000.0}[unit]
                    bins.setdefault(event["timestamp"] // 300_000, []).append(float(total[: -len(unit)]) * scale)
            token = page.get("nextToken")
            if not token:
                break
        rows = table_rows(panel.query_one("#insights-results", DataTable))
        assert [(float(r[1]), float(r[2]), int(r[3])) for r in rows] == [
            (pytest.approx(rank(bins[b], 50), abs=1e-6), pytest.approx(rank(bins[b], 99), abs=1e-6), len(bins[b])) for b in sorted(bins)
        ]
        assert "carry no latency" not in status

        # Sorting by p99 (s twice: bin, then p50, then p99… s moves to the next column).
        await pilot.press("s", "s", "s")
        p99 = [float(r[2]) for r in table_rows(panel.query_one("#insights-results", DataTable))]
        assert p99 == sorted(p99)
        await pilot.press("S")
        p99 = [float(r[2]) for r in table_rows(panel.query_one("#insights-results", DataTable))]
        assert p99 == sorted(p99, reverse=True)

        # v: the full-screen table with a chart of the binned columns.
        await pilot.press("v")
        assert isinstance(app.screen, InsightsResultsScreen)
        assert app.screen.query_one("#insights-chart").display
        await pilot.press("escape")


async def test_latency_on_an_endpoint_whose_container_logs_none_says_so(sim, sim_settings, frozen_clock):
    """fraud-detector-prod runs the XGBoost container: nginx's combined line has no
    request time, so the latency queries find request lines but nothing to measure."""
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_panel(app, pilot, "fraud-detector-prod")
        for name, value in (("latency percentiles", "p50"), ("slowest requests", "latency_ms")):
            await choose(pilot, panel, name)
            await pilot.press("enter")
            await wait_for(pilot, lambda: panel.progress is not None and panel.progress.done)
            assert panel.progress.status == "Complete" and panel.progress.rows  # the request lines, or their count
            assert value not in panel.progress.fields
            status = str(panel.query_one("#insights-status").render())
            assert f"{name}: Complete · {len(panel.progress.rows)} rows" in status
            assert "These logs carry no latency" in status and "ModelLatency" in status
            assert not panel.query_one("#insights-status").has_class("-error")
        # Another query over the same lines says nothing of latency.
        await choose(pilot, panel, "5xx per instance")
        await pilot.press("enter")
        await wait_for(pilot, lambda: panel.progress is not None and panel.progress.done)
        assert "carry no latency" not in str(panel.query_one("#insights-status").render())


async def test_a_typo_shows_the_service_message_keeps_the_text_and_cancel_stops_a_run(sim, sim_settings, frozen_clock):
    app = make_app(sim_settings, frozen_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await open_panel(app, pilot)
        await choose(pilot, panel, "errors per 5 minutes")
        original = panel.current.query
        await pilot.press("e")
        assert isinstance(app.screen, InsightsEditorScreen)
        await pilot.press("enter", *"|sortt x")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: panel.progress is not None and panel.progress.done)
        assert panel.progress.status == "Malformed"
        status = str(panel.query_one("#insights-status").render())
        assert "Malformed query: mismatched input 'sortt'" in status and "line 3" in status
        assert panel.current.query == original + "\n|sortt x"
        # Editing again starts from the kept text; fixing the typo runs.
        await pilot.press("e")
        editor = app.screen.query_one(TextArea)
        assert editor.text == original + "\n|sortt x"
        await pilot.press("backspace", "backspace", "backspace", *" errors", "ctrl+s")
        await wait_for(pilot, lambda: panel.progress.done)
        assert panel.progress.status == "Complete"
        counts = [int(r[1]) for r in table_rows(panel.query_one("#insights-results", DataTable))]
        assert counts == sorted(counts) and len(set(counts)) > 1

        # R runs the (edited) query again; x cancels it, and the service hears StopQuery.
        await pilot.press("R")
        await wait_for(pilot, lambda: panel.progress.query_id is not None and not panel.progress.done)
        query_id = panel.progress.query_id
        await pilot.press("x")
        assert panel.progress.status == "Cancelled"
        client = boto_logs(sim.url)

        def cancelled() -> bool:
            queries = client.describe_queries(logGroupName=CANARY_GROUP)["queries"]
            return {q["queryId"]: q["status"] for q in queries}.get(query_id) == "Cancelled"

        await wait_for(pilot, cancelled)
        assert "Cancelled" in str(panel.query_one("#insights-status").render())


async def test_save_to_config_file_and_account(sim, sim_settings, frozen_clock, config_file):
    # Writes go to another region: the fleet's region stays as other tests expect it.
    settings = replace(sim_settings, region="us-west-2")
    messages = []
    app = make_app(settings, frozen_clock)
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        panel = await open_panel(app, pilot, endpoint=None)
        await choose(pilot, panel, "top error messages")
        await pilot.press("w")
        await wait_for(pilot, lambda: any(q.source == "config" for q in panel.queries))
        assert 'name = "top error messages"' in config_file.read_text()
        await pilot.press("p")
        await wait_for(pilot, lambda: any(q.source == "account" for q in panel.queries))
    client = boto_logs(sim.url, "us-west-2")
    stored = client.describe_query_definitions(queryDefinitionNamePrefix="top error messages")["queryDefinitions"]
    try:
        assert [d["queryString"] for d in stored] == [panel.current.query]
        saved = [m.text for m in messages if isinstance(m, InsightsPanel.Saved)]
        assert any(str(config_file) in text for text in saved)
        assert any("query definition" in text for text in saved)
    finally:
        for definition in stored:
            client.delete_query_definition(queryDefinitionId=definition["queryDefinitionId"])


async def test_read_only_refuses_to_save_and_a_bad_config_file_is_named(sim, sim_settings, frozen_clock, config_file):
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[[queries]]\nname = "a"\nquery = "fields @message\n')
    settings = replace(sim_settings, region="us-west-2", read_only=True)
    messages = []
    app = make_app(settings, frozen_clock)
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        panel = await open_panel(app, pilot, endpoint=None)
        # The malformed file: named with its line, and the built-ins still offered.
        assert "line 3" in panel.problems["config"] and str(config_file) in panel.problems["config"]
        assert "line 3" in str(panel.query_one("#insights-sources").render())
        assert [q.source for q in panel.queries] == ["built-in"] * 6
        await choose(pilot, panel, "slowest requests")
        await pilot.press("p")
        await wait_for(pilot, lambda: any(isinstance(m, InsightsPanel.Saved) for m in messages))
    saved = [m for m in messages if isinstance(m, InsightsPanel.Saved)]
    assert saved[0].error and "Read-only: PutQueryDefinition was not sent" in saved[0].text
    names = [d["name"] for d in boto_logs(sim.url, "us-west-2").describe_query_definitions()["queryDefinitions"]]
    assert "slowest requests" not in names


def test_suggestions_follow_the_cursor():
    assert suggestions("fields @message\n| fi") == ("fields", "filter")
    assert suggestions("") == ("fields", "filter", "stats", "sort", "limit", "parse", "display", "dedup")
    assert suggestions("stats pc") == ("pct(",)
    assert suggestions("filter @message li") == ("like",)
