"""A question answered a few minutes ago in the same channel gets a link to that answer, not the same long
answer again.

"The same question" is judged by its answer: the same passages, in the same order, as an answer posted in the
channel within ``discord.repeat_window_minutes``. Rephrasings of one question count (they get the same
answer), two questions that merely share words don't, and after an index change the new answer is shown.
"""

from __future__ import annotations

import time

from bot.core.answer import Answer
from bot.discord_app.conversation import Conversations
from bot.serving.i18n import chrome_language, t
from bot.storage.conversations import Exchange


def passages_of(answer: Answer) -> tuple[str, ...]:
    """The passage ids an answer shows, best first; none when it was declined."""
    return tuple(excerpt.passage_id for excerpt in answer.excerpts) if answer.answered else ()


async def earlier_answer(conversations: Conversations, channel_id: int, answer: Answer,
                         window_minutes: float, now: float | None = None) -> Exchange | None:
    """An answer showing the same passages posted in ``channel_id`` within the window, if any."""
    passages = passages_of(answer)
    if window_minutes <= 0 or not passages:
        return None
    now = time.time() if now is None else now
    return await conversations.earlier_answer(channel_id, passages, now - window_minutes * 60)


def jump_url(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def link_text(earlier: Exchange, guild_id: int, language: str, now: float | None = None) -> str:
    """One line pointing at the earlier answer, in the question's language (the catalogue's English otherwise)."""
    language = chrome_language(language, None)
    minutes = int(((time.time() if now is None else now) - earlier.asked_at) // 60)
    ago = t(language, "repeat.just_now") if minutes < 1 else t(language, "repeat.one_minute") if minutes == 1 \
        else t(language, "repeat.minutes", n=minutes)
    assert earlier.answer_channel_id is not None and earlier.answer_message_id is not None
    return t(language, "repeat.link", ago=ago, url=jump_url(guild_id, earlier.answer_channel_id,
                                                            earlier.answer_message_id))
