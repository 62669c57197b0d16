"""What a corpus says about itself: `collection.yaml` beside the guides.

The app's title, description and starter questions, the field's names (stripped from queries,
since every guide repeats them), query expansions (everyday words the guides spell
differently) and, optionally, the facets a broad answer or a comparison is built from. How
each role is named lives in its guide's front matter (`label`, `aliases`, `hints`).

Without the file, a corpus still works: generic defaults stand in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from guide.errors import CorpusError, CorpusProblem
from guide.ingest.corpus import confinement_problem, without_reference_marks

COLLECTION_FILE = "collection.yaml"


@dataclass(frozen=True)
class Facet:
    """One thing a career question can ask about (qualifications, duties, history, …).

    `description` is embedded and compared with the guides' sentences (each embedded with its
    heading), so a guide with its own headings still has its sections found; `words` are how a
    question names the facet ("on qualifications"); `kinds` are the question kinds it serves.
    """

    name: str
    description: str
    words: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    # The roles it is for (a group of careers with facets of their own); empty: every other role.
    roles: tuple[str, ...] = ()

    def named_in(self, text: str) -> bool:
        """Whether `text` (a heading or a sentence) names the facet by one of its words."""
        return bool(self.words) and _facet_pattern(self.words).search(text.lower()) is not None


@functools.lru_cache(maxsize=256)
def _facet_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # A whole word, singular or plural: "Skills" names "skill", "Salaries" does not name "salar".
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(word.lower()) for word in words) + r")(?:s|es)?(?![\w-])")


# Facets of career guides in general (not of one corpus); a collection file may replace them.
DEFAULT_FACETS: tuple[Facet, ...] = (
    Facet(
        "qualifications",
        "Requirements and qualifications: the degree needed (a PhD, a master's or a bachelor's degree), the rank or background candidates hold, and grades",
        ("qualifications", "qualification", "degree", "requirements", "credentials", "eligibility"),
        ("overview", "situation", "compare"),
    ),
    Facet(
        "experience",
        "Experience needed: years of experience in earlier posts, such as postdoctoral work, before being hired",
        ("experience", "postdoc", "postdoctoral"),
        ("overview", "situation", "compare"),
    ),
    Facet(
        "publications",
        "Publication record: peer-reviewed papers and first-author publications in strong venues",
        ("publications", "papers", "publication record"),
        ("overview", "situation"),
    ),
    Facet(
        "teaching and funding",
        "Teaching experience, and grants or funding won",
        ("teaching experience", "grants", "funding"),
        ("overview",),
    ),
    Facet(
        "skills",
        "Skills needed: programming, technical, management, negotiation and communication skills",
        ("skills", "skill", "competencies", "programming"),
        ("overview", "compare"),
    ),
    Facet(
        "research focus",
        "Research focus and expertise needed: the areas of specialisation",
        ("research focus", "expertise", "specialisation", "specialization"),
        ("compare",),
    ),
    Facet(
        "responsibilities",
        "What the job involves day to day: duties and responsibilities such as teaching, research, supervising students, managing budgets and running a group",
        ("responsibilities", "duties", "day to day", "day-to-day", "tasks", "work"),
        ("duties", "compare"),
    ),
    Facet(
        "career path",
        "Career path: what comes next after this job, promotion to a more senior post and where it leads",
        ("career path", "career", "advancement", "progression", "promotion", "next"),
        ("career", "compare"),
    ),
    Facet(
        "history",
        "History and origins of the title: when it emerged, dates back to or was coined, and how it evolved",
        ("history", "origin", "origins"),
        ("history",),
    ),
    Facet(
        "trends",
        "Trends and outlook: growing demand, hiring growth, emerging areas and the future of the job",
        ("trends", "outlook", "demand", "future", "growth"),
        ("trends",),
    ),
)


@dataclass(frozen=True)
class Expansion:
    """When a question uses one of `words`, retrieval also searches for `add`."""

    words: tuple[str, ...]
    add: str


@dataclass(frozen=True)
class Collection:
    title: str = "Career guides"
    description: str = "Answers come only from the career guides, and every sentence cites its source."
    placeholder: str = "Ask a question about the careers in these guides…"
    starters: tuple[str, ...] = ()
    # Names of the field every guide is about ("machine learning", "ML"): stripped from queries.
    field: tuple[str, ...] = ()
    expansions: tuple[Expansion, ...] = ()
    facets: tuple[Facet, ...] = DEFAULT_FACETS
    # The language of the guides and of the questions about them (`guide.language`).
    language: str = "en"
    # Example questions of each kind ((kind, questions) pairs), added to the language's own: how
    # this corpus's readers ask, so that a new wording of a known kind is understood without code.
    examples: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Collection:
        return cls(
            title=data["title"],
            description=data["description"],
            placeholder=data["placeholder"],
            starters=tuple(data["starters"]),
            field=tuple(data["field"]),
            expansions=tuple(Expansion(tuple(e["words"]), e["add"]) for e in data["expansions"]),
            facets=tuple(
                Facet(f["name"], f["description"], tuple(f["words"]), tuple(f["kinds"]), tuple(f.get("roles", ())))
                for f in data["facets"]
            ),
            language=data.get("language", "en"),
            examples=tuple((kind, tuple(questions)) for kind, questions in data.get("examples", [])),
        )

    def facets_for(self, kind: str, roles: Sequence[str] = ()) -> tuple[Facet, ...]:
        """The facets of a kind of question about `roles`: those written for one of the roles when
        there are any (a group of careers with facets of its own), else the general ones."""
        of_kind = [facet for facet in self.facets if kind in facet.kinds]
        own = tuple(facet for facet in of_kind if set(facet.roles) & set(roles))
        return own or tuple(facet for facet in of_kind if not facet.roles)


def _problem(message: str) -> CorpusError:
    return CorpusError(f"{COLLECTION_FILE}: {message}", [CorpusProblem(COLLECTION_FILE, message)])


def _texts(raw: dict[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _problem(f"'{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def parse_collection(text: str) -> Collection:
    """Parse the text of a collection file (pure; raises `CorpusError` naming the key)."""
    import yaml

    from guide.config import load_yaml
    from guide.ingest.front_matter import without_controls

    try:
        raw = without_controls(load_yaml(text) or {})
    except yaml.YAMLError as error:
        raise _problem(f"not valid YAML ({getattr(error, 'problem', None) or error})") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise _problem(f"cannot be read ({error})") from None
    if not isinstance(raw, dict):
        raise _problem("must be a mapping of keys to values")
    known = {"title", "description", "placeholder", "starters", "field", "expansions", "facets", "language", "examples"}
    if unknown := sorted(set(raw) - known):
        raise _problem(f"unknown key {unknown[0]!r}; the keys are {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key in ("title", "description", "placeholder", "language"):
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key].strip():
                raise _problem(f"'{key}' must be a non-empty string")
            values[key] = raw[key].strip()
    values["starters"] = _texts(raw, "starters")
    values["field"] = tuple(v.lower() for v in _texts(raw, "field"))
    expansions = []
    for number, entry in enumerate(raw.get("expansions", []) or [], start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("add"), str):
            raise _problem(f"expansion {number} needs 'words' (a list) and 'add' (the words to search for)")
        expansions.append(Expansion(_texts(entry, "words"), entry["add"].strip()))
    values["expansions"] = tuple(expansions)
    if "facets" in raw:
        facets = []
        for number, entry in enumerate(raw["facets"] or [], start=1):
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("name", "description")):
                raise _problem(f"facet {number} needs 'name', 'description', 'words' and 'kinds'")
            # A facet's name goes into answers, where a "[2]" would pass for a citation.
            name = without_reference_marks(entry["name"]).strip()
            if not name:
                raise _problem(f"facet {number} needs a 'name' of words")
            roles = _texts(entry, "roles")
            facets.append(Facet(name, entry["description"], _texts(entry, "words"), _texts(entry, "kinds"), roles))
        values["facets"] = tuple(facets)
    if "examples" in raw:
        values["examples"] = _examples(raw["examples"])
    return Collection(**values)


def _examples(raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    # Which kinds exist is the question stage's to say; here only the shape is checked.
    if not isinstance(raw, dict) or not all(isinstance(kind, str) for kind in raw):
        raise _problem("'examples' must map question kinds (fact, overview, trends, …) to lists of example questions")
    return tuple((kind, _texts(raw, kind)) for kind in raw)


def load_collection(corpus_dir: Path) -> Collection:
    """The corpus's collection file, or the defaults when it has none."""
    path = corpus_dir / COLLECTION_FILE
    if problem := confinement_problem(path):
        raise _problem(problem)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Collection()
    except (OSError, UnicodeDecodeError) as error:
        raise _problem(f"cannot be read ({error})") from None
    return parse_collection(text)

