"""What members see, through the real discord.py client and our real bot in simcord: declines that help (private,
nearest topics as buttons, a hand-off to moderators), votes shown to the voter, French chrome and commands, /help
tailored to each member, and buttons that grow too old."""

from __future__ import annotations

import contextlib
import dataclasses

import discord
import pytest
import pytest_asyncio
from simcord import interactions as simcord_interactions

from .discord_support import fake_resources, make_bot, make_project, synced_guild

pytestmark = pytest.mark.asyncio


@pytest.fixture
def config(tmp_path):
    return make_project(tmp_path, discord_extra="  answer_channels: [1]\n")


@pytest.fixture
def simcord_bot(config):
    return make_bot(config, fake_resources(config))


@pytest_asyncio.fixture
async def world(simcord_env):
    guild, channel, alice = await synced_guild(simcord_env, "alice")
    return simcord_env, guild, channel, alice


def configure(bot, **settings) -> None:
    bot.config = dataclasses.replace(bot.config, discord=dataclasses.replace(bot.config.discord, **settings))


def labels(message) -> list[str]:
    """Button labels of a simcord response (dicts) or a discord.py message (ActionRows)."""
    if isinstance(message, discord.Message):
        return [child.label for row in message.components for child in row.children]
    return [c.get("label") for row in message.components for c in row["components"]]


@contextlib.contextmanager
def discord_in(locale: str):
    """Interactions carry ``locale`` (simcord sends en-US): the member's Discord client is in that language."""
    original = simcord_interactions.base_payload

    def localised(*args, **kwargs):
        record, payload = original(*args, **kwargs)
        payload["locale"] = locale
        return record, payload

    simcord_interactions.base_payload = localised
    try:
        yield
    finally:
        simcord_interactions.base_payload = original


def last_post(env, path_end: str = "/messages"):
    return next(r for r in reversed(env.http_requests) if r.method == "POST" and r.path.endswith(path_end))


async def test_a_decline_offers_the_nearest_faq_questions_as_buttons_that_answer_on_click(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="pizza recipe with mozzarella")
    decline = result.followups[-1]
    assert decline.ephemeral and "Closest topics I can answer" in decline.content
    offered = labels(decline)
    assert "Who organised the call?" in offered and len(offered) <= 3
    answer = await alice.click(decline, label="Who organised the call?")
    shown = answer.followups[-1] if answer.followups else answer.response
    assert shown.ephemeral and shown.embeds[0].title == "Who organised the call?"
    assert "> Three nonprofits organised it" in shown.embeds[0].description


async def test_a_declined_mention_gets_a_short_plain_reply_and_a_hand_off_to_moderators(world):
    env, guild, channel, alice = world
    moderators = guild.create_text_channel("moderators")
    configure(env.bot, moderators_channel=moderators.id)
    question = await alice.send(channel, f"{env.bot.user.mention} pizza recipe with mozzarella @everyone")
    reply = channel.last_message
    assert reply.reference.message_id == question.id and not reply.embeds
    assert "won't guess" in reply.content and "Ask a moderator" in reply.content
    result = await alice.click(reply, label="Ask a moderator")
    assert result.ephemeral and "Sent to the moderators" in (result.followups or [result.response])[-1].content
    post = moderators.last_message
    assert post.author.id == env.bot.user.id
    assert "> pizza recipe with mozzarella @\u200beveryone" in post.content
    assert f"/channels/{guild.id}/{channel.id}/{question.id}" in post.content  # jump link to the question
    assert last_post(env).json["allowed_mentions"] == {"parse": []}


async def test_the_hand_off_pings_only_the_configured_role(world):
    env, guild, channel, alice = world
    moderators = guild.create_text_channel("moderators")
    role = guild.create_role("Helpers")
    configure(env.bot, moderators_channel=moderators.id, handoff_role=role.id)
    await alice.send(channel, f"{env.bot.user.mention} pizza recipe with mozzarella")
    await alice.click(channel.last_message, label="Ask a moderator")
    request = last_post(env)
    assert request.json["allowed_mentions"] == {"parse": [], "roles": [str(role.id)]} or \
        request.json["allowed_mentions"] == {"parse": [], "roles": [role.id]}
    assert moderators.last_message.content.startswith(f"<@&{role.id}>")


async def test_no_hand_off_button_without_a_moderators_channel(world):
    env, _, channel, alice = world
    await alice.send(channel, f"{env.bot.user.mention} pizza recipe with mozzarella")
    assert "Ask a moderator" not in labels(channel.last_message)


async def test_a_member_sees_their_own_vote_and_not_helpful_offers_the_next_step(world):
    env, guild, channel, alice = world
    configure(env.bot, moderators_channel=guild.create_text_channel("moderators").id)
    result = await alice.slash(channel, "ask", question="Who organised the call?")
    vote = await alice.click(result.response, label="Helpful")
    assert vote.ephemeral and vote.response.content.startswith("Your vote: 👍")
    assert labels(vote.response)[:2] == ["Helpful (your vote)", "Not helpful"]
    assert labels(result.response)[1:3] == ["Helpful", "Not helpful"]  # the public buttons don't change
    changed = await alice.click(vote.response, label="Not helpful")
    assert not changed.followups  # the same private message, edited in place
    assert vote.response.content.startswith("Your vote: 👎")
    assert labels(vote.response) == ["Helpful", "Not helpful (your vote)", "More sources", "Ask a moderator"]
    more = await alice.click(vote.response, label="More sources")
    assert more.ephemeral and more.response.embeds[0].title.startswith("More sources")


async def test_a_vote_on_a_private_answer_shows_on_the_answer_itself(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="Who organised the call?", private=True)
    vote = await alice.click(result.response, label="Not helpful")
    assert not vote.followups and "Not helpful (your vote)" in labels(result.response)
    assert result.response.embeds[0].title == "Who organised the call?"


async def test_a_french_question_gets_french_chrome(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="Quand l'appel a-t-il été lancé ?")
    message = result.response
    embed = message.embeds[0]
    assert embed.title == "Quand l'appel a-t-il été lancé ?" and embed.footer.text == "Cité mot pour mot · /aide"
    assert "la FAQ du projet, d'après [Article](<https://example.org/article>)" in embed.description
    assert labels(message) == ["Autres sources", "Utile", "Pas utile", "Lire la lettre"]
    declined = await alice.slash(channel, "ask", question="Quelle est la meilleure recette de pâte à crêpes ?")
    assert "je préfère ne pas deviner" in declined.followups[-1].content


async def test_a_member_whose_discord_is_in_french_gets_french_commands_help_and_errors(world):
    env, _, channel, alice = world
    with discord_in("fr"):
        help_card = await alice.slash(channel, "help")
        refused = await alice.slash(channel, "ask", question="???")
        about = await alice.slash(channel, "about")
    assert help_card.response.embeds[0].title == "Comment me poser une question"
    assert refused.ephemeral and refused.response.content.startswith("Posez une question avec des mots")
    assert [type(getattr(e, "original", e)).__name__ for e in env.errors] == ["QuestionError"]  # handled
    assert about.response.embeds[0].title == "À propos de ce bot"
    registered = next(r for r in env.http_requests if r.method == "PUT" and r.path.endswith("/commands")).json
    names = {c["name"]: c.get("name_localizations", {}) for c in registered}
    assert names["ask"]["fr"] == "demander" and names["help"]["fr"] == "aide" and names["about"]["fr"] == "à-propos"


async def test_help_lists_every_way_to_ask_and_moderator_commands_only_to_moderators(world):
    env, guild, channel, alice = world
    ask_here = guild.create_text_channel("ask-the-letter")
    configure(env.bot, answer_channels=(ask_here.id,))
    card = (await alice.slash(channel, "help")).response
    embed = card.embeds[0]
    ways = embed.fields[0].value
    for way in ("/ask", "Mention me", "Reply to one of my answers", f"<#{ask_here.id}>", "Check against the letter"):
        assert way in ways
    assert "What I can't do" in [f.name for f in embed.fields]
    assert not any("/faq" in f.value for f in embed.fields) and card.ephemeral
    admin = guild.add_member(env.create_user("mod"), roles=[guild.create_role(
        "Mods", permissions=discord.Permissions(manage_guild=True))])
    moderator_card = (await admin.slash(channel, "help")).response.embeds[0]
    assert any("/faq edit" in f.value for f in moderator_card.fields)


async def test_buttons_older_than_the_configured_age_say_so_instead_of_answering(world):
    env, _, channel, alice = world
    result = await alice.slash(channel, "ask", question="Who organised the call?")
    await env.advance_time(31 * 24 * 3600)
    more = await alice.click(result.response, label="More sources")
    assert more.ephemeral and "my sources may have changed" in more.response.content
    vote = await alice.click(result.response, label="Helpful")  # a vote on an old answer is still recorded
    assert vote.response.content.startswith("Your vote")
