"""``redlines-bot bench --scale``: the real ``answer()`` on synthetic corpora of 1k, 10k and 100k passages
(1M with ``--huge``), each size in a process of its own so that sizes don't pollute each other's memory.

What is synthetic, and why: encoding 100k passages would take about twenty minutes here, so passage vectors
are made, not encoded — each a random mix of two of the real corpus's embedded rows plus noise (so they
cluster as real embeddings do; uniformly random vectors have no neighbourhoods at all and would make any
approximate index look broken). Passage texts are 40 words drawn from the real corpus's words; one passage in
ten has two phrasings, as FAQ entries do. The questions are the development set's, encoded by the real model
inside each ``answer()``. So every number below is the real answer path: encode, FAISS, BM25, fusion,
coverage, grouping.

Per size, built in one process (as ``index build``) and served in another (as the bot):

- ``build_s``: FAISS index and writing the generation, then reading it back and preparing it (no encoding);
- ``first_answer_ms``: the first question after the generation is loaded;
- ``answer_p50_ms``/``answer_p99_ms``: 200 warm questions; ``encode_p50_ms``: the bare model call on the same
  questions, interleaved; ``beyond_encode_p50_ms``: the median of answer minus encode, which the load of
  other processes on the machine disturbs less (``first_beyond_encode_ms`` likewise for the first answer);
- ``rss_mb``: resident memory of the serving process then;
- ``edit_s``, ``first_after_edit_ms``: a one-passage change built, loaded and swapped in by the serving process,
  as a moderator's edit is, and the first question after it; ``rss_after_edit_mb``, ``peak_rss_mb``;
- ``recall_at_10``: of the approximate index against exact search.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

SIZES = (1_000, 10_000, 100_000)
HUGE = 1_000_000
QUESTIONS = 200
WORDS_PER_PASSAGE = 40
NOISE = 0.04  # per dimension: the mixed vectors keep a cosine of about 0.6 with the rows they come from
SEED = 20261130


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _percentile(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p))


def synthetic_vectors(real_rows: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` unit vectors, each a random mix of two real rows plus noise."""
    rng = np.random.default_rng(seed)
    vectors = np.empty((count, real_rows.shape[1]), dtype=np.float32)
    for start in range(0, count, 50_000):  # in chunks: the temporaries of 1M rows at once would double memory
        n = min(50_000, count - start)
        first, second = rng.integers(0, len(real_rows), n), rng.integers(0, len(real_rows), n)
        share = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
        chunk = share * real_rows[first] + (1 - share) * real_rows[second]
        chunk += rng.standard_normal(chunk.shape, dtype=np.float32) * NOISE
        vectors[start:start + n] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return vectors


def synthetic_corpus(size: int, vocabulary: list[str], languages: list[str], seed: int):
    """``size`` passages of corpus words (one in ten with two phrasings) and their embedding rows."""
    from bot.corpus.passages import EmbeddingRow, Passage

    words = random.Random(seed)
    passages, rows = [], []
    for number in range(size):
        text = " ".join(words.choices(vocabulary, k=WORDS_PER_PASSAGE))
        phrasings = tuple(" ".join(words.choices(vocabulary, k=8)) for _ in range(2)) if number % 10 == 0 else ()
        passages.append(Passage(id=f"synthetic:{number}", doc_id=f"synthetic:{number // 100}", title="Synthetic",
                                kind="faq" if phrasings else "letter", language=languages[number % len(languages)],
                                url=None, locator=f"¶{number}", text=text, group=f"synthetic:{number}",
                                path="synthetic", line=None, phrasings=phrasings))
        rows.append(EmbeddingRow(number, text))
        rows.extend(EmbeddingRow(number, phrasing) for phrasing in phrasings)
    return passages, rows


class _Setup:
    """What both phases need: the config, the real encoder, the real corpus's rows, words and questions."""

    def __init__(self, config_path: Path) -> None:
        from bot.config import load_config
        from bot.core.text import words
        from bot.evaluation.metrics import load_questions
        from bot.index.encoders import load_encoder
        from bot.index.store import load_index
        from bot.serving.resources import warm_up

        self.config = load_config(config_path)
        self.encoder = load_encoder(self.config)
        self.questions = [q.question for q in load_questions(self.config.eval_questions)]
        self.encoder.encode_queries(self.questions[:20])  # the model's own warm-up is not the corpus's cost
        warm_up()  # as build_resources does when the bot starts
        real = load_index(self.config, self.encoder)
        self.real_rows = real.row_vectors(np.arange(int(real.vectors.ntotal)))
        self.vocabulary = sorted({w for p in real.passages for w in words(p.text)})
        self.languages = [p.language for p in real.passages]
        self.newest_fact = real.manifest.get("newest_fact")  # as index build records it (see ``write``)
        del real
        gc.collect()

    def write(self, folder: Path, size: int, edited: bool = False, previous=None) -> dict:
        """Build the synthetic generation of ``size`` passages into ``folder`` (as ``index build`` does)."""
        import dataclasses

        from bot.index.store import build_faiss, write_generation

        passages, rows = synthetic_corpus(size, self.vocabulary, self.languages, SEED)
        if edited:  # a moderator's edit: passage 0 says something else
            passages[0] = dataclasses.replace(passages[0], text=passages[0].text + " edited")
        started = time.perf_counter()
        faiss_index, description = build_faiss(synthetic_vectors(self.real_rows, len(rows), SEED),
                                               size > self.config.retrieval.approximate_above, previous)
        faiss_s = time.perf_counter() - started
        encoder = self.encoder
        manifest = {"format": 1, "model": {"id": encoder.model_id, "fingerprint": encoder.fingerprint,
                                           "dimension": encoder.dimension, "normalized": True, "metric": "inner_product"},
                    "corpus_hash": "synthetic".ljust(64, "0"), "splitter_version": "synthetic", "passages": len(passages),
                    "rows": len(rows), "built_at": "2026-11-30T00:00:00", "versions": {}, "vector_index": description,
                    "newest_fact": self.newest_fact}
        write_generation(folder, manifest, passages, rows, faiss_index)
        return {"faiss_s": round(faiss_s, 3), "write_s": round(time.perf_counter() - started, 3)}


def _encode_ms(encoder, question: str) -> float:
    started = time.perf_counter()
    encoder.encode_queries([question])
    return (time.perf_counter() - started) * 1000


def build_worker(config_path: Path, size: int, folder: Path) -> dict:
    """Runs in a fresh process: the synthetic generation written to ``folder``, as ``index build`` would."""
    return _Setup(config_path).write(folder, size)


def serve_worker(config_path: Path, size: int, folder: Path) -> dict:
    """Runs in a fresh process, as the bot: load and prepare the generation, answer, take an edit, answer."""
    from bot.core.answer import Answerer, LiveIndex
    from bot.index.store import current_generation, read_generation, return_freed_memory

    setup = _Setup(config_path)
    encoder, questions = setup.encoder, setup.questions
    started = time.perf_counter()
    live = LiveIndex(read_generation(folder / str(current_generation(folder)), encoder))  # prepared here
    load_s = time.perf_counter() - started
    answerer = Answerer(setup.config.retrieval, encoder, live)
    started = time.perf_counter()
    answerer.answer(questions[0])
    first_answer_ms = (time.perf_counter() - started) * 1000
    first_encode_ms = _encode_ms(encoder, questions[0])

    sample = (questions * (QUESTIONS // len(questions) + 1))[:QUESTIONS]
    for question in sample[:20]:
        answerer.answer(question)
    times, encode = [], []
    for question in sample:  # the bare model call interleaved, so that machine noise hits both alike
        started = time.perf_counter()
        encoder.encode_queries([question])
        encode.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answerer.answer(question)
        times.append((time.perf_counter() - started) * 1000)
    gc.collect()
    rss = _rss_mb()

    # A moderator's edit made live in this process, as LiveUpdater does: build, write, load, prepare, swap.
    started = time.perf_counter()
    setup.write(folder, size, edited=True, previous=live.current)  # as LiveUpdater: IVF lists reused
    live.swap(read_generation(folder / str(current_generation(folder)), encoder))
    return_freed_memory()  # as LiveUpdater does after a swap
    edit_s = time.perf_counter() - started
    started = time.perf_counter()
    answerer.answer(questions[1])
    first_after_edit_ms = (time.perf_counter() - started) * 1000
    first_after_edit_encode_ms = _encode_ms(encoder, questions[1])
    gc.collect()
    result = {
        "passages": size, "vectors": int(live.current.vectors.ntotal), "index": live.current.vector_index_type,
        "load_average": round(os.getloadavg()[0], 2),  # other processes' load on the machine, for reading the times
        "answer_p50_ms": round(_percentile(times, 50), 3), "answer_p99_ms": round(_percentile(times, 99), 3),
        "encode_p50_ms": round(_percentile(encode, 50), 3),
        "beyond_encode_p50_ms": round(_percentile([a - e for a, e in zip(times, encode, strict=True)], 50), 3),
        "first_answer_ms": round(first_answer_ms, 3), "first_after_edit_ms": round(first_after_edit_ms, 3),
        "first_beyond_encode_ms": round(first_answer_ms - first_encode_ms, 3),
        "first_after_edit_beyond_encode_ms": round(first_after_edit_ms - first_after_edit_encode_ms, 3),
        "load_s": round(load_s, 3), "edit_s": round(edit_s, 3),
        "rss_mb": round(rss, 1), "rss_after_edit_mb": round(_rss_mb(), 1), "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    if live.current.approximate:
        result["recall_at_10"] = round(_recall_at_10(live.current, setup.real_rows, int(live.current.vectors.ntotal),
                                                     encoder.encode_queries(questions)), 4)
    return result


def _recall_at_10(index, real_rows: np.ndarray, rows: int, questions: np.ndarray) -> float:
    """Share of the exact top-10 rows that the approximate index returns: for the real questions, and for
    200 synthetic questions near random passages."""
    import faiss

    vectors = synthetic_vectors(real_rows, rows, SEED)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    nearby = vectors[np.random.default_rng(1).integers(0, rows, 200)] + \
        np.random.default_rng(2).standard_normal((200, vectors.shape[1]), dtype=np.float32) * NOISE
    nearby /= np.linalg.norm(nearby, axis=1, keepdims=True)
    queries = np.vstack([questions, nearby]).astype(np.float32)
    _, truth = exact.search(queries, 10)
    found = [set(index.search_rows(query, 10)[1].tolist()) for query in queries]
    return float(np.mean([len(found[i] & set(truth[i].tolist())) / 10 for i in range(len(queries))]))


def threads_worker(config_path: Path) -> dict:
    """ONNX Runtime with one or two threads per question: one question at a time (the two sessions
    alternating question by question, so that both see the same machine), then two questions at once."""
    from bot.config import load_config
    from bot.evaluation.metrics import load_questions
    from bot.index.encoder import model_folder
    from bot.index.onnx_encoder import OnnxEncoder

    config = load_config(config_path)
    questions = [q.question for q in load_questions(config.eval_questions)] * 4
    encoders = {threads: OnnxEncoder(config.model.id, model_folder(config.model.package), config.index_dir / "onnx",
                                     threads=threads, max_tokens=config.model.max_tokens) for threads in (1, 2)}
    for encoder in encoders.values():
        encoder.encode_queries(questions[:20])
    alone: dict[int, list[float]] = {1: [], 2: []}
    for question in questions:
        for threads, encoder in encoders.items():
            alone[threads].append(_encode_ms(encoder, question))
    result: dict[str, Any] = {}
    for threads, encoder in encoders.items():
        each: list[float] = []
        lock = threading.Lock()

        def ask_all(encoder=encoder, each=each, lock=lock) -> None:
            for question in questions:
                took = _encode_ms(encoder, question)
                with lock:
                    each.append(took)

        started = time.perf_counter()
        workers = [threading.Thread(target=ask_all) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        result[f"{threads}_thread"] = {"alone_p50_ms": round(_percentile(alone[threads], 50), 3),
                                       "two_at_once_p50_ms": round(_percentile(each, 50), 3),
                                       "two_at_once_per_s": round(len(each) / elapsed, 1)}
    result["load_average"] = round(os.getloadavg()[0], 2)
    return result


def _run_worker(config_path: Path, *arguments: str) -> dict:
    command = [sys.executable, "-m", "bot.evaluation.scale", "--config", str(config_path), *arguments]
    # One OpenMP thread for FAISS and BLAS, as the bot runs; the ONNX thread count is set per session.
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"scale worker {' '.join(arguments)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_size(config_path: Path, size: int) -> dict:
    """One size: built in one process, served (and edited) in another, as ``index build`` and the bot run."""
    with tempfile.TemporaryDirectory(prefix="redlines-scale-") as folder:
        built = _run_worker(config_path, "--phase", "build", "--size", str(size), "--folder", folder)
        served = _run_worker(config_path, "--phase", "serve", "--size", str(size), "--folder", folder)
    # From vectors to a generation that answers: FAISS, writing, reading back, preparing (no encoding).
    return {**served, "build_s": round(built["write_s"] + served["load_s"], 3), "faiss_s": built["faiss_s"]}


def measure_scale(config_path: Path, huge: bool = False, sizes: tuple[int, ...] = SIZES) -> dict:
    """Every size in its own processes, then the thread comparison in another."""
    sizes = (*sizes, HUGE) if huge else sizes
    return {"scale": [measure_size(config_path, size) for size in sizes],
            "threads": _run_worker(config_path, "--phase", "threads")}


def format_scale(measured: dict) -> str:
    lines = ["the real answer() on synthetic corpora (built in one process, served in another):",
             f"{'passages':>10} {'index':>6} {'p50':>8} {'p99':>8} {'-encode':>8} {'first':>8} {'build':>7} "
             f"{'RSS':>7} {'edit':>7} {'1st edit':>9} {'RSS edit':>9} {'peak':>7} {'recall@10':>9}"]
    for row in measured["scale"]:
        lines.append(
            f"{row['passages']:>10,} {row['index']:>6} {row['answer_p50_ms']:>6.1f}ms {row['answer_p99_ms']:>6.1f}ms "
            f"{row['beyond_encode_p50_ms']:>6.1f}ms {row['first_answer_ms']:>6.1f}ms {row['build_s']:>6.1f}s "
            f"{row['rss_mb']:>5.0f}MB {row['edit_s']:>6.1f}s {row['first_after_edit_ms']:>7.1f}ms "
            f"{row['rss_after_edit_mb']:>7.0f}MB {row['peak_rss_mb']:>5.0f}MB {row.get('recall_at_10', '-')!s:>9}")
    first, last = measured["scale"][0], measured["scale"][-1]
    lines.append(f"p50 at {last['passages']:,} is {last['answer_p50_ms'] / first['answer_p50_ms']:.2f}x the p50 at "
                 f"{first['passages']:,} (target <= 2x); first answer at {last['passages']:,} is "
                 f"{last['first_answer_ms'] / last['answer_p50_ms']:.2f}x a warm one (target <= 2x)")
    threads = {name: t for name, t in measured["threads"].items() if isinstance(t, dict)}  # not the load average
    lines.append("ONNX threads per question (encode only): "
                 + "; ".join(f"{name.replace('_', ' ')}: alone p50 {t['alone_p50_ms']} ms, two questions at once p50 "
                             f"{t['two_at_once_p50_ms']} ms ({t['two_at_once_per_s']}/s)" for name, t in threads.items())
                 + f" (load average {measured['threads'].get('load_average', '-')})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation.scale")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--phase", choices=["build", "serve", "threads"], required=True)
    parser.add_argument("--size", type=int)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    if args.phase == "threads":
        print(json.dumps(threads_worker(args.config)))
    elif args.phase == "build":
        print(json.dumps(build_worker(args.config, args.size, args.folder)))
    else:
        print(json.dumps(serve_worker(args.config, args.size, args.folder)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
