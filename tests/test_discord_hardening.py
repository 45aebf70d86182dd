"""Hardening on Discord: bad questions through a mention, secrets, paths, moderator-only surfaces."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from unittest.mock import Mock
from urllib.parse import unquote

import discord
import pytest
import pytest_asyncio
import yarl

from bot.discord_app.faq_cog import FaqCog, FaqModal
from bot.errors import UserFacingError

from .discord_support import fake_in_thread, fake_resources, make_bot, make_project, synced_guild
from .fake_discord import BOT_ID, BOT_USER, CHANNEL_ID, FakeDiscord
from .hardening_report import record
from .test_hardening import BAD_QUESTIONS

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


@pytest.mark.asyncio
@pytest.mark.parametrize(("case", "question", "expected"), BAD_QUESTIONS,
                         ids=[c for c, _, _ in BAD_QUESTIONS])
async def test_bad_questions_through_a_mention_get_one_safe_response(world, case, question, expected):
    env, _, channel, member = world
    before = len(env.http_requests)
    content = f"{env.bot.user.mention} {question}"
    if len(content) > 2000:  # a member's message is at most 2,000 characters on Discord
        content, case = content[:2000], f"{case} (cut to Discord's 2,000-character limit)"
    asked = await member.send(channel, content)
    requests = env.http_requests[before:]
    posts = [r for r in requests if r.method == "POST" and r.path.endswith("/messages")]
    reactions = [r for r in requests if r.method == "PUT" and "/reactions/" in r.path]
    assert len(posts) + len(reactions) == 1, case
    assert not env.errors
    if reactions:
        # A refusal to a message is a reaction on it, never a message in the channel (spam can't amplify).
        assert not posts and f"/messages/{asked.id}/reactions/" in reactions[0].path, case
        shown = f"no message; a {unquote(reactions[0].path.split('/reactions/')[1].split('/')[0])} reaction"
    else:
        assert posts[0].json["allowed_mentions"] == {"parse": [], "replied_user": False}
        reply = channel.last_message
        shown = f"one reply, pinging nobody: “{(reply.content or reply.embeds[0].title)[:70]}”"
    record("bad question on Discord", f"{case}, asked by mentioning the bot", shown)


@pytest.mark.asyncio
async def test_path_like_ids_reach_no_file(world, config):
    env, guild, channel, _ = world
    admin = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    mod = guild.add_member(env.create_user("mod"), roles=[admin])
    root = config.corpus_dir.parent

    def files():  # the corpus, the index and the config (not the database, nor the writer's lock file)
        return sorted(p for p in root.rglob("*") if "data" not in p.parts and p.name != ".writer.lock")

    before = files()
    shown = await mod.slash(channel, "faq show", entry_id="../../../../etc/passwd")
    assert "no FAQ entry with id" in shown.response.content
    added = await mod.slash(channel, "faq add", entry_id="../../evil")
    assert added.modal is None and "An id is 2-64 lower-case letters" in added.response.content
    removed = await mod.slash(channel, "faq remove", entry_id="../config")
    told = removed.followups[0].content if removed.followups else removed.response.content
    assert "no FAQ entry" in told
    assert files() == before
    _ = env.errors
    record("abuse", "moderator commands given path-like ids (../../etc/passwd)",
           "refused or not found; ids are looked up in the corpus or checked against [a-z0-9-]; no file touched")


@pytest.mark.asyncio
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


@pytest.mark.asyncio
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


@pytest.mark.parametrize("command", ["run", "sync-commands"])
def test_a_rejected_token_gives_a_clean_error_without_the_token(config, monkeypatch, command):
    from aiohttp import web

    from bot.discord_app import runner

    class RefusesToken(FakeDiscord):
        def _route(self, method, path, body):
            if path == "/users/@me":
                return web.Response(status=401, body=b'{"message": "401: Unauthorized", "code": 0}',
                                    headers={"Content-Type": "application/json"})
            return super()._route(method, path, body)

    monkeypatch.setattr(runner, "build_resources", lambda c: fake_resources(config))
    with fake_in_thread(RefusesToken()) as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
        with pytest.raises(UserFacingError) as info:
            if command == "run":
                runner.run_discord(config, SECRET)
            else:
                runner.sync_commands(config, SECRET, None)
    message = str(info.value)
    assert message.startswith("Discord refused the token in DISCORD_TOKEN") and "SECRET" not in message
    record("abuse", f"a token Discord rejects (`{command}`)", f"a clean error (“{message}”), the token not shown")
