"""What touchpoints and tickets are about: book-wide themes, a customer's
topics, and the counts of reading the book's text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    topic: str
    mentions: int  # touchpoints and tickets in the period with this topic
    customers: int  # distinct customers among them
    mean_sentiment: float | None  # over those with a score; None when none has one
    negative: int  # of the mentions, how many were negative
    previous: int  # mentions in the period before
    trend: str  # new, rising, steady, falling, gone


@dataclass(frozen=True)
class Themes:
    start: dt.date
    end: dt.date
    previous_start: dt.date
    segment: str | None
    themes: list[Theme]


@dataclass(frozen=True)
class AnalyzeCount:
    kind: str  # touchpoints or tickets
    read: int = 0  # rows whose text was read
    scored: int = 0  # rows that now have a score cs gave them
    kept: int = 0  # rows whose given label was kept
    unscored: int = 0  # rows without a score: no text, or not English
    with_topics: int = 0  # rows with at least one key topic
