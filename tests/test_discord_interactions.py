"""Interaction tests of every command, button, error path and limit, with simcord: the real discord.py
client and our real bot, against an in-process simulated Discord (no network, no token)."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections import deque
from urllib.parse import unquote

import discord
import pytest
import pytest_asyncio

from bot.discord_app.client import RedLinesBot
from bot.errors import UserFacingError

from .discord_support import fake_resources, make_bot, make_project, synced_guild

pytestmark = pytest.mark.asyncio

# A placeholder answer channel, so the bot asks for the message-content intent; tests point the
# config at the real channel once simcord has created it.
PLACEHOLDER_CHANNEL = 1


@pytest.fixture
def config(tmp_path):
    return make_project(tmp_path, discord_extra=f"  answer_channels: [{PLACEHOLDER_CHANNEL}]\n")


@pytest.fixture
def resources(config):
    return fake_resources(config)


@pytest.fixture
def simcord_bot(config, resources):
    return make_bot(config, resources)


@pytest_asyncio.fixture
async def world(simcord_env):
    guild, channel, alice = await synced_guild(simcord_env, "alice")
    return simcord_env, guild, channel, alice


def use_answer_channel(bot: RedLinesBot, channel_id: int) -> None:
    bot.config = dataclasses.replace(
        bot.config, discord=dataclasses.replace(bot.config.discord, answer_channels=(channel_id,)))


def callback_types(env) -> list[int]:
    return [r.json["type"] for r in env.http_requests if r.path.endswith("/callback")]


def handled_errors(env) -> list[str]:
    """Errors the bot raised and its CommandTree handler answered (reading them acknowledges them)."""
    return [type(getattr(e, "original", e)).__name__ for e in env.errors]


def reactions_by_bot(env) -> list[tuple[int, str]]:
    """(message id, emoji) of every reaction the bot added."""
    return [(int(r.path.split("/")[4]), unquote(r.path.split("/")[6])) for r in env.http_requests
            if r.method == "PUT" and "/reactions/" in r.path and r.path.endswith("/@me")]


def custom_ids(message) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row["components"] if "custom_id" in c]


def link_urls(message) -> list[str]:
    return [c["url"] for row in message.components for c in row["components"] if c.get("style") == 5]


def labels(message) -> list[str]:
    return [c.get("label") for row in message.components for c in row["components"]]


async def test_ask_defers_then_answers_with_a_verbatim_cited_excerpt(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="Who organised the call?")
    assert callback_types(env) == [5]  # deferred ("thinking"), then the follow-up
    assert not result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title == "Who organised the call?"
    assert "> Three nonprofits organised it, CeSIA, The Future Society and CHAI." in embed.description
    assert "— the project's FAQ, from [Launch post](<https://example.org/launch>)" in embed.description
    assert result.response.content == "Three nonprofits organised it, CeSIA, The Future Society and CHAI."
    ids = custom_ids(result.response)
    assert any(i.startswith("rl:more:") for i in ids) and any(i.startswith("rl:fb:") for i in ids)
    assert "https://red-lines.ai/" in link_urls(result.response)


async def test_ask_private_answers_ephemerally(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="When is the deadline?", private=True)
    assert result.ephemeral
    assert "— [the letter, ¶3](<https://example.org/letter>)" in result.response.embeds[0].description


async def test_out_of_scope_question_is_declined_privately_without_passages(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="pizza recipe with mozzarella")
    decline = result.followups[-1]
    assert decline.ephemeral and not decline.embeds
    assert "won't guess" in decline.content and ">" not in decline.content and "example.org" not in decline.content
    bob = world[1].add_member(env.create_user("bob"))
    assert not [m for m in channel.history(viewer=bob) if m.author.id == env.bot.user.id]  # nothing public left


async def test_invalid_question_gets_an_ephemeral_user_error(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="???")
    assert callback_types(env) == [4]  # refused at once, privately, before any defer
    assert result.ephemeral and "in words" in result.response.content
    assert handled_errors(env) == ["QuestionError"]


async def test_cooldown_notice_after_too_many_questions(world):
    env, _, channel, alice = world
    for _ in range(3):
        await alice.slash(channel, "ask", question="When is the deadline?")
    result = await alice.slash(channel, "ask", question="When is the deadline?")
    assert result.ephemeral and "please wait" in result.response.content
    assert handled_errors(env) == ["RateLimited"]
    bob = world[1].add_member(env.create_user("bob"))
    other = await bob.slash(channel, "ask", question="When is the deadline?")
    assert other.response.embeds and not other.ephemeral


async def test_busy_notice_when_the_concurrency_cap_is_full(world):
    env, _, channel, alice = world
    cap = env.bot.service.cap
    cap.max_wait = 0
    for _ in range(cap.limit):
        await cap._semaphore.acquire()
    result = await alice.slash(channel, "ask", question="When is the deadline?")
    # Acknowledged first (Discord's 3 s rule), so the refusal is a follow-up: private, and the public
    # "thinking…" is gone rather than turned into a public notice.
    assert callback_types(env) == [5]
    assert result.response is None and not channel.history()
    [notice] = result.followups
    assert notice.flags.ephemeral and "busy" in notice.content and "try again in 5 s" in notice.content
    assert env.bot.service.cooldown._asked[alice.id] == deque()  # a busy bot costs the member no cooldown
    for _ in range(cap.limit):
        cap._semaphore.release()
    again = await alice.slash(channel, "ask", question="When is the deadline?", private=True)
    assert again.response.embeds


async def test_ask_private_busy_notice_replaces_the_private_thinking_message(world):
    env, _, channel, alice = world
    cap = env.bot.service.cap
    cap.max_wait = 0
    for _ in range(cap.limit):
        await cap._semaphore.acquire()
    result = await alice.slash(channel, "ask", question="When is the deadline?", private=True)
    assert callback_types(env) == [5] and result.ephemeral and "busy" in result.response.content


async def test_unexpected_error_is_logged_with_ids_and_answered_generically(world, caplog, monkeypatch):
    env, _, channel, alice = world

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(env.bot.service.answerer, "answer", broken)
    with caplog.at_level(logging.ERROR):
        result = await alice.slash(channel, "ask", question="When is the deadline?")
    # The failure replaces the "thinking…" message of the deferred response.
    assert "something went wrong" in result.response.content
    assert "disk on fire" not in result.response.content
    record = next(r for r in caplog.records if "unexpected error" in r.getMessage())
    assert str(alice.id) in record.getMessage() and "/ask" in record.getMessage()
    assert handled_errors(env) == ["RuntimeError"]


async def test_about_shows_version_and_how_to_report(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "about")
    embed = result.response.embeds[0]
    assert result.ephemeral and "<https://red-lines.ai/>" in embed.description
    fields = {f.name: f.value for f in embed.fields}
    manifest = env.bot.live_index.current.manifest
    assert manifest["corpus_hash"][:12] in fields["Corpus and index"]
    assert "Not helpful" in fields["Wrong answer?"]


async def test_check_against_the_letter_context_menu(world):
    env, _, channel, alice = world
    claim = await alice.send(channel, "The call was organised by CeSIA and The Future Society and CHAI")
    result = await alice.context_menu(channel, "Check against the letter", claim)
    assert result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title.startswith("On this message: The call was organised by CeSIA") and "CeSIA" in embed.description
    off_topic = await alice.send(channel, "pizza recipe with mozzarella")
    result = await alice.context_menu(channel, "Check against the letter", off_topic)
    assert result.ephemeral and "don't address this message" in result.response.content


async def test_more_sources_pages_in_place_with_previous_and_next(world):
    env, _, channel, alice = world
    first = await alice.slash(channel, "ask", question="honey bees sea governments organised")
    shown = first.response.embeds[0].description
    more = await alice.click(first.response, label="More sources")
    assert more.ephemeral
    page = more.response
    embed = page.embeds[0]
    assert embed.title.startswith("More sources (2–") and embed.description.startswith("> ")
    assert embed.description.split("\n")[0] not in shown
    assert labels(page)[:2] == ["Previous", "Next"]
    previous, following = (c for row in page.components for c in row["components"] if "custom_id" in c)
    assert previous.get("disabled") and not following.get("disabled")
    turned = await alice.click(page, label="Next")
    assert callback_types(env)[-1] == 6  # acknowledged at once as an update of the same message
    assert not turned.followups  # no new message: the page changed in place
    assert page.embeds[0].title.startswith("More sources (5") and page.embeds[0].description != embed.description
    back = await alice.click(page, label="Previous")  # ``page`` shows the message as it is now, after the edit
    assert not back.followups and page.embeds[0].title == embed.title


async def test_feedback_buttons_are_recorded_per_answer_and_passage(world, config):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="Who organised the call?")
    reply = await alice.click(result.response, label="Not helpful")
    assert reply.ephemeral and "not helpful" in reply.response.content
    await alice.click(result.response, label="Helpful")  # changing one's mind replaces the vote
    rows = sqlite3.connect(config.database_path).execute(
        "SELECT passage_id, user_id, helpful FROM feedback ORDER BY passage_id").fetchall()
    assert rows and all(user == alice.id and helpful == 1 for _, user, helpful in rows)
    assert "faq:who-organised" in {passage for passage, _, _ in rows}


async def test_buttons_still_work_after_a_restart(world, config, resources):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="Who organised the call?")
    await env.restart_bot(make_bot(config, resources))
    reply = await alice.click(result.response, label="Helpful")
    assert "your vote" in reply.response.content.lower()


async def test_mention_is_answered_in_a_reply(world):
    env, _, channel, alice = world
    await alice.send(channel, f"{env.bot.user.mention} When is the deadline?")
    reply = channel.last_message
    assert reply.author.id == env.bot.user.id
    assert reply.reference is not None and "[the letter, ¶3]" in reply.embeds[0].description


async def test_reply_to_the_bot_is_answered(world):
    env, _, channel, alice = world
    await alice.send(channel, f"{env.bot.user.mention} When is the deadline?")
    answer = channel.last_message
    await alice.send(channel, "Who organised the call?", reply_to=answer)
    assert "CeSIA" in channel.last_message.embeds[0].description


async def test_answer_channel_question_gets_a_thread_and_follow_ups_need_no_mention(world):
    env, guild, _, alice = world
    ask_here = guild.create_text_channel("ask-the-letter")
    use_answer_channel(env.bot, ask_here.id)
    question = await alice.send(ask_here, "Who organised the call?")
    threads = ask_here.threads
    assert len(threads) == 1 and threads[0].name == "Who organised the call?"
    assert "CeSIA" in threads[0].last_message.embeds[0].description
    await alice.send(threads[0], "and when is the deadline")
    assert "[the letter, ¶3]" in threads[0].last_message.embeds[0].description
    assert question.id


async def test_bot_stays_quiet_elsewhere_and_ignores_statements_and_bots(world):
    env, guild, channel, alice = world
    ask_here = guild.create_text_channel("ask-the-letter")
    use_answer_channel(env.bot, ask_here.id)
    before = len(env.http_requests)
    await alice.send(channel, "Who organised the call?")          # not an answer channel, no mention
    await alice.send(ask_here, "I like this letter.")             # not a question
    robot = guild.add_member(env.create_user("robot", bot=True))
    await robot.send(ask_here, "Who organised the call?")         # bots are ignored
    assert not [r for r in env.http_requests[before:] if r.method == "POST"]


async def test_questions_with_mass_mentions_never_ping(world):
    env, guild, channel, alice = world
    role = guild.create_role("Everyone-ish")
    await alice.send(channel, f"{env.bot.user.mention} @everyone {role.mention} Who organised the call?")
    request = next(r for r in reversed(env.http_requests) if r.method == "POST" and r.path.endswith("/messages"))
    assert request.json["allowed_mentions"] == {"parse": [], "replied_user": False}
    title = channel.last_message.embeds[0].title
    assert "@everyone" not in title and "@\u200beveryone" in title


async def test_a_refused_mention_gets_a_reaction_not_a_message(world):
    env, _, channel, alice = world
    asked = await alice.send(channel, f"{env.bot.user.mention} ???")
    assert channel.last_message.id == asked.id  # nothing posted
    assert reactions_by_bot(env) == [(asked.id, "❓")]


async def test_every_command_and_option_has_a_description(world):
    env = world[0]
    for command in env.bot.tree.get_commands():
        if isinstance(command, discord.app_commands.Command):
            assert command.description and not command.description.startswith("…")
            for parameter in command.parameters:
                assert parameter.description and parameter.description != "…", (command.name, parameter.name)


async def test_sync_is_never_done_on_ready(world):
    env = world[0]
    puts = [r for r in env.http_requests if r.method == "PUT" and "/commands" in r.path]
    assert len(puts) == 1  # the test's own explicit sync
    await env.bot.on_ready()
    assert len([r for r in env.http_requests if r.method == "PUT" and "/commands" in r.path]) == 1


async def test_user_facing_errors_from_commands_use_the_tree_handler(world, monkeypatch):
    env, _, channel, alice = world

    def refuse(question):
        raise UserFacingError("custom refusal")

    monkeypatch.setattr(env.bot.service.answerer, "validate", refuse)
    result = await alice.slash(channel, "ask", question="When is the deadline?")
    assert result.ephemeral and result.response.content == "custom refusal"
    assert handled_errors(env) == ["UserFacingError"]


@pytest.mark.asyncio(loop_scope="function")
async def test_intents_are_the_narrowest_that_work(config):
    from bot.discord_app.client import narrowest_intents

    intents = narrowest_intents(config)
    assert intents.guilds and intents.guild_messages and intents.message_content
    assert not intents.members and not intents.presences and not intents.dm_messages
    without_channels = dataclasses.replace(config, discord=dataclasses.replace(config.discord, answer_channels=()))
    assert not narrowest_intents(without_channels).message_content


async def test_more_sources_for_a_forgotten_answer_says_so(world, config):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="Who organised the call?")
    with sqlite3.connect(config.database_path) as db:
        db.execute("DELETE FROM answers")
    more = await alice.click(result.response, label="More sources")
    assert more.ephemeral and "no longer have that answer" in more.response.content


async def test_feedback_without_a_database_says_it_was_not_recorded(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="Who organised the call?")
    env.bot.service.store = None
    reply = await alice.click(result.response, label="Helpful")
    assert reply.ephemeral and "couldn't record" in reply.response.content
