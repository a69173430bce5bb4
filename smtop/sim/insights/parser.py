"""Insights query text → a small AST, with the service's error messages.

The grammar (``insights.lark``) is LALR so a query parses in one pass with
lark's contextual lexer; this module turns lark's tree into frozen nodes the
evaluator walks, and lark's syntax errors into :class:`QuerySyntaxError`
whose message reads like the service's MalformedQueryException
("mismatched input 'x' expecting {K_FILTER, ...}"), so a user who learns to
read one reads the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

AGGREGATES = frozenset({"count", "count_distinct", "sum", "avg", "min", "max", "pct", "percentile"})
SCALARS = frozenset({"bin", "ispresent", "coalesce", "strlen", "tolower", "toupper", "abs", "floor", "ceil"})
DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class QuerySyntaxError(Exception):
    """The query cannot run; ``str()`` is the service-style message, ``offset`` where it went wrong."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple
    text: str


@dataclass(frozen=True)
class Star:
    """The ``*`` of ``count(*)``."""


@dataclass(frozen=True)
class Duration:
    ms: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Logic:
    op: str  # "and" | "or"
    items: tuple


@dataclass(frozen=True)
class Not:
    expr: Any


@dataclass(frozen=True)
class Like:
    expr: Any
    pattern: re.Pattern | str  # a str is a substring match
    negate: bool = False


@dataclass(frozen=True)
class Member:
    expr: Any
    values: tuple
    negate: bool = False


@dataclass(frozen=True)
class Item:
    """One ``expr [as name]`` of fields/stats/by; ``name`` defaults to the text as written."""

    expr: Any
    name: str


@dataclass(frozen=True)
class FieldsCmd:
    items: tuple[Item, ...]


@dataclass(frozen=True)
class DisplayCmd:
    names: tuple[str, ...]


@dataclass(frozen=True)
class FilterCmd:
    expr: Any


@dataclass(frozen=True)
class ParseCmd:
    source: str
    regex: re.Pattern
    names: tuple[str, ...]


@dataclass(frozen=True)
class StatsCmd:
    aggregates: tuple[Item, ...]
    groups: tuple[Item, ...]


@dataclass(frozen=True)
class SortCmd:
    keys: tuple[tuple[str, bool], ...]  # (field, descending)


@dataclass(frozen=True)
class LimitCmd:
    count: int


@dataclass(frozen=True)
class DedupCmd:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    commands: tuple


# --------------------------------------------------------------------------- lark → nodes


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "insights.lark").read_text()
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


def regex_literal(token: str) -> re.Pattern:
    """``/…/`` or ``/…/i`` in Insights (Java) syntax → a compiled Python pattern."""
    body, _, flags = token[1:].rpartition("/")
    body = body.replace(r"\/", "/")
    body = re.sub(r"\(\?<([A-Za-z][A-Za-z0-9_]*)>", r"(?P<\1>", body)  # Java named groups
    try:
        return re.compile(body, re.IGNORECASE if "i" in flags else 0)
    except re.error as error:
        raise QuerySyntaxError(f"Invalid regular expression {token}: {error}") from None


def _glob(pattern: str) -> re.Pattern:
    # Each * captures as little as it can, except a trailing one, which takes the rest.
    parts = pattern.split("*")
    captures = ["(.*?)"] * (len(parts) - 1)
    if pattern.endswith("*") and captures:
        captures[-1] = "(.*)"
    body = "".join(re.escape(part) + (captures[i] if i < len(captures) else "") for i, part in enumerate(parts))
    return re.compile(body, re.DOTALL)


def _unquote(token: str) -> str:
    inner = token[1:-1]
    return re.sub(r"\\(.)", r"\1", inner)


def _name(token: str) -> str:
    return token[1:-1] if token.startswith("`") else str(token)


class _ToNodes(Transformer):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def _source(self, meta) -> str:
        return self.text[meta.start_pos : meta.end_pos]

    # -- commands
    def start(self, commands):
        return Query(tuple(commands))

    def fields_cmd(self, items):
        return FieldsCmd(tuple(i for i in items if isinstance(i, Item)))

    @v_args(meta=True)
    def field_item(self, meta, children):
        return self._item(meta, children)

    @v_args(meta=True)
    def group_item(self, meta, children):
        return self._item(meta, children)

    @v_args(meta=True)
    def stat_item(self, meta, children):
        item = self._item(meta, children)
        if item.expr.name not in AGGREGATES:
            raise QuerySyntaxError(f"{item.expr.name} is not a stats function; use one of {', '.join(sorted(AGGREGATES))}", meta.start_pos)
        return item

    def _item(self, meta, children) -> Item:
        expr = children[0]
        alias = children[2] if len(children) > 2 else None
        return Item(expr, alias or self._source(meta).strip())

    def display_cmd(self, children):
        return DisplayCmd(tuple(c for c in children if isinstance(c, str) and not isinstance(c, Token)))

    def filter_cmd(self, children):
        return FilterCmd(children[1])

    def parse_cmd(self, children):
        source = children[1]
        pattern = children[2]
        if pattern.type == "REGEX":
            regex = regex_literal(pattern)
            names = tuple(regex.groupindex)
            if not names:
                raise QuerySyntaxError("parse with a regular expression needs named groups: (?<name>...)", pattern.start_pos)
            return ParseCmd(source, regex, names)
        names = tuple(c for c in children[4:] if not isinstance(c, Token))
        regex = _glob(_unquote(pattern))
        if regex.groups != len(names):
            raise QuerySyntaxError(
                f"parse pattern has {regex.groups} wildcards but {len(names)} field names", pattern.start_pos
            )
        return ParseCmd(source, regex, names)

    def stats_cmd(self, children):
        aggregates = tuple(c for c in children if isinstance(c, Item) and isinstance(c.expr, Call) and c.expr.name in AGGREGATES)
        by = next((i for i, c in enumerate(children) if isinstance(c, Token) and c.type == "K_BY"), len(children))
        groups = tuple(c for c in children[by:] if isinstance(c, Item))
        return StatsCmd(tuple(a for a in aggregates if children.index(a) < by), groups)

    def sort_cmd(self, children):
        return SortCmd(tuple(c for c in children if isinstance(c, tuple)))

    def sort_item(self, children):
        descending = len(children) > 1 and children[1].type == "K_DESC"
        return (children[0], descending)

    def limit_cmd(self, children):
        token = children[1]
        if not token.isdigit() or int(token) < 1:
            raise QuerySyntaxError(f"limit needs a positive whole number, not {token}", token.start_pos)
        return LimitCmd(int(token))

    def dedup_cmd(self, children):
        return DedupCmd(tuple(c for c in children if not isinstance(c, Token)))

    # -- expressions
    def name(self, children):
        return _name(children[0])

    def field(self, children):
        return Field(children[0])

    def string(self, children):
        return Literal(_unquote(children[0]))

    def number(self, children):
        text = str(children[0])
        return Literal(float(text) if any(c in text for c in ".eE") else int(text))

    def star(self, _children):
        return Star()

    def duration(self, children):
        text = str(children[0])
        number, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d|w)", text).groups()
        return Duration(int(number) * DURATION_MS[unit])

    @v_args(meta=True)
    def call(self, meta, children):
        name = str(children[0]).lower()
        if name not in AGGREGATES | SCALARS:
            raise QuerySyntaxError(f"Unknown function: {children[0]}", meta.start_pos)
        return Call(name, tuple(children[1:]), self._source(meta).strip())

    def pattern(self, children):
        token = children[0]
        return regex_literal(token) if token.type == "REGEX" else _unquote(token)

    def list(self, children):
        return tuple(c.value for c in children if isinstance(c, Literal))

    def compare(self, children):
        return Binary(str(children[1]), children[0], children[2])

    def sum(self, children):
        return self._chain(children)

    def product(self, children):
        return self._chain(children)

    def _chain(self, children):
        node = children[0]
        for op, right in zip(children[1::2], children[2::2]):
            node = Binary(str(op), node, right)
        return node

    def neg(self, children):
        return Binary("-", Literal(0), children[0])

    def or_expr(self, children):
        return Logic("or", tuple(c for c in children if not isinstance(c, Token)))

    def and_expr(self, children):
        return Logic("and", tuple(c for c in children if not isinstance(c, Token)))

    def negation(self, children):
        return Not(children[1])

    def like(self, children):
        return Like(children[0], children[2])

    def not_like(self, children):
        return Like(children[0], children[3], negate=True)

    def matches(self, children):
        return Like(children[0], regex_literal(children[2]))

    def member(self, children):
        return Member(children[0], children[2])

    def not_member(self, children):
        return Member(children[0], children[3], negate=True)


def parse_query(text: str) -> Query:
    """Parse an Insights query.

    Raises:
        QuerySyntaxError: with a MalformedQueryException-style message.
    """
    if not text.strip():
        raise QuerySyntaxError("Query string is empty; it needs at least one command such as fields or filter.")
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(error, text) from None
    try:
        return _ToNodes(text).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, QuerySyntaxError):
            raise _located(error.orig_exc, text) from None
        raise


def _located(error: QuerySyntaxError, text: str) -> QuerySyntaxError:
    """The error with the line and position of its offset, as the service says where."""
    before = text[: error.offset]
    line = before.count("\n") + 1
    column = error.offset - (before.rfind("\n") + 1) + 1
    return QuerySyntaxError(f"{error} at line {line} and position {column}", error.offset)


_PUNCTUATION = {"COMMA": "','", "VBAR": "'|'", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "MINUS": "'-'", "STAR": "'*'", "$END": "<EOF>"}


def _expected(names: set[str]) -> str:
    shown = sorted(_PUNCTUATION.get(n, n) for n in names if not n.startswith("__"))
    return "{" + ", ".join(shown) + "}"


def _where(text: str, error: UnexpectedInput) -> str:
    line = getattr(error, "line", None) or text[: error.pos_in_stream or 0].count("\n") + 1
    column = getattr(error, "column", None) or 1
    return f"at line {line} and position {column}"


def _syntax_error(error: UnexpectedInput, text: str) -> QuerySyntaxError:
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream]
        return QuerySyntaxError(f"token recognition error at: '{char}' {_where(text, error)}", error.pos_in_stream)
    if isinstance(error, UnexpectedEOF):
        return QuerySyntaxError(f"mismatched input '<EOF>' expecting {_expected(set(error.expected))}", len(text))
    if isinstance(error, UnexpectedToken):
        token = error.token
        shown = "<EOF>" if token.type == "$END" else str(token)
        offset = len(text) if token.type == "$END" else token.start_pos
        where = "at the end of the query" if token.type == "$END" else _where(text, error)
        return QuerySyntaxError(f"mismatched input '{shown}' expecting {_expected(set(error.expected))} {where}", offset)
    return QuerySyntaxError(str(error))
