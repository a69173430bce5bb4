"""The fleet table: one row per endpoint with its latest metrics.

Rows are keyed by endpoint name.  When a refresh brings the same rows in the
same order (the usual case) cells are updated in place, so the cursor and the
scroll position never jump under the user's hands.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.widgets import DataTable
from typing_extensions import Self

from smtop import format as fmt
from smtop.format import printable
from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot
from smtop.names import matches

_STATUS_STYLE = {
    "InService": "green",
    "Creating": "yellow",
    "Updating": "yellow",
    "SystemUpdating": "yellow",
    "RollingBack": "yellow",
    "Deleting": "magenta",
    "Failed": "bold red",
    "OutOfService": "red",
}
_STATUS_SHORT = {
    "InService": "InSvc",
    "Creating": "Create",
    "Updating": "Update",
    "SystemUpdating": "SysUpd",
    "RollingBack": "Rollbk",
    "OutOfService": "OutSvc",
    "Deleting": "Delete",
    "Failed": "FAILED",
}
NAME_MIN_WIDTH = 16


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    cell: Callable[[Endpoint, EndpointMetrics], Text]
    sort_value: Callable[[Endpoint, EndpointMetrics], Any]


def _num(render: Callable[[float | None], str], get: Callable[[Endpoint, EndpointMetrics], float | None], warn=None, bad=None):
    def cell(endpoint: Endpoint, metrics: EndpointMetrics) -> Text:
        value = get(endpoint, metrics)
        style = ""
        if value is not None and bad is not None and value >= bad:
            style = "bold red"
        elif value is not None and warn is not None and value >= warn:
            style = "yellow"
        return Text(render(value), style=style, justify="right")

    def sort_value(endpoint: Endpoint, metrics: EndpointMetrics) -> float | None:
        return get(endpoint, metrics)  # None (no data) goes last either way: see _redraw

    return cell, sort_value


def _util(metric: str):
    return lambda _e, m: m.latest(metric)


def _columns() -> tuple[Column, ...]:
    def name_cell(endpoint: Endpoint, _m) -> Text:
        return Text(" " + printable(endpoint.name), no_wrap=True, overflow="ellipsis")  # names are untrusted

    def status_cell(endpoint: Endpoint, _m) -> Text:
        # The leading space keeps a cut name ("churn-scorer-s…") off the status.
        status = _STATUS_SHORT.get(endpoint.status, printable(endpoint.status))
        return Text(" " + status, style=_STATUS_STYLE.get(endpoint.status, ""))

    def instances_cell(endpoint: Endpoint, _m) -> Text:
        variants = len(endpoint.variants)
        text = f"{variants}v/{endpoint.instance_count}i" if variants > 1 else f"{endpoint.instance_count}i"
        return Text(text, justify="right")

    # Widths include the gap before the column (the table has no cell padding),
    # ordered by what on-call reads first: at 80 columns only "inst" scrolls off.
    spec = [
        ("inv", "inv/min", 8, fmt.compact, lambda _e, m: m.invocations_per_minute, None, None),
        ("avg", "avg ms", 7, fmt.compact, lambda _e, m: m.latency_avg_ms, None, None),
        ("p99", "p99 ms", 7, fmt.compact, lambda _e, m: m.latency_p99_ms, None, None),
        ("4xx", "4xx%", 5, fmt.percent, lambda _e, m: m.error_4xx_pct, 1.0, 5.0),
        ("5xx", "5xx%", 5, fmt.percent, lambda _e, m: m.error_5xx_pct, 0.1, 1.0),
        ("cpu", "cpu", 5, fmt.utilization, _util("CPUUtilization"), None, None),
        ("gpu", "gpu", 5, fmt.utilization, _util("GPUUtilization"), 80.0, 95.0),
        ("mem", "mem", 5, fmt.utilization, _util("MemoryUtilization"), 80.0, 95.0),
        ("disk", "disk", 5, fmt.utilization, _util("DiskUtilization"), 80.0, 95.0),
    ]
    columns = [
        Column("name", "ENDPOINT", NAME_MIN_WIDTH, name_cell, lambda e, _m: e.name.lower()),
        Column("status", " status", 8, status_cell, lambda e, _m: e.status),
    ]
    for key, label, width, render, get, warn, bad in spec:
        cell, sort_value = _num(render, get, warn, bad)
        columns.append(Column(key, label, width, cell, sort_value))
    columns.append(Column("inst", "inst", 7, instances_cell, lambda e, _m: (len(e.variants), e.instance_count)))
    return tuple(columns)


COLUMNS = _columns()


class EndpointTable(DataTable):
    """Endpoints with their latest metrics; sortable and filterable."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse", show=False),
    ]

    class Selected(Message):
        """The highlighted endpoint changed (or the same one was confirmed)."""

        def __init__(self, name: str | None, confirmed: bool = False) -> None:
            super().__init__()
            self.name = name
            self.confirmed = confirmed

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=0, **kwargs)
        self._snapshot: FleetSnapshot | None = None
        self._order: list[str] = []
        self.filter_text = ""
        self.sort_key = "name"
        self.sort_reverse = False
        self.firing: frozenset[str] = frozenset()
        """Endpoints with an alarm in ALARM state: their names show red with a ●."""
        self._cells: dict[str, list[Text]] = {}

    # Class-level: DataTable.__init__ sets reactives, which refresh, before ours runs.
    _deferring = False
    _deferred: dict[str, bool] | None = None

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """While a redraw rewrites many cells, merge the refresh requests into one.

        ``update_cell`` and ``add_row`` each ask for a refresh, and every
        request recomputes the dirty regions: 12,000 of them for a 1,000-row
        refresh cost more than painting the frame.  One at the end does the same.
        """
        if not self._deferring:
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        asked = self._deferred or {"repaint": False, "layout": False, "recompose": False}
        self._deferred = {
            "repaint": asked["repaint"] or repaint or bool(regions),
            "layout": asked["layout"] or layout,
            "recompose": asked["recompose"] or recompose,
        }
        return self

    @contextmanager
    def _one_refresh(self) -> Iterator[None]:
        self._deferring, self._deferred = True, None
        try:
            yield
        finally:
            self._deferring = False
            if self._deferred is not None:
                super().refresh(**self._deferred)

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(self._header(column), key=column.key, width=column.width)

    def on_resize(self) -> None:
        self._fit_name_column()

    def _fit_name_column(self) -> None:
        """Give names the room the numbers leave, up to the longest name."""
        others = sum(c.width for c in COLUMNS if c.key != "name")
        room = self.scrollable_content_region.width - others
        longest = max((len(e.name) for e in self._snapshot.endpoints), default=0) + 2 if self._snapshot else 0
        width = max(NAME_MIN_WIDTH, min(room, max(longest, NAME_MIN_WIDTH)))
        column = self.columns.get("name")  # type: ignore[call-overload]
        if column is not None and column.width != width:
            column.width = width
            self._require_update_dimensions = True
            self.refresh()

    # -- data ---------------------------------------------------------------
    def show(self, snapshot: FleetSnapshot) -> None:
        self._snapshot = snapshot
        self._cells.clear()
        self._fit_name_column()
        self._redraw()

    @property
    def visible_names(self) -> list[str]:
        return list(self._order)

    @property
    def selected_name(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def set_firing(self, names: frozenset[str]) -> None:
        """Mark the endpoints that have a firing alarm."""
        if names != self.firing:
            self.firing = names
            self._cells.clear()
            self._redraw()

    def _row(self, endpoint: Endpoint, metrics: EndpointMetrics) -> list[Text]:
        """The row's cells, made once per snapshot: sorting and filtering
        1,000 rows then only reorders them."""
        cells = self._cells.get(endpoint.name)
        if cells is None:
            cells = self._cells[endpoint.name] = [self._cell(column, endpoint, metrics) for column in COLUMNS]
        return cells

    def _cell(self, column: Column, endpoint: Endpoint, metrics: EndpointMetrics) -> Text:
        cell = column.cell(endpoint, metrics)
        if column.key == "name" and endpoint.name in self.firing:
            return Text.assemble(("●", "bold red"), (cell.plain[1:], "bold red"), no_wrap=True, overflow="ellipsis")
        return cell

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self._redraw()

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in COLUMNS]
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        # Numbers are most useful worst-first; names alphabetically.
        self.sort_reverse = self.sort_key not in ("name", "status")
        self._redraw()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._redraw()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key.value
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, key not in ("name", "status")
        self._redraw()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Selected(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Selected(event.row_key.value, confirmed=True))

    def _header(self, column: Column) -> Text:
        label = " " + column.label if column.key == "name" else column.label
        if column.key == self.sort_key:
            # No space before the arrow: it must fit the column's width too.
            label += "▼" if self.sort_reverse else "▲"
        return Text(label, style="bold", justify="left" if column.key in ("name", "status") else "right")

    def _redraw(self) -> None:
        with self._one_refresh():
            self._rebuild()

    def _rebuild(self) -> None:
        snapshot = self._snapshot
        if snapshot is None:
            return
        by_key = {c.key: c for c in COLUMNS}
        sort_column = by_key[self.sort_key]
        rows = [
            (endpoint, snapshot.metrics_for(endpoint.name))
            for endpoint in snapshot.endpoints
            if not self.filter_text or matches(self.filter_text, endpoint.name)
        ]
        # Rows without a value sort after the others in either direction.
        keyed = [(sort_column.sort_value(*row), row) for row in rows]
        known = [(value, row) for value, row in keyed if value is not None]
        unknown = [row for value, row in keyed if value is None]
        known.sort(key=lambda pair: (pair[0], pair[1][0].name), reverse=self.sort_reverse)
        unknown.sort(key=lambda row: row[0].name)
        rows = [row for _, row in known] + unknown
        order = [endpoint.name for endpoint, _ in rows]
        changed = False
        for column in COLUMNS:
            header = self._header(column)
            if not _same_text(self.columns[column.key].label, header):
                self.columns[column.key].label = header
                changed = True
        if order == self._order:
            # Same rows in the same order: touch only the cells whose text
            # changed.  Every update_cell drops the table's render caches, so
            # rewriting all 12 cells of 1,000 rows each refresh would re-render
            # the whole table for the few numbers that moved.
            for endpoint, metrics in rows:
                cells = self.get_row(endpoint.name)
                for column, old, cell in zip(COLUMNS, cells, self._row(endpoint, metrics)):
                    if not _same_text(cell, old):
                        self.update_cell(endpoint.name, column.key, cell)
                        changed = True
            if changed:
                self.refresh()
            return
        selected = self.selected_name
        self.clear()
        for endpoint, metrics in rows:
            self.add_row(*self._row(endpoint, metrics), key=endpoint.name)
        self._order = order
        if selected in order:
            self.move_cursor(row=order.index(selected), animate=False)
        elif order:
            self.move_cursor(row=0, animate=False)
        # Clearing can leave the highlight where it was; tell the app who is selected now.
        self.post_message(self.Selected(self.selected_name))


def _same_text(a: object, b: object) -> bool:
    """Rich's ``Text.__eq__`` ignores the base style and justification, which
    carry the warning colours here; compare those too."""
    if not (isinstance(a, Text) and isinstance(b, Text)):
        return a == b
    return a == b and a.style == b.style and a.justify == b.justify
