"""Real clients against the simulator: Python's smtplib and poplib, and curl's smtp:// and pop3://.
Mail sent with one client is read back with another."""
from __future__ import annotations

import poplib
import shutil
import smtplib
import subprocess

import pytest

from simulator import Simulator

CURL = shutil.which("curl")


@pytest.fixture(scope="module")
def sim():
    with Simulator() as s:
        yield s


def drain(sim: Simulator, user: str) -> list[bytes]:
    p = poplib.POP3(*sim.address("pop3"), timeout=5)
    p.user(user)
    p.pass_(f"{user}-pw")
    messages = [b"\r\n".join(p.retr(n)[1]) for n in range(1, len(p.list()[1]) + 1)]
    for n in range(1, len(messages) + 1):
        p.dele(n)
    p.quit()
    return messages


def test_smtplib_sends_over_starttls_with_auth_and_poplib_reads_it_back(sim):
    with smtplib.SMTP(*sim.address("smtp"), timeout=5) as s:
        s.starttls()
        s.login("bob", "bob-pw")
        refused = s.sendmail("bob@wireproof.test", ["alice@wireproof.test"],
                             b"Subject: interop\r\n\r\n.leading dot survives\r\nline two\r\n")
    assert refused == {}
    (message,) = drain(sim, "alice")
    assert b"Subject: interop" in message and b"\r\n.leading dot survives\r\n" in message


def test_poplib_top_uidl_and_stls(sim):
    with smtplib.SMTP(*sim.address("smtp"), timeout=5) as s:
        s.sendmail("x@example.org", ["bob@wireproof.test"], b"Subject: top\r\n\r\none\r\ntwo\r\nthree\r\n")
    p = poplib.POP3(*sim.address("pop3"), timeout=5)
    p.stls()
    p.user("bob")
    p.pass_("bob-pw")
    assert p.top(1, 1)[1][-2:] == [b"", b"one"]
    assert len(p.uidl()[1]) == 1
    p.dele(1)
    p.quit()


def test_curl_sends_with_smtp_url_and_fetches_with_pop3_url(sim, tmp_path):
    assert CURL, "curl is not installed: `python -m conformance.peers install` (make peers) installs it"
    host, port = sim.address("smtp")
    mail = tmp_path / "mail.txt"
    mail.write_bytes(b"From: carol@example.org\r\nTo: alice@wireproof.test\r\nSubject: via curl\r\n\r\nhello curl\r\n")
    sent = subprocess.run([CURL, "-sS", f"smtp://{host}:{port}", "--mail-from", "carol@example.org",
                           "--mail-rcpt", "alice@wireproof.test", "--upload-file", str(mail)],
                          capture_output=True, text=True, timeout=20)
    assert sent.returncode == 0, sent.stderr
    phost, pport = sim.address("pop3")
    listing = subprocess.run([CURL, "-sS", "--user", "alice:alice-pw", f"pop3://{phost}:{pport}/"],
                             capture_output=True, text=True, timeout=20)
    assert listing.returncode == 0 and listing.stdout.startswith("1 "), listing.stderr
    fetched = subprocess.run([CURL, "-sS", "--user", "alice:alice-pw", f"pop3://{phost}:{pport}/1"],
                             capture_output=True, text=True, timeout=20)
    assert fetched.returncode == 0, fetched.stderr
    assert "Subject: via curl" in fetched.stdout and "hello curl" in fetched.stdout
    drain(sim, "alice")


# --- IMAP --------------------------------------------------------------------------------------------------


def test_imapclient_full_flow_against_the_simulator(sim):
    from imapclient import IMAPClient

    host, port = sim.address("imap")
    with smtplib.SMTP(*sim.address("smtp"), timeout=5) as s:
        s.sendmail("x@example.org", ["bob@wireproof.test"],
                   b"Subject: for imapclient\r\nFrom: x@example.org\r\n\r\nhello imapclient\r\n")
    client = IMAPClient(host, port=port, ssl=False, timeout=10)
    client.starttls(ssl_context=__import__("ssl")._create_unverified_context())
    client.login("bob", "bob-pw")
    assert b"IDLE" in client.capabilities() and b"MOVE" in client.capabilities()
    client.create_folder("Archive")
    info = client.select_folder("INBOX")
    assert info[b"EXISTS"] == 1
    (uid,) = client.search(["SUBJECT", "imapclient"])
    data = client.fetch([uid], ["ENVELOPE", "BODY[]", "FLAGS"])[uid]
    assert data[b"ENVELOPE"].subject == b"for imapclient" and b"hello imapclient" in data[b"BODY[]"]
    assert b"\\Seen" in data[b"FLAGS"]  # BODY[] (not PEEK) set \Seen
    client.add_flags([uid], [b"\\Flagged"])
    client.move([uid], "Archive")
    assert client.select_folder("Archive")[b"EXISTS"] == 1
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    client.select_folder("Archive")
    client.delete_messages(client.search(["ALL"]))
    client.expunge()
    client.close_folder()
    client.delete_folder("Archive")
    assert "Archive" not in [name for _, _, name in client.list_folders()]
    client.logout()


def test_imaplib_idle_sees_a_message_delivered_over_smtp(sim):
    import imaplib
    import threading

    host, port = sim.address("imap")
    imap = imaplib.IMAP4(host, port, timeout=10)
    imap.login("alice", "alice-pw")
    imap.select("INBOX")
    tag = imap._new_tag().decode()
    imap.send(f"{tag} IDLE\r\n".encode())
    assert imap.readline().startswith(b"+")

    def deliver():
        with smtplib.SMTP(*sim.address("smtp"), timeout=5) as s:
            s.sendmail("x@example.org", ["alice@wireproof.test"], b"Subject: while idling\r\n\r\nping\r\n")

    threading.Thread(target=deliver).start()
    update = imap.readline()  # pushed by the server while idling (RFC 2177)
    assert update.endswith(b"EXISTS\r\n"), update
    imap.send(b"DONE\r\n")
    while not (line := imap.readline()).startswith(tag.encode()):
        pass
    assert b"OK" in line
    imap.logout()
    drain(sim, "alice")


def test_curl_fetches_a_message_with_an_imap_url(sim):
    assert CURL, "curl is not installed: `python -m conformance.peers install` (make peers) installs it"
    with smtplib.SMTP(*sim.address("smtp"), timeout=5) as s:
        s.sendmail("x@example.org", ["bob@wireproof.test"], b"Subject: via imap url\r\n\r\nfetched by curl\r\n")
    host, port = sim.address("imap")
    fetched = subprocess.run([CURL, "-sS", "--user", "bob:bob-pw", f"imap://{host}:{port}/INBOX;MAILINDEX=1"],
                             capture_output=True, text=True, timeout=20)
    assert fetched.returncode == 0, fetched.stderr
    assert "Subject: via imap url" in fetched.stdout and "fetched by curl" in fetched.stdout
    drain(sim, "bob")
