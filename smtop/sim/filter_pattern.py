"""CloudWatch Logs filter patterns, as FilterLogEvents (and Live Tail) apply them.

moto 5.2.5 understands only a bare word or one quoted phrase: it returns
every event for a JSON or space-delimited pattern and reads ``?ERROR ?WARN``
as two required words.  This module parses the three pattern families the
service defines and answers "does this message match?":

- **Unstructured terms** — ``ERROR Exception`` (every term), ``?ERROR ?WARN``
  (any of them), ``ERROR -healthcheck`` (exclusions; a pattern of only
  exclusions matches what contains none), ``"exact phrase"`` and ``%regex%``.
  Matching is case-sensitive.  A bare term matches whole words: the service
  tokenizes messages at non-alphanumeric characters, so ``ERROR`` finds
  ``[ERROR]`` and ``CUDA_ERROR`` but not ``ERRORS``; a quoted phrase matches
  wherever its text occurs.  Terms with characters other than letters,
  digits and ``_ - . : /`` must be quoted, as the service requires.
- **JSON** — ``{ $.level = "ERROR" && ($.latency_ms > 1000 || $.status >= 500) }``:
  property selectors with nested fields and array indexes (``$.a.b[0].c``),
  ``= != < > <= >=``, ``*`` wildcards in string values, ``%regex%`` values,
  ``IS NULL``, ``IS TRUE``, ``IS FALSE``, ``EXISTS``, ``NOT EXISTS``,
  ``&&``, ``||`` and parentheses.  Only messages that are one JSON value match.
- **Space-delimited** — ``[ip, user, ..., status_code = 5*, bytes > 1000]``:
  named fields by position, ``...`` for any number of fields, comparisons
  (chained with ``&&``/``||`` on the same field).  A message's fields are
  separated by spaces; text in ``"…"`` or ``[…]`` is one field.

Regexes follow the service's subset: letters, digits, ``_ # = @ / ; , - :``
and the operators ``^ $ ? [ ] { } | \\ * + .``; no parentheses and at most
two regexes per pattern.  Not supported: ``IN``/``NOT IN`` lists, ``$.*``
selectors, and metric-filter dimensions.

An invalid pattern raises :class:`FilterPatternError` carrying the message
the service would return; the handler turns it into InvalidParameterException.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

INVALID = "Invalid filter pattern"
MAX_REGEXES = 2

_MISSING = object()
"""A selector that found nothing (distinct from JSON ``null``)."""


class FilterPatternError(ValueError):
    """The pattern is not valid; ``str(error)`` is the service's message."""


Matcher = Callable[[str], bool]


def compile_filter_pattern(pattern: str | None) -> Matcher:
    """The predicate a message must satisfy for ``pattern`` (cached per pattern).

    Raises:
        FilterPatternError: The pattern is invalid.
    """
    return _compile((pattern or "").strip())


def matches(pattern: str | None, message: str) -> bool:
    """Whether ``message`` matches ``pattern`` (a convenience for tests and tools)."""
    return compile_filter_pattern(pattern)(message)


@lru_cache(maxsize=512)
def _compile(pattern: str) -> Matcher:
    if not pattern:
        return _match_all
    if pattern.startswith("{"):
        if not pattern.endswith("}"):
            raise FilterPatternError("If a filter pattern starts with '{' it must end with '}'")
        return _JsonParser(pattern[1:-1]).parse()
    if pattern.startswith("["):
        if not pattern.endswith("]"):
            raise FilterPatternError("If a filter pattern starts with '[' it must end with ']'")
        return _DelimitedParser(pattern[1:-1]).parse()
    return _compile_terms(pattern)


def _match_all(message: str) -> bool:
    return True


# --------------------------------------------------------------------------- regex

_REGEX_ALLOWED = re.compile(r"[A-Za-z0-9_#=@/;,\-:^$?\[\]{}|\\*+. ]*")


def _compile_regex(body: str) -> re.Pattern[str]:
    """A ``%…%`` body in the service's regex subset, compiled for :func:`re.search`."""
    if not body or not body.isascii() or not _REGEX_ALLOWED.fullmatch(body):
        raise FilterPatternError(INVALID)
    try:
        return re.compile(body)
    except re.error:
        raise FilterPatternError(INVALID) from None


class _RegexBudget:
    def __init__(self) -> None:
        self.used = 0

    def take(self) -> None:
        self.used += 1
        if self.used > MAX_REGEXES:
            raise FilterPatternError(INVALID)


# --------------------------------------------------------------------------- unstructured terms

_BARE_TERM = re.compile(r"[A-Za-z0-9_.\-:/]+")


def _word_search(term: str) -> Callable[[str], bool]:
    # Boundaries only where the term itself starts/ends with an alphanumeric:
    # "ERROR" must not match inside "ERRORS", while "/invocations" may follow anything.
    head = r"(?<![A-Za-z0-9])" if term[0].isalnum() else ""
    tail = r"(?![A-Za-z0-9])" if term[-1].isalnum() else ""
    search = re.compile(head + re.escape(term) + tail).search
    return lambda message: search(message) is not None


def _phrase_search(phrase: str) -> Callable[[str], bool]:
    return lambda message: phrase in message


def _compile_terms(pattern: str) -> Matcher:
    required: list[Callable[[str], bool]] = []
    optional: list[Callable[[str], bool]] = []
    excluded: list[Callable[[str], bool]] = []
    budget = _RegexBudget()
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i].isspace():
            i += 1
            continue
        bucket = required
        start = i
        if pattern[i] in "?-":
            bucket = optional if pattern[i] == "?" else excluded
            i += 1
        if i < n and pattern[i] == '"':
            text, i = _read_quoted(pattern, i)
            if not text:
                raise FilterPatternError(INVALID)
            test = _phrase_search(text)
        elif i < n and pattern[i] == "%":
            end = pattern.find("%", i + 1)
            if end < 0:
                raise FilterPatternError(INVALID)
            budget.take()
            search = _compile_regex(pattern[i + 1 : end]).search
            test = lambda message, search=search: search(message) is not None  # noqa: E731
            i = end + 1
        else:
            end = i
            while end < n and not pattern[end].isspace():
                end += 1
            term = pattern[i:end]
            if not term or not _BARE_TERM.fullmatch(term):
                raise FilterPatternError(f"Invalid character(s) in term '{pattern[start:end]}'")
            test = _word_search(term)
            i = end
        if i < n and not pattern[i].isspace():
            raise FilterPatternError(INVALID)
        bucket.append(test)

    def match(message: str) -> bool:
        for test in excluded:
            if test(message):
                return False
        for test in required:
            if not test(message):
                return False
        if optional:
            return any(test(message) for test in optional)
        return True

    return match


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """The contents of the double-quoted string at ``text[i]`` and the index after it."""
    out: list[str] = []
    i += 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise FilterPatternError(INVALID)


# --------------------------------------------------------------------------- values and comparisons

_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True, slots=True)
class _Value:
    """The right-hand side of a comparison."""

    text: str
    number: float | None = None
    glob: re.Pattern[str] | None = None
    regex: re.Pattern[str] | None = None


def _glob(text: str) -> re.Pattern[str] | None:
    if "*" not in text:
        return None
    return re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return float(value)
    return None


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value))
    return str(value)


def _equals(actual: Any, value: _Value) -> bool:
    if value.regex is not None:
        text = _as_text(actual)
        return text is not None and value.regex.search(text) is not None
    if value.number is not None:
        number = _as_number(actual)
        if number is not None:
            return number == value.number
    text = _as_text(actual)
    if text is None:
        return False
    if value.glob is not None:
        return value.glob.fullmatch(text) is not None
    return text == value.text


_ORDER = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _comparison(op: str, value: _Value) -> Callable[[Any], bool]:
    """A test of one extracted value (``_MISSING`` when absent) against ``op value``."""
    if op == "=":
        return lambda actual: actual is not _MISSING and _equals(actual, value)
    if op == "!=":
        return lambda actual: actual is not _MISSING and actual is not None and not _equals(actual, value)
    if value.number is None:
        raise FilterPatternError(INVALID)  # < > <= >= need a number
    order, bound = _ORDER[op], value.number

    def compare(actual: Any) -> bool:
        number = _as_number(actual)
        return number is not None and order(number, bound)

    return compare


# --------------------------------------------------------------------------- lexer (JSON and space-delimited)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ellipsis>\.\.\.)
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<and>&&)
  | (?P<or>\|\|)
  | (?P<punct>[(){}\[\],])
  | (?P<selector>\$(?:\.[A-Za-z0-9_\-@:]+|\[\d+\])*)
  | (?P<regex>%[^%]*%)
  | (?P<string>")
  | (?P<word>[^\s(){}\[\],"%&|=!<>]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        found = _TOKEN.match(text, i)
        if found is None:
            raise FilterPatternError(INVALID)
        kind = found.lastgroup or ""
        if kind == "string":
            value, i = _read_quoted(text, i)
            tokens.append(_Token("string", value))
            continue
        i = found.end()
        if kind != "space":
            tokens.append(_Token(kind, found.group()))
    return tokens


class _TokenParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.regexes = _RegexBudget()

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterPatternError(INVALID)
        self.pos += 1
        return token

    def expect(self, kind: str, text: str | None = None) -> _Token:
        token = self.next()
        if token.kind != kind or (text is not None and token.text != text):
            raise FilterPatternError(INVALID)
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        return token is not None and token.kind == kind and (text is None or token.text == text)

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.upper() in words

    def value(self) -> _Value:
        token = self.next()
        if token.kind == "regex":
            self.regexes.take()
            return _Value(token.text, regex=_compile_regex(token.text[1:-1]))
        if token.kind == "string":
            return _Value(token.text, glob=_glob(token.text))
        if token.kind == "word":
            number = float(token.text) if _NUMBER.fullmatch(token.text) else None
            return _Value(token.text, number=number, glob=_glob(token.text))
        raise FilterPatternError(INVALID)

    def done(self) -> None:
        if self.peek() is not None:
            raise FilterPatternError(INVALID)


# --------------------------------------------------------------------------- JSON patterns

Path = tuple[str | int, ...]


def _parse_selector(text: str) -> Path:
    parts: list[str | int] = []
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", text[1:]):
        parts.append(int(index) if index else name)
    if not parts:
        raise FilterPatternError(INVALID)
    return tuple(parts)


def _select(document: Any, path: Path) -> Any:
    node = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return _MISSING
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                return _MISSING
            node = node[part]
    return node


JsonTest = Callable[[Any], bool]


class _JsonParser(_TokenParser):
    """``or := and ('||' and)* ; and := atom ('&&' atom)* ; atom := '(' or ')' | condition``."""

    def parse(self) -> Matcher:
        test = self.disjunction()
        self.done()

        def match(message: str) -> bool:
            stripped = message.lstrip()
            if not stripped or stripped[0] not in "{[":
                return False
            try:
                document = json.loads(message)
            except ValueError:
                return False
            return test(document)

        return match

    def disjunction(self) -> JsonTest:
        tests = [self.conjunction()]
        while self.at("or"):
            self.next()
            tests.append(self.conjunction())
        return tests[0] if len(tests) == 1 else (lambda doc: any(t(doc) for t in tests))

    def conjunction(self) -> JsonTest:
        tests = [self.atom()]
        while self.at("and"):
            self.next()
            tests.append(self.atom())
        return tests[0] if len(tests) == 1 else (lambda doc: all(t(doc) for t in tests))

    def atom(self) -> JsonTest:
        if self.at("punct", "("):
            self.next()
            test = self.disjunction()
            self.expect("punct", ")")
            return test
        path = _parse_selector(self.expect("selector").text)
        if self.at_word("IS"):
            self.next()
            word = self.expect("word").text.upper()
            wanted = {"NULL": None, "TRUE": True, "FALSE": False}
            if word not in wanted:
                raise FilterPatternError(INVALID)
            target = wanted[word]
            return lambda doc: (value := _select(doc, path)) is not _MISSING and value is target
        if self.at_word("NOT"):
            self.next()
            if self.expect("word").text.upper() != "EXISTS":
                raise FilterPatternError(INVALID)
            return lambda doc: _select(doc, path) is _MISSING
        if self.at_word("EXISTS"):
            self.next()
            return lambda doc: _select(doc, path) is not _MISSING
        op = self.expect("op").text
        compare = _comparison(op, self.value())
        return lambda doc: compare(_select(doc, path))


# --------------------------------------------------------------------------- space-delimited patterns

_ELLIPSIS = None
_FIELD_SPLIT = re.compile(r'"(?P<quoted>[^"]*)"|\[(?P<bracketed>[^\]]*)\]|(?P<word>\S+)')


def split_fields(message: str) -> list[str]:
    """A message's space-delimited fields; ``"…"`` and ``[…]`` enclose one field each."""
    return [found.group(found.lastgroup or 0) for found in _FIELD_SPLIT.finditer(message)]


FieldTest = Callable[[str], bool]


class _DelimitedParser(_TokenParser):
    def parse(self) -> Matcher:
        fields: list[FieldTest | None] = []
        if self.peek() is None:
            raise FilterPatternError(INVALID)
        while True:
            if self.at("ellipsis"):
                self.next()
                fields.append(_ELLIPSIS)
            else:
                fields.append(self.field())
            if self.peek() is None:
                break
            self.expect("punct", ",")
        pattern = tuple(fields)
        fixed = _ELLIPSIS not in pattern

        def match(message: str) -> bool:
            values = split_fields(message)
            if fixed and len(values) != len(pattern):
                return False
            return _match_fields(pattern, 0, values, 0)

        return match

    def field(self) -> FieldTest:
        name = self.expect("word").text
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise FilterPatternError(INVALID)
        if not self.at("op"):
            return lambda value: True
        return self.field_conditions(name)

    def field_conditions(self, name: str) -> FieldTest:
        # a = 1 || a = 2 && b … : '&&' binds tighter, as in JSON patterns.
        alternatives: list[list[FieldTest]] = [[self.condition()]]
        while self.at("and") or self.at("or"):
            joiner = self.next().kind
            if self.expect("word").text != name:
                raise FilterPatternError(INVALID)  # conditions may only test their own field
            test = self.condition()
            if joiner == "and":
                alternatives[-1].append(test)
            else:
                alternatives.append([test])
        return lambda value: any(all(t(value) for t in group) for group in alternatives)

    def condition(self) -> FieldTest:
        op = self.expect("op").text
        return _comparison(op, self.value())


def _match_fields(pattern: tuple[FieldTest | None, ...], p: int, values: list[str], v: int) -> bool:
    while p < len(pattern):
        test = pattern[p]
        if test is _ELLIPSIS:
            if p == len(pattern) - 1:
                return True
            return any(_match_fields(pattern, p + 1, values, k) for k in range(v, len(values) + 1))
        if v >= len(values) or not test(values[v]):
            return False
        p += 1
        v += 1
    return v == len(values)
