"""Probes of article selection and retrieval (RFC 3977 sections 6.1 and 6.2): the current article number,
NEXT and LAST, ARTICLE, HEAD, BODY and STAT by number and by message-id, and dot-stuffing of article text.

Each probe posts its own articles to a scratch group (setup), so it knows their numbers and content. Other
checks post to the same group meanwhile; since articles are never removed and new ones always get higher
numbers, the probes judge against a LISTGROUP snapshot taken after their own articles became readable.
"""
from __future__ import annotations

from conformance.dialects.nntp import article_ref, header, split_article
from conformance.registry import probe

from .common import POST_NEEDS, post, select

BODY = "first line\r\nsecond line\r\n"
DOTS_BODY = b".\r\n..\r\n.leading dot\r\n...\r\nplain\r\n. space\r\n"


async def two_articles(ctx):
    """A session with two freshly posted articles a < b in the first scratch group, that group selected, and
    the numbers of the group (a LISTGROUP snapshot)."""
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof nav a", body=BODY)
    b = await post(ctx, client, subject="wireproof nav b", body=BODY)
    ctx.setup(a.number < b.number, "the second article has the higher number", f"> {a.number}", str(b.number))
    listed = await client.cmd(f"LISTGROUP {a.group}")
    ctx.setup(listed.code == 211, f"LISTGROUP {a.group} is answered 211", "211", listed.show())
    numbers = [int(x) for x in (line.strip() for line in listed.lines) if x.isdigit()]
    return client, a, b, numbers


def expect_ref(ctx, response, number: int | None, message_id: str, what: str, code: int = 223) -> None:
    ref = article_ref(response)
    want = f"{code} {number if number is not None else '0|n'} {message_id}"
    ok = response.code == code and ref is not None and ref[1] == message_id and (number is None or ref[0] == number)
    ctx.expect(ok, what, want, response.show())


@probe("nntp.article.by-number", rfc="rfc3977#6.2.1.2 rfc3977#6.2", level="MUST",
       requirement="ARTICLE with a number is answered 220 n message-id and the whole article, headers, empty line "
                   "and body, the body unaltered.", needs=POST_NEEDS, tags=["article"])
async def article_by_number(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof article", body=BODY)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"ARTICLE {a.number}")
    expect_ref(ctx, reply, a.number, a.message_id, f"ARTICLE {a.number} names the article", 220)
    fields, body = split_article(reply.content)
    ctx.expect(header(fields, "Message-ID") == a.message_id and body == a.body,
               "the article comes back with its Message-ID header and its body unaltered",
               a.body.decode(), reply.show())


@probe("nntp.article.by-message-id", rfc="rfc3977#6.2.1.2", level="MUST",
       requirement="ARTICLE with a message-id is answered 220 with the message-id and, as article number, 0 or the "
                   "article's number in the selected group, followed by the article.", needs=POST_NEEDS,
       tags=["article"])
async def article_by_message_id(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof article by id", body=BODY)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"ARTICLE {a.message_id}")
    ref = article_ref(reply)
    ctx.expect(reply.code == 220 and ref is not None and ref[1] == a.message_id and ref[0] in (0, a.number),
               f"ARTICLE {a.message_id} is answered 220 0|{a.number} {a.message_id}",
               f"220 0|{a.number} {a.message_id}", reply.show())
    ctx.expect(split_article(reply.content)[1] == a.body, "the body is the one posted", a.body.decode(), reply.show())


@probe("nntp.article.message-id-keeps-pointer", rfc="rfc3977#6.2.1.2 rfc3977#6.2.4.3", level="MUST",
       requirement="ARTICLE and STAT by message-id change neither the selected group nor the current article "
                   "number.", needs=POST_NEEDS, tags=["article", "state"])
async def message_id_keeps_pointer(ctx):
    client, a, b, _ = await two_articles(ctx)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"STAT {a.number}")
    ctx.setup(reply.code == 223, f"STAT {a.number} is answered 223", "223", reply.show())
    for command in (f"ARTICLE {b.message_id}", f"STAT {b.message_id}"):
        got = await client.cmd(command)
        ctx.setup(got.code in (220, 223), f"{command} finds the article", "220|223", got.show())
        expect_ref(ctx, await client.cmd("STAT"), a.number, a.message_id,
                   f"after {command.split()[0]} by message-id the current article is still {a.number}")


@probe("nntp.article.number-sets-pointer", rfc="rfc3977#6.2.1.2", level="MUST",
       requirement="ARTICLE with the number of an existing article makes it the current article.",
       needs=POST_NEEDS, tags=["article", "state"])
async def number_sets_pointer(ctx):
    client, a, b, _ = await two_articles(ctx)
    await select(ctx, client, a.group)
    got = await client.cmd(f"ARTICLE {b.number}")
    ctx.setup(got.code == 220, f"ARTICLE {b.number} is answered 220", "220", got.show())
    expect_ref(ctx, await client.cmd("STAT"), b.number, b.message_id, f"STAT then names article {b.number}")


@probe("nntp.article.failure-keeps-pointer", rfc="rfc3977#6.2.1.2", level="MUST",
       requirement="An ARTICLE that fails (423, no such number) leaves the current article number unchanged.",
       needs=POST_NEEDS, tags=["article", "state"])
async def failure_keeps_pointer(ctx):
    client, a, b, _ = await two_articles(ctx)
    await select(ctx, client, a.group)
    ctx.setup((await client.cmd(f"STAT {b.number}")).code == 223, f"STAT {b.number} is answered 223", "223", "")
    got = await client.cmd("ARTICLE 2147483647")
    ctx.setup(got.code == 423, "ARTICLE 2147483647 is answered 423", "423", got.show())
    expect_ref(ctx, await client.cmd("STAT"), b.number, b.message_id, f"the current article is still {b.number}")


@probe("nntp.head.by-number", rfc="rfc3977#6.2.2.2", level="MUST",
       requirement="HEAD with a number is answered 221 n message-id and the headers only, without the empty line.",
       needs=POST_NEEDS, tags=["head"])
async def head_by_number(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof head", body=BODY)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"HEAD {a.number}")
    expect_ref(ctx, reply, a.number, a.message_id, f"HEAD {a.number} names the article", 221)
    lines = reply.lines
    ctx.expect(bool(lines) and "" not in lines and any(l.lower().startswith("subject: wireproof head") for l in lines),
               "the data block holds the header lines, with no empty line and no body", "header lines only",
               reply.show())


@probe("nntp.body.by-number", rfc="rfc3977#6.2.3.2", level="MUST",
       requirement="BODY with a number is answered 222 n message-id and the body only, unaltered.",
       needs=POST_NEEDS, tags=["body"])
async def body_by_number(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof body", body=BODY)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"BODY {a.number}")
    expect_ref(ctx, reply, a.number, a.message_id, f"BODY {a.number} names the article", 222)
    ctx.expect(reply.content == a.body, "the data block is exactly the body", a.body.decode(), reply.show())


@probe("nntp.body.by-message-id", rfc="rfc3977#6.2.3.2 rfc3977#6.2.1.2", level="MUST",
       requirement="BODY with a message-id is answered 222 0|n message-id and the body.", needs=POST_NEEDS,
       tags=["body"])
async def body_by_message_id(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof body by id", body=BODY)
    reply = await client.cmd(f"BODY {a.message_id}")
    expect_ref(ctx, reply, None, a.message_id, f"BODY {a.message_id} names the article", 222)
    ctx.expect(reply.content == a.body, "the data block is exactly the body", a.body.decode(), reply.show())


@probe("nntp.stat.by-number", rfc="rfc3977#6.2.4.2", level="MUST",
       requirement="STAT with a number is answered 223 n message-id on a single line, no article text following.",
       needs=POST_NEEDS, tags=["stat"])
async def stat_by_number(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof stat", body=BODY)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"STAT {a.number}")
    expect_ref(ctx, reply, a.number, a.message_id, f"STAT {a.number} names the article")
    date = await client.cmd("DATE")
    ctx.expect(date.code == 111, "nothing followed the 223 line: the next response is DATE's 111", "111",
               date.show())


@probe("nntp.stat.by-message-id", rfc="rfc3977#6.2.4.2 rfc3977#6.2.1.2", level="MUST",
       requirement="STAT with a message-id is answered 223 0|n message-id, n only when that number names the "
                   "article in the selected group.", needs=POST_NEEDS, tags=["stat"])
async def stat_by_message_id(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof stat by id", body=BODY)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"STAT {a.message_id}")
    ref = article_ref(reply)
    ctx.expect(reply.code == 223 and ref is not None and ref[1] == a.message_id and ref[0] in (0, a.number),
               f"STAT {a.message_id} is answered 223 0|{a.number}", f"223 0|{a.number} {a.message_id}", reply.show())


@probe("nntp.article.dot-stuffing", rfc="rfc3977#3.1.1 rfc3977#6.3.1.2", level="MUST",
       requirement="Lines of an article that start with a dot survive POST and ARTICLE: the server undoes the "
                   "client's dot-stuffing and stuffs them again in its response.", needs=POST_NEEDS,
       tags=["article", "post", "dot-stuffing"])
async def dot_stuffing(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof dots", body=DOTS_BODY)
    reply = await client.cmd(f"BODY {a.message_id}")
    ctx.setup(reply.code == 222, f"BODY {a.message_id} is answered 222", "222", reply.show())
    ctx.expect(reply.content == DOTS_BODY, "the body's dot lines come back exactly as posted",
               DOTS_BODY.decode(), reply.show())
    date = await client.cmd("DATE")
    ctx.expect(date.code == 111, "the data block ended at its real terminating line: DATE is answered next", "111",
               date.show())


# --- NEXT and LAST --------------------------------------------------------------------------------------------

@probe("nntp.group.sets-first-article", rfc="rfc3977#6.1.1.2", level="MUST",
       requirement="GROUP makes the group's first article the current one, also when the group was already "
                   "selected with another current article.", needs=POST_NEEDS, tags=["group", "state"])
async def group_sets_first(ctx):
    client, a, b, numbers = await two_articles(ctx)
    await select(ctx, client, a.group)
    first = await client.cmd("STAT")
    ref = article_ref(first)
    ctx.expect(first.code == 223 and ref is not None and ref[0] == numbers[0],
               "after GROUP, STAT names the first article", f"223 {numbers[0]} ...", first.show())
    ctx.setup((await client.cmd(f"STAT {b.number}")).code == 223, f"STAT {b.number} is answered 223", "223", "")
    await select(ctx, client, a.group)
    again = await client.cmd("STAT")
    ref = article_ref(again)
    ctx.expect(again.code == 223 and ref is not None and ref[0] == numbers[0],
               "after GROUP again, STAT names the first article again", f"223 {numbers[0]} ...", again.show())


@probe("nntp.next.advances", rfc="rfc3977#6.1.4.2", level="MUST",
       requirement="NEXT makes the lowest existing article number above the current one current and answers 223 with "
                   "its number and message-id.", needs=POST_NEEDS, tags=["next", "state"])
async def next_advances(ctx):
    client, a, b, numbers = await two_articles(ctx)
    await select(ctx, client, a.group)
    ctx.setup((await client.cmd(f"STAT {a.number}")).code == 223, f"STAT {a.number} is answered 223", "223", "")
    want = next(n for n in numbers if n > a.number)
    reply = await client.cmd("NEXT")
    ref = article_ref(reply)
    ctx.expect(reply.code == 223 and ref is not None and ref[0] == want, f"NEXT from {a.number} goes to {want}",
               f"223 {want} <...>", reply.show())
    if want == b.number:
        ctx.expect(ref[1] == b.message_id, "with the message-id of that article", b.message_id, reply.show())


@probe("nntp.last.goes-back", rfc="rfc3977#6.1.3.2", level="MUST",
       requirement="LAST makes the highest existing article number below the current one current and answers 223 "
                   "with its number and message-id.", needs=POST_NEEDS, tags=["last", "state"])
async def last_goes_back(ctx):
    client, a, b, numbers = await two_articles(ctx)
    await select(ctx, client, a.group)
    ctx.setup((await client.cmd(f"STAT {b.number}")).code == 223, f"STAT {b.number} is answered 223", "223", "")
    want = max(n for n in numbers if n < b.number)
    reply = await client.cmd("LAST")
    ref = article_ref(reply)
    ctx.expect(reply.code == 223 and ref is not None and ref[0] == want, f"LAST from {b.number} goes to {want}",
               f"223 {want} <...>", reply.show())


@probe("nntp.last.at-first-422", rfc="rfc3977#6.1.3.2", level="MUST",
       requirement="LAST on the group's first article is answered 422 and leaves the current article unchanged.",
       needs=POST_NEEDS, tags=["last", "state"])
async def last_at_first(ctx):
    client, a, b, numbers = await two_articles(ctx)
    await select(ctx, client, a.group)
    first = await client.cmd(f"STAT {numbers[0]}")
    ref = article_ref(first)
    ctx.setup(ref is not None, f"STAT {numbers[0]} is answered 223", "223", first.show())
    reply = await client.cmd("LAST")
    ctx.expect(reply.code == 422, "LAST from the first article is answered 422", "422", reply.show())
    expect_ref(ctx, await client.cmd("STAT"), numbers[0], ref[1], "the current article is still the first one")


@probe("nntp.next.at-last-421", rfc="rfc3977#6.1.4.2 rfc3977#6.1.3.2", level="MUST",
       requirement="NEXT on the group's last article is answered 421 and leaves the current article unchanged.",
       needs=POST_NEEDS, tags=["next", "state"], exclusive=True)
async def next_at_last(ctx):
    client, a, b, numbers = await two_articles(ctx)
    await select(ctx, client, a.group)
    current = numbers[-1]
    for _ in range(20):  # it runs alone, but other clients may post meanwhile: follow them to the end
        stat = await client.cmd(f"STAT {current}")
        ref = article_ref(stat)
        ctx.setup(ref is not None, f"STAT {current} is answered 223", "223", stat.show())
        reply = await client.cmd("NEXT")
        moved = article_ref(reply)
        if reply.code == 223 and moved is not None and moved[0] > current:
            current = moved[0]  # a newer article arrived after the snapshot
            continue
        ctx.expect(reply.code == 421, f"NEXT from the last article {current} is answered 421", "421", reply.show())
        expect_ref(ctx, await client.cmd("STAT"), current, ref[1], "the current article is unchanged")
        return
    ctx.setup(False, "the group stops growing long enough to reach its last article", "421", "")
