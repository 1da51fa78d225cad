"""Probes of PROPFIND (RFC 4918 section 9.1) and of the live properties it reports (section 15).

PROPFIND asks for properties of a resource and, with Depth 1 or infinity, of the members below it. The answer
is a 207 Multi-Status whose DAV:response elements each name one resource (DAV:href) and sort its properties
into DAV:propstat groups by status: 200 for those found, 404 for those the resource does not have. Each probe
builds what it asks about in its own scratch collection (a small tree, see common.tree) first.
"""
from __future__ import annotations

from conformance.registry import probe

from .common import (LOCKING, RFC1123_RE, RFC3339_RE, WP, conditions, first, found, same_path, scratch, show,
                     tree)

DEAD = "{" + WP + "}colour"


async def listing(ctx, d, path: str, depth: str | None, props=("{DAV:}resourcetype",)):
    r, ms = await d.propfind(path, list(props), depth=depth)
    return r, ms


@probe("webdav.propfind.depth-0-self", rfc="rfc4918#9.1 rfc4918#10.2", level="MUST",
       requirement="PROPFIND with Depth 0 on a collection is answered 207 with exactly one DAV:response, the one "
                   "for the collection itself, not for its members.", tags=["propfind", "depth"])
async def depth_0(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r, ms = await listing(ctx, d, p["sub"], "0")
        ctx.expect(ms is not None, "PROPFIND Depth 0 is answered 207 with a multistatus", "207 Multi-Status", r.show())
        ctx.expect(len(ms.responses) == 1 and same_path(ms.responses[0].href, p["sub"]),
                   "the multistatus has one response, for the collection", f"one <D:href> for {p['sub']}",
                   "\n".join(ms.paths()))


@probe("webdav.propfind.depth-1-children", rfc="rfc4918#9.1 rfc4918#10.2", level="MUST",
       requirement="PROPFIND with Depth 1 on a collection reports the collection and its internal members, and "
                   "nothing deeper.", tags=["propfind", "depth"])
async def depth_1(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r, ms = await listing(ctx, d, p["sub"], "1")
        ctx.expect(ms is not None, "PROPFIND Depth 1 is answered 207 with a multistatus", "207 Multi-Status", r.show())
        got = sorted(x.rstrip("/") for x in ms.paths())
        want = sorted(x.rstrip("/") for x in (p["sub"], p["child"], p["deep"]))
        ctx.expect(got == want, "the responses are the collection, its file and its subcollection",
                   "\n".join(want), "\n".join(got))


@probe("webdav.propfind.depth-1-resource", rfc="rfc4918#9.1 rfc4918#10.2", level="MUST",
       requirement="PROPFIND with Depth 1 on a non-collection resource reports that resource alone.",
       tags=["propfind", "depth"])
async def depth_1_resource(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r, ms = await listing(ctx, d, p["child"], "1")
        ctx.expect(ms is not None and len(ms.responses) == 1 and same_path(ms.responses[0].href, p["child"]),
                   "the multistatus has one response, for the resource", f"one <D:href> for {p['child']}", r.show())


@probe("webdav.propfind.depth-infinity", rfc="rfc4918#9.1 rfc4918#10.2", level="MUST",
       requirement="PROPFIND with Depth infinity reports the collection and all its descendants at every level, or "
                   "is refused with 403 when the server does not do infinite depth.", tags=["propfind", "depth"])
async def depth_infinity(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r, ms = await listing(ctx, d, p["sub"], "infinity")
        if r.status == 403:
            ctx.expect(True, "Depth infinity is refused with 403", "403", r.show())
            return
        ctx.expect(ms is not None, "PROPFIND Depth infinity is answered 207 (or 403)", "207 Multi-Status", r.show())
        got = sorted(x.rstrip("/") for x in ms.paths())
        want = sorted(x.rstrip("/") for x in (p["sub"], p["child"], p["deep"], p["leaf"]))
        ctx.expect(got == want, "the responses are the collection and every descendant", "\n".join(want),
                   "\n".join(got))


@probe("webdav.propfind.finite-depth-condition", rfc="rfc4918#9.1 rfc4918#16", level="SHOULD",
       requirement="A server that refuses Depth infinity on PROPFIND says why: 403 with the DAV:propfind-finite-depth "
                   "precondition in a DAV:error body.", tags=["propfind", "depth", "errors"])
async def finite_depth_condition(ctx):
    async with scratch(ctx) as d:
        r, _ = await listing(ctx, d, d.col, "infinity")
        ctx.require(r.status == 403, f"the server does Depth infinity (answered {r.status_line})")
        ctx.expect("propfind-finite-depth" in conditions(r), "the 403 names DAV:propfind-finite-depth",
                   "<D:error><D:propfind-finite-depth/></D:error>", r.show())


@probe("webdav.propfind.no-depth-is-infinity", rfc="rfc4918#9.1 rfc4918#10.2", level="SHOULD",
       requirement="A PROPFIND without a Depth header is treated as Depth infinity: it reports every descendant, or "
                   "is refused exactly as Depth infinity is.", tags=["propfind", "depth"])
async def no_depth(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        inf, inf_ms = await listing(ctx, d, p["sub"], "infinity")
        none, none_ms = await listing(ctx, d, p["sub"], None)
        if inf.status == 403:
            ctx.expect(none.status == 403, "without Depth, the request is refused like Depth infinity (403)", "403",
                       show(inf, none))
            return
        ctx.setup(inf_ms is not None, "PROPFIND Depth infinity is answered 207", "207", inf.show())
        ctx.expect(none_ms is not None and sorted(none_ms.paths()) == sorted(inf_ms.paths()),
                   "without Depth, the same resources are reported as with Depth infinity",
                   "\n".join(sorted(inf_ms.paths())), none.show())


@probe("webdav.propfind.empty-body-allprop", rfc="rfc4918#9.1", level="MUST",
       requirement="A PROPFIND without a body is an allprop request: it reports the live properties, among them "
                   "DAV:resourcetype and DAV:getlastmodified, with status 200.", tags=["propfind"])
async def empty_body(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, ms = await d.propfind(f, body=b"")
        entry = found(ms, f)
        ctx.expect(entry is not None, "PROPFIND without a body is answered 207 with a response for the resource",
                   "207 Multi-Status", r.show())
        ctx.expect({"{DAV:}resourcetype", "{DAV:}getlastmodified"} <= entry.names(200),
                   "DAV:resourcetype and DAV:getlastmodified are reported with 200",
                   "<D:resourcetype/> <D:getlastmodified>...", r.show())


@probe("webdav.propfind.allprop-live-and-dead", rfc="rfc4918#9.1 rfc4918#14.2", level="MUST",
       requirement="PROPFIND allprop reports the dead properties of the resource and the live properties RFC 4918 "
                   "defines that it has (DAV:getcontentlength, DAV:getlastmodified, DAV:resourcetype).",
       tags=["propfind", "allprop", "dead-properties"])
async def allprop(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        await d.set_dead(f, DEAD, "blue")
        r, ms = await d.propfind(f, allprop=True)
        entry = found(ms, f)
        ctx.expect(entry is not None, "PROPFIND allprop is answered 207 with a response for the resource",
                   "207 Multi-Status", r.show())
        want = {DEAD, "{DAV:}getcontentlength", "{DAV:}getlastmodified", "{DAV:}resourcetype"}
        ctx.expect(want <= entry.names(200), "the dead property and the live ones are all reported with 200",
                   " ".join(sorted(want)), " ".join(sorted(entry.names(200))))
        ctx.expect(entry.value(DEAD) == "blue", "the dead property has the value set", "blue", r.show())


@probe("webdav.propfind.propname", rfc="rfc4918#9.1 rfc4918#14.21", level="MUST",
       requirement="PROPFIND propname lists the names of the resource's properties, live and dead, as empty elements "
                   "without values.", tags=["propfind", "propname"])
async def propname(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        await d.set_dead(f, DEAD, "blue")
        r, ms = await d.propfind(f, propname=True)
        entry = found(ms, f)
        ctx.expect(entry is not None, "PROPFIND propname is answered 207 with a response for the resource",
                   "207 Multi-Status", r.show())
        names = entry.names(200)
        ctx.expect({DEAD, "{DAV:}resourcetype", "{DAV:}getlastmodified"} <= names,
                   "the dead property and live properties are named", f"{DEAD} {{DAV:}}resourcetype ...",
                   " ".join(sorted(names)))
        valued = [n for ps in entry.propstats for n, el in ps.props.items() if len(el) or (el.text or "").strip()]
        ctx.expect(not valued, "no property carries a value", "empty elements only", " ".join(valued))


@probe("webdav.propfind.include", rfc="rfc4918#9.1 rfc4918#14.8", level="SHOULD",
       requirement="PROPFIND allprop with a DAV:include element is understood, not refused: it is answered 207 and "
                   "reports the properties the include names (a dead property and DAV:resourcetype).",
       tags=["propfind", "allprop"])
async def include(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        await d.set_dead(f, DEAD, "blue")
        r, ms = await d.propfind(f, allprop=True, include=[DEAD, "{DAV:}resourcetype"])
        entry = found(ms, f)
        ctx.expect(entry is not None and {DEAD, "{DAV:}resourcetype"} <= entry.names(200),
                   "the included properties are reported with 200", "207 with colour and resourcetype", r.show())


@probe("webdav.propfind.unknown-prop-404", rfc="rfc4918#9.1 rfc4918#9.1.2", level="MUST",
       requirement="A property the resource does not have is reported in a propstat with status 404, not left out and "
                   "not failing the request.", tags=["propfind", "errors"])
async def unknown_404(ctx):
    async with scratch(ctx) as d:
        missing = "{" + WP + "}no-such-property"
        r, ms = await d.propfind(d.col, [missing])
        entry = found(ms, d.col)
        ctx.expect(entry is not None and entry.prop_status(missing) == 404, "the property is reported with 404",
                   "<D:propstat>...<n1:no-such-property/>...<D:status>HTTP/1.1 404 Not Found", r.show())


@probe("webdav.propfind.propstat-per-status", rfc="rfc4918#9.1 rfc4918#14.22", level="MUST",
       requirement="Found and missing properties asked for together come back in separate propstat elements, one per "
                   "status: 200 for DAV:resourcetype and 404 for the unknown one.", tags=["propfind"])
async def propstat_per_status(ctx):
    async with scratch(ctx) as d:
        missing = "{" + WP + "}no-such-property"
        r, ms = await d.propfind(d.col, ["{DAV:}resourcetype", missing])
        entry = found(ms, d.col)
        ctx.expect(entry is not None, "PROPFIND is answered 207 with a response for the collection", "207", r.show())
        statuses = [ps.status for ps in entry.propstats]
        ctx.expect(entry.prop_status("{DAV:}resourcetype") == 200 and entry.prop_status(missing) == 404
                   and len(statuses) == len(set(statuses)),
                   "resourcetype is in the 200 propstat, the unknown one in the 404 propstat, one propstat per status",
                   "two propstats: 200 and 404", r.show())


@probe("webdav.propfind.bad-xml-400", rfc="rfc4918#8.2 rfc4918#9.1", level="MUST",
       requirement="A PROPFIND whose body is not well-formed XML is rejected as a whole with 400 (Bad Request).",
       tags=["propfind", "errors", "xml"])
async def bad_xml(ctx):
    async with scratch(ctx) as d:
        body = b'<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:propfind>'
        r, _ = await d.propfind(d.col, body=body)
        ctx.expect(r.status == 400, "a body with an unclosed element is refused with 400", "HTTP/1.1 400", r.show())


@probe("webdav.propfind.multistatus-well-formed", rfc="rfc4918#13 rfc4918#14.16 rfc4918#14.24", level="MUST",
       requirement="A 207 answer to PROPFIND is an XML document with an XML media type whose root is DAV:multistatus, "
                   "and every DAV:response in it has a DAV:href and either a DAV:status or DAV:propstat elements.",
       tags=["propfind", "xml"])
async def well_formed(ctx):
    from conformance.dialects.http import XmlError, parse_multistatus

    async with scratch(ctx) as d:
        await tree(d)
        r, _ = await d.propfind(d.col, ["{DAV:}resourcetype", "{DAV:}getlastmodified"], depth="1")
        ctx.setup(r.status == 207, "PROPFIND Depth 1 is answered 207", "207", r.show())
        ctype = (r.header("Content-Type") or "").split(";")[0].strip().lower()
        ctx.expect(ctype in ("application/xml", "text/xml"), "the Content-Type is an XML media type",
                   "Content-Type: application/xml", r.show())
        try:
            ms = parse_multistatus(r.body)
        except XmlError as exc:
            ctx.expect(False, "the body is a well-formed DAV:multistatus", "<D:multistatus>", f"{exc}\n{r.show()}")
            return
        ctx.expect(not ms.problems and ms.responses, "every response has an href and a status or propstats",
                   "no problems", "\n".join(ms.problems) or r.show())


@probe("webdav.propfind.hrefs-consistent", rfc="rfc4918#8.3 rfc4918#14.7", level="MUST",
       requirement="The hrefs of a multistatus are all absolute URIs or all absolute paths (an absolute URI with the "
                   "http or https scheme), and each names a resource at or below the collection PROPFIND was sent "
                   "to.", tags=["propfind", "urls"])
async def hrefs(ctx):
    from urllib.parse import urlsplit

    async with scratch(ctx) as d:
        await tree(d)
        r, ms = await listing(ctx, d, d.col, "1")
        ctx.setup(ms is not None, "PROPFIND Depth 1 is answered 207", "207", r.show())
        forms = {"absolute" if urlsplit(h).scheme else "path" for x in ms.responses for h in x.hrefs}
        ctx.expect(len(forms) == 1, "all hrefs have the same form", "all absolute URIs or all paths", r.show())
        bad = []
        for x in ms.responses:
            for h in x.hrefs:
                u = urlsplit(h)
                if u.scheme and u.scheme not in ("http", "https"):
                    bad.append(f"{h}: not an http(s) URI")
                elif not u.scheme and not h.startswith("/"):
                    bad.append(f"{h}: neither an absolute URI nor an absolute path")
                elif not x.path.startswith(d.col.rstrip("/")):
                    bad.append(f"{h}: not below {d.col}")
        ctx.expect(not bad, "every href names a resource at or below the collection on this server",
                   f"hrefs below {d.col}", "\n".join(bad))


@probe("webdav.propfind.collection-href-slash", rfc="rfc4918#8.3 rfc4918#5.2", level="SHOULD",
       requirement="In a multistatus, the href of a collection ends in a slash.", tags=["propfind", "urls"])
async def collection_slash(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r, ms = await listing(ctx, d, p["sub"], "1")
        ctx.setup(ms is not None, "PROPFIND Depth 1 is answered 207", "207", r.show())
        cols = [x.href for x in ms.responses if x.is_collection]
        ctx.setup(len(cols) == 2, "the two collections are reported with DAV:collection", "2 collections", r.show())
        ctx.expect(all(h.endswith("/") for h in cols), "each collection's href ends in /", "…/sub/ and …/deep/",
                   "\n".join(cols))


@probe("webdav.propfind.resourcetype", rfc="rfc4918#15.9 rfc4918#14.3", level="MUST",
       requirement="DAV:resourcetype of a collection contains DAV:collection; that of a plain resource is empty.",
       tags=["propfind", "live-properties"])
async def resourcetype(ctx):
    async with scratch(ctx) as d:
        p = await tree(d)
        r, ms = await listing(ctx, d, p["sub"], "1")
        ctx.setup(ms is not None, "PROPFIND Depth 1 is answered 207", "207", r.show())
        sub, child = ms.find(p["sub"]), ms.find(p["child"])
        ctx.expect(sub is not None and sub.is_collection is True, "the collection has DAV:collection",
                   "<D:resourcetype><D:collection/></D:resourcetype>", r.show())
        rt = child.prop("{DAV:}resourcetype") if child else None
        ctx.expect(rt is not None and len(rt) == 0, "the file has an empty DAV:resourcetype", "<D:resourcetype/>",
                   r.show())


@probe("webdav.propfind.getcontentlength", rfc="rfc4918#15.4", level="MUST",
       requirement="DAV:getcontentlength of a resource is the length in octets of what GET returns, here of the body "
                   "just PUT.", tags=["propfind", "live-properties"])
async def getcontentlength(ctx):
    async with scratch(ctx) as d:
        f = d.url("len.txt")
        body = b"seventeen octets!"
        await d.put(f, body)
        entry, r = await d.props(f, "{DAV:}getcontentlength")
        ctx.expect(entry.value("{DAV:}getcontentlength") == str(len(body)), "getcontentlength is 17", "17", r.show())


@probe("webdav.propfind.getcontenttype", rfc="rfc4918#15.5", level="MUST",
       requirement="DAV:getcontenttype of a resource equals the Content-Type GET sends for it.",
       tags=["propfind", "live-properties"])
async def getcontenttype(ctx):
    async with scratch(ctx) as d:
        f = await d.file("page.txt", b"text\r\n", content_type="text/plain")
        g = await d.get(f)
        ctx.setup(g.status == 200 and g.header("Content-Type"), "GET returns the resource with a Content-Type", "200",
                  g.show())
        entry, r = await d.props(f, "{DAV:}getcontenttype")
        norm = lambda v: (v or "").replace(" ", "").lower()  # noqa: E731
        ctx.expect(norm(entry.value("{DAV:}getcontenttype")) == norm(g.header("Content-Type")),
                   "getcontenttype equals the Content-Type of GET", g.header("Content-Type"), r.show())


@probe("webdav.propfind.getetag-matches-header", rfc="rfc4918#15.6 rfc4918#8.6", level="MUST",
       requirement="DAV:getetag of a resource has the same value as the ETag header GET sends for it.",
       tags=["propfind", "live-properties", "etag"])
async def getetag(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        g = await d.get(f)
        ctx.require(g.header("ETag") is not None, "GET sends no ETag for the resource")
        entry, r = await d.props(f, "{DAV:}getetag")
        ctx.expect(entry.value("{DAV:}getetag") == g.header("ETag"), "getetag equals the ETag header",
                   g.header("ETag"), r.show())


@probe("webdav.propfind.getlastmodified", rfc="rfc4918#15.7", level="MUST",
       requirement="DAV:getlastmodified is an HTTP-date in RFC 1123 form and equals the Last-Modified header of GET.",
       tags=["propfind", "live-properties"])
async def getlastmodified(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        g = await d.get(f)
        entry, r = await d.props(f, "{DAV:}getlastmodified")
        value = entry.value("{DAV:}getlastmodified") or ""
        ctx.expect(bool(RFC1123_RE.match(value)), "getlastmodified is an RFC 1123 date",
                   "Fri, 27 Nov 2026 14:00:00 GMT",
                   value or r.show())
        if g.header("Last-Modified"):
            ctx.expect(value == g.header("Last-Modified"), "getlastmodified equals Last-Modified of GET",
                       g.header("Last-Modified"), value)


@probe("webdav.propfind.creationdate", rfc="rfc4918#15.1", level="MUST",
       requirement="DAV:creationdate, where a resource has it, is a date-time in the RFC 3339 form.",
       tags=["propfind", "live-properties"])
async def creationdate(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, ms = await d.propfind(f, ["{DAV:}creationdate"])
        entry = found(ms, f)
        ctx.setup(entry is not None, "PROPFIND is answered 207", "207", r.show())
        ctx.require(entry.prop_status("{DAV:}creationdate") == 200, "the resource has no DAV:creationdate")
        value = entry.value("{DAV:}creationdate") or ""
        ctx.expect(bool(RFC3339_RE.match(value)), "creationdate is an RFC 3339 date-time", "2026-11-27T14:00:00Z",
                   value)


@probe("webdav.propfind.displayname", rfc="rfc4918#15.2 rfc4918#4.3", level="MUST",
       requirement="DAV:displayname, when set by PROPPATCH (it is not protected), is reported back with the same text.",
       tags=["propfind", "proppatch", "live-properties"])
async def displayname(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, ms = await d.proppatch(f, [("set", "{DAV:}displayname", "Résumé 1")])
        entry = first(ms)
        ctx.require(entry is not None and entry.prop_status("{DAV:}displayname") == 200,
                    f"the server does not let DAV:displayname be set ({r.status_line})")
        got, r2 = await d.props(f, "{DAV:}displayname")
        ctx.expect(got.value("{DAV:}displayname") == "Résumé 1", "displayname reads back as set", "Résumé 1", r2.show())


@probe("webdav.propfind.supportedlock", rfc="rfc4918#15.10 rfc4918#6.7", level="MUST",
       requirement="A server that locks reports DAV:supportedlock with a DAV:lockentry for an exclusive write lock.",
       needs=LOCKING, exclusive=True, tags=["propfind", "lock", "live-properties"])
async def supportedlock(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        entry, r = await d.props(f, "{DAV:}supportedlock")
        sl = entry.prop("{DAV:}supportedlock")
        ok = sl is not None and any(e.find("{DAV:}lockscope/{DAV:}exclusive") is not None
                                    and e.find("{DAV:}locktype/{DAV:}write") is not None
                                    for e in sl.findall("{DAV:}lockentry"))
        ctx.expect(ok, "supportedlock has a lockentry exclusive/write",
                   "<D:lockentry><D:lockscope><D:exclusive/>...<D:write/>", r.show())


@probe("webdav.propfind.lockdiscovery-empty", rfc="rfc4918#15.8", level="MUST",
       requirement="DAV:lockdiscovery of a resource without locks is present and holds no DAV:activelock.",
       needs=LOCKING, exclusive=True, tags=["propfind", "lock", "live-properties"])
async def lockdiscovery_empty(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        entry, r = await d.props(f, "{DAV:}lockdiscovery")
        ld = entry.prop("{DAV:}lockdiscovery")
        ctx.expect(ld is not None and ld.find("{DAV:}activelock") is None, "lockdiscovery is empty",
                   "<D:lockdiscovery/>", r.show())


@probe("webdav.propfind.not-found-404", rfc="rfc4918#9.1 rfc9110#15.5.5", level="MUST",
       requirement="PROPFIND of an unmapped URL is answered 404 (Not Found).", tags=["propfind", "errors"])
async def not_found(ctx):
    async with scratch(ctx) as d:
        r, _ = await d.propfind(d.url("nothing-here.txt"), ["{DAV:}resourcetype"])
        ctx.expect(r.status == 404, "PROPFIND of a missing resource is answered 404", "HTTP/1.1 404", r.show())


@probe("webdav.propfind.any-prefix", rfc="rfc4918#8.2 rfc4918#17", level="MUST",
       requirement="The server reads XML by namespace, not by prefix: a propfind written with an unusual prefix for "
                   "DAV: and with the DAV: namespace as default namespace is understood.", tags=["propfind", "xml"])
async def any_prefix(ctx):
    async with scratch(ctx) as d:
        for body in (b'<?xml version="1.0"?><zz:propfind xmlns:zz="DAV:"><zz:prop><zz:resourcetype/></zz:prop>'
                     b'</zz:propfind>',
                     b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'):
            r, ms = await d.propfind(d.col, body=body)
            entry = found(ms, d.col)
            ctx.expect(entry is not None and entry.is_collection is True and entry.names(200) == {"{DAV:}resourcetype"},
                       "only resourcetype is reported, with DAV:collection", "<D:resourcetype><D:collection/>",
                       f"request: {body.decode()}\n{r.show()}")


@probe("webdav.propfind.unknown-elements-ignored", rfc="rfc4918#17", level="MUST",
       requirement="Unknown XML elements in a request body are ignored as if they were not there: a propfind with an "
                   "extra element of a foreign namespace is answered like the one without it.",
       tags=["propfind", "xml"])
async def unknown_elements(ctx):
    async with scratch(ctx) as d:
        body = (b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:X="http://wireproof.invalid/ext/">'
                b'<X:hint>ignore me</X:hint><D:prop><D:resourcetype/><X:also/></D:prop></D:propfind>')
        r, ms = await d.propfind(d.col, body=body)
        entry = found(ms, d.col)
        ctx.expect(entry is not None and entry.is_collection is True, "the request is answered 207 with resourcetype",
                   "207 with <D:collection/>", r.show())
