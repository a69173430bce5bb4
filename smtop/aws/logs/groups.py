"""The account's log groups, for the panel's "open another log group" list."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from smtop.aws.session import AwsSession
from smtop.models import LogGroup


async def list_log_groups(aws: AwsSession, prefix: str = "", *, limit: int = 1000) -> list[LogGroup]:
    """Log groups whose name starts with ``prefix``, sorted by name.

    For the panel's "open another log group" list: ``/aws/sagemaker/``
    shows the endpoint, training and processing job groups.

    Args:
        aws: an open session.
        prefix: name prefix ("" for all groups).
        limit: stop after this many groups (accounts can hold thousands).

    Raises:
        SmtopError: an AWS failure, already translated.
    """
    logs = await aws.client("logs")
    paginator = logs.get_paginator("describe_log_groups")
    request: dict[str, Any] = {"PaginationConfig": {"PageSize": 50}}
    if prefix:
        request["logGroupNamePrefix"] = prefix
    groups: list[LogGroup] = []
    with aws.errors("logs", "DescribeLogGroups"):
        async for page in paginator.paginate(**request):
            for raw in page.get("logGroups", []):
                arn = raw.get("logGroupArn") or str(raw.get("arn", "")).removesuffix(":*")
                created = raw.get("creationTime")
                groups.append(
                    LogGroup(
                        name=raw["logGroupName"],
                        arn=arn,
                        created=datetime.fromtimestamp(created / 1000, timezone.utc) if created else None,
                        stored_bytes=raw.get("storedBytes"),
                        retention_days=raw.get("retentionInDays"),
                    )
                )
            if len(groups) >= limit:
                break
    return sorted(groups[:limit], key=lambda g: g.name)
