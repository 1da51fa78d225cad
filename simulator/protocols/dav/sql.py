"""Exchange 2003's SEARCH query language: a small SQL over item properties.

    SELECT "DAV:displayname", "urn:schemas:httpmail:subject"
    FROM SCOPE('shallow traversal of "/exchange/alice/Inbox/"')
    WHERE "DAV:ishidden" = false AND "urn:schemas:httpmail:datereceived" > CAST("2003-01-01T00:00:00Z" as 'dateTime')
    ORDER BY "urn:schemas:httpmail:datereceived" DESC

Grammar (what is accepted; anything else is a `SqlError`, answered 400 with the position):

    query     = SELECT ( "*" | prop *( "," prop ) ) FROM SCOPE "(" scope *( "," scope ) ")"
                [ WHERE expr ] [ ORDER BY prop [ASC | DESC] *( "," prop [ASC | DESC] ) ]
    scope     = "'" ( "shallow" | "deep" ) " traversal of " <"> url <"> "'"    (a bare SCOPE() is the request URI)
    expr      = term *( OR term ) ;  term = factor *( AND factor ) ;  factor = NOT factor | "(" expr ")" | test
    test      = operand op operand | prop [NOT] LIKE string | prop IS [NOT] NULL
    op        = "=" | "<>" | "!=" | "<" | ">" | "<=" | ">="
    operand   = prop | string | number | TRUE | FALSE | NULL | CAST "(" value AS type ")"
    prop      = <"> namespace-and-name <">          e.g. "urn:schemas:httpmail:subject"
    string    = "'" *( char | "''" ) "'"            (in CAST a double-quoted value is a string too, as Exchange wrote it)
    type      = 'dateTime' | 'dateTime.tz' | 'boolean' | 'int' | 'i4' | 'i8' | 'float' | 'r8' | 'string'

Keywords are case-insensitive. Comparisons of text are case-insensitive (Exchange's collation); a missing
property makes a test unknown, and unknown is not true (three-valued logic, so NOT unknown is unknown).
"""
from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str]
KEYWORDS = {"SELECT", "FROM", "WHERE", "ORDER", "BY", "ASC", "DESC", "AND", "OR", "NOT", "LIKE", "IS",
            "NULL", "TRUE", "FALSE", "CAST", "AS", "SCOPE"}
TYPES = {"datetime", "datetime.tz", "datetime.rfc1123", "boolean", "int", "i2", "i4", "i8", "float", "r4", "r8",
         "string"}


class SqlError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # "kw" | "prop" | "str" | "num" | "op" | "punct" | "end"
    text: str
    pos: int


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<prop>"(?:[^"]|"")*")
  | (?P<str>'(?:[^']|'')*')
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
""", re.VERBOSE)


def tokenize(text: str) -> list[Token]:
    tokens, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            raise SqlError(f"unexpected character {text[i]!r}", i)
        kind = m.lastgroup
        value = m.group()
        if kind == "prop":
            tokens.append(Token("prop", value[1:-1].replace('""', '"'), i))
        elif kind == "str":
            tokens.append(Token("str", value[1:-1].replace("''", "'"), i))
        elif kind == "word":
            if value.upper() not in KEYWORDS:
                raise SqlError(f"unknown word {value!r} (property names are written in double quotes)", i)
            tokens.append(Token("kw", value.upper(), i))
        elif kind != "ws":
            tokens.append(Token(kind, value, i))
        i = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def split_name(name: str) -> Key:
    """"urn:schemas:httpmail:subject" -> ("urn:schemas:httpmail:", "subject"): the namespace ends at the
    last ':', '/' or '#', as Exchange concatenated them."""
    cut = max(name.rfind(":"), name.rfind("/"), name.rfind("#"))
    if cut < 0 or cut == len(name) - 1:
        return "", name
    return name[:cut + 1], name[cut + 1:]


# --- the tree ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    url: str  # as written ("" for the request URI)
    deep: bool


@dataclass(frozen=True)
class Prop:
    key: Key


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Like:
    prop: Prop
    pattern: str
    negated: bool


@dataclass(frozen=True)
class IsNull:
    prop: Prop
    negated: bool


@dataclass(frozen=True)
class Not:
    inner: Any


@dataclass(frozen=True)
class And:
    left: Any
    right: Any


@dataclass(frozen=True)
class Or:
    left: Any
    right: Any


@dataclass(frozen=True)
class Query:
    select: list[Key] | None  # None: SELECT *
    scopes: list[Scope]
    where: Any
    order: list[tuple[Key, bool]]  # (property, descending)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        tok = self.tok
        if tok.kind == kind and (text is None or tok.text == text):
            self.i += 1
            return tok
        return None

    def need(self, kind: str, text: str | None = None, what: str | None = None) -> Token:
        tok = self.accept(kind, text)
        if tok is None:
            found = self.tok.text or "the end of the query"
            raise SqlError(f"expected {what or text or kind}, found {found!r}", self.tok.pos)
        return tok

    def query(self) -> Query:
        self.need("kw", "SELECT")
        select: list[Key] | None
        if self.accept("punct", "*"):
            select = None
        else:
            select = [self.prop_name()]
            while self.accept("punct", ","):
                select.append(self.prop_name())
        self.need("kw", "FROM")
        self.need("kw", "SCOPE")
        self.need("punct", "(")
        scopes: list[Scope] = []
        if not self.accept("punct", ")"):
            scopes.append(self.scope())
            while self.accept("punct", ","):
                scopes.append(self.scope())
            self.need("punct", ")")
        else:
            scopes.append(Scope("", False))
        where = None
        if self.accept("kw", "WHERE"):
            where = self.expr()
        order: list[tuple[Key, bool]] = []
        if self.accept("kw", "ORDER"):
            self.need("kw", "BY")
            while True:
                key = self.prop_name()
                desc = False
                if self.accept("kw", "DESC"):
                    desc = True
                else:
                    self.accept("kw", "ASC")
                order.append((key, desc))
                if not self.accept("punct", ","):
                    break
        self.need("end", what="the end of the query")
        return Query(select, scopes, where, order)

    def prop_name(self) -> Key:
        tok = self.need("prop", what='a property name in double quotes ("DAV:displayname")')
        if not tok.text:
            raise SqlError("empty property name", tok.pos)
        return split_name(tok.text)

    def scope(self) -> Scope:
        tok = self.need("str", what="a scope like 'shallow traversal of \"/exchange/alice/Inbox/\"'")
        m = re.fullmatch(r'\s*(shallow|deep)\s+traversal\s+of\s+"([^"]*)"\s*', tok.text, re.IGNORECASE)
        if m is None:
            m2 = re.fullmatch(r'\s*"([^"]*)"\s*', tok.text)
            if m2 is None:
                raise SqlError("a scope is 'shallow traversal of \"url\"' or 'deep traversal of \"url\"'", tok.pos)
            return Scope(m2.group(1), True)
        return Scope(m.group(2), m.group(1).lower() == "deep")

    def expr(self):
        node = self.term()
        while self.accept("kw", "OR"):
            node = Or(node, self.term())
        return node

    def term(self):
        node = self.factor()
        while self.accept("kw", "AND"):
            node = And(node, self.factor())
        return node

    def factor(self):
        if self.accept("kw", "NOT"):
            return Not(self.factor())
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.take()
            node = self.expr()
            self.need("punct", ")")
            return node
        return self.test()

    def test(self):
        left = self.operand()
        if isinstance(left, Prop):
            if self.accept("kw", "IS"):
                negated = bool(self.accept("kw", "NOT"))
                self.need("kw", "NULL")
                return IsNull(left, negated)
            negated = bool(self.accept("kw", "NOT"))
            if negated or (self.tok.kind == "kw" and self.tok.text == "LIKE"):
                self.need("kw", "LIKE")
                pattern = self.need("str", what="a pattern in single quotes")
                return Like(left, pattern.text, negated)
        op = self.need("op", what="a comparison (=, <>, <, >, <=, >=, LIKE, IS NULL)")
        right = self.operand()
        return Compare("<>" if op.text == "!=" else op.text, left, right)

    def operand(self):
        tok = self.tok
        if tok.kind == "prop":
            return Prop(self.prop_name())
        if tok.kind == "str":
            self.take()
            return Literal(tok.text)
        if tok.kind == "num":
            self.take()
            return Literal(float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "kw" and tok.text in ("TRUE", "FALSE"):
            self.take()
            return Literal(tok.text == "TRUE")
        if tok.kind == "kw" and tok.text == "NULL":
            self.take()
            return Literal(None)
        if tok.kind == "kw" and tok.text == "CAST":
            self.take()
            self.need("punct", "(")
            value = self.take()
            if value.kind not in ("str", "prop", "num"):
                raise SqlError("CAST takes a literal value", value.pos)
            self.need("kw", "AS")
            kind = self.take()
            if kind.kind not in ("str", "prop") or kind.text.lower() not in TYPES:
                raise SqlError(f"unknown CAST type {kind.text!r}; use one of {', '.join(sorted(TYPES))}", kind.pos)
            self.need("punct", ")")
            try:
                return Literal(cast(value.text, kind.text.lower()))
            except ValueError as exc:
                raise SqlError(f"cannot CAST {value.text!r} as {kind.text}: {exc}", value.pos) from None
        raise SqlError(f"expected a property or a value, found {tok.text or 'the end of the query'!r}", tok.pos)


def parse(text: str) -> Query:
    if not text or not text.strip():
        raise SqlError("empty query", 0)
    return _Parser(text).query()


# --- values -----------------------------------------------------------------------------------------------


def parse_date(text: str) -> dt.datetime:
    text = text.strip()
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            value = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise ValueError("not a date (ISO 8601 like 2003-04-07T00:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no", ""):
        return False
    raise ValueError("not a boolean")


def cast(text: str, kind: str) -> Any:
    if kind.startswith("datetime"):
        return parse_date(text)
    if kind == "boolean":
        return to_bool(text)
    if kind in ("int", "i2", "i4", "i8"):
        return int(text)
    if kind in ("float", "r4", "r8"):
        return float(text)
    return text


def _coerce(a: Any, b: Any) -> tuple[Any, Any]:
    """Bring two values to one type for comparison; strings give way to the other side's type."""
    try:
        if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
            return (a if isinstance(a, dt.datetime) else parse_date(str(a)),
                    b if isinstance(b, dt.datetime) else parse_date(str(b)))
        if isinstance(a, bool) or isinstance(b, bool):
            return to_bool(a), to_bool(b)
        if isinstance(a, (int, float)) or isinstance(b, (int, float)):
            return float(a), float(b)
    except (TypeError, ValueError):
        pass
    return str(a).casefold(), str(b).casefold()


def _value(node: Any, get: Callable[[Key], Any]) -> Any:
    return get(node.key) if isinstance(node, Prop) else node.value


_OPS = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def like_regex(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern),
                      re.IGNORECASE | re.DOTALL)


def evaluate(node: Any, get: Callable[[Key], Any]) -> bool | None:
    """True, False or None (unknown) for one resource; `get(key)` is the property's value or None."""
    if node is None:
        return True
    if isinstance(node, And):
        a, b = evaluate(node.left, get), evaluate(node.right, get)
        return False if a is False or b is False else None if a is None or b is None else True
    if isinstance(node, Or):
        a, b = evaluate(node.left, get), evaluate(node.right, get)
        return True if a is True or b is True else None if a is None or b is None else False
    if isinstance(node, Not):
        inner = evaluate(node.inner, get)
        return None if inner is None else not inner
    if isinstance(node, IsNull):
        return (get(node.prop.key) is None) != node.negated
    if isinstance(node, Like):
        value = get(node.prop.key)
        if value is None:
            return None
        return bool(like_regex(node.pattern).fullmatch(str(value))) != node.negated
    if isinstance(node, Compare):
        a, b = _value(node.left, get), _value(node.right, get)
        if a is None or b is None:
            return None
        a, b = _coerce(a, b)
        try:
            return _OPS[node.op](a, b)
        except TypeError:
            return None
    raise TypeError(f"not a query node: {node!r}")


def sort_key(value: Any) -> tuple:
    """Missing values first, then by type, then by value (text case-insensitively)."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, dt.datetime):
        return (3, value.timestamp())
    return (4, str(value).casefold())


def order(rows: list, query: Query, get: Callable[[Any, Key], Any]) -> list:
    """Rows sorted by the ORDER BY keys (a stable sort per key, last key first)."""
    for key, desc in reversed(query.order):
        rows = sorted(rows, key=lambda row: sort_key(get(row, key)), reverse=desc)
    return rows


def parse_rows(header: str, total: int) -> tuple[int, int] | None:
    """Exchange's `Range: rows=a-b` (also "a-" and "-n", the last n): the inclusive (first, last) row, or
    None when the range holds no row."""
    m = re.fullmatch(r"\s*rows\s*=\s*(\d*)\s*-\s*(\d*)\s*", header, re.IGNORECASE)
    if m is None or (not m.group(1) and not m.group(2)):
        raise SqlError(f"unreadable Range header {header[:60]!r} (expected rows=first-last)", 0)
    if not m.group(1):
        first, last = max(0, total - int(m.group(2))), total - 1
    else:
        first = int(m.group(1))
        last = min(int(m.group(2)), total - 1) if m.group(2) else total - 1
    if first > last or first >= total:
        return None
    return first, last
