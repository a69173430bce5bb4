"""The demo fleet: SageMaker endpoints the simulator creates and keeps busy.

The fleet is created over HTTP with boto3 against the simulator itself, the
way a person would, so everything that watches API calls (CloudTrail
recording) sees the same history a real account would have.  While it is
created the simulator's clock is held, for the seeder's own requests only, at
believable moments in the past, so CreationTime and LastModifiedTime read like
a real fleet's and are reproducible with ``--now``.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass

from smtop.sim.clock import SimClock
from smtop.sim.cloudtrail import FLEET_BOOTSTRAP

ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-inference"
REGION = "us-east-1"
SEEDER_KEY = FLEET_BOOTSTRAP.access_key_id
"""The key the fleet is created with: the clock is held for its requests only."""


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """What matters of an instance type for its utilization metrics."""

    vcpus: int
    gpus: int = 0


INSTANCES: dict[str, InstanceSpec] = {
    "ml.c5.xlarge": InstanceSpec(4),
    "ml.m5.large": InstanceSpec(2),
    "ml.m5.xlarge": InstanceSpec(4),
    "ml.m5.2xlarge": InstanceSpec(8),
    "ml.g4dn.xlarge": InstanceSpec(4, gpus=1),
    "ml.g5.2xlarge": InstanceSpec(8, gpus=1),
    "ml.inf2.xlarge": InstanceSpec(4),  # Inferentia: NeuronCores, no GPUUtilization
}


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """One production variant and the shape of its traffic.

    Rates and latencies are at the diurnal mean; utilization fractions are of
    the instance's whole capacity (CPUUtilization is then reported per core,
    up to 100 % × vCPUs, as SageMaker does).
    """

    name: str
    instance_type: str
    instances: int
    weight: float
    invocations_per_minute: float
    latency_ms: float
    latency_sigma: float = 0.45
    overhead_ms: float = 4.0
    cpu_fraction: float = 0.3
    gpu_percent: float = 0.0
    memory_percent: float = 45.0
    disk_percent: float = 22.0
    error_4xx_rate: float = 0.002
    degrades: bool = False

    @property
    def spec(self) -> InstanceSpec:
        return INSTANCES[self.instance_type]

    @property
    def has_gpu(self) -> bool:
        return self.spec.gpus > 0


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """An endpoint, its variants, and when it was created (days before now)."""

    name: str
    variants: tuple[VariantSpec, ...]
    created_days_ago: float
    team: str
    model_image: str
    updated_hours_ago: float | None = None
    """When set, the endpoint moved to a second config this long ago (UpdateEndpoint)."""
    log_format: str | None = None
    """The format its image's model server logs in (a name in
    :data:`smtop.sim.log_formats.FORMATS`: nginx for the scikit-learn and
    XGBoost containers, TGI with JSON output, TorchServe, Multi Model Server
    for the Hugging Face Neuron container); ``None`` writes no logs."""


def _variant(name: str, instance_type: str, instances: int, *, weight: float = 1.0, **traffic) -> VariantSpec:
    return VariantSpec(name, instance_type, instances, weight, **traffic)


DEMO_FLEET: tuple[EndpointSpec, ...] = (
    EndpointSpec(
        "fraud-detector-prod",
        (
            _variant(
                "AllTraffic", "ml.c5.xlarge", 2,
                invocations_per_minute=1200, latency_ms=38, latency_sigma=0.5, cpu_fraction=0.33, memory_percent=51,
            ),
        ),
        created_days_ago=41.3,
        team="payments-risk",
        model_image="763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-inference:1.7-1",
        log_format="nginx",
    ),
    EndpointSpec(
        "llm-chat-canary",
        (
            _variant(
                "AllTraffic", "ml.g5.2xlarge", 1,
                invocations_per_minute=310, latency_ms=780, latency_sigma=0.55, overhead_ms=6.0,
                cpu_fraction=0.22, gpu_percent=68, memory_percent=78, disk_percent=31, degrades=True,
            ),
        ),
        created_days_ago=6.2,
        team="assistant",
        model_image="763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.3-tgi2.2-gpu",
        log_format="tgi-json",
        updated_hours_ago=26.0,
    ),
    EndpointSpec(
        "recsys-ranker",
        (
            _variant(
                "variant-a", "ml.m5.xlarge", 3, weight=0.9,
                invocations_per_minute=2160, latency_ms=17, latency_sigma=0.4, cpu_fraction=0.41, memory_percent=62,
            ),
            _variant(
                "variant-b", "ml.m5.2xlarge", 1, weight=0.1,
                invocations_per_minute=240, latency_ms=24, latency_sigma=0.4, cpu_fraction=0.12, memory_percent=38,
            ),
        ),
        created_days_ago=88.0,
        team="discovery",
        model_image="763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.4-cpu-py311",
        log_format="torchserve",
    ),
    EndpointSpec(
        "image-embeddings",
        (
            _variant(
                "AllTraffic", "ml.g4dn.xlarge", 2,
                invocations_per_minute=800, latency_ms=58, latency_sigma=0.35,
                cpu_fraction=0.18, gpu_percent=52, memory_percent=57, disk_percent=27,
            ),
        ),
        created_days_ago=19.5,
        team="search",
        model_image="763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.4-gpu-py311",
        log_format="torchserve",
    ),
    EndpointSpec(
        "churn-scorer-staging",
        (
            _variant(
                "AllTraffic", "ml.m5.large", 1,
                invocations_per_minute=12, latency_ms=9, latency_sigma=0.3,
                cpu_fraction=0.04, memory_percent=33, disk_percent=18, error_4xx_rate=0.02,
            ),
        ),
        created_days_ago=2.7,
        team="growth",
        model_image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        log_format="nginx",
    ),
    EndpointSpec(
        "doc-summarizer",
        (
            _variant(
                "AllTraffic", "ml.inf2.xlarge", 2,
                invocations_per_minute=90, latency_ms=420, latency_sigma=0.4, overhead_ms=5.0,
                cpu_fraction=0.15, memory_percent=70,
            ),
        ),
        created_days_ago=12.0,
        team="assistant",
        model_image="763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference-neuronx:2.1-neuronx",
        log_format="mms",
    ),
)


def seed_fleet(endpoint_url: str, clock: SimClock, now: float, fleet: tuple[EndpointSpec, ...] = DEMO_FLEET) -> None:
    """Create the fleet's models, endpoint configs and endpoints over HTTP.

    Args:
        endpoint_url: The simulator's URL.
        clock: The simulator's clock, held at each resource's creation moment.
        now: The moment the fleet's history ends at (epoch seconds).
        fleet: The endpoints to create.
    """
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "sagemaker",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=SEEDER_KEY,
        aws_secret_access_key=SEEDER_KEY,
        config=Config(retries={"max_attempts": 1}),
    )
    try:
        for endpoint in fleet:
            created = now - endpoint.created_days_ago * 86400
            config = f"{endpoint.name}-config-v1"
            with clock.held_for(SEEDER_KEY, created - 120):
                _create_models_and_config(client, endpoint, config)
            with clock.held_for(SEEDER_KEY, created):
                client.create_endpoint(
                    EndpointName=endpoint.name,
                    EndpointConfigName=config,
                    Tags=[{"Key": "team", "Value": endpoint.team}],
                )
            if endpoint.updated_hours_ago is not None:
                updated = now - endpoint.updated_hours_ago * 3600
                with clock.held_for(SEEDER_KEY, updated - 300):
                    _create_models_and_config(client, endpoint, f"{endpoint.name}-config-v2")
                with clock.held_for(SEEDER_KEY, updated):
                    client.update_endpoint(EndpointName=endpoint.name, EndpointConfigName=f"{endpoint.name}-config-v2")
    finally:
        client.close()


def production_variant(variant: VariantSpec, model: str) -> dict[str, object]:
    """The ``ProductionVariants`` entry of CreateEndpointConfig for ``variant``."""
    return {
        "VariantName": variant.name,
        "ModelName": model,
        "InstanceType": variant.instance_type,
        "InitialInstanceCount": variant.instances,
        "InitialVariantWeight": variant.weight,
    }


def _create_models_and_config(client, endpoint: EndpointSpec, config: str) -> None:
    version = config.rsplit("-", 1)[-1]
    variants = []
    for variant in endpoint.variants:
        model = f"{endpoint.name}-{variant.name.lower()}-{version}"
        client.create_model(
            ModelName=model,
            ExecutionRoleArn=ROLE_ARN,
            PrimaryContainer={"Image": endpoint.model_image, "ModelDataUrl": f"s3://ml-models/{endpoint.name}/{version}/model.tar.gz"},
        )
        variants.append(production_variant(variant, model))
    client.create_endpoint_config(EndpointConfigName=config, ProductionVariants=variants)


# -- alarms and topics -----------------------------------------------------------

ALARM_HISTORY_SECONDS = 2 * 3600
"""The demo's alarms were created this long ago; their history is replayed from then."""

DEMO_TOPICS = ("oncall-pager", "ml-platform-alerts")
"""SNS topics the demo account has, for alarm actions."""


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """One demo alarm: PutMetricAlarm's arguments, minus the boilerplate."""

    name: str
    endpoint: str
    metric: str
    threshold: float
    comparison: str = "GreaterThanThreshold"
    statistic: str = "Average"
    period: int = 60
    evaluation_periods: int = 2
    datapoints_to_alarm: int | None = None
    topic: str | None = "oncall-pager"
    variant: str = "AllTraffic"
    treat_missing_data: str = "missing"
    description: str = ""


# The canary degrades about three minutes in every ten (see traffic.py): its
# alarms fire a couple of minutes into each bad spell and clear after it; the
# thresholds of the others sit well clear of their endpoints' traffic.
DEMO_ALARMS: tuple[AlarmSpec, ...] = (
    AlarmSpec("llm-chat-canary-p99-latency", "llm-chat-canary", "ModelLatency", 5_000_000, statistic="p99",
              evaluation_periods=3, datapoints_to_alarm=1, description="p99 model latency above 5 s in any of the last 3 minutes"),
    AlarmSpec("llm-chat-canary-avg-latency", "llm-chat-canary", "ModelLatency", 2_000_000,
              topic="ml-platform-alerts", description="Average model latency above 2 s for 2 minutes"),
    AlarmSpec("llm-chat-canary-5xx", "llm-chat-canary", "Invocation5XXErrors", 3, statistic="Sum",
              evaluation_periods=3, datapoints_to_alarm=2, description="More than 3 server errors a minute, 2 of 3 minutes"),
    AlarmSpec("fraud-detector-prod-p99-latency", "fraud-detector-prod", "ModelLatency", 500_000, statistic="p99",
              period=300, description="p99 model latency above 500 ms"),
    AlarmSpec("recsys-ranker-5xx", "recsys-ranker", "Invocation5XXErrors", 10, statistic="Sum", period=300,
              variant="variant-a", description="More than 10 server errors in 5 minutes"),
    AlarmSpec("image-embeddings-gpu-high", "image-embeddings", "GPUUtilization", 90, period=300, evaluation_periods=3,
              topic="ml-platform-alerts", description="GPU above 90 % for 15 minutes"),
    AlarmSpec("doc-summarizer-memory-high", "doc-summarizer", "MemoryUtilization", 90, period=300,
              topic="ml-platform-alerts", description="Memory above 90 % for 10 minutes"),
    AlarmSpec("churn-scorer-staging-no-traffic", "churn-scorer-staging", "Invocations", 1, statistic="Sum",
              comparison="LessThanThreshold", period=300, topic=None, treat_missing_data="breaching",
              description="No invocations for 10 minutes"),
)


@dataclass(frozen=True, slots=True)
class CompositeSpec:
    """One demo composite alarm: PutCompositeAlarm's arguments."""

    name: str
    rule: str
    topic: str | None = "oncall-pager"
    description: str = ""


# The alarm that pages, as teams set them up: the canary is hurting when it
# both errors and is slow; either alone is left to the metric alarms.
DEMO_COMPOSITES: tuple[CompositeSpec, ...] = (
    CompositeSpec(
        "llm-chat-canary-degraded",
        'ALARM("llm-chat-canary-5xx") AND (ALARM("llm-chat-canary-p99-latency") OR ALARM("llm-chat-canary-avg-latency"))',
        description="Canary serving errors while slow: page on-call",
    ),
)


def seed_alarms(
    endpoint_url: str,
    clock: SimClock,
    now: float,
    alarms: tuple[AlarmSpec, ...] = DEMO_ALARMS,
    composites: tuple[CompositeSpec, ...] = DEMO_COMPOSITES,
) -> None:
    """Create the demo's SNS topics and alarms over HTTP, as a person would have.

    The clock is held ``ALARM_HISTORY_SECONDS`` back while they are created,
    so their history can be replayed over the backfilled metrics.
    """
    import boto3
    from botocore.config import Config

    from smtop.models.catalog import METRICS

    def client(service: str):
        return boto3.client(
            service, endpoint_url=endpoint_url, region_name=REGION, aws_access_key_id=SEEDER_KEY,
            aws_secret_access_key=SEEDER_KEY, config=Config(retries={"max_attempts": 1}),
        )

    sns, cloudwatch = client("sns"), client("cloudwatch")
    with closing(sns), closing(cloudwatch), clock.held_for(SEEDER_KEY, now - ALARM_HISTORY_SECONDS):
        topics = {name: sns.create_topic(Name=name)["TopicArn"] for name in DEMO_TOPICS}
        for alarm in alarms:
            spec = METRICS[alarm.metric]
            stat = {"ExtendedStatistic": alarm.statistic} if alarm.statistic.startswith("p") else {"Statistic": alarm.statistic}
            extra = {"DatapointsToAlarm": alarm.datapoints_to_alarm} if alarm.datapoints_to_alarm else {}
            cloudwatch.put_metric_alarm(
                AlarmName=alarm.name,
                AlarmDescription=alarm.description,
                Namespace=spec.namespace,
                MetricName=alarm.metric,
                Dimensions=[{"Name": "EndpointName", "Value": alarm.endpoint}, {"Name": "VariantName", "Value": alarm.variant}],
                Period=alarm.period,
                EvaluationPeriods=alarm.evaluation_periods,
                Threshold=alarm.threshold,
                ComparisonOperator=alarm.comparison,
                TreatMissingData=alarm.treat_missing_data,
                AlarmActions=[topics[alarm.topic]] if alarm.topic else [],
                OKActions=[topics[alarm.topic]] if alarm.topic else [],
                Tags=[{"Key": "team", "Value": "ml-platform"}],
                **stat,
                **extra,
            )
        for composite in composites:
            cloudwatch.put_composite_alarm(
                AlarmName=composite.name,
                AlarmDescription=composite.description,
                AlarmRule=composite.rule,
                AlarmActions=[topics[composite.topic]] if composite.topic else [],
                OKActions=[topics[composite.topic]] if composite.topic else [],
                Tags=[{"Key": "team", "Value": "ml-platform"}],
            )
