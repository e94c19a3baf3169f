"""Command line: python -m qa ingest | ask | list | remove | stats | eval. A thin shell over Assistant."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qa.config import Config, RETRIEVAL_MODES, default_index_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa", description="Question answering over news articles, offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--index", type=Path, default=None, help=f"index folder (default: $QA_INDEX or {default_index_dir()})")
        return p

    p = command("ingest", "Add files or folders of articles (.txt .md .html .htm .json .jsonl) to the index.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--model", default=None, help="embedding model for a new index (name or local path)")
    p.add_argument("--chunk-tokens", type=int, default=None, help="chunk size in model tokens for a new index")
    p.add_argument("--rebuild", action="store_true", help="build a fresh index (replacing the old one when done)")

    p = command("ask", "Answer a question from the indexed articles.")
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--questions", type=Path, help="file of questions (one a line, or JSONL with a 'question' field); JSONL out")
    p.add_argument("--chat", action="store_true",
                   help="a conversation: questions one a line from the terminal (or piped in), each a follow-up of "
                        "those before; an empty line or /clear starts over, Ctrl-D ends")
    p.add_argument("--json", action="store_true", help="print the reply as JSON")
    p.add_argument("--top-k", type=int, default=None, help="passages to cite (default 5)")
    p.add_argument("--retrieval", choices=RETRIEVAL_MODES, default=None, help="hybrid (default), dense or bm25")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only articles published on or after this date")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="only articles published on or before this date")

    command("list", "List the indexed articles.")
    p = command("remove", "Remove articles by id.")
    p.add_argument("ids", nargs="+", metavar="ID")
    p = command("stats", "Show index statistics.")
    p.add_argument("--check", action="store_true", help="verify the index; non-zero exit naming the problem")

    p = command("eval", "Quality report on labelled questions: JSONL (question, answers, article_ids) or SQuAD v1.1/v2.0 JSON.")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--model", default=None, help="embedding model of the temporary index built from a SQuAD file without --index")
    p.add_argument("--qa-model", default=None, help="a transformers extractive-QA model (name or folder): evaluate the span reader")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from qa import commands  # heavy imports only once a command runs

    try:
        status = getattr(commands, f"run_{args.command}")(args)
        sys.stdout.flush()  # a reader gone away is found here, not at exit
        return status
    except KeyboardInterrupt:
        print("interrupted; the index keeps its last complete state", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away ("qa list | head"): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor at exit, when Python flushes
        return 141  # 128 + SIGPIPE, as a shell reports it
    except commands.USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def config_from(args: argparse.Namespace) -> Config:
    return Config().override(
        model=getattr(args, "model", None),
        chunk_tokens=getattr(args, "chunk_tokens", None),
        top_k=getattr(args, "top_k", None),
        retrieval=getattr(args, "retrieval", None),
    )


if __name__ == "__main__":
    sys.exit(main())

