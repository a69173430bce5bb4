"""Alarms in the console, end to end: the panel, the header, the table, n, a, u, --read-only.

A simulator of its own, started two and a half minutes into one of the
canary's bad spells (same seed as the session simulator), so its alarms are
firing when the console opens; the acknowledgements and alarms the tests
create stay in it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from textual.widgets import Input, Select

from smtop.aws.alarms import ack_rule_name
from smtop.cli import open_fleet
from smtop.clock import FrozenClock
from smtop.config.settings import Settings
from smtop.sim.process import spawn_sim
from smtop.ui.app import SmtopApp
from smtop.ui.screens.alarm_ack import AlarmAckScreen
from smtop.ui.screens.alarm_form import AlarmFormScreen
from smtop.ui.screens.alarm_history import AlarmHistoryScreen
from smtop.ui.screens.alarm_unack import AlarmUnackScreen
from smtop.ui.widgets.alarms_panel import AlarmsPanel
from smtop.ui.widgets.endpoint_table import EndpointTable
from smtop.ui.widgets.status_bar import StatusBar
from tests.aws.test_aws_alarms import OperationRecorder
from tests.conftest import SIM_NOW, SIM_SEED
from tests.ui.conftest import wait_for

FIRING_AT = SIM_NOW - 210
"""11:02:30 on the session simulator's day: the canary's p99 alarm fired at 11:00."""
CANARY_P99 = "llm-chat-canary-p99-latency"


@pytest.fixture(scope="module")
def alarm_sim():
    process = spawn_sim(traffic=False, seed=SIM_SEED, now=FIRING_AT)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def cw(alarm_sim):
    return boto3.client("cloudwatch", endpoint_url=alarm_sim.url, region_name="us-east-1")


def make_app(url: str, **settings) -> SmtopApp:
    clock = FrozenClock(datetime.fromtimestamp(FIRING_AT, timezone.utc))
    config = Settings(endpoint_url=url, region="us-east-1", refresh=60.0, **settings)
    return SmtopApp(lambda: open_fleet(config, clock), config, clock=clock)


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def select_endpoint(pilot, app, name: str) -> None:
    table = app.main.query_one(EndpointTable)
    await wait_for(pilot, lambda: name in table.visible_names)
    table.move_cursor(row=table.visible_names.index(name))
    await wait_for(pilot, lambda: app.main.selected == name)


async def test_firing_alarms_show_in_the_header_the_table_and_the_panel(alarm_sim, cw):
    app = make_app(alarm_sim.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.alarms is not None)
        firing = [a.name for a in app.main.alarms.alarms if a.state == "ALARM"]
        assert CANARY_P99 in firing
        status = str(app.main.query_one(StatusBar).render())
        assert f"{len(firing)} alarm{'s' if len(firing) > 1 else ''} firing" in status
        table = app.main.query_one(EndpointTable)
        row = table.get_row("llm-chat-canary")
        assert row[0].plain.startswith("●") and "red" in str(row[0].spans[0].style)
        assert not table.get_row("fraud-detector-prod")[0].plain.startswith("●")
        # The Alarms tab: firing first, with the state, the reason and the endpoint.
        await pilot.press("A")
        panel = app.main.query_one(AlarmsPanel)
        await wait_for(pilot, lambda: panel.has_focus_within)
        assert panel.selected_alarm.state == "ALARM"
        answer = cw.describe_alarms(AlarmNames=[panel.selected_alarm.name], AlarmTypes=["CompositeAlarm", "MetricAlarm"])
        expected = (answer["CompositeAlarms"] + answer["MetricAlarms"])[0]
        detail = str(app.main.query_one("#alarms-detail").render())
        assert "llm-chat-canary" in detail and "actions enabled" in detail
        assert expected["StateReason"][:40] in detail.replace("\n", " ")
        # Enter: the alarm's history, as DescribeAlarmHistory tells it.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmHistoryScreen) and app.screen.items is not None)
        history = cw.describe_alarm_history(
            AlarmName=panel.selected_alarm.name, AlarmTypes=["CompositeAlarm", "MetricAlarm"], MaxRecords=100,
        )["AlarmHistoryItems"]
        assert [i.summary for i in app.screen.items] == [h["HistorySummary"] for h in history]
        body = str(app.screen.query_one("#alarm-history-body").render())
        assert "Alarm updated from OK to ALARM" in body
        await pilot.press("escape")
        # On 80 columns the header drops the refresh rate, the endpoint count and
        # the time before the account, the region or the firing alarms.
        wide = app.main.query_one(StatusBar).render().plain
        assert "every 60s" in wide and "endpoints" in wide
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        narrow = app.main.query_one(StatusBar).render().plain
        where = wide.split(" · every")[0]  # " smtop  profile@account · region"
        assert "@123456789012 · " in where
        assert len(narrow) <= 80 and narrow.startswith(where) and f"{len(firing)} alarm" in narrow
        assert "every 60s" not in narrow


async def test_the_acknowledge_dialog_shows_all_of_itself_at_80x24(alarm_sim):
    """Its last line says how to confirm: it was cut off at 80x24."""
    app = make_app(alarm_sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main.alarms is not None)
        await select_endpoint(pilot, app, "llm-chat-canary")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmAckScreen))
        await pilot.pause()
        box = app.screen.query_one("#alarm-ack")
        last = list(box.children)[-1]
        assert "ctrl+s or enter acknowledge" in str(last.render())
        assert last.region.height == 1 and last.region.bottom <= box.content_region.bottom


async def test_acknowledge_and_unacknowledge_from_the_keyboard(alarm_sim, cw):
    me = boto3.client("sts", endpoint_url=alarm_sim.url, region_name="us-east-1").get_caller_identity()["Arn"]
    app = make_app(alarm_sim.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.alarms is not None)
        await select_endpoint(pilot, app, "llm-chat-canary")
        await pilot.press("a")  # the endpoint's firing alarm
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmAckScreen))
        target = app.screen.alarm
        assert target.endpoint_names == ("llm-chat-canary",) and target.firing
        assert app.screen.window == timedelta(hours=1)  # the default window
        # What a mute does, as CloudWatch documents it ("How alarm mute rules work", DeleteAlarmMuteRule).
        summary = " ".join(str(app.screen.query_one("#ack-summary").render()).split())
        assert "mutes all of the alarm's actions (OK and INSUFFICIENT_DATA too) until about 12:02:30Z" in summary
        assert "If it is still in ALARM when the mute ends, it notifies again." in summary
        assert "u deletes the rule: if the alarm is in ALARM, its actions run at once." in summary
        await pilot.press(*"rolling back v2", "ctrl+s")
        await wait_for(pilot, lambda: app.main.alarms.get(target.name).ack is not None)
        rule = cw.get_alarm_mute_rule(AlarmMuteRuleName=ack_rule_name(target.name))
        assert rule["MuteTargets"]["AlarmNames"] == [target.name]
        assert me in rule["Description"] and rule["Description"].endswith("Note: rolling back v2")
        assert rule["Rule"]["Schedule"] == {"Expression": "at(2026-11-18T11:02)", "Duration": "PT1H1M", "Timezone": "UTC"}
        assert any("acknowledged by testing" in n and "12:03:00Z" in n for n in notes(app))
        # The panel says who and until when.
        await pilot.press("A")
        panel = app.main.query_one(AlarmsPanel)
        panel.select(target.name)
        await pilot.pause()
        row = panel.table.get_row(target.name)
        assert row[2].plain == f"✓ ◆ {target.name}"  # the canary's composite alarm, first of its firing alarms
        detail = str(app.main.query_one("#alarms-detail").render())
        assert "acked by testing, muted until 12:03:00Z" in detail
        assert "rolling back v2" in detail and me in detail
        # u in the Alarms tab: the alarm is in ALARM, so deleting its rule runs its
        # actions at once (DeleteAlarmMuteRule); u asks first, and escape keeps the mute.
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmUnackScreen))
        question = " ".join(str(app.screen.query_one("#unack-summary").render()).split())
        assert "It is in ALARM" in question and "1 ALARM action (pages, notifications, scaling) right away" in question
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        await pilot.pause(0.3)
        assert cw.get_alarm_mute_rule(AlarmMuteRuleName=ack_rule_name(target.name))["Status"] == "ACTIVE"
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmUnackScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.main.alarms.get(target.name).ack is None)
        with pytest.raises(ClientError):
            cw.get_alarm_mute_rule(AlarmMuteRuleName=ack_rule_name(target.name))
        assert any("in ALARM, so CloudWatch runs its actions now" in n for n in notes(app))


async def test_a_new_alarm_from_the_form_reads_back_and_overwrites_only_when_confirmed(alarm_sim, cw):
    app = make_app(alarm_sim.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.snapshot is not None)
        await select_endpoint(pilot, app, "image-embeddings")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmFormScreen))
        form = app.screen
        name = form.query_one("#name", Input).value
        assert name == "image-embeddings-ModelLatency-Average-high"
        assert form.query_one("#period", Input).value == "300" and form.query_one("#evaluation_periods", Input).value == "2"
        assert form.query_one("#comparison", Select).value == "GreaterThanThreshold"
        assert "ms = " in str(form.query_one("#threshold-unit").render())
        await wait_for(pilot, lambda: len(form.query_one("#topic", Select)._options) > 1)  # the SNS topics arrived
        # A pasted escape sequence never reaches the terminal through a text box.
        form.query_one("#name", Input).value = "x\x1b]52;c;Zm9v\x07\x1b[31my\x9b"
        await wait_for(pilot, lambda: form.query_one("#name", Input).value == "x]52;c;Zm9v[31my")
        form.query_one("#name", Input).value = name
        # A bad period is refused with a message, and nothing is sent.
        form.query_one("#period", Input).value = "45"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "10, 20, 30 or a multiple of 60" in str(form.query_one("#form-status").render())
        # 10 s is valid, with what it costs and why SageMaker's metrics may not feed it.
        form.query_one("#period", Input).value = "10"
        await pilot.pause()
        shown = " ".join(str(form.query_one("#form-errors").render()).split())
        assert shown.startswith("✓ ready to send") and "high-resolution alarm: $0.30 a month instead of $0.10" in shown
        # A one-minute period over more than a day is refused (PutMetricAlarm: 86,400 s under an hour).
        form.query_one("#period", Input).value = "60"
        form.query_one("#evaluation_periods", Input).value = "1441"
        await pilot.pause()
        shown = " ".join(str(form.query_one("#form-errors").render()).split())
        assert "Period × evaluation periods is 86,460 s; CloudWatch allows at most 86,400 s (one day)" in shown
        form.query_one("#evaluation_periods", Input).value = "2"
        form.query_one("#period", Input).value = "300"
        form.query_one("#threshold", Input).value = "1500"
        topic = next(v for _, v in form.query_one("#topic", Select)._options if isinstance(v, str) and v.endswith(":oncall-pager"))
        form.query_one("#topic", Select).value = topic
        await pilot.pause()
        preview = str(form.query_one("#form-preview").render())
        assert '"Threshold": 1500000.0' in preview and topic in preview
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, AlarmFormScreen))
        alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        assert alarm["Threshold"] == 1_500_000.0 and alarm["AlarmActions"] == [topic]
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["Statistic"]) == (300, 2, "Average")
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"EndpointName": "image-embeddings", "VariantName": "AllTraffic"}

        # The same name again: the first ctrl+s only warns, the second overwrites.
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, AlarmFormScreen))
        form = app.screen
        form.query_one("#threshold", Input).value = "2000"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: form.confirm_overwrite == name)
        assert "already exists" in str(form.query_one("#form-status").render())
        assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["Threshold"] == 1_500_000.0
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, AlarmFormScreen))
        assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["Threshold"] == 2_000_000.0


_READS = re.compile(r"^[a-z0-9-]+:(Describe|List|Get|Lookup|Filter)[A-Za-z]+$|^logs:(StartQuery|StopQuery|GetQueryResults|StartLiveTail)$")
"""Read-only operations, spelt out here independently of smtop.aws.readonly."""


async def test_read_only_refuses_n_a_u_and_a_whole_session_sends_no_mutating_call(alarm_sim):
    proxy = OperationRecorder(alarm_sim.url)
    await proxy.start()
    try:
        app = make_app(proxy.url, read_only=True)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: app.main.alarms is not None)
            await select_endpoint(pilot, app, "llm-chat-canary")
            for key in ("n", "a", "u"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is app.main, key  # no form opens
            refusals = [n for n in notes(app) if "read-only" in n]
            assert len(refusals) == 3 and all("would change AWS" in n for n in refusals)
            await pilot.press("A", "enter")  # history still reads
            await wait_for(pilot, lambda: isinstance(app.screen, AlarmHistoryScreen) and app.screen.items is not None)
            await pilot.press("escape", "r")
            await pilot.pause(0.5)
    finally:
        await proxy.stop()
    assert "monitoring:DescribeAlarms" in proxy.operations and "monitoring:DescribeAlarmHistory" in proxy.operations
    mutating = [op for op in proxy.operations if not _READS.match(op)]
    assert mutating == []


async def test_where_mute_rules_are_missing_the_alarms_show_and_a_says_acknowledging_is_unavailable(alarm_sim):
    alarm_sim.reset_calls()
    for operation in ("ListAlarmMuteRules", "GetAlarmMuteRule", "PutAlarmMuteRule", "DeleteAlarmMuteRule"):
        alarm_sim.inject("unsupported", "cloudwatch", operation)
    try:
        app = make_app(alarm_sim.url)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_for(pilot, lambda: app.main.alarms is not None)
            assert any(a.firing for a in app.main.alarms.alarms)
            status = str(app.main.query_one("#alarms-status").render())
            assert "Acknowledging is not available here" in status.replace("\n", " ")
            await select_endpoint(pilot, app, "llm-chat-canary")
            for key in ("a", "u"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is app.main, key  # no dialog: it could only fail
            refusals = [n for n in notes(app) if n.startswith("Acknowledging is not available here")]
            assert len(refusals) == 2 and "ListAlarmMuteRules" in refusals[0]
        put = alarm_sim.faults()["calls"].get("cloudwatch:PutAlarmMuteRule", 0)
        assert put == 0
    finally:
        alarm_sim.clear_faults()


async def test_u_on_an_alarm_that_is_not_in_alarm_asks_nothing(alarm_sim, cw):
    """Nothing fires when its rule goes, so there is nothing to confirm."""
    name = "fraud-detector-prod-p99-latency"
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] != "ALARM"
    cw.put_alarm_mute_rule(
        Name=ack_rule_name(name), Description="Acknowledged by alice at 2026-11-18T11:00:00Z with smtop",
        Rule={"Schedule": {"Expression": "at(2026-11-18T11:00)", "Duration": "PT1H", "Timezone": "UTC"}},
        MuteTargets={"AlarmNames": [name]},
    )
    app = make_app(alarm_sim.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.alarms is not None and app.main.alarms.get(name).ack is not None)
        await pilot.press("A")
        panel = app.main.query_one(AlarmsPanel)
        await wait_for(pilot, lambda: panel.has_focus_within)
        panel.select(name)
        await pilot.pause()
        await pilot.press("u")
        await wait_for(pilot, lambda: app.main.alarms.get(name).ack is None)
        assert app.screen is app.main
        assert any(f"{name} un-acknowledged" in n and "its actions are live again" in n for n in notes(app))


async def test_a_composite_alarm_shows_its_rule_and_which_children_are_in_alarm(alarm_sim, cw):
    name = "llm-chat-canary-degraded"
    demo = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]
    app = make_app(alarm_sim.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.main.alarms is not None)
        await pilot.press("A")
        panel = app.main.query_one(AlarmsPanel)
        await wait_for(pilot, lambda: panel.has_focus_within)
        panel.select(name)
        await pilot.pause()
        assert panel.table.get_row(name)[2].plain.endswith(f"◆ {name}")
        detail = " ".join(str(app.main.query_one("#alarms-detail").render()).split())
        assert f"rule {demo['AlarmRule']}" in detail
        children = {c: cw.describe_alarms(AlarmNames=[c])["MetricAlarms"][0]["StateValue"]
                    for c in ("llm-chat-canary-5xx", "llm-chat-canary-p99-latency", "llm-chat-canary-avg-latency")}
        firing = sum(state == "ALARM" for state in children.values())
        assert f"children ({firing} of 3 in ALARM)" in detail and firing >= 2
        for child, state in children.items():
            assert f"{'●' if state == 'ALARM' else '○' if state == 'OK' else '◌'} {child}" in detail
        assert "endpoints llm-chat-canary" in detail and "actions enabled (1 on ALARM)" in detail
        # The endpoint table marks the canary: its composite is firing.
        assert "llm-chat-canary" in app.main.alarms.firing_endpoints
