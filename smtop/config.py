"""smtop's config file: ``config.toml`` in the platform's user config directory.

Where: ``--config PATH``, else ``$SMTOP_CONFIG``, else
``platformdirs.user_config_path("smtop") / "config.toml"``
(``~/.config/smtop/config.toml`` on Linux).  What it holds today — saved
Logs Insights queries, one table each::

    [[queries]]
    name = "OOM errors"
    query = '''
    filter @message like /out of memory/
    | stats count(*) by bin(5m)'''
    log_groups = ["/aws/sagemaker/Endpoints/llm-chat-canary"]  # optional

A missing file is no error.  A malformed one never stops smtop: the caller
gets the defaults (no queries) and a one-line problem naming the file and
line, to show where the queries would be.  Writing only appends a table, so
whatever else the user wrote (comments, other tables) stays as it was.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from smtop.models.insights import SavedQuery

ENV_VAR = "SMTOP_CONFIG"


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


def load_queries(path: Path) -> ConfigQueries:
    """Read the ``[[queries]]`` tables of ``path``; never raises for a bad file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigQueries(path)
    except (OSError, UnicodeDecodeError) as error:
        return ConfigQueries(path, problem=f"{path} could not be read ({error}); using the defaults.")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message ends "(at line N, column M)": the line is what the user needs.
        return ConfigQueries(path, problem=f"{path} is not valid TOML: {error}; using the defaults.")
    tables = document.get("queries", [])
    if not isinstance(tables, list):
        return ConfigQueries(path, problem=f"{path}: 'queries' must be an array of tables ([[queries]]); using the defaults.")
    queries = []
    skipped = []
    for number, table in enumerate(tables, start=1):
        query = _query_of(table)
        if query is None:
            skipped.append(str(number))
        else:
            queries.append(query)
    problem = None
    if skipped:
        problem = f"{path}: [[queries]] number {', '.join(skipped)} skipped: each needs a name and a query (strings)."
    return ConfigQueries(path, tuple(queries), problem)


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
