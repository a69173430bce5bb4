"""smtop's own exceptions: what the user reads when something fails.

The AWS layer turns botocore's errors into these at its boundary
(``smtop.aws.errors``); the UI and the CLI only ever see these, each with a
message written for a person who has to act on it.
"""

from __future__ import annotations


class SmtopError(Exception):
    """Base class; ``str(error)`` is a complete sentence for the user."""

    def __init__(self, message: str, *, service: str | None = None, operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.service = service
        self.operation = operation

    @property
    def retryable(self) -> bool:
        return False


class ConfigurationError(SmtopError):
    """Bad settings: unknown profile, no region, malformed arguments."""


class CredentialsError(SmtopError):
    """No credentials, or they expired: the user has to sign in again.

    The message says what to do outside smtop (``aws sso login``, new keys);
    once done, a new session re-reads the profile (the console's sign-in key).
    """

    renewable: bool = True
    """Whether signing in again inside smtop can help: not for keys from the
    environment, which a running process cannot re-read."""


class MfaRequiredError(CredentialsError):
    """The profile's role asks for an MFA code and none can be asked here: the
    role session expired (botocore cannot refresh it without a code) or there is
    no terminal.  ``serial`` names the MFA device when the profile says it."""

    def __init__(self, message: str, *, serial: str | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.serial = serial


class AccessDeniedError(SmtopError):
    """The caller lacks an IAM permission; ``action`` names it (e.g. cloudwatch:GetMetricData)."""

    def __init__(self, message: str, *, action: str | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.action = action


class ThrottledError(SmtopError):
    """AWS asked us to slow down."""

    @property
    def retryable(self) -> bool:
        return True


class NotFoundError(SmtopError):
    """The resource does not exist (any more)."""


class ConnectionFailedError(SmtopError):
    """The endpoint could not be reached or the connection dropped."""

    @property
    def retryable(self) -> bool:
        return True


class ReadOnlyError(SmtopError):
    """A call that would change AWS was refused because smtop runs with --read-only."""


class UnsupportedOperationError(SmtopError):
    """The service behind the endpoint URL does not implement the operation."""


class ServiceError(SmtopError):
    """Any other error the service returned."""

    @property
    def retryable(self) -> bool:
        return True


class InvalidFilterPatternError(SmtopError):
    """CloudWatch Logs rejected a filter pattern; ``pattern`` is what the user typed.

    Not retryable: the same pattern fails again, so the log panel shows the
    message and waits for a new pattern.
    """

    def __init__(self, message: str, *, pattern: str = "", **kw) -> None:
        super().__init__(message, **kw)
        self.pattern = pattern
