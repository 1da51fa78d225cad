"""SORT and THREAD (simulator/protocols/imap/threading.py): RFC 5256 base subject, sort criteria, and the
ORDEREDSUBJECT and REFERENCES algorithms."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.imap.search import SearchError
from simulator.protocols.imap.threading import (
    SortItem,
    base_subject,
    base_subject_info,
    collate,
    format_threads,
    message_ids,
    parse_sort_criteria,
    parse_thread_algorithm,
    sort,
    thread_orderedsubject,
    thread_references,
)
from simulator.protocols.imap.tokens import Atom, List, String


def item(seq, *, subject=None, date=None, arrival=0.0, size=0, from_=None, to=None, cc=None, mid=None,
         refs=None, irt=None, uid=None) -> SortItem:
    return SortItem(seq, uid if uid is not None else seq * 10, arrival, date, size, subject, from_, to, cc,
                    mid, refs, irt)


def day(n: int) -> str:
    return f"{n} Jan 2020 12:00:00 +0000"


# --- 2.1 base subject ---------------------------------------------------------------------------------

@pytest.mark.parametrize("subject, base, reply", [
    ("Hello", "Hello", False),
    ("Re: Hello", "Hello", True),
    ("RE:Hello", "Hello", True),
    ("re : Hello", "Hello", True),
    ("Fw: Hello", "Hello", True),
    ("FWD: Hello", "Hello", True),
    ("Re[2]: Hello", "Hello", True),
    ("Re: Re: Fwd: Hello", "Hello", True),
    ("[list] Re: Hello", "Hello", True),
    ("[list] Hello", "Hello", False),
    ("[a][b] [c] Hello", "Hello", False),
    ("[list]", "[list]", False),
    ("Re: [list]", "[list]", True),
    ("Hello (fwd)", "Hello", True),
    ("Hello (FWD) (fwd)  ", "Hello", True),
    ("[fwd: Hello]", "Hello", True),
    ("[Fwd: Re: Hello (fwd)]", "Hello", True),
    ("Re: [fwd: [list] Hello]", "Hello", True),
    ("[fwd: Hello] there", "there", False),
    ("  Hello \t  world  ", "Hello world", False),
    ("Hello\r\n world", "Hello world", False),
    ("Ref: Hello", "Ref: Hello", False),
    ("Refwd: Hello", "Refwd: Hello", False),
    ("Re:", "", True),
    ("", "", False),
    ("=?utf-8?q?Re=3A_caf=C3=A9?=", "café", True),
    ("=?iso-8859-1?q?Re:?= =?iso-8859-1?q?_H=E9?=", "Hé", True),
])
def test_base_subject_follows_the_rfc_5256_steps(subject, base, reply):
    assert base_subject_info(subject) == (base, reply)
    assert base_subject(subject) == base


# --- 3 SORT -------------------------------------------------------------------------------------------------

def test_parse_sort_criteria():
    assert parse_sort_criteria(List((Atom("reverse"), Atom("Date"), Atom("SUBJECT")))) == \
        ["REVERSE", "DATE", "SUBJECT"]
    assert parse_sort_criteria([Atom("ARRIVAL")]) == ["ARRIVAL"]


@pytest.mark.parametrize("tokens, message", [
    ([], "empty"),
    ([Atom("REVERSE")], "followed by a sort key"),
    ([Atom("REVERSE"), Atom("REVERSE"), Atom("DATE")], "followed by a sort key"),
    ([Atom("DATE"), Atom("REVERSE")], "followed by a sort key"),
    ([Atom("SENDER")], "unknown sort criterion SENDER"),
    ([String(b"DATE")], "atoms"),
])
def test_bad_sort_criteria(tokens, message):
    with pytest.raises(SearchError, match=message):
        parse_sort_criteria(tokens)


def test_parse_thread_algorithm():
    assert parse_thread_algorithm(Atom("references")) == "REFERENCES"
    assert parse_thread_algorithm("OrderedSubject") == "ORDEREDSUBJECT"
    with pytest.raises(SearchError):
        parse_thread_algorithm(Atom("REFS"))
    with pytest.raises(SearchError):
        parse_thread_algorithm(String(b"REFERENCES"))


def test_sort_by_each_criterion():
    msgs = [item(1, arrival=30, size=300, subject="Re: banana", date=day(2), from_="Zed <zz@x>", to="b@x", cc="c@x"),
            item(2, arrival=10, size=100, subject="apple", date=day(3), from_="amy <AA@x>", to="c@x", cc="a@x"),
            item(3, arrival=20, size=200, subject="[list] Cherry", date=day(1), from_="m@x", to="a@x", cc="b@x")]
    assert sort(msgs, ["ARRIVAL"]) == [2, 3, 1]
    assert sort(msgs, ["SIZE"]) == [2, 3, 1]
    assert sort(msgs, ["DATE"]) == [3, 1, 2]
    assert sort(msgs, ["SUBJECT"]) == [2, 1, 3]
    assert sort(msgs, ["FROM"]) == [2, 3, 1]  # addr-mailbox: AA, m, zz compared case-insensitively
    assert sort(msgs, ["TO"]) == [3, 1, 2]
    assert sort(msgs, ["CC"]) == [2, 3, 1]
    assert sort(msgs, ["REVERSE", "SIZE"]) == [1, 3, 2]
    assert sort(msgs, ["SIZE"], uid=True) == [20, 30, 10]


def test_ties_go_by_sequence_number_and_reverse_turns_only_its_criterion():
    msgs = [item(1, size=5, subject="b"), item(2, size=5, subject="a"), item(3, size=1, subject="a")]
    assert sort(msgs, ["REVERSE", "SIZE"]) == [1, 2, 3]  # 1 and 2 tie: mailbox order, not reversed
    assert sort(msgs, ["REVERSE", "SIZE", "SUBJECT"]) == [2, 1, 3]
    assert sort(msgs, ["SUBJECT", "REVERSE", "SIZE"]) == [2, 3, 1]


def test_sent_dates_compare_in_utc_and_fall_back_to_the_internal_date():
    same = [item(1, date="1 Jan 2001 00:01:33 +0000"), item(2, date="31 Dec 2000 16:01:33 -0800")]
    assert sort(same, ["DATE"]) == [1, 2] and sort(same, ["REVERSE", "DATE"]) == [1, 2]
    msgs = [item(1, date="2 Jan 2001 00:00:00 +0000"), item(2, date=None, arrival=978307200.0),  # 1 Jan 2001
            item(3, date="not a date", arrival=0.0)]
    assert sort(msgs, ["DATE"]) == [3, 2, 1]


def test_missing_addresses_sort_first_and_groups_are_skipped():
    msgs = [item(1, to="b@x"), item(2, to=None), item(3, to="undisclosed:;"), item(4, to="Team: a@x;")]
    assert sort(msgs, ["TO"]) == [2, 3, 4, 1]


def test_collation_is_unicode_casemap():
    # titlecase, not lower case: "A" (0x41) < "B" (0x42) < "_" (0x5F), where casefolding would put "_" first
    assert collate("a") < collate("B") < collate("_")
    assert collate("É") == collate("é") and collate("ǆ") == collate("ǅ")  # then NFKD
    assert collate("ß") != collate("SS")  # no simple titlecase mapping: ß stays ß
    msgs = [item(1, subject="_x"), item(2, subject="b"), item(3, subject="A")]
    assert sort(msgs, ["SUBJECT"]) == [3, 2, 1]


# --- thread formatting -------------------------------------------------------------------------------------------

def test_format_threads_matches_the_rfc_examples():
    assert format_threads([(2,), (3, 6, (4, 23), (44, 7, 96))]) == b"(2)(3 6 (4 23)(44 7 96))"
    assert format_threads([((3,), (5,))]) == b"((3)(5))"
    assert format_threads([]) == b""


# --- 4 ORDEREDSUBJECT ---------------------------------------------------------------------------------------------

def test_orderedsubject_groups_by_base_subject_under_the_first_message():
    msgs = [item(1, subject="Hello", date=day(3)), item(2, subject="Re: hello", date=day(1)),
            item(3, subject="Other", date=day(2)), item(4, subject="HELLO (fwd)", date=day(4)),
            item(5, subject="Other", date=day(5)), item(6, subject="", date=day(6))]
    assert format_threads(thread_orderedsubject(msgs)) == b"(2 (1)(4))(3 5)(6)"
    assert format_threads(thread_orderedsubject(msgs, uid=True)) == b"(20 (10)(40))(30 50)(60)"


# --- 4 REFERENCES -------------------------------------------------------------------------------------------------

def refs_threads(*msgs) -> bytes:
    return format_threads(thread_references(list(msgs)))


def test_references_builds_the_reply_tree_and_keeps_a_dummy_for_lost_parents():
    assert refs_threads(
        item(1, mid="<1@x>", subject="Hello", date=day(1)),
        item(2, mid="<2@x>", refs="<1@x>", subject="Re: Hello", date=day(2)),
        item(3, mid="<3@x>", refs="<1@x> <2@x>", subject="Re: Hello", date=day(3)),
        item(4, mid="<4@x>", refs="<1@x>", subject="Re: Hello", date=day(4)),
        item(5, mid="<5@x>", subject="Other", date=day(5)),
        item(6, mid="<6@x>", refs="<lost@x>", subject="Re: Lost", date=day(6)),
        item(7, mid="<7@x>", refs="<lost@x>", subject="Re: Lost", date=day(7)),
    ) == b"(1 (2 3)(4))(5)((6)(7))"


def test_a_dummy_below_the_top_gives_way_to_its_children():
    assert refs_threads(item(1, mid="<1@x>", date=day(1)),
                        item(2, mid="<2@x>", refs="<1@x> <gone@x>", date=day(2)),
                        item(3, mid="<3@x>", refs="<1@x> <gone@x>", date=day(3))) == b"(1 (2)(3))"


def test_a_top_level_dummy_with_one_child_gives_way_to_it():
    assert refs_threads(item(1, mid="<1@x>", refs="<gone@x>")) == b"(1)"


def test_siblings_are_sorted_by_sent_date_not_sequence():
    assert refs_threads(item(1, mid="<1@x>", date=day(1)),
                        item(2, mid="<2@x>", refs="<1@x>", date=day(5)),
                        item(3, mid="<3@x>", refs="<1@x>", date=day(4)),
                        item(4, mid="<4@x>", date=day(0))) == b"(4)(1 (3)(2))"


def test_truncated_references_do_not_move_an_existing_parent():
    assert refs_threads(item(1, mid="<1@x>", date=day(1)),
                        item(2, mid="<2@x>", refs="<1@x>", date=day(2)),
                        item(3, mid="<3@x>", refs="<9@x> <2@x>", date=day(3))) == b"(1 2 3)"
    assert refs_threads(item(1, mid="<1@x>", date=day(1)),
                        item(2, mid="<2@x>", refs="<1@x>", date=day(2)),
                        item(3, mid="<3@x>", refs="<2@x>", date=day(3))) == b"(1 2 3)"


def test_a_message_replaces_the_parent_its_dummy_was_given():
    # message 1 claims a -> b -> 1; then b arrives saying its parent is c: b's link to a is broken (1.B)
    assert refs_threads(item(1, mid="<1@x>", refs="<a@x> <b@x>", date=day(2)),
                        item(2, mid="<b@x>", refs="<c@x>", date=day(1))) == b"(2 1)"


def test_reference_loops_are_not_created():
    assert refs_threads(item(1, mid="<1@x>", refs="<2@x>", date=day(1)),
                        item(2, mid="<2@x>", refs="<1@x>", date=day(2))) == b"(2 1)"
    assert refs_threads(item(1, mid="<1@x>", refs="<1@x>", date=day(1))) == b"(1)"


def test_duplicate_and_missing_message_ids():
    assert refs_threads(item(1, mid="<d@x>", subject="A", date=day(1)),
                        item(2, mid="<d@x>", subject="B", date=day(2)),
                        item(3, mid="<3@x>", refs="<d@x>", subject="Re: A", date=day(3)),
                        item(4, subject="C", date=day(4)), item(5, mid="junk", subject="D", date=day(5))) == \
        b"(1 3)(2)(4)(5)"


def test_in_reply_to_is_used_when_references_has_no_message_id():
    assert refs_threads(item(1, mid="<1@x>", date=day(1)),
                        item(2, mid="<2@x>", irt="your message of Monday <1@x> (sent)", date=day(2)),
                        item(3, mid="<3@x>", refs="garbage", irt="<2@x> <1@x>", date=day(3))) == b"(1 2 3)"


def test_message_ids_are_normalized_and_case_sensitive():
    assert message_ids('<"a b"@x> (c) < c@d . e > <nope> <A@X>') == ["a b@x", "c@d.e", "A@X"]
    assert refs_threads(item(1, mid="<a@x>", date=day(1)), item(2, mid="<2@x>", refs="<A@x>", date=day(2))) == \
        b"(1)(2)"


def test_subject_gathering_puts_replies_under_the_original():
    assert refs_threads(item(1, mid="<1@x>", subject="Report", date=day(1)),
                        item(2, mid="<2@x>", subject="Re: Report", date=day(2)),
                        item(3, mid="<3@x>", subject="Other", date=day(3))) == b"(1 2)(3)"


def test_subject_gathering_joins_two_originals_under_a_dummy():
    assert refs_threads(item(1, mid="<1@x>", subject="Report", date=day(1)),
                        item(2, mid="<2@x>", subject="Re: Report", date=day(2)),
                        item(3, mid="<3@x>", subject="report", date=day(3))) == b"((1 2)(3))"
    assert refs_threads(item(1, mid="<1@x>", subject="Re: x", date=day(1)),
                        item(2, mid="<2@x>", subject="Re: x", date=day(2))) == b"((1)(2))"


def test_subject_gathering_merges_into_a_dummy_thread():
    # 1 and 2 share a lost parent (a top-level dummy); 3 has their subject and no references
    assert refs_threads(item(1, mid="<1@x>", refs="<p@x>", subject="Re: Plan", date=day(1)),
                        item(2, mid="<2@x>", refs="<p@x>", subject="Re: Plan", date=day(2)),
                        item(3, mid="<3@x>", subject="Plan", date=day(3)),
                        item(4, mid="<4@x>", refs="<q@x>", subject="Re: Plan", date=day(0)),
                        item(5, mid="<5@x>", refs="<q@x>", subject="Re: Plan", date=day(4))) == \
        b"((4)(1)(2)(3)(5))"


def test_empty_subjects_are_not_gathered():
    assert refs_threads(item(1, mid="<1@x>", subject="", date=day(1)),
                        item(2, mid="<2@x>", subject="Re:", date=day(2))) == b"(1)(2)"


# --- properties -------------------------------------------------------------------------------------------------

THREAD_LIST = re.compile(rb"\((?:\d+(?: \d+)*(?: (?:\(.*\))+)?|(?:\(.*\)){2,})\)")


def check_thread_list(data: bytes, pos: int = 0) -> int:
    """thread-list = "(" (thread-members / thread-nested) ")", read strictly; returns where it ends."""
    assert data[pos:pos + 1] == b"("
    pos += 1
    m = re.compile(rb"[1-9]\d*(?: [1-9]\d*)*").match(data, pos)
    nested = 0
    if m:
        pos = m.end()
        if data[pos:pos + 2] == b" (":
            pos += 1
            while data[pos:pos + 1] == b"(":
                pos = check_thread_list(data, pos)
                nested += 1
            assert nested >= 2
    else:
        while data[pos:pos + 1] == b"(":
            pos = check_thread_list(data, pos)
            nested += 1
        assert nested >= 2  # thread-nested = 2*thread-list
    assert data[pos:pos + 1] == b")"
    return pos + 1


def numbers_of(threads) -> list[int]:
    out = []
    for t in threads:
        for x in t:
            out.extend(numbers_of([x]) if isinstance(x, tuple) else [x])
    return out


message_sets = st.lists(
    st.tuples(st.sampled_from([None, "<a@x>", "<b@x>", "<c@x>", "<d@x>", "<e@x>"]),
              st.lists(st.sampled_from(["<a@x>", "<b@x>", "<c@x>", "<d@x>", "<e@x>", "<f@x>"]), max_size=4),
              st.sampled_from(["", "Plan", "Re: Plan", "Fwd: plan", "[x] Plan", "Other", "Re: Other"]),
              st.integers(0, 5)),
    max_size=12)


@settings(max_examples=300, deadline=None)
@given(message_sets)
def test_every_message_is_in_exactly_one_place_of_a_well_formed_thread(specs):
    msgs = [item(n, mid=mid, refs=" ".join(refs), subject=subject, date=day(d + 1))
            for n, (mid, refs, subject, d) in enumerate(specs, 1)]
    for threads in (thread_references(msgs), thread_orderedsubject(msgs)):
        assert sorted(numbers_of(threads)) == list(range(1, len(msgs) + 1))
        data = format_threads(threads)
        pos = 0
        while pos < len(data):
            pos = check_thread_list(data, pos)
