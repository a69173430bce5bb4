"""`smtop --serve`: the console as a web page, through textual-serve.

textual-serve runs a *command* per browser tab and relays its terminal over a
websocket, so each viewer gets a console of their own (own selection, own
panels) with the same options as the ``smtop`` that serves.  The command is
this smtop's own argv without ``--serve``/``--port``, started with this
interpreter so the served app is the same installation.

It listens on 127.0.0.1 by default: the page drives a console that holds the
server's AWS credentials, so exposing it is a choice (``--host``), not a default.
"""

from __future__ import annotations

import shlex
import sys
from typing import Sequence

DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"

_SERVE_FLAGS = {"--serve": 0, "--port": 1, "--host": 1}
"""Options that belong to the server, not the served console (with how many values they take)."""


def console_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` without the server's own options: what each browser tab runs."""
    kept: list[str] = []
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
            continue
        name = arg.split("=", 1)[0]
        if name in _SERVE_FLAGS:
            skip = _SERVE_FLAGS[name] if "=" not in arg else 0
            continue
        kept.append(arg)
    return kept


def console_command(argv: Sequence[str]) -> str:
    """The shell command textual-serve starts for each tab (it runs it with a shell)."""
    return shlex.join([sys.executable, "-m", "smtop", *console_argv(argv)])


def serve(argv: Sequence[str], *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Serve the console on http://host:port until Ctrl-C."""
    from textual_serve.server import Server

    Server(console_command(argv), host=host, port=port, title="smtop").serve()
    return 0
