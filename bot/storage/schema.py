"""Every table of the bot's database, in one place, with the schema version — for SQLite and PostgreSQL alike.

``TABLES`` is the whole schema: each table's CREATE statement as it is today, written once in SQLite's words
(``bot.storage.database`` gives PostgreSQL 64-bit integers and double precision). A database made by an older
version is brought up to date by ``COLUMNS_ADDED``: columns added since a table was first created
(``ALTER TABLE ... ADD COLUMN`` is the same in both engines). That is the one migration path: run on every
open, in one transaction that one process at a time takes, and idempotent. The version is recorded (SQLite's
``user_version``, PostgreSQL's ``schema_version`` table) so that a database newer than this code is refused
rather than misread. Only the storage modules issue SQL; nothing above ``bot/storage`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.storage.database import Database

SCHEMA_VERSION = 4

TABLES: dict[str, str] = {
    # What the bot answered. ``message_id`` is the member's message (for a jump link from /faq gaps);
    # ``decline`` is the DeclineKind when declined; ``gap_closed_at`` is set when a moderator dismissed the
    # question from /faq gaps or wrote an FAQ entry for it.
    "answers": """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at REAL NOT NULL,
    question TEXT NOT NULL,
    answered INTEGER NOT NULL,
    confidence REAL NOT NULL,
    passages TEXT NOT NULL,          -- passage ids shown, best first, separated by newlines
    via TEXT NOT NULL,               -- slash, mention, channel, forum, thread, context-menu, more
    guild_id INTEGER, channel_id INTEGER, user_id INTEGER,
    index_version TEXT NOT NULL,
    message_id INTEGER,
    decline TEXT,
    gap_closed_at REAL,
    language TEXT,                   -- the question's language and the retriever: labels of the feedback metrics
    retriever TEXT
)""",
    # One person's verdict on each passage of an answer.
    "feedback": """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    passage_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    helpful INTEGER NOT NULL,
    given_at REAL NOT NULL,
    PRIMARY KEY (answer_id, passage_id, user_id)
)""",
    # The moderators' audit log: who changed which FAQ entry, with the text before and after.
    "audit": """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    actor_id INTEGER,
    action TEXT NOT NULL,            -- add, edit, remove, reload, undo
    entry_id TEXT,
    path TEXT,
    entry_before TEXT, entry_after TEXT,
    file_before TEXT, file_after TEXT,
    generation_before TEXT, generation_after TEXT,
    undoes INTEGER,
    state TEXT NOT NULL DEFAULT 'done',  -- pending (written ahead of the change), done, interrupted
    file_path TEXT,                      -- absolute path of the changed file, to settle a pending intent
    pid INTEGER                          -- the process making a pending change
)""",
    # Per-server settings made with /setup: a JSON object holding only the keys set there (the rest come
    # from config.yaml). JSON in a TEXT column keeps the table the same in SQLite and PostgreSQL.
    "guild_settings": """
CREATE TABLE IF NOT EXISTS guild_settings (
    guild_id INTEGER PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at REAL NOT NULL
)""",
    # Which chat message answered which question (follow-up context, edits, deletions, repeats).
    "exchanges": """
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at REAL NOT NULL,
    question TEXT NOT NULL,
    question_message_id INTEGER UNIQUE,  -- the member's message (NULL for /ask)
    question_channel_id INTEGER NOT NULL, -- where it was asked (the answer channel, not the thread opened for it)
    conversation_id INTEGER NOT NULL,    -- the thread, or the first message of a reply chain
    asker_id INTEGER NOT NULL,
    answer_message_id INTEGER UNIQUE,    -- the bot's message (NULL when it only reacted)
    answer_channel_id INTEGER,           -- where that message is (a thread or the question's channel)
    opened_thread_id INTEGER,            -- a thread the bot opened for this question
    passages TEXT NOT NULL DEFAULT '',   -- passage ids shown, best first, newline-separated ('' if declined)
    linked INTEGER NOT NULL DEFAULT 0    -- 1 when the reply only linked an earlier answer
)""",
    # Index generations as they were made live, newest last: every bot process sharing this database swaps in
    # the latest one (bot.storage.coordination), so a moderator's change on one process is live on all.
    "index_generations": """
CREATE TABLE IF NOT EXISTS index_generations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    generation TEXT NOT NULL,
    published_at REAL NOT NULL,
    action TEXT NOT NULL,            -- build, add, edit, remove, reload, undo, rollback
    host TEXT NOT NULL,
    pid INTEGER NOT NULL
)""",
}


INDEXES = (
    "CREATE INDEX IF NOT EXISTS answers_unanswered ON answers (answered, asked_at)",
    "CREATE INDEX IF NOT EXISTS answers_asked_at ON answers (asked_at)",
    "CREATE INDEX IF NOT EXISTS feedback_given_at ON feedback (given_at)",
    "CREATE INDEX IF NOT EXISTS exchanges_conversation ON exchanges (conversation_id, asked_at)",
    "CREATE INDEX IF NOT EXISTS exchanges_channel ON exchanges (question_channel_id, asked_at)",
)

# Columns added after their table was first released (version 1 had none of these).
COLUMNS_ADDED: dict[str, tuple[tuple[str, str], ...]] = {
    "answers": (("message_id", "INTEGER"), ("decline", "TEXT"), ("gap_closed_at", "REAL"), ("language", "TEXT"),
                ("retriever", "TEXT")),
    "audit": (("state", "TEXT NOT NULL DEFAULT 'done'"), ("file_path", "TEXT"), ("pid", "INTEGER")),
}


def ensure_schema(db: Database) -> None:
    """Create missing tables, add missing columns, record the version; refuse a newer database."""
    dialect = db.dialect
    with db.migrating() as connection:
        version = dialect.version(connection)
        if version > SCHEMA_VERSION:
            raise UserFacingError(f"the database {db.where} was written by a newer redlines-bot (schema {version}, this "
                                  f"one knows {SCHEMA_VERSION}); upgrade the bot or point it at another database")
        if version == SCHEMA_VERSION:
            # Up to date: no DDL at all. Even "IF NOT EXISTS" statements take table locks, and two processes
            # starting together (shards sharing PostgreSQL) then deadlock with each other's first writes.
            return
        for statement in TABLES.values():
            connection.execute(dialect.ddl(statement))
        for table, columns in COLUMNS_ADDED.items():
            present = dialect.columns(connection, table)
            for name, kind in columns:
                if name not in present:
                    connection.execute(dialect.ddl(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))
        for statement in INDEXES:
            connection.execute(statement)
        if version != SCHEMA_VERSION:
            dialect.set_version(connection, SCHEMA_VERSION)
