"""smtop's built-in Logs Insights queries for SageMaker endpoint logs.

The seed's two examples, adapted: SageMaker endpoint containers have no
``@duration`` (that is a Lambda field), so the latency queries read each
request's duration where the container's own request line carries one
(:data:`LATENCY`), converted to milliseconds, and say "these logs carry no
latency" where it does not (:data:`LATENCY_MEASURE`).  Which containers log a
duration, in which field and unit (from their source; the simulator writes
the same lines, :mod:`smtop.sim.log_formats`):

- Multi Model Server (the SageMaker inference toolkit), TorchServe (the
  SageMaker PyTorch toolkit) and DJL Serving with its access log on the
  console: ``… ACCESS_LOG - /10.2.3.4:51234 "POST /invocations HTTP/1.1" 200 17``,
  the last field in whole milliseconds.
- Hugging Face TGI: ``total_time="2.364213617s"`` in the ``generate`` span of
  the ``Success`` line (text, possibly coloured, or ``"total_time":"…"`` with
  JSON output), a Rust Duration: ``s``, ``ms`` or ``µs``.
- No duration: nginx's ``combined`` line (the scikit-learn, XGBoost and
  TensorFlow Serving containers), uvicorn's access line (vLLM), Triton and
  DJL Serving's default SageMaker configuration.

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

LATENCY = (
    r'filter @message like /\/invocations HTTP|\/invoke HTTP|total_time/'
    "\n"
    r'| parse @message /"POST \/(?:invocations|models\/[^ "]+\/invoke) HTTP\/[\d.]+" \d{3} (?<access_ms>\d+)$/'
    "\n"
    rf'| parse @message /total_time{_FIELD_GAP}(?<tgi_s>\d+(?:\.\d+)?)s"/'
    "\n"
    rf'| parse @message /total_time{_FIELD_GAP}(?<tgi_ms>\d+(?:\.\d+)?)ms"/'
    "\n"
    rf'| parse @message /total_time{_FIELD_GAP}(?<tgi_us>\d+(?:\.\d+)?)µs"/'
    "\n"
    "| fields tgi_s * 1000 as tgi_s_ms, tgi_us / 1000 as tgi_us_ms\n"
    "| fields coalesce(access_ms, tgi_s_ms, tgi_ms, tgi_us_ms) as latency_ms\n"
    "| filter ispresent(latency_ms)"
)
"""Every request line that carries its duration, with ``latency_ms`` in milliseconds
(the model-invocation routes only: ``/invocations`` and a multi-model
endpoint's ``/models/<name>/invoke``, not ``/ping``)."""

LATENCY_MEASURE = Measure(
    "latency_ms",
    "These logs carry no latency: no line has a request's duration (the ModelLatency metric has it).",
)
"""What the latency queries say when their lines carry none."""

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
        f"{LATENCY}\n| stats pct(latency_ms, 50) as p50, pct(latency_ms, 99) as p99, count(*) as requests by bin(5m)",
        "built-in",
        measure=Measure("p50", LATENCY_MEASURE.absent),
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
        f"{LATENCY}\n| sort latency_ms desc\n| limit 20\n| display @timestamp, latency_ms, @logStream, @message",
        "built-in",
        measure=LATENCY_MEASURE,
    ),
    SavedQuery(
        "errors per 5 minutes",
        "filter @message like /ERROR/\n| stats count(*) as errors by bin(5m)",
        "built-in",
    ),
)
