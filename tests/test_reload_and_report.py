"""Maintainers' reload (SIGHUP, `redlines-bot reload`) and the unanswered-questions report."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys
import time

import discord
import pytest
import yarl

from bot import cli
from bot.discord_app.runner import _serve, pid_file
from bot.index import encoders as encoder_module
from bot.storage.answers import Store
from bot.storage.locks import running_bot

from .conftest import FakeEncoder
from .discord_support import TEST_BOT_OPTIONS, fake_resources, make_project
from .fake_discord import BOT_ID, BOT_USER, CHANNEL_ID, FakeDiscord
from .hardening_report import record


@pytest.mark.asyncio
@pytest.mark.e2e
async def test_sighup_makes_the_running_bot_pick_up_hand_edited_files(tmp_path, monkeypatch):
    config = make_project(tmp_path)
    resources = fake_resources(config)
    fake = FakeDiscord()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    task = asyncio.create_task(_serve(config, "fake-token-not-a-secret", lambda: resources, **TEST_BOT_OPTIONS))
    try:
        await fake.wait_for(lambda: fake.identifies == 1 and pid_file(config).exists())
        assert pid_file(config).read_text().strip() == str(os.getpid())
        faq = config.corpus_dir / "faq" / "faq.yaml"
        faq.write_text(faq.read_text().replace("Three nonprofits organised it", "Three groups ran it"))
        generation = resources.live.current.generation
        os.kill(os.getpid(), signal.SIGHUP)
        await fake.wait_for(lambda: resources.live.current.generation != generation)
        await fake.member_message(f"<@{BOT_ID}> Who organised the call?", mentions=[BOT_USER])
        post = await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages"))
        assert "Three groups ran it" in post[0].body["embeds"][0]["description"]
    finally:
        os.kill(os.getpid(), signal.SIGTERM)  # the bot's own handler closes it
        await asyncio.wait_for(task, timeout=20)
        await fake.stop()
    assert pid_file(config).read_text() == "" and running_bot(config.data_dir) is None


def test_reload_command_signals_the_running_bot(project, capsys):
    config_path = project / "config.yaml"
    marker = project / "hup-received"
    child = subprocess.Popen([sys.executable, "-c", (
        "import signal, sys, time, pathlib\n"
        "from bot.storage.locks import BotLock\n"
        f"lock = BotLock(pathlib.Path({str(project / 'data')!r})).acquire()  # what `run` holds for its life\n"
        f"signal.signal(signal.SIGHUP, lambda *a: pathlib.Path({str(marker)!r}).write_text('yes'))\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert cli.main(["reload", "--config", str(config_path)]) == 0
        deadline = time.time() + 10
        while not marker.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert marker.read_text() == "yes"
        assert f"pid {child.pid}" in capsys.readouterr().out
    finally:
        child.kill()
        child.wait()


def test_reload_never_signals_a_process_named_by_a_stale_pid_file(project, capsys):
    """M1: a bot killed with SIGKILL leaves its pid behind; the pid may now belong to anything."""
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        (project / "data").mkdir(exist_ok=True)
        (project / "data" / "bot.pid").write_text(f"{bystander.pid}\n")
        assert cli.main(["reload", "--config", str(project / "config.yaml")]) == 1
        assert "no running bot found" in capsys.readouterr().err
        time.sleep(0.2)
        assert bystander.poll() is None  # not signalled
    finally:
        bystander.kill()
        bystander.wait()
    record("reliability", "M1: `redlines-bot reload` with data/bot.pid naming an unrelated live process",
           "refused (“no running bot found”); the process is not signalled: the pid comes from the kernel's lock table")


def test_reload_command_refuses_a_broken_corpus_and_a_missing_bot(project, capsys):
    config_path = str(project / "config.yaml")
    assert cli.main(["reload", "--config", config_path]) == 1
    assert "no running bot found" in capsys.readouterr().err
    (project / "corpus" / "faq" / "bad.yaml").write_text("- id: x1\n  question: [oops\n")
    assert cli.main(["reload", "--config", config_path]) == 1
    assert "faq/bad.yaml:3" in capsys.readouterr().err


def test_report_lists_and_exports_grouped_gaps(project, config, capsys, monkeypatch):
    encoder = FakeEncoder()
    monkeypatch.setattr(encoder_module, "load_encoder", lambda c: encoder)
    resources = fake_resources(config)
    store = Store(config.data_dir / "bot.sqlite3")
    for question in ("pizza recipe with cheese", "pizza recipe with cheese?", "weather in tokyo"):
        store.record_answer(resources.answerer.answer(question), "slash", user_id=1)
    helped = store.record_answer(resources.answerer.answer("Who organised the call?"), "slash", user_id=1)
    store.record_feedback(helped, user_id=2, helpful=False)
    config_path = str(project / "config.yaml")
    assert cli.main(["report", "--config", config_path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("4 unanswered or unhelpful question(s) in 3 group(s)")
    assert "    2         2            0" in out and "pizza recipe with cheese" in out
    assert cli.main(["report", "--csv", "--config", config_path]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["question"] == "pizza recipe with cheese" and rows[0]["count"] == "2"
    assert {r["question"] for r in rows} >= {"weather in tokyo", "Who organised the call?"}


def test_unreachable_discord_is_a_clean_error(tmp_path, monkeypatch):
    import socket

    from bot.discord_app.runner import run_discord
    from bot.errors import UserFacingError

    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    config = make_project(tmp_path)
    monkeypatch.setattr("bot.discord_app.runner.build_resources", lambda c: fake_resources(config))
    with pytest.raises(UserFacingError, match="cannot reach Discord") as info:
        run_discord(config, "fake-token-not-a-secret")
    assert "fake-token" not in str(info.value)
