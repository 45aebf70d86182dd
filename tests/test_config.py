"""Config: typed, frozen, every unknown key or bad value refused with file, key and reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import discord_token, load_config, setting_names
from bot.errors import ConfigError

from .conftest import REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repository_config_loads_with_expected_values():
    config = load_config(REPO / "config.yaml")
    assert config.model.id == "sentence-transformers/all-MiniLM-L6-v2"
    assert config.threads.torch == 1 and config.threads.faiss == 1
    assert config.corpus_dir == REPO / "corpus"
    assert config.index_dir == REPO / "index"


def test_settings_are_frozen(tmp_path):
    config = load_config(write(tmp_path, "retrieval:\n  top_k: 4\n"))
    assert config.retrieval.top_k == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.retrieval.top_k = 5  # type: ignore[misc]


def test_paths_resolve_relative_to_the_config_file(tmp_path):
    config = load_config(write(tmp_path, "paths:\n  corpus_dir: my-corpus\n"))
    assert config.corpus_dir == tmp_path.resolve() / "my-corpus"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("retreival:\n  top_k: 3\n", "unknown key 'retreival'"),
        ("retrieval:\n  topk: 3\n", "unknown key 'retrieval.topk'"),
        ("retrieval:\n  top_k: three\n", "'retrieval.top_k' must be a whole number"),
        ("retrieval:\n  top_k: 0\n", "bad value for 'retrieval.top_k'"),
        ("retrieval:\n  retriever: magic\n", "bad value for 'retrieval.retriever'"),
        ("retrieval:\n  decline_threshold: 2\n", "bad value for 'retrieval.decline_threshold'"),
        ("threads:\n  torch: 0\n", "bad value for 'threads.torch'"),
        ("model: fast\n", "'model' must be a mapping"),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("retrieval:\n  top_k: [1\n", "not valid YAML"),
        ("paths:\n  corpus_dir: 3\n", "'paths.corpus_dir' must be a folder path"),
    ],
)
def test_bad_config_names_file_key_and_reason(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_config_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_token_comes_from_the_environment_only(monkeypatch, tmp_path):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert discord_token() is None
    monkeypatch.setenv("DISCORD_TOKEN", "  abc.def  ")
    assert discord_token() == "abc.def"
    with pytest.raises(ConfigError, match="unknown key 'token'"):
        load_config(write(tmp_path, "token: abc\n"))


def test_every_setting_is_documented_in_the_repository_config():
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    for key in setting_names():
        assert f"{key}:" in text, f"config.yaml does not show the setting {key}"


def test_every_problem_is_reported_at_once_with_its_dotted_key(tmp_path):
    path = write(tmp_path, "retreival: {}\nretrieval:\n  top_k: 0\n  retriever: magic\ndiscord:\n"
                           "  moderator_roles: [123456789012345678, -5, \"77\"]\n  colour: red\nmodel: fast\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{path}: 7 problem(s) in the config file:"
    assert all(line.startswith(f"  {path}: ") for line in lines[1:])
    for expected in ("unknown key 'retreival'", "bad value for 'retrieval.top_k'", "bad value for 'retrieval.retriever'",
                     "bad value for 'discord.moderator_roles[1]': a Discord id is a positive whole number",
                     "'discord.moderator_roles[2]' must be a whole number, not '77'", "unknown key 'discord.colour'",
                     "'model' must be a mapping"):
        assert sum(expected in line for line in lines) == 1, expected
    assert "answer_channels" not in str(info.value).replace("known keys here: answer_channels", "")


def test_settings_keep_their_types_and_can_be_replaced(tmp_path):
    config = load_config(write(tmp_path, "discord:\n  moderator_roles: [5]\n  cooldown_seconds: 30\n"))
    assert config.discord.moderator_roles == (5,) and isinstance(config.discord.cooldown_seconds, float)
    changed = dataclasses.replace(config, discord=dataclasses.replace(config.discord, answer_channels=(7,)))
    assert changed.discord.answer_channels == (7,) and changed.corpus_dir == config.corpus_dir
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        dataclasses.replace(config.retrieval, top_k=0)  # a replaced setting is validated too


@pytest.mark.parametrize("text", ["source: /etc\n", "retrieval:\n  top_k: true\n", "discord:\n  answer_in_threads: 1\n",
                                  "threads:\n  torch: \"2\"\n"])
def test_values_of_the_wrong_kind_and_the_internal_source_key_are_refused(tmp_path, text):
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, text))


def test_an_alias_bomb_in_the_config_is_refused_before_it_is_expanded(tmp_path):
    bomb = "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9))
    path = write(tmp_path, bomb + "discord:\n  report_url: *a8\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "aliases (*name) are not allowed" in str(info.value) and len(str(info.value)) < 300
