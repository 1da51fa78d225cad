"""The NNTP virtual server: public folders are newsgroups, their items are articles numbered by UID, so an
article posted here is an item of the folder (seen over IMAP and WebDAV too), and a message put into the
folder another way is simply the next article number."""
from __future__ import annotations

import calendar
import re
import secrets
import time
from email.utils import formatdate

from ..protocols import nntp
from ..protocols.imap import headers as hdr
from ..store.naming import child_url
from .base import Session, VirtualServerHost

OVERVIEW_FORMAT = ["Subject:", "From:", "Date:", "Message-ID:", "References:", ":bytes", ":lines"]
REQUIRED = ("From", "Subject", "Newsgroups")  # RFC 5536 3.1 (Message-ID, Date and Path the server adds)


def group_name(path: str, newsgroup: str | None) -> str:
    """A public folder's newsgroup: the name the directory gives, else one derived from its path."""
    if newsgroup:
        return newsgroup
    return ".".join(re.sub(r"[^a-z0-9+_-]", "_", part.lower()) for part in path.split("/"))


def folder_url(path: str) -> str:
    url = "/public/"
    for part in path.split("/"):
        url = child_url(url, part, folder=True)
    return url


class NntpSession(Session):
    def __init__(self, host: "NntpHost", link) -> None:
        super().__init__(host, link)
        cfg = host.config
        self.machine = nntp.NntpServer(nntp.NntpConfig(
            hostname=host.services.hostname, banner=cfg.banner, max_line=cfg.limits.line_length,
            max_article=cfg.limits.message_size, starttls=cfg.tls == "starttls", tls_active=cfg.tls == "implicit",
            sasl_mechanisms=tuple(m for m in cfg.auth_methods if m == "PLAIN"),
            user_pass="USER" in cfg.auth_methods or "PLAIN" in cfg.auth_methods,
            plaintext_auth=cfg.plaintext_auth))
        self.info = None  # the selected group's GroupInfo, as the store last returned it

    # --- events ----------------------------------------------------------------------------------------------

    async def handle(self, event: object) -> None:
        m = self.machine
        if isinstance(event, nntp.Request):
            await getattr(self, f"req_{event.name.lower().replace('.', '_')}")(event.args)
        elif isinstance(event, nntp.Posted):
            await self.post(event.article)
        elif isinstance(event, nntp.Login):
            user = self.host.services.directory.authenticate(event.user, event.password)
            m.login_ok(user.alias) if user is not None else m.login_failed()
        elif isinstance(event, nntp.StartTls):
            await self.upgrade()
        elif isinstance(event, nntp.Closed):
            await self.flush()
            self.finish()
        else:
            await super().handle(event)

    def idle_message(self) -> bytes:
        return b"400 Idle timeout, closing connection\r\n"

    def shutdown_message(self) -> bytes:
        return b"400 Service shutting down\r\n"

    # --- groups -----------------------------------------------------------------------------------------------

    async def _group_info(self, name: str):
        url = self.host.groups().get(name.lower())
        return None if url is None else await self.host.channel.call("nntp_group", url=url)

    @staticmethod
    def _water(info) -> tuple[int, int, int]:
        """(count, low, high); an empty group reports low = high + 1 (RFC 3977 6.1.1.2)."""
        numbers = [n for n, _ in info.articles]
        high = numbers[-1] if numbers else info.next_number - 1
        return len(numbers), numbers[0] if numbers else high + 1, high

    async def req_group(self, args: list[str]) -> None:
        if len(args) != 1:
            return self.machine.respond(501, "Syntax: GROUP name")
        info = await self._group_info(args[0])
        if info is None:
            return self.machine.respond(411, f"No such newsgroup {args[0][:60]}")
        count, low, high = self._water(info)
        self.info = info
        self.machine.select(args[0], low if count else None)
        self.machine.respond(211, f"{count} {low} {high} {args[0]}")

    async def req_listgroup(self, args: list[str]) -> None:
        if len(args) > 2:
            return self.machine.respond(501, "Syntax: LISTGROUP [name [range]]")
        name = args[0] if args else self.machine.group
        if name is None:
            return self.machine.respond(412, "No newsgroup selected")
        info = await self._group_info(name)
        if info is None:
            return self.machine.respond(411, f"No such newsgroup {name[:60]}")
        count, low, high = self._water(info)
        numbers = [n for n, _ in info.articles]
        if len(args) == 2:
            bounds = nntp.parse_range(args[1], high)
            if bounds is None:
                return self.machine.respond(501, "Bad range")
            numbers = [n for n in numbers if bounds[0] <= n <= bounds[1]]
        self.info = info
        self.machine.select(name, low if count else None)
        self.machine.respond(211, f"{count} {low} {high} {name} list follows", [str(n).encode() for n in numbers])

    async def _refresh(self):
        """The selected group as it is now (articles come and go between commands)."""
        if self.machine.group is None:
            return None
        self.info = await self._group_info(self.machine.group)
        return self.info

    async def _step(self, forward: bool) -> None:
        name = "NEXT" if forward else "LAST"
        info = await self._refresh()
        if info is None:
            return self.machine.respond(412, "No newsgroup selected")
        if self.machine.pointer is None:
            return self.machine.respond(420, "No current article selected")
        numbers = [n for n, _ in info.articles]
        candidates = [n for n in numbers if n > self.machine.pointer] if forward else \
            [n for n in numbers if n < self.machine.pointer]
        if not candidates:
            return self.machine.respond(421 if forward else 422, f"No {'next' if forward else 'previous'} article")
        number = candidates[0] if forward else candidates[-1]
        self.machine.point(number)
        raw = await self._article(info.url, number)
        self.machine.respond(223, f"{number} {self._message_id(raw)} retrieved by {name}")

    async def req_date(self, args: list[str]) -> None:
        self.machine.respond(111, time.strftime("%Y%m%d%H%M%S", time.gmtime()))  # UTC (RFC 3977 7.1.2)

    async def req_next(self, args: list[str]) -> None:
        await (self._step(True) if not args else self._syntax("NEXT takes no arguments"))

    async def req_last(self, args: list[str]) -> None:
        await (self._step(False) if not args else self._syntax("LAST takes no arguments"))

    async def _syntax(self, text: str) -> None:
        self.machine.respond(501, text)

    # --- articles --------------------------------------------------------------------------------------------

    async def _article(self, url: str, number: int) -> bytes | None:
        key = (url.casefold(), number)
        body = self.host.cache.get(key)
        if body is None:
            heap = self.host.services.heap
            handle = await self.host.channel.call("nntp_article", url=url, number=number)
            if handle is None:
                return None
            try:
                body = bytes(heap.view(handle))
            finally:
                heap.release(handle)
            self.host.cache[key] = body
        return body

    @staticmethod
    def _message_id(raw: bytes | None) -> str:
        found = hdr.first(hdr.fields(raw[:hdr.header_end(raw, 0, len(raw))]), "Message-ID") if raw else None
        return found or "<unknown@wireproof.invalid>"

    async def _resolve(self, args: list[str]):
        """(number shown, folder, number, raw) for ARTICLE/HEAD/BODY/STAT, or None after the error reply."""
        m = self.machine
        if len(args) > 1:
            m.respond(501, "Syntax: [number | <message-id>]")
            return None
        if args and args[0].startswith("<"):
            if not nntp.is_message_id(args[0]):
                m.respond(501, "Malformed message-id")
                return None
            found = await self.host.channel.call("nntp_find", urls=list(self.host.groups().values()),
                                                 message_id=args[0])
            if found is None:
                m.respond(430, "No article with that message-id")
                return None
            url, number = found
            return 0, url, number, await self._article(url, number)  # 0: the pointer is not used (6.2.1.2)
        if args and not (args[0].isascii() and args[0].isdigit()):
            # a syntax error is 501 whatever the state, a group selected or not (RFC 3977 3.2.1)
            m.respond(501, "Syntax: an article number or a <message-id>")
            return None
        info = await self._refresh()
        if info is None:
            m.respond(412, "No newsgroup selected")
            return None
        if not args:
            if m.pointer is None:
                m.respond(420, "Current article number is invalid")
                return None
            number = m.pointer
        else:
            number = int(args[0])
        raw = await self._article(info.url, number)
        if raw is None:
            m.respond(423 if args else 420, "No article with that number" if args else
                      "Current article number is invalid")
            return None
        m.point(number)
        return number, info.url, number, raw

    async def _retrieve(self, args: list[str], code: int, part: str) -> None:
        found = await self._resolve(args)
        if found is None:
            return
        shown, _url, _number, raw = found
        head_end = hdr.header_end(raw, 0, len(raw))
        text = f"{shown} {self._message_id(raw)}"
        if part == "article":
            self.machine.respond_article(code, text, raw)
        elif part == "head":
            header = raw[:head_end]
            self.machine.respond_article(code, text, header[:len(header) - len(hdr.blank_line(header))])
        elif part == "body":
            self.machine.respond_article(code, text, raw[head_end:])
        else:
            self.machine.respond(code, text)

    async def req_article(self, args: list[str]) -> None:
        await self._retrieve(args, 220, "article")

    async def req_head(self, args: list[str]) -> None:
        await self._retrieve(args, 221, "head")

    async def req_body(self, args: list[str]) -> None:
        await self._retrieve(args, 222, "body")

    async def req_stat(self, args: list[str]) -> None:
        await self._retrieve(args, 223, "stat")

    # --- overview ----------------------------------------------------------------------------------------------

    async def _targets(self, args: list[str]):
        """[(number shown, raw)] for OVER/HDR's [range | message-id] argument, or None after the error reply."""
        m = self.machine
        if args and args[0].startswith("<"):
            found = await self._resolve(args[:1])
            return None if found is None else [(0, found[3])]
        if args and nntp.parse_range(args[0], 0) is None:
            m.respond(501, "Bad range")  # syntax first, a group selected or not (RFC 3977 3.2.1)
            return None
        info = await self._refresh()
        if info is None:
            m.respond(412, "No newsgroup selected")
            return None
        if not args:
            if m.pointer is None:
                m.respond(420, "Current article number is invalid")
                return None
            raw = await self._article(info.url, m.pointer)
            if raw is None:
                m.respond(420, "Current article number is invalid")
                return None
            return [(m.pointer, raw)]
        _, _, high = self._water(info)
        bounds = nntp.parse_range(args[0], high)
        if bounds is None:
            m.respond(501, "Bad range")
            return None
        numbers = [n for n, _ in info.articles if bounds[0] <= n <= bounds[1]]
        if not numbers:
            m.respond(423, "No articles in that range")
            return None
        return [(n, await self._article(info.url, n)) for n in numbers]

    async def req_over(self, args: list[str]) -> None:
        if len(args) > 1:
            return self.machine.respond(501, "Syntax: OVER [range | <message-id>]")
        targets = await self._targets(args)
        if targets is None:
            return
        lines = [("\t".join([str(n)] + overview(raw))).encode("utf-8", "surrogateescape") for n, raw in targets]
        self.machine.respond(224, "Overview information follows", lines)

    async def req_hdr(self, args: list[str]) -> None:
        if not 1 <= len(args) <= 2:
            return self.machine.respond(501, "Syntax: HDR field [range | <message-id>]")
        field = args[0]
        targets = await self._targets(args[1:])
        if targets is None:
            return
        lines = [f"{n} {header_value(raw, field)}".encode("utf-8", "surrogateescape") for n, raw in targets]
        self.machine.respond(225, "Headers follow", lines)

    # --- lists ---------------------------------------------------------------------------------------------------

    async def req_list(self, args: list[str]) -> None:
        kind = args[0].upper() if args else "ACTIVE"
        pattern = args[1] if len(args) > 1 else "*"
        if len(args) > 2:
            return self.machine.respond(501, "Syntax: LIST [keyword [wildmat]]")
        groups = {name: url for name, url in self.host.groups().items() if nntp.wildmat(pattern, name)}
        if kind == "ACTIVE":
            lines = []
            for name, url in sorted(groups.items()):
                info = await self.host.channel.call("nntp_group", url=url)
                if info is not None:
                    _, low, high = self._water(info)
                    lines.append(f"{name} {high} {low} {'y' if self.host.posting else 'n'}".encode())
            return self.machine.respond(215, "List of newsgroups follows", lines)
        if kind == "NEWSGROUPS":
            lines = [f"{name}\t{self.host.descriptions().get(name, '')}".encode() for name in sorted(groups)]
            return self.machine.respond(215, "Descriptions follow", lines)
        if kind == "ACTIVE.TIMES":
            lines = [f"{name} {int(self.host.created(name))} wireproof".encode() for name in sorted(groups)]
            return self.machine.respond(215, "Creation times follow", lines)
        if kind == "OVERVIEW.FMT" and len(args) == 1:
            return self.machine.respond(215, "Order of fields in overview database",
                                        [f.encode() for f in OVERVIEW_FORMAT])
        if kind == "HEADERS" and len(args) <= 2 and (len(args) < 2 or args[1].upper() in ("MSGID", "RANGE")):
            return self.machine.respond(215, "Headers and metadata items supported", [b":", b":bytes", b":lines"])
        if kind in ("OVERVIEW.FMT", "HEADERS") or kind not in nntp.KNOWN_LIST_KEYWORDS:
            # an argument the keyword does not take, or a keyword nobody defined (RFC 3977 7.6.1)
            return self.machine.respond(501, f"Syntax error in LIST {kind[:20]}")
        self.machine.respond(503, f"LIST {kind[:20]} is not kept by this server")  # known, not maintained

    def _since(self, args: list[str]) -> float | None:
        """yyyymmdd (or yymmdd) hhmmss [GMT] (RFC 3977 7.3.2); the server's time zone is UTC anyway."""
        if len(args) not in (2, 3) or (len(args) == 3 and args[2].upper() != "GMT"):
            return None
        date, clock = args[0], args[1]
        if not (date.isdigit() and clock.isdigit() and len(date) in (6, 8) and len(clock) == 6):
            return None
        if len(date) == 6:  # yymmdd: the century closest to now (RFC 3977 7.3.2)
            now = time.gmtime().tm_year
            year = int(date[:2]) + now - now % 100
            year += 100 if year < now - 50 else -100 if year > now + 49 else 0
            date = f"{year:04d}{date[2:]}"
        try:
            return float(calendar.timegm(time.strptime(date + clock, "%Y%m%d%H%M%S")))
        except ValueError:
            return None

    async def req_newgroups(self, args: list[str]) -> None:
        since = self._since(args)
        if since is None:
            return self.machine.respond(501, "Syntax: NEWGROUPS yyyymmdd hhmmss [GMT]")
        lines = []
        for name, url in sorted(self.host.groups().items()):
            if self.host.created(name) >= since:
                info = await self.host.channel.call("nntp_group", url=url)
                _, low, high = self._water(info)
                lines.append(f"{name} {high} {low} {'y' if self.host.posting else 'n'}".encode())
        self.machine.respond(231, "List of new newsgroups follows", lines)

    async def req_newnews(self, args: list[str]) -> None:
        since = self._since(args[1:]) if args else None
        if since is None:
            return self.machine.respond(501, "Syntax: NEWNEWS wildmat yyyymmdd hhmmss [GMT]")
        ids = []
        for name, url in sorted(self.host.groups().items()):
            if nntp.wildmat(args[0], name):
                info = await self.host.channel.call("nntp_group", url=url)
                for number, arrival in info.articles:
                    if arrival >= since:
                        ids.append(self._message_id(await self._article(url, number)).encode())
        self.machine.respond(230, "List of new articles follows", sorted(set(ids), key=ids.index))

    # --- POST ------------------------------------------------------------------------------------------------------

    async def post(self, article: bytes) -> None:
        m = self.machine
        head_end = hdr.header_end(article, 0, len(article))
        fields = hdr.fields(article[:head_end])
        missing = [name for name in REQUIRED if hdr.first(fields, name) is None]
        if missing:
            return m.respond(441, f"Posting failed: no {', '.join(missing)} header")
        names = [g.strip() for g in (hdr.first(fields, "Newsgroups") or "").split(",") if g.strip()]
        groups = self.host.groups()
        urls = [groups[g.lower()] for g in names if g.lower() in groups]
        if not urls:
            return m.respond(441, "Posting failed: none of its newsgroups is carried here")
        message_id = hdr.first(fields, "Message-ID")
        extra = []
        if message_id is None:
            message_id = f"<{secrets.token_hex(8)}@{self.host.services.hostname}>"
            extra.append(f"Message-ID: {message_id}")
        elif not nntp.is_message_id(message_id):
            return m.respond(441, "Posting failed: malformed Message-ID")
        elif await self.host.channel.call("nntp_find", urls=list(groups.values()), message_id=message_id):
            return m.respond(441, f"Posting failed: {message_id} already exists")  # RFC 5536 3.1.3
        if hdr.first(fields, "Date") is None:
            extra.append(f"Date: {formatdate(usegmt=True)}")
        if hdr.first(fields, "Path") is None:
            extra.append(f"Path: {self.host.services.hostname}!not-for-mail")
        prefix = "".join(line + "\r\n" for line in extra).encode()
        heap = self.host.services.heap
        handle = heap.put(prefix + article)
        try:
            await self.host.channel.call("nntp_post", urls=urls, blob=handle)
        finally:
            heap.release(handle)
        for url in urls:
            if self.host.services.hub is not None:
                self.host.services.hub.changed(url)  # IMAP sessions on the public folder see it
        m.respond(240, f"Article received {message_id}")


def overview(raw: bytes | None) -> list[str]:
    """The OVERVIEW.FMT fields of an article (RFC 3977 8.3): headers unfolded, TAB/CR/LF as spaces."""
    if raw is None:
        return [""] * len(OVERVIEW_FORMAT)
    head_end = hdr.header_end(raw, 0, len(raw))
    fields = hdr.fields(raw[:head_end])
    body = raw[head_end:]
    out = [clean(hdr.first(fields, name[:-1]) or "") for name in OVERVIEW_FORMAT[:5]]
    return out + [str(len(raw)), str(body.count(b"\n"))]


def header_value(raw: bytes | None, field: str) -> str:
    if raw is None:
        return ""
    head_end = hdr.header_end(raw, 0, len(raw))
    if field.lower() == ":bytes":
        return str(len(raw))
    if field.lower() == ":lines":
        return str(raw[head_end:].count(b"\n"))
    return clean(hdr.first(hdr.fields(raw[:head_end]), field) or "")


def clean(value: str) -> str:
    return re.sub(r"[\t\r\n]", " ", value)


class NntpHost(VirtualServerHost):
    session_class = NntpSession
    busy_message = b"400 Too many connections, try again later\r\n"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cache: dict[tuple[str, int], bytes] = {}  # articles never change once posted
        self._created: dict[str, float] = {}

    @property
    def posting(self) -> bool:
        return True

    def groups(self) -> dict[str, str]:
        """newsgroup name (lower case) -> public folder URL, from the directory's public folders."""
        return {group_name(pf.path, pf.newsgroup).lower(): folder_url(pf.path)
                for pf in self.services.directory.public_folders.values()}

    def descriptions(self) -> dict[str, str]:
        return {group_name(pf.path, pf.newsgroup).lower(): pf.description
                for pf in self.services.directory.public_folders.values()}

    def created(self, name: str) -> float:
        """When this server first carried the group (for NEWGROUPS and LIST ACTIVE.TIMES)."""
        return self._created.setdefault(name, time.time())
