"""`smtop --serve` in a real browser: headless Chromium opens the page and the
console inside it shows the simulator's endpoints.

textual-serve draws the terminal with xterm.js on a canvas, so the text is not
in the DOM.  The test reads it from xterm's own buffer over the DevTools
protocol: a script that runs before the page's own catches the Terminal
object when textual.js stores it (``this.terminal = new Terminal(...)``).
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
import urllib.request

import pytest

from smtop.serve import console_argv, console_command

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

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
    argv = ["--serve", "--port", "9000", "--region", "eu-west-1", "--host=0.0.0.0", "--read-only"]
    assert console_argv(argv) == ["--region", "eu-west-1", "--read-only"]
    command = console_command(argv)
    assert command.startswith(sys.executable) and "-m smtop --region eu-west-1 --read-only" in command
    assert "--serve" not in command and "9000" not in command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


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


async def _screen_text(devtools: str, page_url: str, wanted: list[str], timeout: float) -> str:
    """Open page_url in a new tab and return xterm's text once every wanted string shows."""
    import aiohttp

    port = re.search(r":(\d+)/", devtools).group(1)
    async with aiohttp.ClientSession() as http:
        async with http.put(f"http://127.0.0.1:{port}/json/new?about:blank") as reply:
            target = await reply.json(content_type=None)
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 10_000))

            async def call(method: str, **params) -> dict:
                n = next(ids)
                await ws.send_json({"id": n, "method": method, "params": params})
                while True:
                    message = await ws.receive_json()
                    if message.get("id") == n:
                        return message.get("result", {})

            await call("Page.enable")
            await call("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
            await call("Page.navigate", url=page_url)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            text = ""
            while loop.time() < deadline:
                result = await call("Runtime.evaluate", expression=READ_SCREEN, returnByValue=True)
                text = result.get("result", {}).get("value") or ""
                if all(w in text for w in wanted):
                    return text
                await asyncio.sleep(0.25)
            raise AssertionError(f"the page never showed {wanted}; it showed:\n{text}")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium); .ci/run installs it when run as root")
async def test_served_page_shows_the_endpoints(sim, tmp_path) -> None:
    from smtop.sim.fleet import DEMO_FLEET

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        SMTOP_CONFIG=str(tmp_path / "none.toml"),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "smtop", "--serve", "--port", str(port), "--endpoint-url", sim.url, "--region", "us-east-1", "--read-only"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    browser = None
    try:
        deadline = time.monotonic() + 10
        _wait_http(f"http://127.0.0.1:{port}/", deadline)
        browser = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
             f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,900", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        devtools = _devtools_url(browser, deadline)
        # Three endpoint names of the simulator's fleet, and the header's region.
        wanted = [spec.name for spec in DEMO_FLEET[:3]] + ["us-east-1"]
        text = await _screen_text(devtools, f"http://127.0.0.1:{port}/", wanted, timeout=15)
        assert "smtop" in text and "read-only" in text
    finally:
        # Each was started in a session of its own: its group holds the
        # consoles textual-serve started and chromium's helpers.
        for process in (browser, server):
            if process is not None:
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
