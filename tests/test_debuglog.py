"""``--debug FILE``: real AWS calls with known fake credentials, then grep the file."""

from __future__ import annotations

import logging
import re
import stat
import subprocess
import sys

import pytest

from smtop.aws.session import AwsSession
from smtop.aws.debuglog import install_debug_log, redact, remove_debug_log
from tests.conftest import isolated_aws_env

# Shaped like real credentials, so the patterns (not only the literal values) are exercised.
ACCESS_KEY = "ASIAQX7FAKEKEY4SMTOP"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSMTOPFAKE1"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEFAKEsmtopSESSIONtokenQ0FBQUFBQUFBQUFB/+=="


@pytest.fixture
def fake_credentials(monkeypatch, tmp_path):
    isolated_aws_env(monkeypatch, tmp_path, ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)


def assert_no_credentials(text: str) -> None:
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, ACCESS_KEY[4:], SECRET_KEY[:20], SESSION_TOKEN[:24]):
        assert secret not in text, secret
    assert not re.search(r"(?i)\b[0-9a-f]{64}\b", text), "a SigV4 signature or hash is left"


async def test_debug_log_of_real_calls_has_no_credentials(sim, fake_credentials, tmp_path):
    path = tmp_path / "smtop-debug.log"
    handler = install_debug_log(path)
    try:
        async with AwsSession(region="us-east-1", endpoint_url=sim.url, max_attempts=1) as aws:
            sagemaker = await aws.client("sagemaker")
            await sagemaker.list_endpoints()
            await (await aws.client("logs")).describe_log_groups(limit=1)
            await aws.whoami()
        logging.getLogger("smtop.test").exception("oops %s", SECRET_KEY, exc_info=RuntimeError(f"token={SESSION_TOKEN}"))
    finally:
        remove_debug_log(handler)
    text = path.read_text()
    # The log is useful: botocore's request logs and the signing steps are there...
    assert "ListEndpoints" in text and "DescribeLogGroups" in text and "GetCallerIdentity" in text
    assert "Authorization" in text and "X-Amz-Security-Token" in text
    assert "StringToSign" in text or "Calculating signature" in text
    # ...and no credential survived, in messages, headers or the traceback.
    assert_no_credentials(text)
    assert "Authorization': b'<redacted>'" in text and "X-Amz-Security-Token': b'<redacted>'" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert logging.getLogger("botocore").level == logging.NOTSET  # levels restored


def test_redact_covers_each_shape():
    samples = {
        f"'Authorization': 'AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20261118/us-east-1/logs/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "ab" * 32 + "'": "Authorization': '<redacted>'",
        f"'X-Amz-Security-Token': '{SESSION_TOKEN}'": "'X-Amz-Security-Token': '<redacted>'",
        f"x-amz-security-token:{SESSION_TOKEN}": "x-amz-security-token:<redacted>",
        f"aws_secret_access_key = {SECRET_KEY}": "aws_secret_access_key = <redacted>",
        f'{{"accessToken": "{SESSION_TOKEN}"}}': '"accessToken": "<redacted>"',
        f"https://x/?X-Amz-Credential={ACCESS_KEY}%2F2026&X-Amz-Signature=" + "cd" * 32: "X-Amz-Signature=<redacted>",
        f"Signature:\n{'0f' * 32}": "Signature:\n<redacted>",
    }
    for text, expected in samples.items():
        out = redact(text)
        assert expected in out, (text, out)
        assert_no_credentials(out)
    assert redact("NextToken=abc ListEndpoints fraud-detector-prod") == "NextToken=abc ListEndpoints fraud-detector-prod"


def test_cli_debug_flag_refuses_an_unwritable_file(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "smtop", "--debug", str(tmp_path / "no" / "such" / "dir" / "x.log"), "-b", "--endpoint-url", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 2
    assert "cannot write the debug log" in done.stderr and "Traceback" not in done.stderr


def test_an_access_key_id_keeps_its_prefix_so_keys_can_be_told_apart():
    assert redact(f"UserId {ACCESS_KEY} and AKIAIOSFODNN7EXAMPLE") == "UserId ASIA<redacted> and AKIA<redacted>"
