"""LOCK and UNLOCK (RFC 4918 9.10, 9.11): exclusive and shared write locks, depth 0 or infinity, refresh
by an empty LOCK with an If header, locks on unmapped URLs (which create an empty resource, 7.3)."""
from __future__ import annotations

from . import props as P
from . import xml as X
from .errors import DavError
from .locks import parse_timeout
from .methods import (
    Dav,
    Request,
    Response,
    StoreRefused,
    check_if,
    check_locks,
    depth,
    is_resource,
    parent_target,
    resource,
    xml_response,
)
from .paths import Area, Target


def _lock_body(lock, now: float) -> bytes:
    return X.serialize(X.E(X.dav("prop"), None, X.E(X.dav("lockdiscovery"), None, P.activelock(lock, now))))


async def do_lock(dav: Dav, request: Request, target: Target) -> Response:
    if target.area is not Area.STORE or len(target.names) < 2:
        raise DavError(403, "only resources inside a mailbox or /public/ can be locked", "rfc4918#9.10")
    how_deep = depth(request, ("0", "infinity"), "infinity")
    timeout = parse_timeout(request.header("timeout"))
    root = X.parse(request.body)
    found = await resource(dav, target)
    if found is not None and not is_resource(found):
        raise DavError(403, "attachments cannot be locked", "rfc9110#15.5.4")
    if root is None:
        return await _refresh(dav, request, target, found, timeout)
    info = X.parse_lockinfo(root)
    url = found.url if is_resource(found) else (target.folder_url if target.slash else target.item_url)
    tokens = await check_if(dav, request, target, found)
    conflicts = dav.locks.conflicts(url, info.scope, how_deep if (found is None or found.collection) else "0")
    if conflicts:
        blocker = conflicts[0]
        if blocker.root.casefold() != url.casefold() and blocker.root.casefold().startswith(url.casefold()):
            # A member is locked: the lock cannot be granted to all resources (RFC 4918 9.10.6).
            out = X.Multistatus()
            out.status(blocker.root, 423, error="no-conflicting-lock")
            out.status(url, 424)
            return xml_response(207, out.body())
        raise DavError(423, "a conflicting lock is held", "rfc4918#9.10.6", "no-conflicting-lock")
    status = 200
    if found is None:
        parent = await resource(dav, parent_target(target), slash=True)
        if not is_resource(parent) or not parent.collection:
            raise DavError(409, "the parent collection does not exist", "rfc4918#7.3")
        if target.slash:
            raise DavError(409, "a lock on an unmapped URL makes an empty item, not a collection", "rfc4918#7.3")
        check_locks(dav, target.item_url, tokens, membership_of=parent.url)
        handle = dav.heap.put(b"")
        try:
            _, res = await dav.store("dav_put", folder_url=parent.url, name=target.name, blob=handle,
                                     content_type="application/octet-stream")
        except StoreRefused as exc:
            raise DavError(409, f"the store refused: {exc}", "rfc4918#7.3") from None
        finally:
            dav.heap.release(handle)
        dav.changed(parent.url)
        found, url, status = res, res.url, 201
    owner = X.fragment(info.owner) if info.owner is not None else None
    lock = dav.locks.create(url, info.scope, how_deep if found.collection else "0", owner, dav.user, timeout,
                            found.collection)
    return xml_response(status, _lock_body(lock, dav.locks.clock()), [("Lock-Token", f"<{lock.token}>")])


async def _refresh(dav: Dav, request: Request, target: Target, found, timeout) -> Response:
    """RFC 4918 9.10.2: an empty LOCK with the token in an If header refreshes that lock."""
    if found is None:
        raise DavError(404, "nothing is there to refresh a lock on", "rfc4918#9.10.2")
    if request.header("if") is None:
        raise DavError(400, "a LOCK without a body refreshes a lock, which needs its token in an If header",
                       "rfc4918#9.10.2")
    tokens = await check_if(dav, request, target, found)
    for lock in dav.locks.covering(found.url):
        if lock.token in tokens and lock.principal == dav.user:
            dav.locks.refresh(lock, timeout)
            return xml_response(200, _lock_body(lock, dav.locks.clock()), [("Lock-Token", f"<{lock.token}>")])
    raise DavError(412, "no lock of yours on this resource has the submitted token", "rfc4918#9.10.2",
                   "lock-token-matches-request-uri")


async def do_unlock(dav: Dav, request: Request, target: Target) -> Response:
    text = (request.header("lock-token") or "").strip()
    if not (text.startswith("<") and text.endswith(">") and len(text) > 2):
        raise DavError(400, "UNLOCK needs a Lock-Token header: <token>", "rfc4918#10.5")
    token = text[1:-1].strip()
    found = await resource(dav, target)
    url = found.url if is_resource(found) else target.url
    lock = dav.locks.get(token)
    if lock is None or not lock.covers(url):
        raise DavError(409, "that lock token does not lock this resource", "rfc4918#9.11.1",
                       "lock-token-matches-request-uri")
    if lock.principal != dav.user:
        raise DavError(403, "that lock belongs to another user", "rfc4918#9.11.1")
    dav.locks.remove(token)
    return Response(204)
