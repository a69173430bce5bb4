"""Section 4: the log panel and the log tail, under load.

Four measurements, each in processes of its own so that CPU and RSS are the
measured program's alone:

a. **Panel ingest vs key latency.**  A minimal Textual app holding the real
   ``LogPanel`` (and so the real ``LogView``) runs under a 120×40 pty, as a
   person would see it.  It is fed ``LogPanel.Tailed`` messages, exactly what
   the tail worker posts, once every ``batch interval`` (1 s: the cadence of
   Live Tail's session updates; polling delivers every 2 s, i.e. twice the
   batch) at increasing rates.  Meanwhile the bench types ``T`` (toggle the
   time column: a visible change of every line that keeps the view
   following, so ingest keeps repainting) into the pty every 200 ms.  The
   latency of a key is from writing it to the pty until the app has written
   the first frame after the action ran (``App._display`` returned);
   ``time.perf_counter`` is CLOCK_MONOTONIC, common to both processes.
   Messages are a realistic mix (access lines, JSON lines, Python log lines,
   multi-line tracebacks, ~1 % lines of 2–16 k characters).
b. **RSS after 1,000,000 lines.**  A headless app with a ``LogView`` of
   10,000 lines (the default) is fed 1,000,000 screen lines of the same mix
   (~560,000 events), one with 100,000 lines is fed 300,000; RSS before,
   after, and the peak; then the cost of rendering one
   whole frame (``render_line`` for every visible row), plain and in wrap
   mode after new lines (wrap re-indexes the buffer).
c. **End-to-end tail throughput against the simulator.**  N events are put
   into one group (4 streams, runs of 10 events sharing a millisecond) with
   boto3; a child process runs ``LogTail(...).updates()`` over an
   ``AwsSession`` (``live=False``, ``fill_limit`` ≥ N) and the bench times
   the delivery of all N, checking that each arrives exactly once (every
   message carries a ``req#<seq>`` marker).  Then a live phase: a writer
   process puts events at a fixed rate for a few seconds into a fresh group
   while the tail follows; delivered rate, put→delivery latency, dupes and
   missing.
d. **A peer client from PyPI**, ``awslogs get GROUP ALL [--watch]``, on the
   same simulator and the same groups, installed by this bench into a
   throwaway venv (``/tmp/awslogs-venv``) if missing; its stdout is read
   line by line.

Run alone: ``.venv/bin/python bench/run.py --sections logs [--quick]``; part a
or b only (a minute each, for before/after comparisons):
``.venv/bin/python bench/logs.py --part a [--rates 0,500,1000,2000] [--phase 4]``,
``.venv/bin/python bench/logs.py --part b [--rss-lines 1000000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AWSLOGS_VENV = Path(os.environ.get("SMTOP_BENCH_AWSLOGS_VENV", "/tmp/awslogs-venv"))
KEY = "T"
KEY_EVERY = 0.2
BUDGET_MS = 100.0
STREAMS = ("AllTraffic/i-0a1b2c3d4e5f60718", "AllTraffic/i-0b2c3d4e5f6071829", "AllTraffic/i-0c3d4e5f607182930", "AllTraffic/i-0d4e5f60718293a41")
MARKER = re.compile(r"req#(\d{7})")
REGION = "us-east-1"


def peak_rss() -> int:
    """This process's peak RSS in bytes: VmHWM belongs to this image (``ru_maxrss`` carries the parent's across fork)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------------------
# messages


class Messages:
    """A deterministic, realistic mix of container log messages."""

    PATHS = ("/invocations", "/invocations", "/invocations", "/ping")
    AGENTS = ("AHC/2.0", "python-requests/2.32.3", "Boto3/1.35.0 md/Botocore#1.35.0", "-")

    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ,:{}\"_-"
        self.filler = "".join(self.rng.choice(alphabet) for _ in range(20_000))

    def make(self, seq: int, ts: float) -> str:
        rng = self.rng
        r = rng.random()
        marker = f"req#{seq:07d}"
        if r < 0.60:
            clock = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(ts))
            status = 200 if rng.random() < 0.97 else rng.choice((400, 500, 503))
            return (
                f'10.2.{seq % 250}.{seq % 199} - - [{clock}] "POST {rng.choice(self.PATHS)} HTTP/1.1" {status} '
                f'{rng.randint(80, 4000)} "-" "{rng.choice(self.AGENTS)}" {rng.uniform(3, 900):.1f} {marker}'
            )
        if r < 0.80:
            level = "INFO" if rng.random() < 0.9 else rng.choice(("WARNING", "ERROR"))
            return json.dumps(
                {
                    "timestamp": ts,
                    "level": level,
                    "msg": "request completed",
                    "path": "/invocations",
                    "status": 200,
                    "latency_ms": round(rng.uniform(5, 2000), 1),
                    "tokens": rng.randint(10, 900),
                    "request_id": marker,
                }
            )
        if r < 0.93:
            return (
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(ts))},{int(ts * 1000) % 1000:03d} INFO [inference] "
                f"request_id={marker} status=200 latency_ms={rng.uniform(50, 900):.1f} batch={rng.randint(1, 32)}"
            )
        if r < 0.99:
            depth = rng.randint(3, 8)
            frames = "\n".join(
                f'  File "/opt/ml/code/inference.py", line {rng.randint(10, 400)}, in handler_{i}\n    out = model(batch[{i}])'
                for i in range(depth)
            )
            return (
                f"ERROR [inference] {marker} prediction failed\nTraceback (most recent call last):\n{frames}\n"
                f"torch.OutOfMemoryError: CUDA out of memory. Tried to allocate {rng.randint(2, 900)} MiB"
            )
        start = rng.randrange(0, 4_000)
        length = rng.randint(2_000, 16_000)
        return f"DEBUG payload {marker} " + self.filler[start : start + length]


def make_events(count: int, *, start_seq: int = 0, t0: float | None = None, per_ms: int = 10, seed: int = 11):
    """``count`` LogEvents on STREAMS, ``per_ms`` consecutive events per stream sharing a millisecond."""
    from smtop.models import LogEvent

    messages = Messages(seed)
    t0 = time.time() - 300 if t0 is None else t0
    out = []
    for i in range(count):
        seq = start_seq + i
        ts = round(t0 + (i // per_ms) * 0.001, 3)
        out.append(LogEvent(timestamp=ts, message=messages.make(seq, ts), stream=STREAMS[(i // per_ms) % len(STREAMS)], event_id=str(seq)))
    return out


# ---------------------------------------------------------------------------
# a. panel ingest vs key latency (child: the app under a pty)


def _panel_child(args: argparse.Namespace) -> None:
    from textual.app import App, ComposeResult

    from smtop.models import LogEvent, TailUpdate
    from smtop.ui.app import freeze_startup_heap
    from smtop.ui.widgets.log_panel import LogPanel

    # The pool holds plain tuples, which the garbage collector does not track:
    # a real tail makes its LogEvents as they arrive and keeps none beyond
    # what the view holds, so neither may the bench (100,000 pooled events
    # would make each full collection several times longer than the app's own).
    pool = [(e.timestamp, e.message, e.stream, e.event_id) for e in make_events(args.pool)]
    rates = [int(r) for r in args.rates.split(",")]
    record: dict = {"phases": [], "actions": [], "frames": 0}

    class PanelBench(App):
        CSS = "LogPanel { height: 1fr; border: round $accent; }"

        def __init__(self) -> None:
            super().__init__()
            self._waiting: list[int] = []
            self._frames = 0

        def compose(self) -> ComposeResult:
            yield LogPanel(id="logs")

        def on_mount(self) -> None:
            panel = self.query_one(LogPanel)
            view = panel.view
            view.focus()
            original = view.action_toggle_timestamps

            def timed_toggle() -> None:
                record["actions"].append([time.perf_counter(), None])
                self._waiting.append(len(record["actions"]) - 1)
                original()

            view.action_toggle_timestamps = timed_toggle  # the binding looks the action up on the instance
            freeze_startup_heap()  # as smtop does after its first data
            self.run_worker(self._feed(panel), exclusive=True)

        def _display(self, screen, renderable) -> None:
            super()._display(screen, renderable)
            if renderable is not None and not self._batch_count:
                self._frames += 1
                if self._waiting:
                    now = time.perf_counter()
                    for index in self._waiting:
                        record["actions"][index][1] = now
                    self._waiting.clear()

        async def _batch(self, start: int, count: int) -> tuple:
            """``count`` LogEvents made from the pool, a thousand at a time with
            the loop free in between, as the tail makes them page by page."""
            events: list[LogEvent] = []
            for first in range(start, start + count, 1_000):
                events.extend(LogEvent(*pool[i % len(pool)]) for i in range(first, min(first + 1_000, start + count)))
                await asyncio.sleep(0)
            return tuple(events)

        async def _feed(self, panel: LogPanel) -> None:
            await asyncio.sleep(args.warmup)
            cursor = 0
            for rate in rates:
                last = record["phases"][-1] if record["phases"] else None
                if last and last["handled"] < 0.5 * last["rate"] * (last["end"] - last["start"]):
                    record["skipped"] = record.get("skipped", []) + [rate]
                    continue
                per_batch = round(rate * args.interval)
                began = time.perf_counter()
                cpu0, frames0, received0 = time.process_time(), self._frames, panel.received
                posted, batches, next_at = 0, 0, began
                chunk = await self._batch(cursor, per_batch)
                while time.perf_counter() - began < args.phase:
                    if not per_batch:  # the idle reference: keys only
                        await asyncio.sleep(args.phase)
                        continue
                    panel.post_message(LogPanel.Tailed(panel._generation, TailUpdate("/bench/panel", chunk)))  # noqa: SLF001
                    cursor = (cursor + per_batch) % len(pool)
                    posted += per_batch
                    batches += 1
                    next_at += args.interval
                    chunk = await self._batch(cursor, per_batch)  # the next one, while this one is taken in
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                ended = time.perf_counter()
                handled = panel.received - received0
                # Whatever is still queued: how far behind the panel is.
                while panel.received - received0 < posted and time.perf_counter() - ended < 30:
                    await asyncio.sleep(0.01)
                record["phases"].append(
                    {
                        "rate": rate,
                        "start": began,
                        "end": ended,
                        "posted": posted,
                        "handled": handled,
                        "batches": batches,
                        "batch": per_batch,
                        "backlog_s": time.perf_counter() - ended,
                        "cpu_s": time.process_time() - cpu0,
                        "frames": self._frames - frames0,
                        "lines": len(panel.view.lines),
                    }
                )
            await asyncio.sleep(0.5)
            record["frames"] = self._frames
            record["maxrss_kb"] = peak_rss() // 1024
            Path(args.out).write_text(json.dumps(record))
            self.exit()

    PanelBench().run()


@dataclass
class PanelPhase:
    rate: int
    batch: int
    seconds: float
    posted: int
    handled: int
    backlog_s: float
    cpu_s: float
    frames: int
    latencies_ms: list[float]
    lost_keys: int

    @property
    def achieved(self) -> float:
        return self.handled / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float | None:
        return _percentile(self.latencies_ms, q)


def measure_panel(rates: list[int], phase: float, interval: float, log=print) -> tuple[list[PanelPhase], dict]:
    sys.path.insert(0, str(HERE))
    from ptyproc import PtyProcess, shows

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    pool = max(20_000, int(max(rates) * interval) + 1)
    argv = [
        sys.executable, str(Path(__file__)), "--child", "panel", "--out", out, "--rates", ",".join(map(str, rates)),
        "--phase", str(phase), "--interval", str(interval), "--pool", str(pool), "--warmup", "1.0",
    ]
    log(f"  logs: panel under a pty, {len(rates)} rates × {phase:g} s …")
    terminal = PtyProcess(argv)
    sent: list[float] = []
    try:
        if terminal.wait_for(shows("LOGS"), 60) is None:
            raise RuntimeError("the panel bench app never painted its panel")
        deadline = time.perf_counter() + len(rates) * (phase + 35) + 10
        next_key = time.perf_counter()
        while terminal.popen.poll() is None and time.perf_counter() < deadline:
            now = time.perf_counter()
            if now >= next_key:
                sent.append(time.perf_counter())
                os.write(terminal._master, KEY.encode())  # noqa: SLF001 - the bench's own pty
                next_key += KEY_EVERY
            terminal.drain(max(0.0, min(0.05, next_key - time.perf_counter())))
    finally:
        terminal.quit(b"")
    try:
        record = json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)
    actions = record["actions"]
    # Keys are handled in order: the i-th action is the i-th key written.
    phases = []
    for p in record["phases"]:
        lat, lost = [], 0
        for index, at in enumerate(sent):
            if not p["start"] <= at < p["end"]:
                continue
            if index >= len(actions) or actions[index][1] is None:
                lost += 1
                continue
            lat.append((actions[index][1] - at) * 1000)
        phases.append(
            PanelPhase(p["rate"], p["batch"], p["end"] - p["start"], p["posted"], p["handled"], p["backlog_s"],
                       p["cpu_s"], p["frames"], lat, lost)
        )
    extra = {"keys_sent": len(sent), "keys_handled": len(actions), "maxrss_mb": record.get("maxrss_kb", 0) / 1024,
             "skipped": record.get("skipped", [])}
    return phases, extra


PANEL_HEADERS = (
    "target ev/s", "events/batch", "achieved ev/s", "backlog at end s", "app CPU %", "frames/s",
    "keys", "key p50 ms", "key p99 ms", "key max ms", f"p99 < {BUDGET_MS:g} ms",
)


def panel_rows(phases: list[PanelPhase]) -> list[list[object]]:
    rows = []
    for p in phases:
        p99 = p.pct(99)
        rows.append(
            [
                p.rate, p.batch, p.achieved, p.backlog_s, 100 * p.cpu_s / p.seconds if p.seconds else None,
                p.frames / p.seconds if p.seconds else None,
                f"{len(p.latencies_ms)}" + (f" (+{p.lost_keys} lost)" if p.lost_keys else ""),
                p.pct(50), p99, max(p.latencies_ms) if p.latencies_ms else None,
                "yes" if p99 is not None and p99 < BUDGET_MS and not p.lost_keys else "**no**",
            ]
        )
    return rows


def best_rate(phases: list[PanelPhase]) -> PanelPhase | None:
    """The highest rate whose key p99 stayed under budget and that the panel kept up with."""
    ok = [
        p for p in phases
        if p.rate and p.latencies_ms and not p.lost_keys and (p.pct(99) or 0) < BUDGET_MS and p.achieved >= 0.9 * p.rate
    ]
    return max(ok, key=lambda p: p.rate) if ok else None


# ---------------------------------------------------------------------------
# b. RSS after 1M lines (child: headless app)


def _rss_child(args: argparse.Namespace) -> None:
    import gc

    import psutil
    from textual.app import App, ComposeResult

    from smtop.ui.widgets.log_view import LogView

    me = psutil.Process()
    result: dict = {"capacity": args.capacity}

    class Holder(App):
        def compose(self) -> ComposeResult:
            yield LogView(args.capacity)

    async def main() -> None:
        app = Holder()
        async with app.run_test(size=(120, 40)) as pilot:
            view = app.query_one(LogView)
            await pilot.pause()
            gc.collect()
            result["rss_before"] = me.memory_info().rss
            messages = Messages(5)
            t0 = time.time() - 3600
            done, lines, feed_s, batch = 0, 0, 0.0, 10_000
            from smtop.models import LogEvent

            while lines < args.lines:
                n = min(batch, max(1, (args.lines - lines) * 10 // 18))
                events = []
                for i in range(done, done + n):
                    ts = round(t0 + i * 0.001, 3)
                    events.append(LogEvent(ts, messages.make(i, ts), STREAMS[i % 4], str(i)))
                began = time.perf_counter()
                lines += view.add_events(events)
                feed_s += time.perf_counter() - began
                done += n
                del events
                if done // 100_000 != (done - n) // 100_000:
                    await pilot.pause()
            await pilot.pause()
            gc.collect()
            result.update(rss_after=me.memory_info().rss, lines=lines, events=done, buffered=len(view.lines), add_s=feed_s)
            height = view.scrollable_content_region.height

            def frame() -> None:
                for y in range(height):
                    view.render_line(y)

            result["frame_ms"] = _time_ms(frame, 200)
            view.follow = False
            view.cursor = len(view.lines) // 2
            view._scroll_to_cursor()  # noqa: SLF001 - render the middle of the buffer too
            await pilot.pause()
            result["frame_mid_ms"] = _time_ms(frame, 200)
            view.follow = True
            view.wrap = True
            await pilot.pause()
            result["wrap_frame_ms"] = _time_ms(frame, 200)

            def relayout_frame() -> None:
                view._layout_changed()  # noqa: SLF001 - what each batch of new lines triggers
                frame()

            result["wrap_relayout_ms"] = _time_ms(relayout_frame, 10)
            result["rows"] = height
        result["maxrss"] = peak_rss()

    asyncio.run(main())
    Path(args.out).write_text(json.dumps(result))


def _time_ms(fn, repeats: int) -> float:
    fn()  # warm caches
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def measure_rss(runs: list[tuple[int, int]], log=print) -> list[dict]:
    """One child per (buffer capacity, screen lines to feed), all at once (one core each; RSS is per process)."""
    from concurrent.futures import ThreadPoolExecutor

    log("  logs: RSS, " + " and ".join(f"{lines:,} lines into a LogView of {capacity:,}" for capacity, lines in runs) + " …")
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = [
            pool.submit(_run_child, ["--child", "rss", "--capacity", str(capacity), "--lines", str(lines)], 300)
            for capacity, lines in runs
        ]
        return [future.result() for future in futures]


RSS_HEADERS = (
    "buffer lines", "screen lines in", "events in", "add_events µs/event", "RSS before MB", "RSS after MB", "peak RSS MB",
    "frame ms (end)", "frame ms (middle)", "wrap frame ms", "wrap re-index + frame ms",
)


def rss_rows(results: list[dict]) -> list[list[object]]:
    return [
        [
            r["capacity"], r["lines"], r["events"], 1e6 * r["add_s"] / r["events"], r["rss_before"] / 2**20,
            r["rss_after"] / 2**20, r["maxrss"] / 2**20, r["frame_ms"], r["frame_mid_ms"], r["wrap_frame_ms"],
            r["wrap_relayout_ms"],
        ]
        for r in results
    ]


# ---------------------------------------------------------------------------
# c/d. end-to-end tails against the simulator


def _tail_child(args: argparse.Namespace) -> None:
    """smtop's LogTail, printing one ``t_arrival count`` line per update and a JSON summary at the end."""
    from datetime import timedelta

    from smtop.aws.logs.tail import LogTail
    from smtop.aws.session import AwsSession

    seen: list[tuple[str, float]] = []

    async def main() -> dict:
        began = time.perf_counter()
        async with AwsSession(region=REGION, endpoint_url=args.url) as aws:
            since = timedelta(seconds=max(1.0, time.time() - args.start))
            tail = LogTail(aws, args.group, since=since, live=False, fill_limit=max(args.expect, 10_000) + 100)
            first_event = None
            updates = tail.updates()
            deadline = began + args.deadline
            try:
                while time.perf_counter() < deadline:
                    try:
                        update = await asyncio.wait_for(updates.__anext__(), deadline - time.perf_counter())
                    except asyncio.TimeoutError:
                        break
                    now = time.perf_counter()
                    if update.events and first_event is None:
                        first_event = now
                    for event in update.events:
                        found = MARKER.search(event.message)
                        seen.append((found.group(1) if found else "?", now))
                    print(f"update {now:.6f} {len(update.events)}", flush=True)
                    if args.expect and len(seen) >= args.expect:
                        break
            finally:
                await updates.aclose()
            return {"stats": vars(tail.stats), "first_event": first_event, "began": began}

    summary = asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    summary.update(seen=seen, cpu=usage.ru_utime + usage.ru_stime, maxrss=peak_rss())
    Path(args.out).write_text(json.dumps(summary))


def _writer_child(args: argparse.Namespace) -> None:
    """Put ``rate`` events/s in ticks of 100 ms, ``seconds`` s worth; record when each put returned."""
    import boto3

    client = boto3.client("logs", region_name=REGION, endpoint_url=args.url)
    messages = Messages(23)
    tick, seq, ticks = 0.1, args.start_seq, []
    per_tick = max(1, round(args.rate * tick))
    began = time.perf_counter()
    next_at = began
    for n in range(max(1, round(args.seconds / tick))):
        ts = time.time()
        events = [{"timestamp": int(ts * 1000), "message": messages.make(seq + i, ts)} for i in range(per_tick)]
        client.put_log_events(logGroupName=args.group, logStreamName=STREAMS[n % len(STREAMS)], logEvents=events)
        ticks.append([seq, per_tick, time.perf_counter()])
        seq += per_tick
        next_at += tick
        time.sleep(max(0.0, next_at - time.perf_counter()))
    Path(args.out).write_text(json.dumps({"ticks": ticks, "seconds": time.perf_counter() - began}))


def _run_child(extra: list[str], timeout: float) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        done = subprocess.run([sys.executable, str(Path(__file__)), *extra, "--out", out], capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"bench child {extra[:2]} failed:\n{done.stderr[-3000:]}")
        return json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)


def ensure_awslogs(log=print) -> tuple[Path | None, str]:
    """The awslogs script of the throwaway venv, installing it there if missing; (None, why) if impossible."""
    script = AWSLOGS_VENV / "bin" / "awslogs"
    if script.exists():
        return script, _awslogs_version(script)
    log(f"  logs: installing awslogs from PyPI into {AWSLOGS_VENV} (a throwaway venv, not smtop's) …")
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(AWSLOGS_VENV)], check=True, capture_output=True, timeout=120)
        subprocess.run([str(AWSLOGS_VENV / "bin" / "pip"), "install", "-q", "awslogs"], check=True, capture_output=True, text=True, timeout=300)
    except (subprocess.SubprocessError, OSError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        log(f"  logs: could not install awslogs ({str(detail).strip()[-300:]}); the peer rows are skipped")
        return None, f"awslogs could not be installed: {str(detail).strip()[-200:]}"
    if not script.exists():
        return None, "awslogs installed no `awslogs` script"
    return script, _awslogs_version(script)


def _awslogs_version(script: Path) -> str:
    try:
        out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip() or "awslogs"
    except (subprocess.SubprocessError, OSError):
        return "awslogs"


@dataclass
class TailRun:
    client: str
    phase: str
    expected: int
    seen: list[tuple[str, float]] = field(default_factory=list)
    spawned: float = 0.0
    first_event: float | None = None
    last_event: float | None = None
    cpu_s: float | None = None
    maxrss: int | None = None
    sim_cpu_s: float | None = None
    put_times: dict[str, float] = field(default_factory=dict)
    put_seconds: float | None = None
    note: str = ""

    @property
    def distinct(self) -> set[str]:
        return {marker for marker, _ in self.seen}

    @property
    def dupes(self) -> int:
        return len(self.seen) - len(self.distinct)

    def missing(self, expected: set[str]) -> int:
        return len(expected - self.distinct)

    def latencies_ms(self) -> list[float]:
        first: dict[str, float] = {}
        for marker, at in self.seen:
            first.setdefault(marker, at)
        return [(first[m] - t) * 1000 for m, t in self.put_times.items() if m in first]


def _expected(start: int, count: int) -> set[str]:
    return {f"{seq:07d}" for seq in range(start, start + count)}


def _sim_cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def put_events(client, group: str, events) -> float:
    """Put LogEvents (ordered by time) per stream in batches of ≤ 10,000 events / ≤ 1 MB; returns seconds."""
    began = time.perf_counter()
    client.create_log_group(logGroupName=group)
    by_stream: dict[str, list] = {}
    for e in events:
        by_stream.setdefault(e.stream, []).append({"timestamp": int(round(e.timestamp * 1000)), "message": e.message})
    for stream, items in by_stream.items():
        client.create_log_stream(logGroupName=group, logStreamName=stream)
        batch, size = [], 0
        for item in items:
            cost = len(item["message"].encode()) + 26
            if batch and (len(batch) == 10_000 or size + cost > 1_000_000):
                client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
                batch, size = [], 0
            batch.append(item)
            size += cost
        if batch:
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
    return time.perf_counter() - began


def _smtop_tail(sim, group: str, start: float, expect: int, deadline: float, follow: bool, on_ready=None) -> TailRun:
    """Run the smtop tail child; ``on_ready`` is called after its first update (the fill)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    run = TailRun("smtop LogTail", "", expect)
    cpu0 = _sim_cpu(sim.pid)
    run.spawned = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--child", "tail", "--url", sim.url, "--group", group, "--start", repr(start),
         "--expect", str(expect), "--deadline", str(deadline), "--out", out, *(["--follow"] if follow else [])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready = False
        for line in child.stdout:
            if not ready and line.startswith("update"):
                ready = True
                if on_ready is not None:
                    on_ready()
        child.wait(30)
        if child.returncode:
            raise RuntimeError(f"smtop tail child failed:\n{child.stderr.read()[-3000:]}")
        summary = json.loads(Path(out).read_text())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        Path(out).unlink(missing_ok=True)
    run.sim_cpu_s = _sim_cpu(sim.pid) - cpu0
    run.seen = [tuple(s) for s in summary["seen"]]
    run.first_event = summary["first_event"]
    run.last_event = max((t for _, t in run.seen), default=None)
    run.cpu_s, run.maxrss = summary["cpu"], summary["maxrss"]
    return run


def _awslogs_tail(script: Path, sim, group: str, start: float, expect: int, deadline: float, follow: bool, on_ready=None,
                  ready_after: float = 2.0) -> TailRun:
    import psutil

    run = TailRun("awslogs", "", expect)
    start_text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    argv = [str(script), "get", group, "ALL", "-s", start_text, "--aws-endpoint-url", sim.url, "--aws-region", REGION, "--color", "never"]
    if follow:
        argv.append("--watch")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
               PYTHONUNBUFFERED="1", HOME=tempfile.gettempdir())
    cpu0 = _sim_cpu(sim.pid)
    run.spawned = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc = psutil.Process(child.pid)
    peak, cpu = [0], [0.0]
    errors: list[bytes] = []

    def read() -> None:
        for raw in child.stdout:
            now = time.perf_counter()
            for found in MARKER.finditer(raw.decode("utf-8", "replace")):
                run.seen.append((found.group(1), now))

    def read_err() -> None:
        errors.append(child.stderr.read())

    readers = [threading.Thread(target=read, daemon=True), threading.Thread(target=read_err, daemon=True)]
    for reader in readers:
        reader.start()
    ready_called = False
    end = run.spawned + deadline
    try:
        while time.perf_counter() < end and child.poll() is None:
            try:
                peak[0] = max(peak[0], proc.memory_info().rss)
                times = proc.cpu_times()
                cpu[0] = times.user + times.system
            except psutil.Error:
                break
            if on_ready is not None and not ready_called and time.perf_counter() - run.spawned >= ready_after:
                ready_called = True
                on_ready()
            if follow and expect and len(run.distinct) >= expect:
                break
            time.sleep(0.05)
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for reader in readers:
            reader.join(5)
    run.sim_cpu_s = _sim_cpu(sim.pid) - cpu0
    run.cpu_s, run.maxrss = cpu[0], peak[0]
    if run.seen:
        run.first_event, run.last_event = run.seen[0][1], max(t for _, t in run.seen)
    stderr = b"".join(errors).decode("utf-8", "replace").strip()
    if child.returncode not in (0, -15, None) and not run.seen:
        run.note = f"exited {child.returncode}: {stderr[-200:]}"
    return run


def measure_tails(events: int, live_rates: list[int], live_seconds: float, log=print) -> tuple[list[TailRun], dict]:
    import boto3

    sys.path.insert(0, str(HERE))
    from gmd import dummy_credentials

    from smtop.sim.process import spawn_sim

    info: dict = {}
    runs: list[TailRun] = []
    script, info["peer"] = ensure_awslogs(log)
    with dummy_credentials():
        os.environ["AWS_DEFAULT_REGION"] = REGION
        began = time.perf_counter()
        sim = spawn_sim(traffic=False, timeout=120)
        info["sim_ready_s"] = time.perf_counter() - began
        try:
            client = boto3.client("logs", region_name=REGION, endpoint_url=sim.url)
            # -- pre-put fill ----------------------------------------------------
            group = "/bench/fill"
            t0 = time.time() - 240
            log(f"  logs: putting {events:,} events into {group} …")
            pre = make_events(events, t0=t0)
            info["put_s"] = put_events(client, group, pre)
            info["put_bytes"] = sum(len(e.message.encode()) for e in pre)
            info["multi_line"] = sum("\n" in e.message for e in pre)
            del pre
            expected = _expected(0, events)
            log("  logs: smtop LogTail reads them …")
            run = _smtop_tail(sim, group, t0 - 5, events, deadline=120, follow=False)
            run.phase, run.put_times = f"fill {events:,}", {}
            runs.append(run)
            run.expected_set = expected  # type: ignore[attr-defined]
            if script is not None:
                log("  logs: awslogs get reads them …")
                peer = _awslogs_tail(script, sim, group, t0 - 5, events, deadline=120, follow=False)
                peer.phase = f"fill {events:,}"
                peer.expected_set = expected  # type: ignore[attr-defined]
                runs.append(peer)
            # -- live ------------------------------------------------------------
            seq = 1_000_000
            for rate in live_rates:
                for name in ("smtop", "awslogs"):
                    if name == "awslogs" and script is None:
                        continue
                    group = f"/bench/live-{name}-{rate}"
                    client.create_log_group(logGroupName=group)
                    for stream in STREAMS:
                        client.create_log_stream(logGroupName=group, logStreamName=stream)
                    count = max(1, round(rate * 0.1)) * int(round(live_seconds / 0.1))
                    log(f"  logs: live, {name} follows while {rate:,} events/s are put for {live_seconds:g} s …")
                    writer: dict = {}

                    def start_writer(group=group, seq=seq, rate=rate, writer=writer) -> None:
                        thread = threading.Thread(target=lambda: writer.update(_run_writer(sim.url, group, seq, rate, live_seconds)))
                        writer["thread"] = thread
                        thread.start()

                    start = time.time() - 1
                    grace = 10.0  # after the writer's last put; smtop polls every 2 s, awslogs every 1 s
                    if name == "smtop":
                        run = _smtop_tail(sim, group, start, count, deadline=live_seconds + grace + 3, follow=True,
                                          on_ready=start_writer)
                    else:
                        run = _awslogs_tail(script, sim, group, start, count, deadline=live_seconds + grace + 2.5, follow=True,
                                            on_ready=start_writer)
                    writer["thread"].join(live_seconds + 30)
                    run.phase = f"live {rate:,}/s × {live_seconds:g} s"
                    run.put_times = {}
                    for first, n, at in writer.get("ticks", []):
                        for s in range(first, first + n):
                            run.put_times[f"{s:07d}"] = at
                    run.put_seconds = writer.get("seconds")
                    run.expected_set = set(run.put_times)  # type: ignore[attr-defined]
                    run.expected = len(run.put_times)
                    runs.append(run)
                    seq += count + 1000
        finally:
            sim.stop()
    return runs, info


def _run_writer(url: str, group: str, start_seq: int, rate: int, seconds: float) -> dict:
    return _run_child(["--child", "writer", "--url", url, "--group", group, "--start-seq", str(start_seq), "--rate", str(rate),
                       "--seconds", str(seconds)], timeout=seconds + 60)


TAIL_HEADERS = (
    "client", "phase", "events expected", "delivered", "dupes", "missing", "spawn → first event s", "spawn → last event s",
    "events/s", "put→shown p50 ms", "put→shown p99 ms", "client CPU s", "sim CPU s", "peak RSS MB",
)


def tail_rows(runs: list[TailRun]) -> list[list[object]]:
    rows = []
    for r in runs:
        expected = getattr(r, "expected_set", set())
        to_last = (r.last_event - r.spawned) if r.last_event is not None else None
        if r.put_times:
            lat = r.latencies_ms()
            rate = len(r.distinct & expected) / r.put_seconds if r.put_seconds else None
            p50, p99 = _percentile(lat, 50), _percentile(lat, 99)
        else:
            rate = (len(r.distinct & expected) / to_last) if to_last else None
            p50 = p99 = None
        rows.append(
            [
                r.client + (f" ({r.note})" if r.note else ""), r.phase, len(expected), len(r.seen), r.dupes, r.missing(expected),
                (r.first_event - r.spawned) if r.first_event is not None else None, to_last, rate, p50, p99,
                r.cpu_s, r.sim_cpu_s, (r.maxrss or 0) / 2**20 if r.maxrss else None,
            ]
        )
    return rows


# ---------------------------------------------------------------------------
# the section


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure(opts: dict, log=print) -> dict:
    results: dict = {"opts": opts}
    results["panel"], results["panel_info"] = measure_panel(opts["log_rates"], opts["log_phase"], opts["log_interval"], log=log)
    results["rss"] = measure_rss(opts["log_rss"], log=log)
    results["tails"], results["tail_info"] = measure_tails(opts["log_events"], opts["log_live_rates"], opts["log_live_seconds"], log=log)
    return results


def render(results: dict, table) -> str:
    opts = results["opts"]
    phases = results["panel"]
    best = best_rate(phases)
    info = results["panel_info"]
    tail_info = results["tail_info"]
    parts = ["## Logs: panel ingest, memory, tail throughput\n"]
    parts.append(
        "### a. Panel ingest vs key latency (real `LogPanel` in a Textual app on a 120×40 pty)\n\n"
        + table(PANEL_HEADERS, panel_rows(phases))
        + "\n\n"
        + f"- **Highest rate with key p99 < {BUDGET_MS:g} ms while keeping up: "
        + (f"{best.rate:,} events/s**" if best else "none of the rates measured**")
        + f" (batches every {opts['log_interval']:g} s; {opts['log_phase']:g} s per rate; rate 0 = no ingest, the reference"
        + (f"; not run, the panel was saturated below them: {', '.join(f'{r:,}' for r in info['skipped'])} events/s" if info["skipped"] else "")
        + ").\n"
        f"- Key = `{KEY}` (toggle the time column) written to the pty every {KEY_EVERY * 1000:.0f} ms; latency = from the write "
        "to the end of the first frame the app wrote after the action ran. `lost` = keys whose action had not run and been "
        "painted by the end of the phase.\n"
        "- achieved = events the panel handled during the phase / phase time; backlog = seconds it still needed after the "
        "feeder stopped (0 = kept up); app CPU % = the app process's CPU time / wall time (100 % = one core).\n"
        f"- Each batch is one `LogPanel.Tailed` message, what the tail worker posts; the feeder runs on the app's loop "
        "and makes each batch's `LogEvent`s while the previous one is taken in (1,000 at a time), as the tail does; "
        "its pool of messages is plain tuples the garbage collector does not walk. "
        f"Mix: ~60 % access lines, 20 % JSON, 13 % Python log lines, 6 % tracebacks (4–9 screen lines), 1 % lines of "
        f"2–16 k characters. Peak RSS of the app: {info['maxrss_mb']:.0f} MB.\n"
    )
    parts.append(
        f"### b. RSS after {max(lines for _, lines in opts['log_rss']):,} screen lines through `LogView` (headless app, one process each)\n\n"
        + table(RSS_HEADERS, rss_rows(results["rss"]))
        + "\n\n"
        "- frame = `render_line` for every visible row (median of 200), at the end of the buffer and in its middle; wrap "
        "re-index + frame = what the first frame after each batch costs in wrap mode (`_layout_changed` rebuilds the "
        "wrap index over the whole buffer), median of 10.\n"
        "- RSS after = after a `gc.collect()`; peak = the process's VmHWM (includes generating the events). "
        "Same message mix as in a. (tracebacks make ~1.8 screen lines per event); the processes ran side by side, one core each.\n"
    )
    peer = tail_info.get("peer", "")
    parts.append(
        "### c/d. End-to-end tail against the simulator: smtop `LogTail` vs a PyPI peer\n\n"
        + table(TAIL_HEADERS, tail_rows(results["tails"]))
        + "\n\n"
        f"- Peer: `{peer}` (`awslogs get GROUP ALL -s <start> [--watch] --aws-endpoint-url <sim>`), from a throwaway venv "
        f"at {AWSLOGS_VENV}; its stdout is read line by line by the bench. "
        "awscli v1 (the only awscli on PyPI) has no `aws logs tail`; that is awscli v2, not on PyPI.\n"
        f"- fill: {opts['log_events']:,} events ({tail_info.get('put_bytes', 0) / 2**20:.1f} MB, "
        f"{tail_info.get('multi_line', 0):,} multi-line) put beforehand on 4 streams, 10 consecutive events per stream "
        f"sharing a millisecond (put took {tail_info.get('put_s', 0):.1f} s); smtop: `LogTail(live=False, "
        f"fill_limit≥N)` in a child process: the fill arrives as one update once every page is read, so its first and "
        "last event arrive together; awslogs prints page by page. events/s = distinct events / (spawn → last event), "
        "client start-up (interpreter, imports, client) included for both.\n"
        "- live: a writer process puts events every 100 ms (all of one put sharing its millisecond, streams in turn) "
        f"into a fresh group for {opts['log_live_seconds']:g} s once the client is up; put→shown = from the put call "
        "returning to the client delivering the event (smtop: the update yielded; awslogs: the line read from its "
        "stdout). events/s = distinct events delivered / writer time. smtop polls every 2 s (its default), awslogs every 1 s.\n"
        f"- Simulator ready in {tail_info.get('sim_ready_s', 0):.1f} s; sim CPU = the simulator's CPU time during that run.\n"
    )
    return "\n".join(parts)


# ---------------------------------------------------------------------------


def _child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True, choices=("panel", "rss", "tail", "writer"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--rates", default="1000")
    parser.add_argument("--phase", type=float, default=3.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--pool", type=int, default=20_000)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--capacity", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--url")
    parser.add_argument("--group")
    parser.add_argument("--start", type=float)
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=60.0)
    parser.add_argument("--follow", action="store_true")
    parser.add_argument("--start-seq", type=int, default=0)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    if args.child in ("tail", "writer"):
        os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION,
                          AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    {"panel": _panel_child, "rss": _rss_child, "tail": _tail_child, "writer": _writer_child}[args.child](args)


def _part_main(argv: list[str]) -> None:
    """Parts a and/or b alone, for quick before/after comparisons:
    ``.venv/bin/python bench/logs.py --part a --rates 0,500,1000,2000 --phase 4``."""
    from report import table

    parser = argparse.ArgumentParser()
    parser.add_argument("--part", action="append", choices=("a", "b"), required=True)
    parser.add_argument("--rates", default="0,500,1000,2000,5000,10000,20000,50000,100000")
    parser.add_argument("--phase", type=float, default=4.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--rss-lines", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if "a" in args.part:
        phases, info = measure_panel([int(r) for r in args.rates.split(",")], args.phase, args.interval)
        print(table(PANEL_HEADERS, panel_rows(phases)))
        print(f"peak RSS {info['maxrss_mb']:.0f} MB; skipped {info['skipped']}")
    if "b" in args.part:
        print(table(RSS_HEADERS, rss_rows(measure_rss([(10_000, args.rss_lines)]))))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    (_child_main if "--child" in sys.argv else _part_main)(sys.argv[1:])
