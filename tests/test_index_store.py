"""The index artifact: round trip, manifest checks, status, atomic builds, corruption, cache, rollback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.errors import IndexUnavailableError, StorageError
from bot.index import store as index_store
from bot.index.store import (
    CORRUPT,
    FRESH,
    MISSING,
    STALE,
    build_index,
    check_status,
    current_generation,
    load_index,
    rollback,
)

from .conftest import FakeEncoder


def test_round_trip_gives_the_same_passages_and_scores(config, fake_encoder):
    result = build_index(config, fake_encoder)
    loaded = load_index(config, fake_encoder)
    assert loaded.generation == result.generation
    assert len(loaded.passages) == result.manifest["passages"]
    query = fake_encoder.encode_queries(["honey bees"])[0]
    first = loaded.search(query, 3)
    again = load_index(config, fake_encoder).search(query, 3)
    assert first == again
    assert loaded.passages[first[0][0]].doc_id == "letter"


def test_manifest_records_what_the_index_was_built_from(config, fake_encoder):
    manifest = build_index(config, fake_encoder).manifest
    assert manifest["model"] == {"id": "fake/hashed-words", "fingerprint": "fake0001", "dimension": 256,
                                 "normalized": True, "metric": "inner_product", "kind": "base"}
    assert manifest["corpus_hash"] == index_store.corpus_fingerprint(config.corpus_dir)
    assert manifest["passages"] == 10 and manifest["rows"] > manifest["passages"]
    for key in ("python", "faiss-cpu", "numpy", "redlines-bot"):
        assert key in manifest["versions"]
    on_disk = json.loads((config.index_dir / "current" / "manifest.json").read_text())
    assert set(on_disk["files"]) == {"vectors.faiss", "passages.jsonl", "rows.jsonl"}


def test_status_missing_fresh_then_stale_after_a_corpus_edit(config, fake_encoder):
    assert check_status(config).state == MISSING
    build_index(config, fake_encoder)
    assert check_status(config, fake_encoder.fingerprint).state == FRESH
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    status = check_status(config)
    assert status.state == STALE and "corpus changed" in status.detail
    with pytest.raises(IndexUnavailableError, match="index build"):
        load_index(config, fake_encoder)


def test_an_index_for_another_model_is_refused(config, fake_encoder):
    build_index(config, fake_encoder)

    class OtherWeights(FakeEncoder):
        fingerprint = "other999"

    with pytest.raises(IndexUnavailableError) as info:
        load_index(config, OtherWeights())
    assert info.value.state == STALE and "weights" in str(info.value) and "redlines-bot index build" in str(info.value)

    class OtherModel(FakeEncoder):
        model_id = "someone/else"

    with pytest.raises(IndexUnavailableError, match="someone/else"):
        index_store.read_generation(config.index_dir / "current", OtherModel())


def test_truncated_faiss_file_gives_an_error_naming_the_path(config, fake_encoder):
    build_index(config, fake_encoder)
    vectors = config.index_dir / "current" / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    status = check_status(config)
    assert status.state == CORRUPT and "vectors.faiss" in status.detail
    with pytest.raises(IndexUnavailableError) as info:
        load_index(config, fake_encoder)
    assert str(vectors.name) in str(info.value) and "truncated" in str(info.value)


def test_garbage_manifest_is_corrupt(config, fake_encoder):
    build_index(config, fake_encoder)
    (config.index_dir / "current" / "manifest.json").write_text("{not json")
    status = check_status(config)
    assert status.state == CORRUPT and "manifest.json" in status.detail


def test_a_build_that_dies_midway_leaves_the_old_index_usable(config, fake_encoder, monkeypatch):
    first = build_index(config, fake_encoder)
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    real_write = index_store.write_bytes_atomic

    def dying_write(path, data):
        if path.name == "vectors.faiss":
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(index_store, "write_bytes_atomic", dying_write)
    with pytest.raises(StorageError, match="No space left on device"):
        build_index(config, fake_encoder)
    assert current_generation(config.index_dir) == first.generation
    assert not list(config.index_dir.glob(".tmp-*"))
    old = index_store.read_generation(config.index_dir / first.generation, fake_encoder)
    assert len(old.passages) == first.manifest["passages"]


def test_leftover_temporary_folder_of_a_killed_build_is_cleaned(config, fake_encoder):
    config.index_dir.mkdir(parents=True)
    leftover = config.index_dir / ".tmp-gen-20250101T000000Z-deadbeef-999999999"
    leftover.mkdir()
    build_index(config, fake_encoder)
    assert not leftover.exists()


def test_unchanged_passages_are_not_encoded_again(config):
    encoder = FakeEncoder()
    first = build_index(config, encoder)
    assert first.encoded == first.manifest["rows"]
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    encoder.encoded_documents.clear()
    second = build_index(config, encoder)
    # Only the edited answer's texts (question + answer together) are new.
    assert second.encoded == 1
    assert encoder.encoded_documents == ["Who organised the call? Three groups organised it, CeSIA, The Future Society and CHAI."]


def test_rollback_restores_the_previous_generation(config, fake_encoder):
    first = build_index(config, fake_encoder)
    faq = config.corpus_dir / "faq" / "faq.yaml"
    faq.write_text(faq.read_text().replace("Three nonprofits", "Three groups"), encoding="utf-8")
    second = build_index(config, fake_encoder)
    assert current_generation(config.index_dir) == second.generation
    assert rollback(config.index_dir) == first.generation
    assert current_generation(config.index_dir) == first.generation
    assert len(list(config.index_dir.glob("gen-*"))) == 2


def test_rollback_without_previous_generation_is_refused(config, fake_encoder):
    build_index(config, fake_encoder)
    with pytest.raises(IndexUnavailableError, match="no previous generation"):
        rollback(config.index_dir)


def test_search_drops_padding_ids(config, fake_encoder):
    build_index(config, fake_encoder)
    index = load_index(config, fake_encoder)
    results = index.search(np.ones(256, dtype=np.float32) / 16, 1000)
    assert len(results) == len(index.passages)
    assert all(0 <= passage < len(index.passages) for passage, _ in results)


def test_every_passage_scored_in_one_product_equals_the_faiss_search(config, fake_encoder):
    build_index(config, fake_encoder)
    index = load_index(config, fake_encoder)
    assert index.flat_view is not None
    for question in ("honey bees", "who signed the letter", "zzz"):
        query = fake_encoder.encode_queries([question])[0]
        reference = np.full(len(index.passages), -np.inf, dtype=np.float32)
        scores, ids = index.search_rows(query, int(index.vectors.ntotal))
        np.maximum.at(reference, index.row_passage[ids], scores)
        assert np.array_equal(index.passage_scores(query), reference)  # FAISS's kernel: the same bits


def test_a_passage_without_rows_scores_minus_infinity_in_the_one_product(config, fake_encoder):
    build_index(config, fake_encoder)
    index = load_index(config, fake_encoder)
    # Drop the rows of passage 0 (as if it had none): its score is -inf, the others' are unchanged.
    keep = index.row_passage != 0
    import dataclasses

    import faiss

    vectors = faiss.IndexFlatIP(index.flat_view.shape[1])
    vectors.add(np.ascontiguousarray(index.flat_view[keep]))
    fewer = dataclasses.replace(index, row_passage=index.row_passage[keep], vectors=vectors)
    query = fake_encoder.encode_queries(["honey bees"])[0]
    scores = fewer.passage_scores(query)
    assert scores[0] == -np.inf
    assert np.allclose(scores[1:], index.passage_scores(query)[1:], atol=1e-6)


def test_rows_out_of_passage_order_score_the_same(config, fake_encoder):
    # After live edits a passage's new rows come last: the product is read back in passage order.
    import dataclasses

    import faiss

    build_index(config, fake_encoder)
    index = load_index(config, fake_encoder)
    order = np.random.default_rng(5).permutation(len(index.row_passage))
    vectors = faiss.IndexFlatIP(index.flat_view.shape[1])
    vectors.add(np.ascontiguousarray(index.flat_view[order]))
    shuffled = dataclasses.replace(index, row_passage=index.row_passage[order], vectors=vectors)
    query = fake_encoder.encode_queries(["honey bees"])[0]
    assert np.allclose(shuffled.passage_scores(query), index.passage_scores(query), atol=1e-6)


def test_progress_bar_draws_on_a_terminal_only():
    import io

    from bot.index.progress import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(4, "encoding passages", stream=stream, enabled=True)
    bar.advance(2)
    bar.advance(2)
    assert "encoding passages [" in stream.getvalue() and stream.getvalue().endswith("] 4/4\n")
    quiet = io.StringIO()
    ProgressBar(4, "x", stream=quiet).advance(4)  # StringIO is not a terminal
    assert quiet.getvalue() == ""


def test_records_are_read_one_line_at_a_time_as_decoding_the_whole_file_read_them():
    # Raw line separators inside texts (older generations), accents, Han, an empty line, no final newline.
    items = [{"text": "CeSIA,\u2028The Future\u2029Society\x85and\rCHAI"}, {"text": "appel lancé 人工智能"}, {"n": 3}]
    data = b"".join(json.dumps(item, ensure_ascii=False).encode("utf-8") + b"\n" for item in items) + b"\n" + b'{"n": 4}'
    assert list(index_store._jsonl_items(data)) == [json.loads(line) for line in data.decode("utf-8").split("\n") if line]
    records = index_store._jsonl_items(b'{"n": 1}\nnot json\n')
    assert next(records) == {"n": 1}  # the next line is not parsed before it is asked for
    with pytest.raises(ValueError):
        next(records)
    with pytest.raises(ValueError):  # not UTF-8: unreadable, as when the whole file was decoded first
        list(index_store._jsonl_items(b'{"n": 1}\n{"t": "\xff"}\n'))
