"""The hostile input corpus against the real app, the simulator and the command line.

The corpus is data (``strings.json``, ``invalid_utf8.bin``, ``argv.json``
beside this file).  Hostile text is written through boto3 into a region of
the session simulator that nothing else uses (endpoint names, endpoint config
names, log lines, extreme metric values), then the real console is run on it
and the whole rendered screen is read back: every string must be there in
visible, inert form, and nothing that a terminal would act on may be.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from smtop.models.catalog import METRICS
from smtop.cli import main as cli_main
from smtop.cli import open_fleet
from smtop.format import printable
from smtop.config.settings import Settings
from smtop.ui.app import SmtopApp
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.log_panel import LogPanel
from tests.conftest import SIM_NOW
from tests.ui.conftest import wait_for

HERE = Path(__file__).parent
STRINGS: dict[str, str] = json.loads((HERE / "strings.json").read_text())["strings"]
INVALID_UTF8 = (HERE / "invalid_utf8.bin").read_bytes().decode("utf-8", "surrogateescape")
ARGV = json.loads((HERE / "argv.json").read_text())["cases"]
REGION = "sa-east-1"
PLAIN = "hostile-logs"
ROLE = "arn:aws:iam::123456789012:role/smtop-test"
IMAGE = "123456789012.dkr.ecr.sa-east-1.amazonaws.com/model:1"
HUGE_LINE = "x" * 262_000  # near CloudWatch Logs' 256 KB event limit

# What a terminal acts on (escape sequences, controls) or what reorders/hides text.
FORBIDDEN = ["\x1b", "\x07", "\x08", "\x7f", "\x9b", "\x00", "\r", "\x0b", "\x0c", "\u202e", "\u2066", "\u2067", "\u200b", "\ufeff"]
NAMES = ["ansi_colour", "osc_title", "rich_markup", "textual_action", "markup_closing_only", "rtl_override", "zero_width", "wide_and_emoji"]


def client(sim, service: str):
    return boto3.client(
        service, endpoint_url=sim.url, region_name=REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def hostile_region(sim):
    """Endpoints named after the corpus, a plain one whose logs and metrics carry it."""
    sagemaker = client(sim, "sagemaker")
    sagemaker.create_model(ModelName="model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE})
    names = [PLAIN] + [STRINGS[key] for key in NAMES]
    for index, name in enumerate(names):
        config = f"config-{index}-{STRINGS['osc_title']}"
        sagemaker.create_endpoint_config(
            EndpointConfigName=config,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "model", "InstanceType": "ml.m5.large",
                                 "InitialInstanceCount": 1, "InitialVariantWeight": 1.0}],
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config,
                                  Tags=[{"Key": "owner", "Value": STRINGS["osc52_clipboard"]}])
    logs = client(sim, "logs")
    group = f"/aws/sagemaker/Endpoints/{PLAIN}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-0")
    messages = list(STRINGS.values()) + [INVALID_UTF8, HUGE_LINE]
    logs.put_log_events(
        logGroupName=group, logStreamName="AllTraffic/i-0",
        logEvents=[{"timestamp": int((SIM_NOW - 300) * 1000) + i, "message": m} for i, m in enumerate(messages)],
    )
    cloudwatch = client(sim, "cloudwatch")
    for minute, value in enumerate((1e300, 0.0, 1e-300, 7.0)):  # extreme but valid CloudWatch values
        cloudwatch.put_metric_data(
            Namespace=METRICS["ModelLatency"].namespace,
            MetricData=[{"MetricName": "ModelLatency", "Value": value,
                         "Timestamp": datetime.fromtimestamp(SIM_NOW - 600 + minute * 60, timezone.utc),
                         "Dimensions": [{"Name": "EndpointName", "Value": PLAIN}, {"Name": "VariantName", "Value": "AllTraffic"}]}],
        )
    return names, messages


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def assert_inert(text: str) -> None:
    for bad in FORBIDDEN:
        assert bad not in text, repr(bad)
    assert not any(0xDC80 <= ord(c) <= 0xDCFF for c in text), "a lone surrogate reached the screen"


async def test_hostile_names_logs_and_values_render_literally(sim, hostile_region, frozen_clock):
    names, messages = hostile_region
    settings = Settings(endpoint_url=sim.url, region=REGION, refresh=60.0)
    app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    async with app.run_test(size=(220, 70)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None, timeout=20)
        table = app.main.query_one(EndpointTable)
        assert sorted(table.visible_names) == sorted(names)
        table.move_cursor(row=table.visible_names.index(PLAIN))
        panel = app.main.query_one(LogPanel)
        await wait_for(pilot, lambda: panel.received == len(messages), timeout=20)
        await pilot.pause()
        screen = screen_text(app)
        assert_inert(screen)
        # Every endpoint name is on screen, escaped, its markup literal (names are cut to the column).
        for name in names:
            assert printable(name)[:14] in screen, name
        assert "[bold red]not markup" in screen or "[bold red]not" in screen
        # The extreme latency value is drawn, not an error.
        assert app.main.snapshot.metrics_for(PLAIN).get("ModelLatency") is not None

        shown = "\n".join(panel.view.text_lines())
        assert_inert(shown)
        for key in ("ansi_clear_screen", "osc_title", "osc8_hyperlink", "rich_markup", "textual_action", "control_chars", "rtl_override", "combining_marks"):
            assert printable(STRINGS[key]).splitlines()[0][:40] in shown, key
        assert "invalid utf-8:" in shown and HUGE_LINE[:1000] in shown

        # Every selectable hostile endpoint drives the detail and metric panels without harm.
        for name in (STRINGS["osc_title"], STRINGS["textual_action"], STRINGS["rtl_override"]):
            table.move_cursor(row=table.visible_names.index(name))
            await pilot.press("d")
            await pilot.pause()
            detail = screen_text(app)
            assert_inert(detail)
            assert printable(STRINGS["osc_title"])[:16] in detail  # the hostile config name, escaped
            await pilot.press("escape")
        await pilot.press("r")
        await pilot.pause()
        assert app.is_running


async def test_hostile_profile_at_start_is_one_inert_line(frozen_clock, capsys):
    settings = Settings(profile=STRINGS["osc_title"] + STRINGS["rich_markup"], region="us-east-1", endpoint_url="http://127.0.0.1:9")
    app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: not app.is_running, timeout=20)
    out = capsys.readouterr().err
    assert app.return_code == 2 and "is not in your AWS config" in out
    assert "[bold red]not" in out and "[/bold red]" in out and "\x07" not in out and "\x1b]0" not in out


@pytest.mark.parametrize("case", ARGV, ids=[" ".join(c["argv"])[:40] for c in ARGV])
def test_invalid_command_lines_get_one_clear_line(case, capsys):
    try:
        code = cli_main(case["argv"])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert case["says"] in err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert_inert(last)
