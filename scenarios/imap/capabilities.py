"""Probes of the greeting, CAPABILITY, response syntax and pipelining (RFC 3501 sections 2.2, 5.5, 6.1.1, 7.1
and 7.2.1; RFC 9051 the same)."""
from __future__ import annotations

from conformance.registry import probe

from .common import ACCOUNT, session

BASE = ("IMAP4REV1", "IMAP4REV2")


@probe("imap.greeting.capability-code", rfc="rfc3501#7.1 rfc3501#7.2.1 rfc9051#7.1", level="MUST",
       requirement="When the greeting carries a CAPABILITY response code, its list names IMAP4rev1 (or IMAP4rev2), "
                   "like any capability listing.", tags=["greeting", "capability"])
async def greeting_capability_code(ctx):
    client = await ctx.imap()
    greeting = client.greeting
    ctx.require(greeting.code == "CAPABILITY", "the greeting carries no CAPABILITY response code")
    caps = greeting.capabilities()
    ctx.expect(any(b in caps for b in BASE), "the greeting's CAPABILITY code lists IMAP4rev1 or IMAP4rev2",
               "[CAPABILITY ... IMAP4rev1 ...]", greeting.line)


@probe("imap.response.crlf", rfc="rfc3501#2.2 rfc3501#9 rfc9051#2.2", level="MUST",
       requirement="Every line the server sends (greeting, untagged data, tagged completions) ends with CRLF.",
       tags=["syntax"])
async def responses_end_in_crlf(ctx):
    client = await ctx.imap()
    completions = [await client.command("CAPABILITY"), await client.command("NOOP"), await client.command("LOGOUT")]
    problems = [p for p in client.greeting.problems if "LF" in p or "CR" in p]
    problems += [p for c in completions for p in c.problems() if "LF" in p or "CR" in p]
    shown = "\n".join([client.greeting.line] + [c.show() for c in completions])
    ctx.expect(not problems, "every line ends with CRLF", "CRLF line ends", "\n".join(problems) or shown)


@probe("imap.capability.single-response", rfc="rfc3501#6.1.1 rfc9051#6.1.1", level="MUST",
       requirement="CAPABILITY is answered with exactly one untagged CAPABILITY response before the tagged OK.",
       tags=["capability"])
async def single_capability_response(ctx):
    client = await ctx.imap()
    completion = await client.command("CAPABILITY")
    ctx.setup(completion.ok, "CAPABILITY is answered OK", "OK", completion.show())
    ctx.expect(len(completion.data("CAPABILITY")) == 1, "one untagged CAPABILITY response",
               "* CAPABILITY ... (once)", completion.show())


@probe("imap.capability.login-code", rfc="rfc3501#6.2.3 rfc3501#7.2.1 rfc9051#7.1", level="MUST",
       requirement="When the tagged OK to LOGIN carries a CAPABILITY response code, the list names IMAP4rev1 (or "
                   "IMAP4rev2).", needs=ACCOUNT, tags=["capability", "auth"])
async def login_capability_code(ctx):
    client = await ctx.imap()
    account = ctx.target.accounts[0]
    completion = await client.login(account.user, account.password)
    ctx.setup(completion.ok, "LOGIN succeeds", "OK", completion.show())
    ctx.require(completion.code == "CAPABILITY", "the OK to LOGIN carries no CAPABILITY response code")
    caps = completion.tagged.capabilities()
    ctx.expect(any(b in caps for b in BASE), "the CAPABILITY code after LOGIN lists IMAP4rev1 or IMAP4rev2",
               "OK [CAPABILITY ... IMAP4rev1 ...]", completion.show())


@probe("imap.capability.auth-plain-under-tls", rfc="rfc3501#6.1.1 rfc3501#7.2.1 rfc9051#6.1.1", level="MUST",
       requirement="The server implements AUTH=PLAIN: once TLS protects the session, CAPABILITY lists AUTH=PLAIN.",
       needs=["tls"], tags=["capability", "auth", "tls"])
async def auth_plain_under_tls(ctx):
    client = await ctx.imap(tls=not ctx.endpoint("imap").implicit_tls)
    completion = await client.command("CAPABILITY")
    ctx.setup(completion.ok, "CAPABILITY is answered OK", "OK", completion.show())
    ctx.expect(client.has("AUTH=PLAIN"), "CAPABILITY inside TLS lists AUTH=PLAIN", "AUTH=PLAIN", completion.show())


@probe("imap.pipelining.all-answered", rfc="rfc3501#5.5 rfc9051#5.5", level="MUST",
       requirement="Commands sent in one write without waiting (NOOP, CAPABILITY, NOOP) are each answered with "
                   "their own tagged completion.", tags=["pipelining"])
async def pipelined_commands(ctx):
    client = await ctx.imap()
    await client.send_raw(b"p1 NOOP\r\np2 CAPABILITY\r\np3 NOOP\r\n")
    seen = {}
    lines = []
    while len(seen) < 3:
        resp = await client.read_response()
        lines.append(resp.line)
        if resp.kind == "tagged":
            seen[resp.tag] = resp.status
    ctx.expect(seen == {"p1": "OK", "p2": "OK", "p3": "OK"}, "p1, p2 and p3 are each completed OK",
               "p1 OK, p2 OK, p3 OK", "\n".join(lines))


@probe("imap.pipelining.ambiguous-in-order", rfc="rfc3501#5.5 rfc9051#5.5", level="MUST",
       requirement="Pipelined commands that depend on each other are executed in the order sent: a FETCH of a "
                   "message's flags pipelined after a STORE of them sees the stored flag.",
       needs=ACCOUNT, tags=["pipelining", "store"])
async def pipelined_store_fetch(ctx):
    from .common import filled
    from .messages import PLAIN

    async with filled(ctx, [PLAIN]) as f:
        await f.client.send_raw(b"p1 STORE 1 +FLAGS.SILENT (\\Flagged)\r\np2 FETCH 1 (FLAGS)\r\n")
        done = {}
        flags = None
        lines = []
        while len(done) < 2:
            resp = await f.client.read_response()
            lines.append(resp.line)
            if resp.kind == "tagged":
                done[resp.tag] = resp.status
            elif resp.name == "FETCH" and "p2" not in done and "FLAGS" in resp.fetch():
                flags = {str(x).lower() for x in resp.fetch()["FLAGS"]}
        ctx.setup(done.get("p1") == "OK" and done.get("p2") == "OK", "STORE and FETCH are both answered OK",
                  "p1 OK, p2 OK", "\n".join(lines))
        ctx.expect(flags is not None and "\\flagged" in flags, "the FETCH pipelined after the STORE shows \\Flagged",
                   "* 1 FETCH (FLAGS (\\Flagged ...))", "\n".join(lines))


@probe("imap.noop.reports-new-messages", rfc="rfc3501#5.2 rfc3501#6.1.2 rfc3501#7.3.1 rfc9051#5.2", level="MUST",
       requirement="A message appended by another session is reported to the session that has the mailbox selected "
                   "with an EXISTS response, at the latest when it sends NOOP.", needs=ACCOUNT,
       tags=["noop", "exists", "multi-session"])
async def noop_reports_new_messages(ctx):
    from .common import filled
    from .messages import PLAIN

    async with filled(ctx, [PLAIN]) as f:
        other = await session(ctx, "b")
        appended = await other.append(f.name, PLAIN)
        ctx.setup(appended.ok, "session b appends a message", "OK", appended.show())
        completion = await f.client.command("NOOP")
        ctx.setup(completion.ok, "NOOP is answered OK", "OK", completion.show())
        exists = [r.number for r in completion.data("EXISTS")]
        ctx.expect(exists and exists[-1] == 2, "NOOP reports 2 EXISTS", "* 2 EXISTS", completion.show())
