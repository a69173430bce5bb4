"""The INSIGHTS side panel: saved Logs Insights queries, run against the selected endpoint.

Queries come from three places, labelled by source: smtop's built-ins
(:mod:`smtop.models.queries`), the user's config file (:mod:`smtop.config.file`) and
the account's query definitions (DescribeQueryDefinitions).  A run happens
in one exclusive worker that posts :class:`InsightsPanel.Progressed`
messages; a run belongs to the endpoint selected when it started, and
moving the selection (or the side tab) does not stop it — the panel says
whose results it shows.  Starting another query, or ``x``, cancels the
running one, and the data layer then sends StopQuery.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from smtop.config import file as config
from smtop.errors import ReadOnlyError, SmtopError
from smtop.format import compact, printable, safe_text
from smtop.clock import Clock
from smtop.models.insights import QueryDefinitions, QueryProgress, QueryRequest, QueryStats, SavedQuery
from smtop.models.source import InsightsSource
from smtop.models.queries import BUILT_IN
from smtop.ui.screens.insights_editor import InsightsEditorScreen

RANGES: tuple[tuple[str, timedelta], ...] = (
    ("5m", timedelta(minutes=5)),
    ("15m", timedelta(minutes=15)),
    ("1h", timedelta(hours=1)),
    ("3h", timedelta(hours=3)),
    ("12h", timedelta(hours=12)),
    ("24h", timedelta(hours=24)),
)
DEFAULT_RANGE = 2  # 1 hour, as the seed's "errors in the last hour"


def _bytes(amount: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if amount >= size:
            return f"{amount / size:.1f} {unit}"
    return f"{amount:.0f} B"


def multiline(text: str, style: str = "") -> Text:
    """Untrusted text of several lines: each line made printable, the line breaks kept."""
    return Text("\n".join(printable(line) for line in text.split("\n")), style=style)


class InsightsPanel(Vertical):
    """Saved queries, the current query's text, its run's status and its results."""

    BINDINGS = [
        Binding("t", "cycle_range", "Range"),
        Binding("e", "edit", "Edit"),
        Binding("x", "cancel", "Cancel query"),
        Binding("R", "rerun", "Re-run", key_display="R"),
        Binding("p", "save_definition", "Save to account"),
        Binding("w", "save_config", "Save to config"),
        Binding("v", "view", "Chart/table"),
        Binding("s", "sort", "Sort", show=False),
        Binding("S", "reverse", "Reverse", show=False, key_display="S"),
    ]

    class Progressed(Message):
        """One state of the running query (from the run worker)."""

        def __init__(self, generation: int, progress: QueryProgress) -> None:
            super().__init__()
            self.generation = generation
            self.progress = progress

    class RunFailed(Message):
        def __init__(self, generation: int, error: SmtopError) -> None:
            super().__init__()
            self.generation = generation
            self.error = error

    class Loaded(Message):
        """The account's definitions and the config file's queries were read."""

        def __init__(self, definitions: QueryDefinitions, configured: config.ConfigQueries) -> None:
            super().__init__()
            self.definitions = definitions
            self.configured = configured

    class Saved(Message):
        def __init__(self, text: str, error: bool = False, reload: bool = False) -> None:
            super().__init__()
            self.text = text
            self.error = error
            self.reload = reload

    def __init__(
        self,
        source: InsightsSource,
        *,
        clock: Clock,
        config_path: str | None = None,
        range_index: int = DEFAULT_RANGE,
        **kwargs: Any,
    ) -> None:
        """``config_path``: --config (None: the config file's usual place)."""
        super().__init__(**kwargs)
        self.source = source
        self._clock = clock
        self._config_path = config.config_path(config_path)
        self.queries: list[SavedQuery] = list(BUILT_IN)
        self.current: SavedQuery | None = None
        """The query shown and run (edited text included)."""
        self.endpoint: str | None = None
        self.log_group: str | None = None
        self.range_index = range_index
        self.progress: QueryProgress | None = None
        self.request: QueryRequest | None = None
        """The request of the shown (or running) run: whose results these are."""
        self.problems: dict[str, str] = {}
        """Why a source of queries is missing (account, config), shown under the list."""
        self.sort_column: int | None = None
        self.sort_reverse = False
        self._generation = 0
        self._loaded = False
        self._running = False

    def compose(self) -> ComposeResult:
        yield Static(id="insights-head")
        yield OptionList(id="insights-queries")
        yield Static(id="insights-sources")
        yield Static(id="insights-query")
        yield Static(id="insights-status")
        yield DataTable(id="insights-results", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self._show_queries()
        self._show_head()
        self._show_status()

    def _now(self) -> datetime:
        return self._clock.now()

    def show_endpoint(self, name: str | None, log_group: str | None) -> None:
        """The app's selection changed: the default target of the next run (a running one goes on)."""
        self.endpoint, self.log_group = name, log_group
        self._show_head()
        self._show_status()
        if not self._loaded:
            self._loaded = True
            self.reload()

    def reload(self) -> None:
        """Read the account's definitions and the config file again."""
        self._load()

    @work(exclusive=True, group="insights-load", exit_on_error=False)
    async def _load(self) -> None:
        configured = await asyncio.to_thread(config.load_queries, self._config_path)
        definitions = await self.source.query_definitions()
        self.post_message(self.Loaded(definitions, configured))

    @on(Loaded)
    def _loaded_queries(self, message: Loaded) -> None:
        self.queries = list(message.definitions.queries) + list(BUILT_IN) + list(message.configured.queries)
        self.problems = {}
        if message.definitions.error:
            self.problems["account"] = f"Account queries unavailable: {message.definitions.error}"
        if message.configured.problem:
            self.problems["config"] = message.configured.problem
        self._show_queries()

    def _show_queries(self) -> None:
        options = self.query_one("#insights-queries", OptionList)
        highlighted = options.highlighted
        current = self.current
        options.clear_options()
        for index, saved in enumerate(self.queries):
            label = Text.assemble((f"{saved.source:>8} ", "dim"), safe_text(saved.name))
            options.add_option(Option(label, id=str(index)))
        if self.queries:
            # The list may have grown above the highlighted query: stay on the same one.
            same = [i for i, q in enumerate(self.queries) if current and (q.source, q.name) == (current.source, current.name)]
            options.highlighted = same[0] if same else min(highlighted or 0, len(self.queries) - 1)
            if same:
                self.current = current  # keeps an edited text
        sources = self.query_one("#insights-sources", Static)
        sources.display = bool(self.problems)
        sources.update(safe_text("\n".join(self.problems.values())))
        if self.current is None and self.queries:
            self._set_current(self.queries[options.highlighted or 0])

    @on(OptionList.OptionHighlighted, "#insights-queries")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index < len(self.queries):
            self._set_current(self.queries[event.option_index])

    @on(OptionList.OptionSelected, "#insights-queries")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.queries):
            self._set_current(self.queries[event.option_index])
            self.run_current()

    def _set_current(self, saved: SavedQuery) -> None:
        self.current = saved
        self.query_one("#insights-query", Static).update(multiline(saved.query, style="dim"))

    # -- running -----------------------------------------------------------------
    @property
    def time_range(self) -> tuple[str, timedelta]:
        return RANGES[self.range_index]

    def run_current(self) -> None:
        """Run the current query over the chosen range (cancelling a running one)."""
        saved = self.current
        if saved is None:
            return
        groups = saved.log_groups or ((self.log_group,) if self.log_group else ())
        if not groups:
            self._status_text("Select an endpoint first: a query runs against its log group.", error=True)
            return
        if self._running:
            self.app.notify("The running query was cancelled (StopQuery) for the new one.", timeout=4)
        end = self._now()
        self.request = QueryRequest(
            query=saved.query,
            log_groups=tuple(groups),
            start=end - self.time_range[1],
            end=end,
            name=saved.name,
            endpoint=None if saved.log_groups else self.endpoint,
            measure=saved.measure,
        )
        self._generation += 1
        self._running = True
        self.add_class("-ran")
        self.progress = QueryProgress("Starting")
        self.sort_column, self.sort_reverse = None, False
        self.query_one("#insights-results", DataTable).clear(columns=True)
        self._show_status()
        self._run(self._generation, self.request)

    @work(exclusive=True, group="insights-run", exit_on_error=False)
    async def _run(self, generation: int, request: QueryRequest) -> None:
        try:
            async for progress in self.source.run_query(request):
                self.post_message(self.Progressed(generation, progress))
        except SmtopError as error:
            self.post_message(self.RunFailed(generation, error))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        if message.generation != self._generation:
            return
        self.progress = message.progress
        if message.progress.done:
            self._running = False
            self._show_rows()
        self._show_status()

    @on(RunFailed)
    def _run_failed(self, message: RunFailed) -> None:
        if message.generation != self._generation:
            return
        self._running = False
        self.progress = QueryProgress("Failed", error=str(message.error))
        self._show_status()

    @on(Worker.StateChanged)
    def _run_crashed(self, event: Worker.StateChanged) -> None:
        # A bug in the run, not an AWS failure: say so, keep the panel usable.
        if event.worker.group == "insights-run" and event.state == WorkerState.ERROR:
            self._running = False
            error = event.worker.error
            self.progress = QueryProgress("Failed", error=f"internal error: {type(error).__name__}: {error}")
            self._show_status()

    def action_cancel(self) -> None:
        if not self._running:
            self._status_text("No query is running.", error=False)
            return
        self._generation += 1
        self._running = False
        self.workers.cancel_group(self, "insights-run")
        query_id = self.progress.query_id if self.progress else None
        self.progress = QueryProgress("Cancelled", query_id=query_id, stats=self.progress.stats if self.progress else QueryStats())
        self._show_status()

    def action_rerun(self) -> None:
        self.run_current()

    def action_cycle_range(self) -> None:
        self.range_index = (self.range_index + 1) % len(RANGES)
        self._show_head()

    # -- editing and saving ------------------------------------------------------
    def action_edit(self) -> None:
        if self.current is None:
            return
        self.app.push_screen(InsightsEditorScreen(self.current.name, self.current.query), self._edited)

    def _edited(self, text: str | None) -> None:
        if text is None or self.current is None:
            return
        self._set_current(replace(self.current, query=text))
        self.run_current()

    def action_save_definition(self) -> None:
        if self.current is not None:
            self._save_definition(self.current)

    @work(group="insights-save", exit_on_error=False)
    async def _save_definition(self, saved: SavedQuery) -> None:
        source = self.source
        # Only an account query keeps its id: saving a built-in creates a definition.
        to_save = saved if saved.source == "account" else replace(saved, definition_id=None)
        try:
            await source.put_query_definition(to_save)
        except ReadOnlyError:
            self.post_message(self.Saved("Read-only: PutQueryDefinition was not sent; restart without --read-only to save to the account.", error=True))
        except SmtopError as error:
            self.post_message(self.Saved(f"Not saved to the account: {error}", error=True))
        else:
            self.post_message(self.Saved(f"Saved {saved.name!r} as a query definition in the account.", reload=True))

    def action_save_config(self) -> None:
        if self.current is not None:
            self._save_config(self.current)

    @work(group="insights-save", exit_on_error=False)
    async def _save_config(self, saved: SavedQuery) -> None:
        path = self._config_path
        try:
            await asyncio.to_thread(config.append_query, path, replace(saved, source="config", definition_id=None))
        except OSError as error:
            self.post_message(self.Saved(f"Not saved to {path}: {error.strerror or error}", error=True))
        else:
            self.post_message(self.Saved(f"Saved {saved.name!r} to {path}.", reload=True))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.app.notify(printable(message.text), severity="error" if message.error else "information", timeout=6, markup=False)
        if message.reload:
            self.reload()

    # -- results -----------------------------------------------------------------
    def action_view(self) -> None:
        progress, request = self.progress, self.request
        if progress is None or request is None or not progress.rows:
            self._status_text("No results to show yet: run a query (enter).", error=False)
            return
        from smtop.ui.screens.insights_results import InsightsResultsScreen  # plotext: kept out of the start

        self.app.push_screen(InsightsResultsScreen(request, progress))

    def action_sort(self) -> None:
        if self.progress and self.progress.fields:
            self.sort_column = 0 if self.sort_column is None else (self.sort_column + 1) % len(self.progress.fields)
            self._show_rows()

    def action_reverse(self) -> None:
        if self.progress and self.progress.fields:
            self.sort_reverse = not self.sort_reverse
            self.sort_column = self.sort_column or 0
            self._show_rows()

    def _show_rows(self) -> None:
        table = self.query_one("#insights-results", DataTable)
        table.clear(columns=True)
        progress = self.progress
        if progress is None or not progress.fields:
            return
        for index, name in enumerate(progress.fields):
            arrow = (" ▼" if self.sort_reverse else " ▲") if index == self.sort_column else ""
            table.add_column(Text(printable(name) + arrow))
        from smtop.ui.screens.insights_results import sort_rows  # plotext: kept out of the start

        rows = sort_rows(progress.rows, self.sort_column, self.sort_reverse)
        table.add_rows([[Text(printable(v or "")) for v in row] for row in rows])

    # -- what the panel says -------------------------------------------------------
    def _show_head(self) -> None:
        label, _ = self.time_range
        target = self.endpoint or "no endpoint selected"
        head = Text.assemble(("INSIGHTS ", "bold"), safe_text(target), f" · last {label} (t)")
        _update(self.query_one("#insights-head", Static), head)

    def _status_text(self, text: str, *, error: bool) -> None:
        status = self.query_one("#insights-status", Static)
        status.set_class(error, "-error")
        _update(status, multiline(text))

    def _show_status(self) -> None:
        progress, request = self.progress, self.request
        if progress is None or request is None:
            self._status_text("enter run · e edit · t range · p/w save", error=False)
            return
        parts = [f"{request.name or 'query'}: {progress.status}"]
        if progress.done and progress.status == "Complete":
            shown = f"{len(progress.rows):,} rows"
            if progress.capped:
                shown += " (the service's 10,000-row cap: narrow the range or filter)"
            parts.append(shown)
        stats = progress.stats
        if stats.records_scanned or progress.status in ("Running", "Complete"):
            parts.append(
                f"{compact(stats.records_matched)}/{compact(stats.records_scanned)} records, {_bytes(stats.bytes_scanned)}"
            )
        text = " · ".join(parts)
        # Whose results: said when the selection moved on since the run started.
        if request.endpoint is None:
            text += f"\non {', '.join(request.log_groups)}"
        elif request.endpoint != self.endpoint:
            text += f"\nfor {request.endpoint} (not the selected endpoint)"
        if progress.notice:
            text += f"\n{progress.notice}"
        if request.measure is not None and (note := request.measure.note(progress)):
            text += f"\n{note}"
        if progress.error:
            kind = "Malformed query" if progress.status == "Malformed" else "Failed"
            text += f"\n{kind}: {progress.error}"
            if progress.status == "Malformed":
                text += "\nThe text is kept: e to fix it."
        self._status_text(text, error=progress.error is not None)


def _update(static: Static, content: Text) -> None:
    """``static.update`` unless it already shows ``content``: every refresh of the
    fleet calls :meth:`InsightsPanel.show_endpoint`, and each update is a layout
    pass over the whole screen."""
    if static.content != content:
        static.update(content)
