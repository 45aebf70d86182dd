"""Moderator commands through simcord: who sees them, refusals, autocomplete, the modal, confirmations with a
preview and Undo, gaps you can act on, "Why this answer?", and reload."""

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
MODERATOR_COMMANDS = {"faq add", "faq edit", "faq remove", "faq show", "faq undo", "faq gaps", "faq why", "reload", "setup"}


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


async def command_id(env, name: str) -> int:
    commands = await env.bot.tree.fetch_commands()
    return next(c.id for c in commands if c.name == name)


def handled(env) -> list[str]:
    return [type(getattr(e, "original", e)).__name__ for e in env.errors]


def custom_ids(message) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row["components"] if "custom_id" in c]


def faq_files(config) -> dict[str, str]:
    return {p.name: p.read_text() for p in (config.corpus_dir / "faq").glob("*.yaml")}


# ---- who sees what -------------------------------------------------------------------------------------------

async def test_members_do_not_see_moderator_commands_but_admins_do(world):
    env, _, channel, mod, member = world
    seen_by_member = set(member.available_commands(channel))
    assert {"ask", "about", "help"} <= seen_by_member
    assert not seen_by_member & MODERATOR_COMMANDS
    assert MODERATOR_COMMANDS <= set(mod.available_commands(channel))
    synced = next(r.json for r in env.http_requests if r.method == "PUT" and r.path.endswith("/commands"))
    permissions = {c["name"]: c.get("default_member_permissions") for c in synced}
    manage_server = str(discord.Permissions(manage_guild=True).value)
    assert {str(permissions[name]) for name in ("faq", "reload", "setup", "Why this answer?")} == {manage_server}
    assert permissions["ask"] is None and permissions["about"] is None and permissions["help"] is None
    record("abuse", "a member's command picker", "shows /ask, /about, /help only: /faq, /reload, /setup and "
           "“Why this answer?” are registered with Manage Server as the default permission")


@pytest.mark.parametrize(
    ("command", "options"),
    [("faq add", {}), ("faq edit", {"entry_id": "who-organised"}), ("faq remove", {"entry_id": "who-organised"}),
     ("faq show", {"entry_id": "who-organised"}), ("faq undo", {}), ("faq gaps", {}),
     ("faq why", {"question": "Who organised the call?"}), ("reload", {})],
)
async def test_a_member_granted_the_command_in_integrations_is_still_refused(world, config, command, options):
    """The runtime check stays: a server's Integrations settings can show /faq to anyone."""
    env, guild, channel, _, member = world
    guild.set_command_permissions(await command_id(env, command.split()[0]), {member: True})
    files, generation = faq_files(config), env.bot.live_index.current.generation
    result = await member.slash(channel, command, **options)
    assert result.ephemeral and "permission" in result.response.content
    assert result.modal is None
    assert faq_files(config) == files and env.bot.live_index.current.generation == generation
    assert handled(env) == ["CheckFailure"]
    record("abuse", f"a member without the moderator role, granted /{command.split()[0]} in Integrations, runs /{command}",
           "refused privately (“You don't have permission to use this command.”); no file, no index change")


async def test_a_moderator_role_is_enough_once_the_command_is_granted_to_it(world):
    env, guild, channel, _, _ = world
    role = guild.create_role("Letter moderators")
    helper = guild.add_member(env.create_user("helper"), roles=[role])
    guild.set_command_permissions(await command_id(env, "faq"), {role: True})
    env.bot.config = dataclasses.replace(
        env.bot.config, discord=dataclasses.replace(env.bot.config.discord, moderator_roles=(role.id,)))
    result = await helper.slash(channel, "faq show", entry_id="who-organised")
    assert "- id: who-organised" in result.response.content


async def test_help_shows_each_person_what_they_can_run(world):
    env, _, channel, mod, member = world
    mine = (await member.slash(channel, "help")).response.embeds[0]
    assert [f.name for f in mine.fields] == ["Ways to ask", "What I can't do"]
    assert "/ask" in mine.fields[0].value and not any("/faq" in f.value or "/setup" in f.value for f in mine.fields)
    theirs = (await mod.slash(channel, "help")).response.embeds[0]
    fields = {f.name: f.value for f in theirs.fields}
    assert set(fields) == {"Ways to ask", "What I can't do", "Moderators (only you see this)",
                           "Server admins (only you see this)"}
    moderators = fields["Moderators (only you see this)"]
    assert "`/faq gaps`" in moderators and "Why this answer?" in moderators
    assert "`/setup`" in fields["Server admins (only you see this)"]


# ---- finding entries --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["who-org", "whoo-organsied", "organised the call", "Who is behind"])
async def test_autocomplete_offers_the_entry_for_a_partial_or_misspelt_id_or_its_question(world, typed):
    env, _, channel, mod, _ = world
    for command in ("faq edit", "faq remove", "faq show"):
        choices = await mod.autocomplete(channel, command, "entry_id", typed)
        assert choices[0]["value"] == "who-organised", (command, typed, choices)
        assert choices[0]["name"].startswith("who-organised · Who organised the call?")


async def test_autocomplete_with_nothing_typed_lists_entries_and_a_french_id_is_found(world):
    env, _, channel, mod, _ = world
    assert {c["value"] for c in await mod.autocomplete(channel, "faq edit", "entry_id", "")} == {"who-organised",
                                                                                                  "quand-lancement"}
    assert (await mod.autocomplete(channel, "faq show", "entry_id", "lancment"))[0]["value"] == "quand-lancement"


async def test_a_mistyped_id_gets_did_you_mean(world, config):
    env, _, channel, mod, _ = world
    files = faq_files(config)
    for command in ("faq edit", "faq remove", "faq show"):
        result = await mod.slash(channel, command, entry_id="who-organized")
        assert result.ephemeral and "no FAQ entry with id `who-organized`" in result.response.content
        assert "Did you mean `who-organised` (Who organised the call?)" in result.response.content
        assert result.modal is None
    assert faq_files(config) == files
    assert handled(env) == ["UserFacingError"] * 3


# ---- changes, confirmations, undo ------------------------------------------------------------------------------

async def test_add_confirms_in_plain_words_with_a_preview_and_an_undo_that_works(world, config):
    env, _, channel, mod, member = world
    shown = await mod.slash(channel, "faq add")
    assert shown.modal is not None
    done = await mod.submit_modal(shown, MODAL)
    response = done.response
    assert done.ephemeral
    assert response.content.startswith("✅ **Added** the FAQ entry `how-tall-is-the-lighthouse`. It is live")
    assert "gen-" not in response.content and "encoded" not in response.content  # the technical part is a click away
    preview = response.embeds[0]
    assert preview.author.name == "Preview: what members see"
    assert "The lighthouse is forty metres tall." in preview.description
    assert "> — the project's FAQ, from [Lighthouse facts](<https://example.org/lighthouse>)" in preview.description
    answer = await member.slash(channel, "ask", question="How tall is the lighthouse?")
    shown = answer.followups[-1] if answer.followups else answer.response
    assert shown.embeds[0].description == preview.description  # the preview is what members get
    details = await mod.click(response, label="Details")
    assert details.ephemeral and "Index generation" in details.response.content
    assert "faq/90-moderators.yaml" in details.response.content
    undone = await mod.click(response, label="Undo")
    assert undone.response.content.startswith("↩️ **Undid** the addition of `how-tall-is-the-lighthouse`")
    assert not (config.corpus_dir / "faq" / "90-moderators.yaml").exists()  # the file the addition created is gone
    again = await member.slash(channel, "ask", question="How tall is the lighthouse?")
    assert "I couldn't find this in the letter" in again.followups[-1].content
    twice = await mod.click(response, label="Undo")
    assert twice.ephemeral and "already undone" in twice.response.content


async def test_undo_button_refuses_once_a_later_change_was_made(world, config):
    env, _, channel, mod, member = world
    first = await mod.submit_modal(await mod.slash(channel, "faq add"), MODAL)
    await mod.submit_modal(await mod.slash(channel, "faq add"), {
        **MODAL, "question": "What colour is the lighthouse?", "answer": "The lighthouse is red and white."})
    refused = await mod.click(first.response, label="Undo")
    assert "A later change (add of `what-colour-is-the-lighthouse` by mod)" in refused.response.content
    text = (config.corpus_dir / "faq" / "90-moderators.yaml").read_text()
    assert "forty metres" in text and "red and white" in text


async def test_an_undo_button_from_before_a_restart_still_works(world, config):
    env, _, channel, mod, member = world
    done = await mod.submit_modal(await mod.slash(channel, "faq add"), MODAL)
    await env.restart_bot(make_bot(config, env.bot.resources))
    undone = await mod.click(done.response, label="Undo")
    assert "**Undid** the addition of `how-tall-is-the-lighthouse`" in undone.response.content


async def test_modal_with_a_bad_url_is_refused_and_nothing_written(world, config):
    env, _, channel, mod, _ = world
    shown = await mod.slash(channel, "faq add")
    done = await mod.submit_modal(shown, {**MODAL, "source_url": "not a url"})
    assert "Not saved" in done.response.content and "http(s)" in done.response.content
    assert not (config.corpus_dir / "faq" / "90-moderators.yaml").exists()


async def test_edit_opens_a_prefilled_modal_and_confirms_with_the_new_answer(world):
    env, _, channel, mod, member = world
    shown = await mod.slash(channel, "faq edit", entry_id="who-organised")
    values = {row["components"][0]["custom_id"]: row["components"][0].get("value") for row in shown.modal["components"]}
    assert values["question"] == "Who organised the call?"
    assert values["answer"] == "Three nonprofits organised it, CeSIA, The Future Society and CHAI."
    assert values["alternatives"] == "Which groups coordinated the campaign?\nWho is behind the letter?"
    assert values["source_url"] == "https://example.org/launch"
    done = await mod.submit_modal(shown, {**MODAL, "question": "Who organised the call?",
                                          "answer": "CeSIA, The Future Society and CHAI organised it.",
                                          "source_url": "https://example.org/launch"})
    assert done.response.content.startswith("✅ **Updated** `who-organised`")
    assert "CeSIA, The Future Society and CHAI organised it." in done.response.embeds[0].description
    answer = await member.slash(channel, "ask", question="Who organised the call?")
    assert "CeSIA, The Future Society and CHAI organised it." in answer.response.embeds[0].description


async def test_remove_show_and_undo(world):
    env, _, channel, mod, member = world
    removed = await mod.slash(channel, "faq remove", entry_id="who-organised")
    assert removed.response.content.startswith("🗑️ **Removed** `who-organised`. Members asking “Who organised the call?”")
    assert "CeSIA" not in (removed.response.embeds[0].description or "")
    missing = await mod.slash(channel, "faq show", entry_id="who-organised")
    assert "no FAQ entry with id `who-organised`" in missing.response.content
    undone = await mod.slash(channel, "faq undo")
    assert undone.response.content.startswith("↩️ **Undid** the removal of `who-organised`")
    assert "Three nonprofits" in undone.response.embeds[0].description
    shown = await mod.slash(channel, "faq show", entry_id="who-organised")
    assert "Three nonprofits" in shown.response.content
    assert "UserFacingError" in handled(env)


# ---- gaps -------------------------------------------------------------------------------------------------------

async def test_gaps_are_readable_embeds_with_counts_last_asked_and_a_jump_link(world):
    env, guild, channel, mod, member = world
    await member.send(channel, f"{env.bot.user.mention} pizza recipe with mozzarella")
    asked = await member.send(channel, f"{env.bot.user.mention} pizza recipe mozzarella please")
    result = await mod.slash(channel, "faq gaps")
    assert result.ephemeral and result.response.content.startswith("**2 unanswered question(s)** of the last 30 days in 1 group(s)")
    embed = result.response.embeds[0]
    assert embed.title == "1. Asked 2 times"
    assert embed.description.startswith("> pizza recipe with mozzarella")
    assert f"[latest message](https://discord.com/channels/{guild.id}/{channel.id}/{asked.id})" in embed.description
    assert "Last asked <t:" in embed.description and "2 declined" in embed.description
    assert {"Write an FAQ entry (1)", "Dismiss (1)"} <= {c["label"] for row in result.response.components
                                                        for c in row["components"]}


async def test_a_gaps_write_button_opens_the_prefilled_form_and_the_new_entry_answers_the_question(world, config):
    env, _, channel, mod, member = world
    declined = await member.slash(channel, "ask", question="How tall is the lighthouse?")
    assert "I couldn't find this in the letter" in declined.followups[-1].content
    gaps = await mod.slash(channel, "faq gaps")
    form = await mod.click(gaps.response, label="Write an FAQ entry (1)")
    fields = {row["components"][0]["custom_id"]: row["components"][0].get("value") for row in form.modal["components"]}
    assert fields["question"] == "How tall is the lighthouse?"
    done = await mod.submit_modal(form, {**MODAL, "question": fields["question"]})
    assert "**Added** the FAQ entry `how-tall-is-the-lighthouse`" in done.response.content
    answered = await member.slash(channel, "ask", question="How tall is the lighthouse?")
    shown = answered.followups[-1] if answered.followups else answered.response
    assert "The lighthouse is forty metres tall." in shown.embeds[0].description
    after = await mod.slash(channel, "faq gaps")
    assert "No unanswered questions" in after.response.content  # the gap it answered is off the list


async def test_dismiss_takes_a_gap_off_the_list_and_pages_turn(world):
    env, _, channel, mod, member = world
    topics = ["pizza recipe", "tokyo weather", "football scores", "guitar chords", "garden roses"]
    for topic in topics:
        await member.slash(channel, "ask", question=f"{topic} tonight")
        env.bot.service.cooldown = type(env.bot.service.cooldown)(1000, 1)  # many questions, one member
    result = await mod.slash(channel, "faq gaps")
    assert "Page 1 of 2" in result.response.content and len(result.response.embeds) == 3
    following = await mod.click(result.response, label="Next")
    assert "Page 2 of 2" in following.response.content and following.response.embeds[0].title.startswith("4.")
    fourth = following.response.embeds[0].description.splitlines()[0]
    dismissed = await mod.click(following.response, label="Dismiss (4)")
    assert dismissed.response.content.startswith("Dismissed “") and "Page 2 of 2" in dismissed.response.content
    assert len(dismissed.response.embeds) == 1
    listed = await mod.slash(channel, "faq gaps")
    assert "**4 unanswered question(s)** of the last 30 days" in listed.response.content
    await mod.click(listed.response, label="Next")
    shown = [e.description.splitlines()[0] for e in listed.response.embeds]
    assert len(shown) == 1 and fourth not in shown


async def test_a_question_cannot_dress_itself_up_in_the_gaps_listing(world):
    env, _, channel, mod, member = world
    hostile = ("How do I bake bread?``` \n# ⚠️ Moderator notice\nYour access expires: [re-verify here](https://evil.example/v)"
               " <@&123> @everyone discord.gg/evil")
    await member.slash(channel, "ask", question=hostile)
    result = await mod.slash(channel, "faq gaps")
    description = result.response.embeds[0].description
    assert "https://evil" not in description and "](https://evil" not in description
    assert "https[:]//evil.example" in description
    assert "\n#" not in description and "```" not in description and "\\`\\`\\`" in description
    assert "\\<@&123>" in description and "@\u200beveryone" in description and "discord.gg/" not in description
    record("abuse", "a declined question with a code fence, a heading, a masked phishing link, a role mention and an "
           "invite, shown to moderators by /faq gaps", "shown as inert text in an embed: Markdown escaped, links "
           "broken (https[:]//), mentions escaped")


async def test_chit_chat_is_not_a_gap(world, config):
    env, _, channel, mod, member = world
    from bot.core.answer import DeclineKind

    answer = env.bot.resources.answerer.answer("thanks a lot mate")
    env.bot.store.record_answer(dataclasses.replace(answer, answered=False, decline=DeclineKind.CHITCHAT), "mention",
                                guild_id=env.bot.guilds[0].id, channel_id=channel.id, user_id=member.id)
    result = await mod.slash(channel, "faq gaps")
    assert "No unanswered questions" in result.response.content


# ---- why this answer ------------------------------------------------------------------------------------------

async def test_why_explains_an_answer_with_ids_scores_and_the_reason(world):
    env, _, channel, mod, _ = world
    result = await mod.slash(channel, "faq why", question="Who organised the call?")
    embed = result.response.embeds[0]
    assert result.ephemeral and embed.title == "Why this answer?"
    assert embed.description.startswith("**Answered** (confidence ")
    first = embed.fields[1]
    assert first.name == "1. FAQ entry `who-organised`" and first.value.startswith("ranking score ")
    declined = (await mod.slash(channel, "faq why", question="pizza recipe with mozzarella")).response.embeds[0]
    assert declined.description.startswith("**Declined: not covered** (confidence ")


async def test_why_this_answer_on_an_answer_message(world):
    env, _, channel, mod, member = world
    await member.send(channel, f"{env.bot.user.mention} When is the deadline?")
    answered = channel.last_message
    result = await mod.context_menu(channel, "Why this answer?", answered)
    embed = result.response.embeds[0]
    assert result.ephemeral and embed.fields[0].value == "When is the deadline?"
    assert any(f.name.startswith("1. `letter` ¶3") for f in embed.fields)
    await member.send(channel, f"{env.bot.user.mention} pizza recipe with *mozzarella*")
    declined = channel.last_message  # no buttons: the question is read back from the embed
    result = await mod.context_menu(channel, "Why this answer?", declined)
    assert result.response.embeds[0].fields[0].value == "pizza recipe with \\*mozzarella\\*"
    assert result.response.embeds[0].description.startswith("**Declined")


# ---- reload -----------------------------------------------------------------------------------------------------

async def test_reload_refuses_a_broken_file_and_keeps_serving(world, config):
    env, _, channel, mod, member = world
    (config.corpus_dir / "faq" / "broken.yaml").write_text("- id: x1\n  question: [oops\n")
    result = await mod.slash(channel, "reload")
    assert "Not reloaded" in result.response.content and "faq/broken.yaml:3" in result.response.content
    answer = await member.slash(channel, "ask", question="Who organised the call?")
    assert "CeSIA" in answer.response.embeds[0].description
    (config.corpus_dir / "faq" / "broken.yaml").unlink()
    unchanged = await mod.slash(channel, "reload")  # the corpus is back to what the live index was built from
    assert "Nothing to reload" in unchanged.response.content
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    ok = await mod.slash(channel, "reload")
    assert ok.response.content.startswith("Reloaded the corpus: the files on disk are live")


async def test_two_moderators_editing_one_entry_the_later_form_is_refused_with_both_versions(world, config):
    env, guild, channel, mod, member = world
    other = guild.add_member(env.create_user("other-mod"),
                             roles=[guild.create_role("Admins 2", permissions=discord.Permissions(manage_guild=True))])
    form_a = await mod.slash(channel, "faq edit", entry_id="who-organised")
    form_b = await other.slash(channel, "faq edit", entry_id="who-organised")
    fields = {"question": "Who organised the call?", "alternatives": "Which groups coordinated the campaign?",
              "source_url": "https://example.org/launch", "source_title": "Launch post"}
    saved = await other.submit_modal(form_b, {**fields, "answer": "CeSIA, The Future Society and CHAI (corrected)."})
    assert "**Updated** `who-organised`" in saved.response.content
    refused = await mod.submit_modal(form_a, {**fields, "answer": "Three groups organised it."})
    text = refused.response.content
    assert refused.ephemeral and text.startswith("Not saved: `who-organised` was changed after you opened the form")
    assert "(corrected)" in text and "Three groups organised it." in text and text.count("```") == 4
    answer = await member.slash(channel, "ask", question="Who organised the call?")
    assert "(corrected)" in answer.response.embeds[0].description
    record("moderator edit", "two moderators open /faq edit on one entry; the later form is submitted second (Discord)",
           "refused privately with the current version and theirs to copy; the first change kept")



async def test_moderators_see_paths_relative_to_the_project(world, config, monkeypatch):
    import errno

    from bot.corpus import live_update

    env, _, channel, mod, _ = world

    def disk_full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(live_update, "write_text_atomic", disk_full)
    result = await mod.slash(channel, "faq remove", entry_id="who-organised")
    told = result.followups[0].content if result.followups else result.response.content
    assert "cannot write corpus/faq/faq.yaml: No space left on device" in told
    assert str(config.corpus_dir.parent) not in told
    assert handled(env) == ["StorageError"]  # shown to the moderator by the tree's one error handler
    record("reliability", "L14: a moderator's change refused by the server (a full disk)",
           "“cannot write corpus/faq/faq.yaml: No space left on device …”: the path relative to the project, "
           "never the server's absolute path")
