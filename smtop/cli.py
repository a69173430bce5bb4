"""Command line → settings → the console, batch mode or the simulator.

Imports of Textual, aiobotocore and moto are deferred to the branch that needs
them: `smtop --help` and `smtop --version` answer without paying for them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import asyncio
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, AsyncIterator, Sequence
from urllib.parse import urlsplit

from smtop import __version__
from smtop.clock import Clock, SystemClock
from smtop.settings import DEFAULT_REFRESH, DEMO_REFRESH, Settings

if TYPE_CHECKING:  # imported for real only when the console starts (aiobotocore is slow to import)
    from smtop.aws.console import ConsoleData

EXIT_USAGE = 2
EXIT_FAILURE = 1


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line that says what to do, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"smtop: {message} (see smtop --help)\n")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"refresh must be between 1 and 3600 seconds, not {text}")
    return value


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
    run.add_argument("--demo", action="store_true", help="start the local simulator with a live fleet and open the console on it")
    run.add_argument("--refresh", type=_positive_seconds, metavar="SECONDS", help=f"seconds between refreshes (default {DEFAULT_REFRESH:g}, {DEMO_REFRESH:g} with --demo)")
    run.add_argument("--endpoints", metavar="PATTERN", help="only endpoints whose name matches (substring or glob)")
    run.add_argument("--read-only", action="store_true", help="refuse every call that would change AWS")
    run.add_argument("--config", metavar="PATH", help="config file (default: $SMTOP_CONFIG or ~/.config/smtop/config.toml)")
    run.add_argument("--debug", metavar="FILE", help="write a debug log of every AWS call to FILE (credentials redacted)")
    batch = parser.add_argument_group("batch mode (no TUI, like top -b)")
    batch.add_argument("-b", "--batch", action="store_true", help="print snapshots instead of opening the console")
    batch.add_argument("-n", type=_count, default=1, metavar="COUNT", help="number of snapshots in batch mode (default 1)")
    batch.add_argument("--json", action="store_true", help="batch output as JSON (one object per line per snapshot)")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    refresh = args.refresh or (DEMO_REFRESH if args.demo else DEFAULT_REFRESH)
    return Settings(
        profile=args.profile,
        region=args.region,
        endpoint_url=args.endpoint_url,
        refresh=refresh,
        read_only=args.read_only,
        endpoint_pattern=args.endpoints,
        window=timedelta(hours=3),
        demo=args.demo,
        config_path=args.config,
    )


@asynccontextmanager
async def open_fleet(settings: Settings, clock: Clock) -> AsyncIterator[ConsoleData]:
    """The data source of the console and of batch mode, over one session.

    With --demo the simulator is started here, inside the source, so the
    console paints its first frame at once and fills in when the simulator is up.
    """
    from smtop.aws.console import ConsoleData
    from smtop.aws.session import AwsSession

    async with AsyncExitStack() as stack:
        if settings.demo:
            from smtop.errors import ConfigurationError
            from smtop.sim.process import SimStartError, start_sim

            sim = start_sim(traffic=True)
            # Registered before waiting: quitting during start-up stops it too.
            stack.callback(sim.stop)
            try:
                url = await asyncio.to_thread(sim.wait_ready, 20.0)
            except SimStartError as error:
                first_line = str(error).splitlines()[0]
                raise ConfigurationError(f"the demo simulator did not start: {first_line}") from None
            _demo_environment()
            settings = replace(settings, endpoint_url=url, region="us-east-1")
        aws = await stack.enter_async_context(
            AwsSession(
                profile=settings.profile,
                region=settings.region,
                endpoint_url=settings.endpoint_url,
                read_only=settings.read_only,
            )
        )
        yield ConsoleData(
            aws,
            clock,
            window=settings.window,
            period=settings.period,
            endpoint_pattern=settings.endpoint_pattern,
        )


def _demo_environment() -> None:
    """Point this process's AWS configuration at the simulator only.

    The demo must never reach a real account, whatever the user's shell has:
    fixed dummy keys, no profile, no config files.
    """
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="smtop-demo",
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
        from smtop.sim.server import main as sim_main

        return sim_main(argv[1:])
    args = build_parser().parse_args(argv)
    settings = settings_from(args)
    if settings.demo and (settings.endpoint_url or settings.profile):
        print("smtop: --demo runs against its own simulator; drop --endpoint-url/--profile", file=sys.stderr)
        return EXIT_USAGE
    if args.debug:
        from smtop.debuglog import install_debug_log

        try:
            install_debug_log(args.debug)
        except OSError as error:
            print(f"smtop: cannot write the debug log {args.debug!r}: {error.strerror or error}", file=sys.stderr)
            return EXIT_USAGE

    try:
        if args.batch:
            from smtop.batch import run_batch

            return run_batch(settings, open_fleet, count=args.n, as_json=args.json, clock=SystemClock())
        return _run_console(settings)
    except KeyboardInterrupt:
        return 130


def _run_console(settings: Settings) -> int:
    from smtop.ui.app import SmtopApp

    clock = SystemClock()
    if settings.demo:
        settings = replace(settings, region="us-east-1")
    app = SmtopApp(lambda: open_fleet(settings, clock), settings, clock=clock)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
