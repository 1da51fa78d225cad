"""SEARCH criteria: the search-key grammar of RFC 3501 6.4.4 and 9 (RFC 9051 6.4.4), the MODSEQ key of
CONDSTORE (RFC 7162 3.1.5), the CHARSET argument, and the evaluation of a key against one message.

    key = parse(tokens)                          # tokens from the lexer, after "SEARCH"
    hits = [m.seq for m in messages if evaluate(key, m, Context(max_seq, max_uid))]

Parse errors raise SearchError (the server answers BAD) or its subclass BadCharset (NO [BADCHARSET]).
Several keys in a row are ANDed; a parenthesized list is one key.

Matching, where the RFC leaves room: strings match as case-insensitive substrings (Unicode case
folding) of decoded text: header fields with RFC 2047 words decoded, text parts with their transfer
encoding and charset undone; non-text parts are not searched (RFC 3501 6.4.4 allows that). Dates compare
by calendar date: the internal date's in the server's zone (Context.tz), the Date: field's as written.
A message without a usable Date: field matches no SENT* key.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property

from . import encode, mime
from . import headers as hdr
from .tokens import Atom, List, String, Token

SUPPORTED_CHARSETS = ("US-ASCII", "UTF-8")  # both are required by RFC 9051 6.4.4
MAX_NUMBER = 2 ** 32 - 1  # nz-number / number (RFC 3501 9)
MAX_NUMBER64 = 2 ** 63 - 1  # number64 of LARGER/SMALLER (RFC 9051 9), mod-sequence-value (RFC 7162 7)
MONTHS = {m.upper(): i for i, m in enumerate(encode.MONTHS, start=1)}


class SearchError(ValueError):
    """The criteria do not follow the grammar; the text says what is wrong."""


class BadCharset(SearchError):
    """A CHARSET the server does not search in: tagged NO [BADCHARSET (...)] (RFC 3501 6.4.4)."""

    def __init__(self, charset: str):
        super().__init__(f"unsupported charset {charset}")
        self.charset = charset
        self.supported = SUPPORTED_CHARSETS


@dataclass
class Candidate:
    seq: int
    uid: int
    flags: frozenset[str]  # "\\Recent" among them when the message is recent in this session
    internal_date: float
    size: int
    modseq: int
    raw: bytes  # the whole message


@dataclass
class Context:
    max_seq: int  # "*" in a sequence set: the number of messages
    max_uid: int  # "*" in a UID set: the highest UID in the mailbox
    tz: dt.tzinfo = dt.UTC  # the server's zone, for the calendar date of an internal date


# --- keys ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class All:
    pass


@dataclass(frozen=True)
class Flag:
    name: str  # "\\Seen", "$Forwarded", ...
    present: bool = True


@dataclass(frozen=True)
class SequenceSet:
    ranges: tuple[tuple[int | None, int | None], ...]  # None is "*"
    uid: bool = False


@dataclass(frozen=True)
class Not:
    key: Key


@dataclass(frozen=True)
class Or:
    left: Key
    right: Key


@dataclass(frozen=True)
class And:
    keys: tuple[Key, ...]


@dataclass(frozen=True)
class DateKey:
    which: str  # "internal" (BEFORE, ON, SINCE) or "sent" (SENTBEFORE, SENTON, SENTSINCE)
    op: str  # "before", "on", "since"
    date: dt.date


@dataclass(frozen=True)
class Size:
    op: str  # "larger" or "smaller"
    octets: int


@dataclass(frozen=True)
class Header:
    field: str  # BCC, CC, FROM, SUBJECT, TO search the field of that name (RFC 3501 6.4.4)
    value: str


@dataclass(frozen=True)
class Body:
    value: str


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class ModSeq:
    value: int
    entry: str | None = None  # "/flags/\\Seen": accepted, not used (one mod-sequence per message)
    entry_type: str | None = None  # priv / shared / all


Key = All | Flag | SequenceSet | Not | Or | And | DateKey | Size | Header | Body | Text | ModSeq

FLAG_KEYS = {"ANSWERED": ("\\Answered", True), "DELETED": ("\\Deleted", True), "DRAFT": ("\\Draft", True),
             "FLAGGED": ("\\Flagged", True), "RECENT": ("\\Recent", True), "SEEN": ("\\Seen", True),
             "UNANSWERED": ("\\Answered", False), "UNDELETED": ("\\Deleted", False),
             "UNDRAFT": ("\\Draft", False), "UNFLAGGED": ("\\Flagged", False), "UNSEEN": ("\\Seen", False),
             "OLD": ("\\Recent", False)}
STRING_KEYS = {"BCC": "Bcc", "CC": "Cc", "FROM": "From", "SUBJECT": "Subject", "TO": "To"}
DATE_KEYS = {"BEFORE": ("internal", "before"), "ON": ("internal", "on"), "SINCE": ("internal", "since"),
             "SENTBEFORE": ("sent", "before"), "SENTON": ("sent", "on"), "SENTSINCE": ("sent", "since")}


# --- sequence sets ---------------------------------------------------------------------------------------

SEQ_NUMBER = r"(?:[1-9][0-9]*|\*)"
SEQ_SET_RE = re.compile(rf"^{SEQ_NUMBER}(?::{SEQ_NUMBER})?(?:,{SEQ_NUMBER}(?::{SEQ_NUMBER})?)*$")


def parse_sequence_set(text: str) -> tuple[tuple[int | None, int | None], ...]:
    """sequence-set = (seq-number / seq-range) *("," sequence-set); seq-number = nz-number / "*".
    Each element comes back as a (first, last) pair, None standing for "*"; a single number n is (n, n)."""
    if not SEQ_SET_RE.match(text):
        raise SearchError(f"bad sequence set {text[:40]!r}")
    ranges = []
    for element in text.split(","):
        first, _, last = element.partition(":")
        a = None if first == "*" else int(first)
        b = a if not last else None if last == "*" else int(last)
        for n in (a, b):
            if n is not None and n > MAX_NUMBER:
                raise SearchError(f"number {n} in sequence set is out of range")
        ranges.append((a, b))
    return tuple(ranges)


def _bounds(pair: tuple[int | None, int | None], max_value: int) -> tuple[int, int]:
    a, b = (max_value if n is None else n for n in pair)
    return (a, b) if a <= b else (b, a)  # "2:4 and 4:2 are equivalent" (RFC 3501 9, seq-range)


def sequence_set(text: str, max_value: int) -> set[int]:
    """The numbers in 1..max_value that the set names, "*" being max_value. "n:*" always includes
    max_value, even when n is larger (RFC 3501 6.4.8). Numbers above max_value name nothing (the caller
    decides whether they are an error: a BAD for message sequence numbers, RFC 3501 9)."""
    out: set[int] = set()
    for pair in parse_sequence_set(text):
        if max_value < 1 and None in pair:
            continue  # "*" in an empty mailbox names no message
        lo, hi = _bounds(pair, max_value)
        out.update(range(lo, min(hi, max_value) + 1))
    return out


# --- parsing ---------------------------------------------------------------------------------------------

def parse(tokens: list[Token] | tuple[Token, ...], *, charset: str | None = None) -> Key:
    """The search criteria as one key. A leading `CHARSET name` is taken here when the caller has not
    already taken it (`charset`)."""
    tokens = list(tokens)
    first = tokens[0] if tokens else None
    if charset is None and len(tokens) >= 2 and isinstance(first, Atom) and first.upper() == "CHARSET":
        charset, tokens = _astring(tokens[1], "US-ASCII"), tokens[2:]
    if charset is not None and charset.upper() not in SUPPORTED_CHARSETS:
        raise BadCharset(charset)
    parser = _Parser(tokens, (charset or "UTF-8").upper())
    keys = parser.keys()
    if not keys:
        raise SearchError("missing search key")
    return keys[0] if len(keys) == 1 else And(tuple(keys))


def _astring(token: Token, charset: str) -> str:
    if isinstance(token, Atom):
        return token.text
    if isinstance(token, String):
        try:
            return token.value.decode("ascii" if charset == "US-ASCII" else "utf-8")
        except UnicodeDecodeError:
            raise SearchError(f"string is not valid {charset}") from None
    raise SearchError("expected a string, got a parenthesized list")


class _Parser:
    def __init__(self, tokens: list[Token], charset: str):
        self.tokens = tokens
        self.pos = 0
        self.charset = charset

    def keys(self) -> list[Key]:
        out = []
        while self.pos < len(self.tokens):
            out.append(self.key())
        return out

    def next(self, what: str) -> Token:
        if self.pos >= len(self.tokens):
            raise SearchError(f"missing {what}")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def atom(self, what: str) -> str:
        token = self.next(what)
        if not isinstance(token, Atom):
            raise SearchError(f"expected {what}, got {'a list' if isinstance(token, List) else 'a string'}")
        return token.text

    def string(self, what: str) -> str:
        return _astring(self.next(what), self.charset)

    def key(self) -> Key:
        token = self.next("search key")
        if isinstance(token, List):
            sub = _Parser(list(token.items), self.charset)
            keys = sub.keys()
            if not keys:
                raise SearchError("empty parenthesized search key")
            return keys[0] if len(keys) == 1 else And(tuple(keys))
        if isinstance(token, String):
            raise SearchError("expected a search key, got a string")
        name = token.upper()
        if name == "ALL":
            return All()
        if name in FLAG_KEYS:
            return Flag(*FLAG_KEYS[name])
        if name == "NEW":  # "functionally equivalent to (RECENT UNSEEN)"
            return And((Flag("\\Recent"), Flag("\\Seen", False)))
        if name in ("KEYWORD", "UNKEYWORD"):
            keyword = self.atom("flag keyword")
            if not encode.is_atom(keyword):
                raise SearchError(f"bad keyword {keyword!r}")
            return Flag(keyword, name == "KEYWORD")
        if name in STRING_KEYS:
            return Header(STRING_KEYS[name], self.string(f"string after {name}"))
        if name == "HEADER":
            field_name = self.string("header field name")
            return Header(field_name, self.string("string after HEADER field name"))
        if name == "BODY":
            return Body(self.string("string after BODY"))
        if name == "TEXT":
            return Text(self.string("string after TEXT"))
        if name in DATE_KEYS:
            return DateKey(*DATE_KEYS[name], _date(self.string(f"date after {name}")))
        if name in ("LARGER", "SMALLER"):
            return Size(name.lower(), _number(self.atom(f"number after {name}"), MAX_NUMBER64))
        if name == "NOT":
            return Not(self.key())
        if name == "OR":
            return Or(self.key(), self.key())
        if name == "UID":
            return SequenceSet(parse_sequence_set(self.atom("sequence set after UID")), uid=True)
        if name == "MODSEQ":
            return self.modseq()
        if re.fullmatch(r"[0-9*:,]+", token.text):
            return SequenceSet(parse_sequence_set(token.text))
        raise SearchError(f"unknown search key {token.text[:40]}")

    def modseq(self) -> ModSeq:
        """search-modsequence = "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer."""
        entry = entry_type = None
        if self.pos < len(self.tokens) and isinstance(self.tokens[self.pos], String):
            entry = self.string("entry name")
            if not entry.startswith("/flags/") or len(entry) == len("/flags/"):
                raise SearchError(f"bad MODSEQ entry name {entry!r}")
            entry_type = self.atom("entry type").lower()
            if entry_type not in ("priv", "shared", "all"):
                raise SearchError(f"bad MODSEQ entry type {entry_type!r}")
        return ModSeq(_number(self.atom("mod-sequence value"), MAX_NUMBER64), entry, entry_type)


def _number(text: str, limit: int) -> int:
    if not text.isdigit() or not text.isascii():
        raise SearchError(f"bad number {text[:40]!r}")
    n = int(text)
    if n > limit:
        raise SearchError(f"number {text[:40]} is out of range")
    return n


# date-text = date-day "-" date-month "-" date-year ; date-day = 1*2DIGIT ; date-year = 4DIGIT
DATE_RE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")


def _date(text: str) -> dt.date:
    m = DATE_RE.match(text)
    if not m or m.group(2).upper() not in MONTHS:
        raise SearchError(f"bad date {text[:40]!r} (expected like 1-Feb-1994)")
    try:
        return dt.date(int(m.group(3)), MONTHS[m.group(2).upper()], int(m.group(1)))
    except ValueError:
        raise SearchError(f"bad date {text!r}: no such day") from None


# --- evaluation ------------------------------------------------------------------------------------------

class _Message:
    """One candidate with what the keys read from its text, each computed once."""

    def __init__(self, msg: Candidate):
        self.msg = msg

    @cached_property
    def flags(self) -> frozenset[str]:
        # flags compare case-insensitively: system flags by RFC 3501 9 note 1, keywords as servers do
        return frozenset(f.lower() for f in self.msg.flags)

    @cached_property
    def top(self) -> mime.Part:
        return mime.parse(self.msg.raw)

    @cached_property
    def fields(self) -> list[hdr.Field]:
        raw = self.msg.raw  # the header alone: header keys need no MIME parse
        return hdr.fields(raw[:hdr.header_end(raw, 0, len(raw))])

    def header_values(self, name: str) -> list[str]:
        lname = name.lower()
        return [hdr.decode_words(f.value) for f in self.fields
                if f.name is not None and f.name.lower() == lname]

    @cached_property
    def header_text(self) -> str:
        lines = (hdr.decode_words(f.value) if f.name is None else f"{f.name}: {hdr.decode_words(f.value)}"
                 for f in self.fields)
        return _fold("\n".join(lines))

    @cached_property
    def body_text(self) -> str:
        return _fold("\n".join(_texts(self.msg.raw, self.top)))

    @cached_property
    def sent(self) -> dt.date | None:
        date = hdr.sent_date(hdr.first(self.fields, "Date"))
        return date.date if date else None


def _fold(text: str) -> str:
    return text.casefold()


def _texts(raw: bytes, message: mime.Part):
    """The searchable text of a message's body: its text parts decoded, and the header fields of the
    messages encapsulated in it (their bodies are reached by the walk)."""
    for part in mime.walk(message):
        if part.message is not None:
            yield "\n".join(hdr.decode_words(f.value) for f in hdr.fields(part.message.header(raw)))
        elif not part.is_multipart and part.mime_type == "text":
            yield mime.decoded_text(raw, part)


def evaluate(key: Key, msg: Candidate, context: Context) -> bool:
    return _eval(key, _Message(msg), context)


def _eval(key: Key, m: _Message, ctx: Context) -> bool:
    if isinstance(key, All):
        return True
    if isinstance(key, Flag):
        return (key.name.lower() in m.flags) == key.present
    if isinstance(key, And):
        return all(_eval(k, m, ctx) for k in key.keys)
    if isinstance(key, Or):
        return _eval(key.left, m, ctx) or _eval(key.right, m, ctx)
    if isinstance(key, Not):
        return not _eval(key.key, m, ctx)
    if isinstance(key, SequenceSet):
        n, top = (m.msg.uid, ctx.max_uid) if key.uid else (m.msg.seq, ctx.max_seq)
        return any(lo <= n <= hi for lo, hi in (_bounds(pair, top) for pair in key.ranges))
    if isinstance(key, Size):
        return m.msg.size > key.octets if key.op == "larger" else m.msg.size < key.octets
    if isinstance(key, ModSeq):
        return m.msg.modseq >= key.value
    if isinstance(key, DateKey):
        day = m.sent if key.which == "sent" else dt.datetime.fromtimestamp(m.msg.internal_date, ctx.tz).date()
        if day is None:
            return False
        return {"before": day < key.date, "on": day == key.date, "since": day >= key.date}[key.op]
    if isinstance(key, Header):
        values = m.header_values(key.field)
        if key.value == "":  # "matches all messages that have a header line with the specified field-name"
            return bool(values)
        needle = _fold(key.value)
        return any(needle in _fold(v) for v in values)
    if isinstance(key, Body):
        return _fold(key.value) in m.body_text
    if isinstance(key, Text):
        needle = _fold(key.value)
        return needle in m.header_text or needle in m.body_text
    raise TypeError(f"not a search key: {key!r}")
