"""argparse types for numbers within bounds, shared by `smtop` and `smtop sim`.

One place says what a bad number gets told: what was expected when the text is
not a number at all, the bounds when it is out of them.  NaN fails every
comparison, so it is refused as out of range.
"""

from __future__ import annotations

import argparse
from typing import Callable, TypeVar

N = TypeVar("N", int, float)


def bounded(convert: Callable[[str], N], low: N, high: N, *, what: str, name: str, low_inclusive: bool = True) -> Callable[[str], N]:
    """An argparse ``type=`` that converts with ``convert`` and checks ``low ≤ value ≤ high``.

    Args:
        convert: ``int`` or ``float``.
        low, high: the bounds (``low`` excluded when ``low_inclusive`` is False).
        what: what the text should have been, e.g. "a number of seconds".
        name: the option's name in the out-of-range message, e.g. "--refresh".
    """

    def parse(text: str) -> N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        above_low = low <= value if low_inclusive else low < value
        if not (above_low and value <= high):
            raise argparse.ArgumentTypeError(f"{name} must be between {low:g} and {high:g}, not {text}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse
