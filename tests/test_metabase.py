"""The metabase and DS2MB: key layout, rebuilding virtual servers, replication timing on a fake clock,
direct edits overwritten, removals, instance numbering, the event log, and the asyncio adapter."""
from __future__ import annotations

import asyncio

import pytest

from simulator.demo import build_demo
from simulator.directory import Directory, Limits, SinkBinding, VirtualServer
from simulator.metabase import EventLog, Metabase, UpdateService, binding, parse_binding


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock):
    """A minimal directory, replicated once at clock time 100."""
    d = Directory.minimal()
    mb = Metabase(log=EventLog(clock=clock))
    service = UpdateService(d, mb, clock=clock)
    assert service.run_due() is not None
    return d, mb, service


# -- event log ------------------------------------------------------------------------------------
def test_event_log_is_bounded_counts_drops_and_filters(clock):
    log = EventLog(capacity=3, clock=clock)
    log.add("metabase", "direct-edit", "one")
    clock.now = 101
    log.add("ds2mb", "overwrite", "two", key="/LM/X")
    log.add("ds2mb", "replicate", "three")
    log.add("server", "listening", "four")
    assert [e.detail for e in log] == ["two", "three", "four"]
    assert (len(log), log.dropped) == (3, 1)
    assert [e.detail for e in log.events("overwrite")] == ["two"]
    assert log.events("overwrite")[0].data == {"key": "/LM/X"}
    assert [e.detail for e in log.events(source="ds2mb")] == ["two", "three"]
    assert log.events()[0].time == 101
    assert log.add("x", "y", "z", time=5.0).time == 5.0


# -- key layout -----------------------------------------------------------------------------------
def test_bindings_are_iis_style():
    assert binding("127.0.0.1", 25) == "127.0.0.1:25:"
    assert binding("::1", 0) == "[::1]:0:"
    assert parse_binding("127.0.0.1:25:") == ("127.0.0.1", 25)
    assert parse_binding("[::1]:110:") == ("::1", 110)
    assert parse_binding(":25:") == ("0.0.0.0", 25)  # IIS's "All Unassigned"
    assert parse_binding("localhost:25:mail.test") == ("localhost", 25)
    for bad in ["127.0.0.1", "127.0.0.1:x:", 25]:
        with pytest.raises(ValueError):
            parse_binding(bad)


def test_first_replication_writes_one_instance_per_server(world):
    d, mb, service = world
    assert mb.instances() == {"smtp-1": ("SMTPSVC", 1), "pop3-1": ("POP3SVC", 1)}
    assert mb.keys("/LM/SMTPSVC/1") == [
        "/LM/SMTPSVC/1/AuthMethods", "/LM/SMTPSVC/1/ConnectResponse", "/LM/SMTPSVC/1/ConnectionTimeout",
        "/LM/SMTPSVC/1/DirectoryId", "/LM/SMTPSVC/1/FullyQualifiedDomainName", "/LM/SMTPSVC/1/KeyType",
        "/LM/SMTPSVC/1/MaxConnections", "/LM/SMTPSVC/1/MaxLineLength", "/LM/SMTPSVC/1/MaxLiteralSize",
        "/LM/SMTPSVC/1/MaxMessageSize", "/LM/SMTPSVC/1/MaxRecipients", "/LM/SMTPSVC/1/PlaintextAuth",
        "/LM/SMTPSVC/1/ServerAutoStart", "/LM/SMTPSVC/1/ServerBindings", "/LM/SMTPSVC/1/ServerComment",
        "/LM/SMTPSVC/1/StartTls"]
    assert mb.get("/LM/SMTPSVC/1/ServerBindings") == "127.0.0.1:0:"
    assert mb.get("/LM/SMTPSVC/1/ServerComment") == "Default SMTP Virtual Server"
    assert mb.get("/LM/SMTPSVC/1/MaxMessageSize") == 10_485_760
    assert mb.get("/LM/SMTPSVC/1/KeyType") == "IIsSmtpServer"
    assert mb.get("/LM/POP3SVC/1/AuthMethods") == ["USER", "APOP", "PLAIN", "LOGIN"]
    assert mb.get("/LM/SMTPSVC/1/FullyQualifiedDomainName") == "exch01.wireproof.test"
    assert mb.path_of("pop3-1") == "/LM/POP3SVC/1" and mb.path_of("nope") is None
    assert mb.get("/LM/NOPE") is None


def test_keys_prefix_stops_at_a_path_boundary(world):
    d, mb, service = world
    for n in range(2, 11):
        d.add_virtual_server(VirtualServer(f"smtp-{n}", "smtp"))
    service.replicate()
    assert mb.path_of("smtp-10") == "/LM/SMTPSVC/10"
    assert all(k.startswith("/LM/SMTPSVC/1/") for k in mb.keys("/LM/SMTPSVC/1"))
    assert mb.keys("/LM/SMTPSVC/1/") == mb.keys("/LM/SMTPSVC/1")
    assert len(mb.keys()) == len(mb.keys("/LM")) == 16 * 11


@pytest.mark.parametrize("seed", [0, 2])
def test_virtual_servers_rebuild_from_the_metabase_alone(clock, seed):
    d = build_demo(seed)
    d.add_virtual_server(VirtualServer("imap-9", "imap", bind="::1", port=1143, banner="hi\tthere", enabled=False,
                                       limits=Limits(line_length=8192, idle_timeout=1.5, literal_size=1000)))
    d.add_virtual_server(VirtualServer("nntp-1", "nntp", tls="none", auth_methods=["USER"], plaintext_auth=False))
    d.add_virtual_server(VirtualServer("http-2", "http", tls="implicit", auth_methods=[]))  # the demo has http-1
    mb = Metabase()
    UpdateService(d, mb, clock=clock).replicate()
    assert mb.virtual_servers() == dict(d.virtual_servers)
    assert list(mb.virtual_servers()) == ["smtp-1", "smtp-2", "pop3-1", "pop3-2", "imap-1", "imap-2", "imap-9",
                                          "nntp-1", "http-1", "http-2"]
    assert mb.get(mb.path_of("pop3-2") + "/SecureBindings") == "127.0.0.1:0:"
    assert mb.get(mb.path_of("pop3-2") + "/ServerBindings") is None
    assert mb.get(mb.path_of("http-2") + "/KeyType") == "IIsWebServer"


def test_sink_bindings_are_replicated_under_every_smtp_instance(world, clock):
    d, mb, service = world
    d.add_virtual_server(VirtualServer("smtp-2", "smtp"))
    d.add_sink(SinkBinding("late", "OnArrival", "Wireproof.Late", priority=30000))
    d.add_sink(SinkBinding("early", "OnSubmission", "Wireproof.Early", priority=10, rule="mail from=*@x.test",
                           enabled=False))
    service.replicate()
    assert mb.get("/LM/SMTPSVC/1/EventManager/Bindings/early/Priority") == 10
    assert [b.id for b in mb.sink_bindings("smtp-2")] == ["early", "late"]
    assert mb.sink_bindings("smtp-1") == sorted(d.sinks.values(), key=lambda b: b.priority)
    assert mb.sink_bindings("pop3-1") == [] and not mb.keys("/LM/POP3SVC/1/EventManager")
    d.remove_sink("late")
    result = service.replicate()
    assert result.changed_servers == {"smtp-1", "smtp-2"}
    assert "/LM/SMTPSVC/2/EventManager/Bindings/late/Sink" in result.removed_keys


# -- replication timing ---------------------------------------------------------------------------
def test_nothing_replicated_yet_is_due_at_once(clock):
    service = UpdateService(Directory.minimal(), Metabase(), clock=clock)
    assert service.next_deadline() == clock.now
    assert service.state() == {"runs": 0, "last_run": None, "last_usn": None, "pending": True,
                               "metabase_change_counter": 0, "overwrites": 0}


def test_three_quick_changes_make_one_replication_after_the_debounce(world, clock):
    d, mb, service = world
    assert service.state()["pending"] is False
    for i, t in enumerate([101.0, 101.01, 101.02]):
        clock.now = t
        d.update_virtual_server("smtp-1", banner=f"ready {i}")
        assert service.run_due() is None
    assert service.state()["pending"] is True
    assert service.next_deadline() == pytest.approx(101.07)
    clock.now = 101.069
    assert service.run_due() is None
    clock.now = 101.07
    result = service.run_due()
    assert result is not None
    assert result.usn == d.usn
    assert result.changed_keys == ["/LM/SMTPSVC/1/ConnectResponse"]
    assert result.changed_servers == {"smtp-1"}
    assert mb.get("/LM/SMTPSVC/1/ConnectResponse") == "ready 2"
    assert service.run_due() is None
    assert service.state() | {"last_run": None} == {"runs": 2, "last_run": None, "last_usn": d.usn,
                                                    "pending": False, "metabase_change_counter": 2,
                                                    "overwrites": 0}
    assert service.state()["last_run"] == 101.07
    assert service.next_deadline() == pytest.approx(101.07 + 15)


def test_a_steady_stream_of_changes_replicates_no_later_than_the_interval(world, clock):
    d, mb, service = world
    runs = []
    for step in range(400):  # a change every 40 ms for 16 s: the debounce alone would never fire
        clock.now = 101.0 + step * 0.04
        d.update_virtual_server("smtp-1", banner=f"step {step}")
        if service.run_due() is not None:
            runs.append(clock.now)
    assert runs == pytest.approx([115.0])  # the interval after the last run, within 15 s of the first change
    assert service.state()["pending"] is True


def test_the_interval_replication_runs_without_changes(world, clock):
    d, mb, service = world
    clock.now = 114.9
    assert service.run_due() is None
    clock.now = 115.0
    result = service.run_due()
    assert result is not None
    assert (result.changed_keys, result.removed_keys, result.overwritten, result.changed_servers) == ([], [], [], set())
    assert service.state()["runs"] == 2 and mb.change_counter == 1
    assert service.next_deadline() == 130.0


def test_a_change_made_while_subscribers_run_stays_pending(world, clock):
    d, mb, service = world

    def react(ids: set[str]) -> None:
        if "pop3-1" in ids and "smtp-9" not in d.virtual_servers:
            d.add_virtual_server(VirtualServer("smtp-9", "smtp"))

    mb.subscribe(react)
    d.update_virtual_server("pop3-1", port=1110)
    service.replicate()
    assert service.state()["pending"] is True
    assert mb.path_of("smtp-9") is None
    clock.now += 0.05
    assert service.run_due().changed_servers == {"smtp-9"}


# -- direct edits ---------------------------------------------------------------------------------
def test_a_direct_edit_is_drift_until_the_next_replication_overwrites_it(world, clock):
    d, mb, service = world
    notified: list[set[str]] = []
    mb.subscribe(notified.append)
    clock.now = 101.0
    mb.set("/LM/SMTPSVC/1/MaxMessageSize", 1024 * 1024)
    assert notified == [{"smtp-1"}]
    assert mb.change_counter == 2
    assert mb.virtual_servers()["smtp-1"].limits.message_size == 1024 * 1024  # servers see it meanwhile
    assert mb.drift == {"/LM/SMTPSVC/1/MaxMessageSize": 1024 * 1024}
    [edit] = mb.log.events("direct-edit")
    assert edit.data["key"] == "/LM/SMTPSVC/1/MaxMessageSize" and "1048576" in edit.detail
    assert service.run_due() is None  # a direct edit is not a directory change

    clock.now = 115.0
    result = service.run_due()
    assert result.overwritten == ["/LM/SMTPSVC/1/MaxMessageSize"]
    assert result.changed_keys == ["/LM/SMTPSVC/1/MaxMessageSize"]
    assert result.changed_servers == {"smtp-1"}
    assert mb.get("/LM/SMTPSVC/1/MaxMessageSize") == 10_485_760
    assert mb.drift == {}
    [event] = mb.log.events("overwrite")
    assert (event.source, event.time) == ("ds2mb", 115.0)
    assert event.data == {"key": "/LM/SMTPSVC/1/MaxMessageSize", "edited": 1048576, "restored": 10485760}
    assert "/LM/SMTPSVC/1/MaxMessageSize" in event.detail and "1048576" in event.detail and "10485760" in event.detail
    assert service.state()["overwrites"] == 1
    assert notified[-1] == {"smtp-1"}


def test_direct_deletions_and_additions_are_undone_too(world, clock):
    d, mb, service = world
    mb.delete("/LM/POP3SVC/1/ServerComment")
    mb.set("/LM/POP3SVC/1/Stray", "x")
    mb.set("/LM/W3SVC/Other", 1)
    assert mb.drift == {"/LM/POP3SVC/1/ServerComment": None, "/LM/POP3SVC/1/Stray": "x", "/LM/W3SVC/Other": 1}
    result = service.replicate()
    assert result.overwritten == ["/LM/POP3SVC/1/ServerComment", "/LM/POP3SVC/1/Stray", "/LM/W3SVC/Other"]
    assert result.removed_keys == ["/LM/POP3SVC/1/Stray", "/LM/W3SVC/Other"]
    assert mb.get("/LM/POP3SVC/1/ServerComment") == "Default POP3 Virtual Server"
    details = [e.detail for e in mb.log.events("overwrite")]
    assert any("directly deleted; restored 'Default POP3 Virtual Server'" in t for t in details)
    assert any("added by a direct edit" in t for t in details)
    with pytest.raises(KeyError):
        mb.delete("/LM/nothing")


def test_an_edit_set_back_by_hand_is_no_overwrite(world):
    d, mb, service = world
    mb.set("/LM/SMTPSVC/1/MaxRecipients", 100)
    mb.set("/LM/SMTPSVC/1/MaxRecipients", 5000)
    result = service.replicate()
    assert result.overwritten == [] and result.changed_keys == []
    assert mb.drift == {}


def test_a_direct_edit_to_the_same_value_changes_nothing(world):
    d, mb, service = world
    counter = mb.change_counter
    mb.set("/LM/SMTPSVC/1/MaxRecipients", 5000)
    assert mb.change_counter == counter and mb.drift == {} and not mb.log.events("direct-edit")
    mb.set("/LM/SMTPSVC/1/PlaintextAuth", 1)  # not True: a DWORD is not a bool here
    assert mb.drift == {"/LM/SMTPSVC/1/PlaintextAuth": 1}


def test_direct_edits_are_checked(world):
    d, mb, service = world
    for path in ["LM/SMTPSVC/1/X", "/LM/SMTPSVC/1/", "/LM//X"]:
        with pytest.raises(ValueError, match="is not a metabase path"):
            mb.set(path, 1)
    with pytest.raises(ValueError, match="string, number, bool or list of strings"):
        mb.set("/LM/SMTPSVC/1/X", {"a": 1})


def test_an_unreadable_instance_is_skipped_and_logged_until_replication_repairs_it(world):
    d, mb, service = world
    mb.set("/LM/SMTPSVC/1/MaxLineLength", "big")
    assert set(mb.virtual_servers()) == {"pop3-1"}
    [event] = mb.log.events("unreadable")
    assert "/LM/SMTPSVC/1 (smtp-1)" in event.detail and "line_length" in event.detail
    mb.set("/LM/POP3SVC/1/StartTls", "yes")
    assert mb.virtual_servers() == {}
    service.replicate()
    assert mb.virtual_servers() == dict(d.virtual_servers)


# -- structural changes ---------------------------------------------------------------------------
def test_removing_a_virtual_server_removes_its_keys(world):
    d, mb, service = world
    notified: list[set[str]] = []
    mb.subscribe(notified.append)
    d.remove_virtual_server("pop3-1")
    result = service.replicate()
    assert result.changed_servers == {"pop3-1"}
    assert result.removed_keys and all(k.startswith("/LM/POP3SVC/1/") for k in result.removed_keys)
    assert result.changed_keys == []
    assert mb.keys("/LM/POP3SVC") == []
    assert "pop3-1" not in mb.virtual_servers()
    assert notified == [{"pop3-1"}]


def test_instance_numbers_are_kept_and_the_lowest_free_one_is_reused(world):
    d, mb, service = world
    d.add_virtual_server(VirtualServer("smtp-2", "smtp"))
    assert service.replicate().changed_servers == {"smtp-2"}
    assert mb.path_of("smtp-2") == "/LM/SMTPSVC/2"
    d.remove_virtual_server("smtp-1")
    d.add_virtual_server(VirtualServer("smtp-3", "smtp", tls="none"))
    result = service.replicate()
    assert mb.path_of("smtp-2") == "/LM/SMTPSVC/2"
    assert mb.path_of("smtp-3") == "/LM/SMTPSVC/1"
    assert result.changed_servers == {"smtp-1", "smtp-3"}  # same keys, another server: both reported
    assert mb.virtual_servers() == dict(d.virtual_servers)


def test_an_update_service_over_a_filled_metabase_keeps_its_numbers(world, clock):
    d, mb, service = world
    d.add_virtual_server(VirtualServer("smtp-2", "smtp"))
    service.replicate()
    d.remove_virtual_server("smtp-1")
    service.close()
    again = UpdateService(d, mb, clock=clock)
    result = again.replicate()
    assert result.changed_servers == {"smtp-1"}
    assert mb.path_of("smtp-2") == "/LM/SMTPSVC/2"


def test_switching_to_implicit_tls_moves_the_binding(world):
    d, mb, service = world
    d.update_virtual_server("pop3-1", tls="implicit", port=1995)
    result = service.replicate()
    assert result.removed_keys == ["/LM/POP3SVC/1/ServerBindings"]
    assert "/LM/POP3SVC/1/SecureBindings" in result.changed_keys
    assert mb.get("/LM/POP3SVC/1/SecureBindings") == "127.0.0.1:1995:"
    assert mb.get("/LM/POP3SVC/1/StartTls") is False


def test_an_organization_change_reaches_every_instance(world):
    d, mb, service = world
    d.update_organization(fqdn="mail.wireproof.test")
    result = service.replicate()
    assert result.changed_servers == {"smtp-1", "pop3-1"}
    assert sorted(result.changed_keys) == ["/LM/POP3SVC/1/FullyQualifiedDomainName",
                                           "/LM/SMTPSVC/1/FullyQualifiedDomainName"]


def test_user_changes_leave_the_metabase_alone(world, clock):
    d, mb, service = world
    d.update_user("alice", password="new")
    clock.now += 1
    result = service.run_due()
    assert result is not None and result.changed_keys == [] and mb.change_counter == 1


def test_state_figures(world, clock):
    d, mb, service = world
    mb.set("/LM/SMTPSVC/1/MaxConnections", 1)
    mb.set("/LM/SMTPSVC/1/MaxRecipients", 100)
    d.add_virtual_server(VirtualServer("imap-1", "imap"))
    state = service.state()
    assert state == {"runs": 1, "last_run": 100.0, "last_usn": d.usn - 1, "pending": True,
                     "metabase_change_counter": 3, "overwrites": 0}
    clock.now = 100.5
    service.run_due()
    assert service.state() == {"runs": 2, "last_run": 100.5, "last_usn": d.usn, "pending": False,
                               "metabase_change_counter": 4, "overwrites": 2}


def test_update_service_arguments_are_checked(clock):
    with pytest.raises(ValueError, match="debounce"):
        UpdateService(Directory(), Metabase(), debounce=-1, clock=clock)
    with pytest.raises(ValueError, match="interval"):
        UpdateService(Directory(), Metabase(), interval=0, clock=clock)


# -- the asyncio adapter --------------------------------------------------------------------------
async def _until(condition, timeout: float = 2.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.002)
    await asyncio.wait_for(poll(), timeout)


def test_run_forever_replicates_at_start_and_after_the_debounce():
    async def main() -> tuple[float, float]:
        d, mb = Directory.minimal(), Metabase()
        service = UpdateService(d, mb, debounce=0.02, interval=60.0)
        task = asyncio.create_task(service.run_forever())
        await _until(lambda: service.state()["runs"] == 1)
        assert mb.path_of("smtp-1") == "/LM/SMTPSVC/1"
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        d.add_virtual_server(VirtualServer("imap-1", "imap"))
        d.update_virtual_server("imap-1", banner="hello")
        await _until(lambda: mb.get("/LM/IMAP4SVC/1/ConnectResponse") == "hello")
        elapsed = loop.time() - t0
        assert service.state()["runs"] == 2  # two changes, one replication
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return elapsed, service.state()["runs"]

    elapsed, runs = asyncio.run(asyncio.wait_for(main(), 5))
    assert 0.015 <= elapsed < 1.0  # woken by the change, not by the 60 s interval
    assert runs == 2


def test_run_forever_logs_a_failed_replication_and_goes_on():
    async def main() -> list:
        d, mb = Directory.minimal(), Metabase()
        service = UpdateService(d, mb, debounce=0.01, interval=60.0)

        def broken(ids: set[str]) -> None:
            raise RuntimeError("subscriber broke")

        unsubscribe = mb.subscribe(broken)
        task = asyncio.create_task(service.run_forever())
        await _until(lambda: mb.log.events("error"))
        unsubscribe()
        d.update_virtual_server("smtp-1", banner="after")
        await _until(lambda: mb.get("/LM/SMTPSVC/1/ConnectResponse") == "after")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return mb.log.events("error")

    [error] = asyncio.run(asyncio.wait_for(main(), 5))
    assert "subscriber broke" in error.detail
