"""The WebDAV resource-tree model, run on the wire against a small in-memory WebDAV server: it must pass a correct
server and catch each planted bug with a short conversation that the same seed finds again.

The fake (DavFake below) keeps a tree of collections and resources with content and dead properties, exclusive
write locks on resources, and answers MKCOL, PUT, GET, DELETE, COPY, MOVE, PROPPATCH, PROPFIND (Depth 0 and 1) and
LOCK/UNLOCK as RFC 4918 says, unless `bug` switches on one deliberate mistake:

    "move-leaves-source"   MOVE copies and answers 201/204, but the source stays
    "copy-drops-props"     COPY does not copy dead properties
    "lock-ignored"         PUT to a locked resource succeeds without the lock token
    "delete-keeps-members" DELETE of a collection leaves its members reachable
"""
from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as ET

import pytest
from fakes import FakeServer

from conformance.context import Capabilities, RunOptions
from conformance.model import Verdict
from conformance.registry import all_checks
from conformance.runner import execute
from conformance.target import Account, from_urls


@dataclass
class Res:
    collection: bool
    content: bytes = b""
    props: dict[str, str] = field(default_factory=dict)


class DavFake:
    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug
        self.tree: dict[str, Res] = {"/dav": Res(True)}
        self.locks: dict[str, str] = {}
        self.tokens = itertools.count(1)

    # --- HTTP framing (just enough for the harness's client) ------------------------------------------------

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _ = line.decode().split(" ", 2)
            headers = {}
            while (h := await reader.readline()) not in (b"\r\n", b""):
                k, _, v = h.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, extra, out = self.handle(method, unquote(target), headers, body)
            head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(out)}\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in extra) + "\r\n"
            writer.write(head.encode() + out)
            await writer.drain()

    # --- WebDAV ---------------------------------------------------------------------------------------------

    @staticmethod
    def norm(path: str) -> str:
        return path.rstrip("/") or "/"

    def parent_ok(self, path: str) -> bool:
        parent = self.tree.get(path.rsplit("/", 1)[0] or "/")
        return parent is not None and parent.collection

    def sub(self, path: str) -> list[str]:
        return [p for p in self.tree if p == path or p.startswith(path + "/")]

    def submitted(self, headers) -> set[str]:
        return set(re.findall(r"\(<([^>]+)>\)", headers.get("if", "")))

    def locked(self, paths, headers) -> bool:
        tokens = self.submitted(headers)
        return any(p in self.locks and self.locks[p] not in tokens for p in paths)

    def handle(self, method, target, headers, body):
        path = self.norm(target)
        node = self.tree.get(path)
        if method == "MKCOL":
            if node is not None:
                return 405, [], b""
            if not self.parent_ok(path):
                return 409, [], b""
            self.tree[path] = Res(True)
            return 201, [], b""
        if method == "PUT":
            if not self.parent_ok(path):
                return 409, [], b""
            if self.locked([path], headers) and self.bug != "lock-ignored":
                return 423, [], b""
            if node is None:
                self.tree[path] = Res(False, body)
                return 201, [], b""
            node.content = body
            return 204, [], b""
        if node is None:
            return 404, [], b""
        if method == "GET":
            return 200, [], node.content
        if method == "DELETE":
            if self.locked(self.sub(path), headers):
                return 423, [], b""
            for p in self.sub(path) if self.bug != "delete-keeps-members" else [path]:
                self.tree.pop(p, None)
                self.locks.pop(p, None)
            return 204, [], b""
        if method in ("COPY", "MOVE"):
            return self.transfer(method, path, node, headers)
        if method == "PROPPATCH":
            if self.locked([path], headers):
                return 423, [], b""
            root = ET.fromstring(body)
            names = []
            for op in root:
                for prop in op.iter("{DAV:}prop"):
                    for el in prop:
                        names.append(el.tag)
                        if op.tag == "{DAV:}set":
                            node.props[el.tag] = el.text or ""
                        else:
                            node.props.pop(el.tag, None)
            return 207, [], self.multistatus([(target, {n: (200, None) for n in names})])
        if method == "PROPFIND":
            wanted = [el.tag for el in ET.fromstring(body).iter() if el.tag not in ("{DAV:}propfind", "{DAV:}prop")]
            members = [path] + ([p for p in self.tree if p.rsplit("/", 1)[0] == path and p != path]
                                if headers.get("depth") == "1" and node.collection else [])
            rows = []
            for p in members:
                res = self.tree[p]
                props = {}
                for name in wanted:
                    if name == "{DAV:}resourcetype":
                        props[name] = (200, "<D:collection/>" if res.collection else "")
                    else:
                        props[name] = (200, res.props[name]) if name in res.props else (404, None)
                rows.append((p + ("/" if res.collection else ""), props))
            return 207, [], self.multistatus(rows)
        if method == "LOCK":
            if path in self.locks:
                return 423, [], b""
            token = f"opaquelocktoken:fake-{next(self.tokens)}"
            self.locks[path] = token
            return 200, [("Lock-Token", f"<{token}>")], b'<?xml version="1.0"?><D:prop xmlns:D="DAV:"/>'
        if method == "UNLOCK":
            token = headers.get("lock-token", "").strip("<>")
            if self.locks.get(path) != token:
                return 409, [], b""
            del self.locks[path]
            return 204, [], b""
        return 405, [], b""

    def transfer(self, method, path, node, headers):
        dest = self.norm(unquote(urlsplit(headers["destination"]).path))
        overwrite = headers.get("overwrite", "T") == "T"
        if not self.parent_ok(dest):
            return 409, [], b""
        existing = dest in self.tree
        if existing and not overwrite:
            return 412, [], b""
        moving = self.sub(path) if method == "MOVE" else []
        if self.locked((self.sub(dest) if existing else []) + moving, headers):
            return 423, [], b""
        for p in self.sub(dest):
            self.tree.pop(p)
            self.locks.pop(p, None)
        for p in self.sub(path):
            src = self.tree[p]
            props = {} if method == "COPY" and self.bug == "copy-drops-props" else dict(src.props)
            self.tree[dest + p[len(path):]] = Res(src.collection, src.content, props)
        if method == "MOVE" and self.bug != "move-leaves-source":
            for p in moving:
                self.tree.pop(p)
                self.locks.pop(p, None)
        return (204 if existing else 201), [], b""

    @staticmethod
    def multistatus(rows) -> bytes:
        out = ['<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">']
        for href, props in rows:
            out.append(f"<D:response><D:href>{href}</D:href>")
            for status in sorted({s for s, _ in props.values()}):
                out.append("<D:propstat><D:prop>")
                for i, (name, (s, value)) in enumerate(props.items()):
                    if s != status:
                        continue
                    ns, local = name[1:].split("}")
                    out.append(f'<p{i}:{local} xmlns:p{i}="{ns}">{value or ""}</p{i}:{local}>')
                out.append(f"</D:prop><D:status>HTTP/1.1 {status} X</D:status></D:propstat>")
            out.append("</D:response>")
        out.append("</D:multistatus>")
        return "".join(out).encode()


def run_model(fake: DavFake, seed: int = 1234, examples: int = 40):
    check = next(c for c in all_checks() if c.id == "webdav.model.resource-tree")
    with FakeServer(fake) as server:
        target = from_urls([f"http://127.0.0.1:{server.port}/dav/"])
        target.accounts = [Account("alice", "pw")]
        caps = {"webdav": Capabilities("webdav", keywords={"DAV=1", "DAV=2"})}
        options = RunOptions(seed=seed, max_examples=examples, property_budget_s=60, read_timeout=2)
        return asyncio.run(execute(check, target, caps, options, budget=120))


def test_model_passes_a_server_that_keeps_its_tree():
    fake = DavFake()
    result = run_model(fake)
    assert result.verdict is Verdict.PASS, (result.reason, result.observed)
    assert result.seed == 1234
    assert set(fake.tree) == {"/dav"}  # every example's scratch collection is gone


@pytest.mark.parametrize("bug, seed, symptom", [
    ("move-leaves-source", 5, "after a successful MOVE the source still exists"),
    ("copy-drops-props", 2, "dead property"),
    ("delete-keeps-members", 2, "a member of a deleted collection is still there"),
])
def test_model_catches_a_planted_bug(bug, seed, symptom):
    result = run_model(DavFake(bug), seed=seed, examples=60)
    assert result.verdict is Verdict.FAIL, (result.reason, result.observed)
    assert symptom in result.reason, result.reason
    assert f"Falsifying example (seed {seed})" in result.observed


def test_the_seed_finds_and_shrinks_to_the_same_conversation_again():
    runs = [run_model(DavFake("lock-ignored"), seed=1, examples=60) for _ in range(2)]
    assert runs[0].verdict is Verdict.FAIL and "without its lock token" in runs[0].reason, runs[0].reason
    program = lambda r: re.sub(r"wireproof-[0-9a-f]+|127\.0\.0\.1:\d+", "*",
                               r.observed[r.observed.index("Falsifying example"):])
    assert runs[0].reason == runs[1].reason and program(runs[0]) == program(runs[1])
