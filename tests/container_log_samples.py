"""Lines real model-server containers write on SageMaker, written by hand from each
container's own format string (the source file is named with each), and what
smtop's latency queries must read from them, also by hand: the access line's
last field in milliseconds (Multi Model Server, TorchServe, DJL's access log),
TGI's ``total_time`` converted from its Rust Duration unit.  The other
containers' lines carry no duration.
"""

from __future__ import annotations

from dataclasses import dataclass

_PARAMETERS = (
    "GenerateParameters { best_of: None, temperature: Some(0.7), repetition_penalty: None, frequency_penalty: None, "
    "top_k: None, top_p: Some(0.9), typical_p: None, do_sample: true, max_new_tokens: Some(512), return_full_text: "
    "Some(false), stop: [], truncate: None, watermark: false, details: false, decoder_input_details: false, seed: None, "
    "top_n_tokens: None, grammar: None, adapter_id: None }"
)
_COMPAT = 'sagemaker_compatibility:compat_generate{default_return_full_text=false compute_type=Extension(ComputeType("1-nvidia-a10g")) context=Extension(None)}'


@dataclass(frozen=True)
class Sample:
    """Lines of one container (time of day, message) and what the latency queries must answer."""

    source: str
    lines: tuple[tuple[str, str], ...]
    slowest: tuple[float, ...] = ()
    """Every request's latency in ms, slowest first (read by hand); empty: the lines carry none."""
    bins: tuple[tuple[str, float, float, int], ...] = ()
    """(5-minute bin, p50, p99, requests): nearest rank over each bin's latencies, by hand."""
    untimed: tuple[tuple[str, int], ...] = ()
    """(5-minute bin, request lines) where the request lines carry no duration, counted by hand."""


def access(thread: str, request: str, status: int, ms: int) -> str:
    return f'[INFO ] {thread} ACCESS_LOG - /169.254.178.2:51234 "{request} HTTP/1.1" {status} {ms}'


SAMPLES = {
    "mms": Sample(
        "awslabs/multi-model-server frontend/server/src/main/java/com/amazonaws/ml/mms/http/Session.java (toString), "
        "aws/sagemaker-inference-toolkit src/sagemaker_inference/etc/log4j2.xml (%d{ISO8601} [%-5p] %t %c - %m%n)",
        (
            ("10:41:07", "2026-11-18T10:41:07,412 " + access("W-9000-model", "POST /invocations", 200, 17)),
            ("10:41:08", "2026-11-18T10:41:08,003 " + access("pool-2-thread-3", "GET /ping", 200, 0)),
            ("10:42:31", "2026-11-18T10:42:31,870 " + access("W-9000-model", "POST /invocations", 200, 412)),
            ("10:43:02", "2026-11-18T10:43:02,115 " + access("W-9000-model", "POST /invocations", 400, 3)),
            ("10:46:10", "2026-11-18T10:46:10,662 [WARN ] W-9000-model-stderr com.amazonaws.ml.mms.wlm.WorkerLifeCycle - RuntimeError: CUDA error: an illegal memory access was encountered"),
            ("10:46:10", "2026-11-18T10:46:10,664 " + access("W-9000-model", "POST /invocations", 500, 1290)),
            ("10:47:55", "2026-11-18T10:47:55,250 " + access("W-9000-model", "POST /invocations", 200, 58)),
            ("10:48:01", "2026-11-18T10:48:01,900 " + access("W-9000-fraud-v2", "POST /models/fraud-v2/invoke", 200, 23)),
        ),
        slowest=(1290, 412, 58, 23, 17, 3),
        # 10:40: 3, 17, 412 → p50 the 2nd, p99 the 3rd; 10:45: 23, 58, 1290 likewise.
        bins=(("2026-11-18 10:40:00.000", 17, 412, 3), ("2026-11-18 10:45:00.000", 58, 1290, 3)),
    ),
    "torchserve": Sample(
        "pytorch/serve frontend/server/src/main/java/org/pytorch/serve/http/Session.java and .../metrics/LogMetric.java, "
        "aws/sagemaker-pytorch-inference-toolkit src/sagemaker_pytorch_serving_container/etc/log4j2.xml",
        (
            ("10:41:30", "2026-11-18T10:41:30,118 " + access("W-9000-model_1.0", "POST /invocations", 200, 41)),
            ("10:41:30", "2026-11-18T10:41:30,118 [INFO ] W-9000-model_1.0 TS_METRICS - ts_inference_latency_microseconds.Microseconds:40213.87|#model_name:model,model_version:default|#hostname:container-0.local,timestamp:1794998490"),
            ("10:41:45", "2026-11-18T10:41:45,001 [INFO ] pool-3-thread-1 TS_METRICS - CPUUtilization.Percent:23.5|#Level:Host|#hostname:container-0.local,timestamp:1794998505"),
            ("10:41:45", "2026-11-18T10:41:45,001 [INFO ] pool-3-thread-1 TS_METRICS - MemoryUtilization.Percent:48.2|#Level:Host|#hostname:container-0.local,timestamp:1794998505"),
            ("10:44:12", "2026-11-18T10:44:12,540 " + access("W-9000-model_1.0", "POST /invocations", 200, 97)),
            ("10:44:50", "2026-11-18T10:44:50,007 " + access("pool-3-thread-2", "GET /ping", 200, 1)),
        ),
        slowest=(97, 41),  # TS_METRICS' microseconds are the same request again: not counted twice
        bins=(("2026-11-18 10:40:00.000", 41, 97, 2),),
    ),
    "djl-access-log": Sample(
        "deepjavalibrary/djl-serving serving/src/main/conf/log4j2-access.xml ([%-5level] %c{1} - %msg%n, ACCESS_LOG "
        "on the console) and serving/src/main/java/ai/djl/serving/http/Session.java (toString)",
        (
            ("10:50:02", '[INFO ] ACCESS_LOG - /169.254.178.2:48516 "POST /invocations HTTP/1.1" 200 1834'),
            ("10:50:40", '[INFO ] ACCESS_LOG - /169.254.178.2:48530 "POST /invocations HTTP/1.1" 200 2210'),
        ),
        slowest=(2210, 1834),
        bins=(("2026-11-18 10:50:00.000", 1834, 2210, 2),),
    ),
    "tgi": Sample(
        "huggingface/text-generation-inference router/src/server.rs (generate's span fields, each time "
        'format!("{:?}") of a Duration; "Success") and router/src/logging.rs (tracing-subscriber full format)',
        (
            ("10:52:05", f"2026-11-18T10:52:05.118204Z  INFO {_COMPAT}:generate{{parameters={_PARAMETERS} total_time=\"2.364213617s\" validation_time=\"375.191µs\" queue_time=\"46.341µs\" inference_time=\"2.363792085s\" time_per_token=\"23.63792ms\" seed=\"Some(5043946468913937209)\"}}: text_generation_router::server: router/src/server.rs:432: Success"),
            ("10:52:40", f"2026-11-18T10:52:40.000917Z  INFO {_COMPAT}:generate{{parameters={_PARAMETERS} total_time=\"812.403ms\" validation_time=\"402.5µs\" queue_time=\"1.2ms\" inference_time=\"810.8ms\" time_per_token=\"6.33ms\" seed=\"Some(17)\"}}: text_generation_router::server: router/src/server.rs:432: Success"),
            ("10:53:00", f"2026-11-18T10:53:00.250000Z ERROR {_COMPAT}:generate{{parameters={_PARAMETERS}}}: text_generation_router::infer: router/src/infer/mod.rs:126: Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 3890 `inputs` tokens and 512 `max_new_tokens`"),
            ("10:53:30", f"2026-11-18T10:53:30.500000Z  INFO {_COMPAT}:generate{{parameters={_PARAMETERS} total_time=\"987.5µs\" validation_time=\"300µs\" queue_time=\"20µs\" inference_time=\"667.5µs\" time_per_token=\"667.5µs\" seed=\"None\"}}: text_generation_router::server: router/src/server.rs:432: Success"),
            # Colours on (the router's default when LOG_COLORIZE is unset): tracing-subscriber
            # wraps a field's name in italics and its = in dim.
            ("10:57:12", "2026-11-18T10:57:12.000001Z \x1b[32m INFO\x1b[0m \x1b[1mgenerate\x1b[0m\x1b[1m{\x1b[0m\x1b[3mtotal_time\x1b[0m\x1b[2m=\x1b[0m\"1.5s\" \x1b[3mseed\x1b[0m\x1b[2m=\x1b[0m\"None\"\x1b[1m}\x1b[0m\x1b[2m:\x1b[0m \x1b[2mtext_generation_router::server\x1b[0m\x1b[2m:\x1b[0m \x1b[2mrouter/src/server.rs\x1b[0m\x1b[2m:\x1b[0m\x1b[2m432:\x1b[0m Success"),
        ),
        # 2.364213617 s, 812.403 ms, 987.5 µs = 0.9875 ms, 1.5 s.
        slowest=(2364.213617, 1500, 812.403, 0.9875),
        bins=(("2026-11-18 10:50:00.000", 812.403, 2364.213617, 3), ("2026-11-18 10:55:00.000", 1500, 1500, 1)),
    ),
    "tgi-json": Sample(
        "huggingface/text-generation-inference router/src/logging.rs (--json-output: .json().flatten_event(true))",
        (
            ("10:58:01", '{"timestamp":"2026-11-18T10:58:01.500000Z","level":"INFO","message":"Success","target":"text_generation_router::server","filename":"router/src/server.rs","line_number":432,"span":{"inference_time":"3.19s","parameters":"GenerateParameters { max_new_tokens: Some(512) }","queue_time":"9.1ms","seed":"None","time_per_token":"12.5ms","total_time":"3.2s","validation_time":"800µs","name":"generate"},"spans":[{"name":"sagemaker_compatibility"},{"total_time":"3.2s","name":"generate"}]}'),
            ("10:58:30", '{"timestamp":"2026-11-18T10:58:30.250000Z","level":"INFO","message":"Success","target":"text_generation_router::server","filename":"router/src/server.rs","line_number":432,"span":{"inference_time":"44ms","queue_time":"900µs","seed":"None","time_per_token":"4.4ms","total_time":"45.25ms","validation_time":"350µs","name":"generate"},"spans":[{"name":"generate"}]}'),
        ),
        slowest=(3200, 45.25),
        bins=(("2026-11-18 10:55:00.000", 45.25, 3200, 2),),
    ),
    # The containers whose lines carry no duration.
    "nginx": Sample(
        "aws/sagemaker-containers etc/nginx.conf.template and aws/sagemaker-tensorflow-serving-container "
        "docker/build_artifacts/sagemaker/nginx.conf.template: access_log /dev/stdout combined",
        (
            # The old query read 143 and 97 here: the response size.
            ("10:41:00", '169.254.178.2 - - [18/Nov/2026:10:41:00 +0000] "POST /invocations HTTP/1.1" 200 143 "-" "AHC/2.0"'),
            ("10:41:30", '169.254.178.2 - - [18/Nov/2026:10:41:30 +0000] "GET /ping HTTP/1.1" 200 0 "-" "AHC/2.0"'),
            ("10:42:00", '169.254.178.2 - - [18/Nov/2026:10:42:00 +0000] "POST /invocations HTTP/1.1" 500 97 "-" "AHC/2.0"'),
        ),
        untimed=(("2026-11-18 10:40:00.000", 2),),
    ),
    "vllm": Sample(
        "encode/uvicorn uvicorn/config.py (LOGGING_CONFIG access format) and uvicorn/logging.py; "
        "vllm-project/vllm vllm/v1/metrics/loggers.py (LoggingStatLogger.log) and vllm/logger.py",
        (
            ("10:43:00", 'INFO:     169.254.178.2:47914 - "POST /invocations HTTP/1.1" 200 OK'),
            ("10:43:05", 'INFO:     169.254.178.2:47920 - "GET /ping HTTP/1.1" 200 OK'),
            ("10:43:07", 'INFO:     169.254.178.2:47930 - "POST /invocations HTTP/1.1" 400 Bad Request'),
            ("10:43:10", "INFO 11-18 10:43:10 [loggers.py:123] Engine 000: Avg prompt throughput: 412.3 tokens/s, Avg generation throughput: 1023.8 tokens/s, Running: 7 reqs, Waiting: 0 reqs, GPU KV cache usage: 31.4%, Prefix cache hit rate: 12.0%"),
        ),
        untimed=(("2026-11-18 10:40:00.000", 2),),
    ),
    "triton": Sample(
        "triton-inference-server/server src/sagemaker_server.cc (LOG_VERBOSE(1) SageMaker request), docker/sagemaker/serve "
        "(--log-verbose=true), triton-inference-server/common src/logging.cc (the preamble, the message in quotes)",
        (
            ("10:44:00", 'I1118 10:44:00.118204 93 sagemaker_server.cc:154] "SageMaker request: 2 /invocations"'),
            ("10:44:00", 'I1118 10:44:00.118377 93 infer_request.cc:133] "[request id: <id_unknown>] Setting state from INITIALIZED to PENDING"'),
            ("10:44:05", 'I1118 10:44:05.000912 93 sagemaker_server.cc:154] "SageMaker request: 0 /ping"'),
        ),
        untimed=(("2026-11-18 10:40:00.000", 1),),
    ),
    "djl": Sample(
        "deepjavalibrary/djl-serving serving/src/main/conf/log4j2-plain.xml (ACCESS_LOG to a file only) and "
        "engines/python/src/main/java/ai/djl/python/engine/PyProcess.java (the worker's stdout)",
        (
            ("10:45:00", "[INFO ] PyProcess - W-241-model-stdout: INFO 11-18 10:45:00 [loggers.py:123] Engine 000: Avg prompt throughput: 0.0 tokens/s, Avg generation throughput: 88.1 tokens/s, Running: 2 reqs, Waiting: 0 reqs, GPU KV cache usage: 4.0%, Prefix cache hit rate: 0.0%"),
        ),
    ),
}

# Endpoints that served no request in the range: their health checks and periodic lines only.
QUIET = {
    "mms": Sample(
        SAMPLES["mms"].source,
        (
            ("10:51:08", "2026-11-18T10:51:08,003 " + access("pool-2-thread-3", "GET /ping", 200, 0)),
            ("10:53:08", "2026-11-18T10:53:08,010 " + access("pool-2-thread-5", "GET /ping", 200, 1)),
        ),
    ),
    "torchserve": Sample(
        SAMPLES["torchserve"].source,
        (
            ("10:51:45", "2026-11-18T10:51:45,001 [INFO ] pool-3-thread-1 TS_METRICS - CPUUtilization.Percent:2.5|#Level:Host|#hostname:container-0.local,timestamp:1794999105"),
            ("10:51:50", "2026-11-18T10:51:50,007 " + access("pool-3-thread-2", "GET /ping", 200, 1)),
            ("10:52:50", "2026-11-18T10:52:50,004 " + access("pool-3-thread-4", "GET /ping", 200, 0)),
        ),
    ),
}
