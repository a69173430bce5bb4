"""The --read-only guard: an allowlist of operations that only read.

An allowlist, not a denylist, because AWS adds mutating verbs all the time
(Put, Create, Update, Tag, Enable, Set, Start...); an operation we have not
thought about is refused rather than sent.  The guard runs on botocore's
``before-parameter-build`` event, the first thing a client does for a call
(before parameter validation, endpoint resolution, signing or any request), so
a refused call never leaves the process.  Paginators and waiters go through
the same path.
"""

from __future__ import annotations

import re
from typing import Any

from smtop.errors import ReadOnlyError

_READ_PREFIXES = re.compile(r"^(Describe|List|Get|Lookup|Filter)[A-Z]")

# Operations that start something but only read: a Logs Insights query runs
# over existing data and Live Tail streams it; stopping a query frees it.
_READ_OPERATIONS = frozenset({"StartQuery", "StopQuery", "GetQueryResults", "StartLiveTail"})

EVENT = "before-parameter-build"


def is_read_operation(operation: str) -> bool:
    """True when ``operation`` (e.g. ``"DescribeEndpoint"``) cannot change AWS."""
    return operation in _READ_OPERATIONS or bool(_READ_PREFIXES.match(operation))


def refuse_writes(model: Any, **_: Any) -> None:
    """botocore event handler: raise ``ReadOnlyError`` for a mutating operation."""
    operation = model.name
    if not is_read_operation(operation):
        service = model.service_model.service_name
        raise ReadOnlyError(
            f"smtop is running read-only, so {operation} was not sent; restart without --read-only to change AWS.",
            service=service,
            operation=operation,
        )
