"""Probes of smaller extensions, each skipped unless the server advertises it: ENABLE (RFC 5161), ID (RFC 2971),
NAMESPACE (RFC 2342), SPECIAL-USE (RFC 6154), SORT and THREAD (RFC 5256), BINARY (RFC 3516)."""
from __future__ import annotations

from conformance.dialects.imap_lexer import Literal as ResponseLiteral
from conformance.dialects.imap_parser import as_int
from conformance.registry import probe

from .common import ACCOUNT, command_ok, fetch, filled, flags_of, search_numbers, session, uid_map
from .messages import BINARY_OCTETS, MULTI, MULTI_TEXT_PART, SEARCH_DATES, SEARCH_FLAGS, SEARCH_SET

SPECIAL_USE = {"\\all", "\\archive", "\\drafts", "\\flagged", "\\junk", "\\sent", "\\trash"}


# --- ENABLE --------------------------------------------------------------------------------------------------


@probe("imap.enable.enabled-response", rfc="rfc5161#3.1 rfc5161#3.2 rfc9051#6.3.1", level="MUST",
       requirement="A successful ENABLE is answered with an untagged ENABLED response, even when nothing was enabled.",
       needs=ACCOUNT + ["ENABLE"], tags=["enable", "extension"])
async def enabled_response(ctx):
    client = await session(ctx)
    completion = await client.command("ENABLE X-WIREPROOF-NOTHING")
    ctx.expect(completion.ok and len(completion.data("ENABLED")) == 1, "OK with one untagged ENABLED response",
               "* ENABLED", completion.show())


@probe("imap.enable.unknown-ignored", rfc="rfc5161#3.1 rfc9051#6.3.1", level="MUST",
       requirement="ENABLE ignores an extension the server does not know: it is answered OK and the ENABLED response "
                   "does not list it.", needs=ACCOUNT + ["ENABLE"], tags=["enable", "extension"])
async def enable_unknown(ctx):
    client = await session(ctx)
    completion = await client.command("ENABLE X-WIREPROOF-NOTHING")
    listed = [str(v).upper() for r in completion.data("ENABLED") for v in r.values]
    ctx.expect(completion.ok and "X-WIREPROOF-NOTHING" not in listed, "OK; X-WIREPROOF-NOTHING is not enabled",
               "* ENABLED (without it)", completion.show())


@probe("imap.enable.capability-unchanged", rfc="rfc5161#3.1 rfc9051#6.3.1", level="MUST",
       requirement="ENABLE does not change the CAPABILITY list: CAPABILITY after ENABLE CONDSTORE lists the same "
                   "capabilities as before.", needs=ACCOUNT + ["ENABLE", "CONDSTORE"], tags=["enable", "extension"])
async def enable_capability(ctx):
    client = await session(ctx)
    before = await command_ok(ctx, client, "CAPABILITY")
    caps_before = set(client.capabilities)
    await command_ok(ctx, client, "ENABLE CONDSTORE")
    after = await command_ok(ctx, client, "CAPABILITY")
    ctx.expect(set(client.capabilities) == caps_before, "the same list before and after", before.show(), after.show())


# --- ID --------------------------------------------------------------------------------------------------------


async def id_response(ctx, client):
    completion = await client.command('ID ("name" "wireproof" "version" "1")')
    ctx.setup(completion.ok, "ID is answered OK", "OK", completion.show())
    return completion


@probe("imap.id.response", rfc="rfc2971#3.2 rfc2971#3.1", level="MUST",
       requirement="ID is answered with an untagged ID response (a field list or NIL) before the tagged OK.",
       needs=["ID"], tags=["id", "extension"])
async def id_sends_response(ctx):
    completion = await id_response(ctx, await ctx.imap())
    data = completion.first("ID")
    ctx.expect(data is not None and len(data.values) == 1
               and (data.values[0] is None or isinstance(data.values[0], list)),
               "one * ID response with a list or NIL", '* ID ("name" ...) or * ID NIL', completion.show())


@probe("imap.id.field-limits", rfc="rfc2971#3.3", level="MUST",
       requirement="The ID response holds at most 30 field-value pairs, fields of at most 30 octets and values of at "
                   "most 1024 octets.", needs=["ID"], tags=["id", "extension"])
async def id_limits(ctx):
    completion = await id_response(ctx, await ctx.imap())
    data = completion.first("ID")
    ctx.setup(data is not None, "an ID response arrives", "* ID ...", completion.show())
    pairs = data.values[0] if data.values and isinstance(data.values[0], list) else []
    fields, values = pairs[0::2], pairs[1::2]
    ok = (len(pairs) % 2 == 0 and len(fields) <= 30 and all(isinstance(x, bytes) and len(x) <= 30 for x in fields)
          and all(v is None or (isinstance(v, bytes) and len(v) <= 1024) for v in values))
    ctx.expect(ok, "within the limits", "<= 30 pairs, fields <= 30 octets, values <= 1024 octets", completion.show())


@probe("imap.id.any-state", rfc="rfc2971#3.1", level="MUST",
       requirement="ID is valid in every state: before login it is answered OK.", needs=["ID"],
       tags=["id", "state", "extension"])
async def id_any_state(ctx):
    client = await ctx.imap()
    completion = await client.command("ID NIL")
    ctx.expect(completion.ok, "ID NIL before login is answered OK", "OK", completion.show())


# --- NAMESPACE -------------------------------------------------------------------------------------------------


def namespace_entry_ok(value) -> bool:
    if value is None:
        return True
    return isinstance(value, list) and bool(value) and all(
        isinstance(e, list) and len(e) >= 2 and isinstance(e[0], bytes) and (e[1] is None or isinstance(e[1], bytes))
        for e in value)


@probe("imap.namespace.response", rfc="rfc2342#5 rfc2342#6 rfc9051#6.3.10", level="MUST",
       requirement="NAMESPACE is answered with an untagged NAMESPACE response of three parts (personal, other users', "
                   "shared), each NIL or a list of (prefix delimiter) pairs.", needs=ACCOUNT + ["NAMESPACE"],
       tags=["namespace", "extension"])
async def namespace_response(ctx):
    client = await session(ctx)
    completion = await command_ok(ctx, client, "NAMESPACE")
    data = completion.first("NAMESPACE")
    ctx.expect(data is not None and len(data.values) == 3 and all(namespace_entry_ok(v) for v in data.values),
               "three namespace parts", '* NAMESPACE (("" "/")) NIL NIL', completion.show())


@probe("imap.namespace.inbox-personal", rfc="rfc9051#5.1.2", level="MUST",
       requirement="INBOX lies within the personal namespace: it starts with a personal namespace's prefix (or a "
                   "prefix is INBOX followed by the delimiter).", needs=ACCOUNT + ["NAMESPACE"],
       tags=["namespace", "inbox", "extension"])
async def namespace_inbox(ctx):
    client = await session(ctx)
    completion = await command_ok(ctx, client, "NAMESPACE")
    data = completion.first("NAMESPACE")
    personal = data.values[0] if data is not None and data.values and isinstance(data.values[0], list) else []
    prefixes = [e[0].decode("utf-8", "replace") for e in personal if isinstance(e, list) and isinstance(e[0], bytes)]
    ok = any("INBOX".upper().startswith(p.upper()) or p.upper().startswith("INBOX") for p in prefixes)
    ctx.expect(ok, "a personal namespace prefix covers INBOX", '(("" ".")) or (("INBOX." "."))', completion.show())


# --- SPECIAL-USE -----------------------------------------------------------------------------------------------


@probe("imap.special-use.selection-option", rfc="rfc6154#2", level="MUST",
       requirement="LIST (SPECIAL-USE) returns only mailboxes that have a special-use attribute, and shows it.",
       needs=ACCOUNT + ["SPECIAL-USE"], tags=["special-use", "list", "extension"])
async def special_use_selection(ctx):
    client = await session(ctx)
    completion = await command_ok(ctx, client, 'LIST (SPECIAL-USE) "" "*"')
    entries = [r.mailbox_list() for r in completion.data("LIST")]
    ctx.require(bool(entries), "the account has no special-use mailboxes to list")
    ctx.expect(all(e is not None and {a.lower() for a in e.attributes} & SPECIAL_USE for e in entries),
               "every mailbox listed carries a special-use attribute", "* LIST (\\Sent) ...", completion.show())


@probe("imap.special-use.return-option", rfc="rfc6154#2", level="MUST",
       requirement="LIST with RETURN (SPECIAL-USE) shows the special-use attributes on the mailboxes that have them: "
                   "the same mailboxes and attributes LIST (SPECIAL-USE) finds.", needs=ACCOUNT + ["SPECIAL-USE"],
       tags=["special-use", "list", "extension"])
async def special_use_return(ctx):
    client = await session(ctx)
    selected = await command_ok(ctx, client, 'LIST (SPECIAL-USE) "" "*"')
    want = {e.name: {a.lower() for a in e.attributes} & SPECIAL_USE
            for r in selected.data("LIST") if (e := r.mailbox_list()) is not None}
    ctx.require(bool(want), "the account has no special-use mailboxes to list")
    returned = await command_ok(ctx, client, 'LIST "" "*" RETURN (SPECIAL-USE)')
    got = {e.name: {a.lower() for a in e.attributes} & SPECIAL_USE
           for r in returned.data("LIST") if (e := r.mailbox_list()) is not None}
    got = {k: v for k, v in got.items() if v}
    ctx.expect(got == want, "the same special-use mailboxes and attributes", str(want), returned.show())


# --- SORT and THREAD -----------------------------------------------------------------------------------------------


SORTED = "rfc5256#BASE.6.4.SORT"


async def sorted_numbers(ctx, f, command: str) -> tuple[list[int] | None, str]:
    completion = await f.client.command(command)
    ctx.setup(completion.ok, f"{command} is answered OK", "OK", completion.show())
    return search_numbers(completion), completion.show()


@probe("imap.sort.subject", rfc=f"{SORTED} rfc5256#2.1", level="MUST",
       requirement="SORT (SUBJECT) orders by base subject (\"Re:\" removed), ties by message number.",
       needs=ACCOUNT + ["SORT"], tags=["sort", "extension"])
async def sort_subject(ctx):
    async with filled(ctx, SEARCH_SET, flags=SEARCH_FLAGS, dates=SEARCH_DATES) as f:
        got, shown = await sorted_numbers(ctx, f, "SORT (SUBJECT) UTF-8 ALL")
        ctx.expect(got == [3, 1, 2, 4], "apple pie, banana report (1, then its reply 2), cherry", "* SORT 3 1 2 4",
                   shown)


@probe("imap.sort.size-reverse", rfc=SORTED, level="MUST",
       requirement="SORT (REVERSE SIZE) orders from the largest message to the smallest.", needs=ACCOUNT + ["SORT"],
       tags=["sort", "extension"])
async def sort_size(ctx):
    async with filled(ctx, SEARCH_SET, flags=SEARCH_FLAGS, dates=SEARCH_DATES) as f:
        got, shown = await sorted_numbers(ctx, f, "SORT (REVERSE SIZE) UTF-8 ALL")
        sizes = {n + 1: len(m) for n, m in enumerate(SEARCH_SET)}
        want = sorted(sizes, key=lambda n: (-sizes[n], n))
        ctx.expect(got == want, "largest first", "* SORT " + " ".join(map(str, want)), shown)


@probe("imap.sort.date", rfc=f"{SORTED} rfc5256#2.2", level="MUST",
       requirement="SORT (DATE) orders by the sent date of the Date field; SORT (REVERSE DATE) the other way round.",
       needs=ACCOUNT + ["SORT"], tags=["sort", "date", "extension"])
async def sort_date(ctx):
    async with filled(ctx, list(reversed(SEARCH_SET)), dates=SEARCH_DATES) as f:
        forward, shown = await sorted_numbers(ctx, f, "SORT (DATE) UTF-8 ALL")
        backward, shown2 = await sorted_numbers(ctx, f, "SORT (REVERSE DATE) UTF-8 ALL")
        ctx.expect(forward == [4, 3, 2, 1] and backward == [1, 2, 3, 4], "oldest Date first, then newest first",
                   "* SORT 4 3 2 1; * SORT 1 2 3 4", f"{shown}\n{shown2}")


@probe("imap.sort.charsets", rfc=SORTED, level="MUST",
       requirement="SORT accepts the charsets US-ASCII and UTF-8.", needs=ACCOUNT + ["SORT"],
       tags=["sort", "extension"])
async def sort_charsets(ctx):
    async with filled(ctx, SEARCH_SET[:2]) as f:
        ascii_ = await f.client.command("SORT (ARRIVAL) US-ASCII ALL")
        utf8 = await f.client.command("SORT (ARRIVAL) UTF-8 ALL")
        ctx.expect(ascii_.ok and utf8.ok, "both are answered OK", "OK, OK", f"{ascii_.show()}\n{utf8.show()}")


@probe("imap.sort.uid", rfc=SORTED, level="MUST",
       requirement="UID SORT answers with UIDs in the sorted order.", needs=ACCOUNT + ["SORT"],
       tags=["sort", "uid", "extension"])
async def uid_sort(ctx):
    async with filled(ctx, SEARCH_SET, flags=SEARCH_FLAGS, dates=SEARCH_DATES) as f:
        uids = await uid_map(ctx, f.client)
        got, shown = await sorted_numbers(ctx, f, "UID SORT (SUBJECT) UTF-8 ALL")
        ctx.expect(got == [uids[n] for n in (3, 1, 2, 4)], "the UIDs in subject order",
                   " ".join(str(uids[n]) for n in (3, 1, 2, 4)), shown)


def threads(completion) -> list | None:
    data = completion.first("THREAD")
    if data is None:
        return None

    def ints(value):
        return [ints(v) for v in value] if isinstance(value, list) else as_int(value)
    return ints(data.values)


@probe("imap.thread.orderedsubject", rfc="rfc5256#BASE.6.4.THREAD", level="MUST",
       requirement="THREAD ORDEREDSUBJECT groups messages by base subject and orders the threads by the sent date of "
                   "their first message.", needs=ACCOUNT + ["THREAD=ORDEREDSUBJECT"], tags=["thread", "extension"])
async def thread_orderedsubject(ctx):
    async with filled(ctx, SEARCH_SET, flags=SEARCH_FLAGS, dates=SEARCH_DATES) as f:
        completion = await command_ok(ctx, f.client, "THREAD ORDEREDSUBJECT UTF-8 ALL")
        ctx.expect(threads(completion) == [[1, 2], [3], [4]], "(1 2)(3)(4)", "* THREAD (1 2)(3)(4)",
                   completion.show())


@probe("imap.thread.references", rfc="rfc5256#BASE.6.4.THREAD", level="MUST",
       requirement="THREAD REFERENCES puts a reply under the message its References field names.",
       needs=ACCOUNT + ["THREAD=REFERENCES"], tags=["thread", "extension"])
async def thread_references(ctx):
    async with filled(ctx, SEARCH_SET, flags=SEARCH_FLAGS, dates=SEARCH_DATES) as f:
        completion = await command_ok(ctx, f.client, "THREAD REFERENCES UTF-8 ALL")
        ctx.expect(threads(completion) == [[1, 2], [3], [4]], "(1 2)(3)(4)", "* THREAD (1 2)(3)(4)",
                   completion.show())


# --- BINARY ------------------------------------------------------------------------------------------------------


@probe("imap.binary.decoded", rfc="rfc3516#4.2 rfc3516#4.3 rfc9051#6.4.5", level="MUST",
       requirement="FETCH BINARY.PEEK[2] returns part 2 with its base64 transfer encoding removed; octets that include "
                   "NUL come as a literal8 (~{n}).", needs=ACCOUNT + ["BINARY"], tags=["binary", "fetch", "extension"])
async def binary_decoded(ctx):
    async with filled(ctx, [MULTI]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BINARY.PEEK[2])")
        value = items.get(1, {}).get("BINARY[2]")
        literal8 = any(isinstance(p, ResponseLiteral) and p.binary
                       for r in completion.data("FETCH") for p in r.raw.parts)
        ctx.expect(value == BINARY_OCTETS and literal8, "the decoded octets, as a literal8", "BINARY[2] ~{n} <octets>",
                   completion.show())


@probe("imap.binary.size", rfc="rfc3516#4.3 rfc9051#7.5.2", level="MUST",
       requirement="BINARY.SIZE[2] is the size of part 2 after decoding, the size BINARY[2] returns.",
       needs=ACCOUNT + ["BINARY"], tags=["binary", "fetch", "extension"])
async def binary_size(ctx):
    async with filled(ctx, [MULTI]) as f:
        completion, items = await fetch(ctx, f.client, "1 (BINARY.SIZE[2] BINARY.SIZE[1])")
        got = (str(items.get(1, {}).get("BINARY.SIZE[2]")), str(items.get(1, {}).get("BINARY.SIZE[1]")))
        ctx.expect(got == (str(len(BINARY_OCTETS)), str(len(MULTI_TEXT_PART))), "the decoded sizes",
                   f"BINARY.SIZE[2] {len(BINARY_OCTETS)} BINARY.SIZE[1] {len(MULTI_TEXT_PART)}", completion.show())


@probe("imap.binary.peek-keeps-unseen", rfc="rfc3516#4.2 rfc9051#6.4.5", level="MUST",
       requirement="FETCH BINARY.PEEK does not set \\Seen.", needs=ACCOUNT + ["BINARY"],
       tags=["binary", "fetch", "seen", "extension"])
async def binary_peek(ctx):
    async with filled(ctx, [MULTI]) as f:
        await fetch(ctx, f.client, "1 (BINARY.PEEK[1])")
        other = await session(ctx, "b", select=f.name, examine=True)
        flags = await flags_of(ctx, other, 1)
        ctx.expect("\\seen" not in flags, "the message is still unseen", "FLAGS without \\Seen",
                   " ".join(sorted(flags)) or "()")
