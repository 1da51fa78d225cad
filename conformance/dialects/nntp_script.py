"""NNTP as the script executor sees it: one unit is one response.

    unit head   the initial response line (`211 3 1 3 wireproof.test`, `340 Send article`, the greeting)
    unit body   the data block's lines, dot-unstuffed, for a multi-line response; for a single-line
                response, the initial line itself

Whether a response carries a data block follows from its code (RFC 3977 3.2), except for 211, which is
multi-line only after LISTGROUP. So the dialect watches what a script sends and keeps, per session, the
verbs of the commands still waiting for their response (several when a script pipelines them in one `C=`
line). The lines of an article sent after a 340 (POST) or 335 (IHAVE) are not commands: they are skipped
up to the lone "." that ends the article, which awaits the command's second response.

When the endpoint requires STARTTLS (`?starttls=require`), each session is upgraded before the script
starts and the script is handed the greeting the server really sent, except in checks tagged `starttls`,
which are about the upgrade itself and perform it in the script.
"""
from __future__ import annotations

import contextlib

from . import Unit
from .nntp import NntpClient, Response

ARTICLE_FOLLOWS = {340, 335}  # the client now sends an article (POST, IHAVE)


def response_unit(response: Response) -> Unit:
    body = response.lines if response.multiline else [response.head]
    return Unit(head=response.head, body=body, shown=response.show())


def verb_of(line: bytes) -> str:
    words = line.split()
    return words[0].decode("ascii", "replace").upper() if words else ""


class ScriptClient(NntpClient):
    def __init__(self, wire) -> None:
        super().__init__(wire)
        self.awaiting: list[str] = []  # verbs of the commands sent and not yet answered, in order
        self.partial = b""  # a line sent without its line end yet
        self.in_article = False  # between a 340/335 and the "." line that ends the article


class NntpDialect:
    protocol = "nntp"

    def __init__(self) -> None:
        self.upgrade: bool | None = None  # decided per check in scope(); None: from the endpoint alone

    async def open(self, ctx, label: str) -> ScriptClient:
        client = ScriptClient(await ctx.connect("nntp", label))
        upgrade = self.upgrade if self.upgrade is not None else ctx.endpoint("nntp").starttls_required
        if upgrade and not client.wire.tls:
            # The endpoint speaks NNTP only under TLS: upgrade first, then hand the script the greeting the
            # server really sent, so the script reads the same conversation on any endpoint.
            greeting = await client.read_greeting()
            ctx.setup(greeting.code in (200, 201), "the server greets with 200 or 201", "200|201", greeting.show())
            reply = await client.starttls(ctx.tls_context())
            ctx.setup(reply.code == 382, "STARTTLS is accepted (the endpoint requires it)", "382", reply.show())
            client.pending.append(greeting)
        return client

    async def read_unit(self, client: ScriptClient, timeout: float | None = None) -> Unit:
        if client.pending:
            return response_unit(client.pending.pop(0))
        verb = client.awaiting.pop(0) if client.awaiting else ""
        response = await client.read_response(verb, timeout)
        if response.code in ARTICLE_FOLLOWS and verb in ("POST", "IHAVE"):
            client.in_article = True
        return response_unit(response)

    async def send(self, client: ScriptClient, data: bytes) -> None:
        buffered = client.partial + data
        *lines, client.partial = buffered.split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            if client.in_article:
                if line == b".":
                    client.in_article = False
                    client.awaiting.append("POST")  # the article's own response (240/441, 235/436/437)
                continue
            client.awaiting.append(verb_of(line))
        await client.wire.send(data)

    async def starttls(self, client: ScriptClient, ctx) -> None:
        await client.wire.start_tls(ctx.tls_context())
        client.capabilities, client.capability_order = {}, []

    def wire(self, client: ScriptClient):
        return client.wire

    @contextlib.asynccontextmanager
    async def scope(self, ctx, header: dict[str, str]):
        """Around a whole check: whether sessions upgrade first, and the scratch group variables."""
        tags = set(header.get("tags", "").split())
        self.upgrade = ctx.endpoint("nntp").starttls_required and "starttls" not in tags
        groups = ctx.target.nntp_groups
        variables = {"group": groups[0]} if groups else {}
        if len(groups) > 1:
            variables["group2"] = groups[1]
        variables["msgid"] = f"<{ctx.token}.script@wireproof.invalid>"
        yield variables
