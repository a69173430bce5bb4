"""CloudTrail for the simulator: management calls, reads and writes, recorded as AWS records them.

CloudTrail records the calls that reach AWS, whoever makes them, so the
simulator records at the same place: a WSGI middleware (:class:`TrailRecorder`)
around moto's app sees each request as it arrived (signature, headers, body)
and the answer as it left, and turns every management call into a CloudTrail
event: who (from the access key, :meth:`Trail.principal`), from where, with
which parameters, and the error code when it failed.

What event history holds, from AWS's documentation:

- every management event, read-only ones too ("Working with CloudTrail event
  history": the past 90 days of management events; CloudTrail began logging
  all management events, reads included, in event history on June 14, 2018).
  A read (Describe*, List*, Get*...) is recorded with ``readOnly: true``
  ("CloudTrail record contents"), without ``responseElements`` ("if an action
  does not change state, for example a request to get or list objects, this
  element is omitted"); LookupEvents' ``ReadOnly`` attribute tells them apart
  ("Viewing CloudTrail events with the AWS CLI": ``ReadOnly=false`` "returns
  write events. It excludes read events");
- CloudTrail's own calls, LookupEvents included ("CloudTrail supported
  services and integrations": "All CloudTrail actions are logged"), so a
  console polling the feed writes its own polls into it;
- never data events, which event history does not show ("Logging management
  events": "The CloudTrail Event history feature supports only management
  events"): SageMaker's InvokeEndpoint family ("Log Amazon SageMaker API calls
  with AWS CloudTrail": all SageMaker actions are logged "with the exception
  of InvokeEndpoint"), CloudWatch's GetMetricStatistics, ListMetrics and
  PutMetricData ("Logging Amazon CloudWatch API calls in AWS CloudTrail": not
  supported) and GetMetricData and GetMetricWidgetImage (data events, on a
  trail that opts in), CloudWatch Logs' GetLogEvents, PutLogEvents and
  FilterLogEvents (same page: not supported).

The events live in one bounded, time-ordered :class:`EventStore` per account
and region, which :mod:`smtop.sim.patches.cloudtrail` answers LookupEvents from.
"""

from __future__ import annotations

import bisect
import json
import logging
import random
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qsl

from smtop.sim.clock import SimClock
from smtop.sim.wsgi import SIGV4_CREDENTIAL, read_body

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"
"""moto's default account: every simulated principal lives in it."""

STORE_CAPACITY = 20_000
"""Events kept per account and region; the oldest go first (CloudTrail keeps 90 days)."""

_READ_ONLY = re.compile(r"^(Describe|List|Get|Lookup|Search|BatchGet|BatchDescribe|Filter|Query|Test|Validate)[A-Z]")
# Read-only although their verb is not: they run over or stream existing data
# and change no resource (IAM's access level for each is Read).
_READ_ONLY_OPERATIONS = frozenset({"StartQuery", "StopQuery", "GetQueryResults", "StartLiveTail"})
# Never in event history: data events, and the calls the services' CloudTrail pages list as not logged.
_NOT_IN_EVENT_HISTORY = frozenset(
    {
        "InvokeEndpoint",
        "InvokeEndpointAsync",
        "InvokeEndpointWithResponseStream",
        "GetMetricData",
        "GetMetricStatistics",
        "GetMetricWidgetImage",
        "ListMetrics",
        "PutMetricData",
        "GetLogEvents",
        "FilterLogEvents",
        "PutLogEvents",
    }
)
_CBOR_PATH = re.compile(r"^/service/[^/]+/operation/(?P<operation>[A-Za-z0-9]+)$")
_QUERY_ERROR = re.compile(rb"<Code>(?P<code>[^<]*)</Code>.*?<Message>(?P<message>[^<]*)</Message>", re.S)

# Request parameters that name a resource, and the CloudTrail resource type they name.
_RESOURCE_PARAMETERS = {
    "EndpointName": "AWS::SageMaker::Endpoint",
    "EndpointConfigName": "AWS::SageMaker::EndpointConfig",
    "ModelName": "AWS::SageMaker::Model",
    "TrainingJobName": "AWS::SageMaker::TrainingJob",
    "AlarmName": "AWS::CloudWatch::Alarm",
    "AlarmNames": "AWS::CloudWatch::Alarm",
    "logGroupName": "AWS::Logs::LogGroup",
}


def is_recorded(operation: str) -> bool:
    """Whether CloudTrail event history shows calls to ``operation`` (reads included)."""
    return operation not in _NOT_IN_EVENT_HISTORY


def is_read_only(operation: str) -> bool:
    """The event's ``readOnly``: the call reads and changes nothing."""
    return operation in _READ_ONLY_OPERATIONS or bool(_READ_ONLY.match(operation))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who owns an access key: an IAM user, or a session of an assumed role.

    Attributes:
        access_key_id: The key the principal signs with.
        name: The IAM user name, or the role's session name.
        role: For an assumed role, the role's name; ``None`` for an IAM user.
        source_ip: Where the principal's calls come from (the office, a CI runner).
        user_agent: What the principal's calls identify as, when not the client's own.
    """

    access_key_id: str
    name: str
    role: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None

    def user_identity(self, account: str = ACCOUNT_ID, *, since: str | None = None) -> dict[str, Any]:
        """The event's ``userIdentity`` element, as CloudTrail writes it."""
        unique = uuid.uuid5(uuid.NAMESPACE_OID, f"{self.role}/{self.name}").hex[:17].upper()
        if self.role is None:
            return {
                "type": "IAMUser",
                "principalId": f"AIDA{unique}",
                "arn": f"arn:aws:iam::{account}:user/{self.name}",
                "accountId": account,
                "accessKeyId": self.access_key_id,
                "userName": self.name,
            }
        role_id = f"AROA{unique}"
        identity: dict[str, Any] = {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{self.name}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{self.role}/{self.name}",
            "accountId": account,
            "accessKeyId": self.access_key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": f"arn:aws:iam::{account}:role/{self.role}",
                    "accountId": account,
                    "userName": self.role,
                },
                "attributes": {"mfaAuthenticated": "false"},
            },
        }
        if since:
            identity["sessionContext"]["attributes"]["creationDate"] = since
        return identity


FLEET_BOOTSTRAP = Principal("smtop-sim", "fleet-bootstrap", role="platform-admin", source_ip="10.0.12.7", user_agent="Terraform/1.9.8 terraform-provider-aws/5.74.0")
"""The key the simulator creates its demo fleet with (:mod:`smtop.sim.fleet`)."""
DEMO_ONCALL = Principal("ASIASMTOPDEMOONCALL1", "oncall", role="OnCallEngineer", source_ip="10.0.3.14")
"""Whoever runs ``smtop --demo`` (the key smtop.cli's demo environment signs
with): an on-call engineer's SSO-style role session, in the trail and in STS alike."""


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One CloudTrail event and the fields LookupEvents filters on."""

    time: float
    seq: int
    event: dict[str, Any]
    resources: tuple[tuple[str, str], ...]

    @property
    def event_id(self) -> str:
        return self.event["eventID"]

    @property
    def read_only(self) -> bool:
        return bool(self.event.get("readOnly"))

    @property
    def username(self) -> str:
        identity = self.event["userIdentity"]
        if identity.get("type") == "AssumedRole":
            return identity["arn"].rsplit("/", 1)[-1]
        return identity.get("userName", "")

    def lookup_value(self, key: str) -> tuple[str, ...]:
        """The values a LookupAttribute of ``key`` is compared with."""
        event = self.event
        if key == "EventId":
            return (event["eventID"],)
        if key == "EventName":
            return (event["eventName"],)
        if key == "EventSource":
            return (event["eventSource"],)
        if key == "ReadOnly":
            return (str(event["readOnly"]).lower(),)
        if key == "Username":
            return (self.username,)
        if key == "AccessKeyId":
            return (event["userIdentity"].get("accessKeyId", ""),)
        if key == "ResourceType":
            return tuple(kind for kind, _ in self.resources)
        if key == "ResourceName":
            return tuple(name for _, name in self.resources)
        return ()


@dataclass
class EventStore:
    """The event history of one account and region: bounded, ordered by (time, seq).

    Events can arrive out of time order (the people's backfill is written at
    past moments), so they are inserted in order rather than appended.  AWS
    keeps 90 days; the simulator keeps ``capacity`` events, and when full it
    lets the oldest read go before any write, so the story of who changed what
    outlives the consoles' own polling.
    """

    capacity: int = STORE_CAPACITY
    _events: list[RecordedEvent] = field(default_factory=list)
    _keys: list[tuple[float, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event: RecordedEvent) -> None:
        with self._lock:
            key = (event.time, event.seq)
            at = bisect.bisect(self._keys, key)
            self._keys.insert(at, key)
            self._events.insert(at, event)
            if len(self._events) > self.capacity:
                oldest_read = next((i for i, e in enumerate(self._events) if e.read_only), 0)
                del self._events[oldest_read], self._keys[oldest_read]

    def newest_first(self, start: float, end: float) -> list[RecordedEvent]:
        """Events with ``start <= time <= end``, newest first."""
        with self._lock:
            low = bisect.bisect_left(self._keys, (start, -1))
            high = bisect.bisect_right(self._keys, (end, float("inf")))
            return self._events[low:high][::-1]

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


class Trail:
    """Every account's and region's event history, and who owns which key.

    Args:
        clock: The simulator's clock (eventTime).
        seed: Seeds event and request ids, so a run with the same ``--seed``
            and ``--now`` records the same ids.
    """

    def __init__(self, clock: SimClock, seed: int = 0) -> None:
        self.clock = clock
        self._stores: dict[tuple[str, str], EventStore] = {}
        self._principals: dict[str, Principal] = {p.access_key_id: p for p in (FLEET_BOOTSTRAP, DEMO_ONCALL)}
        self._lock = threading.Lock()
        self._ids = random.Random(f"{seed}/cloudtrail")
        self._seq = 0

    def store(self, account: str = ACCOUNT_ID, region: str = "us-east-1") -> EventStore:
        with self._lock:
            store = self._stores.get((account, region))
            if store is None:
                store = self._stores[(account, region)] = EventStore()
            return store

    def register(self, principal: Principal) -> None:
        """Make calls signed with ``principal.access_key_id`` show as that principal."""
        with self._lock:
            self._principals[principal.access_key_id] = principal

    def principal(self, access_key_id: str) -> Principal:
        """The owner of a key: a registered principal, else an IAM user named after moto's
        IAM user of that key, else after the key itself (the simulator accepts any key)."""
        with self._lock:
            known = self._principals.get(access_key_id)
        if known is not None:
            return known
        return Principal(access_key_id, _iam_user_of(access_key_id) or access_key_id)

    def record(self, call: ApiCall) -> RecordedEvent:
        """Turn one finished call into an event and store it."""
        now = float(int(self.clock.time()))  # CloudTrail's eventTime has whole seconds
        with self._lock:
            self._seq += 1
            seq = self._seq
            event_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
            request_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        principal = self.principal(call.access_key_id)
        when = _iso(now)
        event: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": principal.user_identity(since=when if principal.role else None),
            "eventTime": when,
            "eventSource": f"{call.signing_name}.amazonaws.com",
            "eventName": call.operation,
            "awsRegion": call.region,
            "sourceIPAddress": principal.source_ip or call.source_ip,
            "userAgent": principal.user_agent or call.user_agent,
        }
        if call.error_code:
            event["errorCode"] = call.error_code
            event["errorMessage"] = call.error_message
        read_only = is_read_only(call.operation)
        event["requestParameters"] = _camel(call.parameters) if call.parameters is not None else None
        changed = call.response and not call.error_code and not read_only
        event["responseElements"] = _camel(call.response) if changed else None
        event.update(
            {
                "requestID": request_id,
                "eventID": event_id,
                "readOnly": read_only,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": ACCOUNT_ID,
                "eventCategory": "Management",
            }
        )
        recorded = RecordedEvent(now, seq, event, _resources(call.parameters or {}))
        self.store(ACCOUNT_ID, call.region).add(recorded)
        return recorded


@dataclass(frozen=True, slots=True)
class ApiCall:
    """What the recorder saw of one request and its answer."""

    signing_name: str
    operation: str
    region: str
    access_key_id: str
    source_ip: str
    user_agent: str
    parameters: dict[str, Any] | None
    response: dict[str, Any] | None
    error_code: str | None = None
    error_message: str | None = None


class TrailRecorder:
    """WSGI middleware: records the management calls that pass through the app.

    Calls CloudTrail would not record pass straight through: the recorder only
    reads the signature, a header and (for query-protocol calls) the form body
    to decide that.  A write's answer is read whole (its response elements go
    into the event); a read's answer is not, since a read keeps none, and may be
    a stream (Live Tail): it is recorded as its answer starts, before the
    caller can see it, and only a failed read's (short) error body is read.
    """

    def __init__(self, app: Callable, trail: Trail) -> None:
        self.app = app
        self.trail = trail

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        scope = SIGV4_CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None:
            return self.app(environ, start_response)
        body = read_body(environ)
        operation = _operation(environ, body)
        if not operation or not is_recorded(operation):
            return self.app(environ, start_response)
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info=None):
            answer["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        def record(payload: bytes) -> None:
            try:
                self.trail.record(_call(environ, scope, operation, body, answer.get("status", 500), payload))
            except Exception:  # pragma: no cover - recording must never break the call itself
                log.exception("could not record %s", operation)

        if not is_read_only(operation):
            chunks = list(self.app(environ, capture))
            record(b"".join(chunks))
            return chunks
        return self._read(self.app(environ, capture), answer, record)

    @staticmethod
    def _read(answer_body: Iterable[bytes], answer: dict[str, Any], record: Callable[[bytes], None]) -> Iterator[bytes]:
        chunks = iter(answer_body)
        try:
            first = next(chunks, None)  # by now the app has started its answer
            if answer.get("status", 500) >= 400:
                rest = [first, *chunks] if first is not None else []
                record(b"".join(rest))
                yield from rest
                return
            record(b"")
            if first is not None:
                yield first
            yield from chunks
        finally:
            close = getattr(answer_body, "close", None)
            if close is not None:
                close()


def _call(environ: dict, scope: re.Match, operation: str, body: bytes, status: int, payload: bytes) -> ApiCall:
    is_json = bool(environ.get("HTTP_X_AMZ_TARGET"))
    parameters = _request_parameters(environ, body, is_json)
    error_code = error_message = None
    response = None
    if status >= 400:
        error_code, error_message = _error(payload, is_json)
    elif is_json and payload:
        try:
            response = json.loads(payload)
        except ValueError:
            response = None
    return ApiCall(
        signing_name=scope["service"],
        operation=operation,
        region=scope["region"],
        access_key_id=scope["key"],
        source_ip=environ.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip() or environ.get("REMOTE_ADDR", ""),
        user_agent=environ.get("HTTP_USER_AGENT", "")[:256],
        parameters=parameters,
        response=response if isinstance(response, dict) else None,
        error_code=error_code or (f"HTTP{status}" if status >= 400 else None),
        error_message=error_message,
    )


def _operation(environ: dict, body: bytes) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    cbor = _CBOR_PATH.match(environ.get("PATH_INFO", ""))
    if cbor:
        return cbor["operation"]
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace") if body else ""):
        for key, value in parse_qsl(source):
            if key == "Action":
                return value
    return None


def _request_parameters(environ: dict, body: bytes, is_json: bool) -> dict[str, Any] | None:
    if is_json:
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    if "smithy-protocol" in (environ.get("HTTP_SMITHY_PROTOCOL") or "") or _CBOR_PATH.match(environ.get("PATH_INFO", "")):
        return None  # RPC v2 CBOR: the event keeps no parameters rather than guessed ones
    return {key: value for key, value in parse_qsl(body.decode("utf-8", "replace")) if key not in ("Action", "Version")}


def _error(payload: bytes, is_json: bool) -> tuple[str | None, str | None]:
    if is_json:
        try:
            parsed = json.loads(payload)
        except ValueError:
            return None, None
        code = str(parsed.get("__type", "")).rsplit("#", 1)[-1] or None
        return code, parsed.get("message") or parsed.get("Message")
    match = _QUERY_ERROR.search(payload)
    if match:
        return match["code"].decode("utf-8", "replace"), match["message"].decode("utf-8", "replace")
    return None, None


def _resources(parameters: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for name, kind in _RESOURCE_PARAMETERS.items():
        value = parameters.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                found.append((kind, item))
    return tuple(found)


def _camel(value: Any) -> Any:
    """CloudTrail writes request parameters and response elements in lowerCamelCase."""
    if isinstance(value, dict):
        return {(key[:1].lower() + key[1:]) if isinstance(key, str) else key: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iam_user_of(access_key_id: str) -> str | None:
    """The moto IAM user an access key belongs to, if one was created through IAM."""
    try:
        from moto.iam.models import iam_backends
    except ImportError:  # pragma: no cover
        return None
    for account in list(iam_backends.values()):
        backend = account.get("aws") if hasattr(account, "get") else None
        if backend is None:
            continue
        key = backend.access_keys.get(access_key_id)
        if key is not None:
            return getattr(key, "user_name", None)
    return None
