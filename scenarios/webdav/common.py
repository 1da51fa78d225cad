"""What the WebDAV probes share: a scratch collection with a client, and short forms of the requests.

Every probe works below a scratch collection of its own (conformance/davscratch.py), made with MKCOL and filled
with PUT and MKCOL, the methods under test elsewhere in the suite: when one of those fails on the way the
probe cannot set up and ends as `error`, never `fail`. Only the probe's assertion (`ctx.expect`) grades.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance import davscratch
from conformance.dialects.http import (HttpClient, Multistatus, Response, XmlError, error_conditions, lockinfo_body,
                                       lock_token, parse_multistatus, path_join, propfind_body, proppatch_body)

XML = ("Content-Type", "application/xml; charset=utf-8")
WP = "http://wireproof.invalid/ns/"  # the namespace of the dead properties the suite sets
LOCKING = ["DAV=2"]  # checks of locks need compliance class 2


@dataclass
class Dav:
    """A scratch collection (`col`, ending in "/") and an authenticated client."""

    ctx: object
    client: HttpClient
    col: str

    # --- names -------------------------------------------------------------------------------------------

    def url(self, *segments: str) -> str:
        """A path below the scratch collection (segments percent-encoded; end one with "/" for a collection)."""
        trailing = segments and segments[-1].endswith("/")
        path = path_join(self.col, *[s.rstrip("/") for s in segments])
        return path + ("/" if trailing else "")

    def absolute(self, path: str) -> str:
        """The absolute URI of a path on the target (for Destination and tagged If lists)."""
        ep = self.ctx.endpoint("webdav")
        scheme = "https" if ep.implicit_tls else "http"
        return f"{scheme}://{self.client.host}{path}"

    # --- requests ------------------------------------------------------------------------------------------

    async def request(self, method: str, path: str, headers=(), body: bytes | str = b"", **kw) -> Response:
        return await self.client.request(method, path, headers, body, **kw)

    async def put(self, path: str, body: bytes = b"wireproof\r\n", content_type: str = "text/plain",
                  headers=(), *, setup: bool = True) -> Response:
        r = await self.request("PUT", path, [("Content-Type", content_type), *headers], body)
        if setup:
            self.ctx.setup(r.status in (200, 201, 204), f"PUT {path} is accepted", "HTTP/1.1 201 Created", r.show())
        return r

    async def mkcol(self, path: str, *, setup: bool = True) -> Response:
        r = await self.request("MKCOL", path)
        if setup:
            self.ctx.setup(r.status == 201, f"MKCOL {path} is answered 201", "HTTP/1.1 201 Created", r.show())
        return r

    async def file(self, name: str = "a.txt", body: bytes = b"wireproof\r\n", content_type: str = "text/plain") -> str:
        """Setup: a resource PUT below the scratch collection (the first step of most probes); its path."""
        path = self.url(name)
        await self.put(path, body, content_type)
        return path

    async def collection(self, name: str) -> str:
        """Setup: a collection made with MKCOL below the scratch collection (`name` ends in "/"); its path."""
        path = self.url(name)
        await self.mkcol(path)
        return path

    async def get(self, path: str, headers=()) -> Response:
        return await self.request("GET", path, headers)

    async def propfind(self, path: str, props=None, *, depth: str | None = "0", allprop: bool = False,
                       propname: bool = False, include=(), body: bytes | None = None,
                       headers=()) -> tuple[Response, Multistatus | None]:
        """PROPFIND; the multistatus when the answer is a 207 with a parsable body (else None)."""
        if body is None:
            body = propfind_body(props or (), allprop=allprop, propname=propname, include=include)
        fields = ([("Depth", depth)] if depth is not None else []) + ([XML] if body else []) + list(headers)
        r = await self.request("PROPFIND", path, fields, body)
        return r, multistatus(r)

    async def props(self, path: str, *names: str):
        """Setup: PROPFIND Depth 0 of `names`; the one DAV:response (or the check ends as error)."""
        r, ms = await self.propfind(path, list(names))
        entry = ms.find(path) if ms else None
        if entry is None and ms and len(ms.responses) == 1:
            entry = ms.responses[0]
        self.ctx.setup(entry is not None, f"PROPFIND {path} (Depth 0) is answered 207 with a response for it",
                       "HTTP/1.1 207 Multi-Status", r.show())
        return entry, r

    async def proppatch(self, path: str, operations, headers=()) -> tuple[Response, Multistatus | None]:
        r = await self.request("PROPPATCH", path, [XML, *headers], proppatch_body(operations))
        return r, multistatus(r)

    async def set_dead(self, path: str, name: str, value: str) -> None:
        """Setup: a dead property set with PROPPATCH (207 with 200 for it)."""
        r, ms = await self.proppatch(path, [("set", name, value)])
        entry = ms.responses[0] if ms and ms.responses else None
        self.ctx.setup(entry is not None and entry.prop_status(name) == 200,
                       f"PROPPATCH sets the dead property {name} on {path}", "207 with a 200 propstat", r.show())

    async def lock(self, path: str, *, scope: str = "exclusive", depth: str = "0", timeout: str | None = None,
                   owner: str = "wireproof", setup: bool = True, headers=()) -> tuple[Response, str | None]:
        fields = [XML, ("Depth", depth)] + ([("Timeout", timeout)] if timeout else []) + list(headers)
        r = await self.request("LOCK", path, fields, lockinfo_body(scope, owner))
        token = lock_token(r) if r.status in (200, 201) else None
        if setup:
            self.ctx.setup(token is not None, f"LOCK {path} ({scope}, Depth {depth}) is granted with a Lock-Token",
                           "HTTP/1.1 200 OK with Lock-Token", r.show())
        return r, token

    async def unlock(self, path: str, token: str) -> Response:
        return await self.request("UNLOCK", path, [("Lock-Token", f"<{token}>")])

    async def exists(self, path: str) -> bool | None:
        """Whether PROPFIND Depth 0 finds the path (207: True, 404: False, anything else: None)."""
        r, _ = await self.propfind(path, ["{DAV:}resourcetype"])
        return True if r.status == 207 else False if r.status == 404 else None

    async def members(self, path: str) -> list[str] | None:
        """The decoded paths PROPFIND Depth 1 lists below `path` (without `path` itself); None if no 207."""
        r, ms = await self.propfind(path, ["{DAV:}resourcetype"], depth="1")
        if ms is None:
            return None
        me = path.rstrip("/")
        return sorted(p for p in ms.paths() if p.rstrip("/") != urlsplit_path(me))

    async def etag(self, path: str) -> str | None:
        r = await self.request("HEAD", path)
        return r.header("ETag")


def urlsplit_path(path: str) -> str:
    from urllib.parse import unquote

    return unquote(urlsplit(path).path).rstrip("/")


def multistatus(r: Response) -> Multistatus | None:
    if r.status != 207:
        return None
    try:
        return parse_multistatus(r.body)
    except XmlError:
        return None


@contextlib.asynccontextmanager
async def scratch(ctx, suffix: str = ""):
    """A scratch collection with an authenticated client; deleted again afterwards."""
    client = await ctx.http()
    async with davscratch.collection(ctx, client, suffix) as col:
        yield Dav(ctx, client, col)


def conditions(r: Response) -> list[str]:
    """DAV:error condition names of an error response body (local names, e.g. "lock-token-submitted")."""
    return [c.split("}", 1)[-1] for c in error_conditions(r.body)]


RFC1123_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                        r"\d{4} \d{2}:\d{2}:\d{2} GMT$")
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$", re.I)
TIMEOUT_RE = re.compile(r"^(?:Second-\d{1,10}|Infinite)$", re.I)

__all__ = ["Dav", "scratch", "multistatus", "conditions", "XML", "WP", "LOCKING", "RFC1123_RE", "RFC3339_RE",
           "TIMEOUT_RE", "lock_token", "parse_multistatus"]


# --- shared by the probe files ------------------------------------------------------------------------------

async def tree(d: Dav) -> dict[str, str]:
    """Setup: a small tree below the scratch collection, and the paths of its parts by role:

        a.txt            top   (a resource)
        sub/             sub   (a collection)
        sub/b.txt        child
        sub/deep/        deep
        sub/deep/c.txt   leaf
    """
    paths = {"top": d.url("a.txt"), "sub": d.url("sub/"), "child": d.url("sub", "b.txt"),
             "deep": d.url("sub", "deep/"), "leaf": d.url("sub", "deep", "c.txt")}
    await d.put(paths["top"], b"top\r\n")
    await d.mkcol(paths["sub"])
    await d.put(paths["child"], b"child\r\n")
    await d.mkcol(paths["deep"])
    await d.put(paths["leaf"], b"leaf\r\n")
    return paths


def same_path(a: str, b: str) -> bool:
    """Two hrefs or paths name the same resource (decoded, a trailing slash ignored)."""
    return urlsplit_path(a) == urlsplit_path(b)


def found(ms: Multistatus | None, path: str):
    """The DAV:response of a multistatus for `path`, or None (also when there was no multistatus)."""
    return ms.find(path) if ms else None


def first(ms: Multistatus | None):
    """The first DAV:response of a multistatus (a request on one resource has one), or None."""
    return ms.responses[0] if ms and ms.responses else None


def show(*responses: Response) -> str:
    return "\n\n".join(r.show() for r in responses)
