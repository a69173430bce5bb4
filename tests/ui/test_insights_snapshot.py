"""What the Insights results screen looks like: latency percentiles with a chart, fixed data.

The rows carry an escape sequence and Rich markup in a value on purpose: they
must show as text.  Regenerate after an intended visual change with
`pytest tests/ui/test_insights_snapshot.py --snapshot-update` and review the SVG.
"""

from __future__ import annotations

from datetime import datetime, timezone

from textual.app import App

from smtop.models.insights import QueryProgress, QueryRequest, QueryStats
from smtop.ui.app import SmtopApp
from smtop.ui.screens.insights_results import InsightsResultsScreen

END = datetime(2026, 11, 18, 11, 6, tzinfo=timezone.utc)
ROWS = (
    ("2026-11-18 10:35:00.000", "929.9", "13310.2", "175"),
    ("2026-11-18 10:40:00.000", "1142.1", "16633.8", "224"),
    ("2026-11-18 10:45:00.000", "930", "11801.8", "238"),
    ("2026-11-18 10:50:00.000", "5196.3", "29346.4", "261"),
    ("2026-11-18 10:55:00.000", "880.2", "4120.5", "250"),
    ("2026-11-18 11:00:00.000", "4410.8", "21007.1", "198"),
)


class ResultsApp(App):
    CSS_PATH = SmtopApp.CSS_PATH

    def on_mount(self) -> None:
        request = QueryRequest(
            query="stats pct(latency_ms, 50) as p50 … by bin(5m)",
            log_groups=("/aws/sagemaker/Endpoints/llm-chat-canary",),
            start=END.replace(hour=10),
            end=END,
            name="latency percentiles \x1b[31m[bold]x[/bold]",
            endpoint="llm-chat-canary",
        )
        progress = QueryProgress(
            "Complete", query_id="q", stats=QueryStats(1442, 1825, 385314),
            fields=("bin(5m)", "p50", "p99", "requests"), rows=ROWS,
        )
        self.push_screen(InsightsResultsScreen(request, progress))


def test_insights_results_screen(snap_compare):
    assert snap_compare(ResultsApp(), terminal_size=(110, 36))
