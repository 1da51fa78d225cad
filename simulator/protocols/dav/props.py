"""Properties of store resources as WebDAV shows them.

A resource (`store_dav.DavResource`: a folder or item snapshot with its stored properties) has
- live properties, computed here from the table LIVE: the RFC 4918 15 ones (displayname, getcontentlength,
  getcontenttype, getetag, getlastmodified, creationdate, resourcetype, supportedlock, lockdiscovery) and
  Exchange's (DAV:href, DAV:contentclass, DAV:iscollection, DAV:isfolder, DAV:ishidden, DAV:hassubs,
  DAV:childcount, urn:schemas:httpmail:read/unreadcount, the mailbox root's httpmail:sendmsg and special
  folder URLs, ...);
- stored properties: what the store derived from a message's headers (urn:schemas:mailheader:*,
  urn:schemas:httpmail:subject/from/to/date/...), and dead properties set by PROPPATCH, kept as plain text
  when they are text, or as an XML fragment when they carry markup or attributes (RFC 4918 4.3).
Typed values carry Exchange's b:dt attribute (boolean, int, dateTime.tz) as its clients expected.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from xml.etree.ElementTree import Element

from . import xml as X
from .locks import Lock, timeout_header
from .sql import parse_date, to_bool

Key = tuple[str, str]
INTERNAL = "urn:wireproof:dav:"  # bookkeeping kept as store properties, never shown
CREATED = (INTERNAL, "created")
MODIFIED = (INTERNAL, "modified")
DISPLAYNAME = (X.DAV, "displayname")
DISPLAYNAME_SET = (INTERNAL, "displayname")  # a DAV:displayname PROPPATCH gave (the URL keeps its name)
CONTENTTYPE = (X.DAV, "getcontenttype")
HIDDEN_NAMESPACES = (INTERNAL,)
HIDDEN_KEYS = {(X.EXCHANGE, "imap-subscriptions")}
MISSING = object()

# Exchange's types of the properties it typed (what PROPPATCH text is converted to, and b:dt on output).
TYPES: dict[Key, str] = {
    (X.HTTPMAIL, "read"): "boolean", (X.HTTPMAIL, "hasattachment"): "boolean",
    (X.HTTPMAIL, "date"): "dateTime.tz", (X.HTTPMAIL, "datereceived"): "dateTime.tz",
    (X.HTTPMAIL, "unreadcount"): "int", (X.HTTPMAIL, "priority"): "int", (X.HTTPMAIL, "importance"): "int",
    (X.CALENDAR, "dtstart"): "dateTime.tz", (X.CALENDAR, "dtend"): "dateTime.tz",
    (X.CALENDAR, "alldayevent"): "boolean", (X.CALENDAR, "reminderoffset"): "int",
    (X.CALENDAR, "instancetype"): "int", (X.CONTACTS, "bday"): "dateTime.tz",
    (X.DAV, "ishidden"): "boolean", (X.DAV, "isreadonly"): "boolean",
}


@dataclass
class Context:
    """What live properties need beyond the resource: its locks, the clock, the owner's mailbox."""

    locks: Callable[[str], list[Lock]] = lambda url: []
    now: float = 0.0
    mailbox: str | None = None  # the user's mailbox root URL, for httpmail:sendmsg and folder URLs
    folder_urls: dict[str, str] = field(default_factory=dict)  # httpmail:inbox etc. on the mailbox root


def etag(res) -> str:
    return f'"{"f" if res.collection else ""}{res.id}-{res.modseq}"'


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def _iso(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _resourcetype(res, ctx) -> Element:
    element = X.E(X.dav("resourcetype"))
    if res.collection:
        element.append(X.E(X.dav("collection")))
    return element


def _supportedlock(res, ctx) -> Element:
    element = X.E(X.dav("supportedlock"))
    for scope in ("exclusive", "shared"):
        element.append(X.E(X.dav("lockentry"), None, X.E(X.dav("lockscope"), None, X.E(X.dav(scope))),
                           X.E(X.dav("locktype"), None, X.E(X.dav("write")))))
    return element


def activelock(lock: Lock, now: float) -> Element:
    element = X.E(X.dav("activelock"), None,
                  X.E(X.dav("locktype"), None, X.E(X.dav("write"))),
                  X.E(X.dav("lockscope"), None, X.E(X.dav(lock.scope))),
                  X.E(X.dav("depth"), "infinity" if lock.depth == "infinity" else "0"))
    if lock.owner is not None:
        element.append(X.from_fragment(lock.owner))
    element.append(X.E(X.dav("timeout"), timeout_header(lock, now)))
    element.append(X.E(X.dav("locktoken"), None, X.E(X.dav("href"), lock.token)))
    element.append(X.E(X.dav("lockroot"), None, X.E(X.dav("href"), lock.root)))
    return element


def _lockdiscovery(res, ctx) -> Element:
    return X.E(X.dav("lockdiscovery"), None, *(activelock(lock, ctx.now) for lock in ctx.locks(res.url)))


def _stored(key: Key):
    return lambda res, ctx: res.props.get(key, MISSING)


def _items_only(fn):
    return lambda res, ctx: MISSING if res.collection else fn(res, ctx)


def _folders_only(fn):
    return lambda res, ctx: fn(res, ctx) if res.collection else MISSING


def _on_mailbox_root(fn):
    return lambda res, ctx: fn(res, ctx) if ctx.mailbox and res.url.casefold() == ctx.mailbox.casefold() \
        else MISSING


def _parent(res, ctx):
    head = res.url.rstrip("/").rpartition("/")[0]
    return head + "/" if head else MISSING


# The live properties: name -> function of (resource, context) giving a value or MISSING.
LIVE: dict[Key, Callable[[Any, Context], Any]] = {
    (X.DAV, "displayname"): lambda res, ctx: res.props.get(DISPLAYNAME_SET) or res.name,
    (X.DAV, "getcontentlength"): _items_only(lambda res, ctx: res.size),
    (X.DAV, "getcontenttype"): _items_only(lambda res, ctx: res.content_type or "application/octet-stream"),
    (X.DAV, "getetag"): lambda res, ctx: etag(res),
    (X.DAV, "getlastmodified"): lambda res, ctx: http_date(res.modified),
    (X.DAV, "creationdate"): lambda res, ctx: _iso(res.created),
    (X.DAV, "resourcetype"): _resourcetype,
    (X.DAV, "supportedlock"): _supportedlock,
    (X.DAV, "lockdiscovery"): _lockdiscovery,
    # Exchange's DAV: extensions
    (X.DAV, "href"): lambda res, ctx: res.url,
    (X.DAV, "contentclass"): lambda res, ctx: res.content_class,
    (X.DAV, "iscollection"): lambda res, ctx: res.collection,
    (X.DAV, "isfolder"): lambda res, ctx: res.collection,
    (X.DAV, "ishidden"): lambda res, ctx: bool(res.props.get((X.DAV, "ishidden"), False)),
    (X.DAV, "isreadonly"): lambda res, ctx: False,
    (X.DAV, "isstructureddocument"): lambda res, ctx: False,
    (X.DAV, "parentname"): _parent,
    (X.DAV, "uid"): lambda res, ctx: f"{res.id}",
    (X.DAV, "hassubs"): _folders_only(lambda res, ctx: res.subfolders > 0),
    (X.DAV, "nosubs"): _folders_only(lambda res, ctx: False),
    (X.DAV, "childcount"): _folders_only(lambda res, ctx: res.subfolders + res.items),
    (X.DAV, "objectcount"): _folders_only(lambda res, ctx: res.items),
    (X.DAV, "visiblecount"): _folders_only(lambda res, ctx: res.items),
    (X.DAV, "subfoldercount"): _folders_only(lambda res, ctx: res.subfolders),
    (X.HTTPMAIL, "read"): _items_only(lambda res, ctx: bool(res.props.get((X.HTTPMAIL, "read"), False))),
    (X.HTTPMAIL, "unreadcount"): _folders_only(lambda res, ctx: res.props.get((X.HTTPMAIL, "unreadcount"), 0)),
    (X.HTTPMAIL, "sendmsg"): _on_mailbox_root(lambda res, ctx: ctx.mailbox + "%23%23DavMailSubmissionURI%23%23/"),
}
for _name in ("inbox", "outbox", "sentitems", "deleteditems", "drafts", "calendar", "contacts", "tasks", "notes",
              "journal"):
    LIVE[(X.HTTPMAIL, _name)] = _on_mailbox_root(lambda res, ctx, n=_name: ctx.folder_urls.get(n, MISSING))

# What the RFC calls protected (PROPPATCH answers 403); DAV:contentclass, DAV:ishidden, httpmail:read and
# DAV:getcontenttype are live but settable, as in Exchange.
SETTABLE = {(X.DAV, "contentclass"), (X.DAV, "ishidden"), (X.HTTPMAIL, "read"), CONTENTTYPE, DISPLAYNAME}
PROTECTED = set(LIVE) - SETTABLE
# The live properties allprop returns (RFC 4918 9.1: those this document defines), plus Exchange's cheap ones.
ALLPROP = [k for k in LIVE if k[0] == X.DAV] + [(X.HTTPMAIL, "read"), (X.HTTPMAIL, "unreadcount"),
                                                 (X.HTTPMAIL, "sendmsg")]


def visible(key: Key) -> bool:
    return key[0] not in HIDDEN_NAMESPACES and key not in HIDDEN_KEYS


def lookup(res, key: Key, ctx: Context) -> Any:
    """A property's value (live first, then stored), or MISSING."""
    fn = LIVE.get(key)
    if fn is not None:
        return fn(res, ctx)
    if not visible(key):
        return MISSING
    return res.props.get(key, MISSING)


def names(res, ctx: Context) -> list[Key]:
    """Every property the resource has (live ones that apply, then stored ones), for allprop and propname."""
    found = [k for k in ALLPROP if LIVE[k](res, ctx) is not MISSING]
    seen = set(found)
    for key in res.props:
        if key not in seen and visible(key) and key not in LIVE:
            found.append(key)
            seen.add(key)
    return found


def sql_value(res, key: Key, ctx: Context) -> Any:
    """A property as the SEARCH evaluator compares it: dates as datetimes, booleans as bools, None if absent."""
    value = lookup(res, key, ctx)
    if value is MISSING or value is None:
        return None
    if isinstance(value, Element):
        return "".join(value.itertext())
    if isinstance(value, dict):
        return "".join(X.from_fragment(value.get("xml", "<x/>")).itertext())
    kind = TYPES.get(key)
    if key == (X.DAV, "getlastmodified"):
        return dt.datetime.fromtimestamp(res.modified, dt.UTC)
    if kind == "dateTime.tz" and isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            return value
    return value


def element(key: Key, value: Any) -> Element:
    """The property element for a value."""
    if isinstance(value, Element):
        return value
    if isinstance(value, dict) and "xml" in value:
        return X.from_fragment(value["xml"])
    tag = X.tag_of(key)
    dt_attr = f"{{{X.DATATYPES}}}dt"
    if value is None or value is MISSING:
        return X.E(tag)
    if isinstance(value, bool):
        return X.E(tag, "1" if value else "0", **{dt_attr: "boolean"})
    if isinstance(value, int):
        return X.E(tag, str(value), **{dt_attr: "int"})
    if isinstance(value, float):
        return X.E(tag, repr(value), **{dt_attr: "float"})
    if isinstance(value, dt.datetime):
        return X.E(tag, value.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   **({} if key[0] == X.DAV else {dt_attr: "dateTime.tz"}))
    if isinstance(value, (list, tuple)):
        return X.E(tag, None, *(X.E(f"{{{X.DATATYPES}}}v", str(v)) for v in value), **{dt_attr: "mv.string"})
    if TYPES.get(key) == "dateTime.tz":
        return X.E(tag, str(value), **{dt_attr: "dateTime.tz"})
    return X.E(tag, str(value))


def name_element(key: Key) -> Element:
    return X.E(X.tag_of(key))


def from_request(key: Key, el: Element) -> Any:
    """The value to store for a PROPPATCH DAV:set of `el`: typed Exchange properties are converted (from
    their text, or by the b:dt attribute sent); text stays text; anything with markup or attributes other
    than b:dt is kept whole as an XML fragment. Raises ValueError for a value of the wrong type."""
    attrs = {k: v for k, v in el.attrib.items() if k != f"{{{X.DATATYPES}}}dt"}
    kind = TYPES.get(key) or el.attrib.get(f"{{{X.DATATYPES}}}dt")
    text = el.text or ""
    if len(el) == 0 and not attrs:
        if kind == "boolean":
            return to_bool(text)
        if kind in ("int", "i2", "i4", "i8"):
            return int(text.strip())
        if kind and kind.startswith("dateTime"):
            return parse_date(text).strftime("%Y-%m-%dT%H:%M:%SZ")
        return text
    return {"xml": X.fragment(el)}
