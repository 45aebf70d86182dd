"""The Discord client: a ``commands.Bot`` built with its resources passed in, loading them off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import discord
from discord.ext import commands, tasks

from bot import __version__
from bot.config import Config
from bot.core.answer import LiveIndex
from bot.corpus.finder import EntryName, did_you_mean, faq_names
from bot.corpus.live_update import LiveUpdater, UpdateResult
from bot.corpus.reader import FaqEntry, load_corpus
from bot.discord_app.tree import AnswerTree, CatalogueTranslator
from bot.errors import UserFacingError
from bot.serving.follower import follow
from bot.serving.i18n import DEFAULT, t
from bot.serving.limits import ConcurrencyCap, Cooldown
from bot.serving.metrics import Metrics
from bot.serving.moderation import Moderation
from bot.serving.resources import Resources
from bot.serving.service import AnswerService
from bot.storage.answers import Store
from bot.storage.audit import AuditLog
from bot.storage.conversations import ConversationLog
from bot.storage.coordination import Coordination
from bot.storage.database import exists, shown
from bot.storage.guild_settings import GuildSettings, SettingsStore, StoredSettings
from bot.storage.heartbeats import Heartbeat, this_host
from bot.storage.retention import purge_expired

log = logging.getLogger(__name__)
T = TypeVar("T")

LETTER_URL = "https://red-lines.ai/"
PURGE_EVERY_HOURS = 6

# discord.py runs each event handler, command, button press and form submission in a task of its own, named
# with these prefixes (``Client._schedule_event``, ``CommandTree._from_interaction``, ``ViewStore``); with our
# own reload task, they are the work a graceful stop waits for. The gateway's own tasks are not among them.
_SERVING_TASKS = ("discord.py: on_message", "CommandTree-invoker", "discord-ui-view-dispatch-",
                  "discord-ui-modal-dispatch-", "discord-ui-dynamic-item-", "redlines: reload")


def _serves_someone(task: asyncio.Task[Any]) -> bool:
    return not task.done() and task.get_name().startswith(_SERVING_TASKS)


def narrowest_intents(config: Config, stored_answer_channels: bool = False) -> discord.Intents:
    """Guild, message and reaction events; the privileged message content only when configured or needed (answer
    channels in config.yaml, or set with /setup before this start).

    Mentions of the bot carry their content without the message-content intent; questions in answer
    channels and replies to the bot that don't ping it need it. Reactions carry the 🗑️ that deletes an answer.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.message_content = config.discord.wants_message_content or (
        config.discord.message_content_intent is None and stored_answer_channels)
    return intents


def stored_answer_channels(config: Config) -> bool:
    """Whether a server set answer channels with /setup (read before connecting, to choose the intents)."""
    if not exists(config.database_target):
        return False
    try:
        settings = SettingsStore(config.database_target)
    except Exception:  # noqa: BLE001 - the bot starts without; setup_hook logs the database problem
        return False
    try:
        return settings.any_answer_channels()
    finally:
        settings.close()


def intent_warnings(config: Config) -> list[tuple[int, str]]:
    """What the configuration can't do with the intents it requests: (logging level, message) pairs."""
    settings = config.discord
    if settings.wants_message_content:
        return [(logging.INFO, "the Message Content intent is requested: it must be enabled on the Bot page of the "
                               "developer portal, or Discord refuses the connection")]
    if settings.answer_channels:
        return [(logging.WARNING, "discord.answer_channels is set but discord.message_content_intent is false: "
                                  "messages there arrive without their text, so only those that mention the bot "
                                  "are answered")]
    return [(logging.INFO, "the Message Content intent is not requested: replies to the bot that don't ping it "
                           "arrive without their text and are ignored (set discord.message_content_intent: true "
                           "to answer them)")]


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
    moderation: Moderation

    def __init__(self, *, config: Config, load_resources: Callable[[], Resources] | None,
                 open_store: Callable[[], Store] | None = None,
                 cogs: Sequence[Callable[[RedLinesBot], commands.Cog]] = (),
                 dynamic_items: Sequence[type[discord.ui.DynamicItem[Any]]] = (),
                 read_message_content: bool = False, metrics: Metrics | None = None, follow_index: bool = False,
                 **options: Any) -> None:
        # Sharding (discord.py's AutoShardedBot): the shards this process runs, from config unless given.
        options.setdefault("shard_count", config.discord.shard_count)
        options.setdefault("shard_ids", list(config.discord.shard_ids) or None)
        super().__init__(command_prefix=commands.when_mentioned, intents=narrowest_intents(config, read_message_content),
                         allowed_mentions=discord.AllowedMentions.none(), tree_cls=AnswerTree, help_command=None,
                         **options)
        self.config = config
        self._load_resources = load_resources
        self._open_store = open_store or (lambda: Store(config.database_target))
        self.store: Store | None = None
        self.audit: AuditLog | None = None
        self.settings_store: SettingsStore | None = None
        self._stored_settings: dict[int, StoredSettings] = {}
        self._names: tuple[str, list[EntryName]] | None = None
        self.conversations: ConversationLog | None = None
        self._cogs = tuple(cogs)
        self._dynamic_items = tuple(dynamic_items)
        # One corpus change at a time (moderators' edits, undo, reload), each in a worker thread.
        self._corpus_lock = asyncio.Lock()
        self._settings_lock = asyncio.Lock()  # one /setup change at a time: each reads, changes and stores a server's row
        self.purge_loop = tasks.loop(hours=PURGE_EVERY_HOURS)(self.purge_expired)
        self.updater: LiveUpdater | None = None  # type: ignore[assignment]
        self._reload_task: asyncio.Task[None] | None = None
        self._reload_again = False
        self._shutdown_task: asyncio.Task[None] | None = None
        self.metrics = metrics or Metrics()
        self.started_at = time.time()
        self.coordination: Coordination | None = None
        # Swap in generations other processes publish (the runner turns it on; in-process tests leave it off).
        self._follow_index = follow_index
        self._follower: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogueTranslator())
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
            self.audit = await asyncio.to_thread(self._open_audit_safely)
            # Shared with every process on this database: the corpus writers' lock and the published generation.
            self.coordination = await asyncio.to_thread(self._open_safely, "index coordination", Coordination)
            self.conversations = await asyncio.to_thread(self._open_conversations_safely)
            for level, warning in intent_warnings(self.config):
                log.log(level, "%s", warning)
            self.updater = LiveUpdater(self.config, self.resources.encoder, self.resources.live, self.audit,
                                       self.coordination)
            if self.coordination is not None and self._follow_index:
                self._follower = asyncio.create_task(
                    follow(self.coordination, self.updater, self.config.database.poll_seconds), name="index follower")
            self.moderation = Moderation(self.config, self.updater, self.resources.answerer, self.audit, self.store)
            self.settings_store, self._stored_settings = await asyncio.to_thread(self._open_settings_safely)
            if self.store is not None or self.audit is not None:
                self.purge_loop.start()
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

    def _open_audit_safely(self) -> AuditLog | None:
        audit: AuditLog | None = self._open_safely("the audit log", AuditLog)
        return audit

    def _open_conversations_safely(self) -> ConversationLog | None:
        # Answering works without it (no follow-up context, no edit tracking).
        conversations: ConversationLog | None = self._open_safely("the conversation log", ConversationLog)
        return conversations

    def _open_settings_safely(self) -> tuple[SettingsStore | None, dict[int, StoredSettings]]:
        try:
            settings = SettingsStore(self.config.database_target)
            return settings, settings.all()
        except Exception:  # noqa: BLE001 - config.yaml's settings apply to every server
            log.exception("could not read the server settings in %s; using config.yaml for every server",
                          shown(self.config.database_target))
            return None, {}

    # ---- per-server settings -------------------------------------------------------------------------------

    def settings_for(self, guild_id: int | None) -> GuildSettings:
        """The settings in force in a server: what its admins set with /setup, over config.yaml's defaults."""
        stored = self._stored_settings.get(guild_id) if guild_id is not None else None
        return GuildSettings.resolve(self.config.discord, stored)

    async def change_setting(self, guild_id: int, key: str, value: Any) -> GuildSettings:
        """Store one setting for a server (``value`` None for "none"); live at once."""
        async with self._settings_lock:
            stored = self._stored_settings.get(guild_id, StoredSettings()).with_value(key, value)
            return await self._save_settings(guild_id, stored)

    async def reset_settings(self, guild_id: int) -> GuildSettings:
        """Forget a server's /setup choices: config.yaml's defaults apply again."""
        async with self._settings_lock:
            return await self._save_settings(guild_id, StoredSettings())

    async def _save_settings(self, guild_id: int, stored: StoredSettings) -> GuildSettings:
        if self.settings_store is None:
            raise UserFacingError("Settings can't be saved right now: the bot's database is unavailable. "
                                  "config.yaml's settings apply meanwhile.")
        await asyncio.to_thread(self.settings_store.save, guild_id, stored)
        if stored.values:
            self._stored_settings[guild_id] = stored
        else:
            self._stored_settings.pop(guild_id, None)
        return self.settings_for(guild_id)

    # ---- FAQ entries -------------------------------------------------------------------------------------

    def entry_names(self) -> list[EntryName]:
        """The live FAQ entries (id and question), for autocomplete; recomputed once per index generation."""
        index = self.live_index.current
        if self._names is None or self._names[0] != index.generation:
            self._names = (index.generation, faq_names(index.passages))
        return self._names[1]

    async def find_entry(self, entry_id: str) -> FaqEntry:
        """The FAQ entry as it is on disk now, or a user-facing error that suggests the nearest ids."""
        corpus = await asyncio.to_thread(load_corpus, self.config.corpus_dir)
        entry = corpus.faq_entry(entry_id.strip())
        if entry is None:
            raise UserFacingError(self.unknown_entry_message(entry_id))
        return entry

    def unknown_entry_message(self, entry_id: str) -> str:
        shown = discord.utils.escape_markdown(" ".join(entry_id.split())[:64])
        message = f"There is no FAQ entry with id `{shown}`."
        close = did_you_mean(self.entry_names(), entry_id)
        if close:
            options = ", ".join(f"`{name.id}` ({discord.utils.escape_markdown(name.question)})" for name in close)
            message += f" Did you mean {options}?"
        return message + " Start typing an id or a few words of the question in `entry_id` to pick from the list."

    async def locked(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one corpus change at a time, in a worker thread (writing, encoding and git block)."""
        async with self._corpus_lock:
            return await asyncio.to_thread(function, *args, **kwargs)

    # ---- retention -------------------------------------------------------------------------------------------

    async def purge_expired(self) -> None:
        """Delete questions and member ids older than data.retention_days (on start, then every few hours)."""
        try:
            report = await asyncio.to_thread(purge_expired, self.store, self.audit, self.config.data.retention_days)
        except Exception:  # noqa: BLE001 - retry at the next run; answering goes on
            log.exception("could not purge records older than %d days", self.config.data.retention_days)
            return
        if report.answers or report.feedback or report.audit_actors:
            log.info("retention: %s", report.summary())

    async def reload_corpus(self, actor: str) -> UpdateResult | None:
        """Pick up corpus files edited on disk (SIGHUP, `redlines-bot reload`); log instead of raising."""
        try:
            return await self.locked(self.updater.reload, actor)
        except UserFacingError as exc:
            log.error("reload refused; the live index keeps serving: %s", exc)
        except Exception:  # noqa: BLE001
            log.exception("reload failed; the live index keeps serving")
        return None

    def request_reload(self, actor: str) -> None:
        """Reload soon. Requests that arrive while a reload runs are merged into one more reload after it, so a
        burst of signals (a deploy hook firing per file) costs one or two reloads, not one each."""
        if self._reload_task is not None and not self._reload_task.done():
            self._reload_again = True
            return
        self._reload_task = asyncio.get_running_loop().create_task(self._reload_until_settled(actor),
                                                                   name="redlines: reload")

    async def _reload_until_settled(self, actor: str) -> None:
        while True:
            self._reload_again = False
            await self.reload_corpus(actor)
            if not self._reload_again or self._shutdown_task is not None:
                return

    def request_shutdown(self, grace: float) -> None:
        """Stop gracefully (SIGTERM, SIGINT); a second request stops at once."""
        if self._shutdown_task is not None:
            log.warning("stop requested again: closing now")
            asyncio.get_running_loop().create_task(self.close())
            return
        self._shutdown_task = asyncio.get_running_loop().create_task(self.shutdown(grace), name="redlines: shutdown")

    async def shutdown(self, grace: float) -> None:
        """Turn new questions and changes away, let those in flight finish (up to ``grace`` seconds) and say which
        did not, then close."""
        log.info("stopping: finishing the questions and changes in flight (at most %.0f s)", grace)
        service = getattr(self, "service", None)
        if service is not None:
            service.stop_admitting()
        if self.updater is not None:
            self.updater.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        me = asyncio.current_task()
        while True:
            busy = [task for task in asyncio.all_tasks() if task is not me and _serves_someone(task)]
            change = self.updater.busy if self.updater is not None else None
            if not busy and change is None:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                for task in busy:
                    log.warning("stopping: %s still running after %.0f s; it is abandoned", task.get_name(), grace)
                if change is not None:
                    log.warning("stopping: the change '%s' is still being made; it completes, but its moderator is "
                                "not told", change)
                break
            if busy:
                await asyncio.wait(busy, timeout=min(remaining, 0.5))
            else:
                await asyncio.sleep(min(remaining, 0.05))
        await self.close()

    async def on_message(self, message: discord.Message) -> None:
        # No prefix commands: the Conversation cog's listener handles mentions, replies and answer channels.
        return

    async def on_ready(self) -> None:
        # Commands are synced on request (`redlines-bot sync-commands`), never here: ready fires on every reconnect.
        log.info("connected as %s (%s) to %d guild(s)", self.user, self.user.id, len(self.guilds))
        for channel_id in self.config.discord.answer_channels:
            channel = self.get_channel(channel_id)
            if not isinstance(channel, (discord.TextChannel, discord.ForumChannel)):
                log.warning("answer channel %s is not a text or forum channel this bot can see (discord.answer_channels)",
                            channel_id)

    async def close(self) -> None:
        self.purge_loop.cancel()
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        await super().close()
        if self.updater is not None:
            # A change still running in its thread writes its audit record before the audit log closes.
            self.updater.stop()
            if not await asyncio.to_thread(self.updater.idle, 30.0):
                log.error("a corpus change was still running at exit: %s", self.updater.busy)
        if self.settings_store is not None:
            await asyncio.to_thread(self.settings_store.close)
            self.settings_store = None
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
            self.store = None
        if self.audit is not None:
            await asyncio.to_thread(self.audit.close)
            self.audit = None
        if self.conversations is not None:
            await asyncio.to_thread(self.conversations.close)
            self.conversations = None
        if self.coordination is not None:
            await asyncio.to_thread(self.coordination.close)
            self.coordination = None

    # ---- health ----------------------------------------------------------------------------------------------

    def gateway_latency_ms(self) -> dict[int, float | None]:
        """Heartbeat round trip per shard this process runs; None before the first ACK or while disconnected."""
        shards = self.shards
        latencies: dict[int, float | None] = {}
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

    def about_embed(self, language: str = DEFAULT, guild_id: int | None = None) -> discord.Embed:
        """/about, in ``language``: what the bot is, this server's settings, what is kept, and the maintainer data
        members' answers leave out."""
        index = self.live_index.current
        manifest = index.manifest
        embed = discord.Embed(
            title=t(language, "about.title"),
            description="\n\n".join((t(language, "about.body"), t(language, "about.read", url=LETTER_URL),
                                      t(language, "about.how"))),
            colour=discord.Colour(0xC0392B),
        )
        embed.add_field(name=t(language, "about.corpus"),
                        value=f"{manifest['passages']} passages · corpus `{manifest['corpus_hash'][:12]}` · "
                              f"built {manifest['built_at']}Z · model {manifest['model']['id']}",
                        inline=False)
        report = t(language, "about.report")
        if self.config.discord.report_url:
            report += " " + t(language, "about.report_url", url=self.config.discord.report_url)
        embed.add_field(name=t(language, "about.wrong"), value=report, inline=False)
        if guild_id is not None:
            embed.add_field(name=t(language, "about.in_server"), inline=False,
                            value=settings_summary(self.settings_for(guild_id), self.get_guild(guild_id)))
        embed.add_field(name=t(language, "about.kept_title"), inline=False,
                        value=t(language, "about.kept", days=self.config.data.retention_days))
        embed.set_footer(text=f"redlines-bot {__version__}")
        return embed

    async def sync_commands(self, guild_id: int | None = None) -> int:
        """Register the slash and context-menu commands with Discord (globally or in one guild)."""
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        return len(synced)


def in_guild(settings: GuildSettings, guild: discord.Guild | None) -> GuildSettings:
    """The settings without channels and roles of other servers (config.yaml's defaults apply to every server)
    or ones deleted since: Discord refuses unknown ids as a select menu's defaults."""
    if guild is None:
        return settings
    return dataclasses.replace(
        settings, answer_channels=tuple(c for c in settings.answer_channels if guild.get_channel_or_thread(c)),
        moderator_roles=tuple(r for r in settings.moderator_roles if guild.get_role(r)),
        moderators_channel=settings.moderators_channel if settings.moderators_channel
        and guild.get_channel(settings.moderators_channel) else None)


def settings_summary(settings: GuildSettings, guild: discord.Guild | None = None) -> str:
    """One server's settings in a few lines; channels and roles as mentions (which never ping in embeds)."""
    def origin(key: str) -> str:
        return "set with /setup" if key in settings.from_setup else "config.yaml default"

    settings = in_guild(settings, guild)
    channels = ", ".join(f"<#{c}>" for c in settings.answer_channels) or "none (mention the bot, or use /ask)"
    roles = ", ".join(f"<@&{r}>" for r in settings.moderator_roles) or "none (Manage Server only)"
    handoff = f"<#{settings.moderators_channel}>" if settings.moderators_channel else "none"
    return (f"Answer channels: {channels} · {origin('answer_channels')}\n"
            f"Moderator roles: {roles} · {origin('moderator_roles')}\n"
            f"Moderators' channel: {handoff} · {origin('moderators_channel')}\n"
            f"Language: {settings.language} · {origin('language')}")
