"""End to end: the real, unpatched discord.py client over real sockets against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import sqlite3

import discord
import pytest
import pytest_asyncio
import yarl

from .discord_support import make_bot, make_project, start_bot, stop_bot
from .fake_discord import ANSWER_CHANNEL_ID, BOT_ID, BOT_USER, CHANNEL_ID, FORUM_CHANNEL_ID, FakeDiscord
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
    # Every interaction in every test was acknowledged within Discord's 3 s and followed up within 15 min.
    assert not server.late, [(r.method, r.path) for r in server.late]


@pytest_asyncio.fixture
async def running(fake, tmp_path):
    config = make_project(tmp_path, discord_extra=f"  answer_channels: [{ANSWER_CHANNEL_ID}, {FORUM_CHANNEL_ID}]\n")
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
    assert "[the letter, ¶3](<https://example.org/letter>)" in body["embeds"][0]["description"]
    assert body["allowed_mentions"]["parse"] == [] and body["message_reference"]
    assert not fake.unknown_routes


async def test_over_the_gateway_a_decline_is_short_text_with_topic_buttons_and_french_gets_french(running):
    fake, bot, _ = running
    await fake.member_message(f"<@{BOT_ID}> pizza recipe with mozzarella", mentions=[BOT_USER])
    decline = (await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages")))[0].body
    assert not decline.get("embeds") and "won't guess" in decline["content"]
    ids = [c.get("custom_id", "") for row in decline["components"] for c in row["components"]]
    assert ids and all(i.startswith("rl:sug:") for i in ids)
    await fake.member_message(f"<@{BOT_ID}> Quand l'appel a-t-il été lancé ?", mentions=[BOT_USER])
    answer = (await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages")[1:]))[0].body
    assert answer["embeds"][0]["footer"]["text"] == "Cité mot pour mot · /aide"
    assert answer["embeds"][0]["description"].startswith("> ")
    assert answer["allowed_mentions"]["parse"] == []


async def test_answer_channel_question_opens_a_thread(running):
    fake, bot, _ = running
    await fake.member_message("Who organised the call?", channel_id=ANSWER_CHANNEL_ID)
    threads = await fake.wait_for(lambda: fake.posts("/threads"))
    assert threads[0].body["name"] == "Who organised the call?"
    thread_post = await fake.wait_for(lambda: [r for r in fake.posts("/messages") if "/threads" not in r.path
                                               and f"/channels/{ANSWER_CHANNEL_ID}/" not in r.path])
    assert "CeSIA" in thread_post[0].body["embeds"][0]["description"]


async def test_a_post_in_an_answer_forum_is_answered_in_the_post(running):
    fake, bot, config = running
    post = await fake.forum_post("Organisers?", "Who organised the call?")
    reply = await fake.wait_for(lambda: fake.posts(f"/channels/{post['id']}/messages"))
    assert "CeSIA" in reply[0].body["embeds"][0]["description"]
    assert not fake.posts("/threads")  # a forum post is its own thread: no new one

    def recorded():
        with sqlite3.connect(config.database_path) as db:
            return db.execute("SELECT via, channel_id, message_id FROM answers").fetchall()

    assert await fake.wait_for(recorded) == [("forum", int(post["id"]), int(post["id"]))]


async def test_a_member_pressing_a_moderators_undo_button_is_refused(running):
    from bot.corpus.editing import draft_from_modal
    from bot.corpus.git_record import Author

    fake, bot, config = running
    draft = draft_from_modal("How tall is the lighthouse?", "Lighthouse height?", "Forty metres.",
                             "https://example.org/l", "Facts", "en")
    change = await bot.locked(bot.moderation.add, draft, Author("mod", 7), "mod")
    undo_id = f"rl:undo:{change.result.audit_id}"
    shown = fake.message(CHANNEL_ID, {"components": [{"type": 1, "components": [
        {"type": 2, "style": 4, "label": "Undo", "custom_id": undo_id}]}]})
    press = await fake.press_button(undo_id, shown)
    reply = await fake.wait_for(lambda: fake.posts(f"/interactions/{press['id']}/{press['token']}/callback"))
    assert reply[0].body["data"]["content"] == "Only moderators can do that."
    assert "Forty metres." in (config.corpus_dir / "faq" / "90-moderators.yaml").read_text()


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
    helpful = next(c["custom_id"] for row in components for c in row["components"]
                   if c.get("custom_id", "").startswith("rl:fb:") and ":1" in c["custom_id"])
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
    assert count == 8 and fake.command_syncs == 1
    put = next(r for r in fake.requests if r.method == "PUT")
    assert put.path.endswith("/guilds/1234/commands")
    registered = {c["name"]: c.get("default_member_permissions") for c in put.body}
    # Members' picker: /ask, /about, /help and the message command; the rest need Manage Server unless admins
    # grant them to the moderator role in Server Settings → Integrations.
    assert registered == {"ask": None, "about": None, "help": None, "Check against the letter": None,
                          "faq": 32, "reload": 32, "setup": 32, "Why this answer?": 32}
    french = {c["name"]: (c.get("name_localizations") or {}).get("fr") for c in put.body}
    assert french["ask"] == "demander" and french["help"] == "aide"
    assert french["Check against the letter"] == "Vérifier dans la lettre"
    ask = next(c for c in put.body if c["name"] == "ask")
    assert ask["description_localizations"]["fr"].startswith("Poser une question")
    assert {o["name_localizations"]["fr"] for o in ask["options"]} == {"question", "privé"}



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
        assert "[the letter, ¶4](<https://red-lines.ai/>)" in description or "[Zvi Mowshowitz" in description
    finally:
        await stop_bot(bot, task)
