"""The HTTP reader, the WebDAV body reader and writers, and the HTTP script dialect, against fake servers.

Every reader case is run twice: with the server's octets in one write and one byte at a time. The reader is
lenient: a malformed response is read as far as it sensibly can be and what was wrong is listed in
`Response.problems`; only a connection that breaks or stays silent raises (a WireError, naming what was
missing). The multistatus reader raises XmlError, with the reason, for bodies that are not XML, have the
wrong root, or declare entities.
"""
from __future__ import annotations

import asyncio

import pytest
from fakes import FakeServer, Raw

from conformance.context import Capabilities, RunOptions
from conformance.dialects.http import (HttpClient, XmlError, basic_credentials, error_conditions, host_field,
                                       lock_token, parse_multistatus, parse_status_line, path_join, propfind_body,
                                       proppatch_body, read_response, request_bytes)
from conformance.dialects.http_script import RequestTracker, response_unit
from conformance.model import Verdict
from conformance.registry import _script_checks
from conformance.runner import execute
from conformance.target import from_urls
from conformance.wire.session import ConnectionClosed, ReadTimeout, Session, WireError
from conformance.wire.transcript import Transcript

BOTH = pytest.mark.parametrize("byte_at_a_time", [False, True], ids=["one-write", "byte-at-a-time"])


def read(data: bytes, byte_at_a_time: bool = False, methods=("GET",), then: str = "hold", **kw):
    """The responses read from a server that sends `data`, one per method in `methods`."""

    async def go():
        with FakeServer(Raw(data, byte_at_a_time=byte_at_a_time, then=then)) as server:
            wire = await Session.open(server.host, server.port, transcript=Transcript(), read_timeout=2.0)
            try:
                return [await read_response(wire, m, **kw) for m in methods]
            finally:
                await wire.close()
    return asyncio.run(go())


# --- status line and header section -------------------------------------------------------------------------

@BOTH
def test_content_length_body_and_the_next_response_after_it(byte_at_a_time):
    data = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nETag: \"a\"\r\n\r\nhello"
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    first, second = read(data, byte_at_a_time, methods=("GET", "GET"))
    assert (first.version, first.status, first.reason) == ("HTTP/1.1", 200, "OK")
    assert first.body == b"hello" and first.header("etag") == '"a"' and not first.problems and not first.closes
    assert second.status == 404 and second.body == b""


@BOTH
def test_chunked_body_with_extensions_and_trailers(byte_at_a_time):
    data = (b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: yes\r\n\r\n"
            b"HTTP/1.1 204 No Content\r\n\r\n")
    first, second = read(data, byte_at_a_time, methods=("PROPFIND", "DELETE"))
    assert first.chunked and first.body == b"hello, world!!!" and first.header("X-Trailer") == "yes"
    assert not first.problems
    assert second.status == 204 and second.body == b""


@BOTH
def test_head_and_204_and_304_have_no_body(byte_at_a_time):
    data = (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
            b"HTTP/1.1 204 No Content\r\n\r\n"
            b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    head, no_content, not_modified, last = read(data, byte_at_a_time, methods=("HEAD", "DELETE", "GET", "GET"))
    assert head.status == 200 and head.body == b"" and head.header("Content-Length") == "1000"
    assert no_content.body == b"" and not_modified.body == b"" and last.body == b"ok"


@BOTH
def test_interim_100_continue_is_kept_before_the_final_response(byte_at_a_time):
    (r,) = read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", byte_at_a_time,
                methods=("PUT",))
    assert r.status == 201 and [i.status for i in r.interim] == [100]


@BOTH
def test_body_to_the_close_of_the_connection(byte_at_a_time):
    (r,) = read(b"HTTP/1.0 200 OK\r\n\r\nall of it", byte_at_a_time, then="close")
    assert r.body == b"all of it" and r.closes


def test_connection_close_and_http_1_0_end_the_connection():
    a, = read(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    b, = read(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    c, = read(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
    assert a.closes and b.closes and not c.closes


def test_malformed_responses_are_read_with_their_problems_listed():
    (bare_lf,) = read(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok")
    assert bare_lf.body == b"ok" and any("bare LF" in p for p in bare_lf.problems)
    (folded,) = read(b"HTTP/1.1 200 OK\r\nX-Long: one\r\n two\r\nContent-Length: 0\r\n\r\n")
    assert folded.header("X-Long") == "one two" and any("folding" in p for p in folded.problems)
    (space,) = read(b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n")
    assert any("field name" in p for p in space.problems)
    (both,) = read(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
    assert both.body == b"ok" and any("both Transfer-Encoding and Content-Length" in p for p in both.problems)
    (differing,) = read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")
    assert differing.closes and any("unusable Content-Length" in p for p in differing.problems)
    (bad_chunk,) = read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert bad_chunk.closes and any("chunk-size" in p for p in bad_chunk.problems)
    (no_content,) = read(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", methods=("DELETE",))
    assert any("cannot have" in p for p in no_content.problems)


def test_a_line_that_is_not_a_status_line():
    (r,) = read(b"220 smtp.example ESMTP\r\n\r\n")
    assert r.status == 0 and r.closes and any("not an HTTP status line" in p for p in r.problems)
    assert r.status_line == "220 smtp.example ESMTP"
    assert parse_status_line(b"HTTP/1.1 207 Multi-Status\r\n")[:3] == ("HTTP/1.1", 207, "Multi-Status")
    assert parse_status_line(b"HTTP/1.1 200\r\n")[1:3] == (200, "")


def test_a_body_cut_short_raises_a_clear_error():
    with pytest.raises(ConnectionClosed) as info:
        read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", then="close")
    assert isinstance(info.value, WireError) and info.value.partial == b"short"


def test_a_body_that_never_comes_times_out():
    with pytest.raises(ReadTimeout):
        async def go():
            with FakeServer(Raw(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 50\r\n\r\n")) as server:
                wire = await Session.open(server.host, server.port, transcript=Transcript(), read_timeout=0.3)
                try:
                    await read_response(wire, "GET")
                finally:
                    await wire.close()
        asyncio.run(go())


def test_body_for_stops_after_the_header_section():
    (r,) = read(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 50\r\n\r\n", body_for=lambda status: status < 400)
    assert r.status == 400 and r.body == b"" and r.closes


def test_repeated_and_list_fields():
    (r,) = read(b"HTTP/1.1 200 OK\r\nDAV: 1, 2\r\nDAV: <http://apache.org/dav/propset/fs/1>\r\n"
                b"Allow: GET,PROPFIND\r\nContent-Length: 0\r\n\r\n")
    assert r.tokens("DAV") == ["1", "2", "<http://apache.org/dav/propset/fs/1>"]
    assert r.header("dav") == "1, 2, <http://apache.org/dav/propset/fs/1>" and r.tokens("Allow") == ["GET", "PROPFIND"]


# --- writing requests ------------------------------------------------------------------------------------------

def test_request_bytes_adds_content_length_for_bodies_and_body_methods():
    assert request_bytes("PUT", "/a", [("Host", "h")], b"abc") == \
        b"PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
    assert b"Content-Length: 0" in request_bytes("MKCOL", "/c/", [("Host", "h")])
    assert b"Content-Length" not in request_bytes("GET", "/a", [("Host", "h")])
    chunked = request_bytes("PUT", "/a", [("Transfer-Encoding", "chunked")], content_length=False)
    assert b"Content-Length" not in chunked


def test_small_helpers():
    assert basic_credentials("alice", "pw") == "Basic YWxpY2U6cHc="
    assert host_field("127.0.0.1", 80) == "127.0.0.1" and host_field("::1", 8080) == "[::1]:8080"
    assert host_field("h", 443, tls=True) == "h"
    assert path_join("/dav/x/", "a b", "c/d") == "/dav/x/a%20b/c%2Fd"
    (r,) = read(b"HTTP/1.1 200 OK\r\nLock-Token: <urn:uuid:1>\r\nContent-Length: 0\r\n\r\n", methods=("LOCK",))
    assert lock_token(r) == "urn:uuid:1"


def test_bodies_are_well_formed_and_name_the_properties():
    from conformance.dialects.http import parse_xml

    root = parse_xml(propfind_body(["{DAV:}getetag", "{urn:x}colour"]))
    assert root.tag == "{DAV:}propfind" and [p.tag for p in root.find("{DAV:}prop")] == ["{DAV:}getetag",
                                                                                         "{urn:x}colour"]
    root = parse_xml(propfind_body(allprop=True, include=["{urn:x}colour"]))
    assert root.find("{DAV:}allprop") is not None and root.find("{DAV:}include/{urn:x}colour") is not None
    root = parse_xml(proppatch_body([("set", "{urn:x}a", "1 < 2"), ("remove", "{urn:x}b", None),
                                     ("set", "{urn:x}c", "<y:v xmlns:y='urn:y'>t</y:v>")]))
    ops = [el.tag for el in root]
    assert ops == ["{DAV:}set", "{DAV:}remove", "{DAV:}set"]
    assert root[0].find("{DAV:}prop/{urn:x}a").text == "1 < 2"
    assert root[2].find("{DAV:}prop/{urn:x}c/{urn:y}v").text == "t"


# --- multistatus -----------------------------------------------------------------------------------------------

MULTISTATUS = b"""<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:w="urn:w">
  <d:response>
    <d:href>http://h:1/dav/a%20b/</d:href>
    <d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype><d:getetag>"e1"</d:getetag></d:prop>
      <d:status>HTTP/1.1 200 OK</d:status></d:propstat>
    <d:propstat><d:prop><w:missing/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
  </d:response>
  <d:response>
    <d:href>/dav/a%20b/file.txt</d:href>
    <d:status>HTTP/1.1 423 Locked</d:status>
    <d:error><d:lock-token-submitted><d:href>/dav/a%20b/</d:href></d:lock-token-submitted></d:error>
  </d:response>
  <d:responsedescription>two</d:responsedescription>
</d:multistatus>"""


def test_multistatus_responses_propstats_and_errors():
    ms = parse_multistatus(MULTISTATUS)
    assert ms.description == "two" and not ms.problems and ms.paths() == ["/dav/a b/", "/dav/a b/file.txt"]
    folder = ms.find("/dav/a%20b")
    assert folder.is_collection and folder.value("DAV:getetag") == '"e1"'
    assert folder.prop_status("{urn:w}missing") == 404 and folder.prop("{urn:w}missing") is None
    assert folder.names() == {"{DAV:}resourcetype", "{DAV:}getetag"}
    file = ms.find("/dav/a b/file.txt")
    assert file.status == 423 and file.error == ["{DAV:}lock-token-submitted"] and not file.propstats


def test_multistatus_problems_are_listed():
    ms = parse_multistatus(b'<multistatus xmlns="DAV:"><response><href>/x</href></response>'
                           b'<response><propstat><prop/></propstat></response></multistatus>')
    assert any("neither a status nor a propstat" in p for p in ms.problems)
    assert any("without DAV:href" in p for p in ms.problems)
    assert any("without DAV:status" in p for p in ms.problems)


def test_bad_multistatus_bodies_raise_xml_error():
    with pytest.raises(XmlError, match="not well-formed"):
        parse_multistatus(b"<D:multistatus xmlns:D='DAV:'><D:response>")
    with pytest.raises(XmlError, match="root element"):
        parse_multistatus(b"<D:prop xmlns:D='DAV:'/>")
    with pytest.raises(XmlError, match="refused"):
        parse_multistatus(b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY big "x">]>'
                          b'<D:multistatus xmlns:D="DAV:">&big;</D:multistatus>')
    with pytest.raises(XmlError, match="refused"):
        parse_multistatus(b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                          b'<D:multistatus xmlns:D="DAV:">&e;</D:multistatus>')


def test_error_conditions():
    assert error_conditions(b'<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>') == [
        "{DAV:}propfind-finite-depth"]
    assert error_conditions(b"<html>nope</html>") == [] and error_conditions(b"not xml") == []


# --- the client ------------------------------------------------------------------------------------------------

def test_client_opens_a_new_connection_after_connection_close():
    """After a response with Connection: close, the next request goes on a new connection."""
    responses = [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
                 b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"]
    served = []

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        served.append(1)
        writer.write(responses[len(served) - 1])
        await writer.drain()
        if len(served) == 1:
            writer.close()
            return
        while await reader.read(65536):
            pass

    async def go():
        with FakeServer(handler) as server:
            transcript = Transcript()

            async def opener():
                return await Session.open(server.host, server.port, transcript=transcript, read_timeout=2.0)
            client = HttpClient(opener, host="h", authorization=basic_credentials("u", "p"))
            a = await client.request("GET", "/a")
            b = await client.request("GET", "/b")
            await client.close()
            return a, b, transcript
    a, b, transcript = asyncio.run(go())
    assert (a.body, b.body) == (b"a", b"b") and len(served) == 2
    sent = [e["text"] for e in transcript.events if e.get("dir") == "c"]
    assert all("Authorization: Basic dTpw" in s for s in sent)


# --- the script dialect ----------------------------------------------------------------------------------------

def test_request_tracker_follows_bodies_chunks_and_pipelining():
    t = RequestTracker()
    t.feed(b"PUT /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel")
    assert t.done == [] and t.next_answered() == ("PUT", "/a")  # the one being sent
    t = RequestTracker()
    t.feed(b"PUT /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
           b"PUT /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n")
    assert [t.next_answered() for _ in range(3)] == [("PUT", "/a"), ("PUT", "/b"), ("HEAD", "/c")]
    t = RequestTracker()
    for byte in b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n":  # fed one octet at a time
        t.feed(bytes([byte]))
    assert t.done == [("GET", "/x")]


def test_response_unit_has_the_status_line_as_head_and_fields_then_body_as_lines():
    (r,) = read(b"HTTP/1.1 207 Multi-Status\r\nDAV: 1\r\nContent-Length: 9\r\n\r\n<a>\n</a>\n", methods=("PROPFIND",))
    unit = response_unit(r)
    assert unit.head == "HTTP/1.1 207 Multi-Status"
    assert unit.body == ["DAV: 1", "Content-Length: 9", "<a>", "</a>"]


class DavFake:
    """Answers MKCOL, PUT 201, DELETE, UNLOCK 204, OPTIONS 200 (DAV: 1, 2), LOCK 200 (Lock-Token
    <urn:uuid:fake-1>) and everything else 404; reads bodies by length; keeps each request line and its If and
    Lock-Token fields."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.fields: list[dict[str, str]] = []

    async def __call__(self, reader, writer):
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.decode().split("\r\n")
            method = lines[0].split()[0]
            self.requests.append(lines[0])
            self.fields.append({k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)})
            length = next((int(v) for k, _, v in (x.partition(":") for x in lines[1:])
                           if k.lower() == "content-length"), 0)
            if length:
                await reader.readexactly(length)
            answer = {"MKCOL": b"201 Created", "DELETE": b"204 No Content", "OPTIONS": b"200 OK", "LOCK": b"200 OK",
                      "UNLOCK": b"204 No Content", "PUT": b"201 Created"}.get(method, b"404 Not Found")
            extra = {"OPTIONS": b"DAV: 1, 2\r\n", "LOCK": b"Lock-Token: <urn:uuid:fake-1>\r\n"}.get(method, b"")
            writer.write(b"HTTP/1.1 " + answer + b"\r\n" + extra + b"Content-Length: 0\r\n\r\n")
            await writer.drain()


class _Text:
    name = "x.wire"

    def __init__(self, text: str) -> None:
        self.text = text

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text


def run_script(text: str, fake):
    (check,) = _script_checks("webdav", _Text(text))
    with FakeServer(fake) as server:
        target = from_urls([f"http://{server.host}:{server.port}/dav/"])
        return asyncio.run(execute(check, target, {"webdav": Capabilities("webdav")},
                                   RunOptions(read_timeout=2.0, connect_timeout=2.0), budget=10))


SCRIPT = """check webdav.x.y
rfc: rfc4918#10.1
requirement: test

C: OPTIONS ${col} HTTP/1.1
C: Host: ${host}
C= ${auth}
C: Content-Length: 0
C:
S: HTTP/1.1 2xx ...
MUST has: DAV:{:\\s*(?:[^,]*,\\s*)*LEVEL\\s*(?:,.*)?}
"""


def test_a_script_runs_in_its_scratch_collection_which_is_removed_afterwards():
    fake = DavFake()
    result = run_script(SCRIPT.replace("LEVEL", "2"), fake)
    assert result.verdict is Verdict.PASS, result.reason
    col = fake.requests[0].split()[1]
    assert fake.requests[0].startswith("MKCOL /dav/wireproof-") and col.endswith("/")
    assert fake.requests[1] == f"OPTIONS {col} HTTP/1.1"
    assert fake.requests[-1] == f"DELETE {col} HTTP/1.1"


def test_a_script_assertion_that_misses_fails():
    result = run_script(SCRIPT.replace("LEVEL", "3"), DavFake())
    assert result.verdict is Verdict.FAIL


LOCK_SCRIPT = """check webdav.x.lock
rfc: rfc4918#9.10
requirement: test

C: LOCK ${col}a.txt HTTP/1.1
C: Host: ${host}
C: Content-Length: 0
C:
S: HTTP/1.1 200 ...
MUST has: Lock-Token: <{locktoken:[^>]+}>
"""


def test_cleanup_unlocks_what_the_check_locked_before_deleting_the_collection():
    fake = DavFake()
    result = run_script(LOCK_SCRIPT, fake)
    assert result.verdict is Verdict.PASS, result.reason
    col = fake.requests[0].split()[1]
    assert [r.split()[0] for r in fake.requests] == ["MKCOL", "LOCK", "UNLOCK", "DELETE"]
    assert fake.requests[2] == f"UNLOCK {col}a.txt HTTP/1.1" and fake.fields[2]["lock-token"] == "<urn:uuid:fake-1>"
    assert fake.requests[3] == f"DELETE {col} HTTP/1.1"


def test_cleanup_never_touches_a_path_without_the_checks_token():
    from types import SimpleNamespace

    from conformance import davscratch

    ctx = SimpleNamespace(token="wp-0123456789ab")
    with pytest.raises(AssertionError, match="does not carry"):
        asyncio.run(davscratch._cleanup(ctx, "/dav/somebody-elses/"))
    assert davscratch.name(ctx) == "wireproof-0123456789ab" and davscratch.name(ctx, "b").endswith("-b")
