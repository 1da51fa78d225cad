"""The HTTP virtual server (WebDAV and Exchange's extensions over the store): a thin asyncio adapter that
frames HTTP/1.1 with h11 and hands each request to the sans-I/O handlers of simulator/protocols/dav."""
from .server import HttpHost, HttpSession

__all__ = ["HttpHost", "HttpSession"]
