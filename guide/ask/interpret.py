"""Understanding a question: the roles it names, its topic, its kind, and what it takes from the conversation.

How the corpus names its roles is the `Lexicon`'s; how the language shows a kind of question,
a follow-up or a dangling word is the corpus's language module's (`guide.language`). A
conversation carries its previous interpretation: each turn is read in the light of the one
before, so a long conversation is not read again at every question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from guide.ask import kinds
from guide.ask.lexicon import Lexicon, strip_spans
from guide.ask.meaning import KindReading
from guide.language import DEFAULT, Language


@dataclass(frozen=True)
class Interpretation:
    """How a question was understood; `query` is the text retrieval uses."""

    question: str
    query: str
    topic: str
    roles: tuple[str, ...] = ()
    roles_from_history: bool = False
    topic_from_history: bool = False
    compare: bool = False
    aspects: tuple[str, ...] = ()
    kind: str = kinds.FACT
    labels: tuple[str, ...] = ()
    # The question names roles (and the field) and nothing else ("prof"): it asks about the role.
    names_only: bool = False
    # The topic as "Interpreted as" shows it: without the field's name left dangling where a role
    # was taken out ("What GPA do I need?", not "… for an ML?"); `topic` when empty.
    shown_topic: str = ""
    # The question with its one role mention marked (ROLE_MARK), to restate a follow-up that takes
    # its topic for the follow-up's role ("What GPA do I need for a lecturer?").
    template: str = ""
    # The roles were carried over because the question names none and asks about one role, not
    # because its wording leans on the conversation: its subject is still checked by the gate.
    assumed: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything was carried over from earlier turns."""
        return self.roles_from_history or self.topic_from_history

    @property
    def leans(self) -> bool:
        """Whether it was read with the conversation because its wording leans on it."""
        return self.changed and not self.assumed

    @property
    def about_roles(self) -> tuple[str, ...]:
        """The roles it is about: none when they were only assumed from the conversation."""
        return () if self.assumed else self.roles

    def describe(self, language: Language = DEFAULT) -> str:
        """A one-line statement of the understood question, for "Interpreted as: …"."""
        labels = self.labels or tuple(role.replace("-", " ") for role in self.roles)
        if self.compare:
            aspects = ", ".join(self.aspects) if self.aspects else language.ALL_ASPECTS
            return language.COMPARE_ON.format(roles=language.join(labels), aspects=aspects)
        if self.topic_from_history and self.template and len(labels) == 1:
            return restate(self.template, labels[0], language)
        about = language.ABOUT.format(labels=", ".join(labels)) if labels else ""
        return f"{self.shown_topic or self.topic}{about}"


def question_kind(text: str, language: Language = DEFAULT) -> str:
    """The kind of answer a question asks for, from its wording (see `guide.ask.kinds`)."""
    for kind, pattern in language.KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return kinds.FACT


@dataclass(frozen=True)
class KindReader:
    """Reads a question's kind from its meaning (`guide.ask.meaning`) together with its wording.

    The closest kind of the examples is taken when it scores at least `score` and leads the next by
    `margin`, over a question the wording patterns read as a plain fact; over another kind of the
    patterns' it must score and lead by `overrule` more.
    """

    read: Callable[..., KindReading | None]
    score: float
    margin: float
    overrule: float = 0.1

    def kind(self, question: str, topic: str, language: Language, one_role: bool = False) -> str:
        """The kind of `question`, whose `topic` (the question with a stand-in for its roles) is
        read for meaning; `one_role`: it names one role, so it does not ask across roles."""
        worded = question_kind(question, language)
        # The stand-in keeps the roles' names from saying what is asked, but has a meaning of its
        # own ("a professional skills" comes close to history questions): both readings count.
        reading = self.read(*dict.fromkeys((topic or question, question)))
        if reading is None or reading.kind in (worded, kinds.FACT) or (one_role and reading.kind == kinds.CROSS_ROLE):
            return worded
        extra = 0.0 if worded == kinds.FACT else self.overrule
        if reading.score >= self.score + extra and reading.margin >= self.margin + extra / 2:
            return reading.kind
        return worded


def leans_on_conversation(text: str, language: Language = DEFAULT) -> bool:
    """Whether a question refers back to an earlier turn (a pronoun, "And for…", "What about…")."""
    if language.ELLIPTICAL.search(text):
        return True
    return bool(language.ANAPHOR.search(language.EXISTENTIAL_THERE.sub(" ", language.DUMMY_IT.sub(" ", text))))


def clean_question(text: str, max_chars: int, language: Language = DEFAULT) -> tuple[str, str | None]:
    """The question with control characters removed and whitespace folded, cut to `max_chars`.

    Returns:
        The cleaned question and a notice for the user when it was cut (else None).
    """
    text = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} and ch not in "\u200d" else ch for ch in text
    )
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0] if " " in text[:max_chars] else text[:max_chars]
        return cut, language.CUT_QUESTION.format(length=len(text), kept=len(cut))
    return text, None


def expand_shorthand(text: str, language: Language = DEFAULT) -> str:
    """`text` with chat shorthand written out ("wot do u need" -> "what do you need"), word by word."""
    shorthand = getattr(language, "SHORTHAND", {})
    if not shorthand:
        return text

    def written(match: re.Match[str]) -> str:
        word = match.group()
        return shorthand.get(word.lower(), word) if word.lower() in shorthand else word

    return re.sub(r"\s{2,}", " ", language.WORD.sub(written, text)).strip()


def wording_hint(text: str, language: Language = DEFAULT) -> str | None:
    """Why a question cannot be matched to the guides by its wording, if that is the reason."""
    letters = [ch for ch in text if ch.isalpha()]
    if not any(ch.isalnum() for ch in text):
        return language.NO_LETTERS
    if letters and sum(ch.isascii() for ch in letters) / len(letters) < 0.5:
        return language.OTHER_SCRIPT
    return None


def _without_roles(text: str, spans: list[tuple[int, int]], language: Language) -> str:
    if not spans:
        return text
    result = strip_spans(text, spans)
    # Drop articles and prepositions left dangling where a role name was removed.
    result = language.DANGLING_PREPOSITION.sub("", language.DANGLING_ARTICLE.sub("", result))
    return re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", result)).strip()


ROLE_MARK = "\ue000"  # a private-use character: where a question named its role


def _role_template(text: str, spans: Sequence[tuple[int, int]], language: Language) -> str:
    """`text` with its one role mention, and the article before it, marked ("What GPA do I need
    for ROLE_MARK?"); empty unless it names exactly one role after an article (a plural or bare
    name would not read right with another role put in)."""
    if len(spans) != 1:
        return ""
    start, end = spans[0]
    article = language.ARTICLE_BEFORE.search(text[:start])
    if article is None:
        return ""
    return text[: article.start()] + ROLE_MARK + text[end:]


def generic_question(text: str, spans: Sequence[tuple[int, int]], language: Language) -> str:
    """`text` with each role mention, and the article before it, replaced by a stand-in for any
    role (`SOME_ROLE`): "What does an ML lecturer do?" -> "What does a professional do?"."""
    parts, last = [], 0
    for start, end in sorted(spans):
        article = language.ARTICLE_BEFORE.search(text[last:start])
        cut = last + article.start() if article else start
        parts += [text[last:cut], language.SOME_ROLE]
        last = end
    return "".join([*parts, text[last:]])


def restate(template: str, label: str, language: Language = DEFAULT) -> str:
    """The question of `template` asked about the role `label`, with the article it needs."""
    return template.replace(ROLE_MARK, f"{language.article(label)} {label}")


@dataclass
class _Reader:
    lexicon: Lexicon
    only_when_leaning: bool = True
    kinds: KindReader | None = None
    unless_across: bool = False

    def _carries(self, question: str, kind: str) -> tuple[bool, bool]:
        """Whether a question naming no role takes the conversation's: it leans on it by its
        wording; or it is assumed to, as a question of one role's kind (not one across the guides)."""
        leans = leans_on_conversation(question, self.lexicon.language) or not self.only_when_leaning
        return leans, not leans and self.unless_across and kind not in kinds.ACROSS_GUIDES

    def one(self, question: str, previous: Interpretation | None) -> Interpretation:
        lexicon = self.lexicon
        language = lexicon.language
        roles, spans, names_only = lexicon.read_roles(question)
        if roles and not spans and previous is not None and previous.roles and leans_on_conversation(question, language):
            # Only a hint ("and how many years of postdoc?", after a lecturer question): a topic of
            # the conversation's role, not another role.
            roles, names_only = (), False
        labels = tuple(lexicon.label(role) for role in roles)
        topic = _without_roles(question, spans, language) or question
        widened = lexicon.over_field(question, spans)
        shown = _without_roles(question, widened, language) or question
        template = _role_template(question, widened, language)
        # The kind is read from the question with a stand-in for its roles' names, which say whom
        # it is about, not what it asks.
        if self.kinds and not names_only:  # a bare role name ("ml lecturer") has no meaning to read
            generic = lexicon.without_field(generic_question(question, widened, language))
            one_role = len(roles) == 1 and roles[0] not in lexicon.prerequisites
            kind = self.kinds.kind(question, generic, language, one_role)
        else:
            kind = question_kind(question, language)
        compare = bool(language.COMPARE.search(question)) and len(roles) >= 2
        aspects = lexicon.aspects(question)
        if compare:
            return Interpretation(
                question, question, topic, roles, compare=True, aspects=aspects, kind=kinds.COMPARE, labels=labels
            )
        has_topic = bool(lexicon.content_words(lexicon.without_field(strip_spans(question, spans))))
        if previous is not None and not has_topic:
            # "And for a clinical professor?": the earlier question, asked of the new role.
            if previous.compare and not roles:
                return Interpretation(
                    question, previous.query, previous.topic, previous.roles, True, True, True,
                    previous.aspects, kinds.COMPARE, previous.labels,
                )  # fmt: skip
            new_roles, new_labels = (roles, labels) if roles else (previous.roles, previous.labels)
            return Interpretation(
                question, previous.topic, previous.topic, new_roles, not roles, True, False,
                previous.aspects, previous.kind, new_labels, shown_topic=previous.shown_topic,
                template=previous.template,
            )  # fmt: skip
        # The role is matched by the role preference, so the query keeps only the topic: the names
        # of roles would pull it towards the passages that repeat them most, such as introductions.
        query = lexicon.without_field(topic) if has_topic else question
        leans, assumed = self._carries(question, kind)
        if previous is not None and not roles and previous.roles and (leans or assumed):
            if language.PRONOUN_FOR_ROLE.search(language.DUMMY_IT.sub(" ", question)):
                # "How long does it take?": the pronoun stands for the role of the previous turn.
                query = f"{query} ({', '.join(previous.labels)})"
            return Interpretation(
                question, query, question, previous.roles, True, False, False, aspects, kind, previous.labels,
                assumed=assumed,
            )  # fmt: skip
        if names_only and kind == kinds.FACT:
            # A role named and nothing else ("prof", "ML lecturer"): what the role takes.
            kind = kinds.OVERVIEW
        return Interpretation(
            question, query, topic, roles, aspects=aspects, kind=kind, labels=labels, names_only=names_only,
            shown_topic=shown, template=template,
        )


def interpret(
    question: str,
    history: Sequence[str] = (),
    lexicon: Lexicon | None = None,
    only_when_leaning: bool = True,
    unless_across: bool = False,
) -> Interpretation:
    """Understand `question` in the light of the earlier questions of the conversation.

    A question without a topic of its own ("And for a lecturer?") takes the topic of the
    previous turn; one that names no role takes the roles of the previous turn only when it
    leans on it ("How long does it take?", "What about pay?"), or with `unless_across` when its kind
    is not one that asks across the guides ("What qualifications are needed?"). A question with a
    subject of its own ("What are the trends in hiring?") is answered on its own.
    """
    reader = _Reader(lexicon or Lexicon(()), only_when_leaning, unless_across=unless_across)
    previous: Interpretation | None = None
    for earlier in history:
        if earlier and earlier.strip():
            previous = reader.one(earlier, previous)
    return reader.one(question, previous)


def interpret_turn(
    question: str,
    previous: Interpretation | None,
    lexicon: Lexicon,
    only_when_leaning: bool = True,
    kinds: KindReader | None = None,
    unless_across: bool = False,
) -> Interpretation:
    """Understand `question` after the turn understood as `previous` (None: it opens a conversation);
    `kinds` reads its kind from its meaning (else the wording patterns do); `unless_across`: a
    question that names no role keeps the conversation's unless its kind asks across the guides."""
    return _Reader(lexicon, only_when_leaning, kinds, unless_across).one(question, previous)




def carried_over(previous: Interpretation | None, latest: Interpretation) -> Interpretation | None:
    """What the next question is read after: the turn just answered, unless it was not understood
    at all (blank, or no letters), which leaves the conversation where it was."""
    return latest if latest.query else previous
