"""The store's tables, and migrations keyed by SQLite's `PRAGMA user_version`.

MIGRATIONS[i] takes a database from version i to i + 1. Each runs in one transaction together with
its version bump, so a crash leaves the file at a version it really has.
"""
from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: folders, items (body last, so metadata reads do not page in bodies), properties.
    # URLs compare case-insensitively, as Exchange's did; they are ASCII once percent-encoded.
    """
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO counters (name, value) VALUES ('uidvalidity', 0);

    CREATE TABLE folders (
        id            INTEGER PRIMARY KEY,
        parent_id     INTEGER REFERENCES folders (id) ON DELETE CASCADE,
        url           TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name          TEXT NOT NULL,
        content_class TEXT NOT NULL,
        owner         TEXT,
        uidvalidity   INTEGER NOT NULL,
        uidnext       INTEGER NOT NULL,
        highestmodseq INTEGER NOT NULL
    );
    CREATE INDEX folders_parent ON folders (parent_id);

    CREATE TABLE items (
        id            INTEGER PRIMARY KEY,
        folder_id     INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
        uid           INTEGER NOT NULL,
        url           TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name          TEXT NOT NULL,
        stem          TEXT NOT NULL,
        content_class TEXT NOT NULL,
        size          INTEGER NOT NULL,
        flags         TEXT NOT NULL,
        modseq        INTEGER NOT NULL,
        internal_date REAL NOT NULL,
        body          BLOB NOT NULL,
        UNIQUE (folder_id, uid)
    );

    CREATE TABLE item_props (
        item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        ns      TEXT NOT NULL,
        name    TEXT NOT NULL,
        kind    TEXT NOT NULL,
        value,
        PRIMARY KEY (item_id, ns, name)
    ) WITHOUT ROWID;

    CREATE TABLE folder_props (
        folder_id INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
        ns        TEXT NOT NULL,
        name      TEXT NOT NULL,
        kind      TEXT NOT NULL,
        value,
        PRIMARY KEY (folder_id, ns, name)
    ) WITHOUT ROWID;
    """,
    # 2: expunged UIDs with the mod-sequence of their removal, so a QRESYNC client can be told which of
    # the messages it knew are gone (RFC 7162 3.2.5.1 VANISHED (EARLIER)).
    """
    CREATE TABLE expunged (
        folder_id INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
        uid       INTEGER NOT NULL,
        modseq    INTEGER NOT NULL,
        PRIMARY KEY (folder_id, uid)
    ) WITHOUT ROWID;
    """,
)

VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> None:
    """Bring `db` (in autocommit mode) up to VERSION; refuse a file from a newer wireproof."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > VERSION:
        raise sqlite3.DatabaseError(f"store schema version {current} is newer than this code's {VERSION}")
    for version in range(current, VERSION):
        # PRAGMA takes no bound parameters; the number is ours, never caller data.
        try:
            db.executescript(f"BEGIN;\n{MIGRATIONS[version]}\nPRAGMA user_version = {version + 1:d};\nCOMMIT;")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
