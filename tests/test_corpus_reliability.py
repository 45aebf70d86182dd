"""Corpus files and moderator edits under hostile or unusual input, conflicts and crashes.

Each test is a defect the red-team pass found (issue 13), as behaviour: YAML bombs and deep nesting refused
fast with a short message; entries found by position so exotic line breaks can't shift an edit; comments,
CRLF and byte-order marks kept; two moderators' edits never silently overwrite each other; a change and its
audit record survive a SIGKILL as one unit; failures tell the truth about what was changed.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.answer import LiveIndex
from bot.corpus import editing, live_update
from bot.corpus.editing import FaqEditConflict, FaqEditError, draft_from_modal, draft_of
from bot.corpus.limits import (
    DISCORD_TEXT_INPUT_MAX,
    MAX_ALTERNATIVES,
    MAX_ALTERNATIVES_TEXT_CHARS,
    MAX_ANSWER_CHARS,
    MAX_QUESTION_CHARS,
    MAX_SOURCE_TITLE_CHARS,
    MAX_URL_CHARS,
)
from bot.corpus.live_update import ChangeNotLiveError, LiveUpdater
from bot.corpus.reader import is_valid_url, load_corpus, parse_faq_file
from bot.errors import CorpusError, CorpusProblem, StorageError, UserFacingError
from bot.index.store import build_index, load_index
from bot.storage.audit import AuditLog, AuditRecord

from .conftest import REPO, FakeEncoder
from .hardening_report import record


def entry(entry_id: str, answer: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        - id: {entry_id}
          language: en
          question: What about {entry_id}?
          alternatives:
            - Tell me about {entry_id}.
          answer: {answer}
          sources:
            - title: Source {entry_id}
              url: https://example.org/{entry_id}
        """) + extra


def problems_of(root: Path) -> list[str]:
    with pytest.raises(CorpusError) as info:
        load_corpus(root)
    return [str(p) for p in info.value.problems]


@pytest.fixture
def updater(config) -> LiveUpdater:
    encoder = FakeEncoder()
    build_index(config, encoder)
    return LiveUpdater(config, encoder, LiveIndex(load_index(config, encoder)), AuditLog(config.database_path))


def faq_path(config) -> Path:
    return config.corpus_dir / "faq" / "faq.yaml"


def contents(config, relative: str = "faq/faq.yaml") -> dict[str, str]:
    return {e.id: e.answer for e in load_corpus(config.corpus_dir).faq if e.path == relative}


# ---- M2, L5, L6, L16: what the YAML loader refuses --------------------------------------------------------

def alias_bomb(levels: int) -> str:
    """Anchors nested ``levels`` deep, each a list of nine references to the previous one, in a source url."""
    lines = ["        x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"        x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return entry("bomb", "Maybe.").replace("      url: https://example.org/bomb\n", "      url:\n") + "\n".join(lines) + "\n"


BOMBS = {
    "an alias bomb in a source url (9 levels of 9, 700 bytes)": ("faq/bomb.yaml", alias_bomb(9)),
    "an alias bomb (8 levels) whose value would be quoted in the error": ("faq/bomb.yaml", alias_bomb(8)),
    "an alias bomb in a document's front matter": (
        "documents/bomb.md", "---\nid: bomb-doc\ntitle: T\nkind: other\nlanguage: en\ndate: 2025-09-22\n"
        "url:\n" + "\n".join(alias_bomb(9).splitlines()[-9:]) + "\n---\nText.\n"),
    "a merge key (<<: *defaults) reusing another entry": (
        "faq/merge.yaml", entry("base", "Base.").replace("- id: base", "- &defaults\n  id: base")
        + "- <<: *defaults\n  id: merged\n"),
    "5,000 nested brackets": ("faq/deep.yaml", "- id: deep\n  language: en\n  alternatives: " + "[" * 5000 + "]" * 5000 + "\n"),
}

BOMB_RUNNER = textwrap.dedent("""
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
    from pathlib import Path
    from bot.corpus.reader import load_corpus
    from bot.errors import CorpusError
    messages = {}
    for root in sys.argv[1:]:
        try:
            load_corpus(Path(root))
            messages[root] = "LOADED"
        except CorpusError as exc:
            messages[root] = str(exc)
    print(json.dumps(messages))
""")


@pytest.fixture(scope="module")
def bomb_messages(tmp_path_factory) -> dict[str, str]:
    """Every bomb loaded in one process under a 1.5 GB memory limit: a regression fails the tests, not the machine."""
    from .conftest import write_corpus

    roots = {}
    for number, (case, (relative, text)) in enumerate(BOMBS.items()):
        root = write_corpus(tmp_path_factory.mktemp(f"bomb{number}"))
        (root / relative).write_text(text, encoding="utf-8")
        roots[case] = str(root)
    done = subprocess.run([sys.executable, "-c", BOMB_RUNNER, *roots.values()], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-500:]
    messages = json.loads(done.stdout)
    return {case: messages[root] for case, root in roots.items()}


@pytest.mark.parametrize("case", list(BOMBS))
def test_yaml_bombs_and_deep_nesting_are_refused_at_once_with_a_short_message(bomb_messages, case):
    relative, _ = BOMBS[case]
    message = bomb_messages[case]
    assert len(message) < 300 and f"{relative}:" in message, message
    assert any(reason in message for reason in ("anchors (&name) are not allowed", "nested more than 16 levels"))
    record("bad corpus", case, "refused before anything is expanded, with a short message naming the file and line "
           "(was: the bot frozen 35 s at 2.7 GB, or a 351 MB message, or a crash)")


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    from .conftest import write_corpus

    text = entry("dup-keys", "The reviewed answer.") + "  answer: A different answer slipped in below the sources.\n"
    problems = problems_of(write_corpus(tmp_path, faq=text))
    assert problems == ["faq/faq.yaml:10: the key 'answer' appears twice in one mapping (first on line 6); YAML "
                        "would silently keep only the last"]
    # The same key text in two different entries is fine, and `1` and `"1"` are different keys.
    assert not problems_of_or_none(tmp_path, entry("one", "A.") + entry("two", "B."))
    record("bad corpus", "a key given twice in one entry (answer twice)",
           "refused, naming both lines (was: the later answer silently replaced the reviewed one)")


def problems_of_or_none(tmp_path: Path, faq: str) -> list[CorpusProblem]:
    problems: list[CorpusProblem] = []
    parse_faq_file(faq, "faq/faq.yaml", problems)
    return problems


@pytest.mark.parametrize(("where", "character"), [("faq/faq.yaml", "\x00"), ("faq/faq.yaml", "\x1b"),
                                                   ("documents/letter.en.md", "\x00")])
def test_control_characters_are_refused_with_their_line(tmp_path, where, character):
    from .conftest import write_corpus

    root = write_corpus(tmp_path)
    path = root / where
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[12] = lines[12] + character
    path.write_text("\n".join(lines), encoding="utf-8")
    assert problems_of(root) == [f"{where}:13: the control character U+{ord(character):04X} is not allowed; remove it"]
    record("bad corpus", f"a U+{ord(character):04X} control character in {where}",
           "refused with its file and line (was: refused without a line number)")


def test_problem_messages_stay_short_whatever_the_input(tmp_path):
    from .conftest import write_corpus

    huge_url = "https://example.org/" + "x y" * 50_000
    many = "".join(entry(f"e{i:04d}", "A.").replace("  language: en\n", "  language: xx\n") for i in range(300))
    root = write_corpus(tmp_path, faq=entry("big", "A.").replace("https://example.org/big", huge_url) + many)
    with pytest.raises(CorpusError) as info:
        load_corpus(root)
    assert len(info.value.problems) == 301  # all of them are kept for `corpus check`
    assert all(len(p.message) <= CorpusProblem.MAX_MESSAGE_CHARS for p in info.value.problems)
    assert len(str(info.value)) < 8_000 and "and 251 more" in str(info.value)
    record("bad corpus", "a 150 kB bad url and 300 bad entries in one file",
           "every problem listed by `corpus check`; each message at most 400 characters, the error at most 50 problems")


# ---- L10: source urls -------------------------------------------------------------------------------------

SMUGGLED_URLS = [
    "https://evil.example/>[**Read the official letter**](https://evil.example/phish)<",
    "https://evil.example/>[**Read_the_official_letter**](https://evil.example/phish)<",
    "https://example.org/a)[official](https://evil.example",
    "https://red-lines.ai@evil.example/letter",
    "https://example.org/a b",
    "https://example.org/`code`",
    "https://example.org/**bold**",
    "https://example.org/<b>",
    "https://example.org/\u202eevil",
    "https://example.org:",
    "https://example.org/%zz",
    "javascript:alert(1)",
    "https:/example.org",
    "https://localhost/admin",
]


@pytest.mark.parametrize("url", SMUGGLED_URLS)
def test_urls_that_could_smuggle_a_link_or_markdown_are_refused_everywhere(tmp_path, url):
    from .conftest import write_corpus

    assert not is_valid_url(url)
    root = write_corpus(tmp_path, faq=entry("smuggle", "A.").replace("https://example.org/smuggle", f'"{url}"'))
    assert any("'url' " in p for p in problems_of(root))
    draft = draft_from_modal("Who is the keeper?", "Keeper?", "A.", url, "Official source", "en")
    assert any("source url" in reason for reason in editing.check_draft(draft))
    record("bad moderator input", f"a source url {url[:60]!r}", "refused by `corpus check` and by /faq add and edit")


def test_ordinary_urls_are_accepted():
    for url in ("https://red-lines.ai/", "http://www.cfr.org/weapons-of-mass-destruction/p21883",
                "https://www.cyberethique.fr/article/2025-09-22_Appel%20international%20de%20l'IA",
                "https://hdoplus.com/proxy_gol.php?url=https%3A%2F%2Fthefuturesociety.org%2Fx&a=1#part-2",
                "https://example.org:8443/x~y"):
        assert is_valid_url(url), url


# ---- L12: one definition of each limit; whatever the corpus accepts fits the Discord form ------------------

@pytest.mark.asyncio
async def test_an_entry_at_every_corpus_limit_passes_check_and_fits_the_edit_form(tmp_path):
    from bot.discord_app.faq_cog import FaqModal

    from .conftest import write_corpus

    alternatives = [f"{i} Which {'very ' * 60}long phrasing?"[:MAX_QUESTION_CHARS] for i in range(MAX_ALTERNATIVES)]
    url = "https://example.org/" + "p" * (MAX_URL_CHARS - len("https://example.org/"))
    text = (f"- id: long-one\n  language: en\n  question: \"{'Q' * (MAX_QUESTION_CHARS - 1)}?\"\n  alternatives:\n"
            + "".join(f"    - \"{a}\"\n" for a in alternatives) + f"  answer: {'a' * MAX_ANSWER_CHARS}\n"
            + f"  sources:\n    - title: \"{'T' * MAX_SOURCE_TITLE_CHARS}\"\n      url: {url}\n")
    corpus = load_corpus(write_corpus(tmp_path, faq=text))
    longest = corpus.faq_entry("long-one")
    modal = FaqModal(None, editing=longest.id, language="en", draft=draft_of(longest))  # type: ignore[arg-type]
    fields = {c["custom_id"]: c for row in modal.to_dict()["components"] for c in row["components"]}
    for name, field in fields.items():
        assert len(field.get("value") or "") <= field["max_length"] <= DISCORD_TEXT_INPUT_MAX, name
    assert (fields["question"]["max_length"], fields["answer"]["max_length"], fields["source_url"]["max_length"],
            fields["source_title"]["max_length"], fields["alternatives"]["max_length"]) == (
        MAX_QUESTION_CHARS, MAX_ANSWER_CHARS, MAX_URL_CHARS, MAX_SOURCE_TITLE_CHARS, MAX_ALTERNATIVES_TEXT_CHARS)
    # One character over a limit is refused by `corpus check`, so it can never reach the form.
    for over in (text.replace("T" * MAX_SOURCE_TITLE_CHARS, "T" * (MAX_SOURCE_TITLE_CHARS + 1)),
                 text.replace(url, url + "p")):
        assert problems_of(write_corpus(tmp_path / "over", faq=over))
    record("bad moderator input", "an entry at every corpus limit (10 × 300-character phrasings, 500-character url, "
           "200-character title)", "accepted by `corpus check`, and its /faq edit form fits Discord's field limits "
           "(was: Discord refused the form)")


# ---- M3, L1, L2: an edit changes exactly its entry, and nothing else in the file --------------------------

A, B, C = entry("alpha", "Alpha answer."), entry("bravo", "Bravo answer."), entry("charlie", "Charlie answer.")
B_COMMENTED = B.replace("  answer:", "  # reviewed by Ana\n  answer:").replace("example.org/bravo\n", "example.org/bravo   # checked\n")
B_OWN_LINE = B.replace("- id: bravo", "-\n  id: bravo")
B_INDENTED, B_CRLF = textwrap.indent(B, "  "), B.replace("\n", "\r\n")
# (the whole file, bravo's text in it)
LAYOUTS = {
    "U+0085 inside an earlier entry's answer": (entry("alpha", '"Alpha\u0085answer."') + "\n" + B + "\n" + C, B),
    "a lone CR inside an earlier entry's answer": (entry("alpha", '"Alpha\ranswer."') + "\n" + B + "\n" + C, B),
    "U+2028 in a comment inside an earlier entry": (
        entry("alpha", "Alpha answer.").replace("  answer:", "  # a note ending in U+2028\u2028\n  answer:")
        + "\n" + B + "\n" + C, B),
    "U+0085 in a comment before the entries": ("# Notes reviewed by the team\u0085\n" + A + "\n" + B + "\n" + C, B),
    "a section comment between entries": (A + "\n# ---- Section: launch (checked 2026-11-01) ----\n" + B + "\n" + C, B),
    "comments inside the entry and at the end of its last line": (
        A + "\n" + B_COMMENTED + "# TODO: add the OECD source\n", B_COMMENTED),
    "list items indented by two spaces": (textwrap.indent(A + "\n", "  ") + B_INDENTED + textwrap.indent("\n" + C, "  "),
                                          B_INDENTED),
    "the entry's '-' on its own line": (A + "\n" + B_OWN_LINE + "\n" + C, B_OWN_LINE),
    "CRLF line endings": ((A + "\n").replace("\n", "\r\n") + B_CRLF + ("\n" + C).replace("\n", "\r\n"), B_CRLF),
    "a byte-order mark and CRLF": ("\ufeff" + B_CRLF + ("\n" + A).replace("\n", "\r\n"), B_CRLF),
    "no newline at the end of the file": (A + "\n" + C + "\n" + B.rstrip("\n"), B.rstrip("\n")),
}


def edited_bravo(form):
    return draft_from_modal(form.question, "\n".join(form.alternatives), "EDITED answer.", form.source_url,
                            form.source_title, "en", "bravo")


@pytest.mark.parametrize("action", ["edit", "remove"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_edit_and_remove_change_exactly_their_entry(config, updater, layout, action):
    text, bravo = LAYOUTS[layout]
    path = faq_path(config)
    path.write_bytes(text.encode("utf-8"))
    prefix, suffix = text.split(bravo)
    answers = contents(config)
    if action == "edit":
        updater.edit("bravo", edited_bravo(draft_of(load_corpus(config.corpus_dir).faq_entry("bravo"))), actor="mod")
        expected = {**answers, "bravo": "EDITED answer."}
    else:
        updater.remove("bravo", actor="mod")
        expected = {k: v for k, v in answers.items() if k != "bravo"}
    after = path.read_bytes().decode("utf-8")
    assert contents(config) == expected
    # Everything outside bravo's own text is byte for byte as it was: comments, line breaks, BOM, indentation.
    assert after.startswith(prefix)
    if action == "edit":
        assert after.endswith(suffix)
        new_bravo = after[len(prefix) : len(after) - len(suffix)]
        for comment in ("# reviewed by Ana", "# checked"):  # a maintainer's notes inside the entry are kept, above it
            assert (comment in new_bravo) == (comment in bravo)
            new_bravo = new_bravo.replace(f"{comment}\n", "")
        assert "EDITED answer." in new_bravo and new_bravo.startswith(bravo[: bravo.index("-") + 1])
        if "\r\n" in text:
            assert new_bravo.count("\n") == new_bravo.count("\r\n")
    else:
        blank = suffix[: len(suffix) - len(suffix.lstrip("\r\n"))][:2 if suffix.startswith("\r\n") else 1]
        assert after in (prefix + suffix, prefix + suffix[len(blank):])
    assert updater.audit.recent(1)[0].file_after == after
    record("moderator edit", f"/faq {action} of an entry with {layout}",
           "exactly that entry changed; the rest of the file byte for byte as it was")


EXOTIC_BREAKS = ["\x85", "\r", "\u2028", "\u2029"]


@st.composite
def hand_written_faq(draw):
    """A valid FAQ file as people write them: comments anywhere, exotic line breaks in comments and in quoted
    text, CRLF or LF, indented or not; with each entry's own text, to check what an edit may touch."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    indent = draw(st.sampled_from(["", "  "]))
    comment = st.builds(lambda brk, words: f"# {words}{brk}", st.sampled_from(["", *EXOTIC_BREAKS]),
                        st.sampled_from(["note", "checked 2026-11-01", "TODO: source", "a # in a comment"]))
    blocks, parts = [], [draw(st.sampled_from(["", "\ufeff"])), draw(st.sampled_from(["", "# header\n"]))]
    for number in range(draw(st.integers(2, 4))):
        answer = draw(st.sampled_from([f"Answer {number}.", f'"Answer{draw(st.sampled_from(EXOTIC_BREAKS))}{number}."',
                                       f">-\n    Folded answer {number}\n    on two lines."]))
        text = entry(f"e{number}", "ANSWER").replace("ANSWER", answer)
        if draw(st.booleans()):
            text = text.replace("  sources:", f"  {draw(comment)}\n  sources:")
        if draw(st.booleans()):
            text = text.replace("  language: en\n", "  language: en   # inline\n")
        if draw(st.booleans()):
            text = text.replace(f"- id: e{number}", f"-\n  id: e{number}")
        block = textwrap.indent(text, indent, lambda line: True)
        blocks.append(block.replace("\n", newline))
        parts.append(blocks[-1])
        parts.append(draw(st.sampled_from(["", "\n", f"\n{indent}{draw(comment)}\n"])).replace("\n", newline))
    return "".join(parts), blocks


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(faq=hand_written_faq(), target=st.integers(0, 3), action=st.sampled_from(["edit", "remove"]))
def test_edits_of_hand_written_files_change_exactly_their_entry(tmp_path_factory, faq, target, action):
    from .conftest import write_corpus

    text, blocks = faq
    target %= len(blocks)
    root = write_corpus(tmp_path_factory.mktemp("faq"), faq="")
    (root / "faq" / "faq.yaml").write_bytes(text.encode("utf-8"))
    corpus = load_corpus(root)
    entry_id = f"e{target}"
    if action == "edit":
        form = draft_of(corpus.faq_entry(entry_id))
        planned = editing.plan_edit(corpus, entry_id, dataclasses.replace(form, answer="EDITED answer."))
    else:
        planned = editing.plan_remove(corpus, entry_id)
    prefix, suffix = text.split(blocks[target])
    assert planned.after.startswith(prefix)
    if action == "edit":
        assert planned.after.endswith(suffix)
    else:  # one blank line after the entry may go with it
        assert any(planned.after == prefix + suffix[cut:] for cut in (0, 1, 2))
    problems: list[CorpusProblem] = []
    after = {e.id: e.answer for e in parse_faq_file(planned.after, "faq/faq.yaml", problems)}
    before = {e.id: e.answer for e in corpus.faq}
    assert not problems
    assert after == ({**before, entry_id: "EDITED answer."} if action == "edit"
                     else {k: v for k, v in before.items() if k != entry_id})
    record("property", "hypothesis: /faq edit and remove on generated hand-written FAQ files (comments anywhere, "
           "CRLF, BOM, U+0085/U+2028/CR, indented lists, '-' on its own line)",
           "exactly the target entry changed; everything around it byte for byte the same")


def test_a_flow_style_file_is_refused_and_left_alone(config, updater):
    flow = ('[{id: alpha, language: en, question: "What about alpha?", alternatives: ["Tell me about alpha."], '
            'answer: "Alpha answer.", sources: [{title: S, url: "https://example.org/alpha"}]}]\n')
    faq_path(config).write_text(flow, encoding="utf-8")
    with pytest.raises(FaqEditError, match="flow style"):
        updater.remove("alpha", actor="mod")
    assert faq_path(config).read_text(encoding="utf-8") == flow


def test_a_change_that_would_touch_another_entry_is_caught_before_writing(config, updater, monkeypatch):
    """The check after planning: whatever goes wrong in locating, a plan that changes a neighbour is refused."""
    path = faq_path(config)
    path.write_text(A + "\n" + B + "\n" + C, encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    # Sabotage: the entry's text is taken to end after its first line, so its other lines would stay behind.
    monkeypatch.setattr(editing, "last_content_index", lambda node, text: node.start_mark.index)
    with pytest.raises(FaqEditError, match="touch other entries|would make the corpus invalid"):
        updater.remove("bravo", actor="mod")
    assert path.read_text(encoding="utf-8") == before and updater.audit.recent() == []
    record("moderator edit", "a planned edit that would also change a neighbouring entry (locating sabotaged)",
           "refused before writing: the new file is parsed and every other entry must be unchanged")


# ---- M7: two moderators, one entry ------------------------------------------------------------------------

def test_the_later_of_two_forms_on_one_entry_is_refused_with_both_versions(config, updater):
    entry_now = load_corpus(config.corpus_dir).faq_entry("who-organised")
    form_a, form_b = draft_of(entry_now), draft_of(entry_now)  # both moderators open /faq edit
    correction = "Three nonprofits organised it: CeSIA, The Future Society and CHAI (corrected, see thread)."
    updater.edit("who-organised", draft_from_modal(form_b.question, "\n".join(form_b.alternatives), correction,
                                                   form_b.source_url, form_b.source_title, "en", "who-organised",
                                                   based_on=form_b.based_on), actor="B")
    file_after_b = faq_path(config).read_text(encoding="utf-8")
    later = draft_from_modal(form_a.question, "\n".join(form_a.alternatives) + "\nWho ran the campaign?",
                             form_a.answer, form_a.source_url, form_a.source_title, "en", "who-organised",
                             based_on=form_a.based_on)
    with pytest.raises(FaqEditConflict) as info:
        updater.edit("who-organised", later, actor="A")
    message = str(info.value)
    assert "(corrected, see thread)" in message and "Who ran the campaign?" in message
    assert "differ in: alternatives, answer" in message and len(message) < 1900
    assert faq_path(config).read_text(encoding="utf-8") == file_after_b
    assert [r.actor for r in updater.audit.recent()] == ["B"]
    # A's fresh form, opened after B's change, saves.
    fresh = draft_of(load_corpus(config.corpus_dir).faq_entry("who-organised"))
    updater.edit("who-organised", draft_from_modal(fresh.question, "\n".join(fresh.alternatives) + "\nWho ran it?",
                                                   fresh.answer, fresh.source_url, fresh.source_title, "en",
                                                   "who-organised", based_on=fresh.based_on), actor="A")
    assert "(corrected, see thread)" in contents(config)["who-organised"]
    record("moderator edit", "two moderators edit one entry; the later form is sent second",
           "the later one is refused with both versions and what differs; the first change kept "
           "(was: silently overwritten)")


def test_an_entry_removed_while_its_form_was_open_is_a_conflict_too(config, updater):
    form = draft_of(load_corpus(config.corpus_dir).faq_entry("who-organised"))
    updater.remove("who-organised", actor="B")
    with pytest.raises(FaqEditConflict, match="removed since"):
        updater.edit("who-organised", form, actor="A")
    assert "who-organised" not in contents(config)


# ---- M8: a change and its audit record are one unit ---------------------------------------------------------

KILL_LOOP = textwrap.dedent("""
    import sys
    from bot.config import load_config
    from bot.core.answer import LiveIndex
    from bot.corpus.editing import draft_from_modal
    from bot.corpus.live_update import LiveUpdater
    from bot.index.store import build_index, load_index
    from bot.storage.audit import AuditLog
    from tests.conftest import FakeEncoder
    config = load_config(sys.argv[1])
    encoder = FakeEncoder()
    updater = LiveUpdater(config, encoder, LiveIndex(load_index(config, encoder, allow_stale=True)),
                          AuditLog(config.database_path))
    print("ready", flush=True)
    n = int(sys.argv[2])
    while True:
        n += 1
        updater.add(draft_from_modal(f"Question {n}?", "Another way?", f"Answer {n}.", "https://example.org/q",
                                     "S", "en"), actor="loop")
        updater.undo(actor="loop")
""")


def test_sigkill_during_edits_and_undos_never_leaves_a_change_without_its_record(project):
    from bot.config import load_config

    config = load_config(project / "config.yaml")
    build_index(config, FakeEncoder())
    moderators = config.corpus_dir / "faq" / "90-moderators.yaml"
    rounds, settled = 6, 0
    for round_number in range(rounds):
        child = subprocess.Popen([sys.executable, "-c", KILL_LOOP, str(project / "config.yaml"), str(round_number * 1000)],
                                 cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(random.Random(round_number).uniform(0.05, 0.5))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        audit = AuditLog(config.database_path)  # what the next start does: settle what the kill left
        settled += len(audit.settled)
        assert audit.pending() == []
        last = audit.recent(1)
        on_disk = moderators.read_bytes().decode("utf-8") if moderators.exists() else None
        assert on_disk == (last[0].file_after if last else None)  # the file is what the log says it is
        change = audit.last_change()
        if change is not None:  # ... so /faq undo can always undo the last change
            assert on_disk == change.file_after
        audit.close()
        load_corpus(config.corpus_dir)
    record("fault", f"SIGKILL during /faq add and /faq undo with the audit log ({rounds} kills at random moments)",
           "every time the file matches the audit log and undo works; an interrupted change is settled from the file "
           "on the next start (was: 35 of 40 kills left a change without its record)")
    print(f"{settled} of {rounds} kills interrupted a change that was then settled")


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(("on_disk", "outcome"), [("after", "completed"), ("before", "rolled back"),
                                                  ("hand-edited", "left as interrupted")])
def test_a_pending_change_is_settled_from_the_file_when_the_log_is_opened(config, on_disk, outcome):
    path = faq_path(config)
    before = path.read_text(encoding="utf-8")
    after = before + entry("lighthouse", "Forty metres.")
    audit = AuditLog(config.database_path)
    intent = audit.begin(AuditRecord(action="add", entry_id="lighthouse", path="faq/faq.yaml", actor="mod",
                                     file_before=before, file_after=after), path)
    assert audit.recover() == [] and len(audit.pending()) == 1  # the process that began it is alive: not touched
    audit.close()
    with sqlite3.connect(config.database_path) as db:  # ... and now it is dead
        db.execute("UPDATE audit SET pid = ? WHERE id = ?", (dead_pid(), intent))
    path.write_text({"after": after, "before": before, "hand-edited": after + "# hand edit\n"}[on_disk], encoding="utf-8")
    reopened = AuditLog(config.database_path)
    assert reopened.settled == [f"add lighthouse (audit {intent}): {outcome}"]
    assert reopened.pending() == []
    states = [r.state for r in reopened.recent()]
    assert states == {"after": ["done"], "before": [], "hand-edited": ["interrupted"]}[on_disk]
    assert (reopened.last_change() is not None) == (on_disk == "after")


# ---- L8, L9: failures tell the truth ------------------------------------------------------------------------

@pytest.mark.parametrize("change", ["edit", "add"])
def test_undo_on_a_read_only_corpus_says_so_and_changes_nothing(config, updater, monkeypatch, change):
    if change == "add":  # undo deletes the moderators' file
        updater.add(draft_from_modal("How tall is it?", "How high?", "Forty metres.", "https://example.org/x", "X",
                                     "en"), actor="mod")
        changed = config.corpus_dir / "faq" / "90-moderators.yaml"
    else:  # undo rewrites the file
        form = draft_of(load_corpus(config.corpus_dir).faq_entry("who-organised"))
        updater.edit("who-organised", dataclasses.replace(form, answer="Edited."), actor="mod")
        changed = faq_path(config)
    before, generation = changed.read_text(encoding="utf-8"), updater.live.current.generation

    def read_only(*args, **kwargs):  # tests run as root, which ignores permission bits: simulate the mount
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(live_update, "write_text_atomic", read_only)
    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(StorageError, match="Read-only file system. Nothing was changed"):
        updater.undo(actor="mod")
    monkeypatch.undo()
    assert changed.read_text(encoding="utf-8") == before and updater.live.current.generation == generation
    assert [r.action for r in updater.audit.recent()] == [change]
    record("fault", "/faq undo on a read-only corpus (simulated EROFS)",
           "“cannot write …: Read-only file system. Nothing was changed” (was: a raw OSError and a generic reply)")


def test_a_failed_restore_says_the_change_stayed_and_keeps_it_undoable(config, updater, monkeypatch):
    real_write = live_update.write_text_atomic
    writes = []

    def second_write_fails(path, text):
        writes.append(path)
        if len(writes) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, text)

    def build_fails(*args, **kwargs):
        raise StorageError(config.index_dir, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(live_update, "write_text_atomic", second_write_fails)
    monkeypatch.setattr(live_update, "build_index", build_fails)
    draft = draft_from_modal("Who organised the call?", "Who ran it?", "The lighthouse keepers organised it.",
                             "https://example.org/launch", "Launch post", "en", "who-organised")
    with pytest.raises(ChangeNotLiveError) as info:
        updater.edit("who-organised", draft, actor="mod")
    assert "was saved in the file" in str(info.value) and "`/faq undo` reverts it" in str(info.value)
    assert "Nothing was changed" not in str(info.value).split("(")[0]
    assert "lighthouse keepers" in faq_path(config).read_text(encoding="utf-8")
    assert [r.action for r in updater.audit.recent()] == ["edit"]
    monkeypatch.undo()  # the disk has room again
    updater.undo(actor="mod")
    assert "Three nonprofits" in contents(config)["who-organised"]
    record("fault", "a moderator edit whose index build and file restore both fail (simulated full disk)",
           "told the change is in the file but not live, with /reload and /faq undo; audited, and undo works "
           "(was: “nothing was changed”, no audit record, nothing to undo)")


def test_a_failed_rebuild_puts_the_file_back_and_leaves_no_record(config, updater, monkeypatch):
    before = faq_path(config).read_text(encoding="utf-8")

    def build_fails(*args, **kwargs):
        raise StorageError(config.index_dir, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(live_update, "build_index", build_fails)
    with pytest.raises(StorageError):
        updater.remove("who-organised", actor="mod")
    assert faq_path(config).read_text(encoding="utf-8") == before
    assert updater.audit.recent() == [] and updater.audit.pending() == []


def test_a_change_is_refused_when_its_audit_record_cannot_be_written(config, updater, monkeypatch):
    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(updater.audit, "begin", locked)
    before = faq_path(config).read_text(encoding="utf-8")
    with pytest.raises(UserFacingError, match="audit log could not be written"):
        updater.remove("who-organised", actor="mod")
    assert faq_path(config).read_text(encoding="utf-8") == before


# ---- L4: file modes -----------------------------------------------------------------------------------------

def test_edits_keep_a_files_mode_and_new_files_follow_the_umask(config, updater):
    path = faq_path(config)
    os.chmod(path, 0o640)
    updater.remove("quand-lancement", actor="mod")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    old_umask = os.umask(0o027)
    try:
        updater.add(draft_from_modal("How tall is it?", "How high?", "Forty metres.", "https://example.org/x", "X",
                                     "en"), actor="mod")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((config.corpus_dir / "faq" / "90-moderators.yaml").stat().st_mode) == 0o640
    record("fault", "file modes after an edit (a 0640 corpus file; a new file under umask 027)",
           "kept 0640; the new file 0640 (was: every rewritten file 0600, unreadable to other accounts)")


def test_an_audit_log_from_before_intents_is_upgraded_in_place(tmp_path):
    database = tmp_path / "bot.sqlite3"
    with sqlite3.connect(database) as db:  # the table as the first release created it, with one change in it
        db.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL,"
                   " actor_id INTEGER, action TEXT NOT NULL, entry_id TEXT, path TEXT, entry_before TEXT,"
                   " entry_after TEXT, file_before TEXT, file_after TEXT, generation_before TEXT,"
                   " generation_after TEXT, undoes INTEGER)")
        db.execute("INSERT INTO audit (at, actor, action, entry_id, path, file_after) VALUES (1, 'mod', 'add', 'x',"
                   " 'faq/90-moderators.yaml', 'text')")
    audit = AuditLog(database)
    change = audit.last_change()
    assert (change.entry_id, change.state, change.file_after) == ("x", "done", "text")
    assert audit.pending() == []
