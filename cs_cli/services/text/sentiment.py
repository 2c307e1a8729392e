"""Sentiment of what a customer wrote or said, read on this machine: VADER's
rules and general lexicon (shipped inside the vaderSentiment wheel) with the
customer-success lexicon laid over them (docs/text.md).

VADER already weighs negation ("not happy"), emphasis (CAPS, "!!!",
"very"), and contrast ("but"). The domain lexicon adds words it does not
know or misjudges here ("churn", "outage", "support"), and multi-word
phrases ("renewal at risk"), which VADER cannot hold: each phrase is
replaced by one made-up token that carries its valence, so negation and
emphasis act on it as on any word."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cs_cli.enums import Sentiment
from cs_cli.services.text.language import MAX_CHARS, readable
from cs_cli.specs.lexicon import Lexicon, load_lexicon

# VADER's own cut-offs for its compound score.
POSITIVE_FROM = 0.05
NEGATIVE_FROM = -0.05
_TOKEN = "zzcsphrase{}"  # letters only: VADER strips punctuation from tokens


@dataclass(frozen=True)
class Reading:
    score: float  # -1..1, VADER's compound score
    label: Sentiment


def label_for(score: float) -> Sentiment:
    if score >= POSITIVE_FROM:
        return Sentiment.POSITIVE
    if score <= NEGATIVE_FROM:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


class Analyser:
    """One analyser per lexicon: building VADER's tables takes ~30 ms, so
    it is built once and reused for every text."""

    def __init__(self, lexicon: Lexicon | None, *, domain: bool = True) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.vader = SentimentIntensityAnalyzer()
        self.lexicon = lexicon
        # VADER's general words of feeling ("happy", "great") say how, not
        # what: a key topic is not one of them, unless the domain lexicon
        # names it ("outage", "churn").
        domain_words = {w for w, _ in lexicon.words} if lexicon is not None and domain else set()
        self.feeling_words = frozenset(self.vader.lexicon) - domain_words
        self.phrases: re.Pattern[str] | None = None
        self.tokens: dict[str, str] = {}
        if lexicon is None or not domain:
            return
        self.vader.lexicon.update(dict(lexicon.words))
        # Longest first, so "renewal at risk" wins over "at risk".
        ordered = sorted(lexicon.phrases, key=lambda p: (-len(p[0]), p[0]))
        for i, (phrase, valence) in enumerate(ordered):
            token = _TOKEN.format(_letters(i))
            self.vader.lexicon[token] = valence
            self.tokens[phrase] = token
        if ordered:
            alternation = "|".join(r"\s+".join(re.escape(w) for w in phrase.split()) for phrase, _ in ordered)
            # Case-blind, so that the rest of the text keeps the CAPS that VADER reads as emphasis.
            self.phrases = re.compile(rf"(?<![\w'])(?:{alternation})(?![\w'])", re.IGNORECASE)

    def read(self, text: str | None) -> Reading | None:
        """The sentiment of `text`, or None when there is nothing English to
        read (empty, another language): no score is not a neutral score."""
        if text is None:
            return None
        text = text[:MAX_CHARS]
        return self.score(text) if readable(text) else None

    def score(self, text: str) -> Reading:
        """The sentiment of text already found readable."""
        text = text.replace("\u2019", "'")
        if self.phrases is not None:
            text = self.phrases.sub(self._swap, text)
        score = round(self.vader.polarity_scores(text)["compound"], 4)
        return Reading(score=score, label=label_for(score))

    def _swap(self, match: re.Match[str]) -> str:
        return self.tokens[" ".join(match.group(0).lower().split())]


def _letters(n: int) -> str:
    """0 -> a, 25 -> z, 26 -> ba...: a token made of letters only."""
    out = ""
    while True:
        out = chr(ord("a") + n % 26) + out
        n //= 26
        if n == 0:
            return out


@lru_cache(maxsize=4)
def analyser_for(lexicon: Lexicon | None = None, *, domain: bool = True) -> Analyser:
    """The analyser for a lexicon (the shipped one when None), built once."""
    return Analyser(lexicon if lexicon is not None else load_lexicon(), domain=domain)


def configured_analyser(path_setting: str = "") -> Analyser:
    """The analyser with the lexicon file the text_lexicon setting names
    laid over the shipped one (or the shipped one alone)."""
    return analyser_for(load_lexicon(Path(path_setting).expanduser()) if path_setting else None)


def combined_text(*parts: str | None) -> str | None:
    """A record's text to read: its subject and notes, in that order."""
    present = [p.strip() for p in parts if p and p.strip()]
    return "\n".join(present) if present else None
