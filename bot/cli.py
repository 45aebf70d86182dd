"""The ``redlines-bot`` command: a thin layer over the core for maintainers and evaluation tools.

User errors (bad config, invalid corpus, stale index, bad question) print a clean message and exit
with status 1 (2 for usage errors); only bugs show a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config import DEFAULT_CONFIG_PATH, RETRIEVERS, Config, discord_token, load_config
from bot.errors import CorpusError, ModelUnavailableError, QuestionError, UserFacingError
from bot.log_setup import configure_logging

log = logging.getLogger(__name__)

COMMANDS_HELP = {
    "run": "Start the bot: on Discord when DISCORD_TOKEN is set, otherwise the local console.",
    "console": "Ask questions in an interactive local console that answers exactly as the bot does.",
    "ask": "Answer one question, or one per line of standard input with --jsonl.",
    "index": "Build, check or roll back the search index.",
    "corpus": "Validate the corpus files, or merge the maintainers' git branch into the bot's corpus.",
    "bench": "Measure encode and answer latency, search, cold start, build, update and memory, per encoder.",
    "reload": "Tell the running bot to pick up corpus files edited on disk (sends it SIGHUP).",
    "status": "Report every running bot process (shards, latency, index, answers); exit 1 if one is down or stale.",
    "report": "List the questions the bot could not answer, grouped by similarity, most frequent first.",
    "purge": "Delete stored questions and member ids older than data.retention_days (the bot also does this itself).",
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

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
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
    sync_corpus = corpus_commands.add_parser(
        "sync", help="fetch the maintainers' branch and merge it into the corpus's git checkout (conflicts are shown, "
                     "never resolved); then the running bot reloads")
    _add_config_option(sync_corpus)
    sync_corpus.add_argument("--from", dest="upstream", metavar="REMOTE/BRANCH",
                             help="the branch to merge (default: the checkout's upstream, e.g. origin/main)")

    bench = command("bench")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--encoder", choices=["torch", "onnx", "all"], default="all",
                       help="which encoder(s) to measure (default: both, side by side)")
    bench.add_argument("--scale", action="store_true",
                       help="instead, time the real answer(), build and memory at 1k, 10k and 100k synthetic passages")
    bench.add_argument("--huge", action="store_true", help="with --scale: also 1M passages (about 20 minutes, 3 GB)")

    reload = command("reload")
    reload.add_argument("--pid", type=int, help="signal this process only (default: every bot of this data folder)")
    status = command("status")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    purge = command("purge")
    purge.add_argument("--days", type=int, metavar="N", help="keep N days instead of data.retention_days")
    report = command("report")
    report.add_argument("--csv", action="store_true", help="write CSV to standard output")
    report.add_argument("--limit", type=int, default=30, help="groups to list (default 30)")
    report.add_argument("--days", type=float, help="only questions of the last N days")

    sync = command("sync-commands")
    sync.add_argument("--guild", type=int, metavar="ID", help="sync to one guild at once (instead of globally)")

    evaluate = command("eval")
    evaluate.add_argument("--questions", type=Path,
                          help="a question set file (expect/abstain items, or one bank file) instead of the bank")
    evaluate.add_argument("--split", choices=["train", "dev", "test", "all"], default="dev",
                          help="which split of the question bank (evaluation.bank in config) to measure (default: dev)")
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
        pin_matrix_threads(config.threads.faiss)
        return handler(config, args)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def pin_matrix_threads(threads: int) -> None:
    """numpy's BLAS (OpenBLAS) sizes its thread pool once, when numpy loads, from the environment: set it before
    anything imports numpy (nothing has yet when a command starts). The products here are small (a question
    against a few thousand rows) and on two cores a second thread only adds wake-ups; ``pin_threads`` does the same
    for torch and FAISS, which can be set later. A value already in the environment wins."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))


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
    if hasattr(sys.stdin, "reconfigure"):  # a line that is not UTF-8 is refused with a message, not a traceback
        sys.stdin.reconfigure(errors="surrogateescape")
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
        # Bytes in, decoded line by line: one line that is not UTF-8 gets its own error object and the run goes on.
        for number, question in enumerate(_stdin_lines(), start=1):
            if not question.strip():
                continue
            print(json.dumps(_answer_line(answerer, question, number, args.retriever), ensure_ascii=False), flush=True)
        return 0
    answer = answerer.answer(args.question, retriever=args.retriever)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(render_text(answer))
    return 0


REFUSED_EXIT = 3  # `index build`: the quality guard refused the new index; the last good one stays current
WRITER_WAIT_SECONDS = 900.0


def _writes(config: Config, what: str):
    """The corpus-and-index writer lock, waiting for a running bot's change (or another build) to finish."""
    from bot.storage.locks import exclusive_writes

    return exclusive_writes(config.index_dir, what, timeout=WRITER_WAIT_SECONDS,
                            waiting=lambda message: print(f"{message} ...", file=sys.stderr))


def _stdin_lines():
    """Standard input's lines without their line ends; bytes that are not UTF-8 kept as lone surrogates (the
    question path refuses them with a message) instead of ending the whole run with a decoding error."""
    binary = getattr(sys.stdin, "buffer", None)
    if binary is None:  # already text (tests, embedding)
        yield from (line.rstrip("\r\n") for line in sys.stdin)
        return
    for raw in binary:
        yield raw.rstrip(b"\r\n").decode("utf-8", errors="surrogateescape")


def _answer_line(answerer, question: str, number: int, retriever: str | None) -> dict:
    """One ``--jsonl`` result: the answer, or the question with an ``error``; never the end of the run."""
    shown = question.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    refused = {"question": shown, "answered": False, "excerpts": [], "latency_ms": 0.0}
    try:
        return answerer.answer(question, retriever=retriever).to_json()
    except QuestionError as exc:
        return {**refused, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a bug on one line is logged and reported on that line only
        log.exception("line %d: unexpected error", number)
        return {**refused, "error": f"internal error ({exc.__class__.__name__}); see the log"}


def cmd_index(config: Config, args: argparse.Namespace) -> int:
    from bot.index import store as index_store

    if args.index_command == "status":
        from bot.index.encoder import weights_fingerprint
        from bot.index.encoders import encoder_folder

        try:
            fingerprint = weights_fingerprint(encoder_folder(config)[0])
        except ModelUnavailableError as exc:  # model.adapt on and no adapted encoder yet
            print(f"stale: {exc}")
            return 1
        status = index_store.check_status(config, fingerprint)
        where = f" ({status.generation})" if status.generation else ""
        print(f"{status.state}{where}: {status.detail}")
        if not status.fresh and status.refusal is None:
            print("Rebuild it with: redlines-bot index build", file=sys.stderr)
        return 0 if status.fresh else 1
    coordination = _coordination(config)
    try:
        # The database's writers' lock first (bot processes on every host), then the index folder's (this host);
        # what is made current is published, and running bots swap it in within database.poll_seconds.
        with coordination.writer_lock(WRITER_WAIT_SECONDS) if coordination else contextlib.nullcontext():
            return _index_write(config, args, coordination)
    finally:
        if coordination:
            coordination.close()


def _coordination(config: Config) -> Any:
    """The coordination of the bot processes sharing the database, or None (with a warning) when it can't be opened."""
    from bot.storage.coordination import Coordination
    from bot.storage.database import shown

    try:
        return Coordination(config.database_target)
    except Exception as exc:  # noqa: BLE001 - the index can be built without; running bots won't hear of it
        log.warning("cannot open %s (%s): running bots will pick up this index only when reloaded or restarted",
                    shown(config.database_target), exc)
        return None


def _index_write(config: Config, args: argparse.Namespace, coordination: Any) -> int:
    from bot.index import store as index_store

    if args.index_command == "rollback":
        with _writes(config, "redlines-bot index rollback"):
            generation = index_store.rollback(config.index_dir)
            if coordination:
                coordination.publish(generation, "rollback")
        print(f"rolled back: {generation} is current")
        return 0
    from bot.corpus.reader import load_corpus
    from bot.index.build_guard import RegressionRefused, guarded_build
    from bot.index.encoders import load_encoder

    load_corpus(config.corpus_dir)  # validate before loading the model
    encoder = load_encoder(config, train=True)  # with model.adapt, adapts the model first when needed
    with _writes(config, "redlines-bot index build"):
        if args.if_needed:
            status = index_store.check_status(config, encoder.fingerprint)
            if status.fresh:
                print(f"index is fresh ({status.generation}); nothing to build")
                return 0
            if status.refusal is not None and not args.force:
                print(f"warning: {status.detail}", file=sys.stderr)
                return REFUSED_EXIT
            print(f"index is {status.state}: {status.detail}; building", file=sys.stderr)
        try:
            # The corpus is read again here, under the lock: a change published while the model loaded is included.
            result = guarded_build(config, encoder, force=args.force, use_cache=not args.no_cache)
        except RegressionRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return REFUSED_EXIT
        if coordination:
            coordination.publish(result.generation, "build")
    manifest = result.manifest
    print(f"built {result.generation}: {manifest['passages']} passages, {manifest['rows']} vectors "
          f"({result.encoded} encoded, {result.reused} from cache) in {result.seconds:.1f} s")
    return 0


def cmd_corpus(config: Config, args: argparse.Namespace) -> int:
    from bot.corpus.passages import corpus_passages
    from bot.corpus.reader import load_corpus

    if args.corpus_command == "sync":
        return _sync_corpus(config, args)

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
    if config.source is None:
        raise UserFacingError("bench needs a config file")
    if args.scale:
        from bot.evaluation.scale import format_scale, measure_scale

        if not config.eval_questions.is_file():
            raise UserFacingError(f"bench --scale asks the questions of {config.eval_questions}, which is missing")
        measured = measure_scale(config.source, huge=args.huge)
        print(json.dumps(measured) if args.json else format_scale(measured))
        return 0
    if args.huge:
        raise UserFacingError("--huge goes with --scale")
    questions = [q.question for q in load_questions(config.eval_questions)] if config.eval_questions.is_file() \
        else ["What does the letter ask governments to do?"]
    encoders = ["torch", "onnx"] if args.encoder == "all" else [args.encoder]
    results = bench.run_bench(config.source, encoders, questions)
    configured = next((r for r in results if r["encoder"] == config.model.encoder), results[0])
    if args.json:
        print(json.dumps({**configured, "encoders": results}))
    else:
        print(bench.format_results(results))
    return 0


def cmd_reload(config: Config, args: argparse.Namespace) -> int:
    import os
    import signal

    from bot.corpus.reader import load_corpus
    from bot.storage.locks import running_bots

    load_corpus(config.corpus_dir)  # refuse a broken corpus here, with file and line
    # The pids are the ones holding the bots' locks now (from the kernel's lock table), never old pids from a
    # file: those processes may be gone, and their pids reused by something unrelated. With --pid (systemd's
    # ExecReload passes $MAINPID), only that process.
    pids = [args.pid] if getattr(args, "pid", None) else running_bots(config.data_dir)
    if not pids:
        raise UserFacingError(f"no running bot found for the data folder {config.data_dir}; start it with "
                              "`make run`, or rebuild the index with `redlines-bot index build`")
    if 0 in pids:
        raise UserFacingError("a bot is starting on this data folder; try again in a few seconds")
    for pid in pids:
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            raise UserFacingError(f"the bot (pid {pid}) stopped just now; nothing to reload") from None
        except PermissionError:
            raise UserFacingError(f"not allowed to signal the bot (pid {pid}): it runs as another user. Run "
                                  "`redlines-bot reload` as that user, or use /reload on Discord") from None
    listed = ", ".join(map(str, pids))
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


def _sync_corpus(config: Config, args: argparse.Namespace) -> int:
    """Merge the maintainers' branch; refuse (and undo the merge) when the merged corpus does not validate."""
    from bot.corpus import git_record
    from bot.corpus.reader import load_corpus

    try:
        result = git_record.sync(config.corpus_dir, args.upstream)
    except git_record.SyncConflict as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.diff:
            print("\nThe conflicting lines (<<<<<<< the bot's side, >>>>>>> the maintainers'):", file=sys.stderr)
            print(exc.diff[:20000], file=sys.stderr)
        return 1
    if not result.merged:
        print(f"already up to date with {result.upstream}; {result.bot_commits} moderator commit(s) here for the "
              "maintainers to fetch")
        return 0
    try:
        load_corpus(config.corpus_dir)
    except CorpusError as exc:
        git_record.undo_merge(config.corpus_dir, result.before)
        print(f"error: after merging {result.upstream} the corpus does not validate, so the merge was undone; "
              f"nothing changed.\n{exc}\nFix it on {result.upstream} (or merge by hand in the bot's checkout).",
              file=sys.stderr)
        return 1
    changed = ", ".join(result.changed) or "no corpus files"
    print(f"merged {result.upstream} ({result.before[:8]} -> {result.after[:8]}): {changed}; "
          f"{result.bot_commits} moderator commit(s) here for the maintainers to fetch")
    if result.changed:
        try:
            cmd_reload(config, args)
        except UserFacingError:
            print("no running bot to reload: the next start builds the index from the merged corpus")
    return 0


def cmd_purge(config: Config, args: argparse.Namespace) -> int:
    from bot.storage.retention import purge_database

    days = args.days if args.days is not None else config.data.retention_days
    if days < 1:
        raise UserFacingError("--days must be at least 1")
    print(purge_database(config.database_target, days).summary())
    return 0


def cmd_report(config: Config, args: argparse.Namespace) -> int:
    import time

    from bot.index.encoders import load_encoder
    from bot.storage.gaps import MAX_MISSES, gaps_csv, gaps_text, group_misses, read_misses

    _quiet_logs()
    since = time.time() - args.days * 86400 if args.days else None
    misses = read_misses(config.database_target, since)
    groups = group_misses(misses, load_encoder(config)) if misses else []
    if args.csv:
        sys.stdout.write(gaps_csv(groups))
    else:
        capped = f" (the newest {MAX_MISSES:,} only)" if len(misses) >= MAX_MISSES else ""
        print(f"{len(misses)} unanswered or unhelpful question(s) in {len(groups)} group(s){capped}")
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
    if args.questions:
        questions_path = args.questions
        questions = evaluation.load_questions(questions_path)
        label = str(questions_path)
    else:
        questions_path = config.eval_bank
        questions = evaluation.load_bank_questions(questions_path, None if args.split == "all" else args.split)
        label = f"{questions_path} ({args.split} split)"
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
        payload = {"questions": label, "decline_threshold": threshold,
                   "retrievers": [r.metrics() for r in reports]}
        if calibration:
            payload["calibration"] = dataclasses.asdict(calibration)
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(f"{label} · {len(questions)} questions · decline threshold {threshold}")
        print(evaluation.format_table(reports))
        for name in evaluation.BREAKDOWNS:
            table = evaluation.format_breakdown(reports, name)
            if table:
                print(f"\n{table}")
        if args.misses:
            print()
            for report in reports:
                for miss in report.misses():
                    state = f"declined ({miss.decline})" if not miss.answered else f"rank {miss.rank}, first {miss.first}"
                    print(f"  {report.retriever}: {miss.question.question!r} ({state}, confidence {miss.confidence:.3f})")
                for wrong in (r for r in report.out_of_scope if not r.declined_right):
                    state = "answered" if wrong.answered else f"declined as {wrong.decline}"
                    print(f"  {report.retriever}: {state} must-decline ({wrong.question.decline_kind or 'abstain'}) "
                          f"{wrong.question.question!r} (first {wrong.first}, confidence {wrong.confidence:.3f})")
        if calibration:
            print(f"proposed decline_threshold: {calibration.threshold} — {calibration.summary()}")
        from bot.core.quality_models import models_of
        from bot.evaluation.fitting import format_rule_comparison

        rules = models_of(answerer.live.current).report.get("decline_rules")
        if rules:
            print("\nThe decline rules compared when this index's models were fitted, on the messages that reach the "
                  "decision (after the guards):")
            print(format_rule_comparison(rules))
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
    "bench": cmd_bench, "purge": cmd_purge, "status": cmd_status,
}
