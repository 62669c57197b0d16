"""A scripted OpenAI-compatible chat server on loopback: streams the answers a test writes, as SSE.

A script is a function of the numbered passages in the prompt (number -> text) that returns the
answer's text; the server streams it in small pieces, as a model would. It can also wait before
answering (a slow model) or answer with an HTTP error (a failing one).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Script = Callable[[dict[int, str]], str]


def passages_of(prompt: str) -> dict[int, str]:
    """The numbered passages of the writer's prompt: number -> passage text (title line left out)."""
    body = prompt.split("Passages:", 1)[-1].split("\n\nQuestion:", 1)[0]
    found = {}
    for block in re.split(r"\n\n(?=\[\d+\] )", body.strip()):
        match = re.match(r"\[(\d+)\] [^\n]*\n(.*)", block, re.DOTALL)
        if match:
            found[int(match.group(1))] = match.group(2)
    return found


def sentence_with(passages: dict[int, str], phrase: str) -> tuple[int, str]:
    """The number of the first passage holding `phrase`, and the sentence of it that does."""
    for n, text in sorted(passages.items()):
        if phrase in text:
            for sentence in re.split(r"(?<=[.!?])\s+", text.replace("\n", " ")):
                if phrase in sentence:
                    return n, sentence.strip()
    raise AssertionError(f"no passage of the prompt holds {phrase!r}: {passages}")


def other_than(passages: dict[int, str], n: int) -> int:
    """A passage number other than `n`."""
    return next(m for m in sorted(passages) if m != n)


@dataclass
class ScriptedServer:
    """The server's behaviour, changeable between requests, and what it was sent."""

    script: Script = lambda passages: "Nothing to say."
    delay: float = 0.0  # seconds before the first byte
    piece_delay: float = 0.0  # seconds between pieces
    status: int = 200
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    url: str = ""

    def start(self) -> ScriptedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                time.sleep(server.delay)
                if server.status != 200 or not self.path.endswith("/chat/completions"):
                    self.send_response(server.status if server.status != 200 else 404)
                    self.end_headers()
                    self.wfile.write(b'{"error": "scripted failure"}')
                    return
                prompt = body["messages"][-1]["content"]
                text = server.script(passages_of(prompt))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for piece in re.findall(r"\S+\s*|\s+", text):
                        chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(server.piece_delay)
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def mimic(passages: dict[int, str]) -> str:
    """An answer with the mistakes models make: a sentence of passage 1 cited rightly, one of
    passage 2 cited as 1, one of passage 3 uncited, and an invented number."""
    parts = []
    for place, n in enumerate(sorted(passages)[:3]):
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", passages[n].replace("\n", " ")) if len(s.split()) >= 6]
        if sentences:
            parts.append(sentences[0] + [f" [{n}]", " [1]", ""][place])
    parts.append("Most posts also ask for 12 years of industry experience [1].")
    return " ".join(parts)


if __name__ == "__main__":
    # A scripted server to measure the writer by hand: python -m tests.llm_server (Ctrl-C stops it).
    served = ScriptedServer(script=mimic).start()
    print(f"Scripted OpenAI-compatible server at {served.url} (answers like tests.llm_server.mimic)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        served.stop()
