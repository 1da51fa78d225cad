"""Small in-process TCP servers for testing the harness on the wire.

Every fake listens on 127.0.0.1 with a port the OS picks, and runs its own asyncio event loop on a
background thread, so that the code under test (which may call `asyncio.run` itself, as the CLI does)
talks to it over a real socket. Use them as context managers:

    with FakeServer(SmtpFake({"NOOP": "500 no"})) as server:
        target = server.target(rcpt="alice@fake.example")

Handlers are async callables `(reader, writer)`:

    SmtpFake        a scriptable SMTP server: replies given per command verb
    Silent          accepts and never sends a byte
    Raw             sends fixed octets on connect (optionally one byte at a time), then closes or holds
"""
from __future__ import annotations

import asyncio
import socket
import threading
from typing import Awaitable, Callable, Union

from conformance.target import Target, from_urls

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class FakeServer:
    """A TCP server on 127.0.0.1:0 whose connections are served by `handler` on a private event loop."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.host = "127.0.0.1"
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-server", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> "FakeServer":
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, self.host, 0), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await self.handler(reader, writer)
        except (asyncio.CancelledError, ConnectionError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    # --- addressing ---------------------------------------------------------------------------------

    def url(self, scheme: str = "smtp", **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{scheme}://{self.host}:{self.port}" + (f"?{query}" if query else "")

    def target(self, **params: str) -> Target:
        """The harness's view of this server: a Target built from its URL (params become ?k=v)."""
        return from_urls([self.url(**params)])


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- handlers ----------------------------------------------------------------------------------------

CLOSE = object()  # reply value: close the connection instead of answering
NO_REPLY = object()  # reply value: say nothing and wait for the next command

Reply = Union[str, bytes, object, Callable[[bytes], Union[str, bytes, object]], list]

DEFAULT_REPLIES: dict[str, Reply] = {
    "EHLO": "250-fake.example greets you\n250 8BITMIME",
    "HELO": "250 fake.example",
    "MAIL": "250 2.1.0 sender ok",
    "RCPT": "250 2.1.5 recipient ok",
    "DATA": "354 end with <CRLF>.<CRLF>",
    "DATA-END": "250 2.0.0 queued",
    "BDAT": "250 2.0.0 chunk received",
    "RSET": "250 2.0.0 reset",
    "NOOP": "250 2.0.0 ok",
    "VRFY": "252 2.5.2 cannot verify",
    "HELP": "214 2.0.0 see RFC 5321",
    "QUIT": "221 2.0.0 bye",
    "*": "500 5.5.1 unknown command",
}


def wire_bytes(reply: str | bytes) -> bytes:
    """A reply given as text ("250-a\\n250 b") becomes CRLF-ended lines; bytes go out verbatim."""
    if isinstance(reply, bytes):
        return reply
    return b"".join(line.encode("utf-8") + b"\r\n" for line in reply.split("\n"))


class SmtpFake:
    """A scriptable SMTP server.

    `replies` maps a command verb (upper case; "*" for any other, "DATA-END" for the reply after the
    message) to what the server answers:
        str          reply lines separated by "\\n", each sent with CRLF
        bytes        sent exactly as given
        list         one item per occurrence of the verb; the last repeats
        callable     called with the command line (bytes), returns one of the above
        CLOSE        close the connection without a reply
        NO_REPLY     send nothing
    After 221 to QUIT the server closes, unless `close_after_quit` is False.
    Every command line received is kept in `commands` (bytes, CRLF stripped).
    """

    def __init__(self, replies: dict[str, Reply] | None = None, *,
                 greeting: str | bytes | None = "220 fake.example ESMTP wireproof-fake",
                 close_after_quit: bool = True) -> None:
        self.replies = DEFAULT_REPLIES | {k.upper(): v for k, v in (replies or {}).items()}
        self.greeting = greeting
        self.close_after_quit = close_after_quit
        self.commands: list[bytes] = []
        self.messages: list[bytes] = []
        self._seen: dict[str, int] = {}

    def _reply_for(self, verb: str, line: bytes):
        reply = self.replies.get(verb, self.replies["*"])
        if isinstance(reply, list):
            n = self._seen.get(verb, 0)
            self._seen[verb] = n + 1
            reply = reply[min(n, len(reply) - 1)]
        if callable(reply):
            reply = reply(line)
        return reply

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.greeting is None:
            await reader.read()  # say nothing, ever
            return
        writer.write(wire_bytes(self.greeting))
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                return
            command = line.rstrip(b"\r\n")
            self.commands.append(command)
            words = command.split(None, 1)
            verb = words[0].decode("ascii", "replace").upper() if words else ""
            reply = self._reply_for(verb, command)
            if reply is CLOSE:
                return
            if reply is not NO_REPLY:
                writer.write(wire_bytes(reply))
                await writer.drain()
            if verb == "DATA" and isinstance(reply, (str, bytes)) and wire_bytes(reply).startswith(b"354"):
                body = bytearray()
                while True:
                    chunk = await reader.readline()
                    if not chunk:
                        return
                    if chunk == b".\r\n":
                        break
                    body += chunk
                self.messages.append(bytes(body))
                end = self._reply_for("DATA-END", bytes(body))
                if end is CLOSE:
                    return
                writer.write(wire_bytes(end))
                await writer.drain()
            elif verb == "BDAT" and len(words) > 1 and words[1].split()[0].isdigit():
                self.messages.append(await reader.readexactly(int(words[1].split()[0])))
            elif verb == "QUIT" and self.close_after_quit:
                return


class Silent:
    """Accepts the connection and never sends a byte; reads (and drops) whatever arrives until EOF."""

    def __init__(self) -> None:
        self.received = bytearray()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            self.received += data


class Raw:
    """Sends `data` as soon as a client connects, then closes (`then="close"`) or holds the connection
    open reading until EOF (`then="hold"`). With `byte_at_a_time`, every octet goes out in its own write,
    with a pause, so the client receives it in separate segments."""

    def __init__(self, data: bytes, *, then: str = "hold", byte_at_a_time: bool = False) -> None:
        assert then in ("close", "hold")
        self.data = data
        self.then = then
        self.byte_at_a_time = byte_at_a_time

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.byte_at_a_time:
            for i in range(len(self.data)):
                writer.write(self.data[i:i + 1])
                await writer.drain()
                await asyncio.sleep(0.002)
        else:
            writer.write(self.data)
            await writer.drain()
        if self.then == "close":
            return
        while await reader.read(65536):
            pass


def half_greeting() -> Raw:
    """A server that closes after sending half of its greeting line."""
    return Raw(b"220 fake.exa", then="close")
