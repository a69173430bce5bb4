"""The smtop app: one console screen, and what spans sources.

The console itself is :class:`smtop.ui.console.ConsoleScreen`, handed its
source.  The app holds what outlives a source: the settings, the clock, the
theme and keys, when the console was last used, and the switch to another
profile or region, or to the same one signed in again (``P``, ``L``).

A switch opens the new source, asks it who it is (STS) and refreshes it once
*before* the old one is let go: a profile without credentials, an unknown
profile or an unreachable region costs a notification, and the console goes
on with what it had.  Once the new source answered, a new console screen
replaces the old one, so nothing of the old account stays on screen (its
workers and timers end with it, its clients are closed); the choices made on
the panels (time ranges, the feed's scope, the table's order and selection)
are kept.  Signing in again re-reads the profile, so whatever the user did
outside (``aws sso login``, fresh keys) takes effect without a restart; a role
that needs an MFA code asks for it in a dialog.
"""

from __future__ import annotations

import gc
import weakref
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from textual import events, on, work
from textual.app import App
from textual.message import Message
from textual.widgets import Input

from smtop.clock import Clock, SystemClock
from smtop.config.settings import Settings
from smtop.errors import MfaRequiredError, SmtopError
from smtop.format import printable
from smtop.models import CallerIdentity, FleetSnapshot
from smtop.models.characters import without_controls
from smtop.models.replay import ReplayControl
from smtop.models.source import ConsoleSource
from smtop.models.switch import SwitchTarget
from smtop.ui.commands import SmtopCommands, check_key_overrides
from smtop.ui.console import Activity, ConsoleScreen, FirstData, SignedOut, SourceHandle, is_text_box
from smtop.ui.themes import choose_theme, glyph_mode, register_themes

FleetConnector = Callable[[], AbstractAsyncContextManager[ConsoleSource]]
"""Opens the console's source (smtop.cli.open_fleet with the settings)."""
SourceSwitcher = Callable[[SwitchTarget], AbstractAsyncContextManager[ConsoleSource]]
"""Opens a source for another profile/region, or the same one anew."""


@dataclass
class SourceSwitched(Message):
    """The new source answered; the console is replaced by one on it."""

    target: SwitchTarget
    handle: SourceHandle
    identity: CallerIdentity
    snapshot: FleetSnapshot


@dataclass
class SwitchFailed(Message):
    target: SwitchTarget
    error: SmtopError


class SmtopApp(App[int]):
    CSS_PATH = Path(__file__).with_name("smtop.tcss")
    TITLE = "smtop"
    COMMANDS = App.COMMANDS | {SmtopCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    # Below 36 rows metrics and logs take turns (`l`); above, both are shown.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall"), (56, "-huge")]

    def __init__(
        self,
        connect: FleetConnector,
        settings: Settings,
        *,
        clock: Clock | None = None,
        switch: SourceSwitcher | None = None,
        replay: ReplayControl | None = None,
        freeze_heap: bool = False,
    ) -> None:
        """``switch`` opens a source for another profile/region (P) or signs in
        again (L); None: neither is offered.  ``replay`` steers a --replay (its
        source is also what ``connect`` opens).  ``freeze_heap``: after the first
        data, leave start-up's objects out of garbage collection (the command
        line does; a test process must not)."""
        super().__init__()
        self._connect = connect
        self._switcher = switch
        self.replay = replay
        self.settings = settings
        self.clock = clock or SystemClock()
        self.glyphs = glyph_mode(settings.glyphs)
        """How graphs draw here: braille, block or ascii (see smtop.ui.themes)."""
        self.activity = Activity(self.clock.now())
        register_themes(self)
        self.key_overrides, self._setup_problems = check_key_overrides(settings.keys, ConsoleScreen.BINDINGS)
        """The config file's [keys] that were applied (binding id → key), for `?` help."""
        self.set_keymap(self.key_overrides)
        self._freeze_pending = freeze_heap
        self._redirected_keys: weakref.WeakSet[events.Key] = weakref.WeakSet()
        self.switching: SwitchTarget | None = None
        """The target being connected to, while a switch is in flight."""
        self.switches = 0
        """Completed switches (for tests)."""

    def on_mount(self) -> None:
        s = self.settings
        problems = [*s.config_problems, *self._setup_problems, choose_theme(self, s.theme)]
        for problem in filter(None, problems):
            self.notify(problem, title="config", severity="warning", timeout=20, markup=False)
        self.push_screen(self._console(SourceHandle(self._connect), s))

    def _console(self, handle: SourceHandle, settings: Settings, **kwargs: Any) -> ConsoleScreen:
        return ConsoleScreen(
            handle, settings, self.clock, activity=self.activity, replay=self.replay,
            can_sign_in=self._switcher is not None, **kwargs,
        )

    def on_key(self, event: events.Key) -> None:
        """Keys typed right after one that moves focus into a text box (`/`, `n`,
        `e`…) were already on their way to the widget that had focus: they reach
        the app after the first one moved the focus, and would run commands
        (`c`, `a`) under the box's name.  They are the box's text.  (This runs
        before App's own handler, which looks the key up in the bindings.)"""
        focused = self.focused
        if event.is_printable and is_text_box(focused) and event not in self._redirected_keys:
            redirected = events.Key(event.key, event.character)
            self._redirected_keys.add(redirected)  # never twice: a box that declines it lets it through
            focused.post_message(redirected)
            event.prevent_default()

    @on(Input.Changed)
    def _no_control_characters(self, event: Input.Changed) -> None:
        """A pasted escape sequence must not reach the terminal through a text
        box (Input draws its value as it is): every one-line box of every screen
        drops C0/C1 control characters as they arrive."""
        cleaned = without_controls(event.value)
        if cleaned != event.value:
            event.input.value = cleaned

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self.activity.last_input = self.clock.now()  # Live Tail runs only while the console is used
        await super().on_event(event)

    @property
    def main(self) -> ConsoleScreen:
        """The console screen (whatever is on top of it: help, a chart)."""
        return next(screen for screen in reversed(self.screen_stack) if isinstance(screen, ConsoleScreen))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_context" and self.replay is not None:
            return False  # a replay plays one recording: the key and its footer slot go to the replay's
        return True

    def action_help(self) -> None:
        from smtop.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.key_overrides))

    @on(FirstData)
    def _first_data(self) -> None:
        if self._freeze_pending:
            self._freeze_pending = False
            self.call_after_refresh(freeze_startup_heap)

    # -- P and L ---------------------------------------------------------------------
    def action_switch_context(self) -> None:
        if self._switcher is None:
            self.notify("Switching profile or region is not available: the demo runs on one simulator.", severity="warning")
            return
        if self.switching is not None:
            self.notify(f"Still connecting to {_label(self.switching)}…", timeout=3)
            return
        from smtop.ui.screens.switch import SwitchScreen

        source = self.main.source
        self.push_screen(
            SwitchScreen(
                source.profile if source else self.settings.profile,
                source.region if source else self.settings.region,
                source.switch_choices if source else None,
            ),
            self._switch_chosen,
        )

    def action_sign_in(self) -> None:
        """L: open the same profile and region anew, re-reading the profile
        (after `aws sso login`, new keys, or for a new MFA code)."""
        if self._switcher is None:
            self.notify("Signing in again is not available here: this console does not read an AWS profile.", severity="warning")
            return
        if self.switching is not None:
            self.notify(f"Still connecting to {_label(self.switching)}…", timeout=3)
            return
        source = self.main.source
        profile, region = (source.profile, source.region) if source else (self.settings.profile, self.settings.region)
        self._switch_chosen(SwitchTarget(profile, region))

    def ask_mfa_code(self, target: SwitchTarget, error: MfaRequiredError) -> None:
        """The dialog for a new code; with it, the switch is tried again."""
        from smtop.ui.screens.mfa_code import MfaCodeScreen

        def chosen(code: str | None) -> None:
            if code:
                self._switch_chosen(replace(target, mfa_code=code))

        self.push_screen(MfaCodeScreen(target.profile, error.serial, str(error)), chosen)

    @on(SignedOut)
    def _signed_out(self, message: SignedOut) -> None:
        error = message.error
        if isinstance(error, MfaRequiredError) and message.at_start:
            # No role session yet (a console without a terminal: a tab of --serve).
            self.ask_mfa_code(SwitchTarget(self.settings.profile, self.settings.region), error)
        else:
            advice = " Press L to sign in again." if error.renewable else ""
            self.notify(printable(f"{error}{advice}"), title="signed out", severity="error", timeout=30, markup=False)

    def _switch_chosen(self, target: SwitchTarget | None) -> None:
        if target is None:
            return
        self.switching = target
        self.notify(f"Connecting to {_label(target)}…", timeout=3)
        self._switch(target)

    @work(exclusive=True, group="switch", exit_on_error=False)
    async def _switch(self, target: SwitchTarget) -> None:
        handle = SourceHandle(lambda: self._switcher(target), stack=AsyncExitStack())
        try:
            source = await handle.open()
            identity = await source.whoami()
            snapshot = await source.refresh()
        except BaseException as error:
            await handle.close()
            if not isinstance(error, Exception):
                raise
            failure = error if isinstance(error, SmtopError) else SmtopError(f"{type(error).__name__}: {error}")
            self.post_message(SwitchFailed(target, failure))
            return
        self.post_message(SourceSwitched(target, handle, identity, snapshot))

    async def on_source_switched(self, message: SourceSwitched) -> None:
        self.switching = None
        old = self.main
        signed_in_again = old.signed_out is not None
        # Nothing of the old account may stay: charts, forms, event details.
        while self.screen is not old:
            await self.pop_screen()
        source = message.handle.source
        self.settings = replace(self.settings, profile=source.profile, region=source.region)
        console = self._console(
            message.handle, self.settings, first=message.snapshot, identity=message.identity, view=old.view_choices()
        )
        await self.switch_screen(console)
        self.switches += 1
        if signed_in_again:
            self.notify(f"Signed in as {printable(message.identity.arn)} · {_label(message.target, source.region)}", timeout=4)
        else:
            self.notify(f"Now on account {printable(message.identity.account)} · {_label(message.target, source.region)}", timeout=4)

    def on_switch_failed(self, message: SwitchFailed) -> None:
        self.switching = None
        if isinstance(message.error, MfaRequiredError):
            self.ask_mfa_code(message.target, message.error)
            return
        self.notify(
            f"Could not switch to {_label(message.target)}: {message.error} — still on the previous one.",
            severity="error",
            timeout=10,
            markup=False,
        )


def _label(target: SwitchTarget, region: str | None = None) -> str:
    return f"profile {printable(target.profile or 'default')} · {printable(region or target.region or 'its region')}"


def freeze_startup_heap() -> None:
    """Leave what start-up built (Textual, botocore's service models, the first
    snapshot) out of every later collection: it lives as long as the app, and
    the collector's full passes over it (60–150 ms on a busy machine) were the
    slowest key presses during log bursts (bench/logs.py part a)."""
    gc.collect()
    gc.freeze()
