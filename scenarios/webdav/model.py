"""A model of a WebDAV resource tree, and a hypothesis state machine that holds a server to it.

Each example works below a scratch collection of its own (made with MKCOL, deleted when the example ends), so
nothing an example does depends on what an earlier one left behind, and nothing is ever drawn from the server's
answers: every path, name and value comes from hypothesis, and the model alone decides what exists. Hypothesis
draws random MKCOL, PUT, GET, DELETE, COPY, MOVE (with Overwrite T or F), PROPPATCH (set and remove a dead
property), LOCK and UNLOCK (exclusive write locks, Depth 0, on non-collection resources), PROPFIND Depth 0 of
the dead properties and PROPFIND Depth 1 listings, on paths at most two levels deep made of three names (so
collisions with what exists, missing parents and locked resources come up often). The model answers with what
RFC 4918 requires:

    MKCOL      201; 405 when the URL is mapped (9.3.1); 409 when the parent collection does not exist (9.3.1)
    PUT        201 new, 200/204 replaced (9.7.1, RFC 9110 9.3.4); 409 without a parent collection (9.7.1)
    GET        200 with the exact content last PUT (or copied); 404 when unmapped
    DELETE     200/204; the whole subtree is gone (9.6.1); 404 when unmapped
    COPY       201 new, 204 over an existing destination with Overwrite T (9.8.5); 412 with Overwrite F when the
               destination exists (9.8.5, 10.6); 409 without a destination parent; 404 without a source; the
               copy has the source's content and dead properties (9.8.2), the source is unchanged
    MOVE       the same codes; the source is gone afterwards and the destination carries the content and dead
               properties (9.9.1); locks do not move with the resource (7.5)
    PROPPATCH  207 with 200 for the property (9.2); removing an absent property is no error (9.2); 404 unmapped
    PROPFIND   207; a dead property has its last value, an absent one is reported 404 (9.1); Depth 1 lists
               exactly the collection and its members, collections as DAV:collection (9.1)
    LOCK       200 and a Lock-Token (9.10); 423 when already locked exclusively (9.10.8) (only when the server
               announces compliance class 2; otherwise no LOCK or UNLOCK is drawn)
    UNLOCK     204 with the token (9.11)
    locks      PUT, DELETE, PROPPATCH and MOVE of a locked resource, and COPY or MOVE onto one, without its
               token: 423 (7.4, 9.10.6); with the token (If: <url> (<token>), 10.4) they succeed

A reply the model does not allow stops the search; hypothesis shrinks it to the shortest sequence of requests
that still shows it, printed with the seed that finds it again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from conformance import davscratch
from conformance.dialects.http import (HttpClient, Response, XmlError, basic_credentials, host_field, lock_token,
                                       lockinfo_body, parse_multistatus, propfind_body, proppatch_body)
from conformance.model import Kind
from conformance.property import Driver, check_machine
from conformance.registry import probe
from conformance.wire.session import Session, WireError

NAMES = ("a", "b", "c")
NS = "http://wireproof.invalid/ns/model/"
PROPS = (f"{{{NS}}}colour", f"{{{NS}}}size")
VALUES = ("red", "green", "blue")
CONTENTS = (b"first\r\n", b"second version\r\n", b"")
XML = ("Content-Type", "application/xml; charset=utf-8")
STEPS = 30
MIN_EXAMPLES = 0

Path = tuple[str, ...]
paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=2).map(tuple)


@dataclass
class Node:
    collection: bool
    content: bytes = b""
    props: dict[str, str] = field(default_factory=dict)  # dead properties, Clark name -> text


def expected(codes: set[int]) -> str:
    return " or ".join(str(c) for c in sorted(codes))


class TreeMachine(RuleBasedStateMachine):
    def __init__(self, driver: Driver) -> None:
        super().__init__()
        self.driver = driver
        driver.new_example()
        self.ctx = driver.ctx
        self.tree: dict[Path, Node] = {(): Node(True)}
        self.locks: dict[Path, str] = {}  # locked non-collection resources -> lock token
        self.root = davscratch.path(self.ctx, f"m{driver.examples}")
        self.locking = "DAV=2" in self.ctx.cap("webdav").keywords  # LOCK and UNLOCK only on class 2 servers
        self.client: HttpClient | None = None
        self.ready = False
        if driver.active():
            driver.guard(lambda: driver.call(self._prepare()))

    # --- wiring -------------------------------------------------------------------------------------------

    async def _prepare(self) -> None:
        ctx = self.ctx
        ep = ctx.endpoint("webdav")
        account = ctx.target.accounts[0] if ctx.target.accounts else None
        opened = iter(range(1, 10_000))

        async def opener() -> Session:
            n = next(opened)
            opts = ctx.options
            session = await Session.open(ep.host, ep.port, transcript=self.driver.transcript,
                                         label="m" if n == 1 else f"m{n}",
                                         tls=ctx.tls_context() if ep.implicit_tls else None,
                                         connect_timeout=opts.connect_timeout, read_timeout=opts.read_timeout)
            self.driver.sessions.append(session)
            return session

        self.client = HttpClient(opener, host=host_field(ep.host, ep.port, ep.implicit_tls),
                                 authorization=basic_credentials(account.user, account.password) if account else None)
        made = self.ctx.__dict__.setdefault("model_roots", [])
        made.append(self.root)
        r = await self.client.request("MKCOL", self.root)
        if r.status != 201:
            raise WireError(f"MKCOL {self.root} (the example's scratch collection) was answered {r.status_line}")
        self.ready = True

    def run(self, coro_fn, *args) -> None:
        if not self.ready or not self.driver.active():
            return
        self.driver.guard(lambda: self.driver.call(coro_fn(*args)))

    def url(self, path: Path, collection: bool | None = None) -> str:
        """The request path of `path` below the example's root; collections end in "/"."""
        if collection is None:
            node = self.tree.get(path)
            collection = node is not None and node.collection
        out = self.root + "/".join(quote(p, safe="") for p in path)
        return out + "/" if collection and path else out

    def absolute(self, path: str) -> str:
        ep = self.ctx.endpoint("webdav")
        return f"{'https' if ep.implicit_tls else 'http'}://{self.client.host}{path}"

    async def send(self, method: str, path: str, headers=(), body: bytes = b"") -> Response:
        r = await self.client.request(method, path, list(headers), body)
        self.driver.commands += 1
        note(f"{method} {path[len(self.root) - 1:]} {' '.join(f'{k}: {v}' for k, v in headers if k != 'Content-Type')}"
             f" -> {r.status}")
        return r

    def fail(self, what: str, expected_text: str, r: Response) -> None:
        self.driver.violate(what, expected_text, r.show())

    def expect_status(self, r: Response, codes: set[int], what: str) -> None:
        if r.status not in codes:
            self.fail(f"{what}: answered {r.status}, the model expects {expected(codes)}", expected(codes), r)

    # --- the model's view -----------------------------------------------------------------------------------

    def parent(self, path: Path) -> Node | None:
        return self.tree.get(path[:-1])

    def below_file(self, path: Path) -> bool:
        """Whether an ancestor of `path` is a non-collection resource. RFC 4918 9.3.1 and 9.7.1 want 409 for MKCOL
        and PUT there, but Apache mod_dav answers 400 to every request below a file: so that one deviation does not
        hide everything else, the model never goes there (a scripted check covers it)."""
        return any(p in self.tree and not self.tree[p].collection for p in (path[:i] for i in range(1, len(path))))

    def subtree(self, path: Path) -> list[Path]:
        return [p for p in self.tree if p[:len(path)] == path]

    def locks_in(self, path: Path) -> dict[Path, str]:
        return {p: t for p, t in self.locks.items() if p[:len(path)] == path}

    def if_header(self, locks: dict[Path, str]) -> list[tuple[str, str]]:
        """Tagged lists naming each locked resource with its token (RFC 4918 10.4)."""
        if not locks:
            return []
        return [("If", " ".join(f"<{self.absolute(self.url(p))}> (<{t}>)" for p, t in sorted(locks.items())))]

    def remove(self, path: Path) -> None:
        for p in self.subtree(path):
            self.tree.pop(p, None)
            self.locks.pop(p, None)

    def transplant(self, src: Path, dst: Path, move: bool) -> None:
        copied = {dst + p[len(src):]: Node(n.collection, n.content, dict(n.props))
                  for p, n in self.tree.items() if p[:len(src)] == src}
        if move:
            self.remove(src)
        self.tree.update(copied)

    # --- requests -----------------------------------------------------------------------------------------------

    async def _mkcol(self, path: Path) -> None:
        if self.below_file(path):
            return
        mapped = self.tree.get(path)
        r = await self.send("MKCOL", self.url(path, collection=mapped is None or mapped.collection))
        if path in self.tree:
            self.expect_status(r, {405}, "MKCOL on a mapped URL (RFC 4918 9.3.1)")
        elif self.parent(path) is None or not self.parent(path).collection:
            self.expect_status(r, {409}, "MKCOL without a parent collection (RFC 4918 9.3.1)")
        else:
            self.expect_status(r, {201}, "MKCOL of a new collection (RFC 4918 9.3.1)")
            self.tree[path] = Node(True)

    async def _put(self, path: Path, content: bytes, with_token: bool) -> None:
        node = self.tree.get(path)
        if (node is not None and node.collection) or self.below_file(path):
            return  # PUT on a collection is left undefined by RFC 4918 9.7.2
        token = self.locks.get(path)
        headers = [("Content-Type", "text/plain")] + (self.if_header({path: token}) if token and with_token else [])
        r = await self.send("PUT", self.url(path, collection=False), headers, content)
        if self.parent(path) is None or not self.parent(path).collection:
            self.expect_status(r, {409}, "PUT without a parent collection (RFC 4918 9.7.1)")
        elif token and not with_token:
            self.expect_status(r, {423}, "PUT to a locked resource without its lock token (RFC 4918 7.4, 9.10.6)")
        elif node is None:
            self.expect_status(r, {201}, "PUT of a new resource (RFC 9110 9.3.4)")
            self.tree[path] = Node(False, content)
        else:
            self.expect_status(r, {200, 204}, "PUT replacing a resource (RFC 9110 9.3.4)")
            node.content = content

    async def _get(self, path: Path) -> None:
        if self.below_file(path):
            return
        node = self.tree.get(path)
        if node is not None and node.collection:
            return  # GET of a collection is not defined by RFC 4918 (9.4)
        r = await self.send("GET", self.url(path, collection=False))
        if node is None:
            self.expect_status(r, {404}, "GET of an unmapped URL")
        else:
            self.expect_status(r, {200}, "GET of a resource")
            if r.body != node.content:
                self.driver.violate("GET returns other content than the model's (last PUT, copied or moved)",
                                    repr(node.content), r.show())

    async def _delete(self, path: Path) -> None:
        if self.below_file(path):
            return
        node = self.tree.get(path)
        locks = self.locks_in(path)
        direct = path in self.locks and not node.collection if node else False
        headers = [] if direct else self.if_header(locks)  # a locked resource itself: without its token
        r = await self.send("DELETE", self.url(path), headers)
        if node is None:
            self.expect_status(r, {404}, "DELETE of an unmapped URL")
        elif direct:
            self.expect_status(r, {423}, "DELETE of a locked resource without its lock token (RFC 4918 9.6, 7.4)")
        else:
            self.expect_status(r, {200, 204}, "DELETE of a mapped URL (RFC 4918 9.6.1)")
            gone = sorted(self.subtree(path), key=len, reverse=True)[:3]  # the deepest members first
            self.remove(path)
            for p in gone:
                await self._gone(p, "a member of a deleted collection is still there (RFC 4918 9.6.1: DELETE of a "
                                    "collection removes every member)")

    async def _transfer(self, method: str, src: Path, dst: Path, overwrite: bool, with_token: bool) -> None:
        move = method == "MOVE"
        if dst[:len(src)] == src or src[:len(dst)] == dst or self.below_file(src) or self.below_file(dst):
            return  # onto itself, into itself, or over its own ancestor: outside what this model covers
        node, target = self.tree.get(src), self.tree.get(dst)
        dst_locks = self.locks_in(dst) if target is not None else {}
        if dst_locks and target.collection:
            return  # over a collection with locked members: which members go is not pinned down tightly enough
        src_locks = self.locks_in(src) if move and node is not None else {}
        src_direct = move and node is not None and not node.collection and src in self.locks
        submitted = dict(dst_locks) if with_token else {}
        if not src_direct or with_token:
            submitted.update(src_locks)  # members of a moved collection always get their tokens
        collection = target.collection if target is not None else (node.collection if node else False)
        headers = [("Destination", self.absolute(self.url(dst, collection=collection))),
                   ("Overwrite", "T" if overwrite else "F")] + self.if_header(submitted)
        r = await self.send(method, self.url(src), headers)
        rule = f"{method} (RFC 4918 {'9.9' if move else '9.8'})"
        if node is None:
            self.expect_status(r, {404}, f"{method} of an unmapped source")
            return
        errors: dict[int, str] = {}  # every refusal that applies; RFC 4918 orders none of them before another
        if self.parent(dst) is None or not self.parent(dst).collection:
            errors[409] = "the destination's parent collection does not exist"
        if target is not None and not overwrite:
            errors[412] = "Overwrite F and the destination exists"
        if (dst_locks or src_direct) and not with_token:
            errors[423] = "a locked resource is changed without its token being submitted (RFC 4918 7.4)"
        if errors:
            self.expect_status(r, set(errors), f"{rule}: " + "; ".join(errors.values()))
            return
        if target is not None:
            self.expect_status(r, {204}, f"{rule}: an existing destination was overwritten")
            self.remove(dst)
        else:
            self.expect_status(r, {201}, f"{rule}: a new destination was created")
        self.transplant(src, dst, move)
        await self._propfind(dst)  # content's companions, the dead properties, came along (RFC 4918 9.8.2, 9.9.1)
        if move:
            await self._gone(src, "after a successful MOVE the source still exists (RFC 4918 9.9: MOVE is a COPY "
                                  "followed by a DELETE of the source)")

    async def _proppatch(self, path: Path, name: str, value: str | None, with_token: bool) -> None:
        if self.below_file(path):
            return
        node = self.tree.get(path)
        token = self.locks.get(path)
        headers = [XML] + (self.if_header({path: token}) if token and with_token else [])
        body = proppatch_body([("remove", name, None) if value is None else ("set", name, value)])
        r = await self.send("PROPPATCH", self.url(path), headers, body)
        if node is None:
            self.expect_status(r, {404}, "PROPPATCH of an unmapped URL")
            return
        if token and not with_token:
            self.expect_status(r, {423}, "PROPPATCH of a locked resource without its lock token (RFC 4918 7.4)")
            return
        self.expect_status(r, {207}, "PROPPATCH (RFC 4918 9.2)")
        status = self._propstat(r, path, name)
        if status != 200:
            self.fail(f"PROPPATCH {'removing' if value is None else 'setting'} the dead property {name} reports "
                      f"{status} for it (RFC 4918 9.2: removing an absent property is no error)", "200", r)
        if value is None:
            node.props.pop(name, None)
        else:
            node.props[name] = value

    def _propstat(self, r: Response, path: Path, name: str) -> int | None:
        try:
            ms = parse_multistatus(r.body)
        except XmlError as exc:
            self.fail(f"the multistatus body is not usable: {exc}", "a DAV:multistatus", r)
        entry = ms.find(self.url(path)) or (ms.responses[0] if len(ms.responses) == 1 else None)
        if entry is None:
            self.fail(f"the multistatus has no response for {self.url(path)}", self.url(path), r)
        return entry.prop_status(name)

    async def _propfind(self, path: Path) -> None:
        if self.below_file(path):
            return
        node = self.tree.get(path)
        r = await self.send("PROPFIND", self.url(path), [("Depth", "0"), XML], propfind_body(PROPS))
        if node is None:
            self.expect_status(r, {404}, "PROPFIND of an unmapped URL")
            return
        self.expect_status(r, {207}, "PROPFIND (RFC 4918 9.1)")
        ms = parse_multistatus(r.body)
        entry = ms.find(self.url(path)) or (ms.responses[0] if len(ms.responses) == 1 else None)
        if entry is None:
            self.fail(f"PROPFIND Depth 0 has no response for {self.url(path)}", self.url(path), r)
        for name in PROPS:
            want = node.props.get(name)
            got_status, got = entry.prop_status(name), entry.value(name)
            if want is None and got_status != 404:
                self.fail(f"the dead property {name} was never set (or was removed) but is reported {got_status}"
                          f" ({got!r}); RFC 4918 9.1 reports it 404", "404 propstat", r)
            if want is not None and (got_status != 200 or got != want):
                self.fail(f"the dead property {name} is {want!r} in the model (set, copied or moved with the "
                          f"resource) but is reported {got_status} {got!r}", f"200 {want!r}", r)

    async def _gone(self, path: Path, what: str) -> None:
        r = await self.send("PROPFIND", self.url(path), [("Depth", "0"), XML], propfind_body(["{DAV:}resourcetype"]))
        self.expect_status(r, {404}, what)

    async def _listing(self, path: Path) -> None:
        node = self.tree.get(path)
        if node is None or not node.collection:
            return
        r = await self.send("PROPFIND", self.url(path), [("Depth", "1"), XML], propfind_body(["{DAV:}resourcetype"]))
        self.expect_status(r, {207}, "PROPFIND Depth 1 of a collection (RFC 4918 9.1)")
        ms = parse_multistatus(r.body)
        want = {self.url(p).rstrip("/"): n.collection for p, n in self.tree.items()
                if len(p) == len(path) + 1 and p[:len(path)] == path}
        want[self.url(path).rstrip("/")] = True
        got = {}
        for entry in ms.responses:
            got[entry.path.rstrip("/")] = entry.is_collection
        if got != want:
            show = lambda d: "\n".join(f"{k}{'/' if v else ''}" for k, v in sorted(d.items()))
            self.driver.violate(f"PROPFIND Depth 1 of {self.url(path)} does not list exactly the collection and "
                                "its members the model holds (collections with DAV:collection)", show(want),
                                show(got) + "\n\n" + r.show())

    async def _lock(self, path: Path) -> None:
        node = self.tree.get(path)
        if node is None or node.collection:
            return  # only existing non-collection resources are locked (LOCK of an unmapped URL creates one)
        r = await self.send("LOCK", self.url(path), [XML, ("Depth", "0"), ("Timeout", "Second-600")],
                            lockinfo_body("exclusive", "wireproof model"))
        if path in self.locks:
            self.expect_status(r, {423}, "LOCK of a resource already locked exclusively (RFC 4918 9.10.8)")
            return
        self.expect_status(r, {200}, "LOCK of an unlocked resource (RFC 4918 9.10)")
        token = lock_token(r)
        if not token:
            self.fail("LOCK granted without a Lock-Token field (RFC 4918 9.10.1)", "Lock-Token: <...>", r)
        self.locks[path] = token
        await self._put(path, CONTENTS[1], False)  # the lock holds at once: a PUT without the token is refused

    async def _unlock(self, path: Path) -> None:
        token = self.locks.get(path)
        if token is None:
            return
        r = await self.send("UNLOCK", self.url(path), [("Lock-Token", f"<{token}>")])
        self.expect_status(r, {204}, "UNLOCK with the lock's token (RFC 4918 9.11)")
        del self.locks[path]

    # --- rules -----------------------------------------------------------------------------------------------
    # A `pick` below 12 names one of the paths the model holds (by its index in sorted order), so that most
    # requests are about resources that exist; otherwise the drawn path is used, which is often unmapped. Both come
    # from hypothesis and the model only, never from the server's answers, so every replay sends the same requests.
    # A resource MKCOL or PUT creates may get a dead property straight away (`label`), so that COPY and MOVE
    # often have properties to carry.

    picks = st.integers(min_value=0, max_value=15)  # 12 and above: the drawn path

    def choose(self, path: Path, pick: int, root: bool = False) -> Path:
        existing = sorted(p for p in self.tree if p or root)
        return existing[pick % len(existing)] if pick < 12 and existing else path

    labels = st.one_of(st.none(), st.sampled_from(VALUES))

    def labelled(self, path: Path, label: str | None, existed: bool):
        async def go():
            if label is not None and not existed and path in self.tree:
                await self._proppatch(path, PROPS[0], label, True)
        return go

    @rule(path=paths, label=labels)
    def mkcol(self, path, label):
        existed = path in self.tree
        self.run(self._mkcol, path)
        self.run(self.labelled(path, label, existed))

    @rule(path=paths, pick=picks, content=st.sampled_from(CONTENTS), with_token=st.booleans(), label=labels)
    def put(self, path, pick, content, with_token, label):
        path = self.choose(path, pick)
        existed = path in self.tree
        self.run(self._put, path, content, with_token)
        self.run(self.labelled(path, label, existed))

    @rule(path=paths, pick=picks)
    def get(self, path, pick):
        self.run(self._get, self.choose(path, pick))

    @rule(path=paths, pick=picks)
    def delete(self, path, pick):
        self.run(self._delete, self.choose(path, pick))

    @rule(method=st.sampled_from(["COPY", "MOVE"]), src=paths, pick=picks, dst=paths, overwrite=st.booleans(),
          with_token=st.booleans())
    def transfer(self, method, src, pick, dst, overwrite, with_token):
        self.run(self._transfer, method, self.choose(src, pick), dst, overwrite, with_token)

    @rule(path=paths, pick=picks, name=st.sampled_from(PROPS), value=st.one_of(st.none(), st.sampled_from(VALUES)),
          with_token=st.booleans())
    def proppatch(self, path, pick, name, value, with_token):
        self.run(self._proppatch, self.choose(path, pick, root=True), name, value, with_token)

    @rule(path=paths, pick=picks)
    def propfind(self, path, pick):
        self.run(self._propfind, self.choose(path, pick, root=True))

    @rule(path=paths, pick=picks)
    def listing(self, path, pick):
        self.run(self._listing, self.choose(path, pick, root=True))

    @precondition(lambda self: self.locking)
    @rule(path=paths, pick=picks)
    def lock(self, path, pick):
        self.run(self._lock, self.choose(path, pick))

    @precondition(lambda self: self.locking)
    @rule(path=paths, pick=picks)
    def unlock(self, path, pick):
        self.run(self._unlock, self.choose(path, pick))

    def teardown(self):
        driver = self.driver
        if self.ready and driver.active():
            async def clean():
                for path, token in sorted(self.locks.items()):
                    await self.client.request("UNLOCK", self.url(path), [("Lock-Token", f"<{token}>")])
                r = await self.client.request("DELETE", self.root)
                if r.status in (200, 204, 404):
                    roots = self.ctx.__dict__.setdefault("model_roots", [])
                    if self.root in roots:
                        roots.remove(self.root)
            try:
                driver.guard(lambda: driver.call(clean()))
            except Exception as exc:  # noqa: BLE001  (best effort: the final sweep retries, nothing is judged)
                driver.transcript.note("cleanup", f"the example's collection could not be removed: {exc!r}")
        driver.close_sessions()


@probe("webdav.model.resource-tree", kind=Kind.PROPERTY, level="MUST",
       rfc="rfc4918#9.1 rfc4918#9.2 rfc4918#9.3.1 rfc4918#9.6.1 rfc4918#9.7.1 rfc4918#9.8.5 rfc4918#9.9.4 "
           "rfc4918#9.10 rfc4918#9.11 rfc4918#7.4",
       requirement="Across random MKCOL, PUT, GET, DELETE, COPY, MOVE, PROPPATCH, PROPFIND, LOCK and UNLOCK requests "
                   "in a scratch collection, every status code and every listing fits a model of the resource tree: "
                   "201/204/404/405/409/412/423 where RFC 4918 says so, Depth 1 listings equal to the model's "
                   "members, content and dead properties travelling with COPY and MOVE, MOVE leaving no source, "
                   "DELETE removing whole subtrees, and locked resources refusing changes without their token.",
       needs=["DAV=1"], tags=["model", "property", "copy", "move", "lock", "proppatch"], timeout=300,
       exclusive=True)
async def resource_tree_model(ctx):
    try:
        await check_machine(ctx, TreeMachine, steps=STEPS, min_examples=MIN_EXAMPLES)
    finally:
        for root in list(ctx.__dict__.get("model_roots", [])):  # whatever an interrupted example left behind
            await davscratch.cleanup(ctx, root)
