"""The hostile corpus over the Insights, CloudTrail and Alarms surfaces, and a malformed config file.

Hostile text goes in through the real APIs, into a region of the session
simulator that nothing else uses: alarm names, descriptions and state
reasons (PutMetricAlarm, SetAlarmState), an acknowledgement rule whose
description names a hostile person and note (PutAlarmMuteRule), CloudTrail
events made by a caller whose user name is markup and whose failed call
carries hostile request parameters and error message, and log lines that an
Insights query returns as values (its query name and a result field name
are hostile too, from the config file).  One console session then opens
every surface and reads the whole rendered screen back: every string is
there in visible form, nothing a terminal would act on is.
"""

from __future__ import annotations

import json

import boto3
import pytest
import tomli_w
from botocore.config import Config
from botocore.exceptions import ClientError
from textual.widgets import Input, OptionList

from smtop.config import file as config
from smtop.aws.alarms import ack_description, ack_rule_name
from smtop.cli import open_fleet
from smtop.format import printable
from smtop.config.settings import Settings
from smtop.ui.app import SmtopApp
from smtop.ui.screens.alarm_form import AlarmFormScreen
from smtop.ui.screens.trail_event import TrailEventScreen
from smtop.ui.widgets.alarms_panel import AlarmsPanel
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.insights_panel import InsightsPanel
from smtop.ui.widgets.trail_feed import TrailFeed
from tests.conftest import SIM_NOW
from tests.hostile.test_hostile import STRINGS, assert_inert, screen_text
from tests.ui.conftest import wait_for

from datetime import datetime, timezone

REGION = "ap-northeast-3"
ENDPOINT = "hostile-panels"
GROUP = f"/aws/sagemaker/Endpoints/{ENDPOINT}"
ROLE = "arn:aws:iam::123456789012:role/smtop-test"
MARKUP_USER = "[bold]mallory[@click=app.quit]"
"""An access key id the simulator takes as the user name: HTTP headers carry no control characters."""
ALARM_KEYS = ("osc_title", "rich_markup", "rtl_override", "control_chars", "wide_and_emoji")
HOSTILE_BY = "\x1b]0;eve\x07[bold]eve[/bold]\u202e"
FIELD = "n [bold red]x[/bold red] \x1b[31m\u202e"
MALFORMED = [
    "fields @message | sortt x",
    "stats count(* by bin(5m)",
    "filter @message like /unclosed",
    "| | |",
    "fields `never closed",
    "fields @message | limit many",
]


def client(sim, service: str, key: str = "testing"):
    return boto3.client(
        service, endpoint_url=sim.url, region_name=REGION, aws_access_key_id=key,
        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}),
    )


def alarm_name(key: str) -> str:
    return f"hostile {key} {STRINGS[key]}"


@pytest.fixture(scope="module")
def hostile_panels(sim):
    sagemaker = client(sim, "sagemaker")
    sagemaker.create_model(ModelName="model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"config {STRINGS['ansi_colour']}",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "model", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
    )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"config {STRINGS['ansi_colour']}")
    # A failed call by a caller named in markup: request parameters and error message carry the corpus.
    with pytest.raises(ClientError):
        client(sim, "sagemaker", key=MARKUP_USER).delete_endpoint(EndpointName=f"gone {STRINGS['osc_title']}")
    logs = client(sim, "logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="AllTraffic/i-0")
    values = [v for k, v in STRINGS.items() if k not in ("long_word", "lone_surrogate")]
    logs.put_log_events(logGroupName=GROUP, logStreamName="AllTraffic/i-0", logEvents=[
        {"timestamp": (SIM_NOW - 600) * 1000 + i, "message": m} for i, m in enumerate(values)
    ])
    cloudwatch = client(sim, "cloudwatch")
    for key in ALARM_KEYS:
        name = alarm_name(key)
        cloudwatch.put_metric_alarm(
            AlarmName=name, AlarmDescription=f"description {STRINGS[key]}", Namespace="AWS/SageMaker",
            MetricName="ModelLatency", Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
            Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}],
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=f"reason {STRINGS[key]}")
    acked = alarm_name("osc_title")
    cloudwatch.put_alarm_mute_rule(
        Name=ack_rule_name(acked),
        Description=ack_description(HOSTILE_BY, datetime.fromtimestamp(SIM_NOW - 300, timezone.utc), STRINGS["textual_action"]),
        Rule={"Schedule": {"Expression": "at(2026-11-18T11:00)", "Duration": "PT2H", "Timezone": "UTC"}},
        MuteTargets={"AlarmNames": [acked]},
    )
    return values


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    tables = [
        {"name": f"values {STRINGS['rich_markup']} {STRINGS['osc_title']}", "query": "fields @message | limit 100"},
        {"name": "field name", "query": f"stats count(*) as `{FIELD}`"},
        *({"name": f"malformed {i}", "query": q} for i, q in enumerate(MALFORMED)),
    ]
    path.write_text(tomli_w.dumps({"queries": tables}))
    monkeypatch.setenv("SMTOP_CONFIG", str(path))
    return path


async def run_query(pilot, panel: InsightsPanel, name: str) -> str:
    # Straight to the query (as the arrow keys would, without a key press per row).
    panel.query_one("#insights-queries", OptionList).highlighted = next(i for i, q in enumerate(panel.queries) if q.name == name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: panel.request is not None and panel.request.name == name and panel.progress.done, timeout=20)
    return str(panel.query_one("#insights-status").render())


async def test_hostile_text_in_insights_cloudtrail_and_alarms_is_literal_and_inert(sim, hostile_panels, config_file, frozen_clock):
    settings = Settings(endpoint_url=sim.url, region=REGION, refresh=60.0)
    app = SmtopApp(lambda: open_fleet(settings, frozen_clock), settings, clock=frozen_clock)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None and app.main.alarms is not None, timeout=20)
        assert app.main.query_one(EndpointTable).visible_names == [ENDPOINT]
        await wait_for(pilot, lambda: app.main.selected == ENDPOINT)

        # Alarms: names, reasons, who acknowledged and the note.
        await pilot.press("A")
        alarms = app.main.query_one(AlarmsPanel)
        assert {a.name for a in alarms.snapshot.firing} == {alarm_name(k) for k in ALARM_KEYS}
        screen = screen_text(app)
        assert_inert(screen)
        for key in ALARM_KEYS:
            assert printable(alarm_name(key))[:30] in screen, key
            alarms.select(alarm_name(key))
            await pilot.pause()
            detail = str(alarms.query_one("#alarms-detail").render())  # may be taller than the pane
            assert printable(f"reason {STRINGS[key]}") in detail, key
        alarms.select(alarm_name("osc_title"))
        await pilot.pause()
        detail = str(alarms.query_one("#alarms-detail").render())
        assert printable(HOSTILE_BY) in detail and printable(STRINGS["textual_action"]) in detail
        await pilot.press("escape")

        # CloudTrail: the caller's name, the parameters and the error message, in the feed and the event screen.
        feed = app.main.query_one(TrailFeed)
        await wait_for(pilot, lambda: any(e.name == "DeleteEndpoint" for e in feed.snapshot.events), timeout=20)
        await pilot.press("c", "e")
        await wait_for(pilot, lambda: feed.show_all and any(e.name == "DeleteEndpoint" for e in feed.shown))
        row = next(i for i, e in enumerate(feed.shown) if e.name == "DeleteEndpoint")
        feed.query_one("#trail-table").move_cursor(row=row)  # scrolled into view: the strip is short
        await wait_for(pilot, lambda: MARKUP_USER in screen_text(app))
        screen = screen_text(app)
        assert_inert(screen)
        assert "ValidationException" in screen
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TrailEventScreen))
        await pilot.pause()
        screen = screen_text(app)
        assert_inert(screen)
        assert printable(f"gone {STRINGS['osc_title']}") in screen  # the error message, escaped, whole
        await pilot.press("escape", "escape")

        # Insights: a hostile query name, hostile values, a hostile field name, malformed queries.
        await pilot.press("i")
        panel = app.main.query_one(InsightsPanel)
        await wait_for(pilot, lambda: any(q.source == "config" for q in panel.queries), timeout=10)
        status = await run_query(pilot, panel, f"values {STRINGS['rich_markup']} {STRINGS['osc_title']}")
        assert panel.progress.status == "Complete", status
        assert {printable(v) for v in hostile_panels} <= {printable(r[panel.progress.fields.index("@message")] or "") for r in panel.progress.rows}
        screen = screen_text(app)
        assert_inert(screen)
        assert printable(STRINGS["rich_markup"]) in screen  # the query's name in the list and the status
        assert printable(STRINGS["ansi_colour"])[:20] in screen  # a value in the results
        status = await run_query(pilot, panel, "field name")
        assert panel.progress.fields == (FIELD,), status
        screen = screen_text(app)
        assert_inert(screen)
        assert printable(FIELD).strip()[:20] in screen
        for index, text in enumerate(MALFORMED):
            status = await run_query(pilot, panel, f"malformed {index}")
            assert panel.progress.status == "Malformed", (text, status)
            assert "Malformed query: " in status and "e to fix it" in status, status
            assert panel.current.query == text  # the text is kept to fix
        assert_inert(screen_text(app))
        await pilot.press("escape")

        # The alarm form: hostile and invalid values each get a clear message; nothing is sent.
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmFormScreen))
        form = app.screen
        # (No control characters here: Textual's Input draws its value raw; see the report of issue 7.)
        bad = {"name": f" {STRINGS['rich_markup']}", "threshold": "nan", "period": "-60", "evaluation_periods": "0", "datapoints_to_alarm": "[bold]2"}
        for field, value in bad.items():
            form.query_one(f"#{field}", Input).value = value
        await pilot.pause()
        errors = str(form.query_one("#form-errors").render())
        for says in ("cannot start or end with a space", "threshold must be a number", "period must be", "Evaluation periods must be", "Datapoints to alarm must be"):
            assert says in errors, (says, errors)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Not sent: " in str(form.query_one("#form-status").render())
        screen = screen_text(app)
        assert_inert(screen)
        assert STRINGS["rich_markup"][:30] in screen  # the name as typed, markup literal
        await pilot.press("escape")
        assert app.is_running
    stored = {a["AlarmName"] for a in client(sim, "cloudwatch").describe_alarms()["MetricAlarms"]}
    assert stored == {alarm_name(k) for k in ALARM_KEYS}


BROKEN_CONFIGS = {
    "unterminated string": (b'[[queries]]\nname = "a"\nquery = "fields @message\n', 3),
    "escape in a key": (b'[[queries]]\nname = "a"\n\x1b]0;pwned\x07 = 1\n', 3),
    "invalid utf-8": (b'[[queries]]\nname = "a"\nquery = "\xff\xfe"\n', None),
    "markup as a table header": (b'[bold red]\n[[queries]]\nname = "a"\n', 1),
    "queries not tables": (b'queries = "[@click=app.quit]x[/]"\n', None),
}


@pytest.mark.parametrize("case", BROKEN_CONFIGS, ids=list(BROKEN_CONFIGS))
def test_a_malformed_config_file_says_where_and_smtop_uses_the_defaults(tmp_path, case):
    data, line = BROKEN_CONFIGS[case]
    path = tmp_path / "config.toml"
    path.write_bytes(data)
    loaded = config.load_queries(path)
    assert loaded.queries == () and loaded.problem is not None
    assert str(path) in loaded.problem and "using the defaults" in loaded.problem
    if line is not None:
        assert f"line {line}" in loaded.problem, loaded.problem
    assert_inert(printable(loaded.problem))
    assert "\x1b" not in json.dumps(loaded.problem, ensure_ascii=False) or "\\x1b" in printable(loaded.problem)
