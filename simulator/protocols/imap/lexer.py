"""Reading IMAP commands off the wire: lines, literals, and the tokens they are made of.

A command is one line, unless it carries literals: `{n}` at the end of a line announces n octets that follow
the line's CRLF, after which the command goes on (RFC 3501 4.3). A synchronizing literal waits for the
server's "+" continuation; a non-synchronizing one, `{n+}` (RFC 7888), does not; `~{n}` is a literal8 that
may hold any octet (RFC 3516).

`CommandReader` assembles commands from an InputBuffer and reports, as data, what the session has to do:

    Need          more input is needed
    Continue      a synchronizing literal was announced: send "+ ..." (or refuse it), then read on
    Assembled     a whole command: its segments are lexed into tokens by `tokenize`
    Overflow      a line or a literal beyond the limits (the command is consumed and must be refused)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...framing import InputBuffer, TooLong
from .tokens import Atom, List, String, Token

LITERAL_AT_END = re.compile(rb"(~?)\{(\d{1,10})(\+)?\}$")  # {n}, {n+} (RFC 7888), ~{n} (RFC 3516)


@dataclass
class Need:
    pass


@dataclass
class Continue:
    size: int


@dataclass
class Overflow:
    what: str  # "line" or "literal"
    tag: str  # as much of the tag as could be read, for the BAD reply
    size: int


@dataclass
class Assembled:
    segments: list[bytes | String] = field(default_factory=list)  # text parts and literal values, in order


class LexError(ValueError):
    pass


class CommandReader:
    def __init__(self, buffer: InputBuffer, max_literal: int, literal_plus: bool = True) -> None:
        self.buffer = buffer
        self.max_literal = max_literal
        self.literal_plus = literal_plus  # LITERAL+: any size; LITERAL-: only up to 4096 octets (RFC 7888)
        self._segments: list[bytes | String] = []
        self._literal: tuple[int, bool, bool] | None = None  # size, binary, synchronizing
        self._discard = 0  # octets of a refused literal still to swallow
        self._refused: Overflow | None = None
        self._granted = False

    def granted(self) -> None:
        """The session sent "+" for the announced synchronizing literal: the client may send it now."""
        self._granted = True

    def refuse_literal(self) -> None:
        """The session refused the announced synchronizing literal: the client will not send it, and the
        command is over."""
        self._segments = []
        self._literal = None

    def next(self) -> Need | Continue | Assembled | Overflow:
        while True:
            if self._discard:
                taken = self.buffer.take_available(self._discard)
                self._discard -= len(taken)
                if self._discard:
                    return Need()
                # the rest of the command line after a discarded literal is discarded too
                self._literal = None
                continue
            if self._literal is not None:
                size, binary, sync = self._literal
                if sync and not self._granted:
                    return Continue(size)
                data = self.buffer.exactly(size)
                if data is None:
                    return Need()
                self._segments.append(String(data, literal=True, binary=binary))
                self._literal = None
                self._granted = False
                continue
            line = self.buffer.line()
            if line is None:
                return Need()
            if self._refused is not None:
                # The rest of a command whose literal was refused: swallow further non-synchronizing
                # literals of it, then refuse the whole command once.
                m = None if isinstance(line, TooLong) else LITERAL_AT_END.search(line)
                if m and m.group(3) == b"+":
                    self._discard = int(m.group(2))
                    continue
                refused, self._refused = self._refused, None
                self._segments = []
                return refused
            if isinstance(line, TooLong):
                tag = self._tag() or line.head.split(b" ", 1)[0].decode("ascii", "replace")[:64]
                self._segments = []
                return Overflow("line", tag, line.length)
            m = LITERAL_AT_END.search(line)
            self._segments.append(line[:m.start()] if m else line)
            if not m:
                segments, self._segments = self._segments, []
                return Assembled(segments)
            size, binary, mark = int(m.group(2)), m.group(1) == b"~", m.group(3)
            sync = mark is None
            if size > self.max_literal or (mark == b"+" and not self.literal_plus and size > 4096):
                if sync:
                    tag = self._tag()
                    self._segments = []
                    return Overflow("literal", tag, size)  # refused before the client sends it
                self._discard = size  # already on its way: swallow it, then refuse the command
                self._refused = Overflow("literal", self._tag(), size)
                continue
            self._literal = (size, binary, sync)

    def pending_text(self) -> bytes:
        """The text of the command so far (its first line), for a session deciding on a literal."""
        return next((s for s in self._segments if isinstance(s, bytes)), b"")

    def _tag(self) -> str:
        first = next((s for s in self._segments if isinstance(s, bytes)), b"")
        return first.split(b" ", 1)[0].decode("ascii", "replace")[:64]


# --- tokens ------------------------------------------------------------------------------------------------

ATOM_STOP = set(b' (){"\\') | set(range(0, 32)) | {127}


def tokenize(segments: list[bytes | String]) -> list[Token]:
    """The tokens of an assembled command: atoms (a section spec in brackets, with its spaces and parens,
    stays inside its atom), quoted strings, literals, and parenthesized lists."""
    stack: list[list[Token]] = [[]]
    for segment in segments:
        if isinstance(segment, String):
            stack[-1].append(segment)
            continue
        i, text = 0, segment
        while i < len(text):
            c = text[i]
            if c == 0x20:
                i += 1
            elif c == 0x28:  # (
                stack.append([])
                i += 1
            elif c == 0x29:  # )
                if len(stack) == 1:
                    raise LexError("unbalanced ')'")
                items = stack.pop()
                stack[-1].append(List(tuple(items)))
                i += 1
            elif c == 0x22:  # "
                value, i = _quoted(text, i)
                stack[-1].append(String(value))
            elif c == 0x5C and i + 1 < len(text) and (text[i + 1] not in ATOM_STOP or text[i + 1] == 0x2A):
                atom, i = _atom(text, i + 1)  # a flag: "\" atom, or "\*" (RFC 3501 9 flag-extension)
                stack[-1].append(Atom("\\" + atom if atom else "\\*"))
                if not atom:
                    i += 1
            elif c in ATOM_STOP:
                raise LexError(f"unexpected character {bytes([c])!r}")
            else:
                atom, i = _atom(text, i)
                stack[-1].append(Atom(atom))
    if len(stack) != 1:
        raise LexError("unbalanced '('")
    return stack[0]


def _quoted(text: bytes, i: int) -> tuple[bytes, int]:
    out = bytearray()
    i += 1
    while i < len(text):
        c = text[i]
        if c == 0x5C:  # backslash: only \" and \\ are quoted-specials (RFC 3501 9)
            if i + 1 >= len(text) or text[i + 1] not in (0x22, 0x5C):
                raise LexError("a backslash in a quoted string may only quote \" or \\")
            out.append(text[i + 1])
            i += 2
        elif c == 0x22:
            return bytes(out), i + 1
        elif c in (0x0D, 0x0A, 0x00):
            raise LexError("CR, LF and NUL are not allowed in a quoted string")
        else:
            out.append(c)
            i += 1
    raise LexError("unterminated quoted string")


def _atom(text: bytes, i: int) -> tuple[str, int]:
    start = i
    depth = 0
    while i < len(text):
        c = text[i]
        if c == 0x5B:  # [ opens a section: spaces and parens are part of it until the matching ]
            depth += 1
        elif c == 0x5D and depth:
            depth -= 1
        elif depth == 0 and c in ATOM_STOP:
            break
        elif depth and c in (0x0D, 0x0A):
            raise LexError("CR or LF inside a section")
        i += 1
    if depth:
        raise LexError("unterminated '['")
    return text[start:i].decode("utf-8", "replace"), i
