"""`?`: every key smtop answers to, by panel."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# (panel, key, what it does) — the one list the help screen shows.
KEYS: tuple[tuple[str, str, str], ...] = (
    ("everywhere", "q", "quit"),
    ("everywhere", "?", "this help"),
    ("everywhere", "tab, shift+tab", "next / previous panel"),
    ("everywhere", "r", "refresh now"),
    ("everywhere", "escape", "back / close"),
    ("everywhere", "ctrl+p", "command palette: every action of every panel by name, and the themes"),
    ("everywhere", "P", "switch AWS profile or region (the header shows profile@account · region)"),
    ("everywhere", "L", "sign in again: re-read the profile (after `aws sso login`, new keys), or enter a new MFA code"),
    ("replay", "space", "pause / play the recording (--replay)"),
    ("replay", "← → [ ]", "seek 30 s / 5 min back or forward"),
    ("endpoints", "↑ ↓ j k", "select an endpoint (every panel follows it)"),
    ("endpoints", "/", "filter by name (substring or glob); escape clears"),
    ("endpoints", "s, S", "sort by the next column / reverse the order"),
    ("endpoints", "enter", "go to the endpoint's metrics"),
    ("metrics", "↑ ↓", "select a metric"),
    ("metrics", "enter", "open the metric's chart with a time axis"),
    ("everywhere", "l", "show the logs (short terminals) / give them the metrics' room"),
    ("everywhere", "f", "follow / pause the logs"),
    ("everywhere", "d, i, A", "side panel: endpoint detail / Logs Insights queries / alarms"),
    ("everywhere", "n", "new alarm for the selected endpoint and metric (form: ctrl+s sends)"),
    ("everywhere", "a", "acknowledge: mute all of the selected (or the endpoint's firing) alarm's actions for a while"),
    ("everywhere", "u", "un-acknowledge: delete smtop's mute rule (asks first in ALARM: its actions run at once)"),
    ("alarms", "enter", "the alarm's history (state changes, actions)"),
    ("forms", "ctrl+s", "send (a second ctrl+s confirms overwriting an alarm of the same name)"),
    ("insights", "enter", "run the highlighted saved query on the selected endpoint's log group"),
    ("insights", "t", "time range: 5m → 15m → 1h → 3h → 12h → 24h"),
    ("insights", "e", "edit the query in place (ctrl+s runs it, escape keeps the old text)"),
    ("query editor", "ctrl+t", "complete the word with the first suggested Insights command or function"),
    ("insights", "x, R", "cancel the running query (StopQuery) / run it again"),
    ("insights", "p, w", "save as a query definition in the account / into the config file"),
    ("insights", "v", "results full screen, with a chart for stats … by bin(…)"),
    ("insights", "s, S", "sort the results by the next column / reverse"),
    ("logs", "↑ ↓ j k pgup pgdn home", "move through the lines (pauses following)"),
    ("logs", "end", "back to the newest line, following"),
    ("logs", "/", "CloudWatch filter pattern, applied by the service: ERROR  \"a phrase\"  ?ERROR ?WARN  -health  { $.level = \"ERROR\" }"),
    ("logs", "t", "since: 5m → 15m → 1h → 3h → 12h"),
    ("logs", "enter", "the whole event (JSON pretty-printed)"),
    ("logs", "w, T", "wrap long lines / show times"),
    ("logs", "g", "tail another log group (training, processing jobs…)"),
    ("logs", "s", "save the buffer to ./smtop-<group>.log"),
    ("logs", "any key", "resume Live Tail: it pauses (and polls) after live_tail_idle without a key, 15m by default, as it is billed per minute"),
    ("everywhere", "c", "CloudTrail feed: who changed what (short terminals: in the logs' place)"),
    ("cloudtrail", "↑ ↓", "select an event (key events in yellow, failed calls' errorCode in red)"),
    ("cloudtrail", "e", "the selected endpoint's events / all SageMaker and CloudWatch events"),
    ("cloudtrail", "enter", "the whole CloudTrail event (JSON pretty-printed)"),
)


def grouped(keys: tuple[tuple[str, str, str], ...]) -> list[tuple[str, list[tuple[str, str]]]]:
    """KEYS by panel, panels in the order they first appear, rows in their own order."""
    panels: dict[str, list[tuple[str, str]]] = {}
    for panel, key, does in keys:
        panels.setdefault(panel, []).append((key, does))
    return list(panels.items())


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("question_mark", "dismiss", "Close", show=False), Binding("q", "dismiss", "Close", show=False)]

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        """``overrides``: the config file's [keys] in force (binding id → key)."""
        super().__init__()
        self._overrides = overrides or {}

    def compose(self) -> ComposeResult:
        table = Table(title="smtop keys", box=None, header_style="bold", padding=(0, 2))
        table.add_column("panel", style="dim")
        table.add_column("key", style="bold")
        table.add_column("does")
        for index, (panel, rows) in enumerate(grouped(KEYS)):
            if index:
                table.add_row()  # a blank line between panels
            for number, (key, does) in enumerate(rows):
                # The panel's name once, on its first row.
                table.add_row(Text(panel, style="bold") if number == 0 else "", Text(key), does)
        notes = Text(
            "\nTimes are UTC. Latencies are CloudWatch microseconds shown in ms; counts are per minute."
            "\nAn endpoint's p99 is its worst variant's p99 (percentiles cannot be merged)."
            "\nDeployments (CreateEndpoint, UpdateEndpoint, UpdateEndpointWeightsAndCapacities) are marked on the"
            "\nmetric sparklines and charts in magenta. InvokeEndpoint is a CloudTrail data event: it never"
            "\nappears in event history (the feed), so see the Invocations metric for who calls an endpoint.",
            style="dim",
        )
        overrides = self._overrides
        with VerticalScroll(id="help"):
            if overrides:
                mine = ", ".join(f"{action} → {key}" for action, key in overrides.items())
                yield Static(Text(f"Your keys from the config file replace these: {mine}", style="bold"))
            yield Static(table)
            yield Static(notes)
