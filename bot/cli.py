"""The ``redlines-bot`` command: a thin layer over the core for maintainers and evaluation tools.

User errors (bad config, invalid corpus, stale index, bad question) print a clean message and exit
with status 1 (2 for usage errors); only bugs show a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import DEFAULT_CONFIG_PATH, RETRIEVERS, Config, discord_token, load_config
from bot.errors import CorpusError, QuestionError, UserFacingError
from bot.log_setup import configure_logging

log = logging.getLogger(__name__)

COMMANDS_HELP = {
    "run": "Start the bot: on Discord when DISCORD_TOKEN is set, otherwise the local console.",
    "console": "Ask questions in an interactive local console that answers exactly as the bot does.",
    "ask": "Answer one question, or one per line of standard input with --jsonl.",
    "index": "Build, check or roll back the search index.",
    "corpus": "Validate the corpus files.",
    "bench": "Measure encode and answer latency, search, cold start, build, update and memory, per encoder.",
    "reload": "Tell the running bot to pick up corpus files edited on disk (sends it SIGHUP).",
    "status": "Report every running bot process (shards, latency, index, answers); exit 1 if one is down or stale.",
    "report": "List the questions the bot could not answer, grouped by similarity, most frequent first.",
    "sync-commands": "Register the slash commands with Discord (run once after a change, not on every start).",
    "eval": "Measure retrieval on a question set, every retriever side by side; calibrate the decline threshold.",
}


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help=f"path to the config file (default: {DEFAULT_CONFIG_PATH})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="redlines-bot", description=__doc__.splitlines()[0])
    _add_config_option(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, **kwargs: object) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=COMMANDS_HELP.get(name, kwargs.pop("help", None)),
                                  description=COMMANDS_HELP.get(name), **kwargs)
        _add_config_option(sub)
        return sub

    run = command("run")
    run.add_argument("--console", action="store_true", help="use the local console even if DISCORD_TOKEN is set")
    run.add_argument("--shards", metavar="IDS", type=parse_shard_ids,
                     help="run only these shards, e.g. 0-3 or 0,2 (overrides discord.shard_ids; needs discord.shard_count)")
    command("console")

    ask = command("ask")
    ask.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    output = ask.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument("--jsonl", action="store_true",
                        help="read one question per line from standard input; print one JSON object per line")
    ask.add_argument("--retriever", choices=RETRIEVERS, help="override the configured retriever")

    index = command("index")
    index_commands = index.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    build = index_commands.add_parser("build", help="encode the corpus and publish a new index generation")
    _add_config_option(build)
    build.add_argument("--if-needed", action="store_true", help="only build when the index is missing or stale")
    build.add_argument("--no-cache", action="store_true", help="encode every passage again")
    build.add_argument("--force", action="store_true",
                       help="publish even if the quality guard finds that hit@3 dropped")
    status = index_commands.add_parser("status", help="say fresh/stale/missing/corrupt; exit 0 only when fresh")
    _add_config_option(status)
    rollback = index_commands.add_parser("rollback", help="make the previous index generation current again")
    _add_config_option(rollback)

    corpus = command("corpus")
    corpus_commands = corpus.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)
    check = corpus_commands.add_parser("check", help="validate every corpus file; report problems with file and line")
    _add_config_option(check)

    bench = command("bench")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--encoder", choices=["torch", "onnx", "all"], default="all",
                       help="which encoder(s) to measure (default: both, side by side)")
    bench.add_argument("--scale", action="store_true",
                       help="also measure search and build cost at 1k, 10k and 100k synthetic passages")

    reload = command("reload")
    reload.add_argument("--pid", type=int, help="signal this process only (default: every bot process of this data folder)")
    status = command("status")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    report = command("report")
    report.add_argument("--csv", action="store_true", help="write CSV to standard output")
    report.add_argument("--limit", type=int, default=30, help="groups to list (default 30)")
    report.add_argument("--days", type=float, help="only questions of the last N days")

    sync = command("sync-commands")
    sync.add_argument("--guild", type=int, metavar="ID", help="sync to one guild at once (instead of globally)")

    evaluate = command("eval")
    evaluate.add_argument("--questions", type=Path, help="question set (default: evaluation.questions in config)")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    evaluate.add_argument("--retriever", choices=RETRIEVERS, action="append",
                          help="only these retrievers (repeatable; default: all)")
    evaluate.add_argument("--calibrate", action="store_true",
                          help="propose the decline threshold (at most one false decline in thirty)")
    evaluate.add_argument("--write", action="store_true", help="with --calibrate: record the threshold in the config file")
    evaluate.add_argument("--plot", type=Path, metavar="FILE.png",
                          help="draw answerable vs out-of-scope confidences with the threshold")
    evaluate.add_argument("--misses", action="store_true", help="list the questions each retriever gets wrong")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    if not args.command:
        parser.print_help()
        return 2
    handler = HANDLERS[args.command]
    try:
        config = load_config(getattr(args, "config", DEFAULT_CONFIG_PATH))
        configure_logging(config.logging, verbose=args.verbose)
        return handler(config, args)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _quiet_logs() -> None:
    """Interactive and machine-readable output should not be mixed with info logs."""
    logging.getLogger().setLevel(logging.WARNING)


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """"3", "0-3" or "0,2,5-7" -> shard ids (the instance name of redlines-bot@.service)."""
    ids: list[int] = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            ids.extend(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of shard ids like 0-3 or 0,2") from None
    if not ids:
        raise argparse.ArgumentTypeError(f"{text!r} names no shard")
    return tuple(ids)


def with_shards(config: Config, shard_ids: tuple[int, ...]) -> Config:
    import dataclasses

    from bot.config import shard_problems

    for key, reason in shard_problems(shard_ids, config.discord.shard_count).items():
        raise UserFacingError(f"--shards {','.join(map(str, shard_ids))}: {reason} (discord.{key} in {config.source})")
    return dataclasses.replace(config, discord=dataclasses.replace(config.discord, shard_ids=shard_ids))


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    token = discord_token()
    if getattr(args, "shards", None):
        config = with_shards(config, args.shards)
    if token and not args.console:
        from bot.discord_app.runner import run_discord

        return run_discord(config, token)
    print("DISCORD_TOKEN is not set: starting the local console (Ctrl-D to quit).", file=sys.stderr)
    return cmd_console(config, args)


def cmd_console(config: Config, args: argparse.Namespace) -> int:
    from bot.serving.console import run_console
    from bot.serving.resources import build_resources

    _quiet_logs()
    return run_console(build_resources(config), sys.stdin, sys.stdout)


def cmd_ask(config: Config, args: argparse.Namespace) -> int:
    from bot.serving.render_text import render_text
    from bot.serving.resources import build_resources

    if args.jsonl == bool(args.question):
        print("error: give a question, or --jsonl with questions on standard input", file=sys.stderr)
        return 2
    _quiet_logs()
    resources = build_resources(config)
    answerer = resources.answerer
    if args.jsonl:
        for line in sys.stdin:
            question = line.rstrip("\n")
            if not question.strip():
                continue
            try:
                payload = answerer.answer(question, retriever=args.retriever).to_json()
            except QuestionError as exc:
                payload = {"question": question, "answered": False, "excerpts": [], "latency_ms": 0.0,
                           "error": str(exc)}
            print(json.dumps(payload, ensure_ascii=False), flush=True)
        return 0
    answer = answerer.answer(args.question, retriever=args.retriever)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(render_text(answer))
    return 0


def cmd_index(config: Config, args: argparse.Namespace) -> int:
    from bot.index import store as index_store

    if args.index_command == "status":
        from bot.index.encoder import model_folder, weights_fingerprint

        fingerprint = weights_fingerprint(model_folder(config.model.package))
        status = index_store.check_status(config, fingerprint)
        where = f" ({status.generation})" if status.generation else ""
        print(f"{status.state}{where}: {status.detail}")
        if not status.fresh:
            print("Rebuild it with: redlines-bot index build", file=sys.stderr)
        return 0 if status.fresh else 1
    coordination = _coordination(config)
    try:
        # One writer at a time across every bot process and command sharing the database; what is made current
        # is published, and running bots swap it in within database.poll_seconds.
        with coordination.writer_lock() if coordination else contextlib.nullcontext():
            return _index_write(config, args, coordination)
    finally:
        if coordination:
            coordination.close()


def _coordination(config: Config):
    """The shared coordination of the bot's database, or None (with a warning) when it can't be opened."""
    from bot.storage.coordination import Coordination
    from bot.storage.database import shown

    try:
        return Coordination(config.database_target)
    except Exception as exc:  # noqa: BLE001 - the index can be built without; running bots won't hear of it
        log.warning("cannot open %s (%s): running bots will pick up this index only when restarted or reloaded",
                    shown(config.database_target), exc)
        return None


def _index_write(config: Config, args: argparse.Namespace, coordination) -> int:
    from bot.index import store as index_store

    if args.index_command == "rollback":
        generation = index_store.rollback(config.index_dir)
        if coordination:
            coordination.publish(generation, "rollback")
        print(f"rolled back: {generation} is current")
        return 0
    from bot.corpus.reader import load_corpus
    from bot.index.encoders import load_encoder

    corpus = load_corpus(config.corpus_dir)  # validate before loading the model
    encoder = load_encoder(config)
    if args.if_needed:
        status = index_store.check_status(config, encoder.fingerprint)
        if status.fresh:
            print(f"index is fresh ({status.generation}); nothing to build")
            return 0
        print(f"index is {status.state}: {status.detail}; building", file=sys.stderr)
    from bot.index.build_guard import guarded_build

    result = guarded_build(config, encoder, corpus, force=args.force, use_cache=not args.no_cache)
    if coordination:
        coordination.publish(result.generation, "build")
    manifest = result.manifest
    print(f"built {result.generation}: {manifest['passages']} passages, {manifest['rows']} vectors "
          f"({result.encoded} encoded, {result.reused} from cache) in {result.seconds:.1f} s")
    return 0


def cmd_corpus(config: Config, args: argparse.Namespace) -> int:
    from bot.corpus.passages import corpus_passages
    from bot.corpus.reader import load_corpus

    try:
        corpus = load_corpus(config.corpus_dir)
    except CorpusError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"corpus check failed: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    passages, rows = corpus_passages(corpus)
    print(f"corpus ok: {len(corpus.documents)} documents, {len(corpus.faq)} FAQ entries, "
          f"{len(passages)} passages, {len(rows)} embedded texts")
    return 0


def cmd_bench(config: Config, args: argparse.Namespace) -> int:
    from bot.evaluation import bench
    from bot.evaluation.metrics import load_questions

    _quiet_logs()
    questions = [q.question for q in load_questions(config.eval_questions)] if config.eval_questions.is_file() \
        else ["What does the letter ask governments to do?"]
    encoders = ["torch", "onnx"] if args.encoder == "all" else [args.encoder]
    if config.source is None:
        raise UserFacingError("bench needs a config file")
    results = bench.run_bench(config.source, encoders, questions)
    configured = next((r for r in results if r["encoder"] == config.model.encoder), results[0])
    scale = None
    if args.scale:
        from bot.evaluation.scale import measure_scale

        scale = measure_scale(config)
    if args.json:
        print(json.dumps({**configured, "encoders": results, **({"scale": scale} if scale else {})}))
    else:
        print(bench.format_results(results))
        if scale:
            from bot.evaluation.scale import format_scale

            print(format_scale(scale))
    return 0


def cmd_reload(config: Config, args: argparse.Namespace) -> int:
    import os
    import signal

    from bot.corpus.reader import load_corpus
    from bot.discord_app.runner import running_pids

    load_corpus(config.corpus_dir)  # refuse a broken corpus here, with file and line
    pids = [args.pid] if args.pid else running_pids(config)
    signalled = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGHUP)
            signalled.append(pid)
        except ProcessLookupError:
            continue
    if not signalled:
        where = f"process {args.pid}" if args.pid else f"live process in {config.heartbeat_dir} or {config.data_dir / 'bot.pid'}"
        raise UserFacingError(f"no running bot found (no {where}); "
                              "start it with `make run`, or rebuild the index with `redlines-bot index build`")
    listed = ", ".join(map(str, signalled))
    print(f"asked the bot (pid {listed}) to reload the corpus; its log says when the new index is live")
    return 0


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    from bot.serving.health import format_status, status_report

    report = status_report(config.heartbeat_dir, stale_seconds=config.health.stale_seconds,
                           shard_count=config.discord.shard_count)
    if args.json:
        print(json.dumps({"ok": report.ok, "problems": report.problems,
                          "processes": [{"state": p.state, "reason": p.reason, "heartbeat_age_s": round(p.age, 1),
                                         **p.beat.to_json()} for p in report.processes]}))
    else:
        print(format_status(report))
    return 0 if report.ok else 1


def cmd_report(config: Config, args: argparse.Namespace) -> int:
    import time

    from bot.index.encoders import load_encoder
    from bot.storage.gaps import gaps_csv, gaps_text, group_misses, read_misses

    _quiet_logs()
    since = time.time() - args.days * 86400 if args.days else None
    misses = read_misses(config.database_target, since)
    groups = group_misses(misses, load_encoder(config)) if misses else []
    if args.csv:
        sys.stdout.write(gaps_csv(groups))
    else:
        print(f"{len(misses)} unanswered or unhelpful question(s) in {len(groups)} group(s)")
        print(gaps_text(groups, limit=args.limit))
    return 0


def cmd_sync_commands(config: Config, args: argparse.Namespace) -> int:
    from bot.discord_app.runner import sync_commands

    token = discord_token()
    if not token:
        raise UserFacingError("set DISCORD_TOKEN in the environment to sync commands")
    return sync_commands(config, token, args.guild)


def cmd_eval(config: Config, args: argparse.Namespace) -> int:
    import dataclasses

    from bot.evaluation import metrics as evaluation
    from bot.serving.resources import build_resources

    if args.write and not args.calibrate:
        print("error: --write records a calibrated threshold: use it with --calibrate", file=sys.stderr)
        return 2
    _quiet_logs()
    questions_path = args.questions or config.eval_questions
    questions = evaluation.load_questions(questions_path)
    answerer = build_resources(config).answerer
    names = args.retriever or list(RETRIEVERS)

    def configured(reports: list) -> evaluation.RetrieverReport:
        return next((r for r in reports if r.retriever == config.retrieval.retriever), reports[0])

    reports = [evaluation.evaluate(answerer, questions, name) for name in names]
    threshold = config.retrieval.decline_threshold
    calibration = None
    if args.calibrate:
        calibration = evaluation.calibrate(configured(reports))
        threshold = calibration.threshold
        # Re-measure every retriever at the proposed threshold, so the table shows its effect.
        answerer.settings = dataclasses.replace(config.retrieval, decline_threshold=threshold)
        reports = [evaluation.evaluate(answerer, questions, name) for name in names]
    if args.json:
        payload = {"questions": str(questions_path), "decline_threshold": threshold,
                   "retrievers": [r.metrics() for r in reports]}
        if calibration:
            payload["calibration"] = dataclasses.asdict(calibration)
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(f"{questions_path} · {len(questions)} questions · decline threshold {threshold}")
        print(evaluation.format_table(reports))
        if args.misses:
            for report in reports:
                for miss in report.misses():
                    state = "declined" if not miss.answered else f"rank {miss.rank}"
                    print(f"  {report.retriever}: {miss.question.question!r} ({state}, confidence {miss.confidence:.3f})")
                for wrong in (r for r in report.out_of_scope if r.answered):
                    print(f"  {report.retriever}: answered out-of-scope {wrong.question.question!r} "
                          f"(confidence {wrong.confidence:.3f})")
        if calibration:
            print(f"proposed decline_threshold: {calibration.threshold} — {calibration.summary()}")
    if calibration and args.write:
        if config.source is None:
            raise UserFacingError("no config file to write to")
        evaluation.write_threshold(config.source, calibration, config.retrieval.retriever, questions_path)
        print(f"recorded decline_threshold: {calibration.threshold} in {config.source}", file=sys.stderr)
    if args.plot:
        evaluation.plot_confidences(configured(reports), threshold, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


HANDLERS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "run": cmd_run, "console": cmd_console, "ask": cmd_ask, "index": cmd_index, "corpus": cmd_corpus,
    "eval": cmd_eval, "sync-commands": cmd_sync_commands, "reload": cmd_reload, "report": cmd_report,
    "bench": cmd_bench, "status": cmd_status,
}
