"""Health and metrics: heartbeats, `redlines-bot status` against real bot processes (one up, one killed),
Prometheus metrics scraped over HTTP, JSON logs."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request

import pytest
import pytest_asyncio

from bot.config import LoggingSettings, load_config
from bot.log_setup import configure_logging
from bot.serving.health import DOWN, STALE, STARTING, UP, Activity, format_status, judge, status_report
from bot.serving.limits import ConcurrencyCap, Cooldown
from bot.serving.metrics import PrometheusMetrics
from bot.serving.service import AnswerService
from bot.storage.answers import Store
from bot.storage.heartbeats import Heartbeat, read_heartbeats, write_heartbeat

from .bot_processes import BotProcesses
from .discord_support import fake_resources, make_project
from .fake_discord import BOT_ID, BOT_USER, CHANNEL_ID, OTHER_CHANNEL_ID, FakeDiscord


def beat(**changes) -> Heartbeat:
    values = {"host": "here", "pid": 4242, "started_at": 1000.0, "updated_at": 2000.0, "ready": True,
              "shard_ids": (0,), "shard_count": 2, "latency_ms": {0: 41.5}, "index_generation": "gen-1",
              "last_answer_at": 1990.0, "answers_last_hour": 3, "declines_last_hour": 1, "version": "0.1.0"}
    values.update(changes)
    return Heartbeat(**values)


# ---- units -----------------------------------------------------------------------------------------------


def test_activity_counts_answers_and_declines_of_the_last_hour():
    now = [0.0]
    activity = Activity(clock=lambda: now[0])
    activity.record(True)
    now[0] = 1800.0
    activity.record(True)
    activity.record(False)
    assert activity.last_hour() == (2, 1) and activity.last_answer_at == 1800.0
    now[0] = 3601.0  # the first answer is now more than an hour old
    assert activity.last_hour() == (1, 1)


def test_heartbeat_files_round_trip_and_unreadable_ones_are_reported(tmp_path):
    write_heartbeat(tmp_path, beat(latency_ms={0: 41.5, 1: None}))
    (tmp_path / "broken-1.json").write_text("{not json")
    beats, unreadable = read_heartbeats(tmp_path)
    assert beats == [beat(latency_ms={0: 41.5, 1: None})]
    assert [u.path.name for u in unreadable] == ["broken-1.json"]


def test_judge_tells_up_starting_stale_and_down():
    alive = {4242: True}.get
    def check(b, now=2005.0):
        return judge(b, now=now, stale_seconds=60, host="here", alive=lambda pid: bool(alive(pid)))
    assert check(beat()).state == UP
    assert check(beat(ready=False)).state == STARTING
    assert check(beat(), now=2061.0).state == STALE
    assert check(beat(pid=999)).state == DOWN and "not running" in check(beat(pid=999)).reason
    # A process on another host can't be checked for life: only its heartbeat's age counts.
    assert check(beat(pid=999, host="elsewhere")).state == UP


def test_status_report_fails_without_processes_and_for_unserved_shards(tmp_path):
    assert not status_report(tmp_path, stale_seconds=60).ok
    write_heartbeat(tmp_path, beat(updated_at=10_000.0))
    report = status_report(tmp_path, stale_seconds=60, now=10_001.0, alive=lambda pid: True)
    assert not report.ok and report.problems == ["shard(s) 1 of 2 served by no running process"]
    write_heartbeat(tmp_path, beat(pid=4243, shard_ids=(1,), updated_at=10_000.0))
    report = status_report(tmp_path, stale_seconds=60, now=10_001.0, alive=lambda pid: True)
    assert report.ok
    text = format_status(report, now=10_001.0)
    assert "here-4242: UP" in text and "shards 0 of 2" in text and "0: 42 ms" in text
    assert "index gen-1" in text and "last hour: 3 answered, 1 declined" in text and text.endswith("ok")


# ---- metrics -------------------------------------------------------------------------------------------


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@pytest.mark.asyncio
async def test_prometheus_metrics_count_answers_declines_feedback_and_show_the_index(config):
    resources = fake_resources(config)
    metrics = PrometheusMetrics("127.0.0.1", 0)
    store = Store(config.data_dir / "metrics.sqlite3")
    try:
        service = AnswerService(resources.answerer, store, Cooldown(10, 1), ConcurrencyCap(2, 5), metrics=metrics)
        metrics.watch_index(lambda: (resources.live.current.generation, len(resources.live.current.passages)))
        metrics.watch_gateway(lambda: [(0, 0.042), (1, None)])
        asked = await service.ask("Who organised the call?", user_id=1, via="slash")
        await service.ask("Quel temps fera-t-il demain à Lyon ?", user_id=1, via="slash")
        assert asked.answer.answered
        assert await service.feedback(asked.answer_id, 1, helpful=False)
        samples = await asyncio.to_thread(scrape, metrics.port)
    finally:
        store.close()
        metrics.close()
    assert samples[("redlines_answers_total", (("language", "en"), ("retriever", "dense")))] == 1
    assert samples[("redlines_declines_total", (("language", "fr"), ("reason", "not_covered"), ("retriever", "dense")))] == 1
    assert samples[("redlines_answer_seconds_count", (("language", "en"), ("retriever", "dense")))] == 1
    assert samples[("redlines_queue_wait_seconds_count", ())] == 2
    assert samples[("redlines_feedback_total", (("helpful", "no"), ("language", "en"), ("retriever", "dense")))] == 1
    generation = resources.live.current.generation
    assert samples[("redlines_index_info", (("generation", generation),))] == 1
    assert samples[("redlines_index_passages", ())] == len(resources.live.current.passages)
    assert samples[("redlines_gateway_latency_seconds", (("shard", "0"),))] == pytest.approx(0.042)
    assert ("redlines_gateway_latency_seconds", (("shard", "1"),)) not in samples


def test_processes_running_groups_of_shards_get_a_metrics_port_each(tmp_path):
    import dataclasses

    from bot.discord_app.runner import metrics_port

    path = tmp_path / "config.yaml"
    path.write_text("discord:\n  shard_count: 4\nmetrics:\n  port: 9100\n")
    config = load_config(path)
    assert metrics_port(config) == 9100
    group = dataclasses.replace(config, discord=dataclasses.replace(config.discord, shard_ids=(2, 3)))
    assert metrics_port(group) == 9102


# ---- JSON logs -------------------------------------------------------------------------------------------


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_logs_are_one_object_per_line(capsys, restore_logging):
    configure_logging(LoggingSettings(json=True, level="info"))
    logging.getLogger("bot.test").info("answered %d questions", 3)
    logging.getLogger("bot.test").debug("not shown at info")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    record = json.loads(lines[-1])
    assert record["message"] == "answered 3 questions" and record["level"] == "INFO"
    assert record["logger"] == "bot.test" and record["time"].endswith("+00:00") and record["pid"] > 0
    assert len(lines) == 1


def test_config_rejects_a_bad_log_level_and_a_password_in_the_database_url(tmp_path):
    from bot.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text("logging:\n  level: chatty\n")
    with pytest.raises(ConfigError, match="logging.level"):
        load_config(path)
    path.write_text("database:\n  url: postgresql://bot:hunter2@db/redlines\n")
    with pytest.raises(ConfigError, match="PGPASSWORD"):
        load_config(path)


# ---- real processes --------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def two_shard_project(tmp_path):
    fake = FakeDiscord(heartbeat_interval_ms=200)  # gateway latency is measured within a fraction of a second
    fake.add_guild()
    await fake.start()
    config = make_project(tmp_path, discord_extra="  shard_count: 2\n"
                                                  "health:\n  heartbeat_seconds: 0.2\n  stale_seconds: 5\n"
                                                  "metrics:\n  port: 0\n")  # any free port; the heartbeat says which
    fake_resources(config)  # build the index with the fake encoder, as the processes will load it
    processes = BotProcesses(fake, config.source, tmp_path)
    yield fake, config, processes
    await processes.stop_all()
    await fake.stop()


def beats_by_pid(config) -> dict[int, Heartbeat]:
    return {b.pid: b for b in read_heartbeats(config.heartbeat_dir)[0]}


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_status_reports_each_process_and_fails_when_one_is_killed(two_shard_project):
    fake, config, processes = two_shard_project
    first = await processes.start("--shards", "0")
    second = await processes.start("--shards", "1")

    def both_connected():
        beats = beats_by_pid(config)
        return all(p.pid in beats and beats[p.pid].ready and all(ms is not None for ms in beats[p.pid].latency_ms.values())
                   for p in (first, second))

    try:
        await fake.wait_for(both_connected, timeout=60)
        # The default guild is on shard 1 (the second process), the other guild on shard 0 (the first).
        await fake.member_message(f"<@{BOT_ID}> Who organised the call?", mentions=[BOT_USER])
        await fake.member_message(f"<@{BOT_ID}> Quel temps fera-t-il demain ?", mentions=[BOT_USER],
                                  channel_id=OTHER_CHANNEL_ID)
        await fake.wait_for(lambda: fake.posts(f"/channels/{CHANNEL_ID}/messages")
                            and fake.posts(f"/channels/{OTHER_CHANNEL_ID}/messages"), timeout=30)
        await fake.wait_for(lambda: beats_by_pid(config)[second.pid].answers_last_hour == 1
                            and beats_by_pid(config)[first.pid].declines_last_hour == 1, timeout=10)
    except TimeoutError:
        pytest.fail(processes.output())
    code, output = await processes.cli("status")
    assert code == 0, output
    host = beats_by_pid(config)[first.pid].host
    assert f"{host}-{first.pid}: UP" in output and f"{host}-{second.pid}: UP" in output
    assert "shards 0 of 2" in output and "shards 1 of 2" in output and " ms" in output
    assert "last hour: 1 answered, 0 declined" in output and "last hour: 0 answered, 1 declined" in output
    generation = beats_by_pid(config)[first.pid].index_generation
    assert generation and f"index {generation}" in output and "last answer" in output
    # Each process serves its own Prometheus metrics, on the port its heartbeat gives.
    second_metrics = await asyncio.to_thread(scrape, beats_by_pid(config)[second.pid].metrics_port)
    assert second_metrics[("redlines_answers_total", (("language", "en"), ("retriever", "dense")))] == 1
    assert second_metrics[("redlines_gateway_latency_seconds", (("shard", "1"),))] > 0
    assert second_metrics[("redlines_index_info", (("generation", generation),))] == 1
    first_metrics = await asyncio.to_thread(scrape, beats_by_pid(config)[first.pid].metrics_port)
    assert sum(v for (name, _), v in first_metrics.items() if name == "redlines_declines_total") == 1

    processes.kill(second)
    await second.wait()
    code, output = await processes.cli("status")
    assert code == 1, output
    assert f"{host}-{second.pid}: DOWN" in output and f"{host}-{first.pid}: UP" in output
    assert "shard(s) 1 of 2 served by no running process" in output and output.rstrip().endswith("NOT OK")
    code, report = await processes.cli("status", "--json")
    states = {p["pid"]: p["state"] for p in json.loads(report)["processes"]}
    assert code == 1 and states == {first.pid: UP, second.pid: DOWN}

    first.terminate()  # stopped cleanly: its heartbeat goes with it
    await first.wait()
    assert first.pid not in beats_by_pid(config)
