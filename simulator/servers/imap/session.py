"""The IMAP virtual server: the IMAP4 machine on a socket; mailbox and message commands run against the
store through ExIPC (mailboxes.py, messages.py), and every selected mailbox is a `View` kept in step
with the others by the hub."""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from ...exipc import StoreCallError
from ...protocols.imap import session as imap
from ...protocols.imap.tokens import Token
from ..base import Session, VirtualServerHost
from .mailboxes import MailboxCommands
from .messages import MessageCommands
from .names import Namespaces
from .view import MailboxHub, Rows, View, catch_up

# Commands after which an EXPUNGE may not be sent (RFC 3501 7.4.1); their UID forms are exempt.
NO_EXPUNGE_AFTER = {"FETCH", "STORE", "SEARCH", "SORT", "THREAD"}


class CommandError(Exception):
    """End the command with NO or BAD; `code` is the response code (TRYCREATE, NONEXISTENT, ...)."""

    def __init__(self, status: str, text: str, code: str | None = None) -> None:
        super().__init__(text)
        self.status, self.text, self.code = status, text, code


class ImapSession(MailboxCommands, MessageCommands, Session):
    def __init__(self, host: "ImapHost", link) -> None:
        super().__init__(host, link)
        cfg = host.config
        self.machine = imap.ImapServer(imap.ImapConfig(
            hostname=host.services.hostname, banner=cfg.banner, max_line=cfg.limits.line_length,
            max_literal=cfg.limits.literal_size, starttls=cfg.tls == "starttls", tls_active=cfg.tls == "implicit",
            auth_mechanisms=tuple(m for m in cfg.auth_methods if m in ("PLAIN", "LOGIN")),
            plaintext_auth=cfg.plaintext_auth))
        self.alias: str | None = None
        self.names: Namespaces | None = None
        self.view: View | None = None
        self._idle: asyncio.Task | None = None

    @property
    def hub(self) -> MailboxHub:
        return self.host.services.hub

    @property
    def enabled(self) -> set[str]:
        return self.machine.enabled

    async def call(self, op: str, **args: Any) -> Any:
        try:
            return await self.host.channel.call(op, **args)
        except StoreCallError as exc:
            raise CommandError("NO", f"Store refused: {exc}", "SERVERBUG") from None

    # --- events ---------------------------------------------------------------------------------------------

    async def handle(self, event: object) -> None:
        m = self.machine
        if isinstance(event, imap.Request):
            await self._request(event)
        elif isinstance(event, imap.LoginAttempt):
            user = self.host.services.directory.authenticate(event.user, event.password)
            if user is None:
                m.login_failed(event.tag)
            else:
                self.alias = user.alias
                self.names = Namespaces(user.alias)
                m.login_ok(event.tag, user.alias)
        elif isinstance(event, imap.StartTls):
            await self.upgrade()
        elif isinstance(event, imap.IdleStart):
            await self.flush()
            self._idle = asyncio.get_running_loop().create_task(self._stream_updates())
        elif isinstance(event, imap.IdleDone):
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            await self.catch_up(allow_expunge=True)
            if event.done:
                m.complete(event.tag, "OK", "IDLE terminated")
            else:
                m.complete(event.tag, "BAD", "Expected DONE to end IDLE")
        elif isinstance(event, imap.Closed):
            await self.flush()
            self.finish()
        else:
            await super().handle(event)

    async def _request(self, request: imap.Request) -> None:
        handler = getattr(self, f"cmd_{request.name.lower()}")
        try:
            status, text, code, state = await handler(request.tag, request.args, request.uid)
        except CommandError as exc:
            status, text, code, state = exc.status, exc.text, exc.code, None
        if self.view is not None and (self.view.stale or request.name in ("NOOP", "CHECK")):
            await self.catch_up(allow_expunge=request.uid or request.name not in NO_EXPUNGE_AFTER)
        self.machine.complete(request.tag, status, text, code, state)

    async def catch_up(self, allow_expunge: bool) -> None:
        """Tell the client what changed in its selected mailbox since it last heard."""
        view = self.view
        if view is None:
            return
        _, rows = await self.call("imap_snapshot", url=view.url)
        current = Rows({r.uid: r.flags for r in rows}, {r.uid: r.modseq for r in rows})
        for response in catch_up(view, current, self.hub, allow_expunge=allow_expunge,
                                 condstore="CONDSTORE" in self.enabled, qresync="QRESYNC" in self.enabled,
                                 rev2="IMAP4REV2" in self.enabled):
            self.machine.untagged(response)

    async def _stream_updates(self) -> None:
        """While idling, every change to the selected mailbox goes out as soon as it happens (RFC 2177)."""
        while True:
            if self.view is None:
                await asyncio.Event().wait()  # nothing selected: nothing to report until DONE
            await self.view.wake.wait()
            await self.catch_up(allow_expunge=True)
            await self.flush()

    async def cleanup(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self.deselect()

    def deselect(self) -> None:
        if self.view is not None:
            self.hub.detach(self.view)
            self.view = None

    def idle_message(self) -> bytes:
        return b"* BYE Idle timeout, closing connection\r\n"

    def shutdown_message(self) -> bytes:
        return b"* BYE Server shutting down\r\n"

    # --- helpers for the command modules --------------------------------------------------------------------

    def mailbox_url(self, token: Token) -> tuple[str, str]:
        """(decoded mailbox name, folder URL) of a mailbox argument, or BAD/NO as the RFC wants."""
        from ...protocols.imap.tokens import astring
        from .names import NameError_

        wire = astring(token)
        if wire is None:
            raise CommandError("BAD", "Expected a mailbox name")
        try:
            name = self.names.decode(wire)
            return name, self.names.url(name)
        except NameError_ as exc:
            raise CommandError("NO", str(exc), "CANNOT") from None

    def require_view(self) -> View:
        if self.view is None:
            raise CommandError("BAD", "No mailbox is selected")
        return self.view


class BodyCache:
    """Message bodies never change once stored, so the IMAP server keeps recent ones by (UIDVALIDITY, UID),
    a pair never reused, bounded by size: fetching the same messages again does not cross to the store."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: "OrderedDict[tuple[int, int], bytes]" = OrderedDict()
        self._size = 0

    def get(self, key: tuple[int, int]) -> bytes | None:
        body = self._items.get(key)
        if body is not None:
            self._items.move_to_end(key)
        return body

    def put(self, key: tuple[int, int], body: bytes) -> bytes:
        if key not in self._items:
            self._items[key] = body
            self._size += len(body)
            while self._size > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)
        return body


class ImapHost(VirtualServerHost):
    session_class = ImapSession
    busy_message = b"* BYE Too many connections, try again later\r\n"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.body_cache = BodyCache()
