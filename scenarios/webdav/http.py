"""Probes of the HTTP/1.1 the WebDAV checks stand on (RFC 9110, RFC 9112), of Basic authentication (RFC 7617,
RFC 9110 section 11) and of the boundary of the served tree: no request, however its path is spelled, reaches
anything outside it (RFC 9110 section 17.3, RFC 4918 section 20).
"""
from __future__ import annotations

import base64

from conformance.dialects.http import Response, read_response, request_bytes
from conformance.registry import probe
from conformance.wire.session import ConnectionClosed, WireError

from .common import multistatus, scratch, show

AUTH = ["auth-required"]


@probe("webdav.http.host-required-400", rfc="rfc9112#3.2 rfc9110#7.2", level="MUST",
       requirement="An HTTP/1.1 request without a Host header field is answered 400 (Bad Request).",
       tags=["http", "errors"])
async def host_required(ctx):
    ep = ctx.endpoint("webdav")
    client = await ctx.http()
    auth = f"Authorization: {client.authorization}\r\n" if client.authorization else ""
    wire = await ctx.connect("webdav")
    await wire.send(f"OPTIONS {ep.path or '/'} HTTP/1.1\r\n{auth}Content-Length: 0\r\n\r\n".encode())
    r = await read_response(wire, "OPTIONS")
    ctx.expect(r.status == 400, "the request without Host is answered 400", "HTTP/1.1 400 Bad Request", r.show())


@probe("webdav.http.persistent-connection", rfc="rfc9112#9.3 rfc9112#9.6", level="MUST",
       requirement="HTTP/1.1 connections persist by default: after a response that does not announce "
                   "\"Connection: close\", the server answers the next request on the same connection.",
       tags=["http"])
async def persistent(ctx):
    async with scratch(ctx) as d:
        wire = await ctx.connect("webdav")
        auth = [("Authorization", d.client.authorization)] if d.client.authorization else []
        first = None
        for n in range(3):
            await wire.send(request_bytes("PROPFIND", d.col, [("Host", d.client.host), *auth, ("Depth", "0")]))
            r = await read_response(wire, "PROPFIND")
            if first is None:
                first = r
                ctx.setup(r.status == 207, "PROPFIND is answered 207", "207", r.show())
                ctx.require(not r.closes, "the server announces Connection: close, as it may")
                continue
            ctx.expect(r.status == 207, f"request {n + 1} on the same connection is answered", "207", r.show())
            if r.closes:
                break


@probe("webdav.http.pipelined", rfc="rfc9112#9.3.2", level="MUST",
       requirement="A server answers pipelined requests (sent together before any answer) in the order they were "
                   "sent.", tags=["http"])
async def pipelined(ctx):
    async with scratch(ctx) as d:
        a, b = d.url("one.txt"), d.url("two.txt")
        await d.put(a, b"one\r\n")
        await d.put(b, b"two, longer\r\n")
        wire = await ctx.connect("webdav")
        auth = [("Authorization", d.client.authorization)] if d.client.authorization else []
        await wire.send(request_bytes("GET", a, [("Host", d.client.host), *auth])
                        + request_bytes("GET", b, [("Host", d.client.host), *auth]))
        r1 = await read_response(wire, "GET")
        ctx.setup(not r1.closes, "the first response keeps the connection open", "no Connection: close", r1.show())
        r2 = await read_response(wire, "GET")
        ctx.expect(r1.body == b"one\r\n" and r2.body == b"two, longer\r\n", "the two responses come in request order",
                   "one, then two", show(r1, r2))


@probe("webdav.http.expect-100-continue", rfc="rfc9110#10.1.1 rfc9110#15.2.1", level="MUST",
       requirement="A PUT with Expect: 100-continue gets, before it sends its content, either 100 (Continue) or a "
                   "final status; after a 100 the content is accepted.", tags=["http", "put"])
async def expect_100(ctx):
    async with scratch(ctx) as d:
        wire = await ctx.connect("webdav")
        auth = [("Authorization", d.client.authorization)] if d.client.authorization else []
        body = b"sent after 100\r\n"
        head = request_bytes("PUT", d.url("c.txt"), [("Host", d.client.host), *auth, ("Content-Type", "text/plain"),
                                                     ("Content-Length", str(len(body))),
                                                     ("Expect", "100-continue")])
        await wire.send(head)
        try:
            first = await wire.read_line(3.0)
        except WireError as exc:
            ctx.expect(False, "the server answers the headers without waiting for the content",
                       "HTTP/1.1 100 Continue", f"nothing within 3 s ({exc})")
            return
        ctx.expect(first.startswith(b"HTTP/1.1 ") or first.startswith(b"HTTP/1.0 "),
                   "the server answers with a status line", "HTTP/1.1 100 Continue", first.decode("latin-1"))
        if b" 100 " in first[:13] or first[9:12] == b"100":
            while (await wire.read_line()) not in (b"\r\n", b"\n"):
                pass
            await wire.send(body)
            r = await read_response(wire, "PUT")
            ctx.expect(r.status == 201, "after 100 Continue the content is stored (201)", "HTTP/1.1 201", r.show())
        else:
            ctx.expect(True, "a final status came before the content", "", first.decode("latin-1"))


@probe("webdav.http.chunked-request", rfc="rfc9112#7.1 rfc9112#6.1", level="MUST",
       requirement="A request body in the chunked transfer coding is understood: a chunked PUT stores the octets "
                   "of all chunks.", tags=["http", "put"])
async def chunked(ctx):
    async with scratch(ctx) as d:
        f = d.url("chunked.txt")
        auth = [("Authorization", d.client.authorization)] if d.client.authorization else []
        data = request_bytes("PUT", f, [("Host", d.client.host), *auth, ("Content-Type", "text/plain"),
                                        ("Transfer-Encoding", "chunked")], content_length=False)
        data += b"6\r\nfirst \r\nC\r\nsecond chunk\r\n0\r\n\r\n"
        r = await d.client.exchange("PUT", data, target=f)
        ctx.expect(r.status in (200, 201, 204), "the chunked PUT succeeds", "HTTP/1.1 201", r.show())
        g = await d.get(f)
        ctx.expect(g.body == b"first second chunk", "GET returns the chunks joined", "first second chunk", g.show())


@probe("webdav.http.unknown-method-501", rfc="rfc9110#9.1 rfc9110#15.6.2", level="SHOULD",
       requirement="A request with a method the server does not know is answered 501 (Not Implemented).",
       tags=["http", "errors"])
async def unknown_method(ctx):
    async with scratch(ctx) as d:
        r = await d.request("WIREPROOFY", d.col)
        ctx.expect(r.status == 501, "the unknown method is answered 501", "HTTP/1.1 501 Not Implemented", r.show())


@probe("webdav.http.date-header", rfc="rfc9110#6.6.1", level="MUST",
       requirement="An origin server with a clock sends a Date header field in its 2xx, 3xx and 4xx responses.",
       tags=["http"])
async def date_header(ctx):
    async with scratch(ctx) as d:
        r = await d.request("OPTIONS", d.col)
        ctx.expect(r.header("Date") is not None, "the OPTIONS response has a Date", "Date: ...", r.show())


# --- authentication --------------------------------------------------------------------------------------------

@probe("webdav.auth.missing-401", rfc="rfc9110#11.6.1 rfc9110#15.5.2 rfc7617#2", level="MUST",
       requirement="A server that requires authentication answers a request without credentials 401 "
                   "(Unauthorized) with a WWW-Authenticate header offering a scheme.", needs=AUTH,
       tags=["auth"])
async def auth_missing(ctx):
    client = await ctx.http(auth=False)
    ep = ctx.endpoint("webdav")
    r = await client.request("PROPFIND", ep.path or "/", [("Depth", "0")])
    ctx.expect(r.status == 401, "PROPFIND without credentials is answered 401", "HTTP/1.1 401", r.show())
    ctx.expect(any(v.strip() for v in r.headers_named("WWW-Authenticate")), "the 401 has WWW-Authenticate",
               'WWW-Authenticate: Basic realm="..."', r.show())


@probe("webdav.auth.wrong-password-401", rfc="rfc9110#15.5.2 rfc7617#2", level="MUST",
       requirement="Basic credentials with a wrong password are refused with 401, never served.",
       needs=AUTH + ["AUTH=BASIC", "account"], tags=["auth"])
async def auth_wrong(ctx):
    account = ctx.target.accounts[0]
    client = await ctx.http(auth=False)
    wrong = "Basic " + base64.b64encode(f"{account.user}:{account.password}-wrong".encode()).decode()
    r = await client.request("PROPFIND", ctx.endpoint("webdav").path or "/", [("Depth", "0"), ("Authorization", wrong)])
    ctx.expect(r.status == 401, "the wrong password is answered 401", "HTTP/1.1 401", r.show())


@probe("webdav.auth.basic-realm", rfc="rfc7617#2 rfc9110#11.5", level="MUST",
       requirement="A Basic challenge carries the realm parameter, which is required.", needs=AUTH + ["AUTH=BASIC"],
       tags=["auth"])
async def basic_realm(ctx):
    client = await ctx.http(auth=False)
    r = await client.request("OPTIONS", ctx.endpoint("webdav").path or "/")
    basic = [v for v in r.headers_named("WWW-Authenticate") if v.strip().lower().startswith("basic")]
    ctx.setup(r.status == 401 and basic, "OPTIONS without credentials gets a Basic challenge", "401", r.show())
    ctx.expect(any("realm=" in v.lower() for v in basic), "the Basic challenge has a realm", 'Basic realm="..."',
               r.show())


@probe("webdav.auth.every-method", rfc="rfc9110#11.6.1 rfc4918#20.1", level="MUST",
       requirement="Authentication is required of every method, not only of reads: PUT, MKCOL, DELETE, PROPPATCH, "
                   "COPY and LOCK without credentials are refused with 401 and change nothing.", needs=AUTH,
       tags=["auth"])
async def every_method(ctx):
    async with scratch(ctx) as d:
        f = await d.file("a.txt", b"kept\r\n")
        anon = await ctx.http(auth=False)
        tries = [("PUT", f, [("Content-Type", "text/plain")], b"overwritten\r\n"),
                 ("MKCOL", d.url("anon/"), [], b""),
                 ("DELETE", f, [], b""),
                 ("PROPPATCH", f, [("Content-Type", "application/xml")],
                  b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x'
                  b'</D:displayname></D:prop></D:set></D:propertyupdate>'),
                 ("COPY", f, [("Destination", d.absolute(d.url("anon.txt")))], b""),
                 ("LOCK", f, [("Content-Type", "application/xml")],
                  b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
                  b'<D:locktype><D:write/></D:locktype></D:lockinfo>')]
        for method, path, headers, body in tries:
            r = await anon.request(method, path, headers, body)
            ctx.expect(r.status == 401, f"{method} without credentials is answered 401", "HTTP/1.1 401", r.show())
        g = await d.get(f)
        ctx.expect(g.body == b"kept\r\n", "the resource is unchanged", "kept", g.show())


# --- the boundary of the served tree -------------------------------------------------------------------------------

LEAKS = (b"root:x:0:0", b"root:*:0:0", b"[fonts]", b"[boot loader]", b"daemon:x:")
ESCAPES = ["..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
           "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
           "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
           "..%5c..%5c..%5c..%5c..%5c..%5cwindows%5cwin.ini",
           "%252e%252e/%252e%252e/%252e%252e/%252e%252e/etc/passwd",
           "..%c0%af..%c0%af..%c0%af..%c0%afetc%c0%afpasswd",
           "./../../../../../../etc/passwd"]


async def probe_path(ctx, d, method: str, path: str, headers=(), body: bytes = b""):
    """One request on a connection of its own; the body is read only for a 2xx (a refusal reveals nothing, and a
    server that announces an error body it never sends does not hold the check up)."""
    wire = await ctx.connect("webdav")
    try:
        auth = [("Authorization", d.client.authorization)] if d.client.authorization else []
        await wire.send(request_bytes(method, path, [("Host", d.client.host), *auth, *headers, ("Connection", "close")],
                                      body))
        return await read_response(wire, method, body_for=lambda status: 200 <= status < 300)
    except ConnectionClosed as exc:
        if exc.partial:
            raise
        # Closing the connection without an answer is a refusal too: nothing was revealed.
        return Response("", 0, "", method=method, closes=True,
                        raw_head=[b"(the server closed the connection without a response)"])
    finally:
        await wire.close()


@probe("webdav.path.no-escape-get", rfc="rfc9110#17.3 rfc4918#20", level="MUST",
       requirement="No spelling of \"..\" in a request path (percent-encoded slashes, backslashes or dots, double "
                   "encoding, overlong UTF-8) lets GET read a file outside the served tree.",
       tags=["security", "urls"])
async def no_escape_get(ctx):
    async with scratch(ctx) as d:
        for tail in ESCAPES:
            for path in (d.col + tail, d.col.rstrip("/").rsplit("/", 1)[0] + "/" + tail):
                r = await probe_path(ctx, d, "GET", path)
                leaked = 200 <= r.status < 300 and any(m in r.body for m in LEAKS)
                ctx.expect(not leaked, f"GET {path} reveals nothing outside the tree", "a 4xx, or a resource of the "
                           "tree", r.show())


@probe("webdav.path.no-escape-propfind", rfc="rfc9110#17.3 rfc4918#20", level="MUST",
       requirement="PROPFIND of a path climbing out of the served tree with encoded dots or slashes lists nothing "
                   "outside it: every href it reports lies inside the endpoint's path.", tags=["security", "urls"])
async def no_escape_propfind(ctx):
    from conformance.dialects.http import propfind_body

    async with scratch(ctx) as d:
        base = ctx.endpoint("webdav").path or "/"
        base = base if base.endswith("/") else base + "/"
        for tail in ("..%2f..%2f..%2f", "%2e%2e/%2e%2e/%2e%2e/", "%2e%2e%2f%2e%2e%2f", "..%5c..%5c"):
            r = await probe_path(ctx, d, "PROPFIND", d.col + tail,
                                 [("Depth", "1"), ("Content-Type", "application/xml")],
                                 propfind_body(["{DAV:}resourcetype"]))
            ms = multistatus(r)
            outside = [x.path for x in ms.responses if not x.path.startswith(base)] if ms else []
            ctx.expect(not outside, f"PROPFIND {d.col + tail} lists only resources inside {base}",
                       f"hrefs under {base}, or a 4xx", "\n".join(outside) or r.show())
