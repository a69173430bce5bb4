"""botocore service models cut down to the operations smtop calls, cached on disk.

Creating a client makes botocore read the service's whole model.  SageMaker's
is 2.5 MB of JSON (409 operations, 3,098 shapes, most of it documentation):
~0.2 s to parse at every start and ~9 MB held for the whole run, for the three
operations smtop calls.  The six services smtop talks to hold ~14 MB.

So the first time a client is created, its model is written again with only
smtop's operations, the shapes they reach and no documentation, into smtop's
cache directory; botocore reads that copy from then on through its own
mechanism for extra model directories (the ``data_path`` setting, what
``AWS_DATA_PATH`` sets).  The copy is keyed by the botocore version and by the
operation list below, so an upgrade or a new operation writes a fresh one.

A user who points botocore at models of their own (``AWS_DATA_PATH`` or
``~/.aws/models/<service>``) gets theirs untouched: no lean copy is used then.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

log = logging.getLogger(__name__)

OPERATIONS: Mapping[str, frozenset[str]] = {
    "sagemaker": frozenset({"ListEndpoints", "DescribeEndpoint", "DescribeEndpointConfig"}),
    "cloudwatch": frozenset(
        {
            "GetMetricData",
            "DescribeAlarms",
            "DescribeAlarmHistory",
            "PutMetricAlarm",
            "ListAlarmMuteRules",
            "GetAlarmMuteRule",
            "PutAlarmMuteRule",
            "DeleteAlarmMuteRule",
            "TagResource",
            "UntagResource",
        }
    ),
    "logs": frozenset(
        {
            "FilterLogEvents",
            "StartLiveTail",
            "DescribeLogGroups",
            "StartQuery",
            "GetQueryResults",
            "StopQuery",
            "DescribeQueryDefinitions",
            "PutQueryDefinition",
        }
    ),
    "cloudtrail": frozenset({"LookupEvents"}),
    # AssumeRole*: botocore's credential providers open their STS client from the
    # same session, so they read this model too (role and web identity profiles).
    "sts": frozenset({"GetCallerIdentity", "AssumeRole", "AssumeRoleWithWebIdentity"}),
    "sns": frozenset({"ListTopics"}),
}
"""Every operation smtop and the credential providers it uses call, per service
(tests/aws/test_lean_models.py checks the code calls no other).  A client of a
service not listed here, or with its
own models configured, reads botocore's full model."""

ENDPOINT_PREFIXES = frozenset({"api.sagemaker", "monitoring", "logs", "cloudtrail", "sts", "sns", "portal.sso", "oidc", "signin"})
"""The services whose entries smtop's session keeps of botocore's endpoint data:
those of OPERATIONS, by their endpoint prefix (tests check), and those that
credential providers open clients for (STS for roles, SSO and its OIDC for
`aws sso login`, Signin for `aws login`)."""

_DOCS = frozenset({"documentation", "documentationUrl", "deprecatedMessage"})


def lean_model(model: Mapping[str, Any], operations: frozenset[str]) -> dict[str, Any]:
    """``model`` (a service-2 document) with only ``operations``, the shapes
    they reach (inputs, outputs, errors, and their members), no documentation."""
    kept = {name: _undocumented(spec) for name, spec in model["operations"].items() if name in operations}
    shapes = model["shapes"]
    reached: set[str] = set()
    pending = [ref for spec in kept.values() for ref in _operation_refs(spec)]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(_shape_refs(shapes[name]))
    lean = {key: value for key, value in model.items() if key not in {"operations", "shapes", *_DOCS}}
    lean["operations"] = kept
    lean["shapes"] = {name: _undocumented(shapes[name]) for name in sorted(reached)}
    return lean


def _operation_refs(spec: Mapping[str, Any]) -> Iterator[str]:
    for key in ("input", "output"):
        if key in spec:
            yield spec[key]["shape"]
    for error in spec.get("errors", ()):
        yield error["shape"]


def _shape_refs(shape: Mapping[str, Any]) -> Iterator[str]:
    for member in shape.get("members", {}).values():
        yield member["shape"]
    for key in ("member", "key", "value"):
        if key in shape:
            yield shape[key]["shape"]


def _undocumented(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _undocumented(item) for key, item in value.items() if key not in _DOCS}
    if isinstance(value, list):
        return [_undocumented(item) for item in value]
    return value


def endpoint_resolver(session: Any) -> Any:
    """botocore's endpoint resolver over its own endpoint data, holding only the
    ENDPOINT_PREFIXES services of each partition.

    botocore's endpoints.json lists ~300 services in 8 partitions: parsed, ~17 MB
    of dicts, held for the whole run (the loader caches it) for the few entries
    the clients' resolution reads.  The cached document is pruned in place, so
    the loader and the resolver hold the same small copy; the file is botocore's
    own, so the resolver still counts as built-in (which decides how botocore
    resolves endpoints).  A client of another service still opens: botocore
    falls back to the partition's hostname pattern for a service it has no entry
    for, and its endpoint rule set decides the URL anyway.
    """
    from botocore.regions import EndpointResolver

    loader = session.get_component("data_loader")
    endpoints, path = loader.load_data_with_path("endpoints")
    for partition in endpoints.get("partitions", ()):
        services = partition.get("services", {})
        partition["services"] = {name: services[name] for name in ENDPOINT_PREFIXES if name in services}
    return EndpointResolver(endpoints, uses_builtin_data=loader.is_builtin_path(path))


def models_dir() -> Path:
    """Where the lean models of this botocore version and operation list live."""
    import botocore
    import platformdirs

    listing = json.dumps({service: sorted(names) for service, names in sorted(OPERATIONS.items())})
    key = hashlib.sha256(listing.encode()).hexdigest()[:10]
    return platformdirs.user_cache_path("smtop") / "botocore-models" / f"{botocore.__version__}-{key}"


def data_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The directory to put first on botocore's model search path, or None
    when the user has model directories of their own (which must win)."""
    if environ.get("AWS_DATA_PATH") or (Path.home() / ".aws" / "models").exists():
        return None
    return models_dir()


def prepare(session: Any, service: str, directory: Path) -> None:
    """Write ``service``'s lean model into ``directory`` if it is not there yet.

    Runs in a thread before the client is created.  When the copy is missing
    (the first start, or a new botocore) the full model is read from botocore's
    own data directly (not through the session's loader, which would keep it
    cached) and the copy written; the client then reads the copy.  Nothing here
    may stop a client being created: a cache that cannot be written is logged.
    """
    from botocore.loaders import JSONFileLoader, Loader

    operations = OPERATIONS.get(service)
    if operations is None:
        return
    version = session.get_component("data_loader").determine_latest_version(service, "service-2")
    target = directory / service / version / "service-2.json"
    if target.exists():
        return
    full = JSONFileLoader().load_file(os.path.join(Loader.BUILTIN_DATA_PATH, service, version, "service-2"))
    if full is None:
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".service-2.{os.getpid()}.json")
        partial.write_text(json.dumps(lean_model(full, operations), separators=(",", ":")))
        os.replace(partial, target)  # atomic: another smtop starting meanwhile reads all or nothing
    except OSError as error:
        log.debug("no lean model for %s: %s", service, error)
