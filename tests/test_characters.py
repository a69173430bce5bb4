"""The one definition of the characters untrusted text may not carry as they are."""

from __future__ import annotations

import pytest

from smtop.format import printable
from smtop.models.characters import has_ascii_control, without_controls


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("fraud-prod p99 > 500 ms", False),
        ("bad\x1bname", True),  # ESC
        ("tab\tname", True),
        ("del\x7fname", True),
        ("nel\x85name", False),  # C1 is not ASCII: AWS's rule names ASCII control characters only
        ("café ⚠ 警報", False),
    ],
)
def test_names_refuse_ascii_control_characters(text, refused):
    assert has_ascii_control(text) is refused


def test_typed_text_loses_every_control_character_and_nothing_else():
    typed = "a\x1b]0;pwned\x07b\x9b31mc\x7fd\t\u202eé"
    assert without_controls(typed) == "a]0;pwnedb31mcd\u202eé"


def test_what_a_terminal_acts_on_or_hides_is_shown_as_an_escape():
    assert printable("a\x1bb\x9bc\u202ed\u200be\tf") == "a\\x1bb\\x9bc\\u202ed\\u200be    f"
