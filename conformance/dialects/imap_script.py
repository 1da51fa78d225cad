"""IMAP as the script executor sees it: one unit is one command's answer.

    unit head   the tagged completion (`a1 OK [READ-WRITE] SELECT completed`), or a continuation request
                (`+ Ready for literal data`), or, first of all, the server greeting
    unit body   every untagged response that arrived before that head, in any order (`has:` finds one
                wherever it is, `lacks:` forbids one)

Scripts write their own tags (`C: a1 LOGIN ...`, `S: a1 OK`). A literal's octets are read by their count,
so `has:` sees a FETCH with its literal as one line (literal octets inline after their `{n}` marker;
patterns' `...` spans line ends). When the server closes the connection after untagged responses and
before any completion (a BYE), those responses are the unit and the last of them is its head.

Variables for scripts that log in (`needs: account`): `${user}`, `${password}` (the target's first
account), `${login}` (both as LOGIN arguments, quoted where needed), `${user_quoted}`, `${password_quoted}`
(as quoted strings), `${user_len}`, `${password_len}` (octet counts, for literals), `${box}`, `${box2}`,
`${box3}` (scratch mailbox names of this check, see conformance/scratch.py; not created: the script
CREATEs what it uses) and `${delim}` (the hierarchy delimiter). Every mailbox whose name starts like
`${box}` is deleted after the check, whatever its verdict.

When the endpoint requires STARTTLS (`?starttls=require`), each session is upgraded before the script
starts and the script is handed the greeting the server really sent, except in checks tagged `starttls`,
which are about the upgrade itself and perform it in the script.
"""
from __future__ import annotations

import contextlib

from . import Unit
from .imap import ImapClient, ImapResponse, astring
from ..wire.session import ConnectionClosed

UPGRADE_TAG = "wptls"


def response_unit(head: ImapResponse, body: list[ImapResponse], closed: bool = False) -> Unit:
    shown = [r.line for r in body] + ([] if head in body else [head.line])
    if closed:
        shown.append("(the server closed the connection)")
    return Unit(head=head.line, body=[r.line for r in body if r is not head], shown="\n".join(shown))


class ScriptClient(ImapClient):
    def __init__(self, wire) -> None:
        super().__init__(wire)
        self.greeted = False
        self.pending: list[Unit] = []


class ImapDialect:
    protocol = "imap"

    def __init__(self) -> None:
        self.upgrade: bool | None = None  # decided per check in scope(); None: from the endpoint alone

    async def open(self, ctx, label: str) -> ScriptClient:
        client = ScriptClient(await ctx.connect("imap", label))
        upgrade = self.upgrade if self.upgrade is not None else ctx.endpoint("imap").starttls_required
        if upgrade and not client.wire.tls:
            # The endpoint speaks IMAP only under TLS: upgrade first, then hand the script the greeting the
            # server really sent, so the script reads the same conversation on any endpoint.
            greeting = await client.read_greeting()
            ctx.setup(greeting.status in ("OK", "PREAUTH"), "the server greets with * OK", "* OK", str(greeting))
            reply = await client.starttls(ctx.tls_context(), tag=UPGRADE_TAG)
            ctx.setup(reply.ok, "STARTTLS is accepted (the endpoint requires it)", "OK", reply.show())
            client.greeted = True
            client.pending.append(response_unit(greeting, [greeting]))
        return client

    async def read_unit(self, client: ScriptClient, timeout: float | None = None) -> Unit:
        if client.pending:
            return client.pending.pop(0)
        if not client.greeted:
            client.greeted = True
            greeting = await client.read_greeting(timeout)
            return response_unit(greeting, [greeting])
        body: list[ImapResponse] = []
        while True:
            try:
                resp = await client.read_response(timeout)
            except ConnectionClosed:
                if body:
                    return response_unit(body[-1], body, closed=True)
                raise
            if resp.kind in ("tagged", "continuation"):
                return response_unit(resp, body)
            body.append(resp)

    async def send(self, client: ScriptClient, data: bytes) -> None:
        await client.wire.send(data)

    async def starttls(self, client: ScriptClient, ctx) -> None:
        await client.wire.start_tls(ctx.tls_context())
        client.capabilities = set()

    def wire(self, client: ScriptClient):
        return client.wire

    @contextlib.asynccontextmanager
    async def scope(self, ctx, header: dict[str, str]):
        """Around a whole check: whether sessions upgrade first, and for checks that log in the scratch
        mailbox names, which are cleaned up afterwards."""
        tags = set(header.get("tags", "").split())
        self.upgrade = ctx.endpoint("imap").starttls_required and "starttls" not in tags
        needs = set(header.get("needs", "").split())
        from .. import scratch

        _, delim = scratch.namespace(ctx)
        variables = {"box": scratch.name(ctx), "box2": scratch.name(ctx, "2"), "box3": scratch.name(ctx, "3"),
                     "delim": delim}
        if ctx.target.accounts:
            user, password = ctx.target.accounts[0].user, ctx.target.accounts[0].password
            variables |= {"login": f"{astring(user)} {astring(password)}", "user_quoted": quoted(user),
                          "password_quoted": quoted(password), "user_len": str(len(user.encode())),
                          "password_len": str(len(password.encode()))}
        if "account" not in needs:
            yield variables
            return
        try:
            yield variables
        finally:
            await scratch.cleanup(ctx)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
