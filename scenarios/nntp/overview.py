"""Probes of the overview and header access commands (RFC 3977 section 8): OVER (XOVER), LIST OVERVIEW.FMT,
HDR and LIST HEADERS, and of LIST ACTIVE with wildmats (sections 4 and 7.6)."""
from __future__ import annotations

import re

from conformance.registry import probe

from .common import POST_NEEDS, post, select

BODY = "one\r\ntwo\r\nthree\r\n"
FIXED = ["subject:", "from:", "date:", "message-id:", "references:"]


def over_fields(line: str) -> list[str]:
    return line.split("\t")


@probe("nntp.over.fields", rfc="rfc3977#8.3.2", level="MUST",
       requirement="OVER with an article number is answered 224 and one line of TAB-separated fields: the number, "
                   "then Subject, From, Date, Message-ID, References, :bytes and :lines.",
       needs=POST_NEEDS + ["OVER"], tags=["over"])
async def over_fields_check(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof overview", body=BODY)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"OVER {a.number}")
    ctx.expect(reply.code == 224 and len(reply.lines) == 1, f"OVER {a.number} is answered 224 with one line",
               "224 and one line", reply.show())
    f = over_fields(reply.lines[0])
    ok = (len(f) >= 8 and f[0] == str(a.number) and f[1] == "wireproof overview" and f[2] == "<wireproof@example.org>"
          and f[4] == a.message_id and f[5] == "" and f[6].isdigit() and f[7].isdigit())
    ctx.expect(ok, "the fields are number, Subject, From, Date, Message-ID, References (empty), :bytes, :lines",
               f"{a.number}\\twireproof overview\\t<wireproof@example.org>\\t<date>\\t{a.message_id}\\t\\t<n>\\t<n>",
               reply.lines[0].replace("\t", "\\t"))


@probe("nntp.over.lines-metadata", rfc="rfc3977#8.1.2 rfc3977#8.3.2", level="MUST",
       requirement="The :lines field of OVER equals the number of lines in the article's body.",
       needs=POST_NEEDS + ["OVER"], tags=["over", "metadata"])
async def over_lines(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof lines", body=BODY)
    await select(ctx, client, a.group)
    reply = await client.cmd(f"OVER {a.number}")
    f = over_fields(reply.lines[0]) if reply.code == 224 and reply.lines else []
    ctx.setup(len(f) >= 8, f"OVER {a.number} gives the eight fields", "224 and 8 fields", reply.show())
    ctx.expect(f[7] == "3", "the :lines field counts the 3 body lines", "3", f[7])


@probe("nntp.over.range", rfc="rfc3977#8.3.2", level="MUST",
       requirement="OVER with a range is answered 224 and one line per existing article in it, in numerical order.",
       needs=POST_NEEDS + ["OVER"], tags=["over"])
async def over_range(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof range a")
    b = await post(ctx, client, subject="wireproof range b")
    await select(ctx, client, a.group)
    reply = await client.cmd(f"OVER {a.number}-{b.number}")
    numbers = [int(line.split("\t", 1)[0]) for line in reply.lines if line.split("\t", 1)[0].isdigit()]
    ctx.expect(reply.code == 224 and numbers == sorted(numbers) and numbers[:1] == [a.number]
               and numbers[-1:] == [b.number] and len(numbers) == len(reply.lines),
               f"OVER {a.number}-{b.number} lists the articles from {a.number} to {b.number} in order",
               f"224 and lines {a.number} ... {b.number}", reply.show())


@probe("nntp.over.empty-range-423", rfc="rfc3977#8.3.2", level="MUST",
       requirement="OVER with a range that holds no article (its end below its start) is answered 423.",
       needs=POST_NEEDS + ["OVER"], tags=["over"])
async def over_empty_range(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof empty range")
    await select(ctx, client, a.group)
    reply = await client.cmd(f"OVER {a.number}-{max(a.number - 1, 0)}")
    ctx.expect(reply.code == 423, "an empty range is answered 423", "423", reply.show())


@probe("nntp.over.message-id", rfc="rfc3977#8.3.2", level="MUST",
       requirement="OVER with the message-id of an existing article is answered as the OVER capability says: with MSGID "
                   "among its arguments, 224 and one line whose first field is 0 or the article's number in the "
                   "selected group; without MSGID, 503.", needs=POST_NEEDS + ["OVER"], tags=["over"])
async def over_message_id(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof over by id")
    reply = await client.cmd(f"OVER {a.message_id}")
    if "OVER=MSGID" not in ctx.cap("nntp").keywords:
        ctx.expect(reply.code == 503, "without OVER MSGID advertised, OVER with a message-id is answered 503", "503",
                   reply.show())
        return
    f = over_fields(reply.lines[0]) if reply.code == 224 and reply.lines else []
    ctx.expect(len(f) >= 5 and f[0] in ("0", str(a.number)) and f[4] == a.message_id,
               "OVER by message-id gives the article's line", f"224\n0\\t...\\t{a.message_id}", reply.show())


@probe("nntp.overview-fmt.fixed-fields", rfc="rfc3977#8.4.2", level="MUST",
       requirement="LIST OVERVIEW.FMT is answered 215 with the fixed first seven lines (Subject:, From:, Date:, "
                   "Message-ID:, References:, then :bytes and :lines or Bytes: and Lines:), and every further line is "
                   "a header name with :full or a metadata name.", needs=["OVER", "LIST=OVERVIEW.FMT"], tags=["over"])
async def overview_fmt(ctx):
    client = await ctx.nntp()
    reply = await client.cmd("LIST OVERVIEW.FMT")
    lines = [line.lower() for line in reply.lines]
    fixed = lines[:5] == FIXED and lines[5:7] in ([":bytes", ":lines"], ["bytes:", "lines:"])
    rest = all(re.fullmatch(r"[\x21-\x39\x3b-\x7e]+:full|:[\x21-\x39\x3b-\x7e]+", line) for line in lines[7:])
    ctx.expect(reply.code == 215 and fixed and rest, "the overview format starts with the seven fixed fields",
               "Subject: From: Date: Message-ID: References: :bytes :lines [Name:full ...]", reply.show())


@probe("nntp.hdr.range", rfc="rfc3977#8.5.2", level="MUST",
       requirement="HDR with a header name and a range is answered 225 and, per existing article, its number, a space "
                   "and the header's content.", needs=POST_NEEDS + ["HDR"], tags=["hdr"])
async def hdr_range(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof hdr")
    await select(ctx, client, a.group)
    reply = await client.cmd(f"HDR Subject {a.number}-{a.number}")
    ctx.expect(reply.code == 225 and reply.lines == [f"{a.number} wireproof hdr"],
               f"HDR Subject {a.number}-{a.number} gives the article's Subject", f"225\n{a.number} wireproof hdr",
               reply.show())


@probe("nntp.hdr.message-id", rfc="rfc3977#8.5.2", level="MUST",
       requirement="HDR with a message-id is answered 225 and one line: 0 (or the article's number in the selected "
                   "group), a space and the header's content.", needs=POST_NEEDS + ["HDR"], tags=["hdr"])
async def hdr_message_id(ctx):
    client = await ctx.nntp()
    a = await post(ctx, client, subject="wireproof hdr by id")
    reply = await client.cmd(f"HDR Subject {a.message_id}")
    ok = reply.code == 225 and len(reply.lines) == 1 and reply.lines[0].split(" ", 1) in (
        ["0", "wireproof hdr by id"], [str(a.number), "wireproof hdr by id"])
    ctx.expect(ok, "HDR by message-id gives the Subject with 0 or the number", "225\n0 wireproof hdr by id",
               reply.show())


@probe("nntp.list-headers.format", rfc="rfc3977#8.6.2", level="MUST",
       requirement="LIST HEADERS is answered 215 and one field per line: header names without colon, metadata names "
                   "with their leading colon, or a lone colon when any header may be asked for.",
       needs=["HDR", "LIST=HEADERS"], tags=["hdr"])
async def list_headers(ctx):
    client = await ctx.nntp()
    reply = await client.cmd("LIST HEADERS")
    bad = [line for line in reply.lines if not re.fullmatch(r":|:?[\x21-\x39\x3b-\x7e]+", line)]
    ctx.expect(reply.code == 215 and not bad, "every line names a header, a metadata item or is a lone colon",
               "215 and field names", reply.show())


# --- LIST ACTIVE and wildmats ------------------------------------------------------------------------------

def active_names(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines if line.split()]


@probe("nntp.list.active-wildmat", rfc="rfc3977#7.6.3 rfc3977#4.2", level="MUST",
       requirement="LIST ACTIVE with a wildmat lists exactly the groups whose names match it: every name returned "
                   "matches, and a matching group is not left out.", needs=["READER", "LIST=ACTIVE", "post-groups"],
       tags=["list", "wildmat"])
async def active_wildmat(ctx):
    from .common import group_of

    group = group_of(ctx)
    prefix = group[:-1]
    client = await ctx.nntp()
    reply = await client.cmd(f"LIST ACTIVE {prefix}?,{prefix}*")
    names = active_names(reply.lines)
    ctx.expect(reply.code == 215 and group in names and all(n.startswith(prefix) for n in names),
               f"LIST ACTIVE {prefix}?,{prefix}* lists {group} and only names starting {prefix}",
               f"215 with {group} ...", reply.show())


@probe("nntp.list.active-wildmat-negation", rfc="rfc3977#4.2 rfc3977#7.6.3", level="MUST",
       requirement="In a wildmat the rightmost matching pattern decides: a later !pattern excludes what an earlier "
                   "pattern matched.", needs=["READER", "LIST=ACTIVE", "post-groups"], tags=["list", "wildmat"])
async def active_wildmat_negation(ctx):
    from .common import group_of

    group = group_of(ctx)
    client = await ctx.nntp()
    reply = await client.cmd(f"LIST ACTIVE {group}*,!{group}")
    names = active_names(reply.lines)
    ctx.expect(reply.code == 215 and group not in names and all(n.startswith(group) for n in names),
               f"LIST ACTIVE {group}*,!{group} leaves {group} out", f"215 without {group}", reply.show())
    again = await client.cmd(f"LIST ACTIVE !{group},{group}")
    ctx.expect(again.code == 215 and active_names(again.lines) == [group],
               f"LIST ACTIVE !{group},{group} lists {group}: its last pattern matches", f"215\n{group} ...",
               again.show())
