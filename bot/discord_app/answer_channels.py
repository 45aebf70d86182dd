"""Where and how the bot responds to a message: answer channels (text and forum), threads, mentions, replies.

The bot answers first and only then decides where the answer goes, so that an off-topic message in an answer
channel never opens a thread just to say "not covered":

- an answer, or a decline that quotes what the sources do say (a name the corpus doesn't hold, a date after
  the sources), opens a thread on a question in a text answer channel (``answer_in_threads``);
- a plain "not covered" there gets a reaction (🤷) instead: the member wasn't talking to the bot, the
  channel stays readable, and ``/ask`` or a mention gives the full decline with its nearest topics;
- chit-chat ("thanks!", "ok") gets nothing in threads and channels, and a 👍 reaction when it was addressed
  to the bot (mention, reply), so that silence doesn't look like an outage; it is never a gap to record;
- everything else (mentions, replies, follow-ups in a thread, forum posts) gets its answer or decline in place.

In a conversation thread, members talk among themselves too: see ``answers_in_thread``.
"""

from __future__ import annotations

import discord

from bot.core.answer import Answer, DeclineKind

# How a message reached the bot (also the ``via`` recorded with its answer).
MENTION = "mention"      # mentions the bot
REPLY = "reply"          # replies to one of the bot's messages
CHANNEL = "channel"      # a question in a text answer channel
THREAD = "thread"        # a follow-up in a thread the bot answers in
FORUM = "forum"          # a new post in a forum answer channel

# What the bot does with the answer.
POST = "post"            # post it in reply to the message
OPEN_THREAD = "thread"   # open a thread on the message and post it there
NOT_COVERED = "not-covered"  # react with NOT_COVERED_EMOJI
ACKNOWLEDGE = "acknowledge"  # react with ACKNOWLEDGE_EMOJI
SILENT = "silent"

NOT_COVERED_EMOJI = "🤷"
ACKNOWLEDGE_EMOJI = "👍"

# Declines that say something specific (what the sources do say about a name or a date) are worth a thread.
_HELPFUL_DECLINES = frozenset({DeclineKind.UNKNOWN_NAME, DeclineKind.AFTER_SOURCES})


def response_for(how: str, answer: Answer, *, answer_in_threads: bool) -> str:
    """What to do with ``answer`` to a message that reached the bot ``how``."""
    if answer.decline == DeclineKind.CHITCHAT:
        return ACKNOWLEDGE if how in (MENTION, REPLY) else SILENT
    if how == CHANNEL:
        if not (answer.answered or answer.decline in _HELPFUL_DECLINES):
            return NOT_COVERED
        return OPEN_THREAD if answer_in_threads else POST
    return POST


def is_forum_post(message: discord.Message) -> bool:
    """The first message of a forum post (Discord gives it the post's id)."""
    channel = message.channel
    return isinstance(channel, discord.Thread) and isinstance(channel.parent, discord.ForumChannel) \
        and message.id == channel.id


def forum_question(title: str, text: str) -> str:
    """A forum post's question: its title, then its text unless the text already says it."""
    title = " ".join(title.split())
    if not text:
        return title
    if not title or title.casefold().rstrip("?!. ") in text.casefold():
        return text
    return f"{title}\n{text}"


SHORT_FOLLOW_UP_WORDS = 6


def answers_in_thread(*, addressed: bool, asks: bool, from_asker: bool, text: str) -> bool:
    """Whether a message in a conversation thread (one the bot opened on a question, or a forum post) is for
    the bot: a question or a message addressed to it, from anyone; and from the member who asked, any short
    message too, since elliptical follow-ups ("and china", "the deadline") don't look like questions (their
    chit-chat, "thanks!", is then declined as such and gets nothing)."""
    return addressed or asks or (from_asker and len(text.split()) <= SHORT_FOLLOW_UP_WORDS)
