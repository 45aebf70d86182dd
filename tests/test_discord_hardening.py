"""Hardening on Discord: bad questions through a mention, secrets, paths, moderator-only surfaces."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from unittest.mock import Mock

import discord
import pytest
import pytest_asyncio
import yarl

from bot.discord_app.faq_cog import FaqCog, FaqModal

from .discord_support import fake_resources, make_bot, make_project, synced_guild
from .fake_discord import BOT_ID, BOT_USER, CHANNEL_ID, FakeDiscord
from .hardening_report import record
from .test_hardening import BAD_QUESTIONS

pytestmark = pytest.mark.asyncio

SECRET = "MTIzNDU2Nzg5MDEyMzQ1Njc4.SECRET.do-not-log-this-token"


@pytest.fixture
def config(tmp_path):
    return make_project(tmp_path, discord_extra="  cooldown_questions: 100\n")


@pytest.fixture
def simcord_bot(config):
    return make_bot(config, fake_resources(config))


@pytest_asyncio.fixture
async def world(simcord_env):
    guild, channel, member = await synced_guild(simcord_env, "member")
    return simcord_env, guild, channel, member


@pytest.mark.parametrize(("case", "question", "expected"), BAD_QUESTIONS,
                         ids=[c for c, _, _ in BAD_QUESTIONS])
async def test_bad_questions_through_a_mention_get_one_safe_reply(world, case, question, expected):
    env, _, channel, member = world
    before = len(env.http_requests)
    content = f"{env.bot.user.mention} {question}"
    if len(content) > 2000:  # a member's message is at most 2,000 characters on Discord
        content, case = content[:2000], f"{case} (cut to Discord's 2,000-character limit)"
    await member.send(channel, content)
    posts = [r for r in env.http_requests[before:] if r.method == "POST" and r.path.endswith("/messages")]
    assert len(posts) == 1, case
    body = posts[0].json
    assert body["allowed_mentions"] == {"parse": [], "replied_user": False}
    reply = channel.last_message
    shown = reply.content or reply.embeds[0].title
    assert not env.errors
    record("bad question on Discord", f"{case}, asked by mentioning the bot",
           f"one reply, pinging nobody: “{shown[:70]}”")


async def test_path_like_ids_reach_no_file(world, config):
    env, guild, channel, _ = world
    admin = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    mod = guild.add_member(env.create_user("mod"), roles=[admin])
    root = config.corpus_dir.parent
    before = sorted(p for p in root.rglob("*") if "data" not in p.parts)
    shown = await mod.slash(channel, "faq show", entry_id="../../../../etc/passwd")
    assert "no FAQ entry with id" in shown.response.content
    added = await mod.slash(channel, "faq add", entry_id="../../evil")
    assert added.modal is None and "An id is 2-64 lower-case letters" in added.response.content
    removed = await mod.slash(channel, "faq remove", entry_id="../config")
    assert "no FAQ entry" in removed.followups[0].content if removed.followups else removed.response.content
    assert sorted(p for p in root.rglob("*") if "data" not in p.parts) == before
    _ = env.errors
    record("abuse", "moderator commands given path-like ids (../../etc/passwd)",
           "refused or not found; ids are looked up in the corpus or checked against [a-z0-9-]; no file touched")


async def test_a_non_moderator_cannot_submit_the_faq_form(config):
    bot = make_bot(config)
    cog = FaqCog(bot)
    modal = FaqModal(cog, editing=None, language="en")
    sent = []

    class Response:
        def is_done(self):
            return False

        async def send_message(self, text, **kwargs):
            sent.append((text, kwargs))

    member = Mock(spec=discord.Member)  # passes isinstance checks, like a real member without rights
    member.guild_permissions = discord.Permissions.none()
    member.roles = []
    member.id = 5
    interaction = SimpleNamespace(user=member, client=bot, response=Response(), id=1, guild_id=1, channel_id=1)
    await modal.on_submit(interaction)
    assert sent and "permission" in sent[0][0] and sent[0][1]["ephemeral"]
    assert not (config.corpus_dir / "faq" / "90-moderators.yaml").exists()
    record("abuse", "a non-moderator submitting the FAQ form (the modal re-checks on submit)",
           "refused privately; nothing written")


async def test_the_token_never_appears_in_logs_errors_or_about(config, monkeypatch, caplog):
    fake = FakeDiscord()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    bot = make_bot(config)
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(bot.start(SECRET))
    await asyncio.sleep(0)  # let start() set the client up: since Python 3.12, wait_for doesn't yield first
    try:
        await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
        await fake.member_message(f"<@{BOT_ID}> Who organised the call?", mentions=[BOT_USER])
        await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages"))
        await fake.slash_command("about")
        about = await fake.wait_for(lambda: [r for r in fake.requests if r.path.endswith("/callback")])
        assert SECRET not in str(about[0].body)
        assert "SECRET" not in str(bot.about_embed().to_dict())
    finally:
        await bot.close()
        await asyncio.wait_for(task, timeout=10)
        await fake.stop()
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert logged and SECRET not in logged and "do-not-log-this-token" not in logged
    record("abuse", "the Discord token in logs (DEBUG, whole session), errors and /about",
           "never present; it comes only from DISCORD_TOKEN and is handed to discord.py")


async def test_a_rejected_token_gives_a_clean_error_without_the_token(config, monkeypatch):
    from aiohttp import web

    from bot.discord_app import runner

    fake = FakeDiscord()
    original = fake._route

    def refuse_login(method, path, body):
        if path == "/users/@me":
            return web.Response(status=401, body=b'{"message": "401: Unauthorized", "code": 0}',
                                headers={"Content-Type": "application/json"})
        return original(method, path, body)

    fake._route = refuse_login
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    try:
        with pytest.raises(Exception) as info:
            await runner._sync(config, SECRET, None)
        assert isinstance(info.value, discord.LoginFailure)
        message = "Discord refused the token in DISCORD_TOKEN"
        assert SECRET not in str(info.value)
    finally:
        await fake.stop()
    record("abuse", "a token Discord rejects", f"a clean error (“{message}”), the token not shown")
