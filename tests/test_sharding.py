"""Sharding with discord.py's AutoShardedBot against the fake Discord, which routes each guild to shard
(guild_id >> 22) % shard_count as Discord does."""

from __future__ import annotations

import asyncio

import discord
import pytest
import yarl

from bot import cli
from bot.config import load_config

from .discord_support import make_bot, make_project
from .fake_discord import BOT_ID, BOT_USER, CHANNEL_ID, GUILD_ID, OTHER_CHANNEL_ID, OTHER_GUILD_ID, FakeDiscord, shard_of

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


async def test_one_process_runs_every_shard_discord_recommends(tmp_path, monkeypatch):
    assert shard_of(GUILD_ID, 2) != shard_of(OTHER_GUILD_ID, 2)
    fake = FakeDiscord(shard_count=2)
    fake.add_guild()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    bot = make_bot(make_project(tmp_path), shard_count=None)  # as configured by default: ask Discord

    async def no_identify_delay(shard_id, *, initial=False):  # discord.py waits 5 s between shards (rate limit)
        return None

    monkeypatch.setattr(bot, "before_identify_hook", no_identify_delay)
    task = asyncio.create_task(bot.start("fake-token-not-a-secret"))
    await asyncio.sleep(0)
    try:
        await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
        assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
        assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
        assert {g.id: g.shard_id for g in bot.guilds} == {GUILD_ID: 1, OTHER_GUILD_ID: 0}
        await fake.member_message(f"<@{BOT_ID}> Who organised the call?", mentions=[BOT_USER])
        await fake.member_message(f"<@{BOT_ID}> When is the deadline?", mentions=[BOT_USER], channel_id=OTHER_CHANNEL_ID)
        await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages")
                            and fake.posts(f"/channels/{OTHER_CHANNEL_ID}/messages"))
        assert "CeSIA" in fake.posts(f"/channels/{CHANNEL_ID}/messages")[0].body["embeds"][0]["description"]
        assert "¶3" in fake.posts(f"/channels/{OTHER_CHANNEL_ID}/messages")[0].body["embeds"][0]["description"]
        heartbeat = bot.heartbeat()
        assert heartbeat.shard_ids == (0, 1) and heartbeat.shard_count == 2 and heartbeat.ready
    finally:
        await bot.close()
        await asyncio.wait_for(task, timeout=10)
        await fake.stop()


async def test_a_process_runs_only_its_shards_and_bad_shard_layouts_are_refused(tmp_path, monkeypatch, capsys):
    fake = FakeDiscord()
    fake.add_guild()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    config = make_project(tmp_path, discord_extra="  shard_count: 2\n  shard_ids: [0]\n")
    bot = make_bot(config, shard_count=config.discord.shard_count)
    task = asyncio.create_task(bot.start("fake-token-not-a-secret"))
    await asyncio.sleep(0)
    try:
        await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
        assert fake.identified_shards == [(0, 2)]
        assert [g.id for g in bot.guilds] == [OTHER_GUILD_ID]  # the default guild is shard 1's
    finally:
        await bot.close()
        await asyncio.wait_for(task, timeout=10)
        await fake.stop()
    path = config.source
    for extra, expected in (("  shard_ids: [0]\n", "needs shard_count"), ("  shard_count: 2\n  shard_ids: [2]\n", "between 0"),
                            ("  shard_count: 0\n", "greater than or equal to 1")):
        path.write_text(path.read_text().split("discord:")[0] + "discord:\n" + extra)
        with pytest.raises(Exception, match=expected):
            load_config(path)
    path.write_text(path.read_text().split("discord:")[0] + "discord:\n  shard_count: 4\n")
    assert cli.main(["run", "--shards", "3-5", "--config", str(path)]) == 1
    assert "--shards 3,4,5: each id must be between 0 and shard_count - 1 (3)" in capsys.readouterr().err
    assert cli.parse_shard_ids("0-2,5") == (0, 1, 2, 5)


async def test_bots_for_groups_of_shards_share_a_data_folder_but_never_serve_a_shard_twice(tmp_path):
    import os

    from bot.storage.locks import AlreadyRunning, BotLock, running_bots

    first = BotLock(tmp_path, (0, 1)).acquire()
    second = BotLock(tmp_path, (2, 3)).acquire()  # another group beside it: fine
    try:
        assert (tmp_path / "bot-shards-0-1.pid").exists() and running_bots(tmp_path) == [os.getpid(), os.getpid()]
        with pytest.raises(AlreadyRunning, match="already running"):
            BotLock(tmp_path, (0, 1)).acquire()  # the same group twice would answer its guilds twice
        with pytest.raises(AlreadyRunning, match="a group of shards"):
            BotLock(tmp_path).acquire()  # nor may a bot for every shard start beside them
    finally:
        first.release()
        second.release()
    alone = BotLock(tmp_path).acquire()
    try:
        with pytest.raises(AlreadyRunning, match="every shard"):
            BotLock(tmp_path, (0,)).acquire()
    finally:
        alone.release()
    assert running_bots(tmp_path) == []
