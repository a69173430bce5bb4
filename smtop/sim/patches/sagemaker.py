"""SageMaker endpoint behaviour moto 5.2.5 gets wrong for a monitoring console.

- Instance types: moto validates against a frozen 2020-era list and rejects
  ml.g5, ml.g6, ml.inf2, ml.p4d, ml.c7i…  The simulator accepts exactly the
  ``ProductionVariantInstanceType`` enum of the installed botocore service
  model, i.e. what the real API accepts, with moto's error text otherwise.
- DescribeEndpoint: moto copies CurrentInstanceCount/DesiredInstanceCount and
  CurrentWeight/DesiredWeight only when they were given (and drops a weight of
  0), while SageMaker always reports them (InitialVariantWeight defaults to 1.0).
- UpdateEndpoint is not implemented in moto; here it switches the endpoint to
  another endpoint config, optionally retaining variant weights and counts.
- UpdateEndpoint and UpdateEndpointWeightsAndCapacities take time, as on
  SageMaker: the endpoint is ``Updating`` for :data:`UPDATE_SECONDS` of
  simulated time (the old variants keep serving; a weights change shows its
  Desired* values at once), then ``InService`` with the new ones.  A second
  update meanwhile is refused with SageMaker's "Cannot update in-progress
  endpoint".  The switch is applied when the endpoint is next read, so no
  timer thread is needed and a held clock (the fleet's backfill) works too.
- Both stamp LastModifiedTime from the simulator's clock (see
  :mod:`smtop.sim.patches.times` for the other resource times).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

import moto.sagemaker.models as sm_models
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

from smtop.sim.clock import SimClock
from smtop.sim.patches.handlers import Handlers

UPDATE_SECONDS = 2.0
"""Simulated seconds an endpoint stays Updating after an update call."""

_moto_response_object = sm_models.FakeEndpoint.response_object
_moto_summary = sm_models.FakeEndpoint.summary


@dataclass
class _PendingUpdate:
    """What an endpoint becomes once its update has finished."""

    endpoint: sm_models.FakeEndpoint
    ready_at: float
    config_name: str
    variants: list[dict[str, Any]]
    data_capture_config: dict[str, Any]


class EndpointUpdates:
    """Endpoint updates in progress, keyed by endpoint ARN, settled when read."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._pending: dict[str, _PendingUpdate] = {}
        self._lock = threading.Lock()

    def start(self, update: _PendingUpdate) -> None:
        endpoint = update.endpoint
        self.settle(endpoint)
        with self._lock:
            if self._pending.get(endpoint.arn, None) is not None and self._pending[endpoint.arn].endpoint is endpoint:
                raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
            self._pending[endpoint.arn] = update
        endpoint.endpoint_status = "Updating"
        endpoint.last_modified_time = self._clock.utcnow_naive()

    def settle(self, endpoint: sm_models.FakeEndpoint) -> None:
        """Finish the endpoint's update if its time has come."""
        with self._lock:
            update = self._pending.get(endpoint.arn)
            if update is None or update.endpoint is not endpoint or self._clock.time() < update.ready_at:
                return
            del self._pending[endpoint.arn]
        endpoint.endpoint_config_name = update.config_name
        endpoint.production_variants = update.variants
        endpoint.data_capture_config = update.data_capture_config
        endpoint.endpoint_status = "InService"


def accepted_instance_types() -> tuple[str, ...]:
    """Instance types the SageMaker API accepts for a production variant."""
    shape = get_service_model("sagemaker").shape_for("ProductionVariantInstanceType")
    return tuple(shape.enum)


def validate_instance_type(config: sm_models.FakeEndpointConfig, instance_type: str, *, instance_types: frozenset[str]) -> None:
    if instance_type not in instance_types:
        raise ValidationError(
            message=(
                f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
                f"Member must satisfy enum value set: {sorted(instance_types)}"
            )
        )


def process_production_variants(
    endpoint: sm_models.FakeEndpoint, production_variants: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return [_variant_summary(variant) for variant in production_variants]


def _find_endpoint(response: SageMakerResponse) -> sm_models.FakeEndpoint:
    backend = response.sagemaker_backend
    name = response._get_param("EndpointName")
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        arn = sm_models.FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    return endpoint


def update_endpoint(response: SageMakerResponse, *, updates: EndpointUpdates, clock: SimClock) -> ActionResult:
    backend = response.sagemaker_backend
    endpoint = _find_endpoint(response)
    config_name = response._get_param("EndpointConfigName")
    config = backend.describe_endpoint_config(config_name)  # raises when missing
    previous = {v["VariantName"]: v for v in endpoint.production_variants}
    variants = [_variant_summary(v) for v in config["ProductionVariants"]]
    if response._get_param("RetainAllVariantProperties"):
        excluded = {p["VariantPropertyType"] for p in response._get_param("ExcludeRetainedVariantProperties") or []}
        for variant in variants:
            old = previous.get(variant["VariantName"])
            if old is None:
                continue
            if "DesiredWeight" not in excluded:
                variant["CurrentWeight"] = variant["DesiredWeight"] = old.get("CurrentWeight", 1.0)
            if "DesiredInstanceCount" not in excluded:
                count = old.get("CurrentInstanceCount", 1)
                variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"] = count
    data_capture = config.get("DataCaptureConfig") or {}
    updates.start(_PendingUpdate(endpoint, clock.time() + UPDATE_SECONDS, config_name, variants, data_capture))
    return ActionResult({"EndpointArn": endpoint.arn})


def update_endpoint_weights_and_capacities(
    response: SageMakerResponse, *, updates: EndpointUpdates, clock: SimClock
) -> ActionResult:
    endpoint = _find_endpoint(response)
    updates.settle(endpoint)
    desired = response._get_param("DesiredWeightsAndCapacities") or []
    variants = copy.deepcopy(endpoint.production_variants)
    by_name = {v["VariantName"]: v for v in variants}
    seen: set[str] = set()
    for change in desired:
        name = change.get("VariantName")
        if name in seen:
            raise ValidationError(message=f'The variant name "{name}" was non-unique within the request.')
        seen.add(name)
        if name not in by_name:
            raise ValidationError(
                message=f'The variant name(s) "{name}" is/are not present within endpoint configuration "{endpoint.endpoint_config_name}".'
            )
    for change in desired:
        variant = by_name[change["VariantName"]]
        if change.get("DesiredWeight") is not None:
            variant["DesiredWeight"] = float(change["DesiredWeight"])
        if change.get("DesiredInstanceCount") is not None:
            variant["DesiredInstanceCount"] = int(change["DesiredInstanceCount"])
    ready = [{**v, "CurrentWeight": v.get("DesiredWeight"), "CurrentInstanceCount": v.get("DesiredInstanceCount")} for v in variants]
    ready = [{k: val for k, val in v.items() if val is not None} for v in ready]
    updates.start(
        _PendingUpdate(endpoint, clock.time() + UPDATE_SECONDS, endpoint.endpoint_config_name, ready, endpoint.data_capture_config)
    )
    # While it updates, DescribeEndpoint shows the desired values beside the current ones.
    for variant in endpoint.production_variants:
        target = by_name[variant["VariantName"]]
        variant["DesiredWeight"] = target.get("DesiredWeight")
        if "DesiredInstanceCount" in target:
            variant["DesiredInstanceCount"] = target["DesiredInstanceCount"]
    return ActionResult({"EndpointArn": endpoint.arn})


def response_object(endpoint: sm_models.FakeEndpoint, *, updates: EndpointUpdates) -> dict[str, Any]:
    updates.settle(endpoint)
    return _moto_response_object.fget(endpoint)


def summary(endpoint: sm_models.FakeEndpoint, *, updates: EndpointUpdates) -> dict[str, Any]:
    updates.settle(endpoint)
    return _moto_summary(endpoint)

def _variant_summary(variant: dict[str, Any]) -> dict[str, Any]:
    """A ProductionVariantSummary as DescribeEndpoint reports it once InService."""
    summary: dict[str, Any] = {"VariantName": variant["VariantName"]}
    if variant.get("ServerlessConfig"):
        summary["CurrentServerlessConfig"] = variant["ServerlessConfig"]
        summary["DesiredServerlessConfig"] = variant["ServerlessConfig"]
    else:
        count = variant.get("InitialInstanceCount") or 1
        summary["CurrentInstanceCount"] = summary["DesiredInstanceCount"] = count
    weight = variant.get("InitialVariantWeight")
    summary["CurrentWeight"] = summary["DesiredWeight"] = 1.0 if weight is None else float(weight)
    return summary


HANDLERS: Handlers = {
    (sm_models.FakeEndpointConfig, "validate_instance_type"): validate_instance_type,
    (sm_models.FakeEndpoint, "_process_production_variants"): process_production_variants,
    (sm_models.FakeEndpoint, "response_object"): response_object,  # a property, as moto's
    (sm_models.FakeEndpoint, "summary"): summary,
    (SageMakerResponse, "update_endpoint"): update_endpoint,
    (SageMakerResponse, "update_endpoint_weights_and_capacities"): update_endpoint_weights_and_capacities,
}
"""The SageMaker fixes: install with ``updates=`` (an :class:`EndpointUpdates`),
``clock=`` and ``instance_types=`` (:func:`accepted_instance_types`)."""
