"""Run the simulator as a child process: what ``smtop --demo`` and the tests use.

The simulator lives in its own interpreter because moto in the console's
process shares its GIL (the asyncio loop stalled up to 5 s while the server
worked).  This module only uses the standard library, so importing it costs
nothing and never imports moto.

The child is started with ``--exit-with-stdin`` and a pipe as its stdin: if
the parent dies without calling :meth:`SimProcess.stop`, the pipe closes and
the simulator exits too, instead of lingering on its port.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

READY_PREFIX = "smtop sim listening on "  # mirrors smtop.sim.server.READY_PREFIX (not imported: moto-free)

EXTRA_MODULES = ("moto", "flask", "flask_cors", "lark")
"""What the ``sim`` extra installs that the simulator imports: moto, the Flask
app of moto's server (``moto[server]``), and lark for Logs Insights queries."""


def missing_extra() -> str | None:
    """Why the simulator cannot run here, in one line, or ``None`` when it can.

    The simulator is the optional ``smtop[sim]`` extra: a plain ``pip install
    smtop`` has no moto.  ``smtop sim`` and ``smtop --demo`` ask this before
    starting anything, so a newcomer reads how to install it instead of an
    ImportError from a child process.  Looked up, not imported (moto takes
    ~0.7 s to import; the demo's simulator imports it in its own process).
    """
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return f"the simulator is an extra that is not installed here (no {', '.join(missing)}): pip install 'smtop[sim]'"


class SimStartError(RuntimeError):
    """The simulator exited, or did not get ready in time; the message ends with its stderr."""


class SimProcess:
    """A running simulator child process.

    Use :func:`spawn_sim` to start one.  Also a context manager: leaving the
    ``with`` block stops it.

    Attributes:
        url: The simulator's endpoint URL, e.g. ``http://127.0.0.1:43121``.
        seed: The seed it was started with (``None`` when it chose one).
        now: The epoch its clock started at (``None`` for the wall clock).
    """

    def __init__(self, popen: subprocess.Popen, stderr_file, seed: int | None, now: float | None) -> None:
        self.popen = popen
        self.url: str | None = None
        """Set once the simulator printed its "listening" line."""
        self.seed = seed
        self.now = now
        self._stderr = stderr_file
        self._ready = threading.Event()
        # Drains and finally closes the child's stdout, so it never blocks on a full pipe.
        self._reader = threading.Thread(target=self._read_stdout, name="smtop-sim-stdout", daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        with self.popen.stdout:
            for raw in self.popen.stdout:
                line = raw.decode("utf-8", "replace").strip()
                if self.url is None and line.startswith(READY_PREFIX):
                    self.url = line[len(READY_PREFIX) :]
                    self._ready.set()
        self._ready.set()  # EOF: it exited (or was stopped) before or after getting ready

    def wait_ready(self, timeout: float = 20.0) -> str:
        """Block until the simulator listens; return its URL.

        Raises:
            SimStartError: it exited, or was not ready within ``timeout`` s.
        """
        self._ready.wait(timeout)
        if self.url is not None:
            return self.url
        try:
            reason = f"exited with code {self.popen.wait(1.0)}"
        except subprocess.TimeoutExpired:
            reason = f"was not ready after {timeout:g} s"
        tail = self.stderr_tail(20)
        self.stop()
        raise SimStartError(f"The simulator {reason}." + (f"\n{tail}" if tail else ""))

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> int:
        """Terminate the simulator (SIGTERM), killing it if it does not exit in ``timeout`` s.

        Returns:
            The child's exit code.
        """
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        try:
            self.popen.stdin.close()
        except OSError:
            pass
        self._reader.join(timeout)
        if not self._stderr.closed:
            self._stderr.close()
        return self.popen.returncode

    # -- fault control (smtop/sim/faults.py), over the simulator's /_smtop/ API --
    def inject(self, kind: str, service: str | None = None, operation: str | None = None, **options) -> dict:
        """Add a fault rule (``share=``, ``seconds=``, ``count=``); return the simulator's fault state."""
        rule = {"kind": kind, "service": service, "operation": operation, **options}
        return self._control("POST", "faults", rule)

    def faults(self) -> dict:
        """The active rules (with matched/injected counts) and the calls seen per ``service:operation``."""
        return self._control("GET", "faults")

    def clear_faults(self) -> dict:
        return self._control("DELETE", "faults")

    def reset_calls(self) -> dict:
        return self._control("DELETE", "calls")

    def live_tail(self) -> dict:
        """Live Tail sessions: ``open``, ``started`` and ``session_seconds`` (what AWS bills by the minute)."""
        return self._control("GET", "live-tail")

    def reset_live_tail(self) -> dict:
        """Count Live Tail sessions and their seconds from now on."""
        return self._control("DELETE", "live-tail")

    def outage(self, seconds: float) -> None:
        """Take the simulator off the network for ``seconds``; it comes back on its own, state intact."""
        self._control("POST", "outage", {"seconds": seconds})

    def _control(self, method: str, path: str, body: dict | None = None) -> dict:
        import json
        import urllib.request

        if self.url is None:
            raise SimStartError("The simulator is not ready.")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_smtop/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read() or b"{}")

    def stderr_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines the simulator wrote to stderr."""
        return _tail(self._stderr, lines)

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SimProcess(pid={self.pid}, url={self.url!r})"


def spawn_sim(
    port: int = 0,
    traffic: bool = True,
    seed: int | None = None,
    now: float | None = None,
    timeout: float = 20.0,
    extra_args: list[str] | None = None,
) -> SimProcess:
    """Start ``python -m smtop.sim`` and wait until it is ready.

    Args:
        port: Port to listen on; 0 picks a free one.
        traffic: Keep writing live traffic after the backfill.
        seed: Seed of the simulated history (random when ``None``).
        now: Epoch the simulated clock starts at (wall clock when ``None``).
        timeout: Seconds to wait for the "listening" line.
        extra_args: More command-line arguments for the simulator.

    Returns:
        The running simulator.

    Raises:
        SimStartError: The child exited or did not get ready within ``timeout``.
    """
    process = start_sim(port=port, traffic=traffic, seed=seed, now=now, extra_args=extra_args)
    try:
        process.wait_ready(timeout)
    except BaseException:
        process.stop()
        raise
    return process


def start_sim(
    port: int = 0,
    traffic: bool = True,
    seed: int | None = None,
    now: float | None = None,
    extra_args: list[str] | None = None,
) -> SimProcess:
    """Start the simulator and return at once; :meth:`SimProcess.wait_ready` waits.

    Whoever starts it can register :meth:`SimProcess.stop` before waiting, so a
    console quit during start-up never leaves a simulator behind.
    """
    command = [sys.executable, "-m", "smtop.sim", "--port", str(port), "--exit-with-stdin"]
    if not traffic:
        command.append("--no-traffic")
    if seed is not None:
        command += ["--seed", str(seed)]
    if now is not None:
        command += ["--now", repr(float(now))]
    command += extra_args or []

    # The simulator needs no credentials: none of the user's reach it.
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    # The child must import this very smtop, installed or not.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")

    stderr_file = tempfile.TemporaryFile(mode="w+b")
    popen = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        env=env,
        start_new_session=True,  # a Ctrl-C meant for the console must not hit the simulator first
    )
    return SimProcess(popen, stderr_file, seed, now)


def _tail(stream, lines: int) -> str:
    if stream.closed:
        return ""
    stream.flush()
    stream.seek(0)
    text = stream.read().decode("utf-8", "replace")
    stream.seek(0, os.SEEK_END)
    return "\n".join(text.rstrip().splitlines()[-lines:])
