"""The Discord client: a ``commands.Bot`` built with its resources passed in, loading them off the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
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
from bot.serving.limits import ConcurrencyCap, Cooldown
from bot.serving.resources import Resources
from bot.serving.service import AnswerService
from bot.storage.answers import Store
from bot.storage.audit import AuditLog
from bot.storage.conversations import ConversationLog

log = logging.getLogger(__name__)

LETTER_URL = "https://red-lines.ai/"


def narrowest_intents(config: Config) -> discord.Intents:
    """Guild, message and reaction events; the privileged message content only when configured or needed.

    Mentions of the bot carry their content without the message-content intent; questions in answer
    channels and replies to the bot that don't ping it need it. Reactions carry the 🗑️ that deletes an answer.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.message_content = config.discord.wants_message_content
    return intents


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


class RedLinesBot(commands.Bot):
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
                 dynamic_items: Sequence[type[discord.ui.DynamicItem[Any]]] = (), **options: Any) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=narrowest_intents(config),
                         allowed_mentions=discord.AllowedMentions.none(), tree_cls=AnswerTree, help_command=None,
                         **options)
        self.config = config
        self._load_resources = load_resources
        self._open_store = open_store or (lambda: Store(config.database_path))
        self.store: Store | None = None
        self.audit: AuditLog | None = None
        self.conversations: ConversationLog | None = None
        self._cogs = tuple(cogs)
        self._dynamic_items = tuple(dynamic_items)

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
            )
            self.audit = await asyncio.to_thread(self._open_audit_safely)
            self.conversations = await asyncio.to_thread(self._open_conversations_safely)
            for level, warning in intent_warnings(self.config):
                log.log(level, "%s", warning)
            self.updater = LiveUpdater(self.config, self.resources.encoder, self.resources.live, self.audit)
        for make_cog in self._cogs:
            await self.add_cog(make_cog(self))
        if self._dynamic_items:
            self.add_dynamic_items(*self._dynamic_items)

    def _open_store_safely(self) -> Store | None:
        try:
            return self._open_store()
        except Exception:  # noqa: BLE001 - answering works without the database
            log.exception("could not open the database at %s; answering without feedback records",
                          self.config.database_path)
            return None

    def _open_audit_safely(self) -> AuditLog | None:
        try:
            return AuditLog(self.config.database_path)
        except Exception:  # noqa: BLE001
            log.exception("could not open the audit log at %s", self.config.database_path)
            return None

    def _open_conversations_safely(self) -> ConversationLog | None:
        try:
            return ConversationLog(self.config.database_path)
        except Exception:  # noqa: BLE001 - answering works without it (no follow-up context, no edit tracking)
            log.exception("could not open the conversation log at %s", self.config.database_path)
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
        await super().close()
        if self.store is not None:
            await asyncio.to_thread(self.store.close)
            self.store = None
        if self.audit is not None:
            await asyncio.to_thread(self.audit.close)
            self.audit = None
        if self.conversations is not None:
            await asyncio.to_thread(self.conversations.close)
            self.conversations = None

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
