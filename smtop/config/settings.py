"""What the command line decided, in one frozen value every layer can read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

DEFAULT_REFRESH = 60.0
DEMO_REFRESH = 5.0
DEFAULT_LIVE_TAIL_IDLE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Settings:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    refresh: float = DEFAULT_REFRESH
    read_only: bool = False
    endpoint_pattern: str | None = None
    window: timedelta = timedelta(hours=3)
    period: int = 60
    demo: bool = False
    config_path: str | None = None
    """--config: the config file (None: $SMTOP_CONFIG or the platform default, see smtop.config.file)."""
    theme: str | None = None
    """A Textual theme name (None: smtop's default, see smtop.ui.themes)."""
    glyphs: str = "auto"
    """How graphs are drawn: auto, braille, block or ascii."""
    log_since: timedelta = timedelta(minutes=15)
    """Where a log tail starts."""
    live_tail_idle: timedelta = DEFAULT_LIVE_TAIL_IDLE
    """Live Tail (billed per session-minute) pauses after this long without a key; 0: never Live Tail."""
    insights_range: timedelta = timedelta(hours=1)
    """The time range a Logs Insights query starts with."""
    keys: tuple[tuple[str, str], ...] = ()
    """Key overrides from the config file: (action, key)."""
    alarm_presets: tuple[Any, ...] = ()
    """The config file's alarm presets (smtop.config.file.AlarmPreset), shown after the built-in ones."""
    config_problems: tuple[str, ...] = ()
    """What was wrong with the config file (each names the file and line); the console shows them."""
    origins: tuple[tuple[str, str], ...] = ()
    """Where each setting came from ("command line", "config file line 3"); absent: the default."""

    def origin(self, name: str) -> str:
        """Where setting ``name`` came from, for --print-config."""
        return dict(self.origins).get(name, "default")

    @property
    def profile_label(self) -> str:
        return "demo" if self.demo else (self.profile or "default")
