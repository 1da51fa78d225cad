"""Probes of the capability list (RFC 3977 sections 3.3 and 5.2) and of MODE READER (5.3)."""
from __future__ import annotations

import re

from conformance.dialects.nntp import parse_capabilities
from conformance.registry import probe

KEYWORD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9.\-]{2,}$")  # RFC 3977 9.8: ALPHA 2*(ALPHA / DIGIT / "." / "-")


async def capability_lines(ctx, **kwargs) -> list[str]:
    client = await ctx.nntp(**kwargs)
    reply = await client.capabilities_cmd()
    ctx.setup(reply.code == 101, "CAPABILITIES is answered 101", "101", reply.show())
    return reply.lines


@probe("nntp.capabilities.version-first", rfc="rfc3977#3.3.2 rfc3977#5.2.2 rfc3977#9.5", level="MUST",
       requirement="The first line of the capability list is VERSION with one or more decimal version numbers "
                   "without leading zeros, 2 among them.", tags=["capabilities"])
async def version_first(ctx):
    lines = await capability_lines(ctx)
    first = lines[0].split() if lines else []
    ok = (len(first) >= 2 and first[0].upper() == "VERSION"
          and all(re.fullmatch(r"[1-9]\d{0,5}", v) for v in first[1:]) and "2" in first[1:])
    ctx.expect(ok, "the capability list starts with VERSION and its numbers, 2 among them", "VERSION 2",
               "\n".join(lines[:3]) or "(an empty list)")


@probe("nntp.capabilities.no-duplicates", rfc="rfc3977#5.2.2", level="MUST",
       requirement="The capability list names no capability twice, not even with different arguments.",
       tags=["capabilities"])
async def no_duplicates(ctx):
    lines = await capability_lines(ctx)
    _, order = parse_capabilities(lines)
    twice = sorted({label for label in order if order.count(label) > 1})
    ctx.expect(not twice, "every capability label appears once", "distinct labels",
               f"listed more than once: {' '.join(twice)}" if twice else "\n".join(lines))


@probe("nntp.capabilities.line-syntax", rfc="rfc3977#3.3.1 rfc3977#9.5", level="MUST",
       requirement="Every capability line is a label (a keyword: a letter, then at least two letters, digits, dots "
                   "or hyphens) followed by arguments separated by spaces or TABs.", tags=["capabilities", "syntax"])
async def line_syntax(ctx):
    lines = await capability_lines(ctx)
    for line in lines:
        tokens = line.split()
        ctx.expect(bool(tokens) and KEYWORD_RE.match(tokens[0]) is not None and not line[:1].isspace(),
                   f"the capability line {line!r} starts with a keyword", "LABEL [arguments]", line or "(empty line)")


@probe("nntp.capabilities.reader-lists", rfc="rfc3977#7.6.2 rfc3977#7.6.3 rfc3977#7.6.6", level="MUST",
       requirement="A server advertising READER lists ACTIVE and NEWSGROUPS among the arguments of its LIST "
                   "capability: both are mandatory with READER.", needs=["READER"], tags=["capabilities", "list"])
async def reader_lists(ctx):
    client = await ctx.nntp(capabilities=True)
    ctx.require(client.has("READER"), "READER is not advertised in this session")
    listed = {a.upper() for a in client.capabilities.get("LIST", [])}
    ctx.expect({"ACTIVE", "NEWSGROUPS"} <= listed, "LIST names ACTIVE and NEWSGROUPS", "LIST ACTIVE NEWSGROUPS ...",
               "LIST " + " ".join(sorted(listed)) if listed else "no LIST capability")


@probe("nntp.capabilities.over-lists-overview-fmt", rfc="rfc3977#7.6.2 rfc3977#8.4.1", level="MUST",
       requirement="A server advertising OVER lists OVERVIEW.FMT among the arguments of its LIST capability.",
       needs=["OVER"], tags=["capabilities", "over"])
async def over_lists(ctx):
    client = await ctx.nntp(capabilities=True)
    ctx.require(client.has("OVER"), "OVER is not advertised in this session")
    ctx.expect(client.has("LIST", "OVERVIEW.FMT"), "LIST names OVERVIEW.FMT", "LIST ... OVERVIEW.FMT",
               "LIST " + " ".join(client.capabilities.get("LIST", [])))


@probe("nntp.capabilities.hdr-lists-headers", rfc="rfc3977#7.6.2 rfc3977#8.6.1", level="MUST",
       requirement="A server advertising HDR lists HEADERS among the arguments of its LIST capability.",
       needs=["HDR"], tags=["capabilities", "hdr"])
async def hdr_lists(ctx):
    client = await ctx.nntp(capabilities=True)
    ctx.require(client.has("HDR"), "HDR is not advertised in this session")
    ctx.expect(client.has("LIST", "HEADERS"), "LIST names HEADERS", "LIST ... HEADERS",
               "LIST " + " ".join(client.capabilities.get("LIST", [])))


@probe("nntp.capabilities.newnews-advertised", rfc="rfc3977#3.4 rfc3977#3.3.2", level="SHOULD",
       requirement="A server that answers NEWNEWS (the whole NEWNEWS bundle) advertises the NEWNEWS capability: "
                   "without the label it should not support all of the bundle's commands.",
       needs=["READER"], tags=["capabilities", "newnews"])
async def newnews_advertised(ctx):
    client = await ctx.nntp(capabilities=True)
    reply = await client.cmd("NEWNEWS * 19990624 000000 GMT")
    ctx.require(reply.code == 230, f"NEWNEWS is not served here ({reply.head})")
    ctx.expect(client.has("NEWNEWS"), "NEWNEWS is answered 230, so the NEWNEWS capability is listed",
               "NEWNEWS in the capability list", "capabilities: " + " ".join(client.capability_order))


@probe("nntp.mode-reader.keeps-state", rfc="rfc3977#5.3.2", level="MUST",
       requirement="On a server that advertises READER (not mode-switching), MODE READER is answered 200 or 201 and "
                   "does not change the state: the selected group stays selected.",
       needs=["READER"], tags=["mode-reader", "state"])
async def mode_reader_keeps_state(ctx):
    ctx.require("MODE-READER" not in ctx.cap("nntp").keywords, "the server is mode-switching (MODE-READER)")
    from .common import group_of

    group = group_of(ctx)
    client = await ctx.nntp(group=group)
    reply = await client.mode_reader()
    ctx.expect(reply.code in (200, 201), "MODE READER is answered 200 or 201", "200|201", reply.show())
    listed = await client.cmd("LISTGROUP")
    ctx.expect(listed.code == 211 and listed.args[3:4] == [group], f"after MODE READER, {group} is still selected",
               f"211 n low high {group}", listed.show())


@probe("nntp.greeting.posting-semantics", rfc="rfc3977#5.1.2 rfc3977#6.3.1.2", level="MUST",
       requirement="A 200 greeting promises that POST will be accepted (340); a 201 greeting that it will not "
                   "(440).", needs=["READER"], tags=["greeting", "post"])
async def posting_semantics(ctx):
    ctx.require("MODE-READER" not in ctx.cap("nntp").keywords, "the server is mode-switching (MODE-READER): its "
                "greeting speaks for the transit mode")
    client = await ctx.nntp(reader=False)
    code = client.greeting.code
    reply = await client.cmd("POST")
    if reply.code == 340:  # end the article at once: an empty article, which the server refuses
        await client.wire.send(b".\r\n")
        await client.read_response("POST")
    want = 340 if code == 200 else 440
    ctx.expect(reply.code == want, f"after a {code} greeting, POST is answered {want}", str(want), reply.show())
