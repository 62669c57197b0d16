"""A question is understood, refused and answered from one generation, even when a new one is
switched in while it is being answered."""

from __future__ import annotations

from guide.engine import Engine
from guide.index import build_index, load_index
from tests.helpers import FakeEmbedder, make_settings


class SwappingEmbedder(FakeEmbedder):
    """The fake model, which runs `swap` once, the first time it embeds while `armed`."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.swap = lambda: None

    def encode(self, texts, *args, **kwargs):
        if self.armed:
            self.armed = False
            self.swap()
        return super().encode(texts, *args, **kwargs)


def test_a_generation_switched_in_mid_question_is_not_read_by_that_question(tmp_path, small_corpus):
    embedder = SwappingEmbedder()
    settings = make_settings(tmp_path, small_corpus, **{"answer.refusal_threshold": 0.0})
    build_index(settings, embedder)
    engine = Engine(settings, embedder, load_index(settings.index_dir))
    question = "How do I become a lecturer?"
    before = engine.ask(question)
    assert not before.refused and {c.doc_id for c in before.citations} == {"lecturer"}

    def swap() -> None:
        # The next generation has no lecturer: that guide is now the tutor's.
        guide = small_corpus / "lecturer.md"
        text = guide.read_text().replace("role: lecturer", "role: tutor").replace("Lecturer", "Tutor")
        guide.write_text(text.replace("Lecturers", "Tutors"))
        build_index(settings, embedder)
        engine.reload()

    embedder.swap = swap
    engine.clear_cache()
    embedder.armed = True  # the first embedding of this question is its search, after understanding it
    during = engine.ask(question)
    assert engine.index.roles == ["phd", "tutor"]  # the swap happened during the question
    # The question was understood, checked and answered against the lecturer's generation alone.
    assert not during.refused
    assert during.interpretation.roles == ("lecturer",)
    assert {c.doc_id for c in during.citations} == {"lecturer"} and {c.role for c in during.citations} == {"lecturer"}
    after = engine.ask(question)
    assert "lecturer" not in {c.role for c in after.citations}
