"""The simulator's architecture, shown on the wire: replication drives the virtual servers, ExIPC carries
the work to the store, the transport decides recipients, POP3 keeps its maildrop rules."""
from __future__ import annotations

import poplib
import smtplib
import socket
import time

import pytest

from simulator import Simulator
from simulator.directory import Directory, Limits, VirtualServer


def greeting(host_port: tuple[str, int]) -> bytes:
    with socket.create_connection(host_port, timeout=5) as s:
        return s.recv(200)


def send(sim: Simulator, to: list[str], subject: str = "hello", *, login: bool = False,
         sender: str = "sender@example.org") -> dict:
    with smtplib.SMTP(*sim.address("smtp"), timeout=5) as s:
        if login:
            s.starttls()
            s.login("alice", "alice-pw")
        return s.sendmail(sender, to, f"Subject: {subject}\r\n\r\nbody of {subject}\r\n".encode())


def inbox(sim: Simulator, alias: str = "alice") -> list[bytes]:
    return sim.store_call(lambda st: [st.body(i.url) for i in st.items(f"/exchange/{alias}/Inbox/")])


@pytest.fixture
def sim():
    with Simulator(replication_debounce=0.01) as s:
        yield s


def test_every_virtual_server_listens_on_a_port_the_os_chose(sim):
    assert {"smtp-1", "pop3-1", "imap-1", "nntp-1", "http-1"} <= set(sim.endpoints)
    ports = {host.port for host in sim.hosts.values()}
    assert 0 not in ports and len(ports) == len(sim.endpoints)
    assert greeting(sim.address("smtp")).startswith(b"220 ")
    assert greeting(sim.address("pop3")).startswith(b"+OK ")


def test_a_virtual_server_added_to_the_directory_listens_after_replication_and_stops_when_removed(sim):
    sim.change_directory(lambda d: d.add_virtual_server(
        VirtualServer(id="pop3-9", protocol="pop3", name="Branch POP3", tls="none", banner="branch office")))
    sim.settle()
    assert "pop3-9" in sim.endpoints
    client = socket.create_connection(sim.hosts["pop3-9"].endpoint, timeout=5)
    assert client.recv(200).startswith(b"+OK branch office")
    sim.change_directory(lambda d: d.remove_virtual_server("pop3-9"))
    sim.settle()
    assert "pop3-9" not in sim.endpoints
    # the open session is told, then closed: it ends cleanly, not by a reset
    assert client.recv(200) == b"-ERR [SYS/TEMP] Service shutting down\r\n"
    assert client.recv(200) == b""
    kinds = [(e.source, e.kind) for e in sim.events.events()]
    assert ("server", "stopped") in kinds


def test_a_direct_metabase_edit_is_overwritten_at_the_next_replication_and_logged(sim):
    path = sim.metabase.path_of("smtp-1") + "/ConnectResponse"
    sim.change_directory(lambda d: sim.metabase.set(path, "edited by hand"))
    sim.settle()
    assert greeting(sim.address("smtp")) == b"220 edited by hand\r\n"  # servers read the metabase
    state = sim.replicate_now()
    assert state["overwrites"] >= 1
    assert not greeting(sim.address("smtp")).startswith(b"220 edited by hand")
    overwrite = sim.events.events("overwrite")[-1]
    assert overwrite.data["key"] == path and overwrite.data["edited"] == "edited by hand"


def test_replication_state_is_observable(sim):
    before = sim.update_service.state()
    sim.change_directory(lambda d: d.update_virtual_server("smtp-1", banner="renamed"))
    sim.settle()
    after = sim.update_service.state()
    assert after["runs"] > before["runs"]
    assert after["last_usn"] > before["last_usn"]
    assert after["metabase_change_counter"] > before["metabase_change_counter"]
    assert greeting(sim.address("smtp")) == b"220 renamed\r\n"


def test_exipc_counters_follow_the_traffic_and_bodies_travel_as_freed_handles(sim):
    before = sim.heap_stats()["allocated"]
    for n in range(5):
        send(sim, ["alice@wireproof.test"], f"m{n}")
    stats = sim.queue_stats()["smtp-1"]
    assert stats["inbound"]["enqueued"] == stats["inbound"]["dequeued"] == 5
    assert stats["outbound"]["enqueued"] == 5 and stats["inbound"]["depth"] == 0
    assert stats["inbound"]["high_water"] >= 1
    heap = sim.heap_stats()
    assert heap["allocated"] - before == 5 and heap["live"] == 0  # one handle per message, all released


def test_unknown_local_recipient_is_refused_at_rcpt(sim):
    with smtplib.SMTP(*sim.address("smtp"), timeout=5) as s:
        s.ehlo()
        s.mail("sender@example.org")
        code, text = s.rcpt("nobody@wireproof.test")
    assert code == 550 and text.startswith(b"5.1.1")


def test_relay_needs_authentication_and_relayed_mail_waits_in_the_queue(sim):
    with smtplib.SMTP(*sim.address("smtp"), timeout=5) as s:
        s.ehlo()
        s.mail("sender@example.org")
        code, text = s.rcpt("someone@example.com")
    assert code == 550 and text.startswith(b"5.7.1")
    send(sim, ["someone@example.com"], "relayed", login=True)
    queued = sim.store_call(lambda st: [st.props(i.url) for i in st.items("/exchange/smtp-queue/Outbox/")])
    ns = "http://schemas.microsoft.com/exchange/"
    assert [q[(ns, "envelope-recipients")] for q in queued] == ["someone@example.com"]


def test_final_delivery_adds_return_path_and_received(sim):
    send(sim, ["bob@wireproof.test"], "traced")
    (msg,) = inbox(sim, "bob")
    assert msg.startswith(b"Return-Path: <sender@example.org>\r\nReceived: from ")
    assert b"by exch01.wireproof.test" in msg and b"for <bob@wireproof.test>;" in msg


def pop(sim: Simulator, user: str = "alice") -> poplib.POP3:
    p = poplib.POP3(*sim.address("pop3"), timeout=5)
    p.user(user)
    p.pass_(f"{user}-pw")
    return p


def test_pop3_deletes_only_at_quit_and_a_dropped_session_deletes_nothing(sim):
    send(sim, ["alice@wireproof.test"], "one")
    send(sim, ["alice@wireproof.test"], "two")
    p = pop(sim)
    p.dele(1)
    p.sock.shutdown(socket.SHUT_RDWR)  # dropped without QUIT
    p.sock.close()
    time.sleep(0.2)
    assert len(inbox(sim)) == 2
    p = pop(sim)
    p.dele(1)
    assert len(inbox(sim)) == 2  # still only marked
    p.quit()
    assert [b"Subject: two" in m for m in inbox(sim)] == [True]


def test_pop3_uidl_is_stable_across_sessions(sim):
    for n in range(3):
        send(sim, ["alice@wireproof.test"], f"u{n}")
    first = pop(sim)
    uidls = first.uidl()[1]
    first.quit()
    second = pop(sim)
    assert second.uidl()[1] == uidls and len(set(uidls)) == 3
    second.quit()


def test_pop3_maildrop_is_locked_to_one_session(sim):
    holder = pop(sim)
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        pop(sim)
    holder.quit()
    pop(sim).quit()  # free again


def test_connection_limit_and_idle_timeout_come_from_the_metabase():
    directory = Directory.minimal()
    directory.update_virtual_server("smtp-1", limits=Limits(connections=1, idle_timeout=0.3))
    with Simulator(directory) as sim:
        first = socket.create_connection(sim.address("smtp"), timeout=5)
        assert first.recv(200).startswith(b"220 ")
        assert greeting(sim.address("smtp")).startswith(b"421 4.3.2")  # over the limit
        assert first.recv(200).startswith(b"421 4.4.2")  # idle for 0.3 s
        first.close()


def test_a_file_store_keeps_mail_across_restarts(tmp_path):
    with Simulator(data=tmp_path) as sim:
        send(sim, ["alice@wireproof.test"], "kept")
    with Simulator(data=tmp_path) as sim:
        assert [b"Subject: kept" in m for m in inbox(sim)] == [True]


def test_the_profile_names_the_webdav_endpoint_in_the_first_accounts_mailbox(sim):
    profile = sim.profile()
    host, port = sim.address("http")
    assert profile["endpoints"]["webdav"] == f"http://{host}:{port}/exchange/{profile['accounts'][0]['user']}/"
    assert "http-1" not in profile["endpoints"]  # listed once, as the WebDAV endpoint the harness probes
