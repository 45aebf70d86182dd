"""Two bot processes' updaters sharing one database, corpus and index folder (in one test process, on SQLite and
PostgreSQL): a change made by one is published and swapped in by the other; a reload both receive is built once;
a late-heard older publication never replaces a newer generation."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.answer import Answerer, LiveIndex
from bot.corpus.editing import draft_from_modal
from bot.corpus.live_update import LiveUpdater
from bot.index.store import build_index, load_index
from bot.serving.follower import follow
from bot.storage.audit import AuditLog
from bot.storage.coordination import Coordination

from .conftest import FakeEncoder


class Process:
    """What one bot process holds: its own encoder, live index, audit log and coordination handle."""

    def __init__(self, config, target) -> None:
        self.encoder = FakeEncoder()
        self.live = LiveIndex(load_index(config, self.encoder))
        self.audit = AuditLog(target)
        self.coordination = Coordination(target)
        self.updater = LiveUpdater(config, self.encoder, self.live, self.audit, self.coordination)
        self.answerer = Answerer(config.retrieval, self.encoder, self.live)

    def close(self) -> None:
        self.audit.close()
        self.coordination.close()


@pytest.fixture
def processes(config, database_target):
    build_index(config, FakeEncoder())
    pair = [Process(config, database_target), Process(config, database_target)]
    yield pair
    for process in pair:
        process.close()


LIGHTHOUSE = draft_from_modal("How tall is the lighthouse?", "What height is the lighthouse?",
                              "The lighthouse is forty metres tall.", "https://example.org/lighthouse", "Guide", "en",
                              "lighthouse")


def test_a_change_on_one_process_is_adopted_by_the_other(processes):
    a, b = processes
    result = a.updater.add(LIGHTHOUSE, "mod", 1)
    latest = b.coordination.latest()
    assert (latest.generation, latest.action) == (result.generation, "add")
    assert not b.answerer.answer("How tall is the lighthouse?").answered
    assert b.updater.adopt(latest.generation, latest.id)
    assert b.answerer.answer("How tall is the lighthouse?").excerpts[0].text == "The lighthouse is forty metres tall."
    assert not b.updater.adopt(latest.generation, latest.id)  # already live
    # B undoes A's change (the audit log is shared); A adopts the undo; A's older publication is not re-applied.
    undone = b.updater.undo("mod2", 2)
    newest = a.coordination.latest()
    assert newest.generation == undone.generation and a.updater.adopt(newest.generation, newest.id)
    assert not a.answerer.answer("How tall is the lighthouse?").answered
    assert not a.updater.adopt(result.generation, latest.id)
    assert a.live.current.generation == undone.generation


def test_a_reload_both_processes_receive_is_built_once(processes, config):
    a, b = processes
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits organised it", "Three groups ran it"))
    first = a.updater.reload("SIGHUP")
    generations = sorted(p.name for p in config.index_dir.glob("gen-*"))
    second = b.updater.reload("SIGHUP")
    assert first.encoded >= 1 and second.encoded == 0 and second.generation == first.generation
    assert sorted(p.name for p in config.index_dir.glob("gen-*")) == generations  # nothing built the second time
    assert "Three groups ran it" in b.answerer.answer("Who organised the call?").excerpts[0].text


@pytest.mark.asyncio
async def test_the_follower_swaps_in_what_another_process_publishes(processes):
    a, b = processes
    follower = asyncio.create_task(follow(b.coordination, b.updater, poll_seconds=0.2))
    try:
        result = await asyncio.to_thread(a.updater.add, LIGHTHOUSE, "mod", 1)
        for _ in range(100):
            if b.live.current.generation == result.generation:
                break
            await asyncio.sleep(0.05)
        assert b.live.current.generation == result.generation
        assert b.answerer.answer("How tall is the lighthouse?").answered
    finally:
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            await follower
