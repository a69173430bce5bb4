"""Switching profile and region inside the console (key P), mixed into SmtopApp.

The new data source is opened, asked who it is (STS) and refreshed once
*before* the old one is let go: a profile without credentials, an unknown
profile or an unreachable region is told in a notification and the console
goes on with what it had.  Once the new source answered, every panel is
composed anew on it (log tail, Insights, alarms, CloudTrail all start over),
so nothing of the old account stays on screen, and the old source's clients
are closed.

The swap itself happens in the switch worker, on the event loop, between two
awaits: a poll of the old source that ends later sees it is no longer the
current one and drops its result instead of drawing the old account.

Signing in again (key L) is a switch to the same profile and region: the new
source re-reads the profile, so whatever the user did outside (``aws sso
login``, fresh keys) takes effect without a restart.  A role that needs an MFA
code asks it in a dialog, then switches with the code.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from textual import work
from textual.message import Message

from smtop.errors import CredentialsError, MfaRequiredError, SmtopError
from smtop.format import printable
from smtop.models import CallerIdentity, FleetSnapshot
from smtop.models.switch import SwitchTarget
from smtop.ui.messages import SnapshotReady
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from smtop.ui.app import ConsoleSource

SourceSwitcher = Callable[[SwitchTarget], AbstractAsyncContextManager["ConsoleSource"]]
"""Opens a data source for another profile/region (smtop.cli.open_fleet with other settings)."""


@dataclass
class SourceSwitched(Message):
    """The new source answered; the old one is already out of use."""

    target: SwitchTarget
    old: AsyncExitStack
    identity: CallerIdentity
    snapshot: FleetSnapshot


@dataclass
class SwitchFailed(Message):
    target: SwitchTarget
    error: SmtopError


@dataclass
class IdentityKnown(Message):
    """STS said whose credentials the current source uses."""

    source: Any
    identity: CallerIdentity


class SourceSwitching:
    """Mixin for SmtopApp: the P key, the switch worker and the header's account."""

    _switcher: SourceSwitcher | None = None
    switching: SwitchTarget | None = None
    """The target being connected to, while a switch is in flight."""
    switches = 0
    """Completed switches (for tests)."""
    signed_out: CredentialsError | None = None
    """Why the current source's credentials stopped working (the header says what to do, L signs in again)."""

    def action_switch_context(self) -> None:
        if self._switcher is None:
            self.notify("Switching profile or region is not available: the demo runs on one simulator.", severity="warning")
            return
        if self.switching is not None:
            self.notify(f"Still connecting to {_label(self.switching)}…", timeout=3)
            return
        from smtop.ui.screens.switch import SwitchScreen

        source = self.source
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
        source = self.source
        if source is not None:
            self._switch_chosen(SwitchTarget(source.profile, source.region))
        else:
            self._switch_chosen(SwitchTarget(self.settings.profile, self.settings.region))

    def ask_mfa_code(self, target: SwitchTarget, error: MfaRequiredError) -> None:
        """The dialog for a new code; with it, the switch is tried again."""
        from smtop.ui.screens.mfa_code import MfaCodeScreen

        def chosen(code: str | None) -> None:
            if code:
                self._switch_chosen(replace(target, mfa_code=code))

        self.push_screen(MfaCodeScreen(target.profile, error.serial, str(error)), chosen)

    def _switch_chosen(self, target: SwitchTarget | None) -> None:
        if target is None:
            return
        self.switching = target
        self.notify(f"Connecting to {_label(target)}…", timeout=3)
        self._switch(target)

    @work(exclusive=True, group="switch", exit_on_error=False)
    async def _switch(self, target: SwitchTarget) -> None:
        stack = AsyncExitStack()
        try:
            source = await stack.enter_async_context(self._switcher(target))
            identity = await source.whoami()
            snapshot = await source.refresh()
        except BaseException as error:
            await stack.aclose()
            if not isinstance(error, Exception):
                raise
            failure = error if isinstance(error, SmtopError) else SmtopError(f"{type(error).__name__}: {error}")
            self.post_message(SwitchFailed(target, failure))
            return
        # The swap: from here on, results of the old source are dropped.
        old, self._stack = self._stack, stack
        self._source = source
        self.post_message(SourceSwitched(target, old, identity, snapshot))

    async def on_source_switched(self, message: SourceSwitched) -> None:
        self.switching = None
        self._stop_polls()
        # Nothing of the old account may stay: charts, forms, event details.
        while len(self.screen_stack) > 1 and self.screen is not self.main:
            await self.pop_screen()
        source = self.source
        self.settings = replace(self.settings, profile=source.profile, region=source.region)
        choices = self._view_choices()
        self._forget_data()
        self.panels_mounted = False  # recompose brings the first stage only
        await self.recompose()
        self._prepare_main()
        await self.mount_panels()
        self._restore_view(choices)
        self.main.query_one(StatusBar).where = (source.profile, source.region)
        self.main.query_one(StatusBar).identity = message.identity
        self.switches += 1
        self.post_message(SnapshotReady(message.snapshot))
        self._next_poll = self.set_timer(self.settings.refresh, self._begin_poll)
        if self.signed_out is not None:
            self.notify(f"Signed in as {printable(message.identity.arn)} · {_label(message.target, source.region)}", timeout=4)
        else:
            self.notify(f"Now on account {printable(message.identity.account)} · {_label(message.target, source.region)}", timeout=4)
        self.signed_out = None
        await message.old.aclose()

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

    def _stop_polls(self) -> None:
        """Stop every poll of the app itself (the panels' own go with their widgets)."""
        for timer in (self._next_poll, self._alarm_timer, self._follow_selection):
            if timer is not None:
                timer.stop()
        self._next_poll = self._alarm_timer = self._follow_selection = None
        for group in ("poll", "alarms", "identity"):
            self.workers.cancel_group(self, group)

    def _view_choices(self) -> dict[str, Any]:
        """What the user chose on the panels: time ranges, the feed's scope, the
        table's order and the selected endpoint stay across a switch, as a k9s
        view stays across contexts (and signing in again changes nothing)."""
        table = self.main.query_one(EndpointTable)
        return {
            "since": self._logs().since_index,
            "range": self._insights().range_index,
            "trail_all": self._trail().show_all,
            "sort": (table.sort_key, table.sort_reverse),
            "selected": self.selected,
        }

    def _restore_view(self, choices: dict[str, Any]) -> None:
        self._logs().since_index = choices["since"]
        self._insights().range_index = choices["range"]
        self._trail().show_all = choices["trail_all"]
        table = self.main.query_one(EndpointTable)
        table.sort_key, table.sort_reverse = choices["sort"]
        table.select(choices["selected"])

    def _forget_data(self) -> None:
        """Drop what the app kept of the old source."""
        self.snapshot = self.trail = self.alarms = self.selected = None
        self.alarm_polls = 0
        self._alarms_running = self._alarms_again = False

    # -- the header's account ------------------------------------------------------
    @work(group="identity", exit_on_error=False)
    async def _fetch_identity(self, source: Any) -> None:
        """Ask STS once per source; a failure leaves the account unshown (it is only a label)."""
        try:
            identity = await source.whoami()
        except SmtopError as error:
            self.log.warning("GetCallerIdentity failed", error=str(error))
            return
        self.post_message(IdentityKnown(source, identity))

    def on_identity_known(self, message: IdentityKnown) -> None:
        if self.is_running and message.source is self.source:
            self.main.query_one(StatusBar).identity = message.identity


def _label(target: SwitchTarget, region: str | None = None) -> str:
    return f"profile {printable(target.profile or 'default')} · {printable(region or target.region or 'its region')}"
