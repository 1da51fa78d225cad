"""The IMAP4 virtual server: session.py (the adapter), mailboxes.py and messages.py (the commands),
view.py (selected-mailbox views and the hub), names.py (mailbox names and store folders)."""
