"""smtop's built-in Logs Insights queries for SageMaker endpoint logs.

The seed's two examples, adapted: SageMaker endpoint containers have no
``@duration`` (that is a Lambda field), so the latency queries read each
request's duration where the container's own request line carries one
(:data:`LATENCY`), converted to milliseconds.  They keep every request line
they recognise, with or without a duration, so a run tells apart the three
answers a person needs (:data:`LATENCY_MEASURE`): durations; request lines
but no duration ("these logs carry no latency"); no request line at all in
the range (a quiet endpoint: its ``/ping`` lines are not requests).  Which
containers log a duration, in which field and unit (from their source; the
simulator writes the same lines, :mod:`smtop.sim.log_formats`):

- Multi Model Server (the SageMaker inference toolkit), TorchServe (the
  SageMaker PyTorch toolkit) and DJL Serving with its access log on the
  console: ``… ACCESS_LOG - /10.2.3.4:51234 "POST /invocations HTTP/1.1" 200 17``,
  the last field in whole milliseconds.
- Hugging Face TGI: ``total_time="2.364213617s"`` in the ``generate`` span of
  the ``Success`` line (text, possibly coloured, or ``"total_time":"…"`` with
  JSON output), a Rust Duration: ``s``, ``ms`` or ``µs``.
- No duration: nginx's ``combined`` line (the scikit-learn, XGBoost and
  TensorFlow Serving containers), uvicorn's access line (vLLM), Triton
  (``"SageMaker request: 2 /invocations"``) and DJL Serving's default
  SageMaker configuration, which logs no request line at all: there the
  queries can only say that no line in the range is a request.

Each unit is read by its own ``parse`` (a line that does not match keeps no
field, per the ``parse`` page of the Logs Insights documentation) and the
first value present wins (``coalesce``, "Boolean, comparison, numeric,
datetime, and other functions"), so one query serves every container.  The
regular expressions use only what both Java and RE2 read: classes,
quantifiers, alternation, ``(?:…)`` and ``(?<name>…)``.  Every query here runs
in the simulator's engine, and the tests check each answer against lines
written by hand from the containers' format strings.
"""

from __future__ import annotations

from smtop.models.insights import Measure, SavedQuery

_FIELD_GAP = r'(?:[=:"]|\x1b\[\d*m)*"'
"""Between ``total_time`` and its quoted value: ``="`` (text), ``":"`` (JSON)
or the colour codes tracing-subscriber puts around ``=`` when colours are on."""

REQUEST_LINES = r'filter @message like /\/invocations HTTP|\/invoke HTTP|total_time|SageMaker request: \d+ \/(?:invocations|models\/)/'
"""The lines that log one model invocation each: an access line of ``/invocations`` or a
multi-model endpoint's ``/models/<name>/invoke`` (not ``/ping``), TGI's ``Success`` line
(the one with ``total_time``), Triton's ``SageMaker request`` line."""

LATENCY = (
    f"{REQUEST_LINES}\n"
    r'| parse @message /"POST \/(?:invocations|models\/[^ "]+\/invoke) HTTP\/[\d.]+" \d{3} (?<access_ms>\d+)$/'
    "\n"
    rf'| parse @message /total_time{_FIELD_GAP}(?<tgi_s>\d+(?:\.\d+)?)s"/'
    "\n"
    rf'| parse @message /total_time{_FIELD_GAP}(?<tgi_ms>\d+(?:\.\d+)?)ms"/'
    "\n"
    rf'| parse @message /total_time{_FIELD_GAP}(?<tgi_us>\d+(?:\.\d+)?)µs"/'
    "\n"
    "| fields tgi_s * 1000 as tgi_s_ms, tgi_us / 1000 as tgi_us_ms\n"
    "| fields coalesce(access_ms, tgi_s_ms, tgi_ms, tgi_us_ms) as latency_ms"
)
"""Every request line (:data:`REQUEST_LINES`), with ``latency_ms`` in milliseconds where the
line carries the request's duration (absent where it does not)."""

LATENCY_MEASURE = Measure(
    "latency_ms",
    absent="These logs carry no latency: no request line has the request's duration (the ModelLatency metric has it).",
    none="No requests in this range: no line in it logs one (some containers never do; the Invocations metric counts them).",
)
"""What the latency queries say when their request lines carry no duration, or there are none."""

ERROR_TEXT = r'parse @message /(?:"message":"|\.rs:\d+: |text_generation_launcher: )(?<error>[^"\\\n]+)/'
"""The text of an error line where the container writes one apart from its framing:
TGI's router (``…: router/src/infer/mod.rs:126: Input validation error: …``, or
its JSON ``"message"``) and its launcher (the shard's exception, first line only)."""

BUILT_IN: tuple[SavedQuery, ...] = (
    SavedQuery(
        "errors in the last hour",
        "fields @timestamp, @logStream, @message\n| filter @message like /ERROR/\n| sort @timestamp desc\n| limit 100",
        "built-in",
    ),
    SavedQuery(
        "latency percentiles",
        # requests counts every request line; p50 and p99 only those with a duration.
        f"{LATENCY}\n| stats pct(latency_ms, 50) as p50, pct(latency_ms, 99) as p99, count(*) as requests by bin(5m)",
        "built-in",
        measure=Measure("p50", LATENCY_MEASURE.absent, LATENCY_MEASURE.none),
    ),
    SavedQuery(
        "top error messages",
        f"filter @message like /ERROR/\n| {ERROR_TEXT}\n"
        "| filter ispresent(error)\n| stats count(*) as events by error\n| sort events desc\n| limit 20",
        "built-in",
    ),
    SavedQuery(
        "5xx per instance",
        'filter @message like /HTTP\\/[\\d.]+" 5\\d\\d/\n'
        "| stats count(*) as errors_5xx by @logStream\n| sort errors_5xx desc",
        "built-in",
    ),
    SavedQuery(
        "slowest requests",
        # Lines without a duration rank below every duration (-1), rather than rely on where
        # sort puts a missing value; they show only when the range has fewer timed ones.
        f"{LATENCY}\n| fields coalesce(latency_ms, -1) as duration_rank\n| sort duration_rank desc\n| limit 20\n"
        "| display @timestamp, latency_ms, @logStream, @message",
        "built-in",
        measure=LATENCY_MEASURE,
    ),
    SavedQuery(
        "errors per 5 minutes",
        "filter @message like /ERROR/\n| stats count(*) as errors by bin(5m)",
        "built-in",
    ),
)
