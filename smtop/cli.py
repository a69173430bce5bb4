"""Command line → settings → the console, batch mode or the simulator.

Imports of Textual, aiobotocore and moto are deferred to the branch that needs
them: `smtop --help` and `smtop --version` answer without paying for them.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import asyncio
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, AsyncIterator, Sequence
from urllib.parse import urlsplit

from smtop import __version__
from smtop.config.argtypes import bounded
from smtop.clock import Clock, SystemClock
from smtop.errors import SmtopError
from smtop.config.file import GLYPHS, ConfigFile, config_path, load_config
from smtop.config.settings import DEFAULT_LIVE_TAIL_IDLE, DEFAULT_REFRESH, DEMO_REFRESH, Settings

if TYPE_CHECKING:  # imported for real only when the console starts (aiobotocore is slow to import)
    from smtop.aws.console import ConsoleData
    from smtop.sim.process import SimProcess

EXIT_USAGE = 2
EXIT_FAILURE = 1


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line that says what to do, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"smtop: {message} (see smtop --help)\n")


_positive_seconds = bounded(float, 1, 3600, what="a number of seconds", name="refresh")
_speed = bounded(float, 0.1, 1000, what="a number", name="--speed")
_port = bounded(int, 1, 65535, what="a TCP port", name="--port")


def _region(text: str) -> str:
    """A region name, checked here: botocore's own error repeats the raw text
    (escape sequences included) and only after a connection attempt."""
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", text) or len(text) > 50:
        raise argparse.ArgumentTypeError(f"{ascii(text)} is not an AWS region name like us-east-1")
    return text


def _endpoint_url(text: str) -> str:
    """An http(s) URL with a host; botocore fails on anything else with a traceback."""
    parts = urlsplit(text) if text.isascii() and text.isprintable() else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{ascii(text)} is not an http:// or https:// URL")
    return text


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("-n needs at least 1 iteration")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="smtop",
        description="top for Amazon SageMaker endpoints: live CloudWatch metrics in one terminal screen.",
        epilog="Subcommand: `smtop sim [--port N] [--no-traffic]` runs the local simulator alone. "
        "Credentials come from the standard AWS chain (env, profile, SSO, instance role).",
    )
    parser.add_argument("--version", action="version", version=f"smtop {__version__}")
    aws = parser.add_argument_group("AWS")
    aws.add_argument("--profile", help="AWS profile to use (default: the standard chain)")
    aws.add_argument("--region", type=_region, help="AWS region (default: from the profile or AWS_REGION)")
    aws.add_argument(
        "--endpoint-url",
        type=_endpoint_url,
        help="send every AWS call to this URL (e.g. the simulator); AWS_ENDPOINT_URL works too",
    )
    run = parser.add_argument_group("console")
    run.add_argument("--demo", action="store_true", help="start the local simulator with a live fleet and open the console on it (the smtop[sim] extra)")
    run.add_argument("--refresh", type=_positive_seconds, metavar="SECONDS", help=f"seconds between refreshes (default {DEFAULT_REFRESH:g}, {DEMO_REFRESH:g} with --demo)")
    run.add_argument("--endpoints", metavar="PATTERN", help="only endpoints whose name matches (substring or glob)")
    run.add_argument("--read-only", action="store_true", help="refuse every call that would change AWS")
    run.add_argument("--config", metavar="PATH", help="config file (default: $SMTOP_CONFIG or ~/.config/smtop/config.toml)")
    run.add_argument("--theme", metavar="NAME", help="colour theme: a Textual theme or smtop-high-contrast (NO_COLOR is honoured)")
    run.add_argument("--glyphs", choices=GLYPHS, help="how graphs are drawn (default auto: from the locale and TERM)")
    run.add_argument("--print-config", action="store_true", help="print the effective config as TOML, with where each value came from, and exit")
    run.add_argument("--debug", metavar="FILE", help="write a debug log of every AWS call to FILE (credentials redacted)")
    share = parser.add_argument_group("record, replay, share")
    share.add_argument("--record", metavar="FILE", help="save everything the console receives to FILE (gzip JSON lines) for --replay")
    share.add_argument("--replay", metavar="FILE", help="play a --record file back offline (space pause, [ ] or ← → seek); nothing can change AWS")
    share.add_argument("--speed", type=_speed, default=1.0, metavar="X", help="replay speed, e.g. 10 for ten times faster (default 1)")
    share.add_argument("--serve", action="store_true", help="share the console as a web page (textual-serve); each browser tab gets its own console")
    share.add_argument("--port", type=_port, default=8000, metavar="N", help="port for --serve (default 8000)")
    share.add_argument("--host", default="127.0.0.1", metavar="ADDR", help="address --serve listens on (default 127.0.0.1: this machine only; any other needs the token --serve prints)")
    share.add_argument("--token", action="store_true", help="--serve asks for a printed token on 127.0.0.1 too (a machine shared with other users)")
    batch = parser.add_argument_group("batch mode (no TUI, like top -b)")
    batch.add_argument("-b", "--batch", action="store_true", help="print snapshots instead of opening the console")
    batch.add_argument("-n", type=_count, default=1, metavar="COUNT", help="number of snapshots in batch mode (default 1)")
    batch.add_argument("--json", action="store_true", help="batch output as JSON (one object per line per snapshot)")
    return parser


def settings_from(args: argparse.Namespace, config: ConfigFile | None = None) -> Settings:
    """The settings: the command line beats the config file beats the defaults."""
    from_file = config.values if config else {}
    origins: dict[str, str] = {}

    def pick(name: str, given: object, default: object) -> Any:
        if given is not None:
            origins[name] = "command line"
            return given
        if name in from_file:
            line = config.lines.get(name) if config else None
            origins[name] = f"config file line {line}" if line else "config file"
            return from_file[name]
        return default

    refresh = pick("refresh", args.refresh, DEMO_REFRESH if args.demo else DEFAULT_REFRESH)
    return Settings(
        profile=args.profile,
        region=args.region,
        endpoint_url=args.endpoint_url,
        refresh=refresh,
        read_only=args.read_only,
        endpoint_pattern=pick("endpoints", args.endpoints, None),
        window=pick("metrics_window", None, timedelta(hours=3)),
        demo=args.demo,
        config_path=args.config,
        theme=pick("theme", args.theme, None),
        glyphs=pick("glyphs", args.glyphs, "auto"),
        log_since=pick("log_since", None, timedelta(minutes=15)),
        live_tail_idle=pick("live_tail_idle", None, DEFAULT_LIVE_TAIL_IDLE),
        insights_range=pick("insights_range", None, timedelta(hours=1)),
        keys=config.keys if config else (),
        alarm_presets=config.alarm_presets if config else (),
        config_problems=config.problems if config else (),
        origins=tuple(origins.items()),
    )


@asynccontextmanager
async def open_fleet(
    settings: Settings, clock: Clock, sim: SimProcess | None = None, *, mfa_code: str | None = None
) -> AsyncIterator[ConsoleData]:
    """The data source of the console and of batch mode, over one session.

    With --demo the simulator is started here (or was started by the caller
    and passed as ``sim``), so the console paints its first frame at once and
    fills in when the simulator is up.  ``mfa_code``: the code the console's
    dialog collected, for a profile whose role needs one; without it nothing
    prompts (see smtop.aws.signin).
    """
    async with AsyncExitStack() as stack:
        # The AWS SDK takes ~0.5 s to import: in a thread, so the console keeps
        # drawing meanwhile (and with --demo, while the simulator seeds).
        if settings.demo:
            from smtop.errors import ConfigurationError
            from smtop.sim.process import SimStartError, start_sim

            sim = sim or start_sim(traffic=True)
            # Registered before waiting: quitting during start-up stops it too.
            stack.callback(sim.stop)
            try:
                url, _ = await asyncio.gather(asyncio.to_thread(sim.wait_ready, 20.0), asyncio.to_thread(_import_aws))
            except SimStartError as error:
                first_line = str(error).splitlines()[0]
                raise ConfigurationError(f"the demo simulator did not start: {first_line}") from None
            _demo_environment()
            settings = replace(settings, endpoint_url=url, region="us-east-1")
        else:
            await asyncio.to_thread(_import_aws)
        from smtop.aws.console import ConsoleData
        from smtop.aws.session import AwsSession
        from smtop.aws.signin import MfaCode

        aws = await stack.enter_async_context(
            AwsSession(
                profile=settings.profile,
                region=settings.region,
                endpoint_url=settings.endpoint_url,
                read_only=settings.read_only,
                mfa_prompter=MfaCode(mfa_code),
            )
        )
        yield ConsoleData(
            aws,
            clock,
            window=settings.window,
            period=settings.period,
            endpoint_pattern=settings.endpoint_pattern,
        )


def _import_aws() -> None:
    import aiobotocore.session  # noqa: F401  (what AwsSession opens)

    import smtop.aws.console  # noqa: F401


def _demo_environment() -> None:
    """Point this process's AWS configuration at the simulator only.

    The demo must never reach a real account, whatever the user's shell has:
    fixed dummy keys, no profile, no config files.
    """
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="ASIASMTOPDEMOONCALL1",  # the simulator's DEMO_ONCALL (smtop/sim/cloudtrail.py)
        AWS_SECRET_ACCESS_KEY="smtop-demo",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sim"]:
        if _simulator_missing():
            return EXIT_USAGE
        from smtop.sim.server import main as sim_main

        return sim_main(argv[1:])
    # No log record reaches the terminal: botocore logs a failed credential
    # refresh as a warning with its traceback, and Python's last-resort handler
    # would print it to stderr (over the console, or above batch mode's one
    # line).  --debug sends every record to its file instead.  (Not for the
    # simulator, whose own errors go to its stderr.)
    logging.getLogger().addHandler(logging.NullHandler())
    args = build_parser().parse_args(argv)
    settings = settings_from(args, load_config(config_path(args.config)))
    if args.print_config:
        from smtop.config.file import effective_toml

        print(effective_toml(settings, config_path(args.config)), end="")
        return 0
    if settings.demo and (settings.endpoint_url or settings.profile):
        print("smtop: --demo runs against its own simulator; drop --endpoint-url/--profile", file=sys.stderr)
        return EXIT_USAGE
    if settings.demo and _simulator_missing():
        return EXIT_USAGE
    if args.debug:
        from smtop.aws.debuglog import install_debug_log

        try:
            install_debug_log(args.debug)
        except OSError as error:
            print(f"smtop: cannot write the debug log {args.debug!r}: {error.strerror or error}", file=sys.stderr)
            return EXIT_USAGE

    try:
        if not (settings.demo or args.replay):
            problem = sign_in_first(settings, batch=args.batch, serve=args.serve)
            if problem:
                print(f"smtop: {problem}", file=sys.stderr)
                return EXIT_FAILURE
        if args.serve:
            from smtop.serve import serve

            return serve(argv, host=args.host, port=args.port, require_token=args.token)
        if args.replay:
            return _run_replay(settings, args.replay, args.speed)
        if args.batch:
            from smtop.batch import run_batch

            return run_batch(settings, open_fleet, count=args.n, as_json=args.json, clock=SystemClock())
        return _run_console(settings, record=args.record)
    except KeyboardInterrupt:
        return 130


def _simulator_missing() -> bool:
    """Say so in one line, before anything starts, when the ``smtop[sim]`` extra is not installed."""
    from smtop.sim.process import missing_extra

    problem = missing_extra()
    if problem:
        print(f"smtop: {problem}", file=sys.stderr)
    return problem is not None


def sign_in_first(settings: Settings, *, batch: bool = False, serve: bool = False) -> str | None:
    """Sign in before the console takes the terminal, if the profile's role asks
    for an MFA code (see smtop.aws.signin); return why it failed, or None.

    On a terminal, botocore asks the code there and the role session lands in
    the AWS CLI's cache, where the console's own session finds it.  Without
    one (a batch run from cron, --serve, whose consoles run in browser tabs)
    only a cached role session will do: anything else is refused now, in one
    line, not halfway through.  A console without a terminal (a tab of
    --serve) asks in its own dialog instead.  Any other profile signs in
    inside the console, as before: its first frame does not wait for the SDK.
    """
    from smtop.aws.signin import mfa_serial

    serial = mfa_serial(settings.profile)
    if serial is None:
        return None
    terminal = sys.stdin.isatty()
    if not (batch or serve) and not terminal:
        return None
    import asyncio

    from smtop.aws.session import AwsSession
    from smtop.aws.signin import MfaCode, ask_on_terminal

    if serve:
        prompter = MfaCode(why=" and the consoles of --serve have no terminal to ask it on; sign in with the AWS CLI first "
                                "(e.g. `aws sts get-caller-identity" + (f" --profile {settings.profile}" if settings.profile else "") + "`)")
    else:
        prompter = ask_on_terminal

    async def sign_in() -> None:
        async with AwsSession(
            profile=settings.profile, region=settings.region, endpoint_url=settings.endpoint_url, mfa_prompter=prompter
        ) as aws:
            await aws.sign_in()

    try:
        asyncio.run(sign_in())
    except SmtopError as error:
        return str(error)
    return None


def _run_console(settings: Settings, *, record: str | None = None) -> int:
    clock = SystemClock()
    try:
        recorder = _recorder(record, settings, clock)
    except SmtopError as error:
        print(f"smtop: {error}", file=sys.stderr)
        return EXIT_USAGE
    sim = None
    if settings.demo:
        # Started before Textual is imported: the simulator's ~2 s of seeding
        # then overlaps the console's own start instead of following it.
        from smtop.sim.process import start_sim

        sim = start_sim(traffic=True)
        settings = replace(settings, region="us-east-1")
    try:
        from smtop.ui.app import SmtopApp

        connect, switch = _connectors(settings, clock, sim, recorder)
        app = SmtopApp(connect, settings, clock=clock, switch=switch, freeze_heap=True)
        app.run()
    finally:
        if sim is not None:
            sim.stop()  # also when the app never reached open_fleet
        if recorder is not None:
            recorder.close()
    return app.return_code or 0


def _recorder(path: str | None, settings: Settings, clock: Clock):
    """--record FILE: the recording every source of this run writes into."""
    if not path:
        return None
    from smtop.replay.recorder import Recorder

    return Recorder(path, clock, refresh=settings.refresh, window=settings.window)


def _connectors(settings: Settings, clock: Clock, sim, recorder) -> tuple:
    """How the app opens its source, and another for a profile/region switch (key P).

    The demo has one simulator, stopped with its source: no switching there.
    With --record both sources write into the one recording.
    """

    from smtop.replay.recorder import recorded

    def connect() -> AbstractAsyncContextManager:
        opened = open_fleet(settings, clock, sim)
        return recorded(opened, recorder) if recorder is not None else opened

    def switch(target) -> AbstractAsyncContextManager:
        opened = open_fleet(replace(settings, profile=target.profile, region=target.region), clock, mfa_code=target.mfa_code)
        return recorded(opened, recorder) if recorder is not None else opened

    return connect, (None if settings.demo else switch)


REPLAY_POLL = 1.0
"""Seconds between a replay's polls of its recording (in memory: cheap), so playing and seeking show at once."""


def _run_replay(settings: Settings, path: str, speed: float) -> int:
    """--replay: the console over a recording, offline, read-only, on the recording's clock."""
    from contextlib import nullcontext

    from smtop.replay.codec import RecordingError
    from smtop.replay.player import ReplaySource, load_recording
    from smtop.ui.app import SmtopApp

    try:
        recording = load_recording(path)
    except RecordingError as error:
        print(f"smtop: {error}", file=sys.stderr)
        return EXIT_USAGE
    source = ReplaySource(recording, speed=speed)
    window = timedelta(seconds=recording.header.get("window", settings.window.total_seconds()))
    settings = replace(settings, read_only=True, refresh=REPLAY_POLL, demo=False, window=window, profile=source.profile, region=source.region)
    app = SmtopApp(lambda: nullcontext(source), settings, clock=source.clock, replay=source, freeze_heap=True)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
