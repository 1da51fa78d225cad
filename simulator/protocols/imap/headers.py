"""Reading message header fields: the header block and its fields (RFC 5322 2.2), MIME parameters
(RFC 2045 5.1 with RFC 2231 continuations and charsets), addresses as ENVELOPE wants them (RFC 5322 3.4,
with the obsolete forms of 4.4), encoded-words (RFC 2047), and the Date: field (RFC 5322 3.3).

Header octets are turned into text with UTF-8 and `surrogateescape`, so that any octet that is not UTF-8
comes back unchanged when the text is encoded the same way: what a server echoes (ENVELOPE strings) stays
byte-exact.
"""
from __future__ import annotations

import datetime as dt
import email.errors
import email.header
import email.utils
import re
import urllib.parse
from dataclasses import dataclass

WSP = " \t"


def text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def octets(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


# --- the header block -------------------------------------------------------------------------------

def header_end(msg: bytes, start: int, end: int) -> int:
    """Where the header of the entity in msg[start:end] ends: just after the first empty line, which
    belongs to the header. An entity starting with an empty line has an empty header; one without any
    empty line is all header (RFC 2046 5.1.1: body-part := MIME-part-headers [CRLF *OCTET])."""
    for blank in (b"\r\n", b"\n"):
        if msg.startswith(blank, start, end):
            return start + len(blank)
    pos = start
    while True:
        nl = msg.find(b"\n", pos, end)
        if nl < 0:
            return end
        pos = nl + 1
        for blank in (b"\r\n", b"\n"):
            if msg.startswith(blank, pos, end):
                return pos + len(blank)


def blank_line(header: bytes) -> bytes:
    """The empty line that ends `header` (b"\\r\\n" or b"\\n"), or b"" when the header has none."""
    if header in (b"\r\n", b"\n"):
        return header
    if header.endswith(b"\n\r\n"):
        return b"\r\n"
    if header.endswith(b"\n\n"):
        return b"\n"
    return b""


@dataclass(frozen=True)
class Field:
    name: str | None  # None for a line that is not a field (no colon, or a continuation with no field)
    raw: bytes  # the field as it is in the message: name, colon, value, folds, line end

    @property
    def value(self) -> str:
        """The unfolded text after the colon (RFC 5322 2.2.3: CRLF before WSP removed), WSP-trimmed."""
        body = self.raw.split(b":", 1)[1] if self.name is not None else self.raw
        return text(re.sub(rb"\r?\n", b"", body)).strip(WSP)


FIELD_NAME = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:")  # ftext (RFC 5322 3.6.8), obs WSP before ":"


def fields(header: bytes) -> list[Field]:
    """The fields of a header block, in order, without the empty line that ends it."""
    body = header[:len(header) - len(blank_line(header))]
    out: list[Field] = []
    for line in re.findall(rb"[^\n]*\n|[^\n]+$", body):  # LF ends a line; a bare CR does not
        if line[:1] in (b" ", b"\t") and out:
            out[-1] = Field(out[-1].name, out[-1].raw + line)
            continue
        m = FIELD_NAME.match(line)
        out.append(Field(text(m.group(1)) if m else None, line))
    return out


def first(flds: list[Field], name: str) -> str | None:
    """The value of the first field called `name` (case-insensitive), None when there is none."""
    lname = name.lower()
    for f in flds:
        if f.name is not None and f.name.lower() == lname:
            return f.value
    return None


# --- structured values: comments, quoted strings, MIME parameters -----------------------------------

def _skip_cfws(s: str, i: int) -> int:
    """Skip whitespace and (nested) comments."""
    while i < len(s):
        if s[i] in WSP + "\r\n":
            i += 1
        elif s[i] == "(":
            depth = 0
            while i < len(s):
                if s[i] == "\\":
                    i += 2
                    continue
                depth += {"(": 1, ")": -1}.get(s[i], 0)
                i += 1
                if depth == 0:
                    break
        else:
            break
    return i


def _quoted(s: str, i: int) -> tuple[str, int]:
    """The content of the quoted-string starting at s[i] == '"', quoted-pairs undone; an unterminated
    one runs to the end."""
    out = []
    i += 1
    while i < len(s) and s[i] != '"':
        if s[i] == "\\" and i + 1 < len(s):
            i += 1
        out.append(s[i])
        i += 1
    return "".join(out), i + 1


TSPECIALS = '()<>@,;:\\"/[]?='


def _token(s: str, i: int, stop: str = TSPECIALS) -> tuple[str, int]:
    j = i
    while j < len(s) and s[j] not in stop and s[j] not in WSP + "\r\n" and ord(s[j]) > 0x1F:
        j += 1
    return s[i:j], j


def parse_content_type(value: str) -> tuple[str, str, dict[str, str]] | None:
    """content := "Content-Type" ":" type "/" subtype *(";" parameter) (RFC 2045 5.1), names lower-cased.
    None when the value is syntactically invalid (the caller then applies the RFC 2045 5.2 default)."""
    i = _skip_cfws(value, 0)
    mtype, i = _token(value, i)
    i = _skip_cfws(value, i)
    if not mtype or i >= len(value) or value[i] != "/":
        return None
    i = _skip_cfws(value, i + 1)
    subtype, i = _token(value, i)
    if not subtype:
        return None
    return mtype.lower(), subtype.lower(), parse_params(value, i)


def parse_disposition(value: str) -> tuple[str, dict[str, str]] | None:
    """disposition := "Content-Disposition" ":" disposition-type *(";" disposition-parm) (RFC 2183)."""
    i = _skip_cfws(value, 0)
    dtype, i = _token(value, i)
    if not dtype:
        return None
    return dtype.lower(), parse_params(value, i)


def parse_params(value: str, i: int) -> dict[str, str]:
    """The parameters after position i: `; attribute = value` pairs, value a token or a quoted-string,
    joined and decoded per RFC 2231. Lenient where senders commonly are not: an unquoted value runs to
    the next ";" or space (so `boundary=----=_Part` works), junk is skipped up to the next ";"."""
    raw: list[tuple[str, str]] = []
    while i < len(value):
        i = _skip_cfws(value, i)
        if i >= len(value):
            break
        if value[i] != ";":
            i = _next_semicolon(value, i)
            continue
        i = _skip_cfws(value, i + 1)
        attr, i = _token(value, i)
        i = _skip_cfws(value, i)
        if not attr or i >= len(value) or value[i] != "=":
            i = _next_semicolon(value, i)
            continue
        i = _skip_cfws(value, i + 1)
        if i < len(value) and value[i] == '"':
            val, i = _quoted(value, i)
        else:
            val, i = _token(value, i, stop=";(")
        raw.append((attr.lower(), val))
    return _rfc2231(raw)


def _next_semicolon(s: str, i: int) -> int:
    while i < len(s) and s[i] != ";":
        i = i + 1 if s[i] != '"' else _quoted(s, i)[1]
    return i


SECTION = re.compile(r"^(.+?)\*(?:(0|[1-9][0-9]*)(\*)?)?$")  # name* / name*N / name*N*  (RFC 2231 3-4)


def _rfc2231(raw: list[tuple[str, str]]) -> dict[str, str]:
    """Join continuations (name*0, name*1, ...) and decode extended values (charset'language'%XX)."""
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    order: list[str] = []
    for attr, val in raw:
        m = SECTION.match(attr)
        name = m.group(1) if m else attr
        if name not in order:
            order.append(name)
        if not m:
            plain.setdefault(name, val)
        elif m.group(2) is None:  # name*: one extended value
            sections.setdefault(name, {}).setdefault(0, (val, True))
        else:
            sections.setdefault(name, {}).setdefault(int(m.group(2)), (val, m.group(3) is not None))
    out: dict[str, str] = {}
    for name in order:
        if name in sections:  # RFC 2231 takes precedence over a plain parameter of the same name
            out[name] = _join_sections(sections[name])
        else:
            out[name] = plain[name]
    return out


def _join_sections(parts: dict[int, tuple[str, bool]]) -> str:
    charset = ""
    data = b""
    for n in sorted(parts):
        val, extended = parts[n]
        if extended:
            if n == min(parts):  # only the first section carries charset'language' (RFC 2231 4.1)
                pieces = val.split("'", 2)
                if len(pieces) == 3:
                    charset, _, val = pieces
            data += urllib.parse.unquote_to_bytes(val)
        else:
            data += octets(val)
    return decode_charset(data, charset)


def decode_charset(data: bytes, charset: str | None) -> str:
    """`data` in `charset`; UTF-8 (keeping stray octets) when the charset is absent or unknown."""
    if charset:
        try:
            return data.decode(charset, "replace")
        except (LookupError, ValueError):  # unknown, not a text encoding, or a codec that ignores "replace"
            pass
    return text(data)


def language_tags(value: str) -> list[str]:
    """Content-Language (RFC 3282): a comma-separated list of language tags, comments allowed."""
    tags = []
    for item in strip_comments(value).split(","):
        tag = item.strip(WSP + "\r\n")
        if tag:
            tags.append(tag)
    return tags


def strip_comments(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "(":
            i = _skip_cfws(value, i)
            out.append(" ")
        elif value[i] == '"':
            _, j = _quoted(value, i)
            out.append(value[i:j])
            i = j
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def transfer_encoding(value: str | None) -> str:
    """Content-Transfer-Encoding mechanism, upper-cased; 7BIT when absent or empty (RFC 2045 6.1)."""
    if value is None:
        return "7BIT"
    mechanism = strip_comments(value).strip(WSP + "\r\n").split()
    return mechanism[0].upper() if mechanism else "7BIT"


# --- encoded-words ------------------------------------------------------------------------------------

def decode_words(value: str) -> str:
    """`value` with RFC 2047 encoded-words decoded (whitespace between adjacent words dropped, 6.2); the
    value itself when it has none or they cannot be decoded."""
    if "=?" not in value:
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        return value


# --- addresses ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Address:
    """One ENVELOPE address (RFC 3501 7.4.2): group start is (None, None, name, None), group end is all
    None. `host` is "" for a mailbox written without a domain, so that it never reads as a group marker."""

    name: str | None
    adl: str | None
    mailbox: str | None
    host: str | None

    @property
    def is_group_marker(self) -> bool:
        return self.host is None


@dataclass
class _Tok:
    kind: str  # "word" (atom or quoted-string), "literal" (domain literal) or a special character
    value: str
    space_before: bool  # whitespace or a comment came before it: phrases keep one space there


ADDRESS_SPECIALS = "()<>[]:;@\\,."


def _address_tokens(value: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    while i < len(value):
        j = _skip_cfws(value, i)
        space = j > i
        i = j
        if i >= len(value):
            break
        ch = value[i]
        if ch == '"':
            word, i = _quoted(value, i)
            toks.append(_Tok("word", word, space))
        elif ch == "[":
            end = value.find("]", i)
            end = len(value) if end < 0 else end + 1
            toks.append(_Tok("literal", value[i:end], space))
            i = end
        elif ch in ADDRESS_SPECIALS:
            toks.append(_Tok(ch, ch, space))
            i += 1
        else:
            word, i = _token(value, i, stop=ADDRESS_SPECIALS + '"')
            if not word:  # a control character: skip it
                i += 1
                continue
            toks.append(_Tok("word", word, space))
    return toks


def parse_addresses(value: str | None) -> list[Address]:
    """address-list (RFC 5322 3.4) as ENVELOPE address structures: phrases and local-parts with quoting
    removed, encoded-words left as they are (the client decodes them), comments dropped, route
    (obs-route) kept as the at-domain-list."""
    if value is None:
        return []
    toks = _address_tokens(value)
    out: list[Address] = []
    i = 0
    while i < len(toks):
        if toks[i].kind in ",;":
            i += 1
            continue
        phrase_end = _phrase_end(toks, i)
        if phrase_end < len(toks) and toks[phrase_end].kind == ":" and phrase_end > i:
            out.append(Address(None, None, _phrase(toks[i:phrase_end]), None))  # group start
            i = phrase_end + 1
            while i < len(toks) and toks[i].kind != ";":
                if toks[i].kind == ",":
                    i += 1
                    continue
                addr, i = _mailbox(toks, i, in_group=True)
                if addr is not None:
                    out.append(addr)
            out.append(Address(None, None, None, None))  # group end
            i += 1
            continue
        addr, i = _mailbox(toks, i, in_group=False)
        if addr is not None:
            out.append(addr)
    return out


def _phrase_end(toks: list[_Tok], i: int) -> int:
    while i < len(toks) and toks[i].kind in ("word", "."):
        i += 1
    return i


def _phrase(toks: list[_Tok]) -> str:
    out = []
    for n, tok in enumerate(toks):
        if n and tok.space_before:
            out.append(" ")
        out.append(tok.value)
    return "".join(out)


def _mailbox(toks: list[_Tok], i: int, *, in_group: bool) -> tuple[Address | None, int]:
    """mailbox = name-addr / addr-spec, starting at toks[i]; returns the address (None for junk) and the
    index of the token after it (a "," or ";" or the end)."""
    stops = ",;" if in_group else ","
    phrase_end = _phrase_end(toks, i)
    if phrase_end < len(toks) and toks[phrase_end].kind == "<":
        name = _phrase(toks[i:phrase_end]) if phrase_end > i else None
        j = phrase_end + 1
        adl = None
        route_end = _route_end(toks, j)
        if route_end is not None:
            adl = "".join(t.value for t in toks[j:route_end])
            j = route_end + 1
        local, host, j = _addr_spec(toks, j, stops + ">")
        if j < len(toks) and toks[j].kind == ">":
            j += 1
        j = _skip_to(toks, j, stops)
        if local is None:
            return None, j
        return Address(name, adl, local, host), j
    local, host, j = _addr_spec(toks, i, stops)
    j = _skip_to(toks, j, stops)
    if local is None:
        return None, j
    return Address(None, None, local, host), j


def _route_end(toks: list[_Tok], j: int) -> int | None:
    """obs-route = obs-domain-list ":" ; the index of its ":" when toks[j] starts one."""
    if j >= len(toks) or toks[j].kind != "@":
        return None
    k = j
    while k < len(toks) and toks[k].kind in ("@", "word", "literal", ".", ","):
        k += 1
    return k if k < len(toks) and toks[k].kind == ":" else None


def _addr_spec(toks: list[_Tok], i: int, stops: str) -> tuple[str | None, str | None, int]:
    """addr-spec = local-part "@" domain; words and dots of each side joined without spaces."""
    local = []
    while i < len(toks) and toks[i].kind in ("word", "."):
        local.append(toks[i].value)
        i += 1
    if not local:
        return None, None, i
    if i >= len(toks) or toks[i].kind != "@":
        return "".join(local), "", i  # no domain: host "" (not NIL, which would mean a group)
    i += 1
    domain = []
    while i < len(toks) and toks[i].kind in ("word", ".", "literal"):
        domain.append(toks[i].value)
        i += 1
    return "".join(local), "".join(domain), i


def _skip_to(toks: list[_Tok], i: int, stops: str) -> int:
    while i < len(toks) and toks[i].kind not in stops:
        i += 1
    return i


# --- the Date: field ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SentDate:
    date: dt.date  # the calendar date as written, "disregarding time and timezone" (RFC 3501 6.4.4)
    epoch: float  # the moment in UTC (RFC 5256 2.2)


def sent_date(value: str | None) -> SentDate | None:
    """The Date: field (RFC 5322 3.3, obsolete forms included); None when absent or unparseable."""
    if not value:
        return None
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    year, month, mday, hour, minute, second = parsed[:6]
    try:
        day = dt.date(year, month, mday)
    except (ValueError, OverflowError):
        return None
    # RFC 5256 2.2: an invalid zone is taken as UTC, an invalid time as 00:00:00
    offset = parsed[9] if parsed[9] is not None and abs(parsed[9]) < 24 * 3600 else 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 60):
        hour = minute = second = 0
    moment = dt.datetime(year, month, mday, hour, minute, min(second, 59),
                         tzinfo=dt.timezone(dt.timedelta(seconds=offset)))
    return SentDate(day, moment.timestamp())
