"""The Exchange request builders and readers (conformance/dialects/http_exchange.py), and the Exchange checks'
registration: every one needs HTTPMAIL, so it skips on servers without an Exchange mailbox."""
from __future__ import annotations

import datetime as dt
import email
import email.policy

from defusedxml.ElementTree import fromstring

from conformance.dialects.http import Response
from conformance.dialects.http_exchange import (as_bool, as_instant, batch_body, bpropfind_body, bproppatch_body,
                                                content_range_rows, icalendar, message, scope, search_body, select,
                                                sql_string, vcard)
from conformance.registry import all_checks

D = "{DAV:}"


def test_select_quotes_names_and_scope_and_the_body_escapes_it():
    literal = sql_string("it' & <b>")
    sql = select(["DAV:displayname", "{urn:schemas:httpmail:}subject"], "/exchange/u/Inbox/",
                 f'"DAV:isfolder" = false AND "urn:schemas:httpmail:subject" = {literal}',
                 '"urn:schemas:httpmail:date" DESC')
    assert sql == ('SELECT "DAV:displayname", "urn:schemas:httpmail:subject" FROM SCOPE(\'shallow traversal of '
                   '"/exchange/u/Inbox/"\') WHERE "DAV:isfolder" = false AND "urn:schemas:httpmail:subject" = '
                   "'it'' & <b>' ORDER BY \"urn:schemas:httpmail:date\" DESC")
    root = fromstring(search_body(sql))
    assert root.tag == D + "searchrequest" and root.find(D + "sql").text == sql
    assert scope("/x/", deep=True) == "SCOPE('deep traversal of \"/x/\"')"


def test_batch_bodies_hold_a_target_list():
    root = fromstring(bpropfind_body(["a.eml", "b c.eml"], ["DAV:displayname", "{urn:schemas:httpmail:}read"]))
    assert root.tag == D + "propfind"
    assert [h.text for h in root.find(D + "target")] == ["a.eml", "b c.eml"]
    assert [p.tag for p in root.find(D + "prop")] == [D + "displayname", "{urn:schemas:httpmail:}read"]
    root = fromstring(bproppatch_body(["a.eml"], [("set", "{urn:schemas:httpmail:}read", "1"),
                                                  ("remove", "{http://x/}y", None)]))
    assert root.tag == D + "propertyupdate" and root.find(f"{D}target/{D}href").text == "a.eml"
    assert root.find(f"{D}set/{D}prop/{{urn:schemas:httpmail:}}read").text == "1"
    assert root.find(f"{D}remove/{D}prop/{{http://x/}}y") is not None
    for method, tag in (("BCOPY", "copy"), ("BMOVE", "move"), ("BDELETE", "delete")):
        root = fromstring(batch_body(method, ["a&b.eml"]))
        assert root.tag == D + tag and root.find(f"{D}target/{D}href").text == "a&b.eml"


def test_message_with_attachments_parses_back():
    raw = message("wp-123", "hello", attachments=[("d.bin", "application/octet-stream", bytes(range(256)))])
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends only
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = list(msg.iter_attachments())
    assert msg["Subject"] == "hello" and msg.is_multipart()
    assert [p.get_filename() for p in parts] == ["d.bin"] and parts[0].get_content() == bytes(range(256))
    plain = email.message_from_bytes(message("wp-123", "plain"), policy=email.policy.default)
    assert not plain.is_multipart() and "wp-123" in plain.get_content()


def test_icalendar_and_vcard_carry_the_fields():
    start = dt.datetime(2004, 3, 1, 9, 30, tzinfo=dt.UTC)
    ics = icalendar("u1", "s", start, start + dt.timedelta(hours=1)).decode()
    assert "DTSTART:20040301T093000Z\r\n" in ics and "DTEND:20040301T103000Z\r\n" in ics
    assert "EMAIL;TYPE=INTERNET:a@b.example\r\n" in vcard("A", "B", "a@b.example").decode()


def test_readers():
    assert as_bool("1") is True and as_bool("false") is False and as_bool("") is None
    want = dt.datetime(1994, 11, 15, 13, 12, 31, tzinfo=dt.UTC)
    assert as_instant("1994-11-15T13:12:31.000Z") == want == as_instant("1994-11-15T08:12:31-05:00")
    assert as_instant("15 Nov 1994") is None
    r = Response("HTTP/1.1", 206, "Partial Content", headers=[("Content-Range", "rows 0-1; total=3")])
    assert content_range_rows(r) == (0, 1, 3)
    assert content_range_rows(Response("HTTP/1.1", 207, "")) is None


def test_every_exchange_check_needs_an_exchange_mailbox():
    checks = [c for c in all_checks() if c.id.startswith("webdav.exchange.")]
    assert len(checks) >= 25
    for c in checks:
        assert "HTTPMAIL" in c.needs, c.id
        assert any(r.startswith("ms-") for r in c.rfc), c.id
    search = [c for c in checks if c.id.startswith("webdav.exchange.search.")]
    assert search and all({"METHOD=SEARCH", "DASL=<DAV:sql>"} <= c.needs for c in search)


# --- the checks on the wire: a small Exchange-like fake whose SEARCH ignores WHERE ---------------------------------

class SearchIgnoresWhere:
    """DavFake (tests/test_webdav_model.py) with /exchange/alice/ as mailbox and a SEARCH that answers every item
    directly in the folder, whatever the WHERE clause says."""

    def __new__(cls):
        from test_webdav_model import DavFake, Res

        class Fake(DavFake):
            def __init__(self) -> None:
                super().__init__()
                self.tree.update({"/exchange": Res(True), "/exchange/alice": Res(True)})

            def handle(self, method, target, headers, body):
                if method != "SEARCH":
                    return super().handle(method, target, headers, body)
                folder = self.norm(target)
                rows = []
                for path, res in sorted(self.tree.items()):
                    if path.rsplit("/", 1)[0] == folder and not res.collection:
                        subject = next((line[9:] for line in res.content.decode().split("\r\n")
                                        if line.startswith("Subject: ")), "")
                        rows.append((path, {"{DAV:}displayname": (200, path.rsplit("/", 1)[1]),
                                            "{urn:schemas:httpmail:}subject": (200, subject)}))
                return 207, [], self.multistatus(rows)

        return Fake()


def run_exchange_check(check_id: str, fake):
    import asyncio

    from fakes import FakeServer

    from conformance.context import Capabilities, RunOptions
    from conformance.runner import execute
    from conformance.target import Account, from_urls

    check = next(c for c in all_checks() if c.id == check_id)
    with FakeServer(fake) as server:
        target = from_urls([f"http://127.0.0.1:{server.port}/exchange/alice/"])
        target.accounts = [Account("alice", "pw", "alice@fake.example")]
        caps = {"webdav": Capabilities("webdav", keywords={"DAV=1", "DAV=2", "HTTPMAIL", "METHOD=SEARCH",
                                                           "DASL=<DAV:sql>"},
                                       params={"mailbox": "/exchange/alice/"})}
        return asyncio.run(execute(check, target, caps, RunOptions(read_timeout=2), budget=30))


def test_a_search_check_passes_what_holds_and_fails_what_does_not():
    from conformance.model import Verdict

    fake = SearchIgnoresWhere()
    shallow = run_exchange_check("webdav.exchange.search.shallow-multistatus", fake)
    assert shallow.verdict is Verdict.PASS, (shallow.reason, shallow.observed)
    equal = run_exchange_check("webdav.exchange.search.where-equal", fake)
    assert equal.verdict is Verdict.FAIL and "the rows are exactly beta.eml" in equal.reason, equal.reason
    assert set(fake.tree) == {"/dav", "/exchange", "/exchange/alice"}  # the scratch folders are gone
