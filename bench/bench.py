"""Speed and memory of guide, measured against bare library baselines in the same run.

`make bench` (or `python bench/bench.py`) prints a table and writes bench/RESULTS.md.
`--quick` skips the 1,000-guide corpus and the 1M-vector index, for a fast look; `--no-cluster` the
load through nginx (bench/cluster_load.py), which needs Debian's postgresql and nginx.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GUIDE = str(Path(sys.executable).with_name("guide"))
QUESTION = "How long is the tenure track for an assistant professor?"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def wall(command: list[str], repeat: int = 5, env: dict[str, str] | None = None) -> float:
    """Median wall time of a command, after one untimed run to warm the disk cache."""
    subprocess.run(command, capture_output=True, check=True, env=env)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_rss_mb(command: list[str], env: dict[str, str] | None = None) -> float:
    """Peak resident memory of a command, read by a small wrapper process so no other child counts."""
    wrapper = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    output = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True, env=env
    )
    return int(output.stdout.strip()) / 1024


def own_peak_rss_mb() -> float:
    """This process's peak RSS since it started (VmHWM; ru_maxrss would include the parent's at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def questions(count: int) -> list[str]:
    from guide.quality.evaluation import DEFAULT_SET, load_question_set

    base = [q.question for q in load_question_set(DEFAULT_SET)]
    extra = ["Please tell me:", "Quick question:", "I wonder,", "Could you say"]
    out = list(base)
    while len(out) < count:
        out.append(
            f"{extra[len(out) % len(extra)]} {base[len(out) % len(base)][0].lower()}{base[len(out) % len(base)][1:]}"
        )
    return out[:count]


# ------------------------------------------------------------------ shipped corpus


def shipped(work: Path) -> dict[str, float]:
    import faiss

    from guide.config import Settings, apply_overrides
    from guide.engine import Engine
    from guide.index import build_index, embedding_text, load_index
    from guide.index.embedding import SentenceTransformerEmbedder

    results: dict[str, float] = {}
    corpus = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    settings = apply_overrides(
        Settings(), {"corpus_dir": corpus, "index_dir": work / "index", "feedback_file": work / "f.jsonl"}
    )
    embedder = SentenceTransformerEmbedder(settings.embedding)
    model = embedder._model
    build_index(settings, embedder)  # warm-up: first batches pay one-off costs

    # Build against a bare encode of exactly the texts the build embeds.
    index = load_index(settings.index_dir)
    texts = [embedding_text(c, settings) for c in index.chunks] + [s.context_text() for s in index.spans]
    builds, encodes = [], []
    for _ in range(3):
        started = time.perf_counter()
        report = build_index(settings, embedder, force=True)
        builds.append(time.perf_counter() - started)
        started = time.perf_counter()
        model.encode(
            texts, batch_size=settings.embedding.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        encodes.append(time.perf_counter() - started)
    build_s, encode_s = statistics.median(builds), statistics.median(encodes)
    results["chunks"] = report.chunks
    results["texts_embedded"] = len(texts)
    results["build_chunks_per_s"] = report.chunks / build_s
    results["encode_chunks_per_s"] = report.chunks / encode_s
    results["build_vs_encode"] = encode_s / build_s

    # Warm search and ask over distinct questions (the query cache never helps).
    engine = Engine(settings, embedder, load_index(settings.index_dir))
    asked = questions(120)
    engine.ask("warm up")
    search_t, ask_t, floor_t = [], [], []
    flat = faiss.IndexFlatIP(index.chunk_store.dimension)
    flat.add(np.ascontiguousarray(index.chunk_store.vectors(), dtype=np.float32))
    for question in asked:
        started = time.perf_counter()
        vector = model.encode([question], normalize_embeddings=True, show_progress_bar=False)
        flat.search(vector, settings.retrieval.k)
        floor_t.append(time.perf_counter() - started)
    for question in asked:
        engine._cache.clear()
        started = time.perf_counter()
        engine.search(question)
        search_t.append(time.perf_counter() - started)
    for question in asked:
        engine._cache.clear()
        started = time.perf_counter()
        engine.ask(question)
        ask_t.append(time.perf_counter() - started)
    for name, values in (("floor", floor_t), ("search", search_t), ("ask", ask_t)):
        results[f"{name}_p50_ms"] = percentile(values, 50) * 1000
        results[f"{name}_p95_ms"] = percentile(values, 95) * 1000
    results["questions_timed"] = len(asked)
    results["ask_vs_floor"] = results["ask_p50_ms"] / results["floor_p50_ms"]

    env = {**os.environ, "GUIDE_CORPUS_DIR": str(corpus), "GUIDE_INDEX_DIR": str(settings.index_dir)}
    results["cold_ask_s"] = wall([GUIDE, "ask", QUESTION], env=env)
    results["bare_import_s"] = wall([sys.executable, "-c", "import sentence_transformers, faiss"], env=env)
    results["cold_vs_import"] = results["cold_ask_s"] / results["bare_import_s"]
    results["help_s"] = wall([GUIDE, "--help"], repeat=9, env=env)
    results["ask_peak_rss_mb"] = peak_rss_mb([GUIDE, "ask", QUESTION], env=env)
    return results


# ------------------------------------------------------------------ 1,000 guides


def synthetic_corpus(folder: Path, guides: int, seed: int = 7) -> None:
    """Guides of real sentences from the shipped corpus, shuffled deterministically."""
    from guide.ingest.chunking import document_spans
    from guide.ingest.corpus import load_corpus

    documents, _ = load_corpus(ROOT / "corpus")
    sentences = [span.text for doc in documents for span in document_spans(doc) if len(span.text) > 40]
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    roles = ["lecturer", "phd", "researcher", "assistant-professor", "clinical-professor", "postdoc", "teaching-fellow"]
    for number in range(guides):
        picked = rng.sample(sentences, 24)
        parts = "\n\n".join(f"## Part {p + 1}\n\n" + " ".join(picked[p * 6 : p * 6 + 6]) for p in range(4))
        (folder / f"guide-{number:04d}.md").write_text(
            f"---\ntitle: Synthetic guide {number}\nrole: {roles[number % len(roles)]}\n---\n\n# Synthetic guide {number}\n\n{parts}\n",
            encoding="utf-8",
        )


def thousand(work: Path) -> dict[str, float]:
    from guide.config import Settings, apply_overrides
    from guide.index import build_index
    from guide.index.embedding import SentenceTransformerEmbedder

    corpus = work / "corpus-1000"
    synthetic_corpus(corpus, 1000)
    settings = apply_overrides(Settings(), {"corpus_dir": corpus, "index_dir": work / "index-1000"})
    embedder = SentenceTransformerEmbedder(settings.embedding)
    started = time.perf_counter()
    full = build_index(settings, embedder, force=True)
    full_s = time.perf_counter() - started
    edited = corpus / "guide-0500.md"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("## Part 2", "## Part 2\n\nThis sentence was added by an edit."),
        encoding="utf-8",
    )
    started = time.perf_counter()
    incremental = build_index(settings, embedder)
    incremental_s = time.perf_counter() - started
    return {
        "guides": 1000,
        "chunks": full.chunks,
        "sentences": full.spans,
        "full_build_s": full_s,
        "incremental_s": incremental_s,
        "incremental_embedded": incremental.embedded,
        "incremental_share": incremental_s / full_s,
    }


# ------------------------------------------------------------------ index scale


def clustered_vectors(count: int, dimension: int, seed: int) -> np.ndarray:
    """Normalised vectors around random centres, the way sentence embeddings cluster by topic."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(count // 500, 16), dimension), dtype=np.float32)
    vectors = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, 100_000):
        end = min(start + 100_000, count)
        block = centres[rng.integers(0, len(centres), end - start)] + 0.6 * rng.standard_normal(
            (end - start, dimension), dtype=np.float32
        )
        vectors[start:end] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return vectors


def scale_worker(count: int, folder: Path) -> None:
    """In a fresh process: build the index guide would choose for `count` chunks, then serve it."""
    import faiss

    from guide.config import IndexSettings
    from guide.index.stores import FaissStore, index_parameters

    dimension = 384
    vectors = clustered_vectors(count, dimension, seed=count)
    rng = np.random.default_rng(1)
    picks = rng.integers(0, count, 200)
    # A question sits near the passages that answer it: a perturbed copy (cosine about 0.9).
    queries = vectors[picks] + 0.45 * rng.standard_normal((200, dimension), dtype=np.float32) / np.sqrt(dimension)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(dimension)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    del exact
    parameters = index_parameters(count, IndexSettings())
    started = time.perf_counter()
    index = FaissStore.build(vectors, ["guide"] * count, parameters)
    build_s = time.perf_counter() - started
    # What a loaded store reads: the vectors for an exact store, its HNSW graph otherwise.
    name = f"index-{count}"
    written = index.save(folder, name)
    if not written:
        np.save(folder / f"{name}.npy", vectors)
    path = folder / (written[0] if written else f"{name}.npy")
    del index, vectors
    print(
        json.dumps(
            {
                "build_s": build_s,
                "size_mb": path.stat().st_size / 1e6,
                "type": parameters["type"],
                "parameters": parameters,
                "queries": queries.tolist(),
                "truth": truth.tolist(),
            }
        )
    )


def serve_worker(count: int, folder: Path, queries_file: Path) -> None:
    """In a fresh process: load the saved index and time searches; report recall and peak memory."""
    from guide.config import IndexSettings
    from guide.index.stores import FaissStore, index_parameters

    data = json.loads(queries_file.read_text())
    queries = np.asarray(data["queries"], dtype=np.float32)
    truth = np.asarray(data["truth"])
    name = f"index-{count}"
    parameters = index_parameters(count, IndexSettings())
    vectors = np.load(folder / f"{name}.npy", mmap_mode="r") if parameters["type"] == "flat" else None
    index = FaissStore.load(folder, name, vectors, ["guide"] * count, parameters)
    import faiss

    faiss.omp_set_num_threads(1)  # one question at a time, as the app serves them
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, rows = index.search(query[None, :], 10)
        times.append(time.perf_counter() - started)
        found.append(rows[0])
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))
    print(
        json.dumps(
            {
                "p50_ms": percentile(times, 50) * 1000,
                "p95_ms": percentile(times, 95) * 1000,
                "recall": recall,
                "rss_mb": own_peak_rss_mb(),
            }
        )
    )


def scale(work: Path, counts: list[int]) -> list[dict[str, float]]:
    rows = []
    for count in counts:
        built = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--scale-worker", str(count), str(work)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        queries_file = work / f"queries-{count}.json"
        queries_file.write_text(json.dumps({"queries": built.pop("queries"), "truth": built.pop("truth")}))
        served = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--serve-worker", str(count), str(work), str(queries_file)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        rows.append({"chunks": count, **built, **served})
        for saved in work.glob(f"index-{count}.*"):
            saved.unlink()
        print(
            f"  {count:>9,} chunks: {built['type']}, search p50 {served['p50_ms']:.2f} ms, recall@10 {served['recall']:.3f}",
            flush=True,
        )
    return rows


# ------------------------------------------------------------------ report


def machine() -> dict[str, str]:
    import importlib.metadata as metadata

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {
        name: metadata.version(name)
        for name in ("torch", "sentence-transformers", "faiss-cpu", "numpy", "bm25s", "streamlit")
    }
    return {
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0))),
        "memory": f"{memory:.1f} GiB",
        "python": platform.python_version(),
        "os": platform.platform(),
        **versions,
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(
    info: dict[str, str], small: dict[str, float], big: dict[str, float] | None, rows: list[dict[str, float]]
) -> str:
    at_million = next((row for row in rows if row["chunks"] == 1_000_000), None)
    targets = [
        ("warm ask p50 ≤ 2× floor", f"{small['ask_vs_floor']:.2f}×", small["ask_vs_floor"] <= 2),
        ("build throughput ≥ 0.8× bare encode", f"{small['build_vs_encode']:.2f}×", small["build_vs_encode"] >= 0.8),
        ("`guide --help` ≤ 0.5 s", f"{small['help_s']:.3f} s", small["help_s"] <= 0.5),
        ("cold `guide ask` ≤ 1.3× bare import", f"{small['cold_vs_import']:.2f}×", small["cold_vs_import"] <= 1.3),
    ]
    if big:
        targets.append(
            (
                "incremental rebuild ≤ 5% of full (1,000 guides)",
                f"{100 * big['incremental_share']:.1f}%",
                big["incremental_share"] <= 0.05,
            )
        )
    if at_million:
        targets.append(("1M chunks: search p50 ≤ 20 ms", f"{at_million['p50_ms']:.2f} ms", at_million["p50_ms"] <= 20))
        targets.append(("1M chunks: recall@10 ≥ 0.95", f"{at_million['recall']:.3f}", at_million["recall"] >= 0.95))
        targets.append(
            ("1M chunks: memory ≤ 2.5 GB", f"{at_million['rss_mb'] / 1024:.2f} GB", at_million["rss_mb"] / 1024 <= 2.5)
        )
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `make bench` (`bench/bench.py`); every ratio compares two figures measured in the same run.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in info.items()],
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
        *[f"| {name} | {value} | {verdict(ok)} |" for name, value, ok in targets],
        "",
        "## Shipped corpus",
        "",
        f"{small['chunks']:.0f} chunks; a build embeds {small['texts_embedded']:.0f} texts (chunks with their headings, and sentences).",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| full build | {small['build_chunks_per_s']:.1f} chunks/s |",
        f"| bare `model.encode` of the same texts | {small['encode_chunks_per_s']:.1f} chunks/s |",
        f"| floor: embed one query + exact FAISS search, p50 / p95 | {small['floor_p50_ms']:.1f} / {small['floor_p95_ms']:.1f} ms |",
        f"| warm `search`, p50 / p95 ({small['questions_timed']:.0f} questions) | {small['search_p50_ms']:.1f} / {small['search_p95_ms']:.1f} ms |",
        f"| warm `ask`, p50 / p95 ({small['questions_timed']:.0f} questions) | {small['ask_p50_ms']:.1f} / {small['ask_p95_ms']:.1f} ms |",
        f"| cold `guide ask` (process start to answer) | {small['cold_ask_s']:.2f} s |",
        f"| bare `python -c 'import sentence_transformers, faiss'` | {small['bare_import_s']:.2f} s |",
        f"| `guide --help` | {small['help_s']:.3f} s |",
        f"| peak RSS of `guide ask` | {small['ask_peak_rss_mb']:.0f} MB |",
        "",
    ]
    if big:
        lines += [
            "## 1,000 guides",
            "",
            "Synthetic guides of real sentences from the shipped corpus, shuffled with a fixed seed.",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| chunks / sentences | {big['chunks']:.0f} / {big['sentences']:.0f} |",
            f"| full build | {big['full_build_s']:.1f} s |",
            f"| rebuild after editing one guide | {big['incremental_s']:.2f} s ({big['incremental_embedded']:.0f} texts embedded) |",
            "",
        ]
    if rows:
        lines += [
            "## Index scale",
            "",
            "Normalised 384-dimensional vectors clustered around random centres (as sentence embeddings cluster by topic);",
            "queries are perturbed copies of indexed vectors. Index type as `guide` chooses it (exact up to",
            "`index.exact_max_chunks`, HNSW above). Searches one at a time on one thread; memory is the peak RSS of a",
            "process that loads the saved index and serves the queries; recall@10 is against exact search.",
            "",
            "| chunks | index | build | size on disk | search p50 / p95 | recall@10 | memory |",
            "|---:|---|---:|---:|---:|---:|---:|",
            *[
                f"| {row['chunks']:,} | {row['type']} | {row['build_s']:.1f} s | {row['size_mb']:.0f} MB | {row['p50_ms']:.2f} / {row['p95_ms']:.2f} ms | {row['recall']:.3f} | {row['rss_mb']:.0f} MB |"
                for row in rows
            ],
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the 1,000-guide corpus and the 1M index")
    parser.add_argument("--scale-worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--serve-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--no-cluster", action="store_true", help="skip the load through nginx (it needs postgresql and nginx)"
    )
    args = parser.parse_args()
    if args.scale_worker:
        scale_worker(int(args.scale_worker[0]), Path(args.scale_worker[1]))
        return
    if args.serve_worker:
        serve_worker(int(args.serve_worker[0]), Path(args.serve_worker[1]), Path(args.serve_worker[2]))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="guide-bench-"))
    try:
        print("Shipped corpus …", flush=True)
        small = shipped(work)
        big = None
        if not args.quick:
            print("1,000 guides …", flush=True)
            big = thousand(work)
        print("Index scale …", flush=True)
        rows = scale(work, [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
        text = report(machine(), small, big, rows)
        if not args.no_cluster:
            from cluster_load import cluster_load, section

            print("Many users through nginx …", flush=True)
            text += "\n" + section(cluster_load(work, questions=100 if args.quick else 400)) + "\n"
        print(text)
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"\nWrote {args.output}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
