"""``smtop sim``: moto's server, patched where it falls short, with a live demo fleet.

Startup order matters: patches first (before the first request), then the
HTTP server, then the fleet created over HTTP, then the backfill, and only
then the single "listening" line, so whoever waits for that line (the
console's ``--demo``, the tests) finds a fully populated account.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import sys
import threading
import time

from smtop.config.argtypes import bounded

READY_PREFIX = "smtop sim listening on "
"""The stdout line that tells a parent process the simulator is ready."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smtop sim",
        description=(
            "Run the local AWS simulator (SageMaker, CloudWatch and friends) with a demo fleet "
            "of endpoints and live traffic. Any credentials are accepted; the fleet is in us-east-1."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=5000, help="port to listen on; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--no-traffic", dest="traffic", action="store_false", help="no live traffic: only the backfilled history")
    parser.add_argument("--seed", type=int, default=None, help="seed of the simulated history (default: random)")
    parser.add_argument("--now", type=float, default=None, metavar="EPOCH", help="start the simulated clock at this epoch (default: wall clock)")
    parser.add_argument("--no-fleet", dest="fleet", action="store_false", help="start empty: no demo endpoints, no metrics")
    parser.add_argument(
        "--synthetic-endpoints", type=_endpoint_count, default=0, metavar="N",
        help="instead of the demo fleet, N generated endpoints with 3 h of metrics (for benchmarks)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--fault", action="append", default=[], type=_fault_rule, metavar="SPEC",
        help="start with a fault, e.g. throttle:cloudwatch,share=0.3 or deny:logs:FilterLogEvents "
        "(kinds: throttle, deny, expired, unsupported, latency, drop; repeatable; POST /_smtop/faults changes them later)",
    )
    parser.add_argument(
        "--speed", type=_speed, default=1.0, metavar="FACTOR",
        help="simulated seconds per real second, e.g. 480 runs a day in 3 minutes (soak runs; default 1)",
    )
    # Used by SimProcess: exit when the parent closes our stdin (it died or is done).
    parser.add_argument("--exit-with-stdin", action="store_true", help=argparse.SUPPRESS)
    return parser


# MAX_SYNTHETIC_ENDPOINTS of smtop.sim.synthetic (not imported: it imports moto).
_endpoint_count = bounded(int, 0, 10_000, what="a whole number", name="--synthetic-endpoints")
_port = bounded(int, 0, 65535, what="a port number", name="--port")
_speed = bounded(float, 0, 10_000, what="a number", name="--speed", low_inclusive=False)


def _fault_rule(text: str):
    from smtop.sim.faults import FaultSpecError, parse_fault_spec

    try:
        return parse_fault_spec(text)
    except FaultSpecError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGINT/SIGTERM (or stdin EOF with ``--exit-with-stdin``).

    Args:
        argv: Arguments after ``smtop sim``; ``None`` reads ``sys.argv``.

    Returns:
        The process exit code: 0 after a clean stop, 1 when it could not start.
    """
    args = build_parser().parse_args(argv)
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    previous = _interrupt_on_sigterm()
    sim = Simulator(host=args.host, port=args.port, seed=args.seed, now=args.now, speed=args.speed)
    code = 0
    try:
        sim.start(fleet=args.fleet, traffic=args.traffic, synthetic=args.synthetic_endpoints)
        for rule in args.fault:  # after seeding: the fleet is created over HTTP
            sim.faults.add(rule)
        print(f"{READY_PREFIX}{sim.url}", flush=True)
        print(
            f"  try: AWS_ENDPOINT_URL={sim.url} AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x "
            "aws --region us-east-1 sagemaker list-endpoints   (any credentials are accepted; Ctrl-C stops)",
            flush=True,
        )
        finished = threading.Event()
        if args.exit_with_stdin:
            threading.Thread(target=_wait_for_stdin_eof, args=(finished,), daemon=True).start()
        # A timed wait keeps the main thread returning to the interpreter, where
        # the SIGINT/SIGTERM handlers run.
        while not finished.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(f"smtop sim: {error}", file=sys.stderr)
        code = 1
    finally:
        # A second Ctrl-C while shutting down must not end in a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            sim.stop()
        finally:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])
    return code


class Simulator:
    """The simulator inside one process: patched moto server, fleet and traffic.

    Args:
        host: Address to listen on.
        port: Port; 0 picks a free one.
        seed: Seed of the simulated history; ``None`` picks one at random.
        speed: Simulated seconds per wall second (soak runs).
        now: Epoch the simulated clock starts at; ``None`` follows the wall clock.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None, now: float | None = None, speed: float = 1.0
    ) -> None:
        from smtop.sim.clock import SimClock
        from smtop.sim.cloudtrail import Trail

        self.host = host
        self.port = port
        self.seed = random.SystemRandom().randrange(2**31) if seed is None else seed
        # The fleet's history ends exactly here: with --now, reproducible to the byte.
        self.started_at = time.time() if now is None else float(now)
        self.clock = SimClock(self.started_at, speed=speed)
        self.trail = Trail(self.clock, self.seed)
        """The CloudTrail history: calls recorded by the server, and the people's."""
        self._server = None
        self._traffic = None
        self._people = None
        self.stores = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def faults(self):
        """The running server's :class:`smtop.sim.faults.FaultInjector`."""
        return self._server.faults

    def start(self, fleet: bool = True, traffic: bool = True, synthetic: int = 0) -> None:
        """Patch moto, listen, then seed the fleet and its history.

        Args:
            fleet: Seed a fleet at all.
            traffic: Keep writing live traffic after the backfill.
            synthetic: When above 0, seed this many generated endpoints
                (:mod:`smtop.sim.synthetic`) instead of the demo fleet.

        Raises:
            OSError: The address could not be bound (e.g. the port is in use).
            ValueError: ``synthetic`` is out of range.
        """
        from smtop.sim.patches import install_all

        self.stores = install_all(self.clock, self.trail)
        self._server = _MotoHttpServer(self.host, self.port, seed=self.seed, trail=self.trail, clock=self.clock)
        self.host, self.port = self._server.address
        self._server.start()
        if fleet and synthetic > 0:
            self._seed_synthetic(synthetic, traffic)
        elif fleet:
            self._seed_fleet(traffic)

    def _seed_fleet(self, traffic: bool) -> None:
        from smtop.sim.fleet import DEMO_FLEET, seed_fleet
        from smtop.sim.logs import ContainerLogs
        from smtop.sim.people import LivePeople, backfill_people
        from smtop.sim.traffic import LiveTraffic, TrafficModel, backfill

        now = self.started_at
        seed_fleet(self.url, self.clock, now, DEMO_FLEET)
        store = self.stores.get()
        model = TrafficModel(DEMO_FLEET, self.seed)
        logs = ContainerLogs(model)
        backfill(store, model, now)
        logs.backfill(now)
        _seed_alarms(self.url, self.clock, now)
        backfill_people(self.url, self.clock, self.trail, model, now)
        if traffic:
            self._traffic = LiveTraffic(store, model, self.clock.time, since=now, logs=logs.write)
            self._traffic.start()
            self._people = LivePeople(self.url, model, self.clock.time, since=now)
            self._people.start()

    def _seed_synthetic(self, count: int, traffic: bool) -> None:
        from smtop.sim.synthetic import backfill_synthetic, create_endpoints, synthetic_fleet
        from smtop.sim.traffic import LiveTraffic, TrafficModel

        now = self.started_at
        fleet = synthetic_fleet(count, self.seed)
        create_endpoints(fleet, self.clock, now)
        store = self.stores.get()
        backfill_synthetic(store, fleet, now, self.seed)
        if traffic:
            self._traffic = LiveTraffic(store, TrafficModel(fleet, self.seed), self.clock.time, since=now)
            self._traffic.start()

    def stop(self) -> None:
        """Stop the traffic and the HTTP server."""
        if self._traffic is not None:
            self._traffic.stop()
            self._traffic.join(timeout=5)
        if self._people is not None:
            self._people.stop()
            self._people.join(timeout=5)
        if self._server is not None:
            self._server.stop()


class _MotoHttpServer:
    """moto's WSGI app on a threaded werkzeug server, bound in the caller's thread.

    moto's ThreadedMotoServer binds inside its thread: when the port is taken
    the error stays there and ``start()`` waits forever.  Binding here first
    turns that into an OSError the command reports.
    """

    def __init__(self, host: str, port: int, seed: int = 0, trail=None, clock=None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        from smtop.sim.clock import HeldClockScope
        from smtop.sim.cloudtrail import FLEET_BOOTSTRAP, TrailRecorder
        from smtop.sim.faults import FaultInjector
        from smtop.sim.live_tail import LiveTailStreamer
        from smtop.sim.people import PEOPLE
        from smtop.sim.sso import SsoPortal, keeping_bearer_token

        app = _cached_dispatcher(DomainDispatcherApplication)(create_backend_app)
        if trail is not None:  # CloudTrail records the calls that reach the service (smtop/sim/cloudtrail.py)
            app = TrailRecorder(app, trail)
        if clock is not None:  # the seeders' requests, at their held moments (smtop/sim/clock.py)
            app = HeldClockScope(app, clock)
        app = SsoPortal(app)  # SSO profiles sign in here (moto has no SSO portal)
        # StartLiveTail's answer becomes a long event stream, written by the
        # request's own thread (smtop/sim/live_tail.py); the recorder inside sees
        # the short answer, the faults outside hit the call.
        self.live_tail = app = LiveTailStreamer(app, clock.time if clock is not None else time.time)
        # Outermost: faults hit a call before anything else sees it (smtop/sim/faults.py).
        own_keys = frozenset(p.access_key_id for p in (FLEET_BOOTSTRAP, *PEOPLE))
        self.faults = FaultInjector(app, seed=seed, outage=self.outage, own_keys=own_keys)
        # POST /_smtop/alarms/evaluate (tests): answered before the faults' own /_smtop/ routes.
        self._app = __import__("smtop.sim.patches.alarms", fromlist=["evaluation_route"]).evaluation_route(self.faults)
        self._app = self.live_tail.stats_route(self._app)  # GET /_smtop/live-tail
        self._handler = keeping_bearer_token(MotoRequestHandler)
        self._restart_lock = threading.Lock()
        self._server = self._bind(host, port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="smtop-sim-http", daemon=True)

    def _bind(self, host: str, port: int):
        from werkzeug.serving import make_server

        try:
            return make_server(host, port, self._app, threaded=True, request_handler=self._handler)
        except SystemExit as exit_:  # werkzeug prints the reason, then exits
            raise OSError(f"cannot listen on {host}:{port}") from exit_

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.live_tail.close_all()  # open Live Tail streams end; their threads return
        with self._restart_lock:
            if self._thread.is_alive():
                self._server.shutdown()
                self._thread.join()
            self._server.server_close()

    def outage(self, seconds: float) -> None:
        """Stop listening for ``seconds`` (connections are refused), then listen
        again on the same port; moto's state lives in this process and stays."""
        with self._restart_lock:
            host, port = self.address
            if self._thread.is_alive():
                self._server.shutdown()
                self._thread.join()
            self._server.server_close()
            time.sleep(seconds)
            self._server = self._bind(host, port)
            self._thread = threading.Thread(target=self._server.serve_forever, name="smtop-sim-http", daemon=True)
            self._thread.start()


def _cached_dispatcher(base: type) -> type:
    """moto's dispatcher, remembering which backend serves a host.

    moto lists its own package directory (~200 entries, an ``isdir`` each) on
    every request to find the backend for a Host header: about a sixth of
    the simulator's time per call.  A host always maps to the same backend.
    """

    class CachedDispatcher(base):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._backend_by_host: dict[str | None, object] = {}

        def get_backend_for_host(self, host):
            try:
                return self._backend_by_host[host]
            except KeyError:
                backend = self._backend_by_host[host] = super().get_backend_for_host(host)
                return backend

    return CachedDispatcher


def _seed_alarms(url: str, clock, now: float) -> None:
    """The demo's alarms and topics, then their evaluation over the backfilled past
    (alarms need no thread: they catch up whenever someone reads them)."""
    from moto.core import DEFAULT_ACCOUNT_ID

    from smtop.sim.fleet import ALARM_HISTORY_SECONDS, REGION, seed_alarms
    from smtop.sim.patches.alarms import engine

    seed_alarms(url, clock, now)
    engine().replay(DEFAULT_ACCOUNT_ID, REGION, since=now - ALARM_HISTORY_SECONDS)


def _interrupt_on_sigterm():
    """Make SIGTERM stop the simulator the way Ctrl-C does; return the old handlers."""

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    previous = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    return previous


def _wait_for_stdin_eof(finished: threading.Event) -> None:
    # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader
    # makes interpreter shutdown abort ("could not acquire lock … at shutdown").
    try:
        while os.read(sys.stdin.fileno(), 4096):
            pass
    except (OSError, ValueError):
        pass
    finished.set()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
