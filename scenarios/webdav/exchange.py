"""Exchange 2003's WebDAV extensions, part 1: SEARCH with Exchange's SQL, and the batch methods.

SEARCH (Exchange 2003 SDK, "SEARCH Method", "Searching Folders (WebDAV)", the SQL reference; RFC 5323 for the
DASL framework it grew from): the body is <D:searchrequest><D:sql>...</D:sql></D:searchrequest>, the answer a 207
Multi-Status with one DAV:response per row carrying the selected properties. A shallow traversal looks at the
folder's own items, a deep one at its subfolders' too; WHERE filters with =, <>, <, >, LIKE, AND, OR, NOT and
CAST; ORDER BY sorts; a Range: rows=... field asks for some rows only.

Every search runs in the check's scratch folder, filled with three messages (alpha, beta, gamma: Date headers in
1994, 1995 and 1996) and a subfolder holding a fourth (delta, 1997): the rows each query must return are known
from that alone.

Batch methods (SDK, "WebDAV Batch Methods", "BPROPFIND/BPROPPATCH/BCOPY/BMOVE/BDELETE Method", "target XML
Element"): sent to a folder, they name their targets in <D:target><D:href>...</D:href></D:target> (relative to the
request URI), and answer 207 with one DAV:response per target. BCOPY and BMOVE take the destination folder in
the Destination field.
"""
from __future__ import annotations

from conformance.dialects.http_exchange import (HTTPMAIL, batch_body, bpropfind_body, bproppatch_body,
                                                content_range_rows, select, sql_name, sql_string)
from conformance.registry import probe

from .common import WP, XML
from .exchange_common import EXCHANGE, SEARCH, SUBJECT, TRANSLATE_F, fill_messages, mailbox_scratch, names_of

DISPLAYNAME = "{DAV:}displayname"
DATE = f"{HTTPMAIL}date"
ITEMS_ONLY = '"DAV:ishidden" = false AND "DAV:isfolder" = false'
MESSAGES = [("alpha.eml", "alpha", "Mon, 07 Feb 1994 21:52:25 -0800"),
            ("beta.eml", "beta", "Tue, 07 Feb 1995 10:00:00 +0000"),
            ("gamma.eml", "gamma", "Wed, 07 Feb 1996 10:00:00 +0000")]
DELTA = ("delta.eml", "delta", "Fri, 07 Feb 1997 10:00:00 +0000")


def subject(ctx, word: str) -> str:
    return f"{word} {ctx.token}"


async def search_fixture(ex):
    """alpha, beta, gamma in the scratch folder; delta in its subfolder sub/."""
    ctx = ex.ctx
    await fill_messages(ex, [(n, subject(ctx, w), d) for n, w, d in MESSAGES])
    sub = await ex.folder("sub")
    await fill_messages(ex, [(DELTA[0], subject(ctx, DELTA[1]), DELTA[2])], folder=sub)
    return sub


async def run_query(ctx, where: str = ITEMS_ONLY, order: str = "", *, deep: bool = False, headers=()):
    """Fill the fixture, SEARCH it; (the response, the multistatus, the row names, the scratch folder)."""
    async with mailbox_scratch(ctx) as ex:
        await search_fixture(ex)
        sql = select([DISPLAYNAME, SUBJECT], ex.col, where, order, deep=deep)
        r, ms = await ex.search(sql, headers=headers)
        rows = names_of(ms, ex.col) if ms else None
        return r, ms, rows, ex.col


def expect_rows(ctx, r, rows, want: list[str], what: str, ordered: bool = False) -> None:
    ctx.expect(r.status in (206, 207) and rows is not None, f"{what}: SEARCH is answered with a Multi-Status",
               "HTTP/1.1 207 Multi-Status", r.show())
    got = [n.rstrip("/") for n in rows]
    ok = got == want if ordered else sorted(got) == sorted(want)
    ctx.expect(ok, f"{what}: the rows are {'exactly, in this order, ' if ordered else 'exactly '}{', '.join(want) or 'none'}",
               "\n".join(want), "\n".join(got) + "\n\n" + r.show())


REF_SEARCH = "ms-exchsdk#search rfc5323#2.3"


@probe("webdav.exchange.search.shallow-multistatus", rfc=REF_SEARCH, level="MUST", needs=SEARCH,
       tags=["exchange", "search"],
       requirement='SEARCH with SELECT ... FROM SCOPE(\'shallow traversal of "<folder>"\') WHERE "DAV:ishidden" = '
                   'false AND "DAV:isfolder" = false ORDER BY "urn:schemas:httpmail:date" DESC is answered 207 '
                   "Multi-Status with one response per item directly in the folder: none for its subfolder or the "
                   "subfolder's items.")
async def search_shallow(ctx):
    r, _, rows, _ = await run_query(ctx, order=f"{sql_name(DATE)} DESC")
    expect_rows(ctx, r, rows, ["alpha.eml", "beta.eml", "gamma.eml"], "shallow traversal")


@probe("webdav.exchange.search.selected-properties", rfc=REF_SEARCH, level="MUST", needs=SEARCH,
       tags=["exchange", "search"],
       requirement="Each row of a SEARCH result carries the properties the SELECT names, with their values "
                   "(here urn:schemas:httpmail:subject, equal to each message's Subject field).")
async def search_selected(ctx):
    r, ms, _, col = await run_query(ctx)
    ctx.setup(ms is not None and len(ms.responses) == 3, "SEARCH returns the three messages", "3 rows", r.show())
    want = {f"{col}{n}": subject(ctx, w) for n, w, _ in MESSAGES}
    got = {e.path: e.value(SUBJECT) for e in ms.responses}
    ctx.expect(got == want, "every row reports urn:schemas:httpmail:subject with the message's Subject",
               "\n".join(f"{k}: {v}" for k, v in sorted(want.items())),
               "\n".join(f"{k}: {v}" for k, v in sorted(got.items())) + "\n\n" + r.show())


@probe("webdav.exchange.search.order-desc", rfc=REF_SEARCH, level="MUST", needs=SEARCH, tags=["exchange", "search"],
       requirement='ORDER BY "urn:schemas:httpmail:date" DESC returns the rows newest first.')
async def search_order_desc(ctx):
    r, _, rows, _ = await run_query(ctx, order=f"{sql_name(DATE)} DESC")
    expect_rows(ctx, r, rows, ["gamma.eml", "beta.eml", "alpha.eml"], "ORDER BY date DESC", ordered=True)


@probe("webdav.exchange.search.order-asc", rfc=REF_SEARCH, level="MUST", needs=SEARCH, tags=["exchange", "search"],
       requirement='ORDER BY "urn:schemas:httpmail:date" ASC returns the rows oldest first.')
async def search_order_asc(ctx):
    r, _, rows, _ = await run_query(ctx, order=f"{sql_name(DATE)} ASC")
    expect_rows(ctx, r, rows, ["alpha.eml", "beta.eml", "gamma.eml"], "ORDER BY date ASC", ordered=True)


def _where(ctx, test: str) -> str:
    return f"{ITEMS_ONLY} AND {test}"


@probe("webdav.exchange.search.where-equal", rfc=REF_SEARCH, level="MUST", needs=SEARCH, tags=["exchange", "search"],
       requirement="WHERE with = on a string property returns only the rows whose value equals the literal.")
async def search_where_equal(ctx):
    r, _, rows, _ = await run_query(ctx, _where(ctx, f"{sql_name(SUBJECT)} = {sql_string(subject(ctx, 'beta'))}"))
    expect_rows(ctx, r, rows, ["beta.eml"], "WHERE subject = 'beta ...'")


@probe("webdav.exchange.search.where-not-equal", rfc=REF_SEARCH, level="MUST", needs=SEARCH,
       tags=["exchange", "search"],
       requirement="WHERE with <> returns the rows whose value differs from the literal.")
async def search_where_not_equal(ctx):
    r, _, rows, _ = await run_query(ctx, _where(ctx, f"{sql_name(SUBJECT)} <> {sql_string(subject(ctx, 'beta'))}"))
    expect_rows(ctx, r, rows, ["alpha.eml", "gamma.eml"], "WHERE subject <> 'beta ...'")


@probe("webdav.exchange.search.where-less-than-cast", rfc=REF_SEARCH, level="MUST", needs=SEARCH,
       tags=["exchange", "search"],
       requirement="WHERE \"urn:schemas:httpmail:date\" < CAST(\"...\" as 'dateTime') compares date-times: only the "
                   "messages dated before the instant are returned.")
async def search_where_less(ctx):
    test = f"{sql_name(DATE)} < CAST(\"1995-06-01T00:00:00Z\" as 'dateTime')"
    r, _, rows, _ = await run_query(ctx, _where(ctx, test))
    expect_rows(ctx, r, rows, ["alpha.eml", "beta.eml"], "WHERE date < CAST(1995-06-01)")


@probe("webdav.exchange.search.where-greater-than-cast", rfc=REF_SEARCH, level="MUST", needs=SEARCH,
       tags=["exchange", "search"],
       requirement="WHERE \"urn:schemas:httpmail:date\" > CAST(\"...\" as 'dateTime') returns only the messages dated "
                   "after the instant.")
async def search_where_greater(ctx):
    test = f"{sql_name(DATE)} > CAST(\"1995-06-01T00:00:00Z\" as 'dateTime')"
    r, _, rows, _ = await run_query(ctx, _where(ctx, test))
    expect_rows(ctx, r, rows, ["gamma.eml"], "WHERE date > CAST(1995-06-01)")


@probe("webdav.exchange.search.where-like", rfc=REF_SEARCH, level="MUST", needs=SEARCH, tags=["exchange", "search"],
       requirement="WHERE ... LIKE '%text%' matches a substring (% standing for any run of characters).")
async def search_where_like(ctx):
    r, _, rows, _ = await run_query(ctx, _where(ctx, f"{sql_name(SUBJECT)} LIKE '%amm%'"))
    expect_rows(ctx, r, rows, ["gamma.eml"], "WHERE subject LIKE '%amm%'")


@probe("webdav.exchange.search.where-and-or-not", rfc=REF_SEARCH, level="MUST", needs=SEARCH,
       tags=["exchange", "search"],
       requirement="WHERE combines tests with AND, OR, NOT and parentheses with the usual precedence.")
async def search_where_boolean(ctx):
    s = sql_name(SUBJECT)
    a, g = sql_string(subject(ctx, "alpha")), sql_string(subject(ctx, "gamma"))
    test = f"({s} = {a} OR {s} = {g}) AND NOT {s} = {g}"
    r, _, rows, _ = await run_query(ctx, _where(ctx, test))
    expect_rows(ctx, r, rows, ["alpha.eml"], "WHERE (alpha OR gamma) AND NOT gamma")


@probe("webdav.exchange.search.isfolder", rfc=REF_SEARCH, level="MUST", needs=SEARCH, tags=["exchange", "search"],
       requirement='WHERE "DAV:isfolder" = true returns the folder\'s subfolders and none of its items.')
async def search_isfolder(ctx):
    r, _, rows, _ = await run_query(ctx, '"DAV:isfolder" = true')
    expect_rows(ctx, r, rows, ["sub"], 'WHERE "DAV:isfolder" = true')


@probe("webdav.exchange.search.deep-traversal", rfc=REF_SEARCH, level="MUST", needs=SEARCH,
       tags=["exchange", "search"],
       requirement="A deep traversal scope also returns the items of the folder's subfolders.")
async def search_deep(ctx):
    r, _, rows, _ = await run_query(ctx, deep=True)
    expect_rows(ctx, r, rows, ["alpha.eml", "beta.eml", "gamma.eml", "sub/delta.eml"], "deep traversal")


@probe("webdav.exchange.search.range-rows", rfc="ms-exchsdk#range-header", level="MUST", needs=SEARCH,
       tags=["exchange", "search", "range"],
       requirement="A SEARCH with Range: rows=0-1 returns only the first two rows of the ordered result; when the "
                   "answer says which rows in Content-Range, it says rows 0-1 of a total of 3.")
async def search_range(ctx):
    r, _, rows, _ = await run_query(ctx, order=f"{sql_name(DATE)} ASC", headers=[("Range", "rows=0-1")])
    expect_rows(ctx, r, rows, ["alpha.eml", "beta.eml"], "Range: rows=0-1", ordered=True)
    if r.header("Content-Range") is not None:
        ctx.expect(content_range_rows(r) in ((0, 1, 3), (0, 1, None)), "Content-Range names the rows returned",
                   "Content-Range: rows 0-1; total=3", r.show())


@probe("webdav.exchange.search.bad-sql-400", rfc="ms-exchsdk#search rfc5323#2.4", level="MUST", needs=SEARCH,
       tags=["exchange", "search", "errors"],
       requirement="A SEARCH whose SQL does not parse is refused with 400 Bad Request, not answered with rows or "
                   "a server error.")
async def search_bad_sql(ctx):
    async with mailbox_scratch(ctx) as ex:
        r, _ = await ex.search(f"SELECT FROM WHERE {sql_name(SUBJECT)} === ORDER")
        ctx.expect(r.status == 400, "malformed SQL is answered 400", "HTTP/1.1 400 Bad Request", r.show())


# --- batch methods ---------------------------------------------------------------------------------------------

REF_BATCH = "ms-exchsdk#batch-methods"


async def batch_fixture(ex):
    return await fill_messages(ex, [(n, subject(ex.ctx, w), d) for n, w, d in MESSAGES])


@probe("webdav.exchange.bpropfind.per-target", rfc=f"{REF_BATCH} ms-exchsdk#bpropfind rfc4918#13", level="MUST",
       needs=EXCHANGE + ["METHOD=BPROPFIND"], tags=["exchange", "batch"],
       requirement="BPROPFIND on a folder with a <D:target> list is answered 207 with one response per target, each "
                   "carrying the requested properties of that item.")
async def bpropfind_targets(ctx):
    async with mailbox_scratch(ctx) as ex:
        paths = await batch_fixture(ex)
        body = bpropfind_body(["alpha.eml", "beta.eml"], [DISPLAYNAME, SUBJECT])
        r = await ex.request("BPROPFIND", ex.col, [XML, ("Depth", "0")], body)
        ms = _ms(ctx, r, "BPROPFIND")
        got = {e.path: e.value(SUBJECT) for e in ms.responses}
        want = {paths["alpha.eml"]: subject(ctx, "alpha"), paths["beta.eml"]: subject(ctx, "beta")}
        ctx.expect(got == want, "one response per target, each with its subject", _show(want), _show(got) + "\n\n" + r.show())


@probe("webdav.exchange.bpropfind.missing-target", rfc=f"{REF_BATCH} ms-exchsdk#bpropfind", level="MUST",
       needs=EXCHANGE + ["METHOD=BPROPFIND"], tags=["exchange", "batch", "errors"],
       requirement="A BPROPFIND target that does not exist is reported 404 in its own response, while the other "
                   "targets are answered normally.")
async def bpropfind_missing(ctx):
    async with mailbox_scratch(ctx) as ex:
        paths = await batch_fixture(ex)
        r = await ex.request("BPROPFIND", ex.col, [XML], bpropfind_body(["alpha.eml", "nosuch.eml"], [SUBJECT]))
        ms = _ms(ctx, r, "BPROPFIND")
        alpha, missing = ms.find(paths["alpha.eml"]), ms.find(ex.col + "nosuch.eml")
        ctx.expect(alpha is not None and alpha.value(SUBJECT) == subject(ctx, "alpha"),
                   "the existing target is reported with its properties", "alpha.eml: 200", r.show())
        statuses = (({missing.status} | {ps.status for ps in missing.propstats}) - {None}) if missing else set()
        ctx.expect(missing is not None and statuses == {404}, "the missing target is reported 404",
                   "nosuch.eml: HTTP/1.1 404 Not Found", r.show())


@probe("webdav.exchange.bproppatch.per-target", rfc=f"{REF_BATCH} ms-exchsdk#bproppatch rfc4918#9.2", level="MUST",
       needs=EXCHANGE + ["METHOD=BPROPPATCH"], tags=["exchange", "batch", "proppatch"],
       requirement="BPROPPATCH sets the properties on every target: 207 with a 200 propstat per target, and each "
                   "target reads back the new value.")
async def bproppatch_targets(ctx):
    name = f"{{{WP}}}batch"
    async with mailbox_scratch(ctx) as ex:
        paths = await batch_fixture(ex)
        r = await ex.request("BPROPPATCH", ex.col, [XML],
                             bproppatch_body(["alpha.eml", "beta.eml"], [("set", name, ctx.token)]))
        ms = _ms(ctx, r, "BPROPPATCH")
        for n in ("alpha.eml", "beta.eml"):
            entry = ms.find(paths[n])
            ctx.expect(entry is not None and entry.prop_status(name) == 200, f"{n} is reported 200 for the property",
                       f"{n}: 200", r.show())
        for n in ("alpha.eml", "beta.eml", "gamma.eml"):
            entry, pr = await ex.props(paths[n], name)
            want = ctx.token if n != "gamma.eml" else None
            ctx.expect(entry.value(name) == want, f"{n} {'carries' if want else 'does not carry'} the property "
                       "afterwards", str(want), pr.show())


async def _transfer(ctx, method: str):
    async with mailbox_scratch(ctx) as ex:
        paths = await batch_fixture(ex)
        dest = await ex.folder("dest")
        r = await ex.request(method, ex.col, [XML, ("Destination", ex.absolute(dest)), ("Overwrite", "F")],
                             batch_body(method, ["alpha.eml", "beta.eml"]))
        ms = _ms(ctx, r, method)
        for n in ("alpha.eml", "beta.eml"):
            entry = ms.find(paths[n]) or ms.find(dest + n)
            ok = entry is not None and (entry.status or 0) // 100 == 2
            ctx.expect(ok, f"{method} reports success for {n} in its own response", f"{n}: 2xx", r.show())
        for n in ("alpha.eml", "beta.eml"):
            ctx.expect(await ex.exists(dest + n) is True, f"{n} exists in the destination folder afterwards",
                       "207 for PROPFIND", f"PROPFIND {dest}{n} did not find it")
            stays = method == "BCOPY"
            ctx.expect(await ex.exists(paths[n]) is stays, f"{n} {'stays' if stays else 'is gone'} in the source "
                       "folder", "207" if stays else "404", f"PROPFIND {paths[n]}")
        ctx.expect(await ex.exists(dest + "gamma.eml") is False, "gamma.eml, not a target, is not transferred",
                   "404", f"PROPFIND {dest}gamma.eml found it")


@probe("webdav.exchange.bcopy.per-target", rfc=f"{REF_BATCH} ms-exchsdk#bcopy", level="MUST",
       needs=EXCHANGE + ["METHOD=BCOPY"], tags=["exchange", "batch", "copy"],
       requirement="BCOPY copies each target into the destination folder named by Destination, reports each in "
                   "its own response of a 207, and leaves the sources (and non-targets) where they were.")
async def bcopy_targets(ctx):
    await _transfer(ctx, "BCOPY")


@probe("webdav.exchange.bmove.per-target", rfc=f"{REF_BATCH} ms-exchsdk#bmove", level="MUST",
       needs=EXCHANGE + ["METHOD=BMOVE"], tags=["exchange", "batch", "move"],
       requirement="BMOVE moves each target into the destination folder: each is reported in the 207, exists in "
                   "the destination and no longer in the source folder.")
async def bmove_targets(ctx):
    await _transfer(ctx, "BMOVE")


@probe("webdav.exchange.bdelete.per-target", rfc=f"{REF_BATCH} ms-exchsdk#bdelete", level="MUST",
       needs=EXCHANGE + ["METHOD=BDELETE"], tags=["exchange", "batch", "delete"],
       requirement="BDELETE deletes exactly the targets: 207 with a success response per target, the targets gone "
                   "and the other items of the folder untouched.")
async def bdelete_targets(ctx):
    async with mailbox_scratch(ctx) as ex:
        paths = await batch_fixture(ex)
        r = await ex.request("BDELETE", ex.col, [XML], batch_body("BDELETE", ["alpha.eml", "beta.eml"]))
        ms = _ms(ctx, r, "BDELETE")
        for n in ("alpha.eml", "beta.eml"):
            entry = ms.find(paths[n])
            ctx.expect(entry is not None and (entry.status or 0) // 100 == 2, f"BDELETE reports {n} deleted",
                       f"{n}: 2xx", r.show())
            ctx.expect(await ex.exists(paths[n]) is False, f"{n} is gone afterwards", "404", f"PROPFIND {paths[n]}")
        ctx.expect(await ex.exists(paths["gamma.eml"]) is True, "gamma.eml, not a target, is still there", "207",
                   f"PROPFIND {paths['gamma.eml']}")


@probe("webdav.exchange.bdelete.missing-target", rfc=f"{REF_BATCH} ms-exchsdk#bdelete", level="MUST",
       needs=EXCHANGE + ["METHOD=BDELETE"], tags=["exchange", "batch", "delete", "errors"],
       requirement="A BDELETE target that does not exist is reported 404 in its own response; the existing target "
                   "of the same request is still deleted.")
async def bdelete_missing(ctx):
    async with mailbox_scratch(ctx) as ex:
        paths = await batch_fixture(ex)
        r = await ex.request("BDELETE", ex.col, [XML], batch_body("BDELETE", ["alpha.eml", "nosuch.eml"]))
        ms = _ms(ctx, r, "BDELETE")
        missing = ms.find(ex.col + "nosuch.eml")
        ctx.expect(missing is not None and missing.status == 404, "the missing target is reported 404",
                   "nosuch.eml: HTTP/1.1 404 Not Found", r.show())
        ctx.expect(await ex.exists(paths["alpha.eml"]) is False, "the existing target is deleted all the same",
                   "404", f"PROPFIND {paths['alpha.eml']}")


def _ms(ctx, r, method: str):
    from .common import multistatus

    ms = multistatus(r)
    ctx.expect(ms is not None, f"{method} is answered 207 Multi-Status with a usable body", "HTTP/1.1 207 Multi-Status",
               r.show())
    return ms


def _show(d: dict) -> str:
    return "\n".join(f"{k}: {v}" for k, v in sorted(d.items()))


__all__ = ["TRANSLATE_F", "run_query", "search_fixture"]
