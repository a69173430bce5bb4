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
- UpdateEndpoint stamps LastModifiedTime from the simulator's clock (see
  :mod:`smtop.sim.patches.times` for the other resource times).
"""

from __future__ import annotations

from typing import Any

import moto.sagemaker.models as sm_models
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

from smtop.sim.clock import SimClock


def accepted_instance_types() -> tuple[str, ...]:
    """Instance types the SageMaker API accepts for a production variant."""
    shape = get_service_model("sagemaker").shape_for("ProductionVariantInstanceType")
    return tuple(shape.enum)


def install(clock: SimClock) -> None:
    """Apply the SageMaker fixes to moto (process-wide)."""
    valid_types = frozenset(accepted_instance_types())

    def validate_instance_type(self: sm_models.FakeEndpointConfig, instance_type: str) -> None:
        if instance_type not in valid_types:
            raise ValidationError(
                message=(
                    f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: {sorted(valid_types)}"
                )
            )

    def process_production_variants(
        self: sm_models.FakeEndpoint, production_variants: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return [_variant_summary(variant) for variant in production_variants]

    def update_endpoint(self: SageMakerResponse) -> ActionResult:
        backend = self.sagemaker_backend
        name = self._get_param("EndpointName")
        config_name = self._get_param("EndpointConfigName")
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            arn = sm_models.FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
            raise ValidationError(message=f"Could not find endpoint '{arn}'.")
        config = backend.describe_endpoint_config(config_name)  # raises when missing
        previous = {v["VariantName"]: v for v in endpoint.production_variants}
        variants = [_variant_summary(v) for v in config["ProductionVariants"]]
        if self._get_param("RetainAllVariantProperties"):
            excluded = {p["VariantPropertyType"] for p in self._get_param("ExcludeRetainedVariantProperties") or []}
            for variant in variants:
                old = previous.get(variant["VariantName"])
                if old is None:
                    continue
                if "DesiredWeight" not in excluded:
                    variant["CurrentWeight"] = variant["DesiredWeight"] = old.get("CurrentWeight", 1.0)
                if "DesiredInstanceCount" not in excluded:
                    count = old.get("CurrentInstanceCount", 1)
                    variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"] = count
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = variants
        endpoint.data_capture_config = config.get("DataCaptureConfig") or {}
        endpoint.last_modified_time = clock.utcnow_naive()
        endpoint.endpoint_status = "InService"
        return ActionResult({"EndpointArn": endpoint.arn})

    sm_models.FakeEndpointConfig.validate_instance_type = validate_instance_type
    sm_models.FakeEndpoint._process_production_variants = process_production_variants
    SageMakerResponse.update_endpoint = update_endpoint


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
