"""Per-server settings over config.yaml's defaults, and the fuzzy entry finder behind autocomplete."""

from __future__ import annotations

import sqlite3

from bot.config import DiscordSettings
from bot.corpus.finder import EntryName, did_you_mean, search
from bot.storage.guild_settings import GuildSettings, SettingsStore, StoredSettings

DEFAULTS = DiscordSettings(answer_channels=(11,), moderator_roles=(22,), moderators_channel=33, language="en")


def test_a_server_overrides_only_what_it_set_and_explicit_none_is_kept(tmp_path):
    store = SettingsStore(tmp_path / "bot.sqlite3")
    stored = StoredSettings().with_value("answer_channels", [5, 6]).with_value("moderators_channel", None)
    store.save(1, stored)
    loaded = store.all()
    assert loaded == {1: stored}
    settings = GuildSettings.resolve(DEFAULTS, loaded[1])
    assert settings.answer_channels == (5, 6) and settings.moderators_channel is None  # "none", not the default 33
    assert settings.moderator_roles == (22,) and settings.language == "en"
    assert settings.from_setup == {"answer_channels", "moderators_channel"}
    assert GuildSettings.resolve(DEFAULTS, None).answer_channels == (11,)
    assert store.any_answer_channels()
    store.save(1, StoredSettings())  # nothing left to override: the row goes
    assert store.all() == {} and not store.any_answer_channels()


def test_unknown_or_mistyped_stored_keys_are_ignored(tmp_path):
    store = SettingsStore(tmp_path / "bot.sqlite3")
    store.close()
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        db.execute("INSERT INTO guild_settings VALUES (7, ?, 0)",
                   ('{"answer_channels": [1], "language": 5, "moderator_roles": "x", "colour": "red"}',))
    assert SettingsStore(tmp_path / "bot.sqlite3").all()[7].values == {"answer_channels": (1,)}


NAMES = [EntryName("who-organised", "Who organised the call?"), EntryName("who-signed", "Who signed the letter?"),
         EntryName("deadline", "What is the deadline?"), EntryName("quand-lancement", "Quand l'appel a-t-il été lancé ?")]


def test_search_and_did_you_mean():
    assert [n.id for n in search(NAMES, "dedline")] == ["deadline"]
    assert search(NAMES, "signed")[0].id == "who-signed"
    assert search(NAMES, "") == NAMES  # nothing typed: all, in order
    assert search(NAMES, "pizza margherita") == []
    assert [n.id for n in did_you_mean(NAMES, "wo-sined")] == ["who-signed"]
    assert did_you_mean(NAMES, "zzzz") == [] and did_you_mean(NAMES, " ") == []
    assert len(search(NAMES * 10, "who", limit=25)) == 25
