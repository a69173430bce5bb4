"""smtop's benchmarks: one command, markdown tables on stdout and in bench/RESULTS.md.

    .venv/bin/python bench/run.py            # full run, ~7 minutes on 2 cores
    .venv/bin/python bench/run.py --quick    # smoke run, ~2 minutes
    .venv/bin/python bench/run.py --sections logs [--quick]
    .venv/bin/python bench/run.py --sections gmd --sizes 10 100
    .venv/bin/python bench/run.py --sizes 10 100 500 1000   # + 1,000 endpoints, ~1.5 min more

Sections (see each module's docstring for what is measured and why):
  gmd      GetMetricData cost per refresh for N endpoints (bench/gmd.py)
  cost     the monthly GetMetricData bill, and every call per minute of the console left open (bench/cost.py)
  startup  smtop --demo: first frame and first data under a pty (bench/startup.py)
  steady   CPU % and RSS of smtop --demo against a bare Textual baseline (bench/steady.py)
  scale    the endpoint table with 500 and 1,000 endpoints: refresh, sort, filter, scroll (bench/scale.py)
  logs     log panel ingest vs key latency, LogView RSS after 1M lines, LogTail vs awslogs
           end to end on the simulator (bench/logs.py; installs awslogs into /tmp/awslogs-venv)

Everything runs against the local simulator; nothing reaches AWS.  Not part
of the pytest suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the sibling modules, when run as a script

import cost  # noqa: E402
import gmd  # noqa: E402
import logs  # noqa: E402
import report  # noqa: E402
import scale  # noqa: E402
import startup  # noqa: E402
import steady  # noqa: E402

SECTIONS = ("gmd", "cost", "startup", "steady", "scale", "logs")
LOGS_FULL = {
    "log_rates": [0, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000],
    "log_phase": 4.0,
    "log_interval": 1.0,
    "log_rss": [(10_000, 1_000_000), (100_000, 300_000)],
    "log_events": 50_000,
    "log_live_rates": [200, 2_000],
    "log_live_seconds": 5.0,
}
LOGS_QUICK = {
    "log_rates": [0, 1_000, 5_000, 20_000],
    "log_phase": 2.0,
    "log_interval": 1.0,
    "log_rss": [(10_000, 120_000), (100_000, 110_000)],
    "log_events": 10_000,
    "log_live_rates": [1_000],
    "log_live_seconds": 3.0,
}
FULL = {"sizes": [10, 100, 500, 1000], "steady_refreshes": 2, "repeats": 5, "duration": 300.0, "cost_duration": 180.0, "scale_repeats": 5, **LOGS_FULL}
QUICK = {"sizes": [10, 100], "steady_refreshes": 2, "repeats": 2, "duration": 30.0, "cost_duration": 70.0, "scale_repeats": 2, **LOGS_QUICK}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke mode: small fleets, 2 start-ups, 30 s steady state")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run (default: all)")
    parser.add_argument("--sizes", nargs="+", type=int, metavar="N", help="fleet sizes for gmd (default 10 100 500 1000; quick: 10 100)")
    parser.add_argument("--repeats", type=int, help="start-ups to time (default 5; quick: 2)")
    parser.add_argument("--duration", type=float, help="seconds of steady state per app (default 300, as issue 8 asks; quick: 30)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="markdown file to write (default: %(default)s)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    return parser


def options(args: argparse.Namespace) -> dict:
    chosen = dict(QUICK if args.quick else FULL)
    for name in ("sizes", "repeats", "duration"):
        if getattr(args, name) is not None:
            chosen[name] = getattr(args, name)
    return chosen


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_gmd(opts: dict) -> str:
    results = opts["gmd_results"] = gmd.measure(opts["sizes"], opts["steady_refreshes"], log=log)
    notes = "\n".join(f"- {line}" for line in gmd.notes(results))
    return f"## GetMetricData cost per refresh\n\n{report.table(gmd.HEADERS, gmd.rows(results))}\n\n{notes}\n"


def run_cost(opts: dict) -> str:
    results = opts.get("gmd_results") or gmd.measure(opts["sizes"], opts["steady_refreshes"], log=log)
    rates = cost.measure_calls(opts["cost_duration"], log=log)
    return (
        "## API cost\n\n"
        "### GetMetricData bill per month (steady refreshes of the gmd section)\n\n"
        f"{report.table(cost.COST_HEADERS, cost.cost_rows(results))}\n\n"
        "- CloudWatch bills GetMetricData per metric requested: $0.01 per 1,000 (us-east-1 list price), "
        f"{cost.MONTH_SECONDS / cost.DEFAULT_REFRESH:,.0f} refreshes in 30 days at the default 60 s. "
        "Calls and datapoints are free; only the queries count.\n\n"
        f"### Calls per minute with the console open ({rates.seconds:.0f} s, demo fleet with live traffic, refresh 60 s)\n\n"
        f"{report.table(cost.CALL_HEADERS, cost.call_rows(rates))}\n\n"
        "- Counted by the simulator per request received (retries included), after the fleet was on screen; "
        "the console on a 120×40 pty, the first endpoint selected, its log panel tailing.\n"
        f"- {cost.LIVE_TAIL_ROW}: the seconds the simulator's Live Tail sessions were open, over 60. AWS bills "
        f"Live Tail per session-minute (${cost.PRICE_PER_LIVE_TAIL_MINUTE:g} a minute after "
        f"{cost.FREE_LIVE_TAIL_MINUTES:,} free minutes a month); the console pauses it after live_tail_idle "
        "(15 min) without a key, so an unused console bills at most that long after the last key.\n"
    )


def run_startup(opts: dict) -> str:
    timings = startup.measure(opts["repeats"], log=log)
    return (
        "## Start-up\n\n"
        f"{report.table(startup.HEADERS, startup.rows(timings))}\n\n"
        "- Times from spawn, on a 120×40 pty with TERM=xterm-256color; `smtop --demo` quit with `q` after each run.\n"
        "- Warm starts, as a user's second and later ones: smtop's bytecode compiled (this machine exports "
        "PYTHONDONTWRITEBYTECODE, removed for the benchmark) and its cut-down botocore models cached. "
        "The first start after an install has neither: its own rows.\n"
    )


def run_steady(opts: dict) -> str:
    usages = steady.measure(opts["duration"], log=log)
    return (
        "## Steady state\n\n"
        f"{report.table(steady.HEADERS, steady.rows(usages))}\n\n"
        f"- Measured for {opts['duration']:g} s after the data appeared (+{steady.SETTLE_SECONDS:g} s settling); "
        "CPU % = CPU time / wall time (100 % = one core), process alone.\n"
    )


def run_scale(opts: dict) -> str:
    results = scale.measure([500, 1000], opts["scale_repeats"], log=log)
    return (
        "## Scale: the endpoint table\n\n"
        f"{report.table(scale.HEADERS, scale.rows(results))}\n\n"
        "- The real `EndpointTable` alone in a headless 120×40 app, fed generated snapshots (every metric, "
        "3 h of minutes); ms from the call until its messages are handled and the frame it caused is painted "
        "(wall; cpu ms = the process's CPU time over the same span). "
        "refresh = a new snapshot, same order, every value moved (the worst case).\n"
    )


def run_logs(opts: dict) -> str:
    return logs.render(logs.measure(opts, log=log), report.table)


RUNNERS = {"gmd": run_gmd, "cost": run_cost, "startup": run_startup, "steady": run_steady, "scale": run_scale, "logs": run_logs}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    opts = options(args)
    began = time.perf_counter()
    parts = [
        "# smtop benchmark results\n",
        f"Generated by `{_command(argv)}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"({'quick' if args.quick else 'full'} mode).\n",
        f"## Machine\n\n{report.machine_table()}\n",
    ]
    print(parts[-1], flush=True)
    # Every section measures what a user's second and later starts do: smtop's
    # bytecode written, its lean botocore models cached (startup.warm_caches).
    startup.warm_caches()
    for section in SECTIONS:
        if section in args.sections:
            log(f"{section} …")
            text = RUNNERS[section](opts)
            print(text, flush=True)
            parts.append(text)
    parts.append(
        f"_Total benchmark time: {time.perf_counter() - began:.0f} s; load average at the end "
        f"{report.load_average()} (1/5/15 min, {os.cpu_count()} cores: anything else running skews the timings)._\n"
    )
    print(parts[-1])
    if not args.no_write:
        args.output.write_text("\n".join(parts), encoding="utf-8")
        log(f"wrote {args.output}")
    return 0


def _command(argv: list[str] | None) -> str:
    words = sys.argv[1:] if argv is None else argv
    return " ".join([".venv/bin/python bench/run.py", *words])


if __name__ == "__main__":
    raise SystemExit(main())
