"""Moderators' changes reach git: committed with the moderator as author; `corpus sync` merges the maintainers'
branch, shows a conflict instead of resolving it, and refuses a merge whose corpus does not validate."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import pytest_asyncio

from bot import cli
from bot.config import load_config
from bot.corpus.editing import draft_from_modal
from bot.corpus.git_record import Author, commit_change, find_commit, work_tree
from bot.corpus.live_update import LiveUpdater
from bot.serving.moderation import Moderation
from bot.storage.audit import AuditLog

from .conftest import FAQ, write_config, write_corpus
from .discord_support import fake_resources, make_bot, make_project, synced_guild

MAINTAINER = {"GIT_AUTHOR_NAME": "Maintainer", "GIT_AUTHOR_EMAIL": "m@example.org",
              "GIT_COMMITTER_NAME": "Maintainer", "GIT_COMMITTER_EMAIL": "m@example.org"}


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True,
                          env={**os.environ, **MAINTAINER, "GIT_CONFIG_GLOBAL": os.devnull})
    return done.stdout.strip()


def init_repository(root: Path) -> None:
    """A project folder as maintainers keep it: corpus and config committed, data and index ignored."""
    (root / ".gitignore").write_text("data/\nindex/\n")
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "Corpus as the maintainers wrote it")


def draft(question: str, answer: str, entry_id: str | None = None):
    return draft_from_modal(question, f"{question} (other words)", answer, "https://example.org/s", "Source", "en", entry_id)


@pytest.fixture
def repository(tmp_path):
    config = make_project(tmp_path)
    init_repository(tmp_path)
    return config


def moderation_for(config) -> Moderation:
    resources = fake_resources(config)
    audit = AuditLog(config.database_path)
    updater = LiveUpdater(config, resources.encoder, resources.live, audit)
    return Moderation(config, updater, resources.answerer, audit)


def test_each_change_is_one_commit_by_the_moderator_with_only_its_file(repository):
    config = repository
    root = config.source.parent
    letter = config.corpus_dir / "documents" / "letter.en.md"
    letter.write_text(letter.read_text() + "\nA maintainer's edit, not committed yet.\n")  # must stay out of commits
    moderation = moderation_for(config)
    alice = Author("Alice Moderator", 4242)
    added = moderation.add(draft("How tall is the lighthouse?", "Forty metres."), alice, "alice")
    assert added.commit is not None and added.git_problem is None
    log = git(root, "log", "-1", "--format=%an <%ae>|%cn|%s|%b")
    author, committer, subject, body = log.split("|", 3)
    assert author == "Alice Moderator (Discord 4242) <4242@discord.users.noreply.invalid>"
    assert committer == "redlines-bot" and subject == "FAQ: add how-tall-is-the-lighthouse"
    assert "Question: How tall is the lighthouse?" in body and f"Audit-Id: {added.record.id}" in body
    assert git(root, "show", "--name-only", "--format=", "HEAD") == "corpus/faq/90-moderators.yaml"
    assert "letter.en.md" in git(root, "status", "--porcelain")  # the other edit is untouched, uncommitted

    bob = Author("Bob", 77)
    moderation.edit("who-organised", draft("Who organised the call?", "CeSIA, TFS and CHAI.", "who-organised"), bob, "bob")
    moderation.remove("quand-lancement", bob, "bob")
    undone = moderation.undo(bob, "bob")
    subjects = git(root, "log", "--format=%s|%an").splitlines()
    assert subjects[:4] == ["FAQ: undo remove of quand-lancement|Bob (Discord 77)",
                            "FAQ: remove quand-lancement|Bob (Discord 77)",
                            "FAQ: edit who-organised|Bob (Discord 77)",
                            "FAQ: add how-tall-is-the-lighthouse|Alice Moderator (Discord 4242)"]
    assert git(root, "show", "HEAD:corpus/faq/faq.yaml") == (config.corpus_dir / "faq" / "faq.yaml").read_text().rstrip("\n")
    assert find_commit(config.corpus_dir, undone.record.id).sha == undone.commit.sha


def test_a_name_cannot_forge_the_author_line(repository):
    config = repository
    moderation = moderation_for(config)
    change = moderation.add(draft("How tall is the lighthouse?", "Forty metres."),
                            Author("Eve <admin@example.org>\nCommitter: x", 5), "eve")
    assert change.commit is not None
    assert git(config.source.parent, "log", "-1", "--format=%an|%ae") == \
        "Eve admin@example.org Committer: x (Discord 5)|5@discord.users.noreply.invalid"


def test_outside_a_git_work_tree_nothing_is_committed(tmp_path):
    config = make_project(tmp_path)
    assert work_tree(config.corpus_dir) is None
    change = moderation_for(config).add(draft("How tall is the lighthouse?", "Forty metres."), Author("A", 1), "a")
    assert change.commit is None and change.git_problem is None
    assert commit_change(config.corpus_dir, ["faq/90-moderators.yaml"], Author("A", 1), "x") is None


def test_committing_can_be_turned_off(tmp_path):
    write_corpus(tmp_path / "corpus")
    write_config(tmp_path, extra="discord:\n  database: data/bot.sqlite3\ndata:\n  commit_corpus_changes: false\n")
    init_repository(tmp_path)
    config = load_config(tmp_path / "config.yaml")
    change = moderation_for(config).add(draft("How tall is the lighthouse?", "Forty metres."), Author("A", 1), "a")
    assert change.commit is None
    assert git(tmp_path, "log", "--format=%s") == "Corpus as the maintainers wrote it"


# ---- through Discord ------------------------------------------------------------------------------------------

@pytest.fixture
def simcord_bot(repository):
    return make_bot(repository, fake_resources(repository))


@pytest_asyncio.fixture
async def world(simcord_env):
    import discord

    guild, channel, member = await synced_guild(simcord_env, "member")
    admin_role = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    mod = guild.add_member(simcord_env.create_user("Morgan"), roles=[admin_role])
    return simcord_env, channel, mod


@pytest.mark.asyncio
async def test_a_moderator_change_on_discord_is_a_commit_by_that_moderator(world, repository):
    env, channel, mod = world
    form = await mod.slash(channel, "faq add")
    done = await mod.submit_modal(form, {"question": "How tall is the lighthouse?", "alternatives": "Its height?",
                                         "answer": "Forty metres.", "source_url": "https://example.org/l"})
    root = repository.source.parent
    sha = git(root, "log", "-1", "--format=%h")
    assert f"Recorded in git as `{sha}`." in done.response.content
    assert git(root, "log", "-1", "--format=%an|%s") == f"Morgan (Discord {mod.id})|FAQ: add how-tall-is-the-lighthouse"
    details = await mod.click(done.response, label="Details")
    assert f"Git commit: `{sha}` FAQ: add how-tall-is-the-lighthouse" in details.response.content
    undone = await mod.click(done.response, label="Undo")
    assert "Recorded in git as" in undone.response.content
    assert git(root, "log", "-1", "--format=%s") == "FAQ: undo add of how-tall-is-the-lighthouse"


# ---- corpus sync ------------------------------------------------------------------------------------------------

@pytest.fixture
def checkouts(tmp_path):
    """The maintainers' repository and the bot's clone of it (tracking origin/main)."""
    maintainers = tmp_path / "maintainers"
    make_project(maintainers)
    init_repository(maintainers)
    bot_root = tmp_path / "bot"
    git(tmp_path, "clone", "--quiet", str(maintainers), str(bot_root))
    return maintainers, bot_root, load_config(bot_root / "config.yaml")


def maintainers_edit(maintainers: Path, old: str, new: str, message: str) -> None:
    faq = maintainers / "corpus" / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace(old, new))
    git(maintainers, "commit", "--quiet", "-am", message)


def test_sync_merges_the_maintainers_branch_and_keeps_the_bots_commits(checkouts, capsys):
    maintainers, bot_root, config = checkouts
    moderation_for(config).add(draft("How tall is the lighthouse?", "Forty metres."), Author("Alice", 1), "alice")
    maintainers_edit(maintainers, "Three nonprofits organised it", "Three organisations ran it", "Reword who-organised")
    assert cli.main(["corpus", "sync", "--config", str(bot_root / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "merged origin/main" in out and "corpus/faq/faq.yaml" in out and "1 moderator commit(s) here" in out
    assert "Three organisations ran it" in (config.corpus_dir / "faq" / "faq.yaml").read_text()
    assert "Forty metres." in (config.corpus_dir / "faq" / "90-moderators.yaml").read_text()
    # How maintainers fetch the bot's commits (README): the bot's checkout as a remote.
    git(maintainers, "fetch", "--quiet", str(bot_root), "main:bot-changes")
    assert "FAQ: add how-tall-is-the-lighthouse" in git(maintainers, "log", "--format=%s", "main..bot-changes")


def test_a_conflict_is_shown_and_nothing_is_changed(checkouts, capsys):
    maintainers, bot_root, config = checkouts
    moderation = moderation_for(config)
    moderation.edit("who-organised", draft("Who organised the call?", "The bot's wording.", "who-organised"),
                    Author("Alice", 1), "alice")
    maintainers_edit(maintainers, "Three nonprofits organised it, CeSIA, The Future Society and CHAI.",
                     "The maintainers' wording.", "Maintainers reword who-organised")
    head = git(bot_root, "rev-parse", "HEAD")
    before = (config.corpus_dir / "faq" / "faq.yaml").read_text()
    assert cli.main(["corpus", "sync", "--config", str(bot_root / "config.yaml")]) == 1
    err = capsys.readouterr().err
    assert "conflicts with changes made here" in err and "corpus/faq/faq.yaml" in err
    assert "The bot's wording." in err and "The maintainers' wording." in err and "<<<<<<<" in err
    assert git(bot_root, "rev-parse", "HEAD") == head
    assert (config.corpus_dir / "faq" / "faq.yaml").read_text() == before  # no conflict markers left behind
    assert git(bot_root, "status", "--porcelain") == ""


def test_a_merge_whose_corpus_is_invalid_is_undone(checkouts, capsys):
    maintainers, bot_root, config = checkouts
    moderation_for(config).add(draft("How tall is the lighthouse?", "Forty metres.", "lighthouse"), Author("A", 1), "a")
    faq = maintainers / "corpus" / "faq" / "faq.yaml"  # the maintainers add the same id in another file
    faq.write_text(FAQ + "- id: lighthouse\n  language: en\n  question: Lighthouse?\n  alternatives:\n    - Tower?\n"
                   "  answer: A tower.\n  sources:\n    - title: T\n      url: https://example.org/t\n")
    git(maintainers, "commit", "--quiet", "-am", "Add lighthouse")
    head = git(bot_root, "rev-parse", "HEAD")
    assert cli.main(["corpus", "sync", "--config", str(bot_root / "config.yaml")]) == 1
    err = capsys.readouterr().err
    assert "the merge was undone" in err and "duplicate" in err and "lighthouse" in err
    assert git(bot_root, "rev-parse", "HEAD") == head


def test_sync_outside_git_or_without_upstream_says_what_to_do(tmp_path, capsys):
    config_path = str(make_project(tmp_path / "plain").source)
    assert cli.main(["corpus", "sync", "--config", config_path]) == 1
    assert "not in a git work tree" in capsys.readouterr().err
    make_project(tmp_path / "alone")
    init_repository(tmp_path / "alone")
    assert cli.main(["corpus", "sync", "--config", str(tmp_path / "alone" / "config.yaml")]) == 1
    assert "no upstream" in capsys.readouterr().err
