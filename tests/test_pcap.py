"""--pcap: each conversation as a pcap that tshark decodes with the protocol's own dissector."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from conformance import pcap
from conformance.cli import main

pytestmark = pytest.mark.timeout(120)

tshark = pytest.mark.skipif(shutil.which("tshark") is None,
                            reason="tshark is not installed (python -m conformance.peers install adds it)")


def fields(path, *names: str, display: str = "") -> list[list[str]]:
    argv = ["tshark", "-r", str(path), "-T", "fields", *sum((["-e", n] for n in names), [])]
    if display:
        argv += ["-Y", display]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


@tshark
def test_conversations_of_a_simulator_run_open_in_tshark_with_each_protocol_decoded(tmp_path):
    checks = ["smtp.noop.reply-250", "pop3.noop.ok", "imap.capability.lists-base-protocol"]
    argv = ["run", "sim", "--quiet", "--pcap", str(tmp_path / "pcap"), "--seed", "1"]
    for check in checks:
        argv += ["--select", check]
    assert main(argv) == 0
    files = {p.name for p in (tmp_path / "pcap").iterdir()}
    assert files == {f"{c}.pcap" for c in checks}
    assert ["NOOP"] in fields(tmp_path / "pcap" / "smtp.noop.reply-250.pcap", "smtp.req.command", display="smtp.req")
    assert ["NOOP"] in fields(tmp_path / "pcap" / "pop3.noop.ok.pcap", "pop.request.command", display="pop.request")
    imap = fields(tmp_path / "pcap" / "imap.capability.lists-base-protocol.pcap", "imap.request.command", display="imap.request")
    assert any(row[0].upper() == "CAPABILITY" for row in imap), imap


@tshark
def test_tcp_framing_is_consistent_and_an_elided_middle_shows_as_a_capture_gap(tmp_path):
    big = b"X" * 100
    events = [{"t": 0.0, "session": "a", "dir": "s", "text": "220 hi\r\n"},
              {"t": 0.1, "session": "a", "dir": "c", "text": "DATA\r\n"},
              {"t": 0.2, "session": "a", "dir": "c", "text": big.decode(), "len": 160,
               "elided": {"at": 50, "octets": 60}},
              {"t": 0.3, "session": "b", "dir": "s", "text": "220 again\r\n"}]
    from scapy.utils import wrpcap

    path = tmp_path / "x.pcap"
    wrpcap(str(path), pcap.packets(events, "smtp"))
    rows = fields(path, "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.len", display="tcp.len > 0")
    assert rows[0][:2] == ["25", "40000"] and rows[-1][:2] == ["25", "40001"]  # one connection per session
    data = [r for r in rows if r[0] == "40000"]
    # DATA\r\n (6) at relative seq 1, then 50 octets at 7, then the 50 after the 60 elided ones at 117
    assert [(r[2], r[3]) for r in data] == [("1", "6"), ("7", "50"), ("117", "50")]
    gaps = fields(path, "frame.number", display="tcp.analysis.lost_segment")
    assert gaps, "the elided octets should read as segments not captured"


def test_file_names_are_safe_and_name_the_target_when_several_ran():
    assert pcap.file_name("smtp.data.x", "exim", False) == "smtp.data.x.pcap"
    assert pcap.file_name("smtp.data.x", "my target/1", True) == "my_target_1--smtp.data.x.pcap"


def test_an_unwritable_pcap_directory_is_a_usage_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["run", "sim", "--quiet", "--select", "smtp.noop.reply-250", "--pcap", str(blocker / "sub")])
    assert code == 2
    assert "--pcap" in capsys.readouterr().err


@tshark
def test_an_nntp_conversation_opens_in_tshark_as_nntp(tmp_path):
    assert main(["run", "sim", "--quiet", "--pcap", str(tmp_path), "--select", "nntp.date.format"]) == 0
    done = subprocess.run(["tshark", "-r", str(tmp_path / "nntp.date.format.pcap"), "-Y", "nntp.request"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "NNTP" in done.stdout and "Request: DATE" in done.stdout  # the dissector has no text fields to ask for


@tshark
def test_a_webdav_conversation_opens_in_tshark_as_http(tmp_path):
    assert main(["run", "sim", "--quiet", "--pcap", str(tmp_path), "--select", "webdav.options.dav-class-1"]) == 0
    methods = fields(tmp_path / "webdav.options.dav-class-1.pcap", "http.request.method", display="http.request")
    assert ["MKCOL"] in methods and ["OPTIONS"] in methods  # the scratch collection, then the check itself
    codes = fields(tmp_path / "webdav.options.dav-class-1.pcap", "http.response.code", display="http.response")
    assert ["201"] in codes
