"""The simulator's NNTP server on the wire: newsgroups are public folders, so an article posted over NNTP is
an item of its folder (IMAP sees it), and a message put into the folder another way is the next article."""
from __future__ import annotations

import imaplib
import socket
import warnings

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


def test_an_article_posted_over_nntp_is_a_message_imap_sees_in_the_public_folder(sim):
    news = nntplib.NNTP(*sim.address("nntp"))
    news.post(ARTICLE % (b"seen by imap", b"body"))
    news.quit()
    imap = imaplib.IMAP4(*sim.address("imap"))
    imap.login("alice", "alice-pw")
    typ, data = imap.select('"Public Folders/Wireproof Test"')
    assert typ == "OK" and data == [b"1"]
    _, fetched = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"Subject: seen by imap" in fetched[0][1]
    imap.logout()


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
