"""Grid-search the offline reader's sentence weights on labelled questions.

    python bench/tune_reader.py --index DIR QUESTIONS.jsonl [--check OTHER_INDEX OTHER.jsonl]

Prints the share of answerable questions whose top sentence holds an expected answer, for the
current weights and the best grid points; --check scores the same points on a second set
(tune on one set, confirm on the other, keep a change only when both agree).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.assistant import Assistant  # noqa: E402
from qa.evaluate import contains, load_labelled  # noqa: E402
from qa.read import TYPE_FLOOR, WEIGHTS, combine  # noqa: E402
from qa.retrieve import Retriever  # noqa: E402


def collect(index: Path, questions: Path) -> list[tuple[list, bool, list[str]]]:
    assistant = Assistant(index)
    rows = []
    for item in load_labelled(questions):
        if not item["answers"]:
            continue
        vector = assistant.embedder.encode([item["question"]])[0]
        limit = assistant.config.read_passages * assistant.config.max_per_article
        passages = Retriever(assistant.index, assistant.config).retrieve(item["question"], vector, limit)
        ranking = assistant.reader.rank(item["question"], vector, passages)
        rows.append((ranking.candidates, ranking.wanted is not None, item["answers"]))
    return rows


def hit_rate(rows, weights: dict, floor: float) -> float:
    hits = 0
    for candidates, typed, answers in rows:
        if candidates:
            best = max(candidates, key=lambda c: combine(c, typed, weights, floor))
            hits += any(contains(best.text, a) for a in answers)
    return hits / len(rows)


def grid():
    for terms, context, dense, rank, floor in itertools.product(
        (0.25, 0.35, 0.45, 0.55), (0.0, 0.1, 0.2), (0.2, 0.35, 0.5), (0.0, 0.05, 0.15), (0.05, 0.15, 0.3)
    ):
        yield {"terms": terms, "context": context, "dense": dense, "rank": rank}, floor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--check", nargs=2, type=Path, metavar=("INDEX", "QUESTIONS"))
    args = parser.parse_args()
    tune = collect(args.index, args.questions)
    check = collect(*args.check) if args.check else None
    print(f"current {WEIGHTS} floor={TYPE_FLOOR}: {hit_rate(tune, WEIGHTS, TYPE_FLOOR):.3f}"
          + (f" / check {hit_rate(check, WEIGHTS, TYPE_FLOOR):.3f}" if check else ""))
    results = sorted(((hit_rate(tune, w, f), w, f) for w, f in grid()), key=lambda r: -r[0])
    for rate, weights, floor in results[:15]:
        print(f"{rate:.3f} {weights} floor={floor}" + (f" / check {hit_rate(check, weights, floor):.3f}" if check else ""))


if __name__ == "__main__":
    main()
