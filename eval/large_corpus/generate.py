"""Write the large test corpus: the shipped guides beside 160+ generated careers-site pages.

    python eval/large_corpus/generate.py OUT_DIR

Deterministic: the same pages and questions every run. Each career of `careers.py` gets pages
from three of four site styles (a handbook, job profiles, a career guide and a university
careers service), each with its own headings; some job profiles come as US, UK and Australian
copies with small edits. Front matter is what a maintainer writes from a page: title, a role
slug from the address, source and summary; a few pages claim aliases, as a maintainer might.
The questions (with gold roles and facts) are written to OUT_DIR/questions.yaml.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from careers import CAREERS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "corpus"
SHIPPED_QUESTIONS = ROOT / "eval" / "questions.yaml"
COUNTRIES = {"us": ("the US", "US"), "uk": ("the UK", "UK"), "au": ("Australia", "Australia")}
COPIED = {"pharmacist", "registered-nurse", "software-engineer", "lawyer", "postdoc", "physiotherapist"}
# Aliases some maintainers wrote: one claimed by two guides, one already a shipped guide's alias.
ALIASES = {"clinical-research-coordinator": ["research coordinator"], "research-administrator": ["research coordinator"],
           "admissions-officer": ["admissions"]}
SHORT = {"certified-public-accountant": "CPA"}


def plural(career: dict) -> str:
    name = career["name"]
    return name[:-1] + "ies" if name.endswith("y") else name + "s"


def article(name: str) -> str:
    return "an" if name[0].lower() in "aeio" or name.startswith(("MLOps", "MD")) else "a"


def bare(phrase: str) -> str:
    """A phrase without its leading article: the fact as a page states it."""
    for lead in ("a ", "an "):
        if phrase.startswith(lead):
            return phrase[len(lead):]
    return phrase


def front(title: str, role: str, source: str, summary: str, aliases: list[str] | None) -> str:
    meta = {"title": title, "role": role, "source": source, "summary": summary}
    if aliases:
        meta["aliases"] = aliases
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n"


def handbook(c: dict) -> tuple[str, str]:
    p, n = plural(c), c["name"]
    P = p[:1].upper() + p[1:]
    title = f"{P} : Occupational Outlook Handbook"
    body = f"""# {P}

## Summary

- Median pay: {c['salary']} per year
- Typical entry-level education: {bare(c['degree'])}
- Time to qualify: {c['years']}

## What {P} Do

{P} {c['duties'][0]}, {c['duties'][1]} and {c['duties'][2]}. Most {p} work full time, and many work in teams.

## Work Environment

{P} work in offices, clinics, sites or labs, depending on the employer. Some work evenings or weekends.

## How to Become {article(n).title()} {c['title']}

{P} typically need {c['degree']}. They must also {c['licence']}. Becoming {article(n)} {n} takes {c['years']}.

### Important Qualities

{P} rely on {c['skills'][0]}, {c['skills'][1]} and {c['skills'][2]}.

## Pay

The median annual wage for {p} was {c['salary']}. Pay varies with the employer and the region.

## Job Outlook

Employment of {p} is projected to change by {c['outlook']}.
"""
    return title, body


def profile(c: dict, country: str | None = None) -> tuple[str, str]:
    n, p = c["name"], plural(c)
    where, tag = COUNTRIES.get(country or "", ("", ""))
    title = f"{c['title']} job profile" + (f" ({tag})" if tag else "")
    spell = (lambda s: s.replace("ize", "ise").replace("license", "licence")) if country in ("uk", "au") else (lambda s: s)
    local = f" In {where}, most posts are advertised by large employers and recruitment agencies." if where else ""
    duties = "\n".join(f"- {d}" for d in c["duties"])
    skills = "\n".join(f"- {s}" for s in c["skills"])
    body = f"""# {c['title']}

{article(n).title()} {n} is the professional who can {c['duties'][0]}.{local}

## Responsibilities

As {article(n)} {n}, you'll need to:

{duties}

## Salary

Typical salaries are around {c['salary']} a year, rising with experience and responsibility.

## Working hours

You'll usually work a standard week, with extra hours at busy times.

## What to expect

The work can be demanding, and {p} often {spell('specialize')} after a few years.

## Qualifications

To become {article(n)} {n} you'll need {c['degree']}. You'll also need to {spell(c['licence'])}.

## Skills

You'll need:

{skills}

## Work experience

Expect it to take {c['years']} before you are fully qualified. Placements and volunteering help.

## Career prospects

The outlook for {p}: {c['outlook']}.
"""
    return title, body


def career_guide(c: dict) -> tuple[str, str]:
    n = c["name"]
    short = SHORT.get(c["slug"], c["title"])
    title = f"What Does {article(short).title()} {short} Do? Duties, Skills and Salary"
    body = f"""# What does {article(short)} {short} do?

## What does {article(n)} {n} do?

{article(n).title()} {n} may {c['duties'][0]}. Other tasks include: {c['duties'][1]}; {c['duties'][2]}.

## Average salary

The average salary of {article(n)} {n} is {c['salary']} per year.

## How to become {article(n)} {n}

### 1. Earn the right degree

Most employers expect {c['degree']}.

### 2. Get licensed or certified

The next step is to {c['licence']}.

### 3. Gain experience

It usually takes {c['years']} in all.

## {c['title']} skills

Useful skills include {c['skills'][0]}, {c['skills'][1]} and {c['skills'][2]}.

## Frequently asked questions

### Is {article(n)} {n} in demand?

Yes: the outlook is {c['outlook']}.
"""
    return title, body


def careers_service(c: dict) -> tuple[str, str]:
    n, p = c["name"], plural(c)
    title = f"Careers in {c['title']}: Entry Requirements and Progression"
    body = f"""# {c['title']}

## Overview

This page from the university careers service explains how graduates get into work as {article(n)} {n}.

## A typical day

On a typical day you might {c['duties'][0]} or {c['duties'][1]}.

## Entry requirements

Entry usually needs {c['degree']}, and you must {c['licence']}.

## Pay and conditions

Starting pay is lower than the typical {c['salary']}, which experienced {p} earn.

## Progression

Qualifying takes {c['years']}. Senior {p} often move into management or training.

## Where the jobs are

Employers value {c['skills'][0]} and {c['skills'][1]}. The outlook: {c['outlook']}.
"""
    return title, body


SITES = [
    ("handbook", handbook, "https://careers-handbook.example/{slug}"),
    ("profile", profile, "https://jobprofiles.example/{slug}"),
    ("guide", career_guide, "https://careerguide.example/career-development/{slug}"),
    ("service", careers_service, "https://careers.university.example/occupations/{slug}"),
]


def pages() -> list[tuple[str, str]]:
    """Every generated page as (file name, text)."""
    out = []
    for number, c in enumerate(CAREERS):
        kept = [site for i, site in enumerate(SITES) if i != number % 4 or site[0] == "profile" and c["slug"] in COPIED]
        for site, write, address in kept:
            copies = list(COUNTRIES) if site == "profile" and c["slug"] in COPIED else [None]
            for country in copies:
                title, body = write(c, country) if country else write(c)
                source = address.format(slug=(f"{country}/" if country else "") + c["slug"])
                summary = next(part for part in body.split("\n\n") if not part.startswith(("#", "-")))
                aliases = ALIASES.get(c["slug"]) if site == "handbook" else None
                name = f"{c['slug']}-{site}" + (f"-{country}" if country else "")
                out.append((f"{name}.md", front(title, c["slug"], source, summary, aliases) + body))
    return out


FACT_QUESTIONS = [
    ("degree", "What degree do you need to be {a} {n}?"),
    ("salary", "How much does {a} {n} earn?"),
    ("licence", "Which exam or licence does {a} {n} need?"),
    ("duty", "What does {a} {n} do day to day?"),
    ("years", "How long does it take to become {a} {n}?"),
    ("outlook", "What is the job outlook for {p}?"),
]


def facts_of(c: dict) -> dict[str, list[str]]:
    return {"degree": [bare(c["degree"])], "salary": [c["salary"]], "licence": [c["licence"]],
            "duty": [c["duties"][0]], "years": [c["years"]], "outlook": [c["outlook"]]}


CROSS_ROLE = [
    ("Which roles need a PhD?", [c for c in CAREERS if c["phd"]], "degree"),
    ("Which careers require passing a licensing exam?",
     [c for c in CAREERS if c["slug"] in {"registered-nurse", "pharmacist", "physician", "lawyer", "certified-public-accountant"}],
     "licence"),
    ("Which jobs are learnt through an apprenticeship?", [c for c in CAREERS if "apprenticeship" in c["licence"]], "licence"),
    ("Which careers need a master's degree?", [c for c in CAREERS if "master" in c["degree"].lower() and "PhD" not in c["degree"]],
     "degree"),
]
OFF_TOPIC = [
    "How do I become a firefighter?",
    "What is the best recipe for lasagne?",
    "How do I teach my puppy to sit?",
    "What are the rules of cricket?",
    "How do I become a professional footballer?",
    "Who painted the Mona Lisa?",
]


def questions() -> list[dict]:
    """The question set: shipped, new-guide facts and how-to-become, cross-role, off-topic."""
    shipped = yaml.safe_load(SHIPPED_QUESTIONS.read_text(encoding="utf-8"))
    out = [{**q, "group": "shipped-off-topic" if q.get("out_of_scope") else "shipped"} for q in shipped]
    for number, c in enumerate(CAREERS):
        facts = facts_of(c)
        key, template = FACT_QUESTIONS[number % len(FACT_QUESTIONS)]
        words = {"a": article(c["name"]), "n": c["name"], "p": plural(c)}
        out.append({"group": "new-facts", "question": template.format(**words), "role": c["slug"], "facts": facts[key]})
        if number % 3 == 0:
            out.append({"group": "new-become", "question": "How do I become {a} {n}?".format(**words), "role": c["slug"],
                        "facts": facts["degree"] + facts["licence"]})
    out.append({"group": "new-facts", "question": "What does a CPA do?", "role": "certified-public-accountant",
                "facts": facts_of(CAREERS[[c["slug"] for c in CAREERS].index("certified-public-accountant")])["duty"]})
    for question, careers, key in CROSS_ROLE:
        points = [[bare(c[key]), c["name"]] for c in careers]
        out.append({"group": "cross-role", "question": question, "points": points})
    out += [{"group": "new-off-topic", "question": q, "out_of_scope": True} for q in OFF_TOPIC]
    return out


def generate(out_dir: Path, shipped_only: bool = False) -> int:
    """Write the corpus (shipped guides and collection file, plus the generated pages) into
    `out_dir`, and the question set beside it; return the number of guides."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED.iterdir():
        if path.is_file():
            shutil.copy(path, out_dir / path.name)
    count = len(list(SHIPPED.glob("*.md")))
    if not shipped_only:
        for name, text in pages():
            (out_dir / name).write_text(text, encoding="utf-8")
        count += len(pages())
    return count


def write_questions(path: Path) -> None:
    path.write_text(yaml.safe_dump(questions(), sort_keys=False, allow_unicode=True), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    target = Path(sys.argv[1])
    total = generate(target)
    write_questions(target.parent / f"{target.name}-questions.yaml")
    roles = len({c["slug"] for c in CAREERS}) + len(list(SHIPPED.glob("*.md")))
    print(f"{total} guides of {roles} roles in {target}")
