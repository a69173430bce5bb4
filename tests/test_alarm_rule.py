"""AlarmRule, read as the CloudWatch API reference (PutCompositeAlarm, AlarmRule) defines it.

The rules and what they mean are the reference's own examples.
"""

from __future__ import annotations

import pytest

from smtop.models.alarm_rule import AlarmRuleError, children, parse


def states(**named: str):
    return lambda name: named.get(name)


def test_the_references_examples_mean_what_it_says():
    # "goes into ALARM state only if both CPUUtilizationTooHigh and DiskReadOpsTooHigh alarms are in ALARM state"
    both = parse("ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)")
    assert both.children == ("CPUUtilizationTooHigh", "DiskReadOpsTooHigh")
    assert both.holds(states(CPUUtilizationTooHigh="ALARM", DiskReadOpsTooHigh="ALARM"))
    assert not both.holds(states(CPUUtilizationTooHigh="ALARM", DiskReadOpsTooHigh="OK"))
    # "if CPUUtilizationTooHigh is in ALARM state and DeploymentInProgress is not in ALARM state"
    deploy = parse("ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)")
    assert deploy.holds(states(CPUUtilizationTooHigh="ALARM", DeploymentInProgress="OK"))
    assert deploy.holds(states(CPUUtilizationTooHigh="ALARM", DeploymentInProgress="INSUFFICIENT_DATA"))
    assert not deploy.holds(states(CPUUtilizationTooHigh="ALARM", DeploymentInProgress="ALARM"))
    # "if CPUUtilizationTooHigh OR DiskReadOpsTooHigh is in ALARM state, and if NetworkOutTooHigh is in OK state"
    network = parse("(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND OK(NetworkOutTooHigh)")
    assert network.holds(states(DiskReadOpsTooHigh="ALARM", NetworkOutTooHigh="OK"))
    assert not network.holds(states(DiskReadOpsTooHigh="ALARM", NetworkOutTooHigh="ALARM"))
    assert not network.holds(states(CPUUtilizationTooHigh="OK", DiskReadOpsTooHigh="OK", NetworkOutTooHigh="OK"))


def test_functions_constants_names_and_arns():
    # "TRUE always evaluates to TRUE. FALSE always evaluates to FALSE."
    assert parse("TRUE").holds(states()) and not parse("FALSE").holds(states())
    # "INSUFFICIENT_DATA(...) is TRUE if the named alarm is in INSUFFICIENT_DATA state"
    assert parse('INSUFFICIENT_DATA("a b")').holds(states(**{"a b": "INSUFFICIENT_DATA"}))
    # "Alarm names specified in AlarmRule can be surrounded with double-quotes ("), but do not have to be."
    # "You can use either alarm names or ARNs to reference the other alarms."
    rule = parse('ALARM("p99 (canary)") OR OK(arn:aws:cloudwatch:us-east-1:123456789012:alarm:5xx)')
    assert rule.children == ("p99 (canary)", "5xx")
    assert rule.holds(states(**{"5xx": "OK"}))
    # Precedence: NOT binds tightest, then AND, then OR.
    assert parse("TRUE OR FALSE AND FALSE").holds(states())
    assert not parse("NOT TRUE AND TRUE").holds(states())
    assert parse("alarm(x) and not ok(y)").holds(states(x="ALARM"))  # keywords in any case


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("", "empty"),
        ("ALARM(a) AND", "ends where"),
        ("(ALARM(a)", "closing parenthesis"),
        ("ALARM(a) ALARM(b)", "unexpected at character 10"),
        ("ALARM()", "names no alarm"),
        ("WARN(a)", "cannot be read at character 1"),
        (" OR ".join(f"ALARM(a{i})" for i in range(101)), "names 101 alarms; at most 100"),
        ("(" * 260 + "TRUE" + ")" * 260, "521 elements; at most 500"),
        ("ALARM(" + "x" * 10240 + ")", "at most 10240"),
    ],
)
def test_what_the_service_refuses_is_refused_with_where(rule, reason):
    with pytest.raises(AlarmRuleError, match=reason.replace("(", r"\(")):
        parse(rule)


def test_children_are_named_even_in_a_rule_that_cannot_be_parsed():
    assert children("ALARM(a) AND OK(b) AND ???") == ("a", "b")
