"""SMTP as the script executor sees it: one unit is one (possibly multi-line) reply."""
from __future__ import annotations

from . import Unit
from .smtp import Reply, SmtpClient


def reply_unit(reply: Reply) -> Unit:
    first = reply.lines[0] if reply.lines else ""
    head = f"{reply.code:03d} {first}".rstrip() if reply.code else first
    return Unit(head=head, body=list(reply.lines), shown=reply.show())


class SmtpDialect:
    protocol = "smtp"

    async def open(self, ctx, label: str) -> SmtpClient:
        client = SmtpClient(await ctx.connect("smtp", label))
        if ctx.endpoint("smtp").starttls_required:
            # The endpoint only speaks SMTP under TLS: upgrade first, then hand the script the greeting
            # the server really sent, so the script reads the same conversation on any endpoint.
            greeting = await client.read_greeting()
            ctx.setup(greeting.code == 220, "the server greets with 220", "220", str(greeting))
            await ctx._ehlo(client)
            reply = await client.starttls(ctx.tls_context())
            ctx.setup(reply.code == 220, "STARTTLS is accepted (the endpoint requires it)", "220", str(reply))
            client.pending.append(greeting)
        return client

    async def read_unit(self, client: SmtpClient, timeout: float | None = None) -> Unit:
        if client.pending:
            return reply_unit(client.pending.pop(0))
        return reply_unit(await client.read_reply(timeout))

    async def send(self, client: SmtpClient, data: bytes) -> None:
        await client.wire.send(data)

    async def starttls(self, client: SmtpClient, ctx) -> None:
        await client.wire.start_tls(ctx.tls_context())

    def wire(self, client: SmtpClient):
        return client.wire
