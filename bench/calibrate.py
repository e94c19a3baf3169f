"""Calibrate the reader's confidence (and so "not found") on labelled questions.

    python bench/calibrate.py INDEX QUESTIONS.jsonl [INDEX QUESTIONS.jsonl ...]

Fits a logistic model over the reader's confidence features (the best sentence's evidence score,
its passage's dense similarity to the question, whether the question names a number its story
lacks) that separates answerable from unanswerable questions, prints its
coefficients (to copy into qa/read.py CONFIDENCE) and, with the confidence as qa/read.py has
it now, the curve: answered rate on answerable and "not found" rate on unanswerable questions
at each threshold.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.assistant import Assistant  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.evaluate import contains, load_labelled  # noqa: E402
from qa.read import CONFIDENCE, evidence  # noqa: E402


def collect(index: str, questions: str) -> list[dict]:
    assistant = Assistant(index, Config(answer_threshold=0.0))
    rows = []
    for item in load_labelled(Path(questions)):
        vector = assistant.embedder.encode([item["question"]])[0]
        limit = assistant.config.read_passages * assistant.config.max_per_article
        passages = assistant.retrieve(item["question"], vector, limit)
        ranking = assistant.reader.rank(item["question"], vector, passages)
        reply = assistant.ask(item["question"])
        best = ranking.candidates[0] if ranking.candidates else None
        rows.append({
            "answerable": bool(item["answers"]),
            "features": evidence(best, ranking) if best else (0.0,) * (len(CONFIDENCE) - 1),
            "confidence": reply.score,
            "hit": any(contains(reply.answer, a) for a in item["answers"]),
        })
    return rows


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 50, ridge: float = 1e-2) -> np.ndarray:
    """Newton's method (IRLS) with a little ridge; returns weights with the intercept last."""
    x = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - y) + ridge * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w


def main() -> None:
    pairs = sys.argv[1:]
    if not pairs or len(pairs) % 2:
        sys.exit(__doc__)
    rows = [row for i in range(0, len(pairs), 2) for row in collect(pairs[i], pairs[i + 1])]
    x = np.array([r["features"] for r in rows])
    y = np.array([r["answerable"] for r in rows], dtype=float)
    w = fit_logistic(x, y)
    print(f"fitted CONFIDENCE = ({', '.join(f'{v:.2f}' for v in w)})  # score, passage dense, number lacking, intercept")
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    print(f"\n{len(answerable)} answerable, {len(unanswerable)} unanswerable questions; current confidence:")
    print(f"{'threshold':>10}{'answered':>10}{'correct':>10}{'not found':>11}")
    for threshold in np.arange(0.2, 0.85, 0.05):
        answered = np.mean([r["confidence"] >= threshold for r in answerable])
        correct = np.mean([r["confidence"] >= threshold and r["hit"] for r in answerable])
        refused = np.mean([r["confidence"] < threshold for r in unanswerable])
        print(f"{threshold:>10.2f}{answered:>10.2f}{correct:>10.2f}{refused:>11.2f}")


if __name__ == "__main__":
    main()
