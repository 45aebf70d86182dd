"""/setup through simcord: a server's admins change answer channels, moderator roles, the moderators' channel and
the language from Discord; live at once, kept across a restart, shown in /about."""

from __future__ import annotations

import discord
import pytest
import pytest_asyncio

from bot.discord_app.client import narrowest_intents, stored_answer_channels

from .discord_support import fake_resources, make_bot, make_project, synced_guild

pytestmark = pytest.mark.asyncio

# config.yaml's default answer channel: a placeholder, so the bot starts with the message-content intent.
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
    guild, channel, member = await synced_guild(simcord_env, "member")
    admin_role = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(simcord_env.create_user("admin"), roles=[admin_role])
    return simcord_env, guild, channel, admin, member


async def test_setup_answer_channel_is_live_at_once_and_survives_a_restart(world, config, resources):
    env, guild, channel, admin, member = world
    ask_here = guild.create_text_channel("ask-the-letter")
    await member.send(ask_here, "Who organised the call?")
    assert not ask_here.threads  # not an answer channel yet

    shown = await admin.slash(channel, "setup")
    assert shown.ephemeral and "Answer channels: none (mention the bot, or use /ask) · config.yaml default" \
        in shown.response.embeds[0].description
    saved = await admin.select(shown.response, [ask_here], custom_id="setup:answer_channels")
    assert saved.response.content.startswith("Saved: answer channels. Live now.")
    assert f"Answer channels: <#{ask_here.id}> · set with /setup" in saved.response.embeds[0].description

    await member.send(ask_here, "Who organised the call?")
    assert "CeSIA" in ask_here.threads[0].last_message.embeds[0].description

    await env.restart_bot(make_bot(config, resources))
    await member.send(ask_here, "When is the deadline?")
    assert len(ask_here.threads) == 2 and "the letter, ¶3" in ask_here.threads[1].last_message.embeds[0].description


async def test_a_forum_can_be_chosen_as_an_answer_channel(world):
    """Forum posts being answered is tested end to end in test_discord_e2e.py (simcord has members post in text
    channels only)."""
    env, guild, channel, admin, member = world
    forum = guild.create_forum_channel("questions")
    shown = await admin.slash(channel, "setup")
    picker = next(c for row in shown.response.components for c in row["components"]
                  if c.get("custom_id") == "setup:answer_channels")
    assert set(picker["channel_types"]) == {discord.ChannelType.text.value, discord.ChannelType.forum.value}
    await admin.select(shown.response, [forum], custom_id="setup:answer_channels")
    assert env.bot.settings_for(guild.id).answer_channels == (forum.id,)


async def test_moderator_roles_set_with_setup_let_a_member_moderate(world):
    env, guild, channel, admin, _ = world
    role = guild.create_role("Letter moderators")
    helper = guild.add_member(env.create_user("helper"), roles=[role])
    faq = next(c for c in await env.bot.tree.fetch_commands() if c.name == "faq")
    guild.set_command_permissions(faq.id, {role: True})  # what admins do in Server Settings → Integrations
    refused = await helper.slash(channel, "faq show", entry_id="who-organised")
    assert "permission" in refused.response.content
    shown = await admin.slash(channel, "setup")
    await admin.select(shown.response, [role], custom_id="setup:moderator_roles")
    allowed = await helper.slash(channel, "faq show", entry_id="who-organised")
    assert "- id: who-organised" in allowed.response.content
    assert [type(getattr(e, "original", e)).__name__ for e in env.errors] == ["CheckFailure"]


async def test_language_moderators_channel_and_about(world, config):
    env, guild, channel, admin, member = world
    handoffs = guild.create_text_channel("mod-handoffs")
    shown = await admin.slash(channel, "setup")
    await admin.select(shown.response, ["fr"], custom_id="setup:language")
    done = await admin.select(shown.response, [handoffs], custom_id="setup:moderators_channel")
    assert "Language: fr · set with /setup" in done.response.embeds[0].description
    about = (await member.slash(channel, "about")).response.embeds[0]
    fields = {f.name: f.value for f in about.fields}
    assert f"Moderators' channel: <#{handoffs.id}> · set with /setup" in fields["In this server"]
    assert "Language: fr" in fields["In this server"]
    assert "kept 180 days" in fields["What is kept, and for how long"]
    # The server's language is the default for new FAQ entries.
    form = await admin.slash(channel, "faq add")
    await admin.submit_modal(form, {"question": "Combien de signataires ?", "alternatives": "Qui a signé ?",
                                    "answer": "Plus de deux cents personnalités.", "source_url": "https://example.org/s"})
    assert "language: fr" in (config.corpus_dir / "faq" / "90-moderators.yaml").read_text()


async def test_reset_returns_to_config_defaults(world):
    env, guild, channel, admin, _ = world
    shown = await admin.slash(channel, "setup")
    await admin.select(shown.response, ["fr"], custom_id="setup:language")
    reset = await admin.click(shown.response, label="Use config.yaml defaults")
    assert reset.response.content.startswith("Saved: config.yaml defaults.")
    assert env.bot.settings_for(guild.id).language == "en" and not env.bot.settings_for(guild.id).from_setup
    # config.yaml's placeholder channel is not in this server: not offered, not shown.
    assert "Answer channels: none (mention the bot, or use /ask) · config.yaml default" in reset.response.embeds[0].description


async def test_setup_is_for_admins_only(world):
    env, guild, channel, admin, member = world
    assert "setup" not in member.available_commands(channel)
    role = guild.create_role("Letter moderators")
    moderator = guild.add_member(env.create_user("moderator"), roles=[role])
    setup = next(c for c in await env.bot.tree.fetch_commands() if c.name == "setup")
    guild.set_command_permissions(setup.id, {role: True})
    refused = await moderator.slash(channel, "setup")
    assert refused.ephemeral and "permission" in refused.response.content
    assert [type(getattr(e, "original", e)).__name__ for e in env.errors] == ["CheckFailure"]


async def test_without_the_message_content_intent_setup_says_what_to_do(world):
    env, guild, channel, admin, _ = world
    env.bot._connection._intents.message_content = False  # as if started with no answer channel anywhere
    ask_here = guild.create_text_channel("ask-the-letter")
    shown = await admin.slash(channel, "setup")
    saved = await admin.select(shown.response, [ask_here], custom_id="setup:answer_channels")
    assert "turn on **Message Content Intent**" in saved.response.content and "restart the bot once" in saved.response.content


async def test_answer_channels_set_with_setup_turn_the_intent_on_at_the_next_start(world, config):
    env, guild, channel, admin, _ = world
    without = make_project(config.source.parent / "other")
    assert not narrowest_intents(without).message_content
    ask_here = guild.create_text_channel("ask-the-letter")
    shown = await admin.slash(channel, "setup")
    await admin.select(shown.response, [ask_here], custom_id="setup:answer_channels")
    assert stored_answer_channels(config)  # what the runner reads before connecting
    assert narrowest_intents(without, stored_answer_channels(config)).message_content


async def test_the_moderators_channel_set_with_setup_receives_ask_a_moderator(world):
    env, guild, channel, admin, member = world
    handoffs = guild.create_text_channel("mod-handoffs")
    shown = await admin.slash(channel, "setup")
    await admin.select(shown.response, [handoffs], custom_id="setup:moderators_channel")
    question = await member.send(channel, f"{env.bot.user.mention} pizza recipe with mozzarella")
    reply = channel.last_message
    assert reply.reference.message_id == question.id and "Ask a moderator" in reply.content
    result = await member.click(reply, label="Ask a moderator")
    assert result.ephemeral
    post = handoffs.last_message
    assert post is not None and post.author.id == env.bot.user.id and "pizza recipe with mozzarella" in post.content
    assert f"/channels/{guild.id}/{channel.id}/{question.id}" in post.content
