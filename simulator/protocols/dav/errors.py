"""Errors that end a WebDAV request: each carries its HTTP status, the RFC section that asks for it and,
where RFC 4918 names one, the precondition element for the DAV:error body (RFC 4918 16)."""
from __future__ import annotations

REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content",
    207: "Multi-Status", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed", 413: "Content Too Large",
    415: "Unsupported Media Type", 416: "Range Not Satisfiable", 422: "Unprocessable Entity",
    423: "Locked", 424: "Failed Dependency", 500: "Internal Server Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 507: "Insufficient Storage",
}


def status_line(code: int) -> str:
    return f"HTTP/1.1 {code} {REASONS.get(code, 'Unknown')}"


class DavError(Exception):
    """`status` is the reply; `section` the RFC and section ("rfc4918#9.3.1"); `condition` the local name
    of a DAV: precondition/postcondition element sent in a DAV:error body."""

    def __init__(self, status: int, text: str, section: str = "", condition: str | None = None,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(text)
        self.status, self.text, self.section, self.condition = status, text, section, condition
        self.headers = headers or []

    def __repr__(self) -> str:
        return f"DavError({self.status}, {self.text!r}, {self.section!r})"
