"""smtop's built-in Logs Insights queries for SageMaker endpoint logs.

The seed's two examples, adapted: SageMaker endpoint containers have no
``@duration`` (that is a Lambda field), so "latency percentiles" parses each
request's latency from the access line in whichever model server's style the
container logs (:data:`LATENCY_PARSE`), and bins by 5 minutes so a short
window still shows a shape.  Every query here runs in the simulator's engine,
and ``tests/sim/test_insights_builtins.py`` checks each answer against the
log lines themselves.
"""

from __future__ import annotations

from smtop.models.insights import SavedQuery

LATENCY_PARSE = (
    r'parse @message /(?:latency_ms"?[:=]|HTTP\/1\.1" \d{3} (?:\d+ "[^"]*" "[^"]*" )?)(?<latency_ms>\d+(?:\.\d+)?)/'
)
"""One regex for the access lines of the model servers SageMaker containers run:
``latency_ms=421.7`` (Python), ``"latency_ms":812.4`` (JSON, TGI),
``"POST /invocations HTTP/1.1" 200 143 "-" "AHC/2.0" 38.2`` (gunicorn combined
log, latency last) and ``"POST /invocations HTTP/1.1" 200 17`` (TorchServe)."""

INVOCATIONS = 'filter @message like "/invocations"'
"""Model requests only: not the /ping health checks, not the periodic stats lines."""

BUILT_IN: tuple[SavedQuery, ...] = (
    SavedQuery(
        "errors in the last hour",
        "fields @timestamp, @logStream, @message\n| filter @message like /ERROR/\n| sort @timestamp desc\n| limit 100",
        "built-in",
    ),
    SavedQuery(
        "latency percentiles",
        f"{INVOCATIONS}\n| {LATENCY_PARSE}\n| filter latency_ms >= 0\n"
        "| stats pct(latency_ms, 50) as p50, pct(latency_ms, 99) as p99, count(*) as requests by bin(5m)",
        "built-in",
    ),
    SavedQuery(
        "top error messages",
        'filter @message like /ERROR/\n| parse @message /(?:"msg":"|status=\\d{3} )(?<error>[^"\\n]+)/\n'
        "| filter ispresent(error)\n| stats count(*) as events by error\n| sort events desc\n| limit 20",
        "built-in",
    ),
    SavedQuery(
        "5xx per instance",
        'filter @message like /status[=":]+5\\d\\d|HTTP\\/1\\.1" 5\\d\\d/\n'
        "| stats count(*) as errors_5xx by @logStream\n| sort errors_5xx desc",
        "built-in",
    ),
    SavedQuery(
        "slowest requests",
        f"{INVOCATIONS}\n| {LATENCY_PARSE}\n| filter latency_ms >= 0\n| sort latency_ms desc\n| limit 20\n"
        "| display @timestamp, latency_ms, @logStream, @message",
        "built-in",
    ),
    SavedQuery(
        "errors per 5 minutes",
        "filter @message like /ERROR/\n| stats count(*) as errors by bin(5m)",
        "built-in",
    ),
)
