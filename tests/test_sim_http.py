"""The simulator's HTTP virtual server on the wire: WebDAV (RFC 4918 classes 1 and 2) over the store, Exchange's
extensions, Basic authentication, who may touch what, path escapes, and HTTP/1.1 connection handling."""
from __future__ import annotations

import base64
import http.client
import imaplib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from xml.etree import ElementTree as ET

import pytest

from simulator import Simulator
from simulator.directory import Directory, Limits, VirtualServer
from simulator.store import Store

D = "{DAV:}"
HM = "{urn:schemas:httpmail:}"
LOCKINFO = (b'<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            b'</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>tester</D:owner></D:lockinfo>')
MESSAGE = (b"From: Alice <alice@wireproof.test>\r\nTo: bob@wireproof.test\r\nSubject: over webdav\r\n"
           b"Message-ID: <dav-1@wireproof.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nHello Bob.\r\n")
WITH_ATTACHMENT = (b"From: alice@wireproof.test\r\nTo: alice@wireproof.test\r\nSubject: with a file\r\n"
                   b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
                   b"Content-Type: text/plain\r\n\r\nsee attached\r\n--XX\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Disposition: attachment; filename=\"notes.bin\"\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--XX--\r\n")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Client:
    """http.client with Basic credentials: one persistent connection."""

    def __init__(self, sim, user="alice", password="alice-pw"):
        self.host, self.port = sim.address("http")
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        self.auth = basic(user, password) if user else None

    def __call__(self, method, url, body=None, headers=None, auth=True):
        h = dict(headers or {})
        if auth and self.auth:
            h["Authorization"] = self.auth
        self.conn.request(method, url, body=body, headers=h)
        r = self.conn.getresponse()
        r.data = r.read()
        return r

    def xml(self, method, url, body, headers=None):
        r = self(method, url, body, {"Content-Type": "application/xml", **(headers or {})})
        r.tree = ET.fromstring(r.data) if r.data.strip().startswith(b"<") else None
        return r

    def propfind(self, url, props=None, depth="0"):
        inner = "<D:allprop/>" if props is None else "<D:prop>" + "".join(
            f'<x:{n} xmlns:x="{ns.strip("{}")}"/>' for ns, n in props) + "</D:prop>"
        return self.xml("PROPFIND", url, f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:">{inner}</D:propfind>'
                        .encode(), {"Depth": depth})


def responses(tree) -> dict[str, dict[int, dict[str, ET.Element]]]:
    """href -> {status: {property tag: element}} of a multistatus."""
    out = {}
    for resp in tree.iter(D + "response"):
        href = resp.findtext(D + "href")
        groups = out.setdefault(href, {})
        for ps in resp.findall(D + "propstat"):
            status = int(ps.findtext(D + "status").split()[1])
            groups.setdefault(status, {}).update({p.tag: p for p in ps.find(D + "prop")})
        if resp.findtext(D + "status"):
            groups.setdefault(int(resp.findtext(D + "status").split()[1]), {})
    return out


@pytest.fixture(scope="module")
def sim():
    with Simulator() as s:
        yield s


@pytest.fixture
def dav(sim):
    client = Client(sim)
    yield client
    client.conn.close()


@pytest.fixture
def col(dav, request):
    """A scratch folder in alice's mailbox for one test."""
    url = f"/exchange/alice/t-{request.node.name[:40]}/"
    assert dav("MKCOL", url).status == 201
    yield url
    dav("DELETE", url)


def raw(sim, data: bytes, *, until_close=True, timeout=5.0) -> bytes:
    with socket.create_connection(sim.address("http"), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if not until_close and b"\r\n\r\n" in b"".join(chunks):
                    break
        except TimeoutError:
            pass
        return b"".join(chunks)


AUTH = basic("alice", "alice-pw").encode()

# --- OPTIONS, authentication, access ---------------------------------------------------------------------------


def test_options_advertises_dav_classes_1_and_2_the_methods_and_sql_search(dav):
    r = dav("OPTIONS", "/exchange/alice/")
    assert r.status == 200
    assert [c.strip() for c in r.getheader("DAV").split(",")] == ["1", "2"]
    allow = {m.strip() for m in r.getheader("Allow").split(",")}
    assert {"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "BPROPFIND",
            "BPROPPATCH", "BCOPY", "BMOVE", "BDELETE", "X-MS-ENUMATTS"} <= allow
    assert r.getheader("DASL") == "<DAV:sql>"


def test_requests_without_or_with_wrong_credentials_get_401_with_a_basic_challenge(sim):
    c = Client(sim, user=None)
    r = c("PROPFIND", "/exchange/alice/", headers={"Depth": "0"})
    assert r.status == 401 and r.getheader("WWW-Authenticate").startswith("Basic realm=")
    r = c("GET", "/exchange/alice/", headers={"Authorization": basic("alice", "wrong")})
    assert r.status == 401
    r = c("GET", "/exchange/alice/", headers={"Authorization": "Basic !!notbase64"})
    assert r.status == 401
    r = c("GET", "/exchange/alice/", headers={"Authorization": basic("alice@wireproof.test", "alice-pw")})
    assert r.status == 200  # an address names the user too
    assert c("GET", "/exchange/alice/", headers={"Authorization": basic("WIREPROOF\\alice", "alice-pw")}).status == 200


def test_a_user_touches_only_their_own_mailbox_and_the_public_folders(sim, dav):
    assert dav("PROPFIND", "/exchange/bob/", headers={"Depth": "0"}).status == 403
    assert dav("PUT", "/exchange/bob/Inbox/x.eml", MESSAGE).status == 403
    assert dav("GET", "/exchange/bob/Inbox/").status == 403
    assert dav.propfind("/public/", depth="1").status == 207
    assert dav("PUT", "/public/Announcements/note.txt", b"for all", {"Content-Type": "text/plain"}).status == 201
    bob = Client(sim, "bob", "bob-pw")
    assert bob("GET", "/public/Announcements/note.txt").data == b"for all"
    assert bob("DELETE", "/public/Announcements/note.txt").status == 204
    listing = responses(dav.propfind("/exchange/", depth="1").tree)
    assert set(listing) == {"/exchange/", "/exchange/alice/"}  # the other mailboxes are not even listed


@pytest.mark.parametrize("path", [
    "/exchange/alice/%2e%2e/%2e%2e/etc/passwd", "/exchange/alice/../../etc/passwd", "/exchange/alice/%2E%2E/bob/",
    "/exchange/alice/..%2f..%2fetc%2fpasswd", "/exchange/alice/Inbox%5c..%5c..%5cbob", "/exchange\\..\\etc\\passwd",
    "/exchange/alice/a%00b", "/exchange/alice/./Inbox/", "/etc/passwd", "/../etc/passwd", "//etc/passwd",
    "/exchange//alice/", "/exchange/alice/%zz", "/exchange/alice/%c0%ae%c0%ae/", "/public/%2e%2e/exchange/bob/",
    "http://127.0.0.1/../../etc/passwd", "http://evil.example/exchange/bob/Inbox/", "etc/passwd", "*",
])
def test_no_path_outside_the_store_is_reachable(sim, path):
    reply = raw(sim, f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: ".encode() + AUTH + b"\r\n"
                b"Connection: close\r\n\r\n")
    status = int(reply.split(b" ", 2)[1])
    assert status in (400, 403, 404), reply[:200]
    assert b"root:" not in reply and b"Bob" not in reply


def test_percent_encoded_nul_and_raw_control_characters_are_refused(sim):
    for path in (b"/exchange/alice/%00", b"/exchange/alice/Inbox/%0d%0aX: y"):
        reply = raw(sim, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH + b"\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 400")
    reply = raw(sim, b"GET /exchange/alice/\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400") and b"Connection: close" in reply


# --- PROPFIND ---------------------------------------------------------------------------------------------------


def test_propfind_depth_0_1_and_infinity(dav, col):
    assert dav("MKCOL", col + "sub/").status == 201
    assert dav("PUT", col + "a.txt", b"aaa", {"Content-Type": "text/plain"}).status == 201
    assert dav("PUT", col + "sub/b.txt", b"bb").status == 201
    names = [(D, "displayname"), (D, "resourcetype")]
    assert set(responses(dav.propfind(col, names, "0").tree)) == {col}
    assert set(responses(dav.propfind(col, names, "1").tree)) == {col, col + "sub/", col + "a.txt"}
    assert set(responses(dav.propfind(col, names, "infinity").tree)) == {col, col + "sub/", col + "a.txt",
                                                                          col + "sub/b.txt"}
    got = responses(dav.propfind(col, names, "1").tree)
    assert got[col + "sub/"][200][D + "resourcetype"].find(D + "collection") is not None
    assert got[col + "a.txt"][200][D + "displayname"].text == "a.txt"
    assert dav.propfind(col, names, "2").status == 400


def test_propfind_unknown_properties_come_back_in_a_404_propstat(dav, col):
    dav("PUT", col + "a.txt", b"aaa", {"Content-Type": "text/plain"})
    r = dav.propfind(col + "a.txt", [(D, "getcontentlength"), ("urn:x-test:", "nothing")])
    got = responses(r.tree)[col + "a.txt"]
    assert got[200][D + "getcontentlength"].text == "3"
    assert "{urn:x-test:}nothing" in got[404]


def test_propfind_allprop_propname_and_an_empty_body(dav, col):
    dav("PUT", col + "a.txt", b"aaa", {"Content-Type": "text/plain"})
    r = dav.xml("PROPFIND", col + "a.txt", b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/>'
                b"</D:propfind>", {"Depth": "0"})
    got = responses(r.tree)[col + "a.txt"][200]
    assert D + "getetag" in got and not (got[D + "getetag"].text or "").strip()
    r = dav("PROPFIND", col + "a.txt", None, {"Depth": "0"})  # no body is allprop
    got = responses(ET.fromstring(r.data))[col + "a.txt"][200]
    assert got[D + "getcontenttype"].text == "text/plain" and got[D + "getcontentlength"].text == "3"
    assert dav.xml("PROPFIND", col, b"<not-xml", {"Depth": "0"}).status == 400
    assert dav.propfind(col + "missing/", [(D, "displayname")]).status == 404


def test_a_message_has_its_content_class_and_httpmail_and_mailheader_properties(dav, col):
    assert dav("PUT", col + "hello.eml", MESSAGE, {"Content-Type": "message/rfc822"}).status == 201
    props = [(D, "contentclass"), ("urn:schemas:httpmail:", "subject"), ("urn:schemas:mailheader:", "message-id"),
             ("urn:schemas:httpmail:", "read")]
    got = responses(dav.propfind(col + "hello.eml", props).tree)[col + "hello.eml"][200]
    assert got[D + "contentclass"].text == "urn:content-classes:message"
    assert got[HM + "subject"].text == "over webdav"
    assert got["{urn:schemas:mailheader:}message-id"].text == "<dav-1@wireproof.test>"
    assert got[HM + "read"].text == "0"


def test_folders_appointments_and_contacts_have_their_content_classes(dav):
    root = responses(dav.propfind("/exchange/alice/", [(D, "contentclass")], "1").tree)
    classes = {href: g[200][D + "contentclass"].text for href, g in root.items()}
    assert classes["/exchange/alice/Inbox/"] == "urn:content-classes:mailfolder"
    assert classes["/exchange/alice/Calendar/"] == "urn:content-classes:calendarfolder"
    assert classes["/exchange/alice/Contacts/"] == "urn:content-classes:contactfolder"
    ics = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Review\r\nLOCATION:Room 1\r\n"
           b"DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert dav("PUT", "/exchange/alice/Calendar/review.ics", ics, {"Content-Type": "text/calendar"}).status == 201
    vcf = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol Cook\r\nEMAIL:carol@example.org\r\nEND:VCARD\r\n"
    assert dav("PUT", "/exchange/alice/Contacts/carol.vcf", vcf, {"Content-Type": "text/vcard"}).status == 201
    cal = responses(dav.propfind("/exchange/alice/Calendar/review.ics",
                                 [(D, "contentclass"), ("urn:schemas:calendar:", "location"),
                                  ("urn:schemas:calendar:", "dtstart")]).tree)
    got = cal["/exchange/alice/Calendar/review.ics"][200]
    assert got[D + "contentclass"].text == "urn:content-classes:appointment"
    assert got["{urn:schemas:calendar:}location"].text == "Room 1"
    assert got["{urn:schemas:calendar:}dtstart"].text == "2026-12-01T10:00:00Z"
    card = responses(dav.propfind("/exchange/alice/Contacts/carol.vcf",
                                  [(D, "contentclass"), ("urn:schemas:contacts:", "email1")]).tree)
    got = card["/exchange/alice/Contacts/carol.vcf"][200]
    assert got[D + "contentclass"].text == "urn:content-classes:person"
    assert got["{urn:schemas:contacts:}email1"].text == "carol@example.org"
    dav("DELETE", "/exchange/alice/Calendar/review.ics")
    dav("DELETE", "/exchange/alice/Contacts/carol.vcf")


def test_the_mailbox_root_names_its_special_folders_and_the_submission_uri(dav):
    got = responses(dav.propfind("/exchange/alice/", [("urn:schemas:httpmail:", "inbox"),
                                                     ("urn:schemas:httpmail:", "sendmsg"),
                                                     ("urn:schemas:httpmail:", "sentitems")]).tree)
    props = got["/exchange/alice/"][200]
    assert props[HM + "inbox"].text == "/exchange/alice/Inbox/"
    assert props[HM + "sentitems"].text == "/exchange/alice/Sent%20Items/"
    assert props[HM + "sendmsg"].text.endswith("/exchange/alice/%23%23DavMailSubmissionURI%23%23/")


# --- PROPPATCH and dead properties --------------------------------------------------------------------------


def _proppatch(dav, url, sets="", removes=""):
    body = ('<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:z="urn:x-test:">'
            + (f"<D:set><D:prop>{sets}</D:prop></D:set>" if sets else "")
            + (f"<D:remove><D:prop>{removes}</D:prop></D:remove>" if removes else "")
            + "</D:propertyupdate>")
    return dav.xml("PROPPATCH", url, body.encode())


def test_dead_properties_are_set_read_back_with_their_markup_and_removed(dav, col):
    dav("PUT", col + "a.txt", b"a")
    r = _proppatch(dav, col + "a.txt", '<z:color>blue</z:color><z:rich xml:lang="en">a <b xmlns="urn:y">bold</b></z:rich>')
    assert r.status == 207 and 200 in responses(r.tree)[col + "a.txt"]
    got = responses(dav.propfind(col + "a.txt", [("urn:x-test:", "color"), ("urn:x-test:", "rich")]).tree)
    props = got[col + "a.txt"][200]
    assert props["{urn:x-test:}color"].text == "blue"
    assert props["{urn:x-test:}rich"].find("{urn:y}b").text == "bold"
    r = _proppatch(dav, col + "a.txt", removes="<z:color/>")
    assert 200 in responses(r.tree)[col + "a.txt"]
    got = responses(dav.propfind(col + "a.txt", [("urn:x-test:", "color")]).tree)
    assert "{urn:x-test:}color" in got[col + "a.txt"][404]


def test_proppatch_is_atomic_a_protected_property_fails_403_and_the_rest_424(dav, col):
    dav("PUT", col + "a.txt", b"a")
    r = _proppatch(dav, col + "a.txt", "<z:color>red</z:color><D:getetag>x</D:getetag>")
    got = responses(r.tree)[col + "a.txt"]
    assert D + "getetag" in got[403] and "{urn:x-test:}color" in got[424]
    errors = [ps.find(f"{D}error/{D}cannot-modify-protected-property") for ps in r.tree.iter(D + "propstat")
              if ps.findtext(D + "status").split()[1] == "403"]
    assert errors and errors[0] is not None  # the 403 names its precondition (RFC 4918 16)
    got = responses(dav.propfind(col + "a.txt", [("urn:x-test:", "color")]).tree)
    assert "{urn:x-test:}color" in got[col + "a.txt"][404]  # nothing was applied


def test_proppatch_of_httpmail_read_marks_the_message_seen_for_imap(sim, dav):
    r = dav("PUT", "/exchange/alice/Drafts/draft.eml", MESSAGE, {"Content-Type": "message/rfc822"})
    assert r.status == 201
    body = (b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:m="urn:schemas:httpmail:"><D:set><D:prop>'
            b"<m:read>1</m:read></D:prop></D:set></D:propertyupdate>")
    assert dav.xml("PROPPATCH", "/exchange/alice/Drafts/draft.eml", body).status == 207
    flags = sim.store_call(lambda st: st.item("/exchange/alice/Drafts/draft.eml").flags)
    assert "\\Seen" in flags
    assert dav("DELETE", "/exchange/alice/Drafts/draft.eml").status == 204


# --- MKCOL, GET, HEAD, PUT, DELETE ----------------------------------------------------------------------------


def test_mkcol_creates_refuses_existing_missing_parent_and_bodies(dav, col):
    assert dav("MKCOL", col + "new/").status == 201
    assert dav("MKCOL", col + "new/").status == 405
    assert dav("MKCOL", col + "no/such/").status == 409
    assert dav("MKCOL", col + "typed/", b"hello", {"Content-Type": "text/plain"}).status == 415
    body = (b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:contentclass>'
            b"urn:content-classes:calendarfolder</D:contentclass></D:prop></D:set></D:propertyupdate>")
    assert dav("MKCOL", col + "cal/", body, {"Content-Type": "text/xml"}).status == 201
    got = responses(dav.propfind(col + "cal/", [(D, "contentclass")]).tree)
    assert got[col + "cal/"][200][D + "contentclass"].text == "urn:content-classes:calendarfolder"
    assert dav("MKCOL", "/exchange/newuser/").status == 403
    assert dav("MKCOL", "/exchange/alice/").status in (403, 405)


def test_put_get_head_delete_with_etags(dav, col):
    r = dav("PUT", col + "doc.txt", b"first", {"Content-Type": "text/plain"})
    assert r.status == 201 and r.getheader("ETag")
    r = dav("GET", col + "doc.txt")
    assert (r.status, r.data, r.getheader("Content-Type")) == (200, b"first", "text/plain")
    etag = r.getheader("ETag")
    r = dav("HEAD", col + "doc.txt")
    assert r.status == 200 and r.data == b"" and r.getheader("Content-Length") == "5"
    assert dav("GET", col + "doc.txt", headers={"If-None-Match": etag}).status == 304
    assert dav("PUT", col + "doc.txt", b"second", {"If-Match": '"nope"'}).status == 412
    r = dav("PUT", col + "doc.txt", b"second", {"If-Match": etag, "Content-Type": "text/plain"})
    assert r.status == 204 and r.getheader("ETag") != etag
    assert dav("GET", col + "doc.txt").data == b"second"
    assert dav("PUT", col + "nope/doc.txt", b"x").status == 409
    assert dav("PUT", col, b"x").status == 405
    assert dav("DELETE", col + "doc.txt").status == 204
    assert dav("GET", col + "doc.txt").status == 404
    assert dav("DELETE", col + "doc.txt").status == 404


def test_delete_of_a_collection_removes_everything_below_and_roots_are_protected(dav, col):
    dav("MKCOL", col + "a/")
    dav("MKCOL", col + "a/b/")
    dav("PUT", col + "a/b/c.txt", b"c")
    assert dav("DELETE", col + "a/").status == 204
    assert dav.propfind(col + "a/b/c.txt", [(D, "displayname")]).status == 404
    assert dav("DELETE", "/exchange/alice/Inbox/").status == 403
    assert dav("DELETE", "/exchange/alice/").status == 403
    assert dav("DELETE", "/public/").status == 403


def test_get_of_a_message_renders_it_and_translate_f_returns_the_raw_rfc822_bytes(dav, col):
    dav("PUT", col + "m.eml", MESSAGE, {"Content-Type": "message/rfc822"})
    r = dav("GET", col + "m.eml", headers={"Translate": "f"})
    assert r.status == 200 and r.data == MESSAGE and r.getheader("Content-Type").startswith("message/rfc822")
    r = dav("GET", col + "m.eml")
    assert r.getheader("Content-Type").startswith("text/html") and b"over webdav" in r.data


# --- COPY and MOVE ---------------------------------------------------------------------------------------


def test_copy_and_move_with_overwrite_and_destination_rules(sim, dav, col):
    host = f"http://{dav.host}:{dav.port}"
    dav("PUT", col + "a.txt", b"A")
    dav("PUT", col + "b.txt", b"B")
    r = dav("COPY", col + "a.txt", headers={"Destination": host + col + "c.txt"})
    assert r.status == 201 and dav("GET", col + "c.txt").data == b"A"
    assert dav("COPY", col + "a.txt", headers={"Destination": col + "b.txt", "Overwrite": "F"}).status == 412
    assert dav("COPY", col + "a.txt", headers={"Destination": col + "b.txt", "Overwrite": "T"}).status == 204
    assert dav("GET", col + "b.txt").data == b"A"
    assert dav("COPY", col + "a.txt", headers={"Destination": "http://elsewhere.example/x.txt"}).status == 502
    assert dav("COPY", col + "a.txt", headers={"Destination": col + "none/x.txt"}).status == 409
    assert dav("COPY", col + "a.txt", headers={"Destination": col + "a.txt"}).status == 403
    assert dav("COPY", col + "a.txt").status == 400  # no Destination
    assert dav("COPY", col + "a.txt", headers={"Destination": "/exchange/bob/Inbox/a.txt"}).status == 403
    r = dav("MOVE", col + "c.txt", headers={"Destination": col + "d.txt"})
    assert r.status == 201 and dav("GET", col + "c.txt").status == 404 and dav("GET", col + "d.txt").data == b"A"


def test_copy_of_a_collection_depth_0_and_infinity_and_move_of_a_collection(dav, col):
    dav("MKCOL", col + "src/")
    dav("MKCOL", col + "src/inner/")
    dav("PUT", col + "src/inner/x.txt", b"x")
    dav("PUT", col + "src/top.txt", b"t")
    assert dav("COPY", col + "src/", headers={"Destination": col + "deep/"}).status == 201
    assert dav("GET", col + "deep/top.txt").data == b"t"
    assert dav("GET", col + "deep/inner/x.txt").data == b"x"
    assert dav("COPY", col + "src/", headers={"Destination": col + "flat/", "Depth": "0"}).status == 201
    assert set(responses(dav.propfind(col + "flat/", [(D, "displayname")], "1").tree)) == {col + "flat/"}
    assert dav("MOVE", col + "src/", headers={"Destination": col + "moved/", "Depth": "0"}).status == 400
    assert dav("MOVE", col + "src/", headers={"Destination": col + "src/inner/loop/"}).status == 403
    assert dav("MOVE", col + "src/", headers={"Destination": col + "moved/"}).status == 201
    assert dav("GET", col + "moved/inner/x.txt").data == b"x"
    assert dav.propfind(col + "src/", [(D, "displayname")]).status == 404


# --- LOCK and UNLOCK -------------------------------------------------------------------------------------


def test_lock_blocks_other_writers_until_the_token_is_submitted_and_unlock(sim, dav, col):
    dav("PUT", col + "l.txt", b"v1")
    r = dav.xml("LOCK", col + "l.txt", LOCKINFO, {"Timeout": "Second-600"})
    assert r.status == 200
    token = r.getheader("Lock-Token").strip("<>")
    active = r.tree.find(f"{D}lockdiscovery/{D}activelock")
    assert active.findtext(f"{D}locktoken/{D}href") == token and active.findtext(D + "timeout") == "Second-600"
    assert dav("PUT", col + "l.txt", b"v2").status == 423
    assert dav("DELETE", col + "l.txt").status == 423
    assert dav("PUT", col + "l.txt", b"v2", {"If": f"(<{token}>)"}).status == 204
    assert dav("PUT", col + "l.txt", b"v3", {"If": "(<opaquelocktoken:not-mine>)"}).status == 412
    got = responses(dav.propfind(col + "l.txt", [(D, "lockdiscovery"), (D, "supportedlock")]).tree)[col + "l.txt"][200]
    assert got[D + "lockdiscovery"].findtext(f"{D}activelock/{D}locktoken/{D}href") == token
    scopes = {e.tag for e in got[D + "supportedlock"].iter() if e.tag in (D + "exclusive", D + "shared")}
    assert scopes == {D + "exclusive", D + "shared"}
    assert dav.xml("LOCK", col + "l.txt", LOCKINFO).status == 423  # an exclusive lock conflicts
    bob = Client(sim, "bob", "bob-pw")
    assert bob("UNLOCK", col + "l.txt", headers={"Lock-Token": f"<{token}>"}).status == 403  # not bob's mailbox
    assert dav("UNLOCK", col + "l.txt", headers={"Lock-Token": "<opaquelocktoken:nope>"}).status == 409
    assert dav("UNLOCK", col + "l.txt", headers={"Lock-Token": f"<{token}>"}).status == 204
    assert dav("PUT", col + "l.txt", b"v4").status == 204


def test_lock_refresh_depth_infinity_on_a_collection_and_a_lock_null_resource(dav, col):
    r = dav.xml("LOCK", col, LOCKINFO, {"Depth": "infinity"})
    assert r.status == 200
    token = r.getheader("Lock-Token").strip("<>")
    assert dav("PUT", col + "new.txt", b"x").status == 423  # the collection's membership is locked
    assert dav("PUT", col + "new.txt", b"x", {"If": f"<{col}> (<{token}>)"}).status == 201
    r = dav("LOCK", col, headers={"If": f"(<{token}>)", "Timeout": "Second-30"})
    assert r.status == 200 and "Second-30" in r.data.decode()
    assert dav("UNLOCK", col, headers={"Lock-Token": f"<{token}>"}).status == 204
    r = dav.xml("LOCK", col + "empty.txt", LOCKINFO)
    assert r.status == 201  # locking an unmapped URL makes an empty resource
    token = r.getheader("Lock-Token").strip("<>")
    assert dav("GET", col + "empty.txt").data == b""
    assert dav("UNLOCK", col + "empty.txt", headers={"Lock-Token": f"<{token}>"}).status == 204


def test_a_malformed_if_header_is_400(dav, col):
    dav("PUT", col + "a.txt", b"a")
    assert dav("PUT", col + "a.txt", b"b", {"If": "(<unclosed"}).status == 400


# --- Exchange extensions -------------------------------------------------------------------------------------


def _search(dav, url, sql, headers=None):
    body = (f'<?xml version="1.0"?><D:searchrequest xmlns:D="DAV:"><D:sql>{sql}</D:sql></D:searchrequest>').encode()
    return dav.xml("SEARCH", url, body, headers)


def test_search_with_exchange_sql(dav, col):
    for n, subject in enumerate(["beta", "alpha", "gamma"]):
        msg = MESSAGE.replace(b"over webdav", subject.encode()).replace(b"dav-1", f"s{n}".encode())
        dav("PUT", col + f"{subject}.eml", msg, {"Content-Type": "message/rfc822"})
    dav("MKCOL", col + "sub/")
    sql = (f'SELECT "DAV:displayname", "urn:schemas:httpmail:subject" FROM SCOPE(\'shallow traversal of "{col}"\') '
           'WHERE "DAV:isfolder" = false AND "urn:schemas:httpmail:subject" &lt;&gt; \'gamma\' '
           'ORDER BY "urn:schemas:httpmail:subject" ASC')
    r = _search(dav, col, sql)
    assert r.status == 207
    subjects = [resp.findtext(f"{D}propstat/{D}prop/{HM}subject") for resp in r.tree.iter(D + "response")]
    assert subjects == ["alpha", "beta"]
    sql = f'SELECT "DAV:displayname" FROM SCOPE(\'deep traversal of "{col}"\') WHERE "DAV:isfolder" = true'
    assert set(responses(_search(dav, col, sql).tree)) == {col + "sub/"}
    r = _search(dav, col, f'SELECT "DAV:displayname" FROM SCOPE(\'shallow traversal of "{col}"\') '
                          'WHERE "urn:schemas:httpmail:subject" LIKE \'%amm%\'')
    assert set(responses(r.tree)) == {col + "gamma.eml"}
    sql = (f'SELECT "DAV:displayname" FROM SCOPE(\'shallow traversal of "{col}"\') WHERE "DAV:isfolder" = false '
           'ORDER BY "urn:schemas:httpmail:subject"')
    r = _search(dav, col, sql, {"Range": "rows=1-"})
    assert r.status == 207 and r.getheader("Content-Range") == "rows 1-2; total=3"
    assert list(responses(r.tree)) == [col + "beta.eml", col + "gamma.eml"]
    assert _search(dav, col, sql, {"Range": "rows=5-9"}).status == 416
    assert _search(dav, col, "SELEKT nonsense").status == 400
    bad = 'SELECT "DAV:displayname" FROM SCOPE(\'shallow traversal of "/exchange/bob/Inbox/"\')'
    assert _search(dav, col, bad).status == 403


def test_batch_methods_bpropfind_bproppatch_bcopy_bmove_bdelete(dav, col):
    for name in ("a.txt", "b.txt", "c.txt"):
        dav("PUT", col + name, name.encode())
    dav("MKCOL", col + "dest/")
    targets = "<D:target><D:href>a.txt</D:href><D:href>b.txt</D:href><D:href>missing.txt</D:href></D:target>"
    r = dav.xml("BPROPFIND", col, f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:">{targets}<D:prop>'
                                  f"<D:getcontentlength/></D:prop></D:propfind>".encode())
    got = responses(r.tree)
    assert got[col + "a.txt"][200][D + "getcontentlength"].text == "5" and 404 in got[col + "missing.txt"]
    r = dav.xml("BPROPPATCH", col, f'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:z="urn:x-test:">'
                                   f"{targets}<D:set><D:prop><z:tag>t</z:tag></D:prop></D:set></D:propertyupdate>"
                .encode())
    assert r.status == 207 and "{urn:x-test:}tag" in responses(r.tree)[col + "b.txt"][200]
    body = (b'<?xml version="1.0"?><D:copy xmlns:D="DAV:"><D:target><D:href>a.txt</D:href><D:href>b.txt</D:href>'
            b"</D:target></D:copy>")
    r = dav.xml("BCOPY", col, body, {"Destination": col + "dest/"})
    assert r.status == 207 and dav("GET", col + "dest/a.txt").data == b"a.txt"
    body = b'<?xml version="1.0"?><D:move xmlns:D="DAV:"><D:target><D:href>c.txt</D:href></D:target></D:move>'
    r = dav.xml("BMOVE", col, body, {"Destination": col + "dest/"})
    assert r.status == 207 and dav("GET", col + "c.txt").status == 404 and dav("GET", col + "dest/c.txt").data
    body = (b'<?xml version="1.0"?><D:delete xmlns:D="DAV:"><D:target><D:href>a.txt</D:href><D:href>b.txt</D:href>'
            b"</D:target></D:delete>")
    r = dav.xml("BDELETE", col, body)
    assert r.status == 207 and set(responses(r.tree)) == {col + "a.txt", col + "b.txt"}
    assert dav("GET", col + "a.txt").status == 404 and dav("GET", col + "dest/a.txt").status == 200


def test_x_ms_enumatts_lists_attachments_each_at_its_own_url(dav, col):
    dav("PUT", col + "att.eml", WITH_ATTACHMENT, {"Content-Type": "message/rfc822"})
    r = dav("X-MS-ENUMATTS", col + "att.eml")
    assert r.status == 207
    hrefs = list(responses(ET.fromstring(r.data)))
    assert hrefs == [col + "att.eml/notes.bin"]
    r = dav("GET", hrefs[0])
    assert r.status == 200 and r.data == b"\x00\x01\x02\x03"
    assert dav("X-MS-ENUMATTS", col).status == 404


def test_the_submission_uri_sends_the_message_through_the_transport(sim, dav):
    r = dav("PUT", "/exchange/alice/##DavMailSubmissionURI##/", MESSAGE.replace(b"dav-1", b"sub-1"),
            {"Content-Type": "message/rfc822"})
    assert r.status == 201
    bob = Client(sim, "bob", "bob-pw")
    sql = ('SELECT "urn:schemas:httpmail:subject" FROM SCOPE(\'shallow traversal of "/exchange/bob/Inbox/"\') '
           "WHERE \"urn:schemas:mailheader:message-id\" = '&lt;sub-1@wireproof.test&gt;'")
    found = responses(_search(bob, "/exchange/bob/Inbox/", sql).tree)
    assert len(found) == 1
    href = next(iter(found))
    raw_msg = bob("GET", href, headers={"Translate": "f"}).data
    assert raw_msg.startswith(b"Return-Path: <alice@wireproof.test>") and b"Received: " in raw_msg
    sent = sim.store_call(lambda st: [st.body(i.url) for i in st.items("/exchange/alice/Sent%20Items/")])
    assert any(b"sub-1@wireproof.test" in body for body in sent)
    assert dav("GET", "/exchange/alice/##DavMailSubmissionURI##/").status == 405
    assert dav("PUT", "/exchange/bob/##DavMailSubmissionURI##/", MESSAGE).status == 403
    assert dav("POST", "/exchange/alice/%23%23DavMailSubmissionURI%23%23/",
               b"From: a@wireproof.test\r\nSubject: none\r\n\r\nno recipients\r\n").status == 400


def test_unknown_methods_are_501_with_allow(dav):
    r = dav("PATCH", "/exchange/alice/")
    assert r.status == 501 and "PROPFIND" in r.getheader("Allow")
    assert dav("ACL", "/exchange/alice/").status == 501


# --- HTTP/1.1 connection handling -------------------------------------------------------------------------------


def test_one_connection_serves_many_requests(dav):
    for _ in range(20):
        assert dav("PROPFIND", "/exchange/alice/Inbox/", headers={"Depth": "0"}).status == 207
    sock = dav.conn.sock
    assert dav("OPTIONS", "/").status == 200 and dav.conn.sock is sock


def test_pipelined_requests_are_answered_in_order(sim):
    one = b"OPTIONS /exchange/alice/ HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH + b"\r\n\r\n"
    last = b"GET /nothing HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH + b"\r\nConnection: close\r\n\r\n"
    reply = raw(sim, one * 3 + last)
    assert reply.count(b"HTTP/1.1 200 OK") == 3 and reply.count(b"HTTP/1.1 404") == 1
    assert reply.index(b"404") > reply.rindex(b"200 OK")


def test_expect_100_continue_and_chunked_request_bodies(sim):
    with socket.create_connection(sim.address("http"), timeout=5) as s:
        s.sendall(b"PUT /exchange/alice/Drafts/chunked.txt HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH + b"\r\n"
                  b"Expect: 100-continue\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        reply = s.recv(1000)
        assert reply.startswith(b"HTTP/1.1 201 Created")
        s.sendall(b"GET /exchange/alice/Drafts/chunked.txt HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH + b"\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(1000):
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"\r\n\r\nhello world")
        s.close()
    c = Client(sim)
    assert c("DELETE", "/exchange/alice/Drafts/chunked.txt").status == 204


def test_a_401_to_expect_100_continue_is_sent_without_reading_the_body(sim):
    reply = raw(sim, b"PUT /exchange/alice/Drafts/x.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                     b"Expect: 100-continue\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 401") and b"100 Continue" not in reply and b"Connection: close" in reply


def test_malformed_requests_get_400_and_the_connection_closes(sim):
    for junk in (b"this is not http\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"):
        reply = raw(sim, junk)
        assert reply.startswith(b"HTTP/1.1 400") and b"Connection: close" in reply, reply[:100]


def test_http_1_0_without_keep_alive_is_closed_after_the_response(sim):
    reply = raw(sim, b"OPTIONS /exchange/alice/ HTTP/1.0\r\nAuthorization: " + AUTH + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200")


@pytest.fixture
def small_sim():
    d = Directory.minimal()
    d.add_virtual_server(VirtualServer("http-1", "http", tls="none", auth_methods=["BASIC"],
                                       limits=Limits(message_size=65536, idle_timeout=1.0)))
    with Simulator(d) as s:
        yield s


def test_bodies_over_the_limit_get_413(small_sim):
    big = b"x" * 70000
    reply = raw(small_sim, b"PUT /exchange/alice/Drafts/big.txt HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH +
                f"\r\nContent-Length: {len(big)}\r\n\r\n".encode() + big)
    assert reply.startswith(b"HTTP/1.1 413")
    chunked = b"".join(b"%x\r\n%s\r\n" % (10000, b"y" * 10000) for _ in range(7)) + b"0\r\n\r\n"
    reply = raw(small_sim, b"PUT /exchange/alice/Drafts/big.txt HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH +
                b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    assert reply.startswith(b"HTTP/1.1 413")
    c = Client(small_sim)
    assert c("GET", "/exchange/alice/Drafts/big.txt").status == 404


def test_an_idle_connection_is_closed(small_sim):
    with socket.create_connection(small_sim.address("http"), timeout=5) as s:
        t0 = time.monotonic()
        assert s.recv(10) == b""
        assert time.monotonic() - t0 < 4


def test_a_webdav_put_into_the_inbox_is_seen_by_an_idle_imap_session(sim, dav):
    imap = imaplib.IMAP4(*sim.address("imap"))
    imap.login("alice", "alice-pw")
    _, data = imap.select("INBOX")
    before = int(data[0])
    tag = imap._new_tag().decode()
    imap.send(f"{tag} IDLE\r\n".encode())
    assert imap.readline().startswith(b"+")
    assert dav("PUT", "/exchange/alice/Inbox/idle.eml", MESSAGE.replace(b"dav-1", b"idle-1"),
               {"Content-Type": "message/rfc822"}).status == 201
    imap.sock.settimeout(5)
    assert imap.readline().strip() == f"* {before + 1} EXISTS".encode()
    imap.send(b"DONE\r\n")
    while not imap.readline().startswith(tag.encode()):
        pass
    imap.logout()
    assert dav("DELETE", "/exchange/alice/Inbox/idle.eml").status == 204


def test_a_413_reaches_a_client_still_sending_its_large_body(small_sim):
    with socket.create_connection(small_sim.address("http"), timeout=10) as s:
        s.sendall(b"PUT /exchange/alice/Drafts/huge.bin HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH +
                  b"\r\nContent-Length: 1048576\r\n\r\n")
        s.sendall(b"z" * 1048576)  # the server drains what it will not store, so this does not block or reset
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413") and b"Connection: close" in reply


def test_a_request_sent_one_byte_at_a_time_is_understood(sim):
    body = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>'
    request = (b"PROPFIND /exchange/alice/Inbox/ HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH + b"\r\nDepth: 0\r\n"
               b"Content-Type: application/xml\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
               b"Connection: close\r\n\r\n" + body)
    with socket.create_connection(sim.address("http"), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(request)):
            s.send(request[i:i + 1])
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 207") and b"<D:displayname>Inbox</D:displayname>" in reply


def test_displayname_can_be_set_and_removed_while_the_url_keeps_its_name(dav, col):
    dav("PUT", col + "a.txt", b"a")
    r = _proppatch(dav, col + "a.txt", "<D:displayname>Résumé 1</D:displayname>")
    assert D + "displayname" in responses(r.tree)[col + "a.txt"][200]
    got = responses(dav.propfind(col + "a.txt", [(D, "displayname")]).tree)
    assert got[col + "a.txt"][200][D + "displayname"].text == "Résumé 1"
    _proppatch(dav, col + "a.txt", removes="<D:displayname/>")
    got = responses(dav.propfind(col + "a.txt", [(D, "displayname")]).tree)
    assert got[col + "a.txt"][200][D + "displayname"].text == "a.txt"
    r = _proppatch(dav, col + "a.txt", '<D:displayname><z:b xmlns:z="urn:z">x</z:b></D:displayname>')
    assert D + "displayname" in responses(r.tree)[col + "a.txt"][409]


def test_extended_mkcol_sets_properties_of_the_new_folder(dav, col):
    body = (b'<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:z="urn:x-test:"><D:set><D:prop>'
            b"<D:resourcetype><D:collection/></D:resourcetype><D:displayname>Shown</D:displayname>"
            b"<z:color>green</z:color></D:prop></D:set></D:mkcol>")
    assert dav("MKCOL", col + "ext/", body, {"Content-Type": "application/xml"}).status == 201
    got = responses(dav.propfind(col + "ext/", [(D, "displayname"), ("urn:x-test:", "color")]).tree)
    props = got[col + "ext/"][200]
    assert props[D + "displayname"].text == "Shown" and props["{urn:x-test:}color"].text == "green"
    bad = body.replace(b"<D:collection/>", b"<D:principal/>")
    assert dav("MKCOL", col + "bad/", bad, {"Content-Type": "application/xml"}).status == 403


def test_a_request_left_half_sent_gets_408_when_the_connection_times_out(small_sim):
    with socket.create_connection(small_sim.address("http"), timeout=5) as s:
        s.sendall(b"PUT /exchange/alice/Drafts/slow.txt HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH +
                  b"\r\nContent-Length: 10\r\n\r\nabc")
        reply = b""
        while chunk := s.recv(1000):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 408") and b"Connection: close" in reply
    with socket.create_connection(small_sim.address("http"), timeout=5) as s:
        s.sendall(b"GET /exchange/alice/ HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        assert s.recv(1000).startswith(b"HTTP/1.1 408")


def test_locks_hold_across_http_virtual_servers_of_one_simulator(sim, dav, col):
    sim.change_directory(lambda d: d.add_virtual_server(VirtualServer("http-2", "http", tls="none",
                                                                      auth_methods=["BASIC"])))
    sim.replicate_now()
    try:
        other = http.client.HTTPConnection(*sim.hosts["http-2"].endpoint, timeout=10)
        dav("PUT", col + "shared.txt", b"1")
        token = dav.xml("LOCK", col + "shared.txt", LOCKINFO).getheader("Lock-Token")
        other.request("PUT", col + "shared.txt", body=b"2", headers={"Authorization": dav.auth})
        response = other.getresponse()
        response.read()
        assert response.status == 423
        other.close()
        assert dav("UNLOCK", col + "shared.txt", headers={"Lock-Token": token}).status == 204
    finally:
        sim.change_directory(lambda d: d.remove_virtual_server("http-2"))
        sim.replicate_now()


def test_every_put_answered_201_survives_kill_9(tmp_path):
    data, profile = tmp_path / "data", tmp_path / "profile.toml"
    child = subprocess.Popen([sys.executable, "-m", "conformance.cli", "serve", "--data", str(data),
                              "--profile-out", str(profile)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    acked: list[str] = []
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 20
        while not profile.exists() or not profile.read_text():
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.02)
        url = tomllib.loads(profile.read_text())["endpoints"]["webdav"]
        host, port = url.split("//")[1].split("/")[0].rsplit(":", 1)

        def load(worker: int) -> None:
            conn = http.client.HTTPConnection(host, int(port), timeout=5)
            n = 0
            while not stop.is_set():
                name = f"w{worker}-n{n}.txt"
                n += 1
                try:
                    conn.request("PUT", f"/exchange/alice/Drafts/{name}", body=name.encode(),
                                 headers={"Authorization": basic("alice", "alice-pw")})
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    return  # the server died under us; only acknowledged PUTs count
                if response.status == 201:
                    acked.append(name)

        threads = [threading.Thread(target=load, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)  # in the middle of the load
        child.wait(10)
    finally:
        stop.set()
        if child.poll() is None:
            child.kill()
    assert len(acked) >= 60, f"only {len(acked)} PUTs acknowledged before the kill"
    store = Store(str(data / "store.sqlite"))
    try:
        stored = {bytes(store.body(i.url)).decode() for i in store.items("/exchange/alice/Drafts/")}
    finally:
        store.close()
    lost = [name for name in acked if name not in stored]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged PUTs lost: {lost[:5]}"
