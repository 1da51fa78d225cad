"""One store, many views: what arrives over one protocol is read over another, by its URL.

(a) a message delivered over SMTP is fetched by its store URL over HTTP/WebDAV (GET with Translate: f returns
the delivered bytes; PROPFIND shows its httpmail:subject); (b) an article posted over NNTP to wireproof.test is
read over WebDAV under /public/ (tests/test_sim_nntp.py reads one post over IMAP and WebDAV in one test)."""
from __future__ import annotations

import base64
import http.client
import smtplib
import warnings
from xml.etree import ElementTree as ET

import pytest

from simulator import Simulator

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import nntplib  # deprecated in 3.11, gone in 3.13; an interop client here

D = "{DAV:}"
HM = "{urn:schemas:httpmail:}"
PROPS = (b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:m="urn:schemas:httpmail:"><D:prop>'
         b"<m:subject/><D:contentclass/><D:getcontentlength/></D:prop></D:propfind>")


@pytest.fixture(scope="module")
def sim():
    with Simulator() as s:
        yield s


def request(sim, method, url, body=None, headers=None, user="alice", password="alice-pw"):
    conn = http.client.HTTPConnection(*sim.address("http"), timeout=10)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    conn.request(method, url, body=body, headers={"Authorization": f"Basic {auth}", **(headers or {})})
    response = conn.getresponse()
    response.data = response.read()
    conn.close()
    return response


def members(sim, folder, **login):
    """href -> (subject, content class, length) of the items in a folder, by PROPFIND Depth 1."""
    r = request(sim, "PROPFIND", folder, PROPS, {"Depth": "1", "Content-Type": "application/xml"}, **login)
    assert r.status == 207
    out = {}
    for resp in ET.fromstring(r.data).iter(D + "response"):
        prop = resp.find(f"{D}propstat/{D}prop")
        if resp.findtext(D + "href") != folder:
            out[resp.findtext(D + "href")] = (prop.findtext(HM + "subject"), prop.findtext(D + "contentclass"),
                                              prop.findtext(D + "getcontentlength"))
    return out


def test_a_message_delivered_over_smtp_is_fetched_by_its_url_over_webdav(sim):
    message = (b"From: Carol <carol@example.org>\r\nTo: Bob <bob@wireproof.test>\r\nSubject: via SMTP, read by URL\r\n"
               b"Message-ID: <cross-smtp@example.org>\r\n\r\nHello over two protocols.\r\n")
    with smtplib.SMTP(*sim.address("smtp")) as smtp:
        smtp.sendmail("carol@example.org", ["bob@wireproof.test"], message)
    found = members(sim, "/exchange/bob/Inbox/", user="bob", password="bob-pw")
    [(url, (_subject, content_class, length))] = [(u, v) for u, v in found.items() if v[0] == "via SMTP, read by URL"]
    assert content_class == "urn:content-classes:message"
    delivered = sim.store_call(lambda st: st.body(url))  # the very bytes the store keeps for that URL
    r = request(sim, "GET", url, headers={"Translate": "f"}, user="bob", password="bob-pw")
    assert r.status == 200 and r.getheader("Content-Type").startswith("message/rfc822")
    assert r.data == bytes(delivered) and r.data.endswith(message) and r.data.startswith(b"Return-Path: ")
    assert int(length) == len(r.data)
    assert request(sim, "GET", url).status == 403  # alice may not read bob's mail


def test_an_article_posted_over_nntp_is_read_over_webdav_under_public(sim):
    article = (b"From: poster@example.org\r\nNewsgroups: wireproof.test\r\nSubject: posted over NNTP\r\n"
               b"Message-ID: <cross-nntp@example.org>\r\n\r\nRead me over WebDAV.\r\n")
    news = nntplib.NNTP(*sim.address("nntp"))
    assert news.post(article).startswith("240")
    news.quit()
    folder = "/public/Wireproof%20Test/"
    found = members(sim, folder, user="bob", password="bob-pw")
    [url] = [u for u, v in found.items() if v[0] == "posted over NNTP"]
    assert url.startswith(folder)
    r = request(sim, "GET", url, headers={"Translate": "f"}, user="bob", password="bob-pw")
    assert r.status == 200 and b"Message-ID: <cross-nntp@example.org>" in r.data
    assert r.data.endswith(b"\r\n\r\nRead me over WebDAV.\r\n")
    sql = ('<?xml version="1.0"?><D:searchrequest xmlns:D="DAV:"><D:sql>SELECT "urn:schemas:httpmail:subject" '
           f"FROM SCOPE('shallow traversal of \"{folder}\"') WHERE \"urn:schemas:mailheader:message-id\" = "
           "'&lt;cross-nntp@example.org&gt;'</D:sql></D:searchrequest>").encode()
    r = request(sim, "SEARCH", folder, sql, {"Content-Type": "application/xml"})
    hrefs = [e.findtext(D + "href") for e in ET.fromstring(r.data).iter(D + "response")]
    assert r.status == 207 and hrefs == [url]


def test_a_message_put_over_webdav_is_the_next_nntp_article(sim):
    news = nntplib.NNTP(*sim.address("nntp"))
    _, _, _, before, _ = news.group("wireproof.test")
    body = (b"From: alice@wireproof.test\r\nNewsgroups: wireproof.test\r\nSubject: put over WebDAV\r\n"
            b"Message-ID: <cross-dav@wireproof.test>\r\n\r\nfrom HTTP\r\n")
    r = request(sim, "PUT", "/public/Wireproof%20Test/from-dav.eml", body, {"Content-Type": "message/rfc822"})
    assert r.status == 201
    _, _, _, last, _ = news.group("wireproof.test")
    assert last == before + 1
    _, info = news.article(last)
    assert b"Subject: put over WebDAV" in info.lines
    news.quit()
