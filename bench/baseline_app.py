"""A bare Textual app of smtop's size, for the steady-state CPU/RSS baseline.

One DataTable of 6 rows × 12 columns and ten one-line Sparklines of 180
points (three hours of minutes, like smtop's metric panel), all replaced with
new random data every ``--interval`` seconds (smtop's demo refresh rate).
Whatever smtop costs beyond this is smtop's own doing, not Textual's.

Run: ``python bench/baseline_app.py [--interval 5]`` (``q`` quits).
"""

from __future__ import annotations

import argparse
import random

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Sparkline

ROWS, COLUMNS, SPARKLINES, POINTS = 6, 12, 10, 180
READY_TEXT = "baseline-row-0"
"""Painted once the table is filled: what the benchmark waits for."""


class BaselineApp(App[None]):
    CSS = """
    DataTable { height: 9; }
    Sparkline { height: 1; margin: 0 1; }
    """
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.interval = interval
        self.rng = random.Random(1)

    def compose(self) -> ComposeResult:
        yield DataTable(id="table")
        for index in range(SPARKLINES):
            yield Sparkline(self._series(), id=f"spark-{index}")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("name", key="name")
        for column in range(1, COLUMNS):
            table.add_column(f"col {column}", key=f"c{column}")
        for row in range(ROWS):
            table.add_row(f"baseline-row-{row}", *self._cells(), key=f"r{row}")
        self.set_interval(self.interval, self.update_all)

    def update_all(self) -> None:
        """New values in every cell and every sparkline, as a refresh would bring."""
        table = self.query_one(DataTable)
        for row in range(ROWS):
            for column, value in enumerate(self._cells(), start=1):
                table.update_cell(f"r{row}", f"c{column}", value)
        for sparkline in self.query(Sparkline):
            sparkline.data = self._series()

    def _cells(self) -> list[str]:
        return [f"{self.rng.uniform(0, 2000):.1f}" for _ in range(COLUMNS - 1)]

    def _series(self) -> list[float]:
        level = self.rng.uniform(10, 1000)
        return [level * self.rng.uniform(0.7, 1.3) for _ in range(POINTS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between updates (default 5)")
    BaselineApp(parser.parse_args().interval).run()


if __name__ == "__main__":
    main()
