"""Probes of reply syntax (RFC 5321 section 4.2): codes, separators, line ends, greeting and EHLO shapes."""
from __future__ import annotations

import re

from conformance.dialects.smtp import KEYWORD_RE, Reply
from conformance.registry import probe

DOMAIN_RE = re.compile(r"^(?:\[[^\]\s]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)$")


async def varied_replies(ctx) -> list[tuple[str, Reply]]:
    """One session that draws out single- and multi-line, positive and negative replies."""
    client = await ctx.smtp(ehlo=False)
    got = [("greeting", client.greeting)]
    for command in (f"EHLO {ctx.vars['helo']}", "HELP", "NOOP", "XYZZY", f"MAIL FROM:<{ctx.vars['sender']}>",
                    "RCPT TO:<broken", "RSET", "QUIT"):
        got.append((command, await client.cmd(command)))
    return got


@probe("smtp.reply.syntax", rfc="rfc5321#4.2", level="MUST",
       requirement="Every reply line is a three-digit code, then a space (last line) or a hyphen (earlier lines), "
                   "then optional text.", tags=["syntax"])
async def reply_syntax(ctx):
    for command, reply in await varied_replies(ctx):
        bad = [p for p in reply.problems if "CRLF" not in p and "multi-line" not in p]
        ctx.expect(not bad, f"the reply to {command} is well formed", "code + SP/'-' + text", "; ".join(bad)
                   or reply.show())


@probe("smtp.reply.crlf", rfc="rfc5321#4.2 rfc5321#2.3.8", level="MUST",
       requirement="Every reply line ends with CRLF, never with a bare LF.", tags=["syntax"])
async def reply_crlf(ctx):
    for command, reply in await varied_replies(ctx):
        bare = [raw for raw in reply.raw if not raw.endswith(b"\r\n")]
        ctx.expect(not bare, f"every line of the reply to {command} ends with CRLF", "CRLF line ends",
                   repr(bare[0]) if bare else reply.show())


@probe("smtp.reply.multiline-same-code", rfc="rfc5321#4.2.1", level="MUST",
       requirement="All lines of a multi-line reply carry the same reply code.", tags=["syntax"])
async def multiline_same_code(ctx):
    multi = [(c, r) for c, r in await varied_replies(ctx) if len(r.raw) > 1]
    ctx.require(bool(multi), "the server sent no multi-line reply to EHLO or HELP")
    for command, reply in multi:
        codes = {raw[:3] for raw in reply.raw}
        ctx.expect(len(codes) == 1, f"the {len(reply.raw)}-line reply to {command} repeats one code",
                   "one code on every line", reply.show())


@probe("smtp.reply.code-range", rfc="rfc5321#4.2", level="MUST",
       requirement="Reply codes use 2-5 as first digit and 0-5 as second digit, as the reply grammar allows.",
       tags=["syntax"])
async def code_range(ctx):
    for command, reply in await varied_replies(ctx):
        ok = 2 <= reply.code // 100 <= 5 and (reply.code // 10) % 10 <= 5
        ctx.expect(ok, f"the reply code to {command} is in range", "first digit 2-5, second 0-5", str(reply.code))


@probe("smtp.greeting.names-server", rfc="rfc5321#4.2 rfc5321#4.3.1", level="MUST",
       requirement="The 220 greeting names the server: a domain or an address literal right after the code.",
       tags=["greeting", "syntax"])
async def greeting_names_server(ctx):
    client = await ctx.smtp(ehlo=False)
    first = client.greeting.lines[0].split(" ", 1)[0] if client.greeting.lines else ""
    ctx.expect(bool(DOMAIN_RE.match(first)), "the greeting starts with a domain or address literal",
               "220 <domain> [text]", client.greeting.show())


@probe("smtp.ehlo.names-server", rfc="rfc5321#4.1.1.1", level="MUST",
       requirement="The first line of the EHLO reply names the server: a domain or an address literal.",
       tags=["ehlo", "syntax"])
async def ehlo_names_server(ctx):
    client = await ctx.smtp(ehlo=False)
    reply = await client.ehlo(ctx.vars["helo"])
    ctx.setup(reply.code == 250, "EHLO is accepted", "250", str(reply))
    first = reply.lines[0].split(" ", 1)[0]
    ctx.expect(bool(DOMAIN_RE.match(first)), "the EHLO reply starts with a domain or address literal",
               "250[-]<domain> [text]", reply.show())


@probe("smtp.ehlo.keyword-syntax", rfc="rfc5321#4.1.1.1", level="MUST",
       requirement="Each extension line of the EHLO reply is a keyword of letters, digits and hyphens, "
                   "optionally followed by parameters separated by spaces.", tags=["ehlo", "syntax"])
async def ehlo_keyword_syntax(ctx):
    client = await ctx.smtp(ehlo=False)
    reply = await client.ehlo(ctx.vars["helo"])
    ctx.setup(reply.code == 250, "EHLO is accepted", "250", str(reply))
    ctx.require(len(reply.lines) > 1, "the server lists no extensions")
    for line in reply.lines[1:]:
        keyword, _, params = line.partition(" ")
        # "AUTH=LOGIN" is a widespread pre-standard form; the grammar does not allow "=" in a keyword.
        ok = bool(KEYWORD_RE.match(keyword)) and all(32 < ord(ch) < 127 for ch in params.replace(" ", ""))
        ctx.expect(ok, f"extension line {line!r} is a keyword with parameters",
                   "ehlo-keyword *(SP ehlo-param)", line)


@probe("smtp.helo.single-line", rfc="rfc5321#4.1.1.1", level="MUST",
       requirement="The reply to HELO is a single 250 line naming the server; extension lists belong to EHLO.",
       tags=["helo", "syntax"])
async def helo_single_line(ctx):
    client = await ctx.smtp(ehlo=False)
    reply = await client.ehlo(ctx.vars["helo"], verb="HELO")
    ctx.setup(reply.code == 250, "HELO is accepted", "250", str(reply))
    ctx.expect(len(reply.lines) == 1, "the HELO reply is one line", "one line: 250 <domain> [text]", reply.show())
