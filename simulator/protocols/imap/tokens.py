"""The values an IMAP command is made of, after the lexer: what SEARCH, FETCH and the rest are parsed from.

RFC 3501 9 / RFC 9051 9 (formal syntax): an argument is an atom, a quoted string, a literal, or a
parenthesized list of those. The lexer keeps that distinction (an atom NIL is not the string "NIL"), and
leaves meaning to the command parsers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Atom:
    """An atom, including sequence sets ("1:*"), flags ("\\Seen"), and section specs ("BODY[1.2]<0.10>")."""

    text: str

    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class String:
    """A quoted string or a literal; `literal` tells which (and `binary` a literal8, RFC 3516)."""

    value: bytes
    literal: bool = False
    binary: bool = False

    def text(self) -> str:
        return self.value.decode("utf-8", "replace")


@dataclass(frozen=True)
class List:
    items: tuple["Token", ...]


Token = Union[Atom, String, List]


def astring(token: Token) -> str | None:
    """The text of an astring argument (atom or string), None if the token is a list."""
    if isinstance(token, Atom):
        return token.text
    if isinstance(token, String):
        return token.text()
    return None
