"""``redlines-bot bench``: what answering costs, measured in one run so that ratios are meaningful.

Each encoder is measured in its own worker process (so its cold start and peak memory are its own),
on a temporary copy of the corpus and index, never the live ones:

- encode_p50/p99_ms: the bare model call on one question; answer_p50/p99_ms: the whole ``answer()``;
- bm25_p50_ms and faiss_p50_ms: keyword and vector search alone;
- cold_start_s: from the worker's first line to its first answer (imports, model, index);
- update_one_s: one FAQ edit until the edited answer is returned (incremental, as moderators do it);
- peak_rss_mb: peak resident memory of that serving process (cold start, 400 questions, the edit);
- build_s and build_peak_rss_mb: a full index build with no embedding cache, in a process of its own
  (as `redlines-bot index build` runs it, apart from the bot).
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # the cold start counts from here, before the heavy imports

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

QUESTIONS_PER_RUN = 200
TARGET_RATIO = 1.3


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(p) - 1]


def _timed(function, items) -> list[float]:
    times = []
    for item in items:
        start = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _config(config_path: Path, encoder_name: str):
    import dataclasses

    from bot.config import load_config

    config = load_config(config_path)
    return dataclasses.replace(config, model=dataclasses.replace(config.model, encoder=encoder_name))


def build_worker(config_path: Path, encoder_name: str) -> dict:
    """Runs in a fresh process: a full build, no cache."""
    from bot.index.encoders import load_encoder
    from bot.index.store import build_index

    config = _config(config_path, encoder_name)
    encoder = load_encoder(config)
    started = time.perf_counter()
    built = build_index(config, encoder, show_progress=False, use_cache=False)
    return {"build_s": round(time.perf_counter() - started, 3), "passages": built.manifest["passages"],
            "vectors": built.manifest["rows"],
            "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def serve_worker(config_path: Path, encoder_name: str, questions: list[str]) -> dict:
    """Runs in a fresh process: cold start, latency, one incremental update, as the bot would."""
    import dataclasses

    from bot.core.retrieval import bm25_scores
    from bot.corpus.editing import draft_of
    from bot.corpus.live_update import LiveUpdater
    from bot.corpus.reader import load_corpus
    from bot.serving.resources import build_resources

    config = _config(config_path, encoder_name)
    resources = build_resources(config)
    answerer, encoder, live = resources.answerer, resources.encoder, resources.live
    answerer.answer(questions[0])
    cold_start = time.perf_counter() - _STARTED

    sample = (questions * (QUESTIONS_PER_RUN // len(questions) + 1))[:QUESTIONS_PER_RUN]
    for question in sample[:20]:  # warm up both paths
        encoder.encode_queries([question])
        answerer.answer(question)
    encode: list[float] = []
    answer: list[float] = []
    for question in sample:  # interleaved, so that drift in machine speed hits both alike
        encode += _timed(lambda q: encoder.encode_queries([q]), [question])
        answer += _timed(answerer.answer, [question])
    vectors = encoder.encode_queries(sample[:50])
    index = live.current
    faiss_times = _timed(lambda v: index.search(v, config.retrieval.candidates), list(vectors))
    bm25_scores(index, sample[0])
    bm25_times = _timed(lambda q: bm25_scores(index, q), sample[:50])

    corpus = load_corpus(config.corpus_dir)
    entry = corpus.faq[0]
    updater = LiveUpdater(config, encoder, live, audit=None)
    draft = dataclasses.replace(draft_of(entry), answer=entry.answer + " (Edited for the benchmark.)")
    started = time.perf_counter()
    updater.edit(entry.id, draft, actor="bench")
    edited = answerer.answer(entry.question)
    update_one = time.perf_counter() - started
    if "(Edited for the benchmark.)" not in edited.excerpts[0].text:
        raise RuntimeError("the edited entry was not answerable after the update")

    return {
        "encoder": encoder_name,
        "encode_p50_ms": round(percentile(encode, 50), 3), "encode_p99_ms": round(percentile(encode, 99), 3),
        "answer_p50_ms": round(percentile(answer, 50), 3), "answer_p99_ms": round(percentile(answer, 99), 3),
        "answer_to_encode_p50": round(percentile(answer, 50) / percentile(encode, 50), 3),
        "faiss_p50_ms": round(percentile(faiss_times, 50), 4), "bm25_p50_ms": round(percentile(bm25_times, 50), 4),
        "cold_start_s": round(cold_start, 3), "update_one_s": round(update_one, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _scratch_copy(config_path: Path, workdir: Path) -> Path:
    """A copy of the corpus and the current index generation, and a config whose paths point at them
    (whatever the original's paths are), so the benchmark's FAQ edit never touches the live corpus."""
    import yaml

    from bot.config import load_config
    from bot.errors import UserFacingError
    from bot.index.adaptation import link_adapted
    from bot.index.store import current_generation, publish

    config = load_config(config_path)
    generation = current_generation(config.index_dir)
    if generation is None:
        raise UserFacingError("no index to measure; run `redlines-bot index build` first")
    shutil.copytree(config.corpus_dir, workdir / "corpus")
    (workdir / "index").mkdir()
    shutil.copytree(config.index_dir / generation, workdir / "index" / generation)
    publish(workdir / "index", generation)
    onnx_cache = config.index_dir / "onnx"
    if onnx_cache.is_dir():  # reuse the one-time export
        (workdir / "index" / "onnx").symlink_to(onnx_cache.resolve())
    link_adapted(config.index_dir, workdir / "index")  # the adapted encoders (model.adapt)
    embedding_cache = config.data_dir / "embedding-cache"
    if embedding_cache.is_dir():
        shutil.copytree(embedding_cache, workdir / "data" / "embedding-cache")
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    raw["paths"] = {"corpus_dir": str(workdir / "corpus"), "index_dir": str(workdir / "index"),
                    "data_dir": str(workdir / "data")}
    raw.setdefault("evaluation", {})["questions"] = str(config.eval_questions)
    raw.setdefault("discord", {})["database"] = str(workdir / "data" / "bot.sqlite3")
    scratch = workdir / "config.yaml"
    scratch.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return scratch


def run_bench(config_path: Path, encoders: list[str], questions: list[str]) -> list[dict]:
    results = []
    for name in encoders:
        with tempfile.TemporaryDirectory(prefix="redlines-bench-") as tmp:
            scratch = _scratch_copy(config_path, Path(tmp))
            measured = {}
            for phase in ("serve", "build"):
                command = [sys.executable, "-m", "bot.evaluation.bench", "--phase", phase, "--encoder", name,
                           "--config", str(scratch)]
                done = subprocess.run(command, input="\n".join(questions), capture_output=True, text=True,
                                      env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=1800)
                if done.returncode != 0:
                    raise RuntimeError(f"bench {phase} worker for {name} failed:\n{done.stderr[-3000:]}")
                measured.update(json.loads(done.stdout.strip().splitlines()[-1]))
            results.append(measured)
    return results


def format_results(results: list[dict]) -> str:
    keys = ["encode_p50_ms", "encode_p99_ms", "answer_p50_ms", "answer_p99_ms", "answer_to_encode_p50",
            "faiss_p50_ms", "bm25_p50_ms", "cold_start_s", "update_one_s", "peak_rss_mb", "build_s",
            "build_peak_rss_mb"]
    header = f"{'':<22}" + "".join(f"{r['encoder']:>12}" for r in results)
    lines = [header, "-" * len(header)]
    for key in keys:
        lines.append(f"{key:<22}" + "".join(f"{r[key]:>12}" for r in results))
    for result in results:
        verdict = "meets" if result["answer_to_encode_p50"] <= TARGET_RATIO else "MISSES"
        lines.append(f"{result['encoder']}: answer p50 is {result['answer_to_encode_p50']}x the bare encode p50 "
                     f"({verdict} the {TARGET_RATIO}x target); one FAQ edit live in {result['update_one_s']} s; "
                     f"peak RSS {result['peak_rss_mb']} MB")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation.bench")
    parser.add_argument("--phase", choices=["serve", "build"], required=True)
    parser.add_argument("--encoder", required=True)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()
    questions = [line.strip() for line in sys.stdin if line.strip()]
    if args.phase == "build":
        print(json.dumps(build_worker(args.config, args.encoder)))
    else:
        print(json.dumps(serve_worker(args.config, args.encoder, questions)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
