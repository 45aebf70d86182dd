"""How search and building grow with the corpus: synthetic passages at 1k, 10k and 100k.

Vectors are random unit vectors (search cost does not depend on their meaning) and texts are made of the
corpus's own words; encoding cost is measured on real passages and multiplied out, since encoding
100k passages would take about a quarter of an hour here.
"""

from __future__ import annotations

import random
import statistics
import time

import numpy as np

from bot.config import Config
from bot.core.retrieval import keyword_tokens
from bot.corpus.passages import corpus_passages
from bot.corpus.reader import load_corpus
from bot.index.encoders import load_encoder
from bot.index.store import build_faiss

SIZES = (1_000, 10_000, 100_000)
QUERIES = 50


def _p50(times: list[float]) -> float:
    return statistics.median(times)


def measure_scale(config: Config, sizes: tuple[int, ...] = SIZES) -> dict:
    import bm25s

    passages, rows = corpus_passages(load_corpus(config.corpus_dir))
    vocabulary = sorted({w for p in passages for w in keyword_tokens(p.keyword_text)})
    encoder = load_encoder(config)
    texts = [r.text for r in rows[:200]]
    encoder.encode_documents(texts[:16])  # warm up
    started = time.perf_counter()
    encoder.encode_documents(texts)
    encode_ms_per_passage = (time.perf_counter() - started) * 1000 / len(texts)
    rng = np.random.default_rng(0)
    words = random.Random(0)
    queries = rng.standard_normal((QUERIES, encoder.dimension)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    results = []
    for size in sizes:
        vectors = rng.standard_normal((size, encoder.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        started = time.perf_counter()
        index = build_faiss(vectors)
        faiss_build = time.perf_counter() - started
        search = []
        for query in queries:
            t = time.perf_counter()
            index.search(query.reshape(1, -1), 30)
            search.append((time.perf_counter() - t) * 1000)
        corpus = [[words.choice(vocabulary) for _ in range(40)] for _ in range(size)]
        started = time.perf_counter()
        bm25 = bm25s.BM25()
        bm25.index(corpus, show_progress=False)
        bm25_build = time.perf_counter() - started
        keyword = []
        for _ in range(QUERIES):
            query_words = [words.choice(vocabulary) for _ in range(5)]
            t = time.perf_counter()
            bm25.get_scores(query_words)
            keyword.append((time.perf_counter() - t) * 1000)
        results.append({
            "passages": size, "faiss_build_s": round(faiss_build, 3), "faiss_search_p50_ms": round(_p50(search), 3),
            "bm25_build_s": round(bm25_build, 3), "bm25_search_p50_ms": round(_p50(keyword), 3),
            "encode_estimate_s": round(encode_ms_per_passage * size / 1000, 1),
            "vectors_mb": round(size * encoder.dimension * 4 / 2**20, 1),
        })
    return {"encoder": config.model.encoder, "encode_ms_per_passage": round(encode_ms_per_passage, 2),
            "sizes": results}


def format_scale(scale: dict) -> str:
    lines = [f"scale ({scale['encoder']} encoder, {scale['encode_ms_per_passage']} ms per passage to encode):",
             f"{'passages':>9} {'encode (est.)':>14} {'FAISS add':>10} {'FAISS p50':>10} {'BM25 index':>11} "
             f"{'BM25 p50':>9} {'vectors':>8}"]
    for row in scale["sizes"]:
        lines.append(f"{row['passages']:>9,} {row['encode_estimate_s']:>12.1f} s {row['faiss_build_s']:>8.3f} s "
                     f"{row['faiss_search_p50_ms']:>7.3f} ms {row['bm25_build_s']:>9.3f} s "
                     f"{row['bm25_search_p50_ms']:>6.3f} ms {row['vectors_mb']:>5.1f} MB")
    return "\n".join(lines)
