"""The pure helpers of the IMAP virtual server: mailbox names and the store folders they stand for
(simulator/servers/imap/names.py: RFC 3501 5.1, 5.1.3 and 6.3.8, RFC 2342 namespaces, RFC 6855 UTF8=ACCEPT),
and a session's view of its selected mailbox kept in step through the hub
(simulator/servers/imap/view.py: RFC 3501 2.3.1.1 \\Recent, 5.2 and 7.4.1 EXISTS/EXPUNGE, RFC 7162 CONDSTORE
and QRESYNC, RFC 9051 without RECENT). Everything here is in memory; no store, no sockets.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from simulator.protocols.imap import encode
from simulator.servers.imap.names import (
    NameError_,
    Namespaces,
    list_matcher,
    special_use,
)
from simulator.servers.imap.view import MailboxHub, Rows, View, catch_up
from simulator.store.naming import names as url_names

ROOT = "/exchange/alice/"
INBOX = ROOT + "Inbox/"


@pytest.fixture
def ns() -> Namespaces:
    return Namespaces("alice")


# --- mailbox names -> folder URLs ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["INBOX", "inbox", "Inbox", "iNbOx"])
def test_inbox_in_any_case_is_the_inbox_folder(ns, name):
    assert ns.url(name) == INBOX
    assert ns.url(name + "/Sub") == INBOX + "Sub/"
    assert Namespaces.is_inbox(name)


@pytest.mark.parametrize("name, url", [
    ("Drafts", ROOT + "Drafts/"),
    ("Projects/2024/Q1", ROOT + "Projects/2024/Q1/"),
    ("Sent Items", ROOT + "Sent%20Items/"),
    ("a%b", ROOT + "a%25b/"),
    ("Entwürfe", ROOT + "Entw%C3%BCrfe/"),
    ("Inboxes", ROOT + "Inboxes/"),  # only the exact name INBOX is special
])
def test_hierarchy_names_are_nested_folder_urls(ns, name, url):
    assert ns.url(name) == url


def test_public_folders_names_are_under_the_public_root(ns):
    assert ns.url("Public Folders") == "/public/"
    assert ns.url("Public Folders/Marketing") == "/public/Marketing/"
    assert ns.url("Public Folders/Marketing/Q1 Plans") == "/public/Marketing/Q1%20Plans/"


def test_the_alias_is_part_of_the_root():
    assert Namespaces("bob smith").url("INBOX") == "/exchange/bob%20smith/Inbox/"


def test_a_trailing_delimiter_is_tolerated(ns):
    assert ns.url("Projects/") == ns.url("Projects")
    assert ns.url("INBOX/") == INBOX
    assert ns.url("Public Folders/Marketing/") == "/public/Marketing/"


@pytest.mark.parametrize("name", ["", "/", "//", "a//b", "/a", ".", "..", "a/.", "a/../b", "a/./b", "Projects//"])
def test_empty_and_dot_levels_are_refused(ns, name):
    with pytest.raises(NameError_):
        ns.url(name)


@pytest.mark.parametrize("name", ["a\x01b", "tab\there", "line\nbreak", "x\x1f", "\x00"])
def test_control_characters_are_refused(ns, name):
    with pytest.raises(NameError_, match="control"):
        ns.url(name)


# --- the wire form: modified UTF-7 (RFC 3501 5.1.3) or UTF-8 (RFC 6855) ----------------------------------------------

@pytest.mark.parametrize("name, wire", [
    ("Entwürfe", b"Entw&APw-rfe"),
    ("日本語", b"&ZeVnLIqe-"),
    ("Tom & Jerry", b'"Tom &- Jerry"'),
    ("INBOX", b"INBOX"),
    ("NIL", b'"NIL"'),
])
def test_names_go_on_the_wire_in_modified_utf7_as_astrings(ns, name, wire):
    assert ns.encode(name) == wire


def test_modified_utf7_names_come_back_decoded(ns):
    assert ns.decode("Entw&APw-rfe") == "Entwürfe"
    assert ns.decode("&ZeVnLIqe-/Sub") == "日本語/Sub"
    assert ns.decode("Tom &- Jerry") == "Tom & Jerry"


@pytest.mark.parametrize("wire", ["&Jjo", "Entwürfe", "&AGE-", "&ZeVnLIqe-&ZeVnLIqe-", "a\x7fb"])
def test_invalid_modified_utf7_is_refused(ns, wire):
    with pytest.raises(NameError_, match="modified UTF-7"):
        ns.decode(wire)


NAME_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(NAME_TEXT)
@settings(max_examples=80, deadline=None)
def test_any_name_survives_the_round_trip_through_the_wire(name):
    ns = Namespaces("alice")
    wire = encode.mutf7_encode(name)
    assert ns.decode(wire) == name
    assert ns.encode(name) == encode.astring(wire)
    assert all(0x20 <= ord(c) < 0x7F for c in wire), "modified UTF-7 is printable US-ASCII"


def test_in_utf8_mode_names_travel_as_utf8():
    ns = Namespaces("alice", utf8=True)
    assert ns.decode("Entwürfe") == "Entwürfe"
    assert ns.decode("Entw&APw-rfe") == "Entw&APw-rfe", "no modified UTF-7 is undone in UTF8=ACCEPT mode"
    assert ns.encode("Drafts") == b"Drafts"
    wire = ns.encode("Entwürfe")
    assert wire.endswith("Entwürfe".encode()) and b"&" not in wire


# --- folder URLs -> names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, name", [
    (INBOX, "INBOX"),
    (INBOX + "Sub/", "INBOX/Sub"),
    (ROOT + "Sent%20Items/", "Sent Items"),
    (ROOT + "Projects/2024/", "Projects/2024"),
    (ROOT + "Entw%C3%BCrfe/", "Entwürfe"),
    ("/public/Marketing/", "Public Folders/Marketing"),
    ("/public/Marketing/Q1%20Plans/", "Public Folders/Marketing/Q1 Plans"),
])
def test_a_folder_url_gives_its_mailbox_name(ns, url, name):
    assert ns.name(url, url_names(url)) == name


SEGMENT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"), min_size=1,
                  max_size=8).filter(lambda s: s not in (".", "..") and s.strip() == s and s.upper() != "INBOX")


@given(st.lists(SEGMENT, min_size=1, max_size=4), st.sampled_from(["", "INBOX/", "Public Folders/"]))
@settings(max_examples=80, deadline=None)
def test_any_name_maps_to_a_url_and_back(segments, prefix):
    ns = Namespaces("alice")
    name = prefix + "/".join(segments)
    assert ns.name(ns.url(name), url_names(ns.url(name))) == name


def test_special_use_follows_exchanges_top_level_folder_names():
    assert special_use("Sent Items") == "\\Sent"
    assert special_use("deleted items") == "\\Trash"
    assert special_use("Drafts") == "\\Drafts"
    assert special_use("Junk E-mail") == "\\Junk"
    assert special_use("Projects/Sent Items") is None and special_use("Projects") is None


# --- LIST patterns (RFC 3501 6.3.8) ----------------------------------------------------------------------------

NAMES = ["INBOX", "INBOX/Sub", "INBOX/Sub/Deep", "Drafts", "Projects", "Projects/2024", "Projects/2024/Q1",
         "Sent Items", "Public Folders", "Public Folders/Marketing", "a.b", "axb"]


def listed(reference: str, pattern: str) -> list[str]:
    matcher = list_matcher(reference, pattern)
    return [n for n in NAMES if matcher.match(n)]


def test_star_matches_across_levels():
    assert listed("", "*") == NAMES
    assert listed("", "Projects*") == ["Projects", "Projects/2024", "Projects/2024/Q1"]


def test_percent_stops_at_the_delimiter():
    assert listed("", "%") == ["INBOX", "Drafts", "Projects", "Sent Items", "Public Folders", "a.b", "axb"]
    assert listed("", "Projects/%") == ["Projects/2024"]
    assert listed("", "%/%") == ["INBOX/Sub", "Projects/2024", "Public Folders/Marketing"]


def test_the_reference_is_put_before_the_pattern():
    assert listed("Projects/", "%") == ["Projects/2024"]
    assert listed("Projects/", "*") == ["Projects/2024", "Projects/2024/Q1"]
    assert listed("Public Folders/", "*") == ["Public Folders/Marketing"]
    assert listed("Pro", "jects") == ["Projects"]


def test_inbox_is_matched_in_any_case():
    assert listed("", "inbox") == ["INBOX"]
    assert listed("", "Inbox/%") == ["INBOX/Sub"]
    assert listed("", "iNbOx*") == ["INBOX", "INBOX/Sub", "INBOX/Sub/Deep"]
    assert listed("inbox/", "%") == ["INBOX/Sub"]


def test_other_names_are_matched_case_sensitively():
    assert listed("", "drafts") == []
    assert listed("", "projects/%") == []


def test_a_pattern_starting_with_the_delimiter_continues_the_reference_without_doubling_it():
    assert listed("Projects/", "/2024") == ["Projects/2024"]
    assert listed("Projects/", "/%") == ["Projects/2024"]
    assert listed("", "/Drafts") == []  # no name starts with the delimiter


def test_pattern_characters_other_than_wildcards_are_literal():
    assert listed("", "a.b") == ["a.b"]
    assert listed("", "Sent Items") == ["Sent Items"]
    assert list_matcher("", "(x)+").match("(x)+") and not list_matcher("", "(x)+").match("xx")


# --- views and the hub ------------------------------------------------------------------------------------------

def rows(spec: dict[int, tuple]) -> Rows:
    """UID -> (flags,) or (flags, modseq)."""
    return Rows({u: frozenset(v[0]) for u, v in spec.items()},
                {u: (v[1] if len(v) > 1 else 1) for u, v in spec.items()})


def plain(n: int, first: int = 1) -> dict[int, tuple]:
    return {u: ((), 1) for u in range(first, first + n)}


def opened(hub: MailboxHub, spec: dict[int, tuple], *, readonly: bool = False, url: str = INBOX) -> View:
    """A view as SELECT leaves it: it knows the messages, and has claimed \\Recent where it could."""
    view = View(url, readonly, 1)
    r = rows(spec)
    view.uids = r.uids
    view.flags, view.modseqs = dict(r.flags), dict(r.modseqs)
    view.recent = hub.unclaimed(url, view.uids) if readonly else hub.claim_recent(url, view.uids)
    hub.attach(view)
    return view


def up(view: View, spec: dict[int, tuple], hub: MailboxHub, *, allow_expunge: bool = True, condstore: bool = False,
       qresync: bool = False, rev2: bool = False) -> list[bytes]:
    return catch_up(view, rows(spec), hub, allow_expunge=allow_expunge, condstore=condstore, qresync=qresync,
                    rev2=rev2)


def test_nothing_changed_means_nothing_to_say():
    hub = MailboxHub()
    view = opened(hub, plain(3))
    assert up(view, plain(3), hub) == []


def test_new_messages_are_exists_and_recent():
    hub = MailboxHub()
    view = opened(hub, plain(2))
    assert up(view, plain(4), hub) == [b"4 EXISTS", b"4 RECENT"]  # 1 and 2 were claimed at SELECT already
    assert view.uids == [1, 2, 3, 4] and view.recent == {1, 2, 3, 4}


def test_imap4rev2_gets_exists_without_recent():
    hub = MailboxHub()
    view = opened(hub, plain(2))
    assert up(view, plain(3), hub, rev2=True) == [b"3 EXISTS"]


def test_a_new_message_is_recent_in_exactly_one_of_two_views():
    hub = MailboxHub()
    first, second = opened(hub, plain(1)), opened(hub, plain(1))
    assert first.recent == {1} and second.recent == set()
    assert up(second, plain(3), hub) == [b"3 EXISTS", b"2 RECENT"]
    assert up(first, plain(3), hub) == [b"3 EXISTS", b"1 RECENT"]
    assert second.recent == {2, 3} and first.recent == {1}


def test_a_read_only_view_does_not_take_recent_away():
    hub = MailboxHub()
    examined = opened(hub, plain(2), readonly=True)
    assert examined.recent == {1, 2}, "EXAMINE shows what is still new"
    selected = opened(hub, plain(2))
    assert selected.recent == {1, 2}
    up(examined, plain(3), hub)
    assert up(selected, plain(3), hub) == [b"3 EXISTS", b"3 RECENT"]


def test_unclaimed_does_not_claim():
    hub = MailboxHub()
    assert hub.unclaimed(INBOX, [1, 2, 3]) == {1, 2, 3}
    assert hub.unclaimed(INBOX, [1, 2, 3]) == {1, 2, 3}
    assert hub.claim_recent(INBOX, [1, 2]) == {1, 2}
    assert hub.unclaimed(INBOX, [1, 2, 3]) == {3}
    assert hub.claim_recent(INBOX, [1, 2, 3]) == {3}
    assert hub.claim_recent(INBOX, [1, 2, 3]) == set()


def test_recent_is_per_mailbox_and_the_url_case_does_not_matter():
    hub = MailboxHub()
    assert hub.claim_recent(INBOX, [1]) == {1}
    assert hub.claim_recent(INBOX.upper(), [1]) == set()
    assert hub.claim_recent(ROOT + "Drafts/", [1]) == {1}


def test_a_flag_change_is_an_untagged_fetch_flags():
    hub = MailboxHub()
    view = opened(hub, plain(3))
    view.recent = set()
    assert up(view, {1: ((), 1), 2: (("\\Seen", "\\Flagged"), 2), 3: ((), 1)}, hub) == [
        b"2 FETCH (FLAGS (\\Flagged \\Seen))"]
    assert up(view, {1: ((), 1), 2: (("\\Seen", "\\Flagged"), 2), 3: ((), 1)}, hub) == []


def test_the_recent_flag_shows_in_the_fetch_flags_of_the_view_holding_it():
    hub = MailboxHub()
    view = opened(hub, plain(1))
    assert up(view, {1: (("\\Seen",), 2)}, hub) == [b"1 FETCH (FLAGS (\\Recent \\Seen))"]


@pytest.mark.parametrize("mode", ["condstore", "qresync"])
def test_with_condstore_or_qresync_a_flag_change_carries_uid_and_modseq(mode):
    hub = MailboxHub()
    view = opened(hub, {5: ((), 10), 9: ((), 11)})
    view.recent = set()
    assert up(view, {5: ((), 10), 9: (("\\Answered",), 14)}, hub, **{mode: True}) == [
        b"2 FETCH (UID 9 FLAGS (\\Answered) MODSEQ (14))"]


def test_with_condstore_a_new_modseq_alone_is_reported_and_without_it_is_not():
    hub = MailboxHub()
    view = opened(hub, {5: ((), 10)})
    view.recent = set()
    assert up(view, {5: ((), 12)}, hub) == []
    view.modseqs[5] = 10
    assert up(view, {5: ((), 12)}, hub, condstore=True) == [b"1 FETCH (UID 5 FLAGS () MODSEQ (12))"]


def test_expunges_are_renumbered_as_they_go():
    hub = MailboxHub()
    view = opened(hub, plain(5))
    assert up(view, {1: ((),), 4: ((),), 5: ((),)}, hub) == [b"2 EXPUNGE", b"2 EXPUNGE"]
    assert view.uids == [1, 4, 5] and set(view.flags) == {1, 4, 5} and view.recent == {1, 4, 5}


def test_expunging_the_first_and_the_last_message():
    hub = MailboxHub()
    view = opened(hub, plain(5))
    assert up(view, {2: ((),), 3: ((),), 4: ((),)}, hub) == [b"1 EXPUNGE", b"4 EXPUNGE"]


def test_with_qresync_expunges_are_one_vanished():
    hub = MailboxHub()
    view = opened(hub, plain(6))
    assert up(view, {1: ((),), 4: ((),), 5: ((),)}, hub, qresync=True) == [b"VANISHED 2:3,6"]
    assert view.uids == [1, 4, 5]


def test_expunges_go_before_flag_changes_which_use_the_new_numbers():
    hub = MailboxHub()
    view = opened(hub, plain(3))
    view.recent = set()
    assert up(view, {2: ((),), 3: (("\\Seen",), 2)}, hub) == [b"1 EXPUNGE", b"2 FETCH (FLAGS (\\Seen))"]


def test_held_back_expunges_leave_the_view_stale_and_exists_counts_them():
    hub = MailboxHub()
    view = opened(hub, plain(5))
    view.recent = set()
    hub.changed(INBOX)
    store = {1: ((),), 4: (("\\Seen",), 2), 5: ((),), 6: ((),)}
    out = up(view, store, hub, allow_expunge=False)
    assert out == [b"4 FETCH (FLAGS (\\Seen))", b"6 EXISTS", b"1 RECENT"]
    assert view.uids == [1, 2, 3, 4, 5, 6] and view.stale and view.wake.is_set()
    assert up(view, store, hub, allow_expunge=True) == [b"2 EXPUNGE", b"2 EXPUNGE"]
    assert view.uids == [1, 4, 5, 6] and not view.stale and not view.wake.is_set()
    assert up(view, store, hub) == []


def test_catching_up_clears_stale_and_wake():
    hub = MailboxHub()
    view = opened(hub, plain(1))
    hub.changed(INBOX)
    assert view.stale and view.wake.is_set()
    up(view, plain(2), hub)
    assert not view.stale and not view.wake.is_set()


def test_a_view_is_not_marked_stale_by_its_own_changes():
    hub = MailboxHub()
    mine, other = opened(hub, plain(1)), opened(hub, plain(1))
    hub.changed(INBOX, by=mine)
    assert not mine.stale and not mine.wake.is_set()
    assert other.stale and other.wake.is_set()


def test_changes_reach_views_of_the_same_mailbox_only_and_the_url_case_does_not_matter():
    hub = MailboxHub()
    inbox, drafts = opened(hub, plain(1)), opened(hub, plain(1), url=ROOT + "Drafts/")
    hub.changed(INBOX.upper())
    assert inbox.stale and not drafts.stale


def test_a_detached_view_hears_nothing():
    hub = MailboxHub()
    view = opened(hub, plain(1))
    hub.detach(view)
    hub.changed(INBOX)
    assert not view.stale
    hub.detach(view)  # twice is harmless


def test_renamed_moves_the_views_and_their_recent_mark_to_the_new_url():
    hub = MailboxHub()
    view = opened(hub, plain(2))
    new = ROOT + "Archive/"
    hub.renamed(INBOX, new)
    assert view.url == new
    hub.changed(INBOX)
    assert not view.stale
    hub.changed(new)
    assert view.stale
    assert hub.claim_recent(new, [1, 2]) == set(), "what was claimed stays claimed after the rename"
    assert hub.claim_recent(INBOX, [1]) == {1}, "a new mailbox under the old name starts afresh"


# --- any sequence of store changes, two sessions catching up at any time ------------------------------------------

@dataclass
class Client:
    """What a client makes of the untagged responses: its message list, by sequence number."""

    uids: list[int] = field(default_factory=list)

    def apply(self, responses: list[bytes], store_uids: list[int]) -> None:
        for response in responses:
            words = response.split(b" ", 2)
            if words[0] == b"VANISHED":
                gone = set()
                for run in words[1].split(b","):
                    lo, _, hi = run.partition(b":")
                    gone |= set(range(int(lo), int(hi or lo) + 1))
                self.uids = [u for u in self.uids if u not in gone]
            elif words[1] == b"EXPUNGE":
                del self.uids[int(words[0]) - 1]
            elif words[1] == b"EXISTS":
                count = int(words[0])
                assert count >= len(self.uids), "EXISTS never shrinks the mailbox (RFC 3501 7.3.1)"
                newer = [u for u in store_uids if u > max(self.uids, default=0)]
                self.uids += newer[:count - len(self.uids)]


OPS = st.one_of(
    st.tuples(st.just("append"), st.integers(1, 3)),
    st.tuples(st.just("flag"), st.integers(0, 20)),
    st.tuples(st.just("expunge"), st.integers(0, 20)),
    st.tuples(st.just("catch_up"), st.integers(0, 1), st.booleans(), st.booleans()),
)


@given(st.lists(OPS, max_size=25))
@settings(max_examples=80, deadline=None)
def test_two_views_stay_in_step_with_the_store_and_share_recent(ops):
    hub = MailboxHub()
    store: dict[int, tuple] = plain(2)
    next_uid, modseq = 3, 1
    views = [opened(hub, store), opened(hub, store)]
    clients = [Client(list(v.uids)) for v in views]
    for op in ops:
        note(repr(op))
        if op[0] == "append":
            for _ in range(op[1]):
                store[next_uid] = ((), 1)
                next_uid += 1
            hub.changed(INBOX)
        elif op[0] == "flag" and store:
            uid = sorted(store)[op[1] % len(store)]
            modseq += 1
            store[uid] = (("\\Seen",) if not store[uid][0] else (), modseq)
            hub.changed(INBOX)
        elif op[0] == "expunge" and store:
            del store[sorted(store)[op[1] % len(store)]]
            hub.changed(INBOX)
        elif op[0] == "catch_up":
            _, which, allow, qresync = op
            view = views[which]
            out = up(view, store, hub, allow_expunge=allow, condstore=qresync, qresync=qresync)
            note(f"  view {which}: {out}")
            clients[which].apply(out, sorted(store))
            assert clients[which].uids == view.uids, "the client's numbering matches the view's"
            if allow:
                assert view.uids == sorted(store) and not view.stale
            else:
                assert set(store) <= set(view.uids)
                assert view.stale == (set(view.uids) != set(store))
            assert {u: view.flags[u] for u in store} == {u: frozenset(store[u][0]) for u in store}
    assert not (views[0].recent & views[1].recent), "a message is \\Recent in one session at most"
    for uid in set(views[0].uids) | set(views[1].uids):
        if uid in store:
            assert uid in views[0].recent | views[1].recent, "the first session to learn of it has it \\Recent"
