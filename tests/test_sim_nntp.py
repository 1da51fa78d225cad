"""The simulator's NNTP server on the wire: newsgroups are public folders, so an article posted over NNTP is
an item of its folder (IMAP and WebDAV see it), and a message put into the folder another way is the next
article."""
from __future__ import annotations

import base64
import http.client
import imaplib
import socket
import warnings
from xml.etree import ElementTree as ET

import pytest

from simulator import Simulator

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import nntplib  # deprecated in 3.11, gone in 3.13: only this test uses it, as an interop client

ARTICLE = b"From: poster@example.org\r\nSubject: %s\r\nNewsgroups: wireproof.test\r\n\r\n%s\r\n"


@pytest.fixture
def sim():
    with Simulator() as s:
        yield s


def test_nntplib_posts_lists_and_reads_an_article(sim):
    news = nntplib.NNTP(*sim.address("nntp"))
    caps = news.getcapabilities()
    assert caps["VERSION"] == ["2"] and "READER" in caps and "OVER" in caps
    response = news.post(ARTICLE % (b"hello", b".a dot-stuffed line"))
    assert response.startswith("240")
    _, count, first, last, name = news.group("wireproof.test")
    assert (count, first, last, name) == (1, 1, 1, "wireproof.test")
    _, info = news.article(1)
    assert b".a dot-stuffed line" in info.lines and info.message_id.startswith("<")
    _, overviews = news.over((1, 1))
    assert overviews[0][1]["subject"] == "hello"
    news.quit()


def post_raw(sim, article: bytes) -> bytes:
    """POST over a plain socket (no client library): the final status line."""
    with socket.create_connection(sim.address("nntp"), timeout=5) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"200")
        s.sendall(b"POST\r\n")
        assert f.readline().startswith(b"340")
        stuffed = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n"
                           for line in article.split(b"\r\n")[:-1])
        s.sendall(stuffed + b".\r\nQUIT\r\n")
        return f.readline()


def read_over_imap(sim, message_id: str) -> bytes:
    """The message with this Message-ID in the public folder, as IMAP serves it (public namespace)."""
    imap = imaplib.IMAP4(*sim.address("imap"))
    try:
        imap.login("alice", "alice-pw")
        typ, _ = imap.select('"Public Folders/Wireproof Test"', readonly=True)
        assert typ == "OK"
        _, found = imap.uid("SEARCH", "HEADER", "Message-ID", message_id)
        uids = found[0].split()
        assert len(uids) == 1, f"IMAP finds {len(uids)} messages with {message_id}"
        _, fetched = imap.uid("FETCH", uids[0], "(BODY.PEEK[])")
        return fetched[0][1]
    finally:
        imap.logout()


def read_over_webdav(sim, message_id: str) -> bytes:
    """The same item as WebDAV serves it: found by its Message-ID with an Exchange SEARCH of the public folder,
    then fetched by its URL with Translate: f (the raw RFC 822 message)."""
    folder = "/public/Wireproof%20Test/"
    sql = ('<?xml version="1.0"?><D:searchrequest xmlns:D="DAV:"><D:sql>SELECT "DAV:href" FROM SCOPE(\'shallow '
           f'traversal of "{folder}"\') WHERE "urn:schemas:mailheader:message-id" = '
           f"'{message_id.replace('<', '&lt;').replace('>', '&gt;')}'</D:sql></D:searchrequest>").encode()
    auth = {"Authorization": "Basic " + base64.b64encode(b"alice:alice-pw").decode()}
    conn = http.client.HTTPConnection(*sim.address("http"), timeout=5)
    try:
        conn.request("SEARCH", folder, sql, {**auth, "Content-Type": "application/xml"})
        found = conn.getresponse()
        hrefs = [r.findtext("{DAV:}href") for r in ET.fromstring(found.read()).iter("{DAV:}response")]
        assert found.status == 207 and len(hrefs) == 1, f"WebDAV finds {hrefs} for {message_id}"
        conn.request("GET", hrefs[0], headers={**auth, "Translate": "f"})
        got = conn.getresponse()
        assert got.status == 200
        return got.read()
    finally:
        conn.close()


# Every other protocol view of the store that can read a public folder's item.
READERS = {"imap": read_over_imap, "webdav": read_over_webdav}


def test_an_article_posted_over_nntp_is_the_same_message_over_imap_and_webdav(sim):
    message_id = "<cross-protocol.1@example.org>"
    article = (b"From: poster@example.org\r\nSubject: one item, every view\r\nNewsgroups: wireproof.test\r\n"
               b"Message-ID: " + message_id.encode() + b"\r\n\r\n.a line that was dot-stuffed\r\nlast line\r\n")
    assert post_raw(sim, article).startswith(b"240")
    seen = {protocol: read(sim, message_id) for protocol, read in READERS.items()}
    assert seen["imap"] == seen["webdav"], "one item, the same octets over both protocols"
    for message in seen.values():
        assert message.endswith(b"\r\n\r\n.a line that was dot-stuffed\r\nlast line\r\n")  # the body, exactly
        for line in (b"Subject: one item, every view", b"Message-ID: " + message_id.encode(),
                     b"Newsgroups: wireproof.test"):
            assert line in message.split(b"\r\n")
        assert any(line.startswith(b"Path: ") for line in message.split(b"\r\n"))  # what the NNTP server added


def test_a_message_appended_over_imap_is_the_next_article_number(sim):
    news = nntplib.NNTP(*sim.address("nntp"))
    news.post(ARTICLE % (b"number one", b"first"))
    imap = imaplib.IMAP4(*sim.address("imap"))
    imap.login("alice", "alice-pw")
    assert imap.append('"Public Folders/Wireproof Test"', None, None,
                       b"From: a@b.c\r\nSubject: number two\r\nMessage-ID: <two@example.org>\r\n\r\nvia IMAP\r\n")[0] == "OK"
    imap.logout()
    _, count, first, last, _ = news.group("wireproof.test")
    assert (count, first, last) == (2, 1, 2)
    assert news.stat("<two@example.org>")[1] == 0  # by message-id the number is 0 and the pointer stays
    assert news.next()[1] == 2
    news.quit()


def test_posting_without_required_headers_is_refused_with_441(sim):
    with socket.create_connection(sim.address("nntp"), timeout=5) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"200")
        s.sendall(b"POST\r\n")
        assert f.readline().startswith(b"340")
        s.sendall(b"Subject: no from, no groups\r\n\r\nbody\r\n.\r\n")
        assert f.readline().startswith(b"441")
        s.sendall(b"GROUP no.such.group\r\nQUIT\r\n")
        assert f.readline().startswith(b"411")
        assert f.readline().startswith(b"205")


def test_the_profile_offers_the_directory_s_scratch_newsgroups_to_the_nntp_checks():
    from simulator.directory import Directory, PublicFolder

    with Simulator() as s:
        assert s.profile()["nntp"] == {"groups": ["wireproof.test"], "post": True}
    directory = Directory.standard()
    directory.add_public_folder(PublicFolder("Second Scratch", "more test posts", "wireproof.second", scratch=True))
    directory.add_public_folder(PublicFolder("Staff News", "not for tests", "wireproof.staff"))
    with Simulator(directory) as s:
        assert s.profile()["nntp"]["groups"] == ["wireproof.test", "wireproof.second"]
    with Simulator(Directory.minimal()) as s:  # no NNTP virtual server, no scratch group: no [nntp] section
        assert "nntp" not in s.profile()


def test_scratch_must_be_a_boolean_in_the_directory():
    from simulator.directory import PublicFolder

    with pytest.raises(ValueError) as err:
        PublicFolder("Scratch", newsgroup="wireproof.x", scratch="yes")
    assert "scratch" in str(err.value)
