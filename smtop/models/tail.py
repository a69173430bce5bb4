"""Whether a log tail may use Live Tail now: the console decides, the tail follows.

Live Tail is billed per session-minute (the AWS CLI reference of
``start-live-tail``: "Live Tail sessions incur charges by session usage
time, per minute"), polling FilterLogEvents is not.  So the console keeps a
session open only while somebody can read it: the UI closes the gate when
the log panel leaves the screen or nobody has used the console for a while,
and opens it again on the next key; the tail in the AWS layer then switches
between Live Tail and polling on one cursor, so the switch neither loses nor
repeats a line.
"""

from __future__ import annotations

import asyncio


class LiveTailGate:
    """Open: Live Tail may run.  Closed: poll, and ``reason`` says why (for the notice).

    Both sides run on one event loop: the UI calls :meth:`open` and
    :meth:`close`, the tail reads :attr:`is_open` and awaits :meth:`wait`.
    """

    def __init__(self, open: bool = True, reason: str = "") -> None:
        self._open = open
        self.reason = "" if open else reason
        """Why the gate is closed ("" when open), e.g. "no key pressed for 15 min"."""
        self._changed = asyncio.Event()

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        self._set(True, "")

    def close(self, reason: str) -> None:
        self._set(False, reason)

    def _set(self, open: bool, reason: str) -> None:
        if open == self._open:
            self.reason = reason
            return
        self._open, self.reason = open, reason
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, open: bool, timeout: float | None = None) -> bool:
        """Wait until the gate is ``open`` (True) or closed (False), at most ``timeout`` s.

        Returns whether it is so now.
        """
        while self._open != open:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except asyncio.TimeoutError:
                return self._open == open
        return True
