"""Probes of SEARCH (RFC 3501 section 6.4.4, RFC 9051 section 6.4.4).

The scratch mailbox holds four messages whose senders, recipients, subjects, bodies, Date fields, internal
dates, sizes and flags are all known (messages.SEARCH_SET), so each key's answer is known in advance. String
keys match substrings without regard to case; several keys are ANDed; OR, NOT and parenthesized lists combine
them.
"""
from __future__ import annotations

from conformance.registry import probe

from .common import ACCOUNT, command_ok, filled, search_numbers, uid_map
from .messages import SEARCH_DATES, SEARCH_FLAGS, SEARCH_SET

SIZES = [len(m) for m in SEARCH_SET]


async def searches(ctx, cases: list[tuple[str, list[int]]], *, prepare: str | None = None) -> None:
    """In a mailbox holding the four search messages, each SEARCH must return exactly the expected numbers."""
    async with filled(ctx, SEARCH_SET, flags=SEARCH_FLAGS, dates=SEARCH_DATES) as f:
        if prepare:
            await command_ok(ctx, f.client, prepare)
        for criteria, expected in cases:
            completion = await f.client.command(f"SEARCH {criteria}")
            ctx.setup(completion.ok, f"SEARCH {criteria} is answered OK", "OK", completion.show())
            got = search_numbers(completion)
            ctx.expect(got is not None and sorted(got) == expected, f"SEARCH {criteria} finds {expected or 'nothing'}",
                       "* SEARCH " + " ".join(map(str, expected)), completion.show())


def search_probe(check_id: str, rfc: str, requirement: str, cases: list[tuple[str, list[int]]], *,
                 tags: list[str] = (), needs: list[str] = (), prepare: str | None = None):
    @probe(check_id, rfc=rfc, level="MUST", requirement=requirement, needs=ACCOUNT + list(needs),
           tags=["search", *tags])
    async def run(ctx):
        await searches(ctx, cases, prepare=prepare)
    return run


S = "rfc3501#6.4.4 rfc9051#6.4.4"

search_probe("imap.search.all", S, "SEARCH ALL finds every message.", [("ALL", [1, 2, 3, 4])])
search_probe("imap.search.seen", S, "SEEN finds the messages with \\Seen, UNSEEN those without.",
             [("SEEN", [1, 3]), ("UNSEEN", [2, 4])], tags=["flags"])
search_probe("imap.search.flagged-answered-draft", S, "FLAGGED, ANSWERED and DRAFT find the messages with those "
             "flags; UNFLAGGED, UNANSWERED and UNDRAFT the others.",
             [("FLAGGED", [2]), ("ANSWERED", [2]), ("DRAFT", [3]), ("UNFLAGGED", [1, 3, 4]), ("UNANSWERED", [1, 3, 4]),
              ("UNDRAFT", [1, 2, 4])], tags=["flags"])
search_probe("imap.search.deleted", S, "DELETED finds the messages flagged \\Deleted, UNDELETED the others.",
             [("DELETED", [4]), ("UNDELETED", [1, 2, 3])], tags=["flags"], prepare="STORE 4 +FLAGS.SILENT (\\Deleted)")
search_probe("imap.search.keyword", S, "KEYWORD finds the messages with that keyword set, UNKEYWORD the others.",
             [("KEYWORD WireproofKey", [1]), ("UNKEYWORD WireproofKey", [2, 3, 4])], tags=["flags", "keyword"],
             prepare="STORE 1 +FLAGS.SILENT (WireproofKey)")
search_probe("imap.search.from", S, "FROM finds the messages whose From field contains the string.",
             [("FROM bravo", [2]), ("FROM one.example", [1, 2, 4])], tags=["envelope"])
search_probe("imap.search.to-cc", S, "TO and CC find the messages whose To or Cc field contains the string.",
             [("TO zulu", [1, 3]), ("CC kilo", [1])], tags=["envelope"])
search_probe("imap.search.subject", S, "SUBJECT finds the messages whose Subject contains the string.",
             [("SUBJECT banana", [1, 2]), ("SUBJECT pie", [3])], tags=["envelope"])
search_probe("imap.search.case-insensitive", S, "String keys match without regard to case: SUBJECT BANANA and FROM "
             "CHARLIE find the same messages as in lower case.", [("SUBJECT BANANA", [1, 2]), ("FROM CHARLIE", [3])])
search_probe("imap.search.header", S, "HEADER finds the messages with that field containing the string; with an "
             "empty string, every message that has the field.",
             [('HEADER X-Wireproof-Kind fruit', [1]), ('HEADER X-Wireproof-Kind ""', [1, 3])])
search_probe("imap.search.body", S, "BODY finds the messages whose body contains the string, ignoring the header.",
             [("BODY quokka", [2]), ("BODY banana", [1])], tags=["text"])
search_probe("imap.search.text", S, "TEXT finds the messages whose header or body contains the string.",
             [("TEXT banana", [1, 2]), ("TEXT orchards", [3])], tags=["text"])
search_probe("imap.search.size", S, "LARGER and SMALLER compare the message size in octets.",
             [(f"LARGER {max(SIZES) - 1}", [SIZES.index(max(SIZES)) + 1]),
              (f"SMALLER {min(SIZES) + 1}", [SIZES.index(min(SIZES)) + 1])], tags=["size"])
search_probe("imap.search.sent-date", S, "SENTBEFORE, SENTON and SENTSINCE compare the date of the Date field.",
             [("SENTBEFORE 2-Jan-2000", [1]), ("SENTON 3-Jan-2000", [3]), ("SENTSINCE 3-Jan-2000", [3, 4])],
             tags=["date"])
search_probe("imap.search.internal-date", S, "BEFORE, ON and SINCE compare the internal date given with APPEND.",
             [("BEFORE 2-Feb-2001", [1]), ("ON 3-Feb-2001", [3]), ("SINCE 3-Feb-2001", [3, 4])], tags=["date"])
search_probe("imap.search.not", S, "NOT finds the messages that do not match the key.",
             [("NOT SEEN", [2, 4]), ("NOT FROM one.example", [3])], tags=["logic"])
search_probe("imap.search.or", S, "OR finds the messages that match either key.",
             [("OR FLAGGED DRAFT", [2, 3]), ("OR SUBJECT cherry FROM alpha", [1, 4])], tags=["logic"])
search_probe("imap.search.and", S, "Several keys, and a parenthesized list of keys, find the messages matching all "
             "of them.", [("SEEN TO zulu", [1, 3]), ("(SEEN FROM charlie)", [3]), ("SEEN (OR DRAFT FLAGGED)", [3])],
             tags=["logic"])
search_probe("imap.search.sequence-set", S, "A sequence set as a key finds the messages with those numbers.",
             [("2:3", [2, 3]), ("2,4 UNSEEN", [2, 4]), ("3:*", [3, 4])], tags=["sequence"])
search_probe("imap.search.no-match", rfc="rfc3501#6.4.4 rfc3501#7.2.5", requirement="A SEARCH that matches nothing "
             "is still answered with an (empty) untagged SEARCH response.",
             cases=[("SUBJECT xwp-no-such-subject", [])])
search_probe("imap.search.charset-us-ascii", S, "SEARCH CHARSET US-ASCII is supported.",
             [("CHARSET US-ASCII SUBJECT banana", [1, 2])], tags=["charset"])


@probe("imap.search.uid-key", rfc=S, level="MUST", requirement="The UID key finds the messages with those UIDs.",
       needs=ACCOUNT, tags=["search", "uid"])
async def uid_key(ctx):
    async with filled(ctx, SEARCH_SET, flags=SEARCH_FLAGS, dates=SEARCH_DATES) as f:
        uids = await uid_map(ctx, f.client)
        completion = await command_ok(ctx, f.client, f"SEARCH UID {uids[2]}:{uids[3]}")
        ctx.expect(sorted(search_numbers(completion) or []) == [2, 3], "messages 2 and 3", "* SEARCH 2 3",
                   completion.show())


@probe("imap.search.literal-argument", rfc="rfc3501#6.4.4 rfc3501#4.3 rfc9051#6.4.4", level="MUST",
       requirement="A SEARCH string may be sent as a literal: SUBJECT {6} banana finds the same messages.",
       needs=ACCOUNT, tags=["search", "literal"])
async def literal_argument(ctx):
    from conformance.dialects.imap import Literal

    async with filled(ctx, SEARCH_SET, flags=SEARCH_FLAGS, dates=SEARCH_DATES) as f:
        completion = await f.client.command("SEARCH SUBJECT ", Literal(b"banana"))
        ctx.expect(completion.ok and sorted(search_numbers(completion) or []) == [1, 2], "messages 1 and 2",
                   "* SEARCH 1 2", completion.show())


@probe("imap.search.unknown-charset-no", rfc="rfc3501#6.4.4 rfc9051#6.4.4", level="MUST",
       requirement="SEARCH with a charset the server does not support is answered NO, not BAD.", needs=ACCOUNT,
       tags=["search", "charset", "errors"])
async def unknown_charset(ctx):
    async with filled(ctx, SEARCH_SET[:1]) as f:
        completion = await f.client.command("SEARCH CHARSET X-WIREPROOF-BOGUS SUBJECT banana")
        ctx.expect(completion.status == "NO", "NO", "NO [BADCHARSET] ...", completion.show())


@probe("imap.search.badcharset-code", rfc="rfc3501#6.4.4 rfc3501#7.1 rfc9051#6.4.4", level="SHOULD",
       requirement="The NO to SEARCH with an unsupported charset carries the BADCHARSET response code.", needs=ACCOUNT,
       tags=["search", "charset", "errors"])
async def badcharset_code(ctx):
    async with filled(ctx, SEARCH_SET[:1]) as f:
        completion = await f.client.command("SEARCH CHARSET X-WIREPROOF-BOGUS SUBJECT banana")
        ctx.setup(completion.status == "NO", "the unknown charset is refused with NO", "NO", completion.show())
        ctx.expect(completion.code == "BADCHARSET", "NO [BADCHARSET ...]", "NO [BADCHARSET] ...", completion.show())
