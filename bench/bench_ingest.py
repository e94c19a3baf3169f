"""Ingest speed, one-article adds, and the embedding backends' quality: part of `make bench-scale`.

    python bench/bench_ingest.py [--subset N] [--source DIR] [--parts throughput,add,quality]

throughput  The whole ingest of the first N BBC articles (load, chunk, embed, index, publish),
            in process with the model loaded, against plain SentenceTransformer.encode (PyTorch
            fp32, batch 32) of the same chunk texts. Two rounds, alternating, on the same
            2 shared cores; the ratio uses each side's faster round. Also `python -m qa ingest`
            as a whole process (process start and model load included).
add         One new article into a 20,000-passage index (real BBC passages + perturbed copies,
            as bench_scale.py builds them): the ingest's own time with the model loaded, five
            times; the CLI's wall time beside the time to start Python and load the model; and
            the BM25 compaction that a publish does now and then, timed alone.
quality     recall@1/@5 and answer hit of the engine on bench/bbc_questions.jsonl, and dense-only
            recall@5, for an index embedded with PyTorch fp32 and one embedded with ONNX int8,
            each queried with either backend.
query       each backend: a new process until the model is ready, and one question's embedding.
Results: bench/out/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import CORPUS, OUT, QUESTIONS, build, read_source, source_index  # noqa: E402

from qa.assistant import Assistant  # noqa: E402
from qa.chunk import embedding_text  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.embed import Embedder, resolve_model  # noqa: E402
from qa.evaluate import contains, load_labelled  # noqa: E402
from qa.index import ArticleIndex  # noqa: E402
from qa.ingest import Ingestor  # noqa: E402
from qa.load import load_file  # noqa: E402


def plain_sentence_transformer():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model(Config().model), device="cpu")


def chunk_texts(embedder: Embedder, corpus: Path, config: Config, work: Path) -> list[str]:
    ingestor = Ingestor(ArticleIndex(work / "unused"), embedder, config)
    texts = []
    for article in load_file(corpus, corpus.parent).articles:
        spans = embedder.token_spans(article.title)
        texts.extend(embedding_text(article.title, c.text, spans) for c in ingestor.chunker.chunk(article))
    return texts


def throughput(subset: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="qa-bench-ingest-"))
    try:
        corpus = work / "subset.jsonl"
        lines = CORPUS.read_text(encoding="utf-8").splitlines()
        corpus.write_text("\n".join(lines[:subset] if subset else lines) + "\n", encoding="utf-8")
        config = Config()
        embedder = Embedder(config.model, config.batch_size)
        embedder.encode(["warm-up"])
        texts = chunk_texts(embedder, corpus, config, work)
        plain = plain_sentence_transformer()
        plain.encode(["warm-up"])
        plain_s, ingest_s, backend_s = [], [], []
        for round_ in range(2):
            started = time.perf_counter()
            plain.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
            plain_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            embedder.encode(texts)  # the backend alone: what the rest of the ingest adds is the difference
            backend_s.append(time.perf_counter() - started)
            directory = work / f"index-{round_}"
            report = Ingestor(ArticleIndex(directory), embedder, config).ingest([corpus])
            ingest_s.append(report.seconds)
            print(f"  round {round_}: plain encode {plain_s[-1]:.1f}s, {embedder.backend} encode {backend_s[-1]:.1f}s, "
                  f"ingest {ingest_s[-1]:.1f}s", flush=True)
        started = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "qa", "ingest", "--index", str(work / "index-cli"), str(corpus)],
                             cwd=ROOT, capture_output=True, text=True)
        cli_s = time.perf_counter() - started
        return {
            "articles": subset or len(lines),
            "chunks": len(texts),
            "embed_backend": embedder.backend,
            "plain_encode_s": [round(s, 2) for s in plain_s],
            "backend_encode_s": [round(s, 2) for s in backend_s],
            "ingest_s": [round(s, 2) for s in ingest_s],
            "plain_chunks_per_s": round(len(texts) / min(plain_s), 1),
            "ingest_chunks_per_s": round(len(texts) / min(ingest_s), 1),
            "ratio_ingest_to_plain_encode": round(min(plain_s) / min(ingest_s), 2),
            "ratio_backend_to_plain_encode": round(min(plain_s) / min(backend_s), 2),
            "embedding_share_of_ingest": round(min(backend_s) / min(ingest_s), 2),
            "cli_ingest_s": round(cli_s, 2),
            "cli_exit": cli.returncode,
            "cli_ratio_to_plain_encode": round(min(plain_s) / cli_s, 2),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


NEW_ARTICLES = [
    ("Harbour tunnel opens to traffic", "The new harbour tunnel opened to traffic on Monday after four years of work. "
     "Engineers said the 2.4km crossing cost £310m, £40m more than planned. The mayor, Ruth Okafor, called it a "
     "turning point for the city's east side.\nTolls will be charged from March."),
    ("Ferry firm orders electric boats", "Island Ferries has ordered six battery-powered boats from a Norwegian yard. "
     "The first will enter service in 2027 on the Kestrel route, the company said.\nThe order is worth about £90m."),
    ("Rail strike called off", "A rail strike planned for next week has been called off after talks at the conciliation "
     "service Acas. The RMT union said members would vote on a new pay offer of 4.5% over two years."),
    ("Chess prodigy wins national title", "Twelve-year-old Maya Lindqvist became the youngest national chess champion on "
     "Sunday, beating the defending champion in the final round in Harrogate."),
    ("Bakery chain to close 40 shops", "The bakery chain Miller & Daughters will close 40 of its 310 shops by June, "
     "putting about 600 jobs at risk. Rising energy and flour prices were blamed."),
]


def one_article_adds(source: Path, work: Path, size: int = 20_000) -> dict:
    from qa.bm25 import IncrementalBM25

    settings, rows, vectors = read_source(source)
    directory = work / f"n{size}"
    build(directory, size, settings, rows, vectors)
    ArticleIndex(directory).open()  # FAISS + BM25 built and written, as after a normal ingest
    config = Config()
    embedder = Embedder(config.model, config.batch_size)
    embedder.encode(["warm-up"])
    adds = []
    for i, (title, text) in enumerate(NEW_ARTICLES[:4]):
        path = work / f"new-{i}.jsonl"
        path.write_text(json.dumps({"id": f"new/{i}", "title": title, "text": text}) + "\n")
        report = Ingestor(ArticleIndex(directory), embedder, config).ingest([path])
        adds.append(round(report.seconds, 3))
    # the CLI, as a user runs it, beside what starting Python and loading the model costs alone
    title, text = NEW_ARTICLES[4]
    path = work / "new-cli.jsonl"
    path.write_text(json.dumps({"id": "new/cli", "title": title, "text": text}) + "\n")
    started = time.perf_counter()
    cli = subprocess.run([sys.executable, "-m", "qa", "ingest", "--index", str(directory), str(path)], cwd=ROOT,
                         capture_output=True, text=True)
    cli_s = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from qa.embed import Embedder; Embedder().encode(['x']); import qa.ingest"],
                   cwd=ROOT, check=True, capture_output=True)
    start_and_model_s = time.perf_counter() - started
    index = ArticleIndex(directory).open()
    started = time.perf_counter()
    index.derived.bm25.compact(index.store.iter_chunk_texts)
    compact_s = time.perf_counter() - started
    manifest = json.loads((directory / "manifest.json").read_text())
    delta = json.loads((directory / manifest["bm25"] / "delta.json").read_text())
    shutil.rmtree(directory, ignore_errors=True)
    return {
        "index_passages": size,
        "faiss_type": manifest["faiss_type"],
        "ingest_one_article_s": adds,
        "cli_wall_s": round(cli_s, 2),
        "cli_exit": cli.returncode,
        "python_start_and_model_load_s": round(start_and_model_s, 2),
        "cli_beyond_start_and_model_s": round(cli_s - start_and_model_s, 2),
        "bm25_delta_passages_after": len(delta["ids"]),
        "bm25_compaction_s": round(compact_s, 2),
        "bm25_compaction_every_passages": max(2000, int(0.1 * size)),
    }


def reembed(source: Path, target: Path, backend: str) -> float:
    """A copy of the source index with every chunk re-embedded by `backend` (derived files rebuilt on open)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("meta.sqlite",):
        src = sqlite3.connect(f"file:{source / name}?mode=ro", uri=True)
        dst = sqlite3.connect(target / name)
        src.backup(dst)
        src.close()
        dst.close()
    embedder = Embedder(backend=backend)
    store = ArticleIndex(target).open(readonly=False).store
    ids = store.chunk_ids().tolist()
    rows = store.chunks_by_id(ids)
    titles = {}
    texts = []
    for i in ids:
        chunk, article = rows[i]
        if article.title not in titles:
            titles[article.title] = embedder.token_spans(article.title)
        texts.append(embedding_text(article.title, chunk.text, titles[article.title]))
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    seconds = time.perf_counter() - started
    store.close()
    db = sqlite3.connect(target / "meta.sqlite")
    db.executemany("UPDATE chunks SET vector = ? WHERE id = ?", [(v.astype(np.float32).tobytes(), i) for i, v in zip(ids, vectors)])
    db.commit()
    db.close()
    (target / "manifest.json").unlink(missing_ok=True)  # derived files are stale: rebuilt on open
    ArticleIndex(target).open()
    return len(texts) / seconds


def evaluate(directory: Path, backend: str, items: list[dict]) -> dict:
    assistant = Assistant(directory, Config(), Embedder(backend=backend))
    r1 = r5 = hit = dense5 = 0
    for item in items:
        gold = set(item["article_ids"])
        reply = assistant.ask(item["question"])
        ids = [c.article_id for c in reply.citations]
        r1 += bool(ids[:1] and ids[0] in gold)
        r5 += bool(gold & set(ids[:5]))
        hit += any(contains(reply.answer or "", a) for a in item["answers"])
        vector = assistant.embedder.encode([item["question"]])[0]
        dense = assistant.retrieve(item["question"], vector, 5, "dense")
        dense5 += bool(gold & {p.article.id for p in dense[:5]})
    n = len(items)
    return {"recall@1": round(r1 / n, 3), "recall@5": round(r5 / n, 3), "answer_hit": round(hit / n, 3), "dense_recall@5": round(dense5 / n, 3)}


def quality(source: Path, work: Path, source_backend: str) -> dict:
    items = [i for i in load_labelled(QUESTIONS) if i["answers"]]
    indexes, speed = {}, {}
    for backend in ("torch", "onnx-int8"):
        target = work / f"bbc-{backend}"
        if backend == source_backend:
            shutil.rmtree(target, ignore_errors=True)
            speed[backend] = None  # the source's own vectors
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lock"))
        else:
            speed[backend] = round(reembed(source, target, backend), 1)
        indexes[backend] = target
    out = {"questions": len(items), "index_built_by": {}, "reembed_chunks_per_s": speed}
    for built, directory in indexes.items():
        out["index_built_by"][built] = {f"queried_with_{q}": evaluate(directory, q, items) for q in ("torch", "onnx-int8")}
        print(f"  index by {built}: {json.dumps(out['index_built_by'][built])}", flush=True)
    for directory in indexes.values():
        shutil.rmtree(directory, ignore_errors=True)
    return out


def query_embedding() -> dict:
    """Each backend: a new process to the model ready, and one question's embedding (p50/p95),
    the two backends alternating question by question."""
    out = {}
    for backend in ("torch", "onnx-int8"):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"from qa.embed import Embedder; Embedder(backend={backend!r}).encode(['x'])"],
                       cwd=ROOT, check=True, capture_output=True)
        out[f"{backend}_process_to_model_ready_s"] = round(time.perf_counter() - started, 2)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    embedders = {backend: Embedder(backend=backend) for backend in ("torch", "onnx-int8")}
    timings = {backend: [] for backend in embedders}
    for embedder in embedders.values():
        embedder.encode(questions[:5])
    for question in questions:
        for backend, embedder in embedders.items():
            started = time.perf_counter()
            embedder.encode([question])
            timings[backend].append((time.perf_counter() - started) * 1e3)
    for backend, values in timings.items():
        out[f"{backend}_question_ms"] = {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2)}
    out["ratio_question_p50"] = round(out["torch_question_ms"]["p50"] / out["onnx-int8_question_ms"]["p50"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", type=int, default=300, help="articles for the throughput run (0 = all)")
    parser.add_argument("--source", type=Path, default=None, help="an index of bbc.jsonl (default /tmp/bbc/index or bench/out/bbc-index)")
    parser.add_argument("--source-backend", default="torch", choices=("torch", "onnx-int8"),
                        help="the backend that embedded --source (the default /tmp/bbc/index: torch)")
    parser.add_argument("--parts", default="throughput,add,quality,query")
    parser.add_argument("--work", type=Path, default=OUT / "ingest-work")
    parser.add_argument("--out", type=Path, default=OUT / "ingest.json")
    args = parser.parse_args()
    parts = args.parts.split(",")
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    args.work.mkdir(parents=True, exist_ok=True)
    if "throughput" in parts:
        results["throughput"] = throughput(args.subset)
        print("throughput:", json.dumps(results["throughput"]), flush=True)
    if "add" in parts:
        results["add"] = one_article_adds(source_index(args.source), args.work)
        print("add:", json.dumps(results["add"]), flush=True)
    if "quality" in parts:
        results["quality"] = quality(source_index(args.source), args.work, args.source_backend)
        print("quality:", json.dumps(results["quality"]), flush=True)
    if "query" in parts:
        results["query"] = query_embedding()
        print("query:", json.dumps(results["query"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    shutil.rmtree(args.work, ignore_errors=True)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
