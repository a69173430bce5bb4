"""Turn botocore's and aiohttp's exceptions into smtop's own, in one place.

Every AWS call in ``smtop.aws`` runs inside :func:`aws_errors`, so nothing
botocore-shaped escapes this package: the UI and the CLI only see
``smtop.errors`` exceptions whose message is one sentence a person paged at
3 a.m. can act on (what failed, and what to do about it).
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import contextmanager
from typing import Iterator

from botocore import exceptions as boto

from smtop.errors import (
    AccessDeniedError,
    ConfigurationError,
    ConnectionFailedError,
    CredentialsError,
    MfaRequiredError,
    NotFoundError,
    ServiceError,
    SmtopError,
    ThrottledError,
    UnsupportedOperationError,
)

_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_INVALID_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
}
_NOT_FOUND = {"ResourceNotFound", "ResourceNotFoundException", "NoSuchEntity", "NotFound"}
# What an endpoint answers for an operation it lacks (a region or partition
# without it): the query protocol's InvalidAction (every query API's "Common
# Errors"), the JSON and REST-JSON front ends' UnknownOperationException.
_UNSUPPORTED = {"InvalidAction", "UnknownOperationException"}

# botocore's service name -> the prefix IAM policies use for its actions.
# Only the ones that differ need listing; CloudWatch's endpoint is "monitoring"
# but its IAM actions are "cloudwatch:*".
_IAM_PREFIX = {"cloudwatch": "cloudwatch", "logs": "logs", "monitoring": "cloudwatch"}


def iam_action(service: str | None, operation: str | None) -> str | None:
    """The IAM action a call needs, e.g. ``cloudwatch:GetMetricData``."""
    if not service or not operation:
        return None
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def translate(
    error: BaseException,
    *,
    service: str | None = None,
    operation: str | None = None,
    profile: str | None = None,
    method: str | None = None,
) -> SmtopError:
    """Return the smtop exception that tells the user what ``error`` means.

    Args:
        error: anything botocore, aiohttp or asyncio raised during an AWS call.
        service: botocore service name (``"sagemaker"``, ``"cloudwatch"``...).
        operation: API operation name (``"DescribeEndpoint"``); taken from a
            ``ClientError`` when not given.
        profile: the AWS profile in use, named in "sign in again" advice.
        method: where the credentials came from (botocore's name for the
            provider: "sso", "env", "assume-role"...), which decides that advice.
    """
    if isinstance(error, SmtopError):
        return error
    if isinstance(error, boto.ClientError):
        if error.operation_name in _SIGN_IN_OPERATIONS:
            return _sign_in_refused(error, service=service, operation=operation)
        operation = operation or error.operation_name
    where = dict(service=service, operation=operation)
    doing = _doing(service, operation)
    login = sign_in_advice(profile, method)

    if isinstance(error, boto.ClientError):
        return _from_client_error(error, doing, login, where)
    if isinstance(error, boto.RefreshWithMFAUnsupportedError):
        return MfaRequiredError("Your MFA role session has expired; it needs a new MFA code.", **where)
    if isinstance(error, boto.ProfileNotFound):
        name = error.kwargs.get("profile") or profile
        return ConfigurationError(
            f"The AWS profile {name!r} is not in your AWS config; check --profile, AWS_PROFILE "
            "and ~/.aws/config.",
            **where,
        )
    if isinstance(error, boto.NoRegionError):
        return ConfigurationError(
            "No AWS region is set; pass --region, set AWS_REGION, or add region= to your profile.",
            **where,
        )
    if isinstance(error, (boto.UnauthorizedSSOTokenError, boto.SSOTokenLoadError, boto.SSOError)):
        return CredentialsError(f"Your AWS SSO session has expired or is missing; {sign_in_advice(profile, 'sso')}.", **where)
    if isinstance(error, boto.TokenRetrievalError):
        return CredentialsError(f"Could not refresh your AWS login token; {login}.", **where)
    if isinstance(error, boto.NoCredentialsError):
        return CredentialsError(
            "No AWS credentials were found; set AWS_PROFILE or pass --profile, "
            f"or {login}.",
            **where,
        )
    if isinstance(error, (boto.PartialCredentialsError, boto.CredentialRetrievalError)):
        return CredentialsError(f"Your AWS credentials could not be loaded ({error}); {login}.", **where)
    if isinstance(error, (boto.ConnectTimeoutError, boto.ReadTimeoutError)):
        url = error.kwargs.get("endpoint_url", "the AWS endpoint")
        return ConnectionFailedError(f"{url} did not answer in time while {doing}; check the network.", **where)
    if isinstance(error, (boto.EndpointConnectionError, boto.ConnectionClosedError)):
        url = error.kwargs.get("endpoint_url", "the AWS endpoint")
        return ConnectionFailedError(
            f"Could not connect to {url} while {doing}; check the network, the region and the endpoint URL.",
            **where,
        )
    if isinstance(error, boto.ProxyConnectionError):
        return ConnectionFailedError(f"Could not connect through the proxy while {doing}; check HTTPS_PROXY.", **where)
    if isinstance(error, boto.ParamValidationError):
        return ConfigurationError(f"smtop sent invalid parameters while {doing}: {error}", **where)
    if isinstance(error, (boto.HTTPClientError, asyncio.TimeoutError, OSError)) or _is_aiohttp_error(error):
        return ConnectionFailedError(f"The connection failed while {doing}: {error or type(error).__name__}.", **where)
    if isinstance(error, boto.BotoCoreError):
        return ServiceError(f"The AWS SDK failed while {doing}: {error}", **where)
    if _is_garbled_reply(error):
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        return ServiceError(f"The answer could not be read while {doing} ({first}); is the endpoint URL an AWS API?", **where)
    return ServiceError(f"Unexpected error while {doing}: {error!r}", **where)


@contextmanager
def aws_errors(
    service: str | None = None,
    operation: str | None = None,
    *,
    profile: str | None = None,
    method: str | None = None,
) -> Iterator[None]:
    """Re-raise whatever an AWS call raises as an ``smtop.errors`` exception.

    A plain (sync) context manager on purpose: it works around ``await`` and
    ``async for`` alike, and adds no event-loop hop.

    Example:
        >>> with aws_errors("cloudwatch", "GetMetricData"):
        ...     page = await client.get_metric_data(...)
    """
    try:
        yield
    except SmtopError:
        raise
    except (boto.BotoCoreError, boto.ClientError, asyncio.TimeoutError, OSError) as error:
        raise translate(error, service=service, operation=operation, profile=profile, method=method) from error
    except Exception as error:
        if _is_expired_after_refresh(error):
            # botocore raises a bare RuntimeError when a source (credential_process,
            # a container endpoint) hands back credentials that have already expired.
            raise CredentialsError(
                f"Your AWS credentials were renewed but had already expired; {sign_in_advice(profile, method)}.",
                service=service,
                operation=operation,
            ) from error
        if not (_is_aiohttp_error(error) or _is_garbled_reply(error)):
            raise  # a bug of ours: let it show as one
        raise translate(error, service=service, operation=operation, profile=profile, method=method) from error


def _is_expired_after_refresh(error: BaseException) -> bool:
    return type(error) is RuntimeError and "refreshed credentials are still expired" in str(error)


def _is_garbled_reply(error: BaseException) -> bool:
    # botocore's ResponseParserError is no BotoCoreError: an answer that is not
    # what the API returns (a proxy's HTML page, a cut-off body).
    parsers = sys.modules.get("botocore.parsers")
    return parsers is not None and isinstance(error, parsers.ResponseParserError)


def _is_aiohttp_error(error: BaseException) -> bool:
    # aiobotocore wraps most aiohttp errors itself; for the rest, look aiohttp
    # up only if it is loaded (importing it costs ~0.3 s of start-up).
    aiohttp = sys.modules.get("aiohttp")
    return aiohttp is not None and isinstance(error, aiohttp.ClientError)


def _from_client_error(error: boto.ClientError, doing: str, login: str, where: dict) -> SmtopError:
    body = error.response.get("Error", {})
    code = str(body.get("Code", ""))
    message = str(body.get("Message", "")).strip()
    meta = error.response.get("ResponseMetadata", {})
    status = meta.get("HTTPStatusCode")
    content_type = str(meta.get("HTTPHeaders", {}).get("content-type", ""))

    if code in _THROTTLED:
        # No promise of when: each panel adds its own "retrying in Ns".
        return ThrottledError(f"AWS throttled smtop while {doing} (too many requests).", **where)
    if code in _DENIED:
        action = iam_action(where["service"], where["operation"])
        needs = f"needs the IAM permission {action}" if action else "is not allowed"
        return AccessDeniedError(f"Access denied while {doing}: your role {needs}.", action=action, **where)
    if code in _EXPIRED:
        return CredentialsError(f"Your AWS credentials have expired; {login}.", **where)
    if code in _INVALID_CREDENTIALS:
        return CredentialsError(f"AWS did not accept your credentials ({code}); {login}.", **where)
    if code in _NOT_FOUND or (code == "ValidationException" and "could not find" in message.lower()):
        return NotFoundError(f"Not found while {doing}: {_sentence(message) or code}", **where)
    if code in _UNSUPPORTED:
        return UnsupportedOperationError(
            f"{where['operation'] or 'This operation'} is not available at this endpoint (AWS answered {code}): "
            "the region or partition does not offer it yet.",
            **where,
        )
    if status in (404, 500, 501) and ("html" in content_type or message.startswith("<")):
        # A local endpoint (moto, a proxy) that lacks the operation answers
        # with a web page instead of an AWS error body.
        return UnsupportedOperationError(
            f"The service at this endpoint URL does not implement {where['operation'] or 'this operation'}.",
            **where,
        )
    return ServiceError(f"AWS returned {code or status} while {doing}: {_sentence(message) or 'no details'}", **where)


def _doing(service: str | None, operation: str | None) -> str:
    if operation and service:
        return f"calling {service} {operation}"
    if operation:
        return f"calling {operation}"
    return f"talking to {service}" if service else "talking to AWS"


_SIGN_IN_OPERATIONS = frozenset({"AssumeRole", "AssumeRoleWithWebIdentity", "GetRoleCredentials", "CreateToken"})
"""What botocore's credential providers call (STS, SSO, SSO OIDC) while signing in."""


def _sign_in_refused(error: boto.ClientError, **where: str | None) -> SmtopError:
    """A credential provider's own call was refused: the role cannot be assumed
    (its trust policy, a wrong MFA code, an expired web identity token) or the
    SSO portal refused the token.  Not "your role needs sts:AssumeRole" on the
    call that happened to need the credentials."""
    body = error.response.get("Error", {})
    code = str(body.get("Code", ""))
    message = _sentence(str(body.get("Message", "")))
    said = f"{error.operation_name} answered {code or 'an error'}" + (f": {message}" if message else ".")
    if code in _THROTTLED:  # the next try may well sign in: not a sign-out
        return ThrottledError(f"Signing in was throttled: {said}", **where)
    if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        return ServiceError(f"Signing in failed on the service's side: {said}", **where)
    return CredentialsError(f"Signing in failed: {said}", **where)


def sign_in_advice(profile: str | None, method: str | None = None) -> str:
    """What to do when the credentials from ``method`` (botocore's provider
    name) are missing or expired, in one clause."""
    named = f" --profile {profile}" if profile else ""
    if method == "sso":
        return f"run `aws sso login{named}`"
    if method == "login":
        return f"run `aws login{named}`"
    if method == "env":
        return "export fresh AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN and start smtop again"
    if method in ("shared-credentials-file", "config-file"):
        return "put fresh keys in your AWS credentials file (or run the tool that writes them)"
    if method == "custom-process":
        return "check the profile's credential_process (signing in again runs it again)"
    if method == "assume-role":
        return "signing in again assumes the role anew"
    if method == "assume-role-with-web-identity":
        return "check the web identity token file (EKS or your CI renews it)"
    if method == "container-role":
        return "check the container's credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI)"
    if method == "iam-role":
        return "check the instance's IAM role and its metadata service"
    return f"run `aws sso login{named}` (or refresh your access keys)"


def _sentence(message: str) -> str:
    message = " ".join(message.split())
    if message and message[-1] not in ".!?":
        message += "."
    return message
