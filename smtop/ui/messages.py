"""Messages that carry data from workers to widgets (workers never touch widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from smtop.errors import SmtopError
from smtop.models import FleetSnapshot


@dataclass
class SnapshotReady(Message):
    """A refresh finished; every panel redraws from this one snapshot."""

    snapshot: FleetSnapshot


@dataclass
class RefreshFailed(Message):
    """A refresh failed; the data on screen is now stale."""

    error: SmtopError
