"""The WebDAV layer in memory, no sockets: the SQL of SEARCH, the If header, the lock manager, request URIs,
and the method handlers driven against a store service called directly (as the store thread would)."""
from __future__ import annotations

import asyncio
import datetime as dt
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.protocols.dav import locks as L
from simulator.protocols.dav import methods as M
from simulator.protocols.dav import sql as S
from simulator.protocols.dav.errors import DavError
from simulator.protocols.dav.paths import Area, authorize, parse_target, resolve_href
from simulator.store import BlobHeap
from simulator.store_service import StoreService

# --- SQL ------------------------------------------------------------------------------------------------------


def test_sql_parses_select_scope_where_and_order():
    q = S.parse('SELECT "DAV:displayname", "urn:schemas:httpmail:subject" '
                'FROM SCOPE(\'shallow traversal of "/exchange/u/Inbox/"\') '
                'WHERE "DAV:isfolder" = false AND ("urn:schemas:httpmail:subject" LIKE \'%a%\' OR NOT '
                '"urn:schemas:httpmail:read" = true) ORDER BY "urn:schemas:httpmail:subject" DESC, "DAV:href"')
    assert q.select == [("DAV:", "displayname"), ("urn:schemas:httpmail:", "subject")]
    assert q.scopes == [S.Scope("/exchange/u/Inbox/", False)]
    assert isinstance(q.where, S.And) and isinstance(q.where.right, S.Or)
    assert q.order == [(("urn:schemas:httpmail:", "subject"), True), (("DAV:", "href"), False)]


def test_sql_select_star_deep_traversal_keywords_any_case_and_is_null():
    q = S.parse("select * from scope('deep traversal of \"/public/\"') where \"urn:x:y\" is not null")
    assert q.select is None and q.scopes[0].deep and q.where == S.IsNull(S.Prop(("urn:x:", "y")), True)


@pytest.mark.parametrize("text", [
    "", "SELECT", 'SELECT "DAV:href"', 'SELECT "DAV:href" FROM', 'SELECT "DAV:href" FROM SCOPE(\'sideways of "/"\')',
    'SELECT "DAV:href" FROM SCOPE() WHERE', 'SELECT "DAV:href" FROM SCOPE() WHERE "a:b" = ',
    'SELECT "DAV:href" FROM SCOPE() ORDER "DAV:href"', 'SELECT "DAV:href" FROM SCOPE() WHERE ("a:b" = 1',
    "SELECT 'x' FROM SCOPE()", 'SELECT "DAV:href" FROM SCOPE() trailing',
])
def test_sql_errors_carry_their_position(text):
    with pytest.raises(S.SqlError) as info:
        S.parse(text)
    assert info.value.position >= 0


def _eval(where: str, props: dict):
    q = S.parse(f'SELECT * FROM SCOPE() WHERE {where}')
    return S.evaluate(q.where, lambda key: props.get(key))


def test_sql_evaluation_is_case_insensitive_and_three_valued():
    subject = ("urn:schemas:httpmail:", "subject")
    assert _eval('"urn:schemas:httpmail:subject" = \'HELLO\'', {subject: "hello"}) is True
    assert _eval('"urn:schemas:httpmail:subject" LIKE \'h_l%\'', {subject: "Hello there"}) is True
    assert _eval('"urn:schemas:httpmail:subject" NOT LIKE \'h%\'', {subject: "Hello"}) is False
    assert not _eval('"urn:schemas:httpmail:subject" = \'x\'', {})  # unknown is not true
    assert not _eval('NOT "urn:schemas:httpmail:subject" = \'x\'', {})  # NOT unknown is still unknown
    assert _eval('"urn:schemas:httpmail:subject" IS NULL', {}) is True
    assert _eval("\"a:n\" > 5 AND \"a:n\" <= 7", {("a:", "n"): 6}) is True


def test_sql_cast_to_datetime_compares_dates():
    key = ("urn:schemas:httpmail:", "datereceived")
    when = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
    assert _eval('"urn:schemas:httpmail:datereceived" > CAST("2026-01-01T00:00:00Z" as \'dateTime\')',
                 {key: when}) is True
    assert _eval('"urn:schemas:httpmail:datereceived" < CAST("2026-01-01T00:00:00Z" as \'dateTime\')',
                 {key: when}) is False


def test_sql_order_puts_missing_values_first_and_respects_desc():
    q = S.parse('SELECT * FROM SCOPE() ORDER BY "a:n" DESC')
    rows = [{"n": 2}, {"n": 9}, {}, {"n": 5}]
    ordered = S.order(rows, q, lambda row, key: row.get(key[1]))
    assert [r.get("n") for r in ordered][:3] == [9, 5, 2]


# --- the If header ------------------------------------------------------------------------------------------


def test_if_header_untagged_lists_and_submitted_tokens():
    h = L.parse_if('(<opaquelocktoken:a> ["etag1"]) (Not <DAV:no-lock>)')
    assert not h.tagged and h.submitted() == {"opaquelocktoken:a"}
    state = lambda url: ('"etag1"', {"opaquelocktoken:a"})
    assert h.evaluate("/x", state)
    assert L.parse_if("(Not <DAV:no-lock>)").evaluate("/x", lambda url: (None, set()))
    assert not L.parse_if("(<DAV:no-lock>)").evaluate("/x", lambda url: (None, set()))


def test_if_header_tagged_lists_are_evaluated_against_their_resource():
    h = L.parse_if('</a/b> (<opaquelocktoken:t>) </c> (["e"])')
    assert h.tagged and h.tags() == ["/a/b", "/c"]
    states = {"/a/b": (None, set()), "/c": ('W/"e"', set())}
    assert h.evaluate("/a/b", lambda url: states[url])  # the second production holds (weak comparison)
    states["/c"] = ('"f"', set())
    assert not h.evaluate("/a/b", lambda url: states[url])


@pytest.mark.parametrize("text", ["", "(", "()", "(<unclosed", "<tag>", "(<a:b>) <c> (<d:e>)", "([noquotes])",
                                  "(<notanuri>)", "(Nope)"])
def test_malformed_if_headers_are_400(text):
    with pytest.raises(DavError) as info:
        L.parse_if(text)
    assert info.value.status == 400


def test_if_header_read_one_character_at_a_time_gives_the_same_result():
    text = '</r> (<opaquelocktoken:x> Not ["1"]) (["2"])'
    whole = L.parse_if(text)
    again = L.parse_if("".join(ch for ch in text))
    assert whole == again and whole.groups[0][1][0][1] == L.Condition(True, etag='"1"')


# --- the lock manager -------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_locks_conflict_cover_depth_and_expire_on_the_injected_clock():
    clock = Clock()
    m = L.LockManager(clock)
    lock = m.create("/a/", "exclusive", "infinity", None, "alice", 60, collection=True)
    assert m.covering("/a/b/c") == [lock] and m.conflicts("/a/b", "shared", "0") == [lock]
    assert m.blocking("/a/b", set(), "alice") is lock
    assert m.blocking("/a/b", {lock.token}, "alice") is None
    assert m.blocking("/a/b", {lock.token}, "bob") is lock  # a token is only good for its owner
    clock.now += 61
    assert m.covering("/a/b") == [] and m.get(lock.token) is None


def test_shared_locks_coexist_and_depth_0_locks_cover_only_their_resource():
    m = L.LockManager(Clock())
    one = m.create("/f", "shared", "0", None, "alice", None, False)
    assert m.conflicts("/f", "shared", "0") == [] and m.conflicts("/f", "exclusive", "0") == [one]
    m.create("/f", "shared", "0", None, "bob", None, False)
    assert m.blocking("/f", {one.token}, "alice") is None
    col = m.create("/c/", "exclusive", "0", None, "alice", None, collection=True)
    assert m.covering("/c/x") == [] and m.blocking("/c/x", set(), "alice", membership_of="/c/") is col
    assert L.parse_timeout("Second-99999999") == L.MAX_TIMEOUT and L.parse_timeout("Infinite, Second-4") is None
    with pytest.raises(DavError):
        L.parse_timeout("Minute-3")


# --- request URIs ----------------------------------------------------------------------------------------------


def test_request_uris_map_onto_the_store_and_nothing_else():
    t = parse_target("/exchange/alice/Sent%20Items/x.eml")
    assert (t.area, t.names, t.alias, t.item_url) == (Area.STORE, ("exchange", "alice", "Sent Items", "x.eml"),
                                                       "alice", "/exchange/alice/Sent%20Items/x.eml")
    assert parse_target("/public").folder_url == "/public/"
    assert parse_target("/exchange/").area is Area.EXCHANGE_ROOT
    assert parse_target("/exchange/alice/##DavMailSubmissionURI##/").area is Area.SUBMISSION
    assert parse_target("http://host/exchange/alice/Inbox/").folder_url == "/exchange/alice/Inbox/"
    for bad, status in [("/exchange/alice/%2e%2e/", 400), ("/exchange/a%2fb/", 400), ("/exchange/a%5cb/", 400),
                        ("/x/%00", 400), ("/etc/passwd", 404), ("/exchange/alice/./", 400), ("relative", 400),
                        ("/exchange/alice/%e9/", 400)]:
        with pytest.raises(DavError) as info:
            parse_target(bad)
        assert info.value.status == status, bad


def test_destinations_resolve_relative_refuse_other_servers_and_other_mailboxes():
    base = parse_target("/exchange/alice/Inbox/a.eml")
    assert resolve_href("b.eml", base, "h:80", "http").item_url == "/exchange/alice/Inbox/b.eml"
    assert resolve_href("http://h/exchange/alice/x", base, "h:80", "http").names[-1] == "x"
    with pytest.raises(DavError) as info:
        resolve_href("http://other/exchange/alice/x", base, "h:80", "http", foreign_status=502)
    assert info.value.status == 502
    with pytest.raises(DavError):
        resolve_href("../../bob/", base, "h:80", "http")
    with pytest.raises(DavError) as info:
        authorize(parse_target("/exchange/bob/Inbox/"), "alice", write=False)
    assert info.value.status == 403
    with pytest.raises(DavError):
        authorize(parse_target("/exchange/"), "alice", write=True)


# --- handlers against the store, in memory --------------------------------------------------------------------


@pytest.fixture
def dav():
    heap = BlobHeap()
    service = StoreService(":memory:", heap)
    service.op_ensure_mailboxes(["alice", "bob"])
    service.op_ensure_public_folders(["Announcements"])

    async def store(op, **args):
        return getattr(service, f"op_{op}")(**args)

    yield M.Dav(store=store, heap=heap, locks=L.LockManager(Clock()), user="alice", address="alice@wireproof.test")
    service.close()


def run(dav, method, target, body=b"", **headers):
    request = M.Request(method, target, {k.replace("_", "-").lower(): v for k, v in headers.items()}, body, "h:80")
    return asyncio.run(M.handle(dav, request))


def test_handlers_make_read_and_list_resources_in_memory(dav):
    assert run(dav, "MKCOL", "/exchange/alice/Work/").status == 201
    assert run(dav, "PUT", "/exchange/alice/Work/a.txt", b"abc", content_type="text/plain").status == 201
    r = run(dav, "GET", "/exchange/alice/Work/a.txt")
    assert (r.status, r.body) == (200, b"abc")
    r = run(dav, "PROPFIND", "/exchange/alice/Work/", depth="1")
    hrefs = [e.findtext("{DAV:}href") for e in ET.fromstring(r.body).iter("{DAV:}response")]
    assert r.status == 207 and hrefs == ["/exchange/alice/Work/", "/exchange/alice/Work/a.txt"]
    assert run(dav, "DELETE", "/exchange/alice/Work/").status == 204
    assert run(dav, "GET", "/exchange/alice/Work/a.txt").status == 404


def test_handler_lock_then_put_needs_the_token(dav):
    run(dav, "PUT", "/public/Announcements/x.txt", b"1")
    body = (b'<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/>'
            b"</D:locktype></D:lockinfo>")
    r = run(dav, "LOCK", "/public/Announcements/x.txt", body)
    token = r.header("Lock-Token")[1:-1]
    assert run(dav, "PUT", "/public/Announcements/x.txt", b"2").status == 423
    assert run(dav, "PUT", "/public/Announcements/x.txt", b"2", **{"if": f"(<{token}>)"}).status == 204
    assert run(dav, "UNLOCK", "/public/Announcements/x.txt", lock_token=f"<{token}>").status == 204


def test_handler_refuses_unknown_methods_with_501_and_other_mailboxes_with_403(dav):
    assert run(dav, "REPORT", "/exchange/alice/").status == 501
    assert run(dav, "PROPFIND", "/exchange/bob/Inbox/", depth="0").status == 403
    assert run(dav, "GET", "*").status == 400
    assert run(dav, "OPTIONS", "*").status == 200


# --- no request URI escapes the store, whatever it is made of ------------------------------------------------

PIECES = ["/", "/", "/", "a", "Inbox", "exchange", "public", "alice", "bob", ".", "..", "%2e", "%2E", "%2f", "%5c",
          "\\", "%00", "%0a", "%", "%zz", "%c0%ae", "%e2%80%ae", "#", "?x=/..", "~", ";", "%252e", "http://h",
          "##DavMailSubmissionURI##", "%23%23DavMailSubmissionURI%23%23"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12))
def test_every_request_uri_is_refused_or_names_a_place_in_the_store(pieces):
    raw = "".join(pieces)
    try:
        target = parse_target(raw)
    except DavError as exc:
        assert exc.status in (400, 404)
        return
    for name in target.names:
        assert name not in ("", ".", "..") and "/" not in name and "\\" not in name
        assert all(ord(ch) >= 0x20 and ord(ch) != 0x7F for ch in name)
    if target.area is Area.STORE:
        assert target.names[0] in ("exchange", "public")
        assert target.folder_url.startswith(("/exchange/", "/public/"))
    try:
        authorize(target, "alice", write=True)
    except DavError as exc:
        assert exc.status == 403
        return
    assert target.alias is None or target.alias.casefold() == "alice"
