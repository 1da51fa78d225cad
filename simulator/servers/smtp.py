"""The SMTP virtual server: the RFC 5321 machine on a socket, with the transport deciding recipients and
the store (through ExIPC) taking the mail."""
from __future__ import annotations

from ..exipc import StoreCallError
from ..protocols import smtp
from .base import Session, VirtualServerHost


class SmtpSession(Session):
    def __init__(self, host: "SmtpHost", link) -> None:
        super().__init__(host, link)
        cfg = host.config
        self.machine = smtp.SmtpServer(smtp.SmtpConfig(
            hostname=host.services.hostname, banner=cfg.banner, max_line=cfg.limits.line_length,
            max_message=cfg.limits.message_size, max_recipients=cfg.limits.recipients,
            starttls=cfg.tls == "starttls", tls_active=cfg.tls == "implicit",
            auth_mechanisms=tuple(m for m in cfg.auth_methods if m in ("PLAIN", "LOGIN")),
            plaintext_auth=cfg.plaintext_auth, client_address=link.peer[0]))

    async def handle(self, event: object) -> None:
        m = self.machine
        services = self.host.services
        if isinstance(event, smtp.MailFrom):
            m.accept()
        elif isinstance(event, smtp.RcptTo):
            refusal = services.transport.check_recipient(
                event.recipient, authenticated=event.envelope.authenticated_as is not None)
            m.accept() if refusal is None else m.reject(refusal.code, refusal.enhanced, refusal.text)
        elif isinstance(event, smtp.Message):
            try:
                queue_id = await services.transport.deliver(self.host.channel, event.envelope, event.body,
                                                            self.link.peer[0])
            except StoreCallError as exc:
                m.reject(451, "4.3.0", f"Temporary failure in the store, try again later ({exc})")
            else:
                m.accept(f"Queued mail for delivery as {queue_id}")  # only after the store committed it
        elif isinstance(event, smtp.AuthAttempt):
            user = services.directory.authenticate(event.username, event.password)
            if user is None or (event.authzid and services.directory.find_address(event.authzid) is not user
                                and event.authzid != user.alias):
                m.reject(535, "5.7.8", "Authentication credentials invalid")
            else:
                m.accept()
        elif isinstance(event, smtp.StartTls):
            await self.upgrade()
        elif isinstance(event, smtp.Closed):
            await self.flush()
            self.finish()
        else:
            await super().handle(event)

    def idle_message(self) -> bytes:
        return f"421 4.4.2 {self.host.services.hostname} Idle timeout, closing connection\r\n".encode()

    def shutdown_message(self) -> bytes:
        return f"421 4.3.2 {self.host.services.hostname} Service shutting down\r\n".encode()


class SmtpHost(VirtualServerHost):
    session_class = SmtpSession
    busy_message = b"421 4.3.2 Too many connections, try again later\r\n"
