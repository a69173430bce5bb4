"""`smtop --serve`: who may open the console, and the console in a real browser.

The server runs as `smtop --serve` does, in a process of its own.  Off
loopback it listens on 0.0.0.0 and the tests reach it at 127.0.0.1: the token
is required because of where the server *listens*, whatever address a client
comes from, so no non-loopback address of the machine is needed.  Plain
aiohttp clients check the page, the websocket and what a refusal leaves
behind (no console process); headless Chromium checks what a person sees.

textual-serve draws the terminal with xterm.js on a canvas, so the text is not
in the DOM.  The browser tests read it from xterm's own buffer over the
DevTools protocol: a script that runs before the page's own catches the
Terminal object when textual.js stores it (``this.terminal = new Terminal(...)``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from smtop.serve import console_argv, console_command, is_loopback

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NEEDS_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium); .ci/run installs it when run as root"
)

# Runs in the page before textual.js: the first object that sets a
# `terminal` property (textual.js's session) hands its xterm Terminal over.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    window.__smtopTerminal = value;
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
  },
});
"""

READ_SCREEN = """
(() => {
  const t = window.__smtopTerminal;
  if (!t) return "";
  const b = t.buffer.active, rows = [];
  for (let i = 0; i < b.length; i++) rows.push(b.getLine(i).translateToString(true));
  return rows.join("\\n");
})()
"""


def test_console_argv_drops_only_the_servers_options() -> None:
    argv = ["--serve", "--port", "9000", "--region", "eu-west-1", "--host=0.0.0.0", "--token", "--read-only"]
    assert console_argv(argv) == ["--region", "eu-west-1", "--read-only"]
    command = console_command(argv)
    assert command.startswith(sys.executable) and "-m smtop --region eu-west-1 --read-only" in command
    assert "--serve" not in command and "9000" not in command and "--token" not in command


def test_loopback_hosts_are_this_machine_only() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.0.2.2", "fd00::2", "smtop.example", ""):
        assert not is_loopback(host), host


# -- a server of the test's own ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str, deadline: float) -> None:
    """Wait until the server answers HTTP at all (a 403 is an answer)."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Served:
    """A running `smtop --serve`: its port, its terminal output, its token (if it printed one)."""

    def __init__(self, process: subprocess.Popen, port: int, output: Path) -> None:
        self.process = process
        self.port = port
        self.output = output
        found = re.search(r"\?token=([A-Za-z0-9_-]+)", self.printed())
        self.token = found.group(1) if found else None
        self.base = f"http://127.0.0.1:{port}"

    def printed(self) -> str:
        return self.output.read_text(errors="replace")

    def consoles(self) -> list:
        """The console processes textual-serve started (one per open websocket)."""
        import psutil

        return psutil.Process(self.process.pid).children(recursive=True)


@contextmanager
def serving(sim, tmp_path, *args: str) -> Iterator[Served]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        SMTOP_CONFIG=str(tmp_path / "none.toml"),
        COLUMNS="200",  # the printed URLs on one line each
    )
    output = tmp_path / f"serve-{port}.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "smtop", "--serve", "--port", str(port), *args,
             "--endpoint-url", sim.url, "--region", "us-east-1", "--read-only"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _answers(f"http://127.0.0.1:{port}/", time.monotonic() + 15)
        yield Served(process, port, output)
    finally:
        # Started in a session of its own: its group holds the consoles textual-serve started.
        _stop_group(process)


def _stop_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(5)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


async def _refused_websocket(http, url: str, **kwargs) -> int:
    import aiohttp

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with http.ws_connect(url, **kwargs):
            pass
    return refused.value.status


# -- who may open it --------------------------------------------------------------------------


@pytest.mark.slow
async def test_off_loopback_the_page_and_the_websocket_need_the_token(sim, tmp_path) -> None:
    import aiohttp

    with serving(sim, tmp_path, "--host", "0.0.0.0") as served:
        token = served.token
        assert token is not None and len(token) >= 43  # 32 random bytes, URL-safe base64
        assert f"http://127.0.0.1:{served.port}/?token={token}" in served.printed()

        # unsafe: aiohttp's jar keeps no cookie of an IP address otherwise (browsers do)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            for url in ("/", "/?token=wrong", f"/?token={token[:-1]}", "/static/js/textual.js", "/download/x"):
                async with http.get(served.base + url, allow_redirects=False) as reply:
                    assert reply.status == 403, url
                    assert "token" in await reply.text()
            ws = served.base.replace("http", "ws") + "/ws"
            assert await _refused_websocket(http, ws) == 403
            assert await _refused_websocket(http, ws + "?token=wrong") == 403
            assert await _refused_websocket(http, ws + f"?token={token}", origin="http://elsewhere.example") == 403
            await asyncio.sleep(0.5)
            assert served.consoles() == []  # no refusal started a console

            # The printed URL: a cookie, and the token leaves the address bar.
            async with http.get(f"{served.base}/?token={token}&fontsize=14", allow_redirects=False) as reply:
                assert reply.status == 302 and reply.headers["Location"] == "/?fontsize=14"
                cookie = reply.headers["Set-Cookie"]
            assert f"={token};" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            async with http.get(served.base + "/") as page:  # the cookie jar sends it back
                assert page.status == 200
                assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in await page.text()
                assert page.headers["Referrer-Policy"] == "no-referrer"

            # A script may send the token on the websocket URL: the console starts.
            async with aiohttp.ClientSession() as script:
                async with script.ws_connect(f"{ws}?token={token}&width=100&height=30") as socket_:
                    first = await socket_.receive(timeout=15)
                    assert first.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT)
                    assert served.consoles()

    # Printed once, at start: no log line repeats it.
    assert sum(token in line for line in served.printed().splitlines()) == 2  # this machine's name, 127.0.0.1


@pytest.mark.slow
async def test_on_loopback_no_token_but_other_sites_cannot_drive_the_console(sim, tmp_path) -> None:
    import aiohttp

    with serving(sim, tmp_path) as served:
        assert served.token is None
        async with aiohttp.ClientSession() as http:
            async with http.get(served.base + "/") as page:
                assert page.status == 200
            ws = served.base.replace("http", "ws") + "/ws"
            # Another site the user has open in the browser:
            assert await _refused_websocket(http, ws, origin="https://evil.example") == 403
            # A site whose name was re-pointed at 127.0.0.1 (DNS rebinding):
            rebound = {"Host": f"evil.example:{served.port}", "Origin": f"http://evil.example:{served.port}"}
            async with http.get(served.base + "/", headers={"Host": rebound["Host"]}) as page:
                assert page.status == 403
            assert await _refused_websocket(http, ws, headers=rebound) == 403
            await asyncio.sleep(0.5)
            assert served.consoles() == []


# -- in a browser -----------------------------------------------------------------------------


def _devtools_url(browser: subprocess.Popen, deadline: float) -> str:
    """Chromium prints 'DevTools listening on ws://...' on stderr once ready."""
    while time.monotonic() < deadline:
        line = browser.stderr.readline().decode("utf-8", "replace")
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
        if not line and browser.poll() is not None:
            break
    raise AssertionError("chromium did not start its DevTools endpoint")


@contextmanager
def chromium(tmp_path) -> Iterator[str]:
    """A headless Chromium; yields its DevTools URL."""
    browser = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
         f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,900", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield _devtools_url(browser, time.monotonic() + 15)
    finally:
        _stop_group(browser)


class Tab:
    """One browser tab driven over the DevTools protocol."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self._ids = iter(range(1, 100_000))

    async def call(self, method: str, **params) -> dict:
        n = next(self._ids)
        await self.ws.send_json({"id": n, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json()
            if message.get("id") == n:
                return message.get("result", {})

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)

    async def reload(self, timeout: float) -> None:
        """Reload, and return once a new document has replaced the old one (a fixed
        wait could still read the old page's screen on a slow machine)."""
        await self.evaluate("window.__smtopOldDocument = true")
        await self.call("Page.reload")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            # None while the old document's context is torn down: not an answer yet.
            if await self.evaluate("document.readyState !== 'loading' && window.__smtopOldDocument === undefined"):
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the page did not reload")

    async def screen(self, wanted: list[str], timeout: float) -> str:
        """xterm's text once every wanted string shows."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        text = ""
        while loop.time() < deadline:
            text = await self.evaluate(READ_SCREEN) or ""
            if all(w in text for w in wanted):
                return text
            await asyncio.sleep(0.25)
        raise AssertionError(f"the page never showed {wanted}; it showed:\n{text}")

    async def body(self, wanted: str, timeout: float) -> str:
        """The page's own text (not xterm's) once it holds ``wanted``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        text = ""
        while loop.time() < deadline:
            text = await self.evaluate("document.body ? document.body.innerText : ''") or ""
            if wanted in text:
                return text
            await asyncio.sleep(0.1)
        raise AssertionError(f"the page never said {wanted!r}; it said:\n{text}")


async def _with_tab(devtools: str, use) -> None:
    """Open a tab that catches xterm's Terminal, and run ``use(tab)``."""
    import aiohttp

    port = re.search(r":(\d+)/", devtools).group(1)
    async with aiohttp.ClientSession() as http:
        async with http.put(f"http://127.0.0.1:{port}/json/new?about:blank") as reply:
            target = await reply.json(content_type=None)
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            tab = Tab(ws)
            await tab.call("Page.enable")
            await tab.call("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
            await use(tab)


@pytest.mark.slow
@NEEDS_CHROMIUM
async def test_served_page_shows_the_endpoints(sim, tmp_path) -> None:
    from smtop.sim.fleet import DEMO_FLEET

    with serving(sim, tmp_path) as served, chromium(tmp_path) as devtools:

        async def use(tab: Tab) -> None:
            await tab.open(served.base + "/")
            # Three endpoint names of the simulator's fleet, and the header's region.
            text = await tab.screen([spec.name for spec in DEMO_FLEET[:3]] + ["us-east-1"], timeout=15)
            assert "smtop" in text and "read-only" in text

        await _with_tab(devtools, use)


@pytest.mark.slow
@NEEDS_CHROMIUM
async def test_off_loopback_the_browser_gets_a_403_without_the_token_and_the_console_with_it(sim, tmp_path) -> None:
    from smtop.sim.fleet import DEMO_FLEET

    wanted = [spec.name for spec in DEMO_FLEET[:3]] + ["us-east-1"]
    with serving(sim, tmp_path, "--host", "0.0.0.0") as served, chromium(tmp_path) as devtools:

        async def use(tab: Tab) -> None:
            await tab.open(served.base + "/")
            text = await tab.body("403 Forbidden", timeout=10)
            assert "token" in text
            await asyncio.sleep(1.0)
            assert await tab.evaluate("window.__smtopTerminal === undefined")
            assert served.consoles() == []

            await tab.open(f"{served.base}/?token={served.token}")
            await tab.screen(wanted, timeout=20)
            address = await tab.evaluate("location.href")
            assert address.startswith(served.base + "/") and "token" not in address  # it left the address bar
            assert served.printed().count(served.token) == 2

            # Reloading (textual-serve's Restart does it too) keeps working on the cookie.
            await tab.reload(timeout=20)
            await tab.screen(wanted, timeout=20)

        await _with_tab(devtools, use)
