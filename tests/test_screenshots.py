"""scripts/screenshots.py: one command for the README's pictures, the same as the snapshots."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "ui" / "__snapshots__"


@pytest.fixture
def screenshots(monkeypatch):
    """The script as a module; the environment it sets for its pictures is put back afterwards."""
    from smtop.ui.widgets.log_panel import LogPanel

    spec = importlib.util.spec_from_file_location("screenshots_script", ROOT / "scripts" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    monkeypatch.setattr(LogPanel, "NOTICE_SECONDS", LogPanel.NOTICE_SECONDS)
    saved = dict(os.environ)
    yield module
    os.environ.clear()
    os.environ.update(saved)


def test_the_readme_shows_every_screenshot_and_each_is_there(screenshots):
    readme = (ROOT / "README.md").read_text()
    shown = set(re.findall(r"\]\(screenshots/([\w.-]+\.svg)\)", readme))
    names = {shot.name for shot in screenshots.SHOTS}
    assert shown == names
    assert {"main-screen.svg", "logs-80x24.svg", "insights-results.svg", "alarm-form.svg", "cloudtrail-event.svg"} <= names
    for name in names:
        assert (ROOT / "screenshots" / name).read_text().startswith("<svg")


def test_a_screenshot_is_byte_for_byte_the_snapshot_tests_picture(screenshots, tmp_path):
    """Taken through the script, the CloudTrail event screen equals what
    test_trail_snapshot stores (both come from the same fixture app and size)."""
    shot = next(s for s in screenshots.SHOTS if s.name == "cloudtrail-event.svg")
    assert not shot.needs_sim  # so this test starts no simulator
    (path,) = screenshots.take((shot,), tmp_path)
    snapshot = SNAPSHOTS / "test_trail_snapshot" / "test_trail_event_screen.svg"
    assert path.read_text() == snapshot.read_text()
    assert "UpdateEndpoint" in path.read_text()
