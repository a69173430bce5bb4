"""smtop's config file: ``config.toml`` in the platform's user config directory.

Where: ``--config PATH``, else ``$SMTOP_CONFIG``, else
``platformdirs.user_config_path("smtop") / "config.toml"``
(``~/.config/smtop/config.toml`` on Linux).  ``docs/config.sample.toml``
shows every key; in short::

    refresh = 30                 # seconds between refreshes
    theme = "smtop-high-contrast"
    glyphs = "auto"              # auto | braille | block | ascii
    endpoints = "llm-*"          # endpoint filter (substring or glob)
    live_tail_idle = "15m"       # Live Tail pauses after this long without a key ("0s": never)

    [ranges]
    metrics_window = "3h"        # history of the metric panel and charts
    log_since = "15m"            # where a log tail starts
    insights_range = "1h"        # time range of a Logs Insights query

    [keys]
    refresh = "ctrl+r"           # action = "key"

    [[queries]]                  # saved Logs Insights queries
    name = "OOM errors"
    query = "filter @message like /out of memory/ | stats count(*) by bin(5m)"

    [[alarm_presets]]            # extra presets of the new-alarm form
    name = "p90 above 500 ms"
    metric = "ModelLatency"
    statistic = "p90"
    threshold = "500"

Precedence is the command line, then this file, then the defaults; a value
keeps where it came from so ``smtop --print-config`` can say so.  A missing
file is no error.  A malformed one never stops smtop: a TOML syntax error
means the defaults for everything, a bad value means the default for that
value, and each problem is one line naming the file and the line.  Writing
only appends a ``[[queries]]`` table, so whatever else the user wrote
(comments, other tables) stays as it was.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, TypeVar

from smtop.models.alarm_draft import COMPARISONS, STATISTICS
from smtop.models.catalog import METRICS
from smtop.models.insights import SavedQuery

ENV_VAR = "SMTOP_CONFIG"
T = TypeVar("T")
GLYPHS = ("auto", "braille", "block", "ascii")
"""How graphs are drawn: ``auto`` picks from the locale and $TERM (see smtop.ui.themes)."""

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RANGES = {"metrics_window": (timedelta(minutes=10), timedelta(hours=24)),
           "log_since": (timedelta(minutes=1), timedelta(hours=24)),
           "insights_range": (timedelta(minutes=1), timedelta(days=7))}
_PRESET_FIELDS = ("metric", "statistic", "comparison", "threshold", "period", "evaluation_periods", "datapoints_to_alarm")
_KNOWN = {"refresh", "theme", "glyphs", "endpoints", "live_tail_idle", "ranges", "keys", "queries", "alarm_presets"}
_LIVE_TAIL_IDLE = (timedelta(0), timedelta(hours=24))


@dataclass(frozen=True, slots=True)
class AlarmPreset:
    """A ready-made alarm of the user's own: the form fields it sets, as text (the form validates them)."""

    name: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """What the config file says, value by value, and what was wrong with it.

    ``values`` holds only the keys the file set and that were valid, already
    converted (seconds as float, durations as timedelta); a key absent here
    falls back to the command line's or smtop's default.
    """

    path: Path
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    """Where each value was set (1-based), for --print-config."""
    keys: tuple[tuple[str, str], ...] = ()
    """[keys] overrides: (action, key), in file order; checked by the app, which knows its actions."""
    queries: tuple[SavedQuery, ...] = ()
    alarm_presets: tuple[AlarmPreset, ...] = ()
    problems: tuple[str, ...] = ()
    queries_problem: str | None = None
    """The problem that concerns the saved queries (the whole file's, or their tables'), for the Insights panel."""

    @property
    def problem(self) -> str | None:
        """All problems as one message (None: nothing wrong)."""
        return " ".join(self.problems) or None


@dataclass(frozen=True, slots=True)
class ConfigQueries:
    """The config file's saved queries, and what was wrong with the file (None: nothing)."""

    path: Path
    queries: tuple[SavedQuery, ...] = ()
    problem: str | None = None


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The file smtop reads and writes: ``--config``, ``$SMTOP_CONFIG``, or the platform default."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    import platformdirs

    return platformdirs.user_config_path("smtop") / "config.toml"


def parse_duration(text: object) -> timedelta | None:
    """``"90s"``, ``"15m"``, ``"3h"``, ``"1d"`` → a timedelta (None: not a duration)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def duration_label(value: timedelta) -> str:
    """The shortest ``"15m"``-style text for ``value`` (the inverse of :func:`parse_duration`)."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def load_config(path: Path) -> ConfigFile:
    """Read and check the whole file; never raises for a bad file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile(path)
    except (OSError, UnicodeDecodeError) as error:
        problem = f"{path} could not be read ({error}); using the defaults."
        return ConfigFile(path, problems=(problem,), queries_problem=problem)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message ends "(at line N, column M)": the line is what the user needs.
        problem = f"{path} is not valid TOML: {error}; using the defaults."
        return ConfigFile(path, problems=(problem,), queries_problem=problem)
    return _Reader(path, text).read(document)


class _Reader:
    """Checks one parsed document value by value, collecting problems with their lines."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text_lines = text.splitlines()
        self.values: dict[str, Any] = {}
        self.lines: dict[str, int] = {}
        self.problems: list[str] = []
        self.queries_problem: str | None = None

    def line_of(self, key: str, table: str | None = None) -> int | None:
        """The line that sets ``key`` (inside ``[table]`` when given): TOML parsers keep no positions."""
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        current: str | None = None
        for number, line in enumerate(self.text_lines, start=1):
            header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", line)
            if header:
                current = header[1]
                continue
            if current == table and pattern.match(line):
                return number
        return None

    def complain(self, key: str, what: str, table: str | None = None) -> None:
        line = self.line_of(key, table)
        where = f"{self.path} line {line}" if line else str(self.path)
        name = f"{table}.{key}" if table else key
        self.problems.append(f"{where}: {name} {what}; using the default.")

    def keep(self, key: str, value: Any, table: str | None = None) -> None:
        self.values[key] = value
        line = self.line_of(key, table)
        if line:
            self.lines[key] = line

    def read(self, document: dict[str, Any]) -> ConfigFile:
        for key in sorted(set(document) - _KNOWN):
            self.complain(key, f"is not a setting smtop knows ({', '.join(sorted(_KNOWN))})")
        self._scalars(document)
        ranges = document.get("ranges", {})
        if isinstance(ranges, dict):
            self._ranges(ranges)
        else:
            self.complain("ranges", "must be a table ([ranges])")
        keys = self._keys(document.get("keys", {}))
        queries = self._queries(document.get("queries", []))
        presets = self._presets(document.get("alarm_presets", []))
        return ConfigFile(self.path, self.values, self.lines, keys, queries, presets, tuple(self.problems), self.queries_problem)

    def _scalars(self, document: dict[str, Any]) -> None:
        if "refresh" in document:
            refresh = document["refresh"]
            if isinstance(refresh, (int, float)) and not isinstance(refresh, bool) and 1 <= refresh <= 3600:
                self.keep("refresh", float(refresh))
            else:
                self.complain("refresh", f"must be a number of seconds from 1 to 3600, not {refresh!r}")
        for key in ("theme", "endpoints"):
            if key in document:
                value = document[key]
                if isinstance(value, str) and value.strip() and value.isprintable():
                    self.keep(key, value.strip())
                else:
                    self.complain(key, f"must be a non-empty string, not {value!r}")
        if "live_tail_idle" in document:
            idle, (low, high) = parse_duration(document["live_tail_idle"]), _LIVE_TAIL_IDLE
            if idle is not None and low <= idle <= high:
                self.keep("live_tail_idle", idle)
            else:
                self.complain(
                    "live_tail_idle",
                    f"must be a duration like \"15m\" from 0s (never Live Tail) to 24h, not {document['live_tail_idle']!r}",
                )
        if "glyphs" in document:
            glyphs = document["glyphs"]
            if glyphs in GLYPHS:
                self.keep("glyphs", glyphs)
            else:
                self.complain("glyphs", f"must be one of {', '.join(GLYPHS)}, not {glyphs!r}")

    def _ranges(self, ranges: dict[str, Any]) -> None:
        for key in sorted(set(ranges) - set(_RANGES)):
            self.complain(key, f"is not a range smtop knows ({', '.join(_RANGES)})", "ranges")
        for key, (low, high) in _RANGES.items():
            if key not in ranges:
                continue
            value = parse_duration(ranges[key])
            if value is not None and low <= value <= high:
                self.keep(key, value, "ranges")
            else:
                bounds = f"{duration_label(low)} to {duration_label(high)}"
                self.complain(key, f"must be a duration like \"15m\" or \"3h\" from {bounds}, not {ranges[key]!r}", "ranges")

    def _keys(self, table: object) -> tuple[tuple[str, str], ...]:
        if not isinstance(table, dict):
            self.complain("keys", "must be a table ([keys]) of action = \"key\"")
            return ()
        keys = []
        for action, key in table.items():
            if isinstance(key, str) and key.strip() and key.isprintable():
                keys.append((action, key.strip()))
            else:
                self.complain(action, f"must be a key name like \"ctrl+r\", not {key!r}", "keys")
        return tuple(keys)

    def _queries(self, tables: object) -> tuple[SavedQuery, ...]:
        queries, problem = self._tables(tables, "queries", _query_of, "a name and a query (strings)", "using the defaults")
        if problem:
            self.queries_problem = problem
            self.problems.append(problem)
        return queries

    def _presets(self, tables: object) -> tuple[AlarmPreset, ...]:
        needs = (
            f"a name and a metric smtop shows, and only {', '.join(_PRESET_FIELDS)} (strings or numbers) with the "
            "form's statistics and comparisons"
        )
        presets, problem = self._tables(tables, "alarm_presets", _preset_of, needs, "skipped")
        if problem:
            self.problems.append(problem)
        return presets

    def _tables(self, tables: object, name: str, parse: Callable[[object], T | None], needs: str, otherwise: str) -> tuple[tuple[T, ...], str | None]:
        """The ``[[name]]`` tables ``parse`` accepts, and one problem naming the others (None: none)."""
        if not isinstance(tables, list):
            return (), f"{self.path}: '{name}' must be an array of tables ([[{name}]]); {otherwise}."
        parsed = [parse(table) for table in tables]
        skipped = [str(number) for number, item in enumerate(parsed, start=1) if item is None]
        problem = f"{self.path}: [[{name}]] number {', '.join(skipped)} skipped: each needs {needs}." if skipped else None
        return tuple(item for item in parsed if item is not None), problem


def _preset_of(table: object) -> AlarmPreset | None:
    if not isinstance(table, dict) or not isinstance(table.get("name"), str) or not table["name"].strip():
        return None
    fields = {k: v for k, v in table.items() if k != "name"}
    if "metric" not in fields or not set(fields) <= set(_PRESET_FIELDS):
        return None
    if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in fields.values()):
        return None
    # The form's lists hold only these: anything else could not be shown in it.
    if fields["metric"] not in METRICS or fields.get("statistic", "Average") not in STATISTICS:
        return None
    if fields.get("comparison", "GreaterThanThreshold") not in COMPARISONS:
        return None
    return AlarmPreset(table["name"].strip(), tuple((k, str(v)) for k, v in fields.items()))


def load_queries(path: Path) -> ConfigQueries:
    """Read the ``[[queries]]`` tables of ``path``; never raises for a bad file."""
    loaded = load_config(path)
    return ConfigQueries(path, loaded.queries, loaded.queries_problem)


def _query_of(table: object) -> SavedQuery | None:
    if not isinstance(table, dict):
        return None
    name, query, groups = table.get("name"), table.get("query"), table.get("log_groups", [])
    if not isinstance(name, str) or not isinstance(query, str) or not name.strip() or not query.strip():
        return None
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        return None
    return SavedQuery(name.strip(), query.strip(), "config", tuple(groups))


def append_query(path: Path, query: SavedQuery) -> None:
    """Add ``query`` as a new ``[[queries]]`` table at the end of ``path`` (created if missing).

    Raises:
        OSError: the file or its directory cannot be written.
    """
    import tomli_w

    table: dict[str, object] = {"name": query.name, "query": query.query}
    if query.log_groups:
        table["log_groups"] = list(query.log_groups)
    # The header by hand: tomli_w would write a short array of tables inline
    # (`queries = [...]`), which cannot follow the user's own [[queries]].
    block = "[[queries]]\n" + tomli_w.dumps(table, multiline_strings=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    separator = "" if not existing or existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
    with path.open("a", encoding="utf-8") as file:
        file.write(separator + block)


DEFAULT_THEME = "textual-dark"
"""The theme when neither --theme nor the config file names one."""


def effective_toml(settings: Any, path: Path) -> str:
    """The config smtop runs with (``smtop.config.settings.Settings``), as TOML a user can copy into
    ``path``, each value followed by a comment saying where it came from."""
    import tomli_w

    def line(name: str, key: str, value: object) -> str:
        return f"{tomli_w.dumps({key: value}).strip()}  # {settings.origin(name)}"

    out = [f"# smtop's effective config; the file read: {path}{'' if path.exists() else ' (absent)'}"]
    out += [f"# problem: {problem}" for problem in settings.config_problems]
    out += [
        line("refresh", "refresh", settings.refresh),
        line("theme", "theme", settings.theme or DEFAULT_THEME),
        line("glyphs", "glyphs", settings.glyphs),
        line("endpoints", "endpoints", settings.endpoint_pattern)
        if settings.endpoint_pattern
        else '# endpoints = "PATTERN"  # default: every endpoint',
        line("live_tail_idle", "live_tail_idle", duration_label(settings.live_tail_idle)),
        "",
        "[ranges]",
        line("metrics_window", "metrics_window", duration_label(settings.window)),
        line("log_since", "log_since", duration_label(settings.log_since)),
        line("insights_range", "insights_range", duration_label(settings.insights_range)),
        "",
        "[keys]  # action = \"key\"; the defaults are listed by `?` in the console",
    ]
    out += [f"{tomli_w.dumps({action: key}).strip()}  # config file" for action, key in settings.keys]
    for preset in settings.alarm_presets:
        out += ["", "[[alarm_presets]]  # config file", tomli_w.dumps({"name": preset.name, **dict(preset.fields)}).strip()]
    for query in load_config(path).queries:
        table: dict[str, object] = {"name": query.name, "query": query.query}
        if query.log_groups:
            table["log_groups"] = list(query.log_groups)
        out += ["", "[[queries]]  # config file", tomli_w.dumps(table, multiline_strings=True).strip()]
    return "\n".join(out) + "\n"
