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

Describing at scale.  A new fleet of 1,000 endpoints costs up to 2,000
Describe calls, which AWS throttles per account and region, a rate shared
with every other tool of the team (a deploy pipeline waiting for its endpoint
polls DescribeEndpoint too).  So:

- One failed describe costs only its own endpoint.  An endpoint whose
  DescribeEndpoint or DescribeEndpointConfig failed keeps its last
  description with ListEndpoints' current status, marked with what failed
  (:class:`~smtop.models.StaleDescription`); one never described yet is
  shown from ListEndpoints alone.  Either is described again at the next
  refresh.  Only credential errors fail the refresh as a whole: every call
  would fail the same way, and the user has to act.
- The calls are paced (:class:`DescribePacer`), and a refresh waits for them
  at most ``budget`` seconds: the describes whose turn has not come by then
  are not sent, and wait for the next refresh with their endpoint marked, so
  a throttled account slows the descriptions down, never the metrics.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Mapping

from smtop.aws.session import AwsSession
from smtop.clock import Clock, SystemClock
from smtop.errors import CredentialsError, NotFoundError, SmtopError, ThrottledError
from smtop.models import Endpoint, StaleDescription, Variant
from smtop.models.names import matches

DESCRIBE_BUDGET = 20.0
"""Seconds a console refresh waits for its Describe calls: a third of the
default refresh interval, so the metrics of a 1,000-endpoint fleet are never
late by more than that, whatever SageMaker's throttling does."""

PUT_OFF = StaleDescription("Its turn to be described had not come: smtop paces its Describe calls to stay under SageMaker's request rate.")


class DescribeLater(Exception):
    """The refresh's time for describing ran out before this call's turn."""


class DescribePacer:
    """Paces SageMaker's Describe calls: a few at a time, at most ``rate`` a second.

    The facts that set the numbers:

    - AWS publishes no request rate for SageMaker's Describe operations: the
      "Amazon SageMaker AI endpoints and quotas" page (AWS General Reference)
      lists resource quotas only, and SageMaker's developer guide says the
      throttling limits of its management APIs are not adjustable.  An
      account over the rate gets ``ThrottlingException`` ("Rate exceeded").
    - botocore's standard retry mode ("Retry behavior", AWS SDKs and Tools
      Reference Guide; smtop's session uses it with 3 attempts) retries a
      throttled call twice, after rand(0, 1) s and rand(0, 2) s (botocore's
      ``ExponentialBackoff``), while the call keeps its place here, and gives
      up at once when the client's retry quota (500 tokens, 5 a retry) is
      spent.  Its "adaptive" mode, which finds a rate by backing off on
      throttles, is for clients that talk to one resource each.

    So the pacer finds the rate the way adaptive mode does, a refresh at a time:

    - ``concurrency`` (8) endpoints described at once, one call each in
      flight: at ~100 ms a call from within the region that is ~80 calls a
      second at most, on 8 of the client's 20 connections.
    - a token bucket of ``rate`` (50 a second, ``burst`` 50): the bound when
      answers come faster (a VPC endpoint; the simulator answers in 2 ms,
      where 8 in flight would be 4,000 a second).  50 a second describes a
      new fleet of 1,000 endpoints (2,000 calls with their configs) in
      40 s, two console refreshes with the describe budget; a steady fleet
      needs almost none (1,000 endpoints re-described every ``max_age`` of
      10 minutes average 1.7 a second).
    - a refresh in which a call was still throttled after botocore's retries
      halves the rate for the next ones (down to ``min_rate``, 2 a second);
      a refresh without throttling gives back a tenth of ``rate``.  Per
      refresh, not per call: one unlucky call does not collapse the rate.
    """

    def __init__(self, rate: float = 50.0, burst: int = 50, concurrency: int = 8, min_rate: float = 2.0) -> None:
        self.max_rate = rate
        self.rate = rate
        """The current rate, calls a second (lower after throttling)."""
        self.min_rate = min(min_rate, rate)
        self.burst = burst
        self._slots = asyncio.Semaphore(concurrency)
        self._tokens = float(burst)
        self._filled_at: float | None = None
        self._queue = asyncio.Lock()  # first come, first served

    @asynccontextmanager
    async def turn(self, deadline: float | None = None) -> AsyncIterator[None]:
        """Hold one of the ``concurrency`` places for one endpoint's calls, made
        one after the other inside the block, each after :meth:`token`.

        Raises:
            DescribeLater: ``deadline`` (event-loop time) passed before a place was free.
        """
        async with self._slots:
            if deadline is not None and asyncio.get_running_loop().time() >= deadline:
                raise DescribeLater
            yield

    async def token(self, deadline: float | None = None) -> None:
        """Return when the bucket allows the next call (first come, first served).

        Raises:
            DescribeLater: the call's turn would come after ``deadline``.
        """
        async with self._queue:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                if self._filled_at is not None:
                    self._tokens = min(self.burst, self._tokens + (now - self._filled_at) * self.rate)
                self._filled_at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
                if deadline is not None and now + wait >= deadline:
                    raise DescribeLater
                await asyncio.sleep(wait)

    def refreshed(self, throttled: bool) -> None:
        """A refresh's describes are done: slow down after throttling, else speed back up."""
        if throttled:
            self.rate = max(self.min_rate, self.rate / 2)
        else:
            self.rate = min(self.max_rate, self.rate + self.max_rate / 10)


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
        pattern: optional filter on endpoint names (:func:`smtop.models.names.matches`).
        max_age: re-describe an unchanged endpoint after this long anyway
            (instance counts can move without a status change being seen
            between two refreshes).
        pacer: paces the Describe calls (:class:`DescribePacer`).
        budget: seconds a refresh waits for its Describe calls; None waits
            for every one (batch mode prints the whole fleet).
    """

    def __init__(
        self,
        aws: AwsSession,
        clock: Clock | None = None,
        pattern: str | None = None,
        max_age: timedelta = timedelta(minutes=10),
        pacer: DescribePacer | None = None,
        budget: float | None = DESCRIBE_BUDGET,
    ) -> None:
        self._aws = aws
        self._clock = clock or SystemClock()
        self._pattern = pattern or ""
        self._max_age = max_age
        self.pacer = pacer or DescribePacer()
        self.budget = budget
        self._described: dict[str, _Described] = {}
        self._failed: dict[str, StaleDescription] = {}
        """Endpoints whose last describe failed, with what failed (until one succeeds)."""
        self._configs: dict[str, Mapping[str, str | None]] = {}

    async def refresh(self) -> list[Endpoint]:
        """Return the matching endpoints, sorted by name.

        Every listed endpoint is returned: one that could not be described
        this time carries ``stale`` (see the module's docstring).

        Raises:
            SmtopError: ListEndpoints failed, or the credentials did (any call).
        """
        listed = await self._list()
        now = self._clock.now()
        stale = [summary for summary in listed if self._due(summary, now)]
        deadline = None if self.budget is None else asyncio.get_running_loop().time() + self.budget
        outcomes = await asyncio.gather(*(self._describe(s, now, deadline) for s in stale), return_exceptions=True)

        put_off: set[str] = set()
        gone: set[str] = set()
        credentials: CredentialsError | None = None
        throttled = False
        for summary, outcome in zip(stale, outcomes):
            name = summary["EndpointName"]
            if isinstance(outcome, _Described):
                self._described[name] = outcome
                self._failed.pop(name, None)
            elif outcome is None:
                gone.add(name)  # deleted between the list and the describe
            elif isinstance(outcome, DescribeLater):
                put_off.add(name)
            elif isinstance(outcome, CredentialsError):
                credentials = credentials or outcome
            elif isinstance(outcome, SmtopError):
                throttled = throttled or isinstance(outcome, ThrottledError)
                self._failed[name] = StaleDescription(outcome.message, outcome.operation or "DescribeEndpoint")
            else:
                raise outcome  # a bug of ours, or the refresh was cancelled
        if len(put_off) < len(stale):
            self.pacer.refreshed(throttled)
        names = {summary["EndpointName"] for summary in listed} - gone
        # Forget endpoints that were deleted, so the cache follows the fleet.
        for cache in (self._described, self._failed):
            for name in cache.keys() - names:
                del cache[name]
        if credentials is not None:
            raise credentials
        return [
            self._shown(summary, put_off)
            for summary in sorted(listed, key=lambda s: s["EndpointName"])
            if summary["EndpointName"] in names
        ]

    def _due(self, summary: Mapping[str, Any], now: datetime) -> bool:
        name = summary["EndpointName"]
        cached = self._described.get(name)
        return (
            cached is None
            or name in self._failed
            or cached.fingerprint != _fingerprint(summary)
            or now - cached.at >= self._max_age
        )

    def _shown(self, summary: Mapping[str, Any], put_off: set[str]) -> Endpoint:
        """The endpoint as the console shows it: its description, or what is known and why not more."""
        name = summary["EndpointName"]
        described = self._described.get(name)
        mark = self._failed.get(name)
        if mark is None and name in put_off and (described is None or described.fingerprint != _fingerprint(summary)):
            mark = PUT_OFF  # an unchanged endpoint only missed its max_age check: its description holds
        if mark is None and described is not None:
            return described.endpoint
        if described is None:
            return Endpoint(
                name=name,
                status=summary.get("EndpointStatus", ""),
                arn=summary.get("EndpointArn", ""),
                created=summary.get("CreationTime"),
                last_modified=summary.get("LastModifiedTime"),
                stale=mark,
            )
        # The list is newer than the description: its status is the one to show.
        return replace(
            described.endpoint,
            status=summary.get("EndpointStatus", described.endpoint.status),
            last_modified=summary.get("LastModifiedTime", described.endpoint.last_modified),
            stale=replace(mark, described_at=described.at),
        )

    async def _list(self) -> list[dict[str, Any]]:
        sagemaker = await self._aws.client("sagemaker")
        listed = []
        with self._aws.errors("sagemaker", "ListEndpoints"):
            async for page in sagemaker.get_paginator("list_endpoints").paginate(PaginationConfig={"PageSize": 100}):
                listed.extend(e for e in page.get("Endpoints", []) if matches(self._pattern, e["EndpointName"]))
        return listed

    async def _describe(self, summary: Mapping[str, Any], now: datetime, deadline: float | None) -> _Described | None:
        name = summary["EndpointName"]
        sagemaker = await self._aws.client("sagemaker")
        # One place for both calls: a config asked behind every other endpoint's
        # describe would wait for the whole queue.
        async with self.pacer.turn(deadline):
            await self.pacer.token(deadline)
            try:
                with self._aws.errors("sagemaker", "DescribeEndpoint"):
                    reply = await sagemaker.describe_endpoint(EndpointName=name)
            except NotFoundError:
                return None  # deleted between the list and the describe
            config_name = reply.get("EndpointConfigName", "")
            # No deadline: the endpoint's describe is spent, its config completes it.
            instance_types = await self._instance_types(config_name) if config_name else {}
        # Remember what the *list* said, since the list is what the next refresh compares.
        return _Described(_endpoint(reply, instance_types), _fingerprint(summary), now)

    async def _instance_types(self, config_name: str) -> Mapping[str, str | None]:
        cached = self._configs.get(config_name)
        if cached is not None:
            return cached
        sagemaker = await self._aws.client("sagemaker")
        await self.pacer.token()
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
