"""The two ways the writer reaches a language model: an OpenAI-compatible server, or a GGUF file in-process.

Both stream the reply as pieces of text and raise `ModelUnavailable` when the model cannot
answer; the writer then shows the extractive answer. Neither downloads anything.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from guide.config import WriterSettings
from guide.errors import ConfigError, GuideError

logger = logging.getLogger(__name__)

Messages = list[dict[str, str]]


class ModelUnavailable(GuideError):
    """The model could not be reached or stopped answering (the writer falls back, never fails)."""


class ChatModel(Protocol):
    """A chat model that streams its reply."""

    def stream_chat(self, messages: Messages, stop: threading.Event) -> Iterator[str]:
        """Pieces of the reply to `messages`; stops early once `stop` is set."""
        ...


class OpenAICompatibleModel:
    """A server speaking the OpenAI chat-completions API with server-sent events (Ollama, vLLM,
    llama.cpp's server, LM Studio, hosted services), through httpx.

    The key is read from the environment variable `writer.api_key_env` names and only ever sent
    in the Authorization header; it is never logged or shown.
    """

    def __init__(self, settings: WriterSettings, environ: Mapping[str, str] | None = None) -> None:
        import httpx

        environ = os.environ if environ is None else environ
        key = environ.get(settings.api_key_env, "") if settings.api_key_env else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        # Named in messages without any user name or password the URL may hold.
        try:
            parsed = httpx.URL(self.url)
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigError(
                f"writer.base_url must be the server's http:// or https:// address with its /v1; got {settings.base_url!r}."
            )
        self._where = f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
        self.settings = settings
        self._client = httpx.Client(headers=headers, timeout=timeout)

    def stream_chat(self, messages: Messages, stop: threading.Event) -> Iterator[str]:
        import httpx

        body: dict[str, object] = {
            "messages": messages,
            "stream": True,
            "max_tokens": self.settings.max_tokens,
            "temperature": self.settings.temperature,
        }
        if self.settings.model:
            body["model"] = self.settings.model
        try:
            with self._client.stream("POST", self.url, json=body) as response:
                if response.status_code != 200:
                    raise ModelUnavailable(f"the model server at {self._where} answered HTTP {response.status_code}")
                for line in response.iter_lines():
                    if stop.is_set():
                        return
                    piece = _sse_piece(line)
                    if piece is None:
                        return
                    if piece:
                        yield piece
        except httpx.TimeoutException:
            raise ModelUnavailable(f"the model server at {self._where} did not answer in time") from None
        except httpx.HTTPError as error:
            raise ModelUnavailable(f"the model server at {self._where} cannot be reached ({type(error).__name__})") from None


def _sse_piece(line: str) -> str | None:
    """The text a server-sent-event line adds ("" for none), or None at the end of the stream."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        choice = json.loads(data)["choices"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelUnavailable("the model server sent a reply that is not a chat completion") from None
    return (choice.get("delta") or {}).get("content") or ""


class LocalModel:
    """A GGUF model run in this process by llama-cpp-python (`pip install 'guide[local-llm]'`).

    The model loads with the engine, in the thread that makes it: llama.cpp silences its output
    while loading by swapping the process's standard output, which must not happen in a thread
    beside others that write. One reply is written at a time.
    """

    def __init__(self, settings: WriterSettings) -> None:
        import importlib.util

        path = Path(settings.model_path)
        if not str(settings.model_path) or str(settings.model_path) == "." or not path.is_file():
            raise ConfigError(
                f"writer.model_path must name a GGUF model file for writer.mode local; got {str(path)!r}."
            )
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError("writer.mode local needs llama-cpp-python: pip install 'guide[local-llm]'.")
        # Busy-waiting OpenMP threads collapse to ~1 token/s on a shared machine.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from llama_cpp import Llama

        self.settings = settings
        self._lock = threading.Lock()
        threads = settings.threads or max(1, min(4, os.cpu_count() or 1))
        try:
            self._llama = Llama(model_path=str(path), n_ctx=settings.context_tokens, n_threads=threads, verbose=False)
        except (ValueError, RuntimeError) as error:
            raise ConfigError(f"The model file {path} cannot be loaded by llama.cpp ({error}).") from None
        # A reply left behind at the timeout is still decoding in its thread; freed by the exiting
        # interpreter meanwhile, llama.cpp crashed the process (exit 139 after the answer was shown).
        # At exit, or when this is collected, the reply is let stop at its next token, then freed.
        self._free = weakref.finalize(self, _free_model, self._llama, self._lock)

    def close(self) -> None:
        """Free the model now (it is freed at exit otherwise)."""
        self._free()

    def stream_chat(self, messages: Messages, stop: threading.Event) -> Iterator[str]:
        with self._lock:
            chunks = self._llama.create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=self.settings.max_tokens,
                temperature=self.settings.temperature,
            )
            for chunk in chunks:
                if stop.is_set():
                    return
                piece = (chunk["choices"][0].get("delta") or {}).get("content")
                if piece:
                    yield piece


def _free_model(llama: Any, lock: threading.Lock) -> None:
    with lock:
        llama.close()


def make_model(settings: WriterSettings) -> ChatModel:
    """The model `writer.mode` names."""
    if settings.mode == "local":
        return LocalModel(settings)
    return OpenAICompatibleModel(settings)
