"""The metabase (what the virtual servers read) and DS2MB, the service that fills it from the directory.

In Exchange 2003 the virtual servers were IIS services configured from the IIS metabase, while
Exchange's configuration lived in Active Directory; the DS2MB process copied it one way, AD to
metabase. An administrator could still edit the metabase directly (MetaEdit, adsutil), but DS2MB
overwrote such edits at its next pass. This module models exactly that: `Metabase` is a flat tree
of keys, `UpdateService` replicates a `Directory` into it on change (debounced) and on an interval,
and every direct edit, and every overwrite of one, is an `Event` in an `EventLog`.

Key layout. Each virtual server is one instance `/LM/<service>/<n>`, with <service> SMTPSVC, POP3SVC,
IMAP4SVC, NNTPSVC or W3SVC and <n> = 1, 2, ... assigned in directory order at the first replication
and kept while the server exists (a new server takes the lowest free number). Under it:

    key                       value                          from VirtualServer / Directory
    KeyType                   "IIsSmtpServer", ...           protocol (IIs{Smtp,Pop3,Imap,Nntp,Web}Server)
    DirectoryId               "smtp-1"                       id: maps the instance back to the directory
    ServerComment             "Default SMTP Virtual Server"  name
    ServerAutoStart           True                           enabled
    ServerBindings            "127.0.0.1:0:"                 bind, port ("ip:port:host-header"), tls none/starttls
    SecureBindings            "127.0.0.1:0:"                 the same, instead, when tls is implicit
    StartTls                  True                           tls == "starttls"
    AuthMethods               ["PLAIN", "LOGIN"]             auth_methods (a MULTISZ)
    PlaintextAuth             True                           plaintext_auth
    ConnectResponse           ""                             banner
    FullyQualifiedDomainName  "exch01.wireproof.test"        organization.fqdn
    MaxLineLength             4096                           limits.line_length
    MaxMessageSize            10485760                       limits.message_size
    MaxRecipients             5000                           limits.recipients
    MaxConnections            200                            limits.connections
    ConnectionTimeout         600.0                          limits.idle_timeout (seconds)
    MaxLiteralSize            10485760                       limits.literal_size

and, under every SMTP instance, one subtree per event sink binding (as smtpreg.vbs registered them
per instance): `EventManager/Bindings/<sink id>/{Event, Sink, Priority, Rule, Enabled}`.
IPv6 binds are written in brackets ("[::1]:0:"); an empty IP on reading means all addresses.
Paths are case-sensitive here (IIS's were not).

Timing is sans-I/O, as in aioquic: the clock is injected, deadlines are numbers, `run_due()` acts
when one has passed; `run_forever()` is the thin asyncio adapter around them.
"""
from __future__ import annotations

import asyncio
import collections
import re
import threading
import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from simulator.directory import Directory, Limits, SinkBinding, VirtualServer

SERVICES = {"smtp": "SMTPSVC", "pop3": "POP3SVC", "imap": "IMAP4SVC", "nntp": "NNTPSVC", "http": "W3SVC"}
KEY_TYPES = {"smtp": "IIsSmtpServer", "pop3": "IIsPop3Server", "imap": "IIsImapServer",
             "nntp": "IIsNntpServer", "http": "IIsWebServer"}
PROTOCOL_OF = {service: protocol for protocol, service in SERVICES.items()}
_ROOT = re.compile(r"/LM/([A-Z0-9]+SVC)/(\d+)(?=/|$)")
_LIMIT_KEYS = {"line_length": "MaxLineLength", "message_size": "MaxMessageSize", "recipients": "MaxRecipients",
               "connections": "MaxConnections", "idle_timeout": "ConnectionTimeout", "literal_size": "MaxLiteralSize"}
_SINK_KEYS = {"event": "Event", "sink": "Sink", "priority": "Priority", "rule": "Rule", "enabled": "Enabled"}
_SINKS = "EventManager/Bindings/"
_ABSENT = object()  # a key that is not there, distinct from any value


# -- event log ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    time: float
    source: str  # "metabase", "ds2mb", ...
    kind: str  # "direct-edit", "overwrite", "replicate", "unreadable", "error", ...
    detail: str  # one readable line
    data: Mapping[str, object] = field(default_factory=dict)  # the same facts, for programs


class EventLog:
    """Append-only, bounded (the oldest events are dropped and counted), shared across the simulator."""

    def __init__(self, capacity: int = 10_000, *, clock: Callable[[], float] = _time.monotonic) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: {capacity} must be at least 1")
        self.capacity = capacity
        self.dropped = 0
        self._clock = clock
        self._events: collections.deque[Event] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()  # the store logs from its own thread

    def add(self, source: str, kind: str, detail: str, *, time: float | None = None, **data: object) -> Event:
        event = Event(self._clock() if time is None else time, source, kind, detail, data)
        with self._lock:
            if len(self._events) == self.capacity:
                self.dropped += 1
            self._events.append(event)
        return event

    def events(self, kind: str | None = None, *, source: str | None = None) -> list[Event]:
        with self._lock:
            snapshot = list(self._events)
        return [e for e in snapshot if (kind is None or e.kind == kind) and (source is None or e.source == source)]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

    def __len__(self) -> int:
        return len(self._events)


# -- the image: directory -> keys, and keys -> virtual servers --------------------------------------
def binding(bind: str, port: int) -> str:
    return f"[{bind}]:{port}:" if ":" in bind else f"{bind}:{port}:"


def parse_binding(text: object) -> tuple[str, int]:
    """"ip:port:host-header" -> (ip, port); "" as ip means all addresses."""
    if not isinstance(text, str):
        raise ValueError(f"must be a string 'ip:port:', got {text!r}")
    host, sep, rest = text[1:].partition("]:") if text.startswith("[") else text.partition(":")
    port, sep2, _host_header = rest.partition(":")
    if not sep or not sep2 or not port.isdigit():
        raise ValueError(f"{text!r} is not of the form 'ip:port:'")
    return host or "0.0.0.0", int(port)


def instance_keys(server: VirtualServer, fqdn: str, sinks: Iterable[SinkBinding] = ()) -> dict[str, object]:
    """The keys of one instance, relative to its root."""
    keys: dict[str, object] = {
        "KeyType": KEY_TYPES[server.protocol],
        "DirectoryId": server.id,
        "ServerComment": server.name,
        "ServerAutoStart": server.enabled,
        "SecureBindings" if server.tls == "implicit" else "ServerBindings": binding(server.bind, server.port),
        "StartTls": server.tls == "starttls",
        "AuthMethods": list(server.auth_methods),
        "PlaintextAuth": server.plaintext_auth,
        "ConnectResponse": server.banner,
        "FullyQualifiedDomainName": fqdn,
    }
    keys.update({key: getattr(server.limits, name) for name, key in _LIMIT_KEYS.items()})
    if server.protocol == "smtp":
        for sink in sinks:
            keys.update({f"{_SINKS}{sink.id}/{key}": getattr(sink, name) for name, key in _SINK_KEYS.items()})
    return keys


def build_image(directory: Directory, instances: Mapping[str, tuple[str, int]]) -> dict[str, object]:
    """Every key the metabase should hold for `directory`, given each server's (service, number)."""
    image = {}
    for server in directory.virtual_servers.values():
        service, number = instances[server.id]
        root = f"/LM/{service}/{number}"
        for key, value in instance_keys(server, directory.organization.fqdn, directory.sinks.values()).items():
            image[f"{root}/{key}"] = value
    return image


def server_from_keys(protocol: str, keys: Mapping[str, object]) -> VirtualServer:
    """Rebuild a virtual server from its instance's keys (relative names); ValueError names a bad key."""
    def need(key: str) -> object:
        if key not in keys:
            raise ValueError(f"{key}: missing")
        return keys[key]

    secure = "SecureBindings" in keys
    try:
        bind, port = parse_binding(need("SecureBindings" if secure else "ServerBindings"))
    except ValueError as exc:
        raise ValueError(f"{'SecureBindings' if secure else 'ServerBindings'}: {exc}") from None
    start_tls = need("StartTls")
    if not isinstance(start_tls, bool):
        raise ValueError(f"StartTls: must be true or false, got {start_tls!r}")
    tls = "implicit" if secure else ("starttls" if start_tls else "none")
    methods = need("AuthMethods")
    try:
        limits = Limits(**{name: need(key) for name, key in _LIMIT_KEYS.items()})
        return VirtualServer(id=need("DirectoryId"), protocol=protocol, name=need("ServerComment"), bind=bind,
                             port=port, tls=tls, auth_methods=list(methods) if isinstance(methods, list) else methods,
                             plaintext_auth=need("PlaintextAuth"), banner=need("ConnectResponse"), limits=limits,
                             enabled=need("ServerAutoStart"))
    except TypeError as exc:
        raise ValueError(str(exc)) from None


# -- the metabase ---------------------------------------------------------------------------------
@dataclass
class ImageDiff:
    """What writing an image would do; computed by `Metabase.diff`, carried out by `Metabase.apply`."""

    writes: dict[str, object]
    removals: list[str]
    overwritten: dict[str, tuple[object, object]]  # path -> (directly edited value, value restored); None = absent
    servers: set[str]  # ids of the virtual servers whose keys change
    drift: list[str]  # the direct edits this image settles


class Metabase:
    def __init__(self, *, log: EventLog | None = None) -> None:
        self.log = log if log is not None else EventLog()
        self._values: dict[str, object] = {}
        self._drift: dict[str, object] = {}  # directly edited path -> value it was given (_ABSENT: deleted)
        self._counter = 0
        self._subscribers: list[Callable[[set[str]], None]] = []

    # -- reading ----------------------------------------------------------------------------------
    def get(self, path: str) -> object | None:
        value = self._values.get(path)
        return list(value) if isinstance(value, list) else value

    def keys(self, prefix: str = "/") -> list[str]:
        """Keys at or under `prefix` ("/LM/SMTPSVC/1" matches its own keys, not "/LM/SMTPSVC/10/...")."""
        base = prefix.rstrip("/") + "/"
        return sorted(k for k in self._values if k == prefix or k.startswith(base))

    @property
    def change_counter(self) -> int:
        return self._counter

    @property
    def drift(self) -> dict[str, object | None]:
        """Direct edits not yet overwritten: path -> the value given (None when the key was deleted)."""
        return {path: None if value is _ABSENT else value for path, value in self._drift.items()}

    def instances(self) -> dict[str, tuple[str, int]]:
        """Directory id -> (service, instance number), for every instance root with a DirectoryId."""
        found = {}
        for path, value in self._values.items():
            match = _ROOT.fullmatch(path.removesuffix("/DirectoryId"))
            if path.endswith("/DirectoryId") and match and isinstance(value, str):
                found[value] = (match[1], int(match[2]))
        return dict(sorted(found.items(), key=lambda item: (_service_order(item[1][0]), item[1][1])))

    def path_of(self, server_id: str) -> str | None:
        """The instance root of a virtual server, e.g. "/LM/SMTPSVC/1"."""
        instance = self.instances().get(server_id)
        return f"/LM/{instance[0]}/{instance[1]}" if instance else None

    def _relative(self, root: str) -> dict[str, object]:
        return {path[len(root) + 1:]: self.get(path) for path in self.keys(root)}

    def virtual_servers(self) -> dict[str, VirtualServer]:
        """The virtual servers as the keys describe them; an unreadable instance is skipped and logged."""
        servers = {}
        for server_id, (service, number) in self.instances().items():
            root = f"/LM/{service}/{number}"
            if service not in PROTOCOL_OF:
                continue
            try:
                servers[server_id] = server_from_keys(PROTOCOL_OF[service], self._relative(root))
            except ValueError as exc:
                self.log.add("metabase", "unreadable", f"{root} ({server_id}) cannot be read: {exc}",
                             root=root, server=server_id, error=str(exc))
        return servers

    def sink_bindings(self, server_id: str) -> list[SinkBinding]:
        """The sink bindings under an SMTP instance, in firing order (lowest priority number first)."""
        root = self.path_of(server_id)
        if root is None:
            return []
        grouped: dict[str, dict[str, object]] = {}
        for key, value in self._relative(root).items():
            if key.startswith(_SINKS):
                sink_id, _, name = key[len(_SINKS):].partition("/")
                grouped.setdefault(sink_id, {})[name] = value
        bindings = []
        for sink_id, values in grouped.items():
            try:
                bindings.append(SinkBinding(sink_id, **{name: values[key] for name, key in _SINK_KEYS.items()}))
            except (KeyError, TypeError, ValueError) as exc:
                self.log.add("metabase", "unreadable", f"{root}/{_SINKS}{sink_id} cannot be read: {exc!r}",
                             root=root, server=server_id, error=repr(exc))
        return sorted(bindings, key=lambda b: (b.priority, b.id))

    # -- direct edits -----------------------------------------------------------------------------
    def set(self, path: str, value: object) -> None:
        """A direct edit, as an administrator with MetaEdit would make: drift until the next replication."""
        _check_path(path)
        if not isinstance(value, str | int | float | bool) and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ValueError(f"{path}: a metabase value is a string, number, bool or list of strings, got {value!r}")
        before = self._values.get(path, _ABSENT)
        if before == value and type(before) is type(value):
            return
        servers = self._servers_at([path])
        self._values[path] = list(value) if isinstance(value, list) else value
        self._drift[path] = self.get(path)
        self._counter += 1
        was = "absent" if before is _ABSENT else repr(before)
        self.log.add("metabase", "direct-edit", f"{path} set to {value!r} (was {was}); "
                     "the next replication from the directory undoes it",
                     key=path, value=value, previous=None if before is _ABSENT else before)
        self._notify(servers | self._servers_at([path]))

    def delete(self, path: str) -> None:
        """A direct deletion of a key: drift until the next replication."""
        if path not in self._values:
            raise KeyError(path)
        servers = self._servers_at([path])
        before = self._values.pop(path)
        self._drift[path] = _ABSENT
        self._counter += 1
        self.log.add("metabase", "direct-edit", f"{path} deleted (was {before!r}); "
                     "the next replication from the directory restores it", key=path, value=None, previous=before)
        self._notify(servers)

    # -- replication (the update service's way in) ------------------------------------------------
    def diff(self, image: Mapping[str, object]) -> ImageDiff:
        """What it takes to make the metabase hold exactly `image`; changes nothing."""
        writes = {p: v for p, v in image.items() if self._values.get(p, _ABSENT) != v
                  or type(self._values[p]) is not type(v)}
        removals = sorted(p for p in self._values if p not in image)
        overwritten = {}
        for path in self._drift:
            current, wanted = self._values.get(path, _ABSENT), image.get(path, _ABSENT)
            if path in writes or path in removals:
                overwritten[path] = (None if current is _ABSENT else current, None if wanted is _ABSENT else wanted)
        servers = self._servers_at([*writes, *removals]) | _servers_in(image, [*writes, *removals])
        return ImageDiff(writes, removals, overwritten, servers, list(self._drift))

    def apply(self, diff: ImageDiff) -> None:
        """Carry out a diff from `diff()`: a replication, not a direct edit (no drift, no direct-edit event)."""
        for path, value in diff.writes.items():
            self._values[path] = list(value) if isinstance(value, list) else value
        for path in diff.removals:
            self._values.pop(path, None)
        for path in diff.drift:
            self._drift.pop(path, None)
        if diff.writes or diff.removals:
            self._counter += 1
            self._notify(diff.servers)

    # -- notifications ----------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[set[str]], None]) -> Callable[[], None]:
        """Call `callback(ids)` with the virtual servers whose keys changed; returns the unsubscriber."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _notify(self, servers: set[str]) -> None:
        if not servers:
            return
        errors = []
        for callback in list(self._subscribers):
            try:
                callback(set(servers))
            except Exception as exc:  # one failing subscriber must not starve the others
                errors.append(exc)
        if errors:
            raise errors[0]

    def _servers_at(self, paths: Iterable[str]) -> set[str]:
        return _servers_in(self._values, paths)


def _servers_in(values: Mapping[str, object], paths: Iterable[str]) -> set[str]:
    """Ids (per `values`) of the instances that the paths lie under."""
    found = set()
    for path in paths:
        match = _ROOT.match(path)
        if match:
            server_id = values.get(f"{match[0]}/DirectoryId")
            if isinstance(server_id, str):
                found.add(server_id)
    return found


def _check_path(path: object) -> None:
    if not isinstance(path, str) or not path.startswith("/") or path.endswith("/") or "//" in path:
        raise ValueError(f"{path!r} is not a metabase path like /LM/SMTPSVC/1/MaxMessageSize")


def _service_order(service: str) -> int:
    services = list(PROTOCOL_OF)
    return services.index(service) if service in services else len(services)


# -- DS2MB ----------------------------------------------------------------------------------------
@dataclass
class ReplicationResult:
    usn: int  # the directory's usn that the metabase now reflects
    changed_keys: list[str]  # written: added or modified
    removed_keys: list[str]
    overwritten: list[str]  # direct edits undone (a subset of the two lists above)
    changed_servers: set[str]  # ids of virtual servers added, removed or modified


class UpdateService:
    """One-way replication directory -> metabase, debounced on change and repeated on an interval."""

    source = "ds2mb"

    def __init__(self, directory: Directory, metabase: Metabase, *, debounce: float = 0.05, interval: float = 15.0,
                 clock: Callable[[], float] = _time.monotonic, log: EventLog | None = None) -> None:
        if not debounce >= 0:
            raise ValueError(f"debounce: {debounce} must be zero or more seconds")
        if not interval > 0:
            raise ValueError(f"interval: {interval} must be a positive number of seconds")
        self.directory = directory
        self.metabase = metabase
        self.debounce = debounce
        self.interval = interval
        self.log = log if log is not None else metabase.log
        self._clock = clock
        self._instances = metabase.instances()  # keep the numbers a metabase already has
        self._started = clock()
        self._last_change: float | None = None  # of the changes not yet replicated
        self._last_run: float | None = None
        self._last_usn: int | None = None
        self._runs = 0
        self._overwrites = 0
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._unsubscribe = directory.subscribe(lambda usn: self.note_change())

    def close(self) -> None:
        """Stop listening to the directory."""
        self._unsubscribe()

    # -- timing -----------------------------------------------------------------------------------
    def note_change(self) -> None:
        self._last_change = self._clock()
        if self._wake is not None:
            loop, event = self._wake
            loop.call_soon_threadsafe(event.set)

    def next_deadline(self) -> float:
        """Clock time when `run_due` should next be called; nothing replicated yet means now."""
        if self._last_run is None:
            return self._started
        deadline = self._last_run + self.interval
        if self._last_change is not None:
            # Debounced: `debounce` after the last change. The interval still stands, so a steady stream
            # of changes waits no more than `interval` (pending changes all came after the last run).
            deadline = min(deadline, self._last_change + self.debounce)
        return deadline

    def run_due(self) -> ReplicationResult | None:
        if self._clock() >= self.next_deadline():
            return self.replicate()
        return None

    # -- replication ------------------------------------------------------------------------------
    def replicate(self) -> ReplicationResult:
        now = self._clock()
        usn = self.directory.usn
        # Settle the timers first: a change made while subscribers run below stays pending.
        self._runs += 1
        self._last_run = now
        self._last_change = None
        instances = self._assign()
        diff = self.metabase.diff(build_image(self.directory, instances))
        for path, (edited, restored) in diff.overwritten.items():
            self.log.add(self.source, "overwrite", _overwrite_detail(path, edited, restored), time=now,
                         key=path, edited=edited, restored=restored)
        if diff.writes or diff.removals:
            self.log.add(self.source, "replicate",
                         f"usn {usn}: {len(diff.writes)} keys written, {len(diff.removals)} removed; "
                         f"servers changed: {', '.join(sorted(diff.servers)) or 'none'}",
                         time=now, usn=usn, written=len(diff.writes), removed=len(diff.removals),
                         servers=sorted(diff.servers))
        self._overwrites += len(diff.overwritten)
        self._instances = instances
        self._last_usn = usn
        result = ReplicationResult(usn, sorted(diff.writes), list(diff.removals), sorted(diff.overwritten),
                                   set(diff.servers))
        self.metabase.apply(diff)  # last: it notifies the metabase's subscribers
        return result

    def _assign(self) -> dict[str, tuple[str, int]]:
        """Instance numbers: a server keeps its number; a new one takes the lowest free in its service."""
        servers = list(self.directory.virtual_servers.values())
        taken: dict[str, set[int]] = collections.defaultdict(set)
        assigned: dict[str, tuple[str, int]] = {}
        for server in servers:
            service, previous = SERVICES[server.protocol], self._instances.get(server.id)
            if previous is not None and previous[0] == service and previous[1] not in taken[service]:
                assigned[server.id] = previous
                taken[service].add(previous[1])
        for server in servers:
            if server.id not in assigned:
                service, number = SERVICES[server.protocol], 1
                while number in taken[service]:
                    number += 1
                assigned[server.id] = (service, number)
                taken[service].add(number)
        return assigned

    def state(self) -> dict:
        return {
            "runs": self._runs,
            "last_run": self._last_run,
            "last_usn": self._last_usn,
            "pending": self._last_run is None or self._last_change is not None,
            "metabase_change_counter": self.metabase.change_counter,
            "overwrites": self._overwrites,
        }

    # -- asyncio adapter --------------------------------------------------------------------------
    async def run_forever(self) -> None:
        """Replicate whenever due until cancelled; a directory change wakes it before its deadline."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        self._wake = (loop, wake)
        try:
            while True:
                wake.clear()
                try:
                    self.run_due()
                except Exception as exc:  # a background service logs and goes on; the interval retries
                    self.log.add(self.source, "error", f"replication failed: {exc!r}", time=self._clock(),
                                 error=repr(exc))
                delay = max(0.0, self.next_deadline() - self._clock())
                try:
                    await asyncio.wait_for(wake.wait(), delay)
                except TimeoutError:
                    pass
        finally:
            self._wake = None


def _overwrite_detail(path: str, edited: object, restored: object) -> str:
    if edited is None:
        return f"{path}: directly deleted; restored {restored!r} from the directory"
    if restored is None:
        return f"{path}: added by a direct edit ({edited!r}); removed, the directory has no such key"
    return f"{path}: direct edit {edited!r} overwritten with {restored!r} from the directory"
