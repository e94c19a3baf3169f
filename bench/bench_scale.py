"""Query latency, memory and disk against corpus size (2k … 1M passages): `make bench-scale`.

    python bench/bench_scale.py [--sizes 2000,20000,200000,1000000] [--source DIR] [--work DIR]

Each size is a real index folder (SQLite store + FAISS + BM25 + manifest), written through the
store's own API and then opened the normal way, so that FAISS and BM25 are built by the product's
code (qa/ann.py chooses the type). Up to the BBC corpus' size (about 12k passages) the passages
are real BBC ones with their real vectors, taken from --source, an index of bbc.jsonl (built
first when missing); past it, every extra passage is a copy of a BBC passage in a copy of its
article (same text, id "<article>#s<k>") whose vector is the original moved by a random
direction (cosine about 0.8 with it), so that vectors keep the corpus' topical clusters without
being duplicates.

Per size, in a fresh child process: index open time, `ask` p50/p95 (retrieval — which includes
the question's embedding — and reading, separately) over bench/bbc_questions.jsonl after a
warm-up, dense and BM25 search alone, recall@10 of the FAISS index against exact search for the
questions' vectors, RSS, and bytes per passage on disk. Cold start (process start to the first
answer, `python -m qa ask`) at every size. Results: bench/out/scale.json, docs/latency.png.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpora" / "bbc.jsonl"
QUESTIONS = ROOT / "bench" / "bbc_questions.jsonl"
OUT = ROOT / "bench" / "out"
NOISE = 0.75  # norm of the random move given to a copied vector (cosine 1/sqrt(1 + 0.75²) = 0.8)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(values: list[float]) -> dict:
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p95_ms": round(float(np.percentile(values, 95)), 2)}


# --- the source: a real BBC index -----------------------------------------------------------------


def source_index(path: Path | None) -> Path:
    """An index of bbc.jsonl to take real passages and vectors from (read only)."""
    for candidate in [path, Path("/tmp/bbc/index"), OUT / "bbc-index"]:
        if candidate and (candidate / "meta.sqlite").exists():
            return candidate
    target = OUT / "bbc-index"
    print(f"building {target} from {CORPUS} (a few minutes) …", flush=True)
    subprocess.run([sys.executable, "-m", "qa", "ingest", "--index", str(target), str(CORPUS)], cwd=ROOT, check=True)
    return target


def read_source(path: Path):
    """Articles, chunks (in id order) and vectors of the source index, read only."""
    from qa.store import Store

    store = Store(path / "meta.sqlite", readonly=True)
    settings = store.get_info("settings")
    ids, vectors = [], []
    for batch_ids, batch_vectors in store.iter_vectors():
        ids.append(batch_ids)
        vectors.append(batch_vectors)
    ids = np.concatenate(ids)
    chunks = store.chunks_by_id(ids.tolist())
    store.close()
    rows = [chunks[int(i)] for i in ids]  # (Chunk, Article), id order = article order of the ingest
    return settings, rows, np.concatenate(vectors)


# --- building one size ------------------------------------------------------------------------------


def build(target: Path, n: int, settings: dict, rows, vectors: np.ndarray, seed: int = 0) -> dict:
    """An index folder of exactly n passages: real ones first, then perturbed copies."""
    from dataclasses import replace

    from qa.index import DATABASE, FORMAT_VERSION
    from qa.store import Store

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    started = time.perf_counter()
    store = Store(target / DATABASE)
    with store.transaction():
        store.set_info("format_version", FORMAT_VERSION)
        store.set_info("settings", settings)
    rng = np.random.default_rng(seed)
    by_article: dict[str, list[int]] = {}
    for i, (chunk, article) in enumerate(rows):
        by_article.setdefault(article.id, []).append(i)
    groups = list(by_article.values())
    written, copy, batch_chunks, batch_vectors, articles = 0, 0, [], [], []
    while written < n:
        for members in groups:
            if written >= n:
                break
            members = members[: n - written]
            article = rows[members[0]][1]
            if copy:
                article = replace(article, id=f"{article.id}#s{copy}", title=f"{article.title} ({copy})")
                moved = vectors[members] + rng.normal(scale=NOISE / np.sqrt(vectors.shape[1]), size=(len(members), vectors.shape[1]))
                chosen = (moved / np.linalg.norm(moved, axis=1, keepdims=True)).astype(np.float32)
            else:
                chosen = vectors[members]
            articles.append(article)
            batch_chunks.extend(replace(rows[m][0], article_id=article.id, id=None) for m in members)
            batch_vectors.append(chosen)
            written += len(members)
            if len(batch_chunks) >= 20_000 or written >= n:
                with store.transaction():
                    for a in articles:
                        store.put_article(a)
                    store.put_chunks(batch_chunks, np.concatenate(batch_vectors))
                batch_chunks, batch_vectors, articles = [], [], []
        copy += 1
    store.close()
    return {"passages": n, "store_write_s": round(time.perf_counter() - started, 1)}


# --- measuring one size, in a child process --------------------------------------------------------


def measure(directory: Path, questions: list[str]) -> dict:
    from qa import ann
    from qa.assistant import Assistant

    base_rss = rss_mb()
    started = time.perf_counter()
    assistant = Assistant(directory)
    assistant.embedder.encode(["warm-up"])
    model_s = time.perf_counter() - started
    model_rss = rss_mb()
    started = time.perf_counter()
    index = assistant.index
    open_s = time.perf_counter() - started
    open_rss = rss_mb()
    for q in questions[:5]:
        assistant.ask(q)
    timings = [assistant.ask(q).timings_ms for q in questions]
    vectors = assistant.embedder.encode(questions)
    dense_ms, bm25_ms, embed_ms = [], [], []
    for q, v in zip(questions, vectors):
        t0 = time.perf_counter()
        assistant.embedder.encode([q])
        t1 = time.perf_counter()
        index.dense_search(v[None, :], assistant.config.candidates)
        t2 = time.perf_counter()
        index.bm25_search([q], assistant.config.candidates)
        t3 = time.perf_counter()
        embed_ms.append((t1 - t0) * 1e3)
        dense_ms.append((t2 - t1) * 1e3)
        bm25_ms.append((t3 - t2) * 1e3)
    _, found = ann.search(index.derived.faiss, vectors, 10)
    exact = exact_top(index.store, vectors, 10)
    disk = {name: size for name, size in folder_sizes(directory).items()}
    n = index.derived.faiss.ntotal
    return {
        "passages": n,
        "faiss_type": ann.kind(index.derived.faiss),
        "nprobe": getattr(ann._ivf(index.derived.faiss), "nprobe", None),
        "model_load_s": round(model_s, 2),
        "index_open_s": round(open_s, 2),
        "ask": {part: percentiles([t[part] for t in timings]) for part in ("retrieve", "read", "total")},
        "query_embed": percentiles(embed_ms),
        "dense_search": percentiles(dense_ms),
        "bm25_search": percentiles(bm25_ms),
        "ann_recall@10": round(ann.recall(found, exact), 4),
        "rss_mb": {"python_and_libs": round(base_rss, 1), "after_model": round(model_rss, 1), "after_open": round(open_rss, 1),
                   "after_queries": round(rss_mb(), 1), "peak": round(peak_rss_mb(), 1),
                   "index_in_ram": round(open_rss - model_rss, 1)},
        "disk_bytes": disk,
        "disk_bytes_per_passage": {k: round(v / n, 1) for k, v in disk.items()},
    }


def exact_top(store, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact inner-product top-k over every stored vector, streamed (no second index in RAM)."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(queries), k), -1, dtype=np.int64)
    for ids, vectors in store.iter_vectors():
        scores = queries @ vectors.T
        all_s = np.concatenate([best_s, scores], axis=1)
        all_i = np.concatenate([best_i, np.broadcast_to(ids, scores.shape)], axis=1)
        top = np.argpartition(-all_s, k - 1, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(all_s, top, 1), np.take_along_axis(all_i, top, 1)
    return best_i


def folder_sizes(directory: Path) -> dict:
    sizes = {"sqlite": 0, "faiss": 0, "bm25": 0}
    for path in directory.iterdir():
        if path.name.startswith("meta.sqlite"):
            sizes["sqlite"] += path.stat().st_size
        elif path.name.startswith("vectors-"):
            sizes["faiss"] += path.stat().st_size
        elif path.name.startswith("bm25-"):
            sizes["bm25"] += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    sizes["total"] = sum(sizes.values())
    return sizes


def cold_start(directory: Path, question: str) -> dict:
    """Process start to first answer through the CLI, twice (the second with a warm page cache)."""
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "qa", "ask", "--index", str(directory), "--json", question],
                                cwd=ROOT, capture_output=True, text=True)
        runs.append(round(time.perf_counter() - started, 2))
        if result.returncode != 0:
            return {"error": result.stderr[-500:]}
    return {"first_s": runs[0], "again_s": runs[1]}


def plot(results: list[dict], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["passages"] for r in results]
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=120)
    series = [("retrieve", "retrieval (incl. question embedding)", "o", "tab:blue"), ("read", "reading", "s", "tab:green"),
              ("total", "whole answer", "^", "tab:purple")]
    for key, label, marker, colour in series:
        ax.plot(sizes, [r["ask"][key]["p50_ms"] for r in results], marker=marker, color=colour, label=f"{label}, p50")
        ax.plot(sizes, [r["ask"][key]["p95_ms"] for r in results], marker=marker, color=colour, alpha=0.35, linestyle=":",
                label=f"{label}, p95")
    ax.plot(sizes, [r["dense_search"]["p50_ms"] for r in results], "x--", color="tab:red", label="FAISS search alone, p50")
    ax.plot(sizes, [r["bm25_search"]["p50_ms"] for r in results], "+--", color="tab:gray", label="BM25 search alone, p50")
    for r in results:
        ax.annotate(r["faiss_type"], (r["passages"], r["dense_search"]["p50_ms"]), fontsize=7, xytext=(3, -10), textcoords="offset points")
    real = max((r["passages"] for r in results if r["passages"] <= 12_000), default=None)
    if real:
        ax.axvspan(13_000, max(sizes) * 1.3, color="0.9", zorder=0)
        ax.text(14_000, 0.3, "past ~12k: synthetic copies of BBC passages\n(reading reads fewer sentences there)", fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages in the index")
    ax.set_ylabel("ms (2 shared CPU cores)")
    ax.set_title("`ask` latency against corpus size (bench/bench_scale.py)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target)


def import_time() -> dict:
    """`python -X importtime -c "import qa, qa.cli"`: what the CLI imports before any work (ms)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import qa, qa.cli"], cwd=ROOT, capture_output=True, text=True)
    cumulative = {}
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            cumulative[parts[2].strip()] = int(parts[1]) / 1000
    heavy = [m for m in ("torch", "transformers", "sentence_transformers", "faiss", "spacy", "onnxruntime") if m in cumulative]
    return {"qa_ms": cumulative.get("qa"), "qa.cli_ms": cumulative.get("qa.cli"), "heavy_modules_imported": heavy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000,20000,200000,1000000")
    parser.add_argument("--source", type=Path, default=None, help="an index of bbc.jsonl (default /tmp/bbc/index or bench/out/bbc-index)")
    parser.add_argument("--work", type=Path, default=OUT / "scale")
    parser.add_argument("--out", type=Path, default=OUT / "scale.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "latency.png")
    parser.add_argument("--keep", action="store_true", help="keep the built index folders")
    parser.add_argument("--replot", action="store_true", help="only draw --plot again from --out")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.replot:
        plot(json.loads(args.out.read_text())["results"], args.plot)
        return
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    if args.measure:
        print(json.dumps(measure(args.measure, questions)))
        return
    source = source_index(args.source)
    settings, rows, vectors = read_source(source)
    print(f"source {source}: {len(rows)} real passages", flush=True)
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        target = args.work / f"n{n}"
        built = build(target, n, settings, rows, vectors)
        started = time.perf_counter()
        first = subprocess.run([sys.executable, "-c", f"from qa.index import ArticleIndex; ArticleIndex({str(target)!r}).open()"],
                               cwd=ROOT, capture_output=True, text=True)
        if first.returncode:
            sys.exit(first.stderr)
        built["derived_build_s"] = round(time.perf_counter() - started, 1)  # FAISS + BM25 from the store, in a new process
        child = subprocess.run([sys.executable, __file__, "--measure", str(target)], cwd=ROOT, capture_output=True, text=True)
        if child.returncode:
            sys.exit(child.stderr)
        row = {**json.loads(child.stdout.strip().splitlines()[-1]), "build": built, "cold_start": cold_start(target, questions[0])}
        results.append(row)
        print(json.dumps(row), flush=True)
        if not args.keep:
            shutil.rmtree(target, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    imports = import_time()
    print("import qa, qa.cli:", json.dumps(imports))
    args.out.write_text(json.dumps({"source": str(source), "cpu_count": os.cpu_count(), "import_time": imports, "results": results}, indent=2))
    plot(results, args.plot)
    print(f"written to {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
