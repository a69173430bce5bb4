"""The first frame does not wait for the AWS SDK: importing the console must not load it."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("aiobotocore", "botocore", "boto3", "aiohttp", "moto")


@pytest.mark.parametrize("module", ["smtop.ui.app", "smtop.cli"])
def test_importing_does_not_load_the_aws_sdk(module):
    code = (
        f"import sys, {module}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
