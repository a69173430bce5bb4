"""Section 2: how fast ``smtop --demo`` shows something, and then the fleet.

Measured on the real console process under a pty of 120×40 (see
:mod:`ptyproc`), from just before the spawn:

- **alt screen**: the app switched to the alternate screen (Textual is up);
- **first frame**: the header text "smtop" is on screen after that switch;
- **first data**: an endpoint of the demo fleet ("fraud-detector-prod") is on
  screen, i.e. the simulator child started, the first refresh finished and
  the table was painted.

The same two times for ``smtop --endpoint-url URL`` against a simulator that
is already running (started first and waited for, not timed): what a user of
a real account sees, without the demo's own simulator start in the way.

Plus the parts that explain those numbers, each in a fresh process:
answering ``smtop --version`` (interpreter + CLI, no Textual), importing the
UI module, beside a bare ``python -c pass``, and starting the demo simulator
alone (``spawn_sim``, to its ready line), which first data waits for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ptyproc import ALT_SCREEN, PtyProcess, shows
from report import spread

from smtop.settings import DEMO_REFRESH

HEADER_TEXT = "smtop"
DEMO_ENDPOINT = "fraud-detector-prod"


@dataclass
class DemoStart:
    alt_screen_s: float | None
    first_frame_s: float | None
    first_data_s: float | None


def smtop_command() -> list[str]:
    """The installed ``smtop`` script next to this interpreter (``python -m smtop`` otherwise)."""
    script = Path(sys.executable).with_name("smtop")
    if script.exists():
        return [str(script)]
    found = shutil.which("smtop")
    return [found] if found else [sys.executable, "-m", "smtop"]


def demo_start(timeout: float = 60.0) -> DemoStart:
    """One ``smtop --demo`` start, quit with ``q`` once the data is on screen."""
    return console_start([*smtop_command(), "--demo"], timeout)


def sim_start(url: str, timeout: float = 60.0) -> DemoStart:
    """One ``smtop --endpoint-url URL`` start against a running simulator."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    argv = [*smtop_command(), "--endpoint-url", url, "--region", "us-east-1", "--refresh", str(DEMO_REFRESH)]
    return console_start(argv, timeout, env=env)


def console_start(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> DemoStart:
    """Spawn the console on a pty; the times of its alt screen, header and first endpoint; quit with ``q``."""
    process = PtyProcess(argv, env=env)
    try:
        alt = process.wait_for(lambda output: ALT_SCREEN in output, timeout)
        frame = process.wait_for(shows(HEADER_TEXT), timeout) if alt is not None else None
        data = process.wait_for(shows(DEMO_ENDPOINT), timeout) if frame is not None else None
    finally:
        process.quit()
    return DemoStart(alt, frame, data)


def command_time(argv: list[str]) -> float:
    """Wall time of one run of ``argv`` to its exit (output discarded)."""
    began = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def measure(repeats: int, log=print) -> dict[str, list[float | None]]:
    """Every timing of the section, ``repeats`` times each (demo starts first, one at a time)."""
    timings: dict[str, list[float | None]] = {"alt screen": [], "first frame": [], "first data": []}
    for attempt in range(repeats):
        log(f"  start-up: smtop --demo run {attempt + 1}/{repeats} …")
        start = demo_start()
        timings["alt screen"].append(start.alt_screen_s)
        timings["first frame"].append(start.first_frame_s)
        timings["first data"].append(start.first_data_s)
    from smtop.sim.process import spawn_sim

    with spawn_sim(traffic=True) as sim:
        for attempt in range(repeats):
            log(f"  start-up: smtop --endpoint-url (running simulator) run {attempt + 1}/{repeats} …")
            start = sim_start(sim.url)
            timings.setdefault("sim first frame", []).append(start.first_frame_s)
            timings.setdefault("sim first data", []).append(start.first_data_s)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "smtop --version": [*smtop_command(), "--version"],
        "python -c 'import smtop.ui.app'": [sys.executable, "-c", "import smtop.ui.app"],
    }
    log("  start-up: --version, imports, simulator …")
    for label, argv in commands.items():
        timings[label] = [command_time(argv) for _ in range(repeats)]
    timings["demo simulator ready (spawn_sim)"] = [simulator_ready() for _ in range(repeats)]
    return timings


def simulator_ready() -> float:
    """Wall time from spawning the demo simulator (fleet + live traffic) to its ready line."""
    from smtop.sim.process import spawn_sim

    began = time.perf_counter()
    sim = spawn_sim(traffic=True)
    ready = time.perf_counter() - began
    sim.stop()
    return ready


HEADERS = ("what", "median s", "min s", "max s", "runs")


def rows(timings: dict[str, list[float | None]]) -> list[list[object]]:
    out = []
    for label, values in timings.items():
        measured = [v for v in values if v is not None]
        if not measured:
            out.append([label, None, None, None, f"0/{len(values)} (timed out)"])
            continue
        median, low, high = spread(measured)
        runs = str(len(values)) if len(measured) == len(values) else f"{len(measured)}/{len(values)}"
        out.append([_describe(label), median, low, high, runs])
    return out


def _describe(label: str) -> str:
    return {
        "alt screen": "smtop --demo: alternate screen",
        "first frame": f'smtop --demo: first frame ("{HEADER_TEXT}" painted)',
        "first data": f'smtop --demo: first data ("{DEMO_ENDPOINT}" painted)',
        "sim first frame": "smtop --endpoint-url (simulator already running): first frame",
        "sim first data": "smtop --endpoint-url (simulator already running): first data",
    }.get(label, label)
