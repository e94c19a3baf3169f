"""Grid-search the offline reader's sentence weights on labelled questions.

    python bench/tune_reader.py --tune INDEX QUESTIONS.jsonl [--tune …] [--check INDEX OTHER.jsonl …]

Prints the share of answerable questions whose top sentence holds an expected answer, for the
current weights and the best grid points on the --tune sets together; --check scores the same
points on held-out sets (tune on some sets, confirm on the others). Where stories are retrieved
almost alike, the one read is chosen with the current weights; the grid re-ranks its sentences.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.assistant import Assistant  # noqa: E402
from qa.evaluate import contains, load_labelled  # noqa: E402
from qa.read import WEIGHTS, combine  # noqa: E402
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
        rows.append((ranking.candidates, ranking.wanted, item["answers"]))
    return rows


def hit_rate(rows, weights: dict, floor: float | None = None) -> float:
    """`floor`: the share of score a typed question's sentence keeps without a fitting entity
    (None: each answer type's own)."""
    hits = 0
    for candidates, wanted, answers in rows:
        if candidates:
            best = max(candidates, key=lambda c: combine(c, wanted, weights, floor))
            hits += any(contains(best.text, a) for a in answers)
    return hits / len(rows)


def grid():
    for terms, context, dense, rank, beside, around, led, floor in itertools.product(
        (0.3, 0.45, 0.6), (0.0, 0.1), (0.2, 0.35, 0.5), (0.0, 0.05, 0.15), (0.1, 0.2, 0.3), (0.0, 0.1, 0.2, 0.3, 0.45), (0.0, 0.15), (None, 0.3)
    ):
        yield {"terms": terms, "context": context, "dense": dense, "rank": rank, "beside": beside, "around": around, "led": led}, floor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", nargs=2, type=Path, action="append", required=True, metavar=("INDEX", "QUESTIONS"))
    parser.add_argument("--check", nargs=2, type=Path, action="append", default=[], metavar=("INDEX", "QUESTIONS"))
    args = parser.parse_args()
    tune = [row for pair in args.tune for row in collect(*pair)]
    checks = [collect(*pair) for pair in args.check]

    def line(weights, floor=None):
        return f"{hit_rate(tune, weights, floor):.3f}" + "".join(f" / check {hit_rate(c, weights, floor):.3f}" for c in checks)

    print(f"current {WEIGHTS}: {line(WEIGHTS)}")
    results = sorted(((hit_rate(tune, w, f), w, f) for w, f in grid()), key=lambda r: -r[0])
    for _, weights, floor in results[:15]:
        print(f"{weights} floor={floor}: {line(weights, floor)}")


if __name__ == "__main__":
    main()
