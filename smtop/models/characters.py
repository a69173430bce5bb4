"""Characters that text from AWS or from a person must not carry as they are.

The one definition for every place that cares:

- A terminal acts on the C0 and C1 control characters and DEL (ESC starts
  ANSI and OSC sequences, BEL and BS rewrite the line): the console's text
  boxes drop them as they arrive (:func:`without_controls`).
- Bidi overrides and zero-width marks silently reorder or hide what a person
  reads: with the controls they are :data:`INVISIBLE`, which
  ``smtop.format.printable`` shows as escapes.
- AWS refuses ASCII control characters (C0 and DEL) in names: PutMetricAlarm's
  AlarmName "can't contain ASCII control characters" (CloudWatch API
  reference, PutMetricAlarm) (:func:`has_ascii_control`).
"""

from __future__ import annotations

ASCII_CONTROLS = frozenset((*range(0x00, 0x20), 0x7F))
"""C0 and DEL: what AWS calls ASCII control characters."""
CONTROLS = ASCII_CONTROLS | frozenset(range(0x80, 0xA0))
"""C0, DEL and C1: every control character a terminal may act on."""
INVISIBLE = CONTROLS | frozenset(
    (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0xFEFF)
)
"""The controls, plus zero-width marks and bidi embeddings, overrides and isolates."""

_DROP_CONTROLS = dict.fromkeys(CONTROLS)


def has_ascii_control(text: str) -> bool:
    """Whether ``text`` holds a character AWS refuses in a name (C0 or DEL)."""
    return not ASCII_CONTROLS.isdisjoint(map(ord, text))


def without_controls(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1) dropped: for what a person types or pastes."""
    return text.translate(_DROP_CONTROLS)
