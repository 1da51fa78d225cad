"""The NNTP reader, the NNTP script dialect and the [nntp] profile section.

Every reader case is run twice: with the server's octets in one write and one byte at a time.
"""
from __future__ import annotations

import asyncio

import pytest
from fakes import FakeServer, Raw

from conformance.dialects.nntp import (
    GroupInfo,
    NntpClient,
    article,
    article_ref,
    capability_keywords,
    dot_stuff,
    group_info,
    header,
    is_multiline,
    new_message_id,
    parse_capabilities,
    parse_status_line,
    split_article,
)
from conformance.dialects.nntp_script import NntpDialect, ScriptClient, verb_of
from conformance.errors import UsageError
from conformance.target import load_profile
from conformance.wire.session import Session
from conformance.wire.transcript import Transcript

BOTH = pytest.mark.parametrize("byte_at_a_time", [False, True], ids=["one-write", "byte-at-a-time"])


def read(data: bytes, byte_at_a_time: bool, verbs: list[str]):
    """The responses an NntpClient reads from a server that sends `data`, one per verb."""
    async def go():
        with FakeServer(Raw(data, byte_at_a_time=byte_at_a_time)) as server:
            wire = await Session.open(server.host, server.port, transcript=Transcript(), read_timeout=2.0)
            client = NntpClient(wire)
            out = [await client.read_response(verb) for verb in verbs]
            await wire.close()
            return out
    return asyncio.run(go())


# --- reading responses -----------------------------------------------------------------------------------------


@BOTH
def test_a_multi_line_response_is_unstuffed_and_ends_at_the_lone_dot(byte_at_a_time):
    data = b"220 1 <a@b> article\r\nSubject: x\r\n\r\n..leading dot\r\n...\r\nplain\r\n.\r\n111 20261127120000\r\n"
    first, after = read(data, byte_at_a_time, ["ARTICLE", "DATE"])
    assert first.code == 220 and first.multiline and first.args == ["1", "<a@b>", "article"]
    assert first.data == [b"Subject: x", b"", b".leading dot", b"..", b"plain"]
    assert first.content == b"Subject: x\r\n\r\n.leading dot\r\n..\r\nplain\r\n"
    assert first.raw[-1] == b".\r\n" and not first.problems
    assert after.code == 111 and not after.multiline  # the terminating line ended the article exactly


@BOTH
def test_211_is_multi_line_after_listgroup_only(byte_at_a_time):
    data = b"211 2 1 2 g\r\n211 2 1 2 g list follows\r\n1\r\n2\r\n.\r\n"
    group, listgroup = read(data, byte_at_a_time, ["GROUP", "LISTGROUP"])
    assert not group.multiline and group_info(group).high == 2
    assert listgroup.multiline and listgroup.lines == ["1", "2"]


@BOTH
def test_malformed_lines_are_recorded_as_problems_not_raised(byte_at_a_time):
    data = b"200\tready\r\n201 bare lf\nno code here\r\n"
    tab, bare, nocode = read(data, byte_at_a_time, ["", "", ""])
    assert tab.code == 200 and any("TAB" in p for p in tab.problems)
    assert bare.code == 201 and any("bare LF" in p for p in bare.problems)
    assert nocode.code is None and any("no three-digit code" in p for p in nocode.problems)


def test_an_initial_line_over_512_octets_is_a_problem():
    code, text, problems = parse_status_line(b"200 " + b"x" * 600 + b"\r\n")
    assert code == 200 and any("over the limit of 512" in p for p in problems)
    assert parse_status_line(b"205 bye\r\n") == (205, "bye", [])
    assert parse_status_line(b"111\r\n") == (111, "", [])


@pytest.mark.parametrize("code, verb, multi", [
    (100, "HELP", True), (101, "CAPABILITIES", True), (215, "LIST", True), (220, "ARTICLE", True),
    (221, "HEAD", True), (222, "BODY", True), (223, "STAT", False), (224, "OVER", True), (225, "HDR", True),
    (230, "NEWNEWS", True), (231, "NEWGROUPS", True), (211, "GROUP", False), (211, "listgroup", True),
    (240, "POST", False), (340, "POST", False), (None, "", False)])
def test_whether_a_code_carries_a_data_block(code, verb, multi):
    assert is_multiline(code, verb) is multi


# --- response arguments, capabilities, articles --------------------------------------------------------------


def test_group_info_and_article_ref_parse_their_arguments_or_give_none():
    (group,) = read(b"211 3 5 9 wireproof.test\r\n", False, ["GROUP"])
    assert group_info(group) == GroupInfo(3, 5, 9, "wireproof.test")
    stat, bad = read(b"223 7 <x@y> status\r\n223 seven <x@y>\r\n", False, ["STAT", "STAT"])
    assert article_ref(stat) == (7, "<x@y>") and article_ref(bad) is None and group_info(stat) is None


def test_capabilities_are_labels_with_arguments_and_discovery_keywords():
    caps, order = parse_capabilities(["VERSION 2", "READER", "list ACTIVE NEWSGROUPS", "IMPLEMENTATION INN 2.7",
                                      "", "OVER MSGID"])
    assert order == ["VERSION", "READER", "LIST", "IMPLEMENTATION", "OVER"]
    assert caps["LIST"] == ["ACTIVE", "NEWSGROUPS"]
    keywords = capability_keywords(caps)
    assert {"VERSION=2", "LIST=ACTIVE", "LIST=NEWSGROUPS", "OVER=MSGID", "READER", "IMPLEMENTATION"} <= keywords
    assert "IMPLEMENTATION=INN" not in keywords


def test_dot_stuffing_of_a_posted_article():
    assert dot_stuff(b"a\r\n.b\r\n..\r\n") == b"a\r\n..b\r\n...\r\n.\r\n"
    assert dot_stuff(b"") == b".\r\n"


def test_article_builds_a_minimal_article_with_a_fresh_message_id():
    data, mid = article(newsgroups="wireproof.test", token="wp-1", subject="hi", body="text")
    again = article(newsgroups="wireproof.test", token="wp-1", subject="hi")[1]
    assert mid != again and mid.startswith("<wp-1.") and mid.endswith("@wireproof.invalid>")
    fields, body = split_article(data)
    assert header(fields, "message-id") == mid and header(fields, "Newsgroups") == "wireproof.test"
    assert body == b"text\r\n"
    without, _ = article(newsgroups="g", token="t", subject="s", omit=("From",))
    assert header(split_article(without)[0], "From") is None
    assert new_message_id("tok") != new_message_id("tok")


def test_split_article_unfolds_headers():
    fields, body = split_article(b"Subject: a\r\n long\r\nFrom: b\r\n\r\nbody\r\n")
    assert header(fields, "subject") == "a long" and header(fields, "from") == "b" and body == b"body\r\n"


# --- the script dialect ---------------------------------------------------------------------------------------


class FakeWire:
    def __init__(self) -> None:
        self.sent = b""

    async def send(self, data: bytes) -> None:
        self.sent += data


def test_the_dialect_tracks_the_verbs_of_pipelined_commands_and_skips_article_text():
    dialect = NntpDialect()
    client = ScriptClient(FakeWire())
    asyncio.run(dialect.send(client, b"GROUP g\r\nLISTGROUP\r\nPO"))
    assert client.awaiting == ["GROUP", "LISTGROUP"] and client.partial == b"PO"
    asyncio.run(dialect.send(client, b"ST\r\n"))
    assert client.awaiting == ["GROUP", "LISTGROUP", "POST"]
    client.awaiting.clear()
    client.in_article = True  # as after a 340 to POST
    asyncio.run(dialect.send(client, b"Subject: x\r\n\r\nQUIT\r\n.\r\nDATE\r\n"))
    assert client.awaiting == ["POST", "DATE"] and not client.in_article
    assert client.wire.sent.endswith(b"DATE\r\n")


def test_verb_of_a_line():
    assert verb_of(b"listgroup g 1-") == "LISTGROUP" and verb_of(b"   ") == ""


@BOTH
def test_read_unit_uses_the_sent_verb_for_211_and_enters_the_article_after_340(byte_at_a_time):
    async def go():
        data = b"211 1 1 1 g list follows\r\n1\r\n.\r\n340 send it\r\n240 ok\r\n"
        with FakeServer(Raw(data, byte_at_a_time=byte_at_a_time)) as server:
            wire = await Session.open(server.host, server.port, transcript=Transcript(), read_timeout=2.0)
            dialect, client = NntpDialect(), ScriptClient(wire)
            await dialect.send(client, b"LISTGROUP g\r\nPOST\r\n")
            listed = await dialect.read_unit(client)
            go_ahead = await dialect.read_unit(client)
            assert client.in_article
            await dialect.send(client, b"Subject: s\r\n\r\nbody\r\n.\r\n")
            done = await dialect.read_unit(client)
            await wire.close()
            return listed, go_ahead, done
    listed, go_ahead, done = asyncio.run(go())
    assert listed.head == "211 1 1 1 g list follows" and listed.body == ["1"]
    assert go_ahead.head == "340 send it" and done.head == "240 ok" and done.body == ["240 ok"]


# --- the [nntp] profile section ---------------------------------------------------------------------------------

PROFILE = """name = "t"
[endpoints]
nntp = "nntp://127.0.0.1:1119"
"""


def profile(tmp_path, text: str):
    path = tmp_path / "p.toml"
    path.write_text(text)
    return load_profile(path)


def test_nntp_section_names_the_scratch_groups_and_post_defaults_to_true_with_groups(tmp_path):
    target = profile(tmp_path, PROFILE + '[nntp]\ngroups = ["wireproof.test", "wireproof.two"]\n')
    assert target.nntp_groups == ["wireproof.test", "wireproof.two"] and target.nntp_post
    read_only = profile(tmp_path, PROFILE + '[nntp]\ngroups = ["wireproof.test"]\npost = false\n')
    assert read_only.nntp_groups == ["wireproof.test"] and not read_only.nntp_post
    assert profile(tmp_path, PROFILE).nntp_groups == [] and not profile(tmp_path, PROFILE).nntp_post


@pytest.mark.parametrize("section, words", [
    ('[nntp]\ngroups = "wireproof.test"\n', "[nntp] groups must be a list of newsgroup names"),
    ('[nntp]\ngroups = ["has space"]\n', "[nntp] groups must be a list of newsgroup names"),
    ('[nntp]\ngroups = [""]\n', "[nntp] groups must be a list of newsgroup names"),
    ('[nntp]\ngroups = ["g"]\npost = "yes"\n', "[nntp] post must be true or false"),
    ('[nntp]\npost = true\n', "[nntp] post = true needs groups"),
    ('[nntp]\ngroup = ["g"]\n', "unknown key 'group' in [nntp]"),
])
def test_bad_nntp_sections_are_one_line_usage_errors(tmp_path, section, words):
    with pytest.raises(UsageError) as err:
        profile(tmp_path, PROFILE + section)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_bare_nntp_key_is_a_one_line_usage_error(tmp_path):
    with pytest.raises(UsageError) as err:
        profile(tmp_path, 'nntp = "wireproof.test"\n' + PROFILE)
    assert "nntp must be a table" in str(err.value) and "\n" not in str(err.value)
