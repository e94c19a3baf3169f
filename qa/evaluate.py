"""`qa eval`: retrieval and answer quality on labelled questions, SQuAD-style scoring.

Inputs:
- JSONL, one question a line: {"question": str, "answers": [str, ...], "article_ids": [str, ...]};
  empty `answers` = unanswerable (the right reply is "not found"); `article_ids` optional;
  `history` optional: the earlier questions of a conversation, in order, so that the question is
  scored as a follow-up (they are asked first, each with the replies before it).
- SQuAD JSON, v1.1 or v2.0 (data[].paragraphs[].context / qas[].question / answers[].text /
  is_impossible). Each paragraph becomes an article with id "<title>/<n>" (n counts the
  title's paragraphs from 1) whose text is the context; its questions carry that id, and a
  question marked impossible (or without answers) is expected to get "not found".
  Without an index, `temporary_index` builds one from the paragraphs and removes it after.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import string
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_PUNCTUATION = frozenset(string.punctuation) | {"‘", "’", "“", "”", "£", "€"}
_ARTICLES = re.compile(r"\b(a|an|the)\b")


@dataclass(frozen=True)
class Dataset:
    items: list[dict]  # {"question": str, "answers": [str], "article_ids": [str], "history": [str]}
    format: str  # "jsonl", "squad-v1.1" or "squad-v2.0"
    articles: list[dict] = field(default_factory=list)  # SQuAD paragraphs as article records (id, title, text)


# --- loading ----------------------------------------------------------------------------------


def load_dataset(path: str | Path) -> Dataset:
    """JSONL labelled questions, or a SQuAD v1.1/v2.0 JSON file (told apart by content)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    whole, whole_error = None, None
    if text.lstrip().startswith("{"):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError as error:
            whole_error = error
        except RecursionError:
            raise ValueError(f"{path}: JSON nested too deeply") from None
    if isinstance(whole, dict) and "data" in whole:
        return _load_squad(path, whole)
    if path.suffix.lower() == ".json":
        if whole_error is not None:
            raise ValueError(f"{path}:{whole_error.lineno}: malformed JSON ({whole_error.msg}, column {whole_error.colno})")
        raise ValueError(f"{path}: expected SQuAD JSON (an object with a \"data\" list of articles) "
                         "or, for one question a line, a .jsonl file")
    return Dataset(_load_jsonl(path, text), "jsonl")


def load_labelled(path: str | Path) -> list[dict]:
    """The questions of a JSONL or SQuAD file: question, answers (empty = unanswerable), article_ids."""
    return load_dataset(path).items


def _load_jsonl(path: Path, text: str) -> list[dict]:
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: malformed JSON line ({error.msg}, column {error.colno})") from None
        except RecursionError:
            raise ValueError(f"{where}: JSON nested too deeply") from None
        if not isinstance(record, dict) or not isinstance(record.get("question"), str) or not record["question"].strip():
            raise ValueError(f"{where}: expected an object with a non-empty \"question\" string, "
                             "e.g. {\"question\": \"...\", \"answers\": [\"...\"], \"article_ids\": [\"...\"]}")
        items.append({
            "question": record["question"],
            "answers": _strings(record.get("answers"), "answers", where),
            "article_ids": _strings(record.get("article_ids"), "article_ids", where),
            "history": _history(record.get("history"), where),
        })
    if not items:
        raise ValueError(f"{path}: no questions in the file")
    return items


def _history(value, where: str) -> list[str]:
    history = _strings(value, "history", where)
    if any(not q.strip() for q in history):
        raise ValueError(f"{where}: \"history\" must list the conversation's earlier questions, none of them empty")
    return history


def _strings(value, name: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{where}: \"{name}\" must be a list of strings, got {json.dumps(value)[:80]}")
    return [str(v) for v in value]


def _load_squad(path: Path, data: dict) -> Dataset:
    entries = data["data"]
    if not isinstance(entries, list):
        raise ValueError(f"{path}: \"data\" must be a list of articles (SQuAD format), got {type(entries).__name__}")
    items, articles, per_title = [], [], Counter()
    v2 = str(data.get("version", "")).lstrip("v").startswith("2")
    for i, entry in enumerate(entries):
        where = f"{path}: data[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("paragraphs"), list):
            raise ValueError(f"{where}: expected an object with a \"paragraphs\" list")
        title = entry.get("title")
        title = title.strip() if isinstance(title, str) and title.strip() else f"article-{i + 1}"
        for j, paragraph in enumerate(entry["paragraphs"]):
            here = f"{where}.paragraphs[{j}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str) or not paragraph["context"].strip():
                raise ValueError(f"{here}: expected an object with a non-empty \"context\" string")
            per_title[title] += 1
            article_id = f"{title}/{per_title[title]}"
            articles.append({"id": article_id, "title": title.replace("_", " "), "text": paragraph["context"]})
            qas = paragraph.get("qas", [])
            if not isinstance(qas, list):
                raise ValueError(f"{here}: \"qas\" must be a list of questions")
            for k, qa in enumerate(qas):
                at = f"{here}.qas[{k}]"
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or not qa["question"].strip():
                    raise ValueError(f"{at}: expected an object with a non-empty \"question\" string")
                v2 = v2 or "is_impossible" in qa
                answers = qa.get("answers") or []
                if not isinstance(answers, list) or not all(isinstance(a, dict) and isinstance(a.get("text"), str) for a in answers):
                    raise ValueError(f"{at}: \"answers\" must be a list of objects with a \"text\" string")
                texts = [] if qa.get("is_impossible") else list(dict.fromkeys(a["text"] for a in answers if a["text"].strip()))
                items.append({"question": qa["question"], "answers": texts, "article_ids": [article_id]})
    if not items:
        raise ValueError(f"{path}: no questions in the file (SQuAD: data[].paragraphs[].qas[])")
    return Dataset(items, "squad-v2.0" if v2 else "squad-v1.1", articles)


@contextlib.contextmanager
def temporary_index(dataset: Dataset, config=None, progress=None) -> Iterator:
    """An Assistant over a fresh index of the dataset's articles, in a temporary folder that is
    removed on the way out (errors and interrupts included). Yields (assistant, ingest report)."""
    from qa.assistant import Assistant

    if not dataset.articles:
        raise ValueError("this dataset has no articles to index; give --index DIR")
    folder = Path(tempfile.mkdtemp(prefix="qa-eval-"))
    try:
        source = folder / "articles.jsonl"
        with source.open("w", encoding="utf-8") as out:
            for article in dataset.articles:
                out.write(json.dumps(article, ensure_ascii=False) + "\n")
        assistant = Assistant(folder / "index", config)
        report = assistant.ingest([source], progress)
        if not report.added:
            reason = report.errors[0] if report.errors else "nothing was added"
            raise ValueError(f"none of the {len(dataset.articles)} paragraphs could be indexed: {reason}")
        yield assistant, report
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- scoring ----------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains(shown: str | None, answer: str) -> bool:
    """The expected answer's words appear, in order and whole, inside what was shown."""
    if not shown or not normalize(answer):
        return False
    return f" {normalize(answer)} " in f" {normalize(shown)} "


def exact_match(prediction: str, answer: str) -> float:
    return float(normalize(prediction) == normalize(answer))


def f1_score(prediction: str, answer: str) -> float:
    """SQuAD token F1; when either side normalises to nothing, 1 if both do, else 0."""
    pred, gold = normalize(prediction).split(), normalize(answer).split()
    if not pred or not gold:
        return float(pred == gold)
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
        "labelled": bool(ids),  # the right article is known, so retrieval can be scored
        "found": reply.found,
        "rank": rank,
        "hit": any(contains(shown, a) for a in answers),
        "sentence_hit": any(contains(reply.sentence if reply.found else None, a) for a in answers),
        "em": max((exact_match(shown or "", a) for a in answers), default=0.0),
        "f1": max((f1_score(shown or "", a) for a in answers), default=0.0),
        "answer_words": len((shown or "").split()),
        "score": reply.score,
        "timings": reply.timings_ms,
    }


def summarize(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    ranked = [r for r in answerable if r.get("labelled", True)]

    def mean(values) -> float | None:
        values = list(values)
        return round(float(np.mean(values)), 4) if values else None

    def pct(name: str, q: float) -> float | None:
        values = [r["timings"][name] for r in rows if name in r["timings"]]
        return round(float(np.percentile(values, q)), 1) if values else None

    def overall(name: str):  # SQuAD v2 style: on an unanswerable question, "not found" scores 1
        return mean(r[name] if r["answerable"] else float(not r["found"]) for r in rows)

    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "with_article_ids": len(ranked),
        "recall@1": mean(r["rank"] == 1 for r in ranked),
        "recall@5": mean(r["rank"] is not None and r["rank"] <= 5 for r in ranked),
        "mrr": mean(1.0 / r["rank"] if r["rank"] else 0.0 for r in ranked),
        "answer_hit": mean(r["hit"] for r in answerable),
        "sentence_hit": mean(r["sentence_hit"] for r in answerable),
        "exact_match": mean(r["em"] for r in answerable),
        "f1": mean(r["f1"] for r in answerable),
        "overall_exact_match": overall("em"),
        "overall_f1": overall("f1"),
        "answer_words_mean": mean(r["answer_words"] for r in answerable if r["found"]),
        "answered_rate": mean(r["found"] for r in answerable),
        "not_found_rate": mean(not r["found"] for r in unanswerable),
        "latency_ms": {f"{name}_{label}": pct(name, q) for name in ("retrieve", "read", "total") for label, q in (("p50", 50), ("p95", 95))},
    }


def evaluate(assistant, source: str | Path | Dataset, warm_up: bool = True, **ask_options) -> dict:
    """Ask every question of a labelled file (or loaded Dataset) and summarise the replies. With
    `warm_up`, the first question is asked once beforehand, unscored, so that model loading does
    not count in the latency percentiles."""
    dataset = source if isinstance(source, Dataset) else load_dataset(source)
    if warm_up:
        assistant.ask(dataset.items[0]["question"], **ask_options)
    replies: dict[tuple[str, ...], object] = {}  # a conversation's replies, shared by its later turns

    def reply_to(turns: tuple[str, ...]):
        if turns not in replies:
            history = [(turns[i], reply_to(turns[: i + 1])) for i in range(len(turns) - 1)]
            replies[turns] = assistant.ask(turns[-1], history=history, **ask_options)
        return replies[turns]

    rows = [score_reply(item, reply_to((*item.get("history", ()), item["question"]))) for item in dataset.items]
    return {"format": dataset.format, **summarize(rows)}


# --- the terminal table -----------------------------------------------------------------------

_SECTIONS = (
    ("retrieval: the right article among the citations", "with_article_ids",
     (("recall@1", "recall@1", "%"), ("recall@5", "recall@5", "%"), ("MRR", "mrr", "f"))),
    ("answers to answerable questions", "answerable",
     (("answered", "answered_rate", "%"), ("answer hit", "answer_hit", "%"), ("sentence hit", "sentence_hit", "%"),
      ("exact match", "exact_match", "%"), ("F1", "f1", "%"), ("words per answer", "answer_words_mean", "1"))),
    ("unanswerable questions", "unanswerable", (("not found", "not_found_rate", "%"),)),
    ("all questions (\"not found\" is right when unanswerable)", "questions",
     (("exact match", "overall_exact_match", "%"), ("F1", "overall_f1", "%"))),
)


def format_report(report: dict) -> str:
    """A readable table: one section per kind of measure, latency p50/p95 at the end."""
    def show(value, kind: str) -> str:
        if value is None:
            return "-"
        if kind == "%":
            return f"{100 * value:.1f}%"
        return f"{value:.3f}" if kind == "f" else f"{value:.1f}" if kind == "1" else str(value)

    head = f"{report['questions']} questions: {report['answerable']} answerable, {report['unanswerable']} unanswerable"
    lines = [head + (f" ({report['format']})" if report.get("format") else "")]
    for title, count, metrics in _SECTIONS:
        if not report.get(count):
            continue
        lines += ["", f"{title} (n={report[count]})"]
        lines += [f"  {label:<20}{show(report.get(key), kind):>10}" for label, key, kind in metrics]
    latency = report.get("latency_ms", {})
    lines += ["", f"{'latency (ms)':<22}{'p50':>10}{'p95':>10}"]
    for name in ("retrieve", "read", "total"):
        p50, p95 = latency.get(f"{name}_p50"), latency.get(f"{name}_p95")
        lines.append(f"  {name:<20}{show(p50, ''):>10}{show(p95, ''):>10}")
    return "\n".join(lines)
