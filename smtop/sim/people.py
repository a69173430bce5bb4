"""Simulated people changing the demo fleet, so CloudTrail has a story to tell.

Their calls go over HTTP through the simulator with their own access keys, so
the recorder (:mod:`smtop.sim.cloudtrail`) writes them down exactly as it
would anyone's, and the fleet really changes (DescribeEndpoint shows the new
config, LastModifiedTime, the Updating spell).

The story, per stretch of time:
- before each of the canary's bad spells (:meth:`TrafficModel.spells`) a new
  canary build is deployed (CreateEndpointConfig + UpdateEndpoint), mostly by
  the CI role, sometimes by alice; shortly before the spell ends someone rolls
  it back to ``llm-chat-canary-config-v2``: "latency jumped right after the
  deploy" is visible on the charts;
- every hour bob shifts recsys-ranker's traffic towards variant-b and back
  (UpdateEndpointWeightsAndCapacities), alice prepares a fraud-detector config
  (CreateEndpointConfig), and bob tries to update doc-summarizer to a config
  that does not exist, which fails with a ValidationException.

Every change is an *episode* whose calls all happen or none: the backfill
plays the episodes that ended before "now" (so the fleet ends in its
documented state: canary on config-v2, recsys-ranker at 0.9/0.1), the live
thread plays those that start after it.  Times and names come from the seed
and the clock only: the same ``--seed`` and ``--now`` give the same trail.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from smtop.sim.cloudtrail import Principal, Trail
from smtop.sim.fleet import REGION, EndpointSpec, production_variant
from smtop.sim.traffic import TrafficModel

log = logging.getLogger(__name__)

BACKFILL_SECONDS = 3 * 3600
CANARY = "llm-chat-canary"
STABLE_CANARY_CONFIG = f"{CANARY}-config-v2"

ALICE = Principal("AKIA5ALICEEXAMPLE001", "alice", source_ip="203.0.113.24", user_agent="aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.7")
BOB = Principal("AKIA5BOBEXAMPLE00002", "bob", source_ip="198.51.100.77", user_agent="Boto3/1.35.60 md/Botocore#1.35.60 ua/2.0 os/linux#6.8.0 lang/python#3.11.10")
CI_DEPLOY = Principal("ASIA5CIDEPLOYEXAMPLE", "github-actions-llm-chat", role="ci-deploy", source_ip="192.0.2.140", user_agent="aws-sdk-js/3.693.0 ua/2.1 os/linux#6.5.0-1025-azure lang/js md/nodejs#20.18.0 api/sagemaker#3.693.0")
PEOPLE = (ALICE, BOB, CI_DEPLOY)


@dataclass(frozen=True, slots=True)
class Action:
    """One API call someone makes at a moment."""

    at: float
    who: Principal
    operation: str
    parameters: dict[str, Any]


Episode = tuple[Action, ...]
"""Calls that belong together (a deploy and its rollback): played all or not at all."""


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y%m%d-%H%M%S")


def _config(endpoint: EndpointSpec, name: str, version: str) -> dict[str, Any]:
    """CreateEndpointConfig parameters reusing the model the fleet created for ``version``."""
    variants = [production_variant(v, f"{endpoint.name}-{v.name.lower()}-{version}") for v in endpoint.variants]
    return {"EndpointConfigName": name, "ProductionVariants": variants}


def episodes(model: TrafficModel, start: float, end: float) -> list[Episode]:
    """Every episode whose first call falls in [start, end), in time order."""
    fleet = {e.name: e for e in model.fleet}
    found: list[Episode] = []
    canary = fleet.get(CANARY)
    if canary is not None:
        for begin, finish in model.spells(start, end):
            rng = random.Random(f"{model.seed}/people/canary/{begin}")
            deployer = ALICE if rng.random() < 0.3 else CI_DEPLOY
            rollback = BOB if deployer is ALICE else ALICE
            config = f"{CANARY}-{_stamp(begin - 75)}"
            found.append(
                (
                    Action(begin - 75, deployer, "CreateEndpointConfig", _config(canary, config, "v2")),
                    Action(begin - 60, deployer, "UpdateEndpoint", {"EndpointName": CANARY, "EndpointConfigName": config}),
                    Action(finish - 10, rollback, "UpdateEndpoint", {"EndpointName": CANARY, "EndpointConfigName": STABLE_CANARY_CONFIG}),
                )
            )
    for hour in range(int(start // 3600), int(end // 3600) + 1):
        rng = random.Random(f"{model.seed}/people/hour/{hour}")
        base = hour * 3600.0
        if "recsys-ranker" in fleet:
            shift = base + rng.uniform(300, 1200)
            found.append(
                (
                    Action(shift, BOB, "UpdateEndpointWeightsAndCapacities", _weights("recsys-ranker", 0.8, 0.2)),
                    Action(shift + 1500, BOB, "UpdateEndpointWeightsAndCapacities", _weights("recsys-ranker", 0.9, 0.1)),
                )
            )
        if "fraud-detector-prod" in fleet:
            at = base + rng.uniform(1800, 2700)
            name = f"fraud-detector-prod-config-{_stamp(at)}"
            found.append((Action(at, ALICE, "CreateEndpointConfig", _config(fleet["fraud-detector-prod"], name, "v1")),))
        if "doc-summarizer" in fleet:
            at = base + rng.uniform(3000, 3300)
            # No such config: SageMaker answers ValidationException, and CloudTrail records the errorCode.
            found.append((Action(at, BOB, "UpdateEndpoint", {"EndpointName": "doc-summarizer", "EndpointConfigName": "doc-summarizer-config-v3"}),))
    found = [episode for episode in found if start <= episode[0].at < end]
    return sorted(found, key=lambda episode: episode[0].at)


def _weights(endpoint: str, a: float, b: float) -> dict[str, Any]:
    return {
        "EndpointName": endpoint,
        "DesiredWeightsAndCapacities": [
            {"VariantName": "variant-a", "DesiredWeight": a},
            {"VariantName": "variant-b", "DesiredWeight": b},
        ],
    }


class Callers:
    """One boto3 SageMaker client per person, signed with their key."""

    def __init__(self, endpoint_url: str) -> None:
        self._url = endpoint_url
        self._clients: dict[str, Any] = {}

    def call(self, action: Action) -> None:
        """Make the call; a refusal is part of the story (CloudTrail records it), not an
        error, and a simulated outage (smtop/sim/faults.py) only loses this one call."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._clients.get(action.who.access_key_id)
        if client is None:
            import boto3
            from botocore.config import Config

            client = self._clients[action.who.access_key_id] = boto3.client(
                "sagemaker",
                endpoint_url=self._url,
                region_name=REGION,
                aws_access_key_id=action.who.access_key_id,
                aws_secret_access_key="simulated",
                config=Config(retries={"max_attempts": 1}),
            )
        method = getattr(client, _snake(action.operation))
        try:
            method(**action.parameters)
        except (ClientError, BotoCoreError) as error:
            log.debug("%s %s: %s", action.who.name, action.operation, error)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def backfill_people(endpoint_url: str, clock, trail: Trail, model: TrafficModel, now: float, seconds: float = BACKFILL_SECONDS) -> int:
    """Play the episodes of the last ``seconds`` that were over before ``now``,
    holding the clock at each call's moment for the caller's key; return how
    many calls were made."""
    for person in PEOPLE:
        trail.register(person)
    callers = Callers(endpoint_url)
    calls = 0
    try:
        for episode in episodes(model, now - seconds, now):
            if episode[-1].at >= now - 10:
                continue  # would still be running at "now": the live thread does not replay it either
            for action in episode:
                with clock.held_for(action.who.access_key_id, action.at):
                    callers.call(action)
                calls += 1
    finally:
        callers.close()
    return calls


class LivePeople(threading.Thread):
    """Plays the episodes that start from ``since`` on, each call at its moment.

    Args:
        endpoint_url: The simulator's URL.
        model: The fleet's traffic model (the canary's schedule).
        clock: Callable returning the simulated epoch seconds.
        since: Where the backfill ended.
    """

    LOOKAHEAD = 3600.0

    def __init__(self, endpoint_url: str, model: TrafficModel, clock: Callable[[], float], since: float, interval: float = 1.0) -> None:
        super().__init__(name="smtop-sim-people", daemon=True)
        self._callers = Callers(endpoint_url)
        self._model = model
        self._clock = clock
        self._planned_until = since
        self._queue: list[Action] = []
        self._interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.wait(self._interval):
                self.tick()
        finally:
            self._callers.close()

    def tick(self) -> None:
        """Make every call whose moment has come; plan the next hour when needed."""
        now = self._clock()
        if now + 60 >= self._planned_until:
            window_end = self._planned_until + self.LOOKAHEAD
            for episode in episodes(self._model, self._planned_until, window_end):
                self._queue.extend(episode)
            self._queue.sort(key=lambda action: action.at)
            self._planned_until = window_end
        while self._queue and self._queue[0].at <= now:
            self._callers.call(self._queue.pop(0))

    def stop(self) -> None:
        self._stopped.set()
