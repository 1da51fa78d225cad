"""Write locks (RFC 4918 6, 7) and the If header (RFC 4918 10.4), with an injected clock.

    locks = LockManager(clock=time.monotonic)
    lock = locks.create("/exchange/alice/Drafts/a.txt", "exclusive", "0", owner=None, principal="alice",
                        timeout=600, collection=False)
    header = parse_if('(<opaquelocktoken:...> ["etag"])')
    header.evaluate("/exchange/alice/Drafts/a.txt", state)   # state(url) -> (etag or None, lock tokens)

URLs here are the store's canonical URLs (folders end in "/"); they compare case-insensitively, as the
store's do. A lock on a collection with depth infinity covers every member; any lock on a collection
covers its membership (adding or removing members needs its token, RFC 4918 7.4).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import DavError

MAX_TIMEOUT = 7 * 24 * 3600  # seconds; longer requests are granted this much (RFC 4918 10.7 lets us choose)


@dataclass
class Lock:
    token: str
    root: str  # the URL the LOCK named (DAV:lockroot)
    scope: str  # "exclusive" | "shared"
    depth: str  # "0" | "infinity"
    owner: str | None  # DAV:owner as sent, an XML fragment
    principal: str  # who took it: only they can use the token (RFC 4918 6.4)
    timeout: int | None  # seconds granted; None is Infinite
    expires: float | None
    collection: bool = False

    def covers(self, url: str) -> bool:
        key, root = url.casefold(), self.root.casefold()
        if key == root or key.rstrip("/") == root.rstrip("/"):
            return True
        return self.depth == "infinity" and root.endswith("/") and key.startswith(root)

    def remaining(self, now: float) -> int | None:
        return None if self.expires is None else max(0, int(self.expires - now + 0.999))


def parse_timeout(header: str | None) -> int | None:
    """RFC 4918 10.7: "Second-N" or "Infinite", the first one we understand; None means Infinite."""
    if not header:
        return None
    for part in header.split(","):
        part = part.strip()
        if part.lower() == "infinite":
            return None
        if part.lower().startswith("second-") and part[7:].isdigit():
            return max(1, min(int(part[7:]), MAX_TIMEOUT))
    raise DavError(400, f"unreadable Timeout header {header[:60]!r}", "rfc4918#10.7")


def timeout_header(lock: Lock, now: float) -> str:
    left = lock.remaining(now)
    return "Infinite" if left is None else f"Second-{left}"


class LockManager:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._locks: dict[str, Lock] = {}  # token -> lock

    def _purge(self) -> None:
        now = self.clock()
        for token in [t for t, lock in self._locks.items() if lock.expires is not None and lock.expires <= now]:
            del self._locks[token]

    def get(self, token: str) -> Lock | None:
        self._purge()
        return self._locks.get(token)

    def covering(self, url: str) -> list[Lock]:
        """Every lock whose scope includes `url`."""
        self._purge()
        return [lock for lock in self._locks.values() if lock.covers(url)]

    def within(self, url: str) -> list[Lock]:
        """Every lock rooted at `url` or below it (for a collection URL)."""
        self._purge()
        key = url.casefold()
        return [lock for lock in self._locks.values()
                if lock.root.casefold() == key or (key.endswith("/") and lock.root.casefold().startswith(key))]

    def conflicts(self, url: str, scope: str, depth: str) -> list[Lock]:
        """Locks that keep a new lock of `scope` on `url` (and, with depth infinity, its members) from being
        granted: any exclusive lock, or any lock at all when the new one is exclusive."""
        found = self.covering(url)
        if depth == "infinity" and url.endswith("/"):
            found += [lock for lock in self.within(url) if lock not in found]
        return [lock for lock in found if scope == "exclusive" or lock.scope == "exclusive"]

    def create(self, url: str, scope: str, depth: str, owner: str | None, principal: str,
               timeout: int | None, collection: bool) -> Lock:
        now = self.clock()
        lock = Lock(f"opaquelocktoken:{uuid.uuid4()}", url, scope, depth, owner, principal, timeout,
                    None if timeout is None else now + timeout, collection)
        self._locks[lock.token] = lock
        return lock

    def refresh(self, lock: Lock, timeout: int | None) -> Lock:
        lock.timeout = timeout
        lock.expires = None if timeout is None else self.clock() + timeout
        return lock

    def remove(self, token: str) -> None:
        self._locks.pop(token, None)

    def drop(self, url: str) -> None:
        """The resource at `url` (and whatever was below it) is gone, and so are its locks (RFC 4918 7)."""
        for lock in self.within(url):
            self._locks.pop(lock.token, None)
        if url.endswith("/"):
            return
        for lock in [lk for lk in self._locks.values() if lk.root.casefold() == url.casefold()]:
            self._locks.pop(lock.token, None)

    def blocking(self, url: str, tokens: set[str], principal: str, *, membership_of: str | None = None,
                 subtree: bool = False) -> Lock | None:
        """The lock that forbids a write to `url` without one of `tokens`, or None. `membership_of`: the
        collection gaining or losing the member (its depth-0 locks count too); `subtree`: the write also
        changes everything below `url` (DELETE, MOVE of a collection)."""
        candidates = self.covering(url)
        if membership_of is not None:
            candidates += [lk for lk in self._locks.values()
                           if lk.root.casefold() == membership_of.casefold() and lk not in candidates]
        if subtree and url.endswith("/"):
            candidates += [lk for lk in self.within(url) if lk not in candidates]
        held = [lk for lk in candidates if lk.token in tokens and lk.principal == principal]
        held_roots = {lk.root.casefold() for lk in held}
        for lock in candidates:
            # Shared locks on one resource: a token for any of them will do (RFC 4918 6.2).
            if lock not in held and not (lock.scope == "shared" and lock.root.casefold() in held_roots):
                return lock
        return None


# --- the If header (RFC 4918 10.4) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    negated: bool
    token: str | None = None  # a state token (Coded-URL without the brackets)
    etag: str | None = None  # an entity-tag as written, quotes (and W/) included


@dataclass
class IfHeader:
    # (resource tag or None for untagged, [list of conditions, ...]) in header order
    groups: list[tuple[str | None, list[list[Condition]]]] = field(default_factory=list)

    @property
    def tagged(self) -> bool:
        return any(tag is not None for tag, _ in self.groups)

    def submitted(self) -> set[str]:
        """The lock tokens the client submitted: every state token it did not negate."""
        return {c.token for _, lists in self.groups for conditions in lists for c in conditions
                if c.token is not None and not c.negated}

    def tags(self) -> list[str]:
        return [tag for tag, _ in self.groups if tag is not None]

    def evaluate(self, request_url: str, state: Callable[[str], tuple[str | None, set[str]]],
                 resolve: Callable[[str], str | None] = lambda tag: tag) -> bool:
        """RFC 4918 10.4.3: true if any list of any production is true; a list is the conjunction of its
        conditions. `state(url)` gives the resource's entity tag (None when unmapped) and the tokens of the
        locks covering it; `resolve(tag)` maps a resource tag to a URL (None: not this server's)."""
        for tag, lists in self.groups:
            url = request_url if tag is None else resolve(tag)
            if url is None:
                continue
            etag, tokens = state(url)
            for conditions in lists:
                if all(_matches(c, etag, tokens) != c.negated for c in conditions):
                    return True
        return False


def _strip_weak(etag: str) -> str:
    return etag.removeprefix("W/")


def _matches(condition: Condition, etag: str | None, tokens: set[str]) -> bool:
    if condition.token is not None:
        return condition.token in tokens
    # Weak comparison (RFC 9110 8.8.3.2), which RFC 4918 10.4.4 allows.
    return etag is not None and _strip_weak(condition.etag) == _strip_weak(etag)


def parse_if(text: str) -> IfHeader:
    """If = ( 1*No-tag-list ) | ( 1*Tagged-list ); Tagged-list = Resource-Tag 1*List;
    List = "(" 1*Condition ")"; Condition = ["Not"] (State-token | "[" entity-tag "]")."""
    def fail(why: str) -> DavError:
        return DavError(400, f"malformed If header ({why}): {text[:120]!r}", "rfc4918#10.4.2")

    header = IfHeader()
    i, n = 0, len(text)
    tagged: bool | None = None

    def skip(i: int) -> int:
        while i < n and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip(i)
    if i >= n:
        raise fail("empty")
    while i < n:
        tag = None
        if text[i] == "<":
            end = text.find(">", i)
            if end < 0:
                raise fail("unterminated resource tag")
            tag = text[i + 1:end]
            i = skip(end + 1)
            if tagged is False:
                raise fail("tagged and untagged lists mixed")
            tagged = True
        else:
            if tagged is True:
                raise fail("tagged and untagged lists mixed")
            tagged = False
        lists: list[list[Condition]] = []
        while i < n and text[i] == "(":
            i = skip(i + 1)
            conditions: list[Condition] = []
            while i < n and text[i] != ")":
                negated = False
                if text[i:i + 3].lower() == "not" and (i + 3 >= n or text[i + 3] in " \t<[("):
                    negated = True
                    i = skip(i + 3)
                if i < n and text[i] == "<":
                    end = text.find(">", i)
                    if end < 0:
                        raise fail("unterminated state token")
                    token = text[i + 1:end].strip()
                    if not token or ":" not in token:
                        raise fail("a state token is an absolute URI")
                    conditions.append(Condition(negated, token=token))
                    i = skip(end + 1)
                elif i < n and text[i] == "[":
                    end = text.find("]", i)
                    if end < 0:
                        raise fail("unterminated entity tag")
                    etag = text[i + 1:end].strip()
                    if not etag.startswith(('"', 'W/"')) or not etag.endswith('"'):
                        raise fail("an entity tag is quoted")
                    conditions.append(Condition(negated, etag=etag))
                    i = skip(end + 1)
                else:
                    raise fail("expected a state token or an entity tag")
            if i >= n:
                raise fail("unterminated list")
            if not conditions:
                raise fail("empty list")
            lists.append(conditions)
            i = skip(i + 1)
        if not lists:
            raise fail("expected a list")
        header.groups.append((tag, lists))
    return header
