"""Measure what each retrieval change does: `python eval/ablation.py` prints one row per setting.

Every row is the shipped question set run through `guide.evaluation` with the default model; the
rows switch the retrieval features off one at a time, so each feature's effect can be read off
against the full system. Indexes are built in a temporary folder; `corpus/` and `index/` are
not touched.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from guide.config import Settings, apply_overrides
from guide.embedding import SentenceTransformerEmbedder
from guide.engine import Engine
from guide.evaluation import DEFAULT_SET, evaluate, load_question_set, summarise
from guide.index import build_index, load_index

ROOT = Path(__file__).resolve().parent.parent

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
    ("without contextual chunk headers", {"chunking.context_headers": False}),
    ("chunks of 400 characters", {"chunking.max_chars": 400}),
    ("chunks of 1000 characters", {"chunking.max_chars": 1000}),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="question set (YAML)")
    parser.add_argument("--only", nargs="*", help="run only variants whose name contains one of these words")
    args = parser.parse_args()
    questions = load_question_set(args.set)
    embedder = SentenceTransformerEmbedder()
    work = Path(tempfile.mkdtemp(prefix="guide-ablation-"))
    indexes: dict[str, Path] = {}
    print("| variant | " + " | ".join(name for name, _ in COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    try:
        for name, overrides in VARIANTS:
            if args.only and not any(word in name for word in args.only):
                continue
            settings = apply_overrides(Settings(), {"corpus_dir": ROOT / "corpus", **overrides})
            key = repr(settings.chunking)
            if key not in indexes:
                indexes[key] = work / f"index-{len(indexes)}"
                build_index(apply_overrides(settings, {"index_dir": indexes[key]}), embedder)
            settings = apply_overrides(settings, {"index_dir": indexes[key]})
            engine = Engine(settings, embedder, load_index(settings.index_dir))
            summary = summarise(evaluate(engine, questions))
            print(f"| {name} | " + " | ".join(f"{summary[key]:.3f}" for _, key in COLUMNS) + " |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
