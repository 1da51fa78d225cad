"""What the Exchange-extension checks share: a scratch folder in the account's mailbox, and items put into it.

Exchange 2003 keeps a user's mailbox at a URL of its own (/exchange/<alias>/); discovery finds it by asking the
endpoint, then <endpoint>/<user>/, for urn:schemas:httpmail:inbox and :sendmsg, and records it as the `mailbox`
param with the keyword HTTPMAIL. Every check here needs HTTPMAIL (so it skips on Apache mod_dav and WsgiDAV, which
have no mailbox) and works in a folder of its own below the mailbox root,

    <mailbox>wireproof-<12 hex digits of the check's token>/

made with MKCOL and deleted afterwards (conformance/davscratch.py's cleanup), filled with PUT of message/rfc822,
text/calendar and text/vcard bodies. Only the mail-submission checks touch anything else: the message they send
to the account itself, which they find again by its token in the Inbox (and Sent Items) and delete.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from conformance import davscratch
from conformance.dialects.http import DavResponse, Multistatus, Response, path_join
from conformance.dialects.http_exchange import HTTPMAIL, message, search_body

from .common import XML, Dav, multistatus

EXCHANGE = ["HTTPMAIL"]  # the mailbox root is known (discovery found httpmail:inbox or :sendmsg)
SEARCH = EXCHANGE + ["METHOD=SEARCH", "DASL=<DAV:sql>"]
RFC822 = "message/rfc822"
TRANSLATE_F = ("Translate", "f")
SUBJECT = f"{{{HTTPMAIL}}}subject"


def url_path(value: str) -> str:
    """The path of a URL property value (Exchange writes absolute URLs), kept percent-encoded."""
    return urlsplit(value.strip()).path or "/"


@dataclass
class Ex(Dav):
    """A scratch folder (`col`) in the mailbox (`mailbox`), an authenticated client, and Exchange's requests."""

    mailbox: str = "/"

    async def put_item(self, name: str, body: bytes, content_type: str = RFC822) -> str:
        """Setup: PUT an item into the scratch folder (Translate: f, as Exchange's clients send it); its path."""
        path = self.url(name)
        await self.put(path, body, content_type, [TRANSLATE_F])
        return path

    async def folder(self, name: str) -> str:
        path = self.url(name + "/")
        await self.mkcol(path)
        return path

    async def search(self, sql: str, path: str | None = None, headers=()) -> tuple[Response, Multistatus | None]:
        r = await self.request("SEARCH", path or self.col, [XML, TRANSLATE_F, *headers], search_body(sql))
        return r, multistatus(r)

    def resolve(self, href: str) -> str:
        return url_path(urljoin(self.col, href))

    async def special(self, name: str) -> str | None:
        """The path of a special folder named on the mailbox root (httpmail:inbox, :sentitems, ...), or None."""
        entry, _ = await self.props(self.mailbox, f"{{{HTTPMAIL}}}{name}")
        value = entry.value(f"{{{HTTPMAIL}}}{name}")
        return url_path(value) if value else None


def names_of(ms: Multistatus, col: str) -> list[str]:
    """The last path segments of the rows of a multistatus, in order (a folder's with its trailing "/")."""
    out = []
    for r in ms.responses:
        path = r.path
        out.append(path[len(col):] if path.startswith(col) else path.rstrip("/").rsplit("/", 1)[-1])
    return out


def row_for(ms: Multistatus, path: str) -> DavResponse | None:
    return ms.find(path)


@contextlib.asynccontextmanager
async def mailbox_scratch(ctx, suffix: str = ""):
    """A scratch folder below the mailbox root, with a client; deleted afterwards."""
    mailbox = ctx.cap("webdav").params.get("mailbox") or davscratch.base(ctx)
    mailbox = url_path(mailbox)
    mailbox = mailbox if mailbox.endswith("/") else mailbox + "/"
    client = await ctx.http()
    col = mailbox + davscratch.name(ctx, suffix) + "/"
    try:
        r = await client.request("MKCOL", col)
        ctx.setup(r.status == 201, f"MKCOL {col} (this check's scratch folder in the mailbox) is answered 201",
                  "HTTP/1.1 201 Created", r.show())
        yield Ex(ctx, client, col, mailbox)
    finally:
        await davscratch.cleanup(ctx, col)


async def fill_messages(ex: Ex, subjects_dates: list[tuple[str, str, str]], folder: str | None = None) -> dict[str, str]:
    """Setup: PUT one message per (file name, subject, Date) into the scratch folder (or `folder`); name -> path."""
    out = {}
    for name, subject, date in subjects_dates:
        body = message(ex.ctx.token, subject, date=date)
        path = (folder or ex.col) + name
        await ex.put(path, body, RFC822, [TRANSLATE_F])
        out[name] = path
    return out


async def wait_for_subject(ex: Ex, folder: str, subject: str, timeout: float = 15.0) -> str | None:
    """The path of the item with this httpmail:subject in `folder`, polling PROPFIND Depth 1 until it arrives (a
    submitted message is delivered asynchronously); None when it does not come within `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        _, ms = await ex.propfind(folder, [SUBJECT], depth="1")
        for entry in (ms.responses if ms else []):
            if entry.value(SUBJECT) == subject:
                return entry.path
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(0.5)


def in_scratch(ex: Ex, name: str) -> str:
    return path_join(ex.col, name)
