"""`smtop --serve`: the console as a web page, through textual-serve.

textual-serve runs a *command* per browser tab and relays its terminal over a
websocket, so each viewer gets a console of their own (own selection, own
panels) with the same options as the ``smtop`` that serves.  The command is
this smtop's own argv without the server's options, started with this
interpreter so the served app is the same installation.

Whoever opens the page drives a console that holds the server's AWS
credentials, so who may open it is decided here, before any console starts:

- On a loopback host (127.0.0.1, the default; ::1; localhost) the page is
  open to this machine, as textual-serve has it, except for two attacks
  that come through the user's own browser: another web site opening the
  websocket (browsers let any page open a websocket anywhere; the
  handshake's ``Origin`` must be this server's), and DNS rebinding (a site
  whose name was re-pointed at 127.0.0.1: the ``Host`` must be a loopback
  name).  ``--token`` asks for a token here too, for a machine shared with
  other users.
- On any other host (``--host 0.0.0.0``, a LAN address, a name) a token is
  required, as Jupyter does: 32 random bytes (``secrets.token_urlsafe``),
  printed once on the terminal with the URL to open.  Every request needs
  it, the page and the websocket alike; a missing or wrong token gets a 403
  page and no console (no process is started).  Tokens are compared in
  constant time (``secrets.compare_digest``).

After the first page load the browser keeps working with a cookie, not with
the token in its URLs: the page answers ``/?token=…`` by setting the cookie
and redirecting to ``/``, so the token leaves the address bar and the
history.  The token cannot ride in the page's URLs anyway: textual.js appends
``?width=…`` to the websocket URL it is given and opens downloads at
``/download/<key>`` on its own.  The cookie is ``HttpOnly`` (no script reads
it) and ``SameSite=Lax`` (sent when a link to the page is followed, never on
another site's websocket or request); the websocket's ``Origin`` is checked
too.  Plain HTTP cannot mark it ``Secure``: over an untrusted network, put
the server behind TLS (an SSH tunnel to a loopback ``--serve`` is simplest).
A script may send the token as ``?token=`` on the websocket URL.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import shlex
import socket
import sys
from typing import Any, Awaitable, Callable, Sequence

DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"

_SERVE_FLAGS = {"--serve": 0, "--port": 1, "--host": 1, "--token": 0}
"""Options that belong to the server, not the served console (with how many values they take)."""

TOKEN_PARAMETER = "token"
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
"""What a Host header may be: a name or an IP, and a port (it is written into the page)."""

FORBIDDEN_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>smtop: 403 Forbidden</title></head>
<body style="font-family: monospace; background: #0c181f; color: #eee; padding: 2em">
<h1>403 Forbidden</h1>
<p>{reason}</p>
</body></html>
"""


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


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name to listen on) is this machine only."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # any other name may resolve to an address others reach


def open_urls(host: str, port: int, token: str | None) -> list[str]:
    """The URLs to print: the host's own, or for a wildcard address this
    machine's name and 127.0.0.1 (as Jupyter prints them)."""
    query = f"/?{TOKEN_PARAMETER}={token}" if token else "/"
    if host in ("0.0.0.0", "::", ""):
        hosts = [socket.gethostname(), "127.0.0.1"]
    else:
        hosts = [f"[{host}]" if ":" in host else host]
    return [f"http://{name}:{port}{query}" for name in hosts]


class Guard:
    """Decides, for every request, whether it may reach textual-serve.

    Args:
        token: the token every request must carry (query or cookie); None
            on an open loopback server.
        cookie: the cookie's name (per port: cookies are per host, not port).
    """

    def __init__(self, token: str | None, cookie: str) -> None:
        self.token = token
        self.cookie = cookie

    def refusal(self, request: Any) -> str | None:
        """Why ``request`` is refused (for the 403 page), or None to let it through."""
        if not _HOST_HEADER.fullmatch(request.host or ""):
            return "The request's Host header is not a host name."
        if request.path == "/ws" and not self._same_origin(request):
            return "The websocket was opened by another web site."
        if self.token is None:
            if not is_loopback(_without_port(request.host)):
                return "This console answers on this machine's loopback address only (127.0.0.1, localhost)."
            return None
        if self._matches(request.query.get(TOKEN_PARAMETER)) or self._matches(request.cookies.get(self.cookie)):
            return None
        return (
            "This console needs the token that smtop --serve printed where it was started: "
            f"open the URL it printed, ending in /?{TOKEN_PARAMETER}=…"
        )

    def _matches(self, given: str | None) -> bool:
        if given is None or self.token is None:
            return False
        return secrets.compare_digest(given.encode("utf-8", "replace"), self.token.encode())

    @staticmethod
    def _same_origin(request: Any) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: browsers always send it on a websocket handshake
        return origin.lower() in (f"http://{request.host}".lower(), f"https://{request.host}".lower())

    def logged_in(self, request: Any) -> bool:
        """The page was asked with a valid ``?token=``: answer with the cookie and a redirect."""
        return request.path == "/" and self._matches(request.query.get(TOKEN_PARAMETER))


def _without_port(host_header: str) -> str:
    """``127.0.0.1:8000`` → ``127.0.0.1``, ``[::1]:8000`` → ``[::1]``."""
    name, colon, port = host_header.rpartition(":")
    return name if colon and port.isdigit() and not host_header.endswith("]") else host_header


def _make_server(command: str, host: str, port: int, token: str | None) -> Any:
    from aiohttp import web
    import aiohttp_jinja2
    from textual_serve.server import LOGO, Server, to_int

    guard = Guard(token, cookie=f"smtop-serve-{port}")

    @web.middleware
    async def check(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        reason = guard.refusal(request)
        if reason is not None:
            return web.Response(status=403, text=FORBIDDEN_PAGE.format(reason=reason), content_type="text/html")
        if guard.logged_in(request):
            kept = {k: v for k, v in request.query.items() if k != TOKEN_PARAMETER}
            response = web.HTTPFound(request.rel_url.with_query(kept))
            response.set_cookie(guard.cookie, token or "", httponly=True, samesite="Lax", path="/")
            response.headers["Referrer-Policy"] = "no-referrer"
            raise response
        response = await handler(request)
        if not response.prepared:  # a websocket's answer has gone already
            response.headers["Referrer-Policy"] = "no-referrer"  # the page loads a font from Google
        return response

    class GuardedServer(Server):
        """textual-serve behind the guard, with its page's URLs made from the request."""

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(check)
            return app

        def initialize_logging(self) -> None:
            super().initialize_logging()
            # Each request's line would print the token again (its URL, its Referer).
            logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

        async def on_startup(self, app: web.Application) -> None:
            self.console.print(LOGO, highlight=False)
            urls = open_urls(host, port, token)
            if token is None:
                self.console.print(f"smtop is served on {urls[0]}", markup=False, highlight=False)
            else:
                self.console.print("smtop is served on this URL; whoever opens it acts with your AWS credentials:", markup=False)
                for url in urls:
                    self.console.print(f"    {url}", markup=False, highlight=False, soft_wrap=True)
            self.console.print("\n[cyan]Press Ctrl+C to quit")

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict[str, Any]:
            # textual-serve writes its own host into these URLs: with 0.0.0.0 a browser
            # elsewhere would be sent to 0.0.0.0.  The request's Host is where it reached us.
            origin = f"{request.scheme}://{request.host}"
            socket_scheme = "wss" if request.scheme == "https" else "ws"
            return {
                "font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": f"{socket_scheme}://{request.host}{request.app.router['websocket'].url_for()}",
                "config": {"static": {"url": f"{origin}/static/"}},
                "application": {"name": self.title},
            }

    return GuardedServer(command, host=host, port=port, title="smtop")


def serve(argv: Sequence[str], *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, require_token: bool = False) -> int:
    """Serve the console on http://host:port until Ctrl-C.

    A token is required off loopback, and on loopback with ``require_token``.
    """
    token = secrets.token_urlsafe(32) if require_token or not is_loopback(host) else None
    _make_server(console_command(argv), host, port, token).serve()
    return 0
