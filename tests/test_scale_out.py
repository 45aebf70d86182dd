"""Two real bot processes, shards 0 and 1 of 2, against the loopback fake Discord and one PostgreSQL database.

The fake routes each guild to its shard as Discord does: the default guild is shard 1's (process B), the other
guild shard 0's (process A). Both processes share the corpus and index folders and the database."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
import pytest_asyncio

from bot.storage.database import Database
from bot.storage.heartbeats import read_heartbeats

from .bot_processes import BotProcesses
from .discord_support import fake_resources, make_project
from .fake_discord import BOT_ID, BOT_USER, CHANNEL_ID, OTHER_CHANNEL_ID, OWNER, FakeDiscord, user
from .hardening_report import record

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]

A_CHANNEL, B_CHANNEL = OTHER_CHANNEL_ID, CHANNEL_ID  # shard 0 -> process A, shard 1 -> process B
MEMBERS = itertools.count(910_000_000_000_001_000)  # a new member per question: the cooldown is per member


def new_faq(entry_id: str, question: str, answer: str) -> dict[str, str]:
    return {"question": question, "alternatives": f"{question.rstrip('?')}, please?", "answer": answer,
            "source_url": f"https://example.org/{entry_id}", "source_title": f"About {entry_id}"}


@pytest_asyncio.fixture
async def two_processes(request, tmp_path):
    """Processes A and B; on PostgreSQL unless a test asks for "sqlite" (one host, one file, polled)."""
    engine = getattr(request, "param", "postgresql")
    database = f"  url: {request.getfixturevalue('postgres_url')}\n" if engine == "postgresql" else ""
    fake = FakeDiscord(heartbeat_interval_ms=200)
    fake.add_guild()
    await fake.start()
    config = make_project(tmp_path, discord_extra=(
        "  shard_count: 2\n"
        f"database:\n{database}  poll_seconds: 2\n"
        "health:\n  heartbeat_seconds: 0.2\n  stale_seconds: 5\n"))
    fake_resources(config)  # the index both processes load, built with the fake encoder they use
    processes = BotProcesses(fake, config.source, tmp_path)
    a = await processes.start("--shards", "0")
    b = await processes.start("--shards", "1")

    def ready():
        beats = {beat.pid: beat for beat in read_heartbeats(config.heartbeat_dir)[0]}
        return all(p.pid in beats and beats[p.pid].ready for p in (a, b))

    try:
        await fake.wait_for(ready, timeout=60)
    except TimeoutError:
        await processes.stop_all()
        await fake.stop()
        pytest.fail(processes.output())
    yield fake, config, processes, a, b
    await processes.stop_all()
    await fake.stop()


async def ask(fake: FakeDiscord, channel_id: int, question: str, timeout: float = 10.0) -> dict:
    """A member's mention in ``channel_id``; the bot's reply (its request body)."""
    message = await fake.member_message(f"<@{BOT_ID}> {question}", channel_id=channel_id, mentions=[BOT_USER],
                                        author=user(next(MEMBERS), "member"))

    def reply():
        return next((r.body for r in fake.posts(f"/channels/{channel_id}/messages")
                     if str((r.body or {}).get("message_reference", {}).get("message_id")) == message["id"]), None)

    return await fake.wait_for(reply, timeout=timeout)


def text_of(body: dict) -> str:
    """What a member reads in a reply: its text (a decline) and its embeds (an answer's excerpts)."""
    embeds = "\n".join(f"{e.get('title', '')}\n{e.get('description', '')}" for e in body.get("embeds") or [])
    return f"{body.get('content') or ''}\n{embeds}"


def button(body: dict, prefix: str, helpful: bool | None = None) -> str:
    """The custom id of a button under a reply (``rl:fb:<answer>:<1|0>...``, ``rl:more:...``)."""
    ids = [c.get("custom_id", "") for row in body.get("components") or [] for c in row["components"]]
    return next(i for i in ids if i.startswith(prefix) and (helpful is None or i.split(":")[3][0] == str(int(helpful))))


async def faq_add(fake: FakeDiscord, channel_id: int, entry_id: str, values: dict[str, str]) -> dict:
    """A moderator's /faq add in ``channel_id``, form filled and sent; the interaction of the form."""
    command = await fake.slash_command("faq", subcommand="add", in_channel=channel_id, as_user=OWNER, entry_id=entry_id)
    callback = f"/interactions/{command['id']}/{command['token']}/callback"
    shown = (await fake.wait_for(lambda: [r for r in fake.posts(callback) if r.body.get("type") == 9]))[0].body
    return await fake.submit_modal(shown, values, in_channel=channel_id, as_user=OWNER)


async def acknowledgement(fake: FakeDiscord, interaction: dict, timeout: float = 30.0) -> str:
    """The private text the bot sent in answer to ``interaction`` (after deferring it)."""
    def sent():
        return next((r for r in fake.requests if r.method == "POST" and r.path.startswith("/webhooks/")
                     and interaction["token"] in r.path), None)

    return (await fake.wait_for(sent, timeout=timeout)).body["content"]


@pytest.mark.parametrize("two_processes", ["postgresql", "sqlite"], indirect=True)
async def test_a_moderators_change_on_one_process_answers_on_the_other_within_5_s(two_processes):
    fake, config, processes, a, b = two_processes
    question = "How tall is the lighthouse at the harbour?"
    before = await ask(fake, B_CHANNEL, question)
    assert "forty metres" not in text_of(before) and "won't guess" in text_of(before)

    submitted = time.perf_counter()
    form = await faq_add(fake, A_CHANNEL, "lighthouse", new_faq("lighthouse", question, "The lighthouse is forty metres tall."))
    ack = await acknowledgement(fake, form)
    acknowledged = time.perf_counter()
    assert "Added" in ack and "`lighthouse`" in ack, ack

    # Ask process B until it answers from the new entry (a new member each time: the cooldown is per member).
    deadline = acknowledged + 5.0
    answered = None
    while answered is None and time.perf_counter() < deadline:
        reply = await ask(fake, B_CHANNEL, question)
        if "forty metres" in text_of(reply):
            answered = time.perf_counter()
        else:
            await asyncio.sleep(0.05)
    assert answered is not None, f"process B did not answer from the new entry within 5 s\n{processes.output()}"
    engine = "PostgreSQL" if config.database_url else "SQLite"
    print(f"\n{engine}: /faq add on process A: acknowledged {acknowledged - submitted:.2f} s after the form was sent; "
          f"process B answered from it {answered - acknowledged:.2f} s after the acknowledgement "
          f"({answered - submitted:.2f} s after the form)")
    adopted = [line for line in processes.log_files[1].read_text().splitlines() if "live here" in line]
    print("process B:", adopted[-1].split(": ", 1)[-1] if adopted else "(no log line)")
    with_a = await ask(fake, A_CHANNEL, question)
    assert "forty metres" in text_of(with_a)


async def test_feedback_from_both_processes_lands_in_one_table_and_buttons_work_on_any_shard(two_processes):
    fake, config, processes, a, b = two_processes
    on_a = await ask(fake, A_CHANNEL, "Who organised the call?")
    on_b = await ask(fake, B_CHANNEL, "When is the deadline?")
    answer_of = {name: int(button(body, "rl:fb:").split(":")[2]) for name, body in (("a", on_a), ("b", on_b))}
    assert answer_of["a"] != answer_of["b"]

    async def press(custom_id: str, channel: int, body: dict) -> None:
        pressed = await fake.press_button(custom_id, fake.message(channel, body))
        await fake.wait_for(lambda: fake.posts(f"/interactions/{pressed['id']}/{pressed['token']}/callback"))

    # Each process records a Helpful under its own answer...
    await press(button(on_a, "rl:fb:", helpful=True), A_CHANNEL, on_a)
    await press(button(on_b, "rl:fb:", helpful=True), B_CHANNEL, on_b)
    database = Database(config.database_target)

    def verdicts(expected: set[tuple[int, int]]):
        rows = set(database.execute("SELECT DISTINCT answer_id, helpful FROM feedback"))
        return rows if rows == expected else None

    try:
        assert await fake.wait_for(lambda: verdicts({(answer_of["a"], 1), (answer_of["b"], 1)}))
        # The member changes their mind under process B's answer, pressing where process A serves: A finds that
        # answer in the shared database and records the new verdict in place of the old one.
        await press(button(on_b, "rl:fb:", helpful=False), A_CHANNEL, on_b)
        assert await fake.wait_for(lambda: verdicts({(answer_of["a"], 1), (answer_of["b"], 0)}))
    finally:
        database.close()


async def test_writers_on_both_processes_take_turns_and_a_killed_process_leaves_the_other_answering(two_processes):
    fake, config, processes, a, b = two_processes
    # Two moderators add to the same file at the same moment, one on each process: the writers' lock makes them
    # take turns, so neither addition is lost.
    forms = await asyncio.gather(
        faq_add(fake, A_CHANNEL, "lighthouse", new_faq("lighthouse", "How tall is the lighthouse?", "Forty metres, built in 1911.")),
        faq_add(fake, B_CHANNEL, "ferry", new_faq("ferry", "When does the ferry leave?", "The ferry leaves at noon every day.")))
    acks = [await acknowledgement(fake, form) for form in forms]
    assert "Added" in acks[0] and "`lighthouse`" in acks[0] and "Added" in acks[1] and "`ferry`" in acks[1], acks
    moderators_file = (config.corpus_dir / "faq" / "90-moderators.yaml").read_text()
    assert "id: lighthouse" in moderators_file and "id: ferry" in moderators_file
    database = Database(config.database_target)
    try:
        audited = database.execute("SELECT entry_id FROM audit WHERE state = 'done' ORDER BY id")
    finally:
        database.close()
    assert sorted(row[0] for row in audited) == ["ferry", "lighthouse"]
    for channel in (A_CHANNEL, B_CHANNEL):  # each process answers both, whichever made it
        reply = await ask(fake, channel, "When does the ferry leave?")
        for _ in range(40):
            if "noon" in text_of(reply):
                break
            await asyncio.sleep(0.1)
            reply = await ask(fake, channel, "When does the ferry leave?")
        assert "noon" in text_of(reply)
        assert "1911" in text_of(await ask(fake, channel, "How tall is the lighthouse?"))

    processes.kill(a)
    await a.wait()
    after = await ask(fake, B_CHANNEL, "Who organised the call?")
    assert "CeSIA" in text_of(after)
    code, status = await processes.cli("status")
    assert code == 1 and f"-{a.pid}: DOWN" in status and f"-{b.pid}: UP" in status, status
    record("fault", "SIGKILL of one of two bot processes (shards 0 and 1 of 2, one PostgreSQL)",
           "the other keeps answering its shard; `status` reports the killed one DOWN and exits 1")
    record("fault", "two moderators adding FAQ entries at once on two processes",
           "they take turns (the writers' lock): both entries written, audited and answered by both processes")
