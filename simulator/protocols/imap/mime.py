"""Message structure with byte offsets, and what FETCH derives from it: ENVELOPE, BODY and BODYSTRUCTURE
(RFC 3501 7.4.2, RFC 9051 7.5.2), BODY[section] (RFC 3501 6.4.5) and BINARY[part] (RFC 3516).

    part = parse(msg)                 # the tree of MIME entities, each with its byte range in msg
    section(msg, "1.2.MIME")          # the exact octets a client gets for BODY[1.2.MIME]
    bodystructure(msg)                # b'("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 12 1 ...)'

The parser works on the raw octets (not the `email` package, which gives no offsets) so that every
section is a slice of the message. RFC 2046 5.1.1 decides where parts are: the CRLF before a boundary
line belongs to the boundary, the preamble and epilogue belong to no part, a boundary line may carry
trailing whitespace, and a missing close delimiter ends the last part at the end of the enclosing body.
Bare LF line ends are read like CRLF.
"""
from __future__ import annotations

import binascii
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import encode
from . import headers as hdr

MAX_DEPTH = 50  # nesting beyond this is not parsed: the entity is taken as application/octet-stream
ENCAPSULATING = ("rfc822", "global")  # message/global (RFC 6532 3.5) nests like message/rfc822 (RFC 9051)
IDENTITY_ENCODINGS = ("7BIT", "8BIT", "BINARY")


class UnknownEncoding(ValueError):
    """A Content-Transfer-Encoding BINARY cannot undo: the server answers NO [UNKNOWN-CTE] (RFC 3516 4.1)."""


class BadSection(ValueError):
    """A section specification that does not follow the grammar (the server answers BAD)."""


@dataclass
class Part:
    """One MIME entity: a whole message, a body part of a multipart, or an encapsulated message.

    header = msg[start:header_end] (with the empty line that ends it, if any), body = msg[header_end:end].
    """

    start: int
    header_end: int
    end: int
    mime_type: str = "text"  # lower-case
    subtype: str = "plain"
    params: dict[str, str] = field(default_factory=lambda: {"charset": "us-ascii"})  # names lower-case
    id: str | None = None
    description: str | None = None
    encoding: str = "7BIT"  # upper-case
    disposition: tuple[str, dict[str, str]] | None = None
    language: list[str] | None = None
    location: str | None = None
    md5: str | None = None
    children: list[Part] = field(default_factory=list)  # the body parts of a multipart
    message: Part | None = None  # the encapsulated message of message/rfc822

    def header(self, msg: bytes) -> bytes:
        return msg[self.start:self.header_end]

    def body(self, msg: bytes) -> bytes:
        return msg[self.header_end:self.end]

    @property
    def is_multipart(self) -> bool:
        return self.mime_type == "multipart"

    @property
    def is_message(self) -> bool:
        return self.message is not None


# --- parsing ------------------------------------------------------------------------------------------

def parse(msg: bytes) -> Part:
    return _entity(msg, 0, len(msg), in_digest=False, depth=0)


def _entity(msg: bytes, start: int, end: int, *, in_digest: bool, depth: int) -> Part:
    header_end = hdr.header_end(msg, start, end)
    flds = hdr.fields(msg[start:header_end])
    part = Part(start, header_end, end)
    _content_type(part, hdr.first(flds, "Content-Type"), in_digest)
    part.encoding = hdr.transfer_encoding(hdr.first(flds, "Content-Transfer-Encoding"))
    part.id = hdr.first(flds, "Content-ID")
    part.description = hdr.first(flds, "Content-Description")
    part.md5 = hdr.first(flds, "Content-MD5")
    part.location = hdr.first(flds, "Content-Location")
    disposition = hdr.first(flds, "Content-Disposition")
    part.disposition = hdr.parse_disposition(disposition) if disposition is not None else None
    language = hdr.first(flds, "Content-Language")
    part.language = (hdr.language_tags(language) or None) if language is not None else None
    if depth >= MAX_DEPTH and (part.is_multipart or part.mime_type == "message"):
        part.mime_type, part.subtype, part.params = "application", "octet-stream", {}
    elif part.is_multipart:
        part.children = _body_parts(msg, part, depth)
    elif part.mime_type == "message" and part.subtype in ENCAPSULATING:
        part.message = _entity(msg, header_end, end, in_digest=False, depth=depth + 1)
    return part


def _content_type(part: Part, value: str | None, in_digest: bool) -> None:
    """RFC 2045 5.2: no Content-Type means text/plain; charset=us-ascii, and so does an invalid one;
    inside multipart/digest the default is message/rfc822 (RFC 2046 5.1.5). A multipart without its
    required boundary parameter is invalid. A text type without charset is us-ascii (RFC 2046 4.1.2)."""
    parsed = hdr.parse_content_type(value) if value is not None else None
    if value is None and in_digest:
        part.mime_type, part.subtype, part.params = "message", "rfc822", {}
        return
    if parsed is None or (parsed[0] == "multipart" and not parsed[2].get("boundary")):
        return  # the dataclass defaults are text/plain; charset=us-ascii
    part.mime_type, part.subtype, part.params = parsed
    if part.mime_type == "text" and "charset" not in part.params:
        part.params["charset"] = "us-ascii"


def _delimiter_re(boundary: str) -> re.Pattern[bytes]:
    # delimiter := CRLF dash-boundary ; close-delimiter := delimiter "--" ; each line may end in
    # transport-padding (*LWSP-char) before its CRLF (RFC 2046 5.1.1). The CRLF is matched by the caller.
    return re.compile(rb"^--" + re.escape(hdr.octets(boundary)) + rb"(--)?[ \t]*\r?$", re.MULTILINE)


def _body_parts(msg: bytes, part: Part, depth: int) -> list[Part]:
    delimiter = _delimiter_re(part.params["boundary"])
    in_digest = part.subtype == "digest"
    children: list[Part] = []
    open_at: int | None = None  # where the body part after the last delimiter line starts
    for m in delimiter.finditer(msg, part.header_end, part.end):
        if open_at is not None:
            # the line end before the delimiter line is the delimiter's, not the part's
            line_start = m.start()
            crlf = 2 if msg[max(0, line_start - 2):line_start] == b"\r\n" else 1  # a match follows an LF
            part_end = max(open_at, line_start - crlf)
            children.append(_entity(msg, open_at, part_end, in_digest=in_digest, depth=depth + 1))
        if m.group(1):  # close delimiter: what follows is the epilogue
            open_at = None
            break
        open_at = m.end() + 1 if msg[m.end():m.end() + 1] == b"\n" else m.end()
    if open_at is not None:  # no close delimiter: the last part runs to the end of the body
        children.append(_entity(msg, open_at, part.end, in_digest=in_digest, depth=depth + 1))
    if not children:
        # No delimiter line at all. BODYSTRUCTURE needs 1*body, so report one empty text/plain part
        # (as Dovecot does) where the body starts.
        children.append(Part(part.header_end, part.header_end, part.header_end))
    return children


def walk(part: Part) -> Iterator[Part]:
    """`part` and every entity inside it, depth first, encapsulated messages included."""
    yield part
    for child in part.children:
        yield from walk(child)
    if part.message is not None:
        yield from walk(part.message)


# --- section specifications -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    """section-spec = section-msgtext / (section-part ["." section-text]) (RFC 3501 9)."""

    part: tuple[int, ...]  # section-part: nz-number *("." nz-number); () for the message itself
    text: str | None  # HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME, or None
    fields: tuple[str, ...] = ()  # the header-list of HEADER.FIELDS[.NOT]


MSGTEXT = ("HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT")
NZ_NUMBER = re.compile(r"[1-9][0-9]*")
HEADER_NAME = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s()"]+)')  # header-fld-name = astring


def parse_section(spec: str) -> Section:
    head, space, rest = spec.partition(" ")
    items = head.split(".") if head else []
    if "" in items:
        raise BadSection(f"empty part specifier in {spec!r}")
    numbers: list[int] = []
    while items and items[0].isdigit():
        if not NZ_NUMBER.fullmatch(items[0]) or int(items[0]) >= 2 ** 32:
            raise BadSection(f"bad part number {items[0]!r}")
        numbers.append(int(items.pop(0)))
    text = ".".join(items).upper() or None
    if text is not None and text not in MSGTEXT and not (text == "MIME" and numbers):
        raise BadSection(f"unknown section text {'.'.join(items)!r}" if text != "MIME"
                         else "MIME needs a part number")
    if text not in ("HEADER.FIELDS", "HEADER.FIELDS.NOT"):
        if space:
            raise BadSection(f"unexpected {rest!r} after the section")
        return Section(tuple(numbers), text)
    if not (rest.startswith("(") and rest.endswith(")")):
        raise BadSection(f"{text} needs a parenthesized list of field names")
    names = []
    pos, inner = 0, rest[1:-1]
    while pos < len(inner):
        if inner[pos] == " ":
            pos += 1
            continue
        m = HEADER_NAME.match(inner, pos)
        if not m:
            raise BadSection(f"bad field name in {rest!r}")
        names.append(re.sub(r"\\(.)", r"\1", m.group(1)) if m.group(1) is not None else m.group(2))
        pos = m.end()
    if not names:
        raise BadSection(f"{text} needs at least one field name")
    return Section(tuple(numbers), text, tuple(names))


def find_part(top: Part, numbers: tuple[int, ...]) -> Part | None:
    """The part that a section-part number names (RFC 3501 6.4.5): a multipart's parts are numbered from
    1; a message that is not multipart has only part 1, its own body; a message/rfc822 part's numbers
    continue inside the encapsulated message by the same rule."""
    part: Part | None = None
    for n in numbers:
        if part is None:
            candidates = _message_parts(top)
        elif part.message is not None:
            candidates = _message_parts(part.message)
        elif part.is_multipart:
            candidates = part.children
        else:
            return None
        if n > len(candidates):
            return None
        part = candidates[n - 1]
    return part


def _message_parts(message: Part) -> list[Part]:
    return message.children if message.is_multipart else [message]


def section(msg: bytes, spec: str | Section, top: Part | None = None) -> bytes | None:
    """The contents of BODY[spec]; None when the part does not exist, or when HEADER/TEXT is asked of a
    part that is not a message/rfc822."""
    sec = parse_section(spec) if isinstance(spec, str) else spec
    top = top or parse(msg)
    target = find_part(top, sec.part) if sec.part else top
    if target is None:
        return None
    if sec.text is None:
        return target.body(msg) if sec.part else msg[top.start:top.end]
    if sec.text == "MIME":
        return target.header(msg)
    message = target if not sec.part else target.message
    if message is None:
        return None
    if sec.text == "TEXT":
        return message.body(msg)
    if sec.text == "HEADER":
        return message.header(msg)
    return header_fields(message.header(msg), sec.fields, exclude=sec.text == "HEADER.FIELDS.NOT")


def header_fields(header: bytes, names: tuple[str, ...] | list[str], *, exclude: bool = False) -> bytes:
    """HEADER.FIELDS / HEADER.FIELDS.NOT: the fields whose name is (or is not) in `names`, compared
    case-insensitively, as they are in the message and in their order, then the header's empty line."""
    wanted = {n.lower() for n in names}
    kept = [f.raw for f in hdr.fields(header)
            if ((f.name is not None and f.name.lower() in wanted) != exclude)]
    return b"".join(kept) + hdr.blank_line(header)


# --- BINARY ------------------------------------------------------------------------------------------------

def _binary_part(msg: bytes, part_spec: str) -> tuple[Part | None, Part]:
    sec = parse_section(part_spec)
    if sec.text is not None:
        raise BadSection("BINARY takes a part number only")
    top = parse(msg)
    return (find_part(top, sec.part) if sec.part else None), top


def binary(msg: bytes, part_spec: str) -> bytes | None:
    """BINARY[part] (RFC 3516 4.2): the part's body with its Content-Transfer-Encoding undone; the whole
    message for an empty part ("BINARY[]"); None when the part does not exist."""
    if part_spec == "":
        return msg
    part, _ = _binary_part(msg, part_spec)
    if part is None:
        return None
    return decode_transfer(part.body(msg), part.encoding)


def binary_size(msg: bytes, part_spec: str) -> int | None:
    """BINARY.SIZE[part] (RFC 3516 4.2): the size BINARY[part] has."""
    data = binary(msg, part_spec)
    return None if data is None else len(data)


def decode_transfer(body: bytes, encoding: str) -> bytes:
    encoding = encoding.upper()
    if encoding in IDENTITY_ENCODINGS:
        return body
    if encoding == "BASE64":
        return _base64(body)
    if encoding == "QUOTED-PRINTABLE":
        return _quoted_printable(body)
    raise UnknownEncoding(encoding)


def _base64(body: bytes) -> bytes:
    """RFC 2045 6.8: characters outside the alphabet are ignored; "=" ends the data."""
    data = re.sub(rb"[^A-Za-z0-9+/]", b"", body.split(b"=", 1)[0])
    data = data[:len(data) - len(data) % 4] if len(data) % 4 == 1 else data  # 6 stray bits carry no octet
    return binascii.a2b_base64(data + b"=" * (-len(data) % 4)) if data else b""


def _quoted_printable(body: bytes) -> bytes:
    """RFC 2045 6.7: trailing whitespace on a line is dropped, "=" at the end of a line is a soft break,
    "=XX" is an octet; a "=" not followed by two hex digits is kept as it is (the robust reading 6.7
    suggests)."""
    out = []
    for line in re.findall(rb"[^\n]*\n|[^\n]+$", body):
        ending = b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""
        content = line[:len(line) - len(ending)].rstrip(b" \t")
        if content.endswith(b"="):
            content, ending = content[:-1], b""
        # a2b_qp decodes =XX and keeps other "=" as they are, but takes a final "=" for a soft break
        tail = b"=" if content.endswith(b"=") else b""
        out.append(binascii.a2b_qp(content[:len(content) - len(tail)]) + tail + ending)
    return b"".join(out)


def decoded_text(msg: bytes, part: Part) -> str:
    """A text part's body as text: transfer encoding undone (left as is when unknown) and its charset
    applied (UTF-8 when the charset is unknown)."""
    try:
        data = decode_transfer(part.body(msg), part.encoding)
    except UnknownEncoding:
        data = part.body(msg)
    return hdr.decode_charset(data, part.params.get("charset"))


# --- ENVELOPE ---------------------------------------------------------------------------------------------

def _nstring(value: str | None) -> bytes:
    # NUL cannot travel in an IMAP string; header fields should not carry it, and if one does it is dropped
    return encode.string(None if value is None else hdr.octets(value).replace(b"\0", b""))


def envelope(msg: bytes, part: Part | None = None) -> bytes:
    """ENVELOPE of the message whose header is `part`'s (the whole message by default; for a
    message/rfc822 part pass its `.message`). Strings are the unfolded field values as written, encoded
    words included (RFC 3501 7.4.2: the client decodes them)."""
    header = part.header(msg) if part is not None else msg[:hdr.header_end(msg, 0, len(msg))]
    flds = hdr.fields(header)
    from_ = _address_list(hdr.first(flds, "From"))
    sender = _address_list(hdr.first(flds, "Sender")) or from_
    reply_to = _address_list(hdr.first(flds, "Reply-To")) or from_
    items = [_nstring(hdr.first(flds, "Date")), _nstring(hdr.first(flds, "Subject")),
             from_, sender, reply_to,
             _address_list(hdr.first(flds, "To")), _address_list(hdr.first(flds, "Cc")),
             _address_list(hdr.first(flds, "Bcc")),
             _nstring(hdr.first(flds, "In-Reply-To")), _nstring(hdr.first(flds, "Message-ID"))]
    return encode.paren(item or encode.NIL for item in items)


def _address_list(value: str | None) -> bytes:
    """env-from etc. = "(" 1*address ")" / nil: NIL when the field is absent or holds no address."""
    addresses = hdr.parse_addresses(value)
    if not addresses:
        return b""
    return b"(" + b"".join(encode.paren([_nstring(a.name), _nstring(a.adl), _nstring(a.mailbox),
                                         _nstring(a.host)]) for a in addresses) + b")"


# --- BODY and BODYSTRUCTURE ---------------------------------------------------------------------------------

def bodystructure(msg: bytes, part: Part | None = None, *, extensible: bool = True) -> bytes:
    """BODYSTRUCTURE (extensible=True, with extension data) or BODY (extensible=False) of `part` (the
    whole message by default)."""
    return _structure(msg, part or parse(msg), extensible)


def _structure(msg: bytes, part: Part, ext: bool) -> bytes:
    if part.is_multipart:
        # body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
        out = b"".join(_structure(msg, child, ext) for child in part.children)
        out += b" " + _nstring(part.subtype.upper())
        if ext:
            out += b" " + b" ".join([_params(part.params), _disposition(part), _language(part),
                                     _nstring(part.location)])
        return b"(" + out + b")"
    body = part.body(msg)
    # body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
    fields = [_nstring(part.mime_type.upper()), _nstring(part.subtype.upper()), _params(part.params),
              _nstring(part.id), _nstring(part.description), _nstring(part.encoding.upper()),
              encode.number(len(body))]
    if part.message is not None:
        # body-type-msg: ... SP envelope SP body SP body-fld-lines
        fields += [envelope(msg, part.message), _structure(msg, part.message, ext), _lines(body)]
    elif part.mime_type == "text":
        fields.append(_lines(body))  # body-type-text: ... SP body-fld-lines
    if ext:
        # body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
        fields += [_nstring(part.md5), _disposition(part), _language(part), _nstring(part.location)]
    return encode.paren(fields)


def _lines(body: bytes) -> bytes:
    """body-fld-lines: the line ends in the body as transmitted. A part's last line has none (its CRLF
    belongs to the boundary) and is not counted, as in Dovecot and UW imapd."""
    return encode.number(body.count(b"\n"))


def _params(params: dict[str, str]) -> bytes:
    """body-fld-param = "(" string SP string *(SP string SP string) ")" / nil. Names go upper-case,
    values as written; a value that is not printable US-ASCII (after RFC 2231 decoding) is sent
    RFC 2231-encoded in UTF-8 under "NAME*", which keeps the response 7-bit and loses nothing."""
    if not params:
        return encode.NIL
    items = []
    for name, value in params.items():
        if all(0x20 <= ord(c) <= 0x7E for c in value):
            items += [_nstring(name.upper()), _nstring(value)]
        else:
            encoded = "utf-8''" + urllib.parse.quote(hdr.octets(value), safe="")  # unreserved stay
            items += [_nstring(name.upper() + "*"), _nstring(encoded)]
    return encode.paren(items)


def _disposition(part: Part) -> bytes:
    """body-fld-dsp = "(" string SP body-fld-param ")" / nil."""
    if part.disposition is None:
        return encode.NIL
    kind, params = part.disposition
    return b"(" + _nstring(kind.upper()) + b" " + _params(params) + b")"


def _language(part: Part) -> bytes:
    """body-fld-lang = nstring / "(" string *(SP string) ")": always the list form when present."""
    if not part.language:
        return encode.NIL
    return encode.paren(_nstring(tag) for tag in part.language)
