"""Support tickets: a steady trickle, more when an account is in trouble, a few still
open for accounts at risk; escalations are remembered for the touchpoints and tasks."""

from __future__ import annotations

import datetime as dt
import math

from cs_cli.db.models import SupportTicket
from cs_cli.domain import TicketPriority, TicketStatus
from cs_cli.services.demo.book import AT_RISK, CHURN_BOUND, HEALTHY
from cs_cli.services.demo.timeline import Timeline
from cs_cli.services.demo.words import TICKET_LEVELS, TICKETS


class Tickets(Timeline):
    """A part of Activity: the support tickets."""

    def tickets(self) -> None:
        if not self.lively():
            return
        rng, c = self.rng, self.c
        trouble = "support_trouble" in c.signals
        monthly = (0.2 + 0.35 * math.log10(c.seats)) * (2.5 if trouble else 1.0)
        day = float(self.first)
        while True:
            rate = monthly / 30 * (1 + 1.5 * self.decline(int(day)))
            day += rng.expovariate(rate)
            if day >= self.end:
                break
            self._ticket(int(day), trouble, still_open=False)
        if self.c.fate in (AT_RISK, CHURN_BOUND) and (trouble or self.c.fate == CHURN_BOUND):
            for _ in range(rng.randint(1, 3)):
                self._ticket(self.random_day(self.end - 20, self.end), trouble, still_open=True)

    def _ticket(self, day: int, trouble: bool, *, still_open: bool) -> None:
        rng, c, book = self.rng, self.c, self.book
        if trouble or still_open:
            subject, usual = rng.choice([t for t in TICKETS if t[1] != TicketPriority.LOW])
        else:
            subject, usual = rng.choice(TICKETS)
        level = TICKET_LEVELS.index(usual)
        shift = rng.random()
        if shift < 0.15:
            level = max(0, level - 1)
        elif shift > (0.75 if trouble else 0.92):
            level = min(3, level + 1)
        priority = TICKET_LEVELS[level]
        opened = self.at(day)
        median_hours = (48, 24, 12, 5)[level] * (2.0 if trouble else 1.0)
        closed = opened + dt.timedelta(hours=rng.lognormvariate(math.log(median_hours), 0.9))
        if still_open or closed >= book.now:
            status = TicketStatus.OPEN if rng.random() < 0.6 else TicketStatus.PENDING
            closed = None
        else:
            closed = min(closed, self.end_at)
            status = TicketStatus.CLOSED if rng.random() < 0.7 else TicketStatus.SOLVED
        escalate = (0.01, 0.02, 0.08, 0.3)[level] * (2.0 if trouble else 1.0)
        escalated_at = None
        if rng.random() < escalate:
            escalated_at = opened + dt.timedelta(hours=rng.uniform(1, 36))
            escalated_at = min(escalated_at, closed or book.now - dt.timedelta(minutes=1))
            self.escalations.append((subject, escalated_at))
        satisfaction = None
        if closed is not None and rng.random() < 0.7:
            weights = (2, 3, 10, 35, 50)
            if trouble or c.fate != HEALTHY:
                weights = (15, 20, 30, 25, 10) if c.fate == AT_RISK else (30, 30, 25, 10, 5)
            satisfaction = rng.choices((1, 2, 3, 4, 5), weights)[0]
        if closed is None:
            self.open_ticket_subjects.append(subject)
        contact = self.contact_for(day)
        self.tickets_written += 1
        self.writer.add(
            SupportTicket.__table__,
            {
                "external_id": f"T-{c.index + 1:05d}-{self.tickets_written:03d}",
                "customer_id": self.customer_id,
                "contact_id": self.contact_id[contact.external_id],
                "subject": subject,
                "priority": priority,
                "status": status,
                "opened_at": opened,
                "closed_at": closed,
                "escalated": escalated_at is not None,
                "escalated_at": escalated_at,
                "satisfaction": satisfaction,
                "created_at": opened,
                "updated_at": closed or escalated_at,
            },
        )
