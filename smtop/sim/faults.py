"""Fault injection for the simulator: AWS failing the way it fails in an incident.

smtop is opened when AWS throttles, credentials expire and networks drop, so
the simulator can do all of that on demand, while it runs:

- ``throttle``: the service's own throttling error (``Throttling`` for
  CloudWatch and STS, which report query-protocol codes, ``ThrottlingException``
  for Logs, SageMaker and CloudTrail) on a share of the matching calls;
- ``deny``: ``AccessDenied`` / ``AccessDeniedException``;
- ``expired``: ``ExpiredToken`` / ``ExpiredTokenException``;
- ``unsupported``: the answer of an endpoint that lacks the operation (a
  region, a partition or an older endpoint without it): see
  :func:`error_response` for what each protocol carries;
- ``latency``: the answer comes ``seconds`` later;
- ``drop``: the connection is closed with no answer at all;
- an outage (:meth:`FaultInjector.outage`): the server stops listening and
  closes every open connection for N seconds, then comes back on the same
  port with its state intact (moto's backends live in the process).

Errors are written in the protocol the request came in (botocore picks it per
service and version): an ``X-Amz-Target`` header means JSON (Logs, SageMaker,
CloudTrail, and CloudWatch from boto3/aiobotocore of this pin: botocore
1.43.117 prefers ``json`` among CloudWatch's ``protocols``
``["smithy-rpc-v2-cbor", "json", "query"]``), a ``smithy-protocol`` header
means RPC v2 CBOR, an ``Action`` form or query parameter means the query
protocol's XML ``ErrorResponse`` (STS, SNS), and a signed request with none
of these is REST-JSON (SageMaker Runtime), whose code travels in the
``X-Amzn-ErrorType`` header.  CloudWatch is "query compatible"
(``awsQueryCompatible`` in its model): over JSON or CBOR AWS adds an
``x-amzn-query-error: Throttling;Sender`` header, from which botocore takes
the old query code, and so does this.

Rules are chosen per call by service (the SigV4 signing name, ``monitoring``
read as ``cloudwatch``) and operation, and a rule with ``share`` < 1 fails a
deterministic subset: each rule draws from its own ``random.Random`` seeded
with the simulator's seed and the rule's number, so the n-th matching call
fails or not identically on every run.

The control API lives on the simulator itself (see :data:`CONTROL_PREFIX`)::

    POST   /_smtop/faults   {"kind": "throttle", "service": "logs", "share": 0.5}
    GET    /_smtop/faults   -> {"faults": [...], "calls": {"logs:FilterLogEvents": 12}}
    DELETE /_smtop/faults   clears every rule
    POST   /_smtop/outage   {"seconds": 5}   (answers 202, then goes away)
    DELETE /_smtop/calls    resets the call counts
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
import weakref
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from smtop.sim.wsgi import SIGV4_CREDENTIAL, cbor_map, read_body

CONTROL_PREFIX = "/_smtop/"
KINDS = ("throttle", "deny", "expired", "unsupported", "latency", "drop")
MAX_LATENCY = 300.0
MAX_OUTAGE = 3600.0

# (JSON code, query/CBOR code, HTTP status, message) per error kind, as AWS sends them.
_ERRORS = {
    "throttle": ("ThrottlingException", "Throttling", 400, "Rate exceeded"),
    "deny": (
        "AccessDeniedException",
        "AccessDenied",
        403,
        "User: arn:aws:sts::123456789012:assumed-role/smtop/sim is not authorized to perform: {action}",
    ),
    "expired": ("ExpiredTokenException", "ExpiredToken", 400, "The security token included in the request is expired"),
    "unsupported": ("UnknownOperationException", "InvalidAction", 400, "Could not find operation {operation} for version {version}"),
}
_CORAL = "com.amazon.coral.service"
"""The namespace AWS's JSON front ends give UnknownOperationException (``__type`` and X-Amzn-ErrorType)."""
_API_VERSION = {
    "cloudwatch": "2010-08-01", "sts": "2011-06-15", "sns": "2010-03-31",
    "sagemaker": "2017-07-24", "logs": "2014-03-28", "cloudtrail": "2013-11-01",
}
_XML_NAMESPACE = {
    "cloudwatch": "http://monitoring.amazonaws.com/doc/2010-08-01/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
_SIGNING_NAME = {"monitoring": "cloudwatch"}
_QUERY_COMPATIBLE = {"cloudwatch"}  # JSON/CBOR services that still report their old query error codes
_JSON_TARGET_PREFIX = {  # X-Amz-Target prefix -> service, when there is no signature to read
    "Logs_20140328": "logs",
    "SageMaker": "sagemaker",
    "GraniteServiceVersion20100801": "cloudwatch",
}
_QUERY_VERSION = {  # a query API's Version parameter -> service, for the unsigned calls (AssumeRoleWithWebIdentity)
    "2011-06-15": "sts",
    "2010-03-31": "sns",
    "2010-08-01": "cloudwatch",
}


class FaultSpecError(ValueError):
    """A fault rule or ``--fault`` SPEC that cannot be understood; the message says why."""


@dataclass
class FaultRule:
    """One fault: which calls it hits and what happens to them.

    Attributes:
        kind: one of :data:`KINDS`.
        service: botocore service name (``logs``, ``cloudwatch``...); None = every service.
        operation: API operation (``FilterLogEvents``); None = every operation.
        share: fraction of matching calls hit, 0..1.
        seconds: added delay for ``latency``.
        count: stop after hitting this many calls (None = until cleared).
    """

    kind: str
    service: str | None = None
    operation: str | None = None
    share: float = 1.0
    seconds: float = 0.0
    count: int | None = None
    matched: int = 0
    """Calls that matched service and operation."""
    injected: int = 0
    """Calls the fault was applied to."""
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultSpecError(f"unknown fault kind {self.kind!r}; use one of {', '.join(KINDS)}")
        if not 0.0 <= self.share <= 1.0:
            raise FaultSpecError(f"share must be between 0 and 1, not {self.share}")
        if not 0.0 <= self.seconds <= MAX_LATENCY:
            raise FaultSpecError(f"seconds must be between 0 and {MAX_LATENCY:g}, not {self.seconds}")
        if self.kind == "latency" and self.seconds <= 0:
            raise FaultSpecError("a latency fault needs seconds > 0")
        if self.count is not None and self.count < 1:
            raise FaultSpecError(f"count must be at least 1, not {self.count}")

    @classmethod
    def from_json(cls, data: Any) -> FaultRule:
        """Build a rule from the control API's JSON object (unknown keys are refused)."""
        if not isinstance(data, dict):
            raise FaultSpecError("a fault is a JSON object like {\"kind\": \"throttle\", \"service\": \"logs\"}")
        allowed = {"kind", "service", "operation", "share", "seconds", "count"}
        unknown = set(data) - allowed
        if unknown:
            raise FaultSpecError(f"unknown fault field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
        if "kind" not in data:
            raise FaultSpecError("a fault needs a kind")
        try:
            return cls(
                kind=str(data["kind"]),
                service=_optional_name(data.get("service")),
                operation=_optional_name(data.get("operation")),
                share=float(data.get("share", 1.0)),
                seconds=float(data.get("seconds", 0.0)),
                count=None if data.get("count") is None else int(data["count"]),
            )
        except (TypeError, ValueError) as error:
            if isinstance(error, FaultSpecError):
                raise
            raise FaultSpecError(f"bad fault value: {error}") from None

    def applies(self, service: str | None, operation: str | None) -> bool:
        """Whether this call matches (it does not draw: see :meth:`draw`)."""
        if self.count is not None and self.injected >= self.count:
            return False
        if self.service is not None and self.service != service:
            return False
        return self.operation is None or self.operation == operation

    def draw(self) -> bool:
        """Count a matching call and decide, deterministically, whether it is hit."""
        self.matched += 1
        hit = self.share >= 1.0 or self._rng.random() < self.share
        if hit:
            self.injected += 1
        return hit

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_rng", None)
        return data


def _optional_name(value: Any) -> str | None:
    if value is None or value == "" or value == "*":
        return None
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", text):
        raise FaultSpecError(f"{text!r} is not a service or operation name")
    return text


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse ``smtop sim --fault SPEC``: ``KIND[:SERVICE[:OPERATION]][,key=value...]``.

    Examples: ``throttle:cloudwatch,share=0.3``, ``deny:logs:FilterLogEvents``,
    ``latency,seconds=0.5``, ``drop:sagemaker,share=0.1,count=5``.
    """
    head, *options = [part.strip() for part in spec.split(",")]
    kind, service, operation = (head.split(":") + [None, None])[:3] if head else ("", None, None)
    data: dict[str, Any] = {"kind": kind, "service": service, "operation": operation}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or key not in ("share", "seconds", "count"):
            raise FaultSpecError(f"bad option {option!r} in fault {spec!r}; use share=, seconds= or count=")
        data[key] = value
    return FaultRule.from_json(data)


@dataclass(frozen=True)
class CallInfo:
    """What the fault layer knows about one request."""

    service: str | None
    operation: str | None
    protocol: str  # "json", "cbor", "query" or "rest-json"
    access_key: str | None = None


def identify(environ: dict, body: bytes) -> CallInfo:
    """Service, operation, wire protocol and signing key of a request, as botocore sent it."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    scope = SIGV4_CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope["service"] if scope else None
    if environ.get("HTTP_SMITHY_PROTOCOL"):
        # /service/GraniteServiceVersion20100801/operation/GetMetricData
        parts = environ.get("PATH_INFO", "").strip("/").split("/")
        operation = parts[3] if len(parts) >= 4 else None
        service = service or _JSON_TARGET_PREFIX.get(parts[1] if len(parts) > 1 else "")
        protocol = "cbor"
    elif target:
        prefix, _, operation = target.rpartition(".")
        service = service or _JSON_TARGET_PREFIX.get(prefix) or ("cloudtrail" if "CloudTrail" in prefix else None)
        protocol = "json"
    else:
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        query = parse_qs(environ.get("QUERY_STRING", ""))
        operation = (form.get("Action") or query.get("Action") or [None])[0]
        service = service or _QUERY_VERSION.get((form.get("Version") or query.get("Version") or [""])[0])
        # A signed request without an Action is a REST protocol's (the operation is in the route).
        protocol = "query" if operation is not None or scope is None else "rest-json"
    return CallInfo(_SIGNING_NAME.get(service, service) if service else None, operation, protocol, scope["key"] if scope else None)


def error_response(kind: str, call: CallInfo) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of the AWS error ``kind`` in ``call``'s protocol.

    ``unsupported`` is what an endpoint answers for an operation it lacks.
    The query protocol's code is ``InvalidAction``, HTTP 400 ("The action or
    operation requested is invalid", the Common Errors page of every query
    API reference: CloudWatch, STS, SNS).  AWS's JSON front ends answer
    ``com.amazon.coral.service#UnknownOperationException`` with 400 (botocore
    keeps the part after ``#``), and REST-JSON ones the same code in
    X-Amzn-ErrorType with 404 (botocore's Lex V2 Models model: "HTTP 404 -
    UnknownOperationException").  CloudWatch being query compatible, its JSON
    and CBOR answers add the query code in ``x-amzn-query-error``
    (``InvalidAction;Sender``), as they do for every other error, so a client
    parses the code its query-era code catches; botocore keeps the JSON code
    in ``Error.QueryErrorCode``.
    """
    json_code, query_code, status, message = _ERRORS[kind]
    action = f"{call.service or 'aws'}:{call.operation or '*'}"
    message = message.format(action=action, operation=call.operation or "?", version=_API_VERSION.get(call.service or "", "?"))
    if kind == "deny" and call.protocol in ("json", "rest-json"):
        status = 400  # JSON services answer AccessDeniedException with 400
    if kind == "unsupported" and call.protocol == "rest-json":
        status = 404
    reasons = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
    status_line = f"{status} {reasons[status]}"
    request_id = "00000000-0000-4000-8000-000000000000"
    wire_code = f"{_CORAL}#{json_code}" if kind == "unsupported" else json_code
    if call.protocol == "json":
        body = json.dumps({"__type": wire_code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)]
        if call.service in _QUERY_COMPATIBLE:  # botocore reads the query code from this header
            headers.append(("x-amzn-query-error", f"{query_code};Sender"))
    elif call.protocol == "cbor":
        body = cbor_map({"__type": wire_code if kind == "unsupported" else query_code, "message": message})
        headers = [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("x-amzn-query-error", f"{query_code};Sender"),
            ("x-amzn-RequestId", request_id),
        ]
    elif call.protocol == "rest-json":
        body = json.dumps({"message": message}).encode()
        error_type = f"{json_code}:http://internal.amazon.com/coral/{_CORAL}/" if kind == "unsupported" else json_code
        headers = [("Content-Type", "application/json"), ("X-Amzn-ErrorType", error_type), ("x-amzn-RequestId", request_id)]
    else:
        namespace = _XML_NAMESPACE.get(call.service or "", _XML_NAMESPACE["sts"])
        body = (
            f'<ErrorResponse xmlns="{namespace}">'
            f"<Error><Type>Sender</Type><Code>{query_code}</Code><Message>{_xml_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml")]
    headers.append(("Content-Length", str(len(body))))
    return status_line, headers, body


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FaultInjector:
    """WSGI middleware in front of moto: applies the fault rules, serves the control API.

    Args:
        app: the WSGI app behind (moto's dispatcher, possibly wrapped).
        seed: seeds every rule's draws, so a run is reproducible.
        outage: called with a number of seconds to take the server away
            (set by the HTTP server that owns the listening socket).
        own_keys: access key ids of the simulator's own callers (its people
            deploying, its bootstrap): their calls are counted apart from the
            clients', so a count of smtop's calls holds only smtop's.
    """

    def __init__(
        self,
        app: Callable,
        seed: int = 0,
        outage: Callable[[float], None] | None = None,
        own_keys: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.seed = seed
        self.outage_handler = outage
        self.own_keys = own_keys
        self._rules: list[FaultRule] = []
        self._added = 0
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        """Calls seen per "service:operation" (faulted or not), for tests counting retries."""
        self.own_calls: Counter[str] = Counter()
        """The same, of the simulator's own callers (``own_keys``)."""
        self._sockets: weakref.WeakSet = weakref.WeakSet()
        self._down_until = 0.0

    # -- rules -----------------------------------------------------------------
    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._added += 1
            rule._rng = random.Random(f"{self.seed}:{self._added}")
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def _pick(self, call: CallInfo) -> list[FaultRule]:
        """The rules that hit this call: at most one failure, latency adds up."""
        hits: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.applies(call.service, call.operation) and rule.draw():
                    hits.append(rule)
                    if rule.kind != "latency":
                        break
        return hits

    # -- outage ----------------------------------------------------------------
    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

    def outage(self, seconds: float) -> None:
        """Take the server away for ``seconds``: close open connections, refuse new ones."""
        if not 0 < seconds <= MAX_OUTAGE:
            raise FaultSpecError(f"an outage lasts between 0 and {MAX_OUTAGE:g} seconds, not {seconds}")
        if self.outage_handler is None:
            raise FaultSpecError("this server cannot simulate an outage")
        self._down_until = time.monotonic() + seconds
        for sock in list(self._sockets):
            _hang_up(sock)
        self.outage_handler(seconds)

    # -- WSGI ------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response)
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            self._sockets.add(sock)
        if self.down:  # a keep-alive connection that outlived the listener
            return _drop(sock, start_response)
        body = read_body(environ)
        call = identify(environ, body)
        counter = self.own_calls if call.access_key in self.own_keys else self.calls
        with self._lock:
            counter[f"{call.service}:{call.operation}"] += 1
        for rule in self._pick(call):
            if rule.kind == "latency":
                time.sleep(rule.seconds)
            elif rule.kind == "drop":
                return _drop(sock, start_response)
            else:
                status, headers, payload = error_response(rule.kind, call)
                start_response(status, headers)
                return [payload]
        return self.app(environ, start_response)

    def _control(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX) :].strip("/")
        try:
            if path == "faults" and method == "GET":
                return _json(start_response, "200 OK", self.state())
            if path == "faults" and method == "POST":
                data = json.loads(read_body(environ) or b"{}")
                items = data.get("faults", [data]) if isinstance(data, dict) else data
                if not isinstance(items, list):
                    raise FaultSpecError("send one fault object, a list of them, or {\"faults\": [...]}")
                rules = [FaultRule.from_json(item) for item in items]  # all valid before any is added
                for rule in rules:
                    self.add(rule)
                return _json(start_response, "201 Created", self.state())
            if path == "faults" and method == "DELETE":
                self.clear()
                return _json(start_response, "200 OK", self.state())
            if path == "calls" and method == "DELETE":
                with self._lock:
                    self.calls.clear()
                    self.own_calls.clear()
                return _json(start_response, "200 OK", self.state())
            if path == "outage" and method == "POST":
                data = json.loads(read_body(environ) or b"{}")
                seconds = float(data.get("seconds", 0)) if isinstance(data, dict) else 0.0
                if not 0 < seconds <= MAX_OUTAGE:
                    raise FaultSpecError(f"an outage lasts between 0 and {MAX_OUTAGE:g} seconds")
                if self.outage_handler is None:
                    raise FaultSpecError("this server cannot simulate an outage")
                # After this answer has left: the outage closes this very connection.
                threading.Timer(0.05, self.outage, args=(seconds,)).start()
                return _json(start_response, "202 Accepted", {"outage_seconds": seconds})
        except (FaultSpecError, ValueError) as error:  # json.JSONDecodeError is a ValueError
            return _json(start_response, "400 Bad Request", {"error": str(error)})
        return _json(start_response, "404 Not Found", {"error": f"no control endpoint {method} {CONTROL_PREFIX}{path}"})

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed,
                "faults": [rule.describe() for rule in self._rules],
                "calls": dict(self.calls),
                "own_calls": dict(self.own_calls),
            }


def _hang_up(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _drop(sock: socket.socket | None, start_response: Callable) -> Iterable[bytes]:
    """Close the connection without a byte of answer (werkzeug then finds it gone)."""
    _hang_up(sock)
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return []


def _json(start_response: Callable, status: str, data: Any) -> Iterable[bytes]:
    body = json.dumps(data).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
