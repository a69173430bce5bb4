"""The AWS data layer: aiobotocore in, ``smtop.models`` out, ``smtop.errors`` raised.

Plain async Python: no Textual, no simulator.  The UI and batch mode use
``AwsSession`` and ``FleetMonitor``; the other modules are their parts.
"""

from smtop.aws.errors import aws_errors, translate
from smtop.aws.fleet import FleetMonitor
from smtop.aws.session import AwsSession

__all__ = ["AwsSession", "FleetMonitor", "aws_errors", "translate"]
