"""Probes of FETCH (RFC 3501 sections 6.4.5 and 7.4.2, RFC 9051 sections 6.4.5 and 7.5.2).

The scratch mailbox holds messages whose every octet is known (messages.py), so the probes compare what the
server returns with what was appended: whole messages and sections (HEADER, TEXT, HEADER.FIELDS, numbered MIME
parts, partial ranges), sizes, ENVELOPE and BODYSTRUCTURE field by field in their defined order, and the \\Seen
flag that BODY[] sets and BODY.PEEK[] does not.
"""
from __future__ import annotations

from conformance.dialects.imap_parser import bodystructure, envelope
from conformance.registry import probe

from .common import ACCOUNT, DATE_TIME_RE, fetch, filled, flags_of, session
from .messages import FULL, MULTI, MULTI_PART2_ENCODED, MULTI_TEXT_PART, PLAIN, PLAIN_BODY, PLAIN_HEADER


def item(items: dict, n: int, name: str):
    return items.get(n, {}).get(name)


async def seen_elsewhere(ctx, box: str) -> set[str]:
    """The flags of message 1 as a second session sees them (EXAMINE, so it changes nothing)."""
    other = await session(ctx, "b", select=box, examine=True)
    return await flags_of(ctx, other, 1)


@probe("imap.fetch.body-sets-seen", rfc="rfc3501#6.4.5 rfc9051#6.4.5", level="MUST",
       requirement="FETCH BODY[] sets the \\Seen flag of the message.", needs=ACCOUNT, tags=["fetch", "seen"])
async def body_sets_seen(ctx):
    async with filled(ctx, [PLAIN]) as f:
        await fetch(ctx, f.client, "1 (BODY[])")
        flags = await seen_elsewhere(ctx, f.name)
        ctx.expect("\\seen" in flags, "the message is \\Seen afterwards", "FLAGS (\\Seen)", " ".join(sorted(flags)))


@probe("imap.fetch.seen-change-reported", rfc="rfc3501#6.4.5 rfc9051#6.4.5", level="SHOULD",
       requirement="When FETCH BODY[] sets \\Seen, the FETCH response includes the new FLAGS.", needs=ACCOUNT,
       tags=["fetch", "seen"])
async def seen_change_reported(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY[])")
        flags = {str(x).lower() for x in item(items, 1, "FLAGS") or []}
        ctx.expect("\\seen" in flags, "the response carries FLAGS with \\Seen", "* 1 FETCH (... FLAGS (\\Seen))",
                   completion.show())


@probe("imap.fetch.peek-keeps-unseen", rfc="rfc3501#6.4.5 rfc9051#6.4.5", level="MUST",
       requirement="FETCH BODY.PEEK[] does not set the \\Seen flag.", needs=ACCOUNT, tags=["fetch", "seen"])
async def peek_keeps_unseen(ctx):
    async with filled(ctx, [PLAIN]) as f:
        await fetch(ctx, f.client, "1 (BODY.PEEK[])")
        flags = await seen_elsewhere(ctx, f.name)
        ctx.expect("\\seen" not in flags, "the message is still unseen", "FLAGS without \\Seen",
                   " ".join(sorted(flags)) or "()")


@probe("imap.fetch.rfc822-header-keeps-unseen", rfc="rfc3501#6.4.5 rfc3501#7.4.2", level="MUST",
       requirement="FETCH RFC822.HEADER, the equivalent of BODY.PEEK[HEADER], does not set \\Seen.",
       needs=ACCOUNT + ["IMAP4REV1"], tags=["fetch", "seen"])
async def rfc822_header_keeps_unseen(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (RFC822.HEADER)")
        ctx.setup(item(items, 1, "RFC822.HEADER") == PLAIN_HEADER, "RFC822.HEADER returns the header",
                  PLAIN_HEADER.decode(), completion.show())
        flags = await seen_elsewhere(ctx, f.name)
        ctx.expect("\\seen" not in flags, "the message is still unseen", "FLAGS without \\Seen",
                   " ".join(sorted(flags)) or "()")


@probe("imap.fetch.rfc822-sets-seen", rfc="rfc3501#6.4.5", level="MUST",
       requirement="FETCH RFC822, the equivalent of BODY[], returns the whole message and sets \\Seen.",
       needs=ACCOUNT + ["IMAP4REV1"], tags=["fetch", "seen"])
async def rfc822_sets_seen(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (RFC822)")
        flags = await seen_elsewhere(ctx, f.name)
        ctx.expect(item(items, 1, "RFC822") == PLAIN and "\\seen" in flags, "RFC822 is the message and it is now "
                   "\\Seen", "the message, FLAGS (\\Seen)", f"{completion.show()}\nflags: {' '.join(sorted(flags))}")


@probe("imap.fetch.body-exact", rfc="rfc3501#6.4.5 rfc3501#2.3.1.1 rfc9051#6.4.5", level="MUST",
       requirement="BODY.PEEK[] returns the message exactly as it was appended, as BODY[] (no origin octet, since "
                   "none was asked for).", needs=ACCOUNT, tags=["fetch"])
async def body_exact(ctx):
    async with filled(ctx, [PLAIN, MULTI]) as f:
        completion, items = await fetch(ctx, f.client, "1:2 (BODY.PEEK[])")
        ctx.expect(item(items, 1, "BODY[]") == PLAIN and item(items, 2, "BODY[]") == MULTI,
                   "both messages come back octet for octet under BODY[]", "BODY[] {n} <the appended octets>",
                   completion.show())


@probe("imap.fetch.rfc822-size", rfc="rfc3501#2.3.4 rfc3501#6.4.5 rfc9051#2.3.4", level="MUST",
       requirement="RFC822.SIZE is the number of octets of the message (CRLF line ends), the size BODY[] returns.",
       needs=ACCOUNT, tags=["fetch", "size"])
async def rfc822_size(ctx):
    async with filled(ctx, [PLAIN, MULTI]) as f:
        completion, items = await fetch(ctx, f.client, "1:2 (RFC822.SIZE)")
        got = [str(item(items, n, "RFC822.SIZE")) for n in (1, 2)]
        ctx.expect(got == [str(len(PLAIN)), str(len(MULTI))], "the sizes are the appended lengths",
                   f"{len(PLAIN)} {len(MULTI)}", completion.show())


@probe("imap.fetch.header", rfc="rfc3501#6.4.5 rfc9051#6.4.5.1", level="MUST",
       requirement="BODY.PEEK[HEADER] returns the header including the blank line that ends it.", needs=ACCOUNT,
       tags=["fetch", "section"])
async def fetch_header(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY.PEEK[HEADER])")
        ctx.expect(item(items, 1, "BODY[HEADER]") == PLAIN_HEADER, "the header and its blank line",
                   PLAIN_HEADER.decode(), completion.show())


@probe("imap.fetch.text", rfc="rfc3501#6.4.5 rfc9051#6.4.5.1", level="MUST",
       requirement="BODY.PEEK[TEXT] returns the body of the message without its header.", needs=ACCOUNT,
       tags=["fetch", "section"])
async def fetch_text(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY.PEEK[TEXT])")
        ctx.expect(item(items, 1, "BODY[TEXT]") == PLAIN_BODY, "the body", PLAIN_BODY.decode(), completion.show())


@probe("imap.fetch.header-fields", rfc="rfc3501#6.4.5 rfc9051#6.4.5.1", level="MUST",
       requirement="BODY.PEEK[HEADER.FIELDS (SUBJECT from)] returns exactly the Subject and From fields (names "
                   "matched without regard to case) and the blank line.", needs=ACCOUNT, tags=["fetch", "section"])
async def header_fields(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY.PEEK[HEADER.FIELDS (SUBJECT from)])")
        value = next((v for k, v in items.get(1, {}).items() if k.startswith("BODY[HEADER.FIELDS")), None)
        want = {b"From: Fred Foobar <foobar@example.org>", b"Subject: afternoon meeting"}
        lines = value.split(b"\r\n") if isinstance(value, bytes) else []
        ctx.expect(bool(lines) and set(lines[:-2]) == want and lines[-2:] == [b"", b""],
                   "only From and Subject, then the blank line", "From: ...\\r\\nSubject: ...\\r\\n\\r\\n",
                   completion.show())


@probe("imap.fetch.header-fields-not", rfc="rfc3501#6.4.5 rfc9051#6.4.5.1", level="MUST",
       requirement="BODY.PEEK[HEADER.FIELDS.NOT (Subject Date)] returns every header field except Subject and Date.",
       needs=ACCOUNT, tags=["fetch", "section"])
async def header_fields_not(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY.PEEK[HEADER.FIELDS.NOT (Subject Date)])")
        value = next((v for k, v in items.get(1, {}).items() if k.startswith("BODY[HEADER.FIELDS.NOT")), None)
        want = [line for line in PLAIN_HEADER.split(b"\r\n") if not line.startswith((b"Subject:", b"Date:"))]
        ctx.expect(isinstance(value, bytes) and value.split(b"\r\n") == want, "the other fields and the blank line",
                   b"\r\n".join(want).decode(), completion.show())


@probe("imap.fetch.partial", rfc="rfc3501#6.4.5 rfc3501#7.4.2 rfc9051#6.4.5", level="MUST",
       requirement="BODY.PEEK[]<7.10> returns the 10 octets from octet 7 on, labelled BODY[]<7>.", needs=ACCOUNT,
       tags=["fetch", "partial"])
async def partial(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY.PEEK[]<7.10>)")
        ctx.expect(item(items, 1, "BODY[]<7>") == PLAIN[7:17], "octets 7 to 16 under BODY[]<7>",
                   f"BODY[]<7> {PLAIN[7:17]!r}", completion.show())


@probe("imap.fetch.partial-truncated", rfc="rfc3501#6.4.5 rfc9051#6.4.5", level="MUST",
       requirement="A partial fetch reaching past the end is truncated and still labelled with its origin "
                   "(BODY[]<0>); one starting past the end returns an empty string.", needs=ACCOUNT,
       tags=["fetch", "partial"])
async def partial_truncated(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, f"1 (BODY.PEEK[]<0.{len(PLAIN) + 500}>)")
        ctx.expect(item(items, 1, "BODY[]<0>") == PLAIN, "the whole message under BODY[]<0>", "BODY[]<0> {n} ...",
                   completion.show())
        completion, items = await fetch(ctx, f.client, f"1 (BODY.PEEK[]<{len(PLAIN) + 100}.10>)")
        value = next((v for k, v in items.get(1, {}).items() if k.startswith("BODY[]<")), None)
        ctx.expect(value == b"", "an empty string for a start past the end", 'BODY[]<n> ""', completion.show())


@probe("imap.fetch.part-1-of-simple-message", rfc="rfc3501#6.4.5 rfc9051#6.4.5.1", level="MUST",
       requirement="A message that is not multipart has a part 1: BODY.PEEK[1] returns its body.", needs=ACCOUNT,
       tags=["fetch", "section", "mime"])
async def part_1(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY.PEEK[1])")
        ctx.expect(item(items, 1, "BODY[1]") == PLAIN_BODY, "part 1 is the body", PLAIN_BODY.decode(),
                   completion.show())


@probe("imap.fetch.mime-parts", rfc="rfc3501#6.4.5 rfc9051#6.4.5.1", level="MUST",
       requirement="The parts of a multipart message are numbered from 1: BODY.PEEK[1] and BODY.PEEK[2] return the "
                   "parts' contents as they are encoded, BODY.PEEK[2.MIME] the header of part 2.", needs=ACCOUNT,
       tags=["fetch", "section", "mime"])
async def mime_parts(ctx):
    async with filled(ctx, [MULTI]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[2.MIME])")
        mime = item(items, 1, "BODY[2.MIME]") or b""
        ok = (item(items, 1, "BODY[1]") == MULTI_TEXT_PART and item(items, 1, "BODY[2]") == MULTI_PART2_ENCODED
              and b"Content-Transfer-Encoding: base64" in mime and mime.endswith(b"\r\n\r\n"))
        ctx.expect(ok, "part 1, part 2 (base64 as sent) and part 2's MIME header", "the parts as appended",
                   completion.show())


def _addresses(addrs) -> list[str] | None:
    return None if addrs is None else [a.email.lower() for a in addrs]


@probe("imap.fetch.envelope", rfc="rfc3501#7.4.2 rfc3501#2.3.5 rfc9051#7.5.2", level="MUST",
       requirement="ENVELOPE lists date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to and message-id, in "
                   "that order, whatever order the header fields come in.", needs=ACCOUNT, tags=["fetch", "envelope"])
async def fetch_envelope(ctx):
    async with filled(ctx, [FULL]) as f:
        completion, items = await fetch(ctx, f.client, "1 (ENVELOPE)")
        env = envelope(item(items, 1, "ENVELOPE"))
        expected = ("Tue, 8 Feb 1994 09:10:11 +0100", "Re: afternoon meeting", ["foobar@example.org"],
                    ["secretary@example.org"], ["replies@example.org"], ["mooch@example.net"],
                    ["carol@example.com", "dave@example.com"], ["hidden@example.com"], "<plain.1@wireproof.invalid>",
                    "<full.2@wireproof.invalid>")
        got = None if env is None else (env.date, env.subject, _addresses(env.from_), _addresses(env.sender),
                                        _addresses(env.reply_to), _addresses(env.to), _addresses(env.cc),
                                        _addresses(env.bcc), env.in_reply_to, env.message_id)
        ctx.expect(got == expected, "every field in its place", str(expected), f"{got}\n{completion.show()}")


@probe("imap.fetch.envelope-defaults", rfc="rfc3501#7.4.2 rfc9051#7.5.2", level="MUST",
       requirement="When Sender and Reply-To are absent, ENVELOPE gives the From address for both; absent Cc, Bcc "
                   "and In-Reply-To are NIL.", needs=ACCOUNT, tags=["fetch", "envelope"])
async def envelope_defaults(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (ENVELOPE)")
        env = envelope(item(items, 1, "ENVELOPE"))
        ok = (env is not None and _addresses(env.sender) == _addresses(env.from_) == ["foobar@example.org"]
              and _addresses(env.reply_to) == ["foobar@example.org"] and env.cc is None and env.bcc is None
              and env.in_reply_to is None)
        ctx.expect(ok, "sender and reply-to default to from; cc, bcc, in-reply-to are NIL",
                   '(... (("Fred Foobar" NIL "foobar" "example.org")) x3 ... NIL NIL NIL ...)', completion.show())


@probe("imap.fetch.bodystructure-text", rfc="rfc3501#7.4.2 rfc9051#7.5.2", level="MUST",
       requirement="BODYSTRUCTURE of a text/plain message gives type, subtype, parameters, id, description, encoding, "
                   "size in octets and size in lines, in that order, matching the body.", needs=ACCOUNT,
       tags=["fetch", "bodystructure", "mime"])
async def bodystructure_text(ctx):
    async with filled(ctx, [FULL]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODYSTRUCTURE)")
        part = bodystructure(item(items, 1, "BODYSTRUCTURE"))
        body = FULL.split(b"\r\n\r\n", 1)[1]
        lines = body.count(b"\n")
        ok = (part is not None and (part.type, part.subtype) == ("TEXT", "PLAIN")
              and part.params.get("CHARSET", "").lower() == "us-ascii" and part.id is None and part.description is None
              and (part.encoding or "").upper() == "7BIT" and part.size == len(body) and part.lines == lines)
        ctx.expect(ok, "the fields in order with the body's size and line count",
                   f'("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" {len(body)} {lines} ...)',
                   completion.show())


@probe("imap.fetch.bodystructure-multipart", rfc="rfc3501#7.4.2 rfc9051#7.5.2", level="MUST",
       requirement="BODYSTRUCTURE of a multipart message lists one body structure per part, then the subtype; each "
                   "part has its own type, encoding and size.", needs=ACCOUNT, tags=["fetch", "bodystructure", "mime"])
async def bodystructure_multipart(ctx):
    async with filled(ctx, [MULTI]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODYSTRUCTURE)")
        top = bodystructure(item(items, 1, "BODYSTRUCTURE"))
        ok = (top is not None and top.type == "MULTIPART" and top.subtype == "MIXED" and len(top.parts) == 2
              and (top.parts[0].type, top.parts[0].subtype) == ("TEXT", "PLAIN")
              and top.parts[0].size == len(MULTI_TEXT_PART)
              and (top.parts[1].type, top.parts[1].subtype) == ("APPLICATION", "OCTET-STREAM")
              and (top.parts[1].encoding or "").upper() == "BASE64" and top.parts[1].size == len(MULTI_PART2_ENCODED)
              and top.parts[1].description == "some octets")
        ctx.expect(ok, "((TEXT PLAIN ...) (APPLICATION OCTET-STREAM ... BASE64 n) MIXED ...)", "two parts in order",
                   completion.show())


@probe("imap.fetch.body-no-extension-data", rfc="rfc3501#7.4.2 rfc3501#9 rfc9051#7.5.2", level="MUST",
       requirement="FETCH BODY (the non-extensible BODYSTRUCTURE) returns no extension data: a text/plain part has "
                   "exactly its eight basic and text fields.", needs=ACCOUNT, tags=["fetch", "bodystructure"])
async def body_no_extension(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BODY)")
        value = item(items, 1, "BODY")
        ctx.expect(isinstance(value, list) and len(value) == 8, "eight fields, no extension data",
                   '("TEXT" "PLAIN" (...) NIL NIL "7BIT" n m)', completion.show())


@probe("imap.fetch.internaldate-format", rfc="rfc3501#9 rfc3501#7.4.2 rfc9051#9", level="MUST",
       requirement="INTERNALDATE is a quoted date-time of the form \"dd-Mon-yyyy hh:mm:ss +zzzz\".", needs=ACCOUNT,
       tags=["fetch", "date"])
async def internaldate_format(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion, items = await fetch(ctx, f.client, "1 (INTERNALDATE)")
        value = item(items, 1, "INTERNALDATE")
        text = value.decode() if isinstance(value, bytes) else ""
        ctx.expect(isinstance(value, bytes) and DATE_TIME_RE.match(text) is not None,
                   "a quoted date-time", '"07-Feb-1994 21:52:25 -0800"', completion.show())


@probe("imap.fetch.macros", rfc="rfc3501#6.4.5 rfc9051#6.4.5", level="MUST",
       requirement="The macros FAST, ALL and FULL return (FLAGS INTERNALDATE RFC822.SIZE), plus ENVELOPE, plus BODY.",
       needs=ACCOUNT, tags=["fetch"])
async def macros(ctx):
    async with filled(ctx, [PLAIN]) as f:
        expected = {"FAST": {"FLAGS", "INTERNALDATE", "RFC822.SIZE"},
                    "ALL": {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"},
                    "FULL": {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}}
        got, shown = {}, []
        for macro in expected:
            completion, items = await fetch(ctx, f.client, f"1 {macro}")
            got[macro] = set(items.get(1, {})) - {"UID"}
            shown.append(completion.show())
        ctx.expect(got == expected, "each macro returns exactly its items", str(expected), "\n".join(shown))


@probe("imap.fetch.static-items-unchanged", rfc="rfc3501#6.4.5 rfc3501#2.3.1.1 rfc9051#6.4.5", level="MUST",
       requirement="Static data (ENVELOPE, BODYSTRUCTURE, RFC822.SIZE, INTERNALDATE) does not change: a second session "
                   "and a later FETCH, after flag changes, see the same values.", needs=ACCOUNT, tags=["fetch"])
async def static_items(ctx):
    what = "1:2 (ENVELOPE BODYSTRUCTURE RFC822.SIZE INTERNALDATE)"
    async with filled(ctx, [FULL, MULTI]) as f:
        first, before = await fetch(ctx, f.client, what)
        await f.client.command("STORE 1:2 +FLAGS (\\Flagged \\Seen)")
        other = await session(ctx, "b", select=f.name)
        second, after = await fetch(ctx, other, what)
        ctx.expect(before == after, "the same values in both sessions", first.show(), second.show())


@probe("imap.fetch.out-of-range-bad", rfc="rfc3501#9 rfc9051#9", level="SHOULD",
       requirement="FETCH of a message sequence number above the number of messages is answered BAD.", needs=ACCOUNT,
       tags=["fetch", "errors"])
async def out_of_range(ctx):
    async with filled(ctx, [PLAIN]) as f:
        completion = await f.client.command("FETCH 5 (FLAGS)")
        ctx.expect(completion.status == "BAD", "FETCH 5 in a 1-message mailbox is answered BAD", "BAD",
                   completion.show())


@probe("imap.fetch.uid-item", rfc="rfc3501#6.4.5 rfc3501#7.4.2 rfc9051#6.4.5", level="MUST",
       requirement="FETCH (UID) returns each message's UID, the same one SEARCH UID finds it by.", needs=ACCOUNT,
       tags=["fetch", "uid"])
async def uid_item(ctx):
    async with filled(ctx, [PLAIN, FULL]) as f:
        completion, items = await fetch(ctx, f.client, "2 (UID)")
        uid = str(item(items, 2, "UID"))
        found = await f.client.command(f"SEARCH UID {uid}")
        ctx.expect(uid.isdigit() and found.ok and [n for r in found.data("SEARCH") for n in r.numbers()] == [2],
                   "SEARCH UID <uid of message 2> finds message 2", "* SEARCH 2",
                   f"{completion.show()}\n{found.show()}")
