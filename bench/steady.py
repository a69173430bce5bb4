"""Section 3: what the console costs while it just runs (CPU %, RSS).

``smtop --demo`` and :mod:`baseline_app` (a bare Textual app of the same
size, updated at the same rate) run one after the other under a 120×40 pty.
Measuring starts once the data is on screen plus a short settling time, then
lasts ``duration`` seconds:

- CPU % = (user + system CPU time of the process itself) / wall time, so
  100 % is one core; the simulator child of ``--demo`` is excluded and
  reported on its own row;
- RSS sampled every second: at the start, at the end, and the largest;
- tty KB/s: how much the app wrote to the terminal (redraw volume).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ptyproc import PtyProcess, shows
from startup import DEMO_ENDPOINT, smtop_command

SETTLE_SECONDS = 2.0
BASELINE = Path(__file__).with_name("baseline_app.py")


@dataclass
class Usage:
    """CPU and memory of one process over the measured window."""

    label: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    rss: list[int] = field(default_factory=list)
    tty_bytes: int | None = None

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.cpu_seconds / self.seconds if self.seconds else 0.0


class _Sampler:
    """Samples one process's RSS; tolerates it being gone."""

    def __init__(self, process: psutil.Process | None, usage: Usage) -> None:
        self.process = process
        self.usage = usage
        self.cpu_start = _cpu(process)

    def sample(self) -> None:
        if self.process is None:
            return
        try:
            self.usage.rss.append(self.process.memory_info().rss)
        except psutil.Error:
            self.process = None

    def finish(self, seconds: float) -> None:
        self.usage.seconds = seconds
        self.usage.cpu_seconds = _cpu(self.process) - self.cpu_start


def _cpu(process: psutil.Process | None) -> float:
    if process is None:
        return 0.0
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def run(argv: list[str], ready_text: str, label: str, duration: float, child_label: str | None = None) -> list[Usage]:
    """Start ``argv`` on a pty, wait for ``ready_text``, then measure for ``duration`` s."""
    terminal = PtyProcess(argv)
    try:
        if terminal.wait_for(shows(ready_text), 90) is None:
            raise RuntimeError(f"{label}: {ready_text!r} never appeared on screen")
        terminal.drain(SETTLE_SECONDS)
        main = psutil.Process(terminal.pid)
        samplers = [_Sampler(main, Usage(label))]
        if child_label:
            samplers.append(_Sampler(_simulator_child(main), Usage(child_label)))
        written_before, began = terminal.bytes_read, terminal.elapsed()

        def tick() -> None:
            for sampler in samplers:
                sampler.sample()

        terminal.drain(duration, tick=tick)
        seconds = terminal.elapsed() - began
        for sampler in samplers:
            sampler.finish(seconds)
        samplers[0].usage.tty_bytes = terminal.bytes_read - written_before
    finally:
        terminal.quit()
    return [s.usage for s in samplers]


def _simulator_child(process: psutil.Process) -> psutil.Process | None:
    for child in process.children(recursive=True):
        try:
            if "smtop.sim" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    return None


def measure(duration: float, log=print) -> list[Usage]:
    """smtop --demo (and its simulator), then the baseline, each for ``duration`` s."""
    from smtop.config.settings import DEMO_REFRESH

    log(f"  steady state: smtop --demo for {duration:g} s …")
    usages = run([*smtop_command(), "--demo"], DEMO_ENDPOINT, "smtop --demo", duration, "  its simulator child")
    log(f"  steady state: baseline for {duration:g} s …")
    usages += run(
        [sys.executable, str(BASELINE), "--interval", str(DEMO_REFRESH)],
        "baseline-row-0",
        f"baseline (Textual, update every {DEMO_REFRESH:g} s)",
        duration,
    )
    return usages


HEADERS = ("process", "seconds", "CPU %", "RSS start MB", "RSS end MB", "RSS max MB", "tty KB/s")


def rows(usages: list[Usage]) -> list[list[object]]:
    out = []
    for usage in usages:
        mb = [r / 2**20 for r in usage.rss] or [None]
        rate = None if usage.tty_bytes is None or not usage.seconds else usage.tty_bytes / 1024 / usage.seconds
        out.append([usage.label, usage.seconds, usage.cpu_percent, mb[0], mb[-1], max(mb, key=lambda v: v or 0), rate])
    smtop = usages[0] if usages else None
    baseline = next((u for u in usages if u.label.startswith("baseline")), None)
    if smtop and baseline and baseline.cpu_percent and baseline.rss:
        cpu_ratio = smtop.cpu_percent / baseline.cpu_percent
        rss_ratio = max(smtop.rss) / max(baseline.rss)
        out.append(["**ratio smtop / baseline** (target ≤ 2×)", None, f"{cpu_ratio:.2f}×", None, None, f"{rss_ratio:.2f}×", None])
    return out
