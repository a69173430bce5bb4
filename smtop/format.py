"""How numbers read on screen and in batch output (one place for both)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from rich.text import Text

from smtop.models.catalog import METRICS
from smtop.models.characters import INVISIBLE

MISSING = "—"
STALE_MARK = "!"
"""Before the status of an endpoint whose description could not be refreshed:
``!InSvc`` in the table, ``!InService`` in the endpoint panel and in batch text."""


def compact(value: float | None) -> str:
    """1234 → '1.2k', 310 → '310', 0.25 → '0.25'; None → '—'."""
    if value is None or math.isnan(value):
        return MISSING
    magnitude = abs(value)
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= threshold:
            scaled = value / threshold
            return f"{scaled:.1f}{suffix}" if abs(scaled) < 100 else f"{scaled:.0f}{suffix}"
    if magnitude == 0 or magnitude >= 10 or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2g}" if magnitude < 1 else f"{value:.1f}"


def percent(value: float | None, *, digits: int = 1) -> str:
    if value is None or math.isnan(value):
        return MISSING
    return f"{value:.{digits}f}"


def utilization(value: float | None) -> str:
    return MISSING if value is None or math.isnan(value) else f"{value:.0f}%"


def metric_value(metric: str, value: float | None, *, period: int = 60) -> str:
    """A metric's value in the unit the user reads, with the unit.

    Counts (Sum per period) are shown per minute whatever the period.
    """
    if value is None:
        return MISSING
    spec = METRICS[metric]
    shown = spec.shown(value, period)
    if spec.unit == "%":
        return f"{shown:.0f}%"
    if spec.is_count:
        return f"{compact(shown)}/min"
    return f"{compact(shown)} {spec.unit}"


def iso_utc(moment: datetime | float | None, *, timespec: str = "auto") -> str | None:
    """ISO 8601 in UTC with a Z (epoch seconds or a datetime); None stays None."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")


def clock_time(moment: datetime | None) -> str:
    """Times are shown in UTC, as CloudWatch and CloudTrail record them, so a
    team spread over time zones reads the same minute."""
    return moment.astimezone(timezone.utc).strftime("%H:%M:%SZ") if moment else MISSING


# What would act on the terminal or hide from the reader (smtop.models.characters)
# is shown as an escape; a tab as the spaces it would take.
_CONTROL = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in sorted(INVISIBLE)}
_CONTROL[ord("\t")] = "    "


def printable(text: str) -> str:
    """Text from AWS made safe for a terminal: control, bidi and zero-width
    characters become visible escapes (``\\x1b``), so no sequence reaches the
    tty and nothing is hidden; lone surrogates (from invalid UTF-8) become U+FFFD."""
    if text.isprintable():  # no control, format (bidi, zero-width) or surrogate character: most text, at C speed
        return text
    safe = text.translate(_CONTROL)
    if not safe.isascii():
        try:
            safe.encode("utf-8")
        except UnicodeEncodeError:
            safe = safe.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return safe


def safe_text(text: str, style: str = "") -> Text:
    """Untrusted text (from AWS or the user) ready for any widget: printable,
    and a Text, so nothing in it is ever parsed as markup."""
    return Text(printable(text), style=style)
