"""IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) for the simulator: the command parser and session state
machine (sans-I/O), and the pure pieces they use: message structure, SEARCH, SORT and THREAD."""
