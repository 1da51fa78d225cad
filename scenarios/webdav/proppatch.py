"""Probes of PROPPATCH (RFC 4918 section 9.2) and dead properties (sections 4.3 and 4.4).

PROPPATCH sets and removes properties in one atomic step: its instructions run in document order, and either
all of them take effect or none does. The answer is a 207 whose propstats give each property's outcome; when
one instruction fails, the others are reported 424 (Failed Dependency). A dead property's value is XML and is
kept as written: child elements, their namespaces and xml:lang included.
"""
from __future__ import annotations

from conformance.registry import probe

from .common import WP, first, found, scratch, show

COLOUR = "{" + WP + "}colour"
SIZE = "{" + WP + "}size"


@probe("webdav.proppatch.set-dead", rfc="rfc4918#9.2 rfc4918#4.3", level="MUST",
       requirement="PROPPATCH set of a dead property is answered 207 with 200 for it, and PROPFIND then reports the "
                   "value set.", tags=["proppatch", "dead-properties"])
async def set_dead(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, ms = await d.proppatch(f, [("set", COLOUR, "blue")])
        entry = first(ms)
        ctx.expect(entry is not None and entry.prop_status(COLOUR) == 200, "the set is answered 207 with 200",
                   "207 / propstat 200", r.show())
        got, r2 = await d.props(f, COLOUR)
        ctx.expect(got.value(COLOUR) == "blue", "PROPFIND reports the value", "blue", r2.show())


@probe("webdav.proppatch.remove-dead", rfc="rfc4918#9.2 rfc4918#14.23", level="MUST",
       requirement="PROPPATCH remove of a dead property takes it away: PROPFIND reports it 404 afterwards.",
       tags=["proppatch", "dead-properties"])
async def remove_dead(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        await d.set_dead(f, COLOUR, "blue")
        r, ms = await d.proppatch(f, [("remove", COLOUR, None)])
        entry = first(ms)
        ctx.expect(entry is not None and entry.prop_status(COLOUR) == 200, "the remove is answered 207 with 200",
                   "207 / propstat 200", r.show())
        r2, ms2 = await d.propfind(f, [COLOUR])
        got = found(ms2, f)
        ctx.expect(got is not None and got.prop_status(COLOUR) == 404, "PROPFIND reports the property 404",
                   "propstat 404", r2.show())


@probe("webdav.proppatch.remove-absent", rfc="rfc4918#14.23", level="MUST",
       requirement="Removing a property the resource does not have is not an error: the remove is reported 200.",
       tags=["proppatch", "dead-properties"])
async def remove_absent(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, ms = await d.proppatch(f, [("remove", "{" + WP + "}never-set", None)])
        entry = first(ms)
        ctx.expect(entry is not None and entry.prop_status("{" + WP + "}never-set") == 200,
                   "the remove of a missing property is answered 207 with 200", "207 / propstat 200", r.show())


@probe("webdav.proppatch.atomic", rfc="rfc4918#9.2", level="MUST",
       requirement="PROPPATCH is atomic: when one instruction fails (setting the protected DAV:getetag), the dead "
                   "property set in the same request is not set either.", tags=["proppatch", "atomicity"])
async def atomic(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, ms = await d.proppatch(f, [("set", COLOUR, "blue"), ("set", "{DAV:}getetag", '"forged"')])
        ctx.setup(r.status >= 400 or (ms is not None and ms.responses and
                                      ms.responses[0].prop_status("{DAV:}getetag") not in (200, None)),
                  "setting DAV:getetag fails", "207 with 403 for getetag", r.show())
        r2, ms2 = await d.propfind(f, [COLOUR])
        got = found(ms2, f)
        ctx.expect(got is not None and got.prop_status(COLOUR) == 404, "the dead property was not set",
                   "propstat 404 for colour", show(r, r2))


@probe("webdav.proppatch.failed-dependency-424", rfc="rfc4918#9.2 rfc4918#9.2.1 rfc4918#11.4", level="MUST",
       requirement="When one instruction of a PROPPATCH fails, the others that would have succeeded are reported with "
                   "424 (Failed Dependency).", tags=["proppatch", "atomicity", "status"])
async def failed_dependency(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, ms = await d.proppatch(f, [("set", COLOUR, "blue"), ("set", "{DAV:}getetag", '"forged"')])
        entry = first(ms)
        ctx.setup(entry is not None and entry.prop_status("{DAV:}getetag") not in (200, None),
                  "the PROPPATCH is answered 207 with a failure for getetag", "207", r.show())
        ctx.expect(entry.prop_status(COLOUR) == 424, "the dead property is reported 424", "propstat 424 for colour",
                   r.show())


@probe("webdav.proppatch.protected-403", rfc="rfc4918#9.2.1 rfc4918#16 rfc4918#15.6", level="SHOULD",
       requirement="Setting a protected live property (DAV:getetag) is answered with 403 for that property, with the "
                   "DAV:cannot-modify-protected-property condition.", tags=["proppatch", "live-properties", "status"])
async def protected(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, ms = await d.proppatch(f, [("set", "{DAV:}getetag", '"forged"')])
        entry = first(ms)
        ctx.expect(entry is not None and entry.prop_status("{DAV:}getetag") == 403, "getetag is reported 403",
                   "propstat 403", r.show())
        errors = [c.split("}")[-1] for ps in entry.propstats for c in ps.error]
        ctx.expect("cannot-modify-protected-property" in errors, "the propstat names the condition",
                   "<D:error><D:cannot-modify-protected-property/></D:error>", r.show())


@probe("webdav.proppatch.document-order", rfc="rfc4918#9.2", level="MUST",
       requirement="PROPPATCH instructions run in document order: set then remove of one property leaves it absent, "
                   "remove then set leaves it set.", tags=["proppatch", "dead-properties"])
async def order(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r1, _ = await d.proppatch(f, [("set", COLOUR, "blue"), ("remove", COLOUR, None),
                                      ("remove", SIZE, None), ("set", SIZE, "large")])
        ctx.setup(r1.status == 207, "the PROPPATCH is answered 207", "207", r1.show())
        r2, ms = await d.propfind(f, [COLOUR, SIZE])
        got = found(ms, f)
        ctx.expect(got is not None and got.prop_status(COLOUR) == 404 and got.value(SIZE) == "large",
                   "colour (set, then removed) is absent and size (removed, then set) is 'large'",
                   "colour 404, size large", show(r1, r2))


@probe("webdav.proppatch.xml-value-preserved", rfc="rfc4918#4.3 rfc4918#4.4", level="MUST",
       requirement="A dead property whose value is XML comes back with the same element structure: child elements "
                   "keep their names and namespaces and their text.", tags=["proppatch", "dead-properties", "xml"])
async def xml_value(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        value = ('<x:author xmlns:x="urn:wireproof:x"><x:name>Ada</x:name>'
                 '<y:mail xmlns:y="urn:wireproof:y">a@b</y:mail></x:author>')
        r, ms = await d.proppatch(f, [("set", COLOUR, value)])
        ctx.setup(r.status == 207 and ms is not None and ms.responses[0].prop_status(COLOUR) == 200,
                  "the PROPPATCH sets the property", "207 / 200", r.show())
        got, r2 = await d.props(f, COLOUR)
        el = got.prop(COLOUR)
        author = el.find("{urn:wireproof:x}author") if el is not None else None
        ok = author is not None and (author.findtext("{urn:wireproof:x}name") or "").strip() == "Ada" and \
            (author.findtext("{urn:wireproof:y}mail") or "").strip() == "a@b"
        ctx.expect(ok, "the value has x:author with x:name Ada and y:mail a@b", value, r2.show())


@probe("webdav.proppatch.xml-lang", rfc="rfc4918#4.3", level="MUST",
       requirement="The xml:lang in scope of a dead property's value is kept and reported with it.",
       tags=["proppatch", "dead-properties", "xml", "i18n"])
async def xml_lang(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        body = ('<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:w="' + WP + '">'
                '<D:set><D:prop><w:title xml:lang="fr">Le titre</w:title></D:prop></D:set></D:propertyupdate>')
        r = await d.request("PROPPATCH", f, [("Content-Type", "application/xml")], body)
        ctx.setup(r.status == 207, "the PROPPATCH is answered 207", "207", r.show())
        got, r2 = await d.props(f, "{" + WP + "}title")
        el = got.prop("{" + WP + "}title")
        lang = el.get("{http://www.w3.org/XML/1998/namespace}lang") if el is not None else None
        ctx.expect(lang == "fr" or b'lang="fr"' in r2.body, "the property comes back with xml:lang fr",
                   '<w:title xml:lang="fr">Le titre</w:title>', r2.show())


@probe("webdav.proppatch.not-found-404", rfc="rfc4918#9.2 rfc9110#15.5.5", level="MUST",
       requirement="PROPPATCH of an unmapped URL is answered 404 and creates nothing.", tags=["proppatch", "errors"])
async def not_found(ctx):
    async with scratch(ctx) as d:
        f = d.url("ghost.txt")
        r, _ = await d.proppatch(f, [("set", COLOUR, "blue")])
        ctx.expect(r.status == 404, "PROPPATCH of a missing resource is answered 404", "HTTP/1.1 404", r.show())


@probe("webdav.proppatch.bad-xml-400", rfc="rfc4918#8.2 rfc4918#9.2", level="MUST",
       requirement="A PROPPATCH whose body is not well-formed XML is refused with 400 and changes nothing.",
       tags=["proppatch", "errors", "xml"])
async def bad_xml(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        body = '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:w="' + WP + '"><D:set><D:prop>' \
               '<w:colour>blue</w:colour></D:prop></D:set>'
        r = await d.request("PROPPATCH", f, [("Content-Type", "application/xml")], body)
        ctx.expect(r.status == 400, "a truncated propertyupdate is refused with 400", "HTTP/1.1 400", r.show())


@probe("webdav.proppatch.dead-on-collection", rfc="rfc4918#9.2 rfc4918#4.3", level="MUST",
       requirement="Dead properties can be set on collections as on other resources.",
       tags=["proppatch", "dead-properties"])
async def on_collection(ctx):
    async with scratch(ctx) as d:
        r, ms = await d.proppatch(d.col, [("set", COLOUR, "green")])
        ctx.expect(ms is not None and ms.responses and ms.responses[0].prop_status(COLOUR) == 200,
                   "the set on the collection is answered 207 with 200", "207 / 200", r.show())
        got, r2 = await d.props(d.col, COLOUR)
        ctx.expect(got.value(COLOUR) == "green", "PROPFIND reports the value", "green", r2.show())
