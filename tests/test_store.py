"""The simulator's store: URLs and names, folders, UIDs and mod-sequences, flags, properties,
persistence, and its one-thread rule."""
from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from simulator.store import (
    APPOINTMENT,
    CALENDARFOLDER,
    CONTACTFOLDER,
    FOLDER,
    JOURNALFOLDER,
    MAILFOLDER,
    MESSAGE,
    NOTEFOLDER,
    NS_CALENDAR,
    NS_DAV,
    NS_EXCHANGE,
    NS_HTTPMAIL,
    NS_MAILHEADER,
    TASKFOLDER,
    BlobHeap,
    Store,
    StoreError,
    schema,
)

INBOX = "/exchange/alice/Inbox/"
REPO = Path(__file__).resolve().parent.parent


def message(subject: str | None = "Hello", *, body: str = "Hi.\r\n", **headers: str) -> bytes:
    lines = [] if subject is None else [f"Subject: {subject}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")


@pytest.fixture
def store():
    with Store() as s:
        s.create_mailbox("alice")
        yield s


# -- folders --------------------------------------------------------------------------------------

def test_mailbox_has_exchange_2003_standard_folders_with_their_content_classes(store):
    root = store.folder("/exchange/alice/")
    assert (root.name, root.parent_url, root.owner, root.content_class) == ("alice", None, "alice", FOLDER)
    classes = {f.name: f.content_class for f in store.folders("/exchange/alice/")}
    assert classes == {
        "Inbox": MAILFOLDER, "Outbox": MAILFOLDER, "Sent Items": MAILFOLDER, "Deleted Items": MAILFOLDER,
        "Drafts": MAILFOLDER, "Calendar": CALENDARFOLDER, "Contacts": CONTACTFOLDER, "Tasks": TASKFOLDER,
        "Notes": NOTEFOLDER, "Journal": JOURNALFOLDER,
    }
    sent = store.folder("/exchange/alice/Sent Items/")
    assert (sent.url, sent.parent_url, sent.owner) == ("/exchange/alice/Sent%20Items/", "/exchange/alice/", "alice")
    assert [f.name for f in store.folders("/exchange/alice/")] == sorted(classes, key=str.casefold)


def test_create_mailbox_is_idempotent_and_restores_missing_standard_folders(store):
    first = store.folder("/exchange/alice/")
    store.delete_folder("/exchange/alice/Notes/")
    again = store.create_mailbox("alice")
    assert again == first
    assert store.folder("/exchange/alice/Notes/") is not None
    assert store.folder("/exchange/alice/Inbox/").uidvalidity < store.folder("/exchange/alice/Notes/").uidvalidity


def test_public_root_exists_from_the_start_and_takes_folders():
    with Store() as s:
        assert s.folder("/public/").content_class == FOLDER
        f = s.create_folder("/public/Announcements/")
        assert (f.url, f.parent_url, f.owner) == ("/public/Announcements/", "/public/", None)
        assert f.content_class == MAILFOLDER
        assert s.create_folder("/public/Events", CALENDARFOLDER).content_class == CALENDARFOLDER


def test_create_folder_needs_an_existing_parent_and_a_free_name(store):
    with pytest.raises(StoreError, match="parent"):
        store.create_folder("/exchange/alice/Nope/Sub/")
    with pytest.raises(StoreError, match="parent"):
        store.create_folder("/exchange/bob/")  # mailboxes come from create_mailbox only
    with pytest.raises(StoreError, match="exists"):
        store.create_folder("/exchange/alice/inbox/")  # names are case-insensitive, as in Exchange


def test_folders_lists_children_by_name_or_the_whole_tree_depth_first(store):
    store.create_folder(INBOX + "b")
    store.create_folder(INBOX + "A")
    store.create_folder(INBOX + "A/z")
    assert [f.name for f in store.folders(INBOX)] == ["A", "b"]
    assert [f.url for f in store.folders(INBOX, recursive=True)] == [INBOX + "A/", INBOX + "A/z/", INBOX + "b/"]
    store.create_mailbox("bob")
    assert [f.url for f in store.folders("/exchange/")] == ["/exchange/alice/", "/exchange/bob/"]
    with pytest.raises(StoreError):
        store.folders("/exchange/nobody/")


def test_delete_folder_is_recursive_and_refuses_roots_and_missing_folders(store):
    store.create_folder(INBOX + "Sub/")
    store.create_folder(INBOX + "Sub/Deeper/")
    store.add_item(INBOX + "Sub/Deeper/", message("deep"))
    store.add_item(INBOX, message("stays"))
    before = store.stats()
    store.delete_folder(INBOX + "Sub")
    assert store.folder(INBOX + "Sub/") is None and store.folder(INBOX + "Sub/Deeper/") is None
    assert store.item(INBOX + "Sub/Deeper/deep.EML") is None
    assert store.stats()["folders"] == before["folders"] - 2
    assert store.stats()["items"] == before["items"] - 1
    for url in ("/exchange/alice/", "/public/", INBOX + "Sub/"):
        with pytest.raises(StoreError):
            store.delete_folder(url)


def test_renamed_folder_keeps_uidvalidity_and_uids_and_item_urls_follow(store):
    store.create_folder(INBOX + "Projects/")
    store.create_folder(INBOX + "Projects/2003/")
    item = store.add_item(INBOX + "Projects/2003/", message("Plan"))
    before = store.folder(INBOX + "Projects/")
    renamed = store.rename_folder(INBOX + "Projects/", "/exchange/alice/Archive/")
    assert renamed.url == "/exchange/alice/Archive/" and renamed.parent_url == "/exchange/alice/"
    assert (renamed.id, renamed.uidvalidity, renamed.uidnext) == (before.id, before.uidvalidity, before.uidnext)
    assert store.folder(INBOX + "Projects/") is None
    moved = store.item("/exchange/alice/Archive/2003/Plan.EML")
    assert (moved.id, moved.uid, moved.folder_url) == (item.id, item.uid, "/exchange/alice/Archive/2003/")
    assert store.body(moved.url) == message("Plan")
    again = store.create_folder(INBOX + "Projects/")
    assert again.uidvalidity > renamed.uidvalidity  # a new incarnation never revalidates old UIDs


def test_rename_refuses_roots_own_subtree_taken_names_and_missing_parents(store):
    store.create_folder(INBOX + "A/")
    store.create_folder(INBOX + "B/")
    with pytest.raises(StoreError, match="root"):
        store.rename_folder("/exchange/alice/", "/exchange/bob/")
    with pytest.raises(StoreError, match="into itself"):
        store.rename_folder(INBOX + "A/", INBOX + "A/Inner/")
    with pytest.raises(StoreError, match="exists"):
        store.rename_folder(INBOX + "A/", INBOX + "b/")
    with pytest.raises(StoreError, match="parent"):
        store.rename_folder(INBOX + "A/", INBOX + "Nope/A/")
    assert store.rename_folder(INBOX + "A/", INBOX + "a/").url == INBOX + "a/"  # a change of case is a rename


def test_rename_into_another_mailbox_changes_the_owner(store):
    store.create_mailbox("bob")
    store.create_folder(INBOX + "Shared/")
    assert store.rename_folder(INBOX + "Shared/", "/exchange/bob/Shared/").owner == "bob"


# -- names and URLs -------------------------------------------------------------------------------

def test_item_url_is_the_percent_encoded_subject_with_eml(store):
    item = store.add_item(INBOX, message("Quarterly report"))
    assert item.url == "/exchange/alice/Inbox/Quarterly%20report.EML"
    assert item.name == "Quarterly report.EML"
    assert item.folder_url == INBOX
    assert store.item("/exchange/alice/Inbox/Quarterly report.EML") == item  # any equivalent spelling finds it
    assert store.item("/EXCHANGE/alice/inbox/quarterly%20REPORT.eml") == item


@pytest.mark.parametrize(("subject", "name"), [
    ("=?utf-8?q?Quarterly_report?=", "Quarterly report.EML"),
    ("=?iso-8859-1?q?R=E9sum=E9?=", "Résumé.EML"),
    ("Re: =?utf-8?b?w6lsw6h2ZQ==?=\r\n =?utf-8?q?_suite?=", "Re_ élève suite.EML"),
    ("=?x-unknown?q?odd?=", "odd.EML"),
])
def test_encoded_word_subjects_are_decoded_into_the_name(store, subject, name):
    assert store.add_item(INBOX, message(subject)).name == name


def test_forbidden_and_control_characters_become_underscores(store):
    item = store.add_item(INBOX, message('a/b\\c:d*e?f"g<h>i|j\x01k\x7fl'))
    assert item.name == "a_b_c_d_e_f_g_h_i_j_k_l.EML"
    assert item.url == INBOX + "a_b_c_d_e_f_g_h_i_j_k_l.EML"


def test_characters_allowed_in_names_are_percent_encoded_in_the_url(store):
    item = store.add_item(INBOX, message("100% #1 élan; it's"))
    assert item.name == "100% #1 élan; it's.EML"
    assert item.url == INBOX + "100%25%20%231%20%C3%A9lan;%20it's.EML"
    assert store.item(item.url) == item


@pytest.mark.parametrize("subject", [None, "", "   ", "=?utf-8?q??="])
def test_missing_or_empty_subject_is_named_no_subject(store, subject):
    assert store.add_item(INBOX, message(subject)).name == "No Subject.EML"


def test_long_subjects_are_trimmed_to_200_characters(store):
    item = store.add_item(INBOX, message("x" * 300))
    assert item.name == "x" * 200 + ".EML"


def test_duplicate_names_in_one_folder_get_numbered_suffixes(store):
    names = [store.add_item(INBOX, message(s)).name for s in ("Hi", "Hi", "hi", "Hi")]
    assert names == ["Hi.EML", "Hi-2.EML", "hi-3.EML", "Hi-4.EML"]
    store.delete_items(INBOX, [2])
    assert store.add_item(INBOX, message("Hi")).name == "Hi-2.EML"  # the freed name, not the UID, is reused
    assert store.add_item("/exchange/alice/Drafts/", message("Hi")).name == "Hi.EML"  # per folder
    assert store.add_item(INBOX, message("Hi_%")).name == "Hi_%.EML"  # LIKE wildcards are just characters


def test_malformed_urls_are_store_errors(store):
    for bad in ("relative/", "/exchange//x/", "", "/exchange/alice/../", "/exchange/alice/%2e/", "/public/a%01b/"):
        with pytest.raises(StoreError):
            store.folder(bad)
    with pytest.raises(StoreError):
        store.item(INBOX)  # an item URL has no trailing slash


# -- UIDs, UIDVALIDITY, MODSEQ --------------------------------------------------------------------

def test_uids_ascend_and_are_never_reused_even_after_deleting_the_highest(store):
    uids = [store.add_item(INBOX, message(f"m{n}")).uid for n in range(3)]
    assert uids == [1, 2, 3]
    assert store.delete_items(INBOX, [3, 2, 99]) == 2
    assert store.folder(INBOX).uidnext == 4
    assert store.add_item(INBOX, message("next")).uid == 4
    assert [i.uid for i in store.items(INBOX)] == [1, 4]
    assert store.item_by_uid(INBOX, 4).name == "next.EML"
    assert store.item_by_uid(INBOX, 3) is None
    assert store.item_by_uid("/exchange/alice/Nope/", 1) is None


def test_uidvalidity_is_assigned_at_creation_and_strictly_increases():
    clock = iter([1000.0] * 50)  # a stuck clock: the counter still moves on
    with Store(clock=lambda: next(clock)) as s:
        s.create_mailbox("alice")
        s.create_folder(INBOX + "X/")
        values = [f.uidvalidity for f in sorted(s.folders("/exchange/alice/", recursive=True), key=lambda f: f.id)]
        assert values == sorted(set(values)) and values[0] > s.folder("/public/").uidvalidity
        old = s.folder(INBOX + "X/").uidvalidity
        s.delete_folder(INBOX + "X/")
        assert s.create_folder(INBOX + "X/").uidvalidity > old
        assert 0 < old < 2**32


def test_modseq_rises_with_every_add_and_change(store):
    start = store.folder(INBOX).highestmodseq
    a = store.add_item(INBOX, message("a"))
    b = store.add_item(INBOX, message("b"))
    assert (a.modseq, b.modseq) == (start + 1, start + 2)
    changed = store.set_flags(INBOX, [a.uid, b.uid], ["\\Seen"], "add")
    assert {i.modseq for i in changed} == {start + 3}  # one STORE, one new mod-sequence
    assert store.folder(INBOX).highestmodseq == start + 3
    assert store.set_flags(INBOX, [a.uid], ["\\seen"], "add")[0].modseq == start + 3  # no change, no bump
    assert store.folder(INBOX).highestmodseq == start + 3
    store.delete_items(INBOX, [b.uid])
    assert store.folder(INBOX).highestmodseq == start + 4  # an expunge is visible to CONDSTORE clients
    assert store.delete_items(INBOX, [b.uid]) == 0
    assert store.folder(INBOX).highestmodseq == start + 4


# -- flags ----------------------------------------------------------------------------------------

def test_set_flags_add_remove_and_replace(store):
    uid = store.add_item(INBOX, message("f"), flags=["\\Flagged"]).uid
    added = store.set_flags(INBOX, [uid], ["\\seen", "$Forwarded"], "add")[0]
    assert added.flags == {"\\Flagged", "\\Seen", "$Forwarded"}
    assert store.set_flags(INBOX, [uid], ["\\FLAGGED"], "remove")[0].flags == {"\\Seen", "$Forwarded"}
    assert store.set_flags(INBOX, [uid], ["\\Draft"], "replace")[0].flags == {"\\Draft"}
    assert store.set_flags(INBOX, [uid], [], "replace")[0].flags == frozenset()
    assert store.item_by_uid(INBOX, uid).flags == frozenset()


def test_set_flags_returns_listed_items_by_uid_and_skips_unknown_ones(store):
    for n in range(3):
        store.add_item(INBOX, message(f"m{n}"))
    result = store.set_flags(INBOX, [3, 1, 42], ["$Label1"], "add")
    assert [i.uid for i in result] == [1, 3]
    assert store.item_by_uid(INBOX, 2).flags == frozenset()


def test_bad_flags_and_modes_are_refused(store):
    uid = store.add_item(INBOX, message("f")).uid
    for flags in (["\\Bogus"], ["two words"], [""]):
        with pytest.raises(StoreError):
            store.set_flags(INBOX, [uid], flags, "add")
    with pytest.raises(StoreError, match="mode"):
        store.set_flags(INBOX, [uid], ["\\Seen"], "toggle")
    with pytest.raises(StoreError):
        store.add_item(INBOX, message("g"), flags=["\\Nope"])


# -- copy and move --------------------------------------------------------------------------------

def test_copy_keeps_body_flags_date_and_props_under_a_new_uid(store):
    drafts = "/exchange/alice/Drafts/"
    store.add_item(drafts, message("other"))
    src = store.add_item(INBOX, message("Copy me"), flags=["\\Seen"], internal_date=1e9,
                         props={(NS_EXCHANGE, "tag"): "t"})
    copy = store.copy_item(src.url, drafts)
    assert (copy.uid, copy.folder_url, copy.url) == (2, drafts, drafts + "Copy%20me.EML")
    assert (copy.flags, copy.internal_date, copy.size) == (src.flags, src.internal_date, src.size)
    assert copy.id != src.id and store.item(src.url) == src
    assert store.body(copy.url) == store.body(src.url)
    assert store.props(copy.url)[(NS_EXCHANGE, "tag")] == "t"
    assert store.copy_item(src.url, INBOX).name == "Copy me-2.EML"


def test_move_gives_a_new_uid_in_the_target_and_expunges_the_source(store):
    src = store.add_item(INBOX, message("Move me"), props={(NS_EXCHANGE, "tag"): "t"})
    inbox_modseq = store.folder(INBOX).highestmodseq
    moved = store.move_item(src.url, "/exchange/alice/Deleted Items")
    assert (moved.id, moved.uid, moved.url) == (src.id, 1, "/exchange/alice/Deleted%20Items/Move%20me.EML")
    assert store.item(src.url) is None and store.items(INBOX) == []
    assert store.folder(INBOX).highestmodseq > inbox_modseq
    assert store.props(moved.url)[(NS_EXCHANGE, "tag")] == "t"
    back = store.move_item(moved.url, INBOX)
    assert (back.uid, back.name) == (2, "Move me.EML")


def test_copy_and_move_of_missing_items_or_to_missing_folders_fail(store):
    item = store.add_item(INBOX, message("x"))
    with pytest.raises(StoreError):
        store.copy_item(INBOX + "nope.EML", INBOX)
    with pytest.raises(StoreError):
        store.move_item(item.url, "/exchange/alice/Nope/")
    with pytest.raises(StoreError):
        store.body(INBOX + "nope.EML")


# -- properties -----------------------------------------------------------------------------------

def test_properties_are_derived_from_the_headers(store):
    raw = message("=?utf-8?q?Caf=C3=A9?=", From='"=?utf-8?q?Al=C3=AFce?=" <alice@example.com>',
                  To="bob@example.com", Cc="carol@example.com", Date="Wed, 01 Oct 2003 14:30:00 +0200",
                  Message_ID="<1@example.com>")
    item = store.add_item(INBOX, raw, internal_date=1_065_000_000.0)
    p = store.props(item.url)
    assert p[(NS_MAILHEADER, "subject")] == "=?utf-8?q?Caf=C3=A9?="
    assert p[(NS_MAILHEADER, "from")] == '"=?utf-8?q?Al=C3=AFce?=" <alice@example.com>'
    assert p[(NS_MAILHEADER, "to")] == "bob@example.com"
    assert p[(NS_MAILHEADER, "cc")] == "carol@example.com"
    assert p[(NS_MAILHEADER, "date")] == "Wed, 01 Oct 2003 14:30:00 +0200"
    assert p[(NS_MAILHEADER, "message-id")] == "<1@example.com>"
    assert p[(NS_HTTPMAIL, "subject")] == "Café"
    assert p[(NS_HTTPMAIL, "from")] == '"Alïce" <alice@example.com>'
    assert p[(NS_HTTPMAIL, "to")] == "bob@example.com"
    assert p[(NS_HTTPMAIL, "date")] == "2003-10-01T12:30:00Z"
    assert p[(NS_HTTPMAIL, "hasattachment")] is False
    assert p[(NS_HTTPMAIL, "read")] is False
    assert p[(NS_DAV, "getcontentlength")] == len(raw) == item.size
    assert p[(NS_DAV, "displayname")] == "Café.EML"
    assert p[(NS_DAV, "contentclass")] == MESSAGE


def test_folded_headers_are_unfolded_and_missing_date_falls_back_to_internal_date(store):
    item = store.add_item(INBOX, b"Subject: one\r\n two\r\n\r\n", internal_date=0.0)
    p = store.props(item.url)
    assert p[(NS_MAILHEADER, "subject")] == "one two" and item.name == "one two.EML"
    assert p[(NS_HTTPMAIL, "date")] == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize(("disposition", "expected"), [("attachment", True), ("inline", False)])
def test_hasattachment_reflects_attached_parts(store, disposition, expected):
    raw = (b"Subject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
           b"--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
           b"--XX\r\nContent-Type: text/plain\r\nContent-Disposition: " + disposition.encode() +
           b"\r\n\r\nnotes\r\n--XX--\r\n")
    assert store.props(store.add_item(INBOX, raw).url)[(NS_HTTPMAIL, "hasattachment")] is expected


def test_custom_properties_round_trip_with_their_types(store):
    values = {
        (NS_EXCHANGE, "str"): "text", (NS_EXCHANGE, "int"): 2**40, (NS_EXCHANGE, "float"): 1.5,
        (NS_EXCHANGE, "bool"): True, (NS_EXCHANGE, "none"): None, (NS_EXCHANGE, "bytes"): b"\x00\xff",
        (NS_EXCHANGE, "list"): ["a", 1], (NS_CALENDAR, "dtstart"): dt.datetime(2003, 10, 1, 9, tzinfo=dt.UTC),
        ("urn:x-custom:", "quote'; DROP TABLE items; --"): "still a value",
    }
    item = store.add_item(INBOX, message("props"), props={(NS_EXCHANGE, "early"): 1})
    store.set_props(item.url, values)
    got = store.props(item.url)
    assert {k: got[k] for k in values} == values
    assert type(got[(NS_EXCHANGE, "bool")]) is bool and got[(NS_EXCHANGE, "early")] == 1
    store.set_props(item.url, {(NS_EXCHANGE, "str"): "changed"})
    store.remove_props(item.url, [(NS_EXCHANGE, "int"), (NS_EXCHANGE, "never-set")])
    got = store.props(item.url)
    assert got[(NS_EXCHANGE, "str")] == "changed" and (NS_EXCHANGE, "int") not in got
    with pytest.raises(StoreError, match="unsupported"):
        store.set_props(item.url, {(NS_EXCHANGE, "obj"): object()})
    assert store.stats()["items"] == 1


def test_computed_properties_drive_the_item_or_are_read_only(store):
    item = store.add_item(INBOX, message("appt"), props={(NS_HTTPMAIL, "read"): True})
    assert item.flags == {"\\Seen"}
    store.set_props(item.url, {(NS_HTTPMAIL, "read"): False, (NS_DAV, "contentclass"): APPOINTMENT})
    after = store.item(item.url)
    assert after.flags == frozenset() and after.content_class == APPOINTMENT and after.modseq > item.modseq
    for key in ((NS_DAV, "displayname"), (NS_DAV, "getcontentlength")):
        with pytest.raises(StoreError, match="read-only"):
            store.set_props(item.url, {key: "x"})
        with pytest.raises(StoreError, match="cannot be removed"):
            store.remove_props(item.url, [key])


def test_caller_props_override_derived_ones_and_can_name_the_item(store):
    item = store.add_item("/exchange/alice/Calendar/", b"\r\n", content_class=APPOINTMENT,
                          props={(NS_HTTPMAIL, "subject"): "Board meeting", (NS_CALENDAR, "location"): "Room 1"})
    assert (item.name, item.content_class) == ("Board meeting.EML", APPOINTMENT)
    assert store.props(item.url)[(NS_CALENDAR, "location")] == "Room 1"


def test_folder_props_compute_unreadcount_and_store_custom_values(store):
    for n in range(3):
        store.add_item(INBOX, message(f"m{n}"), flags=["\\Seen"] if n == 0 else [])
    p = store.props("/exchange/alice/Inbox")
    assert p[(NS_HTTPMAIL, "unreadcount")] == 2
    assert (p[(NS_DAV, "displayname")], p[(NS_DAV, "contentclass")]) == ("Inbox", MAILFOLDER)
    store.set_flags(INBOX, [2, 3], ["\\Seen"], "add")
    assert store.props(INBOX)[(NS_HTTPMAIL, "unreadcount")] == 0
    store.set_props(INBOX, {(NS_EXCHANGE, "color"): "blue"})
    assert store.props(INBOX)[(NS_EXCHANGE, "color")] == "blue"
    with pytest.raises(StoreError, match="read-only"):
        store.set_props(INBOX, {(NS_HTTPMAIL, "unreadcount"): 5})
    with pytest.raises(StoreError):
        store.props("/exchange/alice/Nope/")


# -- persistence, threads, heap -------------------------------------------------------------------

def test_file_store_keeps_everything_across_close_and_reopen(tmp_path):
    path = tmp_path / "store.db"
    with Store(path) as s:
        s.create_mailbox("alice")
        s.create_folder(INBOX + "Keep/")
        for n in range(3):
            s.add_item(INBOX, message(f"m{n}"), props={(NS_EXCHANGE, "n"): n})
        s.delete_items(INBOX, [3])
        s.set_flags(INBOX, [1], ["\\Seen"], "add")
        before = (s.folder(INBOX), s.items(INBOX), s.props(INBOX + "m1.EML"), s.stats())
        highest = max(f.uidvalidity for f in s.folders("/exchange/", recursive=True))
    with Store(path) as s:
        assert (s.folder(INBOX), s.items(INBOX), s.props(INBOX + "m1.EML"), s.stats()) == before
        assert s.add_item(INBOX, message("after")).uid == 4
        assert s.create_folder(INBOX + "New/").uidvalidity > highest
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
    raw.close()


def test_acknowledged_item_survives_kill_9(tmp_path):
    path = tmp_path / "crash.db"
    child = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from simulator.store import Store
        s = Store({str(path)!r})
        s.create_mailbox("alice")
        s.add_item("/exchange/alice/Inbox/", b"Subject: durable\\r\\n\\r\\nbody\\r\\n")
        print("acknowledged", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", child], check=False, capture_output=True, text=True,
                         timeout=30)
    assert run.stdout.strip() == "acknowledged" and run.returncode == -9, run.stderr
    with Store(path) as s:
        assert s.body(INBOX + "durable.EML") == b"Subject: durable\r\n\r\nbody\r\n"


def test_a_newer_schema_on_disk_is_refused(tmp_path):
    path = tmp_path / "future.db"
    Store(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_store_refuses_use_from_a_thread_other_than_its_creator(store):
    caught: list[BaseException] = []

    def use() -> None:
        try:
            store.folder(INBOX)
        except BaseException as exc:  # noqa: BLE001 -- the test inspects whatever was raised
            caught.append(exc)

    t = threading.Thread(target=use)
    t.start()
    t.join(timeout=10)
    assert len(caught) == 1 and isinstance(caught[0], sqlite3.ProgrammingError)
    assert store.folder(INBOX) is not None  # still fine in its own thread


def test_store_created_on_a_worker_thread_serves_that_thread():
    results: list[object] = []

    def worker() -> None:
        with Store() as s:
            s.create_mailbox("alice")
            results.append(s.add_item(INBOX, message("from worker")).name)

    t = threading.Thread(target=worker)
    t.start()
    t.join(timeout=10)
    assert results == ["from worker.EML"]


def test_bodies_arrive_as_blob_heap_views_and_are_stored_intact(store):
    heap = BlobHeap()
    raw = message("via heap", body="x" * 10_000)
    handle = heap.put(raw)
    item = store.add_item(INBOX, heap.view(handle))
    heap.release(handle)
    assert item.size == handle.size == len(raw)
    assert store.body(item.url) == raw
    assert heap.stats()["live"] == 0


def test_internal_date_defaults_to_the_clock_and_stats_add_up():
    with Store(clock=lambda: 1234.5) as s:
        s.create_mailbox("alice")
        item = s.add_item(INBOX, message("when"))
        assert item.internal_date == 1234.5
        assert s.stats() == {"folders": 12, "items": 1, "bytes": item.size}


# -- what WebDAV needs: explicit names, replacement, folder copies, bulk properties ----------------------------


def test_items_can_be_named_explicitly_and_names_are_unique_per_folder(store):
    item = store.add_item(INBOX, message("whatever"), name="chosen.eml")
    assert item.url == INBOX + "chosen.eml"
    with pytest.raises(StoreError):
        store.add_item(INBOX, message("again"), name="CHOSEN.eml")  # names compare case-insensitively
    with pytest.raises(StoreError):
        store.add_item(INBOX, message("bad"), name="a/b")
    copy = store.copy_item(item.url, "/exchange/alice/Drafts/", name="copy.eml")
    moved = store.move_item(copy.url, INBOX, name="moved.eml")
    assert (copy.url, moved.url) == ("/exchange/alice/Drafts/copy.eml", INBOX + "moved.eml")


def test_replace_item_keeps_the_url_and_dead_properties_with_a_new_uid(store):
    item = store.add_item(INBOX, message("first"), name="r.eml")
    store.set_props(item.url, {("urn:x:", "tag"): "kept"})
    again = store.replace_item(item.url, message("second"))
    assert again.url == item.url and again.id == item.id and again.uid > item.uid
    props = store.props(item.url)
    assert props[(NS_HTTPMAIL, "subject")] == "second" and props[("urn:x:", "tag")] == "kept"
    assert [i.uid for i in store.items(INBOX)] == [again.uid]


def test_copy_folder_with_and_without_its_members(store):
    store.create_folder("/exchange/alice/Src/")
    store.create_folder("/exchange/alice/Src/Sub/")
    store.add_item("/exchange/alice/Src/", message("one"), name="one.eml")
    store.set_props("/exchange/alice/Src/", {("urn:x:", "p"): "v"})
    deep = store.copy_folder("/exchange/alice/Src/", "/exchange/alice/Deep/")
    assert [i.name for i in store.items(deep.url)] == ["one.eml"]
    assert store.folder("/exchange/alice/Deep/Sub/") is not None
    flat = store.copy_folder("/exchange/alice/Src/", "/exchange/alice/Flat/", recursive=False)
    assert store.items(flat.url) == [] and store.folders(flat.url) == []
    assert store.props(flat.url)[("urn:x:", "p")] == "v"
    with pytest.raises(StoreError):
        store.copy_folder("/exchange/alice/Src/", "/exchange/alice/Src/Sub/Loop/")


def test_item_props_reads_a_whole_folder_as_props_does_item_by_item(store):
    a = store.add_item(INBOX, message("a"), flags=["\\Seen"])
    b = store.add_item(INBOX, message("b"))
    store.set_props(b.url, {("urn:x:", "n"): "1"})
    bulk = store.item_props(INBOX)
    assert bulk == {a.id: store.props(a.url), b.id: store.props(b.url)}


def test_set_props_removes_in_the_same_transaction_and_refuses_computed_ones(store):
    item = store.add_item(INBOX, message("p"))
    store.set_props(item.url, {("urn:x:", "a"): "1", ("urn:x:", "b"): "2"})
    store.set_props(item.url, {("urn:x:", "c"): "3"}, remove=[("urn:x:", "a")])
    props = store.props(item.url)
    assert ("urn:x:", "a") not in props and props[("urn:x:", "c")] == "3"
    with pytest.raises(StoreError):
        store.set_props(item.url, {}, remove=[(NS_DAV, "getcontentlength")])
