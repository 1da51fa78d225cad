"""Mailbox commands: SELECT/EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, LIST, LSUB, STATUS, APPEND,
CLOSE, UNSELECT, NOOP, CHECK (RFC 3501 6.3-6.4, RFC 9051, RFC 7162 for CONDSTORE/QRESYNC on SELECT)."""
from __future__ import annotations

from ...protocols.imap import encode
from ...protocols.imap.search import SearchError, sequence_set
from ...protocols.imap.session import State
from ...protocols.imap.tokens import Atom, List, String, astring
from ...store.naming import names as url_names
from .names import DELIMITER, PUBLIC, PUBLIC_ROOT, list_matcher, special_use
from .view import View

SYSTEM_FLAGS = b"(\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
STATUS_ITEMS = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE", "DELETED"}


class MailboxCommands:
    # --- selecting ------------------------------------------------------------------------------------------

    async def cmd_select(self, tag, args, uid):
        return await self._select(args, readonly=False)

    async def cmd_examine(self, tag, args, uid):
        return await self._select(args, readonly=True)

    async def _select(self, args, readonly: bool):
        from .session import CommandError

        if not args or len(args) > 2:
            raise CommandError("BAD", "Syntax: SELECT <mailbox> [(CONDSTORE | QRESYNC (...))]")
        qresync = self._select_params(args[1] if len(args) == 2 else None)
        had_view = self.view is not None
        self.deselect()  # RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected
        if had_view:
            self.machine.untagged(b"OK [CLOSED] Previous mailbox closed")  # RFC 7162 3.2.11
        name, url = self.mailbox_url(args[0])
        if not url or url == PUBLIC_ROOT:
            raise CommandError("NO", f"{name} cannot be selected", "CANNOT")
        from ...exipc import StoreCallError
        try:
            status, rows = await self.host.channel.call("imap_snapshot", url=url)
        except StoreCallError:
            return "NO", f"No mailbox named {name}", "NONEXISTENT", State.AUTHENTICATED
        view = View(url=url, readonly=readonly, uidvalidity=status.uidvalidity,
                    uids=[r.uid for r in rows], flags={r.uid: r.flags for r in rows},
                    modseqs={r.uid: r.modseq for r in rows})
        view.recent = self.hub.unclaimed(url, view.uids) if readonly else self.hub.claim_recent(url, view.uids)
        rev2 = "IMAP4REV2" in self.enabled
        out = self.machine.untagged
        out(b"FLAGS " + SYSTEM_FLAGS)
        out(b"OK [PERMANENTFLAGS " + (b"()" if readonly else b"(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)")
            + b"] Flags permitted")
        out(b"%d EXISTS" % len(view.uids))
        if not rev2:
            out(b"%d RECENT" % len(view.recent))
            unseen = next((n for n, u in enumerate(view.uids, 1) if "\\Seen" not in view.flags[u]), None)
            if unseen is not None:
                out(b"OK [UNSEEN %d] First unseen message" % unseen)
        out(b"OK [UIDVALIDITY %d] UIDs valid" % status.uidvalidity)
        out(b"OK [UIDNEXT %d] Predicted next UID" % status.uidnext)
        condstore = "CONDSTORE" in self.enabled or qresync is not None or self._condstore_param
        if condstore:
            out(b"OK [HIGHESTMODSEQ %d] Highest" % status.highestmodseq)
        if qresync is not None:
            await self._qresync(view, status, *qresync)
        self.view = view
        self.hub.attach(view)
        mode = "READ-ONLY" if readonly else "READ-WRITE"
        return "OK", f"{'EXAMINE' if readonly else 'SELECT'} completed", mode, State.SELECTED

    def _select_params(self, token):
        """None, or (uidvalidity, modseq, known uids) for QRESYNC; CONDSTORE just turns CONDSTORE on."""
        from .session import CommandError

        self._condstore_param = False
        if token is None:
            return None
        if not isinstance(token, List) or not token.items or not isinstance(token.items[0], Atom):
            raise CommandError("BAD", "SELECT parameters are a parenthesized list")
        key = token.items[0].upper()
        if key == "CONDSTORE" and len(token.items) == 1:
            self.enabled.add("CONDSTORE")  # RFC 7162 3.1.8: a CONDSTORE parameter enables CONDSTORE
            self._condstore_param = True
            return None
        if key == "QRESYNC" and len(token.items) == 2 and isinstance(token.items[1], List):
            if "QRESYNC" not in self.enabled:
                raise CommandError("BAD", "QRESYNC must be enabled first (ENABLE QRESYNC)")  # RFC 7162 3.2.5
            params = token.items[1].items
            try:
                uidvalidity, modseq = int(params[0].text), int(params[1].text)
                known = sequence_set(params[2].text, 2 ** 32) if len(params) > 2 and isinstance(params[2], Atom) \
                    else None
            except (IndexError, ValueError, AttributeError, SearchError):
                raise CommandError("BAD", "Syntax: QRESYNC (uidvalidity modseq [known-uids])") from None
            return uidvalidity, modseq, known
        raise CommandError("BAD", f"Unknown SELECT parameter {key[:20]}")

    async def _qresync(self, view: View, status, uidvalidity: int, modseq: int, known) -> None:
        """RFC 7162 3.2.5.1: what the client missed since `modseq`, if its UIDVALIDITY still holds."""
        if uidvalidity != status.uidvalidity:
            return
        vanished = await self.call("imap_vanished", url=view.url, since=modseq)
        if known is not None:
            vanished = [u for u in vanished if u in known]
        if vanished:
            self.machine.untagged(b"VANISHED (EARLIER) " + encode.uid_set(vanished))
        for uid in view.uids:
            if view.modseqs[uid] > modseq:
                self.machine.untagged(b"%d FETCH (UID %d FLAGS " % (view.seq(uid), uid)
                                      + encode.flag_list(sorted(view.flags[uid])) + b" MODSEQ (%d))" % view.modseqs[uid])

    async def cmd_close(self, tag, args, uid):
        view = self.require_view()
        if not view.readonly:  # RFC 3501 6.4.2: expunge silently, no EXPUNGE responses
            expunged = await self.call("imap_expunge", url=view.url, uids=None)
            if expunged:
                self.hub.changed(view.url, by=view)
        self.deselect()
        return "OK", "CLOSE completed", None, State.AUTHENTICATED

    async def cmd_unselect(self, tag, args, uid):
        self.require_view()
        self.deselect()
        return "OK", "UNSELECT completed", None, State.AUTHENTICATED

    async def cmd_noop(self, tag, args, uid):
        return "OK", "NOOP completed", None, None

    async def cmd_check(self, tag, args, uid):
        return "OK", "CHECK completed", None, None

    # --- the mailbox hierarchy ------------------------------------------------------------------------------

    async def _folders(self):
        """(name, FolderInfo) for every mailbox of the user and of the public hierarchy."""
        infos = await self.call("imap_folders", roots=[self.names.root, PUBLIC_ROOT])
        return [(self.names.name(f.url, url_names(f.url)), f) for f in infos]

    def _list_line(self, verb: bytes, attrs: list[str], name: str, extra: bytes = b"") -> bytes:
        return verb + b" (" + " ".join(attrs).encode() + b") " + encode.quoted(DELIMITER) + b" " + \
            self.names.encode(name) + extra

    async def cmd_list(self, tag, args, uid):
        return await self._list(args, lsub=False)

    async def cmd_lsub(self, tag, args, uid):
        return await self._list(args, lsub=True)

    async def _list(self, args, lsub: bool):
        """LIST with the extended syntax of RFC 5258 (selection and return options, several patterns),
        SPECIAL-USE (RFC 6154) and LIST-STATUS (RFC 5819); LSUB as RFC 3501 6.3.9 has it."""
        from .session import CommandError

        usage = "Syntax: LIST [(selection)] <reference> <pattern | (patterns)> [RETURN (options)]"
        args = list(args)
        select: set[str] = set()
        if not lsub and args and isinstance(args[0], List):
            select = {a.upper() for a in args.pop(0).items if isinstance(a, Atom)}
        returns: set[str] = set()
        status_items: list[str] = []
        if not lsub and len(args) >= 2 and isinstance(args[-2], Atom) and args[-2].upper() == "RETURN":
            options = args[-1].items if isinstance(args[-1], List) else ()
            args = args[:-2]
            for i, opt in enumerate(options):
                if isinstance(opt, Atom) and opt.upper() == "STATUS" and i + 1 < len(options) \
                        and isinstance(options[i + 1], List):
                    status_items = [x.upper() for x in options[i + 1].items if isinstance(x, Atom)]
                elif isinstance(opt, Atom):
                    returns.add(opt.upper())
        if len(args) != 2 or astring(args[0]) is None:
            raise CommandError("BAD", usage)
        unknown = select - {"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"}
        if unknown or (select == {"RECURSIVEMATCH"}):
            raise CommandError("BAD", f"Unsupported LIST selection option {sorted(unknown or select)[0]}")
        patterns = [astring(p) for p in args[1].items] if isinstance(args[1], List) else [astring(args[1])]
        if any(p is None for p in patterns):
            raise CommandError("BAD", usage)
        if any(i not in STATUS_ITEMS for i in status_items):
            raise CommandError("BAD", "Unknown STATUS item in RETURN (STATUS ...)")
        verb = b"LSUB" if lsub else b"LIST"
        reference = self.names.decode(astring(args[0]))
        patterns = [self.names.decode(p) for p in patterns]
        if patterns == [""]:
            # RFC 3501 6.3.8: the hierarchy delimiter and the root of the reference
            root = reference.split(DELIMITER)[0] + DELIMITER if DELIMITER in reference else ""
            self.machine.untagged(verb + b" (\\Noselect) " + encode.quoted(DELIMITER) + b" " + encode.quoted(root))
            return "OK", f"{verb.decode()} completed", None, None
        matchers = [list_matcher(reference, p) for p in patterns]
        folders = {name: info for name, info in await self._folders()}
        subscribed = set(await self.call("imap_subscriptions", root=self.names.root))
        only_subscribed = lsub or "SUBSCRIBED" in select
        names = sorted(set(folders) | (subscribed if only_subscribed else set()) | {PUBLIC})
        for name in names:
            if not any(m.match(name) for m in matchers):
                continue
            info = folders.get(name)
            if only_subscribed and name not in subscribed:
                continue
            attrs: list[str] = []
            if name == PUBLIC:
                attrs = ["\\Noselect", "\\HasChildren"]
            elif info is None:
                attrs = ["\\NonExistent"] if not lsub else ["\\Noselect"]  # RFC 5258 3.4
            else:
                attrs = ["\\HasChildren" if info.has_children else "\\HasNoChildren"]
                use = special_use(name)
                if use:
                    attrs.append(use)
            if "SPECIAL-USE" in select and not any(a in ("\\Sent", "\\Trash", "\\Drafts", "\\Junk") for a in attrs):
                continue
            if not lsub and name in subscribed and (only_subscribed or "SUBSCRIBED" in returns):
                attrs.append("\\Subscribed")
            self.machine.untagged(self._list_line(verb, attrs, name))
            if status_items and info is not None:
                await self._status_response(name, info.url, status_items)
        return "OK", f"{verb.decode()} completed", None, None

    async def _status_response(self, name: str, url: str, items: list[str]) -> bool:
        from ...exipc import StoreCallError
        try:
            status = await self.host.channel.call("imap_status", url=url)
        except StoreCallError:
            return False
        values = {"MESSAGES": status.messages, "UIDNEXT": status.uidnext, "UIDVALIDITY": status.uidvalidity,
                  "UNSEEN": status.unseen, "HIGHESTMODSEQ": status.highestmodseq, "SIZE": status.size,
                  "DELETED": status.deleted, "RECENT": 0}
        if "RECENT" in items:
            if self.view is not None and self.view.url.casefold() == url.casefold():
                values["RECENT"] = len(self.view.recent)
            else:
                _, rows = await self.host.channel.call("imap_snapshot", url=url)
                values["RECENT"] = len(self.hub.unclaimed(url, [r.uid for r in rows]))
        data = b" ".join(b"%s %d" % (i.encode(), values[i]) for i in items)
        self.machine.untagged(b"STATUS " + self.names.encode(name) + b" (" + data + b")")
        return True

    async def cmd_create(self, tag, args, uid):
        from .session import CommandError

        if len(args) != 1:
            raise CommandError("BAD", "Syntax: CREATE <mailbox>")
        name, url = self.mailbox_url(args[0])
        if self.names.is_inbox(name.rstrip(DELIMITER)):
            return "NO", "INBOX always exists", "ALREADYEXISTS", None  # RFC 3501 6.3.3
        existing = {info.url.casefold() for _, info in await self._folders()}
        if url.casefold() in existing:
            return "NO", f"{name} already exists", "ALREADYEXISTS", None
        # Superior levels that do not exist yet are created too (RFC 3501 6.3.3 SHOULD).
        parts = [p for p in name.rstrip(DELIMITER).split(DELIMITER)]
        for depth in range(1, len(parts) + 1):
            partial = self.names.url(DELIMITER.join(parts[:depth]))
            if partial.casefold() not in existing and partial != PUBLIC_ROOT:
                await self.call("imap_create", url=partial)
                existing.add(partial.casefold())
        return "OK", "CREATE completed", None, None

    async def cmd_delete(self, tag, args, uid):
        from .session import CommandError

        if len(args) != 1:
            raise CommandError("BAD", "Syntax: DELETE <mailbox>")
        name, url = self.mailbox_url(args[0])
        if self.names.is_inbox(name):
            return "NO", "INBOX cannot be deleted", "CANNOT", None  # RFC 3501 6.3.4
        entries = {info.url.casefold(): info for _, info in await self._folders()}
        info = entries.get(url.casefold())
        if info is None:
            return "NO", f"No mailbox named {name}", "NONEXISTENT", None
        if info.has_children:
            return "NO", f"{name} has child mailboxes; delete them first", "HASCHILDREN", None  # RFC 5530
        if self.view is not None and self.view.url.casefold() == url.casefold():
            self.deselect()
        await self.call("imap_delete", url=url)
        self.hub.changed(url)
        return "OK", "DELETE completed", None, None

    async def cmd_rename(self, tag, args, uid):
        from .session import CommandError

        if len(args) != 2:
            raise CommandError("BAD", "Syntax: RENAME <old> <new>")
        old_name, old = self.mailbox_url(args[0])
        new_name, new = self.mailbox_url(args[1])
        existing = {info.url.casefold() for _, info in await self._folders()}
        if old.casefold() not in existing:
            return "NO", f"No mailbox named {old_name}", "NONEXISTENT", None
        if new.casefold() in existing or self.names.is_inbox(new_name):
            return "NO", f"{new_name} already exists", "ALREADYEXISTS", None
        if self.names.is_inbox(old_name):
            # RFC 3501 6.3.5: renaming INBOX moves its messages to the new name and leaves INBOX empty
            await self.call("imap_create", url=new)
            _, rows = await self.call("imap_snapshot", url=old)
            await self.call("imap_copy", url=old, uids=[r.uid for r in rows], target=new, move=True)
            self.hub.changed(old)
            return "OK", "RENAME completed", None, None
        await self.call("imap_rename", url=old, new_url=new)
        self.hub.renamed(old, new)
        return "OK", "RENAME completed", None, None

    async def cmd_subscribe(self, tag, args, uid):
        return await self._subscribe(args, True)

    async def cmd_unsubscribe(self, tag, args, uid):
        return await self._subscribe(args, False)

    async def _subscribe(self, args, on: bool):
        from .session import CommandError

        if len(args) != 1:
            raise CommandError("BAD", f"Syntax: {'SUBSCRIBE' if on else 'UNSUBSCRIBE'} <mailbox>")
        name, url = self.mailbox_url(args[0])
        if on and url.casefold() not in {info.url.casefold() for _, info in await self._folders()}:
            return "NO", f"No mailbox named {name}", "NONEXISTENT", None  # RFC 3501 6.3.6 allows checking
        await self.call("imap_set_subscribed", root=self.names.root, name=name, on=on)
        return "OK", f"{'SUBSCRIBE' if on else 'UNSUBSCRIBE'} completed", None, None

    async def cmd_status(self, tag, args, uid):
        from .session import CommandError

        if len(args) != 2 or not isinstance(args[1], List) or not args[1].items:
            raise CommandError("BAD", "Syntax: STATUS <mailbox> (<items>)")
        items = [a.upper() if isinstance(a, Atom) else "" for a in args[1].items]
        unknown = [i for i in items if i not in STATUS_ITEMS]
        if unknown:
            raise CommandError("BAD", f"Unknown STATUS item {unknown[0][:20]}")
        name, url = self.mailbox_url(args[0])
        if not await self._status_response(name, url, items):
            return "NO", f"No mailbox named {name}", "NONEXISTENT", None
        return "OK", "STATUS completed", None, None

    async def cmd_append(self, tag, args, uid):
        from .session import CommandError

        if len(args) < 2 or not isinstance(args[-1], String):
            raise CommandError("BAD", "Syntax: APPEND <mailbox> [(flags)] [date-time] <literal>")
        message = args[-1]
        flags: list[str] = []
        date: float | None = None
        for extra in args[1:-1]:
            if isinstance(extra, List) and not flags:
                flags = [a.text for a in extra.items if isinstance(a, Atom)]
                if "\\Recent" in flags or len(flags) != len(extra.items):
                    raise CommandError("BAD", "APPEND flags are flag atoms (\\Recent cannot be set)")
            elif isinstance(extra, String) and date is None:
                try:
                    date = encode.parse_date_time(extra.text())
                except ValueError:
                    raise CommandError("BAD", f"Bad date-time {extra.text()!r}") from None
            else:
                raise CommandError("BAD", "Syntax: APPEND <mailbox> [(flags)] [date-time] <literal>")
        if not message.value and not message.literal:
            raise CommandError("BAD", "APPEND needs the message as a literal")
        name, url = self.mailbox_url(args[0])
        heap = self.host.services.heap
        handle = heap.put(message.value)
        try:
            from ...exipc import StoreCallError
            try:
                uidvalidity, new_uid = await self.host.channel.call(
                    "imap_append", url=url, blob=handle, flags=flags, internal_date=date)
            except StoreCallError:
                return "NO", f"No mailbox named {name}", "TRYCREATE", None  # RFC 3501 6.3.11
        finally:
            heap.release(handle)
        self.hub.changed(url)
        return "OK", "APPEND completed", f"APPENDUID {uidvalidity} {new_uid}", None  # RFC 4315

