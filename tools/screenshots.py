"""Pictures of the bot's main flows as Discord shows them, for the README (``make screenshots``).

The real bot (real corpus, real model, the index in ``index/``) runs inside simcord's simulated Discord; members
ask, press buttons and follow up in a thread; simcord's preview draws each channel in Discord's dark layout, and
Debian's headless Chromium (``apt-get install chromium``), driven by Playwright, photographs it into
``docs/screenshots/``. A docs tool, not a test: run it after changing how answers look, and look at the pictures.

    python tools/screenshots.py [--prefix before-] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.discord_app.assembly import create_bot  # noqa: E402
from bot.serving.resources import build_resources  # noqa: E402
from bot.storage.answers import Store  # noqa: E402

log = logging.getLogger("screenshots")
DESKTOP = (760, 3200)  # tall enough that a whole flow is on screen, then cropped to its messages
PHONE = (390, 844)  # one phone screen: the picture is what a member sees without scrolling
CHROMIUM = "/usr/bin/chromium"


@contextlib.contextmanager
def interaction_locale(locale: str) -> Iterator[None]:
    """Interactions sent while active carry ``locale`` (simcord always sends en-US): a French member's client."""
    from simcord import interactions

    original = interactions.base_payload

    def localised(*args: Any, **kwargs: Any):
        record, payload = original(*args, **kwargs)
        payload["locale"] = locale
        return record, payload

    interactions.base_payload = localised
    try:
        yield
    finally:
        interactions.base_payload = original


async def click_if_present(member, message, label: str):
    """Press a button by its label; None when the message has no such button (an older render)."""
    labels = [c.get("label") for row in message.components for c in row.get("components", [])]
    if label not in labels:
        return None
    return await member.click(message, label=label)


async def photograph(env, channel, member, path: Path, size: tuple[int, int], *, screen: bool = False) -> None:
    """The channel's messages as ``member`` sees them (their private replies included), cropped to the messages;
    with ``screen``, the message area of one screen as it is, scrolled to the newest message."""
    from playwright.async_api import async_playwright

    width, height = size
    async with env.preview(channel, viewers=[member], layout="channel", display="fixed", width=width,
                           height=height) as preview, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=2)
            await page.goto(preview.url)
            await page.wait_for_function("() => window.simcordPreview && window.simcordPreview.ready === true",
                                         timeout=30000)
            box = await page.evaluate("""(screen) => {
                if (screen) {
                    const r = document.getElementById('channel-timeline').getBoundingClientRect();
                    return {x: r.left, y: r.top, width: r.width, height: Math.min(r.height, window.innerHeight - r.top)};
                }
                const items = [...document.querySelectorAll('#channel-timeline .channel-message')];
                if (!items.length) return null;
                const rects = items.map(e => e.getBoundingClientRect());
                const top = Math.min(...rects.map(r => r.top)), bottom = Math.max(...rects.map(r => r.bottom));
                return {x: 0, y: Math.max(0, top - 8), width: window.innerWidth, height: bottom - top + 16};
            }""", screen)
            await page.screenshot(path=str(path), clip=box) if box else await page.screenshot(path=str(path))
        finally:
            await browser.close()
    log.info("wrote %s", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


Flow = Callable[[Any, Any, Any], Awaitable[Any]]


async def run(out: Path, prefix: str) -> None:
    from simcord import Env

    config = load_config(ROOT / "config.yaml")
    resources = build_resources(config)
    scratch = Path(tempfile.mkdtemp(prefix="redlines-screens-"))
    try:
        # Many questions from one member in a few seconds: no cooldown here.
        discord_settings = dataclasses.replace(config.discord, database=scratch / "bot.sqlite3", answer_channels=(1,),
                                               cooldown_questions=1000)
        config = dataclasses.replace(config, discord=discord_settings)
        bot = create_bot(config=config, load_resources=lambda: resources, open_store=lambda: Store(config.database_path))
        env = Env(bot)
        env.backend.bot_user.name = "Red Lines"
        await env.start()
        try:
            await env.bot.tree.sync()
            guild = env.create_guild()
            member = guild.add_member(env.create_user("camille"))
            out.mkdir(parents=True, exist_ok=True)

            channel = guild.create_text_channel("general")
            answer = await member.slash(channel, "ask", question="What deadline does the letter set?")
            await photograph(env, channel, member, out / f"{prefix}answer.png", DESKTOP)
            await photograph(env, channel, member, out / f"{prefix}answer-phone.png", PHONE, screen=True)

            channel = guild.create_text_channel("sources")
            answer = await member.slash(channel, "ask", question="What does the letter ask governments to do?")
            more = await click_if_present(member, answer.response, "More sources")
            if more is not None:
                page_two = await click_if_present(member, more.response, "Next")
                if page_two is None:
                    await click_if_present(member, more.response, "Suivant")
            await photograph(env, channel, member, out / f"{prefix}more-sources.png", DESKTOP)

            channel = guild.create_text_channel("francais")
            with interaction_locale("fr"):
                await member.slash(channel, "ask", question="Qui a organisé l'appel ?")
            await photograph(env, channel, member, out / f"{prefix}french.png", DESKTOP)

            channel = guild.create_text_channel("off-topic")
            await member.slash(channel, "ask", question="What's a good recipe for pizza dough?")
            await member.send(channel, f"{env.bot.user.mention} can you recommend a good laptop for gaming?")
            await photograph(env, channel, member, out / f"{prefix}decline.png", DESKTOP)

            ask_here = guild.create_text_channel("ask-the-letter")
            env.bot.config = dataclasses.replace(
                env.bot.config, discord=dataclasses.replace(env.bot.config.discord, answer_channels=(ask_here.id,)))
            await member.send(ask_here, "Who signed the letter?")
            thread = ask_here.threads[0]
            await member.send(thread, "did Yoshua Bengio sign it?")
            await photograph(env, thread, member, out / f"{prefix}thread.png", DESKTOP)
        finally:
            await env.shutdown()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--prefix", default="", help="file name prefix, e.g. before-")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} not found; install Debian's Chromium: apt-get install -y chromium", file=sys.stderr)
        return 1
    asyncio.run(run(args.out, args.prefix))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
