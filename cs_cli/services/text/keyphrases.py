"""Key topics of one text: its key phrases, the RAKE way (docs/text.md).

A text is cut into candidate phrases at punctuation and at stop words
("the customer asked about SSO setup and pricing" -> "sso setup",
"pricing"); a word scores by how often it appears and how many words it
keeps company with; a phrase by the sum of its words. The phrases come out
lower case, plurals folded ("integrations" -> "integration"), so the same
theme counts as one across the book.

Why not YAKE (the `yake` package, which works offline): it reads about 750
short notes a second on one core here, and the book has to be read at
5,000 a second or more (benchmarks/RESULTS.md); this reads tens of
thousands, and for notes of a sentence or three the phrases are as good."""

from __future__ import annotations

import re
from collections.abc import Collection

from cs_cli.services.text.language import MAX_CHARS

MAX_TOPICS = 5
MAX_WORDS = 3  # longer runs are cut: "new sso setup guide for admins" is no theme
MAX_TOPIC_CHARS = 60

_SPLIT = re.compile(r"[.,;:!?()\[\]{}\"“”|/\\<>=*#•\n\r\t]+|\s[-\u2013\u2014]+\s")
_WORD = re.compile(r"[a-z][a-z0-9+&'-]*[a-z0-9+]|[a-z]")
# English stop words, and the filler of customer-success notes: words that
# say nothing about what a conversation was about.
_STOP_WORDS = """a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further get gets got had hadn't has hasn't
    have haven't having he her here hers herself him himself his how i if in into is isn't it it's
    its itself just let's like made make me more most much must my myself need needs no nor not
    now of off on once one only or other ought our ours ourselves out over own per re really
    said same say says she should shouldn't so some still such than that that's the their
    theirs them themselves then there there's these they they'd they'll they're they've this
    those through to too under until up upon us very via was wasn't we we'd we'll we're we've
    were weren't what when where which while who whom why will with won't would wouldn't yet you
    your yours yourself yourselves
    customer customers client clients call called calls meeting meetings today yesterday tomorrow
    week weeks month months year years day days time team teams thanks thank please hi hello
    discussed discuss talked talk spoke asked asks ask wants want wanted going next last new
    follow follow-up followup up update updates quick good great bad well sent send let know
    think thinks thought told tell mentioned see seem seems lot lots bit around things thing
    maybe sure yes okay ok re fwd fw note notes via etc opened following checking checked
    check checks sharing shared reached reaching looking"""
_STOP = frozenset(_STOP_WORDS.split())


def _fold(word: str) -> str:
    """A plural's singular, where one is plain ("tickets" -> "ticket",
    "policies" -> "policy"); short words and "status", "access" stay."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def key_topics(text: str | None, *, top: int = MAX_TOPICS, exclude: Collection[str] = ()) -> list[str] | None:
    """The text's key phrases, best first, at most `top`; None when it has
    none. A phrase of one word in `exclude` is left out (it still cuts)."""
    if not text:
        return None
    phrases: list[tuple[str, ...]] = []
    for chunk in _SPLIT.split(text[:MAX_CHARS].lower().replace("\u2019", "'")):
        run: list[str] = []
        for word in _WORD.findall(chunk):
            if word.endswith("'s"):
                word = word[:-2]  # "customer's", "what's": the word itself
            if word in _STOP or len(word) < 2:
                if run:
                    phrases.append(tuple(run))
                    run = []
                continue
            run.append(_fold(word))
            if len(run) == MAX_WORDS:
                phrases.append(tuple(run))
                run = []
        if run:
            phrases.append(tuple(run))
    if not phrases:
        return None
    frequency: dict[str, int] = {}
    degree: dict[str, int] = {}
    for phrase in phrases:
        for word in phrase:
            frequency[word] = frequency.get(word, 0) + 1
            degree[word] = degree.get(word, 0) + len(phrase)
    scored: dict[str, float] = {}
    for phrase in phrases:
        if len(phrase) == 1 and phrase[0] in exclude:
            continue
        name = " ".join(phrase)[:MAX_TOPIC_CHARS]
        if name not in scored:
            scored[name] = sum(degree[w] / frequency[w] for w in phrase)
    # Ties keep the order of first appearance: the subject comes first.
    ranked = sorted(scored.items(), key=lambda kv: -kv[1])
    return [name for name, _ in ranked[:top]]
