"""Probes of COPY and MOVE (RFC 4918 sections 9.8 and 9.9) and of the headers they take: Destination (10.3),
Overwrite (10.6) and Depth (10.2).

COPY duplicates a resource, or a collection with its members (Depth infinity, the default) or without them
(Depth 0), at the Destination URL; MOVE is a COPY followed by a DELETE of the source. Dead properties travel
with the resource, locks do not. The answer is 201 when the destination was new and 204 when it replaced a
resource; with Overwrite F a mapped destination is refused with 412. A destination whose parent is missing
is a 409, one on another server a 502, and one equal to the source a 403.
"""
from __future__ import annotations

import functools

from conformance.registry import probe

from .common import WP, scratch, show, tree

COLOUR = "{" + WP + "}colour"


def dest(d, path: str, *more) -> list[tuple[str, str]]:
    return [("Destination", d.absolute(path)), *more]


async def content(ctx, d, path: str) -> bytes | None:
    g = await d.get(path)
    return g.body if g.status == 200 else None


def twins(**probes):
    """Register one behaviour `fn(ctx, method)` as several checks, e.g. `twins(COPY=probe(...), MOVE=probe(...))`.

    COPY and MOVE share most of their rules (RFC 4918 9.8 and 9.9 are written in parallel); each check keeps its
    own `@probe` line (id, RFC, level, requirement, tags) so grepping an id still lands on its definition.
    """

    def register(fn):
        for method, register_probe in probes.items():
            @functools.wraps(fn)  # the registry reads the source line through __wrapped__
            async def run(ctx, _method=method):
                await fn(ctx, _method)

            register_probe(run)
        return fn

    return register


async def source_stays(ctx, d, method: str, src: str, body: bytes, what: str = "the source") -> None:
    """After a refused MOVE the source must still be there (a refused COPY never touches it)."""
    if method == "MOVE":
        ctx.expect(await content(ctx, d, src) == body, f"{what} is still there", body.decode().strip(),
                   show(d.client.last))


# --- COPY ----------------------------------------------------------------------------------------------------

@probe("webdav.copy.resource-201", rfc="rfc4918#9.8 rfc4918#9.8.5", level="MUST",
       requirement="COPY of a resource to an unmapped URL is answered 201 (Created); both URLs then hold the same "
                   "content.", tags=["copy"])
async def copy_new(ctx):
    async with scratch(ctx) as d:
        src, dst = d.url("src.txt"), d.url("dst.txt")
        await d.put(src, b"copied\r\n")
        r = await d.request("COPY", src, dest(d, dst))
        ctx.expect(r.status == 201, "COPY to a new URL is answered 201", "HTTP/1.1 201 Created", r.show())
        ctx.expect(await content(ctx, d, dst) == b"copied\r\n" and await content(ctx, d, src) == b"copied\r\n",
                   "source and destination both hold the content", "copied", d.client.last.show())


@probe("webdav.copy.overwrite-replaces", rfc="rfc4918#9.8.4 rfc4918#10.6", level="MUST",
       requirement="COPY onto a mapped URL with Overwrite T (or no Overwrite header) replaces the destination.",
       tags=["copy", "overwrite"])
async def copy_overwrite(ctx):
    async with scratch(ctx) as d:
        src, dst = d.url("src.txt"), d.url("dst.txt")
        await d.put(src, b"new\r\n")
        await d.put(dst, b"old\r\n")
        r = await d.request("COPY", src, dest(d, dst, ("Overwrite", "T")))
        ctx.expect(r.status in (200, 201, 204), "COPY with Overwrite T succeeds", "HTTP/1.1 204", r.show())
        ctx.expect(await content(ctx, d, dst) == b"new\r\n", "the destination holds the source's content", "new",
                   d.client.last.show())


@probe("webdav.copy.overwrite-204", rfc="rfc4918#9.8.5", level="SHOULD",
       requirement="A COPY that replaced an existing destination is answered 204 (No Content), not 201.",
       tags=["copy", "overwrite", "status"])
async def copy_204(ctx):
    async with scratch(ctx) as d:
        src, dst = d.url("src.txt"), d.url("dst.txt")
        await d.put(src, b"new\r\n")
        await d.put(dst, b"old\r\n")
        r = await d.request("COPY", src, dest(d, dst))
        ctx.expect(r.status == 204, "COPY onto an existing resource is answered 204", "HTTP/1.1 204 No Content",
                   r.show())


@probe("webdav.copy.destination-path", rfc="rfc4918#10.3 rfc4918#8.3", level="MUST",
       requirement="A Destination given as an absolute path (without scheme and host) is accepted like the absolute "
                   "URI of the same resource.", tags=["copy", "urls"])
async def copy_path_destination(ctx):
    async with scratch(ctx) as d:
        src, dst = d.url("src.txt"), d.url("dst.txt")
        await d.put(src, b"copied\r\n")
        r = await d.request("COPY", src, [("Destination", dst)])
        ctx.expect(r.status == 201, "COPY with a path Destination is answered 201", "HTTP/1.1 201", r.show())
        ctx.expect(await content(ctx, d, dst) == b"copied\r\n", "the copy is at that path", "copied",
                   d.client.last.show())


@probe("webdav.copy.collection-missing-parent-409", rfc="rfc4918#9.8.5 rfc4918#9.8.3", level="MUST",
       requirement="COPY of a collection to a destination whose parent collection does not exist is answered 409 "
                   "(Conflict), as for a single resource.", tags=["copy", "errors", "collections"])
async def copy_collection_409(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r = await d.request("COPY", p["sub"], dest(d, d.url("missing", "copy/")))
        ctx.expect(r.status == 409, "COPY of the collection into a missing collection is answered 409",
                   "HTTP/1.1 409 Conflict", r.show())


@probe("webdav.copy.other-server-502", rfc="rfc4918#9.8.5", level="SHOULD",
       requirement="COPY to a Destination on another server is refused with 502 (Bad Gateway).",
       tags=["copy", "errors", "status"])
async def copy_502(ctx):
    async with scratch(ctx) as d:
        src = await d.file("src.txt")
        r = await d.request("COPY", src, [("Destination", f"http://elsewhere.wireproof.invalid{d.url('dst.txt')}")])
        ctx.expect(r.status == 502, "COPY to another server is answered 502", "HTTP/1.1 502 Bad Gateway", r.show())


@probe("webdav.copy.collection-infinity", rfc="rfc4918#9.8.3", level="MUST",
       requirement="COPY of a collection with Depth infinity copies the collection and every resource below it.",
       tags=["copy", "collections", "depth"])
async def copy_collection(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        dst = d.url("copy/")
        r = await d.request("COPY", p["sub"], dest(d, dst, ("Depth", "infinity")))
        ctx.expect(r.status == 201, "COPY of the collection is answered 201", "HTTP/1.1 201", r.show())
        ctx.expect(await content(ctx, d, d.url("copy", "deep", "c.txt")) == b"leaf\r\n"
                   and await content(ctx, d, d.url("copy", "b.txt")) == b"child\r\n",
                   "the members at every level were copied", "copy/b.txt and copy/deep/c.txt", d.client.last.show())


@probe("webdav.copy.collection-depth-0", rfc="rfc4918#9.8.3", level="MUST",
       requirement="COPY of a collection with Depth 0 copies the collection and its properties but none of its "
                   "members.", tags=["copy", "collections", "depth"])
async def copy_depth_0(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        dst = d.url("copy/")
        r = await d.request("COPY", p["sub"], dest(d, dst, ("Depth", "0")))
        ctx.expect(r.status == 201, "COPY Depth 0 is answered 201", "HTTP/1.1 201", r.show())
        members = await d.members(dst)
        ctx.expect(members == [], "the copy is an empty collection", "no members", str(members))


@probe("webdav.copy.no-depth-is-infinity", rfc="rfc4918#9.8.3", level="MUST",
       requirement="COPY of a collection without a Depth header acts as Depth infinity.",
       tags=["copy", "collections", "depth"])
async def copy_no_depth(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        dst = d.url("copy/")
        r = await d.request("COPY", p["sub"], dest(d, dst))
        ctx.setup(r.status == 201, "COPY of the collection is answered 201", "201", r.show())
        ctx.expect(await content(ctx, d, d.url("copy", "deep", "c.txt")) == b"leaf\r\n",
                   "the deepest member was copied", "copy/deep/c.txt", d.client.last.show())


# --- MOVE ----------------------------------------------------------------------------------------------------

@probe("webdav.move.resource", rfc="rfc4918#9.9 rfc4918#9.9.4", level="MUST",
       requirement="MOVE of a resource to an unmapped URL is answered 201; the content is at the destination and "
                   "the source URL is unmapped (404).", tags=["move"])
async def move_new(ctx):
    async with scratch(ctx) as d:
        src, dst = d.url("src.txt"), d.url("dst.txt")
        await d.put(src, b"moved\r\n")
        r = await d.request("MOVE", src, dest(d, dst))
        ctx.expect(r.status == 201, "MOVE to a new URL is answered 201", "HTTP/1.1 201 Created", r.show())
        ctx.expect(await content(ctx, d, dst) == b"moved\r\n", "the destination holds the content", "moved",
                   d.client.last.show())
        g = await d.get(src)
        ctx.expect(g.status == 404, "the source is gone", "HTTP/1.1 404", g.show())


@probe("webdav.move.overwrite-204", rfc="rfc4918#9.9.4", level="SHOULD",
       requirement="A MOVE that replaced an existing destination is answered 204 (No Content).",
       tags=["move", "overwrite", "status"])
async def move_204(ctx):
    async with scratch(ctx) as d:
        src, dst = d.url("src.txt"), d.url("dst.txt")
        await d.put(src, b"new\r\n")
        await d.put(dst, b"old\r\n")
        r = await d.request("MOVE", src, dest(d, dst, ("Overwrite", "T")))
        ctx.expect(r.status == 204, "MOVE onto an existing resource is answered 204", "HTTP/1.1 204", r.show())


@probe("webdav.move.collection", rfc="rfc4918#9.9.2", level="MUST",
       requirement="MOVE of a collection moves it with everything below it; nothing stays at the source.",
       tags=["move", "collections"])
async def move_collection(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r = await d.request("MOVE", p["sub"], dest(d, d.url("moved/")))
        ctx.expect(r.status == 201, "MOVE of the collection is answered 201", "HTTP/1.1 201", r.show())
        ctx.expect(await content(ctx, d, d.url("moved", "deep", "c.txt")) == b"leaf\r\n",
                   "the deepest member is at its new place", "moved/deep/c.txt", d.client.last.show())
        ctx.expect(await d.exists(p["sub"]) is False and await d.exists(p["leaf"]) is False,
                   "the source collection and its members are gone", "404", d.client.last.show())


@probe("webdav.move.into-itself-refused", rfc="rfc4918#9.9 rfc4918#9.8.5", level="MUST",
       requirement="MOVE of a collection to a URL below itself is refused, and the collection stays where it was.",
       tags=["move", "errors", "collections"])
async def move_into_self(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r = await d.request("MOVE", p["sub"], dest(d, d.url("sub", "deep", "inner/")))
        ctx.expect(r.status >= 400, "the MOVE is refused", "HTTP/1.1 403|409", r.show())
        ctx.expect(await content(ctx, d, p["leaf"]) == b"leaf\r\n", "the collection's members are still in place",
                   "leaf", d.client.last.show())


# --- COPY and MOVE alike ---------------------------------------------------------------------------------------

@twins(
    COPY=probe("webdav.copy.overwrite-f-412", rfc="rfc4918#9.8.4 rfc4918#10.6 rfc4918#9.8.5", level="MUST",
               requirement="COPY with Overwrite F onto a mapped URL is refused with 412 (Precondition Failed) and "
                           "the destination is left as it was.", tags=["copy", "overwrite"]),
    MOVE=probe("webdav.move.overwrite-f-412", rfc="rfc4918#9.9.3 rfc4918#10.6 rfc4918#9.9.4", level="MUST",
               requirement="MOVE with Overwrite F onto a mapped URL is refused with 412, and neither resource "
                           "changes.", tags=["move", "overwrite"]))
async def overwrite_f_412(ctx, method):
    async with scratch(ctx) as d:
        src, dst = d.url("src.txt"), d.url("dst.txt")
        await d.put(src, b"new\r\n")
        await d.put(dst, b"old\r\n")
        r = await d.request(method, src, dest(d, dst, ("Overwrite", "F")))
        ctx.expect(r.status == 412, f"{method} with Overwrite F is answered 412", "HTTP/1.1 412", r.show())
        if method == "MOVE":  # a refused MOVE must not have removed the source either
            ctx.expect(await content(ctx, d, dst) == b"old\r\n" and await content(ctx, d, src) == b"new\r\n",
                       "source and destination are unchanged", "src new, dst old", d.client.last.show())
        else:
            ctx.expect(await content(ctx, d, dst) == b"old\r\n", "the destination keeps its content", "old",
                       d.client.last.show())


@twins(
    COPY=probe("webdav.copy.overwrite-deletes-destination", rfc="rfc4918#9.8.4", level="MUST",
               requirement="COPY of a collection onto an existing collection with Overwrite T first deletes the "
                           "destination (Depth infinity): afterwards it holds the source's members and none of its "
                           "old ones.", tags=["copy", "overwrite", "collections"]),
    MOVE=probe("webdav.move.overwrite-deletes-destination", rfc="rfc4918#9.9.3", level="MUST",
               requirement="MOVE onto an existing collection with Overwrite T first deletes the destination (Depth "
                           "infinity): none of the old destination's members survive.",
               tags=["move", "overwrite", "collections"]))
async def overwrite_deletes_destination(ctx, method):
    async with scratch(ctx) as d:
        src, dst = d.url("src/"), d.url("dst/")
        await d.mkcol(src)
        await d.put(d.url("src", "new.txt"), b"new\r\n")
        await d.mkcol(dst)
        await d.put(d.url("dst", "old.txt"), b"old\r\n")
        r = await d.request(method, src, dest(d, dst, ("Overwrite", "T")))
        ctx.expect(r.status in (200, 201, 204), f"{method} onto the collection succeeds", "HTTP/1.1 204", r.show())
        members = await d.members(dst)
        ctx.expect(members is not None and [m.rsplit("/", 1)[-1] for m in members] == ["new.txt"],
                   f"the destination holds only the {'copied' if method == 'COPY' else 'moved'} member",
                   "dst/new.txt", str(members))


@twins(
    COPY=probe("webdav.copy.destination-required", rfc="rfc4918#9.8 rfc4918#10.3", level="MUST",
               requirement="COPY without a Destination header is refused with a 4xx status (400 Bad Request).",
               tags=["copy", "errors"]),
    MOVE=probe("webdav.move.destination-required", rfc="rfc4918#9.9 rfc4918#10.3", level="MUST",
               requirement="MOVE without a Destination header is refused with a 4xx status, and the resource "
                           "stays.", tags=["move", "errors"]))
async def destination_required(ctx, method):
    async with scratch(ctx) as d:
        src = await d.file("src.txt", b"stay\r\n")
        r = await d.request(method, src)
        ctx.expect(400 <= r.status < 500, f"{method} without Destination is refused with 4xx", "HTTP/1.1 400",
                   r.show())
        await source_stays(ctx, d, method, src, b"stay\r\n", "the resource")


@twins(
    COPY=probe("webdav.copy.same-resource-403", rfc="rfc4918#9.8.5", level="SHOULD",
               requirement="COPY whose Destination is its own source is refused with 403 (Forbidden), and the "
                           "resource is unharmed.", tags=["copy", "errors", "status"]),
    MOVE=probe("webdav.move.same-resource-403", rfc="rfc4918#9.9.4", level="SHOULD",
               requirement="MOVE whose Destination is its own source is refused with 403 (Forbidden).",
               tags=["move", "errors", "status"]))
async def same_resource_403(ctx, method):
    async with scratch(ctx) as d:
        src = await d.file("src.txt", b"self\r\n")
        r = await d.request(method, src, dest(d, src))
        ctx.expect(r.status == 403, f"{method} onto itself is answered 403", "HTTP/1.1 403 Forbidden", r.show())


@twins(
    COPY=probe("webdav.copy.missing-parent-409", rfc="rfc4918#9.8.5", level="MUST",
               requirement="COPY to a destination whose parent collection does not exist is answered 409 "
                           "(Conflict); the server does not make the collection.", tags=["copy", "errors"]),
    MOVE=probe("webdav.move.missing-parent-409", rfc="rfc4918#9.9.4", level="MUST",
               requirement="MOVE to a destination whose parent collection does not exist is answered 409, and the "
                           "source stays.", tags=["move", "errors"]))
async def missing_parent_409(ctx, method):
    async with scratch(ctx) as d:
        src = await d.file("src.txt", b"stay\r\n")
        r = await d.request(method, src, dest(d, d.url("missing", "dst.txt")))
        ctx.expect(r.status == 409, f"{method} into a missing collection is answered 409", "HTTP/1.1 409", r.show())
        await source_stays(ctx, d, method, src, b"stay\r\n")


@twins(
    COPY=probe("webdav.copy.dead-properties", rfc="rfc4918#9.8.2", level="MUST",
               requirement="COPY duplicates the dead properties of the source at the destination.",
               tags=["copy", "dead-properties"]),
    MOVE=probe("webdav.move.dead-properties", rfc="rfc4918#9.9.1", level="MUST",
               requirement="MOVE takes the dead properties of the resource along to the destination.",
               tags=["move", "dead-properties"]))
async def dead_properties(ctx, method):
    async with scratch(ctx) as d:
        src, dst = d.url("src.txt"), d.url("dst.txt")
        await d.put(src)
        await d.set_dead(src, COLOUR, "blue")
        r = await d.request(method, src, dest(d, dst))
        ctx.setup(r.status in (201, 204), f"{method} succeeds", "201", r.show())
        got, r2 = await d.props(dst, COLOUR)
        ctx.expect(got.value(COLOUR) == "blue", "the destination has the dead property", "blue", r2.show())
