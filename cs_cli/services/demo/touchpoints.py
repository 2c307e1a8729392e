"""Touchpoints: the CSM's emails (and their opens and clicks), calls, meetings,
webinars and in-app messages, QBRs for larger accounts, renewal talks, and a call
for each support escalation."""

from __future__ import annotations

import datetime as dt
import hashlib

from cs_cli.db.models import Touchpoint
from cs_cli.domain import Channel, Direction, Sentiment, SentimentSource, TouchpointType
from cs_cli.services.demo.book import AT_RISK, CHURN_BOUND, CHURNED, HEALTHY, ContactPlan
from cs_cli.services.demo.dates import add_months
from cs_cli.services.demo.timeline import Timeline
from cs_cli.services.demo.words import (
    CALL_SUBJECTS,
    DEMO_DOMAIN,
    EMAIL_SUBJECTS,
    IN_APP_SUBJECTS,
    MEETING_SUBJECTS,
    QBR_NOTES,
    TALK,
    TOPICS,
    TOUCH_MIX,
    WEBINAR_SUBJECTS,
)


class Touchpoints(Timeline):
    """A part of Activity: the touchpoints."""

    def sentiment(self, day: int) -> tuple[float, Sentiment]:
        mean = {HEALTHY: 0.45, AT_RISK: 0.05, CHURN_BOUND: 0.0, CHURNED: 0.0}[self.c.fate]
        mean -= 0.7 * self.decline(day)
        score = round(max(-1.0, min(1.0, self.rng.gauss(mean, 0.3))), 2)
        label = (
            Sentiment.POSITIVE if score > 0.25 else Sentiment.NEGATIVE if score < -0.25 else Sentiment.NEUTRAL
        )
        return score, label

    def touch(
        self,
        kind: TouchpointType,
        day: int,
        *,
        subject: str,
        direction: Direction,
        channel: Channel,
        contact: ContactPlan | None,
        description: str | None = None,
        sentiment: tuple[float, Sentiment] | None = None,
        topics: list[str] | None = None,
        duration: int | None = None,
        moment: dt.datetime | None = None,
        user_id: int | None = None,
    ) -> dt.datetime:
        moment = moment or self.at(day)
        recording = None
        if kind in (TouchpointType.MEETING, TouchpointType.QBR) and self.rng.random() < 0.4:
            recording = f"https://recordings.{DEMO_DOMAIN}/{self.rng.getrandbits(64):016x}"
        self.writer.add(
            Touchpoint.__table__,
            {
                # Made in cs, so an id of our own; derived, not drawn, so
                # that the seed's random stream (and the book) stays the same.
                "external_id": "cs-"
                + hashlib.sha1(
                    f"{self.customer_id}|{moment.isoformat()}|{kind}|{subject}".encode()
                ).hexdigest()[:16],
                "customer_id": self.customer_id,
                "touchpoint_type": kind,
                "subject": subject[:255],
                "description": description,
                "direction": direction,
                "channel": channel,
                "contact_id": self.contact_id[contact.external_id] if contact else None,
                "user_id": user_id or self.csm_id,
                "sentiment_score": sentiment[0] if sentiment else None,
                "sentiment_label": sentiment[1] if sentiment else None,
                "sentiment_source": SentimentSource.GIVEN if sentiment else None,
                "key_topics": topics,
                "task_id": None,
                "duration_minutes": duration,
                "recording_url": recording,
                "occurred_at": moment,
                "created_at": moment,
            },
        )
        return moment

    def topics(self, *extra: str) -> list[str]:
        return sorted({*extra, *self.rng.sample(TOPICS, self.rng.randint(1, 2))})

    def touchpoints(self) -> None:
        if not self.lively():
            return
        rng, c = self.rng, self.c
        monthly = {"Starter": 1.5, "Growth": 3.0, "Enterprise": 5.0}[c.plan]
        types, weights = TOUCH_MIX[c.plan]
        engaged = {HEALTHY: 0.6, AT_RISK: 0.35, CHURN_BOUND: 0.25, CHURNED: 0.25}[c.fate]
        day = float(self.first)
        while True:
            # CSMs lean in when an account is slipping.
            boost = 1.6 if c.fate != HEALTHY and day > self.end - 60 else 1.0
            day += rng.expovariate(monthly * boost / 30)
            if day >= self.end:
                break
            d = int(day)
            kind = rng.choices(types, weights)[0]
            contact = self.contact_for(d, ("admin", "end user", "executive"))
            w = self.words(contact, d)
            if kind == TouchpointType.EMAIL_SENT:
                subject = rng.choice(EMAIL_SUBJECTS).format(**w)
                sent = self.touch(
                    kind,
                    d,
                    subject=subject,
                    direction=Direction.OUTBOUND,
                    channel=Channel.EMAIL,
                    contact=contact,
                    description=f"Sent to {contact.name}.",
                )
                engagement = engaged * (1 - 0.7 * self.decline(d))
                if rng.random() < engagement:
                    opened = sent + dt.timedelta(hours=rng.uniform(0.2, 40))
                    if opened < self.end_at:
                        self.touch(
                            TouchpointType.EMAIL_OPENED,
                            d,
                            subject=f"Opened: {subject}",
                            direction=Direction.INBOUND,
                            channel=Channel.EMAIL,
                            contact=contact,
                            moment=opened,
                        )
                        clicked = opened + dt.timedelta(minutes=rng.uniform(1, 30))
                        if rng.random() < 0.35 and clicked < self.end_at:
                            self.touch(
                                TouchpointType.EMAIL_CLICKED,
                                d,
                                subject=f"Clicked: {subject}",
                                direction=Direction.INBOUND,
                                channel=Channel.EMAIL,
                                contact=contact,
                                moment=clicked,
                            )
            elif kind in (TouchpointType.CALL, TouchpointType.MEETING):
                feel = self.sentiment(d)
                pool = CALL_SUBJECTS if kind == TouchpointType.CALL else MEETING_SUBJECTS
                self.touch(
                    kind,
                    d,
                    subject=rng.choice(pool).format(**w),
                    direction=Direction.OUTBOUND if rng.random() < 0.8 else Direction.INBOUND,
                    channel=Channel.PHONE
                    if kind == TouchpointType.CALL
                    else (Channel.IN_PERSON if rng.random() < 0.2 else Channel.VIDEO),
                    contact=contact,
                    description=rng.choice(TALK[feel[1]]).format(**w),
                    sentiment=feel,
                    topics=self.topics(),
                    duration=rng.randint(15, 45) if kind == TouchpointType.CALL else rng.randint(30, 60),
                )
            elif kind == TouchpointType.WEBINAR:
                self.touch(
                    kind,
                    d,
                    subject=rng.choice(WEBINAR_SUBJECTS).format(**w),
                    direction=Direction.INBOUND,
                    channel=Channel.VIDEO,
                    contact=contact,
                    description=f"{contact.name} attended.",
                    topics=["training"],
                    duration=rng.randint(45, 60),
                )
            else:
                self.touch(
                    kind,
                    d,
                    subject=rng.choice(IN_APP_SUBJECTS).format(**w),
                    direction=Direction.OUTBOUND,
                    channel=Channel.IN_APP,
                    contact=None,
                )
        self._qbrs()
        self._renewal_talks()
        for subject, moment in self.escalations:
            day = min(self.end - 1, max(self.first, self.book.day_index(moment.date())))
            contact = self.contact_for(day)
            self.touch(
                TouchpointType.ESCALATION,
                day,
                subject=f"Escalation: {subject}",
                direction=Direction.OUTBOUND,
                channel=Channel.PHONE,
                contact=contact,
                sentiment=(-0.6, Sentiment.NEGATIVE),
                description=f"Support escalated '{subject}'. Called {contact.first} to agree next steps.",
                topics=["support"],
                duration=rng.randint(15, 40),
                moment=min(moment + dt.timedelta(hours=1), self.end_at - dt.timedelta(minutes=1)),
                user_id=self.manager_id if self.c.plan == "Enterprise" and rng.random() < 0.3 else None,
            )

    def _qbrs(self) -> None:
        rng, c, book = self.rng, self.c, self.book
        if c.plan == "Starter" or (c.plan == "Growth" and c.arr < 100_000):
            return
        k = 1
        while True:
            day = book.day_index(add_months(c.contract_start, 3 * k)) + rng.randint(-7, 7)
            k += 1
            if day >= self.end:
                break
            if day < max(0, self.first):
                continue
            quarter = (book.dates[day].month - 1) // 3 + 1
            contact = self.contact_for(day, ("executive", "admin"))
            feel = self.sentiment(day)
            w = self.words(contact, day)
            text = QBR_NOTES[feel[1]].format(**w)
            self.touch(
                TouchpointType.QBR,
                day,
                subject=f"Q{quarter} {book.dates[day].year} business review",
                direction=Direction.OUTBOUND,
                channel=Channel.IN_PERSON if rng.random() < 0.3 else Channel.VIDEO,
                contact=contact,
                description=text,
                sentiment=feel,
                topics=self.topics("roadmap"),
                duration=rng.randint(60, 90),
            )

    def _renewal_talks(self) -> None:
        c, book = self.c, self.book
        days_left = (c.renewal_date - book.as_of).days
        if c.churn_date is None and days_left > 100:
            return
        renewal_day = book.day_index(c.renewal_date) if c.churn_date else book.days
        for _ in range(self.rng.randint(1, 2)):
            day = self.random_day(renewal_day - 60, renewal_day)
            contact = self.contact_for(day, ("executive", "admin", "billing"))
            feel = self.sentiment(day)
            self.touch(
                TouchpointType.RENEWAL_DISCUSSION,
                day,
                subject=f"Renewal discussion ({c.renewal_date})",
                direction=Direction.OUTBOUND,
                channel=Channel.VIDEO,
                contact=contact,
                description=TALK[feel[1]][0].format(**self.words(contact, day)),
                sentiment=feel,
                topics=self.topics("renewal", "pricing"),
                duration=self.rng.randint(30, 45),
            )
