"""Section 1: what one refresh of N endpoints costs in GetMetricData.

For each fleet size a simulator is started with ``--synthetic-endpoints N``
(three hours of history, no live traffic) and a fixed ``--now``.  A
``FleetMonitor`` with a frozen clock at that moment does what the console
does: the first fill, then the selection of the first endpoint (its metric
panel's own metrics, fetched at once), then the clock moves 60 s and the
next refreshes are incremental, the selected endpoint's panel metrics
included.  Calls, queries and datapoints are counted by botocore event
hooks on the real aiobotocore clients (not derived from the plan), and
compared with the floor the design promises:

- ``ceil(N·10/500)``: ten metrics per endpoint, 500 queries a call;
- ``ceil(Q/500)`` with Q the queries smtop needs: what the endpoints table
  shows, 8 per CPU variant and 9 per GPU variant (ModelLatency is asked as
  Average *and* p99), plus the panel-only InvocationsPerInstance and
  OverheadLatency Average and p99 (3 per variant) of the selected endpoint.

Wall time is split into the inventory (ListEndpoints, DescribeEndpoint,
DescribeEndpointConfig), the metric poll (GetMetricData, as ``PollStats``
reports it) and the rest (aggregating variants into endpoint series).  The
simulator's own CPU time during the refresh says how much of the wall time
is the server's, the client's CPU time how much is ours, and the longest
stall of the client's event loop (a ticker every 10 ms, late by how much)
what the console's UI would suffer, since the poll runs on its loop.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psutil

from smtop.aws.fleet import FleetMonitor
from smtop.aws.metrics import MAX_QUERIES_PER_CALL, series_for
from smtop.aws.session import AwsSession
from smtop.clock import FrozenClock
from smtop.sim.process import spawn_sim

NOW = 1_767_225_630.0
"""2026-01-01 00:00:30 UTC: the monitor's first refresh (mid-minute, so refreshes end on whole minutes)."""
REFRESH_STEP = 60.0
"""The monitor's clock moves this much between refreshes."""
SEED = 7
METRICS_PER_ENDPOINT = 10


@dataclass
class CallCounter:
    """Counts what the clients really send, from botocore's event hooks."""

    calls: Counter = field(default_factory=Counter)
    """API calls per operation (``before-call``: once per call, retries excluded)."""
    attempts: Counter = field(default_factory=Counter)
    """HTTP requests sent per operation (``before-send``: retries included)."""
    queries: int = 0
    datapoints: int = 0

    def attach(self, client) -> None:
        events = client.meta.events
        events.register("before-call", self._on_call)
        events.register("before-send", self._on_send)
        events.register("before-parameter-build.cloudwatch.GetMetricData", self._on_gmd_params)
        events.register("after-call.cloudwatch.GetMetricData", self._on_gmd_reply)

    def take(self) -> CallCounter:
        """Return the counts so far and start again from zero."""
        taken = CallCounter(self.calls, self.attempts, self.queries, self.datapoints)
        self.calls, self.attempts, self.queries, self.datapoints = Counter(), Counter(), 0, 0
        return taken

    def _on_call(self, event_name: str, **_) -> None:
        self.calls[event_name.rsplit(".", 1)[-1]] += 1

    def _on_send(self, event_name: str, **_) -> None:
        self.attempts[event_name.rsplit(".", 1)[-1]] += 1

    @property
    def retries(self) -> Counter:
        """HTTP requests beyond the first per call, per operation."""
        return self.attempts - self.calls

    def _on_gmd_params(self, params, **_) -> None:
        self.queries += len(params.get("MetricDataQueries", ()))

    def _on_gmd_reply(self, parsed, **_) -> None:
        self.datapoints += sum(len(r.get("Values", ())) for r in parsed.get("MetricDataResults", ()))


@dataclass
class RefreshCost:
    """One refresh, measured."""

    kind: str
    counted: CallCounter
    incremental: bool
    inventory_s: float
    metrics_s: float
    total_s: float
    sim_cpu_s: float
    client_cpu_s: float
    max_stall_s: float

    @property
    def gmd_calls(self) -> int:
        return self.counted.calls["GetMetricData"]

    @property
    def other_calls(self) -> int:
        return sum(n for op, n in self.counted.calls.items() if op != "GetMetricData")


@dataclass
class SizeResult:
    endpoints: int
    variants: int
    gpu_variants: int
    queries_needed: int
    sim_ready_s: float
    first: RefreshCost
    selection: RefreshCost
    steady: list[RefreshCost]


@contextmanager
def dummy_credentials():
    """Dummy keys for the simulator, restoring the environment afterwards."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    try:
        yield
    finally:
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)


def measure(sizes: list[int], steady_refreshes: int = 3, log=print) -> list[SizeResult]:
    """Run the section for every fleet size, one simulator each.

    Args:
        sizes: fleet sizes (endpoints).
        steady_refreshes: incremental refreshes after the first fill.
    """
    results = []
    with dummy_credentials():
        for size in sizes:
            log(f"  GetMetricData: {size} endpoints …")
            results.append(_measure_size(size, steady_refreshes))
    return results


def _measure_size(size: int, steady_refreshes: int) -> SizeResult:
    # The simulator's history ends where the monitor's last refresh will be, so
    # every incremental refresh finds its new minute (the synthetic backfill
    # reaches 15 minutes further back than three hours for this).
    sim_now = NOW + REFRESH_STEP * (steady_refreshes + 1)
    began = time.perf_counter()
    sim = spawn_sim(
        traffic=False, seed=SEED, now=sim_now, timeout=180, extra_args=["--synthetic-endpoints", str(size)]
    )
    ready = time.perf_counter() - began
    try:
        return asyncio.run(_refreshes(sim, ready, steady_refreshes))
    finally:
        sim.stop()


async def _refreshes(sim, ready: float, steady_refreshes: int) -> SizeResult:
    server = psutil.Process(sim.pid)
    clock = FrozenClock(datetime.fromtimestamp(NOW, timezone.utc))
    counter = CallCounter()
    async with AwsSession(region="us-east-1", endpoint_url=sim.url) as aws:
        for service in ("sagemaker", "cloudwatch"):
            counter.attach(await aws.client(service))
        monitor = FleetMonitor(aws, clock)
        # The whole fleet in the first fill, as batch mode has it: the console's
        # first refresh describes what its describe budget allows (smtop.aws.endpoints).
        monitor.inventory.budget = None
        inventory_time = _time_inventory(monitor)
        first = await _one_refresh(monitor, counter, server, inventory_time, "first fill")
        selected = min(e.name for e in monitor.last.endpoints)  # the console selects the first row
        monitor.select(selected)
        selection = await _one_refresh(monitor, counter, server, [0.0], "selection", monitor.refresh_selected)
        steady = []
        for _ in range(steady_refreshes):
            clock.advance(REFRESH_STEP)
            steady.append(await _one_refresh(monitor, counter, server, inventory_time, "steady (+60 s)"))
        endpoints = monitor.last.endpoints
    variants = [v for e in endpoints for v in e.variants]
    return SizeResult(
        endpoints=len(endpoints),
        variants=len(variants),
        gpu_variants=sum(v.has_gpu for v in variants),
        queries_needed=len(series_for(endpoints, selected={selected})),
        sim_ready_s=ready,
        first=first,
        selection=selection,
        steady=steady,
    )


def _time_inventory(monitor: FleetMonitor) -> list[float]:
    """Wrap the monitor's inventory refresh so each refresh records its duration."""
    durations: list[float] = []
    original = monitor.inventory.refresh

    async def timed():
        began = time.perf_counter()
        try:
            return await original()
        finally:
            durations.append(time.perf_counter() - began)

    monitor.inventory.refresh = timed
    return durations


async def _one_refresh(monitor, counter: CallCounter, server: psutil.Process, inventory_time, kind: str, how=None) -> RefreshCost:
    """Measure one ``monitor.refresh()``, or ``how()`` (``monitor.refresh_selected``:
    its snapshot keeps the last refresh's poll stats, so its GMD time is its whole time)."""
    counter.take()
    cpu_before, client_before = _cpu(server), time.process_time()
    stalls = asyncio.create_task(_watch_stalls())
    began = time.perf_counter()
    try:
        snapshot = await (how or monitor.refresh)()
    finally:
        total = time.perf_counter() - began
        stalls.cancel()
    max_stall = await stalls
    return RefreshCost(
        kind=kind,
        counted=counter.take(),
        incremental=snapshot.poll.incremental,
        inventory_s=inventory_time[-1],
        metrics_s=snapshot.poll.seconds if how is None else total,
        total_s=total,
        sim_cpu_s=_cpu(server) - cpu_before,
        client_cpu_s=time.process_time() - client_before,
        max_stall_s=max_stall,
    )


async def _watch_stalls(tick: float = 0.01) -> float:
    """Until cancelled, sleep ``tick`` repeatedly; return the worst lateness of a wake-up."""
    worst = 0.0
    loop = asyncio.get_running_loop()
    try:
        while True:
            asked = loop.time()
            await asyncio.sleep(tick)
            worst = max(worst, loop.time() - asked - tick)
    except asyncio.CancelledError:
        return worst


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


HEADERS = (
    "endpoints", "variants (GPU)", "refresh", "GMD calls", "min ⌈N·10/500⌉", "min ⌈Q/500⌉",
    "queries (Q)", "datapoints", "other calls", "inventory s", "GMD s", "total s",
    "client CPU s", "sim CPU s", "max loop stall s",
)


def rows(results: list[SizeResult]) -> list[list[object]]:
    """Three rows per size: the first fill, the selection's own poll and the
    median steady-state refresh (the selection's row has no incremental flag
    of its own: it completes the first fill's snapshot)."""
    out = []
    for r in results:
        for cost in (r.first, r.selection, _median_refresh(r.steady)):
            if cost is None:
                continue
            out.append(
                [
                    r.endpoints,
                    f"{r.variants} ({r.gpu_variants})",
                    cost.kind
                    + ("" if cost is r.selection or cost.incremental == (cost is not r.first) else " (!)"),
                    cost.gmd_calls,
                    *((None, None) if cost is r.selection else (  # a floor per refresh, not per selection
                        math.ceil(r.endpoints * METRICS_PER_ENDPOINT / MAX_QUERIES_PER_CALL),
                        math.ceil(r.queries_needed / MAX_QUERIES_PER_CALL),
                    )),
                    f"{cost.counted.queries:,}" + ("" if cost is r.selection else f" ({r.queries_needed:,})"),
                    cost.counted.datapoints,
                    _other_calls(cost),
                    cost.inventory_s,
                    cost.metrics_s,
                    cost.total_s,
                    cost.client_cpu_s,
                    cost.sim_cpu_s,
                    cost.max_stall_s,
                ]
            )
    return out


def _median_refresh(steady: list[RefreshCost]) -> RefreshCost | None:
    if not steady:
        return None
    ranked = sorted(steady, key=lambda c: c.total_s)
    return ranked[len(ranked) // 2]


def _other_calls(cost: RefreshCost) -> str:
    short = {"ListEndpoints": "List", "DescribeEndpoint": "Desc", "DescribeEndpointConfig": "DescCfg"}
    parts = [f"{short.get(op, op)} {n}" for op, n in sorted(cost.counted.calls.items()) if op != "GetMetricData"]
    retried = cost.counted.retries
    if retried:
        parts.append("retried: " + ", ".join(f"{short.get(op, op)} {n}" for op, n in sorted(retried.items())))
    return ", ".join(parts) or "0"


def notes(results: list[SizeResult]) -> list[str]:
    """Sentences about the numbers that a table does not say by itself."""
    lines = []
    if any(c.counted.retries for r in results for c in [r.first, *r.steady]):
        lines.append(
            "`retried` counts HTTP requests sent again by botocore's retry handler (e.g. a connect "
            "timeout while the client's event loop was busy parsing another response)."
        )
    if results:
        ready = ", ".join(f"{r.endpoints}: {r.sim_ready_s:.1f} s" for r in results)
        lines.append(f"Simulator start-up with `--synthetic-endpoints N` (spawn to ready line): {ready}.")
    lines.append(
        f"steady = the median of {len(results[0].steady) if results else 0} incremental refreshes after the first fill, "
        f"each {REFRESH_STEP:g} s later on the monitor's frozen clock; inventory = List/Describe calls, "
        "GMD = the metric poll (`PollStats.seconds`), total also includes merging variants into endpoint series."
    )
    lines.append(
        "Q counts (variant × metric × statistic): what the endpoints table shows, 8 per CPU variant and 9 per GPU "
        "variant, plus InvocationsPerInstance and OverheadLatency Average/p99 (3 per variant) for the selected endpoint "
        "only; selection = the one call that fetches those when the selection changes (the first endpoint here). "
        "The queries column shows sent (needed). `(!)` would mark a refresh whose incremental flag is not the expected one."
    )
    return lines
