"""Messages seen through HTTP: the rendering GET returns without `Translate: f`, and attachments.

Exchange answered a plain GET of a message with an Outlook Web Access page; the simulator answers with a
small self-contained HTML page (text/html; charset=utf-8): the From, To, Cc, Subject and Date headers in a
table, then the first text/plain part, escaped, in a <pre> (or, when the message has only HTML, the text of
that HTML part with its markup escaped, never rendered). `Translate: f` gets the RFC 822 text itself.

Attachments (X-MS-ENUMATTS, and GET of <item>/<filename>) are the parts with a file name or an
attachment disposition, named by their file name made unique within the message.
"""
from __future__ import annotations

import email.policy
import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser

SHOWN = ("From", "To", "Cc", "Subject", "Date")


def _parse(body: bytes) -> EmailMessage:
    return BytesParser(policy=email.policy.default).parsebytes(body)


def _text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def render(body: bytes) -> bytes:
    message = _parse(body)
    rows = []
    for name in SHOWN:
        value = message.get(name)
        if value is not None:
            rows.append(f"<tr><th>{name}:</th><td>{html.escape(str(value))}</td></tr>")
    part = message.get_body(preferencelist=("plain", "html"))
    text = _text(part) if part is not None else ""
    subject = html.escape(str(message.get("Subject", "")))
    page = (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{subject}</title></head>\n<body>\n'
            f'<table class="headers">{"".join(rows)}</table>\n<pre class="body">{html.escape(text)}</pre>\n'
            "</body></html>\n")
    return page.encode("utf-8")


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int  # decoded octets
    disposition: str
    content_id: str | None


def _attachment_parts(message: EmailMessage):
    names: set[str] = set()
    n = 0
    for part in message.walk():
        if part.is_multipart() or part is message:
            continue
        filename = part.get_filename()
        if not (part.is_attachment() or filename):
            continue
        n += 1
        base = (filename or f"attachment-{n}").replace("/", "_").replace("\\", "_").strip() or f"attachment-{n}"
        name, i = base, 1
        while name.casefold() in names:
            i += 1
            stem, dot, ext = base.rpartition(".")
            name = f"{stem}-{i}.{ext}" if dot and stem else f"{base}-{i}"
        names.add(name.casefold())
        yield name, part


def attachments(body: bytes) -> list[Attachment]:
    out = []
    for name, part in _attachment_parts(_parse(body)):
        payload = part.get_payload(decode=True) or b""
        out.append(Attachment(name, part.get_content_type(), len(payload),
                              part.get_content_disposition() or "attachment", part.get("Content-ID")))
    return out


def attachment(body: bytes, name: str) -> tuple[str, bytes] | None:
    for found, part in _attachment_parts(_parse(body)):
        if found.casefold() == name.casefold():
            return part.get_content_type(), part.get_payload(decode=True) or b""
    return None
