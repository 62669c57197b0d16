"""What a question asks about when it names a job or a thing to get, for the refusal gate's subject check."""

from __future__ import annotations

import re

from guide.language import DEFAULT, Language


def _about_the_asker(before: str, language: Language) -> bool:
    """Whether a clause ending in `before` has the asker as subject: "I work as…", "I'm currently
    training as…", "I have a master's and work as…"."""
    if language.ASKER.search(before):
        return True
    sentence = re.split(r"[.!?]", before)[-1]
    return bool(language.ASKER_CLAUSE.match(sentence) and language.ASKER_AND.search(sentence))


def asked_subject(text: str, language: Language = DEFAULT) -> str | None:
    """The job a question asks about, when it names one in a recognisable way (not the asker's
    own: "I work as a nurse. Can I become a lecturer?" asks about the lecturer)."""
    for match in language.SUBJECT.finditer(text):
        if language.BACKGROUND_VERB.match(match.group()) and _about_the_asker(text[: match.start()], language):
            continue
        return next(group for group in match.groups() if group).strip()
    return None


def asked_thing(text: str, language: Language = DEFAULT) -> str | None:
    """The thing a question asks how to get ("a student visa"), when it names one that way."""
    match = language.THING.search(text)
    return match.group("thing").strip() if match else None
