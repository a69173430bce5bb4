"""The fleet table: one row per endpoint with its latest metrics.

Rows are keyed by endpoint name.  A refresh, a sort or a filter only reorders
names; a row's cells are made when the row comes on screen (``RowTable``
draws only the visible rows), so 1,000 endpoints cost what 40 do.  The cursor
stays on the same endpoint through every refresh, sort and filter, and the
scroll position never jumps under the user's hands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from smtop import format as fmt
from smtop.format import printable
from smtop.models import Endpoint, EndpointMetrics, FleetSnapshot
from smtop.models.names import matches
from smtop.ui.widgets.row_table import RowTable

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
        # The leading space keeps a cut name ("churn-scorer-s…") off the status;
        # a "!" takes it when the description is not this refresh's (the detail says why).
        status = _STATUS_SHORT.get(endpoint.status, printable(endpoint.status))
        style = _STATUS_STYLE.get(endpoint.status, "")
        if endpoint.stale is not None:
            return Text.assemble((fmt.STALE_MARK, "bold yellow"), (status, style))
        return Text(" " + status, style=style)

    def instances_cell(endpoint: Endpoint, _m) -> Text:
        if endpoint.never_described:
            return Text(fmt.MISSING, justify="right")  # not "0i"
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


class EndpointTable(RowTable):
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
        super().__init__(**kwargs)
        self._snapshot: FleetSnapshot | None = None
        self._endpoints: dict[str, Endpoint] = {}
        self.filter_text = ""
        self.sort_key = "name"
        self.sort_reverse = False
        self.firing: frozenset[str] = frozenset()
        """Endpoints with an alarm in ALARM state: their names show red with a ●."""
        self._generation = 0
        """Bumped by every new snapshot or firing set: rows made before are stale."""
        self._rows: dict[str, _Row] = {}
        self._wanted: str | None = None
        """Where the cursor goes once a snapshot shows that endpoint (see select)."""

    def on_mount(self) -> None:
        self._fit_name_column()

    def on_resize(self) -> None:
        self._fit_name_column()

    def _fit_name_column(self) -> None:
        """Give names the room the numbers leave, up to the longest name."""
        others = sum(c.width for c in COLUMNS if c.key != "name")
        room = self.scrollable_content_region.width - others
        longest = max((len(e.name) for e in self._snapshot.endpoints), default=0) + 2 if self._snapshot else 0
        width = max(NAME_MIN_WIDTH, min(room, max(longest, NAME_MIN_WIDTH)))
        self.set_widths([width if c.key == "name" else c.width for c in COLUMNS])

    # -- data ---------------------------------------------------------------
    def show(self, snapshot: FleetSnapshot) -> None:
        self._snapshot = snapshot
        self._endpoints = {e.name: e for e in snapshot.endpoints}
        self._generation += 1
        for gone in self._rows.keys() - self._endpoints.keys():
            del self._rows[gone]
        self._fit_name_column()
        self._redraw()

    @property
    def visible_names(self) -> list[str]:
        return self.row_keys

    @property
    def selected_name(self) -> str | None:
        keys = self._keys
        return keys[self.cursor_row] if 0 <= self.cursor_row < len(keys) else None

    def select(self, name: str | None) -> None:
        """Put the cursor on ``name``, now or as soon as a snapshot shows it
        (a panel composed anew after signing in again keeps its endpoint)."""
        self._wanted = name
        self._redraw()

    def set_firing(self, names: frozenset[str]) -> None:
        """Mark the endpoints that have a firing alarm."""
        if names != self.firing:
            self.firing = names
            self._generation += 1
            self.refresh()

    def row_cells(self, key: str) -> tuple[object, Sequence[Text]]:
        """The row's cells, made when the row is first drawn after a change.

        Cells whose text and colour did not change keep their objects, so a
        row whose numbers stood still keeps its cached drawing."""
        row = self._rows.get(key)
        if row is not None and row.generation == self._generation:
            return row.version, row.cells
        endpoint = self._endpoints[key]
        metrics = self._snapshot.metrics_for(key)  # type: ignore[union-attr]
        cells = [self._cell(column, endpoint, metrics) for column in COLUMNS]
        if row is None:
            row = self._rows[key] = _Row(self._generation, 0, cells)
            return row.version, row.cells
        kept = [old if _same_text(old, new) else new for old, new in zip(row.cells, cells)]
        if any(a is not b for a, b in zip(kept, row.cells)):
            row.version += 1
            row.cells = kept
        row.generation = self._generation
        return row.version, row.cells

    def get_cell(self, name: str, column_key: str) -> Text:
        return self.row_cells(name)[1][[c.key for c in COLUMNS].index(column_key)]

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

    def header_clicked(self, column: int) -> None:
        key = COLUMNS[column].key
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, key not in ("name", "status")
        self._redraw()

    def cursor_moved_to(self, key: str) -> None:
        self.post_message(self.Selected(key))

    def row_chosen(self, key: str) -> None:
        self.post_message(self.Selected(key, confirmed=True))

    def header_cells(self) -> list[Text]:
        return [self._header(column) for column in COLUMNS]

    def _header(self, column: Column) -> Text:
        label = " " + column.label if column.key == "name" else column.label
        if column.key == self.sort_key:
            # No space before the arrow: it must fit the column's width too.
            label += "▼" if self.sort_reverse else "▲"
        return Text(label, style="bold", justify="left" if column.key in ("name", "status") else "right")

    def _redraw(self) -> None:
        """Put the rows in the filter's and the sort's order.

        Costs a sort of the names; cells are made only for the rows drawn."""
        snapshot = self._snapshot
        if snapshot is None:
            return
        sort_column = next(c for c in COLUMNS if c.key == self.sort_key)
        shown = [e for e in snapshot.endpoints if not self.filter_text or matches(self.filter_text, e.name)]
        # Rows without a value sort after the others in either direction.
        keyed = [(sort_column.sort_value(e, snapshot.metrics_for(e.name)), e.name) for e in shown]
        known = sorted(((v, n) for v, n in keyed if v is not None), reverse=self.sort_reverse)
        unknown = sorted(n for v, n in keyed if v is None)
        order = [name for _, name in known] + unknown
        self.refresh()  # the header's arrow, and any values that moved
        keep = self.selected_name
        if self._wanted in order:
            keep, self._wanted = self._wanted, None
        if order == self._keys:
            if keep != self.selected_name:
                self.move_cursor(row=order.index(keep))
            return
        self.set_rows(order, keep=keep)
        # The cursor follows its endpoint; tell the app who is selected now.
        self.post_message(self.Selected(self.selected_name))


@dataclass(slots=True)
class _Row:
    """A row's cells as last made, for snapshot number ``generation``."""

    generation: int
    version: int
    cells: list[Text]


def _same_text(a: object, b: object) -> bool:
    """Rich's ``Text.__eq__`` ignores the base style and justification, which
    carry the warning colours here; compare those too."""
    if not (isinstance(a, Text) and isinstance(b, Text)):
        return a == b
    return a == b and a.style == b.style and a.justify == b.justify
