"""Exchange 2003's WebDAV extensions: the batch methods (BPROPFIND, BPROPPATCH, BCOPY, BMOVE, BDELETE:
one request on a folder naming its targets in <D:target><D:href>...</D:href></D:target>, one multistatus
response per target), X-MS-ENUMATTS (a message's attachments, each at <item>/<file name>), and the mail
submission URI (/exchange/<alias>/##DavMailSubmissionURI##/: PUT or POST an RFC 822 message and it is sent).
"""
from __future__ import annotations

import email.policy
import email.utils
from email.parser import BytesParser

from ...store.naming import quote_segment
from . import mime
from . import props as P
from . import xml as X
from .errors import DavError
from .methods import (
    Dav,
    Request,
    Response,
    check_if,
    check_locks,
    destination,
    is_resource,
    overwrite,
    resource,
    transfer,
    xml_response,
)
from .paths import Target, authorize, resolve_href
from .propmethods import context, proppatch_one, propstat_groups


async def _collection(dav: Dav, target: Target):
    found = await resource(dav, target, slash=True)
    if not is_resource(found) or not found.collection:
        raise DavError(404, "batch methods are sent to a folder", "ms-xwdv#bmethods")
    return found


def _base(found) -> Target:
    from .paths import parse_path

    return parse_path(found.url)


async def _targets(dav: Dav, request: Request, base: Target, hrefs: list[str]):
    """Each href as (href as written, Target or the DavError that refuses it)."""
    out = []
    for href in hrefs:
        try:
            target = resolve_href(href, base, request.host, request.scheme)
            authorize(target, dav.user, write=request.method != "BPROPFIND")
            out.append((href, target))
        except DavError as exc:
            out.append((href, exc))
    return out


async def do_bpropfind(dav: Dav, request: Request, target: Target) -> Response:
    folder = await _collection(dav, target)
    wanted = X.parse_propfind(request.body)
    if not wanted.targets:
        raise DavError(400, "BPROPFIND names no DAV:target hrefs", "ms-xwdv#bmethods")
    resolved = []
    for href, t in await _targets(dav, request, _base(folder), wanted.targets):
        resolved.append((href, t, None if isinstance(t, DavError) else await resource(dav, t)))
    ctx = await context(dav, [found for _, _, found in resolved if is_resource(found)])
    out = X.Multistatus()
    for href, t, found in resolved:
        if isinstance(t, DavError):
            out.status(href, t.status)
        elif not is_resource(found):
            out.status(t.url, 404)
        else:
            out.propstats(found.url, propstat_groups(found, wanted, ctx))
    return xml_response(207, out.body())


async def do_bproppatch(dav: Dav, request: Request, target: Target) -> Response:
    folder = await _collection(dav, target)
    instructions, hrefs = X.parse_propertyupdate(request.body)
    if not hrefs:
        raise DavError(400, "BPROPPATCH names no DAV:target hrefs", "ms-xwdv#bmethods")
    tokens = await check_if(dav, request, target, folder)
    out = X.Multistatus()
    for href, t in await _targets(dav, request, _base(folder), hrefs):
        if isinstance(t, DavError):
            out.status(href, t.status)
            continue
        found = await resource(dav, t)
        if not is_resource(found):
            out.status(t.url, 404)
            continue
        try:
            check_locks(dav, found.url, tokens)
            out.propstats(found.url, await proppatch_one(dav, found, instructions))
        except DavError as exc:
            out.status(found.url, exc.status)
    return xml_response(207, out.body())


async def do_bcopy_bmove(dav: Dav, request: Request, target: Target) -> Response:
    move = request.method == "BMOVE"
    folder = await _collection(dav, target)
    hrefs = X.parse_targets(request.body, "move" if move else "copy")
    dest_folder = await destination(dav, request, target)
    replace = overwrite(request)
    tokens = await check_if(dav, request, target, folder)
    out = X.Multistatus()
    for href, t in await _targets(dav, request, _base(folder), hrefs):
        if isinstance(t, DavError):
            out.status(href, t.status)
            continue
        found = await resource(dav, t)
        if not is_resource(found):
            out.status(t.url, 404)
            continue
        dest = dest_folder.child(found.name, slash=found.collection)
        try:
            status = await transfer(dav, request, t, found, dest, move=move, recursive=True, replace=replace,
                                    tokens=tokens)
            out.status(found.url, status, description=dest.url)
        except DavError as exc:
            out.status(found.url, exc.status, description=exc.text)
    return xml_response(207, out.body())


async def do_bdelete(dav: Dav, request: Request, target: Target) -> Response:
    from .methods import do_delete

    folder = await _collection(dav, target)
    hrefs = X.parse_targets(request.body, "delete")
    out = X.Multistatus()
    for href, t in await _targets(dav, request, _base(folder), hrefs):
        if isinstance(t, DavError):
            out.status(href, t.status)
            continue
        single = Request("DELETE", t.url, {k: v for k, v in request.headers.items() if k != "depth"},
                         b"", request.host, request.scheme)
        try:
            await do_delete(dav, single, t)
            out.status(t.url, 200)
        except DavError as exc:
            out.status(t.url, exc.status, description=exc.text)
    return xml_response(207, out.body())


async def do_enumatts(dav: Dav, request: Request, target: Target) -> Response:
    found = await resource(dav, target)
    if not is_resource(found) or found.collection:
        raise DavError(404, "X-MS-ENUMATTS is sent to a message", "ms-xwdv#x-ms-enumatts")
    got = await dav.store("dav_get", url=found.url)
    if got is None:
        raise DavError(404, "no such item", "ms-xwdv#x-ms-enumatts")
    res, handle = got
    try:
        body = bytes(dav.heap.view(handle))
    finally:
        dav.heap.release(handle)
    out = X.Multistatus()
    if res.content_type.lower().startswith("message/rfc822"):
        for att in mime.attachments(body):
            href = f"{res.url}/{quote_segment(att.name)}"
            values = {(X.DAV, "href"): href, (X.DAV, "displayname"): att.name,
                      (X.HTTPMAIL, "attachmentfilename"): att.name, (X.DAV, "getcontenttype"): att.content_type,
                      (X.DAV, "getcontentlength"): att.size, (X.DAV, "uid"): href,
                      (X.MAILHEADER, "content-disposition"): att.disposition}
            if att.content_id:
                values[(X.MAILHEADER, "content-id")] = att.content_id
            out.propstats(href, {200: [P.element(k, v) for k, v in values.items()]})
    return xml_response(207, out.body())


# --- the mail submission URI ---------------------------------------------------------------------------


async def submit(dav: Dav, request: Request, target: Target) -> Response:
    """Send the RFC 822 message in the body: recipients from To, Cc and Bcc (Bcc is removed from what is
    sent, RFC 5322 3.6.3); the transport decides as it does for SMTP; the sender's copy goes to Sent Items.
    A message without From or Date gets them, as a submission server may (RFC 6409 8.3, 8.6)."""
    if request.method not in ("PUT", "POST"):
        raise DavError(405, "the submission URI takes PUT or POST of a message", "rfc9110#15.5.6")
    if dav.submit is None:
        raise DavError(503, "mail submission is not available here", "rfc9110#15.6.4")
    body = request.body
    if not body.strip():
        raise DavError(400, "the submission URI takes an RFC 822 message", "rfc5322#3")
    message = BytesParser(policy=email.policy.compat32).parsebytes(body, headersonly=True)
    recipients = [addr for _, addr in email.utils.getaddresses(
        [str(v) for name in ("to", "cc", "bcc") for v in message.get_all(name, [])]) if "@" in addr]
    if not recipients:
        raise DavError(400, "the message names no recipients in To, Cc or Bcc", "rfc5322#3.6.3")
    head, sep, rest = _split(body)
    fields = _fields(head)
    added = []
    if message.get("message-id") is None:
        domain = dav.address.rpartition("@")[2] or None
        added.append(b"Message-ID: " + email.utils.make_msgid(domain=domain).encode() + b"\r\n")
    if message.get("date") is None:
        added.append(b"Date: " + email.utils.formatdate(usegmt=True).encode() + b"\r\n")
    if message.get("from") is None:
        added.append(b"From: " + dav.address.encode() + b"\r\n")
    sent = b"".join(added + [f for f in fields if not f.lower().startswith(b"bcc:")]) + sep + rest
    refused = await dav.submit(list(dict.fromkeys(recipients)), sent)
    if refused:
        raise DavError(400, "recipients refused: " + "; ".join(refused), "rfc5321#3.3")
    handle = dav.heap.put(b"".join(added + fields) + sep + rest)  # the sender's copy keeps its Bcc
    try:
        await dav.store("dav_save_sent", alias=dav.user, blob=handle)
    finally:
        dav.heap.release(handle)
    dav.changed(f"{dav.mailbox}Sent%20Items/")
    return Response(201, [("Content-Length", "0")])


def _split(body: bytes) -> tuple[bytes, bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = body.find(sep)
        if at >= 0:
            return body[:at + len(sep) // 2], sep[len(sep) // 2:], body[at + len(sep):]
    return body, b"", b""


def _fields(head: bytes) -> list[bytes]:
    """Header fields with their continuation lines, each ending in its line break."""
    out: list[bytes] = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and out:
            out[-1] += line
        else:
            out.append(line)
    return out
