"""The one owner of AWS credentials and clients.

smtop opens one aiobotocore session and at most one client per service for
its whole run: clients hold connection pools and resolved credentials, so
creating them per call would cost a TLS handshake and a credential lookup
each refresh.  The clients live on an ``AsyncExitStack`` and are closed
together when the session exits.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from datetime import datetime, timezone
from typing import Any, Awaitable, Iterable, Iterator, Literal, TypeVar

from smtop.aws import lean_models, readonly, signin
from smtop.aws.errors import aws_errors
from smtop.errors import CredentialsError, MfaRequiredError, SmtopError
from smtop.models import CallerIdentity

log = logging.getLogger(__name__)

RetryMode = Literal["standard", "adaptive", "legacy"]
T = TypeVar("T")


async def gather_or_raise(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Run AWS calls concurrently; if any failed, raise the first failure.

    Unlike a bare ``gather`` every call is awaited to its end, so no failure
    of a sibling is left unretrieved, and one smtop error (not an
    ``ExceptionGroup``) reaches the caller.
    """
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def parse_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser, fast for the epoch numbers JSON APIs send."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    from botocore.utils import parse_timestamp as botocore_parse

    return botocore_parse(value)


def _load_service_data(session: Any, service: str, lean_dir: Path | None) -> None:
    """Fill the session's loader caches that ``create_client`` reads (thread-safe
    enough: one client is opened at a time, under ``AwsSession._lock``); the
    service's lean model first, if it is not cached yet (smtop.aws.lean_models)."""
    if lean_dir is not None:
        lean_models.prepare(session, service, lean_dir)
    session.get_component("data_loader").load_service_model(service, "service-2")
    session._get_internal_component("endpoint_resolver")


UNVALIDATED = frozenset({"sagemaker", "cloudwatch", "cloudtrail"})
"""Services whose requests botocore does not check before sending.  Every request
to them is built by smtop from its own values (the alarm form checks its fields
first), and the service checks them again anyway; botocore's check costs ~6 ms
per GetMetricData of 60 queries, each refresh.  Logs keeps it: filter patterns
and Insights queries are typed by people."""


def takes_host_prefix(url: str | None) -> bool:
    """Whether a prefixed host (StartLiveTail's ``stream-``, from the operation's
    ``hostPrefix``) can be made of ``url``'s: not of an IP address or ``localhost``
    (the simulator, LocalStack).  botocore's ``Config`` documents turning
    ``inject_host_prefix`` off for "clients providing custom endpoints that should
    not have their host prefix modified"."""
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(url or "").hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


class AwsSession:
    """Async context manager owning one aiobotocore session and its clients.

    Args:
        profile: AWS profile name; ``None`` uses the standard credential chain.
        region: AWS region; ``None`` uses AWS_REGION / the profile's region.
        endpoint_url: one URL for every service (the simulator, LocalStack).
            ``None`` keeps botocore's own resolution, which honours
            ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>``.
        read_only: refuse every operation that could change AWS, before it
            is sent (see ``smtop.aws.readonly``).
        max_attempts: total attempts per call, including the first
            (1 turns retries off, as tests against moto want).
        retry_mode: botocore retry mode; "standard" backs off on throttling
            and transient errors, "adaptive" also rate-limits the client.
        connect_timeout: seconds to wait for a TCP/TLS connection.
        read_timeout: seconds to wait for a response.
        max_pool_connections: HTTP connections per client; bounds how many
            calls to one service run at once.
        mfa_prompter: answers botocore's prompt for a role's MFA code
            (``smtop.aws.signin``); the default never prompts and raises
            ``MfaRequiredError`` instead, as a session inside the console must.

    Credentials come from botocore's whole chain, with the AWS CLI's cache of
    role sessions (``smtop.aws.signin``).  Once a call failed for want of
    credentials (expired, refused, an MFA code needed) the session is signed
    out: every later call fails at once with the same error, without reaching
    AWS, until a new session re-reads the profile.  Nothing retries a dead
    login forever.

    Example:
        >>> async with AwsSession(profile="prod", read_only=True) as aws:
        ...     sagemaker = await aws.client("sagemaker")
    """

    def __init__(
        self,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        read_only: bool = False,
        max_attempts: int = 3,
        retry_mode: RetryMode = "standard",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_pool_connections: int = 20,
        mfa_prompter: signin.Prompter | None = None,
    ) -> None:
        self._profile = profile
        self._region = region
        self._endpoint_url = endpoint_url
        self._read_only = read_only
        self._max_attempts = max_attempts
        self._retry_mode = retry_mode
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_pool_connections = max_pool_connections
        self._mfa_prompter = mfa_prompter or signin.MfaCode()
        self._session: Any = None
        self._credential_method: str | None = None
        self.signed_out: CredentialsError | None = None
        """The credentials failure that ended this session's calls (see the class docstring)."""
        self._lean_dir: Path | None = None
        self._stack: AsyncExitStack | None = None
        self._clients: dict[str, Any] = {}
        self._lock = asyncio.Lock()
        self._identity: CallerIdentity | None = None
        self._identity_lock = asyncio.Lock()

    def __repr__(self) -> str:
        # Never show credentials; the profile and region are what identify a session.
        return f"AwsSession(profile={self.profile!r}, region={self._region!r}, read_only={self._read_only})"

    async def __aenter__(self) -> AwsSession:
        with self.errors():
            # In a thread: importing aiobotocore takes ~0.4 s and reading the
            # profile touches files; the console keeps answering keys meanwhile.
            self._session = await asyncio.to_thread(self._new_session)
        self._stack = AsyncExitStack()
        return self

    def _new_session(self) -> Any:
        from aiobotocore.session import AioSession

        session = AioSession(profile=self._profile)
        # Before botocore's loader exists: it reads smtop's cut-down models first,
        # and smtop's services of its endpoint data.  Neither when the user has
        # model directories of their own (their endpoints.json may be there too).
        self._lean_dir = lean_models.data_path()
        if self._lean_dir is not None:
            session.set_config_variable("data_path", str(self._lean_dir))
            session._internal_components.lazy_register_component(
                "endpoint_resolver", lambda: lean_models.endpoint_resolver(session)
            )
        # botocore turns every timestamp into a local-time datetime through
        # dateutil (~40 us each): most of a first metric fill's time.
        # Epoch numbers become UTC datetimes directly (same instant).
        session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp)
        if self._region is None:
            self._region = session.get_config_variable("region")
        if self._endpoint_url:
            signin.route_all_clients(session, self._endpoint_url)
        signin.install(session, self._region, self._mfa_prompter, self._endpoint_url)
        return session

    async def __aexit__(self, *exc_info: object) -> None:
        stack, self._stack = self._stack, None
        self._clients.clear()
        if stack is not None:
            await stack.aclose()

    @property
    def profile(self) -> str | None:
        """The profile in use (explicit, or AWS_PROFILE), for the header."""
        if self._profile:
            return self._profile
        if self._session is not None:
            return self._session.get_config_variable("profile")
        return None

    @property
    def region(self) -> str | None:
        """The resolved region (explicit, or from the environment/profile)."""
        return self._region

    @property
    def endpoint_url(self) -> str | None:
        """The explicit endpoint URL, if one was given."""
        return self._endpoint_url

    @property
    def read_only(self) -> bool:
        return self._read_only

    @contextmanager
    def errors(self, service: str | None = None, operation: str | None = None) -> Iterator[None]:
        """``aws_errors`` with sign-in advice for this session's profile and
        credential source; a credentials failure signs the session out."""
        try:
            with aws_errors(service, operation, profile=self.profile, method=self._credential_method):
                yield
        except MfaRequiredError as error:
            error.serial = error.serial or signin.mfa_serial(self._profile)
            self.signed_out = self.signed_out or error
            raise
        except CredentialsError as error:
            error.renewable = self._credential_method != "env"
            self.signed_out = self.signed_out or error
            raise

    async def sign_in(self) -> str | None:
        """Resolve the credentials now, asking for an MFA code if the profile's
        role needs one (through this session's prompter); return where they
        came from (botocore's provider name: "assume-role", "sso", "env"…).

        Raises:
            CredentialsError: none found, refused, or a code needed and not given.
        """
        with self.errors("sts"):
            credentials = await self._credentials()
            await credentials.get_frozen_credentials()
        return self._credential_method

    async def _credentials(self) -> Any:
        """The session's credentials object (botocore resolves the chain once
        and caches it; a role's AssumeRole waits for the first call)."""
        from botocore.exceptions import NoCredentialsError

        credentials = await self._session.get_credentials()
        if credentials is None:
            raise NoCredentialsError()
        self._credential_method = credentials.method
        return credentials

    def _refuse_when_signed_out(self, **_: Any) -> None:
        """botocore event handler: no call leaves a signed-out session."""
        if self.signed_out is not None:
            raise self.signed_out.with_traceback(None)  # raised again and again: no growing traceback

    async def client(self, service: str) -> Any:
        """Return the client for ``service`` (e.g. "sagemaker"), creating it once.

        Raises:
            ConfigurationError: unknown profile or no region.
            SmtopError: the session is not open.
        """
        client = self._clients.get(service)
        if client is not None:
            return client
        async with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = await self._open(service)
                self._clients[service] = client
        return client

    async def whoami(self) -> CallerIdentity:
        """Who the credentials belong to (STS GetCallerIdentity), asked once per
        session: the header, the acknowledgements (who acked) and the CloudTrail
        pacer (which account) share the answer, which cannot change while the
        session lives (signing in again opens a new session)."""
        async with self._identity_lock:
            if self._identity is None:
                sts = await self.client("sts")
                with self.errors("sts", "GetCallerIdentity"):
                    reply = await sts.get_caller_identity()
                self._identity = CallerIdentity(
                    account=reply.get("Account", ""), arn=reply.get("Arn", ""), user_id=reply.get("UserId", "")
                )
        return self._identity

    async def _open(self, service: str) -> Any:
        if self._stack is None:
            raise SmtopError("The AWS session is not open; use `async with AwsSession(...)`.")
        from aiobotocore.config import AioConfig

        config = AioConfig(
            # botocore's "max_attempts" key counts retries only; "total_max_attempts"
            # counts the first attempt too, like AWS_MAX_ATTEMPTS does.
            retries={"total_max_attempts": self._max_attempts, "mode": self._retry_mode},
            connect_timeout=self._connect_timeout,
            read_timeout=self._read_timeout,
            max_pool_connections=self._max_pool_connections,
            parameter_validation=service not in UNVALIDATED,
        )
        with self.errors(service):
            # The service's model (SageMaker's is 0.4 MB of gzipped JSON) and the
            # endpoint rules are read in a thread, not on the event loop.
            await asyncio.to_thread(_load_service_data, self._session, service, self._lean_dir)
            stack = self._stack
            if stack is None:  # closed while the model was read (the console quitting)
                raise SmtopError("The AWS session closed before its client was opened.")
            creator = self._session.create_client(
                service, region_name=self._region, endpoint_url=self._endpoint_url, config=config
            )
            client = await stack.enter_async_context(creator)
            if self._credential_method is None:
                await self._credentials()  # already resolved for the client: only its source is read
        if not takes_host_prefix(client.meta.endpoint_url):
            client.meta.config.inject_host_prefix = False
        client.meta.events.register(f"{readonly.EVENT}.*.*", self._refuse_when_signed_out)
        if self._read_only:
            client.meta.events.register(f"{readonly.EVENT}.*.*", readonly.refuse_writes)
        log.debug("opened %s client for %s", service, client.meta.endpoint_url)
        return client
