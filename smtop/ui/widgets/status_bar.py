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
        # (piece, drop order): on a narrow terminal the least needed pieces go
        # first (refresh rate, endpoint count, time), so the account, the region,
        # read-only, the firing alarms and STALE always show.
        pieces: list[tuple[Text, int | None]] = []

        def add(text: str, style: str = "", drop: int | None = None) -> None:
            pieces.append((Text(text, style=style), drop))

        add(" smtop ", "bold reverse")
        profile, region = self.where
        if self.replay is not None:
            # First: on 80 columns the rest may be cut, never where the replay is.
            add(" ")
            add(_replay_label(self.replay), "bold")
            add(" ·")
        profile = printable(profile or self.aws_profile)
        # profile@account once STS said whose credentials these are: which
        # account is live matters most, and the header has 80 columns to share.
        where = f"{profile}@{printable(self.identity.account)}" if self.identity is not None else f"profile {profile}"
        add(f" {where} · {printable(region or self.aws_region)}")
        if self.replay is None and self.stale_reason is None:  # when stale, "retrying in Ns" says it
            add(f" · every {self.refresh_seconds:g}s", drop=0)
        if self.read_only:
            add(" · read-only", "bold")
        snapshot = self.snapshot
        if snapshot is not None:
            add(f" · {len(snapshot.endpoints)} endpoints", drop=1)
            add(f" · {clock_time(snapshot.taken_at)}", drop=2)
        elif self.stale_reason is None:
            add(" · connecting…")
        if self.firing:
            add(f" · {self.firing} alarm{'s' if self.firing != 1 else ''} firing", "bold red")
        elif self.firing == 0:
            add(" · no alarm firing", drop=3)
        if self.polling:
            add(" ⟳")
        if self.stale_reason is not None:
            since = clock_time(self.stale_since)
            # What happens next goes first: a long reason is cut at the screen's
            # edge, and "retrying in Ns" or "press L to sign in again" is what a
            # person waits on or acts on.
            reason, _, retry = self.stale_reason.rpartition(" — ")
            if not retry.startswith(("retrying", "press")):
                reason, retry = self.stale_reason, ""
            add(f"  STALE since {since}" + (f", {retry}" if retry else "") + ": ", "bold")
            # The reason comes from AWS error text: appended as plain text, never markup.
            add(printable(reason))
        return Text("").join(_fitting(pieces, self.size.width))


def _fitting(pieces: list[tuple[Text, int | None]], width: int) -> list[Text]:
    """The pieces, less the droppable ones (lowest order first) that would push the rest past ``width``."""
    dropped: set[int] = set()
    length = sum(text.cell_len for text, _ in pieces)
    for _, index in sorted((drop, i) for i, (_, drop) in enumerate(pieces) if drop is not None):
        if width <= 0 or length <= width:
            break
        dropped.add(index)
        length -= pieces[index][0].cell_len
    return [text for i, (text, _) in enumerate(pieces) if i not in dropped]


def _replay_label(position: ReplayPosition) -> str:
    """REPLAY ▶ ×4 12:03:10 ━━━━╺──── 41% — where the replay is, at a glance."""
    state = "⏸" if position.paused else "▶"
    filled = round(position.fraction * 10)
    bar = "━" * filled + "─" * (10 - filled)
    return f"REPLAY {state} ×{position.speed:g} {clock_time(position.at)} {bar} {position.fraction:.0%}"
