"""The real peers, proven on the wire with stdlib clients.

A peer that cannot run here fails (CI installs Exim, Dovecot, INN and Apache); it never skips.
"""
from __future__ import annotations

import imaplib
import os
import poplib
import shutil
import smtplib
import ssl
import time
import tomllib
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conformance.peers import PEERS, PeerUnavailable, base, start_peer

pytestmark = pytest.mark.peer
SMTP_PEERS = ["exim", "aiosmtpd"]
TIMEOUT = 5


def _start(name: str):
    try:
        return start_peer(name)
    except PeerUnavailable as exc:
        pytest.fail(f"peer {name!r} cannot run here: {exc}", pytrace=False)


def _fixture(name):
    @pytest.fixture(scope="module", name=name)
    def fixture():
        with _start(name) as peer:
            yield peer
    return fixture


exim = _fixture("exim")
aiosmtpd = _fixture("aiosmtpd")
dovecot = _fixture("dovecot")
inn = _fixture("inn")
apache_dav = _fixture("apache-dav") if "apache-dav" in PEERS else None
wsgidav = _fixture("wsgidav") if "wsgidav" in PEERS else None
MAIL_PEERS = ["exim", "aiosmtpd", "dovecot"]
DAV_PEERS = [name for name in ("apache-dav", "wsgidav") if name in PEERS]


def port(peer, key: str) -> int:
    return urlsplit(peer.endpoints[key]).port


def tls_context(peer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=peer.cafile)  # verifies chain and 127.0.0.1


def smtp(peer) -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", port(peer, "smtp"), local_hostname="client.test", timeout=TIMEOUT)


def message(subject: str, sender: str, to: str) -> bytes:
    return f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nwireproof peer test\r\n".encode()


def imap_wait_for(peer, subject: str, timeout: float = TIMEOUT) -> bytes:
    """Poll accounts[0]'s INBOX until a message with this subject arrives; return it."""
    acct = peer.accounts[0]
    imap = imaplib.IMAP4("127.0.0.1", port(peer, "imap"), timeout=TIMEOUT)
    try:
        imap.login(acct.user, acct.password)
        deadline = time.monotonic() + timeout
        while True:
            imap.select("INBOX", readonly=True)
            _, (found,) = imap.search(None, "HEADER", "Subject", f'"{subject}"')
            if found:
                _, data = imap.fetch(found.split()[-1], "(BODY.PEEK[])")
                return data[0][1]
            if time.monotonic() > deadline:
                pytest.fail(f"{peer.name}: {subject!r} not in {acct.user}'s INBOX after {timeout} s")
            time.sleep(0.05)
    finally:
        imap.logout()


# --- SMTP in, IMAP out -------------------------------------------------------

@pytest.mark.parametrize("name", SMTP_PEERS)
def test_mail_sent_over_smtp_is_read_back_over_imap(name, request):
    peer = request.getfixturevalue(name)
    subject = f"readback {uuid.uuid4().hex}"
    to = peer.accounts[0].address
    with smtp(peer) as client:
        refused = client.sendmail("sender@example.com", [to], message(subject, "sender@example.com", to))
    assert refused == {}
    assert subject.encode() in imap_wait_for(peer, subject)


@pytest.mark.parametrize("name", SMTP_PEERS)
def test_starttls_then_auth_plain(name, request):
    peer = request.getfixturevalue(name)
    acct = peer.accounts[0]
    with smtp(peer) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth"), "AUTH must wait for TLS"
        code, _ = client.starttls(context=tls_context(peer))
        assert code == 220
        client.ehlo()
        assert "PLAIN" in client.esmtp_features["auth"].upper().split()
        client.user, client.password = acct.user, "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.auth("PLAIN", client.auth_plain)
        client.user, client.password = acct.user, acct.password
        code, _ = client.auth("PLAIN", client.auth_plain)
        assert code == 235


def test_exim_smtps_implicit_tls(exim):
    with smtplib.SMTP_SSL("127.0.0.1", port(exim, "smtps"), local_hostname="client.test",
                          context=tls_context(exim), timeout=TIMEOUT) as client:
        client.ehlo()
        assert client.has_extn("auth") and not client.has_extn("starttls")


def test_exim_is_no_open_relay_and_knows_its_users(exim):
    relay = f"someone@{exim.relay_domain}"
    with smtp(exim) as client:
        client.ehlo()
        client.mail("sender@example.com")
        assert client.rcpt(relay)[0] == 550
        assert client.rcpt(f"nobody@{exim.local_domain}")[0] == 550
        assert client.rcpt(f"postmaster@{exim.local_domain}")[0] == 250
        client.starttls(context=tls_context(exim))
        client.ehlo()
        client.login(exim.accounts[0].user, exim.accounts[0].password)
        client.mail(exim.accounts[0].address)
        assert client.rcpt(relay)[0] == 250  # accepted, then dropped by the :blackhole: router


def test_exim_delivers_to_second_account_read_back_over_pop3(exim):
    acct = exim.accounts[1]
    subject = f"pop3 {uuid.uuid4().hex}"
    with smtp(exim) as client:
        client.sendmail("sender@example.com", [acct.address],
                        message(subject, "sender@example.com", acct.address))
    deadline = time.monotonic() + TIMEOUT
    while True:
        pop = poplib.POP3("127.0.0.1", port(exim, "pop3"), timeout=TIMEOUT)
        pop.user(acct.user)
        pop.pass_(acct.password)
        bodies = [b"\n".join(pop.retr(i + 1)[1]) for i in range(pop.stat()[0])]
        pop.quit()
        if any(subject.encode() in b for b in bodies):
            return
        assert time.monotonic() < deadline, f"{subject!r} not in {acct.user}'s POP3 maildrop"
        time.sleep(0.05)


# --- Dovecot -----------------------------------------------------------------

def test_dovecot_pop3_login(dovecot):
    acct = dovecot.accounts[0]
    pop = poplib.POP3("127.0.0.1", port(dovecot, "pop3"), timeout=TIMEOUT)
    pop.stls(context=tls_context(dovecot))
    assert pop.user(acct.user).startswith(b"+OK")
    assert pop.pass_(acct.password).startswith(b"+OK")
    pop.quit()
    # No wrong-password case here: Dovecot then delays every login from 127.0.0.1
    # (auth penalty, up to 15 s), which would slow the tests that follow.
    pops = poplib.POP3_SSL("127.0.0.1", port(dovecot, "pop3s"), context=tls_context(dovecot), timeout=TIMEOUT)
    assert pops.user(dovecot.accounts[1].user).startswith(b"+OK")
    assert pops.pass_(dovecot.accounts[1].password).startswith(b"+OK")
    pops.quit()


def test_dovecot_imaps_login(dovecot):
    acct = dovecot.accounts[1]
    imap = imaplib.IMAP4_SSL("127.0.0.1", port(dovecot, "imaps"), ssl_context=tls_context(dovecot),
                             timeout=TIMEOUT)
    assert imap.login(acct.user, acct.password)[0] == "OK"
    imap.logout()


# --- profile and life cycle ----------------------------------------------------

@pytest.mark.parametrize("name", list(PEERS))
def test_profile_describes_the_peer(name, request):
    peer = request.getfixturevalue(name)
    profile = tomllib.loads(Path(peer.profile_path).read_text())
    assert profile["name"] == peer.name and profile["software"] == peer.software
    assert profile["endpoints"] == peer.endpoints
    assert profile["tls"]["cafile"] == peer.cafile and os.path.exists(peer.cafile)
    assert [a["user"] for a in profile["accounts"]] == [a.user for a in peer.accounts]
    if name not in MAIL_PEERS:  # news and WebDAV peers: no mailbox to read back from
        assert "readback" not in profile and "smtp" not in profile
        assert set(peer.endpoints) == ({"nntp"} if name == "inn" else {"webdav"})
        if name == "inn":
            assert profile["nntp"]["post"] is True and profile["nntp"]["groups"]
        return
    first = peer.accounts[0]
    assert profile["readback"] == {
        "url": f"imap://{first.user}:{first.password}@127.0.0.1:{port(peer, 'imap')}/INBOX",
        "address": first.address}
    assert profile["pop3"] == {"fill": {"exim": "smtp"}.get(name, "imap")}  # how POP3 checks fill a maildrop
    if name == "dovecot":
        assert "smtp" not in profile and set(peer.endpoints) == {"imap", "pop3", "imaps", "pop3s"}
    else:
        assert profile["smtp"] == {"local_domain": "wireproof.test", "relay_domain": "example.com"}


@pytest.mark.parametrize("name", list(PEERS))
def test_stop_frees_ports_and_pids(name):
    peer = _start(name)
    ports, pids, workdir = [port(peer, k) for k in peer.endpoints], peer.pids, peer.workdir
    assert pids and all(os.path.exists(f"/proc/{p}") for p in pids)
    peer.stop()
    peer.stop()  # idempotent
    assert not [p for p in ports if base.port_accepts(p)], "a port still accepts connections"
    assert not [p for p in pids if os.path.exists(f"/proc/{p}")], "a peer PID survived stop()"
    assert base.pids_with_arg(str(workdir)) == [], "a process still runs from the peer's workdir"
    assert not workdir.exists(), "temporary workdir not removed"
    if name == "exim":
        assert str(workdir) not in Path("/etc/exim4/trusted_configs").read_text()


def test_missing_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    with pytest.raises(PeerUnavailable, match="exim4 not found: apt-get install -y exim4-daemon-light"):
        start_peer("exim")


# --- news and WebDAV peers -----------------------------------------------------


def test_inn_takes_a_post_and_serves_it_by_message_id(inn):
    nntplib = pytest.importorskip("nntplib")  # standard-nntplib on Python >= 3.13
    group = tomllib.loads(Path(inn.profile_path).read_text())["nntp"]["groups"][0]
    mid = f"<{uuid.uuid4().hex}@peer.test>"
    article = (f"From: peer test <peer@test.invalid>\r\nNewsgroups: {group}\r\nSubject: peer test\r\n"
               f"Message-ID: {mid}\r\n\r\nhello\r\n").encode()
    with nntplib.NNTP("127.0.0.1", port(inn, "nntp"), readermode=True, timeout=TIMEOUT) as news:
        news.post(article.splitlines(keepends=True))
        deadline = time.monotonic() + TIMEOUT  # innd files a post asynchronously
        while True:
            try:
                _, info = news.article(mid)
                break
            except nntplib.NNTPTemporaryError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    assert b"hello" in info.lines


@pytest.mark.parametrize("name", DAV_PEERS)
def test_dav_peer_stores_lists_and_serves_a_file_for_its_account(name, request):
    import base64
    import http.client

    peer = request.getfixturevalue(name)
    url = urlsplit(peer.endpoints["webdav"])
    acct = peer.accounts[0]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{acct.user}:{acct.password}".encode()).decode()}
    path = f"{url.path}peer-test-{uuid.uuid4().hex}.txt"
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT)
    try:
        conn.request("PUT", path, body=b"stored", headers=auth)
        put = conn.getresponse()
        put.read()
        assert put.status == 201  # a new resource (RFC 4918 9.7.1)
        conn.request("GET", path, headers=auth)
        got = conn.getresponse()
        assert (got.status, got.read()) == (200, b"stored")
        conn.request("PROPFIND", url.path, headers={**auth, "Depth": "1"})
        listed = conn.getresponse()
        assert listed.status == 207 and path.encode() in listed.read()
        conn.request("DELETE", path, headers=auth)
        assert conn.getresponse().status in (200, 204)
    finally:
        conn.close()
