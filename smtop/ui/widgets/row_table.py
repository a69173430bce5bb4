"""A row-cursor table that renders only the rows on screen.

Textual's ``DataTable`` keeps per-row bookkeeping (row locations, heights,
render caches keyed by an update count) that every ``add_row``,
``update_cell``, ``clear`` or ``sort`` walks or drops: with 1,000 endpoints a
refresh or a re-sort cost the better part of a second.  This widget holds
only an ordered list of row keys and asks its subclass for a row's cells when
the row comes on screen, so a change costs O(rows on screen), not O(rows).

It draws exactly what ``DataTable`` draws for ``cursor_type="row"``,
``zebra_stripes=True``, ``cell_padding=0`` (same component classes, styles,
segment metadata and keys), so the theme, the high-contrast theme and the
snapshots see no difference; ``tests/ui/test_endpoint_table_render.py``
compares its cells with ``DataTable``'s own rendering path.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size, Spacing, clamp
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

HEADER = -1
"""The row index of the header row (as in ``DataTable``'s segment metadata)."""


class RowTable(ScrollView, can_focus=True):
    """Rows of fixed-width cells under a header, with a row cursor.

    Subclasses provide ``header_cells()`` and ``row_cells(key)`` and react to
    ``cursor_moved_to`` / ``row_chosen`` / ``header_clicked``.
    """

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "scroll_top", "Top", show=False),
        Binding("ctrl+end", "scroll_bottom", "Bottom", show=False),
        Binding("home", "scroll_home", "Home", show=False),
        Binding("end", "scroll_end", "End", show=False),
    ]

    # The names and rules are DataTable's, so existing theme rules apply unchanged.
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "datatable--cursor",
        "datatable--hover",
        "datatable--header",
        "datatable--header-hover",
        "datatable--odd-row",
        "datatable--even-row",
    }

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .datatable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .datatable--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark {
            & > .datatable--even-row {
                background: $surface-darken-1 40%;
            }
        }
        & > .datatable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .datatable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .datatable--odd-row {
        }
        & > .datatable--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .datatable--header-hover {
            background: $accent 30%;
        }
        & > .datatable--hover {
            background: $block-hover-background;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=False)
    """Index of the highlighted row in the current order."""
    hover_row: reactive[int | None] = reactive(None)
    """Index of the row under the mouse (``HEADER`` for the header)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._keys: list[str] = []
        self._index: dict[str, int] | None = None
        self._widths: tuple[int, ...] = ()
        self._show_hover = False
        self._strips: LRUCache[tuple, Strip] = LRUCache(256)
        self._styles: dict[object, Style] = {}
        self._row_style_cache: LRUCache[tuple, tuple[list[Style], Style, Style]] = LRUCache(128)

    # -- subclass hooks ------------------------------------------------------
    def header_cells(self) -> Sequence[Text]:
        raise NotImplementedError

    def row_cells(self, key: str) -> tuple[object, Sequence[Text]]:
        """The row's cells and a version that changes whenever they do."""
        raise NotImplementedError

    def cursor_moved_to(self, key: str) -> None:
        """The cursor moved onto ``key``."""

    def row_chosen(self, key: str) -> None:
        """``enter`` or a second click on the cursor row."""

    def header_clicked(self, column: int) -> None:
        """A click on the header of column number ``column``."""

    # -- rows ----------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    def row_index(self, key: str) -> int | None:
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self._keys)}
        return self._index.get(key)

    def get_row_at(self, index: int) -> list[Text]:
        return self.get_row(self._keys[index])

    def get_row(self, key: str) -> list[Text]:
        """The cells of row ``key`` (shown or filtered out)."""
        return list(self.row_cells(key)[1])

    def set_widths(self, widths: Sequence[int]) -> None:
        """Column widths (each includes the gap before the column)."""
        if tuple(widths) != self._widths:
            self._widths = tuple(widths)
            self._strips.clear()
            self._row_style_cache.clear()
            self._resize_virtual()
            self.refresh()

    def set_rows(self, keys: list[str], keep: str | None) -> None:
        """Show ``keys`` in this order; the cursor stays on ``keep`` if it is
        still there, else goes to the top."""
        count = len(self._keys)
        self._keys = keys
        self._index = None
        row = self.row_index(keep) if keep is not None else None
        self.set_reactive(RowTable.cursor_row, self.validate_cursor_row(row or 0))
        self._resize_virtual()
        if len(keys) != count:
            # The table is as tall as its rows: scroll once the layout has its new height.
            self.call_after_refresh(self._scroll_cursor_into_view)
        else:
            self._scroll_cursor_into_view()
        self.refresh()

    def _resize_virtual(self) -> None:
        size = Size(sum(self._widths), len(self._keys) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
            self.refresh(layout=True)

    # -- cursor --------------------------------------------------------------
    def validate_cursor_row(self, row: int) -> int:
        return clamp(row, 0, max(0, len(self._keys) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_cursor_into_view()
        if new < len(self._keys):
            self.cursor_moved_to(self._keys[new])

    def watch_hover_row(self, old: int | None, new: int | None) -> None:
        self._refresh_row(old)
        self._refresh_row(new)

    def move_cursor(self, *, row: int | None = None, animate: bool = False, scroll: bool = True) -> None:
        """``DataTable.move_cursor`` for a row cursor (tests and callers use it)."""
        if row is not None:
            self.cursor_row = row
        if scroll:
            self._scroll_cursor_into_view(animate)

    def _refresh_row(self, row: int | None) -> None:
        if row is None:
            return
        y = 0 if row == HEADER else row + 1 - int(self.scroll_y)
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        region = Region(int(self.scroll_x), self.cursor_row + 1, max(1, self.size.width), 1)
        self.scroll_to_region(region, animate=animate, spacing=Spacing(1, 0, 0, 0), force=True)

    def _page(self) -> int:
        """Rows under the header: DataTable's page."""
        return max(0, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self._set_hover(False)
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self._set_hover(False)
        self.cursor_row += 1

    def action_page_down(self) -> None:
        self._set_hover(False)
        self.scroll_relative(y=self._page(), animate=False, force=True)
        self.move_cursor(row=self.cursor_row + self._page(), scroll=False)

    def action_page_up(self) -> None:
        self._set_hover(False)
        self.scroll_relative(y=-self._page(), animate=False)
        self.move_cursor(row=self.cursor_row - self._page(), scroll=False)

    def action_scroll_top(self) -> None:
        self._set_hover(False)
        self.cursor_row = 0

    def action_scroll_bottom(self) -> None:
        self._set_hover(False)
        self.cursor_row = len(self._keys) - 1

    def action_scroll_home(self) -> None:
        self._set_hover(False)
        self.scroll_x = 0

    def action_scroll_end(self) -> None:
        self._set_hover(False)
        self.scroll_x = self.max_scroll_x

    def action_select_cursor(self) -> None:
        self._set_hover(False)
        if self._keys:
            self.row_chosen(self._keys[self.cursor_row])

    # -- mouse ---------------------------------------------------------------
    def _set_hover(self, active: bool) -> None:
        if active != self._show_hover:
            self._show_hover = active
            self._refresh_row(self.hover_row)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        meta = event.style.meta
        self._set_hover(bool(meta))
        if "row" in meta:
            self.hover_row = meta["row"]

    def on_leave(self, _: events.Leave) -> None:
        self._set_hover(False)

    async def on_click(self, event: events.Click) -> None:
        self._set_hover(True)
        meta = event.style.meta
        if "row" not in meta or "column" not in meta:
            return
        if meta["row"] == HEADER:
            self.header_clicked(meta["column"])
            return
        again = meta["row"] == self.cursor_row
        self.cursor_row = meta["row"]
        if again:
            self.action_select_cursor()
        self._scroll_cursor_into_view(animate=True)
        event.stop()

    # -- drawing -------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()
        self._row_style_cache.clear()
        self.refresh()

    def _style(self, name: str, rich: bool = True) -> Style:
        """A component's style, looked up once per style update."""
        key = (name, rich, self.get_pseudo_class_state())
        if key not in self._styles:
            self._styles[key] = self.get_component_rich_style(name) if rich else self.get_component_styles(name).rich_style
        return self._styles[key]

    def _states(self, row: int) -> tuple[Style, Style, Style]:
        """Row style, cursor/hover style and the style that the cursor's
        colour forces over the cell (DataTable's ``css`` foreground priority)."""
        if row == HEADER:
            row_style = self._style("datatable--header", rich=False)
        else:
            row_style = self._style("datatable--odd-row" if row % 2 else "datatable--even-row", rich=False)
        state = Style()
        if self._show_hover and self.hover_row == row:
            state += self._style("datatable--hover")
            if row == HEADER:
                state += self._style("datatable--header-hover")
        if row != HEADER and row == self.cursor_row:
            state += self._style("datatable--cursor")
        return row_style, state, Style.from_color(color=state.color)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        row = HEADER if y == 0 else y - 1 + int(self.scroll_y)
        if row >= len(self._keys):
            return Strip.blank(width, self._base_style())
        if row == HEADER:
            cells = self.header_cells()
            key, version = None, tuple(cell.plain for cell in cells)
        else:
            key = self._keys[row]
            version, cells = self.row_cells(key)
        hovered = self._show_hover and self.hover_row == row
        scroll_x = int(self.scroll_x)
        cache_key = (key, version, row, row == self.cursor_row, hovered, self.get_pseudo_class_state(), width, scroll_x)
        strip = self._strips.get(cache_key)
        if strip is None:
            line = self._render_row(row, cells, width)
            strip = self._strips[cache_key] = line.crop(scroll_x, scroll_x + width).adjust_cell_length(width, self._base_style()).simplify()
        return strip

    def _base_style(self) -> Style:
        key = ("", self.get_pseudo_class_state())
        if key not in self._styles:
            self._styles[key] = self.rich_style
        return self._styles[key]

    def _row_styles(self, row: int) -> tuple[list[Style], Style, Style]:
        """Each cell's style before and after its own, and the filler's:
        DataTable's order (row, cell position, cursor/hover; cursor colour last)."""
        key = (row, row == self.cursor_row, self._show_hover and self.hover_row == row, self.get_pseudo_class_state())
        styles = self._row_style_cache.get(key)
        if styles is None:
            row_style, state, post = self._states(row)
            pres = [row_style + Style.from_meta({"row": row, "column": c}) + state for c in range(len(self._widths))]
            extend = row_style + state + Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})
            styles = self._row_style_cache[key] = (pres, post, extend)
        return styles

    def _render_row(self, row: int, cells: Sequence[Text], width: int) -> Strip:
        pres, post, extend = self._row_styles(row)
        segments: list[Segment] = []
        for cell, cell_width, pre in zip(cells, self._widths, pres):
            segments.extend(cell_segments(cell, cell_width, pre, post))
        segments.append(Segment(" " * max(0, width - sum(self._widths)), extend))
        return Strip(segments)


def cell_segments(cell: Text, width: int, pre: Style, post: Style) -> list[Segment]:
    """One line of ``cell`` in ``width`` columns, as Rich draws a ``Text`` with
    ``no_wrap`` inside ``Styled(Padding(cell, 0), pre, post)`` — without the
    console machinery, which costs ten times as much per cell."""
    plain = cell.plain
    if cell.justify == "right":
        plain = plain.rstrip()
    length = cell_len(plain)
    if length > width:
        plain = set_cell_size(plain, width - 1) + "…" if cell.overflow == "ellipsis" else set_cell_size(plain, width)
        length = cell_len(plain)
    style = _mix(pre, cell.style, post)
    if cell.spans:
        shown = cell.copy()
        shown.plain = plain
        body = [Segment(s.text, _mix(pre, s.style or _NULL, post)) for s in shown.render(_NO_CONSOLE) if s.text]
    else:
        body = [Segment(plain, style)] if plain else []
    pad = width - length
    if pad <= 0:
        return body
    if cell.justify == "right":
        return [Segment(" " * pad, style), *body]
    if cell.justify in ("left", "full"):
        return [*body, Segment(" " * pad, style)]
    return [*body, Segment(" " * pad, _mix(pre, _NULL, post))]


_NULL = Style()


@lru_cache(maxsize=4096)
def _mix(pre: Style, style: str | Style, post: Style) -> Style:
    """``pre + style + post``, as ``Styled`` composes a cell's segments."""
    return pre + (Style.parse(style) if isinstance(style, str) else style) + post


class _NoConsole:
    """``Text.render`` only asks the console to resolve style names."""

    @staticmethod
    def get_style(name: str | Style, default: Style | None = None) -> Style:
        return name if isinstance(name, Style) else Style.parse(name)


_NO_CONSOLE = _NoConsole()
