"""HTTP/WebDAV as the script executor sees it: one unit is one response.

    unit head   the status line (`HTTP/1.1 207 Multi-Status`); `S: HTTP/1.1 201|204 ...` matches the code
                word after the version
    unit body   the header lines as received (`Location: http://...`, `DAV: 1,2`), then the body's lines
                (`has:` and `lacks:` look through both)

Scripts write whole requests, one line per `C:` step: the request line, `Host: ${host}`, `C= ${auth}` (the
Authorization line of the target's first account with its CRLF, or nothing when the target has no account),
other header lines, an empty `C:` line, and a body whose octets the `Content-Length` line counts. The
dialect follows what a script sends (request line, header section, Content-Length or chunked body), so it
knows which method each response answers: a response to HEAD has no body, 204 and 304 never do.

Variables: `${col}` is this check's scratch collection (created with MKCOL before the script starts and
deleted afterwards, whatever the verdict, see conformance/davscratch.py), `${base}` the endpoint's path,
`${host}` the Host field value, `${auth}` as above, `${name}` the scratch collection's last segment.
Lock tokens that LOCK responses in a script hand out are UNLOCKed by the cleanup.
"""
from __future__ import annotations

import contextlib
import re

from . import Unit
from .http import Response, basic_credentials, host_field, lock_token, read_response

MAX_BODY_LINES = 400


def response_unit(response: Response) -> Unit:
    body = [f"{k}: {v}" for k, v in response.headers]
    body += response.body.decode("utf-8", "backslashreplace").splitlines()[:MAX_BODY_LINES]
    return Unit(head=response.status_line, body=body, shown=response.show(80))


class RequestTracker:
    """Follows the octets a script sends and yields (method, target) for each request it completes."""

    def __init__(self) -> None:
        self.buf = b""
        self.state = "line"
        self.remaining = 0
        self.current: tuple[str, str] | None = None
        self.fields: list[bytes] = []
        self.done: list[tuple[str, str]] = []

    def feed(self, data: bytes) -> None:
        self.buf += data
        while self._step():
            pass

    def _line(self) -> bytes | None:
        i = self.buf.find(b"\n")
        if i < 0:
            return None
        line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
        return line.rstrip(b"\r\n")

    def _step(self) -> bool:
        if self.state in ("body", "chunk-data"):
            if not self.buf:
                return False
            take = min(self.remaining, len(self.buf))
            self.buf, self.remaining = self.buf[take:], self.remaining - take
            if self.remaining == 0:
                if self.state == "body":
                    self._finish()
                else:
                    self.state = "chunk-size"
            return True
        line = self._line()
        if line is None:
            return False
        if self.state == "line":
            if line.strip():
                words = line.decode("latin-1").split()
                self.current = (words[0].upper(), words[1] if len(words) > 1 else "")
                self.fields = []
                self.state = "fields"
        elif self.state == "fields":
            if line:
                self.fields.append(line)
                return True
            self._body()
        elif self.state == "chunk-size":
            m = re.match(rb"^\s*([0-9A-Fa-f]+)", line)
            size = int(m.group(1), 16) if m else 0
            if size == 0:
                self.state = "trailer"
            else:
                self.state, self.remaining = "chunk-data", size + 2  # the data and its CRLF
        elif self.state == "trailer" and not line:
            self._finish()
        return True

    def _body(self) -> None:
        length, chunked = 0, False
        for f in self.fields:
            name, _, value = f.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value.strip())
            elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            self.state = "chunk-size"
        elif length:
            self.state, self.remaining = "body", length
        else:
            self._finish()

    def _finish(self) -> None:
        if self.current is not None:
            self.done.append(self.current)
        self.current = None
        self.state = "line"

    def next_answered(self) -> tuple[str, str]:
        """The request the next response answers: the oldest complete one, else the one being sent."""
        if self.done:
            return self.done.pop(0)
        return self.current or ("GET", "")


class ScriptClient:
    def __init__(self, wire, ctx) -> None:
        self.wire = wire
        self.ctx = ctx
        self.tracker = RequestTracker()


class HttpDialect:
    protocol = "webdav"

    async def open(self, ctx, label: str) -> ScriptClient:
        return ScriptClient(await ctx.connect("webdav", label), ctx)

    async def read_unit(self, client: ScriptClient, timeout: float | None = None) -> Unit:
        method, target = client.tracker.next_answered()
        response = await read_response(client.wire, method, timeout)
        if method == "LOCK" and response.status in (200, 201) and (token := lock_token(response)):
            client.ctx.__dict__.setdefault("http_locks", []).append((target, token))
        return response_unit(response)

    async def send(self, client: ScriptClient, data: bytes) -> None:
        if not data:
            return  # `C= ${auth}` without an account: nothing to send
        client.tracker.feed(data)
        await client.wire.send(data)

    async def starttls(self, client: ScriptClient, ctx) -> None:
        raise ValueError("HTTP has no STARTTLS; give an https:// endpoint for TLS")

    def wire(self, client: ScriptClient):
        return client.wire

    @contextlib.asynccontextmanager
    async def scope(self, ctx, header: dict[str, str]):
        """Around a whole check: the scratch collection (MKCOL before, DELETE after) and the variables."""
        from .. import davscratch

        ep = ctx.endpoint("webdav")
        variables = {"base": davscratch.base(ctx), "col": davscratch.path(ctx), "name": davscratch.name(ctx),
                     "host": host_field(ep.host, ep.port, ep.implicit_tls), "auth": ""}
        if ctx.target.accounts:
            account = ctx.target.accounts[0]
            variables["auth"] = f"Authorization: {basic_credentials(account.user, account.password)}\r\n"
        async with davscratch.collection(ctx, await ctx.http(label="setup")):
            yield variables
