"""Probes of deleting: DELE only marks a message, RSET unmarks, and only QUIT from the TRANSACTION state (the
UPDATE state) removes what is marked; a session that ends any other way removes nothing (RFC 1939 sections
5 and 6). And the exclusive lock a session holds on its maildrop (section 4, RFC 2449 section 8.1.2).
"""
from __future__ import annotations

from conformance.fill import maildrop, pop3_account
from conformance.registry import probe

from .messages import DOTS_BODY, LINES_BODY, PLAIN_BODY, UNIQUE_ID_RE, listing, messages, stat_values

NEEDS = ["maildrop"]
TIMEOUT = 30


async def stat(ctx, client) -> tuple[int, int]:
    reply = await client.cmd("STAT")
    values = stat_values(reply.text) if reply.ok else None
    ctx.setup(values is not None, "STAT gives a drop listing", "+OK nn mm", reply.show())
    return values


async def dele(ctx, client, n: int) -> None:
    reply = await client.cmd(f"DELE {n}")
    ctx.setup(reply.ok, f"DELE {n} is accepted", "+OK", reply.show())


async def uids(ctx, client) -> dict[int, str] | None:
    """The unique-id listing, or None when the server has no UIDL."""
    if "UIDL" not in ctx.cap("pop3").keywords:
        return None
    reply = await client.multiline("UIDL")
    found = listing(reply.lines, UNIQUE_ID_RE) if reply.ok else None
    ctx.setup(found is not None, "UIDL lists the messages", "n uid", reply.show())
    return found


@probe("pop3.dele.hidden-from-listings", rfc="rfc1939#5", level="MUST",
       requirement="DELE marks a message as deleted: it is answered +OK, and STAT and LIST then leave the message out "
                   "(count and size) while the session lasts.", needs=NEEDS, tags=["dele", "stat", "list"],
       timeout=TIMEOUT)
async def dele_hides(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY, LINES_BODY)):
        client = await ctx.pop3(login=True)
        before = await stat(ctx, client)
        reply = await client.multiline("LIST")
        sizes = listing(reply.lines) if reply.ok else None
        ctx.setup(sizes is not None and len(sizes) == len(msgs), "LIST lists every message", "n size", reply.show())
        reply = await client.cmd("DELE 2")
        ctx.expect(reply.ok, "DELE 2 is answered +OK", "+OK", reply.show())
        after = await stat(ctx, client)
        expected = (before[0] - 1, before[1] - int(sizes[2]))
        ctx.expect(after == expected, "STAT no longer counts message 2", f"+OK {expected[0]} {expected[1]}",
                   f"+OK {after[0]} {after[1]}")
        reply = await client.multiline("LIST")
        ctx.expect(reply.ok and listing(reply.lines) == {1: sizes[1], 3: sizes[3]},
                   "LIST lists messages 1 and 3 only", f"1 {sizes[1]}\n3 {sizes[3]}", reply.show())


@probe("pop3.dele.deleted-message-err", rfc="rfc1939#5", level="MUST",
       requirement="A message marked as deleted cannot be referred to: DELE, RETR and LIST of its number are "
                   "answered -ERR.", needs=NEEDS, tags=["dele", "errors"], timeout=TIMEOUT)
async def deleted_message_err(ctx):
    async with maildrop(ctx, messages(ctx, PLAIN_BODY, DOTS_BODY)):
        client = await ctx.pop3(login=True)
        await dele(ctx, client, 1)
        for command in ("DELE 1", "RETR 1", "LIST 1"):
            reply = await (client.multiline(command) if command.startswith("RETR") else client.cmd(command))
            ctx.expect(reply.err, f"{command} after DELE 1 is refused", "-ERR", reply.show())


@probe("pop3.retr.no-such-message-err", rfc="rfc1939#5", level="MUST",
       requirement="RETR of a message-number with no message (one past the last, and 0) is answered -ERR.",
       needs=NEEDS, tags=["retr", "errors"], timeout=TIMEOUT)
async def retr_no_such_message(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY)):
        client = await ctx.pop3(login=True)
        for n in (len(msgs) + 1, 0):
            reply = await client.multiline(f"RETR {n}")
            ctx.expect(reply.err, f"RETR {n} is refused", "-ERR", reply.show())


@probe("pop3.rset.unmarks", rfc="rfc1939#5", level="MUST",
       requirement="RSET unmarks every message marked as deleted and is answered +OK: STAT counts them again and RETR "
                   "works on them.", needs=NEEDS, tags=["rset", "dele"], timeout=TIMEOUT)
async def rset_unmarks(ctx):
    async with maildrop(ctx, messages(ctx, PLAIN_BODY, DOTS_BODY)):
        client = await ctx.pop3(login=True)
        before = await stat(ctx, client)
        await dele(ctx, client, 1)
        await dele(ctx, client, 2)
        reply = await client.cmd("RSET")
        ctx.expect(reply.ok, "RSET is answered +OK", "+OK", reply.show())
        after = await stat(ctx, client)
        ctx.expect(after == before, "STAT counts the unmarked messages again", f"+OK {before[0]} {before[1]}",
                   f"+OK {after[0]} {after[1]}")
        reply = await client.multiline("RETR 1")
        ctx.expect(reply.ok, "RETR 1 works again after RSET", "+OK", reply.show())


@probe("pop3.quit.commits-deletions", rfc="rfc1939#6", level="MUST",
       requirement="QUIT from the TRANSACTION state removes the messages marked as deleted, and only those: a new "
                   "session finds the others, and not the deleted one.", needs=NEEDS, tags=["quit", "dele"],
       timeout=TIMEOUT)
async def quit_commits(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY, LINES_BODY)):
        client = await ctx.pop3(login=True)
        before = await uids(ctx, client)
        await dele(ctx, client, 2)
        reply = await client.cmd("QUIT")
        ctx.expect(reply.ok, "QUIT after DELE is answered +OK", "+OK", reply.show())
        await client.wire.close()
        client = await ctx.pop3(login=True)
        count, _ = await stat(ctx, client)
        ctx.expect(count == len(msgs) - 1, "the next session finds one message fewer", f"{len(msgs) - 1} messages",
                   f"{count} messages")
        after = await uids(ctx, client)
        if before is not None:
            ctx.expect(set(after.values()) == {before[1], before[3]}, "the deleted message is gone, the others stayed",
                       f"{before[1]} {before[3]}", " ".join(after.values()))


@probe("pop3.quit.dropped-connection-removes-nothing", rfc="rfc1939#6 rfc1939#8", level="MUST",
       requirement="A session that ends without QUIT (the connection dropped) does not enter UPDATE: messages marked "
                   "as deleted in it are all still there in the next session.", needs=NEEDS, tags=["quit", "dele"],
       timeout=TIMEOUT)
async def dropped_connection(ctx):
    async with maildrop(ctx, msgs := messages(ctx, PLAIN_BODY, DOTS_BODY)):
        client = await ctx.pop3(login=True)
        before = await uids(ctx, client)
        for n in range(1, len(msgs) + 1):
            await dele(ctx, client, n)
        ctx.transcript.note(client.wire.label, "dropping the connection without QUIT")
        await client.wire.close()
        client = await ctx.pop3(login=True)
        count, _ = await stat(ctx, client)
        ctx.expect(count == len(msgs), "every message is still there", f"{len(msgs)} messages", f"{count} messages")
        after = await uids(ctx, client)
        if before is not None:
            ctx.expect(after == before, "with the same unique-ids", str(before), str(after))


@probe("pop3.lock.second-session-refused", rfc="rfc1939#4", level="SHOULD",
       requirement="While one session holds the maildrop in the TRANSACTION state, a second login to the same "
                   "maildrop is refused with -ERR (the exclusive-access lock).", needs=["account"], tags=["lock"],
       timeout=TIMEOUT)
async def second_session_refused(ctx):
    account = pop3_account(ctx)
    async with maildrop(ctx, []):
        await ctx.pop3(login=True)  # the first session, left in the TRANSACTION state
        second = await ctx.pop3()
        reply = await _raw_login(ctx, second, account)
        ctx.expect(reply.err, "a second login while the first session holds the maildrop is refused", "-ERR",
                   reply.show())


async def _raw_login(ctx, client, account):
    """A login that does not retry on [IN-USE]: the refusal is what is observed here."""
    if "USER" not in ctx.cap("pop3").keywords and "SASL=PLAIN" in ctx.cap("pop3").keywords:
        return await client.auth_plain(account.user, account.password)
    return await client.login(account.user, account.password)


@probe("pop3.lock.in-use-code", rfc="rfc2449#8.1.2 rfc2449#6.4", level="SHOULD",
       requirement="A server advertising RESP-CODES marks the refusal of a login to a maildrop in use with the "
                   "[IN-USE] response code.", needs=["account", "RESP-CODES"], tags=["lock", "resp-codes"],
       timeout=TIMEOUT)
async def in_use_code(ctx):
    account = pop3_account(ctx)
    async with maildrop(ctx, []):
        await ctx.pop3(login=True)
        reply = await _raw_login(ctx, await ctx.pop3(), account)
        ctx.require(reply.err, "the server lets a second session into the maildrop (pop3.lock.second-session-refused "
                               "reports that), so there is no refusal to carry [IN-USE]")
        ctx.expect(reply.code == "IN-USE", "the refusal carries [IN-USE]", "-ERR [IN-USE] ...", reply.show())


@probe("pop3.lock.released-after-quit", rfc="rfc1939#6 rfc1939#4", level="MUST",
       requirement="QUIT releases the maildrop's lock before the server closes the connection: a login once the "
                   "previous session has ended with QUIT succeeds.",
       needs=["account"], tags=["lock", "quit"], timeout=TIMEOUT)
async def released_after_quit(ctx):
    account = pop3_account(ctx)
    async with maildrop(ctx, []):
        client = await ctx.pop3(login=True)
        reply = await client.cmd("QUIT")
        ctx.setup(reply.ok, "QUIT is answered +OK", "+OK", reply.show())
        await client.wire.wait_closed()  # RFC 1939 6: the lock is released, then the connection closed
        reply = await _raw_login(ctx, await ctx.pop3(), account)
        ctx.expect(reply.ok, "the next login is not refused", "+OK", reply.show())
