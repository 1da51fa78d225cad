"""The HTTP virtual server: h11 frames HTTP/1.1 (persistent connections, chunked bodies, Expect:
100-continue, bad requests), this adapter authenticates (Basic, accounts from the directory), bounds request
bodies (413), and hands each request to simulator/protocols/dav, whose handlers reach the store only through
this server's ExIPC channel. Nothing here parses HTTP or XML by hand.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import time
from email.utils import formatdate
from urllib.parse import urlsplit

import h11

from ...exipc import StoreCallError
from ...protocols.dav import methods as M
from ...protocols.dav.errors import REASONS, DavError
from ...protocols.dav.locks import LockManager
from ...protocols.smtp import Envelope
from ..base import IdleTimeout, Session, VirtualServerHost

SERVER = "wireproof-simulator (WebDAV; Exchange 2003 style)"
HEADER_BLOCK = 65536  # the largest request head h11 buffers (431 beyond it)
LINGER = 2.0  # seconds a refused request's remaining body is read (and dropped) before the connection closes
LINGER_OCTETS = 64 << 20


class _Close(Exception):
    """The connection ends after what was sent."""


class HttpSession(Session):
    def __init__(self, host: HttpHost, link) -> None:
        super().__init__(host, link)
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max(HEADER_BLOCK,
                                                                             host.config.limits.line_length))
        self.requests = 0

    # --- the connection -------------------------------------------------------------------------------

    async def run(self) -> None:
        stopping = False
        try:
            while not self.done:
                event = await self._next()
                if event is None:
                    break
                if isinstance(event, h11.Request):
                    await self._serve(event)
                    self._next_cycle()
        except IdleTimeout:
            await self._timed_out()
        except h11.RemoteProtocolError as exc:
            await self._bad_request(exc)
        except _Close:
            pass
        except asyncio.CancelledError:
            stopping = True  # the virtual server is stopping: no lingering
            raise
        finally:
            if not stopping and self.conn.their_state in (h11.SEND_BODY, h11.ERROR):
                await self._linger()
            await self.cleanup()
            self.link.close()

    async def _timed_out(self) -> None:
        """Idle between requests: close without a word. Idle in the middle of one (a head or body half
        sent): 408 Request Timeout first (RFC 9110 15.5.9)."""
        pending, _ = self.conn.trailing_data
        midway = self.conn.their_state is h11.SEND_BODY or (self.conn.their_state is h11.IDLE and pending)
        if midway and self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                await self._send(_plain(408, "the request did not arrive in time"), b"GET", close=True)
            except h11.LocalProtocolError:
                pass

    async def _linger(self) -> None:
        """Closing with the client's request (body) still arriving: send FIN first and read what comes for a
        moment, so the kernel does not answer the unread bytes with a reset that destroys our response."""
        transport = self.link.transport
        if self.link.closed or transport is None:
            return
        try:
            if transport.can_write_eof():
                transport.write_eof()
            loop = asyncio.get_running_loop()
            deadline, discarded = loop.time() + LINGER, 0
            while discarded < LINGER_OCTETS and (left := deadline - loop.time()) > 0:
                data = await self.link.receive(left)
                if data is None:
                    return
                discarded += len(data)
        except (IdleTimeout, OSError, RuntimeError):
            return

    async def _next(self):
        """The next h11 event (reading from the link as h11 asks); None when the client is gone."""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                data = await self.link.receive(self.host.config.limits.idle_timeout)
                self.conn.receive_data(data or b"")
                continue
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None
            return event

    def _next_cycle(self) -> None:
        if self.conn.our_state is h11.MUST_CLOSE or self.conn.their_state is not h11.DONE:
            raise _Close
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()

    async def _bad_request(self, exc: h11.RemoteProtocolError) -> None:
        """A malformed request: the status h11 suggests (400, 431, 505...), then the connection closes."""
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            status = exc.error_status_hint or 400
            text = f"{status} {REASONS.get(status, 'Bad Request')}: {exc}\n".encode("utf-8", "replace")
            try:
                await self._send(M.Response(status, [("Content-Type", "text/plain; charset=utf-8")], text),
                                 b"GET", close=True)
            except h11.LocalProtocolError:
                pass

    async def _send(self, response: M.Response, method: bytes, close: bool = False) -> None:
        status = response.status
        headers = [(k, v) for k, v in response.headers
                   if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server")]
        headers += [("Date", formatdate(usegmt=True)), ("Server", SERVER)]
        bodiless = status in (204, 304) or status < 200
        if not bodiless:
            headers.append(("Content-Length", str(len(response.body))))
        if close:
            headers.append(("Connection", "close"))
        out = self.conn.send(h11.Response(status_code=status, headers=headers,
                                          reason=REASONS.get(status, "").encode()))
        if not bodiless and method != b"HEAD" and response.body:
            out += self.conn.send(h11.Data(data=response.body))
        out += self.conn.send(h11.EndOfMessage())
        self.link.write(out)
        await self.link.drain()

    # --- one request ------------------------------------------------------------------------------------

    async def _serve(self, event: h11.Request) -> None:
        self.requests += 1
        headers: dict[str, str] = {}
        for name, value in event.headers:
            key = name.decode("ascii").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        method = event.method.decode("ascii", "replace").upper()
        raw_target = event.target.decode("latin-1")
        tls = self.host.config.tls == "implicit"
        scheme = "https" if tls else "http"
        authority = headers.get("host") or f"{self.host.config.bind}:{self.host.port}"
        if raw_target.lower().startswith(("http://", "https://")):
            authority = urlsplit(raw_target).netloc or authority  # RFC 9112 3.2.2: absolute-form wins over Host
        limit = self.host.config.limits.message_size
        expecting_body = self.conn.their_state is h11.SEND_BODY

        refusal = self._refusal(headers, limit)
        user = None
        if refusal is None:
            user, refusal = self._authenticate(headers, tls)
        if refusal is not None:
            if expecting_body and (self.conn.they_are_waiting_for_100_continue or refusal.status == 413):
                await self._send(refusal, event.method, close=True)  # the body is never asked for
                raise _Close
            if expecting_body and await self._read_body(limit) is None:
                await self._send(_plain(413, "the request body is larger than this server takes"), event.method,
                                 close=True)
                raise _Close
            await self._send(refusal, event.method)
            return

        body = b""
        if expecting_body:
            if self.conn.they_are_waiting_for_100_continue:
                self.link.write(self.conn.send(h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")))
            body = await self._read_body(limit)
            if body is None:
                await self._send(_plain(413, "the request body is larger than this server takes"), event.method,
                                 close=True)
                raise _Close
        request = M.Request(method, raw_target, headers, body, authority, scheme)
        try:
            response = await M.handle(self._dav(user), request)
        except Exception as exc:  # noqa: BLE001 - a bug in a handler: say so, keep the connection usable
            self.host.services.events.add("server", "error", f"{self.host.config.id}: {method} {raw_target[:200]}: "
                                                              f"{type(exc).__name__}: {exc}")
            response = _plain(500, f"the server failed: {type(exc).__name__}")
        await self._send(response, event.method)

    def _refusal(self, headers: dict[str, str], limit: int) -> M.Response | None:
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            return _plain(413, f"request bodies are limited to {limit} octets here")
        return None

    async def _read_body(self, limit: int) -> bytes | None:
        """The request body, or None when it grows beyond `limit`."""
        parts: list[bytes] = []
        size = 0
        while True:
            event = await self._next()
            if event is None:
                raise _Close
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > limit:
                    return None
                parts.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(parts)

    def _authenticate(self, headers: dict[str, str], tls: bool):
        """(user, None) for valid Basic credentials, else (None, the 401/403 response)."""
        config = self.host.config
        realm = self.host.services.hostname
        challenge = [("WWW-Authenticate", f'Basic realm="{realm}", charset="UTF-8"')] if "BASIC" in \
            config.auth_methods else []
        unauthorized = _plain(401, "this server needs a user name and password (Basic)", challenge)
        value = headers.get("authorization")
        if value is None:
            return None, unauthorized
        scheme, _, credentials = value.strip().partition(" ")
        if scheme.lower() != "basic" or "BASIC" not in config.auth_methods:
            return None, unauthorized
        if not tls and not config.plaintext_auth:
            return None, _plain(403, "Basic authentication needs TLS on this server (IIS 403.4)")
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, unauthorized
        name, sep, password = decoded.partition(":")
        if not sep:
            return None, unauthorized
        name = name.rpartition("\\")[2]  # DOMAIN\user, as Windows clients send it
        user = self.host.services.directory.authenticate(name, password)
        if user is None:
            return None, unauthorized
        return user, None

    def _dav(self, user) -> M.Dav:
        services = self.host.services
        channel = self.host.channel
        hub = services.hub

        async def store(op: str, **args):
            try:
                return await channel.call(op, **args)
            except StoreCallError as exc:
                raise M.StoreRefused(str(exc)) from None

        address = user.addresses[0] if user.addresses else ""

        async def submit(recipients: list[str], body: bytes) -> list[str]:
            refused = []
            for rcpt in recipients:
                refusal = services.transport.check_recipient(rcpt, authenticated=True)
                if refusal is not None:
                    refused.append(f"{rcpt}: {refusal.code} {refusal.enhanced} {refusal.text}")
            if refused:
                return refused
            envelope = Envelope(helo=services.hostname, sender=address, recipients=[(r, {}) for r in recipients],
                                authenticated_as=user.alias, tls=self.host.config.tls == "implicit", esmtp=True)
            await services.transport.deliver(channel, envelope, body, self.link.peer[0] if self.link.peer else "")
            return []

        return M.Dav(store=store, heap=services.heap, locks=self.host.locks, user=user.alias, address=address,
                     changed=hub.changed if hub is not None else (lambda url: None),
                     renamed=hub.renamed if hub is not None else (lambda old, new: None),
                     submit=submit)


def _plain(status: int, text: str, headers: list[tuple[str, str]] | None = None) -> M.Response:
    return M.error_response(DavError(status, text, headers=headers)) if status >= 400 else \
        M.Response(status, [("Content-Type", "text/plain; charset=utf-8")], text.encode())


class HttpHost(VirtualServerHost):
    session_class = HttpSession
    busy_message = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 27\r\n"
                    b"Connection: close\r\n\r\nToo many connections here.\n")

    def __init__(self, config, services, channel) -> None:
        super().__init__(config, services, channel)
        # One lock table per simulated server (locks belong to the store's resources, as in Exchange), shared
        # by all its HTTP virtual servers and kept while one of them is stopped or rebound; held in memory.
        self.locks = services.__dict__.setdefault("dav_locks", LockManager(time.time))
