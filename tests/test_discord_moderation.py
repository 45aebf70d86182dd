"""Moderator commands through simcord: permission refusals, the modal, live changes, undo, gaps, reload."""

from __future__ import annotations

import dataclasses

import discord
import pytest
import pytest_asyncio

from .discord_support import fake_resources, make_bot, make_project, synced_guild
from .hardening_report import record

pytestmark = pytest.mark.asyncio

MODAL = {"question": "How tall is the lighthouse?", "alternatives": "What height is the lighthouse?\nIs it tall?",
         "answer": "The lighthouse is forty metres tall.", "source_url": "https://example.org/lighthouse",
         "source_title": "Lighthouse facts"}


@pytest.fixture
def config(tmp_path):
    return make_project(tmp_path)


@pytest.fixture
def simcord_bot(config):
    return make_bot(config, fake_resources(config))


@pytest_asyncio.fixture
async def world(simcord_env):
    guild, channel, member = await synced_guild(simcord_env, "member")
    admin_role = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    mod = guild.add_member(simcord_env.create_user("mod"), roles=[admin_role])
    return simcord_env, guild, channel, mod, member


def handled(env) -> list[str]:
    return [type(getattr(e, "original", e)).__name__ for e in env.errors]


@pytest.mark.parametrize(
    ("command", "options"),
    [("faq add", {}), ("faq edit", {"entry_id": "who-organised"}), ("faq remove", {"entry_id": "who-organised"}),
     ("faq show", {"entry_id": "who-organised"}), ("faq undo", {}), ("faq gaps", {}), ("reload", {})],
)
async def test_non_moderators_are_refused_and_nothing_changes(world, config, command, options):
    env, _, channel, _, member = world
    files = {p.name: p.read_text() for p in (config.corpus_dir / "faq").glob("*.yaml")}
    generation = env.bot.live_index.current.generation
    result = await member.slash(channel, command, **options)
    assert result.ephemeral and "permission" in result.response.content
    assert result.modal is None
    assert {p.name: p.read_text() for p in (config.corpus_dir / "faq").glob("*.yaml")} == files
    assert env.bot.live_index.current.generation == generation
    assert handled(env) == ["CheckFailure"]
    record("abuse", f"a member without the moderator role runs /{command}",
           "refused privately (“You don't have permission to use this command.”); no file, no index change")


async def test_moderator_role_from_config_is_enough(world):
    env, guild, channel, _, _ = world
    role = guild.create_role("Letter moderators")
    helper = guild.add_member(env.create_user("helper"), roles=[role])
    env.bot.config = dataclasses.replace(
        env.bot.config, discord=dataclasses.replace(env.bot.config.discord, moderator_roles=(role.id,)))
    result = await helper.slash(channel, "faq show", entry_id="who-organised")
    assert "- id: who-organised" in result.response.content


async def test_add_through_the_modal_is_live_and_answerable(world, config):
    env, _, channel, mod, member = world
    shown = await mod.slash(channel, "faq add")
    assert shown.modal is not None
    done = await mod.submit_modal(shown, MODAL)
    assert done.ephemeral and "Added `how-tall-is-the-lighthouse`" in done.response.content
    answer = await member.slash(channel, "ask", question="How tall is the lighthouse?")
    assert "The lighthouse is forty metres tall." in answer.response.embeds[0].description


async def test_modal_with_a_bad_url_is_refused_and_nothing_written(world, config):
    env, _, channel, mod, _ = world
    shown = await mod.slash(channel, "faq add")
    done = await mod.submit_modal(shown, {**MODAL, "source_url": "not a url"})
    assert "Not saved" in done.response.content and "http(s)" in done.response.content
    assert not (config.corpus_dir / "faq" / "90-moderators.yaml").exists()


async def test_edit_opens_a_prefilled_modal_and_updates_the_entry(world):
    env, _, channel, mod, member = world
    shown = await mod.slash(channel, "faq edit", entry_id="who-organised")
    values = {row["components"][0]["custom_id"]: row["components"][0].get("value") for row in shown.modal["components"]}
    assert values["question"] == "Who organised the call?"
    assert values["answer"] == "Three nonprofits organised it, CeSIA, The Future Society and CHAI."
    assert values["alternatives"] == "Which groups coordinated the campaign?\nWho is behind the letter?"
    assert values["source_url"] == "https://example.org/launch"
    await mod.submit_modal(shown, {**MODAL, "question": "Who organised the call?",
                                   "answer": "CeSIA, The Future Society and CHAI organised it.",
                                   "source_url": "https://example.org/launch"})
    answer = await member.slash(channel, "ask", question="Who organised the call?")
    assert "CeSIA, The Future Society and CHAI organised it." in answer.response.embeds[0].description


async def test_remove_show_and_undo(world):
    env, _, channel, mod, member = world
    removed = await mod.slash(channel, "faq remove", entry_id="who-organised")
    assert "Removed `who-organised`" in removed.response.content
    missing = await mod.slash(channel, "faq show", entry_id="who-organised")
    assert "no FAQ entry with id 'who-organised'" in missing.response.content
    undone = await mod.slash(channel, "faq undo")
    assert "Undid the last change to `who-organised`" in undone.response.content
    shown = await mod.slash(channel, "faq show", entry_id="who-organised")
    assert "Three nonprofits" in shown.response.content
    assert "UserFacingError" in handled(env)


async def test_gaps_lists_declined_questions(world):
    env, _, channel, mod, member = world
    await member.slash(channel, "ask", question="pizza recipe with mozzarella")
    await member.slash(channel, "ask", question="pizza recipe mozzarella please")
    result = await mod.slash(channel, "faq gaps")
    assert "pizza recipe" in result.response.content and "    2" in result.response.content


async def test_reload_refuses_a_broken_file_and_keeps_serving(world, config):
    env, _, channel, mod, member = world
    (config.corpus_dir / "faq" / "broken.yaml").write_text("- id: x1\n  question: [oops\n")
    result = await mod.slash(channel, "reload")
    assert "Not reloaded" in result.response.content and "faq/broken.yaml:3" in result.response.content
    answer = await member.slash(channel, "ask", question="Who organised the call?")
    assert "CeSIA" in answer.response.embeds[0].description
    (config.corpus_dir / "faq" / "broken.yaml").unlink()
    ok = await mod.slash(channel, "reload")
    assert "Reloaded the corpus" in ok.response.content


async def test_two_moderators_editing_one_entry_the_later_form_is_refused_with_both_versions(world, config):
    env, guild, channel, mod, member = world
    other = guild.add_member(env.create_user("other-mod"),
                             roles=[guild.create_role("Admins 2", permissions=discord.Permissions(manage_guild=True))])
    form_a = await mod.slash(channel, "faq edit", entry_id="who-organised")
    form_b = await other.slash(channel, "faq edit", entry_id="who-organised")
    fields = {"question": "Who organised the call?", "alternatives": "Which groups coordinated the campaign?",
              "source_url": "https://example.org/launch", "source_title": "Launch post"}
    saved = await other.submit_modal(form_b, {**fields, "answer": "CeSIA, The Future Society and CHAI (corrected)."})
    assert "Updated `who-organised`" in saved.response.content
    refused = await mod.submit_modal(form_a, {**fields, "answer": "Three groups organised it."})
    text = refused.response.content
    assert refused.ephemeral and text.startswith("Not saved: `who-organised` was changed after you opened the form")
    assert "(corrected)" in text and "Three groups organised it." in text and text.count("```") == 4
    answer = await member.slash(channel, "ask", question="Who organised the call?")
    assert "(corrected)" in answer.response.embeds[0].description
    record("moderator edit", "two moderators open /faq edit on one entry; the later form is submitted second (Discord)",
           "refused privately with the current version and theirs to copy; the first change kept")
