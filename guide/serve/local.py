"""The app on one machine (`guide chat`, `make run`): model and index loaded before the port opens.

`python -m guide.serve.local --server.port 8501 --server.address 127.0.0.1`. Loading in the
first visitor's session would make that visitor wait for the model (tens of seconds on a busy
machine); here the engine is loaded and warmed up (every kind of answer computed once) before
Streamlit listens, so the first visitor after "ready" waits no longer than the tenth. An index
that cannot be loaded does not stop the app: it starts anyway and shows what is wrong, with a
rebuild button. Streamlit's file watcher is off: it would watch the project folder, `.venv`
included, and fill the log with "Inotify queue overflowed".
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from guide.errors import GuideError
from guide.serve import serving

logger = logging.getLogger("guide.serve.local")
APP = Path(__file__).resolve().parents[2] / "app.py"

# Options for a served app (`guide chat` and every replica of `guide serve`), whatever the
# command line adds.
FLAGS = {
    "server_headless": True,
    "browser_gatherUsageStats": False,
    "client_toolbarMode": "minimal",
    # An error the app does not catch shows a generic message, never its traceback.
    "client_showErrorDetails": "none",
    # No watching of the app's files for changes.
    "server_fileWatcherType": "none",
    "server_runOnSave": False,
    # Streamlit's full garbage collection after every script run costs more than the answer with
    # a model loaded; Python still collects cycles on its own schedule.
    "runner_postScriptGC": False,
    # What a browser may send in one message, in MB. A question is at most a few KB
    # (`answer.max_question_chars`); Streamlit's default of 25 MB let one message of 20 MB
    # grow a replica by 1 GB. A larger message closes that visitor's connection (1009).
    "server_maxWidgetStateSize": 1,
}


def warm_up(engine: Any) -> float:
    """Answer one question of each kind once (facet vectors, tables, caches); the seconds it took."""
    started = time.perf_counter()
    roles = [engine.lexicon.label(role) for role in engine.index.roles[:2]]
    questions = ["What qualifications are needed?", "What are the trends?"]
    if roles:
        questions += [f"How do I become a {roles[0]}?", f"What does a {roles[0]} do day to day?"]
    if len(roles) == 2:
        questions.append(f"Compare a {roles[0]} and a {roles[1]}")
    for question in questions:
        for _ in engine.stream(question):
            pass
    # The visitors' own questions must not be answered from the warm-up's query cache.
    engine.clear_cache()
    return time.perf_counter() - started


def preload() -> None:
    """Load, warm up and hand the engine and the feedback writer to the app in this process."""
    from guide.config import load_settings
    from guide.engine import Engine
    from guide.serve.feedback_store import open_writer

    try:
        settings = load_settings()
        engine = Engine.load(settings)
    except GuideError as error:
        logger.warning("Starting without a loaded index: %s", error)
        return
    try:
        serving.preload_feedback(open_writer(settings))
    except GuideError as error:  # the app says so when a record cannot be written
        logger.warning("Feedback: %s", error)
    logger.info("Loaded the model and the index; warmed up in %.1f s", warm_up(engine))
    serving.preload(engine)
    # What the app's first run would import otherwise.
    import guide.serve.conversation_panel  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m guide.serve.local", description=__doc__.split("\n")[0])
    parser.add_argument("--server.port", dest="port", type=int, default=8501)
    parser.add_argument("--server.address", dest="address", default="127.0.0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logger.setLevel(logging.INFO)

    from guide.index.embedding import offline_environment

    offline_environment()
    preload()

    from streamlit import config as streamlit_config
    from streamlit.web import bootstrap

    streamlit_config._main_script_path = str(APP)
    flags = {**FLAGS, "server_port": args.port, "server_address": args.address}
    bootstrap.load_config_options(flag_options=flags)
    bootstrap.run(str(APP), False, [], flags)


if __name__ == "__main__":
    main()
