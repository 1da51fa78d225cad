"""The server side of a SASL exchange (RFC 4422) for PLAIN (RFC 4616) and LOGIN, shared by every protocol
that carries SASL (SMTP AUTH, POP3 AUTH, and later IMAP AUTHENTICATE and NNTP AUTHINFO SASL). Sans-I/O:
the protocol frames the challenges ("334 ..." or "+ ...") and maps the outcomes to its own replies.

    exchange = SaslExchange("PLAIN")
    step = exchange.start(initial_response_or_None)
    while isinstance(step, Challenge):
        step = exchange.respond(next_client_line)
    # step is Credentials (check them) or Failure (refuse the command)
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

MECHANISMS = ("PLAIN", "LOGIN")


@dataclass(frozen=True)
class Challenge:
    text: str  # base64, possibly empty (PLAIN's empty challenge)


@dataclass(frozen=True)
class Credentials:
    mechanism: str
    authzid: str
    username: str
    password: str


@dataclass(frozen=True)
class Failure:
    reason: str  # "cancelled", "not-base64" or "malformed"
    detail: str


class SaslExchange:
    def __init__(self, mechanism: str) -> None:
        if mechanism not in MECHANISMS:
            raise ValueError(f"unsupported SASL mechanism {mechanism}")
        self.mechanism = mechanism
        self._responses: list[str] = []

    def start(self, initial: bytes | None) -> Challenge | Credentials | Failure:
        """With an initial response ("=" standing for an empty one) the exchange may end at once."""
        if initial is None:
            return self._challenge()
        return self._take(b"" if initial == b"=" else initial, decode=initial != b"=")

    def respond(self, line: bytes) -> Challenge | Credentials | Failure:
        if line == b"*":
            return Failure("cancelled", "Authentication cancelled by the client")
        return self._take(line, decode=True)

    def _take(self, line: bytes, decode: bool) -> Challenge | Credentials | Failure:
        try:
            data = base64.b64decode(line, validate=True) if decode else line
        except (binascii.Error, ValueError):
            return Failure("not-base64", "Cannot decode the response: not base64")
        self._responses.append(data.decode("utf-8", "replace"))
        if self.mechanism == "PLAIN":
            parts = self._responses[0].split("\0")
            if len(parts) != 3:
                return Failure("malformed", "PLAIN response must be authzid NUL user NUL password")
            return Credentials("PLAIN", *parts)
        if len(self._responses) < 2:
            return self._challenge()
        return Credentials("LOGIN", "", self._responses[0], self._responses[1])

    def _challenge(self) -> Challenge:
        if self.mechanism == "LOGIN":
            prompt = ("Username:", "Password:")[len(self._responses)]
            return Challenge(base64.b64encode(prompt.encode()).decode())
        return Challenge("")
