"""The MFA code dialog: a role session that needs MFA expired (or none was cached).

botocore cannot refresh such a session by itself: it asks for a new code.
Inside the console nothing may prompt on the terminal, so this dialog asks,
and the app signs in again with the code (smtop.ui.app).
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from smtop.format import printable

_CODE = re.compile(r"\d{6}")
"""STS's TokenCode: exactly six digits (botocore's sts model: min 6, max 6, pattern [\\d]*)."""


class MfaCodeScreen(ModalScreen[str | None]):
    """Asks for the six-digit code of ``serial``; dismisses with it, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, profile: str | None, serial: str | None, reason: str) -> None:
        super().__init__()
        self._profile = profile
        self._serial = serial
        self._reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="mfa"):
            yield Label(Text(printable(self._reason)), id="mfa-reason")
            device = f" of {printable(self._serial)}" if self._serial else ""
            yield Label(Text(f"Profile {printable(self._profile or 'default')}: enter the code{device}"), id="mfa-title")
            yield Input(placeholder="6 digits", password=True, restrict=r"\d{0,6}", max_length=6, id="mfa-code")
            yield Label("enter sign in · escape cancel (press L later to sign in)", id="mfa-hint")

    def on_mount(self) -> None:
        self.query_one("#mfa").border_title = "MFA CODE"
        self.query_one("#mfa-code").focus()

    @on(Input.Submitted, "#mfa-code")
    def _submitted(self, event: Input.Submitted) -> None:
        if not _CODE.fullmatch(event.value):
            self.notify("An MFA code is six digits.", severity="warning")
            return
        self.dismiss(event.value)
