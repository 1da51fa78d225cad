"""The POP3 virtual server: the RFC 1939 machine on a socket; the maildrop is the user's Inbox in the store,
locked for one session at a time (the lock lives in the store, so it holds across virtual servers)."""
from __future__ import annotations

import itertools
import os

from ..exipc import StoreCallError
from ..store.naming import mailbox_url
from ..protocols import pop3
from .base import Session, VirtualServerHost

_challenges = itertools.count(1)


class Pop3Session(Session):
    def __init__(self, host: "Pop3Host", link) -> None:
        super().__init__(host, link)
        cfg = host.config
        name = host.services.hostname
        self.machine = pop3.Pop3Server(pop3.Pop3Config(
            hostname=name, timestamp=f"<{os.getpid()}.{next(_challenges)}@{name}>", banner=cfg.banner,
            max_line=cfg.limits.line_length, stls=cfg.tls == "starttls", tls_active=cfg.tls == "implicit",
            sasl_mechanisms=tuple(m for m in cfg.auth_methods if m in ("PLAIN", "LOGIN")),
            plaintext_auth=cfg.plaintext_auth, apop="APOP" in cfg.auth_methods,
            user_pass="USER" in cfg.auth_methods))
        self.locked: str | None = None  # the alias whose maildrop this session holds

    async def handle(self, event: object) -> None:
        m = self.machine
        channel = self.host.channel
        if isinstance(event, (pop3.Login, pop3.ApopLogin)):
            await self._login(event)
        elif isinstance(event, pop3.Fetch):
            try:
                handle = await channel.call("fetch", key=event.key)
            except StoreCallError:
                m.provide(b"")  # deleted underneath us by another view of the store: an empty message
                return
            try:
                m.provide(bytes(self.host.services.heap.view(handle)))
            finally:
                self.host.services.heap.release(handle)
        elif isinstance(event, pop3.Update):
            try:
                await channel.call("delete", keys=event.deleted)
                if event.deleted and self.host.services.hub is not None:
                    self.host.services.hub.changed(mailbox_url(self.locked) + "Inbox/")
                m.updated(True)
            except StoreCallError:
                m.updated(False)
        elif isinstance(event, pop3.StartTls):
            await self.upgrade()
        elif isinstance(event, pop3.Closed):
            await self.flush()
            self.finish()
        else:
            await super().handle(event)

    async def _login(self, event) -> None:
        directory = self.host.services.directory
        if isinstance(event, pop3.ApopLogin):
            candidate = directory.find_address(event.user) or directory.users.get(event.user)
            user = candidate if candidate and event.matches(candidate.password) else None
        else:
            user = directory.authenticate(event.user, event.password)
        if user is None:
            self.machine.login_failed("AUTH", "Authentication failed")
            return
        if not await self.host.channel.call("lock", alias=user.alias, owner=id(self)):
            self.machine.login_failed("IN-USE", "Maildrop is locked by another session")
            return
        self.locked = user.alias
        entries = await self.host.channel.call("maildrop", alias=user.alias)
        self.machine.logged_in([pop3.Entry(*e) for e in entries])

    async def cleanup(self) -> None:
        if self.locked is not None:
            try:
                await self.host.channel.call("unlock", alias=self.locked, owner=id(self))
            except StoreCallError:
                pass  # the store is shutting down; its locks go with it
            self.locked = None

    def idle_message(self) -> bytes:
        return b"-ERR Idle timeout, closing connection\r\n"

    def shutdown_message(self) -> bytes:
        return b"-ERR [SYS/TEMP] Service shutting down\r\n"


class Pop3Host(VirtualServerHost):
    session_class = Pop3Session
    busy_message = b"-ERR [SYS/TEMP] Too many connections, try again later\r\n"
