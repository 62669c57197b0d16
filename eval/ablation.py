"""Measure what each mechanism does: `.venv/bin/python eval/ablation.py` prints one row per setting.

Every row is the shipped retrieval set (`eval/questions.yaml`) and the usefulness set
(`eval/usefulness.yaml`, both splits) run with the default model; the rows switch one mechanism
off at a time, so its effect can be read off against the full system. Indexes are built in a
temporary folder; `corpus/` and `index/` are not touched.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from guide.config import Settings, apply_overrides
from guide.engine import Engine
from guide.index import build_index, load_index
from guide.index.embedding import SentenceTransformerEmbedder
from guide.ingest.collection import COLLECTION_FILE
from guide.quality.evaluation import DEFAULT_SET, evaluate, load_question_set, summarise
from guide.quality.usefulness import (
    DEFAULT_USEFULNESS_SET,
    boilerplate_sample,
    evaluate_usefulness,
    load_boilerplate_labels,
    load_usefulness_set,
    summarise_usefulness,
)

ROOT = Path(__file__).resolve().parent.parent

# Variant key: build from a copy of the corpus without its collection file.
NO_COLLECTION = "no-collection"

VARIANTS: list[tuple[str, dict[str, object]]] = [
    ("full system (defaults)", {}),
    (
        "dense only: no BM25, role boost, sentence scores, expansion",
        {
            "retrieval.lexical_weight": 0,
            "retrieval.role_boost": 0,
            "retrieval.sentence_weight": 0,
            "retrieval.expand_queries": False,
        },
    ),
    ("without BM25 (hybrid off)", {"retrieval.lexical_weight": 0}),
    ("without role-aware boost", {"retrieval.role_boost": 0}),
    ("without best-sentence scores", {"retrieval.sentence_weight": 0}),
    ("without query expansion", {"retrieval.expand_queries": False}),
    ("without follow-up handling", {"retrieval.follow_ups": False}),
    ("without the question as asked (role-free topic only)", {"retrieval.question_as_asked": False}),
    ("without contextual chunk headers", {"chunking.context_headers": False}),
    ("chunks of 400 characters", {"chunking.max_chars": 400}),
    ("chunks of 700 characters", {"chunking.max_chars": 700}),
    ("chunks of 1400 characters", {"chunking.max_chars": 1400}),
    ("without the answer-material filter (boilerplate may be quoted)", {"retrieval.answer_material_only": False}),
    ("without question kinds (every answer is the best sentences)", {"answer.question_kinds": False}),
    ("follow-ups inherit whenever no role is named", {"retrieval.follow_up_only_when_leaning": False}),
    ("without typo tolerance", {"retrieval.typo_tolerance": False}),
    ("without the unknown-subject check (jobs, things to get)", {"answer.subject_check": False}),
    ("one refusal threshold for every question", {"answer.refusal_threshold_no_role": 0.50}),
    ("without the collection file (generic facets, no expansions)", {NO_COLLECTION: True}),
    ("without the heading bonus for facets", {"structure.heading_bonus": 0.0}),
    ("facet fit only (question weight 0)", {"structure.question_weight": 0.0}),
    ("every facet a sentence of its own (no shared points)", {"structure.shared_point_margin": 10.0}),
    ("up to 3 sentences per fact answer", {"answer.max_sentences": 3}),
]


def fixed_chunks(text: str, size: int, overlap: int = 0) -> list[str]:
    """Fixed windows of `size` characters."""
    step = size - overlap
    return [text[start : start + size] for start in range(0, max(len(text) - overlap, 1), step)]


def recursive_chunks(text: str, size: int = 1000, overlap: int = 200) -> list[str]:
    """A recursive character splitter in the manner of the common tutorials: paragraphs, lines, words."""
    pieces = [text]
    for separator in ("\n\n", "\n", " "):
        pieces = [part for piece in pieces for part in (piece.split(separator) if len(piece) > size else [piece])]
    chunks, current = [], ""
    for piece in pieces:
        if current and len(current) + len(piece) + 1 > size:
            chunks.append(current)
            current = current[-overlap:]
        current = f"{current} {piece}".strip() if current else piece
    return chunks + ([current] if current else [])


def baselines(questions, embedder) -> list[tuple[str, dict[str, float]]]:
    """Retrieval-only baselines on the same questions (the last turn only, as those tools see it)."""
    import bm25s
    import faiss

    from guide.ingest.corpus import load_corpus
    from guide.quality.evaluation import contains_fact

    documents, _ = load_corpus(ROOT / "corpus")
    inside = [q for q in questions if not q.out_of_scope]

    def measure(chunks: list[tuple[str, str]], rank) -> dict[str, float]:
        ranks = []
        for item in inside:
            order = rank(item.question)
            found = next(
                (
                    i + 1
                    for i, row in enumerate(order)
                    if chunks[row][0] == item.role and contains_fact(chunks[row][1], item.facts)
                ),
                None,
            )
            ranks.append(found)
        return {
            "hit@1": sum(r == 1 for r in ranks if r) / len(ranks),
            "hit@3": sum(r <= 3 for r in ranks if r) / len(ranks),
            "mrr": sum(1 / r for r in ranks if r) / len(ranks),
        }

    def dense(chunks: list[tuple[str, str]], k: int):
        vectors = embedder.encode([text for _, text in chunks])
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return lambda question: index.search(embedder.encode([question]), k)[1][0].tolist()

    fixed = [(doc.role, piece) for doc in documents for piece in fixed_chunks(doc.text, 600)]
    recursive = [(doc.role, piece) for doc in documents for piece in recursive_chunks(doc.text)]
    tokens = bm25s.tokenize([text for _, text in fixed], stopwords="en", show_progress=False)
    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)

    def lexical(question: str) -> list[int]:
        query = bm25s.tokenize([question], stopwords="en", show_progress=False)
        rows, _ = bm25.retrieve(query, k=5, show_progress=False)
        return [int(row) for row in rows[0]]

    return [
        ("baseline: dense over fixed 600-character chunks", measure(fixed, dense(fixed, 5))),
        ("baseline: BM25 alone over fixed 600-character chunks", measure(fixed, lexical)),
        (
            "baseline: tutorial stack (1,000-char recursive chunks, MiniLM, FAISS, k=4)",
            measure(recursive, dense(recursive, 4)),
        ),
    ]


COLUMNS = [
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("MRR", "mrr"),
    ("fact", "fact_in_answer"),
    ("cites", "citations_valid"),
    ("OOS ref.", "out_of_scope_refused"),
    ("false ref.", "in_scope_refused"),
    ("conf. AUROC", "confidence_auroc"),
]
# Usefulness columns (eval/usefulness.yaml, dev and held-out).
USEFUL_COLUMNS = [
    ("key points", "in_scope_recall"),
    ("broad+trend+cross", "structured_recall"),
    ("words", "structured_median_words"),
    ("boiler", "boilerplate"),
    ("inherit✗", "wrong_inheritance"),
    ("refused✗", "false_refusals"),
    ("off-topic✗", "off_topic_answered"),
    ("conf. r", "confidence_recall_r"),
]


def useful_cells(summary: dict) -> list[str]:
    cells = []
    for _, key in USEFUL_COLUMNS:
        value = summary[key] if key in summary else summary["overall"][key]
        cells.append("–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="question set (YAML)")
    parser.add_argument("--only", nargs="*", help="run only variants whose name contains one of these words")
    args = parser.parse_args()
    questions = load_question_set(args.set)
    useful = load_usefulness_set(DEFAULT_USEFULNESS_SET)
    boilerplate = boilerplate_sample(load_boilerplate_labels())
    embedder = SentenceTransformerEmbedder()
    work = Path(tempfile.mkdtemp(prefix="guide-ablation-"))
    indexes: dict[str, Path] = {}
    names = [name for name, _ in COLUMNS + USEFUL_COLUMNS]
    print("| variant | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    try:
        if not args.only:
            for name, summary in baselines(questions, embedder):
                print(
                    f"| {name} | "
                    + " | ".join(f"{summary[key]:.3f}" if key in summary else "–" for _, key in COLUMNS)
                    + " | –" * len(USEFUL_COLUMNS)
                    + " |",
                    flush=True,
                )
        for name, overrides in VARIANTS:
            if args.only and not any(word in name for word in args.only):
                continue
            overrides = dict(overrides)
            corpus = ROOT / "corpus"
            if overrides.pop(NO_COLLECTION, False):
                corpus = work / "corpus-without-collection"
                if not corpus.exists():
                    shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns(COLLECTION_FILE))
            settings = apply_overrides(Settings(), {"corpus_dir": corpus, **overrides})
            key = repr((settings.chunking, corpus))
            if key not in indexes:
                indexes[key] = work / f"index-{len(indexes)}"
                build_index(apply_overrides(settings, {"index_dir": indexes[key]}), embedder)
            settings = apply_overrides(settings, {"index_dir": indexes[key]})
            engine = Engine(settings, embedder, load_index(settings.index_dir))
            summary = summarise(evaluate(engine, questions))
            useful_summary = summarise_usefulness(evaluate_usefulness(engine, useful, boilerplate))
            cells = [f"{summary[key]:.3f}" for _, key in COLUMNS] + useful_cells(useful_summary)
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
