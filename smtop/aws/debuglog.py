"""``smtop --debug FILE``: a debug log of every AWS call, with credentials removed.

botocore at DEBUG writes the signed request of every call: the Authorization
header (access key id, signature), ``X-Amz-Security-Token``, the canonical
request and the string to sign.  People attach such logs to tickets, so the
file never holds any of them: a filter on the file's handler rewrites every
record (message, arguments and traceback) before it is written, and the file
is created readable by its owner only.

Redacted: AWS access key ids (``AKIA…``/``ASIA…``, kept to their first four
characters so a person can still tell keys apart), secret access keys and
session/SSO/web identity tokens and MFA codes after their names or inside
their XML elements (STS's AssumeRole answers), the values of the AWS credential
environment variables wherever they appear, Authorization and
X-Amz-Security-Token header values, presigned-URL credentials, and every
SigV4 signature (any 64-digit hex string, which also hides payload hashes).
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from pathlib import Path
from typing import Iterable

LOGGERS = ("smtop", "botocore", "aiobotocore")
"""The loggers written to the debug file, all at DEBUG."""
REDACTED = "<redacted>"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
_SECRET_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*b?['\"]?)(?:AWS4-HMAC-SHA256|Bearer|Basic)?[^'\"\n]*"), r"\1" + REDACTED),
    # Header values and named secrets, in dict reprs, headers, env dumps and INI text.
    (
        re.compile(
            r"(?i)((?:x-amz-security-token|x-amz-credential|x-amz-signature|aws_secret_access_key|secret_?access_?key"
            r"|secret_key|aws_session_token|session_?token|security_?token|access_?token|refresh_?token"
            r"|client_?secret|web_?identity_?token|sso_?bearer_?token|token_?code)['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,&}\]]+"
        ),
        r"\1" + REDACTED,
    ),
    # The same in XML answers (STS AssumeRole*: <SecretAccessKey>, <SessionToken>).
    (
        re.compile(r"(?i)(<(?:SecretAccessKey|SessionToken|SecurityToken|Token|WebIdentityToken|TokenCode)>)[^<]*"),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\b(AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA)[A-Z0-9]{12,}\b"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b[0-9a-f]{64}\b"), REDACTED),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential-looking part replaced by ``<redacted>``."""
    for pattern, replacement in _PATTERNS:  # first: an access key id keeps its telling prefix
        text = pattern.sub(replacement, text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record so that no credential reaches the handler's output.

    Args:
        secrets: literal values to remove wherever they appear (by default
            the AWS credential environment variables at the time of creation).
    """

    def __init__(self, secrets: Iterable[str] | None = None) -> None:
        super().__init__()
        if secrets is None:
            secrets = (os.environ.get(name, "") for name in _SECRET_ENV)
        # Longest first: a token that contains a shorter secret is removed whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message, self.secrets)
        record.args = ()
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip(), self.secrets)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def install_debug_log(path: str | os.PathLike[str]) -> logging.Handler:
    """Write smtop's and botocore's DEBUG logs to ``path``, redacted.

    Returns:
        The handler (tests remove it with :func:`remove_debug_log`).

    Raises:
        OSError: the file cannot be created.
    """
    target = Path(path)
    # Owner-only from the first byte: create with 0600 before logging opens it.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    handler = logging.FileHandler(target, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    handler.previous_levels = {name: logging.getLogger(name).level for name in LOGGERS}  # type: ignore[attr-defined]
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    logging.getLogger("smtop").debug("debug log started (credentials are redacted)")
    return handler


def remove_debug_log(handler: logging.Handler) -> None:
    """Detach and close a handler from :func:`install_debug_log`, restoring the levels."""
    previous = getattr(handler, "previous_levels", {})
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.setLevel(previous.get(name, logging.NOTSET))
    handler.close()
