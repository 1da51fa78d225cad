"""Probes of POST (RFC 3977 section 6.3.1) and of the articles it makes (RFC 5536 section 3.1): 340 then 240,
441 for articles the server cannot take, message-ids kept or made, and article numbers that only grow."""
from __future__ import annotations

from conformance.dialects.nntp import (
    article,
    group_info,
    header,
    split_article,
)
from conformance.registry import probe

from .common import POST_NEEDS, group_of, post, select

REQUIRED = ("Date", "From", "Message-ID", "Newsgroups", "Path", "Subject")


@probe("nntp.post.accepted-240", rfc="rfc3977#6.3.1.2", level="MUST",
       requirement="POST is answered 340; the article, sent as a dot-terminated block, is then answered 240.",
       needs=POST_NEEDS, tags=["post"])
async def post_accepted(ctx):
    client = await ctx.nntp()
    data, _ = article(newsgroups=group_of(ctx), token=ctx.token, subject="wireproof post")
    first, final = await client.post(data)
    ctx.expect(first.code == 340, "POST is answered 340", "340", first.show())
    ctx.expect(final is not None and final.code == 240, "the article is answered 240", "240",
               final.show() if final else "")


@probe("nntp.post.readable-by-message-id", rfc="rfc3977#3.6 rfc3977#6.3.1.2", level="MUST",
       requirement="An article accepted with 240 is offered under the message-id its Message-ID header gave.",
       needs=POST_NEEDS, tags=["post"])
async def readable_by_message_id(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof post by id")
    reply = await client.cmd(f"HEAD {a.message_id}")
    fields, _ = split_article(reply.content + b"\r\n")
    ctx.expect(reply.code == 221 and header(fields, "Message-ID") == a.message_id,
               f"HEAD {a.message_id} finds the posted article", f"221 0|n {a.message_id}", reply.show())


@probe("nntp.post.next-number", rfc="rfc3977#6 rfc3977#6.1.1.2", level="MUST",
       requirement="A posted article gets a number above the group's high water mark reported before, and the "
                   "group's high water mark grows to at least that number.", needs=POST_NEEDS, tags=["post", "group"])
async def next_number(ctx):
    client = await ctx.nntp()
    group = group_of(ctx)
    before = await select(ctx, client, group)
    a = await post(ctx, client, subject="wireproof numbering")
    after = await select(ctx, client, group)
    ctx.expect(a.number > before.high, f"the new article's number {a.number} is above the earlier high water mark "
               f"{before.high}", f"> {before.high}", str(a.number))
    ctx.expect(after.high >= a.number, "GROUP's high water mark now reaches the new article", f">= {a.number}",
               str(after.high))


@probe("nntp.post.sequential-number", rfc="rfc3977#6", level="SHOULD",
       requirement="The server gives a new article the next unused number: one more than the group's high water mark.",
       needs=POST_NEEDS, tags=["post", "group"], exclusive=True)
async def sequential_number(ctx):
    client = await ctx.nntp()
    group = group_of(ctx)
    before = await select(ctx, client, group)
    a = await post(ctx, client, subject="wireproof sequential")
    ctx.expect(a.number == before.high + 1, f"the new article is number {before.high + 1}", str(before.high + 1),
               str(a.number))


@probe("nntp.group.count-bounds", rfc="rfc3977#6.1.1.2", level="MUST",
       requirement="For a non-empty group GROUP's estimated count is at least the number of articles and at most "
                   "high - low + 1.", needs=POST_NEEDS, tags=["group"])
async def count_bounds(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof count")
    listed = await client.cmd(f"LISTGROUP {a.group}")
    info = group_info(listed)
    ctx.setup(info is not None, f"LISTGROUP {a.group} is answered 211", "211 n low high group", listed.show())
    actual = len([x for x in listed.lines if x.strip().isdigit()])
    ctx.expect(actual <= info.count <= info.high - info.low + 1,
               f"the count {info.count} lies between the {actual} listed articles and high - low + 1",
               f"{actual} <= count <= {info.high - info.low + 1}", listed.head)


@probe("nntp.group.low-water-never-falls", rfc="rfc3977#6.1.1.2", level="MUST",
       requirement="Within a session, a later GROUP of the same group never reports a lower low water mark.",
       needs=POST_NEEDS, tags=["group"])
async def low_water(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof low water")
    first = await select(ctx, client, a.group)
    await post(ctx, client, subject="wireproof low water 2")
    second = await select(ctx, client, a.group)
    ctx.expect(second.low >= first.low, "the low water mark does not fall", f">= {first.low}", str(second.low))


@probe("nntp.listgroup.numbers", rfc="rfc3977#6.1.2.2", level="MUST",
       requirement="LISTGROUP is answered 211 and the numbers of the group's articles, one per line, in numerical "
                   "order, the posted ones among them.", needs=POST_NEEDS, tags=["listgroup"])
async def listgroup_numbers(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof listgroup")
    reply = await client.cmd(f"LISTGROUP {a.group}")
    lines = [x.strip() for x in reply.lines]
    numbers = [int(x) for x in lines if x.isdigit()]
    ctx.expect(reply.code == 211 and len(numbers) == len(lines) and numbers == sorted(numbers)
               and a.number in numbers, f"the list is numeric, ascending and holds {a.number}",
               f"211 ... and ascending numbers with {a.number}", reply.show())


@probe("nntp.listgroup.range", rfc="rfc3977#6.1.2.2", level="MUST",
       requirement="LISTGROUP with a range lists only the articles within it; a range whose end is below its start "
                   "lists none.", needs=POST_NEEDS, tags=["listgroup"])
async def listgroup_range(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof range")
    one = await client.cmd(f"LISTGROUP {a.group} {a.number}-{a.number}")
    ctx.expect(one.code == 211 and [x.strip() for x in one.lines] == [str(a.number)],
               f"LISTGROUP {a.group} {a.number}-{a.number} lists just {a.number}", f"211 ...\n{a.number}", one.show())
    none = await client.cmd(f"LISTGROUP {a.group} {a.number}-{max(a.number - 1, 0)}")
    ctx.expect(none.code == 211 and none.lines == [], "a range ending below its start lists nothing",
               "211 ... and an empty list", none.show())


@probe("nntp.post.missing-newsgroups-441", rfc="rfc3977#6.3.1.2 rfc5536#3.1", level="SHOULD",
       requirement="An article without a Newsgroups header, which cannot be filed anywhere, is refused with 441 rather "
                   "than accepted.", needs=POST_NEEDS, tags=["post"])
async def missing_newsgroups(ctx):
    client = await ctx.nntp()
    data, _ = article(newsgroups=group_of(ctx), token=ctx.token, subject="wireproof no groups", omit=("Newsgroups",))
    first, final = await client.post(data)
    ctx.setup(first.code == 340, "POST is answered 340", "340", first.show())
    ctx.expect(final is not None and final.code == 441, "the article without Newsgroups is answered 441", "441",
               final.show() if final else "")


@probe("nntp.post.missing-from-441", rfc="rfc3977#6.3.1.2 rfc5536#3.1", level="SHOULD",
       requirement="An article without a From header is refused with 441 rather than accepted.", needs=POST_NEEDS,
       tags=["post"])
async def missing_from(ctx):
    client = await ctx.nntp()
    data, _ = article(newsgroups=group_of(ctx), token=ctx.token, subject="wireproof no from", omit=("From",))
    first, final = await client.post(data)
    ctx.setup(first.code == 340, "POST is answered 340", "340", first.show())
    ctx.expect(final is not None and final.code == 441, "the article without From is answered 441", "441",
               final.show() if final else "")


@probe("nntp.post.duplicate-message-id-441", rfc="rfc3977#3.6 rfc3977#6.3.1.2", level="SHOULD",
       requirement="A second article with a message-id the server already has is refused with 441 (two articles "
                   "must never share a message-id, and unwanted articles should be refused, not dropped).",
       needs=POST_NEEDS, tags=["post"])
async def duplicate(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof original")
    data, _ = article(newsgroups=a.group, token=ctx.token, subject="wireproof duplicate", message_id=a.message_id)
    first, final = await client.post(data)
    ctx.setup(first.code == 340, "POST is answered 340", "340", first.show())
    ctx.expect(final is not None and final.code == 441, "the second article with the same message-id is answered 441",
               "441", final.show() if final else "")


@probe("nntp.post.duplicate-keeps-first", rfc="rfc3977#3.6", level="MUST",
       requirement="After a second POST with the same message-id, the server still offers exactly the first article "
                   "under it.", needs=POST_NEEDS, tags=["post"])
async def duplicate_keeps_first(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof first of two", body="the first body\r\n")
    data, _ = article(newsgroups=a.group, token=ctx.token, subject="wireproof second of two",
                      message_id=a.message_id, body="the second body\r\n")
    first, final = await client.post(data)
    ctx.setup(first.code == 340 and final is not None, "the second POST gets to its final response", "340 then 2xx/4xx",
              (final or first).show())
    reply = await client.cmd(f"BODY {a.message_id}")
    ctx.expect(reply.code == 222 and reply.content == b"the first body\r\n", "the message-id still names the first "
               "article", "222 ...\nthe first body", reply.show())


@probe("nntp.post.required-headers", rfc="rfc5536#3.1 rfc5536#3.1.3", level="MUST",
       requirement="An article the server offers has the mandatory header fields Date, From, Message-ID, Newsgroups, "
                   "Path and Subject, once each, even when the poster left out Date and Message-ID.",
       needs=POST_NEEDS, tags=["post", "article"])
async def required_headers(ctx):
    client = await ctx.nntp()
    group = group_of(ctx)
    info = await select(ctx, client, group)
    data, _ = article(newsgroups=group, token=ctx.token, subject=f"wireproof bare {ctx.token}",
                      omit=("Message-ID", "Date"))
    first, final = await client.post(data)
    ctx.setup(first.code == 340 and final is not None and final.code == 240, "the article without Date and "
              "Message-ID is accepted", "240", (final or first).show())
    content = await _find_by_subject(ctx, client, group, info.high, f"wireproof bare {ctx.token}")
    fields, _ = split_article(content)
    names = [f.split(b":", 1)[0].decode("ascii", "replace").lower() for f in fields]
    for name in REQUIRED:
        ctx.expect(names.count(name.lower()) == 1, f"the served article has exactly one {name} header", name,
                   content.decode("utf-8", "replace"))


@probe("nntp.post.message-id-made", rfc="rfc3977#3.6 rfc5536#3.1.3", level="MUST",
       requirement="An article posted without a Message-ID still gets one, valid (angle brackets, 3 to 250 octets), "
                   "under which the server offers it.", needs=POST_NEEDS, tags=["post"])
async def message_id_made(ctx):
    client = await ctx.nntp()
    group = group_of(ctx)
    info = await select(ctx, client, group)
    data, _ = article(newsgroups=group, token=ctx.token, subject=f"wireproof no id {ctx.token}", omit=("Message-ID",))
    first, final = await client.post(data)
    ctx.setup(first.code == 340 and final is not None and final.code == 240, "the article without Message-ID is "
              "accepted", "240", (final or first).show())
    content = await _find_by_subject(ctx, client, group, info.high, f"wireproof no id {ctx.token}")
    mid = header(split_article(content)[0], "Message-ID") or ""
    ctx.expect(mid.startswith("<") and mid.endswith(">") and 3 <= len(mid) <= 250 and ">" not in mid[:-1],
               "the article carries a valid Message-ID", "<...>", mid or "(no Message-ID)")
    stat = await client.cmd(f"STAT {mid}")
    ctx.expect(stat.code == 223, f"STAT {mid} finds it", "223", stat.show())


async def _find_by_subject(ctx, client, group: str, above: int, subject: str) -> bytes:
    """The article above number `above` in `group` with this Subject (polling, bounded: setup)."""
    import asyncio
    import time

    deadline = time.monotonic() + 5.0
    while True:
        info = await select(ctx, client, group)
        for n in range(above + 1, info.high + 1):
            reply = await client.cmd(f"ARTICLE {n}")
            if reply.code == 220 and header(split_article(reply.content)[0], "Subject") == subject:
                return reply.content
        if time.monotonic() > deadline:
            ctx.setup(False, f"the article '{subject}' shows up in {group}", subject, "not found")
        await asyncio.sleep(0.1)
