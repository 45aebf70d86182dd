"""Fair-use limits: the per-member cooldown, the concurrency cap, the notice limit, and how the answering
service applies them (acknowledge first, then wait)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.core.answer import Answer, DeclineKind
from bot.errors import QuestionError
from bot.serving.limits import Busy, ConcurrencyCap, Cooldown, NoticeLimit, RateLimited
from bot.serving.service import AnswerService
from bot.storage.answers import Store


def test_cooldown_allows_rate_per_window_per_member():
    now = [0.0]
    cooldown = Cooldown(3, 30, clock=lambda: now[0])
    for _ in range(3):
        cooldown.check(1)
    with pytest.raises(RateLimited) as info:
        cooldown.check(1)
    assert info.value.retry_after == pytest.approx(30) and "30 s" in str(info.value)
    cooldown.check(2)  # others are not affected
    now[0] = 30.0
    cooldown.check(1)  # the window slid on


@pytest.mark.asyncio
async def test_cap_lets_a_burst_wait_its_turn_then_says_busy():
    cap = ConcurrencyCap(2, retry_after=5, max_wait=0.2)
    finished = []

    async def job(n):
        async with cap.slot():
            await asyncio.sleep(0.05)
            finished.append(n)

    await asyncio.gather(*(job(n) for n in range(6)))
    assert sorted(finished) == list(range(6)) and cap.in_flight == 0

    async def hog():
        async with cap.slot():
            await asyncio.sleep(1)

    hogs = [asyncio.create_task(hog()) for _ in range(2)]
    await asyncio.sleep(0.01)
    with pytest.raises(Busy, match="try again in 5 s"):
        async with cap.slot():
            pass
    for task in hogs:
        task.cancel()


def test_a_refunded_question_does_not_count_towards_the_cooldown():
    now = [0.0]
    cooldown = Cooldown(2, 30, clock=lambda: now[0])
    cooldown.check(1)
    cooldown.check(1)
    cooldown.refund(1)  # the second was refused afterwards (busy)
    cooldown.check(1)
    with pytest.raises(RateLimited):
        cooldown.check(1)
    cooldown.refund(99)  # nothing counted for this member: nothing to give back


def test_notice_limit_allows_one_notice_per_member_per_window():
    now = [0.0]
    notices = NoticeLimit(30, clock=lambda: now[0])
    assert notices.allow(1) and not notices.allow(1) and notices.allow(2)
    now[0] = 29.9
    assert not notices.allow(1)
    now[0] = 30.0
    assert notices.allow(1)


# ---- the service: acknowledge first, then wait for a slot --------------------------------------------------


class Recorder:
    """An answerer whose questions are always valid, and that notes when it answered."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def validate(self, question: str) -> str:
        if not question.strip():
            raise QuestionError("empty")
        return question

    def answer(self, question, context=(), **options):
        self.events.append(f"answer {question}")
        return Answer(question=question, answered=True, excerpts=(), latency_ms=0.0, retriever="x", language="en",
                      index_version="v", confidence=1.0, context=tuple(context))


@pytest.mark.asyncio
async def test_admission_acknowledges_before_waiting_for_a_slot_and_busy_comes_after():
    events: list[str] = []
    cap = ConcurrencyCap(1, retry_after=5, max_wait=0.05)
    service = AnswerService(Recorder(events), None, Cooldown(5, 30), cap)

    async def acknowledge():
        events.append(f"acknowledged with {cap.in_flight} slot(s) taken")

    await cap.acquire()  # every slot taken
    with pytest.raises(Busy):
        async with service.admitted("q1", user_id=7, acknowledge=acknowledge):
            pass
    assert events == ["acknowledged with 1 slot(s) taken"]  # acknowledged at once, refused only after the wait
    assert not service.cooldown._asked[7]  # a busy bot costs no cooldown
    cap.release()
    async with service.admitted("q2", user_id=7, acknowledge=acknowledge) as admission:
        asked = await admission.answer(via="test", context=("q1",))
    assert events[-2:] == ["acknowledged with 0 slot(s) taken", "answer q2"] and asked.answer.context == ("q1",)
    assert cap.in_flight == 0


@pytest.mark.asyncio
async def test_instant_refusals_come_before_the_acknowledgement():
    events: list[str] = []
    service = AnswerService(Recorder(events), None, Cooldown(1, 30), ConcurrencyCap(1, 5))

    async def acknowledge():
        events.append("acknowledged")

    with pytest.raises(QuestionError):
        async with service.admitted(" ", user_id=1, acknowledge=acknowledge):
            pass
    await service.ask("q", user_id=1, via="test")
    with pytest.raises(RateLimited):
        async with service.admitted("q", user_id=1, acknowledge=acknowledge):
            pass
    assert events == ["answer q"]  # refused privately and at once: never acknowledged


@pytest.mark.asyncio
async def test_chit_chat_is_never_recorded(tmp_path):
    events: list[str] = []
    recorder = Recorder(events)
    store = Store(tmp_path / "bot.sqlite3")
    service = AnswerService(recorder, store, Cooldown(5, 30), ConcurrencyCap(1, 5))
    real = recorder.answer
    recorder.answer = lambda q, c=(), **o: dataclasses.replace(real(q, c, **o), answered=False,
                                                               decline=DeclineKind.CHITCHAT)
    asked = await service.ask("thanks!", user_id=1, via="test")
    assert asked.answer_id is None
    recorder.answer = real
    assert (await service.ask("Who organised the call?", user_id=1, via="test")).answer_id is not None
    rows = store._db.execute("SELECT question FROM answers").fetchall()
    assert rows == [("Who organised the call?",)]
    store.close()
