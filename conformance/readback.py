"""Read-back: fetch what the server under test actually delivered, from the mailbox a profile names.

This is a side channel, not the conformance client, so it uses the standard library's IMAP and POP3
clients. Messages are found by their `X-Wireproof-Token` header (each check has its own token), and are
deleted once read, so the mailbox holds only what other checks are still waiting for.
"""
from __future__ import annotations

import asyncio
import imaplib
import poplib
import re
import threading
import time

from .target import Endpoint

_pop_lock = threading.Lock()  # a POP3 maildrop admits one session at a time


class Readback:
    def __init__(self, endpoint: Endpoint, tls_ctx) -> None:
        self.ep = endpoint
        self.tls_ctx = tls_ctx

    async def fetch(self, token: str, *, timeout: float = 8.0, settle: float = 0.0) -> list[bytes]:
        """Every message carrying `token`, waiting up to `timeout` for the first one to arrive, then a
        further `settle` seconds for any others (used by checks that must show a message did NOT split)."""
        return await asyncio.to_thread(self._fetch, token, timeout, settle)

    async def absent(self, token: str, wait: float) -> list[bytes]:
        """Messages carrying `token` after waiting `wait` seconds (for checks that nothing was delivered)."""
        await asyncio.sleep(wait)
        return await asyncio.to_thread(self._fetch, token, 0.0, 0.0)

    def _fetch(self, token: str, timeout: float, settle: float) -> list[bytes]:
        fetch = self._imap if self.ep.protocol == "imap" else self._pop3
        deadline = time.monotonic() + timeout
        found = fetch(token)
        while not found and time.monotonic() < deadline:
            time.sleep(0.15)
            found = fetch(token)
        if found and settle:
            time.sleep(settle)
            found += fetch(token)
        return found

    def _imap(self, token: str) -> list[bytes]:
        cls = imaplib.IMAP4_SSL if self.ep.implicit_tls else imaplib.IMAP4
        kwargs = {"ssl_context": self.tls_ctx} if self.ep.implicit_tls else {}
        conn = cls(self.ep.host, self.ep.port, timeout=10, **kwargs)
        try:
            conn.login(self.ep.user, self.ep.password or "")
            conn.select(self.ep.path.strip("/") or "INBOX")
            typ, data = conn.uid("SEARCH", "HEADER", "X-Wireproof-Token", token)
            uids = data[0].split() if typ == "OK" and data and data[0] else []
            out = []
            for uid in uids:
                typ, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                out += [p[1] for p in parts if isinstance(p, tuple)]
                conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
            if uids:
                conn.expunge()
            return out
        finally:
            try:
                conn.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    def _pop3(self, token: str) -> list[bytes]:
        pattern = re.compile(rb"^X-Wireproof-Token:\s*" + re.escape(token.encode()) + rb"\s*$", re.M | re.I)
        with _pop_lock:
            if self.ep.implicit_tls:
                conn = poplib.POP3_SSL(self.ep.host, self.ep.port, timeout=10, context=self.tls_ctx)
            else:
                conn = poplib.POP3(self.ep.host, self.ep.port, timeout=10)
            try:
                conn.user(self.ep.user)
                conn.pass_(self.ep.password or "")
                count = len(conn.list()[1])
                out = []
                for n in range(1, count + 1):
                    head = b"\r\n".join(conn.top(n, 0)[1])
                    if pattern.search(head):
                        out.append(b"\r\n".join(conn.retr(n)[1]) + b"\r\n")
                        conn.dele(n)
                return out
            finally:
                conn.quit()
