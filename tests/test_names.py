import pytest

from smtop.models.names import matches, principal_name


@pytest.mark.parametrize(
    ("pattern", "name", "selected"),
    [
        ("", "anything", True),
        ("prod", "fraud-prod-1", True),
        ("Prod", "fraud-prod-1", True),
        ("PROD", "Fraud-Prod-1", True),
        ("llm", "fraud-prod-1", False),
        ("fraud-*", "fraud-prod", True),
        ("FRAUD-*", "Fraud-Prod", True),
        ("fraud-*", "my-fraud-prod", False),  # a glob matches the whole name
        ("*prod*", "my-fraud-prod-2", True),
        ("ep-?", "ep-1", True),
        ("ep-?", "ep-12", False),
        ("ep-[12]", "ep-3", False),
        ("ep-[12]", "EP-2", True),
    ],
)
def test_matches(pattern, name, selected):
    assert matches(pattern, name) is selected


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:sts::123456789012:assumed-role/OnCall/alice", "alice"),
        ("arn:aws:sts::123456789012:assumed-role/OnCall/alice@example.com", "alice@example.com"),
        ("arn:aws:iam::123456789012:user/bob", "bob"),
        ("arn:aws:iam::123456789012:user/ops/oncall/bob", "bob"),  # a user with a path
        ("arn:aws:iam::123456789012:root", "root"),
        ("arn:aws-cn:iam::123456789012:user/carol", "carol"),
        ("carol", "carol"),  # no ARN: as it is
        ("", ""),
    ],
)
def test_principal_name(arn, name):
    assert principal_name(arn) == name
