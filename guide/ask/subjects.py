"""What a question asks about when it names a job or a thing to get, for the refusal gate's subject check."""

from __future__ import annotations

from guide.language import DEFAULT, Language


def _about_the_asker(text: str, clause: tuple[int, int], sentence: int, language: Language) -> bool:
    """Whether the clause of `text` ending at `clause[1]` has the asker as subject: "I work as…",
    "I'm currently training as…", "I have a master's and work as…".

    It begins no earlier than `clause[0]`, the end of the match before (which ends in a role's
    name or a verb, never in a clause of the asker's), and its sentence at `sentence`: each is
    searched from there, so a question's clauses are read once in all.
    """
    after, end = clause
    if language.ASKER.search(text, after, end):
        return True
    opening = language.ASKER_CLAUSE.match(text, sentence)
    return bool(
        opening and opening.end() <= end and language.ASKER_AND.search(text, max(sentence, after), end)
    )


def asked_subject(text: str, language: Language = DEFAULT) -> str | None:
    """The job a question asks about, when it names one in a recognisable way (not the asker's
    own: "I work as a nurse. Can I become a lecturer?" asks about the lecturer)."""
    after = sentence = 0  # the end of the match before; the start of the sentence so far
    for match in language.SUBJECT.finditer(text):
        if language.BACKGROUND_VERB.match(match.group()):
            # The sentence the match is in starts after the last [.!?] before it.
            sentence = max(sentence, *(text.rfind(end, after, match.start()) + 1 for end in ".!?"))
            if _about_the_asker(text, (after, match.start()), sentence, language):
                after = match.end()
                continue
        return next(group for group in match.groups() if group).strip()
    return None


def asked_thing(text: str, language: Language = DEFAULT) -> str | None:
    """The thing a question asks how to get ("a student visa"), when it names one that way."""
    match = language.THING.search(text)
    return match.group("thing").strip() if match else None
