"""A --replay as the console sees it: where it is (the header's indicator) and how to steer it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ReplayPosition:
    """The replay's clock within the recording."""

    at: datetime
    """The recorded moment being shown (the app's clock follows it)."""
    start: datetime
    end: datetime
    speed: float
    paused: bool

    @property
    def fraction(self) -> float:
        """How far into the recording, 0 to 1."""
        span = (self.end - self.start).total_seconds()
        return 1.0 if span <= 0 else min(1.0, max(0.0, (self.at - self.start).total_seconds() / span))


class ReplayControl(Protocol):
    """What the console steers in a replay (smtop.replay.player.ReplaySource)."""

    def position(self) -> ReplayPosition: ...

    def toggle_pause(self) -> None: ...

    def seek(self, seconds: float) -> None: ...
