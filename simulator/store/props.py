"""Namespaced properties: the constants, what a message's headers yield, and how values are stored.

Exchange exposed every item as a bag of (namespace, name) properties; WebDAV PROPFIND reads them,
and the other protocols read the same item through its headers and flags.
"""
from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import json
import re
from email.parser import BytesHeaderParser, BytesParser

# Property namespaces.
NS_DAV = "DAV:"
NS_HTTPMAIL = "urn:schemas:httpmail:"
NS_MAILHEADER = "urn:schemas:mailheader:"
NS_CALENDAR = "urn:schemas:calendar:"
NS_CONTACTS = "urn:schemas:contacts:"
NS_EXCHANGE = "http://schemas.microsoft.com/exchange/"

# Content classes of items and folders (the value of DAV:contentclass).
MESSAGE = "urn:content-classes:message"
APPOINTMENT = "urn:content-classes:appointment"
PERSON = "urn:content-classes:person"
FOLDER = "urn:content-classes:folder"
MAILFOLDER = "urn:content-classes:mailfolder"
CALENDARFOLDER = "urn:content-classes:calendarfolder"
CONTACTFOLDER = "urn:content-classes:contactfolder"
TASKFOLDER = "urn:content-classes:taskfolder"
NOTEFOLDER = "urn:content-classes:notefolder"
JOURNALFOLDER = "urn:content-classes:journalfolder"

DISPLAYNAME = (NS_DAV, "displayname")
CONTENTCLASS = (NS_DAV, "contentclass")
GETCONTENTLENGTH = (NS_DAV, "getcontentlength")
READ = (NS_HTTPMAIL, "read")
UNREADCOUNT = (NS_HTTPMAIL, "unreadcount")
SUBJECT = (NS_HTTPMAIL, "subject")

# The header block ends at the first empty line; searching the buffer avoids copying the body.
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
# Headers whose decoded form httpmail: also carries.
_HTTPMAIL_HEADERS = ("subject", "from", "to", "cc")


def iso_utc(epoch: float) -> str:
    """ISO 8601 in UTC, the form httpmail: dates take."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unfold(raw: str) -> str:
    return _FOLD.sub("", raw).strip()


def decode_words(raw: str) -> str:
    """Decode RFC 2047 encoded-words; the email package's unstructured parser is lenient about
    unknown charsets and bad bytes (they become replacement characters), which suits display text."""
    try:
        return str(email.policy.default.header_factory("subject", unfold(raw)))
    except Exception:  # noqa: BLE001 -- a header the parser cannot make sense of is shown as it came
        return unfold(raw)


def _text(value: str) -> str:
    # BytesHeaderParser keeps 8-bit header bytes as surrogate escapes; RFC 6532 makes them UTF-8.
    return value.encode("ascii", "surrogateescape").decode("utf-8", "replace")


def headers(body: memoryview) -> list[tuple[str, str]]:
    """The message's header fields as (lower-case name, raw unfolded text), in order."""
    end = _HEADER_END.search(body)
    block = bytes(body[: end.end()] if end else body)
    parsed = BytesHeaderParser(policy=email.policy.compat32).parsebytes(block)
    return [(name.lower(), unfold(_text(value))) for name, value in parsed.raw_items()]


def _has_attachment(body: memoryview) -> bool:
    message = BytesParser(policy=email.policy.default).parsebytes(bytes(body))
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.is_attachment() or (part.get_filename() and part.get_content_maintype() != "text"):
            return True
    return False


def _date(raw: str | None, internal_date: float) -> str:
    if raw:
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:  # "-0000": the sender did not know its zone; read as UTC
                parsed = parsed.replace(tzinfo=dt.UTC)
            return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return iso_utc(internal_date)


def derive(body: memoryview, internal_date: float) -> dict[tuple[str, str], object]:
    """Properties a message's headers yield: every header (first occurrence) raw under mailheader:,
    the decoded display forms under httpmail:, the sent date in UTC, and whether it has attachments."""
    fields: dict[str, str] = {}
    for name, value in headers(body):
        fields.setdefault(name, value)
    result: dict[tuple[str, str], object] = {(NS_MAILHEADER, name): value for name, value in fields.items()}
    for name in _HTTPMAIL_HEADERS:
        if name in fields:
            result[(NS_HTTPMAIL, name)] = decode_words(fields[name])
    result[(NS_HTTPMAIL, "date")] = _date(fields.get("date"), internal_date)
    result[(NS_HTTPMAIL, "datereceived")] = iso_utc(internal_date)
    multipart = fields.get("content-type", "").lower().startswith("multipart/")
    result[(NS_HTTPMAIL, "hasattachment")] = multipart and _has_attachment(body)
    return result


# Stored values keep their Python type through a one-letter kind next to the SQLite value.
def encode_value(value: object) -> tuple[str, object]:
    if value is None:
        return "n", None
    if isinstance(value, bool):  # before int: bool is an int
        return "b", int(value)
    if isinstance(value, int):
        return "i", value
    if isinstance(value, float):
        return "f", value
    if isinstance(value, str):
        return "s", value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "x", bytes(value)
    if isinstance(value, dt.datetime):
        return "t", value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        try:
            return "j", json.dumps(value)
        except TypeError as exc:
            raise ValueError(f"property value is not JSON-serialisable: {exc}") from None
    raise ValueError(f"unsupported property value type {type(value).__name__}")


def decode_value(kind: str, value: object) -> object:
    if kind == "b":
        return bool(value)
    if kind == "t":
        return dt.datetime.fromisoformat(value)  # type: ignore[arg-type]
    if kind == "j":
        return json.loads(value)  # type: ignore[arg-type]
    return value
