"""Entry points that start the Discord client: ``run`` and ``sync-commands``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from functools import partial

import aiohttp
import discord

from bot.config import Config
from bot.discord_app.assembly import create_bot
from bot.errors import UserFacingError
from bot.serving.health import beat, pid_alive
from bot.serving.metrics import start_metrics
from bot.serving.resources import Resources, build_resources
from bot.storage.heartbeats import read_heartbeats, this_host

log = logging.getLogger(__name__)


def pid_file(config: Config):
    return config.data_dir / "bot.pid"


def running_pids(config: Config) -> list[int]:
    """Live bot processes of this data folder on this host: from their heartbeats, else the pid file."""
    beats, _ = read_heartbeats(config.heartbeat_dir)
    host = this_host()
    pids = [b.pid for b in beats if b.host == host and pid_alive(b.pid)]
    if pids:
        return pids
    try:
        return [int(pid_file(config).read_text().strip())]
    except (OSError, ValueError):
        return []


def metrics_port(config: Config) -> int | None:
    """metrics.port, plus the first shard id when this process runs a group of shards, so processes on one host
    (redlines-bot@0-1, redlines-bot@2-3...) each get a port of their own: 9100, 9102..."""
    port = config.metrics.port
    if port is None or port == 0 or not config.discord.shard_ids:
        return port
    return port + min(config.discord.shard_ids)


async def _serve(config: Config, token: str, load_resources: Callable[[], Resources] | None = None) -> None:
    load = load_resources or partial(build_resources, config)
    metrics = start_metrics(config.metrics.host, metrics_port(config))
    try:
        async with create_bot(config=config, load_resources=load, metrics=metrics, follow_index=True) as bot:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
            # SIGHUP (or `redlines-bot reload`) picks up corpus files edited on disk.
            loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(bot.reload_corpus("SIGHUP")))
            path = pid_file(config)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(str(os.getpid()))
            heartbeat = asyncio.create_task(beat(config.heartbeat_dir, bot.heartbeat, config.health.heartbeat_seconds))
            try:
                await bot.start(token)
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                with contextlib.suppress(OSError):  # another process of this data folder may own it now
                    if path.read_text().strip() == str(os.getpid()):
                        path.unlink()
    finally:
        metrics.close()


def run_discord(config: Config, token: str) -> int:
    """Connect to Discord and answer until stopped. The token is never logged."""
    try:
        asyncio.run(_serve(config, token))
    except aiohttp.ClientConnectionError as exc:
        raise UserFacingError(f"cannot reach Discord ({exc.__class__.__name__}); check the network and try again") from None
    except discord.LoginFailure:
        raise UserFacingError("Discord refused the token in DISCORD_TOKEN (check it in the developer portal)") from None
    except discord.PrivilegedIntentsRequired:
        raise UserFacingError("Discord refused the message content intent: enable it for the bot in the developer "
                              "portal, or leave discord.answer_channels empty") from None
    return 0


async def _sync(config: Config, token: str, guild_id: int | None) -> int:
    async with create_bot(config=config, load_resources=None) as bot:
        await bot.login(token)
        return await bot.sync_commands(guild_id)


def sync_commands(config: Config, token: str, guild_id: int | None) -> int:
    """Register slash commands once, on request, instead of on every connection."""
    try:
        count = asyncio.run(_sync(config, token, guild_id))
    except discord.LoginFailure:
        raise UserFacingError("Discord refused the token in DISCORD_TOKEN") from None
    where = f"guild {guild_id}" if guild_id else "all guilds (global commands can take up to an hour to appear)"
    print(f"synced {count} command(s) to {where}")
    return 0
