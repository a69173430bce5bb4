"""Names as people type and read them.

- How a typed pattern selects endpoint names: the ``--endpoints`` option and
  the table's filter read a pattern the same way (:func:`matches`).
- Who is behind an IAM or STS ARN, as teammates say it: the alarms panel's
  "acked by", the CloudTrail feed (:func:`principal_name`).
"""

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


def principal_name(arn: str) -> str:
    """The person (or role session) behind an IAM or STS ARN: its last path segment.

    The shapes are those of the IAM User Guide's "IAM identifiers" page: a
    user is ``arn:aws:iam::<account>:user/<path>/<name>``, a role session
    ``arn:aws:sts::<account>:assumed-role/<role>/<session name>``, the session
    name being what the person who assumed the role chose to be known by.  A
    resource without a path (``root``), or text that is no ARN, stays whole.

    Example:
        >>> principal_name("arn:aws:sts::123456789012:assumed-role/OnCall/alice")
        'alice'
    """
    resource = arn.rsplit(":", 1)[-1]
    return resource.rsplit("/", 1)[-1]
