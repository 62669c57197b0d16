"""One app replica: the Streamlit app with its model and index loaded before it takes a visitor.

`python -m guide.serve.replica --port 8601 --health-port 9601` (what `guide serve` starts):

- **Ready only when it can answer.** The model and the index are loaded before the app's port
  opens; while the index cannot be loaded (none published yet, or a damaged one) the replica
  retries every few seconds and its port stays closed, so a load balancer sends nobody there.
  `GET /ready` on the health port says 200 once it answers and 503 (with the reason) before,
  and while it drains; `GET /live` says 200 while the process runs.
- **Follows the published index** between questions (`Engine.refresh`), without a restart.
- **Drains on SIGTERM**: it turns not-ready, lets the answers being computed finish and reach
  their browsers, then stops the server. SIGKILL loses only the sessions; feedback waits in the
  replica's spool file and is stored by the next start.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from guide.errors import GuideError
from guide.serve import serving
from guide.serve.local import APP, FLAGS

logger = logging.getLogger("guide.serve.replica")
# How long a draining replica waits for answers in progress.
DRAIN_SECONDS = 30.0


class Health:
    """What the health port reports."""

    def __init__(self) -> None:
        self.ready = False
        self.draining = False
        self.reason = "loading the model and the index"

    def state(self) -> tuple[int, dict[str, Any]]:
        engine = serving.preloaded()
        if self.draining:
            return 503, {"ready": False, "reason": "stopping"}
        if not self.ready or engine is None:
            return 503, {"ready": False, "reason": self.reason}
        return 200, {"ready": True, "index": engine.index.path.name, "answering": engine.active}


class BoundedServer(ThreadingHTTPServer):
    """A threading HTTP server with at most `max_handlers` connections served at once: a further
    one is closed at once (its client retries), and an idle one is dropped after `Handler.timeout`."""

    daemon_threads = True
    max_handlers = 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(self.max_handlers)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def start_health_server(health: Health, address: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        timeout = 3  # seconds a connection may stay silent

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.startswith("/live"):
                status, body = 200, {"live": True}
            elif self.path.startswith("/ready"):
                status, body = health.state()
            else:
                status, body = 404, {"error": "GET /ready or /live"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = BoundedServer((address, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


def load_until_ready(health: Health, retry_seconds: float = 3.0) -> None:
    """Load the model, then the index, retrying the index until it loads."""
    from guide.config import load_settings
    from guide.engine import Engine
    from guide.index import load_index
    from guide.index.embedding import load_embedder
    from guide.serve.feedback_store import open_writer

    settings = load_settings()
    # Feedback left in the spool by an earlier run (killed, or while the database was down)
    # is stored from the start.
    serving.preload_feedback(open_writer(settings))
    embedder = load_embedder(settings.embedding)
    while True:
        try:
            index = load_index(settings.index_dir, model=settings.embedding.model)
            break
        except GuideError as error:
            if health.reason != str(error):
                logger.warning("Not ready: %s (retrying every %.0f s)", error, retry_seconds)
            health.reason = str(error)
            time.sleep(retry_seconds)
    from guide.serve.local import warm_up

    engine = Engine(settings, embedder, index)
    # Every kind of answer computed once, so the first visitors wait no longer than later ones.
    logger.info("Warmed up in %.1f s", warm_up(engine))
    serving.preload(engine)


def _draining_signal_handler(health: Health):
    """Streamlit's stop on SIGTERM/SIGINT, after the answers in progress finish."""

    def install(server: Any) -> None:
        import asyncio

        loop = asyncio.get_running_loop()

        def drain() -> None:
            engine = serving.preloaded()
            deadline = time.monotonic() + DRAIN_SECONDS
            while engine is not None and engine.active and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # the last answers' messages reach their browsers
            loop.call_soon_threadsafe(server.stop)

        def handler(signal_number: int, frame: Any) -> None:
            if not health.draining:
                health.draining = True
                logger.info("Draining: finishing the answers in progress, then stopping")
                threading.Thread(target=drain, name="drain", daemon=True).start()

        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(number, handler)

    return install


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m guide.serve.replica", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=_port, default=8501, help="the app's port")
    parser.add_argument("--address", default="127.0.0.1", help="the app's and the health port's address")
    parser.add_argument("--health-port", type=_port, required=True, help="port of GET /ready and GET /live")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from guide.config import SecretMask

    SecretMask.install()  # a feedback URL's password never reaches the log

    from guide.index.embedding import offline_environment

    offline_environment()
    health = Health()
    start_health_server(health, args.address, args.health_port)
    load_until_ready(health)
    health.reason = "starting the app's server"

    from streamlit import config as streamlit_config
    from streamlit.web import bootstrap

    streamlit_config._main_script_path = str(APP)
    bootstrap._set_up_signal_handler = _draining_signal_handler(health)
    started = bootstrap._on_server_start

    def on_start(server: Any) -> None:
        started(server)
        health.ready = True  # the app's port is open now

    bootstrap._on_server_start = on_start
    flags = {**FLAGS, "server_port": args.port, "server_address": args.address}
    bootstrap.load_config_options(flag_options=flags)
    logger.info("Ready: serving on http://%s:%d", args.address, args.port)
    bootstrap.run(str(APP), False, [], flags)


if __name__ == "__main__":
    main()
