"""Probes of APPEND (RFC 3501 section 6.3.11, RFC 9051 section 6.3.12): the message literal becomes a new
message at the end of the mailbox, with the flags and internal date given; a missing mailbox is never created
by APPEND, and the refusal carries [TRYCREATE]."""
from __future__ import annotations

import base64
import quopri

from conformance import scratch
from conformance.dialects.imap import astring
from conformance.registry import probe

from .common import ACCOUNT, fetch, filled, instant, lower
from .messages import EIGHTBIT, EIGHTBIT_BODY, PLAIN


@probe("imap.append.ok", rfc="rfc3501#6.3.11 rfc3501#7.5 rfc9051#6.3.12", level="MUST",
       requirement="APPEND with a synchronizing literal gets a continuation request, is answered OK, and the message "
                   "is then in the mailbox.", needs=ACCOUNT, tags=["append", "literal"])
async def append_ok(ctx):
    async with filled(ctx, [], select=False) as f:
        completion = await f.client.append(f.name, PLAIN)
        ctx.expect(bool(completion.continuations) and completion.ok, "a continuation request, then OK", "+ ...; OK",
                   completion.show())
        await f.client.select(f.name)
        _, items = await fetch(ctx, f.client, "1 (BODY.PEEK[])")
        ctx.expect(items.get(1, {}).get("BODY[]") == PLAIN, "the mailbox holds the message", PLAIN.decode(),
                   str(items.get(1)))


@probe("imap.append.flags", rfc="rfc3501#6.3.11 rfc9051#6.3.12", level="SHOULD",
       requirement="APPEND with a flag list sets those flags on the new message.", needs=ACCOUNT,
       tags=["append", "flags"])
async def append_flags(ctx):
    async with filled(ctx, [PLAIN], flags=["\\Flagged \\Draft"]) as f:
        completion, items = await fetch(ctx, f.client, "1 (FLAGS)")
        ctx.expect(lower(items.get(1, {}).get("FLAGS")) - {"\\recent"} == {"\\flagged", "\\draft"},
                   "the message has \\Flagged and \\Draft", "FLAGS (\\Flagged \\Draft)", completion.show())


@probe("imap.append.internaldate", rfc="rfc3501#6.3.11 rfc3501#2.3.3 rfc9051#6.3.12", level="SHOULD",
       requirement="APPEND with a date-time sets the message's internal date to it.", needs=ACCOUNT,
       tags=["append", "date"])
async def append_date(ctx):
    date = "05-Mar-2002 14:15:16 +0100"
    async with filled(ctx, [PLAIN], dates=[date]) as f:
        completion, items = await fetch(ctx, f.client, "1 (INTERNALDATE)")
        got = items.get(1, {}).get("INTERNALDATE")
        ctx.expect(instant(got) == instant(date), "INTERNALDATE is the date given (the same instant, in any zone)",
                   f'"{date}"', completion.show())


@probe("imap.append.trycreate", rfc="rfc3501#6.3.11 rfc9051#6.3.12", level="MUST",
       requirement="APPEND to a mailbox that does not exist is answered NO with [TRYCREATE], and the mailbox is not "
                   "created.", needs=ACCOUNT, tags=["append", "errors"])
async def append_trycreate(ctx):
    client = await ctx.imap(login=True)
    missing = scratch.name(ctx, "missing")
    try:
        completion = await client.append(missing, PLAIN)
        listed = await client.command(f'LIST "" {astring(missing)}')
        ctx.expect(completion.status == "NO" and completion.code == "TRYCREATE" and not listed.data("LIST"),
                   "NO [TRYCREATE], and the name still does not exist", "NO [TRYCREATE] ...",
                   f"{completion.show()}\n{listed.show()}")
    finally:
        await scratch.cleanup(ctx, missing)


@probe("imap.append.recent", rfc="rfc3501#6.3.11 rfc3501#2.3.2", level="MUST",
       requirement="An appended message has the \\Recent flag: the first session to select the mailbox sees it.",
       needs=ACCOUNT + ["IMAP4REV1"], tags=["append", "recent"])
async def append_recent(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (FLAGS)")
        ctx.expect(f.info.recent == 1 and "\\recent" in lower(items.get(1, {}).get("FLAGS")),
                   "SELECT reports 1 RECENT and the message's flags include \\Recent", "* 1 RECENT; FLAGS (\\Recent)",
                   f"{f.selected.show()}\n{completion.show()}")


@probe("imap.append.8bit-preserved", rfc="rfc3501#6.3.11 rfc9051#6.3.12", level="MUST",
       requirement="An APPENDed message with an 8-bit body is kept, or reversibly converted with a MIME content "
                   "transfer encoding: its decoded body is the one sent.", needs=ACCOUNT, tags=["append", "8bit"])
async def append_8bit(ctx):
    async with filled(ctx, [EIGHTBIT]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY.PEEK[TEXT] BODY.PEEK[HEADER.FIELDS "
                                                       "(Content-Transfer-Encoding)])")
        data = items.get(1, {})
        body = data.get("BODY[TEXT]") or b""
        cte = next((v for k, v in data.items() if k.startswith("BODY[HEADER.FIELDS")), b"") or b""
        cte = cte.split(b":", 1)[1].strip().lower() if b":" in cte else b""
        decoded = body
        if cte == b"base64":
            decoded = base64.b64decode(body)
        elif cte == b"quoted-printable":
            decoded = quopri.decodestring(body)
        ctx.expect(decoded.replace(b"\r\n", b"\n") == EIGHTBIT_BODY.replace(b"\r\n", b"\n"),
                   "the body decodes to the 8-bit text sent", EIGHTBIT_BODY.decode(), completion.show())
