"""POP3 as the script executor sees it: one unit is one response.

A POP3 response does not say on the wire whether it is multi-line: that follows from the command. So
the dialect watches what a script sends and keeps, per session, the commands still waiting for their
response (several when a script pipelines them in one `C=` line). A "+OK" to CAPA, to LIST or UIDL
without an argument, to RETR, to TOP and to AUTH without a mechanism is read with its data lines up to
the terminating "."; anything else is one line. The unit's head is the status line; its body is the data
lines, dot-unstuffed (for a single-line response, the status line itself).

Checks that use the target's account (`needs: account` or `maildrop`) run holding the run-wide lock of
the POP3 account, because a maildrop admits one session at a time; scripts log in with `${pop3_user}`
and `${pop3_password}`.
"""
from __future__ import annotations

import contextlib

from . import Unit
from .pop3 import Pop3Client, Response

MULTILINE_ALWAYS = {"CAPA", "RETR", "TOP"}
MULTILINE_WITHOUT_ARGUMENT = {"LIST", "UIDL", "AUTH"}


def is_multiline(command: bytes) -> bool:
    """Whether the success response to this command line is multi-line (RFC 1939, 2449, 5034)."""
    words = command.split()
    if not words:
        return False
    verb = words[0].decode("ascii", "replace").upper()
    return verb in MULTILINE_ALWAYS or (verb in MULTILINE_WITHOUT_ARGUMENT and len(words) == 1)


def response_unit(response: Response) -> Unit:
    body = response.lines if response.multiline else [response.head]
    return Unit(head=response.head, body=body, shown=response.show())


class ScriptClient(Pop3Client):
    """A POP3 client that remembers, in order, which of the commands a script sent await a response."""

    def __init__(self, wire) -> None:
        super().__init__(wire)
        self.awaiting: list[bool] = []  # per command sent and not yet answered: is its success multi-line?
        self.partial = b""  # a command line sent without its CRLF yet


class Pop3Dialect:
    protocol = "pop3"

    async def open(self, ctx, label: str) -> ScriptClient:
        client = ScriptClient(await ctx.connect("pop3", label))
        if ctx.endpoint("pop3").starttls_required:
            # The endpoint only speaks POP3 under TLS: upgrade first, then hand the script the greeting the
            # server really sent, so the script reads the same conversation on any endpoint.
            greeting = await client.read_greeting()
            ctx.setup(greeting.ok, "the server greets with +OK", "+OK", str(greeting))
            reply = await client.stls(ctx.tls_context())
            ctx.setup(reply.ok, "STLS is accepted (the endpoint requires it)", "+OK", str(reply))
            client.pending.append(greeting)
        return client

    async def read_unit(self, client: ScriptClient, timeout: float | None = None) -> Unit:
        if client.pending:
            return response_unit(client.pending.pop(0))
        multiline = client.awaiting.pop(0) if client.awaiting else False
        return response_unit(await client.read_response(multiline, timeout))

    async def send(self, client: ScriptClient, data: bytes) -> None:
        buffered = client.partial + data
        *lines, client.partial = buffered.split(b"\n")
        client.awaiting += [is_multiline(line.rstrip(b"\r")) for line in lines]
        await client.wire.send(data)

    async def starttls(self, client: ScriptClient, ctx) -> None:
        await client.wire.start_tls(ctx.tls_context())
        client.capabilities = {}

    def wire(self, client: ScriptClient):
        return client.wire

    @contextlib.asynccontextmanager
    async def scope(self, ctx, header: dict[str, str]):
        """Around a whole check: for checks that log in, the POP3 account's variables and its lock."""
        needs = set(header.get("needs", "").split())
        if not needs & {"account", "maildrop"}:
            yield {}
            return
        from ..fill import account_lock, pop3_account

        account = pop3_account(ctx)
        async with account_lock(ctx, account):
            yield {"pop3_user": account.user, "pop3_password": account.password}
