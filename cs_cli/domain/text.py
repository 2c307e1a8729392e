"""What touchpoints and tickets are about: book-wide themes and a customer's topics."""

from __future__ import annotations

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
