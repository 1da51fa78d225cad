"""WebDAV (RFC 4918 classes 1 and 2) with Exchange 2003's extensions, sans-I/O.

xml.py (request bodies through defusedxml; multistatus building), props.py (live properties of store
resources), locks.py (the lock manager and the If header), sql.py (Exchange's SEARCH SQL), paths.py
(request URIs to store URLs, and who may touch what), mime.py (message rendering and attachments), and the
method handlers: methods.py (the table and the RFC 4918 methods), propmethods.py (PROPFIND, PROPPATCH,
SEARCH), lockmethods.py (LOCK, UNLOCK), exchange.py (B* methods, X-MS-ENUMATTS, mail submission).
"""
