"""The one-line header: where smtop is looking and how fresh the data is."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from smtop.format import clock_time, printable
from smtop.models import CallerIdentity, FleetSnapshot
from smtop.models.replay import ReplayPosition


class StatusBar(Widget):
    """profile@account · region · refresh · last update, or why the data is stale."""

    DEFAULT_CSS = """
    StatusBar { height: 1; }
    """

    snapshot: reactive[FleetSnapshot | None] = reactive(None)
    """The last snapshot that arrived."""
    stale_reason: reactive[str | None] = reactive(None)
    """Why the last refresh failed, or None while data is fresh."""
    stale_since: reactive[datetime | None] = reactive(None)
    """When data first went stale."""
    polling: reactive[bool] = reactive(False)
    """A refresh is in flight."""
    where: reactive[tuple[str | None, str | None]] = reactive((None, None))
    """(profile, region) as the AWS session resolved them, once connected."""
    firing: reactive[int | None] = reactive(None)
    """Alarms in ALARM state, once alarms were read."""
    identity: reactive[CallerIdentity | None] = reactive(None)
    """Whose credentials the source uses (STS), once known: the account is shown."""
    replay: reactive[ReplayPosition | None] = reactive(None)
    """Where a --replay is (replaces "every Ns": the data comes from a recording)."""

    def __init__(self, *, profile: str, region: str, refresh: float, read_only: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.aws_profile = profile
        self.aws_region = region
        self.refresh_seconds = refresh
        self.read_only = read_only

    def watch_stale_reason(self, reason: str | None) -> None:
        self.set_class(reason is not None, "-stale")

    def render(self) -> Text:
        text = Text()
        text.append(" smtop ", style="bold reverse")
        profile, region = self.where
        if self.replay is not None:  # first: on 80 columns the rest may be cut, never where the replay is
            text.append(" ")
            text.append(_replay_label(self.replay), style="bold")
            text.append(" ·")
        profile = printable(profile or self.aws_profile)
        # profile@account once STS said whose credentials these are: which
        # account is live matters most, and the header has 80 columns to share.
        where = f"{profile}@{printable(self.identity.account)}" if self.identity is not None else f"profile {profile}"
        text.append(f" {where} · {printable(region or self.aws_region)}")
        if self.replay is None and self.stale_reason is None:  # when stale, "retrying in Ns" says it
            text.append(f" · every {self.refresh_seconds:g}s")
        if self.read_only:
            text.append(" · read-only", style="bold")
        snapshot = self.snapshot
        if snapshot is not None:
            text.append(f" · {len(snapshot.endpoints)} endpoints · {clock_time(snapshot.taken_at)}")
        elif self.stale_reason is None:
            text.append(" · connecting…")
        if self.firing:
            text.append(f" · {self.firing} alarm{'s' if self.firing != 1 else ''} firing", style="bold red")
        elif self.firing == 0:
            text.append(" · no alarm firing")
        if self.polling:
            text.append(" ⟳")
        if self.stale_reason is not None:
            since = clock_time(self.stale_since)
            # When to expect the next try goes first: a long reason is cut at
            # the screen's edge, and "retrying in Ns" is what a person waits on.
            reason, _, retry = self.stale_reason.rpartition(" — ")
            if not retry.startswith("retrying"):
                reason, retry = self.stale_reason, ""
            text.append(f"  STALE since {since}" + (f", {retry}" if retry else "") + ": ", style="bold")
            # The reason comes from AWS error text: appended as plain text, never markup.
            text.append(printable(reason))
        return text


def _replay_label(position: ReplayPosition) -> str:
    """REPLAY ▶ ×4 12:03:10 ━━━━╺──── 41% — where the replay is, at a glance."""
    state = "⏸" if position.paused else "▶"
    filled = round(position.fraction * 10)
    bar = "━" * filled + "─" * (10 - filled)
    return f"REPLAY {state} ×{position.speed:g} {clock_time(position.at)} {bar} {position.fraction:.0%}"
