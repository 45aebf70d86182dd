"""Run the real `redlines-bot` command in a child process against the loopback fake Discord, on the fake encoder.

    python -m tests.bot_process API_BASE GATEWAY_URL [redlines-bot arguments...]

discord.py is pointed at the fake (as the in-process tests do with monkeypatch) and the encoder is the
deterministic fake one, so a test can run several real bot processes, signal them and kill them.
"""

from __future__ import annotations

import sys


def main() -> int:
    api_base, gateway_url, *argv = sys.argv[1:]
    import discord
    import yarl

    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    from bot.serving import resources

    from .conftest import FakeEncoder

    resources.load_encoder = lambda config: FakeEncoder()
    from bot.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
