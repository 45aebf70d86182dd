"""The stores against both engines: embedded SQLite and PostgreSQL (a throwaway cluster, tests/postgres.py).

One schema and one migration path: every test runs on both, through the same code."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import pytest

from bot.core.answer import Answer, Excerpt, Source
from bot.errors import UserFacingError
from bot.storage.answers import Store
from bot.storage.audit import AuditLog, AuditRecord
from bot.storage.coordination import Coordination, CorpusBusy
from bot.storage.database import Database, PostgreSQL, SQLite, dialect_of, shown
from bot.storage.gaps import read_misses
from bot.storage.schema import SCHEMA_VERSION

from .conftest import REPO
from .hardening_report import record

GUILD = 900000000000000100  # Discord ids need 64 bits
USER = 900000000000000300


def answer(question: str, answered: bool = True, language: str = "en") -> Answer:
    source = Source("letter", "Letter", "¶3", "https://example.org", "letter", "en")
    excerpts = (Excerpt("Governments must agree.", 0.8, source, "letter:p3"),
                Excerpt("Rivers flow.", 0.5, source, "letter:p2")) if answered else ()
    return Answer(question=question, answered=answered, excerpts=excerpts, latency_ms=4.2, retriever="hybrid",
                  language=language, index_version="v1", confidence=0.71 if answered else 0.2,
                  decline=None if answered else "not_covered")


def test_answers_and_feedback_round_trip(database_target):
    store = Store(database_target)
    try:
        before = time.time()
        first = store.record_answer(answer("When is the deadline?"), "slash", guild_id=GUILD, channel_id=GUILD + 1,
                                    user_id=USER)
        second = store.record_answer(answer("Quel temps fait-il ?", answered=False, language="fr"), "mention")
        assert second > first
        stored = store.answer(first)
        assert stored.question == "When is the deadline?" and stored.answered
        assert stored.passages == ("letter:p3", "letter:p2")
        assert (stored.language, stored.retriever) == ("en", "hybrid")
        assert store.answer(second).passages == () and not store.answer(second).answered
        assert store.answer(123456) is None
        assert store.record_feedback(first, USER, helpful=True)
        assert store.record_feedback(first, USER, helpful=False)  # a second press replaces the first
        assert not store.record_feedback(999999, USER, helpful=True)
        rows = store.execute("SELECT passage_id, user_id, helpful FROM feedback ORDER BY passage_id")
        assert rows == [("letter:p2", USER, 0), ("letter:p3", USER, 0)]
        (asked_at, guild_id), = store.execute("SELECT asked_at, guild_id FROM answers WHERE id = ?", (first,))
        assert guild_id == GUILD and before <= asked_at <= time.time()  # 64-bit ids, double-precision times
    finally:
        store.close()


def test_unanswered_and_unhelpful_questions_are_read_back(database_target):
    store = Store(database_target)
    try:
        helped = store.record_answer(answer("Who signed?"), "slash")
        store.record_answer(answer("Best pizza in Rome?", answered=False), "mention")
        store.record_feedback(helped, USER, helpful=False)
    finally:
        store.close()
    misses = read_misses(database_target)
    assert sorted((m.question, m.reason) for m in misses) == [("Best pizza in Rome?", "declined"),
                                                              ("Who signed?", "not helpful")]
    assert read_misses(database_target, since=time.time() + 60) == []


def test_audit_intents_complete_abandon_and_settle(database_target, tmp_path):
    path = tmp_path / "faq.yaml"
    path.write_text("before\n")
    audit = AuditLog(database_target)
    try:
        record = AuditRecord(action="add", entry_id="lighthouse", path="faq.yaml", actor="mod", actor_id=USER,
                             file_before="before\n", file_after="after\n")
        done = audit.begin(record, path)
        audit.complete(done, record, "gen-2")
        dropped = audit.begin(record, path)
        audit.abandon(dropped)
        assert [(r.id, r.state, r.generation_after) for r in audit.recent()] == [(done, "done", "gen-2")]
        assert audit.last_change().entry_id == "lighthouse"
        # A writer that died mid-change: with the writers' lock held, it is settled from the file.
        path.write_text("after\n")
        interrupted = audit.begin(record, path)
        audit.execute("UPDATE audit SET pid = ? WHERE id = ?", (2**22 + 7, interrupted))
        assert audit.recover(writers_locked=True) == [f"add lighthouse (audit {interrupted}): completed"]
        assert audit.pending() == []
        audit.record(AuditRecord(action="undo", entry_id="lighthouse", path="faq.yaml", actor="mod", undoes=interrupted))
        assert audit.last_change().id == done
    finally:
        audit.close()


def test_schema_is_created_once_versioned_and_a_newer_database_is_refused(database_target):
    for _ in range(2):  # opening again changes nothing
        database = Database(database_target)
        with database.migrating() as connection:
            assert database.dialect.version(connection) == SCHEMA_VERSION
        database.close()
    database = Database(database_target)
    with database.migrating() as connection:
        database.dialect.set_version(connection, SCHEMA_VERSION + 1)
    database.close()
    with pytest.raises(UserFacingError, match=f"newer redlines-bot \\(schema {SCHEMA_VERSION + 1}"):
        Store(database_target)


FIRST_RELEASE = (
    "CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at REAL NOT NULL, question TEXT NOT NULL,"
    " answered INTEGER NOT NULL, confidence REAL NOT NULL, passages TEXT NOT NULL, via TEXT NOT NULL,"
    " guild_id INTEGER, channel_id INTEGER, user_id INTEGER, index_version TEXT NOT NULL)",
    "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL,"
    " actor_id INTEGER, action TEXT NOT NULL, entry_id TEXT, path TEXT, entry_before TEXT, entry_after TEXT,"
    " file_before TEXT, file_after TEXT, generation_before TEXT, generation_after TEXT, undoes INTEGER)",
    "INSERT INTO answers (asked_at, question, answered, confidence, passages, via, index_version)"
    " VALUES (1.5, 'Old question?', 1, 0.7, 'letter:p3', 'slash', 'v0')",
    "INSERT INTO audit (at, actor, action, entry_id, path, file_after) VALUES (1, 'mod', 'add', 'x', 'faq/a.yaml', 't')",
)


def test_a_database_of_the_first_release_is_brought_up_to_date(database_target):
    dialect = dialect_of(database_target)
    connection = dialect.connect(database_target)
    for statement in FIRST_RELEASE:
        connection.execute(dialect.ddl(statement))
    connection.close()
    store = Store(database_target)
    try:
        old = store.answer(1)
        assert (old.question, old.passages, old.language) == ("Old question?", ("letter:p3",), None)
        assert store.answer(store.record_answer(answer("New?"), "slash")).language == "en"
    finally:
        store.close()
    audit = AuditLog(database_target)
    try:
        assert (audit.last_change().entry_id, audit.last_change().state) == ("x", "done")
    finally:
        audit.close()


def test_the_schema_is_written_once_and_adapted_for_postgresql():
    assert dialect_of("postgresql://bot@db/redlines") is PostgreSQL and dialect_of(REPO / "x.sqlite3") is SQLite
    ddl = PostgreSQL.ddl("id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, guild_id INTEGER")
    assert ddl == "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at DOUBLE PRECISION NOT NULL, guild_id BIGINT"
    assert PostgreSQL.sql("SELECT 1 WHERE a = ? AND b LIKE '5%'") == "SELECT 1 WHERE a = %s AND b LIKE '5%%'"
    assert shown("postgresql://bot:hunter2@db:5432/redlines") == "postgresql://bot:***@db:5432/redlines"


# ---- coordination between processes ----------------------------------------------------------------------


def test_published_generations_are_read_back_newest_first(database_target):
    coordination = Coordination(database_target)
    try:
        assert coordination.latest() is None
        first = coordination.publish("gen-1", "build")
        second = coordination.publish("gen-2", "add")
        latest = coordination.latest()
        assert second > first and (latest.id, latest.generation, latest.action) == (second, "gen-2", "add")
    finally:
        coordination.close()


HOLD_THE_LOCK = """
import sys, time
from bot.storage.coordination import Coordination
target = sys.argv[1]
with Coordination(target if target.startswith("postgresql") else __import__("pathlib").Path(target)).writer_lock():
    print("locked", flush=True)
    time.sleep(60)
"""


def test_the_writers_lock_excludes_other_processes_and_dies_with_its_holder(database_target):
    coordination = Coordination(database_target)  # creates the schema before the child opens it
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(database_target)], stdout=subprocess.PIPE,
                              text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(CorpusBusy, match="Another bot process is changing the corpus"):
            with coordination.writer_lock(wait=0.3):
                pass
        holder.send_signal(signal.SIGKILL)  # killed mid-change: the server or the kernel releases its lock
        holder.wait(timeout=10)
        with coordination.writer_lock(wait=10):
            pass
        record("fault", f"SIGKILL of a process holding the corpus writers' lock ({coordination.dialect.name})",
               "the lock is released with the process; the next writer goes ahead (others wait, then are told to retry)")
    finally:
        holder.kill()
        holder.wait()
        coordination.close()


@pytest.mark.asyncio
async def test_a_publication_wakes_postgresql_listeners_at_once_and_sqlite_ones_at_the_poll(database_target):
    listener, publisher = Coordination(database_target), Coordination(database_target)
    changes = listener.changes(timeout=3.0)
    try:
        waiting = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0.5)  # listening by now
        started = time.perf_counter()
        await asyncio.to_thread(publisher.publish, "gen-9", "add")
        await asyncio.wait_for(waiting, timeout=10)
        woke = time.perf_counter() - started
        print(f"\n{listener.dialect.name}: a listener woke {woke * 1000:.0f} ms after the publication")
        if listener.dialect is PostgreSQL:
            assert woke < 2.0  # notified, not polled (the poll comes after 3 s)
        else:
            assert woke >= 2.0  # SQLite has no notifications: the poll finds it
        assert listener.latest().generation == "gen-9"
    finally:
        await changes.aclose()
        listener.close()
        publisher.close()


def test_a_dropped_postgresql_connection_costs_one_call_then_reconnects(postgres_url):
    import psycopg

    store = Store(postgres_url)
    try:
        (backend,), = store.execute("SELECT pg_backend_pid()")
        with psycopg.connect(postgres_url, autocommit=True) as admin:  # as a server restart or a network cut would
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        with pytest.raises(psycopg.OperationalError):
            store.record_answer(answer("Lost?"), "slash")
        recorded = store.record_answer(answer("Still there?"), "slash")  # the next call reconnects
        assert store.answer(recorded).question == "Still there?"
        assert store.execute("SELECT pg_backend_pid()")[0][0] != backend
        record("fault", "the PostgreSQL connection dropped (server restart, network cut)",
               "the call in flight fails (an answer is still given, its record is logged as lost); the next reconnects")
    finally:
        store.close()
