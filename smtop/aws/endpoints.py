"""The endpoint inventory: which endpoints exist and how they are deployed.

ListEndpoints already says each endpoint's status and LastModifiedTime, but
variants, instance counts and weights need DescribeEndpoint, and instance
types need DescribeEndpointConfig.  A refresh therefore lists everything
(100 endpoints per page) and describes only the endpoints that are new or
whose status or LastModifiedTime moved, so a steady fleet of 1,000 endpoints
costs 10 list pages, not 1,000 describes.  Endpoint configs never change
after creation, so they are cached by name for the whole run.  As a safety
net an endpoint is re-described when its description is older than
``max_age`` anyway.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from smtop.aws.session import AwsSession, gather_or_raise
from smtop.clock import Clock, SystemClock
from smtop.errors import NotFoundError
from smtop.models import Endpoint, Variant
from smtop.names import matches


@dataclass(frozen=True, slots=True)
class _Described:
    endpoint: Endpoint
    fingerprint: tuple[str, datetime | None]
    at: datetime


class EndpointInventory:
    """Lists and describes endpoints, re-describing only what changed.

    Args:
        aws: the open session.
        clock: the source of "now" for ``max_age``.
        pattern: optional filter on endpoint names (:func:`smtop.names.matches`).
        concurrency: how many Describe calls run at once.
        max_age: re-describe an unchanged endpoint after this long anyway
            (instance counts can move without a status change being seen
            between two refreshes).
    """

    def __init__(
        self,
        aws: AwsSession,
        clock: Clock | None = None,
        pattern: str | None = None,
        concurrency: int = 8,
        max_age: timedelta = timedelta(minutes=10),
    ) -> None:
        self._aws = aws
        self._clock = clock or SystemClock()
        self._pattern = pattern or ""
        self._limit = asyncio.Semaphore(concurrency)
        self._max_age = max_age
        self._described: dict[str, _Described] = {}
        self._configs: dict[str, Mapping[str, str | None]] = {}

    async def refresh(self) -> list[Endpoint]:
        """Return the matching endpoints, sorted by name.

        Raises:
            SmtopError: any AWS failure, already translated.
        """
        listed = await self._list()
        now = self._clock.now()
        stale = [
            summary
            for summary in listed
            if (cached := self._described.get(summary["EndpointName"])) is None
            or cached.fingerprint != _fingerprint(summary)
            or now - cached.at >= self._max_age
        ]
        fresh = await gather_or_raise(self._describe(summary, now) for summary in stale)
        for described in fresh:
            if described is not None:
                self._described[described.endpoint.name] = described
        names = {summary["EndpointName"] for summary in listed}
        gone_while_describing = {s["EndpointName"] for s, d in zip(stale, fresh) if d is None}
        # Forget endpoints that were deleted, so the cache follows the fleet.
        for name in list(self._described):
            if name not in names or name in gone_while_describing:
                del self._described[name]
        return [self._described[name].endpoint for name in sorted(names) if name in self._described]

    async def _list(self) -> list[dict[str, Any]]:
        sagemaker = await self._aws.client("sagemaker")
        listed = []
        with self._aws.errors("sagemaker", "ListEndpoints"):
            async for page in sagemaker.get_paginator("list_endpoints").paginate(PaginationConfig={"PageSize": 100}):
                listed.extend(e for e in page.get("Endpoints", []) if matches(self._pattern, e["EndpointName"]))
        return listed

    async def _describe(self, summary: Mapping[str, Any], now: datetime) -> _Described | None:
        name = summary["EndpointName"]
        sagemaker = await self._aws.client("sagemaker")
        async with self._limit:
            try:
                with self._aws.errors("sagemaker", "DescribeEndpoint"):
                    reply = await sagemaker.describe_endpoint(EndpointName=name)
            except NotFoundError:
                return None  # deleted between the list and the describe
            config_name = reply.get("EndpointConfigName", "")
            instance_types = await self._instance_types(config_name) if config_name else {}
        # Remember what the *list* said, since the list is what the next refresh compares.
        return _Described(_endpoint(reply, instance_types), _fingerprint(summary), now)

    async def _instance_types(self, config_name: str) -> Mapping[str, str | None]:
        cached = self._configs.get(config_name)
        if cached is not None:
            return cached
        sagemaker = await self._aws.client("sagemaker")
        try:
            with self._aws.errors("sagemaker", "DescribeEndpointConfig"):
                reply = await sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
        except NotFoundError:
            return {}  # a config may be deleted while its endpoint still runs
        types = {v["VariantName"]: v.get("InstanceType") for v in reply.get("ProductionVariants", [])}
        self._configs[config_name] = types
        return types


def _fingerprint(summary: Mapping[str, Any]) -> tuple[str, datetime | None]:
    return (summary.get("EndpointStatus", ""), summary.get("LastModifiedTime"))


def _endpoint(reply: Mapping[str, Any], instance_types: Mapping[str, str | None]) -> Endpoint:
    variants = tuple(
        Variant(
            name=v["VariantName"],
            instance_type=instance_types.get(v["VariantName"]),
            current_instance_count=v.get("CurrentInstanceCount"),
            desired_instance_count=v.get("DesiredInstanceCount"),
            current_weight=v.get("CurrentWeight"),
        )
        for v in reply.get("ProductionVariants", [])
    )
    return Endpoint(
        name=reply["EndpointName"],
        status=reply.get("EndpointStatus", ""),
        arn=reply.get("EndpointArn", ""),
        config_name=reply.get("EndpointConfigName", ""),
        created=reply.get("CreationTime"),
        last_modified=reply.get("LastModifiedTime"),
        variants=variants,
        failure_reason=reply.get("FailureReason"),
    )
