"""The index as an artifact: built, written atomically with a manifest, checked on load.

Layout of ``index/``::

    current -> gen-20261130T031500Z-1a2b3c4d    (symlink swapped in one rename)
    previous -> gen-...                          (the generation before, for rollback)
    gen-.../manifest.json                        model, dimension, corpus hash, versions, file hashes
    gen-.../vectors.faiss                        IndexIDMap over IndexFlatIP (or IndexIVFFlat above
                                                 retrieval.approximate_above passages); ids are row numbers
    gen-.../passages.jsonl                       passages in id order
    gen-.../rows.jsonl                           embedded texts' hashes and the passage each maps to
    gen-.../quality-models.json                  optional: the ranking and decline models fitted for it

A build writes a new generation in a temporary folder, reads it back exactly as a loader would (a
generation that does not read back as written is never published), renames it into place and only
then moves ``current``, so a build that dies midway leaves the old index in use. ``refused.json``
records a build the quality guard refused, so the last good generation is served and says why.

Writers (builds, publishing, rollback) run under the writer lock of ``bot.storage.locks``; readers
take no lock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import os
import platform
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from bot import __version__
from bot.config import Config
from bot.corpus.passages import SPLITTER_VERSION, EmbeddingRow, Passage, corpus_passages
from bot.corpus.reader import Corpus, content_hash, load_corpus
from bot.errors import IndexUnavailableError, StorageError, UserFacingError
from bot.index.embedding_cache import EmbeddingCache
from bot.index.encoder import Encoder
from bot.index.progress import ProgressBar
from bot.storage.atomic import fsync_dir, point_symlink, write_bytes_atomic
from bot.storage.locks import process_alive

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
PASSAGES = "passages.jsonl"
ROWS = "rows.jsonl"
CURRENT = "current"
PREVIOUS = "previous"
REFUSED = "refused.json"
GENERATIONS_KEPT = 2
# The approximate (IVF) index: lists = 2·√rows; each query scans max(32, lists/20) of them (5% at 100k passages).
IVF_LISTS_PER_SQRT_ROW = 2.0
IVF_MIN_PROBES = 32
IVF_PROBE_FRACTION = 20
IVF_TRAINING_ROWS_PER_LIST = 64
IVF_REUSE_TOLERANCE = 0.25  # reuse the replaced generation's lists while the corpus is within ~50% of its size

FRESH, STALE, MISSING, CORRUPT = "fresh", "stale", "missing", "corrupt"
FLAT, IVF = "flat", "ivf"


@dataclass(frozen=True, eq=False)
class SearchIndex:
    """One loaded, immutable index generation: passages, their vectors, and the manifest.

    What a question needs beyond that is derived once, when the generation is loaded (never on a question):
    here, each passage's rows and language; in ``derived``, what the core adds (the keyword index).
    """

    generation: str
    manifest: dict[str, Any]
    passages: tuple[Passage, ...]
    row_passage: np.ndarray
    vectors: Any
    # Filled when the generation is loaded, before it is swapped in (``bot.core.retrieval.prepare``).
    derived: dict[str, Any] = field(default_factory=dict, repr=False)
    # Further files of the generation (listed and hash-checked in the manifest like the others), by name.
    extras: dict[str, bytes] = field(default_factory=dict, repr=False)
    # Rows of passage p are passage_row_ids[passage_row_starts[p]:passage_row_starts[p + 1]].
    passage_row_starts: np.ndarray = field(init=False, repr=False)
    passage_row_ids: np.ndarray = field(init=False, repr=False)
    # Each passage's language, for the ranking bonus, as an array so that it is compared in numpy.
    languages: np.ndarray = field(init=False, repr=False)
    # The flat index's vectors read in place (None for IVF, whose rows are read back by id).
    flat_view: np.ndarray | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        order = np.argsort(self.row_passage, kind="stable")
        counts = np.bincount(self.row_passage, minlength=len(self.passages)) if len(self.row_passage) \
            else np.zeros(len(self.passages), dtype=np.int64)
        starts = np.zeros(len(self.passages) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        object.__setattr__(self, "passage_row_starts", starts)
        object.__setattr__(self, "passage_row_ids", order.astype(np.int64))
        object.__setattr__(self, "languages", np.array([p.language for p in self.passages], dtype=object))
        kind = self.vector_index_type
        if kind == IVF:
            _inner(self.vectors).make_direct_map()  # so that rows can be read back by id (``row_vectors``)
        object.__setattr__(self, "flat_view", _flat_vectors(self.vectors) if kind == FLAT else None)

    def in_language(self, language: str) -> np.ndarray:
        """Which passages are written in ``language`` (bool per passage), kept once asked for: comparing the
        languages as Python strings costs a call per passage on every question."""
        masks = self.derived.setdefault("language_masks", {})
        found = masks.get(language)
        if found is None:
            found = masks[language] = self.languages == language
        return found

    @property
    def version(self) -> str:
        """Short label for answers and /about: generation time and corpus hash."""
        return f"{self.manifest['built_at'][:16]}Z · corpus {self.manifest['corpus_hash'][:8]}"

    @property
    def vector_index_type(self) -> str:
        """``flat`` (exact) or ``ivf`` (approximate), as recorded in the manifest (older ones are flat)."""
        return self.manifest.get("vector_index", {}).get("type", FLAT)

    @property
    def approximate(self) -> bool:
        return self.vector_index_type != FLAT

    def search(self, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Best passages for one normalised query vector: (passage index, cosine), best first.

        A passage embedded several times (an FAQ entry's phrasings) counts once, with its best row.
        """
        scores = self.passage_scores(query, rows=min(int(self.vectors.ntotal), limit * 4 + 8))
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(int(p), float(scores[p])) for p in order if scores[p] > -np.inf]

    def search_rows(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best rows for one query, best first: (cosines, row ids), FAISS's padding dropped.

        Exact with the flat index; with IVF, the rows of the ``nprobe`` nearest lists (every list when
        ``k`` covers every row, so that asking for everything is always exact).
        """
        total = int(self.vectors.ntotal)
        k = min(k, total)
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        params = None
        if self.vector_index_type == IVF:
            import faiss

            lists = int(self.manifest["vector_index"]["nlist"])
            probes = lists if k >= total else int(self.manifest["vector_index"]["nprobe"])
            params = faiss.SearchParametersIVF()
            params.nprobe = probes
        scores, ids = self.vectors.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        found = ids[0] >= 0  # FAISS pads with -1 when it has fewer than k hits; passages[-1] would be wrong.
        return scores[0][found], ids[0][found]

    def passage_scores(self, query: np.ndarray, rows: int | None = None) -> np.ndarray:
        """Each passage's best cosine over its rows among the top ``rows`` (all by default); -inf if unseen."""
        best = np.full(len(self.passages), -np.inf, dtype=np.float32)
        total_rows = int(self.vectors.ntotal)
        k = total_rows if rows is None else min(rows, total_rows)
        if k <= 0:
            return best
        if k == total_rows and self.flat_view is not None:
            # Every row of the flat index: its cosines in row order and a maximum per passage, in place of FAISS's
            # top-k heap over all rows, which it would sort for nothing (half the time on a question). FAISS's own
            # inner-product kernel, as in ``exact_passage_scores``: the same bits as its search.
            starts = self.passage_row_starts
            held = starts[1:] > starts[:-1]
            if held.any():
                cosines = _inner_products(self.flat_view, query, self.passage_row_ids)
                best[held] = np.maximum.reduceat(cosines, starts[:-1][held])
            return best
        scores, ids = self.search_rows(query, k)
        np.maximum.at(best, self.row_passage[ids], scores)
        return best

    def row_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of some rows (read in place for the flat index, by id for IVF)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.flat_view is not None:
            return self.flat_view[rows]
        if not len(rows):
            return np.zeros((0, int(self.vectors.d)), dtype=np.float32)
        return _inner(self.vectors).reconstruct_batch(rows)

    def rows_of(self, passages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of some passages, and for each row the position of its passage in ``passages``."""
        starts = self.passage_row_starts[passages]
        counts = self.passage_row_starts[passages + 1] - starts
        owner = np.repeat(np.arange(len(passages)), counts)
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        return self.passage_row_ids[np.repeat(starts, counts) + offsets], owner

    def exact_passage_scores(self, query: np.ndarray, passages: np.ndarray,
                             seen: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Each listed passage's best cosine over all its rows; -1 for one with none.

        ``seen`` holds rows already scored by ``search_rows`` (ids, cosines): a passage all of whose rows are
        there is not computed again. The rest are computed with FAISS's own inner-product kernel, so that the
        bits are those of a full search and passages tie exactly when they should (numpy sums in another order
        and breaks such ties differently).
        """

        best = np.full(len(passages), -np.inf, dtype=np.float32)
        todo = np.arange(len(passages))
        if seen is not None and len(seen[0]):
            seen_rows, seen_scores = seen
            position = np.searchsorted(passages, self.row_passage[seen_rows])  # passages is sorted (a union)
            position = np.minimum(position, len(passages) - 1)
            listed = passages[position] == self.row_passage[seen_rows]
            np.maximum.at(best, position[listed], seen_scores[listed])
            found = np.bincount(position[listed], minlength=len(passages))
            total = self.passage_row_starts[passages + 1] - self.passage_row_starts[passages]
            todo = np.flatnonzero(found < total)
            best[todo] = -np.inf
        rows, owner = self.rows_of(passages[todo])
        if len(rows):
            query = np.ascontiguousarray(query, dtype=np.float32)
            if self.flat_view is not None:
                stored, ids = self.flat_view, rows
            else:
                stored, ids = np.ascontiguousarray(self.row_vectors(rows)), np.arange(len(rows), dtype=np.int64)
            np.maximum.at(best, todo[owner], _inner_products(stored, query, ids))
        best[np.isneginf(best)] = -1.0
        return best


def _inner_products(stored: np.ndarray, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The query's inner product with the rows ``ids`` of ``stored``, in that order, by FAISS's kernel (the bits of
    its search; numpy sums in another order, and ties between passages would break differently)."""
    import faiss

    query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    products = np.empty(len(ids), dtype=np.float32)
    # A SWIG function of faiss (faiss/utils/distances.h) that faiss's generated stubs leave out.
    inner_products_by_idx = faiss.fvec_inner_products_by_idx  # type: ignore[attr-defined]
    inner_products_by_idx(faiss.swig_ptr(products), faiss.swig_ptr(query), faiss.swig_ptr(stored),
                          faiss.swig_ptr(ids), int(query.shape[0]), 1, len(ids))
    return products


def return_freed_memory() -> None:
    """Give memory freed after building or swapping a generation back to the system. At 100k passages,
    tokenising, or an edit's rebuild and the generation it replaces, leave 100-200 MB of freed but fragmented
    heap that glibc keeps resident unless asked (measured: 733 -> 520 MB after an edit). Elsewhere a no-op."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _inner(vectors: Any) -> Any:
    """The index inside an ``IndexIDMap`` (or the index itself)."""
    import faiss

    inner = getattr(vectors, "index", None)
    return faiss.downcast_index(inner) if inner is not None else faiss.downcast_index(vectors)


def _flat_vectors(vectors: Any) -> np.ndarray:
    """A read-only numpy view of a flat index's stored vectors (no copy: 147 MB at 100k passages)."""
    import faiss

    flat = _inner(vectors)
    total, dimension = int(flat.ntotal), int(flat.d)
    if total == 0:
        return np.zeros((0, dimension), dtype=np.float32)
    view = faiss.rev_swig_ptr(flat.get_xb(), total * dimension).reshape(total, dimension)
    view.flags.writeable = False
    return view


@dataclass(frozen=True)
class IndexStatus:
    """What ``index status`` reports: fresh / stale / missing / corrupt, and why."""

    state: str
    detail: str
    generation: str | None = None
    manifest: dict[str, Any] | None = None
    # Set when the corpus changed but its rebuild was refused by the quality guard: this generation is the last
    # good one and is served anyway (``record_refusal``).
    refusal: dict[str, Any] | None = None

    @property
    def fresh(self) -> bool:
        return self.state == FRESH

    @property
    def servable(self) -> bool:
        """Fresh, or the last good generation kept after a refused rebuild."""
        return self.fresh or self.refusal is not None


# Files built from a generation before it is written (the fitted quality models), and what the manifest says
# of them: ``derive(index) -> (files, manifest entries)``.
Derive = Callable[["SearchIndex"], tuple[dict[str, bytes], dict[str, Any]]]


@dataclass(frozen=True)
class BuildResult:
    generation: str
    manifest: dict[str, Any]
    encoded: int
    reused: int
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # The generation as it was read back to verify it (so callers need not read it a second time).
    index: SearchIndex | None = field(default=None, repr=False, compare=False)


class GenerationUnreadable(UserFacingError):
    """A generation just written did not read back as written; it was not published."""


class CorpusChanging(UserFacingError):
    """The corpus files kept changing while they were read, so no consistent snapshot could be indexed."""


def fingerprint_of(corpus_content_hash: str) -> str:
    """What the index must match: the corpus files' hash and the way they are split into passages."""
    return hashlib.sha256(f"{corpus_content_hash}:{SPLITTER_VERSION}".encode()).hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> str:
    """The fingerprint of the corpus as it is on disk now."""
    return fingerprint_of(content_hash(corpus_dir))


def load_corpus_snapshot(corpus_dir: Path, attempts: int = 3) -> Corpus:
    """The corpus, read while no file changed: its ``content_hash`` is the hash of exactly what was parsed.

    An index stamped with the hash of the files as they are *after* the build would call itself fresh while
    missing an edit made during the build; this one is stamped with what it was built from.
    """
    for _ in range(attempts):
        before = content_hash(corpus_dir)
        corpus = load_corpus(corpus_dir)
        if corpus.content_hash == before:
            return corpus
    raise CorpusChanging("the corpus files kept changing while they were read; try again once the edits are done")


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


def build_faiss(vectors: np.ndarray, approximate: bool = False,
                previous: SearchIndex | None = None) -> tuple[Any, dict[str, Any]]:
    """The FAISS index over normalised row vectors (inner product = cosine), with explicit int64 row ids,
    and its description for the manifest.

    Exact (``IndexFlatIP``) by default. ``approximate`` gives an ``IndexIVFFlat``: 2·√rows lists, each query
    scanning the ``nprobe`` nearest. Measured on 100k synthetic passages with real questions
    (``bench --scale``), IVF kept recall@10 >= 0.98 against flat where HNSW needed a slower search and a
    15x slower build (37 s against 2.2 s) for the same recall; IVF rows can also be read back by id.
    When ``previous`` (the generation being replaced) has an IVF index for a corpus of about the same size,
    its lists are reused rather than trained again: a moderator's edit changes a few rows, not where the
    clusters are, and training is a third of an edit's time at 100k passages.
    """
    import faiss

    rows, dimension = vectors.shape
    ids = np.arange(rows, dtype=np.int64)
    if not approximate:
        flat = faiss.IndexIDMap(faiss.IndexFlatIP(dimension))
        if rows:
            flat.add_with_ids(vectors, ids)
        return flat, {"type": FLAT}
    lists = max(1, int(round(IVF_LISTS_PER_SQRT_ROW * math.sqrt(rows))))
    reusable = previous is not None and previous.vector_index_type == IVF and \
        abs(int(previous.manifest["vector_index"]["nlist"]) - lists) <= lists * IVF_REUSE_TOLERANCE
    if reusable:
        assert previous is not None
        old = _inner(previous.vectors)
        lists = int(old.nlist)
        quantizer = faiss.IndexFlatIP(dimension)
        quantizer.add(faiss.downcast_index(old.quantizer).reconstruct_n(0, lists))
        index = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
        index.is_trained = True
    else:
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
        # k-means on 64 rows per list: 4x faster to train than FAISS's default 256, no loss of recall measured.
        index.cp.max_points_per_centroid = IVF_TRAINING_ROWS_PER_LIST
        index.cp.seed = 1234
        index.train(vectors)
    probes = min(lists, max(IVF_MIN_PROBES, lists // IVF_PROBE_FRACTION))
    index.add_with_ids(vectors, ids)
    index.nprobe = probes
    description = {"type": IVF, "nlist": lists, "nprobe": probes}
    if reusable:
        assert previous is not None
        description["lists_from"] = previous.manifest["vector_index"].get("lists_from", previous.generation)
    return index, description


def build_index(config: Config, encoder: Encoder, corpus: Corpus | None = None,
                show_progress: bool | None = None, use_cache: bool = True, publish_now: bool = True,
                derive: Derive | None = None, previous: SearchIndex | None = None) -> BuildResult:
    """Encode the corpus and write a new generation; make it current unless ``publish_now`` is false
    (then the caller checks it first and calls ``publish`` or ``discard``). ``derive`` adds files built from
    the new generation before it is written (the quality models fitted on it); ``previous``, the generation in
    service, lends its IVF lists (see ``build_faiss``)."""
    started = dt.datetime.now(dt.UTC)
    corpus = corpus or load_corpus_snapshot(config.corpus_dir)
    # The hash of the files this corpus was parsed from, not of the files now: they may have changed since.
    fingerprint = fingerprint_of(corpus.content_hash)
    passages, rows = corpus_passages(corpus)
    cache = None
    if use_cache:
        cache = EmbeddingCache.for_model(config.data_dir / "embedding-cache", encoder.model_id,
                                         encoder.fingerprint, encoder.dimension)
    vectors, encoded = encode_rows(rows, encoder, cache, show_progress)
    if cache is not None:
        try:
            cache.save(keep={row.text_hash for row in rows})
        except OSError as exc:  # the cache only saves time: a full data folder must not stop the build
            log.warning("could not save the embedding cache %s (%s); the next build encodes these texts again",
                        cache.path, exc.strerror or exc)
    manifest = {
        "format": FORMAT_VERSION,
        "model": {"id": encoder.model_id, "fingerprint": encoder.fingerprint, "dimension": encoder.dimension,
                  "normalized": True, "metric": "inner_product", **encoder_provenance(encoder)},
        "corpus_hash": fingerprint,
        "splitter_version": SPLITTER_VERSION,
        "passages": len(passages),
        "rows": len(rows),
        "built_at": started.strftime("%Y-%m-%dT%H:%M:%S"),
        "newest_fact": corpus.newest_fact(),
        "versions": library_versions(),
    }
    approximate = len(passages) > config.retrieval.approximate_above
    faiss_index, description = build_faiss(vectors, approximate, previous)
    manifest["vector_index"] = description
    extras: dict[str, bytes] = {}
    if derive is not None:
        row_passage = np.array([row.passage for row in rows], dtype=np.int64)
        extras, described = derive(SearchIndex("(being built)", manifest, tuple(passages), row_passage, faiss_index))
        manifest.update(described)
    index = write_generation(config.index_dir, manifest, passages, rows, faiss_index, publish_now, extras)
    elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds()
    log.info("built index %s: %d passages, %d rows, %d encoded", index.generation, len(passages), len(rows), encoded)
    return BuildResult(index.generation, index.manifest, encoded, len(rows) - encoded, elapsed, index=index)


def _jsonl(items: list[dict[str, Any]]) -> bytes:
    # ASCII only: a raw U+2028, U+2029 or U+0085 inside a line is a line break to many readers (Python's
    # str.splitlines among them), which once made every index built from such a text unreadable.
    return "".join(json.dumps(item, ensure_ascii=True) + "\n" for item in items).encode("ascii")


def _jsonl_items(data: bytes) -> Iterator[Any]:
    """Each record, one line at a time: what a reader keeps of one (a passage's strings) is allocated while the
    temporaries of the lines before it are already freed, so the heap stays compact. Decoding the whole file and
    splitting it, then parsing every line before the first passage was made, left 160 MB more resident after
    reading 100k passages (Python held 80 MB of the 250 MB they took)."""
    # Records end at "\n" only, never at the other Unicode line breaks: generations written before the
    # ASCII-only writer hold those raw inside their texts, and stay readable. The byte 0x0A is "\n" wherever
    # it appears in UTF-8, so splitting the bytes there and decoding each line reads what decoding first did.
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        if end > start:
            yield json.loads(data[start:end].decode("utf-8"))
        start = end + 1


def write_generation(index_dir: Path, manifest: dict[str, Any], passages: list[Passage],
                     rows: list[EmbeddingRow], vectors: Any, publish_now: bool = True,
                     extras: dict[str, bytes] | None = None) -> SearchIndex:
    """Write a generation into a temporary folder, read it back, rename it into place, then point ``current``
    at it. Returns the generation as read back. ``extras`` are further files (the fitted quality models)."""
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
            **(extras or {}),
        }
        manifest = {**manifest, "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                                          for name, data in files.items()}}
        for name, data in files.items():
            write_bytes_atomic(temp / name, data)
        # The manifest goes last: a generation folder without one is never loaded.
        write_bytes_atomic(temp / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
        written = _verify_written(temp, generation, passages, rows)
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
    return written


def _verify_written(folder: Path, generation: str, passages: list[Passage], rows: list[EmbeddingRow]) -> SearchIndex:
    """Read a generation back exactly as a loader would, and compare it with what was meant to be written."""
    try:
        read = _read_files(folder, read_manifest(folder))
    except IndexUnavailableError as exc:
        problem = exc.detail
    else:
        same_rows = read.row_passage.tolist() == [row.passage for row in rows]
        if read.passages == tuple(passages) and same_rows:
            return dataclasses.replace(read, generation=generation)
        problem = "the passages read back differ from the passages written"
    raise GenerationUnreadable(
        f"the new index generation did not read back as written ({problem}); it was not published and the "
        "live index is unchanged. Please report this with the corpus change that caused it")


def discard(index_dir: Path, generation: str) -> None:
    """Delete a generation that was written but not published."""
    if generation not in (current_generation(index_dir), previous_generation(index_dir)):
        shutil.rmtree(index_dir / generation, ignore_errors=True)


def publish(index_dir: Path, generation: str) -> None:
    """Make ``generation`` current and keep the one it replaces as ``previous`` (unless both hold the same
    content: then ``previous`` stays, so a rollback always goes back to a different index)."""
    if not (index_dir / generation / MANIFEST).is_file():
        raise IndexUnavailableError(MISSING, f"{generation} is not a complete generation in {index_dir}; "
                                             "`current` was not moved")
    current = current_generation(index_dir)
    if current and current != generation and not same_content(index_dir, current, generation):
        point_symlink(index_dir / PREVIOUS, current)
    point_symlink(index_dir / CURRENT, generation)
    (index_dir / REFUSED).unlink(missing_ok=True)
    _prune(index_dir)


def same_content(index_dir: Path, first: str, second: str) -> bool:
    """Whether two generations answer identically: same model, corpus, passages and embedded texts."""
    try:
        a, b = read_manifest(index_dir / first), read_manifest(index_dir / second)
    except IndexUnavailableError:
        return False

    def identity(manifest: dict[str, Any]) -> tuple:
        files = manifest["files"]
        return (manifest["model"].get("id"), manifest["model"].get("fingerprint"), manifest["corpus_hash"],
                manifest.get("splitter_version"), files.get(PASSAGES, {}).get("sha256"), files.get(ROWS, {}).get("sha256"))

    return identity(a) == identity(b)


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
    try:  # never make a generation current that cannot be loaded
        _read_files(index_dir / previous, read_manifest(index_dir / previous))
    except IndexUnavailableError as exc:
        raise IndexUnavailableError(CORRUPT, f"the previous generation cannot be read ({exc.detail}); "
                                             "`current` was not moved") from None
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
        if pid.isdigit() and process_alive(int(pid)) and int(pid) != os.getpid():
            continue
        shutil.rmtree(path, ignore_errors=True)



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


def _check_file(generation_dir: Path, manifest: dict[str, Any], name: str) -> Path:
    """The file's path once its size and sha256 match the manifest (hashed in chunks: the vectors of 100k
    passages are 180 MB, which need not be held twice)."""
    path = generation_dir / name
    expected = manifest["files"].get(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise IndexUnavailableError(CORRUPT, f"{path} cannot be read ({exc.strerror})") from None
    if not expected or size != expected["bytes"] or digest.hexdigest() != expected["sha256"]:
        wanted = expected["bytes"] if expected else "?"
        raise IndexUnavailableError(CORRUPT, f"{path} is damaged or truncated ({size} bytes, manifest says {wanted})")
    return path


def _read_checked(generation_dir: Path, manifest: dict[str, Any], name: str) -> bytes:
    path = _check_file(generation_dir, manifest, name)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IndexUnavailableError(CORRUPT, f"{path} cannot be read ({exc.strerror})") from None


# Fields that repeat across passages (a document's title and address...): one string object each, not one per
# passage (about 30 MB saved at 100k passages).
_SHARED_FIELDS = ("doc_id", "title", "kind", "language", "url", "path")


def _read_passages(data: bytes) -> tuple[Passage, ...]:
    shared: dict[str, str] = {}
    passages = []
    for fields in _jsonl_items(data):
        for name in _SHARED_FIELDS:
            value = fields.get(name)
            if isinstance(value, str):
                fields[name] = shared.setdefault(value, value)
        passages.append(Passage(**fields))
    return tuple(passages)


def record_refusal(index_dir: Path, refusal: dict[str, Any]) -> None:
    """Remember that the quality guard refused to publish a build of this corpus: the current generation is
    then the last good one, served (and reported by ``index status``) until a build is published."""
    write_bytes_atomic(index_dir / REFUSED, json.dumps(refusal, indent=2).encode("utf-8"))


def read_refusal(index_dir: Path, generation: str | None, corpus_hash: str) -> dict[str, Any] | None:
    """The recorded refusal if it is about this corpus and this current generation, else None."""
    try:
        refusal = json.loads((index_dir / REFUSED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(refusal, dict) or refusal.get("corpus_hash") != corpus_hash or refusal.get("kept") != generation:
        return None
    return refusal


def describe_refusal(refusal: dict[str, Any]) -> str:
    return (f"the corpus changed, and its rebuild was refused by the quality guard at {refusal.get('refused_at')}Z "
            f"({refusal.get('reason')}): serving the last good generation {refusal.get('kept')}. Fix the corpus, "
            "or publish anyway with: redlines-bot index build --force")


def check_status(config: Config, model_fingerprint: str | None = None) -> IndexStatus:
    """Compare the current generation with the corpus and config, after reading it whole as a loader would:
    a generation that cannot be loaded is never called fresh."""
    index_dir = config.index_dir
    generation = current_generation(index_dir)
    if generation is None:
        return IndexStatus(MISSING, f"no index in {index_dir}")
    generation_dir = index_dir / generation
    if not generation_dir.is_dir():
        return IndexStatus(MISSING, f"{index_dir / CURRENT} points at {generation}, which does not exist", generation)
    try:
        manifest = read_manifest(generation_dir)
        _read_files(generation_dir, manifest)
    except IndexUnavailableError as exc:
        return IndexStatus(CORRUPT, exc.detail, generation)
    model = manifest["model"]
    if model.get("id") != config.model.id:
        return IndexStatus(STALE, f"built with model {model.get('id')}, config says {config.model.id}", generation, manifest)
    if model_fingerprint and model.get("fingerprint") != model_fingerprint:
        return IndexStatus(STALE, f"built with weights {model.get('fingerprint')}, installed weights are {model_fingerprint}",
                           generation, manifest)
    return _corpus_status(config, generation, manifest)


def _corpus_status(config: Config, generation: str, manifest: dict[str, Any]) -> IndexStatus:
    try:
        corpus_hash = corpus_fingerprint(config.corpus_dir)
    except OSError as exc:
        return IndexStatus(STALE, f"cannot read the corpus ({exc})", generation, manifest)
    if manifest["corpus_hash"] != corpus_hash:
        refusal = read_refusal(config.index_dir, generation, corpus_hash)
        if refusal is not None:
            return IndexStatus(STALE, describe_refusal(refusal), generation, manifest, refusal)
        return IndexStatus(STALE, "the corpus changed since the index was built", generation, manifest)
    detail = f"{manifest['passages']} passages, {manifest['rows']} vectors, built {manifest['built_at']}Z"
    return IndexStatus(FRESH, detail, generation, manifest)


def load_index(config: Config, encoder: Encoder, generation: str | None = None, allow_stale: bool = False) -> SearchIndex:
    """Load a generation (the current one by default), refusing a stale, corrupt or mismatched index.

    A stale current generation is served, with a warning, when it is the last good one after a rebuild the
    quality guard refused (``index status`` says so too).
    """
    index_dir = config.index_dir
    if generation is not None:
        return read_generation(index_dir / generation, encoder)
    index = _read_current(index_dir, encoder)
    status = _corpus_status(config, index.generation, index.manifest)
    if status.refusal is not None:
        log.warning("SERVING A STALE INDEX: %s", status.detail)
    elif status.state == STALE and not allow_stale:
        raise IndexUnavailableError(status.state, status.detail)
    return index


def _read_current(index_dir: Path, encoder: Encoder) -> SearchIndex:
    # Readers take no lock: if a writer moves `current` (and prunes) while we read, read the new one instead.
    for attempt in range(3):
        generation = current_generation(index_dir)
        if generation is None:
            raise IndexUnavailableError(MISSING, f"no index in {index_dir}")
        try:
            if not (index_dir / generation).is_dir():
                raise IndexUnavailableError(
                    MISSING, f"{index_dir / CURRENT} points at {generation}, which does not exist")
            return read_generation(index_dir / generation, encoder)
        except IndexUnavailableError:
            if attempt == 2 or current_generation(index_dir) == generation:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def read_generation(generation_dir: Path, encoder: Encoder) -> SearchIndex:
    """Read one generation folder, checking every file against the manifest and the encoder."""
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
    return _read_files(generation_dir, manifest)


def _read_files(generation_dir: Path, manifest: dict[str, Any]) -> SearchIndex:
    """Every file of a generation, checked against its manifest and parsed: what loading it takes. The vectors
    are read by FAISS from the checked file (not held twice in memory)."""
    import faiss

    vectors_path = _check_file(generation_dir, manifest, VECTORS)
    try:
        vectors = faiss.read_index(str(vectors_path))
    except RuntimeError as exc:
        raise IndexUnavailableError(CORRUPT, f"{generation_dir / VECTORS} cannot be read by FAISS ({exc})") from None
    try:
        passages = _read_passages(_read_checked(generation_dir, manifest, PASSAGES))
        row_passage = np.array([row["passage"] for row in _jsonl_items(_read_checked(generation_dir, manifest, ROWS))],
                               dtype=np.int64)
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexUnavailableError(CORRUPT, f"{generation_dir} has unreadable passages ({exc})") from None
    rows = len(row_passage)
    if (len(passages) != manifest["passages"] or rows != manifest["rows"] or vectors.ntotal != rows
            or vectors.d != manifest["model"].get("dimension")
            or (rows and (row_passage.max() >= len(passages) or row_passage.min() < 0))):
        raise IndexUnavailableError(CORRUPT, f"{generation_dir} has counts that do not match its manifest")
    extras = {name: _read_checked(generation_dir, manifest, name) for name in manifest["files"]
              if name not in (VECTORS, PASSAGES, ROWS)}
    return SearchIndex(generation_dir.name, manifest, passages, row_passage, vectors, extras=extras)
