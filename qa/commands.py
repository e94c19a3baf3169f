"""What each CLI command does; argument parsing lives in cli.py."""

from __future__ import annotations

import json
import os
import shutil
import sys
from argparse import Namespace
from pathlib import Path

from qa.assistant import Assistant
from qa.cli import config_from
from qa.config import UPLOADS_DIR, default_index_dir
from qa.embed import ModelLoadError
from qa.index import ArticleIndex, IndexBusyError, IndexOpenError, lock_timeout, verify
from qa.store import StoreError

USER_ERRORS = (ValueError, IndexOpenError, IndexBusyError, ModelLoadError, StoreError, OSError)


def _assistant(args: Namespace) -> Assistant:
    return Assistant(args.index or default_index_dir(), config_from(args))


def run_ingest(args: Namespace) -> int:
    target = Path(args.index or default_index_dir())
    if not args.rebuild:
        _check_model_choice(target, args.model)
    for path in args.paths:
        if not Path(path).exists():
            print(f"skipped {path}: no such file or folder", file=sys.stderr)
    paths = [p for p in args.paths if Path(p).exists()]
    if args.rebuild:
        with ArticleIndex(target).lock(lock_timeout()):  # no other ingest may write the index being replaced
            building = target.with_name(f".{target.name}.rebuild-{os.getpid()}")
            try:
                rebuilt = paths + _carry_uploads(target, building)
                report = Assistant(building, config_from(args)).ingest(rebuilt, progress=_progress_bar(rebuilt))
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            _swap_in(building, target)
    else:
        report = Assistant(target, config_from(args)).ingest(paths, progress=_progress_bar(paths))
    for error in report.errors:
        print(f"skipped {error}", file=sys.stderr)
    print(report.summary())
    return 2 if report.errors or len(paths) < len(args.paths) else 0


def _carry_uploads(target: Path, building: Path) -> list[str]:
    """Articles uploaded through the UI live in the index folder: a rebuild takes them along."""
    uploads = target / UPLOADS_DIR
    if not uploads.is_dir():
        return []
    shutil.copytree(uploads, building / UPLOADS_DIR)
    return [str(building / UPLOADS_DIR)]


def _check_model_choice(target: Path, model: str | None) -> None:
    """An explicit --model must match an existing index's model: it is not silently ignored."""
    index = ArticleIndex(target)
    if model and index.exists:
        index.open().check_settings(model)


def _progress_bar(paths: list[str]):
    """A tqdm bar over files on a terminal; nothing when output is piped."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    from qa.load import discover

    bar = tqdm(total=sum(1 for _ in discover(paths)), unit="file", desc="ingest", file=sys.stderr)
    return lambda path: bar.update(1)


def _swap_in(built: Path, target: Path) -> None:
    """Replace the old index folder with the rebuilt one; extra files (a README) are kept."""
    if target.exists():
        for extra in target.iterdir():
            if not (built / extra.name).exists() and not extra.name.startswith(".") and extra.is_file():
                shutil.copy2(extra, built / extra.name)
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(built, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(built, target)


def run_ask(args: Namespace) -> int:
    assistant = _assistant(args)
    options = {"top_k": args.top_k, "retrieval": args.retrieval, "since": args.since, "until": args.until}
    if args.questions:
        for question in read_questions(args.questions):
            print(json.dumps(assistant.ask(question, **options).to_dict(), ensure_ascii=False), flush=True)
        return 0
    if args.chat:
        return _chat(assistant, options, args.json)
    if not args.question:
        raise ValueError("give a QUESTION or --questions FILE")
    reply = assistant.ask(args.question, **options)
    print(json.dumps(reply.to_dict(), ensure_ascii=False, indent=2) if args.json else format_reply(reply))
    return 0


def _chat(assistant: Assistant, options: dict, as_json: bool) -> int:
    """Questions from stdin, each asked with the conversation so far; an empty line or /clear starts over."""
    interactive = sys.stdin.isatty()
    history: list = []
    while True:
        try:
            line = input("> " if interactive else "").strip()
        except EOFError:
            return 0
        if not line or line == "/clear":
            history = []
            continue
        try:
            reply = assistant.ask(line, history=history, **options)
        except ValueError as error:  # a question over the limit: say so, keep the conversation
            print(f"error: {error}", file=sys.stderr)
            continue
        history.append((line, reply))
        print(json.dumps(reply.to_dict(), ensure_ascii=False) if as_json else format_reply(reply) + "\n", flush=True)


def read_questions(path: Path) -> list[str]:
    """Plain text (one question a line) or JSONL with a "question" field."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: malformed JSON line ({error.msg})") from None
            if not isinstance(record.get("question"), str):
                raise ValueError(f"{path}:{number}: no \"question\" field")
            line = record["question"]
        questions.append(line)
    return questions


def format_reply(reply) -> str:
    lines = []
    if reply.found:
        lines.append(f"Answer: {reply.answer}")
        if reply.sentence and reply.sentence != reply.answer:
            lines.append(f"  “{reply.sentence}”")
    else:
        lines.append("I couldn't find this in the loaded articles." + (" Closest passages:" if reply.citations else ""))
    for c in reply.citations:
        meta = ", ".join(x for x in (c.source, c.published) if x)
        lines.append(f"\n[{c.n}] {c.title}" + (f" — {meta}" if meta else "") + f"  ({c.article_id})")
        if c.url:
            lines.append(f"    {c.url}")
        passage = c.passage
        if c.answer_start is not None:
            passage = f"{passage[: c.answer_start]}»{passage[c.answer_start : c.answer_end]}«{passage[c.answer_end :]}"
        lines.append("    " + passage.replace("\n", "\n    "))
        if c.also_in:
            lines.append(f"    also in: {', '.join(c.also_in)}")
    return "\n".join(lines)


def run_list(args: Namespace) -> int:
    for article_id, title, source, published, chunks, copy_of in _assistant(args).articles():
        where = f"copy of {copy_of}" if copy_of else f"{chunks} passages"
        print("\t".join([article_id, title, source or "-", published or "-", where]))
    return 0


def run_remove(args: Namespace) -> int:
    missing = _assistant(args).remove(args.ids)
    for article_id in args.ids:
        if article_id not in missing:
            print(f"removed {article_id}")
    if missing:
        raise ValueError(f"not in the index: {', '.join(missing)} (see: python -m qa list)")
    return 0


def run_stats(args: Namespace) -> int:
    assistant = _assistant(args)
    for key, value in assistant.stats().items():
        print(f"{key}: {value}")
    if args.check:
        problems = verify(assistant.index)
        for problem in problems:
            print(f"check failed: {problem}", file=sys.stderr)
        if problems:
            return 1
        print("check: ok")
    return 0


def run_eval(args: Namespace) -> int:
    """A SQuAD file without --index is asked against a temporary index of its own paragraphs."""
    from qa.evaluate import evaluate, format_report, load_dataset, temporary_index

    dataset = load_dataset(args.file)
    config = config_from(args).override(qa_model=args.qa_model)
    if dataset.articles and args.index is None:
        print(f"indexing the {len(dataset.articles)} paragraphs of {args.file} in a temporary index…", file=sys.stderr)
        with temporary_index(dataset, config) as (assistant, ingested):
            for error in ingested.errors:
                print(f"skipped {error}", file=sys.stderr)
            report = evaluate(assistant, dataset)
    else:
        report = evaluate(Assistant(args.index or default_index_dir(), config), dataset)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
