"""The first frame waits for nothing it does not show: importing the console
must not load the AWS SDK, nor the panels mounted after the first frame
(SmtopApp.mount_panels), nor a screen before it first opens."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("aiobotocore", "botocore", "boto3", "aiohttp", "moto")

LATER = (
    # Mounted right after the first frame.
    "smtop.ui.widgets.alarms_panel",
    "smtop.ui.widgets.endpoint_detail",
    "smtop.ui.widgets.insights_panel",
    "smtop.ui.widgets.log_panel",
    "smtop.ui.widgets.log_view",
    "smtop.ui.widgets.trail_feed",
    "textual.widgets._tabbed_content",
    # Imported by the action that opens them.
    "smtop.ui.screens.alarm_ack",
    "smtop.ui.screens.alarm_form",
    "smtop.ui.screens.alarm_history",
    "smtop.ui.screens.help",
    "smtop.ui.screens.insights_editor",
    "smtop.ui.screens.log_event",
    "smtop.ui.screens.metric_detail",
    "smtop.ui.screens.switch",
    "textual.widgets._text_area",
    "plotext",
)


def loaded_after_import(module: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of ``candidates`` a fresh interpreter has loaded after importing ``module``."""
    code = f"import sys, {module}\nprint(sorted(set(sys.modules) & {set(candidates)!r}))"
    return eval(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize("module", ["smtop.ui.app", "smtop.cli"])
def test_importing_does_not_load_the_aws_sdk(module):
    code = (
        f"import sys, {module}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_importing_the_console_leaves_later_panels_and_screens_out():
    assert loaded_after_import("smtop.ui.app", LATER) == []
    # The list names real modules: each one of them can be imported.
    assert loaded_after_import("smtop.ui.app; " + "; ".join(f"import {m}" for m in LATER), LATER) == sorted(LATER)
