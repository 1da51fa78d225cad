"""What the POP3 probes put into a maildrop, and how they read listings back.

Every probe that needs messages fills the maildrop with a few of these (conformance/fill.py), so it knows
exactly what is there. Bodies hold the lines that matter on the wire: lines starting with the termination
octet ".", a line that is only ".", and enough lines for TOP to cut.
"""
from __future__ import annotations

import re

from conformance.fill import pop3_account

PLAIN_BODY = b"The first line of the body.\r\nThe second line.\r\n"
DOTS_BODY = b".leading dot\r\n..two dots\r\n.\r\n...\r\n. dot and space\r\nno dot\r\n"
LINES_BODY = b"".join(b"body line %d\r\n" % n for n in range(1, 7))

SCAN_RE = re.compile(r"^(\d+) (\d+)(?: .*)?$")  # "n size", anything may follow (RFC 1939 5, LIST)
UNIQUE_ID_RE = re.compile(r"^(\d+) (\S+)$")  # "n uid", nothing follows (RFC 1939 7, UIDL)
UID_RE = re.compile(r"^[\x21-\x7e]{1,70}$")


def messages(ctx, *bodies: bytes) -> list[bytes]:
    """One message per body, each carrying the check's token and its position in the subject."""
    account = pop3_account(ctx)
    return [ctx.message(f"wireproof POP3 probe {n}", body, rcpt=account.address or "")
            for n, body in enumerate(bodies, 1)]


def split(msg: bytes) -> tuple[bytes, bytes]:
    """(header block with its CRLFs, body) of a message with CRLF line ends."""
    head, sep, body = msg.partition(b"\r\n\r\n")
    return (head + b"\r\n", body) if sep else (msg, b"")


def same_message(sent: bytes, got: bytes) -> bool:
    """`got` is the message `sent` as a server stores it: the body identical, every header line sent still
    there (a server may add fields of its own, such as Received or Return-Path, when mail came over SMTP)."""
    sent_head, sent_body = split(sent)
    got_head, got_body = split(got)
    got_lines = got_head.split(b"\r\n")
    return got_body == sent_body and all(line in got_lines for line in sent_head.split(b"\r\n") if line)


def stat_values(text: str) -> tuple[int, int] | None:
    """(messages, octets) of a drop listing "nn mm", or None when the text does not start that way."""
    m = re.match(r"^(\d+) (\d+)(?: |$)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def listing(lines: list[str], pattern: re.Pattern = SCAN_RE) -> dict[int, str] | None:
    """Scan listings (or, with UNIQUE_ID_RE, unique-id listings) as {message-number: size or uid}; None if a
    line breaks the format or a message-number repeats."""
    out: dict[int, str] = {}
    for line in lines:
        m = pattern.match(line)
        if not m or int(m.group(1)) in out:
            return None
        out[int(m.group(1))] = m.group(2)
    return out
