"""The Discord adapter: it turns Discord events into calls to the core and answers into embeds.

Nothing here decides what to answer; that is ``bot.core.answer`` and ``bot.serving.service``.
"""
