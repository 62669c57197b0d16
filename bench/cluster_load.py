"""Load through nginx: questions per second and latency at 10 and 50 concurrent browser sessions,
for one and two replicas (`make bench`, or `python bench/cluster_load.py` for this part alone).

Each session is a real browser tab (Debian's Chromium through Playwright, one context each, so
one cookie and one replica each); all sessions type a question at once, each round, and a
question's latency runs from pressing Enter to its answer being drawn in full (the feedback
buttons come last). The browser runs on the same machine, so the figures include its work.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "How long is the tenure track for an assistant professor?",
    "What GPA do people admitted to ML PhD programs usually have?",
    "How many years of postdoc do machine learning lecturer posts prefer?",
    "Which programming skills does a clinical professor in ML need?",
    "How much postdoctoral experience do ML research jobs look for?",
]
CHROMIUM = "/usr/bin/chromium"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _session_round(page, question: str, latencies: list[float]) -> None:
    before = await page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    await box.fill(question)
    started = time.perf_counter()
    await box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(before + 1)
    await answer.get_by_test_id("stFeedback").wait_for(timeout=300_000)
    latencies.append(time.perf_counter() - started)


async def _load(url: str, sessions: int, rounds: int) -> dict[str, float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        contexts = [await browser.new_context() for _ in range(sessions)]
        pages = [await context.new_page() for context in contexts]
        await asyncio.gather(*(page.goto(url) for page in pages))
        await asyncio.gather(
            *(page.get_by_test_id("stChatInputTextArea").wait_for(timeout=300_000) for page in pages)
        )
        latencies: list[float] = []
        started = time.perf_counter()
        for number in range(rounds):
            await asyncio.gather(
                *(
                    _session_round(page, QUESTIONS[(n + number) % len(QUESTIONS)], latencies)
                    for n, page in enumerate(pages)
                )
            )
        elapsed = time.perf_counter() - started
        await browser.close()
    return {
        "questions": len(latencies),
        "qps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": _percentile(latencies, 95) * 1000,
    }


def cluster_load(work: Path, combinations=((1, 10), (1, 50), (2, 10), (2, 50)), rounds: int = 3) -> list[dict]:
    """Rows of (replicas, sessions, questions, qps, p50, p95), the shipped guides, the default model."""
    from guide.cluster import Cluster, free_port
    from guide.config import load_settings
    from guide.embedding import load_embedder
    from guide.index import build_index
    from tests.helpers import make_settings

    site = work / "site"
    shutil.copytree(ROOT / "corpus", site / "corpus")
    settings = make_settings(site, site / "corpus", model=load_settings().embedding.model)
    build_index(settings, load_embedder(settings.embedding))
    env = {"GUIDE_CORPUS_DIR": str(site / "corpus"), "GUIDE_INDEX_DIR": str(site / "index")}
    rows = []
    for replicas in sorted({r for r, _ in combinations}):
        with Cluster(replicas=replicas, port=free_port(), env=env) as cluster:
            for wanted, sessions in combinations:
                if wanted != replicas:
                    continue
                row = {"replicas": replicas, "sessions": sessions, **asyncio.run(_load(cluster.url, sessions, rounds))}
                print(
                    f"  {replicas} replica(s), {sessions} sessions: {row['qps']:.1f} questions/s, "
                    f"p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms",
                    flush=True,
                )
                rows.append(row)
    return rows


def section(rows: list[dict]) -> str:
    lines = [
        "## Many users: through nginx",
        "",
        "`guide serve`'s deployment on this machine (replicas behind nginx, feedback in PostgreSQL), the",
        "shipped guides and the default model. Every session is a Chromium tab on the same 2 cores, so",
        "the browser's own work is inside these figures; sessions ask at the same moment, round after round.",
        "",
        "| replicas | concurrent sessions | questions | questions/s | p50 / p95 latency |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['replicas']} | {row['sessions']} | {row['questions']} | {row['qps']:.1f} | "
            f"{row['p50_ms']:.0f} / {row['p95_ms']:.0f} ms |"
        )
    return "\n".join(lines)


def replace_section(results: Path, text: str) -> None:
    """Put the section into RESULTS.md, replacing an earlier one."""
    old = results.read_text(encoding="utf-8") if results.exists() else ""
    head = old.split("\n## Many users: through nginx")[0].rstrip()
    results.write_text(f"{head}\n\n{text}\n", encoding="utf-8")


if __name__ == "__main__":
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="guide-load-"))
    try:
        print("Many users through nginx …", flush=True)
        replace_section(ROOT / "bench" / "RESULTS.md", section(cluster_load(work)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
