"""Where a --replay is: for the header's position indicator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
