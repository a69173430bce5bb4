"""Where the console looks: the AWS profile and region it can switch to (key P)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SwitchChoices:
    """What the switcher offers: the profiles of the AWS config files and the
    regions SageMaker serves (botocore's endpoint data; any other can be typed)."""

    profiles: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SwitchTarget:
    """A profile and region to open a new data source for.

    ``region`` None means the profile's own region (or AWS_REGION).
    ``mfa_code``: the code the console's dialog asked for, when the profile's
    role needs one (used once, never shown)."""

    profile: str | None
    region: str | None
    mfa_code: str | None = field(default=None, repr=False, compare=False)
