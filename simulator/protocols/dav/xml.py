"""XML in and out of WebDAV requests.

In: request bodies are parsed with defusedxml, refusing DTDs and entities (no billion laughs, no external
entities); a body that is not well-formed, or not the element the method wants, is 400 (RFC 4918 8.2).
Out: elements are built with xml.etree and written by `serialize`, which declares every namespace once on
the root with a readable prefix (D: for DAV:, the prefixes Exchange's clients knew for its schemas) and
never puts an element with no namespace under a default namespace (RFC 4918 8.3, propnullns).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from .errors import DavError

DAV = "DAV:"
HTTPMAIL = "urn:schemas:httpmail:"
MAILHEADER = "urn:schemas:mailheader:"
CALENDAR = "urn:schemas:calendar:"
CONTACTS = "urn:schemas:contacts:"
EXCHANGE = "http://schemas.microsoft.com/exchange/"
DATATYPES = "urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/"  # Exchange's b:dt="..." attribute
XML_NS = "http://www.w3.org/XML/1998/namespace"

PREFIXES = {DAV: "D", DATATYPES: "b", HTTPMAIL: "e", MAILHEADER: "m", CALENDAR: "cal", CONTACTS: "c",
            EXCHANGE: "ex"}

Key = tuple[str, str]  # (namespace, local name) of a property


def key_of(tag: str) -> Key:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def tag_of(key: Key) -> str:
    return f"{{{key[0]}}}{key[1]}" if key[0] else key[1]


def dav(name: str) -> str:
    return f"{{{DAV}}}{name}"


# --- parsing ------------------------------------------------------------------------------------------------


def parse(body: bytes) -> Element | None:
    """The document element of a request body, or None for an empty body."""
    if not body.strip():
        return None
    try:
        return safe_et.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise DavError(400, f"XML body refused: {type(exc).__name__} (no DTDs or entities)", "rfc4918#20.6")
    except (ParseError, ValueError) as exc:
        raise DavError(400, f"XML body is not well-formed: {exc}", "rfc4918#8.2") from None


def expect(root: Element | None, name: str, section: str) -> Element:
    if root is None or root.tag != dav(name):
        found = "nothing" if root is None else root.tag
        raise DavError(400, f"expected a DAV:{name} document element, got {found}", section)
    return root


@dataclass
class PropfindRequest:
    kind: str  # "allprop" | "propname" | "prop"
    names: list[Key] = field(default_factory=list)
    include: list[Key] = field(default_factory=list)  # allprop's DAV:include
    targets: list[str] = field(default_factory=list)  # BPROPFIND's DAV:target hrefs


def parse_propfind(body: bytes) -> PropfindRequest:
    """RFC 4918 14.20: propfind = (propname | (allprop, include?) | prop); an empty body is allprop."""
    root = parse(body)
    if root is None:
        return PropfindRequest("allprop")
    expect(root, "propfind", "rfc4918#9.1")
    request: PropfindRequest | None = None
    targets: list[str] = []
    include: list[Key] = []
    for child in root:
        if child.tag == dav("prop"):
            request = _one(request, PropfindRequest("prop", [key_of(p.tag) for p in child]))
        elif child.tag == dav("allprop"):
            request = _one(request, PropfindRequest("allprop"))
        elif child.tag == dav("propname"):
            request = _one(request, PropfindRequest("propname"))
        elif child.tag == dav("include"):
            include = [key_of(p.tag) for p in child]
        elif child.tag == dav("target"):
            targets.extend(hrefs(child))
    if request is None:
        raise DavError(400, "DAV:propfind needs one of DAV:prop, DAV:allprop, DAV:propname", "rfc4918#14.20")
    request.include, request.targets = include, targets
    return request


def _one(current, new):
    if current is not None:
        raise DavError(400, "DAV:propfind holds more than one of prop, allprop, propname", "rfc4918#14.20")
    return new


@dataclass
class Instruction:
    op: str  # "set" | "remove"
    key: Key
    element: Element  # the property element as sent (its value, for set)


def parse_propertyupdate(body: bytes) -> tuple[list[Instruction], list[str]]:
    """RFC 4918 14.19: (set | remove)+, in document order; also BPROPPATCH's DAV:target hrefs."""
    root = expect(parse(body), "propertyupdate", "rfc4918#9.2")
    instructions: list[Instruction] = []
    targets: list[str] = []
    for child in root:
        if child.tag in (dav("set"), dav("remove")):
            op = "set" if child.tag == dav("set") else "remove"
            props = [p for p in child if p.tag == dav("prop")]
            if len(props) != 1:
                raise DavError(400, f"DAV:{op} must hold one DAV:prop", "rfc4918#14.26")
            for element in props[0]:
                instructions.append(Instruction(op, key_of(element.tag), element))
        elif child.tag == dav("target"):
            targets.extend(hrefs(child))
    if not instructions:
        raise DavError(400, "DAV:propertyupdate changes nothing", "rfc4918#14.19")
    return instructions, targets


@dataclass
class LockInfo:
    scope: str  # "exclusive" | "shared"
    owner: Element | None


def parse_lockinfo(root: Element) -> LockInfo:
    """RFC 4918 14.11: lockinfo = (lockscope, locktype, owner?); only write locks exist."""
    expect(root, "lockinfo", "rfc4918#9.10")
    scope = kind = None
    owner = None
    for child in root:
        if child.tag == dav("lockscope"):
            inner = [c.tag for c in child]
            if inner == [dav("exclusive")]:
                scope = "exclusive"
            elif inner == [dav("shared")]:
                scope = "shared"
        elif child.tag == dav("locktype"):
            kind = [c.tag for c in child]
        elif child.tag == dav("owner"):
            owner = child
    if scope is None:
        raise DavError(400, "DAV:lockinfo needs a DAV:lockscope of exclusive or shared", "rfc4918#14.13")
    if kind != [dav("write")]:
        raise DavError(422, "only write locks exist (DAV:locktype DAV:write)", "rfc4918#14.15")
    return LockInfo(scope, owner)


def hrefs(element: Element) -> list[str]:
    return [(h.text or "").strip() for h in element if h.tag == dav("href")]


def parse_targets(body: bytes, root_name: str) -> list[str]:
    """Exchange's BCOPY/BMOVE/BDELETE bodies: <D:copy|move|delete><D:target><D:href>...</D:target>."""
    root = expect(parse(body), root_name, "ms-xwdv#bmethods")
    targets: list[str] = []
    for child in root:
        if child.tag == dav("target"):
            targets.extend(hrefs(child))
    if not targets:
        raise DavError(400, f"DAV:{root_name} names no DAV:target hrefs", "ms-xwdv#bmethods")
    return targets


def parse_searchrequest(body: bytes) -> str:
    """Exchange's SEARCH body: <D:searchrequest><D:sql>SELECT ...</D:sql></D:searchrequest>."""
    root = expect(parse(body), "searchrequest", "rfc5323#5.1")
    for child in root:
        if child.tag == dav("sql"):
            return (child.text or "").strip()
    raise DavError(422, "DAV:searchrequest holds no DAV:sql query (the only grammar offered)", "rfc5323#2.4")


# --- writing ------------------------------------------------------------------------------------------------

# XML 1.0 allows tab, LF, CR and everything from 0x20 except surrogates, FFFE and FFFF.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PLAIN = re.compile(r"[A-Za-z0-9 _.,:;/%@#+=()\-]*")  # text that serializes as itself


def E(tag: str, text: str | None = None, *children: Element, **attrs: str) -> Element:
    element = Element(tag, attrs)
    if text is not None:
        element.text = text
    element.extend(children)
    return element


def _escape(text: str, attribute: bool = False) -> str:
    if _PLAIN.fullmatch(text):
        return text  # the common case: nothing to escape or replace
    text = _INVALID.sub("\ufffd", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def serialize(root: Element, declaration: bool = True) -> bytes:
    """UTF-8 XML with every namespace declared once on the root element (prefixes handed out in document
    order as names are written, the declarations put in place at the end)."""
    prefixes: dict[str, str] = {XML_NS: "xml"}
    taken = {"xml"}
    counter = itertools.count()
    out: list[str] = ['<?xml version="1.0" encoding="utf-8"?>\n'] if declaration else []
    names: dict[str, str] = {}

    def qname(name: str) -> str:
        found = names.get(name)
        if found is None:
            if name.startswith("{"):
                ns, _, local = name[1:].partition("}")
                prefix = prefixes.get(ns)
                if prefix is None:
                    prefix = PREFIXES.get(ns)
                    while prefix is None or prefix in taken:
                        prefix = f"ns{next(counter)}"
                    prefixes[ns] = prefix
                    taken.add(prefix)
                found = f"{prefix}:{local}"
            else:
                found = name
            names[name] = found
        return found

    def write(element: Element) -> None:
        out.append("<" + qname(element.tag))
        for name, value in element.attrib.items():
            out.append(f' {qname(name)}="{_escape(value, True)}"')
        if element.text is None and len(element) == 0:
            out.append("/>")
        else:
            out.append(">")
            if element.text:
                out.append(_escape(element.text))
            for child in element:
                write(child)
                if child.tail:
                    out.append(_escape(child.tail))
            out.append("</" + qname(element.tag) + ">")

    at = len(out) + 1  # right after the root's name
    write(root)
    out.insert(at, "".join(f' xmlns:{prefix}="{_escape(ns, True)}"' for ns, prefix in prefixes.items()
                           if ns != XML_NS))
    return "".join(out).encode("utf-8")


def fragment(element: Element) -> str:
    """One element as self-contained XML text (how dead property values with markup are stored)."""
    return serialize(element, declaration=False).decode("utf-8")


def from_fragment(text: str) -> Element:
    return safe_et.fromstring(text.encode("utf-8"), forbid_dtd=True)


# The precondition a propstat status stands for: PROPPATCH answers 403 only for protected properties.
PROPSTAT_CONDITIONS = {403: "cannot-modify-protected-property"}


class Multistatus:
    """RFC 4918 13: a DAV:multistatus of DAV:response elements, each with propstats or one status."""

    def __init__(self) -> None:
        self.root = E(dav("multistatus"))

    def status(self, href: str, code: int, error: str | None = None, description: str | None = None) -> None:
        from .errors import status_line

        response = E(dav("response"), None, E(dav("href"), href), E(dav("status"), status_line(code)))
        if error:
            response.append(E(dav("error"), None, E(dav(error))))
        if description:
            response.append(E(dav("responsedescription"), description))
        self.root.append(response)

    def propstats(self, href: str, groups: dict[int, list[Element]], description: str | None = None) -> Element:
        """`groups`: status code -> the property elements that share it (empty groups are left out). A
        status with a precondition of its own (403 on a protected property, RFC 4918 16) gets a DAV:error
        naming it in its propstat."""
        from .errors import status_line

        response = E(dav("response"), None, E(dav("href"), href))
        for code in sorted(groups):
            if groups[code]:
                propstat = E(dav("propstat"), None, E(dav("prop"), None, *groups[code]),
                             E(dav("status"), status_line(code)))
                if code in PROPSTAT_CONDITIONS:
                    propstat.append(E(dav("error"), None, E(dav(PROPSTAT_CONDITIONS[code]))))
                response.append(propstat)
        if description:
            response.append(E(dav("responsedescription"), description))
        self.root.append(response)
        return response

    def __len__(self) -> int:
        return len(self.root)

    def body(self) -> bytes:
        return serialize(self.root)


def error_body(condition: str) -> bytes:
    """RFC 4918 16: <D:error><D:precondition/></D:error>."""
    return serialize(E(dav("error"), None, E(dav(condition))))
