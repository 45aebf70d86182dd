"""The conversation log: which answer belongs to which question, and a conversation's previous questions."""

from __future__ import annotations

import pytest

from bot.storage.conversations import ConversationLog, Exchange


@pytest.fixture
def log(tmp_path):
    conversations = ConversationLog(tmp_path / "bot.sqlite3")
    yield conversations
    conversations.close()


def exchange(question: str, message_id: int, *, conversation: int = 100, channel: int = 10, answer: int | None = None,
             asked_at: float = 1000.0, **fields) -> Exchange:
    return Exchange(question=question, question_channel_id=channel, conversation_id=conversation, asker_id=1,
                    question_message_id=message_id, answer_message_id=answer, answer_channel_id=channel if answer else None,
                    asked_at=asked_at, **fields)


def test_a_conversation_gives_its_last_questions_oldest_first(log):
    ids = [log.record(exchange(f"q{n}", 200 + n, answer=300 + n)) for n in range(5)]
    log.record(exchange("elsewhere", 299, conversation=999))
    assert log.questions(100) == ("q2", "q3", "q4")
    assert log.questions(100, before_id=ids[3], limit=5) == ("q0", "q1", "q2")
    assert log.questions(12345) == ()


def test_answers_and_questions_are_found_both_ways_and_an_edit_updates_in_place(log):
    first = log.record(exchange("Who organised the call?", 201, answer=301, passages=("faq:a", "letter:1")))
    assert log.by_answer(301).question == "Who organised the call?"
    assert log.by_question(201).passages == ("faq:a", "letter:1")
    again = log.record(exchange("When is the deadline?", 201, answer=301, passages=("letter:3",), asked_at=2000.0))
    assert again == first
    edited = log.by_question(201)
    assert edited.question == "When is the deadline?" and edited.passages == ("letter:3",)
    assert edited.asked_at == 1000.0  # it keeps its place in the conversation
    assert log.by_answer(999) is None and log.by_question(999) is None


def test_an_earlier_identical_answer_in_the_channel_is_found_within_the_window(log):
    log.record(exchange("Who organised the call?", 201, answer=301, passages=("faq:a",), asked_at=1000.0))
    log.record(exchange("who is behind it", 202, answer=302, passages=("faq:a",), asked_at=1100.0, linked=True))
    log.record(exchange("When is the deadline?", 203, answer=303, passages=("letter:3",), asked_at=1200.0))
    found = log.earlier_answer(10, ("faq:a",), since=900.0)
    assert found is not None and found.answer_message_id == 301  # the answer itself, not the link to it
    assert log.earlier_answer(10, ("faq:a",), since=1050.0) is None   # outside the window
    assert log.earlier_answer(11, ("faq:a",), since=0.0) is None      # another channel
    assert log.earlier_answer(10, ("faq:a", "letter:3"), since=0.0) is None
    assert log.earlier_answer(10, (), since=0.0) is None              # declines are never "the same answer"
    log.forget_answer(301)  # a moderator deleted it
    assert log.earlier_answer(10, ("faq:a",), since=0.0) is None


def test_forgetting_a_thread_forgets_what_was_said_in_it(log):
    log.record(exchange("q", 201, conversation=500, answer=301, opened_thread_id=500))
    log.record(exchange("follow-up", 202, conversation=500, answer=302))
    log.record(exchange("other", 203, conversation=600, answer=303))
    log.forget_thread(500)
    assert log.questions(500) == () and log.questions(600) == ("other",)
    exchange_id = log.by_question(203).id
    log.forget(exchange_id)
    assert log.by_question(203) is None


def test_slash_command_answers_have_no_question_message(log):
    first = log.record(exchange("q", None, answer=301))
    second = log.record(exchange("q", None, answer=302))
    assert first != second and log.by_answer(302).question_message_id is None
