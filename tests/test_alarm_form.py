"""The new-alarm form's rules: validation messages, unit conversion, presets, the request."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smtop.aws.alarms import alarm_request
from smtop.models.alarm_draft import (
    AlarmDraft,
    apply_preset,
    cautions,
    initial_draft,
    suggest_name,
    threshold_note,
    to_metric_unit,
    validate,
)


def draft(**changes) -> AlarmDraft:
    return replace(initial_draft("llm-chat-canary", "AllTraffic"), **changes)


def fields(d: AlarmDraft) -> set[str]:
    return {e.field for e in validate(d)}


def test_the_initial_draft_is_the_seeds_example_for_the_endpoint():
    d = initial_draft("fraud-detector-prod", "AllTraffic")
    assert validate(d) == []
    request = alarm_request(d)
    assert request["MetricName"] == "ModelLatency" and request["Namespace"] == "AWS/SageMaker"
    assert request["Statistic"] == "Average" and "ExtendedStatistic" not in request
    assert request["Period"] == 300 and request["EvaluationPeriods"] == 2
    assert request["ComparisonOperator"] == "GreaterThanThreshold"
    # 1000 ms typed, CloudWatch compares microseconds: the seed's Threshold=1000000.
    assert request["Threshold"] == 1_000_000.0
    assert request["Dimensions"] == [
        {"Name": "EndpointName", "Value": "fraud-detector-prod"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    assert "Unit" not in request  # a Unit that differs from the data's keeps an alarm INSUFFICIENT_DATA
    assert request["AlarmActions"] == [] and request["OKActions"] == []


@pytest.mark.parametrize(
    ("metric", "typed", "sent"),
    [
        ("ModelLatency", "250", 250_000.0),
        ("OverheadLatency", "2.5", 2_500.0),
        ("CPUUtilization", "90", 90.0),
        ("GPUUtilization", "87.5", 87.5),
        ("Invocation5XXErrors", "3", 3.0),
    ],
)
def test_thresholds_are_typed_in_the_shown_unit_and_sent_in_the_metrics(metric, typed, sent):
    d = draft(metric=metric, threshold=typed, statistic="Average")
    assert alarm_request(d)["Threshold"] == sent
    assert to_metric_unit(metric, float(typed)) == sent


def test_the_unit_note_says_what_the_threshold_becomes():
    assert threshold_note(draft(threshold="1500")) == "1500 ms = 1500000 Microseconds (CloudWatch's unit for ModelLatency)"
    assert threshold_note(draft(metric="CPUUtilization", threshold="90")) == "90 %"
    assert "per 60 s period" in threshold_note(draft(metric="Invocation5XXErrors", threshold="0", period="60"))


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"threshold": "fast"}, "threshold", "must be a number"),
        ({"threshold": "nan"}, "threshold", "must be a number"),
        ({"period": "45"}, "period", "10, 20, 30 or a multiple of 60"),
        ({"period": "90"}, "period", "10, 20, 30 or a multiple of 60"),
        ({"period": "-60"}, "period", "10, 20, 30 or a multiple of 60"),
        ({"period": "15"}, "period", "10, 20, 30 or a multiple of 60"),
        ({"evaluation_periods": "0"}, "evaluation_periods", "at least 1"),
        ({"evaluation_periods": "2", "datapoints_to_alarm": "3"}, "datapoints_to_alarm", "cannot exceed evaluation periods"),
        ({"name": ""}, "name", "needs a name"),
        ({"name": "x" * 256}, "name", "CloudWatch allows 255"),
        ({"name": "bad\x1bname"}, "name", "control characters"),
        ({"name": " padded"}, "name", "start or end with a space"),
        ({"statistic": "p999x"}, "statistic", "is not a statistic"),
        ({"period": "86400", "evaluation_periods": "8"}, "evaluation_periods", "at most 604,800 s (seven days): at most 7 periods"),
        ({"period": "60", "evaluation_periods": "1441"}, "evaluation_periods", "at most 86,400 s (one day) for a period under an hour"),
        ({"period": "10", "evaluation_periods": "8641"}, "evaluation_periods", "at most 8,640 periods of 10 s"),
    ],
)
def test_validation_names_the_field_and_says_what_is_wrong(changes, field, words):
    errors = validate(draft(**changes))
    assert [e.field for e in errors] == [field]
    assert words in errors[0].message
    with pytest.raises(ValueError):
        alarm_request(draft(**changes))


@pytest.mark.parametrize("period", ["10", "20", "30", "60", "300", "3600"])
def test_valid_periods(period):
    """PutMetricAlarm API reference, Period: "Valid values are 10, 20, 30, and any multiple of 60"."""
    assert fields(draft(period=period)) == set()


@pytest.mark.parametrize(
    ("period", "periods"),
    # At the limit and one past it: 86,400 s under an hour, 604,800 s from an hour on.
    [("10", 8640), ("60", 1440), ("300", 288), ("3540", 24), ("3600", 168), ("86400", 7)],
)
def test_the_evaluation_range_is_held_to_the_api_references_limits(period, periods):
    assert fields(draft(period=period, evaluation_periods=str(periods))) == set()
    assert fields(draft(period=period, evaluation_periods=str(periods + 1))) == {"evaluation_periods"}


def test_sub_minute_periods_warn_of_the_price_and_of_sagemakers_one_minute_metrics():
    """A 10/20/30 s period is a high-resolution alarm, with a higher charge (PutMetricAlarm
    API reference): $0.30 against $0.10 per alarm metric a month (CloudWatch pricing, US East).
    SageMaker publishes once a minute unless MetricPublishFrequencyInSeconds says 10 or 30."""
    for period in ("10", "20", "30"):
        (caution,) = cautions(draft(period=period))
        assert caution.field == "period" and "high-resolution alarm: $0.30 a month instead of $0.10" in caution.message
        assert "MetricPublishFrequencyInSeconds to 10 or 30" in caution.message and "INSUFFICIENT_DATA" in caution.message
        assert alarm_request(draft(period=period))["Period"] == int(period)  # allowed: it is the user's call
    assert cautions(draft(period="60")) == cautions(draft(period="300")) == []


def test_datapoints_to_alarm_and_percentiles_reach_the_request():
    request = alarm_request(draft(statistic="p99", evaluation_periods="5", datapoints_to_alarm="3", topic_arn="arn:aws:sns:us-east-1:1:pager"))
    assert request["ExtendedStatistic"] == "p99" and "Statistic" not in request
    assert request["DatapointsToAlarm"] == 3 and request["EvaluationPeriods"] == 5
    assert request["AlarmActions"] == ["arn:aws:sns:us-east-1:1:pager"] == request["OKActions"]


def test_presets():
    base = initial_draft("llm-chat-canary", "AllTraffic")
    five_xx = alarm_request(apply_preset(base, "5xx"))
    # "Any 5XX for 5 minutes": a Sum above 0 in each of five one-minute periods.
    assert (five_xx["MetricName"], five_xx["Statistic"], five_xx["Threshold"]) == ("Invocation5XXErrors", "Sum", 0.0)
    assert (five_xx["Period"], five_xx["EvaluationPeriods"], five_xx["DatapointsToAlarm"]) == (60, 5, 5)
    p99 = alarm_request(apply_preset(base, "p99"))
    assert p99["ExtendedStatistic"] == "p99" and p99["Threshold"] == 1_000_000.0
    for preset, metric in (("cpu", "CPUUtilization"), ("gpu", "GPUUtilization"), ("memory", "MemoryUtilization")):
        request = alarm_request(apply_preset(base, preset))
        assert (request["MetricName"], request["Threshold"], request["Namespace"]) == (metric, 90.0, "/aws/sagemaker/Endpoints")
        assert request["AlarmName"] == f"llm-chat-canary-{metric}-Average-high"


def test_suggested_names_fit_cloudwatchs_limit():
    assert suggest_name("e", "ModelLatency", "p99") == "e-ModelLatency-p99-high"
    assert suggest_name("e", "Invocations", "Sum", "LessThanThreshold").endswith("-low")
    assert len(suggest_name("x" * 300, "ModelLatency", "p99")) == 255
