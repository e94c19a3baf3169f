"""Engine benchmark on the BBC corpus (../shared/corpora/bbc.jsonl).

    python bench/bench_engine.py [--index DIR] [--subset N]

1. Quality on bench/bbc_questions.jsonl, hybrid engine beside two baselines built here:
   BM25 alone and dense alone (same model), each answering with the best sentence of its top
   passage by its own similarity; plus the engine's reader over each single retriever.
2. Ingest throughput on the first N articles: the whole ingest (parse, chunk, embed, index)
   as a ratio to plain SentenceTransformer.encode of the same chunk texts, same process.
3. `ask` latency after warm-up: p50/p95 of retrieval and reading.
The index in --index is built first when it does not exist (about 15 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.assistant import Assistant  # noqa: E402
from qa.chunk import embedding_text  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.evaluate import contains, load_labelled  # noqa: E402
from qa.ingest import Ingestor  # noqa: E402
from qa.index import ArticleIndex  # noqa: E402
from qa.load import load_file  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "bbc.jsonl"
QUESTIONS = ROOT / "bench" / "bbc_questions.jsonl"


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


def throughput(subset: int) -> dict:
    """Whole ingest vs plain encode of the same chunk texts, model loaded once for both."""
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        lines = CORPUS.read_text(encoding="utf-8").splitlines()[:subset]
        corpus = work / "subset.jsonl"
        corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assistant = Assistant(work / "index", Config())
        embedder = assistant.embedder
        embedder.encode(["warm-up"])
        ingestor = Ingestor(ArticleIndex(work / "index"), embedder, assistant.config)
        articles = load_file(corpus, work).articles
        texts = []
        for article in articles:
            spans = embedder.token_spans(article.title)
            texts.extend(embedding_text(article.title, c.text, spans) for c in ingestor.chunker.chunk(article))
        started = time.perf_counter()
        embedder.model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        encode_s = time.perf_counter() - started
        report = Ingestor(ArticleIndex(work / "index"), embedder, assistant.config).ingest([corpus])
        return {
            "articles": len(articles),
            "chunks": len(texts),
            "plain_encode_s": round(encode_s, 2),
            "ingest_s": round(report.seconds, 2),
            "ingest_chunks_per_s": round(len(texts) / report.seconds, 1),
            "ratio_to_plain_encode": round(encode_s / report.seconds, 3),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "bench" / "out" / "bbc-index")
    parser.add_argument("--subset", type=int, default=300, help="articles for the throughput run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "engine.json")
    args = parser.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} not found: the benchmark reads the BBC corpus from ../shared/corpora")
    assistant = Assistant(args.index)
    if not ArticleIndex(args.index).exists:
        print(f"building {args.index} from {CORPUS} …", flush=True)
        print(assistant.ingest([CORPUS]).summary(), flush=True)
    items = load_labelled(QUESTIONS)
    answerable = [i for i in items if i["answers"]]
    results = {
        "corpus": assistant.stats(),
        "quality": quality(assistant, answerable),
        "latency": latency(assistant, [i["question"] for i in items]),
        "throughput": throughput(args.subset),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nQuality on {len(answerable)} answerable BBC questions")
    print(f"{'system':<34}{'recall@1':>10}{'recall@5':>10}{'answer hit':>12}")
    for name, row in results["quality"].items():
        print(f"{name:<34}{row['recall@1']:>10}{row['recall@5']:>10}{row['answer_hit']:>12}")
    print("\nask latency after warm-up (ms):", json.dumps(results["latency"]))
    print("ingest throughput:", json.dumps(results["throughput"]))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
