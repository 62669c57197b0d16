"""English: the words, patterns and phrasing with which the guides and the questions about them are read and answered.

Everything the rest of the package knows about a language is read through a module like this
one (see `guide.language`): how words are told apart, which words carry no topic, how a
question's wording shows its kind, which sentences of a web page are navigation, where a
sentence ends, and how answers and refusals are phrased. Another language is another module
with the same names, named by `language:` in a corpus's `collection.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from guide.language.patterns import AnyOf, FollowedBy, Searchable

NAME = "English"
# PyStemmer's algorithm, and bm25s's stop-word list, for this language.
STEMMER = "english"
STOPWORDS = "en"

# ---------------------------------------------------------------- reading questions

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

COMPARE = re.compile(
    r"\b(compare|comparing|comparison|versus|vs\.?|differences?|differ|contrast|side by side)\b", re.I
)

# The words of comparing, which say nothing of what a comparison is about ("diff" is read as "differ").
COMPARE_WORDS = "compare comparing comparison versus vs difference differences differ contrast side"

# Words that carry no topic of their own in a follow-up such as "And what about lecturers?".
FILLER = set(
    """a an and the what whats what's about how for of to in on at as is are was were be been being do does did
    so then also too same one ones them they those these that this it its role roles position positions job jobs
    career careers case please tell me more you your i my we us our can could would should will any anything else
    with versus vs or but if which who whom whose why when where there here than like instead now again ok okay
    thanks thank hi hello hey kind sort type become becoming one's someone someone's person people""".split()
)

# Common English words that a small corpus may not use but that are no typos ("being", "should").
COMMON = frozenset(
    """being having doing going getting making taking happens happen happened would should could might
    around before after during through without within between across against about above below under
    people years year things something anything everything really actually usually often always never""".split()
)

# A question that leans on the conversation: a pronoun standing for the earlier subject, or an
# elliptical opening ("And for…", "What about…").
ANAPHOR = re.compile(
    r"\b(?:they|them|their|theirs|it|its|there|he|she|his|hers"
    r"|(?:this|that|these|those|the|same)\s+(?:role|roles|job|jobs|position|positions|post|posts|career|one|ones|path|program|programme|degree)"
    r"|(?:this|that)(?=\s*[?.!]|\s*$))\b",
    re.I,
)

ELLIPTICAL = re.compile(r"^\s*(?:and|what about|how about|also|but|or|then|so|same)\b", re.I)

# "it" that stands for nothing: "Is it worth…", "how hard is it to…", "it is common to…".
DUMMY_IT = re.compile(
    r"\b(?:is|was|would|will|does|isn't)\s+it\s+(?:be\s+)?(?:\w+\s+){0,2}?(?:to|for|that|worth|possible|true)\b"
    r"|\bit(?:'s|’s|\s+is|\s+was)\s+(?:\w+\s+){0,2}?(?:to|that)\b",
    re.I,
)

# "there" that points at nothing: "Is there demand…", "there are many…".
EXISTENTIAL_THERE = re.compile(r"\b(?:is|are|was|were|will|would)\s+there\b|\bthere(?:'s|’s|\s+(?:is|are|was|were|will|would|has|have))\b", re.I)

PRONOUN_FOR_ROLE = re.compile(r"\b(?:it|its|this|that)\b", re.I)

# Example questions of each kind, several wordings each (see guide/ask/meaning.py): a question's
# kind is read from its closeness to them first, from the patterns below when they do not settle it.
EXAMPLE_QUESTIONS = Path(__file__).with_name("english_questions.yaml")

# Chat shorthand read as the words it stands for, before a question is understood ("wot do u need").
SHORTHAND = {
    "u": "you", "r": "are", "ur": "your", "wot": "what", "wat": "what", "whats": "what is", "shld": "should",
    "shud": "should", "cud": "could", "wud": "would", "pls": "please", "plz": "please", "n": "and", "yrs": "years",
    "yr": "year", "mkt": "market", "uni": "university", "unis": "universities", "gimme": "give me",
    "kinda": "kind of", "sorta": "sort of", "tryna": "trying to", "gonna": "going to", "wanna": "want to",
    "gotta": "have to", "b4": "before", "rn": "right now", "diff": "difference", "ive": "I have", "im": "I am",
    "dont": "do not", "cant": "cannot", "isnt": "is not", "doesnt": "does not", "thx": "thanks", "tbh": "",
    "lol": "", "pubs": "publications", "quals": "qualifications", "msc": "master's", "bsc": "bachelor's",
    "profs": "professors", "yrs'": "years", "abt": "about", "bc": "because", "w": "with", "govt": "government",
}  # fmt: skip

# What stands for a role's name when a question's kind is read from its meaning, so that the
# examples, which name many other jobs, match whichever role a question names.
SOME_ROLE = "a professional"

# How a question's wording shows its kind, tried in this order.
# `FollowedBy` stands for `first.*then`, which a regular expression searches in quadratic time.
KIND_PATTERNS: tuple[tuple[str, re.Pattern[str] | Searchable], ...] = (
    (
        "situation",
        # "(?:^|[.!?]\s+)(?:i|…)\b.*\b(?:can|…)\s+(?:i|…)\b|\b(?:i have|…)\b.*\?", in one scan.
        AnyOf(
            (
                FollowedBy(
                    re.compile(r"(?:^|[.!?]\s+)(?:i|i'm|i’m|im|my|i've|i’ve)\b", re.I),
                    re.compile(r"\b(?:can|could|am|should|would|will|do|is|are)\s+(?:i|it|my|that)\b", re.I),
                ),
                FollowedBy(
                    re.compile(r"\b(?:i have|i've got|i’ve got|i hold|i only have|i'm a|i am a|i’m a|with my)\b", re.I),
                    re.compile(r"\?"),
                ),
            )
        ),
    ),
    (
        "cross-role",
        re.compile(
            r"\bwhich\s+(?:\w+\s+){0,3}?(?:roles|jobs|positions|posts|careers|ranks|job|role|position|career|post)\b"
            r"(?!\s+(?:do|does|should|would)\s+(?:i|you|they|one)\b)"
            r"|\bwhat\s+(?:academic\s+|other\s+)?(?:roles|jobs|positions|careers)\b"
            r"|\b(?:different|each|every|all|the various)\s+(?:\w+\s+)?(?:roles|jobs|positions|careers)\b"
            r"|\bacross\s+(?:the\s+)?(?:roles|jobs|positions)\b",
            re.I,
        ),
    ),
    (
        "history",
        AnyOf(
            (
                re.compile(
                    r"\b(?:history|historic\w*|historically|origins?|originate\w*|come about|came about|emerged?|date back|dates back"
                    r"|coined|how old|when (?:did|was|were)|first (?:appear|created|introduced)\w*|take off|took off)\b",
                    re.I,
                ),
                FollowedBy(re.compile(r"\bwhere does ", re.I), re.compile(r" come from\b", re.I)),
            )
        ),
    ),
    (
        "trends",
        re.compile(
            r"\b(?:trends?|trending|outlook|future|demand|growing|growth|prospects?|hot|hiring|job market|market|in demand)\b",
            re.I,
        ),
    ),
    (
        "career",
        AnyOf(
            (
                re.compile(
                    r"\b(?:comes? after|after (?:being|a|an|the|my)|next step|career (?:path|ladder|progression)|ladder|progress\w*"
                    r"|promot\w+|advance\w*|leads? to|lead\b|take me|move up|career after)\b",
                    re.I,
                ),
                FollowedBy(re.compile(r"\bwhere can ", re.I), re.compile(r" (?:take|lead|go)\b", re.I)),
            )
        ),
    ),
    (
        "duties",
        re.compile(
            r"\b(?:duties|responsibilit\w+|day[- ]to[- ]day|all day|actually do|involve[sd]?|typical (?:day|week)"
            r"|what (?:does|do) (?:an?|the)\s+(?:[\w'’-]+\s+){0,5}?(?:do|work on)(?=\s*[?.!]|\s*$))",
            re.I,
        ),
    ),
    (
        "overview",
        re.compile(
            r"\b(?:how (?:do|can|could|would|should|does) (?:i|you|one|someone|people|a person)\s+(?:becom\w*|get|land|secure|qualify|break|start|enter|pursue)"
            r"|how to (?:becom\w*|get|land|secure|qualify|enter|pursue)|becom\w*|what (?:do|does|would|will) (?:i|you|one) need"
            r"|what does it take|what is needed|requir\w*ments?|reqs?|prereq\w*|qualifications?|entry|eligib\w*"
            r"|what (?:do|does) it take)\b",
            re.I,
        ),
    ),
)

# Words that ask without saying about what: "What skills do lecturers need?".
ASKING = frozenset("need needs needed require requires required want expected important key main useful".split())

# Articles and prepositions left dangling where a role's name was taken out of a question.
DANGLING_ARTICLE = re.compile(r"\b(?:for|as|of|to become|become|be|being)?\s*\b(?:an?|the)\s*(?=[?.!,]|$)", re.I)
DANGLING_PREPOSITION = re.compile(r"\b(?:for|as|of|and|about)\s*(?=[?.!,]|$)", re.I)
# The article right before a role's name ("for a lecturer"), to put another role in its place.
ARTICLE_BEFORE = re.compile(r"\b(an?|the)\s+$", re.I)


def article(label: str) -> str:
    """The indefinite article before `label` ("an assistant professor", "a lecturer")."""
    return "an" if label[:1].lower() in "aeiou" else "a"


def plural_of(word: str, base: str) -> bool:
    """Whether `word` is the plural of `base` ("roles", "fellowships", "studies")."""
    return word in (base + "s", base + "es") or (base.endswith("y") and word == base[:-1] + "ies")


def possessive_base(word: str) -> str:
    """`word` without a possessive ending ("lecturer's" -> "lecturer")."""
    return word[:-2] if word.endswith("'s") else word


# "How do I become an airline pilot?", "What does a nurse earn?", "a plumber's pay": the job asked about.
SUBJECT = re.compile(
    r"\b(?:become|becoming|be|work as|working as|job as|career as|train as|training as)\s+(?:an?|the)\s+"
    r"(?P<a>[\w'’ -]{2,40}?)(?=\s*(?:[?.!,;]|$)|\s+(?:in|at|for|with|and|or|who|without|if|after|before|by|like)\b)"
    r"|\b(?:does|do|did|would|will|can|could|should|is|are)\s+(?:an?|the)\s+(?P<b>[\w'’ -]{2,40}?)\s+"
    r"(?:earn|earns|make|makes|do|need|needs|get|gets|study|have|has|require|requires|take|takes|paid|typically|usually|actually)\b"
    r"|\b(?:an?|the)\s+(?P<c>[\w -]{2,30}?)(?:'s|’s)\s+(?:pay|salary|job|role|day|duties|career|earnings|wage|work)\b",
    re.I,
)

# "I work as a nurse.", "I'm currently training as a …": the asker's own job, not what they ask about.
ASKER = re.compile(
    r"(?:^|[.!?;,:]\s*|\b(?:and|but|so|because)\s+)(?:i|i'm|i’m|i am|we|we're|we’re|we are)\s+"
    r"(?:currently\s+|now\s+|still\s+|already\s+)?$",
    re.I,
)

BACKGROUND_VERB = re.compile(r"(?:work|working|train|training)\b", re.I)

# "How do I get a student visa for a PhD?": the thing a question asks how to obtain.
THING = re.compile(
    r"\b(?:get|getting|obtain|obtaining)\s+(?P<thing>(?:an?|the)\s+[\w'’ -]{2,40}?)"
    r"(?=\s*(?:[?.!,;]|$)|\s+(?:for|to|in|at|as|with|if|when|before|after|while|from)\b)",
    re.I,
)

# A clause of the asker's own: "I have a master's and work as …".
ASKER_CLAUSE = re.compile(r"\s*(?:i|i'm|i’m|i am|we)\b", re.I)
ASKER_AND = re.compile(r"\band\s+$", re.I)

# ---------------------------------------------------------------- reading guides

# A sentence ends at . ! or ? followed by space and a capital, digit, quote or bracket.
SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+(?=[A-Z0-9\"“‘(\[$£€])")

ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "st",
    "u.s",
    "u.k",
    "al",
    "no",
    "approx",
    "fig",
}

# How a file manager or a browser names a second copy of a file: "lecturer (1)", "lecturer - Copy",
# "Copy of lecturer", "lecturer_copy2". Among near-duplicate guides, one without it is kept.
COPY_MARKER = re.compile(r"\(\d{1,4}\)\s*$|[\s_-]+copy(?:[\s_-]*\(?\d{1,4}\)?)?\s*$|^copy\s+(?:\(\d{1,4}\)\s+)?of\s+", re.I)

# Verbs that send the reader somewhere else when they open a sentence in the imperative.
NAVIGATION_VERBS = (
    "browse explore discover search visit click sign subscribe register download check read see view find "
    "learn dive launch join review"
).split()

LEAD_IN = r"(?:(?:also|or|then|finally|so|now|next|and|please)\s*,?\s+|for\s+[^,]{2,60},\s+)?"

NAVIGATION_START = re.compile(rf"^{LEAD_IN}(?:{'|'.join(NAVIGATION_VERBS)})\b(?!\s+(?:committees?|engines?)\b)", re.I)

# Things on a website rather than in a career.
SITE_OBJECTS = re.compile(
    r"\b(?:openings|vacanc(?:y|ies)|listings?|job alerts?|alerts?|newsletter|mailing list|post(?:ing)? a job"
    r"|career advice|advice|tips|hub|page|website|site|template|e-?mail|interview series|[\w-]+\.(?:com|org|net)"
    r"|(?:higher[- ]ed|university|faculty|part-time|research|professor|teaching) jobs|jobs)\b",
    re.I,
)

# Phrases that point at another page or at this one.
POINTERS = re.compile(
    r"\b(?:read more|learn more|find out more|details here|detailed here|click here|see also|you may also like"
    r"|our guides?|check out|for more|for a (?:detailed|broader|closer|full) (?:look|view)|for (?:detailed )?insights"
    r"|for inspiration|everything you need to know|this (?:guide|article|page|post)"
    r"|(?:via|with|in|from) (?:our )?(?:advice|tips|insights|guidance) (?:in|on|from)"
    r"|(?:check|read|see|learn|discover)\s+(?:how|what|why|more|about|our)\b)",
    re.I,
)

# A pointer left inside a sentence worth quoting: "(details here)", ", detailed here.",
# ", as explored in this analysis.": cut from the quoted sentence (bounded, so linear).
POINTER_FRAGMENT = re.compile(
    r"\s*\((?:see |read |more )?(?:details?|detailed|more|read more|learn more|here|this analysis)(?: here)?\)"
    r"|,\s*(?:as\s+)?(?:detailed|explored|explained|described|discussed|outlined)\s+(?:here|in this (?:analysis|article|guide|post))"
    r"(?=[.!?]?$)",
    re.I,
)

# A closing summary ("In summary, …"), a teaser claim ("… offer a dynamic path") and a rhetorical
# call ("Ready to …?").
SUMMARY_OPENING = re.compile(r"^(?:in summary|to sum up|in conclusion|in short)\b", re.I)

TEASER_CLAIM = re.compile(
    r"\boffers?\s+(?:an?\s+)?(?:dynamic|rewarding|exciting|thriving|fulfilling|intellectual|great|unique)\b", re.I
)

RHETORICAL = re.compile(r"^ready (?:to|for)\b", re.I)

# Headings of a page's closing summary: everything under them repeats the page.
SUMMARY_HEADING = re.compile(r"^(?:summary|in summary|conclusions?|key takeaways|final thoughts|wrapping up)\b", re.I)

# Headings of sections that close a page: "Ready for …?", "Next steps", "Summary", "Find a postdoc".
CALL_TO_ACTION_HEADING = re.compile(
    rf"^(?:ready\b|next steps?\b|get started|stay (?:informed|updated)|related\b|see also|more\b|summary\b|in summary"
    rf"|conclusion|apply\b|join\b|{'|'.join(NAVIGATION_VERBS)}\b)",
    re.I,
)

# A page's opening fragment about itself: "A short guide to…", "What X do, and how to become one."
ABOUT_THE_PAGE = re.compile(
    r"^(?:(?:an?|the|your)\s+(?:\w+\s+)?(?:guide|introduction|overview|primer|look|handbook)\s+(?:to|on|for|of|at)\b"
    r"|everything you need to know)",
    re.I,
)

WH_FRAGMENT = re.compile(r"^(?:what|how|why|where|who|when)\b.*[^?]$", re.I)


# ---------------------------------------------------------------- phrasing answers


def join(items: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def guides(labels: Iterable[str]) -> str:
    """ "the lecturer guide", "the lecturer and PhD guides"."""
    labels = list(labels)
    return f"the {join(labels)} guide" + ("s" if len(labels) > 1 else "")


def does(count: int) -> str:
    """The verb after `count` guides: "the lecturer guide does", "the lecturer and PhD guides do"."""
    return "does" if count == 1 else "do"


def capitalised(text: str) -> str:
    """`text` with its first letter upper case and the rest as written ("PhD" stays "PhD")."""
    return text[:1].upper() + text[1:]


NO_QUESTION = "Please type a question about an academic career in machine learning."
NO_LETTERS = "Please ask your question in words; this one has no letters or digits."
OTHER_SCRIPT = "The guides are written in English, so questions in English match them best."
# Where a guide's title stops naming the role: "Pharmacists : Occupational Outlook Handbook".
TITLE_SEPARATOR = re.compile(r"\s*(?:[:|?(]|\s[-–—]\s)")
# What `guide build` and `guide status` say of names that collide across the corpus.
NAME_WARNINGS = {
    "field": "The role name {name!r} ({files}) is the field's own name, which every question uses; it picks no guide.",
    "shared": "{name!r} names several roles ({files}); it picks {kept}.",
    "shared-dropped": "{name!r} names several roles equally ({files}); it picks none of them.",
    "common": "{name!r} ({files}) is a word the guides of many other roles use; it picks no guide.",
}
NOT_FOUND = "I could not find an answer to that in the career guides."
CLOSEST_SECTIONS = "You could ask about: {sections}."
# A closest topic offered as a question to try, from a guide's heading and its role's label.
SUGGESTION = "{section} ({label})"
NOT_COVERED = "The guides do not cover {subject}; they are about roles such as {roles}."
THE_JOB_OF = "the job of {job}"
CLOSEST_COVERED = "The guides do not cover {subject}; the closest they cover is {closest}."
CUT_QUESTION = "Your question was {length:,} characters long; only the first {kept:,} were used."
TOO_LONG = "Your message is {length:,} characters long; a question can be at most {limit:,}. Please ask it in fewer words."
# `asked_does`, `quoted_does`: "does" after one guide, "do" after several.
SILENT_GUIDE = "{asked} {asked_does} not say; {quoted} {quoted_does}:"
COMPARISON_LEAD = "How {roles} compare, from their guides:"
# The row of a comparison for what its question asks when it names no aspect.
ASKED_ASPECT = "what you asked"
COMPARE_ON = "Compare {roles} on {aspects}"
ALL_ASPECTS = "all shared aspects"
ABOUT = " (about: {labels})"
# The one-line lead of each structured kind of answer.
LEADS = {
    "overview": "What it takes, from the {label} guide:",
    "situation": "It depends on what the {label} guide asks for:",
    "duties": "What the job involves, from the {label} guide:",
    "career": "Where it leads, from the {label} guide:",
    "history": "How it came about, from the {label} guide:",
    "trends": "Trends, from the guides that describe them:",
    "cross-role": "What each guide says:",
    "focused": "From the {label} guide:",
}
