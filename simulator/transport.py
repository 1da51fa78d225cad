"""The transport: SMTP is the only way into mailboxes.

The categorizer resolves each recipient through the directory when RCPT arrives: a local address that
names no mailbox is refused there (550 5.1.1), a non-local one is accepted only from an authenticated
client (no open relay, the Exchange 2003 default). Accepted mail is delivered through the server's ExIPC
channel: one copy per mailbox, each with the trace fields of final delivery (Return-Path, Received)
prepended, the body itself travelling as a blob handle. Mail for other domains waits in the store's
transport queue until routing to other servers exists; nothing is dropped.
"""
from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from email.utils import formatdate

from .protocols.smtp import Envelope


@dataclass(frozen=True)
class Refusal:
    code: int
    enhanced: str
    text: str


class Transport:
    def __init__(self, directory, heap, hostname: str, hub=None) -> None:
        self.directory = directory
        self.heap = heap
        self.hostname = hostname
        self.hub = hub  # told about every delivery, so IMAP sessions see new mail
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(3).upper()

    # --- categorizer -----------------------------------------------------------------------------------------

    def postmaster(self) -> str | None:
        """The address bare <Postmaster> reaches (RFC 5321 4.5.1): postmaster at the first local domain."""
        for domain in self.directory.local_domains:
            if self.directory.find_address(f"postmaster@{domain}"):
                return f"postmaster@{domain}"
        return None

    def check_recipient(self, recipient: str, *, authenticated: bool) -> Refusal | None:
        if "@" not in recipient:  # the grammar admits only <Postmaster> without a domain
            return None if self.postmaster() else Refusal(550, "5.1.1", "No postmaster mailbox is configured")
        domain = recipient.rpartition("@")[2]
        if self.directory.is_local_domain(domain):
            if self.directory.find_address(recipient) is None:
                return Refusal(550, "5.1.1", f"<{recipient}>: Recipient address rejected: user unknown")
            return None
        if authenticated:
            return None
        return Refusal(550, "5.7.1", f"Unable to relay for {recipient}")

    # --- delivery -------------------------------------------------------------------------------------------

    def new_queue_id(self) -> str:
        return f"{self._prefix}{next(self._ids):06d}"

    def received(self, envelope: Envelope, client_ip: str, queue_id: str, recipient: str | None) -> bytes:
        """RFC 5321 4.4 trace field; the WITH keyword as registered by RFC 3848."""
        protocol = "ESMTP" if envelope.esmtp else "SMTP"
        if envelope.tls:
            protocol += "S"
        if envelope.authenticated_as:
            protocol += "A"
        source = f"from {envelope.helo or 'unknown'} ([{client_ip}])"
        fields = [f"Received: {source}", f"\tby {self.hostname} (wireproof) with {protocol} id {queue_id}"]
        if recipient:
            fields.append(f"\tfor <{recipient}>")
        fields[-1] += f"; {formatdate(usegmt=True)}"
        return ("\r\n".join(fields) + "\r\n").encode()

    async def deliver(self, channel, envelope: Envelope, body: bytes, client_ip: str) -> str:
        """Deliver or queue for every recipient; returns the queue id. The body goes into the blob heap once
        and every store request carries only its handle."""
        queue_id = self.new_queue_id()
        handle = self.heap.put(body)
        try:
            local: dict[str, str] = {}  # alias -> the recipient address that reached it
            remote: list[str] = []
            for recipient, _params in envelope.recipients:
                address = recipient if "@" in recipient else self.postmaster()
                user = self.directory.find_address(address)
                if user is not None:
                    local.setdefault(user.alias, address)
                else:
                    remote.append(address)
            return_path = f"Return-Path: <{envelope.sender}>\r\n".encode()
            for alias, address in local.items():
                prefix = return_path + self.received(envelope, client_ip, queue_id,
                                                     address if len(envelope.recipients) == 1 else None)
                url = await channel.call("deliver", alias=alias, prefix=prefix, blob=handle)
                if self.hub is not None:
                    self.hub.changed(url.rsplit("/", 1)[0] + "/")
            if remote:
                prefix = self.received(envelope, client_ip, queue_id, None)
                await channel.call("enqueue_remote", recipients=remote, sender=envelope.sender, prefix=prefix,
                                   blob=handle, queue_id=queue_id)
        finally:
            self.heap.release(handle)
        return queue_id
