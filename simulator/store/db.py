"""The store: folders and items with URLs, IMAP UIDs and mod-sequences, and properties, on SQLite.

One thread owns a Store (the ExIPC store worker); SQLite's own same-thread check enforces that.
Every method that changes data runs in one transaction and commits before it returns; in file mode
the database is in WAL with synchronous=NORMAL, so a committed change survives the process being
killed (not a power cut).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Self

from . import naming, schema
from . import props as P

STANDARD_FOLDERS: tuple[tuple[str, str], ...] = (
    ("Inbox", P.MAILFOLDER),
    ("Outbox", P.MAILFOLDER),
    ("Sent Items", P.MAILFOLDER),
    ("Deleted Items", P.MAILFOLDER),
    ("Drafts", P.MAILFOLDER),
    ("Calendar", P.CALENDARFOLDER),
    ("Contacts", P.CONTACTFOLDER),
    ("Tasks", P.TASKFOLDER),
    ("Notes", P.NOTEFOLDER),
    ("Journal", P.JOURNALFOLDER),
)

SEEN = "\\Seen"
SYSTEM_FLAGS = {f.casefold(): f for f in ("\\Answered", "\\Flagged", "\\Deleted", SEEN, "\\Draft", "\\Recent")}
FLAG_MODES = ("add", "remove", "replace")
MAX_UIDVALIDITY = 2**32 - 1  # an IMAP nz-number is 32 bits

# Properties that are views of columns, computed on read rather than stored.
_ITEM_READ_ONLY = frozenset({P.DISPLAYNAME, P.GETCONTENTLENGTH})
_FOLDER_READ_ONLY = frozenset({P.DISPLAYNAME, P.UNREADCOUNT})

_FOLDER_COLUMNS = "id, parent_id, url, name, content_class, owner, uidvalidity, uidnext, highestmodseq"
_ITEM_COLUMNS = "id, folder_id, url, name, stem, content_class, uid, size, flags, modseq, internal_date"


class StoreError(Exception):
    """The store refuses a request: a missing folder or item, a malformed URL, or a broken rule."""


@dataclass(frozen=True)
class Folder:
    id: int
    url: str
    name: str
    parent_url: str | None
    content_class: str
    owner: str | None
    uidvalidity: int
    uidnext: int
    highestmodseq: int


@dataclass(frozen=True)
class Item:
    id: int
    url: str
    name: str
    folder_url: str
    content_class: str
    uid: int
    size: int
    flags: frozenset[str]
    modseq: int
    internal_date: float


def _folder(row: sqlite3.Row) -> Folder:
    parent = None if row["parent_id"] is None else naming.split(row["url"])[0]
    return Folder(row["id"], row["url"], row["name"], parent, row["content_class"], row["owner"],
                  row["uidvalidity"], row["uidnext"], row["highestmodseq"])


def _item(row: sqlite3.Row) -> Item:
    return Item(row["id"], row["url"], row["name"], naming.split(row["url"])[0], row["content_class"],
                row["uid"], row["size"], frozenset(row["flags"].split()), row["modseq"], row["internal_date"])


def _flag(flag: str) -> str:
    if not isinstance(flag, str) or not flag or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in flag):
        raise StoreError(f"not a flag: {flag!r}")
    if flag.startswith("\\"):
        try:
            return SYSTEM_FLAGS[flag.casefold()]  # system flags are case-insensitive; keep one spelling
        except KeyError:
            raise StoreError(f"unknown system flag {flag!r}") from None
    return flag


def _flags(flags: Iterable[str]) -> frozenset[str]:
    return frozenset(_flag(f) for f in ((flags,) if isinstance(flags, str) else flags))


def _flag_text(flags: frozenset[str]) -> str:
    return " ".join(sorted(flags))


def _uid_list(uids: Iterable[int]) -> str:
    # One JSON parameter expanded by json_each: any number of UIDs without building SQL text.
    return json.dumps(sorted({int(u) for u in uids}))


def _prop_key(key: object) -> tuple[str, str]:
    if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key) and key[1]):
        raise StoreError(f"property names are (namespace, name) pairs of strings: {key!r}")
    return key  # type: ignore[return-value]


def _tree_key(folder: Folder) -> list[str]:
    return [name.casefold() for name in naming.names(folder.url)]


class Store:
    def __init__(self, path: str | os.PathLike = ":memory:", *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        target = os.fspath(path)
        try:
            # Autocommit mode: transactions are explicit (_tx); check_same_thread stays on.
            self._db = sqlite3.connect(target, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {target!r}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            if target != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            schema.migrate(self._db)
            if self._row(naming.PUBLIC_ROOT) is None:
                with self._tx():
                    self._insert_folder(None, naming.PUBLIC_ROOT, "public", P.FOLDER, None)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(f"cannot open store {target!r}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @staticmethod
    def _folder_url(url: str) -> str:
        try:
            return naming.folder_url(url)
        except ValueError as exc:
            raise StoreError(str(exc)) from None

    @staticmethod
    def _item_url(url: str) -> str:
        try:
            return naming.item_url(url)
        except ValueError as exc:
            raise StoreError(str(exc)) from None

    def _row(self, folder_url: str) -> sqlite3.Row | None:
        return self._db.execute(f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE url = ?", (folder_url,)).fetchone()

    def _need_folder(self, url: str) -> sqlite3.Row:
        row = self._row(self._folder_url(url))
        if row is None:
            raise StoreError(f"no such folder: {url}")
        return row

    def _item_row(self, url: str) -> sqlite3.Row | None:
        return self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE url = ?", (self._item_url(url),)).fetchone()

    def _need_item(self, url: str) -> sqlite3.Row:
        row = self._item_row(url)
        if row is None:
            raise StoreError(f"no such item: {url}")
        return row

    def _folder_by_id(self, folder_id: int) -> Folder:
        return _folder(self._db.execute(f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE id = ?", (folder_id,)).fetchone())

    def _item_by_id(self, item_id: int) -> Item:
        return _item(self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,)).fetchone())

    def _insert_folder(self, parent_id: int | None, url: str, name: str, content_class: str,
                       owner: str | None) -> int:
        # Each new folder gets a UIDVALIDITY above every earlier one (and no lower than the clock),
        # so a folder re-created under an old name never revalidates a client's cached UIDs.
        uidvalidity = self._db.execute(
            "UPDATE counters SET value = max(value + 1, ?) WHERE name = 'uidvalidity' RETURNING value",
            (int(self._clock()),)).fetchone()[0]
        if uidvalidity > MAX_UIDVALIDITY:
            raise StoreError("UIDVALIDITY space exhausted")
        return self._db.execute(
            "INSERT INTO folders (parent_id, url, name, content_class, owner, uidvalidity, uidnext, highestmodseq)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, 1)",
            (parent_id, url, name, content_class, owner, uidvalidity)).lastrowid

    def _allocate(self, folder_id: int) -> tuple[int, int]:
        """Next UID and mod-sequence of a folder, taken together."""
        uidnext, modseq = self._db.execute(
            "UPDATE folders SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 WHERE id = ?"
            " RETURNING uidnext, highestmodseq", (folder_id,)).fetchone()
        return uidnext - 1, modseq

    def _bump(self, folder_id: int) -> int:
        return self._db.execute(
            "UPDATE folders SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq",
            (folder_id,)).fetchone()[0]

    def _free_name(self, folder_id: int, stem: str, exclude_item: int | None = None) -> str:
        pattern = stem.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        taken = {row[0].casefold() for row in self._db.execute(
            "SELECT name FROM items WHERE folder_id = ? AND name LIKE ? ESCAPE '\\' AND id IS NOT ?",
            (folder_id, pattern, exclude_item))}
        return naming.unique_name(stem, taken)

    @staticmethod
    def _check_name(name: str) -> str:
        if not isinstance(name, str) or name in ("", ".", "..") or "/" in name \
                or any(unicodedata.category(ch) == "Cc" for ch in name):
            raise StoreError(f"not an item name: {name!r}")
        return name

    def _claim_name(self, folder: sqlite3.Row, name: str) -> None:
        """An explicit name must be free among the folder's items and subfolders (case-insensitively)."""
        if self._db.execute("SELECT 1 FROM items WHERE folder_id = ? AND name = ? COLLATE NOCASE",
                            (folder["id"], name)).fetchone() is not None \
                or self._row(naming.child_url(folder["url"], name, folder=True)) is not None:
            raise StoreError(f"name taken in {folder['url']}: {name}")

    def _write_props(self, table: str, owner_id: int, values: Mapping[tuple[str, str], object]) -> None:
        rows = []
        for (ns, name), value in values.items():
            try:
                kind, stored = P.encode_value(value)
            except ValueError as exc:
                raise StoreError(f"property {ns}{name}: {exc}") from None
            rows.append((owner_id, ns, name, kind, stored))
        key = "item_id" if table == "item_props" else "folder_id"
        # The table and key names come from the two literals above, never from a caller.
        self._db.executemany(
            f"INSERT INTO {table} ({key}, ns, name, kind, value) VALUES (?, ?, ?, ?, ?)"
            f" ON CONFLICT ({key}, ns, name) DO UPDATE SET kind = excluded.kind, value = excluded.value", rows)

    def _read_props(self, table: str, owner_id: int) -> dict[tuple[str, str], object]:
        key = "item_id" if table == "item_props" else "folder_id"
        return {(ns, name): P.decode_value(kind, value) for ns, name, kind, value in self._db.execute(
            f"SELECT ns, name, kind, value FROM {table} WHERE {key} = ?", (owner_id,))}

    # -- folders ----------------------------------------------------------------------------------

    def create_mailbox(self, alias: str) -> Folder:
        if not alias or alias != alias.strip() or "/" in alias or any(unicodedata.category(c) == "Cc" for c in alias):
            raise StoreError(f"not a mailbox alias: {alias!r}")
        url = naming.mailbox_url(alias)
        with self._tx():
            root = self._row(url)
            if root is None:
                root_id = self._insert_folder(None, url, alias, P.FOLDER, alias)
                root = self._db.execute(f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE id = ?", (root_id,)).fetchone()
            for name, content_class in STANDARD_FOLDERS:
                child = naming.child_url(root["url"], name, folder=True)
                if self._row(child) is None:
                    self._insert_folder(root["id"], child, name, content_class, root["owner"])
        return self._folder_by_id(root["id"])

    def create_folder(self, url: str, content_class: str = P.MAILFOLDER) -> Folder:
        url = self._folder_url(url)
        parent_url, name = naming.split(url)
        if not content_class:
            raise StoreError("a folder needs a content class")
        with self._tx():
            parent = self._row(parent_url)
            if parent is None:
                raise StoreError(f"parent folder {parent_url} does not exist (mailboxes come from create_mailbox)")
            if self._row(url) is not None:
                raise StoreError(f"folder exists: {url}")
            # The parent's spelling wins, so a URL keeps one canonical form down the tree.
            folder_id = self._insert_folder(parent["id"], naming.child_url(parent["url"], name, folder=True),
                                            name, content_class, parent["owner"])
        return self._folder_by_id(folder_id)

    def delete_folder(self, url: str) -> None:
        row = self._need_folder(url)
        if row["parent_id"] is None:
            raise StoreError(f"cannot delete a root folder: {row['url']}")
        with self._tx():
            # Subfolders by URL range; their items and properties go by ON DELETE CASCADE.
            self._db.execute("DELETE FROM folders WHERE url >= ? AND url < ?", naming.subtree_bounds(row["url"]))

    def rename_folder(self, url: str, new_url: str) -> Folder:
        old = self._need_folder(url)
        if old["parent_id"] is None:
            raise StoreError(f"cannot rename a root folder: {old['url']}")
        new_parent_url, new_name = naming.split(self._folder_url(new_url))
        with self._tx():
            parent = self._row(new_parent_url)
            if parent is None:
                raise StoreError(f"parent folder {new_parent_url} does not exist")
            if parent["url"].lower().startswith(old["url"].lower()):
                raise StoreError(f"cannot move {old['url']} into itself")
            target = naming.child_url(parent["url"], new_name, folder=True)
            existing = self._row(target)
            if existing is not None and existing["id"] != old["id"]:  # same id: a change of case only
                raise StoreError(f"folder exists: {target}")
            # URLs of the whole subtree (folders and items) follow; ids, UIDVALIDITY and UIDs stay,
            # as after IMAP RENAME. A folder later created at the old URL gets a new UIDVALIDITY.
            prefix = (target, len(old["url"]) + 1)
            bounds = naming.subtree_bounds(old["url"])
            self._db.execute("UPDATE folders SET url = ? || substr(url, ?), owner = ? WHERE url >= ? AND url < ?",
                             (*prefix, parent["owner"], *bounds))
            self._db.execute("UPDATE folders SET parent_id = ?, name = ? WHERE id = ?",
                             (parent["id"], new_name, old["id"]))
            self._db.execute("UPDATE items SET url = ? || substr(url, ?) WHERE url >= ? AND url < ?",
                             (*prefix, *bounds))
        return self._folder_by_id(old["id"])

    def folder(self, url: str) -> Folder | None:
        row = self._row(self._folder_url(url))
        return None if row is None else _folder(row)

    def folders(self, under: str, *, recursive: bool = False) -> list[Folder]:
        """Children of a folder (or every folder beneath it), depth-first by name. "/exchange/" is
        not a folder but lists the mailbox roots."""
        under = self._folder_url(under)
        low, high = naming.subtree_bounds(under)
        if under.lower() == naming.EXCHANGE_ROOT:
            where, params = "url >= ? AND url < ?" + ("" if recursive else " AND parent_id IS NULL"), (low, high)
        else:
            parent = self._row(under)
            if parent is None:
                raise StoreError(f"no such folder: {under}")
            if recursive:
                where, params = "url > ? AND url < ?", (low, high)
            else:
                where, params = "parent_id = ?", (parent["id"],)
        rows = self._db.execute(f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE {where}", params)
        return sorted((_folder(r) for r in rows), key=_tree_key)

    # -- items ------------------------------------------------------------------------------------

    def add_item(self, folder_url: str, body: bytes | memoryview, *, content_class: str = P.MESSAGE,
                 flags: Iterable[str] = (), internal_date: float | None = None,
                 props: Mapping[tuple[str, str], object] | None = None, name: str | None = None,
                 derive: bool = True) -> Item:
        """A new item. Its name comes from its Subject unless `name` is given (WebDAV PUT names the
        resource itself); `derive=False` stores content that is not a message without reading headers."""
        folder = self._need_folder(folder_url)
        view = memoryview(body)
        if not view.c_contiguous:
            view = memoryview(view.tobytes())
        view = view.cast("B")
        flag_set = _flags(flags)
        date = float(self._clock() if internal_date is None else internal_date)
        extra: dict[tuple[str, str], object] = {}
        for key, value in (props or {}).items():
            key = _prop_key(key)
            if key in _ITEM_READ_ONLY:
                raise StoreError(f"property {key[0]}{key[1]} is read-only")
            if key == P.CONTENTCLASS:
                content_class = str(value)
            elif key == P.READ:
                flag_set = (flag_set | {SEEN}) if value else (flag_set - {SEEN})
            else:
                extra[key] = value
        stored = {**(P.derive(view, date) if derive else {}), **extra}
        stem = naming.stem(str(stored.get(P.SUBJECT) or "")) if name is None else self._check_name(name)
        with self._tx():
            uid, modseq = self._allocate(folder["id"])
            if name is None:
                name = self._free_name(folder["id"], stem)
            else:
                self._claim_name(folder, name)
            item_id = self._db.execute(
                "INSERT INTO items (folder_id, uid, url, name, stem, content_class, size, flags, modseq,"
                " internal_date, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (folder["id"], uid, naming.child_url(folder["url"], name, folder=False), name, stem,
                 content_class, view.nbytes, _flag_text(flag_set), modseq, date, view)).lastrowid
            self._write_props("item_props", item_id, stored)
        return self._item_by_id(item_id)

    def items(self, folder_url: str) -> list[Item]:
        folder = self._need_folder(folder_url)
        rows = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE folder_id = ? ORDER BY uid", (folder["id"],))
        return [_item(r) for r in rows]

    def item(self, url: str) -> Item | None:
        row = self._item_row(url)
        return None if row is None else _item(row)

    def item_by_uid(self, folder_url: str, uid: int) -> Item | None:
        row = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE uid = ?"
            " AND folder_id = (SELECT id FROM folders WHERE url = ?)",
            (int(uid), self._folder_url(folder_url))).fetchone()
        return None if row is None else _item(row)

    def body(self, url: str) -> bytes:
        row = self._db.execute("SELECT body FROM items WHERE url = ?", (self._item_url(url),)).fetchone()
        if row is None:
            raise StoreError(f"no such item: {url}")
        return row[0]

    def delete_items(self, folder_url: str, uids: Iterable[int]) -> int:
        folder = self._need_folder(folder_url)
        with self._tx():
            gone = [row[0] for row in self._db.execute(
                "DELETE FROM items WHERE folder_id = ? AND uid IN (SELECT value FROM json_each(?)) RETURNING uid",
                (folder["id"], _uid_list(uids)))]
            if gone:
                modseq = self._bump(folder["id"])  # an expunge is a change a CONDSTORE/QRESYNC client must see
                self._db.executemany("INSERT OR REPLACE INTO expunged (folder_id, uid, modseq) VALUES (?, ?, ?)",
                                     [(folder["id"], uid, modseq) for uid in gone])
        return len(gone)

    def expunged_since(self, folder_url: str, modseq: int) -> list[int]:
        """UIDs removed from the folder (expunged or moved away) after `modseq`, ascending."""
        folder = self._need_folder(folder_url)
        return [row[0] for row in self._db.execute(
            "SELECT uid FROM expunged WHERE folder_id = ? AND modseq > ? ORDER BY uid", (folder["id"], modseq))]

    def set_flags(self, folder_url: str, uids: Iterable[int], flags: Iterable[str], mode: str) -> list[Item]:
        """Change the flags of the listed UIDs (unknown UIDs are skipped). Every changed item gets
        the same new mod-sequence. Returns all listed items that exist, changed or not, by UID."""
        if mode not in FLAG_MODES:
            raise StoreError(f"flag mode must be one of {FLAG_MODES}, not {mode!r}")
        flag_set = _flags(flags)
        folder = self._need_folder(folder_url)
        with self._tx():
            items = [_item(r) for r in self._db.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE folder_id = ? AND uid IN (SELECT value FROM json_each(?))"
                " ORDER BY uid", (folder["id"], _uid_list(uids)))]
            result = self._apply_flags(folder["id"], items, flag_set, mode)
        return result

    def _apply_flags(self, folder_id: int, items: list[Item], flags: frozenset[str], mode: str) -> list[Item]:
        def new(old: frozenset[str]) -> frozenset[str]:
            return old | flags if mode == "add" else old - flags if mode == "remove" else flags

        changed = [item for item in items if new(item.flags) != item.flags]
        if not changed:
            return items
        modseq = self._bump(folder_id)
        self._db.executemany("UPDATE items SET flags = ?, modseq = ? WHERE id = ?",
                             [(_flag_text(new(item.flags)), modseq, item.id) for item in changed])
        ids = {item.id for item in changed}
        return [replace(item, flags=new(item.flags), modseq=modseq) if item.id in ids else item for item in items]

    def copy_item(self, url: str, to_folder_url: str, name: str | None = None) -> Item:
        source = self._need_item(url)
        target = self._need_folder(to_folder_url)
        if name is not None:
            self._check_name(name)
        with self._tx():
            uid, modseq = self._allocate(target["id"])
            if name is None:
                name = self._free_name(target["id"], source["stem"])
            else:
                self._claim_name(target, name)
            # Body and properties are copied inside SQLite, never through Python.
            item_id = self._db.execute(
                "INSERT INTO items (folder_id, uid, url, name, stem, content_class, size, flags, modseq,"
                " internal_date, body) SELECT ?, ?, ?, ?, stem, content_class, size, flags, ?, internal_date, body"
                " FROM items WHERE id = ?",
                (target["id"], uid, naming.child_url(target["url"], name, folder=False), name, modseq,
                 source["id"])).lastrowid
            self._db.execute("INSERT INTO item_props (item_id, ns, name, kind, value)"
                             " SELECT ?, ns, name, kind, value FROM item_props WHERE item_id = ?",
                             (item_id, source["id"]))
        return self._item_by_id(item_id)

    def move_item(self, url: str, to_folder_url: str, name: str | None = None) -> Item:
        """Like IMAP MOVE: a new UID in the target, the old UID expunged from the source."""
        source = self._need_item(url)
        target = self._need_folder(to_folder_url)
        if name is not None:
            self._check_name(name)
        with self._tx():
            uid, modseq = self._allocate(target["id"])
            if name is None:
                name = self._free_name(target["id"], source["stem"], exclude_item=source["id"])
            elif name.casefold() != source["name"].casefold() or target["id"] != source["folder_id"]:
                self._claim_name(target, name)
            self._db.execute("UPDATE items SET folder_id = ?, uid = ?, url = ?, name = ?, modseq = ? WHERE id = ?",
                             (target["id"], uid, naming.child_url(target["url"], name, folder=False), name, modseq,
                              source["id"]))
            gone_at = self._bump(source["folder_id"])
            self._db.execute("INSERT OR REPLACE INTO expunged (folder_id, uid, modseq) VALUES (?, ?, ?)",
                             (source["folder_id"], source["uid"], gone_at))
        return self._item_by_id(source["id"])

    def replace_item(self, url: str, body: bytes | memoryview, *, derive: bool = True,
                     content_class: str | None = None) -> Item:
        """New content under the same URL (WebDAV PUT over an existing item). The item keeps its id,
        name and stored properties, but gets a new UID (the old one is expunged, as content under a UID
        never changes for IMAP) and a new mod-sequence; the properties its headers yield are derived anew."""
        source = self._need_item(url)
        view = memoryview(body)
        if not view.c_contiguous:
            view = memoryview(view.tobytes())
        view = view.cast("B")
        date = float(self._clock())
        derived = P.derive(view, date) if derive else {}
        with self._tx():
            uid, modseq = self._allocate(source["folder_id"])
            self._db.execute("UPDATE items SET uid = ?, modseq = ?, size = ?, body = ?, internal_date = ?,"
                             " content_class = coalesce(?, content_class) WHERE id = ?",
                             (uid, modseq, view.nbytes, view, date, content_class, source["id"]))
            self._db.execute("INSERT OR REPLACE INTO expunged (folder_id, uid, modseq) VALUES (?, ?, ?)",
                             (source["folder_id"], source["uid"], modseq))
            # What the old headers yielded goes; dead properties stay.
            self._db.execute("DELETE FROM item_props WHERE item_id = ? AND (ns = ? OR (ns = ? AND name IN"
                             " ('subject', 'from', 'to', 'cc', 'date', 'datereceived', 'hasattachment')))",
                             (source["id"], P.NS_MAILHEADER, P.NS_HTTPMAIL))
            self._write_props("item_props", source["id"], derived)
        return self._item_by_id(source["id"])

    def touch(self, url: str) -> int:
        """A new mod-sequence for an item (its properties changed) or a folder; returns it."""
        kind, row = self._owner(url)
        with self._tx():
            if kind == "folder":
                return self._bump(row["id"])
            modseq = self._bump(row["folder_id"])
            self._db.execute("UPDATE items SET modseq = ? WHERE id = ?", (modseq, row["id"]))
        return modseq

    def copy_folder(self, url: str, new_url: str, *, recursive: bool = True) -> Folder:
        """A copy of a folder (content class and properties); when `recursive`, with its items and its
        subfolders (WebDAV COPY with Depth: 0 copies the collection and its properties only, RFC 4918 9.8.3);
        every copied item gets a new UID in its new folder."""
        old = self._need_folder(url)
        new_parent_url, new_name = naming.split(self._folder_url(new_url))
        parent = self._row(new_parent_url)
        if parent is None:
            raise StoreError(f"parent folder {new_parent_url} does not exist")
        if recursive and parent["url"].lower().startswith(old["url"].lower()):
            raise StoreError(f"cannot copy {old['url']} into itself")
        with self._tx():
            self._copy_tree(old, parent, new_name, recursive)
        return self.folder(naming.child_url(parent["url"], new_name, folder=True))

    def _copy_tree(self, old: sqlite3.Row, parent: sqlite3.Row, name: str, recursive: bool) -> None:
        target = naming.child_url(parent["url"], name, folder=True)
        if self._row(target) is not None:
            raise StoreError(f"folder exists: {target}")
        folder_id = self._insert_folder(parent["id"], target, name, old["content_class"], parent["owner"])
        self._db.execute("INSERT INTO folder_props (folder_id, ns, name, kind, value)"
                         " SELECT ?, ns, name, kind, value FROM folder_props WHERE folder_id = ?",
                         (folder_id, old["id"]))
        members = self._db.execute("SELECT id, name FROM items WHERE folder_id = ? ORDER BY uid",
                                   (old["id"],)).fetchall() if recursive else []
        for item in members:
            uid, modseq = self._allocate(folder_id)
            item_id = self._db.execute(
                "INSERT INTO items (folder_id, uid, url, name, stem, content_class, size, flags, modseq,"
                " internal_date, body) SELECT ?, ?, ?, name, stem, content_class, size, flags, ?, internal_date,"
                " body FROM items WHERE id = ?",
                (folder_id, uid, naming.child_url(target, item["name"], folder=False), modseq, item["id"])).lastrowid
            self._db.execute("INSERT INTO item_props (item_id, ns, name, kind, value)"
                             " SELECT ?, ns, name, kind, value FROM item_props WHERE item_id = ?",
                             (item_id, item["id"]))
        if recursive:
            new_row = self._row(target)
            for child in self._db.execute(f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE parent_id = ?",
                                          (old["id"],)).fetchall():
                self._copy_tree(child, new_row, child["name"], True)

    # -- properties -------------------------------------------------------------------------------

    def _owner(self, url: str) -> tuple[str, sqlite3.Row]:
        """("item" | "folder", row) for a URL; an item URL never ends in "/"."""
        if not url.endswith("/"):
            row = self._item_row(url)
            if row is not None:
                return "item", row
        row = self._row(self._folder_url(url))
        if row is None:
            raise StoreError(f"no such item or folder: {url}")
        return "folder", row

    def item_props(self, folder_url: str) -> dict[int, dict[tuple[str, str], object]]:
        """The properties of every item of a folder, by item id, in one query (what `props` gives per item):
        a WebDAV listing of a folder reads them all at once."""
        folder = self._need_folder(folder_url)
        out: dict[int, dict[tuple[str, str], object]] = {}
        for row in self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE folder_id = ?", (folder["id"],)):
            out[row["id"]] = {P.GETCONTENTLENGTH: row["size"], P.READ: SEEN in row["flags"].split(),
                              P.DISPLAYNAME: row["name"], P.CONTENTCLASS: row["content_class"]}
        for item_id, ns, name, kind, value in self._db.execute(
                "SELECT p.item_id, p.ns, p.name, p.kind, p.value FROM item_props p JOIN items i ON i.id = p.item_id"
                " WHERE i.folder_id = ?", (folder["id"],)):
            values = out[item_id]
            if (ns, name) not in (P.GETCONTENTLENGTH, P.READ, P.DISPLAYNAME, P.CONTENTCLASS):
                values[(ns, name)] = P.decode_value(kind, value)
        return out

    def props(self, url: str) -> dict[tuple[str, str], object]:
        kind, row = self._owner(url)
        if kind == "item":
            values = self._read_props("item_props", row["id"])
            values[P.GETCONTENTLENGTH] = row["size"]
            values[P.READ] = SEEN in row["flags"].split()
        else:
            values = self._read_props("folder_props", row["id"])
            values[P.UNREADCOUNT] = self._db.execute(
                "SELECT count(*) FROM items WHERE folder_id = ? AND instr(' ' || flags || ' ', ?) = 0",
                (row["id"], f" {SEEN} ")).fetchone()[0]
        values[P.DISPLAYNAME] = row["name"]
        values[P.CONTENTCLASS] = row["content_class"]
        return values

    def set_props(self, url: str, values: Mapping[tuple[str, str], object],
                  remove: Iterable[tuple[str, str]] = ()) -> None:
        """Store properties, and remove the `remove` ones, in one transaction (WebDAV PROPPATCH is atomic).
        DAV:contentclass changes the content class (Exchange created appointments by PUT then
        PROPPATCH of it); httpmail:read sets or clears \\Seen."""
        kind, row = self._owner(url)
        removed = [_prop_key(n) for n in remove]
        computed = (_ITEM_READ_ONLY | {P.READ} if kind == "item" else _FOLDER_READ_ONLY) | {P.CONTENTCLASS}
        for key in removed:
            if key in computed:
                raise StoreError(f"property {key[0]}{key[1]} cannot be removed")
        read_only = _ITEM_READ_ONLY if kind == "item" else _FOLDER_READ_ONLY
        stored: dict[tuple[str, str], object] = {}
        content_class = read = None
        for key, value in values.items():
            key = _prop_key(key)
            if key in read_only:
                raise StoreError(f"property {key[0]}{key[1]} is read-only")
            if key == P.CONTENTCLASS:
                if not isinstance(value, str) or not value:
                    raise StoreError("DAV:contentclass must be a non-empty string")
                content_class = value
            elif key == P.READ and kind == "item":
                read = bool(value)
            else:
                stored[key] = value
        with self._tx():
            table = "items" if kind == "item" else "folders"
            if content_class is not None:
                self._db.execute(f"UPDATE {table} SET content_class = ? WHERE id = ?", (content_class, row["id"]))
            if read is not None:
                self._apply_flags(row["folder_id"], [_item(row)], frozenset({SEEN}), "add" if read else "remove")
            self._write_props("item_props" if kind == "item" else "folder_props", row["id"], stored)
            if removed:
                table, column = ("item_props", "item_id") if kind == "item" else ("folder_props", "folder_id")
                self._db.executemany(f"DELETE FROM {table} WHERE {column} = ? AND ns = ? AND name = ?",
                                     [(row["id"], ns, name) for ns, name in removed])

    def remove_props(self, url: str, names: Iterable[tuple[str, str]]) -> None:
        """Remove stored properties (absent ones are fine); computed ones cannot be removed."""
        kind, row = self._owner(url)
        keys = [_prop_key(n) for n in names]
        computed = (_ITEM_READ_ONLY | {P.READ} if kind == "item" else _FOLDER_READ_ONLY) | {P.CONTENTCLASS}
        for key in keys:
            if key in computed:
                raise StoreError(f"property {key[0]}{key[1]} cannot be removed")
        table, column = ("item_props", "item_id") if kind == "item" else ("folder_props", "folder_id")
        with self._tx():
            self._db.executemany(f"DELETE FROM {table} WHERE {column} = ? AND ns = ? AND name = ?",
                                 [(row["id"], ns, name) for ns, name in keys])

    def stats(self) -> dict:
        folders = self._db.execute("SELECT count(*) FROM folders").fetchone()[0]
        items, size = self._db.execute("SELECT count(*), coalesce(sum(size), 0) FROM items").fetchone()
        return {"folders": folders, "items": items, "bytes": size}
