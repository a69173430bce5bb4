"""CloudTrail events as the console shows them: who changed what, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KEY_EVENTS = frozenset(
    {"CreateEndpoint", "DeleteEndpoint", "UpdateEndpoint", "CreateTrainingJob", "UpdateEndpointWeightsAndCapacities"}
)
"""The seed's key events: highlighted in the feed."""

DEPLOYMENT_EVENTS = frozenset({"CreateEndpoint", "UpdateEndpoint", "UpdateEndpointWeightsAndCapacities"})
"""Events that change what an endpoint serves: marked on its metric charts."""


@dataclass(frozen=True, slots=True)
class TrailEvent:
    """One CloudTrail management event (LookupEvents), reduced to what a person reads.

    Attributes:
        event_id: CloudTrail's EventId (unique; the feed dedupes on it).
        name: The API call, e.g. ``UpdateEndpoint``.
        source: The service, e.g. ``sagemaker.amazonaws.com``.
        time: When the call was made (UTC).
        who: The IAM user name, or the assumed role's session name.
        resource: The resource the call was about (endpoint first), or "".
        endpoints: Every endpoint name the event concerns (for the filter).
        source_ip: Where the call came from.
        error_code: Set when the call failed (AccessDenied, ValidationException…).
        error_message: The error's message, if any.
        raw: The whole CloudTrail event as JSON text (untrusted).
        read_only: A read (Describe*, List*, Get*...): CloudTrail's ``ReadOnly``.
    """

    event_id: str
    name: str
    source: str
    time: datetime
    who: str
    resource: str = ""
    endpoints: frozenset[str] = frozenset()
    source_ip: str = ""
    error_code: str | None = None
    error_message: str | None = None
    raw: str = "{}"
    read_only: bool = False

    @property
    def is_key(self) -> bool:
        return self.name in KEY_EVENTS

    @property
    def is_deployment(self) -> bool:
        """A change to what an endpoint serves that went through (failed calls changed nothing)."""
        return self.name in DEPLOYMENT_EVENTS and not self.error_code

    def concerns(self, endpoint: str | None) -> bool:
        """Whether the event is about ``endpoint`` (None: every event is)."""
        return endpoint is None or endpoint in self.endpoints


@dataclass(frozen=True, slots=True)
class TrailSnapshot:
    """The feed after a poll: recent events, newest first, and how the poll went.

    Attributes:
        events: Newest first, no two with the same event id.
        added: How many of them this poll found for the first time.
        requests: LookupEvents requests this poll made (pages and retries).
        complete_since: When the feed does not hold every event of its window
            (its first fill is still being read, a page at a time, or it keeps
            no more events), the moment back to which it does; ``None`` when it
            covers the whole window.
    """

    events: tuple[TrailEvent, ...] = ()
    added: int = 0
    requests: int = 0
    complete_since: datetime | None = None

    def deployments(self, endpoint: str) -> tuple[TrailEvent, ...]:
        """The endpoint's successful deployments, oldest first (for chart markers)."""
        return tuple(e for e in reversed(self.events) if e.is_deployment and endpoint in e.endpoints)
