"""The simulator is the optional ``smtop[sim]`` extra: without it, ``smtop sim`` and
``smtop --demo`` say in one line how to install it, and nothing else in smtop
needs what it installs.

"Without it" is made in the child interpreter: ``sys.modules[name] = None`` is
how Python itself marks a module as not importable (``import`` raises
ImportError, ``importlib.util.find_spec`` answers None), so one installation
tests both cases.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import smtop

SIM_ONLY = ("moto", "flask", "flask_cors", "lark")
"""What ``smtop[sim]`` installs for the simulator alone: moto, the Flask app of
moto[server], and lark (the simulator's Logs Insights grammar)."""

WITHOUT = (
    "import runpy, sys\n"
    "for name in sys.argv.pop(1).split(','):\n"
    "    if name: sys.modules[name] = None\n"
    "runpy.run_module('smtop', run_name='__main__', alter_sys=True)\n"
)
"""``python -c WITHOUT NAMES ARGS…``: ``python -m smtop ARGS…`` where the comma-separated NAMES cannot be imported."""


def run_smtop_without(names: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT, names, *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("missing", ["moto", "lark"])
@pytest.mark.parametrize("args", [("--demo",), ("-b", "--demo"), ("sim",), ("sim", "--port", "0")])
def test_without_the_extra_the_simulator_names_it_in_one_line_and_exits_2(args, missing):
    result = run_smtop_without(missing, *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("smtop: the simulator is an extra")
    assert line.endswith("pip install 'smtop[sim]'")
    assert f"(no {missing})" in line


def test_with_the_extra_the_same_wrapper_reaches_the_simulator():
    # The control: nothing blocked, `smtop sim --help` is the simulator's own help.
    result = run_smtop_without("", "sim", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: smtop sim")


def test_the_console_runs_without_the_extra():
    # Everything but the simulator works without it: here, --help and --version.
    blocked = ",".join(SIM_ONLY)
    result = run_smtop_without(blocked, "--help")
    assert result.returncode == 0, result.stderr
    assert "--demo" in result.stdout and "smtop[sim]" in result.stdout
    assert run_smtop_without(blocked, "--version").stdout.startswith("smtop ")


def importable_outside_the_simulator() -> list[str]:
    """Every module of smtop but the simulator's, and the one module of it that
    the console imports (smtop.sim.process, which spawns it)."""
    root = Path(smtop.__file__).parent
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__main__" or parts[1:2] == ("sim",):
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names + ["smtop.sim", "smtop.sim.process"]


def test_nothing_outside_the_simulator_imports_what_the_extra_installs():
    modules = importable_outside_the_simulator()
    assert {"smtop.cli", "smtop.ui.app", "smtop.aws.session", "smtop.aws.console"} <= set(modules)
    # Imported one after the other in one interpreter: the first module that
    # brings in a simulator-only package is named.
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"    loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {set(SIM_ONLY)!r})\n"
        "    if loaded:\n"
        "        print(json.dumps({name: loaded}))\n"
        "        break\n"
        "else:\n"
        "    print('{}')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}
