"""Regenerate the README's screenshots: ``.venv/bin/python scripts/screenshots.py``.

Each picture is taken exactly as the snapshot tests take theirs (Textual's
``take_svg_screenshot``, the tests' fixed simulator — seed SIM_SEED, clock
frozen at SIM_NOW, no traffic — and their own ``settled`` wait and fixture
apps), so a screenshot shows what a snapshot test checks.  That is why this is
a script beside the tests rather than part of the smtop package: it imports
them.  ``--only NAME`` takes one picture; ``--out DIR`` writes elsewhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.app import App  # noqa: E402
from textual.pilot import Pilot  # noqa: E402

from smtop.clock import FrozenClock  # noqa: E402
from smtop.config.settings import Settings  # noqa: E402
from smtop.sim.process import SimProcess, spawn_sim  # noqa: E402
from tests.conftest import SIM_NOW, SIM_SEED  # noqa: E402

RunBefore = Callable[[Pilot], Awaitable[None]]


@dataclass(frozen=True)
class Shot:
    """One screenshot: its file, terminal size, and how to get the app to the picture."""

    name: str
    size: tuple[int, int]
    scene: Callable[[SimProcess | None], tuple[App, RunBefore | None]]
    """Builds the app (against the simulator when it needs data) and what to do before the picture."""
    needs_sim: bool = True


def _console(sim: SimProcess):
    from tests.ui.test_snapshots import console

    settings = Settings(endpoint_url=sim.url, region="us-east-1", refresh=60.0)  # the tests' sim_settings
    return console(settings, FrozenClock(datetime.fromtimestamp(SIM_NOW, timezone.utc)))


def _keys_after_settled(*steps: tuple[str, ...]) -> Callable[[SimProcess], tuple[App, RunBefore]]:
    """The console, settled, then each group of keys followed by settling again (as test_snapshots does)."""

    def scene(sim: SimProcess) -> tuple[App, RunBefore]:
        from tests.ui.test_snapshots import settled

        app = _console(sim)

        async def run_before(pilot: Pilot) -> None:
            await settled(sim, app, pilot)
            for keys in steps:
                await pilot.press(*keys)
                await settled(sim, app, pilot)

        return app, run_before

    return scene


def _metric_chart(sim: SimProcess) -> tuple[App, RunBefore]:
    from tests.ui.test_snapshots import settled

    app = _console(sim)

    async def run_before(pilot: Pilot) -> None:  # test_snapshots.test_metric_chart
        await settled(sim, app, pilot)
        await pilot.press("down", "down", "down", "down")
        await settled(sim, app, pilot)
        await pilot.press("enter", "down", "down", "enter")
        await pilot.pause()

    return app, run_before


def _alarm_form(sim: SimProcess) -> tuple[App, RunBefore]:
    from textual.widgets import Select

    from smtop.ui.screens.alarm_form import AlarmFormScreen
    from tests.ui.conftest import wait_for
    from tests.ui.test_snapshots import settled

    app = _console(sim)

    async def run_before(pilot: Pilot) -> None:
        await settled(sim, app, pilot)
        await pilot.press("down", "down", "down", "down")  # llm-chat-canary
        await settled(sim, app, pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmFormScreen))
        # The SNS topics arrive from the simulator: wait so the picture is always the same.
        await wait_for(pilot, lambda: len(app.screen.query_one("#topic", Select)._options) > 1)
        await pilot.pause()

    return app, run_before


def _fixture_app(module: str, cls: str) -> Callable[[SimProcess | None], tuple[App, None]]:
    def scene(sim: SimProcess | None) -> tuple[App, None]:
        import importlib

        return getattr(importlib.import_module(module), cls)(), None

    return scene


SHOTS = (
    Shot("main-screen.svg", (140, 40), _keys_after_settled()),
    Shot("logs-80x24.svg", (80, 24), _keys_after_settled(("l",))),
    Shot("metric-chart.svg", (120, 36), _metric_chart),
    Shot("insights-results.svg", (110, 36), _fixture_app("tests.ui.test_insights_snapshot", "ResultsApp"), False),
    Shot("alarm-form.svg", (110, 40), _alarm_form),
    Shot("cloudtrail-event.svg", (100, 34), _fixture_app("tests.ui.test_trail_snapshot", "EventApp"), False),
)
"""Every picture the README shows, in its order."""


def _test_environment() -> None:
    """What the tests' autouse fixtures set: no AWS account, no user config, a UTF-8
    terminal with colour, and notices that stay (as test_snapshots' notices_stay)."""
    from smtop.ui.widgets.log_panel import LogPanel

    for name in [k for k in os.environ if k.startswith("AWS_") or k in ("LC_ALL", "LC_CTYPE", "NO_COLOR")]:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        LANG="C.UTF-8", TERM="xterm-256color", SMTOP_CONFIG=str(Path(tempfile.gettempdir()) / "smtop-no-config.toml"),
    )
    LogPanel.NOTICE_SECONDS = 3600.0


def take(shots: tuple[Shot, ...], out: Path) -> list[Path]:
    """Take ``shots`` into ``out``; the simulator is started only if a shot needs it."""
    from pytest_textual_snapshot import normalize_svg
    from textual._doc import take_svg_screenshot

    _test_environment()
    out.mkdir(parents=True, exist_ok=True)
    sim = spawn_sim(traffic=False, seed=SIM_SEED, now=SIM_NOW) if any(s.needs_sim for s in shots) else None
    written = []
    try:
        for shot in shots:
            app, run_before = shot.scene(sim)
            # Normalised as the snapshot plugin stores its SVGs: the same bytes as the snapshot.
            svg = normalize_svg(take_svg_screenshot(app, terminal_size=shot.size, run_before=run_before))
            path = out / shot.name
            path.write_text(svg, encoding="utf-8")
            written.append(path)
    finally:
        if sim is not None:
            sim.stop()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=[s.name for s in SHOTS], help="take only this picture (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="directory to write (default: screenshots/)")
    args = parser.parse_args(argv)
    shots = tuple(s for s in SHOTS if not args.only or s.name in args.only)
    for path in take(shots, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
