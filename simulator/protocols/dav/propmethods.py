"""PROPFIND and PROPPATCH (RFC 4918 9.1, 9.2), and Exchange's SEARCH with its SQL (the DASL grammar
DAV:sql, RFC 5323's framing)."""
from __future__ import annotations

from ...store.naming import mailbox_url
from . import props as P
from . import sql as S
from . import xml as X
from .errors import DavError
from .methods import (
    Dav,
    Request,
    Response,
    StoreRefused,
    check_if,
    check_locks,
    depth,
    is_resource,
    resource,
    xml_response,
)
from .paths import Area, Target, authorize, resolve_href


def _virtual(url: str, name: str):
    """"/" and "/exchange/": collections that are not in the store."""
    from ...store_dav import DavResource

    return DavResource(url, True, name, "urn:content-classes:folder", 0, 0, 0, 0.0, 0.0, None, {}, 1, 0)


async def context(dav: Dav, resources) -> P.Context:
    ctx = P.Context(locks=dav.locks.covering, now=dav.locks.clock(), mailbox=dav.mailbox)
    root = mailbox_url(dav.user).casefold()
    if any(r.url.casefold() == root for r in resources):
        ctx.folder_urls = await dav.store("dav_special_folders", alias=dav.user)
    return ctx


def propstat_groups(res, request: X.PropfindRequest, ctx: P.Context) -> dict[int, list]:
    """{200: [found property elements], 404: [names it does not have]} for one resource."""
    if request.kind == "propname":
        return {200: [P.name_element(k) for k in P.names(res, ctx)]}
    found, missing = [], []
    if request.kind == "allprop":
        keys = P.names(res, ctx) + [k for k in request.include if k not in P.names(res, ctx)]
    else:
        keys = request.names
    for key in keys:
        value = P.lookup(res, key, ctx)
        if value is P.MISSING:
            missing.append(P.name_element(key))
        else:
            found.append(P.element(key, value))
    return {200: found, 404: missing}


async def list_resources(dav: Dav, target: Target, how_deep: str) -> list:
    if target.area is Area.SERVER_ROOT:
        out = [_virtual("/", "")]
        if how_deep != "0":
            out += [_virtual("/exchange/", "exchange")]
            out += await dav.store("dav_list", url="/public/", slash=True, depth="0")
        return out
    if target.area is Area.EXCHANGE_ROOT:
        out = [_virtual("/exchange/", "exchange")]
        if how_deep != "0":
            mine = await dav.store("dav_mailboxes", alias=dav.user)
            out += mine
            if how_deep == "infinity" and mine:
                out += (await dav.store("dav_list", url=mine[0].url, slash=True, depth="infinity"))[1:]
        return out
    if target.area is not Area.STORE:
        raise DavError(405, "PROPFIND is not for the submission URI", "rfc9110#15.5.6")
    url = target.folder_url if target.slash else target.item_url
    found = await dav.store("dav_list", url=url, slash=target.slash, depth=how_deep)
    if found is None:
        raise DavError(404, "no such folder or item", "rfc4918#9.1")
    return found


async def do_propfind(dav: Dav, request: Request, target: Target) -> Response:
    how_deep = depth(request, ("0", "1", "infinity"), "infinity")
    wanted = X.parse_propfind(request.body)
    resources = await list_resources(dav, target, how_deep)
    ctx = await context(dav, resources)
    out = X.Multistatus()
    for res in resources:
        out.propstats(res.url, propstat_groups(res, wanted, ctx))
    return xml_response(207, out.body())


# --- PROPPATCH -----------------------------------------------------------------------------------------------


def plan_proppatch(res, instructions: list[X.Instruction]) -> tuple[dict[int, list], dict, list]:
    """Check every instruction before any is applied (RFC 4918 9.2: all or nothing). Returns the status
    groups for the reply, and the values to set and names to remove when nothing failed."""
    failures: dict[int, list] = {}
    final: dict = {}
    for ins in instructions:
        key = ins.key
        status = 200
        if key in P.PROTECTED or not P.visible(key) or key == (X.DAV, "contentclass") and ins.op == "remove":
            status = 403
        elif ins.op == "set":
            try:
                value = P.from_request(key, ins.element)
                if key == (X.DAV, "contentclass") and (not isinstance(value, str) or not value.strip()):
                    raise ValueError("a content class is a non-empty URN")
                if key == P.DISPLAYNAME and not isinstance(value, str):
                    raise ValueError("a display name is text")
                final[key] = value
            except ValueError:
                status = 409
        else:
            final[key] = P.MISSING
        if status != 200:
            failures.setdefault(status, []).append(P.name_element(key))
    keys = [P.name_element(ins.key) for ins in instructions]
    if failures:
        failed = {e.tag for group in failures.values() for e in group}
        failures[424] = [e for e in keys if e.tag not in failed]
        return failures, {}, []
    values = {k: v for k, v in final.items() if v is not P.MISSING}
    remove = [k for k, v in final.items() if v is P.MISSING and k not in P.SETTABLE]
    # Removing a settable live property (read, ishidden, getcontenttype) resets it to its default.
    for k, v in final.items():
        if v is P.MISSING and k in P.SETTABLE:
            values[k] = False if k in ((X.HTTPMAIL, "read"), (X.DAV, "ishidden")) else None
    if (X.DAV, "getcontenttype") in values and values[(X.DAV, "getcontenttype")] is None:
        del values[(X.DAV, "getcontenttype")]
        remove.append((X.DAV, "getcontenttype"))
    if P.DISPLAYNAME in values:  # kept beside the name, which stays what the URL says (MOVE renames)
        shown = values.pop(P.DISPLAYNAME)
        if shown:
            values[P.DISPLAYNAME_SET] = shown
        else:
            remove.append(P.DISPLAYNAME_SET)
    seen, unique = set(), []
    for e in keys:
        if e.tag not in seen:
            seen.add(e.tag)
            unique.append(e)
    return {200: unique}, values, remove


async def proppatch_one(dav: Dav, res, instructions: list[X.Instruction]) -> dict[int, list]:
    groups, values, remove = plan_proppatch(res, instructions)
    if 200 in groups:
        try:
            await dav.store("dav_proppatch", url=res.url, values=values, remove=remove)
        except StoreRefused as exc:
            raise DavError(409, f"the store refused: {exc}", "rfc4918#9.2") from None
        if (X.HTTPMAIL, "read") in values and not res.collection:
            dav.changed(res.url.rpartition("/")[0] + "/")
    return groups


async def do_proppatch(dav: Dav, request: Request, target: Target) -> Response:
    found = await resource(dav, target)
    if not is_resource(found):
        raise DavError(404, "no such folder or item", "rfc4918#9.2")
    instructions, _ = X.parse_propertyupdate(request.body)
    tokens = await check_if(dav, request, target, found)
    check_locks(dav, found.url, tokens)
    out = X.Multistatus()
    out.propstats(found.url, await proppatch_one(dav, found, instructions))
    return xml_response(207, out.body())


# --- SEARCH ----------------------------------------------------------------------------------------------


async def do_search(dav: Dav, request: Request, target: Target) -> Response:
    text = X.parse_searchrequest(request.body)
    try:
        query = S.parse(text)
    except S.SqlError as exc:
        raise DavError(400, f"SQL: {exc}", "ms-xwdv#search") from None
    rows = []
    for scope in query.scopes:
        where = target if not scope.url else resolve_href(scope.url, target, request.host, request.scheme)
        authorize(where, dav.user, write=False)
        if where.area is not Area.STORE:
            raise DavError(403, "SEARCH scopes are folders of a mailbox or /public/", "ms-xwdv#search")
        found = await dav.store("dav_scope", url=where.folder_url, deep=scope.deep)
        if found is None:
            raise DavError(404, f"the scope {scope.url or target.url} is not a folder", "ms-xwdv#search")
        rows.extend(found)
    ctx = await context(dav, rows)

    def get(res, key):
        return P.sql_value(res, key, ctx)

    try:
        rows = [r for r in rows if S.evaluate(query.where, lambda key, r=r: get(r, key)) is True]
    except TypeError as exc:
        raise DavError(400, f"SQL: {exc}", "ms-xwdv#search") from None
    rows = S.order(rows, query, get)
    status, headers = 207, [("Accept-Ranges", "rows")]
    range_header = request.header("range")
    if range_header:
        try:
            span = S.parse_rows(range_header, len(rows))
        except S.SqlError as exc:
            raise DavError(400, str(exc), "ms-xwdv#range") from None
        if span is None:
            raise DavError(416, "the requested rows are beyond the result", "rfc9110#15.5.17",
                           headers=[("Content-Range", f"rows */{len(rows)}")])
        first, last = span
        total = len(rows)
        rows = rows[first:last + 1]
        # Still 207 Multi-Status, as Exchange (and SharePoint's same engine) answered a row range
        headers.append(("Content-Range", f"rows {first}-{last}; total={total}"))
    wanted = X.PropfindRequest("allprop") if query.select is None else X.PropfindRequest("prop", query.select)
    out = X.Multistatus()
    for res in rows:
        out.propstats(res.url, propstat_groups(res, wanted, ctx))
    return xml_response(status, out.body(), headers)

