"""What the CloudTrail event screen looks like: a failed call, fixed data.

Regenerate after an intended visual change with
`pytest tests/ui/test_trail_snapshot.py --snapshot-update` and review the SVG.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from textual.app import App

from smtop.models.cloudtrail import TrailEvent
from smtop.ui.app import SmtopApp
from smtop.ui.screens.trail_event import TrailEventScreen

RECORD = {
    "eventVersion": "1.09",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDA20B67966164850DFA",
        "arn": "arn:aws:iam::123456789012:user/bob",
        "accountId": "123456789012",
        "accessKeyId": "AKIA5BOBEXAMPLE00002",
        "userName": "bob",
    },
    "eventTime": "2026-11-18T10:51:49Z",
    "eventSource": "sagemaker.amazonaws.com",
    "eventName": "UpdateEndpoint",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "198.51.100.77",
    "errorCode": "ValidationException",
    "errorMessage": "Could not find endpoint configuration 'doc-summarizer-config-v3'.",
    "requestParameters": {"endpointName": "doc-summarizer", "endpointConfigName": "doc-summarizer-config-v3"},
    "responseElements": None,
    "eventID": "3f0c2a56-8a1e-4a55-9d0e-6f1f3c1b2e7d",
    "readOnly": False,
    "eventType": "AwsApiCall",
}


class EventApp(App):
    CSS_PATH = SmtopApp.CSS_PATH

    def on_mount(self) -> None:
        event = TrailEvent(
            event_id=RECORD["eventID"], name="UpdateEndpoint", source="sagemaker.amazonaws.com",
            time=datetime(2026, 11, 18, 10, 51, 49, tzinfo=timezone.utc), who="bob", resource="doc-summarizer",
            endpoints=frozenset({"doc-summarizer"}), source_ip="198.51.100.77", error_code="ValidationException",
            error_message=RECORD["errorMessage"], raw=json.dumps(RECORD),
        )
        self.push_screen(TrailEventScreen(event))


def test_trail_event_screen(snap_compare):
    assert snap_compare(EventApp(), terminal_size=(100, 34))
