"""Run a terminal program under a pseudo-terminal and watch what it paints.

Textual writes its frames to the tty through stderr, so the child gets the
pty's slave end as stdin, stdout *and* stderr, and the pty as its controlling
terminal, with a fixed window size.  The parent reads the master end, which
is everything the terminal would have received.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Sequence

ALT_SCREEN = b"\x1b[?1049h"
"""What a full-screen app sends first: switch to the alternate screen."""

# CSI (with private/intermediate bytes), OSC (BEL- or ST-terminated), DCS/APC
# strings, and two-byte escapes: enough to recover the text a terminal shows.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    rb"|\x1b[P_^][^\x1b]*\x1b\\"
    rb"|\x1b[()*+][0-~]"
    rb"|\x1b[@-Z\\-~]"
)


def visible_text(raw: bytes) -> str:
    """The printable text in ``raw``, escape sequences removed."""
    return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")


class PtyProcess:
    """A child process on a fresh pty of ``cols`` × ``rows``.

    Attributes:
        started: ``time.perf_counter()`` just before the child was spawned;
            every time this class reports is relative to it.
        output: everything read from the pty so far (may be trimmed by
            :meth:`drain` when ``keep`` is false).
        bytes_read: total bytes read from the pty.
    """

    def __init__(self, argv: Sequence[str], cols: int = 120, rows: int = 40, env: dict[str, str] | None = None) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        environment = dict(os.environ if env is None else env)
        environment.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.started = time.perf_counter()
        self.popen = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment,
            start_new_session=True,
            preexec_fn=_take_controlling_tty,
            close_fds=True,
        )
        os.close(slave)
        self._master = master
        self.output = bytearray()
        self.bytes_read = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def wait_for(self, predicate, timeout: float) -> float | None:
        """Read until ``predicate(output)`` holds; return the elapsed time then, or None on timeout/exit."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if predicate(self.output):
                return self.elapsed()
            if not self._read_once(min(0.05, deadline - time.perf_counter())):
                if self.popen.poll() is not None:
                    self._read_once(0)
                    return self.elapsed() if predicate(self.output) else None
        return None

    def drain(self, seconds: float, keep: bool = False, tick=None, tick_every: float = 1.0) -> None:
        """Keep reading for ``seconds`` (the child must never block on a full pty).

        Args:
            keep: keep the output (otherwise only ``bytes_read`` grows).
            tick: called about every ``tick_every`` seconds (for sampling).
        """
        end = time.perf_counter() + seconds
        next_tick = time.perf_counter()
        while (now := time.perf_counter()) < end:
            if tick is not None and now >= next_tick:
                tick()
                next_tick += tick_every
            self._read_once(min(0.05, end - now, max(next_tick - now, 0)))
            if not keep:
                del self.output[:]
            if self.popen.poll() is not None:
                break
        if tick is not None:
            tick()

    def quit(self, keys: bytes = b"q", timeout: float = 10.0) -> int:
        """Send ``keys``, wait for the exit (reading meanwhile), terminate if it hangs; returns the exit code."""
        try:
            os.write(self._master, keys)
        except OSError:
            pass
        deadline = time.perf_counter() + timeout
        while self.popen.poll() is None and time.perf_counter() < deadline:
            self._read_once(0.05)
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        os.close(self._master)
        return self.popen.returncode

    def _read_once(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], max(timeout, 0))
        if not ready:
            return False
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: the slave side is closed (the child exited)
            return False
        self.output += chunk
        self.bytes_read += len(chunk)
        return bool(chunk)


def _take_controlling_tty() -> None:
    # Runs in the child after setsid(): make the pty on fd 0 its controlling terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def shows(text: str):
    """A predicate for :meth:`PtyProcess.wait_for`: ``text`` is on screen after the alt-screen switch."""

    def predicate(output: bytearray) -> bool:
        index = output.find(ALT_SCREEN)
        return index >= 0 and text in visible_text(bytes(output[index:]))

    return predicate
