"""The console fixtures of tests/ui: a frozen clock, no AWS config of the developer's."""

from tests.ui.conftest import aws_environment, frozen_clock  # noqa: F401  (fixtures)
