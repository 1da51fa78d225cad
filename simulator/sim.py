"""The simulated server as one object: directory, metabase and its update service, store worker, transport,
and every virtual server the metabase describes, on one asyncio event loop.

    with Simulator() as sim:                       # Directory.minimal(): alice, bob, one SMTP, one POP3
        smtplib.SMTP(*sim.address("smtp"))...
        sim.endpoints                              # {"smtp-1": "smtp://127.0.0.1:41234", ...}
        sim.queue_stats()                          # ExIPC figures per virtual server
        sim.store_call(lambda store: store.items("/exchange/alice/Inbox/"))

The loop runs on a background thread, so the object works from synchronous code (tests, a REPL) as well
as behind `wireproof serve`. Virtual servers read only the metabase: add one to the directory and it
listens after the next replication; remove it and it stops, ending its sessions cleanly.
"""
from __future__ import annotations

import asyncio
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import trustme

from .directory import Directory
from .exipc import Channel, StoreWorker
from .metabase import EventLog, Metabase, UpdateService
from .servers.base import Services, VirtualServerHost
from .servers.imap.view import MailboxHub
from .servers.pop3 import Pop3Host
from .servers.smtp import SmtpHost
from .store import BlobHeap
from .store_service import StoreService
from .transport import Transport

HOSTS: dict[str, type[VirtualServerHost]] = {"smtp": SmtpHost, "pop3": Pop3Host}


def host_class(protocol: str) -> type[VirtualServerHost] | None:
    if protocol == "imap" and "imap" not in HOSTS:
        from .servers.imap.session import ImapHost  # the largest server: loaded when a directory has one

        HOSTS["imap"] = ImapHost
    if protocol == "nntp" and "nntp" not in HOSTS:
        from .servers.nntp import NntpHost

        HOSTS["nntp"] = NntpHost
    if protocol == "http" and "http" not in HOSTS:
        from .servers.http import HttpHost

        HOSTS["http"] = HttpHost
    return HOSTS.get(protocol)


class SimulatorError(RuntimeError):
    pass


class Simulator:
    def __init__(self, directory: Directory | None = None, *, data: str | Path | None = None,
                 replication_interval: float = 15.0, replication_debounce: float = 0.05) -> None:
        self.directory = directory or Directory.standard()
        self.data = Path(data) if data is not None else None
        self.events = EventLog()
        self.metabase = Metabase(log=self.events)
        self.update_service = UpdateService(self.directory, self.metabase, debounce=replication_debounce,
                                            interval=replication_interval, log=self.events)
        self.heap = BlobHeap()
        self.hosts: dict[str, VirtualServerHost] = {}
        self.hostname = self.directory.organization.fqdn
        self._ca = trustme.CA(organization_name="wireproof simulator")
        self._cert = self._ca.issue_cert(self.hostname, "localhost", "127.0.0.1", "::1")
        self._tmp = tempfile.TemporaryDirectory(prefix="wireproof-sim-")
        self.cafile = str(Path(self._tmp.name) / "ca.pem")
        self._ca.cert_pem.write_to_path(self.cafile)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()
        self._outstanding = 0  # configuration changes notified but not yet applied to the servers
        self._unsubscribe: list[Callable[[], None]] = []
        self.started_in: float | None = None

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> "Simulator":
        t0 = time.perf_counter()
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start())
            except BaseException as exc:  # handed to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

        self._thread = threading.Thread(target=main, name="wireproof-simulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join(5)
            raise SimulatorError(f"the simulator did not start: {failure[0]}") from failure[0]
        self.started_in = time.perf_counter() - t0
        return self

    def stop(self) -> None:
        if self._loop is None or not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)
        self._tmp.cleanup()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start(self) -> None:
        self._lock = asyncio.Lock()
        store_path = ":memory:"
        if self.data is not None:
            self.data.mkdir(parents=True, exist_ok=True)
            store_path = str(self.data / "store.sqlite")
        self.worker = StoreWorker(lambda: StoreService(store_path, self.heap))
        self.worker.start()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        hub = MailboxHub()
        self.services = Services(worker=self.worker, heap=self.heap,
                                 transport=Transport(self.directory, self.heap, self.hostname, hub),
                                 directory=self.directory, tls_server=context, events=self.events,
                                 hostname=self.hostname, hub=hub)
        self._api = Channel("api", self.worker)
        await self._api.call("ensure_mailboxes", aliases=list(self.directory.users))
        await self._api.call("ensure_public_folders", paths=list(self.directory.public_folders))
        self._unsubscribe.append(self.directory.subscribe(self._directory_changed))
        self._unsubscribe.append(self.metabase.subscribe(self._metabase_changed))
        self.update_service.replicate()
        await self._apply(set(self.metabase.virtual_servers()))
        self._spawn(self.update_service.run_forever())

    async def _stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(host.stop() for host in self.hosts.values()), return_exceptions=True)
        self.hosts.clear()
        await asyncio.to_thread(self.worker.stop)

    # --- reacting to configuration ----------------------------------------------------------------------------

    def _spawn(self, coro) -> asyncio.Task:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _on_loop(self, make_coro: Callable[[], Any]) -> None:
        """Schedule work on the simulator's loop, whichever thread the notification came from."""
        self._outstanding += 1

        async def run() -> None:
            try:
                await make_coro()
            finally:
                self._outstanding -= 1

        self._loop.call_soon_threadsafe(lambda: self._spawn(run()))

    def _directory_changed(self, usn: int) -> None:
        # New users get their mailboxes at once; virtual server changes wait for replication.
        aliases, folders = list(self.directory.users), list(self.directory.public_folders)
        self._on_loop(lambda: self._api.call("ensure_mailboxes", aliases=aliases))
        self._on_loop(lambda: self._api.call("ensure_public_folders", paths=folders))

    def _metabase_changed(self, server_ids: set[str]) -> None:
        self._on_loop(lambda: self._apply(server_ids))

    async def _apply(self, server_ids: set[str]) -> None:
        async with self._lock:
            wanted = self.metabase.virtual_servers()
            for sid in sorted(server_ids):
                config = wanted.get(sid)
                host = self.hosts.get(sid)
                if host is not None and (config is None or not config.enabled or self._rebind(host, config)):
                    await host.stop()
                    del self.hosts[sid]
                    host = None
                if config is None or not config.enabled:
                    continue
                if host is not None:
                    host.config = config  # limits, banner, auth: new sessions take them
                    self.events.add("server", "reconfigured", sid)
                    continue
                cls = host_class(config.protocol)
                if cls is None:
                    self.events.add("server", "unsupported", f"{sid}: no {config.protocol} server in this simulator")
                    continue
                new = cls(config, self.services, Channel(sid, self.worker))
                await new.start()
                self.hosts[sid] = new

    @staticmethod
    def _rebind(host: VirtualServerHost, config) -> bool:
        old = host.config
        return (old.bind, old.port, old.tls) != (config.bind, config.port, config.tls)

    # --- the Python API -----------------------------------------------------------------------------------------

    def _run(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    @property
    def endpoints(self) -> dict[str, str]:
        return {sid: host.url for sid, host in self.hosts.items()}

    def address(self, protocol: str) -> tuple[str, int]:
        """(host, port) of the first virtual server of `protocol` that does not use implicit TLS."""
        hosts = sorted((h for h in self.hosts.values() if h.config.protocol == protocol),
                       key=lambda h: (h.config.tls == "implicit", h.config.id))
        if not hosts:
            raise SimulatorError(f"no {protocol} virtual server is running")
        return hosts[0].endpoint

    def store_call(self, fn: Callable[[Any], Any]) -> Any:
        """Run `fn(store)` on the store's thread (the only thread allowed to touch it) and return its result."""
        return self._run(self._api.call("query", fn=fn))

    def queue_stats(self) -> dict[str, dict]:
        return {sid: host.channel.stats() for sid, host in self.hosts.items()} | {"api": self._api.stats()}

    def heap_stats(self) -> dict:
        return self.heap.stats()

    def replicate_now(self) -> dict:
        """Replicate the directory into the metabase now (instead of at the debounce or the interval) and
        wait until the virtual servers have followed; returns the replication state."""
        async def replicate() -> dict:
            result = self.update_service.replicate()
            await self._apply(result.changed_servers)
            return self.update_service.state()
        return self._run(replicate())

    def change_directory(self, fn: Callable[[Directory], Any]) -> Any:
        """Change the directory on the simulator's loop, where everything that reads it runs:
        `sim.change_directory(lambda d: d.add_user(...))`."""
        async def apply() -> Any:
            return fn(self.directory)
        return self._run(apply())

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until replication has nothing pending and every change it caused has been applied."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async def idle() -> bool:
                async with self._lock:
                    return not self.update_service.state()["pending"] and self._outstanding == 0
            if self._run(idle()):
                return
            time.sleep(0.01)
        raise SimulatorError(f"replication still pending after {timeout} s")

    def profile(self) -> dict:
        """A wireproof target profile for this simulator (endpoints, accounts, read-back)."""
        users = list(self.directory.users.values())
        endpoints = {}
        accounts = [{"user": u.alias, "password": u.password, "address": u.addresses[0]} for u in users
                    if u.addresses]
        for sid, host in sorted(self.hosts.items(), key=lambda kv: (kv[1].config.tls == "implicit", kv[0])):
            if host.config.protocol == "http" and accounts and "webdav" not in endpoints:
                # WebDAV is probed in the first account's mailbox: its scratch collections go there
                endpoints["webdav"] = f"{host.url}/exchange/{accounts[0]['user']}/"
                continue
            endpoints[sid] = host.url
        doc: dict[str, Any] = {"name": "wireproof-simulator", "software": "wireproof simulator",
                               "endpoints": endpoints,
                               "smtp": {"local_domain": self.directory.local_domains[0], "relay_domain": "example.com"},
                               "pop3": {"fill": "smtp"},
                               "tls": {"cafile": self.cafile}, "accounts": accounts}
        pop = next((h for h in self.hosts.values() if h.config.protocol == "pop3" and h.config.tls != "implicit"),
                   None)
        if pop and accounts:
            a = accounts[0]
            doc["readback"] = {"url": f"pop3://{a['user']}:{a['password']}@{pop.endpoint[0]}:{pop.port}",
                               "address": a["address"]}
        if any(h.config.protocol == "nntp" for h in self.hosts.values()):
            from .servers.nntp import group_name
            scratch = [group_name(pf.path, pf.newsgroup) for pf in self.directory.public_folders.values()
                       if pf.scratch]
            if scratch:  # the public folders the directory opens to test posts
                doc["nntp"] = {"groups": scratch, "post": True}
        return doc
