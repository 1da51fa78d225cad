"""The store operations the HTTP (WebDAV) virtual server asks for over ExIPC (run on the store thread).

Resources are named by store URL (folders end in "/"); each comes back as a `DavResource` snapshot with its
stored properties. Bodies go in and out as blob handles. Operations that change a folder's contents return
the URLs of the folders they changed, so the caller can tell the IMAP hub.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .store import APPOINTMENT, MESSAGE, PERSON, BlobHandle, BlobHeap, Store, StoreError
from .store import props as P
from .store.naming import child_url, mailbox_url, split

INTERNAL = "urn:wireproof:dav:"
CREATED = (INTERNAL, "created")
MODIFIED = (INTERNAL, "modified")
CONTENTTYPE = (P.NS_DAV, "getcontenttype")
DOCUMENT = "urn:content-classes:document"
MESSAGE_TYPES = ("message/rfc822",)
# Mailbox root properties naming the special folders (httpmail:inbox etc.), by store folder name.
SPECIAL = {"inbox": "Inbox", "outbox": "Outbox", "sentitems": "Sent Items", "deleteditems": "Deleted Items",
           "drafts": "Drafts", "calendar": "Calendar", "contacts": "Contacts", "tasks": "Tasks", "notes": "Notes",
           "journal": "Journal"}


@dataclass(frozen=True)
class DavResource:
    url: str
    collection: bool
    name: str
    content_class: str
    id: int
    modseq: int
    size: int
    created: float
    modified: float
    content_type: str | None
    props: dict
    subfolders: int = 0
    items: int = 0


@dataclass(frozen=True)
class AttachmentRef:
    """<item URL>/<file name>: a part of a message, not a store resource of its own."""

    item_url: str
    name: str


def content_class_for(content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    if kind in MESSAGE_TYPES:
        return MESSAGE
    if kind == "text/calendar":
        return APPOINTMENT
    if kind in ("text/vcard", "text/x-vcard", "text/directory"):
        return PERSON
    return DOCUMENT


def _vlines(body: bytes) -> dict[str, str]:
    """First value of each iCalendar/vCard property (unfolded), by upper-case name without parameters."""
    text = re.sub(r"\r?\n[ \t]", "", body.decode("utf-8", "replace"))
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            found.setdefault(name.split(";")[0].strip().upper(), value.strip())
    return found


def _ical_date(value: str) -> str | None:
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?", value)
    if not m:
        return None
    y, mo, d, h, mi, s = (g or "00" for g in m.groups())
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"


def derived_props(content_class: str, body: bytes) -> dict:
    """Appointments and contacts PUT as iCalendar or vCard get the calendar:/contacts: properties
    Exchange kept for them (a few: enough to SEARCH on)."""
    if content_class == APPOINTMENT:
        v = _vlines(body)
        out = {(P.NS_CALENDAR, "location"): v.get("LOCATION"), (P.NS_HTTPMAIL, "subject"): v.get("SUMMARY"),
               (P.NS_CALENDAR, "dtstart"): _ical_date(v.get("DTSTART", "")),
               (P.NS_CALENDAR, "dtend"): _ical_date(v.get("DTEND", "")), (P.NS_CALENDAR, "uid"): v.get("UID")}
    elif content_class == PERSON:
        v = _vlines(body)
        out = {(P.NS_CONTACTS, "fileas"): v.get("FN"), (P.NS_CONTACTS, "email1"): v.get("EMAIL"),
               (P.NS_CONTACTS, "telephoneNumber"): v.get("TEL"), (P.NS_CONTACTS, "o"): v.get("ORG")}
    else:
        return {}
    return {k: val for k, val in out.items() if val}


class DavStoreOps:
    store: Store
    heap: BlobHeap

    # --- snapshots ------------------------------------------------------------------------------------

    def _item_resource(self, item, props: dict | None = None) -> DavResource:
        if props is None:
            props = self.store.props(item.url)
        content_type = props.get(CONTENTTYPE) or ("message/rfc822" if item.content_class == MESSAGE
                                                  else "application/octet-stream")
        return DavResource(item.url, False, item.name, item.content_class, item.id, item.modseq, item.size,
                           float(props.get(CREATED) or item.internal_date),
                           float(props.get(MODIFIED) or item.internal_date), content_type, props)

    def _folder_resource(self, folder, items: int | None = None) -> DavResource:
        props = self.store.props(folder.url)
        subfolders = len(self.store.folders(folder.url))
        if items is None:
            items = len(self.store.items(folder.url))
        born = float(folder.uidvalidity) if folder.uidvalidity > 1_000_000_000 else 0.0
        return DavResource(folder.url, True, folder.name, folder.content_class, folder.id, folder.highestmodseq, 0,
                           float(props.get(CREATED) or born), float(props.get(MODIFIED) or born), None, props,
                           subfolders, items)

    def _find(self, url: str, slash: bool):
        """The folder or item at `url`, an AttachmentRef, or None."""
        folder_url, item_url = (url if url.endswith("/") else url + "/"), url.rstrip("/")
        if not slash and item_url.count("/") > 1:
            item = self.store.item(item_url)
            if item is not None:
                return item
        folder = self.store.folder(folder_url)
        if folder is not None:
            return folder
        if slash or item_url.count("/") <= 2:
            return None
        parent, name = split(item_url)
        if self.store.item(parent.rstrip("/")) is not None:
            return AttachmentRef(parent.rstrip("/"), name)
        return None

    def _snapshot(self, found):
        from .store import Folder

        return self._folder_resource(found) if isinstance(found, Folder) else self._item_resource(found)

    def op_dav_resource(self, url: str, slash: bool):
        found = self._find(url, slash)
        return found if found is None or isinstance(found, AttachmentRef) else self._snapshot(found)

    def op_dav_list(self, url: str, slash: bool, depth: str) -> list[DavResource] | None:
        """The resource, then (depth 1) its members or (infinity) everything below it."""
        from .store import Folder

        found = self._find(url, slash)
        if found is None or isinstance(found, AttachmentRef):
            return None
        if not isinstance(found, Folder) or depth == "0":
            return [self._snapshot(found)]
        out: list[DavResource] = []
        self._walk(found, depth == "infinity", out)
        return out

    def _walk(self, folder, deep: bool, out: list, include_self: bool = True) -> None:
        items = self.store.items(folder.url)
        if include_self:
            out.append(self._folder_resource(folder, len(items)))
        for sub in self.store.folders(folder.url):
            if deep:
                self._walk(sub, True, out)
            else:
                out.append(self._folder_resource(sub))
        if items:
            props = self.store.item_props(folder.url)  # one query for the whole folder, not one per item
            out.extend(self._item_resource(i, props[i.id]) for i in items)

    def op_dav_mailboxes(self, alias: str) -> list[DavResource]:
        """What /exchange/ lists for a user: their own mailbox root."""
        folder = self.store.folder(mailbox_url(alias))
        return [] if folder is None else [self._folder_resource(folder)]

    def op_dav_special_folders(self, alias: str) -> dict[str, str]:
        root = mailbox_url(alias)
        present = {f.name.casefold(): f.url for f in self.store.folders(root)} if self.store.folder(root) else {}
        return {prop: present[name.casefold()] for prop, name in SPECIAL.items() if name.casefold() in present}

    def op_dav_scope(self, url: str, deep: bool) -> list[DavResource] | None:
        """SEARCH's scope: the members of a folder (shallow) or everything below it (deep)."""
        folder = self.store.folder(url if url.endswith("/") else url + "/")
        if folder is None:
            return None
        out: list[DavResource] = []
        self._walk(folder, deep, out, include_self=False)
        return out

    def op_dav_get(self, url: str) -> tuple[DavResource, BlobHandle] | None:
        item = self.store.item(url)
        if item is None:
            return None
        return self._item_resource(item), self.heap.put(self.store.body(item.url))

    # --- changes --------------------------------------------------------------------------------------

    def op_dav_put(self, folder_url: str, name: str, blob: BlobHandle, content_type: str) -> tuple[bool, DavResource]:
        """Create or replace the item `name` in `folder_url`. True when it was created."""
        body = self.heap.view(blob)
        content_class = content_class_for(content_type)
        message = content_class == MESSAGE
        now = time.time()
        extra = derived_props(content_class, bytes(body)) if not message else {}
        url = child_url(self.store.folder(folder_url).url, name, folder=False)
        existing = self.store.item(url)
        if existing is not None:
            item = self.store.replace_item(existing.url, body, derive=message, content_class=content_class)
            self.store.set_props(item.url, {MODIFIED: now, CONTENTTYPE: content_type, **extra})
            item = self.store.item(item.url)
            return False, self._item_resource(item)
        item = self.store.add_item(folder_url, body, content_class=content_class, name=name, derive=message,
                                   props={CREATED: now, MODIFIED: now, CONTENTTYPE: content_type, **extra})
        return True, self._item_resource(item)

    def op_dav_mkcol(self, url: str, content_class: str, props: dict) -> DavResource:
        folder = self.store.create_folder(url, content_class)
        now = time.time()
        self.store.set_props(folder.url, {CREATED: now, MODIFIED: now, **props})
        return self._folder_resource(self.store.folder(folder.url))

    def op_dav_delete(self, url: str, collection: bool) -> list[str]:
        if collection:
            gone = [f.url for f in self.store.folders(url, recursive=True)] + [url]
            self.store.delete_folder(url)
            return gone
        item = self.store.item(url)
        if item is None:
            raise StoreError(f"no such item: {url}")
        self.store.delete_items(item.folder_url, [item.uid])
        return [item.folder_url]

    def op_dav_transfer(self, url: str, collection: bool, folder_url: str, name: str, *, move: bool,
                        recursive: bool, replace: bool) -> tuple[str, list[str]]:
        """COPY or MOVE `url` to `name` in `folder_url`; with `replace` an existing destination is deleted
        first (Overwrite: T). Returns (the new URL, the folders whose contents changed)."""
        folder = self.store.folder(folder_url)
        if folder is None:
            raise StoreError(f"no such folder: {folder_url}")
        changed: list[str] = []
        target_item = child_url(folder.url, name, folder=False)
        target_folder = child_url(folder.url, name, folder=True)
        if replace:
            existing = self.store.item(target_item)
            if existing is not None and existing.id != getattr(self.store.item(url), "id", None):
                changed += self.op_dav_delete(existing.url, False)
            elif self.store.folder(target_folder) is not None:
                changed += self.op_dav_delete(target_folder, True)
        if collection:
            if move:
                moved = self.store.rename_folder(url, target_folder)
                return moved.url, changed + [url, moved.url]
            copied = self.store.copy_folder(url, target_folder, recursive=recursive)
            return copied.url, changed + [copied.url]
        source = self.store.item(url)
        if source is None:
            raise StoreError(f"no such item: {url}")
        if move:
            new = self.store.move_item(source.url, folder.url, name=name)
            changed += [source.folder_url, folder.url]
        else:
            new = self.store.copy_item(source.url, folder.url, name=name)
            changed.append(folder.url)
        self.store.set_props(new.url, {MODIFIED: time.time()})
        return new.url, changed

    def op_dav_proppatch(self, url: str, values: dict, remove: list) -> None:
        self.store.set_props(url, {**values, MODIFIED: time.time()}, remove=remove)
        self.store.touch(url)

    def op_dav_save_sent(self, alias: str, blob: BlobHandle) -> str:
        """The sender's copy of a message sent through the submission URI, read, in Sent Items."""
        folder = child_url(mailbox_url(alias), "Sent Items", folder=True)
        if self.store.folder(folder) is None:
            self.store.create_mailbox(alias)
        return self.store.add_item(folder, self.heap.view(blob), flags=["\\Seen"]).url
