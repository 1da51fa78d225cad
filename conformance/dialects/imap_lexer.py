"""IMAP responses as octets: framing (where one response ends) and tokens (what it is made of).

No sockets here: `ResponseReader` is fed octets in pieces of any size (a literal may arrive split across
many reads, or one octet at a time) and hands out complete responses; `tokens` cuts one response into the
tokens the parser needs. Both are lenient: what is wrong is recorded in `problems`, nothing is thrown, so
the checks about response syntax can judge it and everything else can go on.

Framing (RFC 3501 sections 2.2.1, 4.3 and 7.5; RFC 9051 the same; RFC 3516 section 4.1 for literal8):

    response   = a line, where a line that ends in a literal marker is followed by that many octets
                 and then the rest of the response, which is again a line
    literal    = "{" number "}" CRLF *CHAR8        ; number = the octet count, octets may be anything
    literal8   = "~{" number "}" CRLF *OCTET       ; BINARY: NUL allowed
    continue-req = "+" SP (resp-text / base64) CRLF    ; never carries a literal

Tokens (RFC 3501 section 9, the parts a client reads):

    atom       = 1*ATOM-CHAR            ; also numbers, flags (\\Seen, \\*) and FETCH item names, whose
                                          "[...]" section (spaces allowed inside) and "<n>" origin
                                          belong to the atom, e.g. BODY[HEADER.FIELDS (TO)]<0>
    quoted     = DQUOTE *(QUOTED-CHAR / "\\" quoted-specials) DQUOTE
    literal    = see above
    "(" and ")" open and close a parenthesized list; NIL is the atom NIL (a quoted "NIL" is a string)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

LITERAL_MARK_RE = re.compile(rb"(~?)\{(\d{1,19})(\+?)\}\Z")
MAX_LITERAL = 256 * 1024 * 1024  # octets; a larger announcement is recorded as a problem and not read
MAX_LINE = 1024 * 1024  # octets in one line before the reader gives up waiting for its end


@dataclass(frozen=True)
class Literal:
    """The octets of a literal inside a response (`binary` for a literal8, `~{n}`)."""

    data: bytes
    binary: bool = False


@dataclass
class RawResponse:
    """One response exactly as received. `parts` alternates text and literals: every text part is one line
    without its line end (a text part followed by a literal still ends in the `{n}` marker)."""

    parts: list[bytes | Literal]
    raw: bytes
    problems: list[str] = field(default_factory=list)

    @property
    def first_line(self) -> bytes:
        return self.parts[0] if self.parts and isinstance(self.parts[0], bytes) else b""

    def text(self) -> str:
        """The whole response as text (literal octets inline after their marker), without the final CRLF."""
        out = bytearray()
        for part in self.parts:
            if isinstance(part, Literal):
                out += b"\r\n" + part.data
            else:
                out += part
        return out.decode("utf-8", "backslashreplace")


class ResponseReader:
    """Octets in, complete responses out.

        reader.feed(data)
        while (response := reader.next_response()) is not None: ...
        reader.wanted()   # how many octets of a literal are still missing (0: a line is wanted)
    """

    def __init__(self, max_literal: int = MAX_LITERAL) -> None:
        self.max_literal = max_literal
        self._buffer = bytearray()
        self._parts: list[bytes | Literal] = []
        self._raw = bytearray()
        self._problems: list[str] = []
        self._literal: tuple[int, bool] | None = None  # (octets, literal8) the response still owes

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def buffered(self) -> int:
        return len(self._buffer)

    def wanted(self) -> int:
        """Octets of a literal still missing (beyond what is buffered); 0 when the next need is a line."""
        if self._literal is None:
            return 0
        return max(0, self._literal[0] - len(self._buffer))

    def in_response(self) -> bool:
        """Whether part of a response has been read (a line with a literal marker, or its literal)."""
        return bool(self._parts) or self._literal is not None

    def next_response(self) -> RawResponse | None:
        while True:
            if self._literal is not None:
                size, binary = self._literal
                if len(self._buffer) < size:
                    return None
                data = bytes(self._buffer[:size])
                del self._buffer[:size]
                self._raw += data
                self._parts.append(Literal(data, binary))
                self._literal = None
                if not binary and b"\0" in data:
                    self._problems.append("a literal (not a literal8) contains a NUL octet")
                continue
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:
                    self._problems.append(f"a line longer than {MAX_LINE} octets; cut there")
                    end = len(self._buffer) - 1
                else:
                    return None
            line = bytes(self._buffer[:end + 1])
            del self._buffer[:end + 1]
            self._raw += line
            if line.endswith(b"\r\n"):
                text = line[:-2]
            else:
                text = line[:-1] if line.endswith(b"\n") else line
                self._problems.append(f"a line ends with a bare LF, not CRLF: {line[-60:]!r}")
            if b"\r" in text:
                self._problems.append(f"a bare CR inside a line: {text[:60]!r}")
            self._parts.append(text)
            is_continuation = len(self._parts) == 1 and text.startswith(b"+")
            mark = None if is_continuation else LITERAL_MARK_RE.search(text)
            if mark is not None:
                size = int(mark.group(2))
                if mark.group(3):
                    self._problems.append(f"the server sent a non-synchronizing literal marker {mark.group(0)!r}")
                if size > self.max_literal:
                    self._problems.append(f"a literal of {size} octets is announced, more than the "
                                          f"{self.max_literal} this client reads; not read")
                else:
                    self._literal = (size, bool(mark.group(1)))
                    continue
            response = RawResponse(self._parts, bytes(self._raw), self._problems)
            self._parts, self._raw, self._problems = [], bytearray(), []
            return response


# --- tokens ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "atom", "string" (quoted), "literal", "(", ")"
    value: bytes = b""


ATOM_END = frozenset(b' ()"\r\n')


def tokens(parts: list[bytes | Literal], problems: list[str] | None = None) -> list[Token]:
    """The tokens of a response (or of a piece of one: pass a single text part as `[text]`). The literal
    marker at the end of a text part is not a token: the literal that follows is."""
    problems = problems if problems is not None else []
    out: list[Token] = []
    for part in parts:
        if isinstance(part, Literal):
            out.append(Token("literal", part.data))
            continue
        text = part
        mark = LITERAL_MARK_RE.search(text)
        if mark is not None:
            text = text[:mark.start()]
        _lex_text(text, out, problems)
    return out


def _lex_text(text: bytes, out: list[Token], problems: list[str]) -> None:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == 0x20:
            i += 1
        elif c == 0x28:  # (
            out.append(Token("("))
            i += 1
        elif c == 0x29:  # )
            out.append(Token(")"))
            i += 1
        elif c == 0x22:  # "
            value = bytearray()
            i += 1
            while i < n and text[i] != 0x22:
                if text[i] == 0x5C and i + 1 < n:  # backslash escapes the next octet
                    if text[i + 1] not in (0x22, 0x5C):
                        problems.append(f"a quoted string escapes {chr(text[i + 1])!r}, which only \\\" and "
                                        "\\\\ may be")
                    i += 1
                value.append(text[i])
                i += 1
            if i >= n:
                problems.append(f"a quoted string is not closed: {text[-60:]!r}")
            out.append(Token("string", bytes(value)))
            i += 1
        else:
            start = i
            depth = 0
            while i < n and (depth > 0 or text[i] not in ATOM_END):
                if text[i] == 0x5B:  # [ : a section, spaces and parentheses included, up to its ]
                    depth += 1
                elif text[i] == 0x5D and depth > 0:
                    depth -= 1
                i += 1
            if depth > 0:
                problems.append(f"a [ is not closed: {text[start:start + 60]!r}")
            out.append(Token("atom", text[start:i]))
