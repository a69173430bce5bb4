"""What the model-server containers people run on SageMaker write, line by line.

Each :class:`ContainerFormat` writes the lines one container puts on stdout,
which SageMaker ships to the endpoint's log group, one event per line.  The
formats are built from the containers' own source (the file named in each
class) with their default SageMaker configuration, so the console's queries
meet the lines they would meet on a real account.  Whether a request's line
carries its duration decides what a latency query can read:

============== ================================================ ==========================
format         container                                        a request's duration
============== ================================================ ==========================
``mms``        SageMaker inference toolkit / Multi Model Server ACCESS_LOG, last field, ms
``torchserve`` SageMaker PyTorch inference toolkit / TorchServe ACCESS_LOG, last field, ms
``nginx``      sagemaker-containers (scikit-learn, XGBoost),    none (nginx ``combined``)
               the TensorFlow Serving container
``tgi``        Hugging Face TGI (SageMaker's default, text)     ``total_time``, Rust Duration
``tgi-json``   TGI with ``JSON_OUTPUT=true``                    ``total_time``, Rust Duration
``triton``     NVIDIA Triton (SageMaker's ``--log-verbose``)    none
``djl``        DJL Serving / LMI                                none (ACCESS_LOG goes to a file)
``vllm``       vLLM's OpenAI server (uvicorn)                   none
============== ================================================ ==========================

Everything a line says that the source does not fix (client addresses, model
names, span fields' values) is illustrative; the shape, the field order and
the units are the source's.
"""

from __future__ import annotations

import json
import random
import time

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

OOM_TRACEBACK = """Traceback (most recent call last):
  File "/opt/conda/lib/python3.11/site-packages/text_generation_server/server.py", line 183, in Decode
    generations, next_batch, timings = self.model.generate_token(batch)
  File "/opt/conda/lib/python3.11/site-packages/text_generation_server/models/flash_causal_lm.py", line 1092, in generate_token
    out, speculative_logits = self.forward(batch, adapter_data)
  File "/opt/conda/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1553, in _call_impl
    return forward_call(*args, **kwargs)
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate {alloc:.2f} GiB. GPU 0 has a total capacity of 22.07 GiB of which {free:.2f} MiB is free. Process 1 has 21.9 GiB memory in use. Of the allocated memory 20.6 GiB is allocated by PyTorch, and 1.1 GiB is reserved by PyTorch but unallocated."""

MODEL_TRACEBACK = """Traceback (most recent call last):
  File "/opt/ml/code/inference.py", line 88, in predict_fn
    output = model.generate(**inputs, max_new_tokens=params.max_new_tokens)
  File "/opt/conda/lib/python3.11/site-packages/transformers/generation/utils.py", line 2024, in generate
    result = self._sample(input_ids, logits_processor=prepared_logits_processor, **model_kwargs)
RuntimeError: CUDA error: an illegal memory access was encountered
CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect."""


# --------------------------------------------------------------------------- small parts


def draw(rng: random.Random, low: int, high: int) -> int:
    """An int in [low, high): ``randrange`` costs four times as much, and this runs per line."""
    return low + int(rng.random() * (high - low))


def request_id(rng: random.Random) -> str:
    bits = rng.getrandbits(128)
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{text[16:20]}-{text[20:]}"


def client_ip(rng: random.Random) -> str:
    return f"10.2.{draw(rng, 0, 64)}.{draw(rng, 2, 254)}"


def _clock(ms: int) -> time.struct_time:
    return time.gmtime(ms // 1000)


def python_time(ms: int) -> str:
    """Python logging's default asctime: ``2026-11-18 11:05:59,123``."""
    t = _clock(ms)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d},{ms % 1000:03d}"


def log4j_time(ms: int) -> str:
    """log4j2's ``%d{ISO8601}``: ``2026-11-18T11:05:59,123``."""
    return python_time(ms).replace(" ", "T")


def clf_time(ms: int) -> str:
    """nginx's ``$time_local`` (the container's clock is UTC): ``18/Nov/2026:11:05:59 +0000``."""
    t = _clock(ms)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def rfc3339_micros(rng: random.Random, ms: int) -> str:
    """tracing-subscriber's default timer (RFC 3339, microseconds): ``2026-11-18T11:05:59.123456Z``."""
    t = _clock(ms)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        f".{ms % 1000:03d}{draw(rng, 0, 1000):03d}Z"
    )


def rust_duration(seconds: float) -> str:
    """A ``std::time::Duration`` as Rust's ``{:?}`` writes it: ``2.364213617s``,
    ``23.637922ms``, ``375.191µs`` or ``812ns`` (the largest unit that is at
    least 1, every significant digit of the nanoseconds, trailing zeros dropped)."""
    nanos = max(0, round(seconds * 1e9))
    for unit, size in (("s", 1_000_000_000), ("ms", 1_000_000), ("µs", 1_000)):
        if nanos >= size:
            whole, rest = divmod(nanos, size)
            digits = len(str(size)) - 1
            fraction = f"{rest:0{digits}d}".rstrip("0")
            return f"{whole}.{fraction}{unit}" if fraction else f"{whole}{unit}"
    return f"{nanos}ns"


def java_double(value: float) -> str:
    """Java's ``Double.toString`` for the positive values a metric line holds: plain
    below 10^7 (``41237.431``, ``12.0``), computerized scientific notation from
    there (``1.23456789E7``)."""
    text = repr(float(value))
    if value < 1e7:
        return text
    whole, _, fraction = text.partition(".")
    digits = (whole + fraction).rstrip("0") or "0"
    return f"{digits[0]}.{digits[1:] or '0'}E{len(whole) - 1}"


# --------------------------------------------------------------------------- the formats


class ContainerFormat:
    """The lines of one model server: a request, a health check, a failure, periodic lines.

    Every method returns the messages of one occurrence, as CloudWatch stores
    them (one event per line the container writes); an empty list means the
    container writes nothing for it.
    """

    name = ""
    carries_latency = False
    """Whether a request's line holds that request's duration."""
    periodic_every: float | None = None
    """Seconds between each instance's periodic lines (metrics, stats); None: it writes none."""
    lines_per_request = 1
    """How many lines a served request writes (the simulator samples requests to keep a line rate)."""

    def request(self, rng: random.Random, ms: int, status: int, latency_ms: float) -> list[str]:
        raise NotImplementedError

    def ping(self, rng: random.Random, ms: int) -> list[str]:
        return []

    def failure(self, rng: random.Random, ms: int, latency_ms: float) -> list[str]:
        """A request the model failed (a 5XX): its error lines, then its request line."""
        return self.request(rng, ms, 500, latency_ms)

    def periodic(self, rng: random.Random, ms: int, load: float) -> list[str]:
        return []


class MultiModelServer(ContainerFormat):
    """SageMaker inference toolkit on Multi Model Server (Hugging Face, MXNet, and the
    scikit-learn and XGBoost containers in multi-model mode).

    Sources: aws/sagemaker-inference-toolkit ``src/sagemaker_inference/etc/log4j2.xml``
    (the console appender's ``%d{ISO8601} [%-5p] %t %c - %m%n``; the
    ``ACCESS_LOG`` logger is additive, so its lines reach the console through
    the root logger) and awslabs/multi-model-server
    ``frontend/server/src/main/java/com/amazonaws/ml/mms/http/Session.java``
    (``toString``: ``remoteIp "METHOD uri PROTOCOL" code duration``, the
    duration ``System.currentTimeMillis() - startTime``: whole milliseconds).
    The worker thread is ``W-<port>-<model>`` (``wlm/WorkerThread.java``).
    MMS_METRICS and MODEL_METRICS are at ``warn`` there: no metric lines.
    """

    name = "mms"
    carries_latency = True
    worker = "W-9000-model"

    def _access(self, rng: random.Random, ms: int, thread: str, request: str, status: int, duration: int) -> str:
        return (
            f"{log4j_time(ms)} [INFO ] {thread} ACCESS_LOG - /{client_ip(rng)}:{draw(rng, 32768, 61000)} "
            f'"{request} HTTP/1.1" {status} {duration}'
        )

    def request(self, rng: random.Random, ms: int, status: int, latency_ms: float) -> list[str]:
        return [self._access(rng, ms, self.worker, "POST /invocations", status, int(latency_ms))]

    def ping(self, rng: random.Random, ms: int) -> list[str]:
        return [self._access(rng, ms, f"pool-2-thread-{draw(rng, 1, 9)}", "GET /ping", 200, draw(rng, 0, 3))]

    def failure(self, rng: random.Random, ms: int, latency_ms: float) -> list[str]:
        stderr = f"{self.worker}-stderr"
        return [
            f"{log4j_time(ms)} [WARN ] {stderr} com.amazonaws.ml.mms.wlm.WorkerLifeCycle - "
            "RuntimeError: CUDA error: an illegal memory access was encountered",
            *self.request(rng, ms, 500, latency_ms),
        ]


class TorchServe(MultiModelServer):
    """SageMaker PyTorch inference toolkit on TorchServe.

    Sources: aws/sagemaker-pytorch-inference-toolkit
    ``src/sagemaker_pytorch_serving_container/etc/log4j2.xml`` (same console
    pattern; ``ACCESS_LOG`` and ``TS_METRICS`` additive to the console),
    pytorch/serve ``frontend/server/src/main/java/org/pytorch/serve/http/Session.java``
    (the access line, duration in whole ms),
    ``.../metrics/LogMetric.java`` (``name.Unit:value|#dims|#hostname:h,timestamp:s``),
    ``.../job/RestJob.java`` (``ts_inference_latency_microseconds`` per request,
    ``inferTime / 1000.0``) and ``ts/configs/metrics.yaml`` (its dimensions;
    the system metrics every minute).  The worker is ``W-<port>-<model>_<version>``.
    """

    name = "torchserve"
    worker = "W-9000-model_1.0"
    host = "container-0.local"
    periodic_every = 60.0
    lines_per_request = 2

    def request(self, rng: random.Random, ms: int, status: int, latency_ms: float) -> list[str]:
        lines = [self._access(rng, ms, self.worker, "POST /invocations", status, int(latency_ms))]
        if status < 400:
            inference_us = latency_ms * 1000 * rng.uniform(0.93, 0.99)
            lines.append(
                f"{log4j_time(ms)} [INFO ] {self.worker} TS_METRICS - ts_inference_latency_microseconds.Microseconds:"
                f"{java_double(round(inference_us, 3))}|#model_name:model,model_version:default"
                f"|#hostname:{self.host},timestamp:{ms // 1000}"
            )
        return lines

    def ping(self, rng: random.Random, ms: int) -> list[str]:
        return [self._access(rng, ms, f"pool-3-thread-{draw(rng, 1, 9)}", "GET /ping", 200, draw(rng, 0, 3))]

    def failure(self, rng: random.Random, ms: int, latency_ms: float) -> list[str]:
        stdout = f"{self.worker}-stdout"
        return [
            f"{log4j_time(ms)} [INFO ] {stdout} MODEL_LOG - Invoking custom service failed.",
            f"{log4j_time(ms)} [INFO ] {stdout} MODEL_LOG - RuntimeError: CUDA error: an illegal memory access was encountered",
            *MultiModelServer.request(self, rng, ms, 500, latency_ms),
        ]

    def periodic(self, rng: random.Random, ms: int, load: float) -> list[str]:
        seconds = ms // 1000
        cpu = min(100.0, 100 * load * rng.uniform(0.2, 0.35))
        return [
            f"{log4j_time(ms)} [INFO ] pool-3-thread-1 TS_METRICS - CPUUtilization.Percent:{cpu:.1f}|#Level:Host"
            f"|#hostname:{self.host},timestamp:{seconds}",
            f"{log4j_time(ms)} [INFO ] pool-3-thread-1 TS_METRICS - MemoryUtilization.Percent:{rng.uniform(40, 60):.1f}"
            f"|#Level:Host|#hostname:{self.host},timestamp:{seconds}",
        ]


class Nginx(ContainerFormat):
    """nginx in front of gunicorn: sagemaker-containers' serving stack (the scikit-learn
    and XGBoost framework containers) and the TensorFlow Serving container.

    Sources: aws/sagemaker-containers ``etc/nginx.conf.template`` and
    aws/sagemaker-tensorflow-serving-container
    ``docker/build_artifacts/sagemaker/nginx.conf.template``, both
    ``access_log /dev/stdout combined;`` — nginx's predefined ``combined``
    format, ``$remote_addr - $remote_user [$time_local] "$request" $status
    $body_bytes_sent "$http_referer" "$http_user_agent"``: no request time.
    gunicorn is started without ``--access-logfile``
    (``src/sagemaker_containers/_server.py``), so it logs no requests; its
    error log says ``Error handling request`` with the traceback.
    """

    name = "nginx"

    def _combined(self, rng: random.Random, ms: int, request: str, status: int, size: int) -> str:
        return f'{client_ip(rng)} - - [{clf_time(ms)}] "{request} HTTP/1.1" {status} {size} "-" "AHC/2.0"'

    def request(self, rng: random.Random, ms: int, status: int, latency_ms: float) -> list[str]:
        return [self._combined(rng, ms, "POST /invocations", status, draw(rng, 60, 400))]

    def ping(self, rng: random.Random, ms: int) -> list[str]:
        return [self._combined(rng, ms, "GET /ping", 200, 0)]

    def failure(self, rng: random.Random, ms: int, latency_ms: float) -> list[str]:
        worker = draw(rng, 20, 90)
        return [
            f"[{python_time(ms)[:19]} +0000] [{worker}] [ERROR] Error handling request /invocations\n{MODEL_TRACEBACK}",
            self._combined(rng, ms, "POST /invocations", 500, 141),
        ]


_GENERATE_PARAMETERS = (
    "GenerateParameters {{ best_of: None, temperature: Some(0.7), repetition_penalty: None, frequency_penalty: None, "
    "top_k: None, top_p: Some(0.9), typical_p: None, do_sample: true, max_new_tokens: Some({max_new_tokens}), "
    "return_full_text: Some(false), stop: [], truncate: None, watermark: false, details: false, "
    "decoder_input_details: false, seed: None, top_n_tokens: None, grammar: None, adapter_id: None }}"
)


class TextGenerationInference(ContainerFormat):
    """Hugging Face TGI as SageMaker runs it (``sagemaker-entrypoint.sh``:
    ``text-generation-launcher --port 8080``, text output).

    Sources: huggingface/text-generation-inference ``router/src/server.rs``
    (``generate``'s span fields ``parameters, total_time, validation_time,
    queue_time, inference_time, time_per_token, seed``, each time recorded as
    ``format!("{:?}", duration)`` — Rust's Duration debug format — and the
    ``Success`` event), ``router/src/logging.rs`` (tracing-subscriber's full
    format with file and line; ``--json-output`` flattens the event into JSON),
    ``router/src/infer/mod.rs`` and ``backends/v3/src/backend.rs`` (failed
    requests: ``Input validation error: …``, ``Request failed during
    generation: Server error: …``), ``launcher/src/main.rs`` (the shard's
    exception, re-logged by ``text_generation_launcher``).  The span chain is
    SageMaker's route: ``sagemaker_compatibility`` → ``compat_generate`` →
    ``generate``.  Colours are off (``LOG_COLORIZE``); the latency query also
    reads the coloured form.
    """

    name = "tgi"
    carries_latency = True
    compute_type = "1-nvidia-a10g"

    def _timings(self, rng: random.Random, latency_ms: float) -> dict[str, str]:
        total = latency_ms / 1000
        validation = rng.uniform(0.00025, 0.0009)
        queue = rng.uniform(0.00003, 0.004)
        inference = max(total - validation - queue, total * 0.9)
        tokens = draw(rng, 12, 420)
        return {
            "total_time": rust_duration(total),
            "validation_time": rust_duration(validation),
            "queue_time": rust_duration(queue),
            "inference_time": rust_duration(inference),
            "time_per_token": rust_duration(inference / tokens),
            "seed": f"Some({rng.getrandbits(63)})",
            "parameters": _GENERATE_PARAMETERS.format(max_new_tokens=draw(rng, 4, 9) * 64),
        }

    def request(self, rng: random.Random, ms: int, status: int, latency_ms: float) -> list[str]:
        if status >= 400:
            given = rng.choice((3712, 3890, 4010))
            return [self._line(rng, ms, "ERROR", self._spans(rng, None), "text_generation_router::infer",
                               "router/src/infer/mod.rs", 126,
                               f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. "
                               f"Given: {given} `inputs` tokens and 512 `max_new_tokens`")]
        timings = self._timings(rng, latency_ms)
        return [self._line(rng, ms, "INFO", self._spans(rng, timings), "text_generation_router::server", "router/src/server.rs", 432, "Success")]

    def failure(self, rng: random.Random, ms: int, latency_ms: float) -> list[str]:
        kind = rng.random()
        size = draw(rng, 1, 9)
        batch = [("batch", {"batch_size": size}), ("decode", {}), ("decode", {"size": size}), ("decode", {"size": size})]
        lines = []
        if kind < 0.5:
            alloc, free = rng.choice((1.5, 2.0, 3.25, 4.0)), rng.choice((20.06, 112.5, 310.75))
            message = (
                f"Server error: CUDA out of memory. Tried to allocate {alloc:.2f} GiB. GPU 0 has a total capacity of "
                f"22.07 GiB of which {free:.2f} MiB is free."
            )
            exception = "Method Decode encountered an error."
            if rng.random() < 0.4:
                exception += "\n" + OOM_TRACEBACK.format(alloc=alloc, free=free)
            lines.append(self._launcher(rng, ms, exception))
        elif kind < 0.8:
            message = "Server error: CUDA error: an illegal memory access was encountered"
        else:
            return [self._line(rng, ms, "ERROR", self._spans(rng, None), "text_generation_router::infer",
                               "router/src/infer/mod.rs", 314, "Incomplete generation")]
        lines.append(self._line(rng, ms, "ERROR", batch + [("send_error", {})], "text_generation_router_v3::backend",
                                "backends/v3/src/backend.rs", 546, f"Request failed during generation: {message}"))
        return lines

    def _spans(self, rng: random.Random, timings: dict[str, str] | None) -> list[tuple[str, dict]]:
        generate = {"parameters": timings["parameters"]} if timings else {"parameters": _GENERATE_PARAMETERS.format(max_new_tokens=512)}
        if timings:
            generate.update({k: v for k, v in timings.items() if k != "parameters"})
        return [
            ("sagemaker_compatibility", {}),
            ("compat_generate", {"default_return_full_text": False, "compute_type": f'Extension(ComputeType("{self.compute_type}"))',
                                 "context": "Extension(None)"}),
            ("generate", generate),
        ]

    @staticmethod
    def _field(name: str, value) -> str:
        if isinstance(value, bool):
            return f"{name}={str(value).lower()}"
        if name in ("parameters", "compute_type", "context") or isinstance(value, int):
            return f"{name}={value}"  # recorded with ?value: Debug, unquoted
        return f'{name}="{value}"'  # recorded as a String: quoted

    def _line(self, rng: random.Random, ms: int, level: str, spans, target: str, file: str, line: int, message: str) -> str:
        chain = ":".join(f"{name}{{{' '.join(self._field(k, v) for k, v in fields.items())}}}" if fields else name for name, fields in spans)
        return f"{rfc3339_micros(rng, ms)} {level:>5} {chain}: {target}: {file}:{line}: {message}"

    def _launcher(self, rng: random.Random, ms: int, message: str) -> str:
        return f"{rfc3339_micros(rng, ms)} ERROR text_generation_launcher: {message}"


class TextGenerationInferenceJson(TextGenerationInference):
    """TGI with ``JSON_OUTPUT=true`` (the launcher's ``--json-output``): the router's
    events as tracing-subscriber's JSON with the event flattened
    (``router/src/logging.rs``: ``.json().flatten_event(true)``, file and
    line on; the current span and the span list included, their fields in
    key order and ``name`` last); the launcher's own JSON keeps ``fields``."""

    name = "tgi-json"

    def _line(self, rng: random.Random, ms: int, level: str, spans, target: str, file: str, line: int, message: str) -> str:
        def span(name: str, fields: dict) -> dict:
            return {**{key: fields[key] for key in sorted(fields)}, "name": name}

        record = {
            "timestamp": rfc3339_micros(rng, ms),
            "level": level,
            "message": message,
            "target": target,
            "filename": file,
            "line_number": line,
            "span": span(*spans[-1]),
            "spans": [span(name, fields) for name, fields in spans],
        }
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))

    def _launcher(self, rng: random.Random, ms: int, message: str) -> str:
        record = {"timestamp": rfc3339_micros(rng, ms), "level": "ERROR", "fields": {"message": message}, "target": "text_generation_launcher"}
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class Triton(ContainerFormat):
    """NVIDIA Triton in SageMaker mode.

    Sources: triton-inference-server/server ``docker/sagemaker/serve``
    (``--log-verbose=true`` unless ``SAGEMAKER_TRITON_LOG_VERBOSE`` says
    otherwise), ``src/sagemaker_server.cc`` (``SagemakerAPIServer::Handle``:
    ``LOG_VERBOSE(1) << "SageMaker request: " << req->method << " " << path``,
    the method an ``htp_method`` number: 0 GET, 2 POST) and
    triton-inference-server/common ``src/logging.cc`` (the default preamble
    ``<I|W|E><MMDD> <HH:MM:SS.uuuuuu> <pid> <file>:<line>] `` and the message
    JSON-escaped, in quotes).  Triton logs no request's duration or status.
    """

    name = "triton"
    pid = 93
    lines_per_request = 2

    def _line(self, rng: random.Random, ms: int, source: str, message: str, level: str = "I") -> str:
        t = _clock(ms)
        stamp = f"{t.tm_mon:02d}{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms % 1000:03d}{draw(rng, 0, 1000):03d}"
        return f'{level}{stamp} {self.pid} {source}] "{message}"'

    def request(self, rng: random.Random, ms: int, status: int, latency_ms: float) -> list[str]:
        return [
            self._line(rng, ms, "sagemaker_server.cc:154", "SageMaker request: 2 /invocations"),
            self._line(rng, ms, "infer_request.cc:133", "[request id: <id_unknown>] Setting state from INITIALIZED to PENDING"),
        ]

    def ping(self, rng: random.Random, ms: int) -> list[str]:
        return [self._line(rng, ms, "sagemaker_server.cc:154", "SageMaker request: 0 /ping")]

    def failure(self, rng: random.Random, ms: int, latency_ms: float) -> list[str]:
        return self.request(rng, ms, 500, latency_ms) + [
            self._line(rng, ms, "sagemaker_server.cc:606", "Infer failed: CUDA error: an illegal memory access was encountered"),
        ]


def _vllm_stats(rng: random.Random, ms: int, load: float) -> str:
    """vllm-project/vllm ``vllm/v1/metrics/loggers.py`` (``LoggingStatLogger.log``)
    through ``vllm/logger.py``'s ``%(levelname)s %(asctime)s [%(filename)s:%(lineno)d] %(message)s``
    with ``%m-%d %H:%M:%S``."""
    t = _clock(ms)
    return (
        f"INFO {t.tm_mon:02d}-{t.tm_mday:02d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} [loggers.py:123] Engine 000: "
        f"Avg prompt throughput: {rng.uniform(200, 900) * load:.1f} tokens/s, "
        f"Avg generation throughput: {rng.uniform(300, 1200) * load:.1f} tokens/s, "
        f"Running: {draw(rng, 1, 9)} reqs, Waiting: 0 reqs, GPU KV cache usage: {rng.uniform(10, 60):.1f}%, "
        f"Prefix cache hit rate: {rng.uniform(0, 50):.1f}%"
    )


class DjlServing(ContainerFormat):
    """DJL Serving / LMI on SageMaker.

    Sources: deepjavalibrary/djl-serving ``serving/build.gradle.kts`` (on a
    SageMaker host the start script picks ``conf/log4j2-plain.xml``),
    ``serving/src/main/conf/log4j2-plain.xml`` (console ``[%-5level] %c{1} -
    %msg%n``; ``ACCESS_LOG`` is not additive and goes only to
    ``logs/access.log``, so no request line reaches CloudWatch) and
    ``engines/python/src/main/java/ai/djl/python/engine/PyProcess.java`` (the
    Python worker's stdout, each line logged as ``W-<pid>-<model>-stdout:
    line`` — here vLLM's periodic stats).
    """

    name = "djl"
    periodic_every = 10.0

    def request(self, rng: random.Random, ms: int, status: int, latency_ms: float) -> list[str]:
        return []

    def failure(self, rng: random.Random, ms: int, latency_ms: float) -> list[str]:
        return ["[WARN ] PyProcess - W-241-model-stderr: RuntimeError: CUDA error: an illegal memory access was encountered"]

    def periodic(self, rng: random.Random, ms: int, load: float) -> list[str]:
        return [f"[INFO ] PyProcess - W-241-model-stdout: {_vllm_stats(rng, ms, load)}"]


class Vllm(ContainerFormat):
    """vLLM's OpenAI-compatible server (which answers ``/ping`` and ``/invocations``).

    Sources: encode/uvicorn ``uvicorn/config.py`` (``LOGGING_CONFIG``'s access
    format ``%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s``)
    and ``uvicorn/logging.py`` (``levelprefix`` is the level, a colon and
    spaces to 9 characters; the status is followed by its phrase; no
    colours when stdout is not a terminal); the stats line as :func:`_vllm_stats`.
    """

    name = "vllm"
    periodic_every = 10.0
    _PHRASES = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}

    def _access(self, rng: random.Random, request: str, status: int) -> str:
        return f'INFO:     {client_ip(rng)}:{draw(rng, 32768, 61000)} - "{request} HTTP/1.1" {status} {self._PHRASES.get(status, "")}'

    def request(self, rng: random.Random, ms: int, status: int, latency_ms: float) -> list[str]:
        return [self._access(rng, "POST /invocations", status)]

    def ping(self, rng: random.Random, ms: int) -> list[str]:
        return [self._access(rng, "GET /ping", 200)]

    def periodic(self, rng: random.Random, ms: int, load: float) -> list[str]:
        return [_vllm_stats(rng, ms, load)]


FORMATS: dict[str, ContainerFormat] = {
    fmt.name: fmt
    for fmt in (
        MultiModelServer(), TorchServe(), Nginx(), TextGenerationInference(), TextGenerationInferenceJson(),
        Triton(), DjlServing(), Vllm(),
    )
}
"""Every container format by name (:attr:`smtop.sim.fleet.EndpointSpec.log_format`)."""
