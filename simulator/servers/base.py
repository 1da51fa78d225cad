"""The thin asyncio side of a virtual server: a listening socket, connections, sessions.

Each connection is an asyncio Protocol (`Link`) feeding received octets to a session task; the session
hands them to its protocol's sans-I/O machine and carries out the machine's events. Protocol objects, not
streams, because STARTTLS must not let plaintext that arrived before the handshake pass as if it came
through TLS: whatever the link holds when the upgrade starts is thrown away.
"""
from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any


class IdleTimeout(Exception):
    pass


class Link(asyncio.Protocol):
    """One client connection: received chunks wait in a queue for the session task."""

    def __init__(self, host: "VirtualServerHost") -> None:
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.peer = ("", 0)
        self._can_write = asyncio.Event()
        self._can_write.set()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peer = transport.get_extra_info("peername") or ("", 0)
        self.host.accept(self)

    def data_received(self, data: bytes) -> None:
        self.inbox.put_nowait(data)

    def eof_received(self) -> bool:
        self.inbox.put_nowait(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._can_write.set()
        self.inbox.put_nowait(None)

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    async def receive(self, idle: float) -> bytes | None:
        try:
            return await asyncio.wait_for(self.inbox.get(), idle)
        except TimeoutError:
            raise IdleTimeout from None

    def write(self, data: bytes) -> None:
        if data and not self.closed:
            self.transport.write(data)

    async def drain(self) -> None:
        await self._can_write.wait()

    async def start_tls(self, context: ssl.SSLContext) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()  # plaintext received before the handshake is never acted upon
        loop = asyncio.get_running_loop()
        self.transport = await loop.start_tls(self.transport, self, context, server_side=True)

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.transport.close()
        self.closed = True


class Session:
    """Drives one protocol machine on one link. Subclasses build the machine and handle its events."""

    machine: Any

    def __init__(self, host: "VirtualServerHost", link: Link) -> None:
        self.host = host
        self.link = link
        self.done = False

    async def run(self) -> None:
        try:
            await self.flush()
            while not self.done:
                data = await self.link.receive(self.host.config.limits.idle_timeout)
                if data is None:
                    break
                self.machine.receive_data(data)
                await self.pump()
        except IdleTimeout:
            self.link.write(self.idle_message())
        except asyncio.CancelledError:
            self.link.write(self.shutdown_message())  # the virtual server is stopping
            raise
        finally:
            await self.cleanup()
            self.link.close()

    async def pump(self) -> None:
        while not self.done and (event := self.machine.next_event()) is not None:
            await self.handle(event)
        await self.flush()

    async def flush(self) -> None:
        self.link.write(self.machine.data_to_send())
        await self.link.drain()

    async def upgrade(self) -> None:
        """The reply to STARTTLS/STLS has gone out in plaintext; now the handshake."""
        await self.flush()
        await self.link.start_tls(self.host.services.tls_server)
        self.machine.tls_established()

    def finish(self) -> None:
        self.done = True

    # --- for subclasses -------------------------------------------------------------------------------------

    async def handle(self, event: object) -> None:
        raise TypeError(f"{type(self).__name__} does not handle {type(event).__name__}")

    async def cleanup(self) -> None:
        """Called once when the session ends, however it ends."""

    def idle_message(self) -> bytes:
        return b""

    def shutdown_message(self) -> bytes:
        return b""


@dataclass
class Services:
    """What every virtual server shares: the store worker, the transport, the directory, TLS material."""

    worker: Any  # exipc.StoreWorker
    heap: Any  # store.BlobHeap shared by the protocol servers and the store
    transport: Any  # transport.Transport
    directory: Any  # directory.Directory
    tls_server: ssl.SSLContext
    events: Any  # metabase.EventLog
    hostname: str
    hub: Any = None  # servers.imap.view.MailboxHub: who has which mailbox selected


class VirtualServerHost:
    """One virtual server: listens on its binding, runs its sessions, owns its ExIPC channel."""

    session_class: type[Session] = Session
    busy_message = b""

    def __init__(self, config: Any, services: Services, channel: Any) -> None:
        self.config = config
        self.services = services
        self.channel = channel
        self.sessions: dict[Link, asyncio.Task] = {}
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def endpoint(self) -> tuple[str, int]:
        return self.config.bind, self.port

    @property
    def url(self) -> str:
        scheme = self.config.protocol + ("s" if self.config.tls == "implicit" else "")
        host = f"[{self.config.bind}]" if ":" in self.config.bind else self.config.bind
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        ssl_ctx = self.services.tls_server if self.config.tls == "implicit" else None
        self._server = await loop.create_server(lambda: Link(self), self.config.bind, self.config.port,
                                                ssl=ssl_ctx, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        self.services.events.add("server", "listening", f"{self.config.id} ({self.config.name}) on {self.url}")

    def accept(self, link: Link) -> None:
        if len(self.sessions) >= self.config.limits.connections:
            link.write(self.busy_message)  # over the connection limit: say so in the protocol, then close
            link.close()
            return
        task = asyncio.get_running_loop().create_task(self._run(link))
        self.sessions[link] = task

    async def _run(self, link: Link) -> None:
        try:
            await self.session_class(self, link).run()
        finally:
            self.sessions.pop(link, None)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self.sessions.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        self.services.events.add("server", "stopped", f"{self.config.id} ({self.config.name})")
