"""Request bodies and small readers for Exchange 2003's WebDAV extensions, on the client side of the harness.

Everything here builds octets or reads a `Response` of conformance/dialects/http.py; it never talks to a server
itself. What the builders follow (Exchange Server 2003 SDK, "WebDAV" reference):

    SEARCH        <D:searchrequest xmlns:D="DAV:"><D:sql>query</D:sql></D:searchrequest>, the query in Exchange's
                  SQL: SELECT "prop", ... FROM SCOPE('shallow traversal of "url"') WHERE ... ORDER BY ...
                  Property names are double-quoted, string literals single-quoted (a quote doubled inside).
    Range         Range: rows=first-last asks a SEARCH for some rows only; the answer says which in
                  Content-Range: rows first-last; total=n
    batch methods BPROPFIND, BPROPPATCH, BCOPY, BMOVE, BDELETE are sent to a folder; the body's root element is the
                  one of the single-resource method (propfind, propertyupdate) or, for methods without a body,
                  named after the method (copy, move, delete), and holds <D:target> with one <D:href> per target,
                  relative to the request URI or absolute
    messages      RFC 5322 messages with CRLF line ends, optionally multipart/mixed with attachments (RFC 2046)
    iCalendar     a VCALENDAR with one VEVENT (RFC 5545); vCard 3.0 (RFC 2426) for contacts
"""
from __future__ import annotations

import base64
import datetime as dt
import re
import zlib
from collections.abc import Iterable

from .http import XML_DECL, Response, _Names, xml_escape

HTTPMAIL = "urn:schemas:httpmail:"
MAILHEADER = "urn:schemas:mailheader:"
CALENDAR = "urn:schemas:calendar:"
CONTACTS = "urn:schemas:contacts:"
CONTENT_CLASSES = "urn:content-classes:"
SQL_GRAMMAR = "<DAV:sql>"  # the DASL grammar Exchange names in its DASL header

CONTENT_RANGE_RE = re.compile(r"^\s*rows\s+(\d+)-(\d+)\s*(?:;\s*total\s*=\s*(\d+))?\s*$", re.IGNORECASE)


# --- SEARCH ------------------------------------------------------------------------------------------------

def sql_name(name: str) -> str:
    """A property name as the SQL writes it: "urn:schemas:httpmail:subject" (Clark {ns}local accepted too)."""
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        name = ns + local
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """A string literal: single quotes, a quote inside doubled."""
    return "'" + text.replace("'", "''") + "'"


def scope(url: str, deep: bool = False) -> str:
    return f"SCOPE('{'deep' if deep else 'shallow'} traversal of \"{url}\"')"


def select(props: Iterable[str], scope_url: str, where: str = "", order: str = "", *, deep: bool = False) -> str:
    query = f"SELECT {', '.join(sql_name(p) for p in props)} FROM {scope(scope_url, deep)}"
    if where:
        query += f" WHERE {where}"
    if order:
        query += f" ORDER BY {order}"
    return query


def search_body(sql: str) -> bytes:
    return (XML_DECL + f'<D:searchrequest xmlns:D="DAV:"><D:sql>{xml_escape(sql)}</D:sql></D:searchrequest>').encode()


def content_range_rows(response: Response) -> tuple[int, int, int | None] | None:
    """(first, last, total or None) from a Content-Range: rows first-last; total=n field; None when absent."""
    m = CONTENT_RANGE_RE.match(response.header("Content-Range") or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None


# --- batch methods ---------------------------------------------------------------------------------------------

def _target(hrefs: Iterable[str]) -> str:
    return "<D:target>" + "".join(f"<D:href>{xml_escape(h)}</D:href>" for h in hrefs) + "</D:target>"


def bpropfind_body(hrefs: Iterable[str], props: Iterable[str]) -> bytes:
    names = _Names()
    inner = "".join(f"<{names.tag(p)}/>" for p in props)
    return (XML_DECL + f"<D:propfind {names.declarations()}>{_target(hrefs)}<D:prop>{inner}</D:prop>"
            "</D:propfind>").encode()


def bproppatch_body(hrefs: Iterable[str], operations: Iterable[tuple[str, str, str | None]]) -> bytes:
    names = _Names()
    parts = []
    for op, name, value in operations:
        tag = names.tag(name)
        if op == "remove":
            parts.append(f"<D:remove><D:prop><{tag}/></D:prop></D:remove>")
        else:
            parts.append(f"<D:set><D:prop><{tag}>{xml_escape(value or '')}</{tag}></D:prop></D:set>")
    return (XML_DECL + f"<D:propertyupdate {names.declarations()}>{_target(hrefs)}{''.join(parts)}"
            "</D:propertyupdate>").encode()


def batch_body(method: str, hrefs: Iterable[str]) -> bytes:
    """The body of BCOPY, BMOVE or BDELETE: <D:copy>, <D:move> or <D:delete> holding the target list."""
    root = {"BCOPY": "copy", "BMOVE": "move", "BDELETE": "delete"}[method.upper()]
    return (XML_DECL + f'<D:{root} xmlns:D="DAV:">{_target(hrefs)}</D:{root}>').encode()


# --- items -------------------------------------------------------------------------------------------------------

def message(token: str, subject: str, body: str = "", *, sender: str = "wireproof@example.org",
            to: str = "rcpt@example.net", date: str = "Mon, 07 Feb 1994 21:52:25 -0800",
            attachments: Iterable[tuple[str, str, bytes]] = (), extra: Iterable[str] = ()) -> bytes:
    """An RFC 5322 message with CRLF line ends; with attachments (file name, content type, octets) a
    multipart/mixed one whose first part is the text and each further part an attachment in base64."""
    head = [f"From: Wireproof <{sender}>", f"To: <{to}>", f"Subject: {subject}", f"Date: {date}",
            f"Message-ID: <{token}.{zlib.crc32(subject.encode()):08x}@wireproof.invalid>", "MIME-Version: 1.0",
            f"X-Wireproof-Token: {token}", *extra]
    text = (body or f"This message belongs to the check run {token}.") + "\r\n"
    attachments = list(attachments)
    if not attachments:
        head.append("Content-Type: text/plain; charset=us-ascii")
        return ("\r\n".join(head) + "\r\n\r\n" + text).encode()
    boundary = f"=_wireproof_{token}"
    head.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    parts = [f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{text}"]
    for name, ctype, data in attachments:
        encoded = base64.encodebytes(data).decode().replace("\n", "\r\n")
        parts.append(f'--{boundary}\r\nContent-Type: {ctype}; name="{name}"\r\n'
                     f'Content-Disposition: attachment; filename="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
                     f"\r\n{encoded}")
    return ("\r\n".join(head) + "\r\n\r\nThis is a multi-part message in MIME format.\r\n" + "".join(parts) +
            f"--{boundary}--\r\n").encode()


def icalendar(uid: str, summary: str, start: dt.datetime, end: dt.datetime) -> bytes:
    stamp = lambda t: t.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//wireproof//conformance//EN", "METHOD:PUBLISH",
             "BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp(start)}", f"DTSTART:{stamp(start)}", f"DTEND:{stamp(end)}",
             f"SUMMARY:{summary}", "LOCATION:Room 101", "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def vcard(given: str, family: str, email: str, org: str = "Wireproof") -> bytes:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{family};{given};;;", f"FN:{given} {family}", f"ORG:{org}",
             f"EMAIL;TYPE=INTERNET:{email}", "TEL;TYPE=WORK:+1 555 0100", "END:VCARD"]
    return ("\r\n".join(lines) + "\r\n").encode()


# --- reading values ------------------------------------------------------------------------------------------------

def as_bool(text: str | None) -> bool | None:
    """Exchange writes booleans as 1/0 (typed b:dt="boolean"); true/false are read too."""
    value = (text or "").strip().lower()
    return True if value in ("1", "true") else False if value in ("0", "false") else None


def as_instant(text: str | None) -> dt.datetime | None:
    """An ISO 8601 date-time as Exchange writes it (2003-01-01T10:00:00.000Z, or with an offset), as UTC."""
    value = (text or "").strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", value, re.IGNORECASE)
    if not m:
        return None
    y, mo, d, h, mi, s, zone = m.groups()
    tz = dt.UTC
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=tz).astimezone(dt.UTC)
