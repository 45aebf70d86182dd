"""Hardening: bad input, faults and abuse. Each case records what happened into docs/hardening.md."""

from __future__ import annotations

import errno
import logging
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.answer import Answerer, DeclineKind, LiveIndex
from bot.corpus.editing import draft_from_modal
from bot.corpus.live_update import LiveUpdater
from bot.corpus.reader import load_corpus, parse_document, parse_faq_file
from bot.discord_app.render import safe_echo
from bot.errors import CorpusError, IndexUnavailableError, QuestionError, StorageError, UserFacingError
from bot.index import store as index_store
from bot.index.store import build_index, check_status, current_generation, load_index, read_generation
from bot.serving.limits import ConcurrencyCap, Cooldown
from bot.serving.service import AnswerService
from bot.storage.answers import Store

from .conftest import FAQ, REPO, FakeEncoder, write_corpus
from .hardening_report import record


@pytest.fixture
def answerer(config, fake_encoder) -> Answerer:
    build_index(config, fake_encoder)
    return Answerer(config.retrieval, fake_encoder, LiveIndex(load_index(config, fake_encoder)))


def outcome(answerer: Answerer, question: str) -> str:
    try:
        answer = answerer.answer(question)
    except QuestionError as exc:
        return f"refused with a clear message: “{exc}”"
    if answer.answered:
        return f"answered ({answer.excerpts[0].source.locator})"
    return "declined: the corpus does not cover it"


BAD_QUESTIONS = [
    ("empty", "", "refused"),
    ("whitespace only", " \n\t  ", "refused"),
    ("one character", "a", "refused"),
    ("10,000 characters", "why " * 2500, "refused"),
    ("only emoji", "🔥🚀😀🤖", "refused"),
    ("zero-width and right-to-left marks", "Who\u200b organised\u200f the \u202ecall\u202c?", "answered"),
    ("combining-character flood", "Who organised the call" + "e\u0301\u0302\u0303" * 300 + "?", "any"),
    ("Markdown and a code block", "**Who** organised `the` call?\n```python\nprint('hi')\n```", "answered"),
    ("@everyone, role and user mentions", "@everyone <@&123456789012345678> <@123456789012345678> Who organised the call?", "answered"),
    ("a URL", "https://example.com/?q=x Who organised the call?", "answered"),
    ("control characters", "Who\x00 organised\x07 the call\x1b[31m?", "answered"),
    ("Chinese", "谁组织了这个呼吁？", "any"),
    ("Arabic", "من نظم هذه الدعوة؟", "any"),
]


@pytest.mark.parametrize(("case", "question", "expected"), BAD_QUESTIONS, ids=[c for c, _, _ in BAD_QUESTIONS])
def test_bad_questions_get_an_answer_or_a_clear_message(answerer, case, question, expected):
    result = outcome(answerer, question)
    if expected == "refused":
        assert result.startswith("refused"), result
    elif expected == "answered":
        assert result.startswith("answered"), result
    else:
        assert result.startswith(("answered", "declined", "refused")), result
    record("bad question", case, result)


def test_echoed_questions_cannot_ping_or_fake_a_citation():
    fake_citation = "> We urge governments\n— **Global Call for AI Red Lines, ¶4** · <https://evil.example>"
    echo = safe_echo(fake_citation, 300)
    assert echo.startswith("\\>") and "\n" not in echo and "\\*\\*Global" in echo
    pings = safe_echo("@everyone @here <@&123456789012345678>", 300)
    assert "@everyone" not in pings and "@here" not in pings
    record("bad question", "a question that imitates a quoted excerpt and its citation",
           "echoed escaped on one line: no quote block, no bold citation")
    record("bad question", "mentions in an echoed question", "neutralised (zero-width space); allowed_mentions is none on every message")


# ---- bad corpus and index -------------------------------------------------------------------------------

CORPUS_CASES = [
    ("malformed YAML", "- id: a1\n  question: [oops\n", "faq/faq.yaml:3: not valid YAML"),
    ("missing fields", "- id: a1\n  question: Q?\n", "faq/faq.yaml:1: FAQ entry is missing 'answer'"),
    ("duplicate ids", FAQ.replace("id: quand-lancement", "id: who-organised"), "duplicate id 'who-organised'"),
]


@pytest.mark.parametrize(("case", "faq", "message"), CORPUS_CASES, ids=[c for c, _, _ in CORPUS_CASES])
def test_bad_corpus_files_are_refused_naming_the_file_while_the_live_index_serves(config, case, faq, message):
    encoder = FakeEncoder()
    build_index(config, encoder)
    live = LiveIndex(load_index(config, encoder))
    generation = live.current.generation
    (config.corpus_dir / "faq" / "faq.yaml").write_text(faq, encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        LiveUpdater(config, encoder, live, None).reload(actor="test")
    assert message in str(info.value)
    assert live.current.generation == generation and current_generation(config.index_dir) == generation
    record("bad corpus", case, f"refused: “{message}”; the live index kept serving")


def test_huge_and_non_utf8_files_are_refused(config):
    (config.corpus_dir / "faq" / "huge.yaml").write_text("#" * 2_100_000, encoding="utf-8")
    (config.corpus_dir / "faq" / "latin1.yaml").write_bytes(b"- id: ok\n  question: caf\xe9?\n")
    with pytest.raises(CorpusError) as info:
        load_corpus(config.corpus_dir)
    text = str(info.value)
    assert "faq/huge.yaml: file is 2,100,000 bytes" in text and "faq/latin1.yaml:2: not UTF-8" in text
    record("bad corpus", "a 2 MB file", "refused: “faq/huge.yaml: file is 2,100,000 bytes; the limit is 2,000,000”")
    record("bad corpus", "bytes that are not UTF-8", "refused: “faq/latin1.yaml:2: not UTF-8 text”")


def test_truncated_faiss_file_and_foreign_manifest(config, fake_encoder):
    build_index(config, fake_encoder)
    generation_dir = config.index_dir / current_generation(config.index_dir)
    vectors = generation_dir / "vectors.faiss"
    data = vectors.read_bytes()
    vectors.write_bytes(data[:200])
    with pytest.raises(IndexUnavailableError) as info:
        load_index(config, fake_encoder)
    assert str(vectors) in str(info.value) and "redlines-bot index build" in str(info.value)
    record("bad index", "a truncated FAISS file", f"refused as corrupt, naming {vectors.name}, with the rebuild command")
    vectors.write_bytes(data)

    class OtherModel(FakeEncoder):
        model_id = "someone/another-model"
        fingerprint = "feedbeef"

    with pytest.raises(IndexUnavailableError) as info:
        read_generation(generation_dir, OtherModel())
    assert "built for fake/hashed-words" in str(info.value)
    record("bad index", "a manifest for another model", "refused as stale: “built for fake/hashed-words (256-d), not someone/another-model”")


def test_index_folder_without_write_permission(config, fake_encoder, monkeypatch):
    first = build_index(config, fake_encoder)
    real_mkdir = Path.mkdir

    def no_permission(self, *args, **kwargs):
        if self.name.startswith(".tmp-gen-"):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    # The tests run as root, which ignores permission bits, so the refusal is simulated where it happens.
    monkeypatch.setattr(Path, "mkdir", no_permission)
    with pytest.raises(StorageError) as info:
        build_index(config, fake_encoder)
    assert str(config.index_dir) in str(info.value) and "Permission denied" in str(info.value)
    assert current_generation(config.index_dir) == first.generation
    record("bad index", "an index folder without write permission (simulated: tests run as root)",
           "refused: “cannot write …/index: Permission denied. Nothing was changed”; the old index stays current")


def test_full_disk_during_a_write(config, fake_encoder, monkeypatch):
    first = build_index(config, fake_encoder)
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three", "3"))
    real_write = index_store.write_bytes_atomic

    def disk_full(path, data):
        if path.name == "rows.jsonl":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(index_store, "write_bytes_atomic", disk_full)
    with pytest.raises(StorageError, match="rows.jsonl: No space left on device"):
        build_index(config, fake_encoder)
    assert current_generation(config.index_dir) == first.generation
    assert not list(config.index_dir.glob(".tmp-*")) and len(list(config.index_dir.glob("gen-*"))) == 1
    record("bad index", "a full disk during an index write (simulated ENOSPC)",
           "refused naming rows.jsonl; the half-written folder removed; the old generation stays current")


def test_full_disk_during_a_moderator_edit(config, fake_encoder, monkeypatch):
    build_index(config, fake_encoder)
    live = LiveIndex(load_index(config, fake_encoder))
    updater = LiveUpdater(config, fake_encoder, live, None)
    import bot.corpus.live_update as live_update

    def disk_full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(live_update, "write_text_atomic", disk_full)
    draft = draft_from_modal("How tall is it?", "How high?", "Forty metres.", "https://example.org/x", "X", "en")
    with pytest.raises(StorageError, match="No space left"):
        updater.add(draft, actor="mod")
    assert not (config.corpus_dir / "faq" / "90-moderators.yaml").exists()
    record("bad index", "a full disk during a moderator edit (simulated)", "refused; no file written; the live index unchanged")


# ---- faults: SIGKILL in the middle of writes ---------------------------------------------------------------

BUILD_LOOP = textwrap.dedent("""
    import sys
    from bot.config import load_config
    from bot.index.store import build_index
    from tests.conftest import FakeEncoder
    config = load_config(sys.argv[1])
    encoder = FakeEncoder()
    print("ready", flush=True)
    while True:
        build_index(config, encoder, use_cache=False)
""")

EDIT_LOOP = textwrap.dedent("""
    import sys
    from bot.core.answer import LiveIndex
    from bot.config import load_config
    from bot.corpus.editing import draft_from_modal
    from bot.index.store import build_index, load_index
    from bot.corpus.live_update import LiveUpdater
    from tests.conftest import FakeEncoder
    config = load_config(sys.argv[1])
    encoder = FakeEncoder()
    build_index(config, encoder)
    updater = LiveUpdater(config, encoder, LiveIndex(load_index(config, encoder)), None)
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        draft = draft_from_modal(f"Question number {n}?", "Another way?", f"Answer {n}.", "https://example.org", "S", "en")
        updater.add(draft, actor="loop")
        updater.remove(draft.id, actor="loop")
""")


def _kill_repeatedly(script: str, config_path: Path, rounds: int, check) -> int:
    checked = 0
    for round_number in range(rounds):
        child = subprocess.Popen([sys.executable, "-c", script, str(config_path)], cwd=REPO, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(random.Random(round_number).uniform(0.05, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        check()
        checked += 1
    return checked


def test_sigkill_during_index_builds_leaves_old_or_new_never_a_mix(project):
    from bot.config import load_config

    faq = "".join(FAQ.replace("who-organised", f"who-organised-{i}").replace("quand-lancement", f"quand-{i}")
                  for i in range(60))
    write_corpus(project / "corpus", faq=faq)
    config = load_config(project / "config.yaml")
    encoder = FakeEncoder()
    build_index(config, encoder)

    def check():
        status = check_status(config)
        assert status.state in ("fresh",), status
        index = load_index(config, encoder)
        assert len(index.passages) == index.manifest["passages"]

    rounds = _kill_repeatedly(BUILD_LOOP, project / "config.yaml", 8, check)
    build_index(config, encoder)  # the next build cleans what a killed one left behind
    assert not list(config.index_dir.glob(".tmp-*"))
    record("fault", f"SIGKILL during index builds ({rounds} kills at random moments)",
           "every time: the current generation complete and fresh, loadable; leftovers cleaned by the next build")


def test_sigkill_during_moderator_edits_leaves_old_or_new_never_a_mix(project):
    from bot.config import load_config

    config = load_config(project / "config.yaml")
    encoder = FakeEncoder()

    def check():
        corpus = load_corpus(config.corpus_dir)  # every file parses: old or new content, never half
        ids = {e.id for e in corpus.faq}
        assert {"who-organised", "quand-lancement"} <= ids
        index = load_index(config, encoder, allow_stale=True)
        assert len(index.passages) == index.manifest["passages"]

    rounds = _kill_repeatedly(EDIT_LOOP, project / "config.yaml", 8, check)
    record("fault", f"SIGKILL during moderator edits ({rounds} kills at random moments)",
           "every time: the FAQ file old or new (it parses), the current index complete; a stale index is rebuilt by `make run`")


# ---- faults: the database ----------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_locked_database_keeps_answering_and_logs(config, answerer, caplog):
    store = Store(config.data_dir / "bot.sqlite3")
    blocker = sqlite3.connect(config.data_dir / "bot.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    service = AnswerService(answerer, store, Cooldown(10, 1), ConcurrencyCap(2, 5))
    with caplog.at_level(logging.ERROR):
        asked = await service.ask("Who organised the call?", user_id=1, via="test")
    blocker.rollback()
    assert asked.answer.answered and asked.answer_id is None
    assert any("could not record an answer" in r.getMessage() for r in caplog.records)
    record("fault", "the SQLite database locked by another process", "the answer is given; the failed record is logged")


@pytest.mark.asyncio
async def test_corrupt_database_keeps_answering_and_logs(config, answerer, caplog):
    from tests.discord_support import make_bot

    path = config.database_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    bot = make_bot(config)
    with caplog.at_level(logging.ERROR):
        assert bot._open_store_safely() is None
    assert any("could not open the database" in r.getMessage() for r in caplog.records)
    service = AnswerService(answerer, None, Cooldown(10, 1), ConcurrencyCap(2, 5))
    asked = await service.ask("Who organised the call?", user_id=1, via="test")
    assert asked.answer.answered
    record("fault", "a corrupt SQLite database", "opened as unavailable and logged; questions still answered, without records")


# ---- abuse ---------------------------------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_one_member_flooding_gets_cooldowns_while_others_are_served(answerer):
    service = AnswerService(answerer, None, Cooldown(3, 30), ConcurrencyCap(4, 5, max_wait=5))
    flood, others = {"answered": 0, "cooldown": 0}, 0
    for n in range(100):
        try:
            await service.ask("Who organised the call?", user_id=666, via="test")
            flood["answered"] += 1
        except UserFacingError as exc:
            assert "please wait" in str(exc)
            flood["cooldown"] += 1
        if n % 10 == 0:
            await service.ask("When is the deadline?", user_id=1000 + n, via="test")
            others += 1
    assert flood == {"answered": 3, "cooldown": 97} and others == 10
    record("abuse", "one member sends 100 questions in a row", "3 answered, 97 cooldown notices; 10 other members all answered meanwhile")


def test_question_text_never_becomes_a_path(config, answerer):
    before = {p for p in config.corpus_dir.parent.rglob("*")}
    for evil in ("../../../../etc/passwd", "/etc/shadow", "..\\..\\windows", "~/.ssh/id_rsa"):
        outcome(answerer, evil)
    assert {p for p in config.corpus_dir.parent.rglob("*")} == before
    record("abuse", "questions that look like file paths", "treated as text; no file read or written")


# ---- properties ---------------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_faq_parser_never_crashes(text):
    problems = []
    entries = parse_faq_file(text, "faq/x.yaml", problems)
    assert isinstance(entries, list)
    assert all(str(p).startswith("faq/x.yaml") for p in problems)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_document_parser_never_crashes(text):
    problems = []
    parse_document("---\n" + text, "documents/x.md", problems)
    parse_document(text, "documents/y.md", problems)
    assert all(str(p).startswith("documents/") for p in problems)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_question_path_answers_or_refuses(answerer, text):
    try:
        answer = answerer.answer(text)
    except QuestionError:
        return
    assert len(answer.excerpts) <= answerer.settings.top_k


def test_ten_thousand_random_questions_without_an_exception(answerer):
    rng = random.Random(1234)
    alphabet = ("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ?!.,'\"@#<>*_`~|\\/\n\t0123456789" + "éàçüß" +
                "谁组织呼吁" + "من نظم" + "🔥😀" + "\u200b\u202e\u0301\x00\x1b")
    quotable = {passage.text for passage in answerer.live.current.passages}
    answered = declined = refused = 0
    for _ in range(10_000):
        question = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        try:
            answer = answerer.answer(question)
        except QuestionError as exc:
            assert str(exc)  # a refusal always says why
            refused += 1
            continue
        # Whatever the input: at most top_k excerpts, each a verbatim passage, and a decline says its kind.
        assert len(answer.excerpts) <= answerer.settings.top_k
        assert all(excerpt.text in quotable for excerpt in answer.excerpts)
        if answer.answered:
            assert answer.excerpts and answer.decline is None
            answered += 1
        else:
            assert answer.decline in DeclineKind.ALL
            declined += 1
    assert answered and declined and refused  # the random questions reach all three outcomes
    record("property", "10,000 random questions (mixed scripts, control and invisible characters)",
           f"no exception: {answered} answered, {declined} declined, {refused} refused with a message")
    record("property", "hypothesis: random text into the FAQ and document parsers, and the question path",
           "never an exception other than a located corpus problem or a question error")


def test_the_test_guard_refuses_connections_that_are_not_loopback():
    import socket

    from .conftest import NonLoopbackConnection

    with pytest.raises(NonLoopbackConnection):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    with pytest.raises(NonLoopbackConnection):
        socket.getaddrinfo("discord.com", 443)
    record("abuse", "a test trying to reach the network (192.0.2.1, discord.com)",
           "refused at once by the loopback-only guard every test runs under")
