"""The command palette (ctrl+p) and the config file's key overrides.

Every action a key reaches is also a palette command, so a user who forgot a
key, or whose terminal eats it (ctrl+s under flow control, shifted letters
over some SSH clients), can still do everything without a mouse.  The
commands are read from the bindings themselves rather than listed a second
time, so a new binding cannot be missing from the palette.

Key overrides use Textual's keymap (bindings with an ``id``); they are checked
here first because Textual silently lets a clashing key shadow another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from textual.actions import parse as parse_action
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

# Moving a cursor is not something one looks up in a palette.
_NOT_COMMANDS = frozenset({"cursor_up", "cursor_down", "page_up", "page_down", "cursor_home", "back"})

PANEL_NAMES: dict[str, str] = {
    "SmtopApp": "smtop",
    "ConsoleScreen": "smtop",
    "EndpointTable": "Endpoints",
    "LogPanel": "Logs",
    "LogView": "Logs",
    "InsightsPanel": "Insights",
    "TrailFeed": "CloudTrail",
    "AlarmsPanel": "Alarms",
    "MetricPanel": "Metrics",
}
"""Which panel a binding's owner is, as the palette and `?` help name it."""


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    """One palette entry: a binding's action, run in the namespace of the node that owns it."""

    title: str
    help: str
    node: DOMNode
    action: str


def palette_commands(nodes: Iterable[DOMNode]) -> list[PaletteCommand]:
    """A command for every action bound on ``nodes`` (the console screen and its panels)."""
    commands: list[PaletteCommand] = []
    seen: set[tuple[type, str]] = set()
    for node in nodes:
        panel = PANEL_NAMES.get(type(node).__name__)
        if panel is None:
            continue
        for binding in _own_bindings(node):
            if binding.action in _NOT_COMMANDS or (type(node), binding.action) in seen:
                continue
            seen.add((type(node), binding.action))
            description = binding.description or binding.action.replace("_", " ")
            commands.append(
                PaletteCommand(f"{panel}: {description}", f"key {binding.key_display or binding.key}", node, binding.action)
            )
    return commands


def _own_bindings(node: DOMNode) -> Iterator[Binding]:
    for binding in getattr(type(node), "BINDINGS", ()):
        if isinstance(binding, Binding):
            yield binding


def _available(command: PaletteCommand) -> bool:
    """False when the owner's ``check_action`` disables the action right now
    (e.g. the replay keys outside a replay), as the footer hides its key."""
    _, name, parameters = parse_action(command.action)
    return command.node.check_action(name, parameters) is not False


class SmtopCommands(Provider):
    """Every bound action of the console, by panel, and one command per theme."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Awaitable[None] | None]]]:
        app = self.app
        main = getattr(app, "main", self.screen)
        actions = [
            (c.title, c.help, partial(app.run_action, c.action, c.node))
            for c in palette_commands([main, *main.query("*")])
            if _available(c)
        ]
        themes = [(f"Theme: {name}", "colours (NO_COLOR still wins)", partial(setattr, app, "theme", name)) for name in sorted(app.available_themes)]
        return actions + themes

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)


def check_key_overrides(
    overrides: Sequence[tuple[str, str]], bindings: Sequence[Binding]
) -> tuple[dict[str, str], list[str]]:
    """The keymap to apply (binding id → key) and a message per override refused.

    Refused: an action no binding has, and a key another action keeps (or that
    two overrides both want), since Textual would silently run only one of them.
    """
    by_id = {b.id: b for b in bindings if b.id}
    wanted: dict[str, str] = {}
    problems: list[str] = []
    for action, key in overrides:
        if action not in by_id:
            problems.append(f"[keys] {action} = {key!r}: no such action; actions: {', '.join(sorted(by_id))}.")
        else:
            wanted[action] = _long_key(key)
    keymap: dict[str, str] = {}
    for action, key in wanted.items():
        kept = [b.id for b in bindings if b.id and b.id not in wanted and _long_key(b.key) == key]
        doubled = [other for other, other_key in wanted.items() if other != action and other_key == key]
        if kept or doubled:
            holder = (kept or doubled)[0]
            problems.append(f"[keys] {action} = {key!r}: that key is already {holder}'s; {action} keeps {by_id[action].key_display or by_id[action].key!r}.")
        else:
            keymap[action] = key
    return keymap, problems


def _long_key(key: str) -> str:
    """Textual's name of a key ("?" → "question_mark"), so "?" and "question_mark" compare equal."""
    from textual.keys import _character_to_key

    return ",".join(_character_to_key(k.strip()) if len(k.strip()) == 1 else k.strip() for k in key.split(","))
