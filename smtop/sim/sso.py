"""The IAM Identity Center (SSO) endpoints botocore's SSO credential provider calls.

moto has no SSO portal, so an SSO profile (``sso_session`` or the legacy
``sso_start_url``) could not sign in against the simulator.  Two operations are
answered, as their API references describe them:

- "GetRoleCredentials" (AWS IAM Identity Center Portal API Reference):
  ``GET /federation/credentials?role_name=R&account_id=A`` with the access token
  in the ``x-amz-sso_bearer_token`` header, unsigned; the answer is
  ``{"roleCredentials": {accessKeyId, secretAccessKey, sessionToken,
  expiration}}``, the expiration in epoch milliseconds.  No token: HTTP 401
  ``UnauthorizedException``; no role or account: 400 ``InvalidRequestException``.
- "CreateToken" (IAM Identity Center OIDC API Reference) with
  ``grantType=refresh_token``: ``POST /token``, a JSON body with clientId,
  clientSecret and refreshToken; the answer has accessToken, tokenType
  ``Bearer``, expiresIn (seconds) and a new refreshToken.  botocore calls it to
  renew an ``sso_session`` token that is about to expire.  Other grant types
  (``aws sso login``'s device and browser flows) need a person at a browser:
  400 ``UnsupportedGrantTypeException``.

Errors are REST-JSON, as both services speak it: the status code, the code in
``x-amzn-ErrorType`` and ``{"message": …}``.

The credentials are for the role IAM Identity Center made in the account for
the permission set (``role_name``): "AWSReservedSSO_<permission set>_<unique
suffix>" under the path ``/aws-reserved/sso.amazonaws.com/`` (IAM Identity
Center User Guide, "Referencing permission sets in resource policies, Amazon
EKS, and AWS KMS").  AWS names the session after the user; the portal knows
no user, so it names it after the token.

The portal cannot tell a valid token from another (it issued none): any token
is accepted.  botocore checks a cached token's ``expiresAt`` itself before it
calls, so an expired login still fails the way it does against AWS.  The role
credentials are moto's, from an assumed role in the requested account, so
calls made with them land in that account; their expiration is counted from
the wall clock, which is what the client compares it with.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from smtop.sim.wsgi import read_body

BEARER_HEADER = "x-amz-sso_bearer_token"
"""GetRoleCredentials' token header.  Its underscore makes werkzeug drop it (WSGI
cannot tell ``a_b`` from ``a-b``), so the request handler hands it over apart."""
_BEARER_ENVIRON = "smtop.sso_bearer_token"

ROLE_SECONDS = 3600
"""How long role credentials last (a permission set's session duration defaults to one hour)."""
TOKEN_SECONDS = 3600
"""How long a refreshed access token lasts."""


class SsoPortal:
    """WSGI middleware answering the SSO portal and OIDC calls; the rest goes to ``app``."""

    def __init__(self, app: Callable) -> None:
        self._app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if method == "GET" and path == "/federation/credentials":
            return self._role_credentials(environ, start_response)
        if method == "POST" and path == "/token" and not environ.get("HTTP_AUTHORIZATION"):
            return self._create_token(environ, start_response)
        return self._app(environ, start_response)

    def _role_credentials(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        token = environ.get(_BEARER_ENVIRON, "")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        role, account = query.get("role_name", [""])[0], query.get("account_id", [""])[0]
        if not token:
            return _error(start_response, 401, "UnauthorizedException", "Session token not found or invalid")
        if not role or not (account.isdigit() and len(account) == 12):
            return _error(start_response, 400, "InvalidRequestException", "role_name and a 12-digit account_id are required")
        credentials = _assume(account, role, session=_session_name(token))
        return _json(start_response, 200, {"roleCredentials": credentials})

    def _create_token(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            request = json.loads(read_body(environ) or b"{}")
        except ValueError:
            return _error(start_response, 400, "InvalidRequestException", "The request body is not JSON")
        if request.get("grantType") != "refresh_token":
            return _error(start_response, 400, "UnsupportedGrantTypeException", "Only refresh_token grants are simulated")
        if not (request.get("clientId") and request.get("clientSecret") and request.get("refreshToken")):
            return _error(start_response, 400, "InvalidRequestException", "clientId, clientSecret and refreshToken are required")
        return _json(
            start_response,
            200,
            {
                "accessToken": "aoa" + secrets.token_urlsafe(48),
                "tokenType": "Bearer",
                "expiresIn": TOKEN_SECONDS,
                "refreshToken": "aor" + secrets.token_urlsafe(48),
            },
        )


def keeping_bearer_token(handler: type) -> type:
    """``handler`` (a werkzeug request handler) that keeps BEARER_HEADER for SsoPortal."""

    class Handler(handler):
        def make_environ(self) -> dict:
            environ = super().make_environ()
            token = self.headers.get(BEARER_HEADER)
            if token is not None:
                environ[_BEARER_ENVIRON] = token
            return environ

    return Handler


def _session_name(token: str) -> str:
    # The same login gets the same session name (CloudTrail shows who).
    return "sso-" + hashlib.sha256(token.encode()).hexdigest()[:12]


def _reserved_role(account: str, permission_set: str) -> str:
    """The role's name: the permission set's, and a suffix that is the same for
    the same account and permission set."""
    suffix = hashlib.sha256(f"{account}/{permission_set}".encode()).hexdigest()[:16]
    return f"AWSReservedSSO_{permission_set}_{suffix}"


def _assume(account: str, role: str, *, session: str) -> dict[str, Any]:
    from moto.sts.models import sts_backends

    backend = sts_backends[account]["aws"]
    assumed = backend.assume_role(
        region_name="us-east-1",
        role_session_name=session,
        role_arn=f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{_reserved_role(account, role)}",
        policy="",
        duration=ROLE_SECONDS,
        external_id="",
    )
    return {
        "accessKeyId": assumed.access_key_id,
        "secretAccessKey": assumed.secret_access_key,
        "sessionToken": assumed.session_token,
        "expiration": int((time.time() + ROLE_SECONDS) * 1000),
    }


def _json(start_response: Callable, status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    data = json.dumps(body).encode()
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *(headers or [])],
    )
    return [data]


def _error(start_response: Callable, status: int, code: str, message: str) -> list[bytes]:
    return _json(start_response, status, {"message": message}, [("x-amzn-ErrorType", code)])
