"""Soak: 24 simulated hours of traffic against the console's data layer, RSS sampled.

The simulator runs with ``--speed`` (its clock, and so its traffic generator,
runs that many times faster than the wall clock); the data layer follows the
same compressed time: ``ConsoleData.refresh()`` once per simulated refresh
interval and a log tail of the busiest endpoint, keeping the events in a
bounded buffer as the log panel does.  The RSS of this process (the
console's side) and of the simulator are sampled throughout.

Memory is bounded when the console's RSS flattens: the printed slope is a
least-squares fit over the second half of the run (after warm-up), in MiB
per simulated hour.

    .venv/bin/python bench/soak.py                     # 24 h at 480x: ~3 min
    .venv/bin/python bench/soak.py --hours 1 --speed 240   # a quick check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from smtop.aws.console import ConsoleData  # noqa: E402
from smtop.aws.session import AwsSession  # noqa: E402
from smtop.errors import SmtopError  # noqa: E402
from smtop.sim.process import spawn_sim  # noqa: E402

MIB = 1024 * 1024


class CompressedClock:
    """Follows the simulator's clock: ``speed`` simulated seconds per wall second from ``start``."""

    def __init__(self, start: float, speed: float) -> None:
        self.start, self.speed, self.anchor = start, speed, time.monotonic()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.start + (time.monotonic() - self.anchor) * self.speed, timezone.utc)

    def simulated_hours(self) -> float:
        return (time.monotonic() - self.anchor) * self.speed / 3600


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points; 0 for fewer than two."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


async def soak(hours: float, speed: float, refresh: float, sample: float, seed: int) -> dict:
    os.environ.update(AWS_ACCESS_KEY_ID="soak", AWS_SECRET_ACCESS_KEY="soak", AWS_CONFIG_FILE=os.devnull,
                      AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    start = float(int(time.time()) // 60 * 60)
    sim = spawn_sim(traffic=True, seed=seed, now=start, extra_args=["--speed", repr(speed)], timeout=60)
    me, sim_process = psutil.Process(), psutil.Process(sim.pid)
    clock = CompressedClock(start, speed)
    samples: list[dict] = []
    counts = {"refreshes": 0, "refresh_failures": 0, "log_events": 0, "tail_notices": 0}
    buffer: deque = deque(maxlen=10_000)  # what the log panel keeps

    try:
        async with AwsSession(region="us-east-1", endpoint_url=sim.url) as aws:
            data = ConsoleData(aws, clock)
            first = await data.refresh()
            busiest = max(first.endpoints, key=lambda e: first.metrics_for(e.name).invocations_per_minute or 0)

            async def tail() -> None:
                async for update in data.tail(busiest.log_group, since=timedelta(minutes=15)):
                    buffer.extend(update.events)
                    counts["log_events"] += len(update.events)
                    counts["tail_notices"] += bool(update.notice)

            async def refreshes() -> None:
                while True:
                    await asyncio.sleep(refresh / speed)
                    try:
                        await data.refresh()
                        counts["refreshes"] += 1
                    except SmtopError:
                        counts["refresh_failures"] += 1

            tasks = [asyncio.create_task(tail()), asyncio.create_task(refreshes())]
            try:
                while clock.simulated_hours() < hours:
                    samples.append({
                        "sim_hours": round(clock.simulated_hours(), 3),
                        "rss_mib": me.memory_info().rss / MIB,
                        "sim_rss_mib": sim_process.memory_info().rss / MIB,
                    })
                    await asyncio.sleep(sample)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        sim.stop()

    rss = [s["rss_mib"] for s in samples]
    second_half = [(s["sim_hours"], s["rss_mib"]) for s in samples[len(samples) // 2 :]]
    sim_half = [(s["sim_hours"], s["sim_rss_mib"]) for s in samples[len(samples) // 2 :]]
    return {
        "simulated_hours": round(clock.simulated_hours(), 2),
        "speed": speed,
        "samples": len(samples),
        "console_rss_mib": {
            "start": round(rss[0], 1), "peak": round(max(rss), 1), "end": round(rss[-1], 1),
            "slope_mib_per_sim_hour_second_half": round(slope(second_half), 3),
        },
        "simulator_rss_mib": {
            "start": round(samples[0]["sim_rss_mib"], 1), "peak": round(max(s["sim_rss_mib"] for s in samples), 1),
            "end": round(samples[-1]["sim_rss_mib"], 1), "slope_mib_per_sim_hour_second_half": round(slope(sim_half), 3),
        },
        "log_buffer_len": len(buffer),
        **counts,
        "curve": [(s["sim_hours"], round(s["rss_mib"], 1)) for s in samples[:: max(1, len(samples) // 24)]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    parser.add_argument("--speed", type=float, default=480.0, help="simulated seconds per wall second (default 480)")
    parser.add_argument("--refresh", type=float, default=60.0, help="simulated seconds between refreshes (default 60)")
    parser.add_argument("--sample", type=float, default=2.0, help="wall seconds between RSS samples (default 2)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = asyncio.run(soak(args.hours, args.speed, args.refresh, args.sample, args.seed))
    if args.json:
        print(json.dumps(result))
        return 0
    c, s = result["console_rss_mib"], result["simulator_rss_mib"]
    print(f"soak: {result['simulated_hours']} simulated h at {result['speed']:g}x, {result['samples']} samples")
    print(f"console RSS MiB: start {c['start']}  peak {c['peak']}  end {c['end']}  "
          f"slope {c['slope_mib_per_sim_hour_second_half']} MiB/sim-h (second half)")
    print(f"simulator RSS MiB: start {s['start']}  peak {s['peak']}  end {s['end']}  "
          f"slope {s['slope_mib_per_sim_hour_second_half']} MiB/sim-h")
    print(f"refreshes {result['refreshes']} (failed {result['refresh_failures']}), log events {result['log_events']}, "
          f"buffer {result['log_buffer_len']}, tail notices {result['tail_notices']}")
    print("curve (sim h, console MiB): " + "  ".join(f"{h:g}:{m:g}" for h, m in result["curve"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
