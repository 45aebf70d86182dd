"""Putting the Discord client together: the client plus every cog and persistent button.

The only module that imports both the client and the cogs, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.config import Config
from bot.discord_app.ask_cog import AskCog
from bot.discord_app.client import RedLinesBot
from bot.discord_app.components import DYNAMIC_ITEMS
from bot.discord_app.confirmations import DetailsButton, UndoButton
from bot.discord_app.conversation_cog import ConversationCog
from bot.discord_app.faq_cog import FaqCog
from bot.discord_app.help_cog import HelpCog
from bot.discord_app.setup_cog import SetupCog
from bot.serving.resources import Resources
from bot.storage.answers import Store


def create_bot(*, config: Config, load_resources: Callable[[], Resources] | None,
               open_store: Callable[[], Store] | None = None, **options: Any) -> RedLinesBot:
    """The bot with its cogs and persistent buttons; ``options`` go to the client (``metrics``, ``shard_count``...)."""
    return RedLinesBot(config=config, load_resources=load_resources, open_store=open_store,
                       cogs=(AskCog, ConversationCog, FaqCog, SetupCog, HelpCog),
                       dynamic_items=(*DYNAMIC_ITEMS, UndoButton, DetailsButton), **options)
