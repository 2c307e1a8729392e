"""Channels: how a message of the outbox leaves the machine (email over SMTP,
webhooks and in-app messages over HTTP).

A channel knows nothing of the database: the outbox hands it an Envelope and
gets an Outcome back, which says whether the message went, should be tried
again later, or can never go. Channels never raise for a failed delivery.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Envelope:
    """One message to send, as the outbox holds it."""

    id: int
    # Stable across retries and reruns: the receiver's key to drop duplicates.
    key: str
    recipient: str
    subject: str | None
    payload: dict[str, Any]
    customer_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What came of one attempt: sent, retry (a passing failure), dead (no
    retry can help) or held (cs itself is not configured to send it yet: not
    an attempt, so no number of them kills the message). `retry_after`:
    seconds the receiver asked us to wait."""

    kind: str
    reason: str | None = None
    retry_after: float | None = None

    @classmethod
    def sent(cls) -> Outcome:
        return cls("sent")

    @classmethod
    def retry(cls, reason: str, retry_after: float | None = None) -> Outcome:
        return cls("retry", reason, retry_after)

    @classmethod
    def held(cls, reason: str) -> Outcome:
        return cls("held", reason)

    @classmethod
    def dead(cls, reason: str) -> Outcome:
        return cls("dead", reason)


class Channel(Protocol):
    """A sender for one kind of message; open as a context manager for a run
    (it keeps its connection between messages), then send."""

    def __enter__(self) -> Channel: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, envelope: Envelope, at: dt.datetime) -> Outcome: ...


def one_line(text: object, limit: int = 300) -> str:
    """An error as one short line (what a reason column can hold)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
