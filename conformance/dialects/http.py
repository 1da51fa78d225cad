"""HTTP/1.1 on the client side of the harness: writing requests, reading responses, and WebDAV bodies.

Grammar of a response (RFC 9112 sections 4 to 7):

    status-line   = HTTP-version SP status-code SP [ reason-phrase ] CRLF
    HTTP-version  = "HTTP" "/" DIGIT "." DIGIT
    field-line    = field-name ":" OWS field-value OWS CRLF      ; no whitespace before the colon
    message-body  = *OCTET
    chunked-body  = *chunk last-chunk trailer-section CRLF
    chunk         = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    last-chunk    = 1*("0") [ chunk-ext ] CRLF

Length of the body (RFC 9112 section 6.3), in this order: none after HEAD and for 1xx, 204 and 304; the
chunked coding when Transfer-Encoding ends in "chunked"; Content-Length when given; otherwise everything up
to the close of the connection. 1xx responses before the final one are kept as `interim`.

The reader is lenient, like the SMTP and POP3 ones: it never throws on a malformed response, it records
what was wrong in `Response.problems` (bare LF, obsolete line folding, whitespace before a colon, Content-
Length and Transfer-Encoding together, differing Content-Length values, a bad chunk size) and reads on as
far as it sensibly can. Only a connection that breaks or stays silent raises (WireError, from the session).

The multistatus reader (RFC 4918 section 13) parses with defusedxml: a body that declares entities or refers
to external ones is refused (XmlError), never expanded.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable
from urllib.parse import quote, unquote, urlsplit
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from ..wire.session import ConnectionClosed, Session

STATUS_LINE_RE = re.compile(rb"^(HTTP/(\d)\.(\d)) (\d{3})(?: (.*?))?\r?\n$", re.S)
FIELD_NAME_RE = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
CHUNK_SIZE_RE = re.compile(rb"^([0-9A-Fa-f]+)[ \t]*(?:;.*)?\r?\n$", re.S)
MAX_HEADERS = 200
MAX_BODY = 64 * 1024 * 1024  # octets; a response larger than this is cut and a problem recorded
NO_BODY_STATUS = {204, 304}
DAV = "DAV:"


@dataclass
class Response:
    """One HTTP response as the harness read it."""

    version: str  # "HTTP/1.1"; "" when the status line was not one
    status: int  # 0 when the status line could not be parsed
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)  # in order, names as sent
    body: bytes = b""
    method: str = "GET"  # the request method it answers (decides whether a body follows)
    raw_head: list[bytes] = field(default_factory=list)  # status line and field lines exactly as received
    problems: list[str] = field(default_factory=list)
    interim: list["Response"] = field(default_factory=list)  # 1xx responses that came first
    closes: bool = False  # the server ends the connection after this response
    chunked: bool = False

    @property
    def status_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}".rstrip() if self.version else \
            (self.raw_head[0].decode("utf-8", "backslashreplace").rstrip("\r\n") if self.raw_head else "")

    def header(self, name: str) -> str | None:
        """The field's value, repeated fields joined with ", " (RFC 9110 5.3); None when absent."""
        values = self.headers_named(name)
        return ", ".join(values) if values else None

    def headers_named(self, name: str) -> list[str]:
        lower = name.lower()
        return [v for k, v in self.headers if k.lower() == lower]

    def tokens(self, name: str) -> list[str]:
        """The comma-separated elements of a list-valued field, stripped (RFC 9110 5.6.1)."""
        return [t.strip() for v in self.headers_named(name) for t in v.split(",") if t.strip()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def show(self, limit: int = 60) -> str:
        """Status line, fields and body as text, for evidence (long bodies cut)."""
        lines = [self.status_line] + [f"{k}: {v}" for k, v in self.headers]
        if self.body:
            lines.append("")
            lines += self.body.decode("utf-8", "backslashreplace").splitlines()
        if len(lines) > limit:
            lines = lines[:limit - 1] + [f"... ({len(lines) - limit + 1} more lines)"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.status_line


# --- writing requests --------------------------------------------------------------------------------------

BODY_METHODS = {"PUT", "POST", "PROPFIND", "PROPPATCH", "LOCK", "MKCOL", "SEARCH", "BPROPFIND", "BPROPPATCH",
                "BCOPY", "BMOVE", "BDELETE", "REPORT"}


def request_bytes(method: str, target: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"", *,
                  content_length: bool = True) -> bytes:
    """A request as octets: request line, the fields in the order given, Content-Length when there is a body
    (or the method usually has one) and the caller did not give it, the empty line, the body."""
    fields = list(headers)
    names = {k.lower() for k, _ in fields}
    if content_length and "content-length" not in names and "transfer-encoding" not in names and (
            body or method.upper() in BODY_METHODS):
        fields.append(("Content-Length", str(len(body))))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return head.encode("utf-8") + body


def basic_credentials(user: str, password: str) -> str:
    """The Authorization field value for Basic (RFC 7617 section 2): base64 of user-id ":" password, UTF-8."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")


# --- reading responses -------------------------------------------------------------------------------------

def parse_status_line(raw: bytes) -> tuple[str, int, str, list[str]]:
    problems = []
    if not raw.endswith(b"\r\n"):
        problems.append(f"the status line ends with a bare LF, not CRLF: {raw[:80]!r}")
    m = STATUS_LINE_RE.match(raw)
    if not m:
        return "", 0, raw.decode("utf-8", "backslashreplace").rstrip("\r\n"), problems + [
            f"not an HTTP status line: {raw[:80]!r}"]
    return m.group(1).decode(), int(m.group(4)), (m.group(5) or b"").decode("utf-8", "replace"), problems


async def read_response(wire: Session, method: str = "GET", timeout: float | None = None, *,
                        body_for: Callable[[int], bool] | None = None) -> Response:
    """One final response (with any 1xx before it) to a request made with `method`. `body_for(status)`, when
    given, decides whether the body is read at all: when it says no, the response ends after its header section
    and is marked `closes` (the connection cannot be reused), so that a check that only needs the status is not
    held up by a body the server announces but never sends."""
    interim: list[Response] = []
    while True:
        response = await _read_one(wire, method.upper(), timeout, body_for)
        if 100 <= response.status < 200 and response.status != 101:
            interim.append(response)
            continue
        response.interim = interim
        return response


async def _read_one(wire: Session, method: str, timeout: float | None,
                    body_for: Callable[[int], bool] | None = None) -> Response:
    first = await wire.read_line(timeout)
    skipped = 0
    while first in (b"\r\n", b"\n") and skipped < 4:  # stray empty lines before a status line
        skipped += 1
        first = await wire.read_line(timeout)
    version, status, reason, problems = parse_status_line(first)
    if skipped:
        problems.append(f"{skipped} empty line(s) before the status line")
    response = Response(version, status, reason, method=method, raw_head=[first], problems=problems)
    await _read_fields(wire, response, timeout)
    if not version:
        response.closes = True  # we cannot know where this ends; never reuse the connection
        return response
    _connection_fate(response)
    if method == "HEAD" or 100 <= status < 200 or status in NO_BODY_STATUS:
        if method != "HEAD" and status in NO_BODY_STATUS and (response.header("Content-Length") or "0") != "0":
            response.problems.append(f"a {status} response announces a body (Content-Length: "
                                     f"{response.header('Content-Length')}), which it cannot have")
        return response
    if body_for is not None and not body_for(status):
        response.closes = True
        return response
    await _read_body(wire, response, timeout)
    return response


async def _read_fields(wire: Session, response: Response, timeout: float | None) -> None:
    for _ in range(MAX_HEADERS + 1):
        raw = await wire.read_line(timeout)
        response.raw_head.append(raw)
        if raw in (b"\r\n", b"\n"):
            if raw == b"\n":
                response.problems.append("the header section ends with a bare LF, not CRLF")
            return
        if not raw.endswith(b"\r\n"):
            response.problems.append(f"a field line ends with a bare LF: {raw[:80]!r}")
        line = raw.rstrip(b"\r\n")
        if line[:1] in (b" ", b"\t"):
            response.problems.append(f"obsolete line folding (RFC 9112 5.2): {raw[:80]!r}")
            if response.headers:
                name, value = response.headers[-1]
                response.headers[-1] = (name, (value + " " + line.strip().decode("utf-8", "replace")).strip())
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            response.problems.append(f"a field line without a colon: {raw[:80]!r}")
            continue
        if name != name.rstrip() or not FIELD_NAME_RE.match(name.strip() or b"?"):
            response.problems.append(f"whitespace or an invalid character in a field name: {raw[:80]!r}")
        response.headers.append((name.strip().decode("latin-1"), value.strip(b" \t").decode("utf-8", "replace")))
    response.problems.append(f"more than {MAX_HEADERS} header fields; the rest was not read as fields")
    response.closes = True


def _connection_fate(response: Response) -> None:
    options = {t.lower() for t in response.tokens("Connection")}
    if "close" in options or (response.version == "HTTP/1.0" and "keep-alive" not in options):
        response.closes = True


async def _read_body(wire: Session, response: Response, timeout: float | None) -> None:
    codings = [t.lower() for t in response.tokens("Transfer-Encoding")]
    lengths = response.headers_named("Content-Length")
    if codings:
        if lengths:
            response.problems.append("both Transfer-Encoding and Content-Length (RFC 9112 6.3: the "
                                     "Transfer-Encoding wins, and the message ought to be treated as an error)")
        if codings[-1] == "chunked":
            response.chunked = True
            await _read_chunked(wire, response, timeout)
        else:
            response.problems.append(f"Transfer-Encoding {', '.join(codings)} does not end in chunked: the body "
                                     "runs to the close of the connection")
            await _read_to_close(wire, response, timeout)
        return
    if lengths:
        values = {v.strip() for length in lengths for v in length.split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            response.problems.append(f"unusable Content-Length {', '.join(lengths)!r}")
            response.closes = True
            return
        n = int(next(iter(values)))
        if len(lengths) > 1 or "," in lengths[0]:
            response.problems.append(f"Content-Length given more than once: {', '.join(lengths)!r}")
        if n > MAX_BODY:
            response.problems.append(f"a body of {n} octets is more than the harness reads ({MAX_BODY})")
            response.closes = True
            return
        response.body = await wire.read_exactly(n, timeout) if n else b""
        return
    await _read_to_close(wire, response, timeout)


async def _read_chunked(wire: Session, response: Response, timeout: float | None) -> None:
    body = bytearray()
    while True:
        line = await wire.read_line(timeout)
        m = CHUNK_SIZE_RE.match(line)
        if not m:
            response.problems.append(f"a bad chunk-size line: {line[:80]!r}; the rest of the body is lost")
            response.closes = True
            break
        if not line.endswith(b"\r\n"):
            response.problems.append(f"a chunk-size line ends with a bare LF: {line[:80]!r}")
        size = int(m.group(1), 16)
        if size == 0:
            await _read_trailers(wire, response, timeout)
            break
        if len(body) + size > MAX_BODY:
            response.problems.append(f"a chunked body of more than {MAX_BODY} octets; the rest was not read")
            response.closes = True
            break
        body += await wire.read_exactly(size, timeout)
        end = await wire.read_line(timeout)
        if end not in (b"\r\n", b"\n"):
            response.problems.append(f"chunk data is not followed by CRLF: {end[:80]!r}")
            response.closes = True
            break
    response.body = bytes(body)


async def _read_trailers(wire: Session, response: Response, timeout: float | None) -> None:
    for _ in range(MAX_HEADERS):
        line = await wire.read_line(timeout)
        if line in (b"\r\n", b"\n"):
            return
        name, _, value = line.rstrip(b"\r\n").partition(b":")
        response.headers.append((name.strip().decode("latin-1"), value.strip().decode("utf-8", "replace")))


async def _read_to_close(wire: Session, response: Response, timeout: float | None) -> None:
    response.closes = True
    response.body = await wire.wait_closed(timeout)


# --- a connection that makes requests ------------------------------------------------------------------------

class HttpClient:
    """Requests and responses over raw sessions. Every octet still goes through (and is recorded by) a Session.

    `opener` makes a new session (the check's ctx.connect); the client opens one when it has none, and again
    after a response that ended the connection (Connection: close, a body delimited by the close) or when a
    kept-alive connection turns out to have been closed by the server before the request got an answer.
    `authorization` is added to every request that does not say `auth=False`. Lock tokens from LOCK responses
    are remembered in `locks` (path, token) so that cleanup can UNLOCK them."""

    def __init__(self, opener: Callable[[], "object"], *, host: str, authorization: str | None = None,
                 locks: list[tuple[str, str]] | None = None) -> None:
        self.opener = opener
        self.host = host
        self.authorization = authorization
        self.wire: Session | None = None
        self.locks = locks if locks is not None else []
        self.requests = 0  # on the current connection
        self.last: Response | None = None

    async def connect(self) -> Session:
        if self.wire is None or self.wire.closed:
            self.wire = await self.opener()
            self.requests = 0
        return self.wire

    async def request(self, method: str, target: str, headers: Iterable[tuple[str, str]] | dict = (),
                      body: bytes | str = b"", *, auth: bool = True, timeout: float | None = None,
                      host: str | None = None) -> Response:
        fields = list(headers.items()) if isinstance(headers, dict) else list(headers)
        if not any(k.lower() == "host" for k, _ in fields):
            fields.insert(0, ("Host", host or self.host))
        if auth and self.authorization and not any(k.lower() == "authorization" for k, _ in fields):
            fields.append(("Authorization", self.authorization))
        data = request_bytes(method, target, fields, body.encode("utf-8") if isinstance(body, str) else body)
        return await self.exchange(method, data, timeout=timeout, target=target)

    async def exchange(self, method: str, data: bytes, *, timeout: float | None = None, target: str = "") -> Response:
        """Send a request given as octets and read its response; retried once on a fresh connection when a
        reused connection was closed by the server before any of the response arrived."""
        for attempt in (1, 2):
            wire = await self.connect()
            reused = self.requests > 0
            try:
                await wire.send(data)
                self.requests += 1
                response = await read_response(wire, method, timeout)
            except ConnectionClosed as exc:
                if attempt == 1 and reused and not exc.partial:
                    wire.transcript.note(wire.label, "the server had closed the kept-alive connection; "
                                                     "the request goes again on a new one")
                    await wire.close()
                    continue
                raise
            break
        if response.closes:
            await wire.close()
        if method.upper() == "LOCK" and response.status in (200, 201):
            token = lock_token(response)
            if token and target:
                self.locks.append((target, token))
        self.last = response
        return response

    async def close(self) -> None:
        if self.wire is not None:
            await self.wire.close()


def lock_token(response: Response) -> str | None:
    """The lock token of a Lock-Token response field (a Coded-URL, "<" absolute-URI ">"), without brackets."""
    value = (response.header("Lock-Token") or "").strip()
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    return value or None


# --- WebDAV XML -------------------------------------------------------------------------------------------------

class XmlError(ValueError):
    """A body that is not well-formed XML, or one defusedxml refuses (entities, external references)."""


def parse_xml(body: bytes) -> Element:
    try:
        return fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise XmlError(f"refused: {type(exc).__name__}: {exc}") from None
    except ParseError as exc:
        raise XmlError(f"not well-formed XML: {exc}") from None


def clark(name: str) -> str:
    """A property name in Clark notation: "{DAV:}getetag" stays, the shorthand "DAV:getetag" becomes it."""
    if name.startswith("DAV:") and not name.startswith("{"):
        return "{DAV:}" + name[4:]
    return name


def status_code(status_line: str | None) -> int | None:
    """The code of a DAV:status value ("HTTP/1.1 404 Not Found" -> 404)."""
    m = re.match(r"^\s*HTTP/\d+(?:\.\d+)?\s+(\d{3})", status_line or "")
    return int(m.group(1)) if m else None


def text_of(element: Element | None) -> str | None:
    """The text content of an element (all its character data, children's included), stripped."""
    if element is None:
        return None
    return "".join(element.itertext()).strip()


@dataclass
class PropStat:
    status: int | None
    status_line: str
    props: dict[str, Element]  # "{namespace}name" -> the property element
    error: list[str] = field(default_factory=list)  # child element names of DAV:error
    description: str = ""


@dataclass
class DavResponse:
    """One DAV:response of a multistatus."""

    hrefs: list[str]
    status: int | None = None
    status_line: str = ""
    propstats: list[PropStat] = field(default_factory=list)
    error: list[str] = field(default_factory=list)
    description: str = ""
    location: str | None = None

    @property
    def href(self) -> str:
        return self.hrefs[0] if self.hrefs else ""

    @property
    def path(self) -> str:
        return href_path(self.href)

    def prop_status(self, name: str) -> int | None:
        """The propstat status the property was reported with, None when it is not reported."""
        key = clark(name)
        for ps in self.propstats:
            if key in ps.props:
                return ps.status
        return None

    def prop(self, name: str) -> Element | None:
        """The property element, if it was reported with status 200."""
        key = clark(name)
        for ps in self.propstats:
            if ps.status == 200 and key in ps.props:
                return ps.props[key]
        return None

    def value(self, name: str) -> str | None:
        return text_of(self.prop(name))

    def names(self, status: int | None = 200) -> set[str]:
        return {k for ps in self.propstats if status is None or ps.status == status for k in ps.props}

    @property
    def is_collection(self) -> bool | None:
        rt = self.prop("{DAV:}resourcetype")
        return None if rt is None else rt.find("{DAV:}collection") is not None


@dataclass
class Multistatus:
    responses: list[DavResponse]
    description: str = ""
    problems: list[str] = field(default_factory=list)

    def find(self, path: str) -> DavResponse | None:
        """The response for `path` (percent-decoded; a trailing slash does not matter)."""
        want = unquote(path).rstrip("/")
        for r in self.responses:
            if any(href_path(h).rstrip("/") == want for h in r.hrefs):
                return r
        return None

    def paths(self) -> list[str]:
        return [r.path for r in self.responses]


def href_path(href: str) -> str:
    """The percent-decoded path of an href (an absolute URI or an absolute path)."""
    return unquote(urlsplit(href.strip()).path)


def error_conditions(body: bytes) -> list[str]:
    """The condition names inside a DAV:error body ("{DAV:}lock-token-submitted", ...); [] if none."""
    try:
        root = parse_xml(body)
    except XmlError:
        return []
    if root.tag != "{DAV:}error":
        return []
    return [child.tag for child in root]


def parse_multistatus(body: bytes) -> Multistatus:
    """A DAV:multistatus body. Raises XmlError when it is not XML or its root is not DAV:multistatus."""
    root = parse_xml(body)
    if root.tag != "{DAV:}multistatus":
        raise XmlError(f"the root element is {root.tag}, not {{DAV:}}multistatus")
    result = Multistatus(responses=[], description=text_of(root.find("{DAV:}responsedescription")) or "")
    for el in root:
        if el.tag == "{DAV:}response":
            result.responses.append(_response(el, result.problems))
        elif el.tag != "{DAV:}responsedescription":
            result.problems.append(f"unexpected element {el.tag} in multistatus")
    return result


def _response(el: Element, problems: list[str]) -> DavResponse:
    hrefs = [(h.text or "").strip() for h in el.findall("{DAV:}href")]
    if not hrefs:
        problems.append("a DAV:response without DAV:href (RFC 4918 13)")
    status_line = text_of(el.find("{DAV:}status")) or ""
    response = DavResponse(hrefs=hrefs, status=status_code(status_line) if status_line else None,
                           status_line=status_line,
                           description=text_of(el.find("{DAV:}responsedescription")) or "")
    error = el.find("{DAV:}error")
    if error is not None:
        response.error = [c.tag for c in error]
    location = el.find("{DAV:}location/{DAV:}href")
    if location is not None:
        response.location = (location.text or "").strip()
    for ps in el.findall("{DAV:}propstat"):
        line = text_of(ps.find("{DAV:}status")) or ""
        prop = ps.find("{DAV:}prop")
        perr = ps.find("{DAV:}error")
        response.propstats.append(PropStat(
            status=status_code(line), status_line=line,
            props={p.tag: p for p in (prop if prop is not None else [])},
            error=[c.tag for c in perr] if perr is not None else [],
            description=text_of(ps.find("{DAV:}responsedescription")) or ""))
        if prop is None:
            problems.append(f"a propstat of {hrefs[:1]} without DAV:prop")
        if not line:
            problems.append(f"a propstat of {hrefs[:1]} without DAV:status")
    if not response.propstats and not status_line:
        problems.append(f"the response for {hrefs[:1]} has neither a status nor a propstat (RFC 4918 14.24)")
    return response


# --- building request bodies -------------------------------------------------------------------------------------

XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'


def _split(name: str) -> tuple[str, str]:
    key = clark(name)
    if key.startswith("{"):
        ns, _, local = key[1:].partition("}")
        return ns, local
    return "", key


class _Names:
    """Namespace prefixes for a body: DAV: is D, others are n1, n2, ... in order of first use."""

    def __init__(self) -> None:
        self.prefixes: dict[str, str] = {DAV: "D"}

    def tag(self, name: str) -> str:
        ns, local = _split(name)
        if not ns:
            return local
        if ns not in self.prefixes:
            self.prefixes[ns] = f"n{len(self.prefixes)}"
        return f"{self.prefixes[ns]}:{local}"

    def declarations(self) -> str:
        return " ".join(f'xmlns:{p}="{xml_escape(ns)}"' for ns, p in self.prefixes.items())


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def propfind_body(props: Iterable[str] = (), *, allprop: bool = False, propname: bool = False,
                  include: Iterable[str] = ()) -> bytes:
    names = _Names()
    if propname:
        inner = "<D:propname/>"
    elif allprop:
        inc = "".join(f"<{names.tag(p)}/>" for p in include)
        inner = "<D:allprop/>" + (f"<D:include>{inc}</D:include>" if inc else "")
    else:
        inner = "<D:prop>" + "".join(f"<{names.tag(p)}/>" for p in props) + "</D:prop>"
    return (XML_DECL + f"<D:propfind {names.declarations()}>{inner}</D:propfind>").encode("utf-8")


def proppatch_body(operations: Iterable[tuple[str, str, str | None]]) -> bytes:
    """A propertyupdate from (("set"|"remove"), property name, value) in document order. A value is text
    (escaped here) unless it starts with "<", then it is inserted as XML."""
    names = _Names()
    parts = []
    for op, name, value in operations:
        tag = names.tag(name)
        if op == "remove":
            parts.append(f"<D:remove><D:prop><{tag}/></D:prop></D:remove>")
        else:
            content = value if (value or "").startswith("<") else xml_escape(value or "")
            parts.append(f"<D:set><D:prop><{tag}>{content}</{tag}></D:prop></D:set>")
    return (XML_DECL + f"<D:propertyupdate {names.declarations()}>{''.join(parts)}</D:propertyupdate>").encode()


def lockinfo_body(scope: str = "exclusive", owner: str = "wireproof") -> bytes:
    return (XML_DECL + '<D:lockinfo xmlns:D="DAV:">'
            f"<D:lockscope><D:{scope}/></D:lockscope><D:locktype><D:write/></D:locktype>"
            f"<D:owner>{xml_escape(owner)}</D:owner></D:lockinfo>").encode("utf-8")


def path_join(collection: str, *segments: str) -> str:
    """A path below `collection` (which ends in "/"), each segment percent-encoded."""
    out = collection if collection.endswith("/") else collection + "/"
    return out + "/".join(quote(s, safe="") for s in segments)


def host_field(host: str, port: int, tls: bool = False) -> str:
    """The Host field value for an endpoint (RFC 9110 7.2): the port only when it is not the scheme's default."""
    name = f"[{host}]" if ":" in host else host
    return name if port == (443 if tls else 80) else f"{name}:{port}"
