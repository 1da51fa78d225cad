"""The WebDAV suite: RFC 4918 scripts, probes and a resource-tree model, and the Exchange 2003 extension checks."""
