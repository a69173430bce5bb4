"""--replay's keys and position indicator, mixed into SmtopApp.

The replay source answers every poll with what the recording held at the
replay clock's time, so playing needs nothing but polls: the metric poll
runs every second (cli sets the refresh), the CloudTrail feed too, and the
header's position follows a one-second tick.  A seek starts every panel over at
the new time (the log tail refills from the recording).
"""

from __future__ import annotations

from typing import Protocol

from textual.widgets import Input

from smtop.models.replay import ReplayPosition
from smtop.ui.widgets.status_bar import StatusBar

SEEK_SMALL = 30.0
"""Seconds of recorded time ← → move."""
SEEK_LARGE = 300.0
"""Seconds of recorded time [ ] move."""
TICK = 1.0


class ReplayControl(Protocol):
    """What the app steers in a replay (smtop.replay.player.ReplaySource)."""

    def position(self) -> ReplayPosition: ...

    def toggle_pause(self) -> None: ...

    def seek(self, seconds: float) -> None: ...


class ReplayControls:
    """Mixin for SmtopApp: space, ← → [ ] and the header's REPLAY indicator."""

    replay: ReplayControl | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys exist only in a replay; ← → leave a text box its cursor."""
        if action == "switch_context" and self.replay is not None:
            return False  # a replay plays one recording: the key and its footer slot go to the replay's
        if action in ("replay_pause", "replay_seek"):
            if self.replay is None:
                return False
            if parameters and abs(float(parameters[0])) == SEEK_SMALL and isinstance(self.focused, Input):
                return False
        return super().check_action(action, parameters)

    def start_replay_ticks(self) -> None:
        if self.replay is not None:
            self._show_position()
            self.set_interval(TICK, self._show_position)

    def prepare_replay_panels(self) -> None:
        """The panels are in (SmtopApp.mount_panels): the feed follows the replay's clock."""
        if self.replay is not None:
            self._trail().poll_seconds = TICK

    def _show_position(self) -> None:
        if self.is_running:
            self.main.query_one(StatusBar).replay = self.replay.position()

    def action_replay_pause(self) -> None:
        if self.replay is None:  # reached from the command palette outside a replay
            return
        self.replay.toggle_pause()
        self._show_position()

    def action_replay_seek(self, seconds: float) -> None:
        if self.replay is None:
            return
        self.replay.seek(float(seconds))
        self._show_position()
        # Every panel at the new time at once, not at its next poll.
        self._begin_poll()
        self.request_alarm_poll()
        self._trail().poll_now()
        self._logs().restart()
