"""The CLI contract that evaluation tools rely on, run in-process with the fake encoder."""

from __future__ import annotations

import io
import json

import pytest

from bot import cli
from bot.index import encoder as encoder_module
from bot.index import encoders
from bot.serving import resources

from .conftest import FakeEncoder


@pytest.fixture
def use_fake_encoder(monkeypatch):
    fake = FakeEncoder()
    monkeypatch.setattr(encoders, "load_encoder", lambda config, **options: fake)
    monkeypatch.setattr(resources, "load_encoder", lambda config, **options: fake)
    monkeypatch.setattr(encoder_module, "model_folder", lambda package: None)
    monkeypatch.setattr(encoder_module, "weights_fingerprint", lambda folder: fake.fingerprint)
    return fake


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_status_ask_round_trip(project, use_fake_encoder, capsys):
    config = str(project / "config.yaml")
    code, out, _ = run(capsys, "index", "status", "--config", config)
    assert code == 1 and out.startswith("missing")
    code, out, _ = run(capsys, "index", "build", "--config", config)
    assert code == 0 and "built gen-" in out and "10 passages" in out
    code, out, _ = run(capsys, "index", "status", "--config", config)
    assert code == 0 and out.startswith("fresh")
    code, out, _ = run(capsys, "index", "build", "--if-needed", "--config", config)
    assert code == 0 and "nothing to build" in out
    faq = project / "corpus" / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three", "3"), encoding="utf-8")
    code, out, err = run(capsys, "index", "status", "--config", config)
    assert code == 1 and out.startswith("stale") and "index build" in err


def test_ask_json_object(project, use_fake_encoder, capsys):
    config = str(project / "config.yaml")
    run(capsys, "index", "build", "--config", config)
    code, out, _ = run(capsys, "ask", "--json", "Who organised the call?", "--config", config)
    payload = json.loads(out)
    assert code == 0 and payload["question"] == "Who organised the call?" and payload["answered"] is True
    excerpt = payload["excerpts"][0]
    assert excerpt["source"] == {"doc_id": "faq:who-organised", "title": "FAQ: Who organised the call?",
                                 "locator": "FAQ who-organised", "url": "https://example.org/launch"}
    assert isinstance(excerpt["score"], float) and isinstance(payload["latency_ms"], float)


def test_ask_jsonl_answers_every_line_in_order_with_one_model_load(project, use_fake_encoder, capsys, monkeypatch):
    config = str(project / "config.yaml")
    run(capsys, "index", "build", "--config", config)
    loads = []
    monkeypatch.setattr(resources, "load_encoder", lambda c, **options: loads.append(1) or use_fake_encoder)
    questions = ["Who organised the call?", "When is the deadline?", "pizza recipe", "?"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(questions) + "\n"))
    code, out, _ = run(capsys, "ask", "--jsonl", "--config", config)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(loads) == 1
    assert [line["question"] for line in lines] == questions
    assert lines[0]["answered"] and not lines[2]["answered"]
    assert lines[3]["answered"] is False and "error" in lines[3]


def test_ask_readable_output_has_citations(project, use_fake_encoder, capsys):
    config = str(project / "config.yaml")
    run(capsys, "index", "build", "--config", config)
    code, out, _ = run(capsys, "ask", "When is the deadline?", "--config", config)
    assert code == 0 and "Test Letter, ¶3 <https://example.org/letter>" in out
    assert "> Governments must agree on red lines by the end of 2026." in out


def test_ask_retriever_option_is_accepted(project, use_fake_encoder, capsys):
    config = str(project / "config.yaml")
    run(capsys, "index", "build", "--config", config)
    for name in ("dense", "bm25", "hybrid"):
        code, out, _ = run(capsys, "ask", "--json", "--retriever", name, "Who organised the call?", "--config", config)
        assert code == 0 and json.loads(out)["excerpts"][0]["source"]["doc_id"] == "faq:who-organised"


def test_user_errors_are_clean_messages_not_tracebacks(project, use_fake_encoder, capsys):
    config = str(project / "config.yaml")
    code, _, err = run(capsys, "ask", "anything", "--config", config)
    assert code == 1 and err.startswith("error: the index is missing") and "Traceback" not in err
    run(capsys, "index", "build", "--config", config)
    code, _, err = run(capsys, "ask", "  ", "--config", config)
    assert code == 1 and "empty" in err
    code, _, err = run(capsys, "ask", "--config", str(project / "absent.yaml"), "x")
    assert code == 1 and "config file not found" in err


def test_corpus_check_reports_file_and_line(project, capsys):
    config = str(project / "config.yaml")
    code, out, _ = run(capsys, "corpus", "check", "--config", config)
    assert code == 0 and "2 FAQ entries" in out
    (project / "corpus" / "faq" / "bad.yaml").write_text("- id: x1\n  question: Q?\n", encoding="utf-8")
    code, _, err = run(capsys, "corpus", "check", "--config", config)
    assert code == 1 and "faq/bad.yaml:1: FAQ entry is missing 'answer'" in err


def test_rollback_command(project, use_fake_encoder, capsys):
    config = str(project / "config.yaml")
    code, _, err = run(capsys, "index", "rollback", "--config", config)
    assert code == 1 and "no previous generation" in err
    run(capsys, "index", "build", "--config", config)
    run(capsys, "index", "build", "--config", config)  # the same content again: no rollback target
    code, _, err = run(capsys, "index", "rollback", "--config", config)
    assert code == 1 and "no previous generation" in err
    faq = project / "corpus" / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    run(capsys, "index", "build", "--config", config)
    code, out, _ = run(capsys, "index", "rollback", "--config", config)
    assert code == 0 and "rolled back" in out


def test_console_answers_like_the_bot(project, use_fake_encoder, capsys, monkeypatch):
    config = str(project / "config.yaml")
    run(capsys, "index", "build", "--config", config)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("When is the deadline?\n\n"))
    code, out, err = run(capsys, "run", "--config", config)
    assert code == 0 and "local console" in err
    assert "Test Letter, ¶3 <https://example.org/letter>" in out


def test_every_command_has_help_and_is_in_the_readme():
    from .conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():
        assert sub.description, f"command {name} has no help"
        assert f"redlines-bot {name}" in readme, f"README does not mention `redlines-bot {name}`"


def test_a_command_pins_numpy_blas_to_the_configured_threads_before_numpy_loads(tmp_path):
    """Serving ran numpy's OpenBLAS with one thread per core (two here) unless the environment said otherwise:
    the tests and the bench set it, the bot did not."""
    import os
    import subprocess
    import sys

    from .conftest import write_config

    write_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    script = ("import sys\n"
              "from bot.cli import main\n"
              f"main(['index', 'status', '--config', {str(tmp_path / 'config.yaml')!r}])\n"
              "from threadpoolctl import threadpool_info\n"
              "import numpy\n"
              "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[1]", done.stdout + done.stderr
