"""The WebDAV method table, the shared preconditions (If header, locks), and the RFC 4918 methods that
move content: OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, POST (only to the submission URI).

A handler is `async (dav, request, target) -> Response`. The store, the clock, the IMAP hub and the mail
transport come in through `Dav` (the adapter in simulator/servers/http builds it), so the handlers never
touch a socket, a thread or the event loop: they await `dav.store(op, **args)` and nothing else.
"""
from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ...store.naming import quote_segment
from . import xml as X
from .errors import DavError
from .locks import IfHeader, LockManager, parse_if
from .paths import Area, Target, authorize, parse_target, resolve_href

MAILFOLDER = "urn:content-classes:mailfolder"
ITEM_CLASS_DOCUMENT = "urn:content-classes:document"


class StoreRefused(Exception):
    """The store refused an operation (a race with another client, a broken store rule)."""


@dataclass
class Request:
    method: str
    target: str  # the request-target as sent
    headers: dict[str, str]  # lower-case names; repeated fields joined with ", "
    body: bytes = b""
    host: str = ""  # the Host header, or the server's own address
    scheme: str = "http"

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    head: bool = False  # HEAD: the headers of the GET, no body

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def xml_response(status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("Content-Type", 'application/xml; charset="utf-8"'), *(headers or [])], body)


def error_response(exc: DavError) -> Response:
    headers = list(exc.headers)
    if exc.condition:
        return xml_response(exc.status, X.error_body(exc.condition), headers)
    text = f"{exc.status} {exc.text}" + (f" ({exc.section})" if exc.section else "") + "\n"
    return Response(exc.status, [("Content-Type", "text/plain; charset=utf-8"), *headers], text.encode("utf-8"))


@dataclass
class Dav:
    """What the handlers may use: the store (async ExIPC calls), the blob heap, the lock manager, the
    authenticated user, and the adapter's hooks for the IMAP hub and the mail transport."""

    store: Callable[..., Awaitable[Any]]  # await dav.store("dav_list", url=..., ...)
    heap: Any
    locks: LockManager
    user: str  # alias
    address: str = ""  # the user's primary SMTP address
    changed: Callable[[str], None] = lambda url: None  # a mail folder's contents changed (IMAP hub)
    renamed: Callable[[str, str], None] = lambda old, new: None
    submit: Callable[..., Awaitable[list[str]]] | None = None  # (recipients, body) -> refused recipients

    @property
    def mailbox(self) -> str:
        return f"/exchange/{quote_segment(self.user)}/"


# --- shared steps ----------------------------------------------------------------------------------------


async def resource(dav: Dav, target: Target, *, slash: bool | None = None):
    """The store resource a target names (DavResource, AttachmentRef) or None; the roots are virtual."""
    if target.area is not Area.STORE:
        return None
    url = target.folder_url if target.slash else target.item_url
    return await dav.store("dav_resource", url=url, slash=target.slash if slash is None else slash)


def is_resource(found) -> bool:
    return found is not None and hasattr(found, "collection")


def depth(request: Request, allowed: tuple[str, ...], default: str) -> str:
    value = (request.header("depth") or default).strip().lower()
    if value not in allowed:
        raise DavError(400, f"Depth must be one of {', '.join(allowed)} here, not {value!r}", "rfc4918#10.2")
    return value


def if_header(request: Request) -> IfHeader | None:
    text = request.header("if")
    return parse_if(text) if text is not None else None


async def check_if(dav: Dav, request: Request, target: Target, found) -> set[str]:
    """Evaluate the If header (RFC 4918 10.4) and the RFC 9110 13.1 preconditions If-Match and
    If-None-Match; 412 when false. Returns the lock tokens submitted."""
    from . import props

    etag = props.etag(found) if is_resource(found) else None
    if_match = request.header("if-match")
    if if_match is not None:
        tags = [t.strip() for t in if_match.split(",")]
        if not (etag and ("*" in tags or etag in tags)):
            raise DavError(412, "If-Match does not match the resource", "rfc9110#13.1.1")
    if_none = request.header("if-none-match")
    if if_none is not None:
        tags = [t.strip() for t in if_none.split(",")]
        if etag and ("*" in tags or etag in tags or f"W/{etag}" in tags):
            if request.method in ("GET", "HEAD"):
                raise DavError(304, "not modified", "rfc9110#13.1.2", headers=[("ETag", etag)])
            raise DavError(412, "If-None-Match matches the resource", "rfc9110#13.1.2")
    header = if_header(request)
    if header is None:
        return set()
    own_url = found.url if is_resource(found) else target.url
    states: dict[str, tuple[str | None, set[str]]] = {own_url.casefold(): (etag, _tokens(dav, own_url))}
    resolved: dict[str, str | None] = {}
    for tag in header.tags():
        try:
            tagged = resolve_href(tag, target, request.host, request.scheme)
        except DavError:
            resolved[tag] = None
            continue
        if tagged.area is not Area.STORE:
            resolved[tag] = None
            continue
        other = await resource(dav, tagged, slash=tagged.slash)
        url = other.url if is_resource(other) else tagged.url
        resolved[tag] = url
        states[url.casefold()] = (props.etag(other) if is_resource(other) else None, _tokens(dav, url))

    def state(url: str):
        return states.get(url.casefold(), (None, _tokens(dav, url)))

    if not header.evaluate(own_url, state, lambda tag: resolved.get(tag)):
        raise DavError(412, "the If header's conditions do not hold", "rfc4918#10.4.1")
    return header.submitted()


def _tokens(dav: Dav, url: str) -> set[str]:
    return {lock.token for lock in dav.locks.covering(url)}


def check_locks(dav: Dav, url: str, tokens: set[str], *, membership_of: str | None = None,
                subtree: bool = False) -> None:
    """423 unless every lock on what this request changes has its token submitted (RFC 4918 7.4, 7.5)."""
    lock = dav.locks.blocking(url, tokens, dav.user, membership_of=membership_of, subtree=subtree)
    if lock is not None:
        body = X.serialize(X.E(X.dav("error"), None, X.E(X.dav("lock-token-submitted"), None,
                                                        X.E(X.dav("href"), lock.root))))
        raise _Locked(body)


class _Locked(DavError):
    def __init__(self, body: bytes) -> None:
        super().__init__(423, "the resource is locked and no token for its lock was submitted", "rfc4918#9.10.6")
        self.body = body


def parent_target(target: Target) -> Target:
    return Target(Area.STORE, target.names[:-1], True, target.alias)


def protected_folder(url: str) -> bool:
    """Roots of the store (a mailbox root, /public/) and the Inbox cannot be deleted or moved."""
    parts = url.strip("/").split("/")
    if url.casefold() == "/public/" or (parts[0].lower() == "exchange" and len(parts) <= 2):
        return True
    return len(parts) == 3 and parts[0].lower() == "exchange" and parts[2].lower() == "inbox"


# --- OPTIONS ------------------------------------------------------------------------------------------------


async def do_options(dav: Dav, request: Request, target: Target) -> Response:
    allow = ", ".join(name for name in METHODS)
    return Response(200, [("DAV", "1, 2"), ("MS-Author-Via", "DAV"), ("DASL", "<DAV:sql>"), ("Allow", allow),
                          ("Public", allow), ("Content-Length", "0")])


# --- GET and HEAD -------------------------------------------------------------------------------------------


def _listing(title: str, entries: list[tuple[str, str]]) -> bytes:
    rows = "".join(f'<li><a href="{html.escape(href, True)}">{html.escape(name)}</a></li>\n' for href, name in entries)
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>\n'
            f"<body><h1>{html.escape(title)}</h1>\n<ul>\n{rows}</ul></body></html>\n").encode()


async def do_get(dav: Dav, request: Request, target: Target) -> Response:
    from . import mime, props

    head = request.method == "HEAD"
    html_type = "text/html; charset=utf-8"
    if target.area is Area.SERVER_ROOT:
        return Response(200, [("Content-Type", html_type)], _listing("/", [("/exchange/", "exchange/"),
                                                                           ("/public/", "public/")]), head)
    if target.area is Area.EXCHANGE_ROOT:
        return Response(200, [("Content-Type", html_type)],
                        _listing("/exchange/", [(dav.mailbox, dav.user + "/")]), head)
    if target.area is Area.SUBMISSION:
        raise DavError(405, "the submission URI takes PUT or POST of a message", "rfc9110#15.5.6",
                       headers=[("Allow", "OPTIONS, PUT, POST")])
    got = None
    if target.area is Area.STORE and not target.slash and len(target.names) > 2:
        got = await dav.store("dav_get", url=target.item_url)  # the common case, an item: one store call
    if got is None:
        got = await _get_other(dav, request, target, head)
        if isinstance(got, Response):
            return got
    res, handle = got
    try:
        await check_if(dav, request, target, res)
        body = bytes(dav.heap.view(handle))
    finally:
        dav.heap.release(handle)
    content_type = res.content_type
    translate = (request.header("translate") or "t").strip().lower()
    if content_type.lower().startswith("message/rfc822") and translate != "f":
        body, content_type = mime.render(body), "text/html; charset=utf-8"
    return Response(200, [("Content-Type", content_type), ("ETag", props.etag(res)),
                          ("Last-Modified", props.http_date(res.modified))], body, head)


async def _get_other(dav: Dav, request: Request, target: Target, head: bool):
    """GET of what is not an item URL without a slash: a folder (an HTML listing), an attachment, or an item
    named with a trailing slash. A Response, or the (resource, body handle) of an item."""
    from . import mime, props

    html_type = "text/html; charset=utf-8"
    found = await resource(dav, target)
    if found is None:
        raise DavError(404, "no such folder, item or attachment", "rfc9110#15.5.5")
    if not is_resource(found):  # an attachment of a message
        got = await dav.store("dav_get", url=found.item_url)
        if got is None:
            raise DavError(404, "no such item", "rfc9110#15.5.5")
        res, handle = got
        try:
            part = mime.attachment(bytes(dav.heap.view(handle)), found.name)
        finally:
            dav.heap.release(handle)
        if part is None:
            raise DavError(404, f"the message has no attachment {found.name!r}", "rfc9110#15.5.5")
        return Response(200, [("Content-Type", part[0]), ("ETag", props.etag(res))], part[1], head)
    await check_if(dav, request, target, found)
    if found.collection:
        members = await dav.store("dav_list", url=found.url, slash=True, depth="1")
        entries = [(m.url, m.name + ("/" if m.collection else "")) for m in members[1:]]
        return Response(200, [("Content-Type", html_type), ("ETag", props.etag(found)),
                              ("Last-Modified", props.http_date(found.modified))], _listing(found.url, entries), head)
    got = await dav.store("dav_get", url=found.url)
    if got is None:
        raise DavError(404, "no such item", "rfc9110#15.5.5")
    return got


# --- PUT ------------------------------------------------------------------------------------------------


async def do_put(dav: Dav, request: Request, target: Target) -> Response:
    from . import props

    if target.area is Area.SUBMISSION:
        from .exchange import submit
        return await submit(dav, request, target)
    if target.area is not Area.STORE or target.slash or len(target.names) < 2:
        raise DavError(405, "PUT makes items; collections are made with MKCOL", "rfc4918#9.7.2",
                       headers=[("Allow", ALLOW_ON_COLLECTION)])
    found = await resource(dav, target)
    if is_resource(found) and found.collection:
        raise DavError(405, "a collection is there; PUT cannot replace it", "rfc4918#9.7.2",
                       headers=[("Allow", ALLOW_ON_COLLECTION)])
    if found is not None and not is_resource(found):
        raise DavError(405, "attachments are read-only", "rfc9110#15.5.6")
    parent = await resource(dav, parent_target(target), slash=True)
    if not is_resource(parent) or not parent.collection:
        raise DavError(409, "the parent collection does not exist", "rfc4918#9.7.1")
    tokens = await check_if(dav, request, target, found)
    url = found.url if is_resource(found) else target.item_url
    check_locks(dav, url, tokens, membership_of=None if is_resource(found) else parent.url)
    content_type = request.header("content-type") or "application/octet-stream"
    if content_type.split(";")[0].strip().lower() in ("application/octet-stream", "") \
            and target.name.lower().endswith(".eml") and parent.content_class == MAILFOLDER:
        content_type = "message/rfc822"
    handle = dav.heap.put(request.body)
    try:
        created, res = await dav.store("dav_put", folder_url=parent.url, name=target.name, blob=handle,
                                       content_type=content_type)
    finally:
        dav.heap.release(handle)
    dav.changed(parent.url)
    headers = [("ETag", props.etag(res)), ("Content-Length", "0")]
    if created:
        headers.append(("Location", res.url))
    return Response(201 if created else 204, headers)


ALLOW_ON_COLLECTION = "OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, UNLOCK, SEARCH"


# --- DELETE ---------------------------------------------------------------------------------------------


async def do_delete(dav: Dav, request: Request, target: Target) -> Response:
    found = await resource(dav, target)
    if found is None:
        raise DavError(404, "nothing to delete", "rfc4918#9.6")
    if not is_resource(found):
        raise DavError(403, "attachments cannot be deleted on their own", "rfc9110#15.5.4")
    if found.collection:
        if protected_folder(found.url):
            raise DavError(403, "mailbox roots, the public root and Inbox cannot be deleted", "rfc9110#15.5.4")
        if depth(request, ("infinity",), "infinity") != "infinity":
            raise DavError(400, "DELETE of a collection is Depth: infinity", "rfc4918#9.6.1")
    tokens = await check_if(dav, request, target, found)
    parent = found.url.rstrip("/").rpartition("/")[0] + "/"
    check_locks(dav, found.url, tokens, membership_of=parent, subtree=found.collection)
    try:
        changed = await dav.store("dav_delete", url=found.url, collection=found.collection)
    except StoreRefused as exc:
        raise DavError(409, f"the store refused: {exc}", "rfc4918#9.6") from None
    dav.locks.drop(found.url)
    for url in changed:
        dav.changed(url)
    return Response(204)


# --- MKCOL ------------------------------------------------------------------------------------------------


def _mkcol_props(request: Request) -> tuple[str, dict]:
    """Exchange's extended MKCOL (a DAV:propertyupdate body) or RFC 5689's (DAV:mkcol): properties for the
    new folder, DAV:contentclass among them. Any other body is 415 (RFC 4918 9.3)."""
    from . import props as P

    if not request.body.strip():
        return MAILFOLDER, {}
    kind = (request.header("content-type") or "").split(";")[0].strip().lower()
    if kind not in ("text/xml", "application/xml"):
        raise DavError(415, f"MKCOL does not understand a {kind or 'typeless'} body", "rfc4918#9.3")
    root = X.parse(request.body)
    if root is None or root.tag not in (X.dav("propertyupdate"), X.dav("mkcol")):
        raise DavError(415, "MKCOL understands DAV:propertyupdate (Exchange) or DAV:mkcol (RFC 5689)", "rfc4918#9.3")
    content_class, values = MAILFOLDER, {}
    for op in root:
        if op.tag != X.dav("set"):
            continue
        for prop in op:
            for element in prop:
                key = X.key_of(element.tag)
                if key == (X.DAV, "contentclass"):
                    content_class = (element.text or "").strip() or MAILFOLDER
                elif key == (X.DAV, "resourcetype"):
                    if [c.tag for c in element] != [X.dav("collection")]:
                        raise DavError(403, "MKCOL makes collections only", "rfc5689#3", "valid-resourcetype")
                elif key in P.PROTECTED or not P.visible(key):
                    raise DavError(403, f"{key[0]}{key[1]} is protected", "rfc5689#3",
                                   "cannot-modify-protected-property")
                else:
                    try:
                        value = P.from_request(key, element)
                    except ValueError as exc:
                        raise DavError(409, f"{key[0]}{key[1]}: {exc}", "rfc4918#9.2") from None
                    if key == P.DISPLAYNAME:
                        if not isinstance(value, str):
                            raise DavError(409, "a display name is text", "rfc4918#15.2")
                        key = P.DISPLAYNAME_SET
                    values[key] = value
    return content_class, values


async def do_mkcol(dav: Dav, request: Request, target: Target) -> Response:
    if target.area is not Area.STORE or len(target.names) < 2 or (target.names[0] == "exchange"
                                                                   and len(target.names) < 3):
        raise DavError(403 if target.area is Area.STORE else 405, "collections are made inside a mailbox or /public/",
                       "rfc4918#9.3.1")
    content_class, values = _mkcol_props(request)
    existing = await resource(dav, target, slash=False)
    if existing is not None:
        raise DavError(405, "something already exists at that URL", "rfc4918#9.3.1",
                       headers=[("Allow", ALLOW_ON_COLLECTION)])
    parent = await resource(dav, parent_target(target), slash=True)
    if not is_resource(parent) or not parent.collection:
        raise DavError(409, "the parent collection does not exist", "rfc4918#9.3.1")
    tokens = await check_if(dav, request, target, None)
    check_locks(dav, target.folder_url, tokens, membership_of=parent.url)
    try:
        res = await dav.store("dav_mkcol", url=target.folder_url, content_class=content_class, props=values)
    except StoreRefused as exc:
        raise DavError(409, f"the store refused: {exc}", "rfc4918#9.3.1") from None
    return Response(201, [("Location", res.url), ("Content-Length", "0")])


# --- COPY and MOVE ------------------------------------------------------------------------------------------


async def destination(dav: Dav, request: Request, target: Target) -> Target:
    text = request.header("destination")
    if not text:
        raise DavError(400, "COPY and MOVE need a Destination header", "rfc4918#10.3")
    dest = resolve_href(text, target, request.host, request.scheme, foreign_status=502)
    authorize(dest, dav.user, write=True)
    if dest.area is not Area.STORE or len(dest.names) < 2 or (dest.names[0] == "exchange" and len(dest.names) < 3):
        raise DavError(403, "the destination must be inside a mailbox or /public/", "rfc4918#9.8.5")
    return dest


def overwrite(request: Request) -> bool:
    value = (request.header("overwrite") or "T").strip().upper()
    if value not in ("T", "F"):
        raise DavError(400, "Overwrite is T or F", "rfc4918#10.6")
    return value == "T"


async def transfer(dav: Dav, request: Request, target: Target, found, dest: Target, *, move: bool,
                   recursive: bool, replace: bool, tokens: set[str]) -> int:
    """One COPY or MOVE of an existing resource to `dest`; the status of the result (201 or 204)."""
    if found.collection and move and protected_folder(found.url):
        raise DavError(403, "mailbox roots, the public root and Inbox cannot be moved", "rfc9110#15.5.4")
    src_key = found.url.rstrip("/").casefold()
    dst_key = dest.item_url.casefold()
    if src_key == dst_key:
        raise DavError(403, "source and destination are the same", "rfc4918#9.8.5")
    if found.collection and (dst_key + "/").startswith(src_key + "/"):
        raise DavError(403, "a collection cannot be copied or moved into itself", "rfc4918#9.8.5")
    parent = await resource(dav, parent_target(dest), slash=True)
    if not is_resource(parent) or not parent.collection:
        raise DavError(409, "the destination's parent collection does not exist", "rfc4918#9.8.5")
    existing = await resource(dav, dest, slash=False)
    if existing is not None and not is_resource(existing):
        raise DavError(403, "attachments cannot be replaced", "rfc9110#15.5.4")
    if existing is not None:
        if not replace:
            raise DavError(412, "the destination exists and Overwrite is F", "rfc4918#10.6")
        if existing.collection and protected_folder(existing.url):
            raise DavError(403, "that folder cannot be overwritten", "rfc9110#15.5.4")
    if move:
        src_parent = found.url.rstrip("/").rpartition("/")[0] + "/"
        check_locks(dav, found.url, tokens, membership_of=src_parent, subtree=found.collection)
    dest_url = existing.url if existing is not None else (dest.folder_url if found.collection else dest.item_url)
    check_locks(dav, dest_url, tokens, membership_of=parent.url,
                subtree=existing is not None and existing.collection)
    try:
        new_url, changed = await dav.store("dav_transfer", url=found.url, collection=found.collection,
                                           folder_url=parent.url, name=dest.name, move=move, recursive=recursive,
                                           replace=existing is not None)
    except StoreRefused as exc:
        raise DavError(409, f"the store refused: {exc}", "rfc4918#9.8.5") from None
    if existing is not None:
        dav.locks.drop(existing.url)
    if move:
        dav.locks.drop(found.url)
        if found.collection:
            dav.renamed(found.url, new_url)
    for url in changed:
        dav.changed(url)
    return 204 if existing is not None else 201


async def do_copy_move(dav: Dav, request: Request, target: Target) -> Response:
    move = request.method == "MOVE"
    found = await resource(dav, target)
    if found is None:
        raise DavError(404, "nothing to copy or move", "rfc4918#9.8")
    if not is_resource(found):
        raise DavError(403, "attachments cannot be copied or moved on their own", "rfc9110#15.5.4")
    recursive = True
    if found.collection:
        allowed = ("infinity",) if move else ("0", "infinity")
        recursive = depth(request, allowed, "infinity") == "infinity"
    dest = await destination(dav, request, target)
    replace = overwrite(request)
    tokens = await check_if(dav, request, target, found)
    status = await transfer(dav, request, target, found, dest, move=move, recursive=recursive, replace=replace,
                            tokens=tokens)
    headers = [("Content-Length", "0")]
    if status == 201:
        headers.append(("Location", dest.url))
    return Response(status, headers)


# --- POST ------------------------------------------------------------------------------------------------


async def do_post(dav: Dav, request: Request, target: Target) -> Response:
    if target.area is Area.SUBMISSION:
        from .exchange import submit
        return await submit(dav, request, target)
    raise DavError(405, "POST is for the mail submission URI only", "rfc9110#9.3.3")


# --- the table -----------------------------------------------------------------------------------------------


def _table() -> dict[str, tuple[Callable, bool]]:
    from . import exchange, lockmethods, propmethods

    return {
        # method: (handler, changes something)
        "OPTIONS": (do_options, False),
        "GET": (do_get, False),
        "HEAD": (do_get, False),
        "PUT": (do_put, True),
        "POST": (do_post, True),
        "DELETE": (do_delete, True),
        "MKCOL": (do_mkcol, True),
        "COPY": (do_copy_move, True),
        "MOVE": (do_copy_move, True),
        "PROPFIND": (propmethods.do_propfind, False),
        "PROPPATCH": (propmethods.do_proppatch, True),
        "LOCK": (lockmethods.do_lock, True),
        "UNLOCK": (lockmethods.do_unlock, True),
        "SEARCH": (propmethods.do_search, False),
        "BPROPFIND": (exchange.do_bpropfind, False),
        "BPROPPATCH": (exchange.do_bproppatch, True),
        "BCOPY": (exchange.do_bcopy_bmove, True),
        "BMOVE": (exchange.do_bcopy_bmove, True),
        "BDELETE": (exchange.do_bdelete, True),
        "X-MS-ENUMATTS": (exchange.do_enumatts, False),
    }


class _Methods(dict):
    """The table, built on first use (the method modules import this one)."""

    def _load(self) -> None:
        if not dict.__len__(self):
            self.update(_table())

    def __iter__(self):
        self._load()
        return dict.__iter__(self)

    def get(self, key, default=None):
        self._load()
        return dict.get(self, key, default)


METHODS = _Methods()


async def handle(dav: Dav, request: Request) -> Response:
    """One request to its response: parse and authorize the target, run the method's handler, turn any
    DavError into its reply."""
    try:
        entry = METHODS.get(request.method)
        if entry is None:
            raise DavError(501, f"{request.method[:40]} is not a method this server knows", "rfc9110#15.6.2",
                           headers=[("Allow", ", ".join(METHODS))])
        handler, writes = entry
        if request.target == "*" and request.method != "OPTIONS":
            raise DavError(400, "the asterisk-form is only for OPTIONS", "rfc9112#3.2.4")
        target = parse_target(request.target)
        if request.method != "OPTIONS":
            authorize(target, dav.user, write=writes)
        return await handler(dav, request, target)
    except _Locked as exc:
        return xml_response(423, exc.body)
    except DavError as exc:
        return error_response(exc)
    except StoreRefused as exc:
        return error_response(DavError(409, f"the store refused: {exc}", "rfc4918#9"))
