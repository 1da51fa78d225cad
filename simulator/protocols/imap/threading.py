"""SORT and THREAD (RFC 5256): the base subject (2.1), the sent date (2.2), the sort criteria (3), and the
ORDEREDSUBJECT and REFERENCES threading algorithms (4).

    items = [SortItem.from_message(seq, uid, internal_date, size, raw) for ...]
    sort(items, ["REVERSE", "DATE", "SUBJECT"])     # [3, 1, 2]: sequence numbers in order
    format_threads(thread_references(items))         # b"(2)(3 6 (4 23)(44 7 96))"

A thread is a tuple shaped like the thread-list of the response (RFC 5256 4): numbers that follow one
another are parent and only child, and a trailing run of tuples are the children of the last number (or
of a dummy parent, when the tuple starts with them).

Strings are compared with the i;unicode-casemap collation (RFC 5051: titlecase, then NFKD), which
RFC 5256 requires through I18NLEVEL=1.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import headers as hdr
from .search import SearchError
from .tokens import Atom, List, Token

SORT_KEYS = ("ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO")
ALGORITHMS = ("ORDEREDSUBJECT", "REFERENCES")

Thread = tuple  # tuple[int | Thread, ...]


@dataclass
class SortItem:
    """One message as SORT and THREAD see it; the header values as written in the message."""

    seq: int
    uid: int
    arrival: float  # internal date
    date: str | None  # Date:
    size: int
    subject: str | None
    from_: str | None
    to: str | None
    cc: str | None
    message_id: str | None = None
    references: str | None = None
    in_reply_to: str | None = None

    @classmethod
    def from_message(cls, seq: int, uid: int, arrival: float, size: int, raw: bytes) -> SortItem:
        flds = hdr.fields(raw[:hdr.header_end(raw, 0, len(raw))])
        get = functools.partial(hdr.first, flds)
        return cls(seq, uid, arrival, get("Date"), size, get("Subject"), get("From"), get("To"), get("Cc"),
                   get("Message-ID"), get("References"), get("In-Reply-To"))

    @functools.cached_property
    def sent(self) -> float:
        """The sent date in UTC; the internal date when the Date: field is missing or unparseable (2.2)."""
        date = hdr.sent_date(self.date)
        return date.epoch if date else self.arrival

    @functools.cached_property
    def base(self) -> tuple[str, bool]:
        return base_subject_info(self.subject or "")


def collate(text: str) -> str:
    """i;unicode-casemap (RFC 5051 2): each character to its titlecase, then NFKD; the results compare
    as octet strings, which is code-point order. The titlecase is UnicodeData's simple mapping: Python's
    full mapping where it is one character, the character itself where only SpecialCasing has one."""
    return unicodedata.normalize("NFKD", "".join(_title(ch) for ch in text))


def _title(ch: str) -> str:
    title = ch.title()
    return title if len(title) == 1 else ch


# --- 2.1 base subject ---------------------------------------------------------------------------------

# subj-blob = "[" *BLOBCHAR "]" *WSP ; BLOBCHAR = any CHAR except "[" and "]"
BLOB = r"\[[^\[\]]*\][ \t]*"
# subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
REFWD = rf"(?:re|fwd?)[ \t]*(?:{BLOB})?:"
# subj-leader = (*subj-blob subj-refwd) / WSP
LEADER_RE = re.compile(rf"(?:{BLOB})*{REFWD}|[ \t]", re.IGNORECASE)
BLOB_RE = re.compile(BLOB)
# subj-trailer = "(fwd)" / WSP
TRAILER_RE = re.compile(r"(?:\(fwd\)|[ \t])$", re.IGNORECASE)


def base_subject(subject: str) -> str:
    return base_subject_info(subject)[0]


def base_subject_info(subject: str) -> tuple[str, bool]:
    """The base subject (RFC 5256 2.1, steps 1-7), and whether the subject marked the message as a reply
    or forward (a subj-refwd, a "(fwd)" trailer, or a "[fwd: ...]" wrapper was removed), which the
    REFERENCES algorithm needs (4, step 5)."""
    # (1) decode encoded-words; tabs and continuations to space; runs of spaces to one
    s = re.sub(r" {2,}", " ", re.sub(r"\r?\n|\t|\r", " ", hdr.decode_words(subject)))
    refwd = False
    while True:
        # (2) remove subj-trailer text at the end, until none is left
        while m := TRAILER_RE.search(s):
            refwd |= m.group(0) != " " and m.group(0) != "\t"
            s = s[:m.start()]
        # (3)-(5) remove subj-leader prefixes, and a subj-blob prefix when a non-empty subj-base is left
        while True:
            if m := LEADER_RE.match(s):
                refwd |= m.group(0) not in (" ", "\t")
                s = s[m.end():]
                continue
            m = BLOB_RE.match(s)
            if m and s[m.end():]:
                s = s[m.end():]
                continue
            break
        # (6) a "[fwd:" ... "]" wrapper: remove it and start again from (2)
        if s[:5].lower() == "[fwd:" and s.endswith("]"):
            s = s[5:-1]
            refwd = True
            continue
        return s, refwd  # (7)


# --- 3 SORT ---------------------------------------------------------------------------------------------

def parse_sort_criteria(tokens: Token | Sequence[Token]) -> list[str]:
    """sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"; sort-criterion = ["REVERSE" SP]
    sort-key. Given the list token (or its items); returns e.g. ["REVERSE", "DATE", "SUBJECT"]."""
    items = tokens.items if isinstance(tokens, List) else tuple(tokens)
    out: list[str] = []
    expect_key = False
    for token in items:
        if not isinstance(token, Atom):
            raise SearchError("sort criteria are atoms")
        name = token.upper()
        if name == "REVERSE" and not expect_key:
            out.append(name)
            expect_key = True
        elif name in SORT_KEYS:
            out.append(name)
            expect_key = False
        else:
            raise SearchError(f"unknown sort criterion {token.text[:40]}" if name != "REVERSE"
                              else "REVERSE must be followed by a sort key")
    if expect_key:
        raise SearchError("REVERSE must be followed by a sort key")
    if not out:
        raise SearchError("empty sort criteria")
    return out


def _first_mailbox(value: str | None) -> str:
    """addr-mailbox of the first address (group markers skipped); "" when there is none."""
    for address in hdr.parse_addresses(value):
        if not address.is_group_marker:
            return address.mailbox or ""
    return ""


def _sort_value(item: SortItem, key: str):
    if key == "ARRIVAL":
        return item.arrival
    if key == "DATE":
        return item.sent
    if key == "SIZE":
        return item.size
    if key == "SUBJECT":
        return collate(item.base[0])
    return collate(_first_mailbox({"FROM": item.from_, "TO": item.to, "CC": item.cc}[key]))


def sort(messages: Iterable[SortItem], criteria: list[str], *, uid: bool = False) -> list[int]:
    """Sequence numbers (UIDs with uid=True) in the order of the criteria; REVERSE turns only the
    criterion after it around, and messages equal on all criteria stay in mailbox order (RFC 5256 3)."""
    keys: list[tuple[str, bool]] = []
    reverse = False
    for name in criteria:
        if name == "REVERSE":
            reverse = True
            continue
        if name not in SORT_KEYS:
            raise SearchError(f"unknown sort criterion {name}")
        keys.append((name, reverse))
        reverse = False
    items = list(messages)
    values = {id(item): [_sort_value(item, k) for k, _ in keys] for item in items}

    def compare(a: SortItem, b: SortItem) -> int:
        for (x, y), (_, rev) in zip(zip(values[id(a)], values[id(b)]), keys):
            if x != y:
                return (1 if x > y else -1) * (-1 if rev else 1)
        return a.seq - b.seq

    return [item.uid if uid else item.seq for item in sorted(items, key=functools.cmp_to_key(compare))]


# --- 4 THREAD -------------------------------------------------------------------------------------------

def parse_thread_algorithm(token: Token | str) -> str:
    name = token if isinstance(token, str) else token.text if isinstance(token, Atom) else None
    if name is None or name.upper() not in ALGORITHMS:
        raise SearchError(f"unsupported threading algorithm {str(name)[:40]}")
    return name.upper()


def _sent_order(item: SortItem) -> tuple[float, int]:
    return item.sent, item.seq  # 2.2: equal sent dates go by sequence number


def thread_orderedsubject(messages: Iterable[SortItem], *, uid: bool = False) -> list[Thread]:
    """ORDEREDSUBJECT (4): messages grouped by base subject; each group is a thread whose first message
    (by sent date) is the parent of all the others, which are siblings in sent-date order; threads go in
    the sent-date order of their first messages."""
    groups: dict[str, list[SortItem]] = {}
    for item in sorted(messages, key=lambda i: (collate(i.base[0]), _sent_order(i))):
        groups.setdefault(collate(item.base[0]), []).append(item)
    threads = sorted(groups.values(), key=lambda g: _sent_order(g[0]))
    out: list[Thread] = []
    for first, *rest in threads:
        n = [i.uid if uid else i.seq for i in [first] + rest]
        out.append(tuple(n) if len(n) <= 2 else (n[0],) + tuple((c,) for c in n[1:]))
    return out


@dataclass(eq=False)
class _Node:
    item: SortItem | None  # None for a dummy
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)

    def adopt(self, child: _Node) -> None:
        if child.parent is not None:
            child.parent.children.remove(child)
        child.parent = self
        self.children.append(child)

    def orphan(self) -> None:
        if self.parent is not None:
            self.parent.children.remove(self)
            self.parent = None

    def has_ancestor_or_is(self, other: _Node) -> bool:
        node: _Node | None = self
        while node is not None:
            if node is other:
                return True
            node = node.parent
        return False


MSG_ID_RE = re.compile(r"<([^<>]*)>")


def message_ids(value: str | None) -> list[str]:
    """The valid Message IDs in a field (msg-id = "<" id-left "@" id-right ">"), normalized as RFC 5256 4
    says: comments and folding whitespace removed, a quoted local part unquoted (its own spaces kept).
    Comparisons of the results are case-sensitive."""
    out = []
    for raw in MSG_ID_RE.findall(hdr.strip_comments(value or "")):
        left, at, right = raw.rpartition("@")
        left, right = left.strip(), re.sub(r"\s+", "", right)
        if len(left) >= 2 and left[0] == left[-1] == '"':
            left = re.sub(r"\\(.)", r"\1", left[1:-1])  # quoted local part: quotes off, its spaces kept
        else:
            left = re.sub(r"\s+", "", left)
        if at and left and right:
            out.append(f"{left}@{right}")
    return out


def _references(item: SortItem) -> list[str]:
    """The References field's Message IDs; failing those, the first of In-Reply-To."""
    return message_ids(item.references) or message_ids(item.in_reply_to)[:1]


def thread_references(messages: Iterable[SortItem], *, uid: bool = False) -> list[Thread]:
    """REFERENCES (RFC 5256 4), steps 1 to 6."""
    items = sorted(messages, key=lambda i: i.seq)
    by_id: dict[str, _Node] = {}
    # (1) link messages and their references; a missing or duplicate Message ID gets a unique one
    for item in items:
        ids = message_ids(item.message_id)
        mid = ids[0] if ids else None
        if mid is None or (mid in by_id and by_id[mid].item is not None):
            mid = f"\0unique {item.seq}"  # cannot collide: a valid Message ID holds no NUL
        node = by_id.setdefault(mid, _Node(None))
        node.item = item
        previous: _Node | None = None
        for ref in _references(item):
            ref_node = by_id.setdefault(ref, _Node(None))  # a dummy until (if ever) its message comes
            # (A) the earlier reference is the parent, unless the later one already has a parent or the
            # link would make a loop
            if previous is not None and ref_node.parent is None and not previous.has_ancestor_or_is(ref_node):
                previous.adopt(ref_node)
            previous = ref_node
        # (B) the last reference is the parent of the message: break any existing link first
        node.orphan()
        if previous is not None and not previous.has_ancestor_or_is(node):
            previous.adopt(node)
    # (2) the messages without a parent are the children of the root
    roots = [n for n in by_id.values() if n.parent is None]
    # (3) prune dummies
    roots = _prune(roots, top=True)
    # (4) sort the top level by sent date; a dummy by its earliest child
    for node in roots:
        if node.item is None:
            node.children.sort(key=lambda c: _sent_order(c.item))
    roots.sort(key=_node_order)
    # (5) gather threads with the same base subject
    roots = _merge_subjects(roots)
    # (6) sort every set of siblings by sent date, children before parents
    _sort_tree(roots)
    roots.sort(key=_node_order)
    return [_thread(node, uid) for node in roots]


def _prune(nodes: list[_Node], *, top: bool) -> list[_Node]:
    """(3), bottom-up: a childless dummy goes; a dummy with children gives way to them, unless that
    would put several children at the top level."""
    out: list[_Node] = []
    for node in nodes:
        node.children = _prune(node.children, top=False)
        for child in node.children:
            child.parent = node
        if node.item is None:
            if not node.children:
                continue
            if not top or len(node.children) == 1:
                for child in node.children:
                    child.parent = node.parent
                out.extend(node.children)
                continue
        out.append(node)
    return out


def _node_order(node: _Node) -> tuple[float, int]:
    while node.item is None:
        node = node.children[0]
    return _sent_order(node.item)


def _thread_item(node: _Node) -> SortItem:
    return node.item if node.item is not None else node.children[0].item


def _is_reply(node: _Node) -> bool:
    return node.item is not None and node.item.base[1]


def _merge_subjects(roots: list[_Node]) -> list[_Node]:
    # (A), (B) the subject table: one top-level message per base subject, preferring a dummy, then a
    # message that is not a reply or forward
    table: dict[str, _Node] = {}
    for node in roots:
        base, _ = _thread_item(node).base
        if not base:
            continue
        key = collate(base)
        held = table.get(key)
        if held is None or (held.item is not None and (node.item is None or (_is_reply(held)
                                                                             and not _is_reply(node)))):
            table[key] = node
    # (C) merge each top-level message into the one the table holds for its subject
    roots = list(roots)
    for node in list(roots):
        base, _ = _thread_item(node).base
        if not base or node.parent is not None:  # no subject, or already put under a new dummy
            continue
        key = collate(base)
        held = table[key]
        if held is node:
            continue
        roots.remove(node)
        if held.item is None and node.item is None:  # both dummies: the children become siblings
            for child in list(node.children):
                held.adopt(child)
        elif held.item is None or (_is_reply(node) and not _is_reply(held)):
            held.adopt(node)  # under the dummy, or a reply under the original
        else:  # a new dummy over both, which takes the held message's place
            dummy = _Node(None)
            roots[roots.index(held)] = dummy
            dummy.adopt(held)
            dummy.adopt(node)
            table[key] = dummy
    return roots


def _sort_tree(nodes: list[_Node]) -> None:
    for node in nodes:
        _sort_tree(node.children)
        node.children.sort(key=_node_order)


def _thread(node: _Node, uid: bool) -> Thread:
    out: list = []
    while True:
        if node.item is not None:
            out.append(node.item.uid if uid else node.item.seq)
        if len(node.children) == 1:
            node = node.children[0]
            continue
        out.extend(_thread(child, uid) for child in node.children)
        return tuple(out)


def format_threads(threads: Iterable[Thread]) -> bytes:
    """thread-list = "(" (thread-members / thread-nested) ")"; thread-members = nz-number *(SP nz-number)
    [SP thread-nested]; thread-nested = 2*thread-list."""
    return b"".join(_format(t) for t in threads)


def _format(thread: Thread) -> bytes:
    numbers = b" ".join(b"%d" % n for n in thread if isinstance(n, int))
    nested = b"".join(_format(t) for t in thread if isinstance(t, tuple))
    return b"(" + (numbers + b" " + nested if numbers and nested else numbers or nested) + b")"
