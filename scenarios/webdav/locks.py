"""Probes of write locks (RFC 4918 sections 6, 7, 9.10 and 9.11) and of the If header (section 10.4).

A LOCK request makes a write lock and hands its token out in the Lock-Token header; while the lock lasts, a
request that would change the resource (PUT, PROPPATCH, DELETE, MOVE, LOCK) succeeds only when it submits that
token in an If header, and fails with 423 (Locked) without it. An If header whose conditions (lock tokens,
entity tags, "Not") all fail makes the request fail with 412 (Precondition Failed). These probes need
compliance class 2; every lock they obtain is released by the scratch cleanup.

They run `exclusive` (alone, after the other checks): a server may key its lock records by something other
than the URL (mod_dav_fs keys them by inode), and a DELETE of another check running beside a LOCK could then
take a lock away that a file reusing the inode had just been given, which would be judged as this check's
failure.
"""
from __future__ import annotations

from conformance.registry import probe

from .common import LOCKING, TIMEOUT_RE, WP, conditions, scratch, show

COLOUR = "{" + WP + "}colour"
BOGUS = "urn:uuid:00000000-0000-4000-8000-000000000000"


def activelocks(el) -> list:
    return el.findall("{DAV:}activelock") if el is not None else []


def token_of(activelock) -> str | None:
    href = activelock.find("{DAV:}locktoken/{DAV:}href")
    return (href.text or "").strip() if href is not None else None


async def discovered(d, path: str):
    """Setup: the activelocks PROPFIND reports in DAV:lockdiscovery of `path`, and the response."""
    entry, r = await d.props(path, "{DAV:}lockdiscovery")
    return activelocks(entry.prop("{DAV:}lockdiscovery")), r


async def locked_file(ctx, d, name: str = "locked.txt", **kw):
    f = await d.file(name, b"before\r\n")
    r, token = await d.lock(f, **kw)
    return f, token, r


@probe("webdav.lock.token-header", rfc="rfc4918#9.10.1 rfc4918#10.5", level="MUST",
       requirement="A LOCK that creates a lock on an existing resource is answered 200 with a Lock-Token header "
                   "carrying the new lock token as a Coded-URL (<...>).", needs=LOCKING, exclusive=True, tags=["lock"])
async def token_header(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        r, token = await d.lock(f, setup=False)
        ctx.expect(r.status == 200, "LOCK is answered 200", "HTTP/1.1 200 OK", r.show())
        value = (r.header("Lock-Token") or "").strip()
        ctx.expect(value.startswith("<") and value.endswith(">") and len(value) > 2,
                   "the Lock-Token header is a Coded-URL", "Lock-Token: <urn:uuid:...>", r.show())


@probe("webdav.lock.response-lockdiscovery", rfc="rfc4918#9.10.1 rfc4918#14.1 rfc4918#15.8", level="MUST",
       requirement="The body of a successful LOCK response is a DAV:prop with DAV:lockdiscovery whose activelock "
                   "carries the token of the Lock-Token header, the write lock type and the requested scope.",
       needs=LOCKING, exclusive=True, tags=["lock"])
async def response_body(ctx):
    from conformance.dialects.http import XmlError, parse_xml

    async with scratch(ctx) as d:
        f, token, r = await locked_file(ctx, d)
        try:
            root = parse_xml(r.body)
        except XmlError as exc:
            ctx.expect(False, "the LOCK response has an XML body", "<D:prop><D:lockdiscovery>", f"{exc}\n{r.show()}")
            return
        locks = activelocks(root.find("{DAV:}lockdiscovery")) if root.tag == "{DAV:}prop" else []
        mine = [a for a in locks if token_of(a) == token]
        ctx.expect(bool(mine), "the body is DAV:prop/lockdiscovery with an activelock of the token", token, r.show())
        a = mine[0]
        ctx.expect(a.find("{DAV:}locktype/{DAV:}write") is not None
                   and a.find("{DAV:}lockscope/{DAV:}exclusive") is not None,
                   "the activelock is an exclusive write lock", "<D:write/> <D:exclusive/>", r.show())


@probe("webdav.lock.lockdiscovery", rfc="rfc4918#15.8 rfc4918#6.8", level="MUST",
       requirement="While a lock lasts, PROPFIND of DAV:lockdiscovery shows it with its token, depth and timeout.",
       needs=LOCKING, exclusive=True, tags=["lock", "propfind"])
async def lockdiscovery(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        locks, r = await discovered(d, f)
        mine = [a for a in locks if token_of(a) == token]
        ctx.expect(bool(mine), "lockdiscovery lists the lock's token", token, r.show())
        a = mine[0]
        ctx.expect(a.find("{DAV:}depth") is not None and a.find("{DAV:}timeout") is not None,
                   "the activelock has depth and timeout", "<D:depth>0</D:depth> <D:timeout>...", r.show())


@probe("webdav.lock.owner", rfc="rfc4918#14.17 rfc4918#9.10.1", level="SHOULD",
       requirement="The DAV:owner given in the lockinfo is reported back in the activelock.",
       needs=LOCKING, exclusive=True, tags=["lock"])
async def owner(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        await d.lock(f, owner="mailto:wireproof@example.org")
        locks, r = await discovered(d, f)
        owners = ["".join(a.find("{DAV:}owner").itertext()) if a.find("{DAV:}owner") is not None else ""
                  for a in locks]
        ctx.expect(any("mailto:wireproof@example.org" in o for o in owners), "the owner is reported",
                   "<D:owner>mailto:wireproof@example.org</D:owner>", r.show())


@probe("webdav.lock.put-without-token-423", rfc="rfc4918#7.1 rfc4918#11.3", level="MUST",
       requirement="PUT to a write-locked resource without the lock token fails with 423 (Locked), and the content "
                   "is unchanged.", needs=LOCKING, exclusive=True, tags=["lock", "put"])
async def put_without_token(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.put(f, b"intruder\r\n", setup=False)
        ctx.expect(r.status == 423, "the PUT is answered 423", "HTTP/1.1 423 Locked", r.show())
        g = await d.get(f)
        ctx.expect(g.body == b"before\r\n", "the content is unchanged", "before", g.show())


@probe("webdav.lock.put-with-token", rfc="rfc4918#7.2 rfc4918#10.4", level="MUST",
       requirement="PUT to a write-locked resource that submits the lock token in an If header succeeds.",
       needs=LOCKING, exclusive=True, tags=["lock", "put", "if"])
async def put_with_token(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.put(f, b"owner\r\n", headers=[("If", f"(<{token}>)")], setup=False)
        ctx.expect(r.status in (200, 204), "the PUT with the token succeeds", "HTTP/1.1 204", r.show())
        g = await d.get(f)
        ctx.expect(g.body == b"owner\r\n", "the content was replaced", "owner", g.show())


@probe("webdav.lock.token-submitted-condition", rfc="rfc4918#16 rfc4918#11.3", level="SHOULD",
       requirement="The 423 for a write without the lock token names the DAV:lock-token-submitted precondition in a "
                   "DAV:error body.", needs=LOCKING, exclusive=True, tags=["lock", "errors"])
async def token_submitted(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.put(f, b"intruder\r\n", setup=False)
        ctx.setup(r.status == 423, "the PUT is answered 423", "423", r.show())
        ctx.expect("lock-token-submitted" in conditions(r), "the body names lock-token-submitted",
                   "<D:error><D:lock-token-submitted><D:href>...", r.show())


@probe("webdav.lock.proppatch-needs-token", rfc="rfc4918#7.1 rfc4918#7.3", level="MUST",
       requirement="PROPPATCH of a write-locked resource without the lock token fails with 423; with the token it "
                   "succeeds.", needs=LOCKING, exclusive=True, tags=["lock", "proppatch"])
async def proppatch_token(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r1, _ = await d.proppatch(f, [("set", COLOUR, "red")])
        ctx.expect(r1.status == 423, "PROPPATCH without the token is answered 423", "HTTP/1.1 423", r1.show())
        r2, ms = await d.proppatch(f, [("set", COLOUR, "red")], headers=[("If", f"(<{token}>)")])
        ctx.expect(r2.status == 207 and ms is not None and ms.responses[0].prop_status(COLOUR) == 200,
                   "PROPPATCH with the token sets the property", "207 / 200", r2.show())


@probe("webdav.lock.delete-needs-token", rfc="rfc4918#7.1 rfc4918#9.6", level="MUST",
       requirement="DELETE of a write-locked resource without the lock token fails with 423 and the resource stays.",
       needs=LOCKING, exclusive=True, tags=["lock", "delete"])
async def delete_token(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.request("DELETE", f)
        ctx.expect(r.status == 423, "DELETE without the token is answered 423", "HTTP/1.1 423", r.show())
        ctx.expect(await d.exists(f) is True, "the resource is still there", "207", d.client.last.show())


@probe("webdav.lock.exclusive-conflict-423", rfc="rfc4918#9.10.5 rfc4918#6.2", level="MUST",
       requirement="A second exclusive LOCK of a resource that is already exclusively locked fails with 423.",
       needs=LOCKING, exclusive=True, tags=["lock"])
async def exclusive_conflict(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r, _ = await d.lock(f, setup=False)
        ctx.expect(r.status == 423, "the second LOCK is answered 423", "HTTP/1.1 423 Locked", r.show())


async def shared_supported(ctx, d, path: str) -> None:
    entry, r = await d.props(path, "{DAV:}supportedlock")
    sl = entry.prop("{DAV:}supportedlock")
    ctx.require(sl is not None and sl.find("{DAV:}lockentry/{DAV:}lockscope/{DAV:}shared") is not None,
                "the server does not offer shared locks (no shared lockentry in DAV:supportedlock)")


@probe("webdav.lock.shared-compatible", rfc="rfc4918#9.10.5 rfc4918#6.2", level="MUST",
       requirement="Two shared write locks on one resource are both granted, with different tokens.",
       needs=LOCKING, exclusive=True, tags=["lock", "shared"])
async def shared(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        await shared_supported(ctx, d, f)
        r1, t1 = await d.lock(f, scope="shared", setup=False)
        r2, t2 = await d.lock(f, scope="shared", setup=False)
        ctx.expect(t1 is not None and t2 is not None and t1 != t2, "both shared LOCKs are granted with two tokens",
                   "200 and 200", show(r1, r2))


@probe("webdav.lock.exclusive-on-shared-423", rfc="rfc4918#9.10.5", level="MUST",
       requirement="An exclusive LOCK of a resource that holds a shared lock fails with 423.",
       needs=LOCKING, exclusive=True, tags=["lock", "shared"])
async def exclusive_on_shared(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt")
        await shared_supported(ctx, d, f)
        await d.lock(f, scope="shared")
        r, _ = await d.lock(f, setup=False)
        ctx.expect(r.status == 423, "the exclusive LOCK is answered 423", "HTTP/1.1 423 Locked", r.show())


@probe("webdav.lock.refresh", rfc="rfc4918#9.10.2", level="MUST",
       requirement="A LOCK without a body that submits the lock token in an If header refreshes the lock: 200 with "
                   "lockdiscovery, and the lock keeps its token.", needs=LOCKING, exclusive=True,
       tags=["lock", "timeout", "if"])
async def refresh(ctx):
    from conformance.dialects.http import XmlError, parse_xml

    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d, timeout="Second-3600")
        r = await d.request("LOCK", f, [("If", f"(<{token}>)"), ("Timeout", "Second-1800")])
        ctx.expect(r.status == 200, "the refresh is answered 200", "HTTP/1.1 200 OK", r.show())
        try:
            root = parse_xml(r.body)
        except XmlError:
            root = None
        tokens = [token_of(a) for a in activelocks(root.find("{DAV:}lockdiscovery"))] if root is not None else []
        ctx.expect(token in tokens, "the response's lockdiscovery shows the same token", token, r.show())


@probe("webdav.lock.timeout-format", rfc="rfc4918#10.7 rfc4918#14.29", level="MUST",
       requirement="A lock's DAV:timeout, as lockdiscovery reports it, is \"Second-n\" or \"Infinite\" (the server "
                   "need not honour the Timeout the client asked for).", needs=LOCKING, exclusive=True,
       tags=["lock", "timeout"])
async def timeout_format(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d, timeout="Second-3600")
        locks, r = await discovered(d, f)
        mine = [a for a in locks if token_of(a) == token]
        ctx.setup(bool(mine), "lockdiscovery shows the lock", token, r.show())
        value = (mine[0].findtext("{DAV:}timeout") or "").strip()
        ctx.expect(bool(TIMEOUT_RE.match(value)), "the timeout is Second-n or Infinite", "Second-3600", value)


@probe("webdav.lock.unmapped-creates", rfc="rfc4918#9.10.4 rfc4918#7.3", level="MUST",
       requirement="A successful LOCK of an unmapped URL creates a locked, empty, non-collection resource there.",
       needs=LOCKING, exclusive=True, tags=["lock", "unmapped"])
async def unmapped_creates(ctx):
    async with scratch(ctx) as d:
        f = d.url("reserved.txt")
        r, token = await d.lock(f)
        entry, r2 = await d.props(f, "{DAV:}resourcetype", "{DAV:}lockdiscovery")
        ctx.expect(entry.is_collection is False, "the URL is now a non-collection resource", "<D:resourcetype/>",
                   r2.show())
        ctx.expect(any(token_of(a) == token for a in activelocks(entry.prop("{DAV:}lockdiscovery"))),
                   "the new resource carries the lock", token, r2.show())
        g = await d.get(f)
        ctx.expect(g.status in (200, 204) and g.body == b"", "GET returns empty content", "200 with no content",
                   g.show())


@probe("webdav.lock.unmapped-201", rfc="rfc4918#9.10.4 rfc4918#9.10.6", level="SHOULD",
       requirement="A LOCK that created a resource at an unmapped URL is answered 201 (Created).",
       needs=LOCKING, exclusive=True, tags=["lock", "unmapped", "status"])
async def unmapped_201(ctx):
    async with scratch(ctx) as d:
        r, token = await d.lock(d.url("reserved.txt"), setup=False)
        ctx.setup(token is not None, "the LOCK is granted", "201 with Lock-Token", r.show())
        ctx.expect(r.status == 201, "the LOCK is answered 201", "HTTP/1.1 201 Created", r.show())


def refused(status: int) -> bool:
    return status not in (200, 201, 202, 204)


@probe("webdav.lock.depth-infinity-members", rfc="rfc4918#7.5 rfc4918#9.10.3", level="MUST",
       requirement="A Depth infinity lock on a collection covers its members: without the token, a PUT of a new "
                   "member is refused and creates nothing, and a PUT to an existing member is refused and changes "
                   "nothing; with the token (an If list tagged with the collection) the new member is created.",
       needs=LOCKING, exclusive=True, tags=["lock", "collections", "depth"])
async def depth_infinity(ctx):
    async with scratch(ctx) as d:
        sub = await d.collection("sub/")
        await d.put(d.url("sub", "old.txt"), b"old\r\n")
        r, token = await d.lock(sub, depth="infinity")
        new = await d.put(d.url("sub", "new.txt"), setup=False)
        ctx.expect(refused(new.status) and await d.exists(d.url("sub", "new.txt")) is False,
                   "a new member without the token is refused and not created", "HTTP/1.1 423", new.show())
        old = await d.put(d.url("sub", "old.txt"), b"changed\r\n", setup=False)
        g = await d.get(d.url("sub", "old.txt"))
        ctx.expect(refused(old.status) and g.body == b"old\r\n",
                   "a write to an existing member without the token is refused and changes nothing", "HTTP/1.1 423",
                   show(old, g))
        ok = await d.put(d.url("sub", "new.txt"), headers=[("If", f"<{d.absolute(sub)}> (<{token}>)")], setup=False)
        ctx.expect(ok.status == 201, "with the token the new member is created", "HTTP/1.1 201", ok.show())


@probe("webdav.lock.depth-0-collection", rfc="rfc4918#7.5 rfc4918#9.10.3", level="MUST",
       requirement="A Depth 0 lock on a collection protects its membership: adding a member without the token is "
                   "refused and creates nothing.", needs=LOCKING, exclusive=True, tags=["lock", "collections", "depth"])
async def depth_0_collection(ctx):
    async with scratch(ctx) as d:
        sub = await d.collection("sub/")
        await d.lock(sub, depth="0")
        r = await d.put(d.url("sub", "new.txt"), setup=False)
        ctx.expect(refused(r.status) and await d.exists(d.url("sub", "new.txt")) is False,
                   "adding a member without the token is refused and creates nothing", "HTTP/1.1 423",
                   show(r, d.client.last))


@probe("webdav.lock.collection-423", rfc="rfc4918#7.5 rfc4918#11.3", level="SHOULD",
       requirement="A PUT refused because the collection it would add a member to is locked is answered 423 (Locked) "
                   "itself, not a 207 for the one resource.", needs=LOCKING, exclusive=True,
       tags=["lock", "collections", "status"])
async def collection_423(ctx):
    async with scratch(ctx) as d:
        sub = await d.collection("sub/")
        await d.lock(sub, depth="infinity")
        r = await d.put(d.url("sub", "new.txt"), setup=False)
        ctx.expect(r.status == 423, "the PUT is answered 423", "HTTP/1.1 423 Locked", r.show())


@probe("webdav.unlock.removes-lock", rfc="rfc4918#9.11", level="MUST",
       requirement="UNLOCK with the lock token removes the lock: it succeeds, and a PUT without a token is accepted "
                   "afterwards.", needs=LOCKING, exclusive=True, tags=["lock", "unlock"])
async def unlock(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.unlock(f, token)
        ctx.expect(r.status in (200, 204), "UNLOCK succeeds", "HTTP/1.1 204 No Content", r.show())
        p = await d.put(f, b"free\r\n", setup=False)
        ctx.expect(p.status in (200, 204), "a PUT without a token is accepted afterwards", "HTTP/1.1 204", p.show())


@probe("webdav.unlock.204", rfc="rfc4918#9.11.1", level="SHOULD",
       requirement="A successful UNLOCK is answered 204 (No Content).", needs=LOCKING, exclusive=True,
       tags=["lock", "unlock", "status"])
async def unlock_204(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.unlock(f, token)
        ctx.expect(r.status == 204, "UNLOCK is answered 204", "HTTP/1.1 204 No Content", r.show())


@probe("webdav.unlock.wrong-resource-409", rfc="rfc4918#9.11.1 rfc4918#16", level="SHOULD",
       requirement="UNLOCK of a resource outside the scope of the submitted lock token is refused with 409 "
                   "(Conflict) and DAV:lock-token-matches-request-uri, and the lock stays.",
       needs=LOCKING, exclusive=True,
       tags=["lock", "unlock", "errors"])
async def unlock_wrong(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        other = await d.file("other.txt")
        r = await d.unlock(other, token)
        ctx.expect(r.status == 409, "UNLOCK of the other resource is answered 409", "HTTP/1.1 409 Conflict", r.show())
        ctx.expect("lock-token-matches-request-uri" in conditions(r), "the body names the condition",
                   "<D:error><D:lock-token-matches-request-uri/></D:error>", r.show())


@probe("webdav.unlock.bogus-token-refused", rfc="rfc4918#9.11 rfc4918#9.11.1", level="MUST",
       requirement="UNLOCK with a token that names no lock of the resource fails (4xx) and the real lock stays.",
       needs=LOCKING, exclusive=True, tags=["lock", "unlock", "errors"])
async def unlock_bogus(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.unlock(f, BOGUS)
        ctx.expect(400 <= r.status < 500, "UNLOCK with an unknown token is refused", "HTTP/1.1 409", r.show())
        p = await d.put(f, b"intruder\r\n", setup=False)
        ctx.expect(p.status == 423, "the resource is still locked", "HTTP/1.1 423", p.show())


@probe("webdav.lock.copy-leaves-lock", rfc="rfc4918#7.7 rfc4918#9.8", level="MUST",
       requirement="COPY of a locked resource does not copy the lock: the destination has no active lock.",
       needs=LOCKING, exclusive=True, tags=["lock", "copy"])
async def copy_lock(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        dst = d.url("copy.txt")
        r = await d.request("COPY", f, [("Destination", d.absolute(dst))])
        ctx.setup(r.status == 201, "COPY of the locked resource is answered 201", "201", r.show())
        locks, r2 = await discovered(d, dst)
        ctx.expect(not locks, "the copy is not locked", "<D:lockdiscovery/>", r2.show())


@probe("webdav.lock.move-leaves-lock", rfc="rfc4918#7.7 rfc4918#9.9", level="MUST",
       requirement="MOVE of a locked resource (with its token) does not move the lock: the destination has no active "
                   "lock.", needs=LOCKING, exclusive=True, tags=["lock", "move"])
async def move_lock(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        dst = d.url("moved.txt")
        r = await d.request("MOVE", f, [("Destination", d.absolute(dst)), ("If", f"<{d.absolute(f)}> (<{token}>)")])
        ctx.setup(r.status == 201, "MOVE of the locked resource with its token is answered 201", "201", r.show())
        locks, r2 = await discovered(d, dst)
        ctx.expect(not locks, "the moved resource is not locked", "<D:lockdiscovery/>", r2.show())


# --- the If header ---------------------------------------------------------------------------------------------

@probe("webdav.if.unmet-412", rfc="rfc4918#10.4 rfc4918#10.4.3 rfc4918#12.1", level="MUST",
       requirement="A PUT whose If header names only a lock token the resource does not have fails with 412 "
                   "(Precondition Failed), and nothing changes.", needs=LOCKING, exclusive=True, tags=["if"])
async def if_unmet(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt", b"before\r\n")
        r = await d.put(f, b"after\r\n", headers=[("If", f"(<{BOGUS}>)")], setup=False)
        ctx.expect(r.status == 412, "the PUT is answered 412", "HTTP/1.1 412 Precondition Failed", r.show())
        g = await d.get(f)
        ctx.expect(g.body == b"before\r\n", "the content is unchanged", "before", g.show())


@probe("webdav.if.not", rfc="rfc4918#10.4.2 rfc4918#10.4.3", level="MUST",
       requirement="\"Not\" negates a condition: If: (Not <token the resource does not have>) holds, so the PUT "
                   "succeeds.", needs=LOCKING, exclusive=True, tags=["if"])
async def if_not(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt", b"before\r\n")
        r = await d.put(f, b"after\r\n", headers=[("If", f"(Not <{BOGUS}>)")], setup=False)
        ctx.expect(r.status in (200, 204), "the PUT succeeds", "HTTP/1.1 204", r.show())


@probe("webdav.if.etag", rfc="rfc4918#10.4.4 rfc4918#10.4.2", level="MUST",
       requirement="An If list may test entity tags: ([\"current etag\"]) holds and the PUT succeeds; ([\"other\"]) "
                   "fails with 412.", needs=LOCKING, exclusive=True, tags=["if", "etag"])
async def if_etag(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt", b"before\r\n")
        etag = await d.etag(f)
        ctx.require(etag is not None, "the server sends no ETag")
        bad = await d.put(f, b"after\r\n", headers=[("If", '(["wireproof-no-such-etag"])')], setup=False)
        ctx.expect(bad.status == 412, "a stale entity tag fails with 412", "HTTP/1.1 412", bad.show())
        good = await d.put(f, b"after\r\n", headers=[("If", f"([{etag}])")], setup=False)
        ctx.expect(good.status in (200, 204), "the current entity tag lets the PUT through", "HTTP/1.1 204",
                   good.show())


@probe("webdav.if.tagged-list", rfc="rfc4918#10.4.2 rfc4918#10.4.3", level="MUST",
       requirement="A tagged If list applies to the resource its tag names: <url> (<token>) with the locked "
                   "resource's URL and token lets a PUT to it through.", needs=LOCKING, exclusive=True,
       tags=["if", "lock"])
async def if_tagged(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.put(f, b"tagged\r\n", headers=[("If", f"<{d.absolute(f)}> (<{token}>)")], setup=False)
        ctx.expect(r.status in (200, 204), "the PUT with a tagged list succeeds", "HTTP/1.1 204", r.show())


@probe("webdav.if.second-list", rfc="rfc4918#10.4.3", level="MUST",
       requirement="An If header holds when any one of its lists holds: (<bogus>) (<real token>) lets the PUT to "
                   "the locked resource through.", needs=LOCKING, exclusive=True, tags=["if", "lock"])
async def if_second_list(ctx):
    async with scratch(ctx) as d:
        f, token, _ = await locked_file(ctx, d)
        r = await d.put(f, b"second\r\n", headers=[("If", f"(<{BOGUS}>) (<{token}>)")], setup=False)
        ctx.expect(r.status in (200, 204), "the PUT succeeds", "HTTP/1.1 204", r.show())


@probe("webdav.if.no-lock-fails", rfc="rfc4918#10.4.3 rfc4918#10.4.8", level="MUST",
       requirement="The state token DAV:no-lock never matches: If: (<DAV:no-lock>) on a resource fails with 412.",
       needs=LOCKING, exclusive=True, tags=["if"])
async def if_no_lock(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt", b"before\r\n")
        r = await d.put(f, b"after\r\n", headers=[("If", "(<DAV:no-lock>)")], setup=False)
        ctx.expect(r.status == 412, "the PUT is answered 412", "HTTP/1.1 412", r.show())
