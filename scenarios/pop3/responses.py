"""Probes of response syntax (RFC 1939 section 3, RFC 2449 sections 3, 4 and 8): status indicators, line ends,
lengths and response codes, judged over one session that draws out many kinds of response."""
from __future__ import annotations

import re

from conformance.dialects.pop3 import MAX_FIRST_LINE, Response
from conformance.fill import account_lock, pop3_account, pop3_login
from conformance.registry import probe

from .auth import FAILURE_WAIT, log_in_again

RESP_CODE_RE = re.compile(r"^\[[\x21-\x2e\x30-\x5c\x5e-\x7f]+(?:/[\x21-\x2e\x30-\x5c\x5e-\x7f]+)*\](?: |$)")


async def varied_responses(ctx) -> list[tuple[str, Response]]:
    """Positive and negative, single- and multi-line responses, before and (with an account) after login.
    At most two refused commands per connection: some servers drop clients after a few in a row."""
    client = await ctx.pop3()
    got = [("the greeting", client.greeting)]
    for command in ("CAPA", "XWPBOGUS", "STAT"):
        got.append((command, await (client.multiline(command) if command == "CAPA" else client.cmd(command))))
    if ctx.target.accounts:
        account = pop3_account(ctx)
        async with account_lock(ctx, account):
            got.append(("USER/PASS", await pop3_login(ctx, client, account)))
            for command in ("STAT", "LIST", "UIDL", "NOOP", "CAPA", "RETR 999999", "QUIT"):
                multi = command in ("LIST", "UIDL", "CAPA")
                got.append((command, await (client.multiline(command) if multi else client.cmd(command))))
    else:
        got.append(("QUIT", await client.cmd("QUIT")))
    return got


@probe("pop3.response.status-upper-case", rfc="rfc1939#3", level="MUST",
       requirement="Every response starts with the status indicator +OK or -ERR, in upper case, followed by a space "
                   "or the line end.", tags=["syntax"])
async def status_upper_case(ctx):
    for what, reply in await varied_responses(ctx):
        first = reply.raw[0]
        ctx.expect(re.match(rb"^(\+OK|-ERR)( |\r?\n)", first) is not None,
                   f"the response to {what} starts with +OK or -ERR in upper case", "+OK ... or -ERR ...",
                   repr(first[:80]))


@probe("pop3.response.crlf", rfc="rfc1939#3", level="MUST",
       requirement="Every response line, data lines and the terminating line included, ends with CRLF.",
       tags=["syntax"])
async def response_crlf(ctx):
    for what, reply in await varied_responses(ctx):
        bare = [raw for raw in reply.raw if not raw.endswith(b"\r\n")]
        ctx.expect(not bare, f"every line of the response to {what} ends with CRLF", "CRLF line ends",
                   repr(bare[0]) if bare else reply.show())


@probe("pop3.response.length-512", rfc="rfc1939#3 rfc2449#4 rfc2449#5", level="MUST",
       requirement="The first line of every response, the greeting included, and every CAPA line is at most 512 "
                   "octets long, CRLF included.", tags=["syntax", "limits"])
async def response_length(ctx):
    for what, reply in await varied_responses(ctx):
        lines = reply.raw if what == "CAPA" else reply.raw[:1]
        longest = max(len(line) for line in lines)
        ctx.expect(longest <= MAX_FIRST_LINE, f"the response to {what} keeps its lines within 512 octets",
                   "at most 512 octets", f"{longest} octets")


@probe("pop3.resp-codes.syntax", rfc="rfc2449#6.4 rfc2449#8 rfc2449#3", level="MUST",
       requirement="A server advertising RESP-CODES starts response text with \"[\" only for a response code: "
                   "bracketed levels of printable characters separated by \"/\".", needs=["RESP-CODES"],
       tags=["syntax", "resp-codes"], exclusive=True, timeout=60)
async def resp_code_syntax(ctx):
    got = await varied_responses(ctx)
    if ctx.target.accounts and "USER" in ctx.cap("pop3").keywords:
        # A refused login is where servers put response codes most (RFC 2449 8.1, RFC 3206): one wrong
        # password, then a proper login, so that a server delaying logins after failures recovers.
        account = pop3_account(ctx)
        async with account_lock(ctx, account):
            client = await ctx.pop3()
            if (await client.cmd(f"USER {account.user}")).ok:
                got.append(("PASS with a wrong password",
                            await client.cmd(f"PASS {account.password}-wrong", timeout=FAILURE_WAIT)))
            await log_in_again(ctx, client, account)
    coded = [(what, reply) for what, reply in got if reply.text.startswith("[")]
    ctx.require(bool(coded), "no response of this session carried a response code")
    for what, reply in coded:
        ctx.expect(RESP_CODE_RE.match(reply.text) is not None, f"the response code to {what} is well formed",
                   "[LEVEL/LEVEL] text", reply.raw[0].decode("utf-8", "replace"))
