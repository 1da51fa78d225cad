"""Test data for the POP3 checks: whose maildrop they use, how it is emptied, and how it is filled.

POP3 has no command that adds a message, so a check that needs messages puts them in through the side
channel the target profile names (DESIGN.md, "Test data on real servers"):

    [pop3]
    fill = "smtp"     the harness's own SMTP client delivers them to the account's address
    fill = "imap"     Python's imaplib APPENDs them to the account's INBOX, logged in as the account

Without `fill` the checks that need messages skip, saying so.

Whose maildrop: `[pop3] user` if the profile names one, else the first account that is not the read-back
mailbox (so SMTP checks reading back their mail never find it emptied under them), else the first account.

One maildrop, one session at a time: POP3 servers lock a maildrop while a session is in the TRANSACTION
state, and each check must know exactly what is in it. So every check that logs in holds the run-wide lock
`pop3:<user>` (`account_lock`, over CheckContext.exclusive) for its whole run: checks on one account take
turns, checks that do not log in run beside them. Before passing the lock on, a check ends its sessions
with QUIT and waits for the server to close them (RFC 1939 6: the lock is released, then the connection
closed), so the next check does not find the maildrop still locked. A check that fills the maildrop
empties it (DELE all, QUIT) before filling it, so it knows what is there, and empties it again at the end.
"""
from __future__ import annotations

import asyncio
import contextlib
import imaplib
import time

from .target import Account

ARRIVAL_TIMEOUT = 10.0  # seconds for SMTP-submitted messages to show up in the maildrop
IN_USE_RETRY = 3.0  # seconds a login retries while the server still holds the lock of a session just closed
NO_FILL = "no way to put messages into a POP3 maildrop is given ([pop3] fill = \"smtp\" or \"imap\" in a profile)"


def account_lock(ctx, account: Account):
    """Hold the account's run-wide lock for the block; its sessions are ended before the lock passes on."""
    return ctx.exclusive(f"pop3:{account.user}", release=lambda: end_sessions(ctx))


async def end_sessions(ctx) -> None:
    """QUIT every session of the check still open, and wait (briefly) for the server to close it."""
    for session in ctx.sessions:
        if session.closed:
            continue
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                ctx.transcript.note(session.label, "ending the session, so the maildrop is free for the next check")
                await session.send(b"QUIT\r\n")
                await session.wait_closed(1.5)
        await session.close()


def pop3_account(ctx) -> Account:
    t = ctx.target
    ctx.require(bool(t.accounts), "no account given (user:pass@ in the URL, or [[accounts]] in a profile)")
    if t.pop3_user:
        return next(a for a in t.accounts if a.user == t.pop3_user)
    readback_user = t.readback.user if t.readback else None
    others = [a for a in t.accounts if a.user != readback_user]
    return (others or t.accounts)[0]


async def pop3_login(ctx, client, account: Account):
    """Log in with USER/PASS (or AUTH PLAIN when only SASL is offered); the final response. While the
    server answers [IN-USE] (a session of ours that just ended still holds the maildrop), try again."""
    keywords = ctx.cap("pop3").keywords
    use_sasl = "USER" not in keywords and "SASL=PLAIN" in keywords
    deadline = time.monotonic() + IN_USE_RETRY
    while True:
        if use_sasl:
            reply = await client.auth_plain(account.user, account.password)
        else:
            reply = await client.login(account.user, account.password)
        if reply.ok or reply.code != "IN-USE" or client.wire.closed or time.monotonic() > deadline:
            return reply
        await asyncio.sleep(0.2)


async def empty(ctx, client) -> int:
    """Delete every message through a logged-in session and QUIT; the number deleted."""
    stat = await client.cmd("STAT")
    words = stat.text.split()
    ctx.setup(stat.ok and bool(words) and words[0].isdigit(), "STAT tells how many messages to delete",
              "+OK nn mm", stat.show())
    count = int(words[0])
    for n in range(1, count + 1):
        reply = await client.cmd(f"DELE {n}")
        ctx.setup(reply.ok, f"DELE {n} (emptying the maildrop) is accepted", "+OK", reply.show())
    reply = await client.cmd("QUIT")
    ctx.setup(reply.ok, "QUIT after emptying the maildrop is accepted", "+OK", reply.show())
    await client.wire.close()
    return count


async def stat_count(ctx, account: Account) -> int:
    client = await ctx.pop3(login=True, account=account, label="fill")
    stat = await client.cmd("STAT")
    await client.quit()
    await client.wire.close()
    words = stat.text.split()
    ctx.setup(stat.ok and bool(words) and words[0].isdigit(), "STAT is answered +OK nn mm", "+OK nn mm",
              stat.show())
    return int(words[0])


async def fill(ctx, account: Account, messages: list[bytes]) -> None:
    """Put `messages` (CRLF line ends) into the account's maildrop through the channel the profile names.
    Returns once they are there. No POP3 session of this account may be open meanwhile."""
    channel = ctx.target.pop3_fill
    ctx.require(channel is not None, NO_FILL)
    if channel == "imap":
        ep = ctx.endpoint("imap")
        ctx.transcript.note("fill", f"APPEND {len(messages)} message(s) to {account.user}'s INBOX at {ep.url()}")
        try:
            await asyncio.to_thread(_append, ep, account, messages, ctx.tls_context(), ctx.options.read_timeout)
        except (imaplib.IMAP4.error, OSError) as exc:
            ctx.setup(False, f"IMAP APPEND to {account.user}'s INBOX at {ep.url()} succeeds", "OK",
                      f"{type(exc).__name__}: {exc}")
        return
    ctx.require(bool(account.address), f"account {account.user} has no address to deliver to "
                                       "([[accounts]] address in the profile)")
    before = await stat_count(ctx, account)
    client = await ctx.smtp(label="fill")
    for msg in messages:
        await ctx.transaction(client, rcpts=[account.address])
        first, final = await client.data(msg)
        ctx.setup(final is not None and final.code == 250, f"SMTP delivers a message to {account.address}",
                  "250", str(final or first))
    await client.quit()
    await client.wire.close()
    deadline = time.monotonic() + ARRIVAL_TIMEOUT
    while (count := await stat_count(ctx, account)) < before + len(messages) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    ctx.setup(count == before + len(messages), f"the {len(messages)} message(s) sent over SMTP arrive in "
              f"{account.user}'s maildrop", f"{before + len(messages)} messages", f"{count} messages")


def _append(ep, account: Account, messages: list[bytes], tls_ctx, timeout: float) -> None:
    if ep.implicit_tls:
        conn = imaplib.IMAP4_SSL(ep.host, ep.port, ssl_context=tls_ctx, timeout=timeout)
    else:
        conn = imaplib.IMAP4(ep.host, ep.port, timeout=timeout)
    try:
        if ep.starttls_required:
            conn.starttls(tls_ctx)
        conn.login(account.user, account.password)
        for msg in messages:
            typ, data = conn.append("INBOX", None, None, msg)
            if typ != "OK":
                raise imaplib.IMAP4.error(f"APPEND answered {typ} {data!r}")
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


@contextlib.asynccontextmanager
async def maildrop(ctx, messages: list[bytes]):
    """The POP3 account's maildrop holding exactly `messages`, for the duration of the block (the account
    is locked meanwhile); yields the account. Emptied again afterwards, best effort."""
    account = pop3_account(ctx)
    async with account_lock(ctx, account):
        await empty(ctx, await ctx.pop3(login=True, account=account, label="setup"))
        if messages:
            await fill(ctx, account, messages)
        try:
            yield account
        finally:
            await _clean_up(ctx, account)


async def _clean_up(ctx, account: Account) -> None:
    await end_sessions(ctx)  # a session left in TRANSACTION would keep the maildrop locked
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5.0):
            ctx.transcript.note("cleanup", "emptying the maildrop again")
            await empty(ctx, await ctx.pop3(login=True, account=account, label="cleanup"))
