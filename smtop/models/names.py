"""How a typed pattern selects endpoint names: the ``--endpoints`` option and
the table's filter read a pattern the same way."""

from __future__ import annotations

import fnmatch

_GLOB_CHARS = frozenset("*?[")


def matches(pattern: str, name: str) -> bool:
    """Whether ``name`` is selected by ``pattern``, ignoring case.

    A pattern with glob characters (``*``, ``?``, ``[``) is a glob on the
    whole name; anything else is a substring.  The empty pattern selects
    every name.

    Example:
        >>> matches("prod", "Fraud-Prod-1"), matches("fraud-*", "my-fraud-prod")
        (True, False)
    """
    pattern, name = pattern.lower(), name.lower()
    if _GLOB_CHARS.intersection(pattern):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name
