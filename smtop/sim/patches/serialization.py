"""A fast path in moto's JSON serializer for long lists of numbers and timestamps.

A GetMetricData answer is mostly two long lists per query (Timestamps,
Values): 500 queries over three hours are 90,000 of each.  moto serializes
every element through its generic, per-shape dispatch, which cost ~1.5 s
for that answer, ten times what the store needs to compute it.  For lists
whose members are plain doubles or epoch-second timestamps the result is a
plain list, so it is built in one comprehension; every other list, and every
other protocol (the query protocol's XML), still goes through moto's code.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timezone

from moto.core.serialize import BaseJSONSerializer

from smtop.sim.patches.handlers import Handlers

_moto_serialize_list = BaseJSONSerializer._serialize_type_list


def _epoch_seconds(value) -> int | float:
    # Same result as moto's TimestampSerializer "unixtimestamp": whole seconds
    # as an int, sub-second values truncated to milliseconds.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        seconds = calendar.timegm(value.utctimetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    return value if isinstance(value, int) else float(value)


def serialize_list(serializer: BaseJSONSerializer, serialized, value, shape, key) -> None:
    """Lists of doubles and epoch-second timestamps in one comprehension; any other through moto."""
    member = shape.member
    kind = member.type_name
    if kind in ("double", "float"):
        serializer._default_serialize(serialized, [float(v) for v in value], shape, key)
    elif kind == "timestamp" and (
        member.serialization.get("timestampFormat", serializer._timestamp_serializer.default_format).lower()
        == "unixtimestamp"
    ):
        serializer._default_serialize(serialized, [_epoch_seconds(v) for v in value], shape, key)
    else:
        _moto_serialize_list(serializer, serialized, value, shape, key)


HANDLERS: Handlers = {
    (BaseJSONSerializer, "_serialize_type_list"): serialize_list,
}
