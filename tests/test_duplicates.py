"""Near-duplicate guides: grouped in linear time, one kept (by a stated rule), cited once with where else it is."""

from __future__ import annotations

import re

import pytest

from guide.config import IngestSettings
from guide.ingest import duplicates
from guide.ingest.corpus import Document
from guide.ingest.duplicates import canonical_order, find_duplicates, jaccard, keep_canonical, shingles
from guide.ingest.files import read_corpus
from tests.helpers import GUIDE_A, GUIDE_B

PAGE = (
    "A welder joins metal parts using heat, pressure or both. Welders work in shipyards, on building sites and in "
    "factories, reading drawings and checking their joints for faults. Most train through an apprenticeship of two "
    "to four years, and many hold a certificate for each welding process they use. The work pays {pay} a year in "
    "{country}, more for underwater and pipeline welding. Good eyesight, steady hands and care for safety matter "
    "more than strength; welders wear masks, gloves and fire-resistant clothing on every shift."
)


def _doc(path: str, text: str) -> Document:
    stem = path.rsplit(".", 1)[0]
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return Document(doc_id=slug, path=path, title=stem, role=slug, source="", summary="", text=text, sha256=path)


def test_shingles_are_runs_of_words_and_jaccard_their_overlap():
    first, second = shingles("one two three four five six", 5), shingles("One, two three four five seven!", 5)
    assert len(first) == 2 and len(second) == 2
    assert jaccard(first, second) == pytest.approx(1 / 3)
    assert len(shingles("short text", 5)) == 1 and jaccard(first, first) == 1.0


def test_a_copy_and_country_copies_are_grouped_and_other_guides_are_not():
    documents = [
        _doc("welder-uk.md", PAGE.format(pay="32,000 pounds", country="the United Kingdom")),
        _doc("welder.md", PAGE.format(pay="45,000 dollars", country="the United States")),
        _doc("welder (1).md", PAGE.format(pay="45,000 dollars", country="the United States")),
        _doc("lecturer.md", GUIDE_A.split("---")[2]),
        _doc("researcher.md", GUIDE_B.split("---")[2]),
    ]
    groups = find_duplicates(documents, IngestSettings(duplicate_similarity=0.7))
    assert [(group.canonical, group.copies) for group in groups] == [("welder.md", ("welder (1).md", "welder-uk.md"))]
    assert 0.7 <= groups[0].similarity < 1.0
    kept = keep_canonical(documents, groups)
    assert [doc.path for doc in kept] == ["welder.md", "lecturer.md", "researcher.md"]
    assert kept[0].also_at == ("welder (1).md", "welder-uk.md")


def test_pages_of_two_careers_from_one_template_are_not_copies():
    template = PAGE.replace("welder", "{job}").replace("Welder", "{job}").replace("welding", "{job} work")
    documents = [
        _doc(f"{job}.md", template.format(job=job, pay="30,000", country="Ireland")) for job in ("plumber", "roofer")
    ]
    assert find_duplicates(documents) == []


def test_the_kept_guide_has_no_copy_marker_then_the_shortest_name_then_comes_first():
    names = ["Copy of welder.md", "welder - Copy.md", "welder (2).md", "welder-ireland.md", "welder_copy.md", "welder.md"]
    assert min(names, key=canonical_order) == "welder.md"
    assert min(["welder (1).md", "welder-ireland.md"], key=canonical_order) == "welder-ireland.md"
    assert min(["welder-us.md", "welder-uk.md"], key=canonical_order) == "welder-uk.md"
    # The order files are read in changes nothing.
    documents = [_doc(name, PAGE.format(pay="1", country="x")) for name in names]
    for order in (documents, documents[::-1]):
        assert find_duplicates(order)[0].canonical == "welder.md"


def test_a_hundred_copies_cost_a_hundred_comparisons_not_all_pairs(monkeypatch):
    calls = []
    real = duplicates.jaccard
    monkeypatch.setattr(duplicates, "jaccard", lambda a, b: calls.append(1) or real(a, b))
    documents = [_doc(f"welder-{n:03}.md", PAGE.format(pay="1", country="x")) for n in range(100)]
    documents += [_doc(f"other-{n:03}.md", f"Guide number {n} is about job {n * 7919} and nothing else.") for n in range(100)]
    groups = find_duplicates(documents)
    assert len(groups) == 1 and len(groups[0].copies) == 99
    # One comparison per copy to find the group, one per copy for its lowest similarity.
    assert len(calls) <= 2 * 99


def test_the_rule_is_set_in_the_settings():
    documents = [
        _doc("welder.md", PAGE.format(pay="45,000 dollars", country="the United States")),
        _doc("welder-uk.md", PAGE.format(pay="32,000 pounds", country="the United Kingdom")),
    ]
    assert find_duplicates(documents, IngestSettings(duplicate_similarity=0.7))
    assert not find_duplicates(documents, IngestSettings(duplicate_similarity=0.95))
    assert not find_duplicates(documents, IngestSettings(duplicates=False, duplicate_similarity=0.7))


def test_a_copy_with_the_same_id_is_a_copy_not_a_duplicate_id_error(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lecturer.md").write_text(GUIDE_A)
    (corpus / "lecturer (1).md").write_text(GUIDE_A.replace("---\ntitle", "---\nid: lecturer\ntitle", 1))
    (corpus / "researcher.md").write_text(GUIDE_B)
    reading = read_corpus(corpus)
    assert [doc.path for doc in reading.documents] == ["lecturer.md", "researcher.md"]
    assert reading.documents[0].also_at == ("lecturer (1).md",)
    assert set(reading.copies) == {"lecturer (1).md"}  # hashed as a source of the index
    assert reading.listing()["duplicates"] == [{"canonical": "lecturer.md", "copies": ["lecturer (1).md"], "similarity": 1.0}]
