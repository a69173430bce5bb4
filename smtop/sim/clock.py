"""The simulator's clock: wall time, or a fixed start that then runs in real time.

``--now EPOCH`` pins where the simulated world starts so that the backfilled
history (and with ``--no-traffic`` every answer) is the same on every run.
The seeder can also hold the clock at a moment in the past while it creates
the fleet, so endpoints carry believable, reproducible creation times.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class SimClock:
    """Epoch-seconds clock shared by the moto patches, the store and the traffic.

    Args:
        start: The epoch the simulation starts at; ``None`` follows the wall clock.
        speed: Simulated seconds per wall second (soak runs compress a day into
            minutes); 1 is real time.
    """

    def __init__(self, start: float | None = None, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be above 0, not {speed}")
        self._offset = 0.0 if start is None else start - time.time()
        self._speed = speed
        self._anchor = time.time()  # speed runs from here: time() == start at construction
        self._held: float | None = None
        self._lock = threading.Lock()

    def time(self) -> float:
        """Current simulated time in epoch seconds."""
        with self._lock:
            if self._held is not None:
                return self._held
        wall = time.time()
        if self._speed == 1.0:
            return wall + self._offset
        return self._anchor + self._offset + (wall - self._anchor) * self._speed

    def now(self) -> datetime:
        """Current simulated time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def utcnow_naive(self) -> datetime:
        """What moto's ``utcnow()`` returns (naive UTC), from this clock."""
        return self.now().replace(tzinfo=None)

    def hold(self, at: float | None) -> None:
        """Stand still at ``at`` (epoch seconds) until ``hold(None)``."""
        with self._lock:
            self._held = at
