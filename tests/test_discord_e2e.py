"""End to end: the real, unpatched discord.py client over real sockets against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import sqlite3

import discord
import pytest
import pytest_asyncio
import yarl

from .discord_support import make_bot, make_project
from .fake_discord import ANSWER_CHANNEL_ID, BOT_ID, BOT_USER, CHANNEL_ID, FakeDiscord
from .hardening_report import record

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def fake(monkeypatch):
    server = FakeDiscord()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    yield server
    await server.stop()


async def start_bot(bot) -> asyncio.Task:
    task = asyncio.create_task(bot.start("fake-token-not-a-secret"))
    await asyncio.sleep(0)  # let start() set the client up: since Python 3.12, wait_for doesn't yield first
    await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
    return task


async def stop_bot(bot, task: asyncio.Task) -> None:
    await bot.close()
    await asyncio.wait_for(task, timeout=10)


@pytest_asyncio.fixture
async def running(fake, tmp_path):
    config = make_project(tmp_path, discord_extra=f"  answer_channels: [{ANSWER_CHANNEL_ID}]\n")
    bot = make_bot(config)
    task = await start_bot(bot)
    yield fake, bot, config
    await stop_bot(bot, task)


async def test_login_ready_and_no_sync_on_ready(running):
    fake, bot, _ = running
    assert bot.user.id == BOT_ID and fake.identifies == 1
    assert [g.id for g in bot.guilds] and bot.get_channel(CHANNEL_ID) is not None
    assert fake.command_syncs == 0
    assert not fake.unknown_routes


async def test_mention_question_is_answered_in_its_channel_with_a_citation(running):
    fake, bot, _ = running
    await fake.member_message(f"<@{BOT_ID}> When is the deadline?", mentions=[BOT_USER])
    post = await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages"))
    body = post[0].body
    assert "Test Letter, ¶3" in body["embeds"][0]["description"]
    assert body["allowed_mentions"]["parse"] == [] and body["message_reference"]
    assert not fake.unknown_routes


async def test_answer_channel_question_opens_a_thread(running):
    fake, bot, _ = running
    await fake.member_message("Who organised the call?", channel_id=ANSWER_CHANNEL_ID)
    threads = await fake.wait_for(lambda: fake.posts("/threads"))
    assert threads[0].body["name"] == "Who organised the call?"
    thread_post = await fake.wait_for(lambda: [r for r in fake.posts("/messages") if "/threads" not in r.path
                                               and f"/channels/{ANSWER_CHANNEL_ID}/" not in r.path])
    assert "CeSIA" in thread_post[0].body["embeds"][0]["description"]


async def test_slash_command_is_deferred_then_followed_up(running):
    fake, bot, _ = running
    interaction = await fake.slash_command("ask", question="Who organised the call?")
    followup = await fake.wait_for(lambda: [r for r in fake.requests if r.path.startswith("/webhooks/")])
    callbacks = fake.posts(f"/interactions/{interaction['id']}/{interaction['token']}/callback")
    assert callbacks[0].body["type"] == 5 and callbacks[0].query.get("with_response")
    embed = (followup[0].body or {}).get("embeds", [{}])[0]
    assert "CeSIA" in embed.get("description", "")


async def test_button_press_is_recorded_in_sqlite(running):
    fake, bot, config = running
    await fake.slash_command("ask", question="Who organised the call?")
    followup = await fake.wait_for(lambda: [r for r in fake.requests if r.path.startswith("/webhooks/")])
    components = followup[0].body["components"]
    helpful = next(c["custom_id"] for row in components for c in row["components"] if c["custom_id"].endswith(":1"))
    message = fake.message(CHANNEL_ID, followup[0].body)
    press = await fake.press_button(helpful, message)
    await fake.wait_for(lambda: fake.posts(f"/interactions/{press['id']}/{press['token']}/callback"))

    def rows():
        with sqlite3.connect(config.database_path) as db:
            return db.execute("SELECT passage_id, helpful FROM feedback").fetchall()

    recorded = await fake.wait_for(rows)
    assert ("faq:who-organised", 1) in recorded


async def test_gateway_disconnect_resumes_without_duplicate_answers_or_resync(running):
    fake, bot, _ = running
    await fake.drop_connections()
    await fake.wait_for(lambda: fake.resumes == 1 and fake.connected == 1)
    await fake.member_message(f"<@{BOT_ID}> When is the deadline?", mentions=[BOT_USER])
    await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages"))
    await asyncio.sleep(0.3)
    assert len(fake.posts(f"/channels/{CHANNEL_ID}/messages")) == 1
    assert fake.identifies == 1 and fake.command_syncs == 0
    record("fault", "a gateway disconnect, then a question (real discord.py over loopback)",
           "the client resumed (no new IDENTIFY); exactly one answer; slash commands not re-synced")


async def test_sync_commands_registers_slash_commands_once(fake, tmp_path):
    from bot.discord_app.runner import _sync

    config = make_project(tmp_path)
    count = await _sync(config, "fake-token-not-a-secret", 1234)
    assert count == 5 and fake.command_syncs == 1  # /ask, /about, /faq, /reload and the message command
    put = next(r for r in fake.requests if r.method == "PUT")
    assert put.path.endswith("/guilds/1234/commands")
    assert {c["name"] for c in put.body} == {"ask", "about", "faq", "reload", "Check against the letter"}



@pytest.mark.model
async def test_real_model_answers_a_letter_question_with_the_right_paragraph(fake, real_project, real_encoder):
    from bot.config import load_config
    from bot.core.answer import Answerer, LiveIndex
    from bot.index.store import build_index, load_index
    from bot.serving.resources import Resources

    config = load_config(real_project / "config.yaml")
    build_index(config, real_encoder, show_progress=False)
    live = LiveIndex(load_index(config, real_encoder))
    resources = Resources(config, real_encoder, live, Answerer(config.retrieval, real_encoder, live))
    bot = make_bot(config, resources)
    task = await start_bot(bot)
    try:
        await fake.member_message(f"<@{BOT_ID}> What deadline does the letter set?", mentions=[BOT_USER])
        post = await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages"), timeout=60)
        description = post[0].body["embeds"][0]["description"]
        assert "by the end of 2026" in description
        assert "Global Call for AI Red Lines, ¶4" in description
    finally:
        await stop_bot(bot, task)
