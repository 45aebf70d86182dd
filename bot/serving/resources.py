"""The one place that builds the bot's resources from config: encoder, index, answerer."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Config
from bot.core.answer import Answerer, LiveIndex
from bot.core.glossary import warm_up as warm_up_glossary
from bot.core.language import warm_up as warm_up_languages
from bot.index.encoder import Encoder
from bot.index.encoders import load_encoder
from bot.index.store import load_index

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """What the CLI, the console and the Discord bot share."""

    config: Config
    encoder: Encoder
    live: LiveIndex
    answerer: Answerer


def warm_up() -> None:
    """Load the text models a question may need, here rather than on the first question that needs them."""
    warm_up_languages()  # about a second: the first question in another language
    warm_up_glossary()   # a tenth of a second, likewise


def build_resources(config: Config, encoder: Encoder | None = None) -> Resources:
    """Load the encoder (unless given), the language models and the current index; refuse a stale or broken index."""
    encoder = encoder or load_encoder(config)
    warm_up()
    live = LiveIndex(load_index(config, encoder))
    log.info("index %s loaded (%d passages)", live.current.generation, len(live.current.passages))
    return Resources(config, encoder, live, Answerer(config.retrieval, encoder, live))
