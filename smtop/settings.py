"""What the command line decided, in one frozen value every layer can read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

DEFAULT_REFRESH = 60.0
DEMO_REFRESH = 5.0


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
    """--config: the config file (None: $SMTOP_CONFIG or the platform default, see smtop.config)."""

    @property
    def profile_label(self) -> str:
        return "demo" if self.demo else (self.profile or "default")
