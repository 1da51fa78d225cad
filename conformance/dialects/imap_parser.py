"""IMAP responses as data: what kind of response a line is, and the values the checks need from it.

Pure functions over what the lexer produced (conformance/dialects/imap_lexer.py). Grammar (RFC 3501
section 9, RFC 9051 section 9), the parts the checks read:

    response-tagged  = tag SP resp-cond-state CRLF
    resp-cond-state  = ("OK" / "NO" / "BAD") SP resp-text
    resp-cond-bye    = "BYE" SP resp-text
    greeting         = "*" SP (resp-cond-auth / resp-cond-bye) CRLF     ; resp-cond-auth: OK or PREAUTH
    resp-text        = ["[" resp-text-code "]" SP] text
    message-data     = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att))
    mailbox-data     = "FLAGS" SP flag-list / "LIST" SP mailbox-list / "LSUB" SP mailbox-list /
                       "SEARCH" *(SP nz-number) / "STATUS" SP mailbox SP "(" [status-att-list] ")" /
                       number SP "EXISTS" / number SP "RECENT"
    mailbox-list     = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
    msg-att          = "(" (msg-att-dynamic / msg-att-static) *(SP ...) ")"
    envelope         = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to SP
                       env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
    address          = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"

Values: an atom is an `Atom` (a str), a quoted string or literal is `bytes`, NIL is None, a parenthesized
list is a Python list.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .imap_lexer import Literal, RawResponse, Token, tokens

STATUS_WORDS = {"OK", "NO", "BAD", "PREAUTH", "BYE"}
TAG_RE = re.compile(rb"^[\x21-\x7e]+$")
CODE_RE = re.compile(r"^\[([^\]]*)\](?: (.*))?$", re.S)


class Atom(str):
    """An atom as the server sent it (numbers, flags and FETCH item names are atoms too)."""


Value = Any  # Atom | bytes | None | list[Value]


def values(toks: list[Token], problems: list[str] | None = None) -> list[Value]:
    """Tokens as values: atoms, strings (bytes), NIL (None) and nested lists."""
    problems = problems if problems is not None else []
    stack: list[list[Value]] = [[]]
    for tok in toks:
        if tok.kind == "(":
            stack.append([])
        elif tok.kind == ")":
            if len(stack) == 1:
                problems.append("a ) closes no (")
                continue
            done = stack.pop()
            stack[-1].append(done)
        elif tok.kind == "atom":
            word = tok.value.decode("utf-8", "backslashreplace")
            stack[-1].append(None if word.upper() == "NIL" else Atom(word))
        else:
            stack[-1].append(tok.value)
    while len(stack) > 1:
        problems.append("a ( is not closed")
        done = stack.pop()
        stack[-1].append(done)
    return stack[0]


def text_of(value: Value) -> str | None:
    """A string, atom or NIL as text (None for NIL)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, list):
        return None
    return str(value)


def as_int(value: Value) -> int | None:
    text = text_of(value)
    return int(text) if text is not None and text.isdigit() else None


@dataclass
class ImapResponse:
    """One server response: a continuation request, an untagged response or a tagged completion."""

    kind: str  # "continuation", "untagged" or "tagged"
    raw: RawResponse
    tag: str | None = None
    status: str | None = None  # OK, NO, BAD, PREAUTH, BYE for status responses
    code: str | None = None  # the response code's name, upper case: UIDVALIDITY, READ-WRITE, APPENDUID, ...
    code_args: str = ""  # what follows the code's name inside the brackets
    text: str = ""  # the human-readable text (after the code)
    number: int | None = None  # "* n EXISTS", "* n FETCH", ...
    name: str = ""  # the data's name, upper case: EXISTS, FETCH, LIST, CAPABILITY, SEARCH, ... (or the status)
    problems: list[str] = field(default_factory=list)
    _values: list[Value] | None = None

    # --- what it is -----------------------------------------------------------------------------------

    @property
    def line(self) -> str:
        """The response as text (literals inline), without the final CRLF: what scripts match."""
        return self.raw.text()

    @property
    def ok(self) -> bool:
        return self.status == "OK"

    def __str__(self) -> str:
        text = self.line
        return text if len(text) <= 200 else text[:197] + "..."

    @property
    def values(self) -> list[Value]:
        """The data after the name (for "* 3 FETCH (...)": [[FLAGS, [...], UID, 7]])."""
        if self._values is None:
            self._values = _data_values(self)
        return self._values

    # --- data the checks read ----------------------------------------------------------------------------

    def code_values(self) -> list[Value]:
        """The response code's arguments as values, e.g. [Atom("1234"), Atom("5")] for [APPENDUID 1234 5]."""
        return values(tokens([self.code_args.encode("utf-8")]))

    def code_int(self) -> int | None:
        """The response code's first argument as a number ([UIDVALIDITY n], [UIDNEXT n], [UNSEEN n], ...)."""
        vals = self.code_values()
        return as_int(vals[0]) if vals else None

    def capabilities(self) -> list[str]:
        """CAPABILITY data, or a [CAPABILITY ...] response code: the capability names, upper case."""
        if self.name == "CAPABILITY":
            return [str(v).upper() for v in self.values if isinstance(v, str)]
        if self.code == "CAPABILITY":
            return [w.upper() for w in self.code_args.split()]
        return []

    def fetch(self) -> dict[str, Value]:
        """FETCH data items by name (upper case, e.g. "FLAGS", "UID", "BODY[HEADER]", "BODY[]<0>")."""
        vals = self.values
        items = vals[0] if vals and isinstance(vals[0], list) else []
        out: dict[str, Value] = {}
        for i in range(0, len(items) - 1, 2):
            key = items[i]
            if isinstance(key, str):
                out[key.upper()] = items[i + 1]
        if len(items) % 2:
            self.problems.append("a FETCH response has an item without a value")
        return out

    def flag_list(self) -> list[str]:
        """The flags of FLAGS data ("* FLAGS (...)")."""
        vals = self.values
        return [str(f) for f in vals[0]] if vals and isinstance(vals[0], list) else []

    def mailbox_list(self) -> "ListEntry | None":
        """LIST/LSUB data: attributes, delimiter, name."""
        vals = self.values
        if len(vals) < 3 or not isinstance(vals[0], list):
            return None
        delimiter = text_of(vals[1])
        name = text_of(vals[2])
        if name is None:
            return None
        return ListEntry([str(a) for a in vals[0]], delimiter, name, vals[3:])

    def status_items(self) -> tuple[str, dict[str, int]] | None:
        """STATUS data: the mailbox name and its items (upper case) as numbers."""
        vals = self.values
        if len(vals) < 2 or not isinstance(vals[-1], list):
            return None
        name = text_of(vals[0])
        pairs = vals[-1]
        items = {str(pairs[i]).upper(): as_int(pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)
                 if isinstance(pairs[i], str)}
        return (name or "", {k: v for k, v in items.items() if v is not None})

    def numbers(self) -> list[int]:
        """SEARCH (and SORT) data: the numbers, without a trailing "(MODSEQ n)"."""
        return [n for v in self.values if not isinstance(v, list) and (n := as_int(v)) is not None]


class ListEntry(NamedTuple):
    attributes: list[str]
    delimiter: str | None
    name: str
    extended: list[Value]

    def has(self, attribute: str) -> bool:
        return attribute.lower() in (a.lower() for a in self.attributes)


def _data_values(resp: ImapResponse) -> list[Value]:
    if resp.kind != "untagged" or resp.status is not None:
        return []
    toks = tokens(resp.raw.parts, resp.problems)
    skip = 3 if resp.number is not None else 2  # "*", [number], name
    return values(toks[skip:], resp.problems)


def parse(raw: RawResponse) -> ImapResponse:
    """What kind of response this is, with its tag, status, response code, number and name."""
    first = raw.first_line
    problems = list(raw.problems)
    if first.startswith(b"+"):
        resp = ImapResponse("continuation", raw, problems=problems)
        if first != b"+" and not first.startswith(b"+ "):
            problems.append(f"no space after the + of a continuation request: {first[:60]!r}")
        _resp_text(resp, first[2:].decode("utf-8", "backslashreplace"))
        return resp
    head, _, rest = first.partition(b" ")
    if head == b"*":
        resp = ImapResponse("untagged", raw, problems=problems)
        word, _, after = rest.partition(b" ")
        upper = word.decode("ascii", "replace").upper()
        if upper in STATUS_WORDS:
            resp.status = resp.name = upper
            if word.decode("ascii", "replace") != upper:
                problems.append(f"the status {word.decode('ascii', 'replace')!r} is not in upper case")
            _resp_text(resp, after.decode("utf-8", "backslashreplace"))
        elif word.isdigit():
            resp.number = int(word)
            name, _, _ = after.partition(b" ")
            resp.name = name.decode("ascii", "replace").upper()
        else:
            resp.name = upper
        if not rest:
            problems.append("an untagged response with nothing after the *")
        return resp
    resp = ImapResponse("tagged", raw, tag=head.decode("utf-8", "backslashreplace"), problems=problems)
    if not TAG_RE.match(head) or b"+" in head:
        problems.append(f"not a valid tag: {head[:40]!r}")
    word, _, after = rest.partition(b" ")
    upper = word.decode("ascii", "replace").upper()
    if upper in ("OK", "NO", "BAD"):
        resp.status = resp.name = upper
        if word.decode("ascii", "replace") != upper:
            problems.append(f"the status {word.decode('ascii', 'replace')!r} is not in upper case")
    else:
        problems.append(f"a tagged response without OK, NO or BAD: {first[:80]!r}")
    _resp_text(resp, after.decode("utf-8", "backslashreplace"))
    return resp


def _resp_text(resp: ImapResponse, text: str) -> None:
    m = CODE_RE.match(text) if text.startswith("[") else None
    if m is None:
        if text.startswith("["):
            resp.problems.append(f"a response code is not closed: {text[:60]!r}")
        resp.text = text
        return
    name, _, args = m.group(1).partition(" ")
    resp.code = name.upper()
    resp.code_args = args
    resp.text = m.group(2) or ""
    if m.group(2) is None and resp.kind != "continuation":
        resp.problems.append("no text after the response code (resp-text needs SP text after the ])")


# --- ENVELOPE and BODYSTRUCTURE ----------------------------------------------------------------------


class Address(NamedTuple):
    name: str | None
    adl: str | None
    mailbox: str | None
    host: str | None

    @property
    def email(self) -> str:
        return f"{self.mailbox}@{self.host}" if self.host is not None else (self.mailbox or "")


class Envelope(NamedTuple):
    date: str | None
    subject: str | None
    from_: list[Address] | None
    sender: list[Address] | None
    reply_to: list[Address] | None
    to: list[Address] | None
    cc: list[Address] | None
    bcc: list[Address] | None
    in_reply_to: str | None
    message_id: str | None


def envelope(value: Value) -> Envelope | None:
    """An ENVELOPE value in RFC 3501 order (date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to,
    message-id); None when it does not have that shape."""
    if not isinstance(value, list) or len(value) != 10:
        return None
    fields: list[Any] = []
    for i, v in enumerate(value):
        if 2 <= i <= 7:
            if v is None:
                fields.append(None)
            elif isinstance(v, list) and all(isinstance(a, list) and len(a) == 4 for a in v):
                fields.append([Address(*(text_of(x) for x in a)) for a in v])
            else:
                return None
        else:
            if isinstance(v, list):
                return None
            fields.append(text_of(v))
    return Envelope(*fields)


@dataclass
class BodyPart:
    """One node of a BODYSTRUCTURE: a multipart with its parts, or a single part with its basic fields."""

    type: str  # upper case: TEXT, MULTIPART, APPLICATION, MESSAGE, ...
    subtype: str
    params: dict[str, str] = field(default_factory=dict)
    parts: list["BodyPart"] = field(default_factory=list)
    id: str | None = None
    description: str | None = None
    encoding: str | None = None
    size: int | None = None
    lines: int | None = None  # TEXT (and MESSAGE/RFC822) only
    extension: list[Value] = field(default_factory=list)


def bodystructure(value: Value) -> BodyPart | None:
    """A BODY or BODYSTRUCTURE value as a tree; None when it does not have the RFC 3501 shape."""
    if not isinstance(value, list) or not value:
        return None
    if isinstance(value[0], list):  # body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
        parts = []
        i = 0
        while i < len(value) and isinstance(value[i], list):
            part = bodystructure(value[i])
            if part is None:
                return None
            parts.append(part)
            i += 1
        if i >= len(value) or text_of(value[i]) is None:
            return None
        ext = value[i + 1:]
        params = _params(ext[0]) if ext else {}
        return BodyPart("MULTIPART", (text_of(value[i]) or "").upper(), params or {}, parts, extension=ext)
    if len(value) < 7:
        return None
    type_, subtype = text_of(value[0]), text_of(value[1])
    if type_ is None or subtype is None:
        return None
    params = _params(value[2])
    if params is None:
        return None
    part = BodyPart(type_.upper(), subtype.upper(), params, id=text_of(value[3]), description=text_of(value[4]),
                    encoding=text_of(value[5]), size=as_int(value[6]))
    rest = value[7:]
    if part.type == "TEXT":
        if not rest:
            return None
        part.lines = as_int(rest[0])
        rest = rest[1:]
    elif part.type == "MESSAGE" and part.subtype == "RFC822" and len(rest) >= 3:
        inner = bodystructure(rest[1])
        part.parts = [inner] if inner else []
        part.lines = as_int(rest[2])
        rest = rest[3:]
    part.extension = rest
    return part


def _params(value: Value) -> dict[str, str] | None:
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) % 2:
        return None
    return {(text_of(value[i]) or "").upper(): text_of(value[i + 1]) or "" for i in range(0, len(value), 2)}


# --- writing commands ---------------------------------------------------------------------------------

ATOM_SAFE_RE = re.compile(r"^[!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|~]+$")  # ATOM-CHARs, no wildcards or ]


def astring(text: str) -> str:
    """An astring argument: an atom when it can be one, else a quoted string (no literal: callers that may
    need one use Literal)."""
    if ATOM_SAFE_RE.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sequence_set(numbers: list[int]) -> str:
    """1,2,3,5 -> "1:3,5" (numbers sorted, runs joined)."""
    nums = sorted(set(numbers))
    if not nums:
        return ""
    out = []
    start = prev = nums[0]
    for n in nums[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}:{prev}")
        if n is not None:
            start = prev = n
    return ",".join(out)


__all__ = ["Atom", "Address", "BodyPart", "Envelope", "ImapResponse", "ListEntry", "Literal", "Value", "as_int",
           "astring", "bodystructure", "envelope", "parse", "sequence_set", "text_of", "values"]
