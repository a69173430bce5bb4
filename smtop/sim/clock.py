"""The simulator's clock: wall time, or a fixed start that then runs in real time.

``--now EPOCH`` pins where the simulated world starts so that the backfilled
history (and with ``--no-traffic`` every answer) is the same on every run.

The seeders stand the clock still at moments in the past while they create
the fleet, its alarms and the people's past calls, so endpoints carry
believable, reproducible creation times.  Such a hold is never process-wide:
the server answers many clients at once, and a client calling while the fleet
is seeded must not be served a time days in the past (moto's STS then issues
credentials that expired before they were issued, and LookupEvents refuses a
StartTime of "an hour ago" as later than its "now").  A hold is seen only by

- the thread that holds it (:meth:`SimClock.held`: a seeder writing to moto's
  backends directly), and
- requests signed with the access key it is held for (:meth:`SimClock.held_for`:
  a seeder calling over HTTP like a person; :class:`HeldClockScope` serves
  those requests in its thread at the held moment).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

from smtop.sim.wsgi import signing_key


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
        self._this_thread = threading.local()
        self._held_for_key: dict[str, float] = {}
        self._lock = threading.Lock()

    def time(self) -> float:
        """Current simulated time in epoch seconds, as this thread sees it."""
        held = getattr(self._this_thread, "at", None)
        if held is not None:
            return held
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

    def not_behind_wall(self) -> float:
        """The simulated time, or the wall clock when that is later.

        For the times a client checks against its own clock: a credential's
        expiry, the "now" a LookupEvents time range is checked against.  AWS's
        reference is the wall clock, so with ``--now`` in the past these must
        still not lie behind it; the simulated history itself stays where
        ``--now`` put it (no event lies between the two)."""
        return max(self.time(), time.time())

    def utcnow_not_behind_wall(self) -> datetime:
        """:meth:`not_behind_wall` as moto's naive UTC datetime."""
        return datetime.fromtimestamp(self.not_behind_wall(), timezone.utc).replace(tzinfo=None)

    @contextmanager
    def held(self, at: float) -> Iterator[None]:
        """Stand still at ``at`` (epoch seconds) for this thread while the block runs."""
        previous = getattr(self._this_thread, "at", None)
        self._this_thread.at = at
        try:
            yield
        finally:
            self._this_thread.at = previous

    @contextmanager
    def held_for(self, access_key_id: str, at: float) -> Iterator[None]:
        """Serve requests signed with ``access_key_id`` at ``at`` while the block runs
        (through :class:`HeldClockScope`); every other client keeps the running clock."""
        with self._lock:
            previous = self._held_for_key.get(access_key_id)
            self._held_for_key[access_key_id] = at
        try:
            yield
        finally:
            with self._lock:
                if previous is None:
                    self._held_for_key.pop(access_key_id, None)
                else:
                    self._held_for_key[access_key_id] = previous

    def held_at(self, access_key_id: str | None) -> float | None:
        """Where the clock is held for requests signed with ``access_key_id``, if it is."""
        if access_key_id is None:
            return None
        with self._lock:
            return self._held_for_key.get(access_key_id)


class HeldClockScope:
    """WSGI middleware: a request signed with a key the clock is held for is served,
    in its thread, at the held moment (moto's timestamps, the CloudTrail record);
    every other request sees the running clock.

    The held answer is read in full inside the hold: only the simulator's own
    seeders are held, and they make small calls, never streams.
    """

    def __init__(self, app: Callable, clock: SimClock) -> None:
        self.app = app
        self.clock = clock

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        at = self.clock.held_at(signing_key(environ.get("HTTP_AUTHORIZATION", "")))
        if at is None:
            return self.app(environ, start_response)
        with self.clock.held(at):
            answer = self.app(environ, start_response)
            try:
                return [b"".join(answer)]
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()
