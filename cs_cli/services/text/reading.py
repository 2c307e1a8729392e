"""One record's reading: sentiment and key topics of its subject and notes,
with the rule on labels that came with the record (docs/text.md)."""

from __future__ import annotations

from typing import Any

from cs_cli.enums import Sentiment, SentimentSource
from cs_cli.services.text.keyphrases import key_topics
from cs_cli.services.text.language import MAX_CHARS, readable
from cs_cli.services.text.sentiment import Analyser, combined_text

COLUMNS = ("sentiment_score", "sentiment_label", "sentiment_source", "key_topics")


def read_record(
    analyser: Analyser,
    subject: str | None,
    notes: str | None,
    *,
    label: Sentiment | str | None = None,
    score: float | None = None,
    source: SentimentSource | str | None = None,
    overwrite: bool = False,
    topics: list[str] | None = None,
) -> dict[str, Any]:
    """The four text columns of a record. A sentiment given with it (by the
    source system or the person logging it) stays unless `overwrite`, and
    stays too when cs cannot read the text: no reading replaces nothing.
    Key topics already there (`topics`) stay: they do not depend on the
    lexicon, and may have come from the source system; read ones are []
    when none is found or the text is not English."""
    text = combined_text(subject, notes)
    if text is not None:
        text = text[:MAX_CHARS]
    english = text is not None and readable(text)
    reading = analyser.score(text) if english else None
    # [] marks a record read (by `cs touchpoints analyze`) even when it has no topic.
    if topics is None:
        topics = (key_topics(text, exclude=analyser.feeling_words) or []) if english else []
    given = (label is not None or score is not None) and source != SentimentSource.CS
    if given and (not overwrite or reading is None):
        return {
            "sentiment_score": score,
            "sentiment_label": Sentiment(label) if label is not None else None,
            "sentiment_source": SentimentSource.GIVEN,
            "key_topics": topics,
        }
    if reading is None:
        return {
            "sentiment_score": None,
            "sentiment_label": None,
            "sentiment_source": None,
            "key_topics": topics,
        }
    return {
        "sentiment_score": reading.score,
        "sentiment_label": reading.label,
        "sentiment_source": SentimentSource.CS,
        "key_topics": topics,
    }
