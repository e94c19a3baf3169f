"""Engine benchmark on the BBC corpus (../shared/corpora/bbc.jsonl).

    python bench/bench_engine.py [--index DIR]

1. Quality on the BBC question sets of bench/ (tuning, held out, fresh sets), hybrid engine beside two baselines built here:
   BM25 alone and dense alone (same model), each answering with the best sentence of its top
   passage by its own similarity; plus the engine's reader over each single retriever.
2. `ask` latency after warm-up: p50/p95 of retrieval and reading.
Ingest throughput against plain SentenceTransformer.encode is measured by bench/bench_ingest.py.
The index in --index is built first when it does not exist (about 15 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.assistant import Assistant  # noqa: E402
from qa.evaluate import contains, load_labelled  # noqa: E402
from qa.index import ArticleIndex  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "bbc.jsonl"
QUESTION_SETS = {
    "tuning": ROOT / "bench" / "bbc_questions.jsonl",
    "held-out": ROOT / "bench" / "bbc_heldout.jsonl",
    "fresh": ROOT / "bench" / "bbc_fresh.jsonl",
    "fresh-2": ROOT / "bench" / "bbc_fresh2.jsonl",
    "fresh-3": ROOT / "bench" / "bbc_fresh3.jsonl",
    "fresh-4": ROOT / "bench" / "bbc_fresh4.jsonl",
    "fresh-5": ROOT / "bench" / "bbc_fresh5.jsonl",
    "fresh-6": ROOT / "bench" / "bbc_fresh6.jsonl",
    "fresh-7": ROOT / "bench" / "bbc_fresh7.jsonl",
    "fresh-8": ROOT / "bench" / "bbc_fresh8.jsonl",
    "fresh-9": ROOT / "bench" / "bbc_fresh9.jsonl",
    "fresh-10": ROOT / "bench" / "bbc_fresh10.jsonl",
    "fresh-11": ROOT / "bench" / "bbc_fresh11.jsonl",
    "fresh-12": ROOT / "bench" / "bbc_fresh12.jsonl",
    "fresh-13": ROOT / "bench" / "bbc_fresh13.jsonl",
    "fresh-14": ROOT / "bench" / "bbc_fresh14.jsonl",
    "fresh-15": ROOT / "bench" / "bbc_fresh15.jsonl",
    "fresh-16": ROOT / "bench" / "bbc_fresh16.jsonl",
    "fresh-17": ROOT / "bench" / "bbc_fresh17.jsonl",
    "fresh-18": ROOT / "bench" / "bbc_fresh18.jsonl",
}


def baseline_answer(assistant: Assistant, question: str, mode: str) -> tuple[list[str], str]:
    """Single-retriever baseline: its top passages, and as the answer the top passage's sentence
    that is most similar to the question by the same retriever's measure."""
    vector = assistant.embedder.encode([question])[0]
    passages = assistant.retrieve(question, vector, assistant.config.top_k, mode)
    if not passages:
        return [], ""
    top = passages[0]
    sentences = [top.article.text[s:e] for s, e in top.chunk.sentences]
    if mode == "dense":
        scores = assistant.embedder.encode(sentences) @ vector
    else:
        query = set(assistant.index.tokenize([question])[0])
        scores = [len(query & set(tokens)) for tokens in assistant.index.tokenize(sentences)]
    return [p.article.id for p in passages], sentences[int(np.argmax(scores))]


def quality(assistant: Assistant, items: list[dict]) -> dict:
    systems = {
        "hybrid engine": lambda q: _engine(assistant, q, None),
        "engine reader, BM25 retrieval": lambda q: _engine(assistant, q, "bm25"),
        "engine reader, dense retrieval": lambda q: _engine(assistant, q, "dense"),
        "baseline: BM25 alone": lambda q: baseline_answer(assistant, q, "bm25"),
        "baseline: dense alone": lambda q: baseline_answer(assistant, q, "dense"),
    }
    report = {}
    for name, system in systems.items():
        r1 = r5 = hit = 0
        for item in items:
            ids, answer = system(item["question"])
            gold = set(item["article_ids"])
            r1 += bool(ids[:1] and ids[0] in gold)
            r5 += bool(gold & set(ids[:5]))
            hit += any(contains(answer, a) for a in item["answers"])
        n = len(items)
        report[name] = {"recall@1": round(r1 / n, 3), "recall@5": round(r5 / n, 3), "answer_hit": round(hit / n, 3)}
    return report


def _engine(assistant: Assistant, question: str, mode: str | None) -> tuple[list[str], str]:
    reply = assistant.ask(question, retrieval=mode)
    return [c.article_id for c in reply.citations], reply.answer or ""


def latency(assistant: Assistant, questions: list[str]) -> dict:
    for question in questions[:5]:
        assistant.ask(question)  # warm-up
    timings = [assistant.ask(q).timings_ms for q in questions]
    out = {}
    for part in ("retrieve", "read", "total"):
        values = [t[part] for t in timings]
        out[part] = {"p50_ms": round(float(np.percentile(values, 50)), 1), "p95_ms": round(float(np.percentile(values, 95)), 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "bench" / "out" / "bbc-index")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "engine.json")
    args = parser.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} not found: the benchmark reads the BBC corpus from ../shared/corpora")
    assistant = Assistant(args.index)
    if not ArticleIndex(args.index).exists:
        print(f"building {args.index} from {CORPUS} …", flush=True)
        print(assistant.ingest([CORPUS]).summary(), flush=True)
    sets = {name: load_labelled(path) for name, path in QUESTION_SETS.items()}
    results = {
        "corpus": assistant.stats(),
        "quality": {name: quality(assistant, [i for i in items if i["answers"]]) for name, items in sets.items()},
        "latency": latency(assistant, [i["question"] for items in sets.values() for i in items]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    for name, table in results["quality"].items():
        answerable = sum(1 for i in sets[name] if i["answers"])
        print(f"\nQuality on {answerable} answerable BBC questions ({name})")
        print(f"{'system':<34}{'recall@1':>10}{'recall@5':>10}{'answer hit':>12}")
        for system, row in table.items():
            print(f"{system:<34}{row['recall@1']:>10}{row['recall@5']:>10}{row['answer_hit']:>12}")
    print("\nask latency after warm-up (ms):", json.dumps(results["latency"]))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
