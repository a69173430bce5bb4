import pytest

from smtop.models.names import matches


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
