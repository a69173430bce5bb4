"""Section: what the console costs in AWS calls while it sits open.

Two tables:

- **Calls per minute in steady state.**  The real console (``smtop
  --endpoint-url``, default 60 s refresh) runs on a pty against a simulator
  with live traffic; once the demo fleet is on screen the simulator's call
  counters are reset, and after ``duration`` seconds they are read back.  The
  simulator counts every request it receives per ``service:operation``
  (``GET /_smtop/faults``), so every poller is included: the fleet refresh
  (List/Describe, GetMetricData), the log tail of the selected endpoint
  (StartLiveTail, or FilterLogEvents when it falls back), the CloudTrail feed
  (LookupEvents) and the alarms panel (DescribeAlarms…).
- **Live Tail session-minutes.**  StartLiveTail is one call per session, but
  AWS bills the session by the minute it is open, so the simulator also
  counts the seconds its sessions streamed (``GET /_smtop/live-tail``); the
  row "Live Tail session-minutes" is those minutes per minute of the console
  left open, and its price.  The console gets no key during the run, so the
  count shows the log panel on screen before ``live_tail_idle`` (15 min by
  default) pauses it: a console left open unused bills at most that long
  after the last key.
- **Monthly GetMetricData bill.**  CloudWatch bills GetMetricData per metric
  requested ($0.01 per 1,000 metrics, us-east-1 list price), not per call or
  datapoint, so the bill is queries per refresh × refreshes per month.  The
  queries come from the gmd section's measured refreshes.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

from ptyproc import PtyProcess, shows
from startup import DEMO_ENDPOINT, smtop_command

PRICE_PER_METRIC = 0.01 / 1000
"""GetMetricData, us-east-1: $0.01 per 1,000 metrics requested."""
PRICE_PER_LIVE_TAIL_MINUTE = 0.01
"""Live Tail, us-east-1: $0.01 per session-minute after 1,800 free minutes a month (CloudWatch pricing, Logs)."""
FREE_LIVE_TAIL_MINUTES = 1800
LIVE_TAIL_ROW = "Live Tail session-minutes"

MONTH_SECONDS = 30 * 86400
DEFAULT_REFRESH = 60.0
SETTLE_SECONDS = 5.0


@dataclass(frozen=True)
class CallRates:
    seconds: float
    calls: dict[str, int]
    """``service:operation`` → requests the simulator received."""
    live_tail_seconds: float = 0.0
    """Seconds Live Tail sessions were open (billed by the minute)."""

    def per_minute(self, key: str) -> float:
        return self.calls.get(key, 0) * 60.0 / self.seconds


def monthly_cost(queries_per_refresh: int, refresh: float = DEFAULT_REFRESH) -> float:
    """Dollars a month for GetMetricData at one refresh every ``refresh`` seconds."""
    return queries_per_refresh * (MONTH_SECONDS / refresh) * PRICE_PER_METRIC


def minimum_calls(endpoints: int) -> int:
    """The issue's floor: ten metrics per endpoint, 500 per call."""
    return math.ceil(endpoints * 10 / 500)


def measure_calls(duration: float, log=print) -> CallRates:
    """Run the console against a fresh simulator and count its requests for ``duration`` s."""
    from smtop.sim.process import spawn_sim

    with spawn_sim(traffic=True, seed=7) as sim:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        command = [*smtop_command(), "--endpoint-url", sim.url, "--region", "us-east-1", "--refresh", f"{DEFAULT_REFRESH:g}"]
        console = PtyProcess(command, env=env)
        try:
            if console.wait_for(shows(DEMO_ENDPOINT), 60.0) is None:
                raise RuntimeError("the console never showed the fleet")
            console.drain(SETTLE_SECONDS)
            sim.reset_calls()
            sim.reset_live_tail()
            log(f"  cost: counting the console's calls for {duration:g} s …")
            began = time.monotonic()
            console.drain(duration)
            calls = sim.faults()["calls"]
            live_tail = sim.live_tail()
            return CallRates(time.monotonic() - began, dict(calls), float(live_tail["session_seconds"]))
        finally:
            console.quit()


CALL_HEADERS = ["service:operation", "calls", "per minute", "who", "quota / note"]

_WHO = {
    "cloudwatch:GetMetricData": ("fleet refresh", "50 TPS; billed per metric"),
    "sagemaker:ListEndpoints": ("fleet refresh", ""),
    "sagemaker:DescribeEndpoint": ("fleet refresh (changed endpoints only)", ""),
    "sagemaker:DescribeEndpointConfig": ("fleet refresh (changed endpoints only)", ""),
    "logs:StartLiveTail": ("log panel", "one session, renewed; billed per session-minute (next row)"),
    "logs:FilterLogEvents": ("log panel (polling fallback)", "5 TPS per account"),
    "cloudtrail:LookupEvents": ("CloudTrail feed", "2 TPS per account"),
    "cloudwatch:DescribeAlarms": ("alarms panel", "9 TPS"),
    "cloudwatch:ListAlarmMuteRules": ("alarms panel", ""),
}


def call_rows(rates: CallRates) -> list[list[object]]:
    rows = []
    for key in sorted(rates.calls, key=lambda k: (-rates.calls[k], k)):
        who, note = _WHO.get(key, ("", ""))
        rows.append([key, rates.calls[key], rates.per_minute(key), who, note])
    minutes = rates.live_tail_seconds / 60.0
    per_minute = minutes * 60.0 / rates.seconds
    rows.append([
        LIVE_TAIL_ROW, round(minutes, 2), per_minute, "log panel (Live Tail)",
        f"${live_tail_monthly_cost(per_minute):,.0f} a month if always open ({FREE_LIVE_TAIL_MINUTES:,} free minutes first)",
    ])
    return rows


def live_tail_monthly_cost(session_minutes_per_minute: float) -> float:
    """Dollars a month for Live Tail at this many session-minutes per minute, after the free minutes."""
    minutes = session_minutes_per_minute * MONTH_SECONDS / 60
    return max(0.0, minutes - FREE_LIVE_TAIL_MINUTES) * PRICE_PER_LIVE_TAIL_MINUTE


COST_HEADERS = ["endpoints", "queries / refresh", "GMD calls", "min ⌈N·10/500⌉", "datapoints / steady refresh", "$ / month at 60 s", "$ / month at 10 metrics an endpoint"]


def cost_rows(gmd_results) -> list[list[object]]:
    """One row per fleet size of the gmd section (its steady refreshes)."""
    rows = []
    for result in gmd_results:
        steady = sorted(result.steady, key=lambda c: c.counted.queries)
        if not steady:
            continue
        cost = steady[len(steady) // 2]
        rows.append([
            result.endpoints,
            cost.counted.queries,
            cost.gmd_calls,
            minimum_calls(result.endpoints),
            cost.counted.datapoints,
            monthly_cost(cost.counted.queries),
            monthly_cost(result.endpoints * 10),
        ])
    return rows
