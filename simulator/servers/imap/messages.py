"""Message commands of the selected state: FETCH, STORE, COPY, MOVE, EXPUNGE, SEARCH, SORT, THREAD
(RFC 3501 6.4, RFC 4315 UIDPLUS, RFC 6851 MOVE, RFC 7162 CONDSTORE/QRESYNC, RFC 5256, RFC 4731 ESEARCH)."""
from __future__ import annotations

from ...protocols.imap import encode, fetch, search, threading
from ...protocols.imap.tokens import Atom, List, String, astring

FLAG_MODES = {"FLAGS": "replace", "+FLAGS": "add", "-FLAGS": "remove"}
TEXT_KEYS = {"BCC", "BODY", "CC", "FROM", "HEADER", "SUBJECT", "TEXT", "TO", "SENTBEFORE", "SENTON", "SENTSINCE"}


class MessageCommands:
    # --- message sets ---------------------------------------------------------------------------------------

    def _pairs(self, token, uid: bool) -> list[tuple[int, int]]:
        """(sequence number, UID) of the messages a set names, in the view's order."""
        from .session import CommandError

        view = self.require_view()
        if not isinstance(token, Atom):
            raise CommandError("BAD", "Expected a message set")
        try:
            if uid:
                wanted = search.sequence_set(token.text, view.max_uid)
                return [(n, u) for n, u in enumerate(view.uids, 1) if u in wanted]
            explicit = [n for pair in search.parse_sequence_set(token.text) for n in pair if n is not None]
            numbers = search.sequence_set(token.text, len(view.uids))
        except search.SearchError as exc:
            raise CommandError("BAD", f"Bad message set: {exc}") from None
        if any(n > len(view.uids) for n in explicit) or (not view.uids and "*" in token.text):
            raise CommandError("BAD", "No such message (sequence number out of range)")  # RFC 3501 9
        return [(n, view.uid_at(n)) for n in sorted(numbers)]

    async def _rows(self) -> dict:
        _, rows = await self.call("imap_snapshot", url=self.view.url)
        return {r.uid: r for r in rows}

    async def _bodies(self, uids: list[int]) -> dict[int, bytes]:
        """Bodies by UID: from the cache when they were fetched before, from the store otherwise."""
        heap, cache, validity = self.host.services.heap, self.host.body_cache, self.view.uidvalidity
        out = {}
        missing = []
        for uid in uids:
            body = cache.get((validity, uid))  # (UIDVALIDITY, UID) is never reused for other octets
            if body is None:
                missing.append(uid)
            else:
                out[uid] = body
        if missing:
            for uid, _item_id, handle in await self.call("imap_bodies", url=self.view.url, uids=missing):
                try:
                    out[uid] = cache.put((validity, uid), bytes(heap.view(handle)))
                finally:
                    heap.release(handle)
        return out

    # --- FETCH ------------------------------------------------------------------------------------------------

    async def cmd_fetch(self, tag, args, uid):
        from .session import CommandError

        if len(args) not in (2, 3):
            raise CommandError("BAD", "Syntax: FETCH <set> <items> [(CHANGEDSINCE n)]")
        pairs = self._pairs(args[0], uid)
        try:
            items = fetch.parse_items(args[1])
        except fetch.FetchError as exc:
            raise CommandError("BAD", str(exc)) from None
        changed_since = self._changed_since(args[2]) if len(args) == 3 else None
        view = self.view
        rows = await self._rows()
        if changed_since is not None:
            pairs = [(n, u) for n, u in pairs if u in rows and rows[u].modseq > changed_since]
        missing = [u for _, u in pairs if u not in rows]
        pairs = [(n, u) for n, u in pairs if u in rows]
        if any(i.sets_seen for i in items) and not view.readonly:
            unseen = [u for _, u in pairs if "\\Seen" not in rows[u].flags]
            if unseen:
                changed, _ = await self.call("imap_store", url=view.url, uids=unseen, flags=["\\Seen"], mode="add",
                                             unchanged_since=None)
                rows.update({r.uid: r for r in changed})
                self.hub.changed(view.url, by=view)
                if not any(i.name == "FLAGS" for i in items):
                    items = items + [fetch.Item("FLAGS")]  # the flags changed: say so (RFC 3501 6.4.5)
        bodies = await self._bodies([u for _, u in pairs]) if any(i.needs_body for i in items) else {}
        condstore = "CONDSTORE" in self.enabled or changed_since is not None
        for n, u in pairs:
            row = rows[u]
            view.flags[u], view.modseqs[u] = row.flags, row.modseq
            msg = fetch.Message(n, u, row.flags | self._recent_flag(u), row.internal_date, row.size, row.modseq,
                                bodies.get(u))
            try:
                data = fetch.render(items, msg, with_uid=uid, with_modseq=condstore)
            except Exception as exc:  # e.g. BINARY of an unknown transfer encoding
                if type(exc).__name__ == "UnknownEncoding":
                    raise CommandError("NO", "Unknown Content-Transfer-Encoding", "UNKNOWN-CTE") from None
                raise
            self.machine.untagged(b"%d FETCH " % n + data)
        if missing:
            return "NO", "Some messages were expunged meanwhile", "EXPUNGEISSUED", None  # RFC 5530
        return "OK", "FETCH completed", None, None

    def _recent_flag(self, uid: int) -> frozenset[str]:
        rev2 = "IMAP4REV2" in self.enabled
        return frozenset({"\\Recent"}) if uid in self.view.recent and not rev2 else frozenset()

    def _changed_since(self, token) -> int:
        from .session import CommandError

        words = token.items if isinstance(token, List) else ()
        if len(words) >= 2 and isinstance(words[0], Atom) and words[0].upper() == "CHANGEDSINCE":
            try:
                if "CONDSTORE" not in self.enabled:
                    self.enabled.add("CONDSTORE")  # RFC 7162 3.1: a CONDSTORE-enabling command
                return int(words[1].text)
            except (ValueError, AttributeError):
                pass
        raise CommandError("BAD", "Syntax: (CHANGEDSINCE <mod-sequence>)")

    # --- STORE ------------------------------------------------------------------------------------------------

    async def cmd_store(self, tag, args, uid):
        from .session import CommandError

        view = self.require_view()
        unchanged_since = None
        if len(args) >= 3 and isinstance(args[1], List):
            words = args[1].items
            if len(words) != 2 or not isinstance(words[0], Atom) or words[0].upper() != "UNCHANGEDSINCE":
                raise CommandError("BAD", "Syntax: STORE <set> (UNCHANGEDSINCE n) <item> <flags>")
            try:
                unchanged_since = int(words[1].text)
            except (ValueError, AttributeError):
                raise CommandError("BAD", "UNCHANGEDSINCE takes a mod-sequence") from None
            self.enabled.add("CONDSTORE")
            args = [args[0]] + list(args[2:])
        if len(args) < 3 or not isinstance(args[1], Atom):
            raise CommandError("BAD", "Syntax: STORE <set> (+|-)FLAGS[.SILENT] <flags>")
        item = args[1].upper()
        silent = item.endswith(".SILENT")
        mode = FLAG_MODES.get(item.removesuffix(".SILENT"))
        if mode is None:
            raise CommandError("BAD", f"Unknown STORE item {item[:20]}")
        values = args[2].items if len(args) == 3 and isinstance(args[2], List) else args[2:]
        if not all(isinstance(v, Atom) for v in values):
            raise CommandError("BAD", "Flags are atoms")
        flags = [v.text for v in values]
        if any(f.upper() == "\\RECENT" for f in flags):
            raise CommandError("BAD", "\\Recent cannot be stored")
        pairs = self._pairs(args[0], uid)
        if view.readonly:
            return "NO", "The mailbox is read-only (EXAMINE)", "READ-ONLY", None
        changed, modified = await self.call("imap_store", url=view.url, uids=[u for _, u in pairs], flags=flags,
                                            mode=mode, unchanged_since=unchanged_since)
        condstore = "CONDSTORE" in self.enabled
        for row in changed:
            before = view.flags.get(row.uid)
            view.flags[row.uid], view.modseqs[row.uid] = row.flags, row.modseq
            if silent and not (condstore and before != row.flags):
                continue
            data = [] if silent else [b"FLAGS " + encode.flag_list(sorted(row.flags | self._recent_flag(row.uid)))]
            if uid or condstore:
                data.insert(0, b"UID %d" % row.uid)
            if condstore:
                data.append(b"MODSEQ (%d)" % row.modseq)
            self.machine.untagged(b"%d FETCH (" % view.seq(row.uid) + b" ".join(data) + b")")
        if changed:
            self.hub.changed(view.url, by=view)
        if modified:
            numbers = modified if uid else [view.seq(u) for u in modified]
            return "OK", "Conditional STORE failed for some messages", \
                "MODIFIED " + encode.uid_set(numbers).decode(), None
        return "OK", "STORE completed", None, None

    # --- COPY, MOVE, EXPUNGE ------------------------------------------------------------------------------------

    async def cmd_copy(self, tag, args, uid):
        return await self._transfer(args, uid, move=False)

    async def cmd_move(self, tag, args, uid):
        return await self._transfer(args, uid, move=True)

    async def _transfer(self, args, uid: bool, move: bool):
        from .session import CommandError

        verb = "MOVE" if move else "COPY"
        if len(args) != 2:
            raise CommandError("BAD", f"Syntax: {verb} <set> <mailbox>")
        view = self.require_view()
        pairs = self._pairs(args[0], uid)
        name, target = self.mailbox_url(args[1])
        if move and view.readonly:
            return "NO", "The mailbox is read-only (EXAMINE)", "READ-ONLY", None
        from ...exipc import StoreCallError
        try:
            await self.host.channel.call("imap_status", url=target)
        except StoreCallError:
            return "NO", f"No mailbox named {name}", "TRYCREATE", None  # RFC 3501 6.4.7
        uidvalidity, mapping = await self.call("imap_copy", url=view.url, uids=[u for _, u in pairs], target=target,
                                               move=move)
        code = None
        if mapping:
            code = f"COPYUID {uidvalidity} {encode.uid_set([s for s, _ in mapping]).decode()} " \
                   f"{encode.uid_set([d for _, d in mapping]).decode()}"  # RFC 4315 3
        self.hub.changed(target)
        if not move:
            return "OK", "COPY completed", code, None
        if code:
            self.machine.untagged(b"OK [" + code.encode() + b"] Moved")  # RFC 6851 4.3: before the expunges
        self._announce_expunged([s for s, _ in mapping])
        self.hub.changed(view.url, by=view)
        return "OK", "MOVE completed", None, None

    async def cmd_expunge(self, tag, args, uid):
        from .session import CommandError

        view = self.require_view()
        only = None
        if uid:
            if len(args) != 1:
                raise CommandError("BAD", "Syntax: UID EXPUNGE <uid set>")
            only = [u for _, u in self._pairs(args[0], True)]
        elif args:
            raise CommandError("BAD", "EXPUNGE takes no arguments")
        if view.readonly:
            return "NO", "The mailbox is read-only (EXAMINE)", "READ-ONLY", None
        gone = await self.call("imap_expunge", url=view.url, uids=only)
        self._announce_expunged(gone)
        if gone:
            self.hub.changed(view.url, by=view)
        code = None
        if "CONDSTORE" in self.enabled:  # RFC 7162 3.1.11: the tagged OK tells the new HIGHESTMODSEQ
            status = await self.call("imap_status", url=view.url)
            code = f"HIGHESTMODSEQ {status.highestmodseq}"
        return "OK", "EXPUNGE completed", code, None

    def _announce_expunged(self, uids: list[int]) -> None:
        view = self.view
        gone = [u for u in view.uids if u in set(uids)]
        if not gone:
            return
        if "QRESYNC" in self.enabled:
            self.machine.untagged(b"VANISHED " + encode.uid_set(gone))
            view.uids = [u for u in view.uids if u not in set(gone)]
        else:
            for u in gone:  # each EXPUNGE renumbers the ones after it (RFC 3501 7.4.1)
                self.machine.untagged(b"%d EXPUNGE" % view.seq(u))
                view.uids.remove(u)
        for u in gone:
            view.flags.pop(u, None)
            view.modseqs.pop(u, None)
            view.recent.discard(u)

    # --- SEARCH, SORT, THREAD ----------------------------------------------------------------------------------

    async def _candidates(self, tokens) -> list[search.Candidate]:
        view = self.require_view()
        rows = await self._rows()
        words = _atoms(tokens)
        bodies = await self._bodies([u for u in view.uids if u in rows]) if words & TEXT_KEYS else {}
        return [search.Candidate(seq=n, uid=u, flags=rows[u].flags | self._recent_flag(u),
                                 internal_date=rows[u].internal_date, size=rows[u].size, modseq=rows[u].modseq,
                                 raw=bodies.get(u, b""))
                for n, u in enumerate(view.uids, 1) if u in rows]

    def _charset(self, args: list) -> tuple[str | None, list]:
        if len(args) >= 2 and isinstance(args[0], Atom) and args[0].upper() == "CHARSET":
            return astring(args[1]), args[2:]
        return None, args

    async def cmd_search(self, tag, args, uid):
        from .session import CommandError

        returns = None
        if len(args) >= 2 and isinstance(args[0], Atom) and args[0].upper() == "RETURN" and isinstance(args[1], List):
            returns = [a.upper() for a in args[1].items if isinstance(a, Atom)] or ["ALL"]
            args = args[2:]
        charset, keys = self._charset(args)
        try:
            key = search.parse(list(keys), charset=charset)
        except search.SearchError as exc:
            code = "BADCHARSET" if "charset" in str(exc).lower() else None
            raise CommandError("NO" if code else "BAD", str(exc), code) from None
        candidates = await self._candidates(keys)
        context = search.Context(max_seq=len(self.view.uids), max_uid=self.view.max_uid)
        hits = [c for c in candidates if search.evaluate(key, c, context)]
        numbers = [c.uid if uid else c.seq for c in hits]
        modseq = "MODSEQ" in _atoms(keys)
        if returns is not None or "IMAP4REV2" in self.enabled:
            self.machine.untagged(_esearch(tag, uid, numbers, returns or ["ALL"],
                                           max((c.modseq for c in hits), default=0) if modseq else None))
        else:
            tail = b" (MODSEQ %d)" % max(c.modseq for c in hits) if modseq and hits else b""  # RFC 7162 3.1.5
            self.machine.untagged(b"SEARCH" + b"".join(b" %d" % n for n in numbers) + tail)
        return "OK", "SEARCH completed", None, None

    async def cmd_sort(self, tag, args, uid):
        from .session import CommandError

        if len(args) < 3 or not isinstance(args[0], List):
            raise CommandError("BAD", "Syntax: SORT (<criteria>) <charset> <search keys>")
        try:
            criteria = threading.parse_sort_criteria(list(args[0].items))
            key = search.parse(list(args[2:]), charset=astring(args[1]))
        except search.SearchError as exc:
            raise CommandError("BAD", str(exc)) from None
        candidates = await self._candidates(list(args[2:]) + [Atom("TEXT")])
        context = search.Context(max_seq=len(self.view.uids), max_uid=self.view.max_uid)
        hits = [c for c in candidates if search.evaluate(key, c, context)]
        numbers = threading.sort([_sort_item(c) for c in hits], criteria, uid=uid)
        self.machine.untagged(b"SORT" + b"".join(b" %d" % n for n in numbers))
        return "OK", "SORT completed", None, None

    async def cmd_thread(self, tag, args, uid):
        from .session import CommandError

        if len(args) < 3 or not isinstance(args[0], Atom):
            raise CommandError("BAD", "Syntax: THREAD <algorithm> <charset> <search keys>")
        try:
            algorithm = threading.parse_thread_algorithm(args[0])
            key = search.parse(list(args[2:]), charset=astring(args[1]))
        except search.SearchError as exc:
            raise CommandError("BAD", str(exc)) from None
        candidates = await self._candidates(list(args[2:]) + [Atom("TEXT")])
        context = search.Context(max_seq=len(self.view.uids), max_uid=self.view.max_uid)
        items = [_sort_item(c) for c in candidates if search.evaluate(key, c, context)]
        threads = threading.thread_references(items, uid=uid) if algorithm == "REFERENCES" else \
            threading.thread_orderedsubject(items, uid=uid)
        self.machine.untagged(b"THREAD " + threading.format_threads(threads) if threads else b"THREAD")
        return "OK", "THREAD completed", None, None


def _atoms(tokens) -> set[str]:
    out = set()
    for t in tokens:
        if isinstance(t, Atom):
            out.add(t.upper())
        elif isinstance(t, List):
            out |= _atoms(t.items)
        elif isinstance(t, String):
            continue
    return out


def _esearch(tag: str, uid: bool, numbers: list[int], returns: list[str], modseq: int | None) -> bytes:
    """RFC 4731 / RFC 9051 ESEARCH response."""
    parts = [b'ESEARCH (TAG "' + tag.encode() + b'")']
    if uid:
        parts.append(b"UID")
    if numbers:
        if "MIN" in returns:
            parts.append(b"MIN %d" % min(numbers))
        if "MAX" in returns:
            parts.append(b"MAX %d" % max(numbers))
        if "ALL" in returns:
            parts.append(b"ALL " + encode.uid_set(numbers))
    if "COUNT" in returns:
        parts.append(b"COUNT %d" % len(numbers))
    if modseq is not None and numbers:
        parts.append(b"MODSEQ %d" % modseq)
    return b" ".join(parts)


def _sort_item(c: search.Candidate) -> threading.SortItem:
    return threading.SortItem.from_message(c.seq, c.uid, c.internal_date, c.size, c.raw)
