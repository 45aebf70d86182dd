"""4-fold estimate over the training-only messages (`tests/eval/train-extra/`): how the ranking and decline models
do on messages they were not fitted on.

Each fold holds out a quarter of those messages (by CRC-32 of the message, so the folds never change), fits the
models as `index build` does on the rest plus the bank's train split, calibrates on dev, and measures the held
quarter with the live index's passages and encoder. Files named with `--always` stay in training in every fold and
are never measured: to judge new training data on the messages written before it.

    python tools/kfold.py                          # all four folds in this process (~8 min on one core), then the summary
    python tools/kfold.py --folds 0,1 --out a.pkl  # some folds, results kept (run two processes side by side) ...
    python tools/kfold.py --summarise a.pkl b.pkl  # ... then the summary of both

Run from the project folder after `redlines-bot index build`; it changes no file of the project.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FOLDS = 4


def fold_of(message: str) -> int:
    return zlib.crc32(message.encode("utf-8")) % FOLDS


def run_folds(config_path: Path, folds: list[int], always: set[str]) -> list:
    import yaml

    from bot.config import load_config
    from bot.core.answer import Answerer, LiveIndex
    from bot.evaluation.bank import bank_files, load_bank_file
    from bot.evaluation.fitting import fit_quality_models
    from bot.evaluation.metrics import EvalQuestion, evaluate
    from bot.index.encoders import load_encoder
    from bot.index.store import load_index

    config = load_config(config_path)
    encoder = load_encoder(config)
    base = load_index(config, encoder)
    items = [(path.name, item) for path in bank_files(config.train_extra) for item in load_bank_file(path)]
    results = []
    for fold in folds:
        def held_out(name: str, item, fold: int = fold) -> bool:
            return name not in always and fold_of(item.question) == fold

        with tempfile.TemporaryDirectory(prefix="kfold-") as tmp:
            kept: dict[str, list[dict]] = {}
            for name, item in items:
                if held_out(name, item):
                    continue
                entry: dict = {"q": item.question, "lang": item.language, "category": item.category, "split": "train"}
                if item.answers:
                    entry["answers"] = list(item.answers)
                else:
                    entry["decline"] = item.decline
                if item.context:
                    entry["context"] = list(item.context)
                kept.setdefault(name, []).append(entry)
            for name, entries in kept.items():
                Path(tmp, name).write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
            models = fit_quality_models(base, encoder, config, config.eval_bank, Path(tmp))
        index = load_index(config, encoder)
        index.derived["models"] = models  # this fold's models instead of the generation's
        answerer = Answerer(config.retrieval, encoder, LiveIndex(index))
        held = [EvalQuestion.from_bank(item) for name, item in items if held_out(name, item)]
        report = evaluate(answerer, held, "hybrid")
        print(f"fold {fold}: {len(held)} messages, hit@1 {report.hit_at(1):.3f}, hit@3 {report.hit_at(3):.3f}, "
              f"decline {report.decline_accuracy:.3f}, false declines {report.false_declines}", flush=True)
        results.extend(report.results)
    return results


def summarise(results: list) -> str:
    from bot.evaluation.metrics import RetrieverReport

    report = RetrieverReport("hybrid", tuple(results))
    answerable = len(report.answerable)
    lines = [f"{len(results)} messages: hit@1 {report.hit_at(1):.3f}, hit@3 {report.hit_at(3):.3f}, decline recall "
             f"{report.decline_accuracy:.3f} ({len(report.out_of_scope)}), false declines {report.false_declines}/"
             f"{answerable} ({report.false_declines / max(1, answerable):.1%})"]
    kinds = report.breakdown(lambda q: q.decline_kind or "")
    lines.append("decline recall by kind: " + ", ".join(
        f"{kind} {part.decline_accuracy:.3f} ({len(part.out_of_scope)})" for kind, part in sorted(kinds.items()) if kind))
    languages = report.breakdown(lambda q: q.language)
    lines.append("hit@3 by language: " + ", ".join(
        f"{language} {part.hit_at(3):.3f}" for language, part in sorted(languages.items()) if part.answerable))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--folds", default=",".join(str(f) for f in range(FOLDS)), help="e.g. 0,1 (default: all)")
    parser.add_argument("--always", default="", help="comma-separated train-extra file names never held out")
    parser.add_argument("--out", type=Path, help="keep this run's per-message results here (pickle)")
    parser.add_argument("--summarise", nargs="+", type=Path, metavar="PICKLE", help="summarise kept results")
    args = parser.parse_args()
    if args.summarise:
        results = [r for path in args.summarise for r in pickle.loads(path.read_bytes())]
    else:
        folds = [int(f) for f in args.folds.split(",") if f.strip()]
        results = run_folds(args.config, folds, set(filter(None, args.always.split(","))))
        if args.out:
            args.out.write_bytes(pickle.dumps(results))
    print(summarise(results))


if __name__ == "__main__":
    main()
