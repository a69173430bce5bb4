"""`g` in the logs panel: tail another log group (the seed's SageMaker groups)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from smtop.errors import SmtopError
from smtop.format import printable

PREFIX = "/aws/sagemaker/"


class LogGroupScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, source, current: str | None = None) -> None:
        super().__init__()
        self._source = source
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="log-groups"):
            yield Label(f"Log groups under {PREFIX}", id="log-groups-title")
            yield OptionList(id="log-group-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).loading = True
        self._load()

    @work(exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        options = self.query_one(OptionList)
        try:
            groups = await self._source.log_groups(PREFIX)
        except SmtopError as error:
            options.loading = False
            self.query_one("#log-groups-title", Label).update(Text(f"Could not list log groups: {printable(str(error))}", style="red"))
            return
        options.loading = False
        options.add_options([Option(Text(printable(g)), id=g) for g in groups])
        if self._current in groups:
            options.highlighted = groups.index(self._current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
