"""`qa eval`: retrieval and answer quality on labelled questions, SQuAD-style scoring."""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from pathlib import Path

import numpy as np


def load_labelled(path: Path) -> list[dict]:
    """JSONL: question, answers (empty = unanswerable), optional article_ids."""
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: malformed JSON line ({error.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            raise ValueError(f"{path}:{number}: expected an object with a \"question\" string")
        items.append({"question": record["question"], "answers": list(record.get("answers") or []),
                      "article_ids": list(record.get("article_ids") or [])})
    if not items:
        raise ValueError(f"{path}: no questions in the file")
    return items


def normalize(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation) | {"‘", "’", "“", "”", "£", "€"})
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def contains(shown: str | None, answer: str) -> bool:
    """The expected answer's words appear, in order and whole, inside what was shown."""
    if not shown:
        return False
    return f" {normalize(answer)} " in f" {normalize(shown)} "


def f1_score(prediction: str, answer: str) -> float:
    pred, gold = normalize(prediction).split(), normalize(answer).split()
    common = sum((Counter(pred) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def score_reply(item: dict, reply) -> dict:
    answers, ids = item["answers"], set(item["article_ids"])
    rank = next((c.n for c in reply.citations if ids & {c.article_id, *c.also_in}), None) if ids else None
    shown = reply.answer if reply.found else None
    return {
        "answerable": bool(answers),
        "found": reply.found,
        "rank": rank,
        "hit": any(contains(shown, a) for a in answers),
        "sentence_hit": any(contains(reply.sentence if reply.found else None, a) for a in answers),
        "em": max((float(normalize(shown or "") == normalize(a)) for a in answers), default=0.0),
        "f1": max((f1_score(shown or "", a) for a in answers), default=0.0),
        "answer_words": len((shown or "").split()),
        "score": reply.score,
        "timings": reply.timings_ms,
    }


def summarize(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    ranked = answerable

    def mean(values) -> float | None:
        values = list(values)
        return round(float(np.mean(values)), 4) if values else None

    def pct(name: str, q: float) -> float | None:
        return round(float(np.percentile([r["timings"][name] for r in rows], q)), 1) if rows else None

    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall@1": mean(r["rank"] == 1 for r in ranked),
        "recall@5": mean(r["rank"] is not None and r["rank"] <= 5 for r in ranked),
        "mrr": mean(1.0 / r["rank"] if r["rank"] else 0.0 for r in ranked),
        "answer_hit": mean(r["hit"] for r in answerable),
        "sentence_hit": mean(r["sentence_hit"] for r in answerable),
        "exact_match": mean(r["em"] for r in answerable),
        "f1": mean(r["f1"] for r in answerable),
        "answer_words_mean": mean(r["answer_words"] for r in answerable if r["found"]),
        "answered_rate": mean(r["found"] for r in answerable),
        "not_found_rate": mean(not r["found"] for r in unanswerable),
        "latency_ms": {f"{name}_{label}": pct(name, q) for name in ("retrieve", "read", "total") for label, q in (("p50", 50), ("p95", 95))},
    }


def evaluate(assistant, path: Path, **ask_options) -> dict:
    items = load_labelled(path)
    rows = [score_reply(item, assistant.ask(item["question"], **ask_options)) for item in items]
    return summarize(rows)


def format_report(report: dict) -> str:
    lines = [f"{'metric':<22}{'value':>10}", "-" * 32]
    for key, value in report.items():
        if isinstance(value, dict):
            lines.extend(f"{name:<22}{v:>10}" for name, v in value.items())
        else:
            lines.append(f"{key:<22}{'-' if value is None else value:>10}")
    return "\n".join(lines)
