"""The simulator writes each container's lines as the container does.

Every line the simulator's writer makes is compared with the hand-written sample
of the same container (:mod:`tests.container_log_samples`, each from the
container's source): with every number made 0 and each Rust duration made one
token, the two have the same shape.  A request's latency is read back from the
written line the plain way (the last field, the JSON key), not with smtop's
queries.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from smtop.sim.log_formats import FORMATS, java_double, rust_duration
from tests.container_log_samples import SAMPLES

MS = 1_794_999_959_123  # 2026-11-18 11:05:59.123 UTC


def shape(line: str) -> str:
    line = re.sub(r'\d+(?:\.\d+)?(?:s|ms|µs|ns)"', 'D"', line)
    return re.sub(r"\d+", "0", line)


def written(name: str, seed: int = 5) -> list[str]:
    fmt, rng = FORMATS[name], random.Random(seed)
    lines = []
    for latency in (812.43, 2364.213617, 0.9875):
        lines += fmt.request(rng, MS, 200, latency)
    lines += fmt.request(rng, MS, 400, 12.0) + fmt.ping(rng, MS) + fmt.periodic(rng, MS, 1.0)
    return lines


def test_every_format_has_a_hand_written_sample_and_says_whether_it_carries_latency():
    assert set(FORMATS) <= set(SAMPLES)
    for name, fmt in FORMATS.items():
        assert fmt.carries_latency == bool(SAMPLES[name].slowest), name


@pytest.mark.parametrize("name", [n for n in FORMATS if n != "tgi-json"])
def test_every_line_written_has_the_shape_of_the_containers_own(name):
    samples = {shape(message) for _, message in SAMPLES[name].lines}
    lines = written(name)
    assert lines or name == "djl"
    for line in lines:
        assert shape(line) in samples, line


def test_tgi_json_lines_have_the_keys_of_tracing_subscribers_flattened_json():
    sample = json.loads(SAMPLES["tgi-json"].lines[0][1])
    success = [json.loads(line) for line in written("tgi-json") if '"Success"' in line]
    assert len(success) == 3
    for record in success:
        assert list(record) == list(sample)
        assert record["span"].keys() == sample["span"].keys()
        assert record["span"]["name"] == "generate" and record["spans"][-1] == record["span"]


def _duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(s|ms|µs|ns)", text).groups()
    return float(number) * {"s": 1000, "ms": 1, "µs": 1e-3, "ns": 1e-6}[unit]


def test_a_request_line_carries_the_latency_it_was_written_with():
    rng = random.Random(1)
    for name in ("mms", "torchserve"):
        (access, *_) = FORMATS[name].request(rng, MS, 200, 812.43)
        assert access.split()[-1] == "812"  # Session.toString: whole milliseconds
    text = FORMATS["tgi"].request(rng, MS, 200, 812.43)[0]
    assert _duration_ms(text.split('total_time="')[1].split('"')[0]) == pytest.approx(812.43)
    record = json.loads(FORMATS["tgi-json"].request(rng, MS, 200, 2364.213617)[0])
    assert _duration_ms(record["span"]["total_time"]) == pytest.approx(2364.213617)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2.364213617, "2.364213617s"), (0.02363792, "23.63792ms"), (0.000375191, "375.191µs"), (1.0, "1s"), (0.5, "500ms"), (8.12e-7, "812ns")],
)
def test_durations_are_written_as_rusts_debug_format(seconds, text):
    assert rust_duration(seconds) == text


@pytest.mark.parametrize(("value", "text"), [(41237.431, "41237.431"), (12.0, "12.0"), (12345678.9, "1.23456789E7"), (1e7, "1.0E7")])
def test_metric_values_are_written_as_javas_double_to_string(value, text):
    assert java_double(value) == text
