"""Does a chat message ask something? Checked on examples and on the labelled bank of real-style messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.asking import asks_something

EVAL = Path(__file__).resolve().parent / "eval"


@pytest.mark.parametrize("text", [
    "Who organised the call?",
    "I wonder who signed the letter",
    "i was wondering whether China supported it",
    "Long time lurker here. My friend sent me the letter and I read it twice. When is the deadline? I could not "
    "find it.",
    "So I read the letter. What exactly are they asking governments to do",
    "yo who even signed this thing lol",
    "does anyone know when it was launched",
    "tell me about the deadline",
    "quote the part about the deadline pls",
    "je me demande qui a signé",
    "qui a organisé l'appel",
    "Wer hat das unterschrieben",
    "谁签署了这封信",
    "killer robots banned or nah",
])
def test_questions_and_requests_are_recognised(text):
    assert asks_something(text)


@pytest.mark.parametrize("text", [
    "I like this letter.", "thanks!", "lol", "ok cool", "👍", "hello everyone 👋", "", "   ",
    "see https://example.org/?q=who", "This is great", "<@123456789012345678>",
])
def test_chatter_is_not_a_question(text):
    assert not asks_something(text)


def _bank(folder: str) -> list[dict]:
    return [item for path in sorted((EVAL / folder).glob("*.yaml")) for item in yaml.safe_load(path.read_text())]


@pytest.mark.parametrize("folder", ["bank", "fresh"])
def test_answer_channels_catch_nearly_every_answerable_message_and_little_chit_chat(folder):
    """Before: only messages ending with '?' or opening with a question word counted (bank 374/462 answerable
    messages, fresh set 128/144). Now: 456/462 and 142/144; chit-chat 2/36 and 0/11. With the December fresh sets
    (Italian and "did X sign?"): 229/232 answerable, 0/14 chit-chat."""
    items = _bank(folder)
    answerable = [i["q"] for i in items if i.get("answers")]
    chitchat = [i["q"] for i in items if i.get("category") == "chitchat"]
    caught = sum(asks_something(q) for q in answerable)
    chatty = sum(asks_something(q) for q in chitchat)
    assert caught >= 0.97 * len(answerable), (caught, len(answerable))
    assert chatty <= 0.1 * len(chitchat), (chatty, len(chitchat))
