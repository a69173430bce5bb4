"""`P`: switch AWS profile or region, as k9s switches contexts.

The picker only chooses; the app opens the new data source and keeps the old
one until the new one has answered, so a profile without credentials or a
mistyped region costs nothing but a message.
"""

from __future__ import annotations

import re
from typing import Awaitable, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from smtop.errors import SmtopError
from smtop.format import printable
from smtop.models.switch import SwitchChoices, SwitchTarget

_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d+")
"""What a typed region must look like (us-east-1, us-gov-west-1, eu-isoe-west-1)."""


class SwitchScreen(ModalScreen[SwitchTarget | None]):
    """Profiles on the left, regions on the right; typing filters both.

    Choosing a profile uses that profile's own region; choosing a region
    keeps the current profile.  Enter in the box takes a profile named exactly
    so, a region name typed in full (even one botocore does not list yet), or
    the one name the filter leaves.
    """

    DEFAULT_CSS = """
    SwitchScreen { align: center middle; }
    #switch { width: 72; max-width: 95%; height: 22; max-height: 95%; border: round $accent; background: $surface; }
    #switch-lists { height: 1fr; }
    #switch-lists OptionList { width: 1fr; height: 1fr; }
    #switch-hint { color: $text-muted; }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, profile: str | None, region: str | None, choices: Callable[[], Awaitable[SwitchChoices]] | None) -> None:
        super().__init__()
        self._profile = profile
        self._region = region
        self._load_choices = choices
        self.choices = SwitchChoices()

    def compose(self) -> ComposeResult:
        with Vertical(id="switch"):
            yield Label(Text(f"Now: profile {printable(self._profile or 'default')} · {printable(self._region or 'default region')}"), id="switch-title")
            yield Input(placeholder="type to filter; enter takes a profile or a region name", id="switch-filter")
            with Horizontal(id="switch-lists"):
                yield OptionList(id="switch-profiles")
                yield OptionList(id="switch-regions")
            yield Label("enter choose · tab next list · escape close", id="switch-hint")

    def on_mount(self) -> None:
        self.query_one("#switch-profiles").border_title = "PROFILES"
        self.query_one("#switch-regions").border_title = "REGIONS"
        self.query_one("#switch-filter").focus()
        self._load()

    @work(exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        if self._load_choices is None:
            return
        try:
            self.choices = await self._load_choices()
        except SmtopError as error:
            self.notify(f"Could not read the AWS config files: {error}", severity="error", markup=False)
            return
        self._fill("")

    def _fill(self, text: str) -> None:
        wanted = text.strip().lower()
        for list_id, names, current in (
            ("#switch-profiles", self.choices.profiles, self._profile),
            ("#switch-regions", self.choices.regions, self._region),
        ):
            options = self.query_one(list_id, OptionList)
            options.clear_options()
            shown = [n for n in names if wanted in n.lower()]
            options.add_options([Option(Text(printable(n), style="bold" if n == current else ""), id=n) for n in shown])
            if shown:
                options.highlighted = shown.index(current) if current in shown else 0

    @on(Input.Changed, "#switch-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#switch-filter")
    def _typed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        profiles = [p for p in self.choices.profiles if text.lower() in p.lower()]
        regions = [r for r in self.choices.regions if text.lower() in r.lower()]
        if text in self.choices.profiles or (len(profiles) == 1 and not regions):
            self.dismiss(SwitchTarget(profile=text if text in self.choices.profiles else profiles[0], region=None))
        elif _REGION.fullmatch(text) or (len(regions) == 1 and not profiles):
            self.dismiss(SwitchTarget(profile=self._profile, region=text if _REGION.fullmatch(text) else regions[0]))
        else:
            self.notify(f"{printable(text)!r} is neither a profile of your AWS config nor a region name like eu-west-1.", severity="warning", markup=False)

    @on(OptionList.OptionSelected, "#switch-profiles")
    def _profile_chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(SwitchTarget(profile=event.option.id, region=None))

    @on(OptionList.OptionSelected, "#switch-regions")
    def _region_chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(SwitchTarget(profile=self._profile, region=event.option.id))
