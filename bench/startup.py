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
alone (``spawn_sim``, to its ready line), which first data waits for; the
first frame of a bare Textual app (``baseline_app.py``: a DataTable and ten
sparklines), the floor any Textual console starts from.

Every start is a *second* start, as a user's are after the first: smtop's
bytecode is compiled (:func:`warm_caches`; this machine exports
PYTHONDONTWRITEBYTECODE, which would otherwise recompile smtop at every
start, ~0.1 s) and its cut-down botocore models are cached.  The very first
start after an install, with neither, is its own row.
"""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ptyproc import ALT_SCREEN, PtyProcess, shows
from report import spread

import smtop
from smtop.config.settings import DEMO_REFRESH

PACKAGE = Path(smtop.__file__).resolve().parent
BASELINE_APP = Path(__file__).resolve().with_name("baseline_app.py")

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


def warm_caches() -> None:
    """What a user's second start finds: smtop's bytecode written (children
    may write it from now on) and the lean botocore models in the cache."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(PACKAGE), quiet=1)
    import botocore.session

    from smtop.aws import lean_models

    directory = lean_models.data_path()
    if directory is not None:
        session = botocore.session.get_session()
        for service in lean_models.OPERATIONS:
            lean_models.prepare(session, service, directory)


def first_start(url: str) -> DemoStart:
    """A start right after installing: no bytecode for smtop (removed, and not
    written back), an empty cache (no lean models yet)."""
    for cache in PACKAGE.rglob("__pycache__"):
        shutil.rmtree(cache)
    with tempfile.TemporaryDirectory(prefix="smtop-cold-cache-") as cache_home:
        return sim_start(url, extra_env={"PYTHONDONTWRITEBYTECODE": "1", "XDG_CACHE_HOME": cache_home})


def baseline_start(timeout: float = 30.0) -> DemoStart:
    """The bare Textual app's first frame (its table's first row painted)."""
    from baseline_app import READY_TEXT

    process = PtyProcess([sys.executable, str(BASELINE_APP)])
    try:
        alt = process.wait_for(lambda output: ALT_SCREEN in output, timeout)
        frame = process.wait_for(shows(READY_TEXT), timeout) if alt is not None else None
    finally:
        process.quit()
    return DemoStart(alt, frame, None)


def sim_start(url: str, timeout: float = 60.0, extra_env: dict[str, str] | None = None) -> DemoStart:
    """One ``smtop --endpoint-url URL`` start against a running simulator."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(extra_env or {})
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
    warm_caches()
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
        for attempt in range(max(1, repeats // 2)):
            log(f"  start-up: first start after install run {attempt + 1} …")
            start = first_start(sim.url)
            timings.setdefault("cold first frame", []).append(start.first_frame_s)
            timings.setdefault("cold first data", []).append(start.first_data_s)
        warm_caches()
    for attempt in range(repeats):
        log(f"  start-up: bare Textual app run {attempt + 1}/{repeats} …")
        timings.setdefault("baseline first frame", []).append(baseline_start().first_frame_s)
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
        "cold first frame": "same, first start after install (no bytecode, no model cache): first frame",
        "cold first data": "same, first start after install: first data",
        "baseline first frame": "bare Textual app (baseline_app.py): first frame",
    }.get(label, label)
