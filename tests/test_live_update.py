"""Moderator changes made live: validated, written atomically, audited, swapped in, undoable."""

from __future__ import annotations

import threading
import time

import pytest

from bot.core.answer import Answerer, LiveIndex
from bot.corpus.editing import FaqEditError, draft_from_modal, entry_yaml
from bot.corpus.live_update import LiveUpdater
from bot.corpus.reader import load_corpus
from bot.errors import CorpusError
from bot.index.store import build_index, current_generation, load_index
from bot.storage.answers import Store
from bot.storage.audit import AuditLog
from bot.storage.gaps import Miss, gaps_csv, group_misses, read_misses

from .conftest import FakeEncoder


@pytest.fixture
def setup(config):
    encoder = FakeEncoder()
    build_index(config, encoder)
    live = LiveIndex(load_index(config, encoder))
    audit = AuditLog(config.data_dir / "bot.sqlite3")
    updater = LiveUpdater(config, encoder, live, audit)
    answerer = Answerer(config.retrieval, encoder, live)
    return config, updater, answerer, audit, encoder


def draft(question="How tall is the lighthouse?", answer="The lighthouse is forty metres tall.",
          alternatives="What height is the lighthouse?\nIs the lighthouse tall?", url="https://example.org/lighthouse",
          entry_id=None):
    return draft_from_modal(question, alternatives, answer, url, "Colour guide", "en", entry_id)


def snapshot(config) -> dict[str, str]:
    return {p.name: p.read_text() for p in (config.corpus_dir / "faq").glob("*.yaml")}


def test_add_then_ask_is_answered_from_the_new_entry(setup):
    config, updater, answerer, audit, _ = setup
    assert not answerer.answer("How tall is the lighthouse?").answered
    result = updater.add(draft(), actor="mod#1", actor_id=7)
    answer = answerer.answer("How tall is the lighthouse?")
    assert answer.answered and answer.excerpts[0].text == "The lighthouse is forty metres tall."
    assert result.encoded <= 4  # only the new entry's texts are encoded
    text = (config.corpus_dir / "faq" / "90-moderators.yaml").read_text()
    assert "- id: how-tall-is-the-lighthouse" in text and "  answer: >-\n    The lighthouse is forty metres tall.\n" in text
    assert current_generation(config.index_dir) == result.generation
    record = audit.recent(1)[0]
    assert (record.action, record.actor, record.actor_id, record.entry_before) == ("add", "mod#1", 7, None)
    assert "forty metres" in record.entry_after


def test_moderators_file_round_trips_through_the_corpus_parser(setup):
    config, updater, *_ = setup
    tricky = draft(question='Is "quoting" OK: yes? # not a comment', answer="Yes: colons, # hashes and \"quotes\" stay.")
    updater.add(tricky, actor="mod")
    entry = load_corpus(config.corpus_dir).faq_entry(tricky.id)
    assert entry.question == tricky.question and entry.answer == tricky.answer
    assert entry.answer in (config.corpus_dir / entry.path).read_text()  # still quotable verbatim


def test_edit_changes_only_that_entry_and_keeps_comments(setup):
    config, updater, answerer, audit, _ = setup
    path = config.corpus_dir / "faq" / "faq.yaml"
    path.write_text("# hand-written comment\n" + path.read_text())
    updater.reload(actor="maintainer")
    before = path.read_text()
    updater.edit("who-organised", draft(question="Who organised the call?", answer="CeSIA, TFS and CHAI did.",
                                        alternatives="Who ran it?", url="https://example.org/launch",
                                        entry_id="who-organised"), actor="mod")
    after = path.read_text()
    assert after.startswith("# hand-written comment\n")
    assert "quand-lancement" in after and after.split("- id: quand-lancement")[1] == before.split("- id: quand-lancement")[1]
    assert answerer.answer("Who organised the call?").excerpts[0].text == "CeSIA, TFS and CHAI did."
    record = audit.recent(1)[0]
    assert "Three nonprofits" in record.entry_before and "CeSIA, TFS and CHAI did." in record.entry_after


def test_remove_takes_the_entry_out_of_answers(setup):
    config, updater, answerer, *_ = setup
    updater.remove("who-organised", actor="mod")
    assert load_corpus(config.corpus_dir).faq_entry("who-organised") is None
    assert all(e.passage_id != "faq:who-organised" for e in answerer.answer("Who organised the call?", limit=10).excerpts)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (dict(url=""), "needs a source url"),
        (dict(url="ftp://x"), r"must be an http\(s\) address"),
        (dict(answer="x" * 1001), "the limit is 1,000"),
        (dict(alternatives=""), "at least one alternative"),
        (dict(entry_id="who-organised"), "already exists"),
        (dict(question=""), "question is empty"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(setup, bad, reason):
    config, updater, answerer, audit, _ = setup
    files, generation = snapshot(config), updater.live.current.generation
    with pytest.raises(FaqEditError, match=reason):
        updater.add(draft(**bad), actor="mod")
    assert snapshot(config) == files and updater.live.current.generation == generation
    assert audit.recent() == []


def test_broken_file_is_refused_with_file_and_line_while_the_live_index_serves(setup):
    config, updater, answerer, *_ = setup
    generation = updater.live.current.generation
    (config.corpus_dir / "faq" / "broken.yaml").write_text("- id: ok-one\n  question: [oops\n")
    with pytest.raises(CorpusError, match="faq/broken.yaml:3"):
        updater.reload(actor="maintainer")
    assert updater.live.current.generation == generation
    assert answerer.answer("Who organised the call?").answered


def test_hand_edited_files_are_picked_up_by_reload(setup):
    config, updater, answerer, *_ = setup
    path = config.corpus_dir / "faq" / "faq.yaml"
    path.write_text(path.read_text().replace("Three nonprofits organised it", "Three groups ran it"))
    updater.reload(actor="maintainer")
    assert answerer.answer("Who organised the call?").excerpts[0].text.startswith("Three groups ran it")


def test_undo_restores_the_file_and_the_previous_generation(setup):
    config, updater, answerer, audit, _ = setup
    files, generation = snapshot(config), updater.live.current.generation
    updater.add(draft(), actor="mod")
    result = updater.undo(actor="mod")
    assert result.generation == generation and result.encoded == 0
    assert snapshot(config) == files and current_generation(config.index_dir) == generation
    assert not answerer.answer("How tall is the lighthouse?").answered
    with pytest.raises(Exception, match="no moderator change to undo"):
        updater.undo(actor="mod")


def test_undo_refuses_when_the_file_changed_since(setup):
    config, updater, *_ = setup
    updater.add(draft(), actor="mod")
    path = config.corpus_dir / "faq" / "90-moderators.yaml"
    path.write_text(path.read_text() + "\n# a hand edit\n")
    with pytest.raises(Exception, match="has changed since"):
        updater.undo(actor="mod")


def test_a_question_in_flight_during_a_swap_finishes_on_the_old_index(setup):
    config, updater, answerer, *_ = setup
    old_generation = updater.live.current.generation
    started, release = threading.Event(), threading.Event()
    real_encode = answerer.encoder.encode_queries

    def slow_encode(texts):
        started.set()
        release.wait(5)
        return real_encode(texts)

    answerer.encoder.encode_queries = slow_encode
    results = []
    worker = threading.Thread(target=lambda: results.append(answerer.answer("Who organised the call?")))
    worker.start()
    assert started.wait(5)
    answerer.encoder.encode_queries = real_encode
    updater.edit("who-organised", draft(question="Who organised the call?", answer="Changed answer.",
                                        alternatives="Who ran it?", url="https://example.org/launch",
                                        entry_id="who-organised"), actor="mod")
    assert updater.live.current.generation != old_generation
    release.set()
    worker.join(5)
    assert results[0].excerpts[0].text.startswith("Three nonprofits")  # the generation it started on
    assert answerer.answer("Who organised the call?").excerpts[0].text == "Changed answer."


def test_entry_yaml_is_the_house_format(setup):
    config, *_ = setup
    entry = load_corpus(config.corpus_dir).faq_entry("who-organised")
    text = entry_yaml(entry)
    assert text.startswith("- id: who-organised\n  language: en\n  question: \"Who organised the call?\"\n")


def test_gaps_group_similar_questions_with_counts_and_last_time(setup):
    config, *_ = setup
    now = time.time()
    misses = [Miss("pizza recipe with cheese", now - 30, "declined"), Miss("pizza recipe with cheese?", now - 10, "declined"),
              Miss("pizza recipe cheese", now - 5, "not helpful"), Miss("weather in tokyo today", now - 20, "declined")]
    groups = group_misses(misses, FakeEncoder())
    assert [g.count for g in groups] == [3, 1]
    assert groups[0].declined == 2 and groups[0].not_helpful == 1 and groups[0].last_asked == now - 5
    assert "pizza recipe with cheese" in gaps_csv(groups).splitlines()[1]


def test_declined_and_not_helpful_questions_are_read_from_the_database(setup):
    config, updater, answerer, *_ = setup
    store = Store(config.data_dir / "bot.sqlite3")
    declined = store.record_answer(answerer.answer("pizza recipe with mozzarella"), "slash", user_id=1)
    helped = store.record_answer(answerer.answer("Who organised the call?"), "slash", user_id=1)
    store.record_feedback(helped, user_id=2, helpful=False)
    misses = read_misses(config.data_dir / "bot.sqlite3")
    assert {(m.question, m.reason) for m in misses} == {("pizza recipe with mozzarella", "declined"),
                                                        ("Who organised the call?", "not helpful")}
    assert declined
