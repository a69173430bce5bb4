"""CloudWatch Logs for the log panel: the tail of a group, and the groups to choose from.

- ``tail``: :class:`LogTail`, which ties the parts below together.
- ``cursor``: :class:`~smtop.aws.logs.cursor.TailCursor`, the one memory of
  what was shown (pure, no I/O).
- ``feed``: the events accepted and not yet handed on, and the failure run.
- ``polling``: FilterLogEvents pages, the initial fill, retrying.
- ``live``: StartLiveTail sessions, their renewal, the gate, retrying them.
- ``groups``: :func:`list_log_groups`.
"""

from smtop.aws.logs.groups import list_log_groups
from smtop.aws.logs.tail import LogTail

__all__ = ["LogTail", "list_log_groups"]
