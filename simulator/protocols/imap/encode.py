"""How a server writes IMAP data: NIL, strings, atoms, lists, flags, date-times, sets (RFC 3501 4 and 9,
RFC 9051 4 and 9), and the modified UTF-7 of international mailbox names (RFC 3501 5.1.3).

Everything returns the octets that go on the wire (bytes), except mailbox-name conversion, which is text
to text.
"""
from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterable

CRLF = b"\r\n"
NIL = b"NIL"
# Longest value sent as a quoted string; anything longer goes as a literal. RFC 3501 sets no limit, but
# a literal never hits a client's line-length limit (RFC 7162 4 recommends lines under 8192 octets).
MAX_QUOTED = 1000

# atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
ATOM_SPECIALS = frozenset(b'(){ %*"\\]') | frozenset(range(0x20)) | {0x7F}
# ASTRING-CHAR = ATOM-CHAR / resp-specials  (so "]" is allowed in an astring, not in an atom)
ASTRING_SPECIALS = ATOM_SPECIALS - {ord("]")}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _octets(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def nil() -> bytes:
    return NIL


def quotable(data: bytes) -> bool:
    """True when `data` can be a quoted string: QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> /
    "\\" quoted-specials, TEXT-CHAR = <any CHAR except CR and LF>, CHAR = %x01-7F."""
    return all(0x01 <= b <= 0x7F and b not in (0x0A, 0x0D) for b in data)


def quoted(text: str | bytes) -> bytes:
    """quoted = DQUOTE *QUOTED-CHAR DQUOTE; raises ValueError for what a quoted string cannot hold."""
    data = _octets(text)
    if not quotable(data):
        raise ValueError("a quoted string holds only 7-bit characters other than NUL, CR and LF")
    return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def literal(data: bytes) -> bytes:
    """literal = "{" number "}" CRLF *CHAR8."""
    return b"{%d}\r\n" % len(data) + data


def literal8(data: bytes) -> bytes:
    """literal8 = "~{" number "}" CRLF *OCTET (RFC 3516 4.2, RFC 9051 4.3), the only form that may hold
    NUL."""
    return b"~" + literal(data)


def string(value: str | bytes | None) -> bytes:
    """nstring: NIL for None, a quoted string when the value allows one, otherwise a literal.

    A literal cannot carry NUL (CHAR8 = %x01-ff), so a value with NUL raises ValueError; such data can
    only go as a literal8, which the caller has to choose knowingly (BINARY responses).
    """
    if value is None:
        return NIL
    data = _octets(value)
    if b"\0" in data:
        raise ValueError("NUL cannot appear in an IMAP string (only in a literal8)")
    if len(data) <= MAX_QUOTED and quotable(data):
        return quoted(data)
    return literal(data)


nstring = string


def is_atom(data: str | bytes, *, astring: bool = False) -> bool:
    octets = _octets(data)
    specials = ASTRING_SPECIALS if astring else ATOM_SPECIALS
    return bool(octets) and all(b < 0x80 and b not in specials for b in octets)


def atom(text: str) -> bytes:
    if not is_atom(text):
        raise ValueError(f"not an atom: {text!r}")
    return text.encode("ascii")


def astring(text: str | bytes) -> bytes:
    """astring = 1*ASTRING-CHAR / string. "NIL" is quoted so that no reader takes it for nil."""
    data = _octets(text)
    if is_atom(data, astring=True) and data.upper() != NIL:
        return data
    return string(data)


def number(n: int) -> bytes:
    if n < 0:
        raise ValueError("IMAP numbers are unsigned")
    return b"%d" % n


def paren(items: Iterable[bytes]) -> bytes:
    """A parenthesized list: "(" [item *(SP item)] ")"."""
    return b"(" + b" ".join(items) + b")"


def flag_list(flags: Iterable[str]) -> bytes:
    """flag-list = "(" [flag *(SP flag)] ")"; flags are atoms, system flags with their backslash."""
    out = []
    for flag in flags:
        name = flag.removeprefix("\\")
        if flag != "\\*" and not is_atom(name):
            raise ValueError(f"not a flag: {flag!r}")
        out.append(flag.encode("ascii"))
    return paren(out)


def uid_set(numbers: Iterable[int]) -> bytes:
    """The shortest sequence-set for `numbers`: ascending runs joined as ranges ("1:3,5,7:9")."""
    ordered = sorted(set(numbers))
    if not ordered or ordered[0] < 1:
        raise ValueError("a sequence set holds one or more non-zero numbers")
    runs: list[bytes] = []
    start = prev = ordered[0]
    for n in ordered[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(b"%d" % start if start == prev else b"%d:%d" % (start, prev))
        if n is not None:
            start = prev = n
    return b",".join(runs)


def date_time(epoch: float, tz: dt.tzinfo | None = None) -> bytes:
    """date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE.

    date-day-fixed = (SP DIGIT) / 2DIGIT: a one-digit day is written with a leading space, as in RFC 3501
    (RFC 9051 allows either). The zone is `tz` (UTC when not given), written +hhmm / -hhmm.
    """
    moment = dt.datetime.fromtimestamp(int(epoch), tz or dt.UTC)
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    text = (f'"{moment.day:2d}-{MONTHS[moment.month - 1]}-{moment.year:04d} '
            f'{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {zone}"')
    return text.encode("ascii")


# date-time as a client sends it (APPEND): day is 1*2DIGIT there for leniency towards "7-Jul-..."
# date-day-fixed written without the space; zone = ("+" / "-") 4DIGIT.
DATE_TIME_RE = re.compile(r"^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")


def parse_date_time(text: str) -> float:
    """The epoch of an RFC 3501 date-time (without its quotes); raises ValueError when it is not one."""
    m = DATE_TIME_RE.match(text)
    if not m:
        raise ValueError(f"not a date-time: {text!r}")
    day, mon, year, hh, mm, ss, sign, zh, zm = m.groups()
    months = [name.upper() for name in MONTHS]
    if mon.upper() not in months:
        raise ValueError(f"unknown month {mon!r}")
    if int(zm) > 59:
        raise ValueError(f"bad zone in {text!r}")
    offset = dt.timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == "-" else 1)
    try:
        moment = dt.datetime(int(year), months.index(mon.upper()) + 1, int(day), int(hh), int(mm), int(ss),
                             tzinfo=dt.timezone(offset))
    except ValueError as exc:
        raise ValueError(f"not a date-time: {text!r} ({exc})") from None
    return moment.timestamp()


# Modified UTF-7 (RFC 3501 5.1.3): printable US-ASCII other than "&" stands for itself, "&" is "&-",
# everything else is UTF-16 in modified BASE64 (RFC 2152 with "," for "/", no padding) between "&" and "-".

def _is_direct(ch: str) -> bool:
    return 0x20 <= ord(ch) <= 0x7E


def mutf7_encode(name: str) -> str:
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            utf16 = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(utf16).decode("ascii").rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if _is_direct(ch):
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


MUTF7_B64 = re.compile(r"[A-Za-z0-9+,]*")


def mutf7_decode(name: str) -> str:
    """The mailbox name a modified UTF-7 name stands for; ValueError when it is not valid modified UTF-7
    (raw non-printable or 8-bit characters, an unterminated shift, a superfluous shift "-&", printable
    ASCII encoded in BASE64, bad UTF-16, non-zero padding bits)."""
    out: list[str] = []
    i = 0
    after_run = False  # the previous character ended a BASE64 run
    while i < len(name):
        ch = name[i]
        if ch != "&":
            if not _is_direct(ch):
                raise ValueError(f"character {ch!r} must be encoded in modified UTF-7")
            out.append(ch)
            i += 1
            after_run = False
            continue
        end = name.find("-", i + 1)
        if end < 0:
            raise ValueError("modified BASE64 not terminated by '-'")
        encoded = name[i + 1:end]
        if encoded == "":
            out.append("&")
            after_run = False
        else:
            if after_run:
                raise ValueError("superfluous shift: two adjacent BASE64 runs")
            out.append(_decode_run(encoded))
            after_run = True
        i = end + 1
    return "".join(out)


def _decode_run(encoded: str) -> str:
    if not MUTF7_B64.fullmatch(encoded):
        raise ValueError(f"invalid modified BASE64 {encoded!r}")
    bits = len(encoded) * 6
    if bits % 16 >= 6:  # a whole BASE64 character of leftover: the encoder never writes one
        raise ValueError(f"modified BASE64 {encoded!r} has a partial UTF-16 unit")
    std = encoded.replace(",", "/")
    raw = base64.b64decode(std + "=" * (-len(std) % 4))
    leftover = bits % 16  # 0, 2 or 4 bits that pad the last character: they must be zero
    if leftover and _low_bits(std[-1], leftover):
        raise ValueError(f"modified BASE64 {encoded!r} has non-zero padding bits")
    try:
        text = raw.decode("utf-16-be")
    except UnicodeDecodeError:
        raise ValueError(f"modified BASE64 {encoded!r} is not valid UTF-16") from None
    if any(_is_direct(ch) for ch in text):
        raise ValueError(f"modified BASE64 {encoded!r} encodes printable US-ASCII")
    return text


def _low_bits(char: str, count: int) -> int:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return alphabet.index(char) & ((1 << count) - 1)
