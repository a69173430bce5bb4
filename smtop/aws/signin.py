"""Signing in as people do: every source of botocore's credential chain, and an
MFA code asked where a person can answer it.

botocore resolves credentials on a client's first call.  In the console that is
after Textual owns the terminal, where botocore's ``getpass`` prompt for an MFA
code is drawn over the screen and no key reaches it.  So:

- A profile whose role chain names an ``mfa_serial`` is signed in before the
  console starts, on the terminal, by botocore's own prompt.  ``mfa_serial``
  decides it from the config files alone, so no other profile pays for the AWS
  SDK's import before the first frame.
- Role credentials go to the AWS CLI's cache, ``~/.aws/cli/cache``.  The AWS
  CLI User Guide ("Use an IAM role in the AWS CLI"): a role profile's temporary
  credentials "are stored in ~/.aws/cli/cache" and later commands "use the
  cached temporary credentials until they expire".  Sharing it means one MFA
  code serves smtop's console, its batch runs, the consoles of --serve and the
  AWS CLI itself; botocore's own default is a cache in memory, per process.
  botocore's cache key is made of the role's arguments, not of the endpoint
  that answered: credentials from another endpoint (the simulator, a
  LocalStack) would be served to the real profile, smtop's and the AWS CLI's,
  until they expire.  So when the credential calls go anywhere but AWS (an
  endpoint URL for STS or SSO, given or configured) the cache is smtop's own,
  one directory per endpoint.
- Inside the console nothing prompts.  Its sessions get an ``MfaCode``: it
  answers botocore's prompt with the one code the console's dialog collected,
  or raises ``MfaRequiredError``, which the console shows with its sign-in key.

botocore refreshes role credentials by itself, except a role that needs MFA:
its refresher then raises ``RefreshWithMFAUnsupportedError`` once the session
enters its mandatory refresh window (10 minutes before it expires).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from smtop.errors import MfaRequiredError

Prompter = Callable[[str], str]
"""What botocore calls for an MFA code: a prompt in, the code out."""


CREDENTIAL_SERVICES = ("sts", "sso", "sso-oidc")
"""The services botocore's credential providers call (roles, web identity, SSO)."""


def cache_dir(endpoint: str | None = None) -> Path:
    """Where role credentials are cached: the AWS CLI's own cache for AWS, and
    smtop's, per endpoint, for an endpoint URL (see the module docstring)."""
    if endpoint is None:
        return Path.home() / ".aws" / "cli" / "cache"
    import hashlib

    import platformdirs

    return platformdirs.user_cache_path("smtop") / "credentials" / hashlib.sha256(endpoint.encode()).hexdigest()[:16]


def credential_endpoint(session: Any, explicit: str | None) -> str | None:
    """The endpoint URL the credential providers' clients will use instead of
    AWS's, if any: ``explicit`` (--endpoint-url, given to every client), else
    one configured for STS, SSO or SSO OIDC (AWS_ENDPOINT_URL and its
    per-service variables, a profile's ``endpoint_url`` or ``services``
    section), as botocore resolves it for those clients."""
    if explicit:
        return explicit
    if session.get_config_variable("ignore_configured_endpoint_urls"):
        return None
    from botocore.configprovider import ConfiguredEndpointProvider

    for service in CREDENTIAL_SERVICES:
        url = ConfiguredEndpointProvider(
            full_config=session.full_config, scoped_config=session.get_scoped_config(), client_name=service
        ).provide()
        if url:
            return str(url)
    return None


class CredentialCache:
    """botocore's credential cache: the cache files, and a memory copy.

    The files are botocore's own format (``JSONFileCache``: one JSON document
    per AssumeRole, web identity or SSO answer, readable by you only) and come
    first: another process (the AWS CLI, another smtop) may have renewed a
    session there.  When they cannot be read or written (a read-only home) the
    memory copy, one per directory for the whole process, still hands a
    sign-in before the console (smtop.cli.sign_in_first) to the console.
    """

    _memory_by_directory: dict[str, dict[str, Any]] = {}

    def __init__(self, directory: Path | None = None) -> None:
        from botocore.utils import JSONFileCache

        path = str(directory or cache_dir())
        self._memory = self._memory_by_directory.setdefault(path, {})
        self._files = JSONFileCache(path)

    def __contains__(self, key: str) -> bool:
        return self._load(key) is not None

    def __getitem__(self, key: str) -> Any:
        value = self._load(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._memory[key] = value
        try:
            self._files[key] = value
        except (OSError, ValueError):
            pass  # the memory copy serves this process

    def _load(self, key: str) -> Any:
        try:
            return self._files[key]
        except (KeyError, OSError, ValueError):
            return self._memory.get(key)


class MfaCode:
    """The MFA prompter of a session that must not prompt (the console, --serve,
    a batch run without a terminal): it answers with the one code it was given
    (the console's dialog), then raises MfaRequiredError."""

    def __init__(self, code: str | None = None, *, why: str = "") -> None:
        self._code = code
        self._why = why

    def __call__(self, prompt: str) -> str:
        code, self._code = self._code, None
        if code is None:
            raise MfaRequiredError(
                f"This profile's role needs an MFA code{self._why}.", serial=_serial_in(prompt)
            )
        return code

    def __repr__(self) -> str:
        return "MfaCode(<redacted>)" if self._code else "MfaCode(None)"


def ask_on_terminal(prompt: str) -> str:
    """botocore's own prompt (getpass, on the controlling terminal), or
    MfaRequiredError when there is no terminal to ask on."""
    if not sys.stdin.isatty():
        raise MfaRequiredError(
            "This profile's role needs an MFA code and there is no terminal to ask it on; "
            "run smtop from a terminal once (the role session is then cached in ~/.aws/cli/cache).",
            serial=_serial_in(prompt),
        )
    try:
        return getpass.getpass(prompt)
    except EOFError:  # ctrl+d at the prompt
        raise MfaRequiredError("No MFA code was entered.", serial=_serial_in(prompt)) from None


def _serial_in(prompt: str) -> str | None:
    # botocore's prompt is "Enter MFA code for <mfa_serial>: ".
    marker = " for "
    if marker in prompt:
        return prompt.split(marker, 1)[1].rstrip(": ").strip() or None
    return None


def install(session: Any, region: str | None, prompter: Prompter, endpoint_url: str | None = None) -> None:
    """Give ``session`` botocore's default credential chain with the cache of
    its credential endpoint and ``prompter``.  Registered before the session's
    first client, so every credential lookup of the session (and of a role's
    source profile) goes through it, as the AWS CLI does with its own cache."""
    from aiobotocore.credentials import create_credential_resolver

    cache = CredentialCache(cache_dir(credential_endpoint(session, endpoint_url)))
    resolver = create_credential_resolver(session, cache=cache, region_name=region)
    # botocore takes the prompter only as a constructor argument of the provider
    # that create_credential_resolver builds; tests/test_signin.py's MFA tests
    # fail if the attribute stops being the one it calls.
    resolver.get_provider("assume-role")._prompter = prompter
    session.register_component("credential_provider", resolver)


def route_all_clients(session: Any, endpoint_url: str) -> None:
    """Send every client of ``session`` to ``endpoint_url``, those that
    botocore's credential providers open too (STS for a role, SSO and its
    OIDC): ``--endpoint-url`` means every AWS call.  Otherwise a role profile
    against the simulator would ask the real STS for its credentials."""
    create = session.create_client

    def create_client(service_name: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("endpoint_url") is None:
            kwargs["endpoint_url"] = endpoint_url
        return create(service_name, *args, **kwargs)

    session.create_client = create_client


def mfa_serial(profile: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """The MFA device a sign-in as ``profile`` will ask a code for, from the
    AWS config and credentials files alone (botocore's config loader only: the
    rest of the SDK is not imported before the console's first frame).

    Follows the profile's role chain through ``source_profile`` as botocore's
    AssumeRoleProvider does; a ``credential_source`` or a profile without a
    role ends it.  Environment keys win over an implicit profile (botocore's
    chain looks at them first unless a profile was named explicitly).
    """
    explicit = profile is not None
    name = profile or environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    if not explicit and environ.get("AWS_ACCESS_KEY_ID"):
        return None
    profiles = _profiles(environ)
    seen: set[str] = set()
    while name and name not in seen:
        seen.add(name)
        config = profiles.get(name, {})
        if "role_arn" not in config:
            return None
        if config.get("mfa_serial"):
            return str(config["mfa_serial"])
        name = config.get("source_profile")
    return None


def _profiles(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The profiles of the config file with the credentials file's merged in,
    as botocore's Session.full_config builds them."""
    from botocore.configloader import load_config, raw_config_parse
    from botocore.exceptions import BotoCoreError

    home = Path.home() / ".aws"
    config_file = environ.get("AWS_CONFIG_FILE") or str(home / "config")
    credentials_file = environ.get("AWS_SHARED_CREDENTIALS_FILE") or str(home / "credentials")
    try:
        profiles = load_config(config_file).get("profiles", {})
        for name, values in raw_config_parse(credentials_file).items():
            profiles.setdefault(name, {}).update(values)
    except (BotoCoreError, OSError):  # a malformed file: botocore's own load says what is wrong, later
        return {}
    return profiles
