"""The index as an artifact: built, written atomically with a manifest, checked on load.

Layout of ``index/``::

    current -> gen-20261130T031500Z-1a2b3c4d    (symlink swapped in one rename)
    previous -> gen-...                          (the generation before, for rollback)
    gen-.../manifest.json                        model, dimension, corpus hash, versions, file hashes
    gen-.../vectors.faiss                        IndexIDMap over IndexFlatIP; ids are row numbers
    gen-.../passages.jsonl                       passages in id order
    gen-.../rows.jsonl                           embedded texts' hashes and the passage each maps to

A build writes a new generation in a temporary folder, renames it into place and only then moves
``current``, so a build that dies midway leaves the old index in use.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import shutil
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from bot import __version__
from bot.config import Config
from bot.corpus.passages import SPLITTER_VERSION, EmbeddingRow, Passage, corpus_passages
from bot.corpus.reader import Corpus, content_hash, load_corpus
from bot.errors import IndexUnavailableError, StorageError
from bot.index.embedding_cache import EmbeddingCache
from bot.index.encoder import Encoder
from bot.index.progress import ProgressBar
from bot.storage.atomic import fsync_dir, point_symlink, write_bytes_atomic

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
PASSAGES = "passages.jsonl"
ROWS = "rows.jsonl"
CURRENT = "current"
PREVIOUS = "previous"
GENERATIONS_KEPT = 2

FRESH, STALE, MISSING, CORRUPT = "fresh", "stale", "missing", "corrupt"


@dataclass(frozen=True, eq=False)
class SearchIndex:
    """One loaded, immutable index generation: passages, their vectors, and the manifest."""

    generation: str
    manifest: dict[str, Any]
    passages: tuple[Passage, ...]
    row_passage: np.ndarray
    vectors: Any
    # Things derived from this generation on first use (the keyword index); they go when it goes.
    derived: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        """Short label for answers and /about: generation time and corpus hash."""
        return f"{self.manifest['built_at'][:16]}Z · corpus {self.manifest['corpus_hash'][:8]}"

    def search(self, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Best passages for one normalised query vector: (passage index, cosine), best first.

        A passage embedded several times (an FAQ entry's phrasings) counts once, with its best row.
        """
        scores = self.passage_scores(query, rows=min(int(self.vectors.ntotal), limit * 4 + 8))
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(int(p), float(scores[p])) for p in order if scores[p] > -np.inf]

    def passage_scores(self, query: np.ndarray, rows: int | None = None) -> np.ndarray:
        """Each passage's best cosine over its rows among the top ``rows`` (all by default); -inf if unseen."""
        best = np.full(len(self.passages), -np.inf, dtype=np.float32)
        total_rows = int(self.vectors.ntotal)
        k = total_rows if rows is None else min(rows, total_rows)
        if k <= 0:
            return best
        scores, ids = self.vectors.search(query.reshape(1, -1).astype(np.float32), k)
        found = ids[0] >= 0  # FAISS pads with -1 when it has fewer than k hits; passages[-1] would be wrong.
        np.maximum.at(best, self.row_passage[ids[0][found]], scores[0][found])
        return best


@dataclass(frozen=True)
class IndexStatus:
    """What ``index status`` reports: fresh / stale / missing / corrupt, and why."""

    state: str
    detail: str
    generation: str | None = None
    manifest: dict[str, Any] | None = None

    @property
    def fresh(self) -> bool:
        return self.state == FRESH


@dataclass(frozen=True)
class BuildResult:
    generation: str
    manifest: dict[str, Any]
    encoded: int
    reused: int
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def corpus_fingerprint(corpus_dir: Path) -> str:
    """What the index must match: the corpus files and the way they are split into passages."""
    return hashlib.sha256(f"{content_hash(corpus_dir)}:{SPLITTER_VERSION}".encode()).hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "redlines-bot": __version__}
    for name in ("faiss-cpu", "sentence-transformers", "torch", "numpy", "transformers"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def encode_rows(rows: list[EmbeddingRow], encoder: Encoder, cache: EmbeddingCache | None,
                show_progress: bool | None = None) -> tuple[np.ndarray, int]:
    """Vectors for every row, encoding only texts the cache does not hold. Returns (vectors, encoded)."""
    vectors = np.zeros((len(rows), encoder.dimension), dtype=np.float32)
    missing: list[int] = []
    for position, row in enumerate(rows):
        cached = cache.get(row.text_hash) if cache is not None else None
        if cached is None:
            missing.append(position)
        else:
            vectors[position] = cached
    if missing:
        bar = ProgressBar(len(missing), "encoding passages", enabled=show_progress)
        fresh = encoder.encode_documents([rows[i].text for i in missing], progress=bar.advance)
        for position, vector in zip(missing, fresh, strict=True):
            vectors[position] = vector
            if cache is not None:
                cache.put(rows[position].text_hash, vector)
    return vectors, len(missing)


def encoder_provenance(encoder: Encoder) -> dict[str, Any]:
    """Which encoder built an index: the packaged weights ("base") or the model adapted to the corpus, with
    what it was adapted from (``bot/index/adaptation.py``)."""
    adaptation = getattr(encoder, "adaptation", None)
    if not adaptation:
        return {"kind": "base"}
    keep = ("key", "base_fingerprint", "pairs", "pairs_sha256", "recipe")
    return {"kind": "adapted", "adaptation": {name: adaptation[name] for name in keep if name in adaptation}}


def build_faiss(vectors: np.ndarray) -> Any:
    """Exact inner-product search over normalised vectors (cosine), with explicit int64 row ids."""
    import faiss

    index = faiss.IndexIDMap(faiss.IndexFlatIP(vectors.shape[1]))
    if len(vectors):
        index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    return index


def build_index(config: Config, encoder: Encoder, corpus: Corpus | None = None,
                show_progress: bool | None = None, use_cache: bool = True, publish_now: bool = True) -> BuildResult:
    """Encode the corpus and write a new generation; make it current unless ``publish_now`` is false
    (then the caller checks it first and calls ``publish`` or ``discard``)."""
    started = dt.datetime.now(dt.UTC)
    corpus = corpus or load_corpus(config.corpus_dir)
    fingerprint = corpus_fingerprint(config.corpus_dir)
    passages, rows = corpus_passages(corpus)
    cache = None
    if use_cache:
        cache = EmbeddingCache.for_model(config.data_dir / "embedding-cache", encoder.model_id,
                                         encoder.fingerprint, encoder.dimension)
    vectors, encoded = encode_rows(rows, encoder, cache, show_progress)
    if cache is not None:
        cache.save(keep={row.text_hash for row in rows})
    manifest = {
        "format": FORMAT_VERSION,
        "model": {"id": encoder.model_id, "fingerprint": encoder.fingerprint, "dimension": encoder.dimension,
                  "normalized": True, "metric": "inner_product", **encoder_provenance(encoder)},
        "corpus_hash": fingerprint,
        "splitter_version": SPLITTER_VERSION,
        "passages": len(passages),
        "rows": len(rows),
        "built_at": started.strftime("%Y-%m-%dT%H:%M:%S"),
        "versions": library_versions(),
    }
    generation = write_generation(config.index_dir, manifest, passages, rows, build_faiss(vectors), publish_now)
    elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds()
    log.info("built index %s: %d passages, %d rows, %d encoded", generation, len(passages), len(rows), encoded)
    return BuildResult(generation, manifest, encoded, len(rows) - encoded, elapsed)


def _jsonl(items: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode("utf-8")


def write_generation(index_dir: Path, manifest: dict[str, Any], passages: list[Passage],
                     rows: list[EmbeddingRow], vectors: Any, publish_now: bool = True) -> str:
    """Write a generation into a temporary folder, rename it into place, then point ``current`` at it."""
    import faiss

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    generation = f"gen-{stamp}-{manifest['corpus_hash'][:8]}"
    temp = index_dir / f".tmp-{generation}-{os.getpid()}"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        _remove_abandoned_temporaries(index_dir)
        temp.mkdir()
    except OSError as exc:
        raise StorageError(index_dir, exc) from exc
    try:
        files = {
            PASSAGES: _jsonl([dataclasses.asdict(p) for p in passages]),
            ROWS: _jsonl([{"passage": r.passage, "text_sha256": r.text_hash} for r in rows]),
            VECTORS: faiss.serialize_index(vectors).tobytes(),
        }
        manifest = {**manifest, "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                                          for name, data in files.items()}}
        for name, data in files.items():
            write_bytes_atomic(temp / name, data)
        # The manifest goes last: a generation folder without one is never loaded.
        write_bytes_atomic(temp / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
        os.rename(temp, index_dir / generation)
        fsync_dir(index_dir)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise StorageError(getattr(exc, "filename", None) or temp, exc) from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if publish_now:
        try:
            publish(index_dir, generation)
        except OSError as exc:
            raise StorageError(index_dir / CURRENT, exc) from exc
    return generation


def discard(index_dir: Path, generation: str) -> None:
    """Delete a generation that was written but not published."""
    if generation not in (current_generation(index_dir), previous_generation(index_dir)):
        shutil.rmtree(index_dir / generation, ignore_errors=True)


def publish(index_dir: Path, generation: str) -> None:
    """Make ``generation`` current and keep the one it replaces as ``previous``."""
    current = current_generation(index_dir)
    if current and current != generation:
        point_symlink(index_dir / PREVIOUS, current)
    point_symlink(index_dir / CURRENT, generation)
    _prune(index_dir)


def current_generation(index_dir: Path) -> str | None:
    return _link_target(index_dir / CURRENT)


def previous_generation(index_dir: Path) -> str | None:
    return _link_target(index_dir / PREVIOUS)


def _link_target(link: Path) -> str | None:
    try:
        return os.readlink(link)
    except OSError:
        return None


def rollback(index_dir: Path) -> str:
    """Swap ``current`` and ``previous``; return the generation now current."""
    previous = previous_generation(index_dir)
    if not previous or not (index_dir / previous / MANIFEST).is_file():
        raise IndexUnavailableError(MISSING, f"no previous generation to roll back to in {index_dir}")
    current = current_generation(index_dir)
    point_symlink(index_dir / CURRENT, previous)
    if current:
        point_symlink(index_dir / PREVIOUS, current)
    return previous


def _prune(index_dir: Path) -> None:
    keep = {current_generation(index_dir), previous_generation(index_dir)}
    for path in index_dir.glob("gen-*"):
        if path.name not in keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _remove_abandoned_temporaries(index_dir: Path) -> None:
    """Remove folders left by builds that died (their process is gone)."""
    for path in index_dir.glob(".tmp-gen-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _process_alive(int(pid)) and int(pid) != os.getpid():
            continue
        shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_manifest(generation_dir: Path) -> dict[str, Any]:
    path = generation_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexUnavailableError(CORRUPT, f"{path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexUnavailableError(CORRUPT, f"{path} cannot be read ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise IndexUnavailableError(CORRUPT, f"{path} is not a format {FORMAT_VERSION} manifest")
    for key in ("model", "corpus_hash", "passages", "rows", "built_at", "files"):
        if key not in manifest:
            raise IndexUnavailableError(CORRUPT, f"{path} has no '{key}'")
    return manifest


def _read_checked(generation_dir: Path, manifest: dict[str, Any], name: str) -> bytes:
    path = generation_dir / name
    expected = manifest["files"].get(name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IndexUnavailableError(CORRUPT, f"{path} cannot be read ({exc.strerror})") from None
    if not expected or len(data) != expected["bytes"] or hashlib.sha256(data).hexdigest() != expected["sha256"]:
        size = expected["bytes"] if expected else "?"
        raise IndexUnavailableError(CORRUPT, f"{path} is damaged or truncated ({len(data)} bytes, manifest says {size})")
    return data


def check_status(config: Config, model_fingerprint: str | None = None) -> IndexStatus:
    """Compare the current generation with the corpus and config, without loading vectors."""
    index_dir = config.index_dir
    generation = current_generation(index_dir)
    if generation is None:
        return IndexStatus(MISSING, f"no index in {index_dir}")
    generation_dir = index_dir / generation
    if not generation_dir.is_dir():
        return IndexStatus(MISSING, f"{index_dir / CURRENT} points at {generation}, which does not exist", generation)
    try:
        manifest = read_manifest(generation_dir)
        for name in manifest["files"]:
            _read_checked(generation_dir, manifest, name)
    except IndexUnavailableError as exc:
        return IndexStatus(CORRUPT, exc.detail, generation)
    model = manifest["model"]
    if model.get("id") != config.model.id:
        return IndexStatus(STALE, f"built with model {model.get('id')}, config says {config.model.id}", generation, manifest)
    if model_fingerprint and model.get("fingerprint") != model_fingerprint:
        return IndexStatus(STALE, f"built with weights {model.get('fingerprint')}, installed weights are {model_fingerprint}",
                           generation, manifest)
    try:
        corpus_hash = corpus_fingerprint(config.corpus_dir)
    except OSError as exc:
        return IndexStatus(STALE, f"cannot read the corpus ({exc})", generation, manifest)
    if manifest["corpus_hash"] != corpus_hash:
        return IndexStatus(STALE, "the corpus changed since the index was built", generation, manifest)
    detail = f"{manifest['passages']} passages, {manifest['rows']} vectors, built {manifest['built_at']}Z"
    return IndexStatus(FRESH, detail, generation, manifest)


def load_index(config: Config, encoder: Encoder, generation: str | None = None, allow_stale: bool = False) -> SearchIndex:
    """Load a generation (the current one by default), refusing a stale, corrupt or mismatched index."""
    index_dir = config.index_dir
    if generation is None:
        status = check_status(config, encoder.fingerprint)
        if status.state == MISSING or (status.state == CORRUPT) or (status.state == STALE and not allow_stale):
            raise IndexUnavailableError(status.state, status.detail)
        generation = status.generation
    assert generation is not None
    return read_generation(index_dir / generation, encoder)


def read_generation(generation_dir: Path, encoder: Encoder) -> SearchIndex:
    """Read one generation folder, checking every file against the manifest and the encoder."""
    import faiss

    manifest = read_manifest(generation_dir)
    model = manifest["model"]
    if model.get("id") != encoder.model_id or model.get("dimension") != encoder.dimension:
        raise IndexUnavailableError(
            STALE, f"{generation_dir} was built for {model.get('id')} ({model.get('dimension')}-d), "
                   f"not {encoder.model_id} ({encoder.dimension}-d)")
    if model.get("fingerprint") != encoder.fingerprint:
        raise IndexUnavailableError(
            STALE, f"{generation_dir} was built with weights {model.get('fingerprint')}, "
                   f"the loaded model has {encoder.fingerprint}")
    vectors_data = _read_checked(generation_dir, manifest, VECTORS)
    try:
        vectors = faiss.deserialize_index(np.frombuffer(vectors_data, dtype=np.uint8))
    except RuntimeError as exc:
        raise IndexUnavailableError(CORRUPT, f"{generation_dir / VECTORS} cannot be read by FAISS ({exc})") from None
    try:
        passages = tuple(Passage(**json.loads(line)) for line in
                         _read_checked(generation_dir, manifest, PASSAGES).decode("utf-8").splitlines())
        rows = [json.loads(line) for line in _read_checked(generation_dir, manifest, ROWS).decode("utf-8").splitlines()]
        row_passage = np.array([row["passage"] for row in rows], dtype=np.int64)
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexUnavailableError(CORRUPT, f"{generation_dir} has unreadable passages ({exc})") from None
    if (len(passages) != manifest["passages"] or len(rows) != manifest["rows"] or vectors.ntotal != len(rows)
            or vectors.d != encoder.dimension or (len(rows) and row_passage.max() >= len(passages))):
        raise IndexUnavailableError(CORRUPT, f"{generation_dir} has counts that do not match its manifest")
    return SearchIndex(generation_dir.name, manifest, passages, row_passage, vectors)
