"""FETCH: the data items a client may ask for (RFC 3501 6.4.5, RFC 9051 6.4.5, RFC 3516 BINARY, RFC 7162
MODSEQ), parsed from tokens, and rendered for one message.

    items = parse_items(token)                     # "ALL", "(FLAGS BODY.PEEK[1]<0.100>)", ...
    data = render(items, message)                  # b"UID 7 FLAGS (\\Seen) BODY[1]<0> {100}\\r\\n..."
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import encode, mime
from .tokens import Atom, List, Token

MACROS = {"ALL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
          "FAST": ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
          "FULL": ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"]}
SIMPLE = {"FLAGS", "UID", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822",
          "RFC822.HEADER", "RFC822.TEXT", "MODSEQ"}
# BODY[section]<partial>, BODY.PEEK[...], BINARY[...], BINARY.PEEK[...], BINARY.SIZE[...]
SECTIONED = re.compile(r"^(BODY|BODY\.PEEK|BINARY|BINARY\.PEEK|BINARY\.SIZE)\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$",
                       re.IGNORECASE)


class FetchError(ValueError):
    pass


@dataclass(frozen=True)
class Item:
    name: str  # FLAGS, UID, ..., or BODY / BINARY / BINARY.SIZE for sectioned items
    section: str | None = None  # the text between the brackets, as the client wrote it
    peek: bool = False
    partial: tuple[int, int] | None = None  # <origin.octets>

    @property
    def sets_seen(self) -> bool:
        """Items that read the message text set \\Seen (RFC 3501 6.4.5)."""
        return (self.name in ("BODY", "BINARY") and self.section is not None and not self.peek) or \
            self.name in ("RFC822", "RFC822.TEXT")

    @property
    def needs_body(self) -> bool:
        return self.name not in ("FLAGS", "UID", "INTERNALDATE", "RFC822.SIZE", "MODSEQ")


def parse_items(token: Token) -> list[Item]:
    if isinstance(token, Atom) and token.upper() in MACROS:
        return [Item(n) for n in MACROS[token.upper()]]
    atoms = token.items if isinstance(token, List) else (token,)
    if not atoms:
        raise FetchError("empty list of data items")
    items = []
    for atom in atoms:
        if not isinstance(atom, Atom):
            raise FetchError("data items are atoms")
        items.append(_item(atom.text))
    return items


def _item(text: str) -> Item:
    upper = text.upper()
    if upper in SIMPLE:
        return Item(upper)
    m = SECTIONED.match(text)
    if not m:
        raise FetchError(f"unknown data item {text[:40]}")
    kind, section, origin, count = m.groups()
    kind = kind.upper()
    if kind.startswith("BINARY") and not re.fullmatch(r"(?:[1-9]\d*(?:\.[1-9]\d*)*)?", section):
        raise FetchError(f"bad BINARY section [{section[:40]}]")  # RFC 3516: part numbers only
    try:
        mime.parse_section(section)
    except mime.BadSection as exc:
        raise FetchError(f"bad section [{section[:40]}]: {exc}") from None
    if kind == "BINARY.SIZE" and origin is not None:
        raise FetchError("BINARY.SIZE takes no partial")
    partial = (int(origin), int(count)) if origin is not None else None
    if partial is not None and partial[1] == 0:
        raise FetchError("the octet count of a partial is a non-zero number")  # RFC 3501 9: nz-number
    name = {"BODY.PEEK": "BODY", "BINARY.PEEK": "BINARY"}.get(kind, kind)
    return Item(name, section.upper() if "HEADER.FIELDS" not in section.upper() else _fields(section),
                peek=kind.endswith(".PEEK"), partial=partial)


def _fields(section: str) -> str:
    head, _, rest = section.partition("(")
    return head.upper() + "(" + rest.upper()


@dataclass
class Message:
    seq: int
    uid: int
    flags: frozenset[str]
    internal_date: float
    size: int
    modseq: int
    raw: bytes | None  # None when no item needs it


def render(items: list[Item], msg: Message, *, with_uid: bool = False, with_modseq: bool = False) -> bytes:
    """The parenthesized data of one FETCH response (without "* n FETCH ")."""
    parts: list[bytes] = []
    names = {i.name for i in items}
    if with_uid and "UID" not in names:
        parts.append(b"UID %d" % msg.uid)  # UID FETCH always returns UID (RFC 3501 6.4.8)
    for item in items:
        parts.append(_render(item, msg))
    if with_modseq and "MODSEQ" not in names:
        parts.append(b"MODSEQ (%d)" % msg.modseq)  # CONDSTORE enabled: every FETCH carries it (RFC 7162 3.1.4.1)
    return b"(" + b" ".join(parts) + b")"


def _render(item: Item, msg: Message) -> bytes:
    n = item.name
    if n == "FLAGS":
        return b"FLAGS " + encode.flag_list(sorted(msg.flags))
    if n == "UID":
        return b"UID %d" % msg.uid
    if n == "INTERNALDATE":
        return b"INTERNALDATE " + encode.date_time(msg.internal_date)
    if n == "RFC822.SIZE":
        return b"RFC822.SIZE %d" % msg.size
    if n == "MODSEQ":
        return b"MODSEQ (%d)" % msg.modseq
    raw = msg.raw
    if n == "ENVELOPE":
        return b"ENVELOPE " + mime.envelope(raw)
    if n == "BODYSTRUCTURE":
        return b"BODYSTRUCTURE " + mime.bodystructure(raw, extensible=True)
    if n == "BODY" and item.section is None:
        return b"BODY " + mime.bodystructure(raw, extensible=False)
    if n == "RFC822":
        return b"RFC822 " + encode.literal(raw)  # the whole message, as stored
    if n == "RFC822.HEADER":
        return b"RFC822.HEADER " + encode.literal(mime.section(raw, "HEADER") or b"")
    if n == "RFC822.TEXT":
        return b"RFC822.TEXT " + encode.literal(mime.section(raw, "TEXT") or b"")
    if n == "BINARY.SIZE":
        size = mime.binary_size(raw, item.section)
        return f"BINARY.SIZE[{item.section}] ".encode() + (b"NIL" if size is None else str(size).encode())
    if n == "BINARY":
        data = mime.binary(raw, item.section)
        label = f"BINARY[{item.section}]".encode()
        if data is None:
            return label + b" NIL"
        return label + _partial(item, data, binary=True)
    data = raw if item.section == "" else mime.section(raw, item.section)  # BODY[] needs no parsing
    label = f"BODY[{item.section}]"
    if data is None:
        return label.encode() + (b"<%d>" % item.partial[0] if item.partial else b"") + b" NIL"
    return label.encode() + _partial(item, data, binary=False)


def _partial(item: Item, data: bytes, *, binary: bool) -> bytes:
    origin = b""
    if item.partial is not None:
        start, count = item.partial
        data = data[start:start + count]
        origin = b"<%d>" % start  # the response names the origin only (RFC 3501 7.4.2)
    if binary and b"\0" in data:
        return origin + b" ~" + encode.literal(data)  # literal8 (RFC 3516 4.2)
    return origin + b" " + encode.literal(data)
