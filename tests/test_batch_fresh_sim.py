"""`smtop -b` run the moment `smtop sim` listens, while it still seeds its fleet.

The simulator listens before it seeds (the fleet is created over HTTP), and
its seeders hold its clock in the past; a client served in that spell must
still get every section of the snapshot (the CloudTrail section once failed
with ``InvalidTimeRangeException``: its StartTime, now - 1 h, was after the
simulator's "now").
"""

from __future__ import annotations

import json
import socket
import time

from smtop.sim.process import start_sim
from tests.test_cli import clean_env, run_smtop  # noqa: F401 - clean_env is a fixture


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(process, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while process.running and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.01)
    raise AssertionError(f"the simulator did not listen: {process.stderr_tail()}")


def test_batch_on_a_freshly_started_simulator_exits_0_with_every_section(clean_env):  # noqa: F811
    port = _free_port()
    process = start_sim(port=port, traffic=True)
    try:
        _wait_listening(process, port)
        clean_env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
        result = run_smtop("-b", "--json", "--region", "us-east-1", "--endpoint-url", f"http://127.0.0.1:{port}", env=clean_env)
        process.wait_ready()
    finally:
        process.stop()
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip() == ""
    snapshot = json.loads(result.stdout.splitlines()[0])
    assert snapshot["alarms"]["error"] is None
    assert snapshot["cloudtrail"]["error"] is None
    assert isinstance(snapshot["endpoints"], list)
