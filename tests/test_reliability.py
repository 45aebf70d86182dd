"""Reliability of the index and of the writers around it: generations that cannot be bricked, one writer at a
time across processes, one bot per data folder, clean errors. Each test is a red-team finding (issue 13) turned
into a check of the behaviour, reproduced on the old code and held on this one."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from bot import cli
from bot.config import load_config
from bot.core.answer import LiveIndex
from bot.corpus.editing import draft_from_modal
from bot.corpus.live_update import LiveUpdater
from bot.corpus.reader import load_corpus
from bot.errors import IndexUnavailableError
from bot.index import store as index_store
from bot.index.store import (
    CORRUPT,
    FRESH,
    STALE,
    GenerationUnreadable,
    build_index,
    check_status,
    current_generation,
    load_index,
    previous_generation,
    rollback,
)
from bot.storage.audit import AuditLog
from bot.storage.locks import BotLock, exclusive_writes, running_bot

from .conftest import LETTER, REPO, FakeEncoder, write_config, write_corpus
from .hardening_report import record

SEPARATORS = "\u2028\u2029\u0085"


def updater_for(config, audit: AuditLog | None = None) -> LiveUpdater:
    encoder = FakeEncoder()
    if current_generation(config.index_dir) is None:
        build_index(config, encoder)
    return LiveUpdater(config, encoder, LiveIndex(load_index(config, encoder)), audit)


def lighthouse(n: int = 1):
    return draft_from_modal(f"How tall is lighthouse number {n}?", f"Lighthouse {n} height?",
                            f"Lighthouse number {n} is forty metres tall.", "https://example.org/lighthouse", "L", "en")


def rewrite_file(generation_dir: Path, name: str, data: bytes) -> None:
    """Replace one file of a generation and make its manifest agree (what a bad writer would have produced)."""
    (generation_dir / name).write_bytes(data)
    manifest_path = generation_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest_path.write_text(json.dumps(manifest))


def fake_cli(project: Path, *args: str, delay: float = 0.0) -> subprocess.Popen:
    """The real command line in its own process, with the fake encoder (see tests/fake_encoder_cli.py)."""
    env = {**os.environ, "FAKE_ENCODER_DELAY": str(delay)}
    env.pop("DISCORD_TOKEN", None)
    return subprocess.Popen([sys.executable, "-m", "tests.fake_encoder_cli", "--config", str(project / "config.yaml"),
                             *args], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def lines_of(stream) -> queue.Queue:
    """A stream's lines, read in a thread, so a test can wait for one with a timeout."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.decode(errors="replace")) for line in stream], daemon=True).start()
    return lines


def wait_for_line(lines: queue.Queue, needle: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        if needle in line:
            return line
    raise AssertionError(f"no line with {needle!r} within {timeout} s")


# ---- H1: line separators ---------------------------------------------------------------------------------------

def test_line_separators_in_the_corpus_keep_every_index_readable(config, fake_encoder):
    letter = LETTER.replace("Honey is sweet and golden.", f"Honey is{SEPARATORS[0]}sweet{SEPARATORS[1]}and"
                                                          f"{SEPARATORS[2]}golden.")
    write_corpus(config.corpus_dir, letter=letter)
    load_corpus(config.corpus_dir)  # `corpus check` accepts it, so every index built from it must load
    build_index(config, fake_encoder)
    assert check_status(config, fake_encoder.fingerprint).state == FRESH
    index = load_index(config, fake_encoder)  # what the bot's start does
    quoted = f"Honey is{SEPARATORS[0]}sweet{SEPARATORS[1]}and{SEPARATORS[2]}golden."
    assert any(quoted in passage.text for passage in index.passages)
    assert all(SEPARATORS[0] not in line for line in (config.index_dir / "current" / "passages.jsonl")
               .read_text(encoding="utf-8").split("\n"))
    record("reliability", "H1: U+2028, U+2029 and U+0085 inside a corpus paragraph",
           "the index is written as ASCII JSON lines and read back by \\n only: built, fresh, loaded, quoted verbatim")


def test_a_reload_bringing_a_line_separator_makes_the_new_text_live(config):
    updater = updater_for(config)
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("answer: Three nonprofits organised it, CeSIA, The Future Society and CHAI.",
                                           'answer: "Three nonprofits organised it, CeSIA,\\u2028The Future Society '
                                           'and CHAI."'), encoding="utf-8")
    result = updater.reload(actor="SIGHUP")
    assert result.changed and current_generation(config.index_dir) == result.generation
    assert any("CeSIA,\u2028The" in p.text for p in updater.live.current.passages)
    assert load_index(config, FakeEncoder()).generation == result.generation  # a restart loads it
    record("reliability", "H1: /reload (SIGHUP) after a hand edit that brings a U+2028 into an FAQ answer",
           "the new generation reads back, becomes current and live; a restart loads it")


def test_a_generation_that_does_not_read_back_is_never_published(config, monkeypatch):
    updater = updater_for(config)
    before = current_generation(config.index_dir)
    # Bring back the old disagreement between writer (raw separators) and reader (str.splitlines): whatever
    # the cause, a generation that does not load must not become current.
    monkeypatch.setattr(index_store, "_jsonl", lambda items: "".join(
        json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode("utf-8"))
    monkeypatch.setattr(index_store, "_jsonl_items", lambda data: [
        json.loads(line) for line in data.decode("utf-8").splitlines() if line])
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("answer: Three nonprofits organised it, CeSIA, The Future Society and CHAI.",
                                           'answer: "Three nonprofits organised it, CeSIA,\\u2028The Future Society '
                                           'and CHAI."'), encoding="utf-8")
    with pytest.raises(GenerationUnreadable, match="not published"):
        updater.reload(actor="SIGHUP")
    assert current_generation(config.index_dir) == before == updater.live.current.generation
    assert [p.name for p in config.index_dir.glob("gen-*")] == [before] and not list(config.index_dir.glob(".tmp-*"))
    monkeypatch.undo()
    assert load_index(config, FakeEncoder(), allow_stale=True).generation == before  # the bot can still start
    record("reliability", "H1: a new generation that does not read back as written (writer and reader disagree)",
           "refused before publishing (“it was not published and the live index is unchanged”); `current` and the "
           "live index unchanged; the next start loads")


def test_generations_written_with_raw_separators_by_older_versions_load(config, fake_encoder):
    build_index(config, fake_encoder)
    generation_dir = config.index_dir / current_generation(config.index_dir)
    passages = [json.loads(line) for line in (generation_dir / "passages.jsonl").read_text().split("\n") if line]
    passages[0]["text"] += f" Then{SEPARATORS}more."
    rewrite_file(generation_dir, "passages.jsonl",
                 "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in passages).encode("utf-8"))
    index = index_store.read_generation(generation_dir, fake_encoder)
    assert index.passages[0].text.endswith(f"Then{SEPARATORS}more.")
    record("reliability", "H1: a generation written by an older version, with raw U+2028/2029/0085 in its lines",
           "loads: records are split at \\n only")


def test_status_reads_what_it_vouches_for(config, fake_encoder):
    build_index(config, fake_encoder)
    generation_dir = config.index_dir / current_generation(config.index_dir)
    # Hashes that match the manifest but content no loader can parse: status used to say "fresh".
    rewrite_file(generation_dir, "passages.jsonl", b'{"id": "letter:1", "text": "cut\n')
    status = check_status(config, fake_encoder.fingerprint)
    assert status.state == CORRUPT and "unreadable passages" in status.detail
    assert cli.main(["index", "status", "--config", str(config.source)]) == 1
    record("reliability", "H1: `index status` on a generation whose files match their hashes but do not parse",
           "corrupt (it reads the generation whole, as loading does), never fresh")


def test_rollback_never_makes_an_unreadable_generation_current(config, fake_encoder):
    first = build_index(config, fake_encoder)
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    second = build_index(config, fake_encoder)
    rewrite_file(config.index_dir / first.generation, "rows.jsonl", b"not json\n")
    with pytest.raises(IndexUnavailableError, match="`current` was not moved"):
        rollback(config.index_dir)
    assert current_generation(config.index_dir) == second.generation
    record("reliability", "H1: `index rollback` to a previous generation that cannot be read",
           "refused; `current` is not moved")


def test_rebuilding_the_same_content_keeps_a_real_rollback_target(config, fake_encoder):
    first = build_index(config, fake_encoder)
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    second = build_index(config, fake_encoder)
    for _ in range(3):
        build_index(config, fake_encoder, use_cache=False)  # the same corpus again (a reload storm, say)
    assert previous_generation(config.index_dir) == first.generation
    assert current_generation(config.index_dir) != second.generation  # the newest identical one is current
    assert rollback(config.index_dir) == first.generation
    record("reliability", "L15: rebuilds of an unchanged corpus, then `index rollback`",
           "`previous` stays the last different generation: the rollback really goes back")


# ---- H3, H4, H5: one writer at a time ---------------------------------------------------------------------------

def test_an_index_is_stamped_with_the_corpus_it_was_built_from(config, fake_encoder):
    early = load_corpus(config.corpus_dir)  # what `index build` read before loading the model
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")  # an edit meanwhile
    build_index(config, fake_encoder, early)
    status = check_status(config, fake_encoder.fingerprint)
    assert status.state == STALE  # honest: the edit is not in this index, so it is not called fresh
    record("reliability", "H3: an index built from a corpus read before an edit landed",
           "stamped with the hash of what it was built from: stale, so `index build --if-needed` rebuilds it")


def test_a_corpus_edited_while_it_is_read_is_read_again(config, fake_encoder, monkeypatch):
    faq = config.corpus_dir / "faq" / "faq.yaml"
    real_load = index_store.load_corpus
    calls = []

    def edited_while_reading(root):
        calls.append(root)
        if len(calls) == 1:  # the file changes between the hash and the parse
            faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
        return real_load(root)

    monkeypatch.setattr(index_store, "load_corpus", edited_while_reading)
    build_index(config, fake_encoder)
    assert len(calls) == 2 and check_status(config, fake_encoder.fingerprint).state == FRESH
    assert any("Three groups" in p.text for p in load_index(config, fake_encoder).passages)


def test_an_edit_while_index_build_waits_is_included_and_the_index_fresh(config):
    build_index(config, FakeEncoder())
    project = config.source.parent
    with exclusive_writes(config.index_dir, "a moderator's change", timeout=5):
        build = fake_cli(project, "index", "build")
        stderr = lines_of(build.stderr)
        assert "a moderator's change" in wait_for_line(stderr, "waiting for")
        faq = config.corpus_dir / "faq" / "faq.yaml"  # the change, made while `index build` waits
        faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    out, _ = build.communicate(timeout=60)
    assert build.returncode == 0 and b"built gen-" in out
    assert check_status(config, FakeEncoder.fingerprint).state == FRESH
    assert any("Three groups" in p.text for p in load_index(config, FakeEncoder()).passages)
    record("reliability", "H3: a moderator's change while `index build` runs in another process",
           "the build waits for the writer lock, then reads the corpus: the change is in the published index, "
           "which is fresh")


def guard_project(root: Path):
    write_corpus(root / "corpus")
    (root / "questions.yaml").write_text(textwrap.dedent("""\
        - q: Who organised the call?
          expect: ["CeSIA"]
        - q: When is the deadline?
          expect: ["end of 2026"]
        - q: Which bees make honey?
          expect: ["honey"]
        - q: What is the best pizza in Naples?
          abstain: true
        """), encoding="utf-8")
    write_config(root, extra="evaluation:\n  questions: questions.yaml\n")
    return load_config(root / "config.yaml")


def test_an_edit_during_the_quality_guard_never_prunes_the_build(tmp_path):
    config = guard_project(tmp_path)
    audit = AuditLog(config.data_dir / "bot.sqlite3")
    updater = updater_for(config, audit)
    first = current_generation(config.index_dir)
    build = fake_cli(tmp_path, "index", "build", "--no-cache", delay=1.0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the build's generation is written, unpublished, and being judged
        waiting = [p for p in config.index_dir.glob("gen-*") if p.name != first and (p / "manifest.json").exists()]
        if waiting:
            break
        time.sleep(0.005)
    assert waiting, build.communicate(timeout=60)
    result = updater.add(lighthouse(), actor="mod")  # the bot's moderator edit in that window
    out, err = build.communicate(timeout=60)
    assert build.returncode == 0, err
    current = current_generation(config.index_dir)
    assert current == result.generation and (config.index_dir / current).is_dir()
    assert previous_generation(config.index_dir) == waiting[0].name  # the build's, published before the edit
    assert check_status(config, FakeEncoder.fingerprint).state == FRESH
    assert any("forty metres" in p.text for p in load_index(config, FakeEncoder()).passages)
    record("reliability", "H4: a moderator edit while `index build`'s quality guard judges its unpublished generation",
           "the edit waits for the build to publish; `current` always names a generation that exists and loads, "
           "with the edit")


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from bot.config import load_config
    from bot.core.answer import LiveIndex
    from bot.corpus.editing import draft_from_modal
    from bot.corpus.live_update import LiveUpdater
    from bot.index.store import load_index
    from bot.storage.audit import AuditLog
    from tests.conftest import FakeEncoder
    config = load_config(sys.argv[1])
    encoder = FakeEncoder()
    updater = LiveUpdater(config, encoder, LiveIndex(load_index(config, encoder)), AuditLog(config.database_path))
    n = sys.argv[2]
    draft = draft_from_modal(f"What is fact number {n} about lighthouses?", f"Fact {n}?", f"Fact {n} is true.",
                             "https://example.org/x", "X", "en")
    start = float(sys.argv[3])
    while time.time() < start:
        pass
    updater.add(draft, actor=f"mod{n}")
    print("added", flush=True)
""")


def test_two_processes_adding_at_once_lose_nothing(config):
    build_index(config, FakeEncoder())
    AuditLog(config.database_path).close()  # the database exists, as it does once a bot has run
    start = time.time() + 1.5
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(config.source), n, str(start)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in ("1", "2")]
    results = [w.communicate(timeout=60) for w in writers]
    assert [out.strip() for out, _ in results] == ["added", "added"], results
    text = (config.corpus_dir / "faq" / "90-moderators.yaml").read_text()
    assert "fact number 1" in text and "fact number 2" in text
    index = load_index(config, FakeEncoder())
    assert {"Fact 1 is true.", "Fact 2 is true."} <= {p.text for p in index.passages}
    assert sorted(r.actor for r in AuditLog(config.database_path).recent()) == ["mod1", "mod2"]
    record("reliability", "H5: two processes add an FAQ entry at the same moment (3 of 5 rounds lost one before)",
           "serialised by the writer lock: both entries in the file and in the current index, both audited")


def test_a_second_bot_on_the_same_data_folder_refuses_to_start(config, monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", "fake-token-not-a-secret")
    with BotLock(config.data_dir):  # the first bot
        assert running_bot(config.data_dir) == os.getpid()
        assert cli.main(["run", "--config", str(config.source)]) == 1
    err = capsys.readouterr().err
    assert f"another redlines-bot (pid {os.getpid()}) is already running" in err and "fake-token" not in err
    assert running_bot(config.data_dir) is None
    record("reliability", "H5: a second `redlines-bot run` on the same data folder",
           "refused before connecting: “another redlines-bot (pid N) is already running with the data folder …”")


def test_a_killed_bot_leaves_no_lock_behind(config):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib\n"
        "from bot.storage.locks import BotLock\n"
        f"lock = BotLock(pathlib.Path({str(config.data_dir)!r})).acquire()\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n")], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ready"
    assert running_bot(config.data_dir) == holder.pid
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    assert (config.data_dir / "bot.pid").read_text().strip() == str(holder.pid)  # the file stays ...
    assert running_bot(config.data_dir) is None  # ... but nothing holds it
    with BotLock(config.data_dir):
        assert running_bot(config.data_dir) == os.getpid()
    record("reliability", "SIGKILL of the bot, then `reload` and a new start",
           "the kernel drops the lock: `reload` finds no bot (whatever pid the file holds), a new bot starts")


def test_reload_without_permission_to_signal_is_a_clean_error(config, monkeypatch, capsys):
    def refused(pid, sig):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    with BotLock(config.data_dir):
        monkeypatch.setattr(os, "kill", refused)
        code = cli.main(["reload", "--config", str(config.source)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: not allowed to signal the bot") and "Traceback" not in err
    record("reliability", "L13: `redlines-bot reload` run by another user than the bot's (simulated EPERM)",
           "“error: not allowed to signal the bot (pid N): it runs as another user …”, exit 1")


# ---- the quality guard's refusal --------------------------------------------------------------------------------

def test_a_refused_build_keeps_serving_the_last_good_generation_and_says_so(tmp_path, capsys, caplog):
    config = guard_project(tmp_path)
    good = build_index(config, FakeEncoder()).generation
    faq = config.corpus_dir / "faq" / "faq.yaml"  # an edit that breaks the answer to a guarded question
    faq.write_text(faq.read_text().replace("Three nonprofits organised it, CeSIA, The Future Society and CHAI.",
                                           "Nobody knows."), encoding="utf-8")
    config_arg = ["--config", str(config.source)]
    code, err = run_fake_cli(config_arg + ["index", "build", "--if-needed"])
    assert code == cli.REFUSED_EXIT and "quality guard" in err and current_generation(config.index_dir) == good
    code, err = run_fake_cli(config_arg + ["index", "build", "--if-needed"])  # `make run` again: no futile rebuild
    assert code == cli.REFUSED_EXIT and "serving the last good generation" in err
    status = check_status(config, FakeEncoder.fingerprint)
    assert status.state == STALE and status.refusal is not None and "index build --force" in status.detail
    with caplog.at_level(logging.WARNING):
        index = load_index(config, FakeEncoder())  # what the bot's start does
    assert index.generation == good and any("SERVING A STALE INDEX" in r.getMessage() for r in caplog.records)
    code, _ = run_fake_cli(config_arg + ["index", "build", "--force"])
    assert code == 0 and check_status(config, FakeEncoder.fingerprint).state == FRESH
    assert not (config.index_dir / "refused.json").exists()
    record("reliability", "a build refused by the quality guard (code review)",
           "the last good generation stays current and is served, with a warning in the log and in `index status`; "
           "`index build --if-needed` exits 3 (which `make run` accepts) instead of rebuilding; `--force` publishes")


def run_fake_cli(argv: list[str]) -> tuple[int, str]:
    process = subprocess.run([sys.executable, "-m", "tests.fake_encoder_cli", *argv], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    return process.returncode, process.stderr


# ---- L7, L13: clean errors ----------------------------------------------------------------------------------------

def test_a_full_data_folder_does_not_stop_a_build_or_an_edit(config, monkeypatch, caplog):
    from bot.index import embedding_cache

    def disk_full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(embedding_cache, "write_bytes_atomic", disk_full)
    with caplog.at_level(logging.WARNING):
        build_index(config, FakeEncoder())
        updater_for(config).add(lighthouse(), actor="mod")
    assert check_status(config, FakeEncoder.fingerprint).state == FRESH
    assert any("could not save the embedding cache" in r.getMessage() for r in caplog.records)
    record("reliability", "L7: data/ full while the embedding cache is saved (index build, a moderator's add)",
           "a warning (“could not save the embedding cache … No space left on device”); the index is built and the "
           "entry added; no traceback")


def test_questions_that_are_not_utf8_get_an_error_line_and_the_run_goes_on(config):
    build_index(config, FakeEncoder())
    process = subprocess.run([sys.executable, "-m", "tests.fake_encoder_cli", "--config", str(config.source), "ask",
                              "--jsonl"], cwd=REPO, capture_output=True, timeout=60,
                             input=b"Who organised the call?\nQui a organis\xe9 l'appel ?\nWhen is the deadline?\n")
    results = [json.loads(line) for line in process.stdout.decode().splitlines()]
    assert process.returncode == 0 and b"Traceback" not in process.stderr
    assert [r["answered"] for r in results] == [True, False, True]
    assert "not valid UTF-8" in results[1]["error"]
    one = subprocess.run([sys.executable, "-m", "tests.fake_encoder_cli", "--config", str(config.source), "ask",
                          b"Qui a organis\xe9 l'appel ?"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert one.returncode == 1 and one.stderr.startswith("error: The question is not valid UTF-8 text")
    record("reliability", "L13: a latin-1 byte in a question (`ask`, and one line of an `ask --jsonl` run)",
           "`ask`: “error: The question is not valid UTF-8 text …”, exit 1; `--jsonl`: that line gets an error "
           "object, the others their answers")


def test_a_token_with_a_line_break_is_refused_without_showing_it(config, monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", "MTAxMjM0NTY3ODkw\nMTIzNDU2Nw.SECRET.part")
    assert cli.main(["run", "--config", str(config.source)]) == 1
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN has a line break" in err and "SECRET" not in err and "Traceback" not in err
    record("reliability", "L13: DISCORD_TOKEN with a line break pasted inside",
           "“error: DISCORD_TOKEN has a line break, a space or a control character inside it …”; the token not shown")


def test_moderators_never_see_server_paths():
    from bot.errors import StorageError, without_server_paths

    root = Path("/srv/redlines")
    error = StorageError(root / "corpus" / "faq" / "90-moderators.yaml", OSError(errno.ENOSPC, "No space left"))
    shown = without_server_paths(str(error), root)
    assert "cannot write corpus/faq/90-moderators.yaml: No space left" in shown and "/srv" not in shown


# ---- the hardening table ------------------------------------------------------------------------------------------

def test_a_recorded_case_names_the_test_that_checked_it():
    from . import hardening_report

    record("meta", "a case | with a pipe", "an outcome\non two lines")
    row = hardening_report.ROWS[-1]
    assert row[3] == "tests/test_reliability.py::test_a_recorded_case_names_the_test_that_checked_it"
    assert "| meta | a case \\| with a pipe | an outcome on two lines | `tests/test_reliability.py::" in \
        hardening_report.table([row])
    hardening_report.ROWS.pop()


def test_every_row_of_the_hardening_table_names_a_test_that_exists():
    """docs/hardening.md is written by `make hardening`, never by a test run; its rows must still point at tests."""
    from .hardening_report import REPORT

    rows = [line for line in REPORT.read_text(encoding="utf-8").splitlines() if line.startswith("| ") and "`" in line]
    assert rows
    for row in rows:
        found = re.search(r".*\| (`+) ?(.+?) ?\1 \|$", row)
        assert found, row
        path, _, name = found[2].partition("::")
        function = name.split("[", 1)[0]
        assert f"def {function}(" in (REPO / path).read_text(encoding="utf-8"), row
