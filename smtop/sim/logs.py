"""Container logs of the demo fleet, written straight into moto's Logs backend.

SageMaker gives every endpoint a log group ``/aws/sagemaker/Endpoints/<name>``
with one stream per instance, ``<variant>/<instance-id>``; training and
processing jobs log to ``/aws/sagemaker/TrainingJobs`` and
``/aws/sagemaker/ProcessingJobs``, one stream per host,
``<job-name>/algo-<n>-<epoch>``.  The simulator fills them from the same
:class:`~smtop.sim.traffic.TrafficModel` that writes the metrics, so the two
agree: request lines carry latencies around that minute's ModelLatency, and
the degrading canary logs CUDA out-of-memory errors, failed generations and
tracebacks exactly while its metrics spike, and none outside.

Each endpoint logs in its container's format (:attr:`EndpointSpec.log_format`,
one of :data:`smtop.sim.log_formats.FORMATS`, built from the containers'
source): a request's line carries the same latency and status the metrics
count, in the container's own field and unit, or no latency at all where the
container logs none (nginx's ``combined`` line, Triton, DJL, vLLM).

A multi-line Python traceback is one event, as CloudWatch stores a
multi-line message.  Volume stays small on purpose (≈0.2–2 lines/s per
endpoint, ~12k events for the 30-minute backfill), so startup stays fast; endpoints
without a ``log_format`` (the synthetic fleet) log nothing.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable
from datetime import datetime, timezone

from smtop.sim.draws import poisson
from smtop.sim.fleet import REGION, EndpointSpec, VariantSpec
from smtop.sim.log_formats import FORMATS, OOM_TRACEBACK, draw
from smtop.sim.traffic import TrafficModel

LOG_BACKFILL_SECONDS = 30 * 60
"""How much log history the simulator starts with: enough to fill a tail panel."""

ENDPOINT_GROUP = "/aws/sagemaker/Endpoints/{}"
TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"
PROCESSING_GROUP = "/aws/sagemaker/ProcessingJobs"

PING_EVERY = 30.0
"""Each instance logs SageMaker's /ping health check about this often (seconds)."""


def endpoint_group(endpoint: str) -> str:
    return ENDPOINT_GROUP.format(endpoint)


def instance_ids(seed: int, endpoint: EndpointSpec, variant: VariantSpec) -> list[str]:
    """EC2-style ids (``i-`` + 17 hex digits) of a variant's instances, stable per seed."""
    ids = []
    for number in range(variant.instances):
        digest = hashlib.sha1(f"{seed}/{endpoint.name}/{variant.name}/{number}".encode()).hexdigest()
        ids.append("i-0" + digest[:16])
    return ids


def _lines_per_second(calls_per_second: float) -> float:
    # Busy endpoints log a sample of their requests, quiet ones every request.
    return min(calls_per_second, 0.3 * math.sqrt(calls_per_second) + 0.1, 1.2)


# --------------------------------------------------------------------------- writing into moto


class ContainerLogs:
    """Writes the fleet's container logs for any interval, in agreement with the metrics.

    Args:
        model: The traffic model (fleet, seed, degradation schedule).
        account_id: The account whose Logs backend receives the events.
        region: Its region (the fleet's).
    """

    def __init__(self, model: TrafficModel, account_id: str | None = None, region: str = REGION) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID

        self.model = model
        self.account_id = account_id or DEFAULT_ACCOUNT_ID
        self.region = region
        self.logged = tuple((e, v) for e, v in model.variants() if e.log_format)
        self._instances = {
            (e.name, v.name): instance_ids(model.seed, e, v) for e, v in self.logged
        }

    @property
    def enabled(self) -> bool:
        return bool(self.logged)

    def _backend(self):
        from moto.logs.models import logs_backends

        return logs_backends[self.account_id][self.region]

    # -- groups and streams ------------------------------------------------

    def create_groups(self, now: float) -> None:
        """Create every endpoint's group and instance streams (idempotent)."""
        backend = self._backend()
        for endpoint, variant in self.logged:
            created = now - endpoint.created_days_ago * 86400
            group = _ensure_group(backend, endpoint_group(endpoint.name), created)
            for instance in self._instances[(endpoint.name, variant.name)]:
                _ensure_stream(group, f"{variant.name}/{instance}", created + 240)

    def stream_names(self, endpoint: EndpointSpec, variant: VariantSpec) -> list[str]:
        return [f"{variant.name}/{i}" for i in self._instances[(endpoint.name, variant.name)]]

    # -- traffic ------------------------------------------------------------

    def backfill(self, now: float, seconds: float = LOG_BACKFILL_SECONDS) -> int:
        """Create the groups and write ``seconds`` of logs ending at ``now``; return the event count."""
        if not self.enabled:
            return 0
        self.create_groups(now)
        first = int((now - seconds) // 60) * 60
        pending: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for endpoint, variant in self.logged:
            for minute in range(first, int(now // 60) * 60 + 1, 60):
                start = max(float(minute), now - seconds)
                end = min(minute + 60.0, now)
                rng = random.Random(f"{self.model.seed}/logs/{endpoint.name}/{variant.name}/{minute}")
                self._generate(pending, endpoint, variant, start, end, rng)
        count = self._append(pending, now)
        count += self._write_jobs(now)
        return count

    def write(self, start: float, end: float, rng: random.Random) -> int:
        """Write what happened during [start, end) (live traffic); return the event count."""
        if not self.enabled or end <= start:
            return 0
        pending: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for endpoint, variant in self.logged:
            self._generate(pending, endpoint, variant, start, end, rng)
        return self._append(pending, end)

    def _generate(
        self,
        pending: dict[tuple[str, str], list[tuple[int, str]]],
        endpoint: EndpointSpec,
        variant: VariantSpec,
        start: float,
        end: float,
        rng: random.Random,
    ) -> None:
        seconds = end - start
        if seconds <= 0:
            return
        model = self.model
        mid = start + seconds / 2
        load = model._load(variant, mid)  # noqa: SLF001 - the same curve as the metrics
        bad = model.degraded(variant, mid)
        calls_per_second = variant.invocations_per_minute / 60.0 * load
        median_ms = variant.latency_ms * (0.9 + 0.1 * load) * (rng.uniform(5.0, 10.0) if bad else 1.0)
        error_5xx = rng.uniform(0.02, 0.08) if bad else 0.0
        container = FORMATS[endpoint.log_format or "mms"]
        group = endpoint_group(endpoint.name)
        streams = self.stream_names(endpoint, variant)

        def put(at: float, messages: list[str], stream: str | None = None) -> None:
            stream = stream or streams[int(rng.random() * len(streams))]
            for message in messages:
                pending.setdefault((group, stream), []).append((int(at * 1000), message))

        for _ in range(poisson(rng, _lines_per_second(calls_per_second) / container.lines_per_request * seconds)):
            at = rng.uniform(start, end)
            latency = median_ms * math.exp(rng.gauss(0.0, variant.latency_sigma))
            roll = rng.random()
            if roll < error_5xx:
                put(at, container.failure(rng, int(at * 1000), latency))
                continue
            status = 400 if roll < error_5xx + variant.error_4xx_rate else 200
            put(at, container.request(rng, int(at * 1000), status, latency))
        # The errors of a bad spell that the request sample above missed: every
        # failed request of the canary leaves its error lines, as its 5XX metric counts.
        if bad:
            for _ in range(poisson(rng, calls_per_second * seconds * error_5xx * 0.25)):
                at = rng.uniform(start, end)
                put(at, container.failure(rng, int(at * 1000), median_ms * math.exp(rng.gauss(0.0, variant.latency_sigma))))
        for stream in streams:
            # Health checks and periodic lines (metrics, stats), per instance.
            for _ in range(poisson(rng, seconds / PING_EVERY)):
                at = rng.uniform(start, end)
                put(at, container.ping(rng, int(at * 1000)), stream)
            if container.periodic_every:
                for _ in range(poisson(rng, seconds / container.periodic_every)):
                    at = rng.uniform(start, end)
                    put(at, container.periodic(rng, int(at * 1000), load), stream)

    def _append(self, pending: dict[tuple[str, str], list[tuple[int, str]]], now: float) -> int:
        backend = self._backend()
        count = 0
        for (group_name, stream_name), items in sorted(pending.items()):
            group = backend.groups.get(group_name)
            if group is None:
                continue
            stream = group.streams.get(stream_name)
            if stream is None:
                continue
            items.sort(key=lambda item: item[0])
            append_events(stream, items)
            count += len(items)
        return count

    # -- jobs -----------------------------------------------------------------

    def _write_jobs(self, now: float) -> int:
        backend = self._backend()
        rng = random.Random(f"{self.model.seed}/logs/jobs")
        count = 0
        day = datetime.fromtimestamp(now - 86400, timezone.utc).strftime("%Y-%m-%d")
        training = _ensure_group(backend, TRAINING_GROUP, now - 30 * 86400)
        processing = _ensure_group(backend, PROCESSING_GROUP, now - 30 * 86400)
        jobs = (
            (training, f"churn-train-{day}", 1, now - 7.5 * 3600, _xgboost_training),
            (training, f"llm-chat-sft-{day}", 2, now - 5.2 * 3600, _llm_training_oom),
            (processing, f"fraud-features-{day}", 1, now - 9.0 * 3600, _processing),
        )
        for group, job, hosts, started, lines in jobs:
            for host in range(1, hosts + 1):
                epoch = int(started) + 37
                stream = _ensure_stream(group, f"{job}/algo-{host}-{epoch}", started)
                items = lines(rng, started, host)
                append_events(stream, items)
                count += len(items)
        return count


def _ensure_group(backend, name: str, created: float):
    group = backend.groups.get(name)
    if group is None:
        group = backend.create_log_group(name, {})
        group.creation_time = _naive(created)
    return group


def _ensure_stream(group, name: str, created: float):
    from moto.logs.models import LogStream

    stream = group.streams.get(name)
    if stream is None:
        stream = LogStream(group, name)
        stream.creation_time = _naive(created)
        group.streams[name] = stream
    return stream


def _naive(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


def append_events(stream, items: Iterable[tuple[int, str]]) -> None:
    """Append ``(timestamp ms, message)`` pairs (in time order) to a moto stream.

    What moto's PutLogEvents does minus the HTTP round trip, the 14-day
    cut-off (jobs run hours ago) and the subscription fan-out (none here),
    with ingestion a fraction of a second after each event's time.
    """
    from moto.logs.models import LogEvent

    events = []
    size = 0
    for timestamp, message in items:
        events.append(LogEvent(timestamp + 150 + (timestamp * 7919) % 750, {"timestamp": timestamp, "message": message}))
        size += len(message)
    if not events:
        return
    stream.events.extend(events)
    stream.stored_bytes += size
    stream.last_ingestion_time = _naive(events[-1].ingestion_time / 1000)
    stream.upload_sequence_token += 1


# --------------------------------------------------------------------------- job logs


def _seconds(start: float, step: float):
    at = start
    while True:
        yield int(at * 1000)
        at += step


def _xgboost_training(rng: random.Random, start: float, host: int) -> list[tuple[int, str]]:
    clock = _seconds(start, 2.0)
    items = [
        (next(clock), "[2026-11-17:00:00:00:INFO] Imported framework sagemaker_xgboost_container.training"),
        (next(clock), "[2026-11-17:00:00:00:INFO] No GPUs detected (normal if no gpus installed)"),
        (next(clock), "[2026-11-17:00:00:01:INFO] Running XGBoost Sagemaker in algorithm mode"),
        (next(clock), "[2026-11-17:00:00:02:INFO] Determined 0 GPU(s) available on the instance."),
        (next(clock), "[2026-11-17:00:00:02:INFO] File path /opt/ml/input/data/train of input files"),
        (next(clock), "[2026-11-17:00:00:03:INFO] Single node training."),
        (next(clock), "[2026-11-17:00:00:03:INFO] Train matrix has 184213 rows and 48 columns"),
    ]
    train, valid = 0.71, 0.69
    for round_ in range(40):
        train = min(0.99, train + rng.uniform(0.002, 0.01))
        valid = min(train - 0.01, valid + rng.uniform(0.0, 0.008))
        items.append((next(clock), f"[{round_}]#011train-auc:{train:.5f}#011validation-auc:{valid:.5f}"))
    items.append((next(clock), "[2026-11-17:00:02:10:INFO] Model saved to /opt/ml/model/xgboost-model"))
    return [(t, m.replace("2026-11-17", _day(t))) for t, m in items]


def _llm_training_oom(rng: random.Random, start: float, host: int) -> list[tuple[int, str]]:
    clock = _seconds(start, 3.0)
    items = [
        (next(clock), f"INFO:root:Host algo-{host} of 2, world size 16, local rank 0-7"),
        (next(clock), "INFO:torch.distributed.run:Using nproc_per_node=8."),
        (next(clock), "INFO:__main__:Loading model meta-llama/Llama-3.1-8B (bf16) with LoRA r=16"),
    ]
    loss = 2.4
    for step in range(10, 310, 10):
        loss = max(0.6, loss - rng.uniform(0.01, 0.06))
        items.append((next(clock), f"{{'loss': {loss:.4f}, 'grad_norm': {rng.uniform(0.3, 1.4):.3f}, 'learning_rate': 0.0002, 'epoch': {step / 300:.2f}, 'step': {step}}}"))
    if host == 2:
        items.append((next(clock), OOM_TRACEBACK.format(alloc=4.0, free=112.5)))
        items.append((next(clock), "ERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: 1) local_rank: 3 (pid: 412) of binary: /opt/conda/bin/python3.11"))
    else:
        items.append((next(clock), "WARNING:torch.distributed.elastic.agent.server.api:Received Signals.SIGTERM death signal, shutting down workers"))
    return items


def _processing(rng: random.Random, start: float, host: int) -> list[tuple[int, str]]:
    clock = _seconds(start, 5.0)
    items = [(next(clock), "Starting processing job fraud-features: input s3://ml-data/fraud/raw/ output s3://ml-data/fraud/features/")]
    for part in range(24):
        items.append((next(clock), f"INFO processed part-{part:05d}.parquet rows={draw(rng, 180_000, 240_000)} null_rate={rng.uniform(0, 0.02):.4f}"))
    items.append((next(clock), "WARN column merchant_category has 312 unseen values; mapped to OTHER"))
    items.append((next(clock), "Processing completed: 24 parts, 5.1M rows"))
    return items


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d")
