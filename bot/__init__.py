"""redlines-bot: answers questions about the Global Call for AI Red Lines with verbatim, cited excerpts.

The package is split so that Discord stays at the edge: everything under ``bot`` except
``bot.discord_app`` is a Discord-free core that the CLI, the console and the Discord adapter share.
"""

__version__ = "0.1.0"
