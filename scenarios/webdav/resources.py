"""Probes of the HTTP methods on WebDAV resources: PUT, GET, HEAD and DELETE (RFC 9110 section 9.3, RFC 4918
sections 9.4, 9.6 and 9.7).

PUT creates (201) or replaces (200 or 204) a resource, but only inside a collection that exists (409 otherwise:
WebDAV servers never make the missing collections up). GET returns what PUT stored, HEAD the same header fields
without content. DELETE of a collection removes everything below it, as if Depth were infinity.
"""
from __future__ import annotations

from conformance.dialects.http import read_response, request_bytes
from conformance.registry import probe

from .common import LOCKING, scratch, show, tree

BODY = b"wireproof line one\r\nline two\r\n"


@probe("webdav.put.create-201", rfc="rfc9110#9.3.4 rfc4918#9.7.1", level="MUST",
       requirement="A PUT that creates a new resource is answered 201 (Created).", tags=["put"])
async def put_create(ctx):
    async with scratch(ctx) as d:
        r = await d.put(d.url("new.txt"), BODY, setup=False)
        ctx.expect(r.status == 201, "PUT of a new resource is answered 201", "HTTP/1.1 201 Created", r.show())


@probe("webdav.put.replace-200-204", rfc="rfc9110#9.3.4", level="MUST",
       requirement="A PUT that replaces an existing resource is answered 200 (OK) or 204 (No Content).", tags=["put"])
async def put_replace(ctx):
    async with scratch(ctx) as d:
        f = await d.file("new.txt", BODY)
        r = await d.put(f, b"replaced\r\n", setup=False)
        ctx.expect(r.status in (200, 204), "the second PUT is answered 200 or 204", "HTTP/1.1 204 No Content",
                   r.show())


@probe("webdav.put.content-stored", rfc="rfc9110#9.3.4 rfc9110#9.3.1", level="MUST",
       requirement="GET returns exactly the octets the last PUT stored, with the media type it was given.",
       tags=["put", "get"])
async def content_stored(ctx):
    async with scratch(ctx) as d:
        f = await d.file("new.txt", b"first\r\n")
        await d.put(f, BODY)
        g = await d.get(f)
        ctx.expect(g.status == 200 and g.body == BODY, "GET returns the body of the last PUT", BODY.decode(), g.show())
        ctx.expect((g.header("Content-Type") or "").lower().startswith("text/plain"), "the media type is text/plain",
                   "Content-Type: text/plain", g.show())


@probe("webdav.put.missing-parent-409", rfc="rfc4918#9.7.1", level="MUST",
       requirement="PUT into a collection that does not exist is answered 409 (Conflict), and no collection is made "
                   "on the way.", tags=["put", "errors"])
async def put_missing_parent(ctx):
    async with scratch(ctx) as d:
        r = await d.put(d.url("missing", "new.txt"), BODY, setup=False)
        ctx.expect(r.status == 409, "PUT below a missing collection is answered 409", "HTTP/1.1 409 Conflict",
                   r.show())
        ctx.expect(await d.exists(d.url("missing/")) is False, "the missing collection was not created", "404",
                   d.client.last.show())


@probe("webdav.put.on-collection-405", rfc="rfc4918#9.7.2", level="MAY",
       requirement="A PUT to an existing collection, whose meaning RFC 4918 leaves undefined, is treated as an error: "
                   "405 (Method Not Allowed).", tags=["put", "errors"])
async def put_collection(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r = await d.put(p["sub"], BODY, setup=False)
        ctx.expect(r.status == 405, "PUT on a collection is answered 405", "HTTP/1.1 405 Method Not Allowed", r.show())


@probe("webdav.get.etag", rfc="rfc9110#8.8.3 rfc4918#8.6", level="SHOULD",
       requirement="GET of a resource sends an ETag header (RFC 4918 asks for strong ETags, wherever possible).",
       tags=["get", "etag"])
async def get_etag(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        g = await d.get(f)
        ctx.setup(g.status == 200, "GET is answered 200", "200", g.show())
        ctx.expect(g.header("ETag") is not None, "GET sends an ETag", 'ETag: "..."', g.show())


@probe("webdav.put.etag-changes", rfc="rfc9110#8.8.3", level="MUST",
       requirement="When PUT changes a resource's content, its ETag changes.", tags=["put", "etag"])
async def etag_changes(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt", b"one\r\n")
        before = await d.etag(f)
        ctx.require(before is not None, "the server sends no ETag")
        await d.put(f, b"two, and longer\r\n")
        after = await d.etag(f)
        ctx.expect(after is not None and after != before, "the ETag after the second PUT differs", f"not {before}",
                   str(after))


@probe("webdav.head.same-headers", rfc="rfc9110#9.3.2", level="SHOULD",
       requirement="HEAD sends the same header fields GET sends for a resource: Content-Length, Content-Type, ETag, "
                   "Last-Modified.", tags=["head", "get"])
async def head_headers(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt", BODY)
        g = await d.get(f)
        h = await d.request("HEAD", f)
        ctx.setup(g.status == 200, "GET is answered 200", "200", g.show())
        diff = [n for n in ("Content-Length", "Content-Type", "ETag", "Last-Modified") if g.header(n) != h.header(n)]
        ctx.expect(h.status == 200 and not diff, "HEAD is answered 200 with the same fields",
                   "the same Content-Length, Content-Type, ETag, Last-Modified", f"differ: {diff}\n{show(g, h)}")


@probe("webdav.head.no-body", rfc="rfc9110#9.3.2 rfc9112#6.3", level="MUST",
       requirement="A response to HEAD carries no content: a request sent right after it on the same connection gets "
                   "its own response, not the resource's octets.", tags=["head", "http"])
async def head_no_body(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt", BODY)
        wire = await ctx.connect("webdav")
        auth = [("Authorization", d.client.authorization)] if d.client.authorization else []
        await wire.send(request_bytes("HEAD", f, [("Host", d.client.host), *auth]) +
                        request_bytes("OPTIONS", f, [("Host", d.client.host), *auth, ("Content-Length", "0")]))
        h = await read_response(wire, "HEAD")
        ctx.setup(h.status == 200 and not h.closes, "HEAD is answered 200 on a kept-alive connection", "200", h.show())
        o = await read_response(wire, "OPTIONS")
        ctx.expect(o.version.startswith("HTTP/") and 200 <= o.status < 300,
                   "the next thing on the wire is the OPTIONS response", "HTTP/1.1 200 OK", o.show())


@probe("webdav.get.not-found-404", rfc="rfc9110#15.5.5", level="MUST",
       requirement="GET of an unmapped URL is answered 404 (Not Found).", tags=["get", "errors"])
async def get_404(ctx):
    async with scratch(ctx) as d:
        g = await d.get(d.url("absent.txt"))
        ctx.expect(g.status == 404, "GET of a missing resource is answered 404", "HTTP/1.1 404", g.show())


@probe("webdav.delete.resource", rfc="rfc4918#9.6 rfc9110#9.3.5", level="MUST",
       requirement="DELETE of a resource succeeds (200 or 204) and the URL is unmapped afterwards: GET gives 404.",
       tags=["delete"])
async def delete_resource(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r = await d.request("DELETE", f)
        ctx.expect(r.status in (200, 204), "DELETE is answered 200 or 204", "HTTP/1.1 204 No Content", r.show())
        g = await d.get(f)
        ctx.expect(g.status == 404, "GET afterwards is answered 404", "HTTP/1.1 404", g.show())


@probe("webdav.delete.204", rfc="rfc4918#9.6.1 rfc9110#9.3.5", level="SHOULD",
       requirement="A successful DELETE without a body to report is answered 204 (No Content).",
       tags=["delete", "status"])
async def delete_204(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r = await d.request("DELETE", f)
        ctx.expect(r.status == 204, "DELETE is answered 204", "HTTP/1.1 204 No Content", r.show())


@probe("webdav.delete.collection-infinity", rfc="rfc4918#9.6.1", level="MUST",
       requirement="DELETE of a collection acts as Depth infinity: the collection and every resource below it are "
                   "gone afterwards.", tags=["delete", "collections"])
async def delete_collection(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r = await d.request("DELETE", p["sub"])
        ctx.expect(r.status in (200, 204), "DELETE of the collection succeeds", "HTTP/1.1 204", r.show())
        for role in ("sub", "child", "deep", "leaf"):
            ctx.expect(await d.exists(p[role]) is False, f"{p[role]} is gone", "404", d.client.last.show())
        ctx.expect(await d.exists(p["top"]) is True, "the sibling a.txt is still there", "207", d.client.last.show())


@probe("webdav.delete.not-found-404", rfc="rfc4918#9.6 rfc9110#15.5.5", level="MUST",
       requirement="DELETE of an unmapped URL is answered 404 (Not Found).", tags=["delete", "errors"])
async def delete_404(ctx):
    async with scratch(ctx) as d:
        r = await d.request("DELETE", d.url("absent.txt"))
        ctx.expect(r.status == 404, "DELETE of a missing resource is answered 404", "HTTP/1.1 404", r.show())


@probe("webdav.delete.locked-member-kept", rfc="rfc4918#9.6.1 rfc4918#7.1", level="MUST",
       requirement="When a member of a collection cannot be deleted (it is locked and the lock token was not given), "
                   "DELETE of the collection does not report success, and the member and its ancestors stay.",
       needs=LOCKING, exclusive=True, tags=["delete", "lock"])
async def delete_locked_member(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        await d.lock(p["leaf"])
        r = await d.request("DELETE", p["sub"])
        ctx.expect(r.status not in (200, 202, 204), "DELETE of the collection is not answered as a success",
                   "207 Multi-Status naming the locked member with 423", r.show())
        ctx.expect(await d.exists(p["leaf"]) is True and await d.exists(p["deep"]) is True
                   and await d.exists(p["sub"]) is True,
                   "the locked resource and its ancestors still exist", "207", show(r, d.client.last))
