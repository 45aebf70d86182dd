"""The Discord client: a ``commands.Bot`` built with its resources passed in, loading them off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bot import __version__
from bot.config import Config
from bot.core.answer import LiveIndex
from bot.corpus.live_update import LiveUpdater, UpdateResult
from bot.corpus.reader import FaqEntry, load_corpus
from bot.discord_app.tree import AnswerTree
from bot.errors import UserFacingError
from bot.serving.follower import follow
from bot.serving.limits import ConcurrencyCap, Cooldown
from bot.serving.metrics import Metrics
from bot.serving.resources import Resources
from bot.serving.service import AnswerService
from bot.storage.answers import Store
from bot.storage.audit import AuditLog
from bot.storage.coordination import Coordination
from bot.storage.database import shown
from bot.storage.heartbeats import Heartbeat, this_host

log = logging.getLogger(__name__)

LETTER_URL = "https://red-lines.ai/"


def narrowest_intents(config: Config) -> discord.Intents:
    """Guild and message events only; message content only when answer channels need it.

    Mentions of the bot carry their content without the privileged message-content intent.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = bool(config.discord.answer_channels)
    return intents


class RedLinesBot(commands.AutoShardedBot):
    """The bot. ``load_resources`` builds the encoder, index and answerer; it runs in a thread in
    ``setup_hook`` so the event loop never blocks on the model. Without it (``sync-commands``) the bot
    only registers its commands.

    Cogs and persistent buttons are passed in (see ``assembly.create_bot``) rather than imported here, so the
    client does not depend on the modules that depend on it."""

    user: discord.ClientUser
    service: AnswerService
    resources: Resources
    updater: LiveUpdater

    def __init__(self, *, config: Config, load_resources: Callable[[], Resources] | None,
                 open_store: Callable[[], Store] | None = None,
                 cogs: Sequence[Callable[[RedLinesBot], commands.Cog]] = (),
                 dynamic_items: Sequence[type[discord.ui.DynamicItem[Any]]] = (), metrics: Metrics | None = None,
                 follow_index: bool = False, **options: Any) -> None:
        # Sharding (discord.py's AutoShardedBot): the shards this process runs, from config unless given.
        options.setdefault("shard_count", config.discord.shard_count)
        options.setdefault("shard_ids", list(config.discord.shard_ids) or None)
        super().__init__(command_prefix=commands.when_mentioned, intents=narrowest_intents(config),
                         allowed_mentions=discord.AllowedMentions.none(), tree_cls=AnswerTree, help_command=None,
                         **options)
        self.config = config
        self._load_resources = load_resources
        self._open_store = open_store or (lambda: Store(config.database_target))
        self.store: Store | None = None
        self.audit: AuditLog | None = None
        self.coordination: Coordination | None = None
        # Swap in generations other processes publish (the runner turns it on; in-process tests leave it off).
        self._follow_index = follow_index
        self._follower: asyncio.Task[None] | None = None
        self._cogs = tuple(cogs)
        self._dynamic_items = tuple(dynamic_items)
        self.metrics = metrics or Metrics()
        self.started_at = time.time()

    async def setup_hook(self) -> None:
        if self._load_resources is not None:
            self.resources = await asyncio.to_thread(self._load_resources)
            self.store = await asyncio.to_thread(self._open_store_safely)
            discord_settings = self.config.discord
            self.service = AnswerService(
                self.resources.answerer, self.store,
                Cooldown(discord_settings.cooldown_questions, discord_settings.cooldown_seconds),
                ConcurrencyCap(discord_settings.max_concurrent, discord_settings.busy_retry_seconds,
                               discord_settings.max_wait_seconds),
                metrics=self.metrics,
            )
            live = self.resources.live
            self.metrics.watch_index(lambda: (live.current.generation, len(live.current.passages)))
            self.metrics.watch_gateway(lambda: [(shard, ms / 1000 if ms is not None else None)
                                                for shard, ms in self.gateway_latency_ms().items()])
            self.audit = await asyncio.to_thread(self._open_safely, "the audit log", AuditLog)
            # Shared with every process on this database: the corpus writers' lock and the published generation.
            self.coordination = await asyncio.to_thread(self._open_safely, "index coordination", Coordination)
            self.updater = LiveUpdater(self.config, self.resources.encoder, self.resources.live, self.audit,
                                       self.coordination)
            if self.coordination is not None and self._follow_index:
                self._follower = asyncio.create_task(
                    follow(self.coordination, self.updater, self.config.database.poll_seconds), name="index follower")
        for make_cog in self._cogs:
            await self.add_cog(make_cog(self))
        if self._dynamic_items:
            self.add_dynamic_items(*self._dynamic_items)

    def _open_store_safely(self) -> Store | None:
        try:
            return self._open_store()
        except Exception:  # noqa: BLE001 - answering works without the database
            log.exception("could not open the database at %s; answering without feedback records",
                          shown(self.config.database_target))
            return None

    def _open_safely(self, what: str, opener: Callable[[Path | str], Any]) -> Any:
        try:
            return opener(self.config.database_target)
        except Exception:  # noqa: BLE001 - answering works without it
            log.exception("could not open %s at %s", what, shown(self.config.database_target))
            return None

    async def find_entry(self, entry_id: str) -> FaqEntry:
        """The FAQ entry as it is on disk now, or a user-facing error."""
        corpus = await asyncio.to_thread(load_corpus, self.config.corpus_dir)
        entry = corpus.faq_entry(entry_id.strip())
        if entry is None:
            raise UserFacingError(f"There is no FAQ entry with id '{entry_id}'. Ids appear in citations and in "
                                  "the corpus files.")
        return entry

    async def reload_corpus(self, actor: str) -> UpdateResult | None:
        """Pick up corpus files edited on disk (SIGHUP, `redlines-bot reload`); log instead of raising."""
        faq = self.get_cog("FAQ")
        try:
            return await faq.locked(self.updater.reload, actor)  # type: ignore[union-attr]
        except UserFacingError as exc:
            log.error("reload refused; the live index keeps serving: %s", exc)
        except Exception:  # noqa: BLE001
            log.exception("reload failed; the live index keeps serving")
        return None

    async def on_message(self, message: discord.Message) -> None:
        # No prefix commands: the Ask cog's listener handles mentions and answer channels.
        return

    async def on_ready(self) -> None:
        # Commands are synced on request (`redlines-bot sync-commands`), never here: ready fires on every reconnect.
        log.info("connected as %s (%s) to %d guild(s)", self.user, self.user.id, len(self.guilds))

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        await super().close()
        if self.coordination is not None:
            await asyncio.to_thread(self.coordination.close)
            self.coordination = None
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
            self.store = None
        if self.audit is not None:
            await asyncio.to_thread(self.audit.close)
            self.audit = None

    def gateway_latency_ms(self) -> dict[int, float | None]:
        """Heartbeat round trip per shard this process runs; None before the first ACK or while disconnected."""
        shards = self.shards
        latencies = {}
        for shard_id, seconds in self.latencies:
            info = shards.get(shard_id)
            usable = info is not None and not info.is_closed() and math.isfinite(seconds)
            latencies[shard_id] = seconds * 1000 if usable else None
        return latencies

    def heartbeat(self) -> Heartbeat:
        """This process's health now, for its heartbeat file (``redlines-bot status``)."""
        service = getattr(self, "service", None)
        resources = getattr(self, "resources", None)
        answers, declines = service.activity.last_hour() if service else (0, 0)
        shard_ids = tuple(sorted(self.shards)) or tuple(self.shard_ids or ())
        return Heartbeat(
            host=this_host(), pid=os.getpid(), started_at=self.started_at, updated_at=time.time(),
            ready=self.is_ready() and not self.is_closed(), shard_ids=shard_ids, shard_count=self.shard_count,
            latency_ms=self.gateway_latency_ms(),
            index_generation=resources.live.current.generation if resources else None,
            last_answer_at=service.activity.last_answer_at if service else None,
            answers_last_hour=answers, declines_last_hour=declines, version=__version__, metrics_port=self.metrics.port)

    @property
    def live_index(self) -> LiveIndex:
        return self.resources.live

    def about_embed(self) -> discord.Embed:
        index = self.live_index.current
        manifest = index.manifest
        embed = discord.Embed(
            title="About this bot",
            description=(
                "I answer questions about the **Global Call for AI Red Lines**, the open letter launched on "
                "22 September 2025 at the UN General Assembly. I don't write answers: I quote the letter, a French "
                "press article and a sourced FAQ word for word, each excerpt with its source, and I say so when they "
                "don't cover a question.\n\n"
                f"Read the letter: <{LETTER_URL}>\n"
                "Ask with `/ask`, by mentioning me, or in an answer channel. `/ask private:True` answers only you."
            ),
            colour=discord.Colour(0xC0392B),
        )
        embed.add_field(name="Corpus and index",
                        value=f"{manifest['passages']} passages · corpus `{manifest['corpus_hash'][:12]}` · "
                              f"built {manifest['built_at']}Z · model {manifest['model']['id']}",
                        inline=False)
        report = "Press **Not helpful** under the answer: moderators review every one."
        if self.config.discord.report_url:
            report += f" You can also report it at <{self.config.discord.report_url}>."
        embed.add_field(name="Wrong answer?", value=report, inline=False)
        embed.set_footer(text=f"redlines-bot {__version__}")
        return embed

    async def sync_commands(self, guild_id: int | None = None) -> int:
        """Register the slash and context-menu commands with Discord (globally or in one guild)."""
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        return len(synced)
