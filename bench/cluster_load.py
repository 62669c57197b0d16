"""Load through nginx: questions per second and latency at 10 and 50 concurrent sessions, for one
and two replicas (part of `make bench`; `python bench/cluster_load.py` runs this part alone).

Each session is a Streamlit client speaking the app's own websocket protocol, as a browser tab
does: it connects through nginx with its own `guide_session` cookie (so nginx keeps it on one
replica), runs the page once, then types its questions into the chat input one after another,
and a question's latency runs from sending it to the end of the script run that answers it.
It renders nothing, so the two cores go to nginx and the replicas, not to drawing pages. Every
answer is checked for the fact it must hold; a wrong or missing answer is counted as failed.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import SHIPPED_FACTS as QUESTIONS  # noqa: E402  (question, a fact its answer must hold)

# Questions in one visitor's conversation: the app redraws the whole conversation on every
# question, so a session that asked forty would measure something no visitor does.
CONVERSATION = 5


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _plain(markdown: str) -> str:
    """Text the app escaped for Markdown, as the reader sees it."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("\u2060", "")).strip()


class Session:
    """One visitor's websocket to the app, through nginx."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.origin = url
        self.cookie = f"guide_session={uuid.uuid4().hex}"
        self.socket = None
        self.page_hash = ""
        self.chat_input = ""

    async def open(self) -> None:
        import websockets

        self.socket = await websockets.connect(
            self.url,
            subprotocols=["streamlit"],
            origin=self.origin,
            additional_headers={"Cookie": self.cookie},
            max_size=None,
            open_timeout=60,
        )
        await self._run()
        if not self.chat_input:
            raise RuntimeError("the app drew no chat input")

    async def ask(self, question: str) -> list[str]:
        """The texts the app draws in answer to `question` (what follows the question in the chat)."""
        texts = [_plain(text) for text in await self._run(question)]
        asked = max((n for n, text in enumerate(texts) if text == question), default=len(texts))
        return texts[asked + 1 :]

    async def _run(self, question: str | None = None) -> list[str]:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        message.rerun_script.query_string = ""
        message.rerun_script.page_script_hash = self.page_hash
        if question is not None:
            widget = message.rerun_script.widget_states.widgets.add()
            widget.id = self.chat_input
            widget.chat_input_value.data = question
        await self.socket.send(message.SerializeToString())
        texts: list[str] = []
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await asyncio.wait_for(self.socket.recv(), timeout=300))
            kind = reply.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = reply.new_session.page_script_hash or reply.new_session.main_script_hash
            elif kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                element = reply.delta.new_element
                if element.WhichOneof("type") == "chat_input":
                    self.chat_input = element.chat_input.id
                elif element.WhichOneof("type") == "markdown":
                    texts.append(element.markdown.body)
            elif kind == "script_finished" and reply.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return texts

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


async def _load(url: str, sessions: int, rounds: int) -> dict[str, float]:
    clients = [Session(url) for _ in range(sessions)]
    await asyncio.gather(*(client.open() for client in clients))
    latencies: list[float] = []
    failed = 0

    async def visitor(number: int, client: Session) -> None:
        nonlocal failed
        for round_number in range(rounds):
            if round_number and round_number % CONVERSATION == 0:
                # A new visitor takes the place of one whose conversation is over.
                await client.close()
                client = clients[number] = Session(url)
                await client.open()
            question, fact = QUESTIONS[(number + round_number) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                texts = await client.ask(question)
            except (OSError, asyncio.TimeoutError, RuntimeError):
                failed += 1
                continue
            latencies.append(time.perf_counter() - started)
            # The answer itself (not only its quoted source) holds the fact and cites it.
            if not any(fact in text and "[1]" in text for text in texts):
                failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(visitor(number, client) for number, client in enumerate(clients)))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(client.close() for client in clients))
    return {
        "questions": len(latencies),
        "failed": failed,
        "qps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": _percentile(latencies, 95) * 1000,
    }


def cluster_load(
    work: Path, combinations=((1, 10), (1, 50), (2, 10), (2, 50)), questions: int = 400
) -> list[dict]:
    """Rows of (replicas, sessions, questions, failed, qps, p50, p95): the shipped guides, the default model.

    Each row asks about `questions` questions in all (every session the same number).
    """
    from guide.config import load_settings
    from guide.index import build_index
    from guide.index.embedding import load_embedder
    from guide.serve.cluster import Cluster, free_port
    from tests.helpers import make_settings

    site = work / "site"
    shutil.copytree(ROOT / "corpus", site / "corpus")
    settings = make_settings(site, site / "corpus", model=load_settings().embedding.model)
    build_index(settings, load_embedder(settings.embedding))
    env = {"GUIDE_CORPUS_DIR": str(site / "corpus"), "GUIDE_INDEX_DIR": str(site / "index")}
    rows = []
    for replicas in sorted({r for r, _ in combinations}):
        # Every simulated visitor comes from 127.0.0.1: lift the per-address limits for them.
        crowd = {"connections_per_address": 1000, "requests_per_second": 1000, "request_burst": 5000}
        with Cluster(replicas=replicas, port=free_port(), env=env, **crowd) as cluster:
            asyncio.run(_load(cluster.url, 10 * replicas, 2))  # warm every replica up
            for wanted, sessions in combinations:
                if wanted != replicas:
                    continue
                rounds = max(2, -(-questions // sessions))
                row = {"replicas": replicas, "sessions": sessions, **asyncio.run(_load(cluster.url, sessions, rounds))}
                print(
                    f"  {replicas} replica(s), {sessions} sessions: {row['qps']:.1f} questions/s, "
                    f"p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms, {row['failed']} failed",
                    flush=True,
                )
                rows.append(row)
    return rows


def section(rows: list[dict]) -> str:
    lines = [
        "## Many users: through nginx",
        "",
        "`guide serve`'s deployment on this machine (replicas behind nginx, feedback in PostgreSQL), the",
        "shipped guides and the default model. Each session is a client of the app's websocket protocol",
        "(what a browser tab sends, without drawing the page) with its own sticky cookie, so nginx spreads",
        "the sessions over the replicas by the cookie's hash; all sessions ask at once, each its questions one",
        "after another, and every answer is checked for its fact. After five questions a session gives way to",
        "a new visitor (a new websocket and cookie), as conversations end.",
        "",
        "| replicas | concurrent sessions | questions | failed | questions/s | p50 / p95 latency |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['replicas']} | {row['sessions']} | {row['questions']} | {row['failed']} | {row['qps']:.1f} | "
            f"{row['p50_ms']:.0f} / {row['p95_ms']:.0f} ms |"
        )
    by = {(row["replicas"], row["sessions"]): row for row in rows}
    for sessions in sorted({row["sessions"] for row in rows}):
        if (1, sessions) in by and (2, sessions) in by:
            ratio = by[(2, sessions)]["qps"] / by[(1, sessions)]["qps"]
            lines.append("")
            lines.append(f"Two replicas against one at {sessions} sessions: {ratio:.2f}× the questions per second.")
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
