"""Conversations with simcord (the real discord.py client and bot, an in-process simulated Discord): follow-ups
with context, edits answered in place, deletions, the asker's 🗑️, and the intents the configuration needs."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import pytest_asyncio

from bot.discord_app.client import intent_warnings, narrowest_intents

from .discord_support import fake_resources, make_bot, make_project, synced_guild

pytestmark = pytest.mark.asyncio

PLACEHOLDER_CHANNEL = 1  # so that the bot asks for message content; tests point it at a real channel


@pytest.fixture
def config(tmp_path):
    return make_project(tmp_path, discord_extra=f"  answer_channels: [{PLACEHOLDER_CHANNEL}]\n"
                                                "  cooldown_questions: 100\n")


@pytest.fixture
def simcord_bot(config):
    return make_bot(config, fake_resources(config))


@pytest_asyncio.fixture
async def world(simcord_env):
    guild, channel, alice = await synced_guild(simcord_env, "alice")
    bob = guild.add_member(simcord_env.create_user("bob"))
    calls: list[tuple[str, tuple[str, ...]]] = []
    answerer = simcord_env.bot.service.answerer
    real = answerer.answer

    def spy(question, context=(), **options):
        calls.append((question, tuple(context)))
        return real(question, context, **options)

    answerer.answer = spy
    return simcord_env, guild, channel, alice, bob, calls


def use_answer_channel(bot, channel_id: int) -> None:
    bot.config = dataclasses.replace(
        bot.config, discord=dataclasses.replace(bot.config.discord, answer_channels=(channel_id,)))


def bot_messages(env, channel) -> list:
    return [m for m in channel.history() if m.author.id == env.bot.user.id]


async def test_a_follow_up_in_the_answer_thread_gets_the_earlier_question_as_context(world):
    env, guild, _, alice, bob, calls = world
    ask_here = guild.create_text_channel("ask-the-letter")
    use_answer_channel(env.bot, ask_here.id)
    await alice.send(ask_here, "Who organised the call?")
    [thread] = ask_here.threads
    await alice.send(thread, "and when is the deadline")
    assert calls[-1] == ("and when is the deadline", ("Who organised the call?",))
    assert "the letter, ¶3" in thread.last_message.embeds[0].description
    await bob.send(thread, "I read it yesterday and liked it a lot")  # not a question, not the asker: left alone
    assert thread.last_message.author.id == bob.id and len(calls) == 2


async def test_editing_a_question_edits_its_answer_and_deleting_it_deletes_the_answer(world):
    env, _, channel, alice, _, calls = world
    question = await alice.send(channel, f"{env.bot.user.mention} Who organised the call?")
    [answer] = bot_messages(env, channel)
    assert "CeSIA" in answer.embeds[0].description
    await alice.edit(question, f"{env.bot.user.mention} When is the deadline?")
    [edited] = bot_messages(env, channel)
    assert edited.id == answer.id and "the letter, ¶3" in edited.embeds[0].description
    await alice.delete(question)
    assert not bot_messages(env, channel)


async def test_only_the_asker_can_delete_an_answer_with_a_wastebasket(world):
    env, _, channel, alice, bob, _ = world
    await alice.send(channel, f"{env.bot.user.mention} Who organised the call?")
    [answer] = bot_messages(env, channel)
    await bob.react(answer, "🗑️")
    assert bot_messages(env, channel)
    await alice.react(answer, "🗑️")
    assert not bot_messages(env, channel)


async def test_a_reply_to_the_bot_is_answered_with_the_question_it_answered(world):
    env, _, channel, alice, bob, calls = world
    await alice.send(channel, f"{env.bot.user.mention} Who organised the call?")
    [answer] = bot_messages(env, channel)
    await bob.send(channel, "and when is the deadline?", reply_to=answer)
    assert calls[-1] == ("and when is the deadline?", ("Who organised the call?",))


@pytest.mark.asyncio(loop_scope="function")
async def test_intents_follow_the_configuration_and_warn_when_it_needs_one_not_requested(config):
    settings = config.discord
    assert settings.answer_channels and narrowest_intents(config).message_content
    assert narrowest_intents(config).guild_reactions  # the asker's 🗑️
    refused = dataclasses.replace(config, discord=dataclasses.replace(settings, message_content_intent=False))
    assert not narrowest_intents(refused).message_content
    [(level, warning)] = intent_warnings(refused)
    assert level == logging.WARNING and "only those that mention the bot" in warning
    plain = dataclasses.replace(config, discord=dataclasses.replace(settings, answer_channels=()))
    assert not narrowest_intents(plain).message_content
    [(level, note)] = intent_warnings(plain)
    assert level == logging.INFO and "message_content_intent: true" in note
    replies = dataclasses.replace(plain, discord=dataclasses.replace(plain.discord, message_content_intent=True))
    assert narrowest_intents(replies).message_content


async def test_more_sources_and_the_message_command_acknowledge_before_waiting_and_refuse_privately(world):
    env, _, channel, alice, _, _ = world
    first = await alice.slash(channel, "ask", question="honey bees sea governments organised")
    claim = await alice.send(channel, "The call was organised by CeSIA")
    cap = env.bot.service.cap
    cap.max_wait = 0
    for _ in range(cap.limit):
        await cap._semaphore.acquire()
    more = await alice.click(first.response, label="More sources")
    checked = await alice.context_menu(channel, "Check against the letter", claim)
    for result in (more, checked):
        assert result.ephemeral and "busy" in result.response.content
    callbacks = [r.json["type"] for r in env.http_requests if r.path.endswith("/callback")]
    assert callbacks == [5, 5, 5]  # /ask, More sources and the message command: all deferred first
