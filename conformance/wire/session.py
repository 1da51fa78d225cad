"""A raw byte-level client connection that records everything it sends and receives.

The conformance client never uses a protocol library: it writes exactly the octets a check asks for and
reads exactly what the server sent, so that a check can see bare CRs, missing line ends, early replies and
anything else a library would smooth over. Every read is bounded by a timeout; a silent or slow server
ends a check as `error`, never as a hang.
"""
from __future__ import annotations

import asyncio
import os
import ssl

from .transcript import Transcript

READ_LIMIT = 1024 * 1024  # longest line we accept from a server before calling it broken


class WireError(Exception):
    """The connection did not behave well enough to decide anything (maps to verdict `error`)."""


class ConnectFailed(WireError):
    pass


class ReadTimeout(WireError):
    pass


class ConnectionClosed(WireError):
    def __init__(self, message: str, partial: bytes = b"") -> None:
        super().__init__(message)
        self.partial = partial


class TlsFailed(WireError):
    pass


def client_tls_context(verify: bool = False, cafile: str | None = None) -> ssl.SSLContext:
    """TLS for probing servers: by default no certificate verification (test servers are self-signed);
    with `verify` or a `cafile`, the chain and host name are checked."""
    ctx = ssl.create_default_context(cafile=cafile)
    if not (verify or cafile):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, transcript: Transcript,
                 label: str, peer: str, read_timeout: float) -> None:
        self._reader = reader
        self._writer = writer
        self.transcript = transcript
        self.label = label
        self.peer = peer
        self.read_timeout = read_timeout
        self.tls = writer.get_extra_info("ssl_object") is not None
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int, *, transcript: Transcript, label: str = "a",
                   tls: ssl.SSLContext | None = None, server_hostname: str | None = None,
                   connect_timeout: float = 5.0, read_timeout: float = 5.0) -> "Session":
        peer = f"{host}:{port}"
        try:
            async with asyncio.timeout(connect_timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=(server_hostname or host) if tls else None,
                    limit=READ_LIMIT)
        except TimeoutError:
            transcript.note(label, f"connect to {peer} timed out after {connect_timeout:g} s")
            raise ConnectFailed(f"connect to {peer} timed out after {connect_timeout:g} s") from None
        except ssl.SSLError as exc:
            transcript.note(label, f"TLS handshake with {peer} failed: {exc}")
            raise TlsFailed(f"TLS handshake with {peer} failed: {exc}") from None
        except OSError as exc:
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            transcript.note(label, f"connect to {peer} failed: {why}")
            raise ConnectFailed(f"connect to {peer} failed: {why}") from None
        session = cls(reader, writer, transcript=transcript, label=label, peer=peer, read_timeout=read_timeout)
        transcript.note(label, f"connected to {peer}" + (f" with TLS ({session.tls_summary()})" if tls else ""))
        return session

    def tls_summary(self) -> str:
        obj = self._writer.get_extra_info("ssl_object")
        if obj is None:
            return "no TLS"
        cipher = obj.cipher()
        return f"{obj.version()} {cipher[0] if cipher else ''}".strip()

    # --- writing -----------------------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionClosed("cannot send: the connection is already closed")
        self.transcript.record(self.label, "c", data)
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            self.transcript.note(self.label, f"send failed: {exc}")
            self.closed = True
            raise ConnectionClosed(f"connection lost while sending: {exc}") from None

    # --- reading -----------------------------------------------------------------------------------

    def _timeout(self, timeout: float | None) -> float:
        return self.read_timeout if timeout is None else timeout

    async def _bounded(self, coro, timeout: float | None, what: str):
        limit = self._timeout(timeout)
        try:
            async with asyncio.timeout(limit):
                return await coro
        except TimeoutError:
            self.transcript.note(self.label, f"no {what} within {limit:g} s")
            raise ReadTimeout(f"server sent no {what} within {limit:g} s") from None
        except (ConnectionError, OSError) as exc:
            self.closed = True
            self.transcript.note(self.label, f"connection lost: {exc}")
            raise ConnectionClosed(f"connection lost while reading {what}: {exc}") from None

    async def read_line(self, timeout: float | None = None) -> bytes:
        """One line up to and including LF (CR, if any, stays in the line: callers judge line ends)."""
        try:
            line = await self._bounded(self._reader.readuntil(b"\n"), timeout, "complete line")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                self.transcript.record(self.label, "s", exc.partial)
            self._eof()
            raise ConnectionClosed("server closed the connection" + (" in the middle of a line" if exc.partial
                                                                     else ""), exc.partial) from None
        except asyncio.LimitOverrunError:
            raise WireError(f"server sent a line longer than {READ_LIMIT} octets") from None
        self.transcript.record(self.label, "s", line)
        return line

    async def read_exactly(self, n: int, timeout: float | None = None) -> bytes:
        try:
            data = await self._bounded(self._reader.readexactly(n), timeout, f"{n} octets")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                self.transcript.record(self.label, "s", exc.partial)
            self._eof()
            raise ConnectionClosed(f"server closed the connection after {len(exc.partial)} of {n} octets",
                                   exc.partial) from None
        self.transcript.record(self.label, "s", data)
        return data

    async def read_available(self, wait: float) -> bytes:
        """Whatever arrives within `wait` seconds (b"" if nothing): for checks that the server stays quiet."""
        try:
            async with asyncio.timeout(wait):
                data = await self._reader.read(65536)
        except TimeoutError:
            return b""
        except (ConnectionError, OSError) as exc:
            self.closed = True
            raise ConnectionClosed(f"connection lost: {exc}") from None
        if data:
            self.transcript.record(self.label, "s", data)
        else:
            self._eof()
        return data

    async def wait_closed(self, timeout: float | None = None) -> bytes:
        """Read until the server closes; returns what it sent meanwhile. ReadTimeout if it stays open."""
        chunks = []

        async def drain() -> None:
            while True:
                data = await self._reader.read(65536)
                if not data:
                    return
                self.transcript.record(self.label, "s", data)
                chunks.append(data)

        try:
            await self._bounded(drain(), timeout, "close of the connection")
        except ConnectionClosed:
            pass  # a reset counts as closed
        self._eof()
        return b"".join(chunks)

    def at_eof(self) -> bool:
        return self._reader.at_eof()

    def _eof(self) -> None:
        if not self.closed:
            self.transcript.note(self.label, "server closed the connection")
        self.closed = True

    # --- TLS and teardown ----------------------------------------------------------------------------

    def buffered(self) -> int:
        """Octets received but not yet read (plaintext that would be lost across a TLS upgrade)."""
        return len(getattr(self._reader, "_buffer", b""))

    async def start_tls(self, ctx: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> None:
        leftover = self.buffered()
        if leftover:
            self.transcript.note(self.label, f"{leftover} plaintext octets were pending when TLS started")
        try:
            async with asyncio.timeout(self._timeout(timeout)):
                await self._writer.start_tls(ctx, server_hostname=server_hostname or self.peer.rsplit(":", 1)[0])
        except TimeoutError:
            self.transcript.note(self.label, "TLS handshake timed out")
            raise TlsFailed("TLS handshake timed out") from None
        except (ssl.SSLError, ConnectionError, OSError) as exc:
            self.transcript.note(self.label, f"TLS handshake failed: {exc}")
            self.closed = True
            raise TlsFailed(f"TLS handshake failed: {exc}") from None
        self.tls = True
        self.transcript.note(self.label, f"TLS established ({self.tls_summary()})")

    async def close(self) -> None:
        if self._writer.is_closing():
            return
        self._writer.close()
        try:
            async with asyncio.timeout(1.0):
                await self._writer.wait_closed()
        except (TimeoutError, ConnectionError, OSError, ssl.SSLError):
            pass  # we are leaving; how the far end reacts to the close is not what any check observes
        if not self.closed:
            self.transcript.note(self.label, "client closed the connection")
        self.closed = True
