"""Section: the endpoint table with 1,000 endpoints — sort, filter, scroll, refresh.

The real ``EndpointTable`` runs alone in a headless Textual app (120×40) and
is fed a ``FleetSnapshot`` of N generated endpoints (one or two variants,
three hours of per-minute series for every metric).  Each action is timed
from the call until the messages it caused are handled and the frame it
caused is painted (the screen update ``pilot.pause()`` ends with, without the
20 ms idle sleep ``pause`` begins with), so the number is what a key press
costs the UI thread before the user sees the result; the process's CPU time
for the same span is shown beside it (on a shared machine the wall time also
holds the time other processes had the core):

- **first show**: the table built from nothing;
- **refresh, same order**: a new snapshot whose values moved (what each
  refresh does; every row on screen is redrawn);
- **sort**: ``s`` (next column, the rows reorder);
- **filter**: the filter text set (about a tenth of the rows stay), then cleared;
- **scroll**: the cursor one row down, and a page down.

Medians of ``repeats`` runs; the target is 50 ms a frame.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from datetime import datetime, timezone

from textual.app import App, ComposeResult

from smtop.models.catalog import METRICS
from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot, MetricSeries, Variant
from smtop.ui.widgets.endpoint_table import EndpointTable

PERIODS = 180
TARGET_MS = 50.0
HEADERS = ["endpoints", "action", "median ms", "max ms", "cpu ms", "runs", f"< {TARGET_MS:g} ms"]


def snapshot(count: int, seed: int, now: float = 1_767_225_600.0) -> FleetSnapshot:
    """``count`` endpoints with a full window of series; ``seed`` moves the values."""
    rng = random.Random(seed)
    stamps = tuple(now - 60.0 * (PERIODS - i) for i in range(PERIODS))
    endpoints, metrics = [], {}
    for index in range(count):
        name = f"{('fraud', 'churn', 'search', 'rank', 'vision')[index % 5]}-model-{index:04d}"
        variants = tuple(
            Variant(f"v{v}", "ml.g5.xlarge" if index % 3 == 0 else "ml.m5.large", 1 + index % 4, 1 + index % 4, 1.0)
            for v in range(1 + (index % 10 == 0))
        )
        endpoints.append(Endpoint(name, "InService", variants=variants))
        series = {}
        for spec in METRICS.values():
            for stat in spec.stats:
                base = rng.uniform(1, 1000)
                series[(spec.name, stat)] = MetricSeries(
                    spec.name, stat, 60, stamps, tuple(base * rng.uniform(0.8, 1.2) for _ in stamps)
                )
        metrics[name] = EndpointMetrics(name, series)
    return FleetSnapshot(datetime.fromtimestamp(now, timezone.utc), tuple(endpoints), metrics)


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield EndpointTable()


async def _timed(pilot, action) -> tuple[float, float]:
    """Wall and CPU ms from the call until its messages are handled and the
    frame is painted.

    Not ``pilot.pause()``: that sleeps at least 20 ms (Textual's
    ``wait_for_idle`` granularity) before painting, a floor that is no work
    of the table's.  The paint is forced the way ``pause`` forces it, twice, for
    what the first frame scheduled (a scroll after a layout change).  CPU time
    is the process's own: the wall time on a shared machine also holds the
    time other processes had the core."""
    began, began_cpu = time.perf_counter(), time.process_time()
    action()
    for _ in range(2):
        await pilot._wait_for_screen()
        pilot.app.screen._on_timer_update()
    elapsed = ((time.perf_counter() - began) * 1000, (time.process_time() - began_cpu) * 1000)
    await pilot.pause()  # settle (untimed) before the next action
    return elapsed


async def _measure_one(count: int, repeats: int) -> dict[str, list[tuple[float, float]]]:
    times: dict[str, list[tuple[float, float]]] = {}
    snapshots = [snapshot(count, seed) for seed in range(repeats + 1)]
    app = TableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(EndpointTable)
        table.focus()
        await pilot.pause()
        times["first show"] = [await _timed(pilot, lambda: table.show(snapshots[0]))]
        steps = {
            "refresh, same order": lambda i: table.show(snapshots[i + 1]),
            "sort (s)": lambda i: table.action_cycle_sort(),
            "filter (~10 % stay)": lambda i: table.set_filter("0-"),
            "filter cleared": lambda i: table.set_filter(""),
            "cursor down": lambda i: table.action_cursor_down(),
            "page down": lambda i: table.action_page_down(),
        }
        for i in range(repeats):
            for label, step in steps.items():
                times.setdefault(label, []).append(await _timed(pilot, lambda: step(i)))
    return times


def measure(sizes: list[int], repeats: int, log=print) -> list[tuple[int, dict[str, list[tuple[float, float]]]]]:
    results = []
    for count in sizes:
        log(f"  scale: table with {count} endpoints …")
        results.append((count, asyncio.run(_measure_one(count, repeats))))
    return results


def rows(results) -> list[list[object]]:
    out = []
    for count, times in results:
        for label, values in times.items():
            wall = [w for w, _ in values]
            median = statistics.median(wall)
            cpu = statistics.median(c for _, c in values)
            out.append([count, label, median, max(wall), cpu, len(values), "yes" if median < TARGET_MS else "**no**"])
    return out
