"""A composite alarm's AlarmRule: parse it, name its children, evaluate it.

The language, as the CloudWatch API reference (PutCompositeAlarm, AlarmRule)
defines it: the functions ``ALARM(name)``, ``OK(name)`` and
``INSUFFICIENT_DATA(name)``, true when the named alarm is in that state; the
constants ``TRUE`` and ``FALSE``; the operators ``AND``, ``OR`` and ``NOT``;
parentheses to group.  A child is named by its alarm name or its ARN, with or
without double quotes.  A rule names at most 100 children and has at most 500
elements (children, TRUE/FALSE and parentheses).

Precedence is NOT, then AND, then OR, as in the reference's examples
(``ALARM(A) AND NOT ALARM(B)``).  Keywords are read in any case: the
reference writes them in capitals and says nothing of others, and a reader
that refuses what the service might accept would hide an alarm.

Pure on purpose: the AWS layer lists a composite alarm's children with
:func:`children`, and the simulator evaluates rules with :func:`parse` and
:meth:`Rule.holds`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MAX_CHILDREN = 100
MAX_ELEMENTS = 500
MAX_LENGTH = 10240
"""AlarmRule's length limit in CloudWatch's API model."""

STATE_FUNCTIONS = ("ALARM", "OK", "INSUFFICIENT_DATA")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<function>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^()"]*?))\s*\)
      | (?P<word>AND|OR|NOT|TRUE|FALSE)(?![A-Za-z0-9_])
      | (?P<paren>[()])
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_ARN_NAME = re.compile(r"^arn:[^:]+:cloudwatch:[^:]*:[^:]*:alarm:(?P<name>.+)$")


class AlarmRuleError(ValueError):
    """A rule the service would refuse; the message says where it stops making sense."""


def alarm_name(reference: str) -> str:
    """The alarm a rule's reference names: the name itself, or the name inside its ARN."""
    match = _ARN_NAME.match(reference)
    return match.group("name") if match else reference


@dataclass(frozen=True, slots=True)
class StateIs:
    """``ALARM(x)``, ``OK(x)`` or ``INSUFFICIENT_DATA(x)``."""

    state: str
    alarm: str


@dataclass(frozen=True, slots=True)
class Constant:
    value: bool


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Both:
    """AND."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Either:
    """OR."""

    left: Node
    right: Node


Node = StateIs | Constant | Not | Both | Either


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed AlarmRule."""

    text: str
    root: Node
    children: tuple[str, ...]
    """The alarms it names (names, ARNs resolved), in the order they first appear."""

    def holds(self, state_of: Callable[[str], str | None]) -> bool:
        """Whether the rule is TRUE when each child is in ``state_of(name)`` (None: unknown)."""
        return _holds(self.root, state_of)


def _holds(node: Node, state_of: Callable[[str], str | None]) -> bool:
    if isinstance(node, StateIs):
        return state_of(node.alarm) == node.state
    if isinstance(node, Constant):
        return node.value
    if isinstance(node, Not):
        return not _holds(node.operand, state_of)
    if isinstance(node, Both):
        return _holds(node.left, state_of) and _holds(node.right, state_of)
    return _holds(node.left, state_of) or _holds(node.right, state_of)


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    """(kind, value, position): kind is a state function's name, a word, or a parenthesis."""
    position = 0
    while position < len(text):
        if not text[position:].strip():
            return
        start = len(text) - len(text[position:].lstrip())  # where the token itself begins
        match = _TOKEN.match(text, position)
        if match is None:
            raise AlarmRuleError(f"AlarmRule cannot be read at character {start + 1}: {text[start:start + 30]!r}.")
        if match.group("function"):
            name = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
            if not name.strip():
                raise AlarmRuleError(f"{match.group('function').upper()}() at character {start + 1} names no alarm.")
            yield match.group("function").upper(), alarm_name(name.strip()), start
        elif match.group("word"):
            yield match.group("word").upper(), "", start
        else:
            yield match.group("paren"), "", start
        position = match.end()


def parse(text: str) -> Rule:
    """Parse an AlarmRule; :class:`AlarmRuleError` says why one cannot be."""
    if not text or not text.strip():
        raise AlarmRuleError("AlarmRule is empty.")
    if len(text) > MAX_LENGTH:
        raise AlarmRuleError(f"AlarmRule is {len(text)} characters; at most {MAX_LENGTH}.")
    tokens = list(_tokens(text))
    elements = sum(1 for kind, _, _ in tokens if kind in STATE_FUNCTIONS or kind in ("TRUE", "FALSE", "(", ")"))
    if elements > MAX_ELEMENTS:
        raise AlarmRuleError(f"AlarmRule has {elements} elements; at most {MAX_ELEMENTS}.")
    children = tuple(dict.fromkeys(value for kind, value, _ in tokens if kind in STATE_FUNCTIONS))
    if len(children) > MAX_CHILDREN:
        raise AlarmRuleError(f"AlarmRule names {len(children)} alarms; at most {MAX_CHILDREN}.")
    parser = _Parser(tokens, text)
    root = parser.either()
    if parser.index < len(tokens):
        raise AlarmRuleError(f"AlarmRule has something unexpected at character {tokens[parser.index][2] + 1}.")
    return Rule(text, root, children)


def children(text: str) -> tuple[str, ...]:
    """The alarms a rule names, even where the rest of it cannot be parsed (shown, never evaluated)."""
    try:
        return parse(text).children
    except AlarmRuleError:
        found = re.finditer(r"(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:\"([^\"]*)\"|([^()\"]*?))\s*\)", text or "", re.IGNORECASE)
        return tuple(dict.fromkeys(alarm_name((m.group(1) if m.group(1) is not None else m.group(2)).strip()) for m in found))


class _Parser:
    """Recursive descent: either := both (OR both)*; both := unary (AND unary)*;
    unary := NOT unary | ( either ) | TRUE | FALSE | STATE(name)."""

    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.index = 0

    def _peek(self) -> str | None:
        return self.tokens[self.index][0] if self.index < len(self.tokens) else None

    def _where(self) -> str:
        if self.index < len(self.tokens):
            return f"at character {self.tokens[self.index][2] + 1}"
        return "at its end"

    def either(self) -> Node:
        node = self.both()
        while self._peek() == "OR":
            self.index += 1
            node = Either(node, self.both())
        return node

    def both(self) -> Node:
        node = self.unary()
        while self._peek() == "AND":
            self.index += 1
            node = Both(node, self.unary())
        return node

    def unary(self) -> Node:
        kind = self._peek()
        if kind is None:
            raise AlarmRuleError("AlarmRule ends where an alarm state, TRUE, FALSE or ( was expected.")
        kind, value, _ = self.tokens[self.index]
        if kind == "NOT":
            self.index += 1
            return Not(self.unary())
        if kind == "(":
            self.index += 1
            node = self.either()
            if self._peek() != ")":
                raise AlarmRuleError(f"AlarmRule misses a closing parenthesis {self._where()}.")
            self.index += 1
            return node
        if kind in ("TRUE", "FALSE"):
            self.index += 1
            return Constant(kind == "TRUE")
        if kind in STATE_FUNCTIONS:
            self.index += 1
            return StateIs(kind, value)
        raise AlarmRuleError(f"AlarmRule expects an alarm state, TRUE, FALSE or ( {self._where()}, not {kind}.")
